//! The JavaScript API: `init()` and the methods of the handle it returns,
//! each its own typed export.
//!
//! Nothing here throws: arguments of the wrong type are ignored with a console
//! warning, internal errors become warnings, and a Rust panic switches the SDK
//! off for the page.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use ff_telemetry_browser::posthog::{
    AppProperties, CONSENT_KEY, Members, consent_at_start, decision_text,
};
use ff_telemetry_wire::sentry::Level;
use ff_telemetry_wire::{Consent, Value};
use js_sys::Promise;
use wasm_bindgen::prelude::*;

use crate::config::{self, ClientOptions};
use crate::js::{self, warn, warn_with};
use crate::panic::guarded;
use crate::posthog::{AppCall, PosthogClient, PosthogOptions};
use crate::sentry::SentryClient;

/// The telemetry handle of one page: PostHog and browser Sentry.
///
/// Every handle of a page shares the same clients: `init` while a handle is
/// alive returns another handle to them. Dropping the last one (`free()` in
/// JavaScript) removes their listeners and timers.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Telemetry {
    /// `None` once the handle is freed.
    clients: RefCell<Option<Rc<Clients>>>,
}

/// The page's running clients.
#[derive(Debug, Default)]
struct Clients {
    posthog: Option<Rc<PosthogClient>>,
    sentry: Option<Rc<SentryClient>>,
    /// The options they started with, with the consent in force.
    options: Cell<ClientOptions>,
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

// The config's and the properties' TypeScript: npm/config.d.ts, which the npm
// package's index.d.ts imports too, so it is written once.
#[wasm_bindgen(typescript_custom_section)]
const TELEMETRY_CONFIG_TS: &str = include_str!("../../../npm/config.d.ts");

/// Starts telemetry for this page and returns its handle.
///
/// `config` is the platform's frontend config, `{posthog: {apikey, apiurl,
/// capture_pageview}, sentry: {dsn, environment, release, production_mode,
/// report_localhost, traces_sample_rate, ignore_errors}}`, optionally with
/// `persistence` (`"localStorage"` or `"memory"`), `respect_dnt`,
/// `cookieless`, `consent` (`"granted"`, the default, `"pending"` or
/// `"denied"`: see `consent`) and `consent_denied` (`"cookieless"` or
/// `"nothing"`). Without it, the JSON in `<script type="application/json"
/// id="ff-telemetry-config">` is read. Without PostHog settings the PostHog
/// methods are no-ops (one warning); without a Sentry DSN, Sentry is off
/// (silently); a field of the wrong type switches its part off (one warning
/// naming the field). Called again while a handle is alive, it returns
/// another handle to the running telemetry (one warning; the new config is
/// not read).
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
#[wasm_bindgen]
pub fn init(
    #[wasm_bindgen(unchecked_optional_param_type = "TelemetryConfig")] config: Option<JsValue>,
) -> Telemetry {
    if let Some(clients) = running_clients() {
        warn("telemetry already runs: init() returns it again, config ignored");
        return Telemetry::new(clients);
    }
    let mut clients = Clients::default();
    let mut config = Some(config);
    guarded(|| {
        let Some(config) = config::given_or_from_page(config.take().flatten()) else {
            return;
        };
        let mut options = match config::client_options(&config) {
            Ok(options) => options,
            Err(e) => return warn_with("telemetry is off:", &e),
        };
        let decided = options.may_store().then(|| js::storage_get(CONSENT_KEY));
        options.consent = consent_at_start(options.consent, decided.flatten().as_deref());
        clients.options.set(options);
        // Sentry first, so that it reports a panic while PostHog starts.
        clients.sentry = start_sentry(&config, options);
        clients.posthog = start_posthog(&config, options);
    });
    let clients = Rc::new(clients);
    RUNNING.set(Rc::downgrade(&clients));
    Telemetry::new(clients)
}

fn start_posthog(config: &JsValue, options: ClientOptions) -> Option<Rc<PosthogClient>> {
    let started = config::posthog(config).and_then(|posthog| {
        let Some(posthog) = posthog else {
            warn("PostHog is not configured: PostHog calls do nothing");
            return Ok(None);
        };
        PosthogClient::start(PosthogOptions {
            config: posthog,
            options,
        })
        .map(Some)
    });
    // One place for both kinds of error: a bad config and a refused start.
    started.unwrap_or_else(|e| {
        warn_with("PostHog is off:", &e);
        None
    })
}

fn start_sentry(config: &JsValue, options: ClientOptions) -> Option<Rc<SentryClient>> {
    if !cfg!(feature = "sentry") {
        // Nothing else reaches Sentry's code: the build leaves it out.
        if !js::field(config, "sentry").is_undefined() {
            warn("Sentry is not in this build: the sentry config is ignored");
        }
        return None;
    }
    let sentry = match config::sentry(config) {
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

/// How long `flush()` waits at most, in milliseconds.
const FLUSH_TIMEOUT_MS: f64 = 10_000.0;
/// How often `flush()` looks whether the clients are done, in milliseconds.
const FLUSH_POLL_MS: i32 = 25;

#[wasm_bindgen]
impl Telemetry {
    /// The app's router moved: `$pageleave` for the page left and `$pageview`
    /// for `to` (a path such as `to.fullPath`, or a URL). `from` is accepted
    /// for router hooks that pass it; the SDK already knows the page it left.
    /// `template` is the route the router matched (`/instances/:id`), if any:
    /// page events carry it as `route_template`, and Sentry names
    /// transactions and events by it (source `route`; without one, by the
    /// path, source `url`). A navigation the History hooks already reported
    /// is not counted twice. For Sentry, `to` becomes the route (`route` tag)
    /// of later events and a breadcrumb, and maybe a navigation transaction.
    ///
    /// ```js
    /// router.afterEach((to, from) =>
    ///   telemetry.routeChanged(to.fullPath, from.fullPath, to.matched.at(-1)?.path));
    /// ```
    #[wasm_bindgen(js_name = routeChanged)]
    pub fn route_changed(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] to: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "string")] from: Option<JsValue>,
        #[wasm_bindgen(unchecked_optional_param_type = "string")] template: Option<JsValue>,
    ) {
        let _ = from;
        let c = self.clients();
        guarded(|| {
            let template = template.as_ref().and_then(JsValue::as_string);
            let template = template.as_deref();
            if let Some(p) = c.posthog() {
                p.route_changed(&to, template);
            }
            if let (Some(s), Some(to)) = (c.sentry(), to.as_string()) {
                s.route_changed(&to, template);
            }
        });
    }

