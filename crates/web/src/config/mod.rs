//! The runtime config, read from JavaScript by serde-wasm-bindgen into the
//! frontend-config types, part by part: a field of the wrong type switches
//! off its own integration with one warning naming it, never the page.

pub use ff_telemetry_wire::Persistence;
use ff_telemetry_wire::{Consent, ConsentDenied, FrontendPosthog, FrontendSentry};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;

use crate::js::{self, warn, warn_with};

mod field;

/// [`CONFIG_ELEMENT_ID`] as a literal, so warnings that name it are built by
/// `concat!` at compile time.
macro_rules! config_element_id {
    () => {
        "ff-telemetry-config"
    };
}

/// The `id` of the `<script type="application/json">` element `init()` reads
/// when given no config.
pub const CONFIG_ELEMENT_ID: &str = config_element_id!();

/// The top-level options every integration follows.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct ClientOptions {
    /// Where ids, the opt-out choice and unsent events are kept.
    pub persistence: Persistence,
    /// Treat the browser's Do Not Track signal as an opt-out.
    pub respect_dnt: bool,
    /// Store nothing and use no stable id.
    pub cookieless: bool,
    /// The user's consent in force: the configured one until a decision
    /// (remembered across page loads) replaces it. Read by hand (see [`client_options`]).
    #[serde(skip)]
    pub consent: Consent,
    /// What tracking a denied consent leaves. Read by hand (see [`client_options`]).
    #[serde(skip)]
    pub consent_denied: ConsentDenied,
}

impl ClientOptions {
    /// Whether anything may be kept in `localStorage` (the consent decision
    /// itself, at least).
    pub fn may_store(self) -> bool {
        !self.cookieless && self.persistence == Persistence::LocalStorage
    }

    /// Whether ids, the opt-out choice and unsent events may be kept in
    /// `localStorage`: also not before consent is granted.
    pub fn persist(self) -> bool {
        self.may_store() && self.consent == Consent::Granted
    }
}

/// The config as given to `init(config)`, or read from the page's
/// `#ff-telemetry-config` element when `config` is `undefined` or `null`.
/// `None` (after a warning) when there is none, or it is not an object.
pub fn given_or_from_page(config: Option<JsValue>) -> Option<JsValue> {
    let config = match config.filter(|c| !c.is_null() && !c.is_undefined()) {
        Some(config) => config,
        None => from_page()?,
    };
    if !js::is_object(&config) {
        warn("telemetry is off: the config must be an object");
        return None;
    }
    Some(config)
}

fn from_page() -> Option<JsValue> {
    let Some(text) = js::config_text(CONFIG_ELEMENT_ID) else {
        warn(concat!(
            "no config given and no #",
            config_element_id!(),
            " element: telemetry is off"
        ));
        return None;
    };
    js::parse_json(&text)
        .map_err(|e| warn_with(concat!("#", config_element_id!(), " is not JSON:"), &e))
        .ok()
}

/// The top-level options of `config`.
pub fn client_options(config: &JsValue) -> Result<ClientOptions, String> {
    let mut options: ClientOptions = read("", config.clone())?.unwrap_or_default();
    // By hand rather than by serde, whose enums cost serde-wasm-bindgen about
    // 1 KB of the download; a value that is not a string counts as not given.
    let text = |field| js::field(config, field).as_string();
    if let Some(name) = text("consent") {
        options.consent = Consent::from_name(&name)
            .ok_or_else(|| r#"consent: expected "granted", "pending" or "denied""#.to_owned())?;
    }
    if let Some(name) = text("consent_denied") {
        options.consent_denied = ConsentDenied::from_name(&name)
            .ok_or_else(|| r#"consent_denied: expected "cookieless" or "nothing""#.to_owned())?;
    }
    Ok(options)
}

/// `config.posthog`, `None` when missing or null.
pub fn posthog(config: &JsValue) -> Result<Option<FrontendPosthog>, String> {
    read("posthog", js::field(config, "posthog"))
}

/// `config.sentry`, `None` when missing or null, or without a DSN.
pub fn sentry(config: &JsValue) -> Result<Option<FrontendSentry>, String> {
    let sentry: Option<FrontendSentry> = read("sentry", js::field(config, "sentry"))?;
    Ok(sentry.filter(|s| !s.dsn.is_empty()))
}

/// `config[part]` (`part` empty: the config itself) deserialised, `None`
/// when it is `undefined` or `null`; the error names the field.
fn read<T: DeserializeOwned>(part: &str, value: JsValue) -> Result<Option<T>, String> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    field::deserialize_struct(value)
        .map(Some)
        .map_err(|(field, e)| {
            let name = match (part, field.as_str()) {
                ("", "") => "config".to_owned(),
                (part, "") => part.to_owned(),
                ("", field) => field.to_owned(),
                (part, field) => format!("{part}.{field}"),
            };
            format!("{name}: {}", js::error_message(&e.into()))
        })
}
