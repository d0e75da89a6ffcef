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
    js::status_of(&js::post(&url, body).await)
}

/// Hands `json` to the browser while the page is being hidden: `sendBeacon`,
/// or `fetch` with `keepalive` where there is no beacon. False when the browser
/// refuses it (too large, or its in-flight quota is used up), so the caller
/// can split the body or keep it for the next page load.
pub fn beacon_json(url: &str, json: &str) -> bool {
    js::beacon(url, json)
}
