//! The JavaScript API: `init()` and the methods of the handle it returns.
//!
//! Nothing here throws: arguments of the wrong type are ignored with a console
//! warning, internal errors become warnings, and a Rust panic switches the SDK
//! off for the page.

use std::cell::Cell;
use std::rc::{Rc, Weak};

use ff_telemetry_wire::DEFAULT_POSTHOG_URL;
use ff_telemetry_wire::sentry::Level;
use ff_telemetry_wire::{FrontendPosthog, FrontendSentry, UNKNOWN_ENVIRONMENT};
use wasm_bindgen::prelude::*;

use crate::js::{self, ConfigFields, warn, warn_with};
use crate::panic::guarded;
use crate::posthog::{AppCall, Persistence, PosthogClient, PosthogOptions};
use crate::sentry::SentryClient;

/// [`CONFIG_ELEMENT_ID`] as a literal, so warnings that name it are built by
/// `concat!` at compile time rather than joined at run time.
macro_rules! config_element_id {
    () => {
        "ff-telemetry-config"
    };
}

/// The `id` of the `<script type="application/json">` element `init()` reads
/// when given no config.
pub const CONFIG_ELEMENT_ID: &str = config_element_id!();

/// The telemetry handle of one page: PostHog and browser Sentry.
///
/// Every handle of a page shares the same clients: `init` while a handle is
/// alive returns another handle to them. Dropping the last one (`free()` in
/// JavaScript) removes their listeners and timers.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Telemetry {
    clients: Rc<Clients>,
}

/// The page's running clients.
#[derive(Debug, Default)]
struct Clients {
    posthog: Option<Rc<PosthogClient>>,
    sentry: Option<Rc<SentryClient>>,
}

thread_local! {
    /// The clients the page's live handles share: a second set would capture
    /// every navigation twice and overwrite the first one's stored queue.
    static RUNNING: Cell<Weak<Clients>> = const { Cell::new(Weak::new()) };
}

/// The clients of a live handle, when one runs at least one client.
fn running_clients() -> Option<Rc<Clients>> {
    let weak = RUNNING.take();
    let clients = weak.upgrade();
    RUNNING.set(weak);
    clients.filter(|c| c.posthog.is_some() || c.sentry.is_some())
}

#[wasm_bindgen(typescript_custom_section)]
const TELEMETRY_CONFIG_TS: &str = r#"
/** The platform's frontend config (`FrontendConfig` in ff-telemetry-core) plus client options. */
export interface TelemetryConfig {
  posthog?: { apikey: string; apiurl?: string; capture_pageview?: boolean };
  sentry?: {
    dsn: string; environment?: string; release?: string; production_mode?: boolean;
    /** Report errors from pages on localhost / 127.0.0.1 (default false). */
    report_localhost?: boolean;
    /** Navigation transactions sampled (default 0.05 in production mode, else 0.5). */
    traces_sample_rate?: number;
    /** Errors whose `Type: message` contains one of these are not reported. */
    ignore_errors?: string[];
  };
  /** Where ids, the opt-out choice and unsent events are kept (default `"localStorage"`). */
  persistence?: "localStorage" | "memory";
  /** Treat the browser's Do Not Track signal as an opt-out (default false). */
  respect_dnt?: boolean;
  /** Store nothing and use no stable id (default false). */
  cookieless?: boolean;
}
"#;

/// Starts telemetry for this page and returns its handle, for Rust callers:
/// what the JavaScript `init` export does, with the same `config` (typed as
/// `TelemetryConfig` in the package's `.d.ts`).
pub fn init(config: Option<JsValue>) -> Telemetry {
    start(&config.unwrap_or(JsValue::UNDEFINED))
}

