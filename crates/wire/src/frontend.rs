//! The public frontend config: what the browser may see, and nothing more.

use serde::{Deserialize, Serialize};

/// The PostHog host when none is configured.
pub const DEFAULT_POSTHOG_URL: &str = "https://app.posthog.com";
/// The Sentry environment reported when none is set.
pub const UNKNOWN_ENVIRONMENT: &str = "unknown";

/// The runtime config the platform injects into `index.html` for the browser SDK.
///
/// It is built only from the frontend part of the resolved config plus the
/// environment and release, so backend secrets (the backend DSN, the licence,
/// the ping URL, the Prometheus token) cannot reach it.
///
/// The browser SDK reads the same type (from `#ff-telemetry-config` or from
/// `start(config)`), so every default is here, once: `apiurl` defaults to
/// [`DEFAULT_POSTHOG_URL`], `capture_pageview` to `true`, the environment to
/// [`UNKNOWN_ENVIRONMENT`], `persistence` to `localStorage`, `consent` to
/// `granted` (no banner) and `consent_denied` to `cookieless`; a `sentry` part
/// without a DSN (or with an empty one) means no Sentry. The client options
/// (`persistence`, `respect_dnt`, `cookieless`, `consent`, `consent_denied`) are
/// set by the page, never by the platform, and are written only when they differ
/// from their defaults; an unknown value of one is an error naming the values it
/// may take.
///
/// DSN and URL stay strings here: the browser SDK validates them itself, so that a
/// bad value disables one integration with a warning instead of failing the page.
///
/// ```
/// use ff_telemetry_wire::{FrontendConfig, Persistence, DEFAULT_POSTHOG_URL};
/// let config: FrontendConfig = serde_json::from_str(
///     r#"{"posthog":{"apikey":"phc_k"},"sentry":{"dsn":""},"persistence":"memory"}"#,
/// ).unwrap();
/// assert_eq!(config.posthog.unwrap().apiurl, DEFAULT_POSTHOG_URL);
/// assert_eq!(config.sentry, None);
/// assert_eq!(config.persistence, Persistence::Memory);
/// assert_eq!(serde_json::to_string(&FrontendConfig::default()).unwrap(), "{}");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FrontendConfig {
    /// PostHog, when an API key is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posthog: Option<FrontendPosthog>,
    /// Browser Sentry, when a frontend DSN is configured.
    #[serde(
        default,
        deserialize_with = "sentry_with_dsn",
        skip_serializing_if = "Option::is_none"
    )]
    pub sentry: Option<FrontendSentry>,
    /// Where ids and the unsent queue are kept.
    #[serde(default, skip_serializing_if = "Persistence::is_default")]
    pub persistence: Persistence,
    /// Honour the browser's Do Not Track setting (as an opt-out).
    #[serde(default, skip_serializing_if = "is_false")]
    pub respect_dnt: bool,
    /// Keep nothing and use no stable id: a fresh anonymous id per page load.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cookieless: bool,
    /// The user's consent to tracking until they decide (`grantConsent()` /
    /// `denyConsent()`; a decision, once made, is remembered and wins).
    #[serde(default, skip_serializing_if = "Consent::is_default")]
    pub consent: Consent,
    /// What tracking is left once consent is denied.
    #[serde(default, skip_serializing_if = "ConsentDenied::is_default")]
    pub consent_denied: ConsentDenied,
}

/// The user's consent to PostHog tracking, as a consent banner asks for it
/// (posthog-js's `cookieless_mode: "on_reject"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Consent {
    /// Tracking as usual: a stable anonymous id kept in `localStorage` (the
    /// default, for apps without a consent banner).
    #[default]
    Granted,
    /// Not asked or not answered yet: nothing is stored, nothing is sent, and no
    /// stable id exists.
    Pending,
    /// Refused: see [`ConsentDenied`].
    Denied,
}

/// What tracking is left once consent is denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsentDenied {
    /// Events without a stable id, nothing stored (posthog-js's cookieless mode).
    #[default]
    Cookieless,
    /// No events at all.
    Nothing,
}

