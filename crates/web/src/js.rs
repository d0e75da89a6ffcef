//! Every browser API the SDK touches, through web-sys and js-sys, and every
//! place it looks inside a `JsValue`. Each function here catches what the
//! browser throws (a missing `localStorage`, a privacy setting, a full quota)
//! and answers with a plain Rust value, so nothing above it handles
//! exceptions and nothing ever throws into the page.
//!
//! Download size shapes this module: every browser callback is a
//! `Closure<dyn FnMut(JsValue)>` (each other closure signature costs glue of
//! its own), the window is looked up once per call site that needs it, and
//! numbers are read as the `f64`s JavaScript has (no float parsing in Rust).

use std::cell::OnceCell;

use ff_telemetry_browser::posthog::{PageEnv, ScrollSample};
use ff_telemetry_wire::UnixMs;
use js_sys::{Array, Function, JsString, Object, Reflect};
use wasm_bindgen::prelude::*;

/// The one closure type of every browser callback: listeners, timers, the
/// deferred save, `flush()`'s steps.
pub type Callback = Closure<dyn FnMut(JsValue)>;

#[wasm_bindgen]
extern "C" {
    /// `Reflect.apply(f, undefined, [])`: runs the Rust closure `f` and
    /// returns what it threw (a trap after a panic included) as `Err`.
    #[wasm_bindgen(js_namespace = Reflect, js_name = apply, catch)]
    fn apply_guarded(f: &mut dyn FnMut(), this: &JsValue, args: &Array) -> Result<(), JsValue>;

    /// `String(value)`, or what it threw: a value's own `toString` or
    /// `Symbol.toPrimitive` may throw, which js-sys's conversions would let
    /// through into the module.
    #[wasm_bindgen(js_name = String, catch)]
    fn string_of(value: &JsValue) -> Result<JsString, JsValue>;
}

/// Runs `f` in a JavaScript `try`: what it threw, if anything.
pub fn guard(f: &mut dyn FnMut()) -> Option<JsValue> {
    apply_guarded(&mut || f(), &JsValue::UNDEFINED, &Array::new()).err()
}

/// The page's `window`; `None` in a worker (the SDK then does nothing).
pub fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

/// The current time from `Date.now()`.
pub fn now() -> UnixMs {
    UnixMs(js_sys::Date::now().max(0.0) as u64)
}

/// `console.warn("ff-telemetry:", message)`: the SDK's only logger. The
/// console joins the parts with spaces, so no text is joined in Rust.
pub fn warn(message: &str) {
    web_sys::console::warn_2(&PREFIX.into(), &message.into());
}

/// `console.warn("ff-telemetry:", message, detail)`: [`warn`] for a message
/// with a detail (an error's text, a name).
pub fn warn_with(message: &str, detail: &str) {
    web_sys::console::warn_3(&PREFIX.into(), &message.into(), &detail.into());
}

/// `console.warn("ff-telemetry:", a, message, b)`: [`warn`] for a message
/// between two numbers, which the console writes in decimal.
pub fn warn_numbers(a: f64, message: &str, b: f64) {
    web_sys::console::warn_4(&PREFIX.into(), &a.into(), &message.into(), &b.into());
}

/// `console.warn("ff-telemetry:", message, error)`: [`warn`] with a
/// JavaScript value the console shows as it is (an error with its stack).
pub fn warn_error(message: &str, error: &JsValue) {
    web_sys::console::warn_3(&PREFIX.into(), &message.into(), error);
}

const PREFIX: &str = "ff-telemetry:";

/// Ten random bytes from `crypto.getRandomValues`.
pub fn random_bytes() -> [u8; 10] {
    let mut out = [0u8; 10];
    fill_random(&mut out);
    out
}

/// Fills `out` from `crypto.getRandomValues` (`Math.random` where the page
/// has no Web Crypto).
pub fn fill_random(out: &mut [u8]) {
    let filled = window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(out).is_ok());
    if !filled {
        for byte in out {
            *byte = (js_sys::Math::random() * 256.0) as u8;
        }
    }
}

/// `location.href`, empty without a window.
pub fn href() -> String {
    window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default()
}

/// `to` (a path like `/a?b` or a full URL) made absolute against the page's
/// location, or `None` when it is not a string or not a URL.
pub fn resolve_url(to: &JsValue) -> Option<String> {
    let to = to.as_string()?;
    web_sys::Url::new_with_base(&to, &href())
        .ok()
        .map(|url| url.href())
}