    /// A navigation began (the router's `beforeEach`): the Sentry navigation
    /// transaction of the next `routeChanged` lasts from here. Optional.
    #[wasm_bindgen(js_name = navigationStarted)]
    pub fn navigation_started(&self) {
        let c = self.clients();
        guarded(|| {
            if let Some(s) = c.sentry() {
                s.navigation_started();
            }
        });
    }

    /// Captures `event` with optional `properties` and `groups` (`{type: key}`).
    pub fn capture(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] event: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "Properties")] properties: Option<JsValue>,
        #[wasm_bindgen(unchecked_optional_param_type = "Record<string, string>")] groups: Option<
            JsValue,
        >,
    ) {
        let c = self.clients();
        guarded(|| {
            let Some(name) = event.as_string() else {
                return warn("capture(event): event must be a string; ignored");
            };
            let Some(p) = c.posthog() else { return };
            let (Ok(properties), Ok(groups)) = (
                properties_arg(&properties, "capture properties"),
                properties_arg(&groups, "capture groups"),
            ) else {
                return;
            };
            let user = AppProperties {
                properties,
                groups,
                ..AppProperties::default()
            };
            p.app_event(AppCall::Capture(&name), user);
        });
    }

    /// Identifies the user as `distinctId`, with optional person properties to
    /// set (`set`) and to set once (`setOnce`). Sentry events carry the id
    /// (and nothing else about the user).
    pub fn identify(
        &self,
        #[wasm_bindgen(js_name = distinctId, unchecked_param_type = "string")] distinct_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "Properties")] set: Option<JsValue>,
        #[wasm_bindgen(js_name = setOnce, unchecked_optional_param_type = "Properties")]
        set_once: Option<JsValue>,
    ) {
        let c = self.clients();
        guarded(|| {
            let Some(id) = distinct_id.as_string() else {
                return warn("identify(distinctId): distinctId must be a string; ignored");
            };
            if let Some(p) = c.posthog() {
                let (Ok(set), Ok(set_once)) = (
                    properties_arg(&set, "identify set"),
                    properties_arg(&set_once, "identify setOnce"),
                ) else {
                    return;
                };
                let user = AppProperties {
                    set,
                    set_once,
                    ..AppProperties::default()
                };
                p.app_event(AppCall::Identify(&id), user);
            }
            if let Some(s) = c.sentry() {
                s.set_user(Some(&id));
            }
        });
    }

    /// Puts the user in group `key` of `type` (e.g. `"team"`), with optional
    /// group properties; later events carry `$groups`.
    pub fn group(
        &self,
        #[wasm_bindgen(js_name = type, unchecked_param_type = "string")] group_type: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "Properties")] properties: Option<JsValue>,
    ) {
        let c = self.clients();
        guarded(|| {
            let (Some(group_type), Some(key)) = (group_type.as_string(), key.as_string()) else {
                return warn("group(type, key): type and key must be strings; ignored");
            };
            let Some(p) = c.posthog() else { return };
            let Ok(group_set) = properties_arg(&properties, "group properties") else {
                return;
            };
            let user = AppProperties {
                group_set,
                ..AppProperties::default()
            };
            p.app_event(AppCall::Group(&group_type, &key), user);
        });
    }

    /// Forgets the user (on logout): new anonymous id, new session, no groups.
    pub fn reset(&self) {
        let c = self.clients();
        guarded(|| {
            if let Some(p) = c.posthog() {
                p.reset();
            }
            if let Some(s) = c.sentry() {
                s.set_user(None);
            }
        });
    }

    /// Reports `error` (an `Error`, or any value) to Sentry. `context` may
    /// give `handled: false` (nothing caught it: the session counts as
    /// crashed), a `mechanism` name (default `"generic"`) and string `tags`.
    #[wasm_bindgen(js_name = captureException)]
    pub fn capture_exception(
        &self,
        #[wasm_bindgen(unchecked_param_type = "unknown")] error: JsValue,
        #[wasm_bindgen(
            unchecked_optional_param_type = "{ handled?: boolean; mechanism?: string; tags?: Record<string, string>; [key: string]: unknown }"
        )]
        context: Option<JsValue>,
    ) {
        let c = self.clients();
        guarded(|| {
            if let Some(s) = c.sentry() {
                let context = context.clone().unwrap_or(JsValue::UNDEFINED);
                s.capture_exception(&error, &context);
            }
        });
    }

    /// Reports `message` to Sentry at `level` (`"fatal"`, `"error"`,
    /// `"warning"`, `"info"` (the default), `"debug"`).
    #[wasm_bindgen(js_name = captureMessage)]
    pub fn capture_message(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] message: JsValue,
        #[wasm_bindgen(
            unchecked_optional_param_type = "'fatal' | 'error' | 'warning' | 'info' | 'debug'"
        )]
        level: Option<JsValue>,
    ) {
        let c = self.clients();
        guarded(|| {
            let Some(message) = message.as_string() else {
                return warn("captureMessage(message): message must be a string; ignored");
            };
            let level = level
                .as_ref()
                .and_then(JsValue::as_string)
                .and_then(|l| Level::from_name(&l))
                .unwrap_or_default();
            if let Some(s) = c.sentry() {
                s.capture_message(&message, level);
            }
        });
    }

    /// The user's consent to tracking, as a consent banner asks for it:
    /// `consent(true)` when they accept, `consent(false)` when they refuse,
    /// `consent()` to ask only; returns the consent in force, `"pending"`
    /// (with `consent: "pending"` in the config, until the user decides),
    /// `"granted"` or `"denied"`.
    ///
    /// Accepted: normal tracking from now on, with a new stable id kept in
    /// `localStorage`; the page being viewed gets its `$pageview` if it had
    /// none. Refused: what was stored is forgotten, and tracking goes on
    /// cookieless (no stable id, nothing stored) or stops, as
    /// `consent_denied` says. Either decision is remembered across page
    /// loads (unless `persistence` is `"memory"` or `cookieless` is set).
    /// Sentry error reporting does not wait for consent.
    ///
    /// ```js
    /// acceptButton.onclick = () => telemetry.consent(true);
    /// banner.hidden = telemetry.consent() !== "pending";
    /// ```
    #[wasm_bindgen(unchecked_return_type = "'pending' | 'granted' | 'denied'")]
    pub fn consent(&self, decision: Option<bool>) -> JsValue {
        let c = self.clients();
        guarded(|| {
            let Some(granted) = decision else { return };
            let consent = if granted {
                Consent::Granted
            } else {
                Consent::Denied
            };
            let mut options = c.options.get();
            options.consent = consent;
            c.options.set(options);
            if let (true, Some(text)) = (options.may_store(), decision_text(consent)) {
                let _ = js::storage_set(CONSENT_KEY, text);
            }
            if let Some(p) = c.posthog() {
                p.set_consent(consent, options.persist());
            }
        });
        JsValue::from_str(c.options.get().consent.name())
    }

    /// Resumes capturing after `optOut()`.
    #[wasm_bindgen(js_name = optIn)]
    pub fn opt_in(&self) {
        let c = self.clients();
        guarded(|| {
            if let Some(p) = c.posthog() {
                p.opt_in();
            }
        });
    }

    /// Stops capturing and drops unsent events; remembered across page loads.
    #[wasm_bindgen(js_name = optOut)]
    pub fn opt_out(&self) {
        let c = self.clients();
        guarded(|| {
            if let Some(p) = c.posthog() {
                p.opt_out();
            }
        });
    }

    /// Whether the user opted out (false when PostHog is off).
    #[wasm_bindgen(js_name = hasOptedOut)]
    pub fn has_opted_out(&self) -> bool {
        let (c, mut opted_out) = (self.clients(), false);
        guarded(|| opted_out = c.posthog().is_some_and(|p| p.has_opted_out()));
        opted_out
    }

    /// Sends what is queued now, and returns a `Promise` that always
    /// resolves: once the queue is empty and no Sentry envelope is in flight,
    /// or a send failed (it is retried later), or after 10 s.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn flush(&self) -> Promise {
        let c = self.clients();
        let (posthog, sentry) = (c.posthog().cloned(), c.sentry().cloned());
        wasm_bindgen_futures::future_to_promise(async move {
            let deadline = js_sys::Date::now() + FLUSH_TIMEOUT_MS;
            let mut posthog_started = false;
            loop {
                let mut busy = false;
                guarded(|| {
                    // PostHog first, then Sentry's envelope in flight.
                    busy = posthog
                        .as_ref()
                        .is_some_and(|p| p.flush_step(&mut posthog_started))
                        || sentry.as_ref().is_some_and(|s| s.is_sending());
                });
                if !busy || js_sys::Date::now() >= deadline {
                    return Ok(JsValue::UNDEFINED);
                }
                js::sleep(FLUSH_POLL_MS).await;
            }
        })
    }

    /// Stops using this handle: the clients' listeners and timers are
    /// removed once no other handle of the page uses them. Safe to call
    /// twice, and from inside one of the handle's own calls (a listener of
    /// the page's that the call triggered): the clients then stop when that
    /// call returns. The handle's methods do nothing afterwards.
    #[wasm_bindgen(js_name = free)]
    pub fn release(&self) {
        drop(self.clients.take());
    }
}

