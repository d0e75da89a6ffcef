//! The `telemetry:` section of `flowforge.yml`: the resolved model, its defaults,
//! and (with the `yaml` feature) the parser that validates it.
//!
//! Keys beyond FlowFuse's documented ones are marked *extension* below; the README's
//! config reference lists them all.

mod error;
#[cfg(feature = "yaml")]
mod parse;

pub use error::{ConfigError, ConfigErrors, ConfigWarning, Problem, WarningKind, YamlPath};
#[cfg(feature = "yaml")]
pub use parse::{LoadedConfig, parse_flowforge_yml};

use ff_telemetry_wire::{Dsn, HttpUrl};

/// Where usage pings go when `telemetry.url` is not set.
pub const DEFAULT_PING_URL: &str = "https://ping.flowfuse.com/ping";
/// Seconds from start to the first usage ping, as FlowFuse's documentation promises.
pub const DEFAULT_STARTUP_DELAY_SECONDS: f64 = 30.0;

/// The resolved `telemetry:` section: every default applied, every value validated.
///
/// Other crates read this plain struct; none of them looks at YAML.
///
/// ```
/// use ff_telemetry_core::config::TelemetryConfig;
/// let config = TelemetryConfig::default();
/// assert!(config.enabled);
/// assert_eq!(config.url.to_string(), "https://ping.flowfuse.com/ping");
/// assert!(config.frontend.posthog.is_none());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TelemetryConfig {
    /// `telemetry.enabled`: the usage ping; `false` overrides the admin setting
    /// (ignored for licensed installs).
    pub enabled: bool,
    /// `telemetry.url`: where usage pings are POSTed.
    pub url: HttpUrl,
    /// `telemetry.startup_delay_seconds` (extension): delay of the first ping after
    /// start, in milliseconds. 30 s unless a test shortens it.
    pub startup_delay_ms: u64,
    /// `telemetry.frontend`
    pub frontend: FrontendSettings,
    /// `telemetry.backend`
    pub backend: BackendSettings,
}

/// `telemetry.frontend`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FrontendSettings {
    /// Present only when `telemetry.frontend.posthog.apikey` is set.
    pub posthog: Option<PosthogSettings>,
    /// Present only when `telemetry.frontend.sentry.dsn` is set.
    pub sentry: Option<BrowserSentrySettings>,
}

/// `telemetry.frontend.posthog`
#[derive(Debug, Clone, PartialEq)]
pub struct PosthogSettings {
    /// `apikey`: the PostHog project key.
    pub apikey: String,
    /// `apiurl`: the PostHog host.
    pub apiurl: HttpUrl,
    /// `capture_pageview`: whether the SDK captures pageviews by itself, besides the
    /// router's custom `$pageview`/`$pageleave` events.
    pub capture_pageview: bool,
}

/// `telemetry.frontend.sentry`
#[derive(Debug, Clone, PartialEq)]
pub struct BrowserSentrySettings {
    /// `dsn`
    pub dsn: Dsn,
    /// `production_mode`: lower sampled volume.
    pub production_mode: bool,
    /// `report_localhost` (extension): keep events from pages served on localhost,
    /// which are dropped by default as FlowFuse does.
    pub report_localhost: bool,
    /// `traces_sample_rate` (extension): overrides the navigation-transaction rate
    /// that `production_mode` picks.
    pub traces_sample_rate: Option<f64>,
    /// `ignore_errors` (extension): substrings of error messages never reported.
    pub ignore_errors: Vec<String>,
}

/// `telemetry.backend`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BackendSettings {
    /// Present only when `telemetry.backend.sentry.dsn` is set.
    pub sentry: Option<BackendSentrySettings>,
    /// `telemetry.backend.prometheus`
    pub prometheus: PrometheusSettings,
}

/// `telemetry.backend.sentry`
#[derive(Debug, Clone, PartialEq)]
pub struct BackendSentrySettings {
    /// `dsn`
    pub dsn: Dsn,
}

/// `telemetry.backend.prometheus`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PrometheusSettings {
    /// `enabled`: serve `GET /metrics`.
    pub enabled: bool,
    /// `token` (extension): when set, `/metrics` requires `Authorization: Bearer <token>`.
    pub token: Option<String>,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            enabled: true,
            url: default_ping_url(),
            startup_delay_ms: (DEFAULT_STARTUP_DELAY_SECONDS * 1000.0) as u64,
            frontend: FrontendSettings::default(),
            backend: BackendSettings::default(),
        }
    }
}

fn default_ping_url() -> HttpUrl {
    DEFAULT_PING_URL
        .parse()
        .unwrap_or_else(|_| unreachable!("the default ping URL is valid"))
}

#[cfg(feature = "yaml")]
pub(crate) fn default_posthog_url() -> HttpUrl {
    ff_telemetry_wire::DEFAULT_POSTHOG_URL
        .parse()
        .unwrap_or_else(|_| unreachable!("the default PostHog URL is valid"))
}
