//! Every place the SDK looks inside a `JsValue`, and the few lines of
//! JavaScript it needs (fetch, beacon, gzip, History hooks, `localStorage`,
//! listeners), each of which catches its own exceptions so nothing ever throws
//! into the page.
//!
//! Download size shapes this module: the browser does the awaiting (no Rust
//! async runtime), snippets and a few global functions replace `web-sys`,
//! snippets return strings and arrays as plain `JsValue`s (unpacked here, the
//! arrays item by item by the one `item` import), callbacks are all `FnMut(JsValue)`
//! (each import returning a `String` or a vector, and each other closure
//! signature, costs conversion glue of its own), and no import uses `catch`
//! (its exception glue costs more than a `try` in a snippet).

use ff_telemetry_browser::posthog::PageEnv;
use ff_telemetry_wire::text::concat;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
export function guard(f) {
  try { f(); } catch (e) { return e || Error(e); }
}
export async function post(url, body, gzipUrl, done) {
  let answer = [0];
  try {
    const compressed = gzipUrl === undefined ? undefined : await gzip(body);
    if (compressed !== undefined) { url = gzipUrl; body = compressed; }
    const res = await fetch(url, { method: "POST", body, credentials: "omit",
      headers: { "Content-Type": "text/plain" } });
    const h = res.headers;
    answer = [res.status, h.get("retry-after"), h.get("x-sentry-rate-limits")];
  } catch (e) {}
  guard(() => done(answer));
}
export function item(array, i) { return array[i]; }
export function poll(step, ms) {
  const deadline = Date.now() + ms;
  return new Promise((resolve) => {
    let busy;
    const stillBusy = () => { busy = true; };
    const tick = () => {
      busy = false;
      guard(() => step(stillBusy));
      if (busy && Date.now() < deadline) setTimeout(tick, 25); else resolve();
    };
    tick();
  });
}
export function call(f) { f(); }
export function beacon(url, body) {
  try {
    if (navigator.sendBeacon) return navigator.sendBeacon(url, body);
    fetch(url, { method: "POST", body, keepalive: true, credentials: "omit",
      headers: { "Content-Type": "text/plain" } }).catch(() => {});
    return true;
  } catch (e) { return false; }
}
export async function gzip(text) {
  try {
    if (typeof CompressionStream === "undefined") return undefined;
    const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) { return undefined; }
}
export function hookHistory() {
  if (history.__ffTelemetryHooked) return;
  history.__ffTelemetryHooked = true;
  for (const name of ["pushState", "replaceState"]) {
    const original = history[name];
    history[name] = function (...args) {
      const result = original.apply(this, args);
      try { dispatchEvent(new Event("ff-telemetry:navigate")); } catch (e) {}
      return result;
    };
  }
}
export function fillRandom(bytes) {
  try { crypto.getRandomValues(bytes); }
  catch (e) { for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256); }
}
export function describeError(x) {
  try {
    if (typeof ErrorEvent !== "undefined" && x instanceof ErrorEvent) x = x.error != null ? x.error : x.message;
    else if (typeof PromiseRejectionEvent !== "undefined" && x instanceof PromiseRejectionEvent) x = x.reason;
    if (x instanceof Error || (isObject(x) && typeof x.message === "string"))
      return [String(x.name || ""), String(x.message), typeof x.stack === "string" ? x.stack : undefined];
    let text;
    try { text = typeof x === "string" ? x : JSON.stringify(x); } catch (e) {}
    return ["", text === undefined ? String(x) : text];
  } catch (e) { return ["", ""]; }
}
export function stringEntries(o) {
  try { return isObject(o) ? Object.entries(o).filter(([, v]) => typeof v === "string").flat() : []; }
  catch (e) { return []; }
}
export function strings(a) {
  return Array.isArray(a) && a.every((s) => typeof s === "string") ? a : undefined;
}
let timeZone;
export function pageEnv() {
  const w = globalThis, n = w.navigator || {}, s = w.screen || {};
  // Asked once per page: Intl.DateTimeFormat() is the costliest call here.
  if (timeZone === undefined) {
    try { timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) {}
    timeZone = timeZone || null;
  }
  const tz = timeZone || undefined;
  const dnt = n.doNotTrack || w.doNotTrack || n.msDoNotTrack;
  // Sizes a u32 holds, else left out (NaN fails both comparisons).
  const px = (v) => (v >= 0 && v <= 4294967295 ? v : undefined);
  return [
    String(w.location && w.location.href || ""), w.document && document.title,
    w.document && document.referrer, px(s.width), px(s.height), px(w.innerWidth), px(w.innerHeight),
    n.language, tz, n.userAgent, dnt === "1" || dnt === "yes",
  ];
}
export function href() { return String(globalThis.location && location.href || ""); }
export function resolveUrl(to) {
  try { return typeof to === "string" ? new URL(to, location.href).href : undefined; }
  catch (e) { return undefined; }
}
export function mergeProps(eventJson, user, groups, set, setOnce, groupSet) {
  try {
    const event = JSON.parse(eventJson), core = event.properties;
    const out = Object.assign({}, isObject(user) ? user : {}, core);
    if (isObject(groups)) out.$groups = Object.assign({}, core.$groups, groups);
    if (isObject(set)) out.$set = set;
    if (isObject(setOnce)) out.$set_once = setOnce;
    if (isObject(groupSet)) out.$group_set = groupSet;
    event.properties = out;
    return JSON.stringify(event).replace(/(\\+)u(d[89a-f][0-9a-f]{2})/g,
      (m, bs) => bs.length % 2 ? bs.slice(1) + "\\ufffd" : m);
  } catch (e) { return undefined; }
}
export function viewportBottom() { return (globalThis.scrollY || 0) + (globalThis.innerHeight || 0); }
export function contentHeight() {
  const d = globalThis.document && document.documentElement;
  return d ? d.scrollHeight : 0;
}
export function listenerGroup() { return []; }
export function listen(group, name, f) {
  addEventListener(name, f, { passive: true });
  group.push([name, f]);
}
export function unlisten(group) {
  for (const [name, f] of group.splice(0)) removeEventListener(name, f);
}
export function configText(id) {
  const element = globalThis.document && document.getElementById(id);
  return element ? element.textContent : undefined;
}
export function storageWorks() {
  try {
    localStorage.setItem("ff_telemetry_probe", "1");
    localStorage.removeItem("ff_telemetry_probe");
    return true;
  } catch (e) { return false; }
}
export function storageGet(key) {
  try { return localStorage.getItem(key); } catch (e) { return undefined; }
}
export function storageSet(key, value) {
  try { localStorage.setItem(key, value); } catch (e) { return errorMessage(e); }
}
export function storageRemove(key) {
  try { localStorage.removeItem(key); } catch (e) {}
}
export function parseJson(text) {
  try { return [true, JSON.parse(text)]; } catch (e) { return [false, errorMessage(e)]; }
}
export function field(o, name) {
  try { return isObject(o) ? o[name] : undefined; } catch (e) { return undefined; }
}
function errorMessage(e) {
  return e && typeof e.message === "string" ? e.message
    : typeof e === "string" ? e : "unknown JavaScript error";
}
export function withMethods(handle, names) {
  const proto = Object.getPrototypeOf(handle), free = proto.free;
  if (proto.flush) return handle;
  let busy = 0;
  names.split(" ").forEach((name, i) => {
    proto[name] = function (a, b, c) {
      busy++;
      try { return this.invoke(i, a, b, c); }
      catch (e) {
        return name === "flush" ? Promise.resolve() : name === "hasOptedOut" ? false : undefined;
      } finally { busy--; }
    };
  });
  proto.free = function () {
    if (busy) queueMicrotask(() => this.free());
    else try { free.call(this); } catch (e) {}
  };
  return handle;
}
export function isObject(v) { return typeof v === "object" && v !== null && !Array.isArray(v); }
"#)]
extern "C" {
    /// Runs `f`; what it threw (a trap after a panic included, an `Error`
    /// for a thrown `undefined` or other falsy value), `undefined` when nothing.
    pub fn guard(f: &mut dyn FnMut()) -> JsValue;
    /// POSTs `body` as `text/plain` (gzip-compressed to `gzip_url` instead,
    /// when given and the browser has `CompressionStream`), then calls
    /// `done(status, retryAfter, rateLimits)`; status 0 when there was no
    /// answer. `done` always runs after an `await`, never during the call
    /// (the PostHog client posts with its state borrowed). `done` is Rust and
    /// guards itself ([`crate::panic::guarded`]); the `guard` around it here
    /// only keeps from the page an error the glue that calls it might throw,
    /// as in `poll`.
    pub fn post(url: &str, body: &str, gzip_url: Option<&str>, done: JsValue);
    /// A promise that calls `step(stillBusy)` now and every 25 ms
    /// until a step does not call `stillBusy()`, or `ms` milliseconds have
    /// passed, then resolves. (A callback rather than a returned bool: `step`
    /// then has the closure type the listeners have, and no glue of its own.)
    pub fn poll(step: JsValue, ms: u32) -> JsValue;
    /// Calls the JavaScript function `f`.
    pub fn call(f: &JsValue);
    /// Item `index` of an array the snippets made (`undefined` past its
    /// end). Read one by one rather than as a `Vec<JsValue>`, whose
    /// conversion (and dropping) costs code in the module and the glue.
    pub fn item(array: &JsValue, index: u32) -> JsValue;
    /// `navigator.sendBeacon` (or `fetch` with `keepalive` where there is no
    /// beacon); false when the browser refuses it.
    pub fn beacon(url: &str, body: &str) -> bool;
    /// Makes `pushState`/`replaceState` dispatch `ff-telemetry:navigate` on
    /// `window` (once per page, whatever the number of clients).
    #[wasm_bindgen(js_name = hookHistory)]
    pub fn hook_history();
    /// Fills `out` from `crypto.getRandomValues` (`Math.random` where that
    /// throws).
    #[wasm_bindgen(js_name = fillRandom)]
    pub fn fill_random(out: &mut [u8]);
    #[wasm_bindgen(js_name = describeError)]
    fn describe_error_js(error: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = stringEntries)]
    fn string_entries_js(object: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = strings)]
    fn strings_js(array: &JsValue) -> JsValue;
    /// `[href, title, referrer, screen width, screen height, viewport width,
    /// viewport height, language, time zone, user agent, do not track]`; a
    /// size is `undefined` unless a `u32` holds it.
    #[wasm_bindgen(js_name = pageEnv)]
    fn page_env_js() -> JsValue;
    #[wasm_bindgen(js_name = href)]
    fn href_js() -> JsValue;
    #[wasm_bindgen(js_name = resolveUrl)]
    fn resolve_url_js(to: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = mergeProps)]
    fn merge_props_js(
        event_json: &str,
        user: &JsValue,
        groups: &JsValue,
        set: &JsValue,
        set_once: &JsValue,
        group_set: &JsValue,
    ) -> JsValue;
    /// `scrollY + innerHeight`: how far down the page the reader sees.
    #[wasm_bindgen(js_name = viewportBottom)]
    fn viewport_bottom() -> f64;
    /// `document.documentElement.scrollHeight`.
    #[wasm_bindgen(js_name = contentHeight)]
    fn content_height() -> f64;
    #[wasm_bindgen(js_name = isObject)]
    fn is_object_js(v: &JsValue) -> bool;
    /// A new, empty list of `window` listeners for [`listen`] and [`unlisten`].
    #[wasm_bindgen(js_name = listenerGroup)]
    pub fn listener_group() -> JsValue;
    /// Adds a passive `window` listener and records it in `group`.
    pub fn listen(group: &JsValue, name: &str, listener: JsValue);
    /// Removes every listener recorded in `group`.
    pub fn unlisten(group: &JsValue);
    #[wasm_bindgen(js_name = configText)]
    fn config_text_js(id: &str) -> JsValue;
    /// Whether `localStorage` exists and accepts a write (it can be missing,
    /// blocked by privacy settings, or full).
    #[wasm_bindgen(js_name = storageWorks)]
    pub fn storage_works() -> bool;
    #[wasm_bindgen(js_name = storageGet)]
    fn storage_get_js(key: &str) -> JsValue;
    #[wasm_bindgen(js_name = storageSet)]
    fn storage_set_js(key: &str, value: &str) -> JsValue;
    /// `[true, JSON.parse(text)]`, or `[false, the exception's message]`.
    #[wasm_bindgen(js_name = parseJson)]
    fn parse_json_js(text: &str) -> JsValue;
    /// `object[name]`, `undefined` when `object` is not an object or the
    /// getter throws.
    pub fn field(object: &JsValue, name: &str) -> JsValue;
    /// Gives the prototype of `handle` (a `Telemetry`) a method for each of the
    /// space-separated `names` (once), the `i`-th calling `this.invoke(i, a,
    /// b, c)`; returns `handle`.
    #[wasm_bindgen(js_name = withMethods)]
    pub fn with_methods(handle: JsValue, names: &str) -> JsValue;
    /// `localStorage.removeItem`, ignoring errors.
    #[wasm_bindgen(js_name = storageRemove)]
    pub fn storage_remove(key: &str);
}