/// [`init`] with the config borrowed (`undefined` when not given).
fn start(config: &JsValue) -> Telemetry {
    if let Some(clients) = running_clients() {
        warn("telemetry already runs: init() returns it again, config ignored");
        return Telemetry { clients };
    }
    let mut clients = Clients::default();
    guarded(|| {
        // Borrowed rather than cloned when given: a clone of a `JsValue` is a
        // call into JavaScript and a table slot.
        let from_page;
        let config = if config.is_undefined() || config.is_null() {
            from_page = config_from_page();
            let Some(config) = &from_page else { return };
            config
        } else {
            config
        };
        let options = match ClientOptions::read(config) {
            Ok(options) => options,
            Err(e) => return warn_with("telemetry is off:", &e),
        };
        // Sentry first, so that it reports a panic while PostHog starts.
        clients.sentry = start_sentry(config, &options);
        clients.posthog = start_posthog(config, options);
    });
    let clients = Rc::new(clients);
    RUNNING.set(Rc::downgrade(&clients));
    Telemetry { clients }
}

/// Starts telemetry for this page and returns its handle.
///
/// `config` is the platform's frontend config, `{posthog: {apikey, apiurl,
/// capture_pageview}, sentry: {dsn, environment, release, production_mode,
/// report_localhost, traces_sample_rate, ignore_errors}}`, optionally with
/// `persistence` (`"localStorage"` or `"memory"`), `respect_dnt` and
/// `cookieless`. Without it, the JSON in `<script type="application/json"
/// id="ff-telemetry-config">` is read. Without PostHog settings the PostHog
/// methods are no-ops (one warning); without a Sentry DSN, Sentry is off
/// (silently), and with an invalid one too (one warning). Called again while
/// a handle is alive, it returns another handle to the running telemetry
/// (one warning; the new config is not read).
///
/// ```js
/// import initWasm, { init } from "ff-telemetry-web";
/// await initWasm();
/// const telemetry = init({
///   posthog: { apikey: "phc_…", apiurl: "https://eu.posthog.com", capture_pageview: false },
///   sentry: { dsn: "https://key@o1.ingest.sentry.io/42", environment: "production", release: "flowfuse@2.11.0" },
/// });
/// router.afterEach((to, from) => telemetry.routeChanged(to.fullPath, from.fullPath));
/// ```
#[wasm_bindgen(js_name = init, unchecked_return_type = "Telemetry")]
pub fn init_for_js(
    #[wasm_bindgen(unchecked_optional_param_type = "TelemetryConfig")] config: &JsValue,
) -> JsValue {
    js::with_methods(start(config).into(), JS_METHODS)
}

/// The handle's JavaScript methods, numbered by their place here for
/// [`Telemetry::invoke`]. One export for all of them: each export costs its own
/// argument conversion and borrow check, in the module and in the glue.
const JS_METHODS: &str = "routeChanged navigationStarted capture identify group reset \
    captureException captureMessage optIn optOut hasOptedOut flush";

#[wasm_bindgen(typescript_custom_section)]
const TELEMETRY_METHODS_TS: &str = r#"
export interface Telemetry {
  /** The app's router moved: `$pageleave` for the page left, `$pageview` for `to`. */
  routeChanged(to: string, from?: string): void;
  /** A navigation began: Sentry times the navigation until the next `routeChanged`. */
  navigationStarted(): void;
  /** Captures `event` with optional properties and groups (`{type: key}`). */
  capture(event: string, properties?: Record<string, unknown>, groups?: Record<string, string>): void;
  /** Identifies the user, with optional person properties to set and to set once. */
  identify(distinctId: string, set?: Record<string, unknown>, setOnce?: Record<string, unknown>): void;
  /** Puts the user in group `key` of `type`, with optional group properties. */
  group(type: string, key: string, properties?: Record<string, unknown>): void;
  /** Forgets the user (on logout): new anonymous id, new session, no groups. */
  reset(): void;
  /** Reports an error to Sentry (`handled: false`: the session counts as crashed). */
  captureException(error: unknown, context?: { handled?: boolean; mechanism?: string; tags?: Record<string, string>; [key: string]: unknown }): void;
  /** Reports a message to Sentry at `level` (default `"info"`). */
  captureMessage(message: string, level?: "fatal" | "error" | "warning" | "info" | "debug"): void;
  /** Resumes capturing after `optOut()`. */
  optIn(): void;
  /** Stops capturing and drops unsent events; remembered across page loads. */
  optOut(): void;
  /** Whether the user opted out. */
  hasOptedOut(): boolean;
  /** Sends what is queued now; always resolves (at the latest after 10 s). */
  flush(): Promise<void>;
}
"#;

