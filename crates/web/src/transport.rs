//! Getting a body to a server from a page, for every integration: `fetch`
//! (gzip-compressed by the browser's `CompressionStream` where it has one and
//! the receiver takes it), and `sendBeacon` or `fetch` with `keepalive` while
//! the page goes away.

use wasm_bindgen::JsValue;
use wasm_bindgen::closure::Closure;

use crate::js;

/// The server's answer to a POST.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status, 0 when there was no answer (offline, CORS, DNS).
    pub status: u16,
    /// The `Retry-After` header.
    pub retry_after: Option<String>,
    /// The `X-Sentry-Rate-Limits` header.
    pub rate_limits: Option<String>,
}

/// POSTs `text` as `text/plain` (a "simple" request: no CORS preflight) and
/// calls `on_answer` with the answer (read it with [`Answer::read`]; status 0
/// when there was none), guarded (see [`crate::panic::guarded`]). Never fails.
///
/// With `gzip_url`, and where the browser has `CompressionStream`, the body is
/// gzip-compressed and goes to `gzip_url` instead, still as `text/plain` (the
/// receiver recognises gzip by its magic bytes or by that URL, as PostHog does
/// with `?compression=gzip-js`).
///
/// A callback rather than an `async fn`: the browser does the awaiting, so no
/// Rust async runtime enters the build. The callback is an `FnMut(JsValue)`
/// closure, the type the listeners have (a `Closure::once`, or a boxed
/// `FnOnce` inside it, would bring code of its own); the snippet calls it
/// once, and the browser's garbage collector frees it (with what it holds: a
/// client kept alive a little longer costs nothing observable, and taking it
/// out on the call would cost code in every caller).
pub fn post_text(
    url: &str,
    text: &str,
    gzip_url: Option<&str>,
    mut on_answer: impl FnMut(&JsValue) + 'static,
) {
    let done = Closure::<dyn FnMut(JsValue)>::new(move |answer: JsValue| {
        crate::panic::guarded(|| on_answer(&answer));
    });
    js::post(url, text, gzip_url, done.into_js_value());
}

impl Answer {
    /// The answer `post_text`'s callback gets: `[status, retryAfter, rateLimits]`.
    pub fn read(answer: &JsValue) -> Answer {
        let part = |i| js::item(answer, i);
        Answer {
            status: part(0).as_f64().map_or(0, |s| s as u16),
            retry_after: part(1).as_string(),
            rate_limits: part(2).as_string(),
        }
    }
}

/// Hands `text` to the browser while the page is being hidden: `sendBeacon`,
/// or `fetch` with `keepalive` where there is no beacon. False when the browser
/// refuses it (too large, or its in-flight quota is used up), so the caller
/// can split the body or keep it for the next page load.
pub fn beacon_text(url: &str, text: &str) -> bool {
    js::beacon(url, text)
}