// Browser globals: a block of its own, as a `js_namespace` in the block above
// would be looked up in the inline module. Called directly rather than through
// `web_sys::window()`, whose global-object lookup costs more code; none of them
// throws.
#[wasm_bindgen]
extern "C" {
    /// `setTimeout(callback, ms)`: the timer's id.
    #[wasm_bindgen(js_name = setTimeout)]
    pub fn set_timeout(callback: &JsValue, ms: i32) -> i32;
    /// `clearTimeout(id)`.
    #[wasm_bindgen(js_name = clearTimeout)]
    pub fn clear_timeout(id: i32);
    /// `queueMicrotask(callback)`: runs it once the current task's code is done.
    #[wasm_bindgen(js_name = queueMicrotask)]
    pub fn queue_microtask(callback: &JsValue);
    /// `Date.now()`.
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    fn date_now() -> f64;
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn(prefix: &str, message: &str);
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn_with(prefix: &str, message: &str, detail: &str);
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn_numbers(prefix: &str, a: f64, message: &str, b: f64);
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn_error(prefix: &str, message: &str, error: &JsValue);
}

// Strings come back from the snippets as `JsValue`s, converted here: an
// import returning `String` or `Option<String>` costs glue of its own each.

/// `location.href`.
pub fn href() -> String {
    href_js().as_string().unwrap_or_default()
}