/// How long `flush()` waits at most, in milliseconds.
const FLUSH_TIMEOUT_MS: u32 = 10_000;

/// The top-level options every integration follows.
#[derive(Debug, Clone, Copy)]
struct ClientOptions {
    persistence: Persistence,
    respect_dnt: bool,
    cookieless: bool,
}

impl ClientOptions {
    fn read(config: &JsValue) -> Result<Self, String> {
        let mut top = ConfigFields::top(config);
        let persistence = match top.opt_string("persistence").as_deref() {
            None | Some("localStorage") => Persistence::LocalStorage,
            Some("memory") => Persistence::Memory,
            Some(_) => {
                top.fail("persistence", " must be \"localStorage\" or \"memory\"");
                Persistence::LocalStorage
            }
        };
        let options = ClientOptions {
            persistence,
            respect_dnt: top.flag("respect_dnt", false),
            cookieless: top.flag("cookieless", false),
        };
        top.check()?;
        Ok(options)
    }

    /// Whether anything may be kept in `localStorage`.
    fn persist(self) -> bool {
        !self.cookieless && self.persistence == Persistence::LocalStorage
    }
}

fn start_posthog(config: &JsValue, options: ClientOptions) -> Option<Rc<PosthogClient>> {
    let started = posthog_config(config).and_then(|posthog| {
        let Some(posthog) = posthog else {
            warn("PostHog is not configured: PostHog calls do nothing");
            return Ok(None);
        };
        PosthogClient::start(PosthogOptions {
            config: posthog,
            persistence: options.persistence,
            respect_dnt: options.respect_dnt,
            cookieless: options.cookieless,
        })
        .map(Some)
    });
    // One place for both kinds of error: a bad config and a refused start.
    started.unwrap_or_else(|e| {
        warn_with("PostHog is off:", &e);
        None
    })
}

/// `posthog` as `ff_telemetry_wire::FrontendPosthog` serialises.
fn posthog_config(config: &JsValue) -> Result<Option<FrontendPosthog>, String> {
    let Some(mut posthog) = ConfigFields::part(config, "posthog")? else {
        return Ok(None);
    };
    let config = FrontendPosthog {
        apikey: posthog.string("apikey", None),
        apiurl: posthog.string("apiurl", Some(DEFAULT_POSTHOG_URL)),
        capture_pageview: posthog.flag("capture_pageview", true),
    };
    posthog.check()?;
    Ok(Some(config))
}

fn start_sentry(config: &JsValue, options: &ClientOptions) -> Option<Rc<SentryClient>> {
    if !cfg!(feature = "sentry") {
        // Nothing else reaches Sentry's code: the build leaves it out.
        if !js::field(config, "sentry").is_undefined() {
            warn("Sentry is not in this build: the sentry config is ignored");
        }
        return None;
    }
    let sentry = match sentry_config(config) {
        Ok(sentry) => sentry?,
        Err(e) => {
            warn_with("Sentry is off:", &e);
            return None;
        }
    };
    SentryClient::start(&sentry, options.persist())
        .map_err(|e| warn_with("Sentry is off:", &e.message()))
        .ok()
}

/// `sentry` as `ff_telemetry_wire::FrontendSentry` serialises; `None` without
/// a DSN.
fn sentry_config(config: &JsValue) -> Result<Option<FrontendSentry>, String> {
    let Some(mut sentry) = ConfigFields::part(config, "sentry")? else {
        return Ok(None);
    };
    let dsn = sentry.opt_string("dsn").unwrap_or_default();
    if dsn.is_empty() {
        // No DSN (or one that is not a string: that error is returned).
        sentry.check()?;
        return Ok(None);
    }
    let config = FrontendSentry {
        dsn,
        production_mode: sentry.flag("production_mode", false),
        environment: sentry.string("environment", Some(UNKNOWN_ENVIRONMENT)),
        release: sentry.opt_string("release"),
        report_localhost: sentry.flag("report_localhost", false),
        traces_sample_rate: sentry.opt_number("traces_sample_rate"),
        ignore_errors: sentry.strings("ignore_errors"),
    };
    sentry.check()?;
    Ok(Some(config))
}