impl Consent {
    /// The value's name in a config (`"granted"`, `"pending"`, `"denied"`).
    pub fn name(self) -> &'static str {
        match self {
            Consent::Granted => "granted",
            Consent::Pending => "pending",
            Consent::Denied => "denied",
        }
    }

    /// The value `name` names, as [`Consent::name`] writes it. (The browser
    /// SDK reads its options by hand rather than by serde: each enum
    /// deserialised by serde-wasm-bindgen costs the download about 1 KB.)
    pub fn from_name(name: &str) -> Option<Consent> {
        match name {
            "granted" => Some(Consent::Granted),
            "pending" => Some(Consent::Pending),
            "denied" => Some(Consent::Denied),
            _ => None,
        }
    }

    fn is_default(&self) -> bool {
        *self == Consent::default()
    }
}

impl ConsentDenied {
    /// The value `name` names (`"cookieless"`, `"nothing"`), as serde reads it.
    pub fn from_name(name: &str) -> Option<ConsentDenied> {
        match name {
            "cookieless" => Some(ConsentDenied::Cookieless),
            "nothing" => Some(ConsentDenied::Nothing),
            _ => None,
        }
    }

    fn is_default(&self) -> bool {
        *self == ConsentDenied::default()
    }
}

impl FrontendConfig {
    /// Whether the SDK may keep anything in `localStorage`: not when cookieless,
    /// not with `persistence: "memory"`.
    pub fn may_persist(&self) -> bool {
        !self.cookieless && self.persistence == Persistence::LocalStorage
    }
}

/// Where the browser SDK keeps ids and the unsent queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Persistence {
    /// `localStorage` (falling back to memory when the browser refuses it).
    #[default]
    #[serde(rename = "localStorage")]
    LocalStorage,
    /// Memory only: a reload starts afresh.
    #[serde(rename = "memory")]
    Memory,
}

impl Persistence {
    fn is_default(&self) -> bool {
        *self == Persistence::default()
    }
}

/// PostHog settings the browser needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrontendPosthog {
    /// Project API key (public by design in PostHog).
    pub apikey: String,
    /// PostHog host; [`DEFAULT_POSTHOG_URL`] when not given.
    #[serde(default = "default_posthog_url")]
    pub apiurl: String,
    /// Whether the SDK captures pageviews by itself.
    #[serde(default = "yes")]
    pub capture_pageview: bool,
}

/// Browser Sentry settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrontendSentry {
    /// The frontend DSN (its key is public by design in Sentry). Empty or missing
    /// in a [`FrontendConfig`] means no Sentry.
    #[serde(default)]
    pub dsn: String,
    /// Lower sampled volume.
    #[serde(default)]
    pub production_mode: bool,
    /// `SENTRY_ENV` → `NODE_ENV` → `unknown`.
    #[serde(default = "unknown")]
    pub environment: String,
    /// `flowfuse@<version>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// Keep events from pages on localhost.
    #[serde(default)]
    pub report_localhost: bool,
    /// Overrides the navigation-transaction sample rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traces_sample_rate: Option<f64>,
    /// Substrings of error messages never reported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_errors: Vec<String>,
}