/// `to` (a path like `/a?b` or a full URL) made absolute against the page's
/// location, or `None` when it is not a string or not a URL.
pub fn resolve_url(to: &JsValue) -> Option<String> {
    resolve_url_js(to).as_string()
}

/// The text of the element with this `id`, if there is one.
pub fn config_text(id: &str) -> Option<String> {
    config_text_js(id).as_string()
}

/// `localStorage.getItem`, `None` when missing or unreadable.
pub fn storage_get(key: &str) -> Option<String> {
    storage_get_js(key).as_string()
}

/// `localStorage.setItem`: the exception's message when the browser
/// refuses (quota).
pub fn storage_set(key: &str, value: &str) -> Option<String> {
    storage_set_js(key, value).as_string()
}

/// What went wrong at the JavaScript edge.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// A JavaScript exception.
    #[error("{0}")]
    Js(String),
    /// A value did not have the expected shape.
    #[error("{0}")]
    Shape(String),
}

impl WebError {
    /// The message alone (`Display` would bring Rust's formatting machinery
    /// into the download).
    pub fn message(&self) -> &str {
        match self {
            WebError::Js(message) | WebError::Shape(message) => message,
        }
    }
}

/// `console.warn("ff-telemetry:", message)`: the SDK's only logger. The
/// console puts the space between the two; joining them in Rust would cost
/// more code.
pub fn warn(message: &str) {
    console_warn("ff-telemetry:", message);
}

