//! Getting a JSON body to a server from a page: `fetch` (gzip-compressed by
//! the browser's `CompressionStream` where it has one), and `sendBeacon` or
//! `fetch` with `keepalive` while the page goes away.

use wasm_bindgen::JsValue;

use crate::js;

/// POSTs `json`, gzip-compressed when the browser can, as `text/plain` (a
/// "simple" request: no CORS preflight). Resolves to the HTTP status, 0 when
/// there was no answer. Never fails.
///
/// A compressed body gets `compression=gzip-js` in the query, as posthog-js
/// sends it; servers that look at the magic bytes need not read it.
pub async fn post_json(url: &str, json: &str) -> u16 {
    let compressed = js::gzip(json).await;
    let (url, body) = if compressed.is_undefined() {
        (url.to_owned(), JsValue::from_str(json))
    } else {
        let sep = if url.contains('?') { '&' } else { '?' };
        (format!("{url}{sep}compression=gzip-js"), compressed)
    };
    js::status_of(&js::post(&url, body, false).await)
}

/// Sends `json` while the page is being hidden: `sendBeacon` first; returns
/// false when the browser refused it (too large, or too many queued), so the
/// caller can split the body.
pub fn beacon_json(url: &str, json: &str) -> bool {
    js::beacon(url, json)
}

/// Last resort while the page goes away: `fetch` with `keepalive`, without
/// waiting for an answer.
pub fn keepalive_json(url: &str, json: &str) {
    let url = url.to_owned();
    let body = JsValue::from_str(json);
    wasm_bindgen_futures::spawn_local(async move {
        let _ = js::post(&url, body, true).await;
    });
}
