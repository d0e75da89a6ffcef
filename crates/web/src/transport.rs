//! Getting a body to a server from a page, for every integration: a POST by
//! gloo-net (gzip-compressed by the browser's `CompressionStream` where it has
//! one and the receiver takes it), and `sendBeacon` or `fetch` with
//! `keepalive` while the page goes away.

use gloo_net::http::Request;
use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::RequestCredentials;

#[wasm_bindgen]
extern "C" {
    /// The page's `fetch(request)`, or what it threw. gloo-net's `send` would
    /// let an exception through the module (a page may replace `fetch` with
    /// one that throws), leaving the request in flight for ever.
    #[wasm_bindgen(js_name = fetch, catch)]
    fn fetch_guarded(request: &web_sys::Request) -> Result<js_sys::Promise, JsValue>;
}

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
/// calls `on_answer` with the answer (status 0 when there was none), guarded
/// (see [`crate::panic::guarded`]). Never fails, and never calls back during
/// the call: the answer comes in a later task.
///
/// With `gzip_url`, and where the browser has `CompressionStream`, the body is
/// gzip-compressed and goes to `gzip_url` instead, still as `text/plain` (the
/// receiver recognises gzip by its magic bytes or by that URL, as PostHog does
/// with `?compression=gzip-js`).
pub fn post_text(
    url: String,
    text: String,
    gzip_url: Option<String>,
    on_answer: impl FnOnce(Answer) + 'static,
) {
    wasm_bindgen_futures::spawn_local(async move {
        let answer = post(url, text, gzip_url).await.unwrap_or_default();
        let mut call = Some((on_answer, answer));
        crate::panic::guarded(|| {
            if let Some((on_answer, answer)) = call.take() {
                on_answer(answer);
            }
        });
    });
}

/// The POST itself; `Err` when there was no answer.
async fn post(url: String, text: String, gzip_url: Option<String>) -> Result<Answer, JsValue> {
    let gzipped = match gzip_url {
        Some(gzip_url) => gzip(&text).await.map(|bytes| (gzip_url, bytes)),
        None => None,
    };
    let builder = |url: &str| {
        Request::post(url)
            .credentials(RequestCredentials::Omit)
            .header("Content-Type", "text/plain")
    };
    let request = match gzipped {
        Some((gzip_url, bytes)) => builder(&gzip_url).body(bytes),
        None => builder(&url).body(text),
    };
    let request = request.map_err(|_| JsValue::NULL)?;
    let answer = JsFuture::from(fetch_guarded(&request.into())?).await?;
    // What a replaced `fetch` resolves to need not be a `Response`.
    let response = gloo_net::http::Response::from(answer.dyn_into::<web_sys::Response>()?);
    let headers = response.headers();
    Ok(Answer {
        status: response.status(),
        retry_after: headers.get("retry-after"),
        rate_limits: headers.get("x-sentry-rate-limits"),
    })
}

/// `text` gzip-compressed by the browser's `CompressionStream`, `None` where
/// there is none (constructed by name: web-sys has it only behind an
/// unstable-API flag).
async fn gzip(text: &str) -> Option<Uint8Array> {
    let constructor = Reflect::get(&js_sys::global(), &"CompressionStream".into()).ok()?;
    let constructor = constructor.dyn_into::<js_sys::Function>().ok()?;
    let compressor = Reflect::construct(&constructor, &Array::of1(&"gzip".into())).ok()?;
    let blob = web_sys::Blob::new_with_str_sequence(&Array::of1(&text.into())).ok()?;
    let stream = blob.stream().pipe_through(compressor.unchecked_ref());
    let response = web_sys::Response::new_with_opt_readable_stream(Some(&stream)).ok()?;
    let buffer = JsFuture::from(response.array_buffer().ok()?).await.ok()?;
    Some(Uint8Array::new(&buffer))
}

/// Hands `text` to the browser while the page is being hidden: `sendBeacon`,
/// or `fetch` with `keepalive` where there is no beacon. False when the browser
/// refuses it (too large, or its in-flight quota is used up), so the caller
/// can split the body or keep it for the next page load.
pub fn beacon_text(url: &str, text: &str) -> bool {
    let Some(window) = crate::js::window() else {
        return false;
    };
    let navigator = window.navigator();
    if Reflect::has(&navigator, &"sendBeacon".into()).unwrap_or(false) {
        return navigator
            .send_beacon_with_opt_str(url, Some(text))
            .unwrap_or(false);
    }
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&text.into());
    init.set_credentials(RequestCredentials::Omit);
    // web-sys has no setter for `keepalive`.
    let _ = Reflect::set(&init, &"keepalive".into(), &JsValue::TRUE);
    let headers = gloo_net::http::Headers::new();
    headers.append("Content-Type", "text/plain");
    init.set_headers(&headers.into_raw());
    let promise = window.fetch_with_str_and_init(url, &init);
    // Awaited only so that a rejection (no network) is handled: the page is
    // going away, and nobody reads the answer.
    wasm_bindgen_futures::spawn_local(async move {
        let _ = JsFuture::from(promise).await;
    });
    true
}