/// `console.warn("ff-telemetry:", message, detail)`: [`warn`] for a message
/// with a detail (an error's text, a name), which the console joins with a
/// space, so no text is joined in Rust.
pub fn warn_with(message: &str, detail: &str) {
    console_warn_with("ff-telemetry:", message, detail);
}

/// `console.warn("ff-telemetry:", a, message, b)`: [`warn`] for a message
/// between two numbers, which the console writes in decimal (no number
/// formatting in Rust).
pub fn warn_numbers(a: f64, message: &str, b: f64) {
    console_warn_numbers("ff-telemetry:", a, message, b);
}

/// `console.warn("ff-telemetry:", message, error)`: [`warn`] with a
/// JavaScript value the console shows as it is (an error with its stack).
pub fn warn_error(message: &str, error: &JsValue) {
    console_warn_error("ff-telemetry:", message, error);
}

/// Ten random bytes from `crypto.getRandomValues`.
pub fn random_bytes() -> [u8; 10] {
    let mut out = [0u8; 10];
    fill_random(&mut out);
    out
}

/// An error as thrown (an `Error`, or any value), or the `ErrorEvent` or
/// `PromiseRejectionEvent` that carries it: name (empty when unknown),
/// message and `stack`.
pub fn describe_error(error: &JsValue) -> (String, String, Option<String>) {
    let parts = describe_error_js(error);
    let part = |i| item(&parts, i).as_string();
    (
        part(0).unwrap_or_default(),
        part(1).unwrap_or_default(),
        part(2),
    )
}

