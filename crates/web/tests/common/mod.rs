//! What every browser suite needs: the test receiver that `cargo xtask test`
//! starts (its URL arrives in `FF_TEST_RECEIVER_URL` at compile time), and
//! the SDK started from a JSON config.

use std::future::Future;

use ff_telemetry_web::{Telemetry, init};
use ff_telemetry_wire::sentry::Envelope;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/tests/js/common.js")]
extern "C" {
    #[wasm_bindgen(js_name = getText)]
    async fn get_text(url: &str) -> JsValue;
    #[wasm_bindgen(js_name = postJson)]
    pub async fn post_json(url: &str, body: &str) -> JsValue;
    /// Dispatches a plain `Event` named `name` on `window`.
    pub fn dispatch(name: &str);
    pub async fn sleep(ms: u32);
}

/// The receiver's base URL. The suite cannot run without one, so a build
/// without it fails every test that needs it, saying how to run the suite.
pub fn receiver() -> &'static str {
    match option_env!("FF_TEST_RECEIVER_URL") {
        Some(url) => url,
        None => panic!(
            "FF_TEST_RECEIVER_URL is not set: run the browser suite with \
             `cargo xtask test browser`, which starts the test receiver and sets it"
        ),
    }
}

/// A token (PostHog project key or Sentry public key) no other test uses.
pub fn token(test: &str) -> String {
    format!("phc_{test}_{}", js_sys::Date::now() as u64)
}

/// `init(config)` with `json` parsed as the config.
pub fn start(json: &str) -> Telemetry {
    init(Some(
        js_sys::JSON::parse(json).expect("test config is JSON"),
    ))
}

/// `flush()`, awaited.
pub async fn flush(t: &Telemetry) {
    JsFuture::from(t.flush())
        .await
        .expect("flush never rejects");
}

/// Every request the receiver recorded for `token`.
pub async fn requests(receiver: &str, token: &str) -> Vec<Value> {
    let text = get_text(&format!("{receiver}/_control/requests?token={token}"))
        .await
        .as_string()
        .expect("receiver answers text");
    serde_json::from_str::<Vec<Value>>(&text).expect("receiver answers JSON")
}

/// Asks the receiver to answer the next `count` requests to `path` for
/// `token` with `status` and `headers` (a JSON object).
pub async fn fail_next(
    receiver: &str,
    token: &str,
    path: &str,
    status: u16,
    count: u32,
    headers: &str,
) {
    let rule = format!(
        r#"{{"path": "{path}", "status": {status}, "count": {count}, "token": "{token}", "headers": {headers}}}"#
    );
    assert_eq!(
        post_json(&format!("{receiver}/_control/fail"), &rule).await,
        200
    );
}

/// Calls `fetch` until it returns at least `n` items (10 s at most), and
/// returns the last answer: for what arrives by beacon, unawaitable.
pub async fn wait_for<T, Fut: Future<Output = Vec<T>>>(
    mut fetch: impl FnMut() -> Fut,
    n: usize,
) -> Vec<T> {
    let deadline = js_sys::Date::now() + 10_000.0;
    loop {
        let got = fetch().await;
        if got.len() >= n || js_sys::Date::now() > deadline {
            return got;
        }
        sleep(50).await;
    }
}

/// Every Sentry envelope the receiver got for the public key `key`, with the
/// status it answered, each checked: POSTed as `text/plain` to project 42's
/// endpoint, `sent_at` set, one item.
pub async fn envelopes(receiver: &str, key: &str) -> Vec<(u64, Envelope)> {
    let mut out = Vec::new();
    for request in requests(receiver, key).await {
        assert_eq!(request["path"], "/api/42/envelope/");
        let content_type = request["content_type"].as_str().unwrap_or_default();
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        let body = request["body"].as_str().expect("an envelope body");
        let envelope = Envelope::parse(body.as_bytes()).expect("a valid envelope");
        assert!(envelope.header.sent_at.is_some(), "sent_at is set");
        assert_eq!(envelope.items.len(), 1, "one item per envelope");
        out.push((request["status"].as_u64().unwrap_or(0), envelope));
    }
    out
}
