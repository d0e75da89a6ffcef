//! Consent before tracking (`consent: "pending"` in the config, `consent(true)`,
//! `consent(false)`), in headless Chromium against the test receiver (see
//! `common`): what is sent and what is kept in `localStorage` in each state,
//! and after a reload (a new `init` on the same page) in each state.
//!
//! A binary of its own: the decision is remembered page-wide, which the
//! other suites' tests must not inherit.

#![cfg(target_arch = "wasm32")]

#[allow(dead_code)] // Each test binary uses its part of the helpers.
mod common;

use common::{flush, receiver, requests, start, token};
use ff_telemetry_web::Telemetry;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/js/consent.js")]
extern "C" {
    #[wasm_bindgen(js_name = storedItem)]
    fn stored_item(key: &str) -> Option<String>;
    /// Removes the remembered decision: each test starts undecided.
    #[wasm_bindgen(js_name = forgetDecision)]
    fn forget_decision();
    #[wasm_bindgen(js_name = cookieCount)]
    fn cookie_count() -> u32;
    /// How many `localStorage` keys contain `text` (the state's and each
    /// page's queue key contain the token).
    #[wasm_bindgen(js_name = keysContaining)]
    fn keys_containing(text: &str) -> u32;
}

const DECISION_KEY: &str = "ff_telemetry_consent";

fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}

/// A PostHog config for `token` with the top-level `extra` options.
fn config(token: &str, extra: &str) -> String {
    let rx = receiver();
    format!(
        r#"{{"posthog": {{"apikey": "{token}", "apiurl": "{rx}", "capture_pageview": false}}{extra}}}"#
    )
}