fn config_from_page() -> Option<JsValue> {
    let Some(text) = js::config_text(CONFIG_ELEMENT_ID) else {
        warn(concat!(
            "no config given and no #",
            config_element_id!(),
            " element: telemetry is off"
        ));
        return None;
    };
    js::parse_json(&text)
        .map_err(|e| {
            let what = concat!("#", config_element_id!(), " is not JSON:");
            warn_with(what, e.message())
        })
        .ok()
}

#[wasm_bindgen]
impl Telemetry {
    /// Runs the JavaScript method numbered `method` (its place in the list
    /// of names the handle's prototype gets) with its arguments (`undefined`
    /// when not given).
    #[wasm_bindgen(skip_typescript)]
    pub fn invoke(&self, method: u32, a: &JsValue, b: &JsValue, c: &JsValue) -> JsValue {
        match METHODS.get(method as usize) {
            Some(Method::Flush) => self.flush(),
            // A boolean even when the SDK is off (`call` then answers undefined).
            Some(Method::HasOptedOut) => JsValue::from_bool(self.has_opted_out()),
            Some(&method) => self.call(method, a, b, c),
            None => JsValue::UNDEFINED,
        }
    }
}

/// The methods of the handle, in the order of [`JS_METHODS`] (a test checks
/// that the names agree).
#[derive(Debug, Clone, Copy)]
enum Method {
    RouteChanged,
    NavigationStarted,
    Capture,
    Identify,
    Group,
    Reset,
    CaptureException,
    CaptureMessage,
    OptIn,
    OptOut,
    HasOptedOut,
    Flush,
}

/// [`Method`]s by their number in [`JS_METHODS`].
const METHODS: [Method; 12] = [
    Method::RouteChanged,
    Method::NavigationStarted,
    Method::Capture,
    Method::Identify,
    Method::Group,
    Method::Reset,
    Method::CaptureException,
    Method::CaptureMessage,
    Method::OptIn,
    Method::OptOut,
    Method::HasOptedOut,
    Method::Flush,
];

/// The API, for Rust callers; JavaScript reaches it through
/// [`Telemetry::invoke`] under the names in `JS_METHODS`. Each method is
/// one guarded `Telemetry::call`.
impl Telemetry {
    /// The app's router moved: `$pageleave` for the page left and `$pageview`
    /// for `to` (a path such as `to.fullPath`, or a URL). `from` is accepted
    /// for router hooks that pass it; the SDK already knows the page it left.
    /// A navigation the History hooks already reported is not counted twice.
    /// For Sentry, `to` becomes the route (`transaction` and `route` tag) of
    /// later events and a breadcrumb, and maybe a navigation transaction.
    pub fn route_changed(&self, to: JsValue, from: Option<JsValue>) {
        let _ = from;
        self.call(Method::RouteChanged, &to, &UNDEFINED, &UNDEFINED);
    }

    /// A navigation began (the router's `beforeEach`): the Sentry navigation
    /// transaction of the next `routeChanged` lasts from here. Optional.
    pub fn navigation_started(&self) {
        self.call(
            Method::NavigationStarted,
            &UNDEFINED,
            &UNDEFINED,
            &UNDEFINED,
        );
    }

    /// Captures `event` with optional `properties` and `groups` (`{type: key}`).
    pub fn capture(&self, event: JsValue, properties: Option<JsValue>, groups: Option<JsValue>) {
        let (properties, groups) = (or_undefined(properties), or_undefined(groups));
        self.call(Method::Capture, &event, &properties, &groups);
    }

    /// Identifies the user as `distinctId`, with optional person properties to
    /// set (`set`) and to set once (`setOnce`). Sentry events carry the id
    /// (and nothing else about the user).
    pub fn identify(&self, distinct_id: JsValue, set: Option<JsValue>, set_once: Option<JsValue>) {
        let (set, set_once) = (or_undefined(set), or_undefined(set_once));
        self.call(Method::Identify, &distinct_id, &set, &set_once);
    }

