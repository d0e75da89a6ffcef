//! The JavaScript API: `init()` and the methods of the handle it returns.
//!
//! Nothing here throws: arguments of the wrong type are ignored with a console
//! warning, internal errors become warnings, and a Rust panic switches the SDK
//! off for the page.

use std::rc::Rc;

use ff_telemetry_core::FrontendPosthog;
use ff_telemetry_core::config::DEFAULT_POSTHOG_URL;
use wasm_bindgen::prelude::*;

use crate::js::{self, warn};
use crate::panic::guarded;
use crate::posthog::{Persistence, PosthogClient, PosthogOptions};

/// The `id` of the `<script type="application/json">` element `init()` reads
/// when given no config.
pub const CONFIG_ELEMENT_ID: &str = "ff-telemetry-config";

/// The telemetry handle of one page: PostHog today, browser Sentry next to it.
///
/// Dropping it (`free()` in JavaScript) removes its listeners and timers.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Telemetry {
    posthog: Option<Rc<PosthogClient>>,
}

#[wasm_bindgen(typescript_custom_section)]
const TELEMETRY_CONFIG_TS: &str = r#"
/** The platform's frontend config (`FrontendConfig` in ff-telemetry-core) plus client options. */
export interface TelemetryConfig {
  posthog?: { apikey: string; apiurl?: string; capture_pageview?: boolean };
  sentry?: Record<string, unknown>;
  /** Where ids, the opt-out choice and unsent events are kept (default `"localStorage"`). */
  persistence?: "localStorage" | "memory";
  /** Treat the browser's Do Not Track signal as an opt-out (default false). */
  respect_dnt?: boolean;
  /** Store nothing and use no stable id (default false). */
  cookieless?: boolean;
}
"#;

/// Starts telemetry for this page and returns its handle.
///
/// `config` is the platform's frontend config, `{posthog: {apikey, apiurl,
/// capture_pageview}, sentry: {…}}`, optionally with `persistence`
/// (`"localStorage"` or `"memory"`), `respect_dnt` and `cookieless`. Without
/// it, the JSON in `<script type="application/json" id="ff-telemetry-config">`
/// is read. Without PostHog settings every method is a no-op (one warning).
///
/// ```js
/// import initWasm, { init } from "ff-telemetry-web";
/// await initWasm();
/// const telemetry = init({ posthog: { apikey: "phc_…", apiurl: "https://eu.posthog.com", capture_pageview: false } });
/// router.afterEach((to, from) => telemetry.routeChanged(to.fullPath, from.fullPath));
/// ```
#[wasm_bindgen(js_name = init)]
pub fn init(
    #[wasm_bindgen(unchecked_optional_param_type = "TelemetryConfig")] config: Option<JsValue>,
) -> Telemetry {
    let config = config.unwrap_or(JsValue::UNDEFINED);
    crate::panic::install_hook();
    let mut posthog = None;
    guarded(|| posthog = start_posthog(&config));
    Telemetry { posthog }
}

fn start_posthog(config: &JsValue) -> Option<Rc<PosthogClient>> {
    let config = if config.is_undefined() || config.is_null() {
        config_from_page()?
    } else {
        config.clone()
    };
    let options = match posthog_options(&config) {
        Ok(Some(options)) => options,
        Ok(None) => {
            warn("PostHog is not configured: PostHog calls do nothing");
            return None;
        }
        Err(e) => {
            warn(&format!("PostHog is off: {e}"));
            return None;
        }
    };
    PosthogClient::start(options)
        .map_err(|e| warn(&format!("PostHog is off: {e}")))
        .ok()
}

/// Reads the PostHog part of `init()`'s argument: `posthog` shaped as
/// `ff_telemetry_core::FrontendPosthog` serialises, plus the top-level client
/// options. Read field by field, so no JSON deserialiser enters the build.
fn posthog_options(config: &JsValue) -> Result<Option<PosthogOptions>, String> {
    let posthog = js::field(config, "posthog");
    if posthog.is_undefined() || posthog.is_null() {
        return Ok(None);
    }
    if !js::is_object(&posthog) {
        return Err("posthog must be an object".to_owned());
    }
    let string = |name: &str, default: Option<&str>| {
        let value = js::field(&posthog, name);
        match value.as_string() {
            Some(s) => Ok(s),
            None if value.is_undefined() => default
                .map(str::to_owned)
                .ok_or_else(|| format!("posthog.{name} is missing")),
            None => Err(format!("posthog.{name} must be a string")),
        }
    };
    let flag = |object: &JsValue, name: &str, default: bool| {
        let value = js::field(object, name);
        match value.as_bool() {
            Some(b) => Ok(b),
            None if value.is_undefined() => Ok(default),
            None => Err(format!("{name} must be true or false")),
        }
    };
    let persistence = match js::field(config, "persistence").as_string().as_deref() {
        None | Some("localStorage") => Persistence::LocalStorage,
        Some("memory") => Persistence::Memory,
        Some(_) => return Err("persistence must be \"localStorage\" or \"memory\"".to_owned()),
    };
    Ok(Some(PosthogOptions {
        config: FrontendPosthog {
            apikey: string("apikey", None)?,
            apiurl: string("apiurl", Some(DEFAULT_POSTHOG_URL))?,
            capture_pageview: flag(&posthog, "capture_pageview", true)?,
        },
        persistence,
        respect_dnt: flag(config, "respect_dnt", false)?,
        cookieless: flag(config, "cookieless", false)?,
    }))
}