/// Events the receiver got for `token`, in arrival order.
async fn delivered(token: &str) -> Vec<Value> {
    requests(receiver(), token)
        .await
        .into_iter()
        .flat_map(|r| r["events"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// `(event, $current_url path, distinct_id, has $device_id)` of each event.
fn described(events: &[Value]) -> Vec<(String, String, String, bool)> {
    events
        .iter()
        .map(|e| {
            let p = &e["properties"];
            let url = p["$current_url"].as_str().unwrap_or_default();
            let path = url.find("/consent").map_or("", |i| &url[i..]);
            (
                e["event"].as_str().unwrap_or_default().to_owned(),
                path.to_owned(),
                p["distinct_id"].as_str().unwrap_or_default().to_owned(),
                !p["$device_id"].is_null(),
            )
        })
        .collect()
}

fn status(t: &Telemetry) -> String {
    t.consent(None).as_string().unwrap_or_default()
}

/// The page's own state key for `token` (ids, opt-out, unsent events).
fn state_key(token: &str) -> String {
    format!("ff_telemetry_{token}")
}

#[wasm_bindgen_test]
async fn pending_sends_and_stores_nothing_until_a_grant_which_tracks_from_then_and_is_remembered() {
    forget_decision();
    let token = token("pending");
    let pending = config(&token, r#", "consent": "pending""#);
    let t = start(&pending);
    assert_eq!(status(&t), "pending");
    t.route_changed(s("/consent/a"), None, None);
    t.capture(s("clicked"), None, None);
    t.route_changed(s("/consent/i/1"), None, Some(s("/consent/i/:id")));
    flush(&t).await;
    drop(t);
    // A reload while pending: still pending, still nothing.
    let t = start(&pending);
    assert_eq!(
        status(&t),
        "pending",
        "pending is not a decision to remember"
    );
    t.route_changed(s("/consent/i/1"), None, Some(s("/consent/i/:id")));
    flush(&t).await;
    assert_eq!(
        requests(receiver(), &token).await.len(),
        0,
        "nothing sent while pending"
    );
    assert_eq!(keys_containing(&token), 0, "nothing stored while pending");
    assert_eq!(stored_item(DECISION_KEY), None);
    assert_eq!(cookie_count(), 0);

    t.consent(Some(true));
    assert_eq!(status(&t), "granted");
    t.route_changed(s("/consent/b"), None, None);
    flush(&t).await;
    drop(t);
    assert_eq!(stored_item(DECISION_KEY).as_deref(), Some("granted"));
    assert!(
        stored_item(&state_key(&token)).is_some(),
        "state kept from the grant on"
    );
    // A reload once granted: tracked at once, as the same person.
    let t = start(&pending);
    assert_eq!(status(&t), "granted", "the decision is remembered");
    t.route_changed(s("/consent/c"), None, None);
    flush(&t).await;
    drop(t);
    forget_decision();

    let events = delivered(&token).await;
    let got = described(&events);
    let paths: Vec<_> = got.iter().map(|(e, p, ..)| format!("{e} {p}")).collect();
    assert_eq!(
        paths,
        [
            "$pageview /consent/i/1",
            "$pageleave /consent/i/1",
            "$pageview /consent/b",
            "$pageview /consent/c",
        ],
        "the page viewed at the grant, then every route change"
    );
    assert_eq!(events[0]["properties"]["route_template"], "/consent/i/:id");
    assert!(
        got.iter().all(|(.., device)| *device),
        "a stable id: {got:?}"
    );
    assert!(
        got.iter().all(|(_, _, id, _)| *id == got[0].2),
        "one person across the reload"
    );
}

#[wasm_bindgen_test]
async fn denied_is_cookieless_remembered_and_forgets_what_a_grant_stored() {
    forget_decision();
    let token = token("denied");
    let granted = config(&token, "");
    let t = start(&granted);
    t.route_changed(s("/consent/x"), None, None);
    flush(&t).await;
    assert!(
        stored_item(&state_key(&token)).is_some(),
        "granted by default: state kept"
    );
    t.consent(Some(false));
    assert_eq!(status(&t), "denied");
    assert_eq!(
        keys_containing(&token),
        0,
        "the stable id and the queue are forgotten"
    );
    assert_eq!(stored_item(DECISION_KEY).as_deref(), Some("denied"));
    t.route_changed(s("/consent/y"), None, None);
    flush(&t).await;
    drop(t);
    // A reload once denied: cookieless from the start, a new id each load.
    let t = start(&granted);
    assert_eq!(
        status(&t),
        "denied",
        "the decision is remembered over the config"
    );
    t.route_changed(s("/consent/z"), None, None);
    flush(&t).await;
    drop(t);
    assert_eq!(keys_containing(&token), 0, "nothing stored once denied");
    forget_decision();

    let got = described(&delivered(&token).await);
    let paths: Vec<_> = got.iter().map(|(e, p, ..)| format!("{e} {p}")).collect();
    assert_eq!(
        paths,
        [
            "$pageview /consent/x",
            "$pageleave /consent/x",
            "$pageview /consent/y",
            "$pageview /consent/z",
        ]
    );
    assert!(got[0].3, "a $device_id while granted");
    assert!(
        got[1..].iter().all(|(.., device)| !device),
        "cookieless once denied: {got:?}"
    );
    assert_ne!(got[0].2, got[1].2, "not the id of before the denial");
    assert_ne!(got[2].2, got[3].2, "no stable id across the reload");
}

#[wasm_bindgen_test]
async fn denied_with_consent_denied_nothing_sends_nothing_before_or_after_a_reload() {
    forget_decision();
    let token = token("nothing");
    let pending = config(
        &token,
        r#", "consent": "pending", "consent_denied": "nothing""#,
    );
    let t = start(&pending);
    t.route_changed(s("/consent/p"), None, None);
    t.consent(Some(false));
    t.route_changed(s("/consent/q"), None, None);
    flush(&t).await;
    drop(t);
    let t = start(&pending);
    assert_eq!(status(&t), "denied");
    t.route_changed(s("/consent/r"), None, None);
    flush(&t).await;
    drop(t);
    forget_decision();
    // Denied by the config itself, before any decision: nothing either.
    let denied = config(
        &token,
        r#", "consent": "denied", "consent_denied": "nothing""#,
    );
    let t = start(&denied);
    assert_eq!(status(&t), "denied");
    t.route_changed(s("/consent/s"), None, None);
    flush(&t).await;
    drop(t);

    assert_eq!(requests(receiver(), &token).await.len(), 0);
    assert_eq!(keys_containing(&token), 0);
    assert_eq!(
        stored_item(DECISION_KEY),
        None,
        "a config is not a decision"
    );
}