    /// Puts the user in group `key` of `type` (e.g. `"team"`), with optional
    /// group properties; later events carry `$groups`.
    pub fn group(&self, group_type: JsValue, group_key: JsValue, properties: Option<JsValue>) {
        let properties = or_undefined(properties);
        self.call(Method::Group, &group_type, &group_key, &properties);
    }

    /// Forgets the user (on logout): new anonymous id, new session, no groups.
    pub fn reset(&self) {
        self.call(Method::Reset, &UNDEFINED, &UNDEFINED, &UNDEFINED);
    }

    /// Reports `error` (an `Error`, or any value) to Sentry. `context` may
    /// give `handled: false` (nothing caught it: the session counts as
    /// crashed), a `mechanism` name (default `"generic"`) and string `tags`.
    pub fn capture_exception(&self, error: JsValue, context: Option<JsValue>) {
        let context = or_undefined(context);
        self.call(Method::CaptureException, &error, &context, &UNDEFINED);
    }

    /// Reports `message` to Sentry at `level` (`"fatal"`, `"error"`,
    /// `"warning"`, `"info"` (the default), `"debug"`).
    pub fn capture_message(&self, message: JsValue, level: Option<JsValue>) {
        let level = or_undefined(level);
        self.call(Method::CaptureMessage, &message, &level, &UNDEFINED);
    }

    /// Resumes capturing after `optOut()`.
    pub fn opt_in(&self) {
        self.call(Method::OptIn, &UNDEFINED, &UNDEFINED, &UNDEFINED);
    }

    /// Stops capturing and drops unsent events; remembered across page loads.
    pub fn opt_out(&self) {
        self.call(Method::OptOut, &UNDEFINED, &UNDEFINED, &UNDEFINED);
    }

    /// Whether the user opted out.
    pub fn has_opted_out(&self) -> bool {
        self.call(Method::HasOptedOut, &UNDEFINED, &UNDEFINED, &UNDEFINED)
            .as_bool()
            == Some(true)
    }

    /// Sends what is queued now, and returns a `Promise` that always
    /// resolves: once the queue is empty and no Sentry envelope is in flight,
    /// or a send failed (it is retried later), or after 10 s.
    ///
    /// A `JsValue` rather than a `js_sys::Promise`: linking js-sys at all
    /// brings its JSPI task machinery (about 0.4 KB gzipped) into the build.
    /// Rust callers can convert it with `js_sys::Promise::from`.
    pub fn flush(&self) -> JsValue {
        let (posthog, sentry) = (self.clients.posthog.clone(), self.clients.sentry().cloned());
        let mut posthog_started = false;
        let step = move |still_busy: JsValue| {
            guarded(|| {
                // PostHog first, then Sentry's envelope in flight.
                let busy = posthog
                    .as_ref()
                    .is_some_and(|p| p.flush_step(&mut posthog_started))
                    || sentry.as_ref().is_some_and(|s| s.is_sending());
                if busy {
                    js::call(&still_busy);
                }
            });
        };
        let step = Closure::<dyn FnMut(JsValue)>::new(step).into_js_value();
        js::poll(step, FLUSH_TIMEOUT_MS)
    }

    /// Adds a `window` listener for the event `name` that panics, to test
    /// that a panic where the browser calls the SDK is caught, reported, and
    /// switches the SDK off. Only in builds with the `test-hooks` feature.
    #[cfg(feature = "test-hooks")]
    #[doc(hidden)]
    pub fn panic_on_event_for_test(&self, name: &str) {
        crate::listeners::Listeners::new().add(name, |_| panic!("test panic"));
    }

    /// Runs `method` guarded (see [`guarded`]): one guard, and one closure,
    /// for every method, rather than one per method and client. `undefined`
    /// when the SDK is off.
    fn call(&self, method: Method, a: &JsValue, b: &JsValue, c: &JsValue) -> JsValue {
        let mut result = JsValue::UNDEFINED;
        guarded(|| result = self.run(method, a, b, c));
        result
    }