/// The string-valued fields of an object, as pairs (none for a non-object).
pub fn string_entries(object: &JsValue) -> Vec<(String, String)> {
    // Pairs taken by a loop rather than `chunks_exact`, `map` and `collect`: less code.
    let mut flat = as_strings(&string_entries_js(object)).into_iter();
    let mut pairs = Vec::new();
    while let (Some(key), Some(value)) = (flat.next(), flat.next()) {
        pairs.push((key, value));
    }
    pairs
}

/// An array of strings, or `None` for anything else.
pub fn strings(array: &JsValue) -> Option<Vec<String>> {
    let array = strings_js(array);
    (!array.is_undefined()).then(|| as_strings(&array))
}

/// An array of JavaScript strings (as the snippets make them: strings
/// only) as Rust ones. The snippets hand strings over as `JsValue`s: a
/// vector of `String`s would cost its own conversion code.
fn as_strings(array: &JsValue) -> Vec<String> {
    let mut strings = Vec::new();
    while let Some(s) = item(array, strings.len() as u32).as_string() {
        strings.push(s);
    }
    strings
}

/// The current time from `Date.now()`.
pub fn now() -> ff_telemetry_wire::UnixMs {
    ff_telemetry_wire::UnixMs(date_now().max(0.0) as u64)
}

/// The page as the PostHog client needs it.
pub fn page_env() -> PageEnv {
    // One array rather than an object with a getter each: every getter would
    // be an import with its own glue.
    let parts = page_env_js();
    let part = |i| item(&parts, i);
    let text = |i| part(i).as_string();
    let px = |i| part(i).as_f64().map(|v| v as u32);
    PageEnv {
        location_href: text(0).unwrap_or_default(),
        title: text(1),
        referrer: text(2),
        screen_width: px(3),
        screen_height: px(4),
        viewport_width: px(5),
        viewport_height: px(6),
        language: text(7),
        timezone: text(8),
        user_agent: text(9),
        do_not_track: part(10).as_bool() == Some(true),
    }
}

/// Where the reader is scrolled to, for scroll depth: two numbers, each
/// from an import of its own (an array would need unpacking).
pub fn scroll_sample() -> ff_telemetry_browser::posthog::ScrollSample {
    ff_telemetry_browser::posthog::ScrollSample {
        viewport_bottom: viewport_bottom(),
        content_height: content_height(),
    }
}

/// A string argument, or `None` for anything else.
pub fn string_arg(value: &JsValue) -> Option<String> {
    value.as_string()
}

/// Whether an optional argument is missing or a plain object (warns otherwise).
pub fn object_arg_ok(value: &JsValue, name: &str) -> bool {
    let ok = value.is_undefined() || value.is_null() || is_object_js(value);
    if !ok {
        warn_with(name, "must be an object; ignored");
    }
    ok
}

/// What the caller adds to an event, each `undefined` when not given.
#[derive(Debug)]
pub struct UserProperties<'a> {
    /// Event properties (the SDK's own win on a clash).
    pub properties: &'a JsValue,
    /// Extra `$groups` for this event.
    pub groups: &'a JsValue,
    /// `$set` person properties.
    pub set: &'a JsValue,
    /// `$set_once` person properties.
    pub set_once: &'a JsValue,
    /// `$group_set` group properties.
    pub group_set: &'a JsValue,
}

/// `event` (the JSON text core wrote) as it is queued and sent: its
/// properties merged with the caller's in JavaScript.
pub fn event_json(event: &str, user: &UserProperties<'_>) -> Result<String, WebError> {
    merge_props_js(
        event,
        user.properties,
        user.groups,
        user.set,
        user.set_once,
        user.group_set,
    )
    .as_string()
    .ok_or_else(|| WebError::Shape("properties cannot be written as JSON".to_owned()))
}

