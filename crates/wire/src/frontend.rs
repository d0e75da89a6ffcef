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
/// DSN and URL stay strings here: the browser SDK validates them itself, so that a
/// bad value disables one integration with a warning instead of failing the page.
///
/// ```
/// use ff_telemetry_wire::FrontendConfig;
/// let public: FrontendConfig = serde_json::from_str("{}").unwrap();
/// assert_eq!(public, FrontendConfig::default());
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FrontendConfig {
    /// PostHog, when an API key is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posthog: Option<FrontendPosthog>,
    /// Browser Sentry, when a frontend DSN is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentry: Option<FrontendSentry>,
}

/// PostHog settings the browser needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrontendPosthog {
    /// Project API key (public by design in PostHog).
    pub apikey: String,
    /// PostHog host.
    pub apiurl: String,
    /// Whether the SDK captures pageviews by itself.
    #[serde(default = "yes")]
    pub capture_pageview: bool,
}

/// Browser Sentry settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrontendSentry {
    /// The frontend DSN (its key is public by design in Sentry).
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

fn yes() -> bool {
    true
}

fn unknown() -> String {
    UNKNOWN_ENVIRONMENT.to_owned()
}
