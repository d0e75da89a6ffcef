//! Browser Sentry in the SDK, in headless Chromium against the test receiver
//! (see `common`). Every envelope that arrives is read back with core's
//! `Envelope::parse`. The tests run on a 127.0.0.1 page, so they set
//! `report_localhost` unless they test it.

#![cfg(target_arch = "wasm32")]

#[allow(dead_code)] // Each test binary uses its part of the helpers.
mod common;

use common::{dispatch, envelopes, fail_next, flush, receiver, sleep, start, token, wait_for};
use ff_telemetry_wire::sentry::{Envelope, Event, SessionStatus, SessionUpdate, Transaction};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/js/sentry.js")]
extern "C" {
    #[wasm_bindgen(js_name = makeError)]
    fn make_error(name: &str, message: &str) -> JsValue;
    #[wasm_bindgen(js_name = dispatchError)]
    fn dispatch_error(name: &str, message: &str);
    #[wasm_bindgen(js_name = dispatchRejection)]
    fn dispatch_rejection(message: &str);
}

const RELEASE: &str = "flowfuse@9.9.9";
const ENVIRONMENT: &str = "browser-test";

/// A config with Sentry only, reporting to the receiver with public key
/// `key`; `extra` is appended to the `sentry` object (later keys win).
fn config(receiver: &str, key: &str, extra: &str) -> String {
    let host = receiver.trim_start_matches("http://");
    format!(
        r#"{{"sentry": {{"dsn": "http://{key}@{host}/42", "environment": "{ENVIRONMENT}",
            "release": "{RELEASE}", "report_localhost": true, "traces_sample_rate": 0{extra}}}}}"#
    )
}

fn kinds(envelopes: &[(u64, Envelope)]) -> Vec<&str> {
    envelopes
        .iter()
        .map(|(_, e)| e.items[0].header.kind.as_str())
        .collect()
}

fn event(envelope: &Envelope) -> Event {
    serde_json::from_slice(&envelope.items[0].payload).expect("an event payload")
}

fn session(envelope: &Envelope) -> SessionUpdate {
    serde_json::from_slice(&envelope.items[0].payload).expect("a session payload")
}

/// Checks the fields every error event carries, and returns its only
/// exception's type, value, mechanism and whether it was handled.
fn exception_of(event: &Event) -> (String, String, String, bool) {
    assert_eq!(event.release.as_deref(), Some(RELEASE));
    assert_eq!(event.environment.as_deref(), Some(ENVIRONMENT));
    assert_eq!(event.platform, "javascript");
    let sdk = event.sdk.as_ref().expect("sdk info");
    assert_eq!(sdk.name, "ff-telemetry.web");
    let exception = &event.exception.as_ref().expect("an exception").values[0];
    let mechanism = exception.mechanism.as_ref().expect("a mechanism");
    (
        exception.kind.clone(),
        exception.value.clone().unwrap_or_default(),
        mechanism.kind.clone(),
        mechanism.handled.expect("handled is set"),
    )
}

#[wasm_bindgen_test]
async fn a_window_error_arrives_as_an_event_and_crashes_the_session() {
    let rx = receiver();
    let key = token("onerror");
    let t = start(&config(rx, &key, ""));
    t.route_changed(JsValue::from_str("/projects/p-1"), None, None);
    dispatch_error("TypeError", "x is undefined");
    flush(&t).await;
    drop(t);

    let got = envelopes(rx, &key).await;
    assert_eq!(kinds(&got), ["session", "event", "session"]);
    assert!(got.iter().all(|(status, _)| *status == 200));
    let event = event(&got[1].1);
    let (kind, value, mechanism, handled) = exception_of(&event);
    assert_eq!(
        (kind.as_str(), value.as_str(), mechanism.as_str(), handled),
        ("TypeError", "x is undefined", "onerror", false)
    );
    let stacktrace = event.exception.as_ref().unwrap().values[0]
        .stacktrace
        .as_ref()
        .expect("frames from error.stack");
    let newest = stacktrace.frames.last().expect("at least one frame");
    assert_eq!(newest.function.as_deref(), Some("makeError"));
    assert!(
        newest
            .filename
            .as_deref()
            .is_some_and(|f| f.ends_with(".js"))
    );
    assert!(newest.lineno.is_some() && newest.colno.is_some());
    assert_eq!(event.transaction.as_deref(), Some("/projects/p-1"));
    assert_eq!(event.tags.get("route"), Some("/projects/p-1"));

    let (start, crashed) = (session(&got[0].1), session(&got[2].1));
    assert!(start.init);
    assert_eq!(start.status, SessionStatus::Ok);
    assert_eq!(start.attrs.release, RELEASE);
    assert_eq!(crashed.sid, start.sid);
    assert_eq!(crashed.status, SessionStatus::Crashed);
    assert_eq!(crashed.errors, 1);
}