/// A `sentry` part counts only with a DSN: without one Sentry is off, silently.
fn sentry_with_dsn<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<FrontendSentry>, D::Error> {
    let sentry = Option::<FrontendSentry>::deserialize(d)?;
    Ok(sentry.filter(|s| !s.dsn.is_empty()))
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn yes() -> bool {
    true
}

fn unknown() -> String {
    UNKNOWN_ENVIRONMENT.to_owned()
}

fn default_posthog_url() -> String {
    DEFAULT_POSTHOG_URL.to_owned()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn any_config() -> impl Strategy<Value = FrontendConfig> {
        let posthog = (".*", ".*", any::<bool>()).prop_map(|(apikey, apiurl, capture_pageview)| {
            FrontendPosthog {
                apikey,
                apiurl,
                capture_pageview,
            }
        });
        let sentry = (
            ".+",
            any::<bool>(),
            ".*",
            proptest::option::of(".*"),
            any::<bool>(),
            proptest::option::of(0.0f64..=1.0),
            prop::collection::vec(".*", 0..3),
        )
            .prop_map(
                |(dsn, production_mode, environment, release, report_localhost, rate, ignore)| {
                    FrontendSentry {
                        dsn,
                        production_mode,
                        environment,
                        release,
                        report_localhost,
                        traces_sample_rate: rate,
                        ignore_errors: ignore,
                    }
                },
            );
        let persistence = prop_oneof![Just(Persistence::LocalStorage), Just(Persistence::Memory)];
        let consent = prop_oneof![
            Just(Consent::Granted),
            Just(Consent::Pending),
            Just(Consent::Denied)
        ];
        let denied = prop_oneof![
            Just(ConsentDenied::Cookieless),
            Just(ConsentDenied::Nothing)
        ];
        (
            proptest::option::of(posthog),
            proptest::option::of(sentry),
            persistence,
            (any::<bool>(), any::<bool>()),
            (consent, denied),
        )
            .prop_map(
                |(posthog, sentry, persistence, (respect_dnt, cookieless), (consent, denied))| {
                    FrontendConfig {
                        posthog,
                        sentry,
                        persistence,
                        respect_dnt,
                        cookieless,
                        consent,
                        consent_denied: denied,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn round_trips_through_json(config in any_config()) {
            let text = serde_json::to_string(&config).unwrap();
            prop_assert_eq!(serde_json::from_str::<FrontendConfig>(&text).unwrap(), config);
        }
    }

    #[test]
    fn defaults_fill_what_the_page_leaves_out() {
        let config: FrontendConfig = serde_json::from_str(
            r#"{"posthog":{"apikey":"k"},"sentry":{"dsn":"https://k@s.example/1"}}"#,
        )
        .unwrap();
        let posthog = config.posthog.as_ref().unwrap();
        assert_eq!(posthog.apiurl, DEFAULT_POSTHOG_URL);
        assert!(posthog.capture_pageview);
        let sentry = config.sentry.as_ref().unwrap();
        assert_eq!(sentry.environment, UNKNOWN_ENVIRONMENT);
        assert_eq!(sentry.release, None);
        assert!(config.may_persist());
    }

    #[test]
    fn sentry_without_a_dsn_is_off() {
        for json in [
            r#"{"sentry":{}}"#,
            r#"{"sentry":{"dsn":""}}"#,
            r#"{"sentry":null}"#,
        ] {
            let config: FrontendConfig = serde_json::from_str(json).unwrap();
            assert_eq!(config.sentry, None, "{json}");
        }
    }

    #[test]
    fn nothing_persists_when_cookieless_or_in_memory() {
        let read = |json| {
            serde_json::from_str::<FrontendConfig>(json)
                .unwrap()
                .may_persist()
        };
        assert!(!read(r#"{"cookieless":true}"#));
        assert!(!read(r#"{"persistence":"memory"}"#));
        assert!(read(r#"{"persistence":"localStorage"}"#));
    }

    #[test]
    fn a_wrong_type_names_the_field() {
        let err = serde_json::from_str::<FrontendConfig>(
            r#"{"posthog":{"apikey":"k","capture_pageview":"yes"}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("invalid type"), "{err}");
        let err = serde_json::from_str::<FrontendConfig>(r#"{"persistence":"disk"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("localStorage"), "{err}");
    }

    #[test]
    fn consent_defaults_to_granted_and_takes_only_its_values() {
        let config: FrontendConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(
            config.consent,
            Consent::Granted,
            "no banner: tracking as before"
        );
        assert_eq!(config.consent_denied, ConsentDenied::Cookieless);
        let config: FrontendConfig =
            serde_json::from_str(r#"{"consent":"pending","consent_denied":"nothing"}"#).unwrap();
        assert_eq!(config.consent, Consent::Pending);
        assert_eq!(config.consent_denied, ConsentDenied::Nothing);
        let err = serde_json::from_str::<FrontendConfig>(r#"{"consent":"yes"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`granted`, `pending`, `denied`"), "{err}");
    }

    #[test]
    fn consent_names_read_as_serde_reads_them() {
        for consent in [Consent::Granted, Consent::Pending, Consent::Denied] {
            let json = serde_json::to_string(&consent).unwrap();
            assert_eq!(json, format!("\"{}\"", consent.name()));
            assert_eq!(Consent::from_name(consent.name()), Some(consent));
        }
        for denied in [ConsentDenied::Cookieless, ConsentDenied::Nothing] {
            let json = serde_json::to_string(&denied).unwrap();
            assert_eq!(
                ConsentDenied::from_name(json.trim_matches('"')),
                Some(denied)
            );
        }
        assert_eq!(Consent::from_name("Granted"), None);
        assert_eq!(ConsentDenied::from_name(""), None);
    }
}