fn config_from_page() -> Option<JsValue> {
    let text = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(CONFIG_ELEMENT_ID))
        .and_then(|e| e.text_content());
    let Some(text) = text else {
        warn(&format!(
            "no config given and no #{CONFIG_ELEMENT_ID} element: telemetry is off"
        ));
        return None;
    };
    js::parse_json(&text)
        .map_err(|e| warn(&format!("#{CONFIG_ELEMENT_ID} is not JSON: {e}")))
        .ok()
}

#[wasm_bindgen]
impl Telemetry {
    /// The app's router moved: `$pageleave` for the page left and `$pageview`
    /// for `to` (a path such as `to.fullPath`, or a URL). `from` is accepted
    /// for router hooks that pass it; the SDK already knows the page it left.
    /// A navigation the History hooks already reported is not counted twice.
    #[wasm_bindgen(js_name = routeChanged)]
    pub fn route_changed(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] to: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "string")] from: Option<JsValue>,
    ) {
        let _ = from;
        self.with_posthog(|p| p.route_changed(&to));
    }

    /// Captures `event` with optional `properties` and `groups` (`{type: key}`).
    pub fn capture(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] event: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "Record<string, unknown>")]
        properties: Option<JsValue>,
        #[wasm_bindgen(unchecked_optional_param_type = "Record<string, string>")] groups: Option<
            JsValue,
        >,
    ) {
        let (properties, groups) = (or_undefined(properties), or_undefined(groups));
        let Some(name) = js::string_arg(&event) else {
            return warn("capture(event): event must be a string; ignored");
        };
        self.with_posthog(|p| p.capture(&name, &properties, &groups));
    }

    /// Identifies the user as `distinctId`, with optional person properties to
    /// set (`set`) and to set once (`setOnce`).
    pub fn identify(
        &self,
        #[wasm_bindgen(js_name = "distinctId", unchecked_param_type = "string")]
        distinct_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "Record<string, unknown>")] set: Option<
            JsValue,
        >,
        #[wasm_bindgen(
            js_name = "setOnce",
            unchecked_optional_param_type = "Record<string, unknown>"
        )]
        set_once: Option<JsValue>,
    ) {
        let (set, set_once) = (or_undefined(set), or_undefined(set_once));
        let Some(id) = js::string_arg(&distinct_id) else {
            return warn("identify(distinctId): distinctId must be a string; ignored");
        };
        self.with_posthog(|p| p.identify(&id, &set, &set_once));
    }

    /// Puts the user in group `key` of `type` (e.g. `"team"`), with optional
    /// group properties; later events carry `$groups`.
    pub fn group(
        &self,
        #[wasm_bindgen(js_name = "type", unchecked_param_type = "string")] group_type: JsValue,
        #[wasm_bindgen(js_name = "key", unchecked_param_type = "string")] group_key: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "Record<string, unknown>")]
        properties: Option<JsValue>,
    ) {
        let properties = or_undefined(properties);
        let (Some(ty), Some(key)) = (js::string_arg(&group_type), js::string_arg(&group_key))
        else {
            return warn("group(type, key): type and key must be strings; ignored");
        };
        self.with_posthog(|p| p.group(&ty, &key, &properties));
    }

    /// Forgets the user (on logout): new anonymous id, new session, no groups.
    pub fn reset(&self) {
        self.with_posthog(|p| p.reset());
    }

    /// Resumes capturing after `optOut()`.
    #[wasm_bindgen(js_name = optIn)]
    pub fn opt_in(&self) {
        self.with_posthog(|p| p.opt_in());
    }

    /// Stops capturing and drops unsent events; remembered across page loads.
    #[wasm_bindgen(js_name = optOut)]
    pub fn opt_out(&self) {
        self.with_posthog(|p| p.opt_out());
    }

    /// Whether the user opted out.
    #[wasm_bindgen(js_name = hasOptedOut)]
    pub fn has_opted_out(&self) -> bool {
        let mut opted_out = false;
        self.with_posthog(|p| opted_out = p.has_opted_out());
        opted_out
    }

    /// Sends what is queued now. The promise always resolves: once the queue
    /// is empty, or a send failed (it is retried later), or after 10 s.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn flush(&self) -> js_sys::Promise {
        let mut posthog = None;
        self.with_posthog(|p| posthog = Some(p.clone()));
        wasm_bindgen_futures::future_to_promise(async move {
            if let Some(p) = posthog {
                p.flush().await;
            }
            Ok(JsValue::UNDEFINED)
        })
    }

    fn with_posthog(&self, mut f: impl FnMut(&Rc<PosthogClient>)) {
        if let Some(posthog) = &self.posthog {
            guarded(|| f(posthog));
        }
    }
}

/// An optional argument as the `undefined` it was when missing.
fn or_undefined(arg: Option<JsValue>) -> JsValue {
    arg.unwrap_or(JsValue::UNDEFINED)
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(posthog) = &self.posthog {
            guarded(|| posthog.detach());
        }
    }
}