#[wasm_bindgen_test]
async fn an_unhandled_rejection_arrives_as_an_event() {
    let rx = receiver();
    let key = token("rejection");
    let t = start(&config(rx, &key, ""));
    dispatch_rejection("request failed");
    flush(&t).await;
    drop(t);

    let got = envelopes(rx, &key).await;
    assert_eq!(kinds(&got), ["session", "event", "session"]);
    let event = event(&got[1].1);
    let (kind, value, mechanism, handled) = exception_of(&event);
    assert_eq!(
        (kind.as_str(), value.as_str(), mechanism.as_str(), handled),
        ("Error", "request failed", "onunhandledrejection", false)
    );
    assert_eq!(session(&got[2].1).status, SessionStatus::Crashed);
}

#[wasm_bindgen_test]
async fn capture_calls_carry_context_user_and_breadcrumbs() {
    let rx = receiver();
    let key = token("capture");
    let t = start(&config(rx, &key, ""));
    t.route_changed(JsValue::from_str("/a"), None, None);
    t.route_changed(
        JsValue::from_str("/b?secret=1"),
        Some(JsValue::from_str("/a")),
        None,
    );
    t.identify(JsValue::from_str("user-42"), None, None);
    t.capture_exception(make_error("RangeError", "handled one"), None);
    let vue = js_sys::JSON::parse(
        r#"{"mechanism": "vue", "handled": false, "info": "render", "tags": {"component": "Editor"}}"#,
    )
    .unwrap();
    t.capture_exception(make_error("Error", "from vue"), Some(vue));
    t.capture_message(
        JsValue::from_str("hello"),
        Some(JsValue::from_str("warning")),
    );
    flush(&t).await;
    drop(t);

    let got = envelopes(rx, &key).await;
    assert_eq!(
        kinds(&got),
        ["session", "event", "session", "event", "session", "event"]
    );
    let handled = event(&got[1].1);
    assert_eq!(
        exception_of(&handled),
        (
            "RangeError".into(),
            "handled one".into(),
            "generic".into(),
            true
        )
    );
    assert_eq!(
        handled.user.as_ref().map(|u| u.id.as_str()),
        Some("user-42")
    );
    assert_eq!(handled.transaction.as_deref(), Some("/b"));
    let crumbs = &handled.breadcrumbs.as_ref().expect("breadcrumbs").values;
    assert_eq!(crumbs.len(), 2);
    assert_eq!(crumbs[1].data.get("from"), Some("/a"));
    assert_eq!(crumbs[1].data.get("to"), Some("/b"));
    // A handled error updates the session; it stays ok.
    assert_eq!(session(&got[2].1).status, SessionStatus::Ok);

    let from_vue = event(&got[3].1);
    assert_eq!(
        exception_of(&from_vue),
        ("Error".into(), "from vue".into(), "vue".into(), false)
    );
    assert_eq!(from_vue.tags.get("component"), Some("Editor"));
    assert_eq!(session(&got[4].1).status, SessionStatus::Crashed);

    let message = event(&got[5].1);
    assert_eq!(message.message.as_deref(), Some("hello"));
    assert_eq!(message.level.as_str(), "warning");
}

#[wasm_bindgen_test]
async fn a_clean_page_exits_its_session_by_beacon_on_pagehide() {
    let rx = receiver();
    let key = token("exited");
    let t = start(&config(rx, &key, ""));
    flush(&t).await;
    dispatch("pagehide");
    let got = wait_for(|| envelopes(rx, &key), 2).await;
    dispatch("pageshow");
    drop(t);

    assert_eq!(kinds(&got), ["session", "session"]);
    let (start, end) = (session(&got[0].1), session(&got[1].1));
    assert_eq!(start.status, SessionStatus::Ok);
    assert_eq!(end.sid, start.sid);
    assert!(!end.init);
    assert_eq!(end.status, SessionStatus::Exited);
    assert_eq!(end.errors, 0);
}

#[wasm_bindgen_test]
async fn a_429_with_rate_limits_stops_errors_while_sessions_still_go() {
    let rx = receiver();
    let key = token("ratelimit");
    let t = start(&config(rx, &key, ""));
    flush(&t).await;
    let limits = r#"{"X-Sentry-Rate-Limits": "60:error"}"#;
    fail_next(rx, &key, "/api/42/envelope/", 429, 1, limits).await;
    t.capture_exception(make_error("Error", "answered 429"), None);
    flush(&t).await;
    // Within the next 60 s no error goes, handled or not, nor a message.
    t.capture_exception(make_error("Error", "while limited"), None);
    dispatch_error("TypeError", "also while limited");
    t.capture_message(JsValue::from_str("limited message"), None);
    flush(&t).await;
    drop(t);

    let got = envelopes(rx, &key).await;
    let statuses: Vec<u64> = got.iter().map(|(status, _)| *status).collect();
    assert_eq!(kinds(&got), ["session", "event", "session", "session"]);
    assert_eq!(statuses, [200, 429, 200, 200]);
    assert_eq!(exception_of(&event(&got[1].1)).1, "answered 429");
    let after_first_error = session(&got[2].1);
    assert_eq!(
        (after_first_error.status, after_first_error.errors),
        (SessionStatus::Ok, 1)
    );
    // The unhandled error was not sent, but it still crashed the session.
    let crashed = session(&got[3].1);
    assert_eq!(
        (crashed.status, crashed.errors),
        (SessionStatus::Crashed, 3)
    );
}

