//! A Rust panic inside the SDK reaches Sentry as an unhandled error. In a
//! file of its own: the panic switches the SDK off for the rest of the page
//! (this test binary).

#![cfg(target_arch = "wasm32")]

#[allow(dead_code)] // Each test binary uses its part of the helpers.
mod common;

use common::{flush, receiver, requests, sleep, start, token};
use ff_telemetry_core::sentry::{Envelope, Event, SessionStatus, SessionUpdate};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The envelopes that arrived for `key`, polled until there are `n` (10 s at most).
async fn wait_for_envelopes(receiver: &str, key: &str, n: usize) -> Vec<Envelope> {
    let deadline = js_sys::Date::now() + 10_000.0;
    loop {
        let got: Vec<Envelope> = requests(receiver, key)
            .await
            .iter()
            .map(|r| Envelope::parse(r["body"].as_str().unwrap_or_default().as_bytes()))
            .collect::<Result<_, _>>()
            .expect("valid envelopes");
        if got.len() >= n || js_sys::Date::now() > deadline {
            return got;
        }
        sleep(50).await;
    }
}

#[wasm_bindgen_test]
async fn a_panic_is_reported_as_a_crash_and_the_sdk_goes_quiet() {
    let Some(rx) = receiver() else { return };
    let key = token("panic");
    let host = rx.trim_start_matches("http://");
    let t = start(&format!(
        r#"{{"sentry": {{"dsn": "http://{key}@{host}/7", "environment": "panic-test",
            "release": "flowfuse@9.9.9", "report_localhost": true, "traces_sample_rate": 0}}}}"#
    ));
    flush(&t).await;
    t.panic_for_test();
    // The SDK is off now: this is neither sent nor thrown.
    t.capture_message(JsValue::from_str("after the panic"), None);
    flush(&t).await;
    let got = wait_for_envelopes(rx, &key, 3).await;
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
    assert_eq!(exception.kind, "panic");
    assert_eq!(exception.value.as_deref(), Some("test panic"));
    let mechanism = exception.mechanism.as_ref().unwrap();
    assert_eq!(
        (mechanism.kind.as_str(), mechanism.handled),
        ("panic", Some(false))
    );
    let frames = &exception.stacktrace.as_ref().expect("a stack").frames;
    assert!(
        frames.iter().any(|f| f.instruction_addr.is_some()),
        "wasm frames are kept: {frames:?}"
    );
    let crashed: SessionUpdate = serde_json::from_slice(of_kind("session")).unwrap();
    assert_eq!(crashed.status, SessionStatus::Crashed);
}