    /// What each method does (see the Rust methods above); `b` and `c` are
    /// `undefined` for a method with fewer arguments.
    fn run(&self, method: Method, a: &JsValue, b: &JsValue, c: &JsValue) -> JsValue {
        let (posthog, sentry) = (self.clients.posthog.as_ref(), self.clients.sentry());
        match method {
            Method::RouteChanged => {
                if let Some(p) = posthog {
                    p.route_changed(a);
                }
                if let (Some(s), Some(to)) = (sentry, js::string_arg(a)) {
                    s.route_changed(&to);
                }
            }
            Method::NavigationStarted => {
                if let Some(s) = sentry {
                    s.navigation_started();
                }
            }
            Method::Capture => match js::string_arg(a) {
                Some(name) => {
                    if let Some(p) = posthog {
                        p.app_event(AppCall::Capture(&name), b, c);
                    }
                }
                None => warn("capture(event): event must be a string; ignored"),
            },
            Method::Identify => match js::string_arg(a) {
                Some(id) => {
                    if let Some(p) = posthog {
                        p.app_event(AppCall::Identify(&id), b, c);
                    }
                    if let Some(s) = sentry {
                        s.set_user(Some(&id));
                    }
                }
                None => warn("identify(distinctId): distinctId must be a string; ignored"),
            },
            Method::Group => match (js::string_arg(a), js::string_arg(b)) {
                (Some(ty), Some(key)) => {
                    if let Some(p) = posthog {
                        p.app_event(AppCall::Group(&ty, &key), c, &UNDEFINED);
                    }
                }
                _ => warn("group(type, key): type and key must be strings; ignored"),
            },
            Method::Reset => {
                if let Some(p) = posthog {
                    p.reset();
                }
                if let Some(s) = sentry {
                    s.set_user(None);
                }
            }
            Method::CaptureException => {
                if let Some(s) = sentry {
                    s.capture_exception(a, b);
                }
            }
            Method::CaptureMessage => match js::string_arg(a) {
                Some(message) => {
                    let level = b
                        .as_string()
                        .and_then(|l| Level::from_name(&l))
                        .unwrap_or_default();
                    if let Some(s) = sentry {
                        s.capture_message(&message, level);
                    }
                }
                None => warn("captureMessage(message): message must be a string; ignored"),
            },
            Method::OptIn => {
                if let Some(p) = posthog {
                    p.opt_in();
                }
            }
            Method::OptOut => {
                if let Some(p) = posthog {
                    p.opt_out();
                }
            }
            Method::HasOptedOut => {
                return JsValue::from_bool(posthog.is_some_and(|p| p.has_opted_out()));
            }
            // `invoke` and Rust callers call `flush` itself, unguarded: the
            // promise must come back even when the SDK is off.
            Method::Flush => {}
        }
        JsValue::UNDEFINED
    }
}

/// An optional argument as the `undefined` it was when missing.
fn or_undefined(arg: Option<JsValue>) -> JsValue {
    arg.unwrap_or(JsValue::UNDEFINED)
}

/// A missing argument.
const UNDEFINED: JsValue = JsValue::UNDEFINED;

impl Clients {
    /// The Sentry client, `None` when Sentry is not configured or not in this
    /// build (then no call reaches Sentry's code, and the build leaves it out).
    fn sentry(&self) -> Option<&Rc<SentryClient>> {
        self.sentry.as_ref().filter(|_| cfg!(feature = "sentry"))
    }
}

/// The last handle of the page is gone.
impl Drop for Clients {
    fn drop(&mut self) {
        // One guard for both: after a panic in the first, the SDK is off and
        // the second would be skipped anyway.
        guarded(|| {
            if let Some(posthog) = &self.posthog {
                posthog.detach();
            }
            if let Some(sentry) = self.sentry() {
                sentry.detach();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_method_names_follow_the_method_numbers() {
        // Split as the snippet splits them.
        let names: Vec<&str> = JS_METHODS.split(' ').collect();
        let expected: Vec<String> = METHODS
            .iter()
            .map(|method| {
                let name = format!("{method:?}");
                name[..1].to_lowercase() + &name[1..]
            })
            .collect();
        assert_eq!(names, expected);
    }
}