/// JSON text parsed into a JavaScript value. Parsed by a snippet that
/// catches, as a `catch` import costs wasm-bindgen's exception glue.
pub fn parse_json(text: &str) -> Result<JsValue, WebError> {
    let parts = parse_json_js(text);
    let value = item(&parts, 1);
    match item(&parts, 0).as_bool() {
        Some(true) => Ok(value),
        _ => Err(WebError::Js(value.as_string().unwrap_or_default())),
    }
}

/// The fields of one part of the config (`posthog`, `sentry`, or the top
/// level), read one by one so no JSON deserialiser enters the build; errors
/// name the field.
///
/// A field of the wrong type reads as its default and the first such error
/// is kept for [`ConfigFields::check`]: one check at the end rather than a
/// `?` per field, each of which would need code to drop the fields read so far.
#[derive(Debug)]
pub struct ConfigFields {
    object: JsValue,
    /// `posthog`, `sentry` or empty (the top level), for error messages.
    part: &'static str,
    /// The first problem met: the field, and what is wrong with it (e.g.
    /// `" must be a string"`), joined into a message only by
    /// [`ConfigFields::check`].
    error: Option<(&'static str, &'static str)>,
}

impl ConfigFields {
    /// `config[name]`, `None` when it is missing or null.
    pub fn part(config: &JsValue, name: &'static str) -> Result<Option<Self>, String> {
        let object = field(config, name);
        if object.is_undefined() || object.is_null() {
            return Ok(None);
        }
        if !is_object(&object) {
            return Err(concat(&[name, " must be an object"]));
        }
        Ok(Some(ConfigFields {
            object,
            part: name,
            error: None,
        }))
    }

    /// The top level of the config.
    pub fn top(config: &JsValue) -> Self {
        ConfigFields {
            object: config.clone(),
            part: "",
            error: None,
        }
    }

    /// The first error met, if any (not generic over what was read, so one
    /// copy serves every part of the config).
    pub fn check(self) -> Result<(), String> {
        let Some((name, problem)) = self.error else {
            return Ok(());
        };
        let dot = if self.part.is_empty() { "" } else { "." };
        Err(concat(&[self.part, dot, name, problem]))
    }

    /// Records that field `name` has `problem` (e.g. `" is missing"`) unless
    /// an earlier problem is kept already.
    pub fn fail(&mut self, name: &'static str, problem: &'static str) {
        self.error.get_or_insert((name, problem));
    }

    /// A string, `default` when missing (an error when there is none).
    pub fn string(&mut self, name: &'static str, default: Option<&str>) -> String {
        match self.opt_string(name) {
            Some(s) => s,
            None => match default {
                Some(default) => default.to_owned(),
                None => {
                    self.fail(name, " is missing");
                    String::new()
                }
            },
        }
    }

    /// A string, or `None` when missing or null.
    pub fn opt_string(&mut self, name: &'static str) -> Option<String> {
        self.read(name, " must be a string", JsValue::as_string)
    }

    /// `true` or `false`, `default` when missing or null.
    pub fn flag(&mut self, name: &'static str, default: bool) -> bool {
        self.read(name, " must be true or false", JsValue::as_bool)
            .unwrap_or(default)
    }

    /// A number, or `None` when missing or null.
    pub fn opt_number(&mut self, name: &'static str) -> Option<f64> {
        self.read(name, " must be a number", JsValue::as_f64)
    }

    /// An array of strings, empty when missing or null.
    pub fn strings(&mut self, name: &'static str) -> Vec<String> {
        self.read(name, " must be an array of strings", strings)
            .unwrap_or_default()
    }

    /// Field `name` converted, `None` when it is missing or null, or (with
    /// `problem` recorded) when it does not convert.
    fn read<T>(
        &mut self,
        name: &'static str,
        problem: &'static str,
        convert: impl Fn(&JsValue) -> Option<T>,
    ) -> Option<T> {
        let value = field(&self.object, name);
        if value.is_undefined() || value.is_null() {
            return None;
        }
        let converted = convert(&value);
        if converted.is_none() {
            self.fail(name, problem);
        }
        converted
    }
}

/// Whether `value` is a plain object (not null, not an array).
pub fn is_object(value: &JsValue) -> bool {
    is_object_js(value)
}
