//! A Rust panic inside the SDK reaches Sentry as an unhandled error. In a
//! file of its own: the panic switches the SDK off for the rest of the page
//! (this test binary).

#![cfg(target_arch = "wasm32")]

#[allow(dead_code)] // Each test binary uses its part of the helpers.
mod common;

use common::{envelopes, flush, receiver, start, token, wait_for};
use ff_telemetry_wire::sentry::{Envelope, Event, SessionStatus, SessionUpdate};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/js/sentry_panic.js")]
extern "C" {
    /// Dispatches a plain `Event` named `name` on `window`: how many `error`
    /// events (the browser's report of an exception a listener threw) it caused.
    #[wasm_bindgen(js_name = dispatchCountingErrors)]
    fn dispatch_counting_errors(name: &str) -> u32;
}

#[wasm_bindgen_test]
async fn a_panic_is_reported_as_a_crash_and_the_sdk_goes_quiet() {
    let rx = receiver();
    let key = token("panic");
    let host = rx.trim_start_matches("http://");
    let t = start(&format!(
        r#"{{"sentry": {{"dsn": "http://{key}@{host}/42", "environment": "panic-test",
            "release": "flowfuse@9.9.9", "report_localhost": true, "traces_sample_rate": 0}}}}"#
    ));
    flush(&t).await;
    // The panic traps in a listener, called by the browser as the SDK's
    // listeners, timers and HTTP callbacks are: the guard every one of them
    // runs in catches it, so the page sees no error.
    t.panic_on_event_for_test("ff-telemetry:test-panic");
    assert_eq!(
        dispatch_counting_errors("ff-telemetry:test-panic"),
        0,
        "the trap stays in the SDK"
    );
    // The SDK is off now: this is neither sent nor thrown.
    t.capture_message(JsValue::from_str("after the panic"), None);
    flush(&t).await;
    let got: Vec<Envelope> = wait_for(|| envelopes(rx, &key), 3)
        .await
        .into_iter()
        .map(|(_, envelope)| envelope)
        .collect();
    drop(t);

    // The session start went by fetch; the event and the crashed session
    // left together by beacon, so they may arrive in either order.
    let mut kinds: Vec<_> = got
        .iter()
        .map(|e| e.items[0].header.kind.as_str())
        .collect();
    kinds[1..].sort_unstable();
    assert_eq!(kinds, ["session", "event", "session"]);
    let of_kind = |kind: &str| {
        let found = got[1..].iter().find(|e| e.items[0].header.kind == kind);
        &found.expect("both beacons arrived").items[0].payload
    };
    let event: Event = serde_json::from_slice(of_kind("event")).unwrap();
    assert_eq!(event.release.as_deref(), Some("flowfuse@9.9.9"));
    assert_eq!(event.environment.as_deref(), Some("panic-test"));
    let exception = &event.exception.expect("an exception").values[0];
    // A panic is a trap: its message is the browser's (the npm build keeps
    // no panic messages), its stack the trap's.
    assert_eq!(exception.kind, "panic");
    assert_eq!(exception.value.as_deref(), Some("unreachable"));
    let mechanism = exception.mechanism.as_ref().unwrap();
    assert_eq!(
        (mechanism.kind.as_str(), mechanism.handled),
        ("panic", Some(false))
    );
    let frames = &exception.stacktrace.as_ref().expect("a stack").frames;
    assert!(
        frames.iter().any(|f| f.instruction_addr.is_some()
            && f.function
                .as_deref()
                .is_some_and(|name| name.contains("panic_on_event_for_test"))),
        "the wasm frames where it panicked are kept: {frames:?}"
    );
    let crashed: SessionUpdate = serde_json::from_slice(of_kind("session")).unwrap();
    assert_eq!(crashed.status, SessionStatus::Crashed);

    // With the SDK off, `hasOptedOut` still answers a boolean (its `.d.ts`
    // says so) and `flush` a promise that resolves.
    let t = start(r#"{"posthog": {"apikey": "phc_after_panic", "apiurl": "http://127.0.0.1:9"}}"#);
    JsFuture::from(t.flush())
        .await
        .expect("flush() resolves after a panic");
    assert!(!t.has_opted_out(), "hasOptedOut() is false after a panic");
}