impl Telemetry {
    fn new(clients: Rc<Clients>) -> Self {
        Telemetry {
            clients: RefCell::new(Some(clients)),
        }
    }

    /// The page's running clients; none once the handle is freed. A clone,
    /// so that `free()` inside a call leaves them running to its end.
    fn clients(&self) -> Rc<Clients> {
        self.clients.borrow().clone().unwrap_or_default()
    }

    /// Adds a `window` listener for the event `name` that panics, to test
    /// that a panic where the browser calls the SDK is caught, reported, and
    /// switches the SDK off. Only in builds with the `test-hooks` feature.
    #[cfg(feature = "test-hooks")]
    #[doc(hidden)]
    pub fn panic_on_event_for_test(&self, name: &'static str) {
        crate::listeners::Listeners::default().add(name, |_| panic!("test panic"));
    }
}

/// An optional object argument as properties: `Ok(None)` when missing
/// (`undefined` or `null`), `Err` (after a warning naming the argument) when
/// it is not an object or cannot be written as JSON.
///
/// The object goes through `JSON.parse(JSON.stringify(…))` first: what
/// PostHog receives is JSON, so properties follow JSON's rules (`toJSON`,
/// functions and `undefined` left out), and a circular object or a `BigInt`
/// is refused there with an exception rather than recursing in the module.
fn properties_arg(value: &Option<JsValue>, name: &str) -> Result<Option<Members>, ()> {
    let Some(value) = value.as_ref().filter(|v| !v.is_undefined() && !v.is_null()) else {
        return Ok(None);
    };
    let mut members = None;
    // An array is an object to JavaScript, not to PostHog.
    if js::is_object(value) {
        let plain = js::json_copy(value).map_err(|e| warn_with(name, &e))?;
        match serde_wasm_bindgen::from_value(plain) {
            Ok(Value::Object(object)) => members = Some(object),
            Ok(_) => {}
            Err(e) => {
                warn_with(name, &js::error_message(&e.into()));
                return Err(());
            }
        }
    }
    members
        .map(Some)
        .ok_or_else(|| warn_with(name, "must be an object; ignored"))
}

impl Clients {
    /// The PostHog client, `None` when PostHog is not configured.
    fn posthog(&self) -> Option<&Rc<PosthogClient>> {
        self.posthog.as_ref()
    }

    /// The Sentry client, `None` when Sentry is not configured or not in this
    /// build.
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