/// The text of the element with this `id`, if there is one.
pub fn config_text(id: &str) -> Option<String> {
    window()?.document()?.get_element_by_id(id)?.text_content()
}

/// `localStorage`, when the page may use it.
fn local_storage() -> Option<web_sys::Storage> {
    window()?.local_storage().ok().flatten()
}

/// `localStorage.getItem`, `None` when missing or unreadable.
pub fn storage_get(key: &str) -> Option<String> {
    local_storage()?.get_item(key).ok().flatten()
}

/// `localStorage.setItem`: the exception's message when the browser
/// refuses (quota, or no `localStorage` at all).
pub fn storage_set(key: &str, value: &str) -> Result<(), String> {
    let Some(storage) = local_storage() else {
        return Err("localStorage is not available".to_owned());
    };
    storage.set_item(key, value).map_err(|e| error_message(&e))
}

/// `localStorage.removeItem`, ignoring errors.
pub fn storage_remove(key: &str) {
    if let Some(storage) = local_storage() {
        let _ = storage.remove_item(key);
    }
}

/// Every key of `localStorage` (none when it is missing or unreadable).
pub fn storage_keys() -> Array {
    local_storage().map_or_else(Array::new, |storage| Object::keys(&storage))
}

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks.request(name, callback)` (web-sys has Web Locks only
    /// in its unstable build).
    #[wasm_bindgen(catch, js_namespace = ["navigator", "locks"], js_name = request)]
    fn lock_request(name: &str, callback: &Function) -> Result<JsValue, JsValue>;
}

/// `navigator.locks.request(name, callback)`: the Web Lock `name`, given to
/// `callback` when granted and held until the promise `callback` returns
/// settles. False when the page has no Web Locks (not a secure context, an
/// old browser: the call throws on `undefined`).
pub fn request_lock(name: &str, callback: &Function) -> bool {
    lock_request(name, callback).is_ok()
}

/// Holds the Web Lock `name` (see [`request_lock`]) until the page goes
/// away, with no closure and no script: the lock's callback is
/// `Object.bind(null, {then: Object})`, which returns that object; the
/// browser waits for it as for a promise, calling `then(resolve, reject)`,
/// and `Object(resolve, reject)` never calls either.
pub fn hold_lock(name: &str) -> bool {
    let never = Object::new();
    // `Object` itself: a plain object's `constructor`, read by `Reflect.get`.
    let object = field(&never, "constructor");
    let _ = Reflect::set(&never, &"then".into(), &object);
    let callback = object
        .unchecked_into::<Function>()
        .bind1(&JsValue::NULL, &never);
    request_lock(name, callback.unchecked_ref())
}

/// Whether `localStorage` exists and accepts a write (it can be missing,
/// blocked by privacy settings, or full).
pub fn storage_works() -> bool {
    const PROBE: &str = "ff_telemetry_probe";
    let works = storage_set(PROBE, "1").is_ok();
    storage_remove(PROBE);
    works
}

/// What identifies the module this code runs in, for Sentry: its `build_id`
/// custom section (empty without one), and a stack taken here, inside the
/// module, whose newest WebAssembly frame shows the module's URL as every
/// later stack will.
pub fn own_module() -> (Vec<u8>, String) {
    use js_sys::WebAssembly::Module;
    // The module wasm-bindgen's glue instantiated (`--target web` keeps it
    // before any export can run).
    let module = wasm_bindgen::module().unchecked_into();
    let sections = Module::custom_sections(&module, "build_id");
    let build_id = js_sys::Uint8Array::new(&sections.get(0)).to_vec();
    let stack = string_field(&js_sys::Error::new("").into(), "stack");
    (build_id, stack.unwrap_or_default())
}

/// An exception's `message`, or the value itself when it is a string.
pub fn error_message(e: &JsValue) -> String {
    string_field(e, "message")
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown JavaScript error".to_owned())
}

/// `object[name]` when it is a string.
fn string_field(object: &JsValue, name: &str) -> Option<String> {
    field(object, name).as_string()
}

/// `object[name]`, `undefined` when `object` is not an object or the getter
/// throws.
pub fn field(object: &JsValue, name: &str) -> JsValue {
    if !object.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(object, &name.into()).unwrap_or(JsValue::UNDEFINED)
}

/// Whether `value` is a plain object (not null, not an array, not a function).
pub fn is_object(value: &JsValue) -> bool {
    value.is_object() && !Array::is_array(value)
}

thread_local! {
    /// The page's time zone, asked once: `Intl.DateTimeFormat()` is the
    /// costliest call of the page environment.
    static TIME_ZONE: OnceCell<Option<String>> = const { OnceCell::new() };
}

/// The page as the PostHog client needs it.
pub fn page_env() -> PageEnv {
    let Some(w) = window() else {
        return PageEnv::default();
    };
    let document = w.document();
    let screen = w.screen().ok();
    let navigator = w.navigator();
    // Sizes a u32 holds, else left out.
    let px = |v: Option<f64>| {
        v.filter(|v| (0.0..=u32::MAX as f64).contains(v))
            .map(|v| v as u32)
    };
    // Read by name: web-sys types `navigator.doNotTrack` as a string, and
    // browsers answer null when the user has not chosen.
    let dnt = [
        string_field(&navigator, "doNotTrack"),
        string_field(&w, "doNotTrack"),
    ];
    PageEnv {
        location_href: w.location().href().unwrap_or_default(),
        title: document.as_ref().map(web_sys::Document::title),
        referrer: document.as_ref().map(web_sys::Document::referrer),
        screen_width: px(screen.as_ref().and_then(|s| s.width().ok()).map(f64::from)),
        screen_height: px(screen.as_ref().and_then(|s| s.height().ok()).map(f64::from)),
        viewport_width: px(w.inner_width().ok().and_then(|v| v.as_f64())),
        viewport_height: px(w.inner_height().ok().and_then(|v| v.as_f64())),
        language: navigator.language(),
        timezone: TIME_ZONE.with(|tz| tz.get_or_init(time_zone).clone()),
        user_agent: navigator.user_agent().ok(),
        do_not_track: dnt.iter().flatten().any(|v| v == "1" || v == "yes"),
    }
}

/// `Intl.DateTimeFormat().resolvedOptions().timeZone`.
fn time_zone() -> Option<String> {
    let format = js_sys::Intl::DateTimeFormat::new(&Array::new(), &Object::new());
    string_field(&format.resolved_options(), "timeZone").filter(|tz| !tz.is_empty())
}

/// Where the reader is scrolled to, for scroll depth.
pub fn scroll_sample() -> ScrollSample {
    let w = window();
    let number = |v: Option<Result<JsValue, JsValue>>| {
        v.and_then(Result::ok)
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0)
    };
    let scroll_y = w.as_ref().and_then(|w| w.scroll_y().ok()).unwrap_or(0.0);
    let viewport = number(w.as_ref().map(web_sys::Window::inner_height));
    let content = w
        .as_ref()
        .and_then(web_sys::Window::document)
        .and_then(|d| d.document_element())
        .map_or(0, |e| e.scroll_height());
    ScrollSample {
        viewport_bottom: scroll_y + viewport,
        content_height: content.into(),
    }
}

/// An error as thrown (an `Error`, or any value), or the `ErrorEvent` or
/// `PromiseRejectionEvent` that carries it: name (empty when unknown),
/// message and `stack`.
pub fn describe_error(error: &JsValue) -> (String, String, Option<String>) {
    let mut error = error.clone();
    if let Some(event) = error.dyn_ref::<web_sys::ErrorEvent>() {
        let thrown = event.error();
        error = if thrown.is_undefined() || thrown.is_null() {
            event.message().into()
        } else {
            thrown
        };
    } else if let Some(event) = error.dyn_ref::<web_sys::PromiseRejectionEvent>() {
        error = event.reason();
    }
    if let Some(message) = string_field(&error, "message") {
        let name = field(&error, "name");
        let name = name.as_string().unwrap_or_default();
        return (name, message, string_field(&error, "stack"));
    }
    let text = error.as_string().or_else(|| {
        js_sys::JSON::stringify(&error)
            .ok()
            .and_then(|s| s.as_string())
    });
    // `String(error)` for what JSON cannot write (`undefined`, a function,
    // a symbol); a fixed text when even that throws.
    let text = text
        .or_else(|| string_of(&error).ok().map(String::from))
        .unwrap_or_else(|| "unprintable JavaScript value".to_owned());
    (String::new(), text, None)
}

/// The string-valued fields of an object, as pairs (none for a non-object).
pub fn string_entries(object: &JsValue) -> Vec<(String, String)> {
    if !is_object(object) {
        return Vec::new();
    }
    // A copy first: `Object.entries` runs the object's getters, which may
    // throw; `JSON.stringify` runs them where an exception is caught.
    let Ok(object) = json_copy(object) else {
        return Vec::new();
    };
    let mut pairs = Vec::new();
    for entry in Object::entries(object.unchecked_ref()) {
        let entry: Array = entry.unchecked_into();
        if let (Some(key), Some(value)) = (entry.get(0).as_string(), entry.get(1).as_string()) {
            pairs.push((key, value));
        }
    }
    pairs
}

/// JSON text parsed by the browser's `JSON.parse`; the exception's message
/// when it is not JSON.
pub fn parse_json(text: &str) -> Result<JsValue, String> {
    js_sys::JSON::parse(text).map_err(|e| error_message(&e))
}

/// `JSON.parse(JSON.stringify(value))`: a plain, acyclic copy; the
/// exception's message when `value` cannot be written as JSON (circular,
/// a `BigInt`).
pub fn json_copy(value: &JsValue) -> Result<JsValue, String> {
    let text = js_sys::JSON::stringify(value).map_err(|e| error_message(&e))?;
    js_sys::JSON::parse(&String::from(text)).map_err(|e| error_message(&e))
}

/// `setTimeout(callback, ms)`: the timer's id (`None` without a window).
pub fn set_timeout(callback: &Function, ms: i32) -> Option<i32> {
    window()?
        .set_timeout_with_callback_and_timeout_and_arguments_0(callback, ms)
        .ok()
}

/// `clearTimeout(id)`.
pub fn clear_timeout(id: i32) {
    if let Some(w) = window() {
        w.clear_timeout_with_handle(id);
    }
}

/// `queueMicrotask(callback)`: runs it once the current task's code is done.
pub fn queue_microtask(callback: &Function) {
    if let Some(w) = window() {
        w.queue_microtask(callback);
    }
}

/// Makes `pushState`/`replaceState` dispatch `ff-telemetry:navigate` on
/// `window` after they ran (once per page, whatever the number of clients).
pub fn hook_history() {
    let Some(w) = window() else { return };
    let Ok(history) = w.history() else { return };
    let marker = JsValue::from_str("__ffTelemetryHooked");
    if Reflect::has(&history, &marker).unwrap_or(true) {
        return;
    }
    let _ = Reflect::set(&history, &marker, &JsValue::TRUE);
    for name in ["pushState", "replaceState"] {
        let Ok(original) = Reflect::get(&history, &name.into()) else {
            continue;
        };
        let Ok(original) = original.dyn_into::<Function>() else {
            continue;
        };
        let (this, window) = (history.clone(), w.clone());
        // `(state, unused, url)`, the whole signature of both methods; what
        // the original throws (a cross-origin URL) reaches the app unchanged.
        let wrapper =
            Closure::<dyn FnMut(JsValue, JsValue, JsValue) -> Result<JsValue, JsValue>>::new(
                move |state: JsValue, unused: JsValue, url: JsValue| {
                    // A `url` not given is `undefined`, which the method reads as not given.
                    let result = original.call3(&this, &state, &unused, &url)?;
                    if let Ok(event) = web_sys::Event::new(NAVIGATE_EVENT) {
                        let _ = window.dispatch_event(&event);
                    }
                    Ok(result)
                },
            );
        let _ = Reflect::set(&history, &name.into(), &wrapper.into_js_value());
    }
}

/// What the History hooks dispatch on `window`.
pub const NAVIGATE_EVENT: &str = "ff-telemetry:navigate";

/// Adds a passive `window` listener for `name`.
pub fn listen(name: &str, listener: &Function) {
    if let Some(w) = window() {
        let options = web_sys::AddEventListenerOptions::new();
        options.set_passive(true);
        let _ = w.add_event_listener_with_callback_and_add_event_listener_options(
            name, listener, &options,
        );
    }
}

/// Removes a `window` listener [`listen`] added.
pub fn unlisten(name: &str, listener: &Function) {
    if let Some(w) = window() {
        let _ = w.remove_event_listener_with_callback(name, listener);
    }
}

/// A future that resolves after `ms` milliseconds (`setTimeout`); at once
/// without a window.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        if set_timeout(&resolve, ms).is_none() {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
