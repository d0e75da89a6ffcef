//! Runtime config for the single-page app: the public config injected into
//! `index.html`, and the Content-Security-Policy that lets the browser SDK reach its
//! hosts.

use ff_telemetry_wire::{Dsn, FrontendConfig, HttpUrl};

/// The `id` of the injected `<script type="application/json">` element.
pub const CONFIG_ELEMENT_ID: &str = "ff-telemetry-config";

/// `index.html` with `config` added as
/// `<script type="application/json" id="ff-telemetry-config">…</script>` just before
/// `</head>` (or at the start when there is no head).
///
/// The JSON is escaped so that no value can end the element or open a comment:
/// `<`, `>`, `&` and the JavaScript line separators become `\uXXXX` escapes, which
/// `JSON.parse` reads back unchanged.
///
/// ```
/// use ff_telemetry_backend::inject_runtime_config;
/// use ff_telemetry_wire::{FrontendConfig, FrontendPosthog};
/// let config = FrontendConfig {
///     posthog: Some(FrontendPosthog {
///         apikey: "</script><script>alert(1)</script>".into(),
///         apiurl: "https://eu.posthog.com".into(),
///         capture_pageview: false,
///     }),
///     ..FrontendConfig::default()
/// };
/// let html = inject_runtime_config("<html><head></head><body></body></html>", &config);
/// assert_eq!(html.matches("</script>").count(), 1);
/// assert!(html.contains(r#""apikey":"\u003c/script\u003e\u003cscript\u003ealert(1)"#));
/// ```
pub fn inject_runtime_config(index_html: &str, config: &FrontendConfig) -> String {
    let json = serde_json::to_string(config).unwrap_or_else(|_| "{}".to_owned());
    let element = format!(
        r#"<script type="application/json" id="{CONFIG_ELEMENT_ID}">{}</script>"#,
        escape_json_for_html(&json)
    );
    match find_ascii_case_insensitive(index_html, "</head>") {
        Some(at) => format!("{}{element}\n{}", &index_html[..at], &index_html[at..]),
        None => format!("{element}\n{index_html}"),
    }
}

/// Escapes JSON text for a `<script>` element; the result is still valid JSON with
/// the same value.
fn escape_json_for_html(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

fn find_ascii_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The `Content-Security-Policy` for the SPA: same-origin everything, WebAssembly
/// allowed, and `connect-src` widened by exactly the PostHog host and the Sentry
/// ingest host of `config`. Values that do not parse add nothing (the SDK disables
/// that integration anyway).
///
/// ```
/// use ff_telemetry_backend::content_security_policy;
/// use ff_telemetry_wire::{FrontendConfig, FrontendSentry};
/// let config = FrontendConfig {
///     posthog: None,
///     sentry: Some(FrontendSentry {
///         dsn: "https://key@o1.ingest.sentry.io/42".into(),
///         production_mode: false,
///         environment: "production".into(),
///         release: None,
///         report_localhost: false,
///         traces_sample_rate: None,
///         ignore_errors: vec![],
///     }),
///     ..FrontendConfig::default()
/// };
/// let csp = content_security_policy(&config);
/// assert!(csp.contains("connect-src 'self' https://o1.ingest.sentry.io;"));
/// ```
pub fn content_security_policy(config: &FrontendConfig) -> String {
    let mut connect_src = vec!["'self'".to_owned()];
    let posthog = config
        .posthog
        .as_ref()
        .and_then(|p| p.apiurl.parse::<HttpUrl>().ok())
        .map(|url| url.origin().clone());
    let sentry = config
        .sentry
        .as_ref()
        .and_then(|s| s.dsn.parse::<Dsn>().ok())
        .map(|dsn| dsn.origin().clone());
    for origin in [posthog, sentry].into_iter().flatten() {
        let origin = origin.to_string();
        if !connect_src.contains(&origin) {
            connect_src.push(origin);
        }
    }
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src {}; \
         img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; \
         base-uri 'self'; frame-ancestors 'self'",
        connect_src.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use ff_telemetry_wire::{FrontendPosthog, FrontendSentry};

    use super::*;

    fn config_with(value: &str) -> FrontendConfig {
        FrontendConfig {
            posthog: Some(FrontendPosthog {
                apikey: value.to_owned(),
                apiurl: "https://EU.posthog.com/".to_owned(),
                capture_pageview: false,
            }),
            sentry: Some(FrontendSentry {
                dsn: "https://key@sentry.example:8443/path/7".to_owned(),
                production_mode: true,
                environment: value.to_owned(),
                release: Some("flowfuse@1.0.0".to_owned()),
                report_localhost: false,
                traces_sample_rate: None,
                ignore_errors: vec![value.to_owned()],
            }),
            ..FrontendConfig::default()
        }
    }

    /// The text between the injected element's tags.
    fn injected_json(html: &str) -> &str {
        let open = format!(r#"<script type="application/json" id="{CONFIG_ELEMENT_ID}">"#);
        let start = html.find(&open).unwrap() + open.len();
        let end = start + html[start..].find("</").unwrap();
        &html[start..end]
    }

    #[test]
    fn hostile_values_cannot_break_out_and_read_back_unchanged() {
        let hostile = [
            "</script><script>alert(1)</script>",
            "</SCRIPT >",
            "<!--",
            "<!-- <script>",
            "-->",
            "a & b > c",
            "line\u{2028}separator\u{2029}",
            "\"quoted\" \\ backslash",
        ];
        for value in hostile {
            let config = config_with(value);
            let html = inject_runtime_config(
                "<!doctype html><html><HEAD><title>x</title></HEAD><body></body></html>",
                &config,
            );
            let json = injected_json(&html);
            assert!(!json.contains('<') && !json.contains('>'), "{json}");
            let back: FrontendConfig = serde_json::from_str(json).unwrap();
            assert_eq!(back, config, "{value}");
            // The element sits in the head, and the document keeps its structure.
            assert!(html.find(CONFIG_ELEMENT_ID).unwrap() < html.find("</HEAD>").unwrap());
            assert_eq!(html.matches("</script>").count(), 1, "{html}");
        }
    }

    #[test]
    fn documents_without_a_head_get_the_element_first() {
        let html = inject_runtime_config("<p>hi</p>", &FrontendConfig::default());
        assert!(html.starts_with(&format!(
            r#"<script type="application/json" id="{CONFIG_ELEMENT_ID}">{{}}</script>"#
        )));
        assert!(html.ends_with("<p>hi</p>"));
    }

    #[test]
    fn csp_names_exactly_the_configured_hosts() {
        let csp = content_security_policy(&config_with("x"));
        assert!(
            csp.contains("connect-src 'self' https://eu.posthog.com https://sentry.example:8443;"),
            "{csp}"
        );
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'"));
        let none = content_security_policy(&FrontendConfig::default());
        assert!(none.contains("connect-src 'self';"), "{none}");
        let mut broken = config_with("x");
        if let Some(s) = broken.sentry.as_mut() {
            s.dsn = "not a dsn".into();
        }
        let csp = content_security_policy(&broken);
        assert!(
            csp.contains("connect-src 'self' https://eu.posthog.com;"),
            "{csp}"
        );
    }
}
