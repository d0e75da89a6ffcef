//! The public frontend config: what the browser may see, and nothing more.

use ff_telemetry_wire::{FrontendConfig, FrontendPosthog, FrontendSentry};

use crate::config::TelemetryConfig;

impl TelemetryConfig {
    /// The runtime config the platform injects into `index.html` for the browser
    /// SDK: the public part of this config, with the environment and release both
    /// Sentry sides report.
    ///
    /// It is built only from the frontend part plus the environment and release, so
    /// backend secrets (the backend DSN, the licence, the ping URL, the Prometheus
    /// token) cannot reach it.
    ///
    /// ```
    /// use ff_telemetry_core::config::TelemetryConfig;
    /// let public = TelemetryConfig::default().frontend_config("production", "flowfuse@1.0.0");
    /// assert_eq!(serde_json::to_string(&public).unwrap(), "{}");
    /// ```
    pub fn frontend_config(&self, environment: &str, release: &str) -> FrontendConfig {
        let frontend = &self.frontend;
        FrontendConfig {
            posthog: frontend.posthog.as_ref().map(|p| FrontendPosthog {
                apikey: p.apikey.clone(),
                apiurl: p.apiurl.to_string(),
                capture_pageview: p.capture_pageview,
            }),
            sentry: frontend.sentry.as_ref().map(|s| FrontendSentry {
                dsn: s.dsn.to_string(),
                production_mode: s.production_mode,
                environment: environment.to_owned(),
                release: Some(release.to_owned()),
                report_localhost: s.report_localhost,
                traces_sample_rate: s.traces_sample_rate,
                ignore_errors: s.ignore_errors.clone(),
            }),
            ..FrontendConfig::default()
        }
    }
}

#[cfg(all(test, feature = "yaml"))]
mod tests {
    use super::*;
    use crate::config::parse_flowforge_yml;

    const FULL: &str = "
telemetry:
  url: http://ping.internal/secret-ping-path
  frontend:
    posthog: { apikey: phc_public, capture_pageview: false }
    sentry: { dsn: 'https://browserkey@sentry.example/1', production_mode: true }
  backend:
    sentry: { dsn: 'https://BACKENDKEY:BACKENDSECRET@sentry.example/2' }
    prometheus: { enabled: true, token: PROMTOKEN }
";

    #[test]
    fn only_public_fields_reach_the_browser() {
        let config = parse_flowforge_yml(FULL).unwrap().config;
        let public = config.frontend_config("production", "flowfuse@2.0.0");
        let json = serde_json::to_string(&public).unwrap();
        for secret in [
            "BACKENDKEY",
            "BACKENDSECRET",
            "PROMTOKEN",
            "secret-ping-path",
            "/2",
        ] {
            assert!(!json.contains(secret), "{secret} leaked into {json}");
        }
        assert_eq!(
            serde_json::to_value(&public).unwrap(),
            serde_json::json!({
                "posthog": {"apikey": "phc_public", "apiurl": "https://app.posthog.com", "capture_pageview": false},
                "sentry": {"dsn": "https://browserkey@sentry.example/1", "production_mode": true,
                           "environment": "production", "release": "flowfuse@2.0.0", "report_localhost": false}
            })
        );
    }

    #[test]
    fn licence_ids_have_no_way_in() {
        // The licence lives outside the telemetry section; the frontend config is
        // built from the telemetry section alone, so a licence id anywhere in the
        // file cannot appear.
        let yml = format!("license: LICENCE-ID-123\n{FULL}");
        let config = parse_flowforge_yml(&yml).unwrap().config;
        let json = serde_json::to_string(&config.frontend_config("e", "r")).unwrap();
        assert!(!json.contains("LICENCE-ID-123"));
    }

    #[test]
    fn round_trips_through_json() {
        let config = parse_flowforge_yml(FULL).unwrap().config;
        let public = config.frontend_config("dev", "flowfuse@1");
        let back: FrontendConfig =
            serde_json::from_str(&serde_json::to_string(&public).unwrap()).unwrap();
        assert_eq!(back, public);
    }
}