#[wasm_bindgen_test]
async fn local_pages_report_only_with_report_localhost() {
    let rx = receiver();
    for report_localhost in [false, true] {
        let key = token(&format!("localhost_{report_localhost}"));
        let extra = format!(r#", "report_localhost": {report_localhost}"#);
        let t = start(&config(rx, &key, &extra));
        dispatch_error("Error", "on a local page");
        t.capture_message(JsValue::from_str("local message"), None);
        flush(&t).await;
        drop(t);
        let got = envelopes(rx, &key).await;
        if report_localhost {
            assert_eq!(kinds(&got), ["session", "event", "session", "event"]);
        } else {
            assert!(got.is_empty(), "a 127.0.0.1 page sends nothing by default");
        }
    }
}

#[wasm_bindgen_test]
async fn a_bad_sentry_config_leaves_sentry_off_without_throwing() {
    let rx = receiver();
    let key = token("badsentry");
    for sentry in [
        r#"{"dsn": "not a dsn"}"#.to_owned(),
        r#"{"dsn": ""}"#.to_owned(),
        format!(
            r#"{{"dsn": "http://{key}@{}/42", "report_localhost": "yes"}}"#,
            rx.trim_start_matches("http://")
        ),
        r#"7"#.to_owned(),
    ] {
        let t = start(&format!(r#"{{"sentry": {sentry}}}"#));
        t.capture_exception(make_error("Error", "ignored"), None);
        t.capture_message(JsValue::NULL, Some(JsValue::from(5)));
        flush(&t).await;
    }
    assert!(envelopes(rx, &key).await.is_empty());
}

#[wasm_bindgen_test]
async fn envelopes_that_found_no_network_are_sent_by_the_next_page_load() {
    let rx = receiver();
    let key = token("reload");
    // Nothing listens on port 1: every send fails without an answer.
    let offline = config("http://127.0.0.1:1", &key, "");
    let before = start(&offline);
    before.capture_message(JsValue::from_str("written offline"), None);
    flush(&before).await;
    drop(before);
    assert!(envelopes(rx, &key).await.is_empty());

    let after = start(&config(rx, &key, ""));
    flush(&after).await;
    drop(after);
    let got = envelopes(rx, &key).await;
    // The earlier page's session start, message and session update, then ours.
    assert_eq!(kinds(&got), ["session", "event", "session", "session"]);
    let sids: Vec<_> = [0, 2, 3].map(|i| session(&got[i].1).sid).into();
    assert_eq!(sids[0], sids[1]);
    assert_ne!(sids[0], sids[2]);
    assert_eq!(event(&got[1].1).message.as_deref(), Some("written offline"));
}

#[wasm_bindgen_test]
async fn a_navigation_is_a_transaction_from_its_start_to_the_route_change() {
    let rx = receiver();
    let key = token("navigation");
    let t = start(&config(rx, &key, r#", "traces_sample_rate": 1"#));
    t.navigation_started();
    sleep(20).await;
    t.route_changed(JsValue::from_str("/flows/f-1?tab=2"), None, None);
    flush(&t).await;
    drop(t);

    let got = envelopes(rx, &key).await;
    assert_eq!(kinds(&got), ["session", "transaction"]);
    let transaction: Transaction = serde_json::from_slice(&got[1].1.items[0].payload).unwrap();
    assert_eq!(transaction.transaction, "/flows/f-1");
    let source = transaction.transaction_info.map(|i| i.source);
    assert_eq!(source.as_deref(), Some("url"), "no route template given");
    assert_eq!(transaction.release.as_deref(), Some(RELEASE));
    assert_eq!(transaction.contexts.trace.op.as_deref(), Some("navigation"));
    assert!(transaction.timestamp > transaction.start_timestamp);
}

#[wasm_bindgen_test]
async fn a_route_template_names_transactions_and_events() {
    let rx = receiver();
    let key = token("template");
    let t = start(&config(rx, &key, r#", "traces_sample_rate": 1"#));
    let (to, template) = (
        JsValue::from_str("/instances/line-1"),
        JsValue::from_str("/instances/:id"),
    );
    t.route_changed(to, None, Some(template));
    t.capture_message(JsValue::from_str("on an instance"), None);
    flush(&t).await;
    drop(t);

    let got = envelopes(rx, &key).await;
    assert_eq!(kinds(&got)[..3], ["session", "transaction", "event"]);
    let transaction: Transaction = serde_json::from_slice(&got[1].1.items[0].payload).unwrap();
    assert_eq!(transaction.transaction, "/instances/:id");
    let source = transaction.transaction_info.map(|i| i.source);
    assert_eq!(source.as_deref(), Some("route"));
    let trace = got[1].1.header.trace.as_ref().expect("a trace header");
    assert_eq!(trace.transaction.as_deref(), Some("/instances/:id"));
    let event = event(&got[2].1);
    assert_eq!(event.transaction.as_deref(), Some("/instances/:id"));
    assert_eq!(
        event.tags.get("route"),
        Some("/instances/line-1"),
        "the real path"
    );
}
