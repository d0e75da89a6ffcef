#![cfg(feature = "yaml")]
//! `flowforge.yml` parsing as an administrator meets it: defaults, the example
//! file, and every kind of mistake, each reported with its YAML path.

use ff_telemetry_core::config::{ConfigErrors, Problem, WarningKind, parse_flowforge_yml};

fn errors(yml: &str) -> ConfigErrors {
    match parse_flowforge_yml(yml) {
        Ok(loaded) => panic!("expected errors for {yml:?}, got {loaded:?}"),
        Err(e) => e,
    }
}

#[test]
fn example_file_reads_every_documented_key() {
    let yml = include_str!("fixtures/flowforge.example.yml");
    let loaded = parse_flowforge_yml(yml).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = loaded.config;
    assert!(c.enabled);
    let posthog = c.frontend.posthog.unwrap();
    assert_eq!(posthog.apikey, "phc_exampleKey");
    assert_eq!(posthog.apiurl.to_string(), "https://app.posthog.com");
    assert!(!posthog.capture_pageview);
    let sentry = c.frontend.sentry.unwrap();
    assert_eq!(sentry.dsn.project_id(), "1");
    assert!(sentry.production_mode);
    assert_eq!(c.backend.sentry.unwrap().dsn.project_id(), "2");
    assert!(c.backend.prometheus.enabled);
}

#[test]
fn defaults_when_the_section_is_missing_or_empty() {
    for yml in [
        "",
        "port: 3000\n",
        "telemetry:\n",
        "telemetry: ~\n",
        "telemetry: {}\n",
    ] {
        let c = parse_flowforge_yml(yml).unwrap().config;
        assert!(c.enabled, "{yml:?}");
        assert_eq!(c.url.to_string(), "https://ping.flowfuse.com/ping");
        assert_eq!(c.startup_delay_ms, 30_000);
        assert!(c.frontend.posthog.is_none() && c.frontend.sentry.is_none());
        assert!(c.backend.sentry.is_none() && !c.backend.prometheus.enabled);
    }
}

#[test]
fn posthog_defaults_and_empty_values_mean_unset() {
    let c = parse_flowforge_yml("telemetry:\n  frontend:\n    posthog:\n      apikey: k\n")
        .unwrap()
        .config;
    let p = c.frontend.posthog.unwrap();
    assert!(p.capture_pageview);
    assert_eq!(p.apiurl.to_string(), "https://app.posthog.com");
    let c = parse_flowforge_yml("telemetry:\n  url: ''\n  frontend:\n    posthog:\n      apikey: ''\n    sentry:\n      dsn:\n")
        .unwrap()
        .config;
    assert!(c.frontend.posthog.is_none() && c.frontend.sentry.is_none());
    assert_eq!(c.url.to_string(), "https://ping.flowfuse.com/ping");
}

#[test]
fn extension_keys_are_read() {
    let yml = "telemetry:
  startup_delay_seconds: 0.5
  frontend:
    sentry:
      dsn: http://k@127.0.0.1:3001/1
      report_localhost: true
      traces_sample_rate: 1
      ignore_errors: [ResizeObserver, 'Network Error']
  backend:
    prometheus:
      enabled: true
      token: s3cret
";
    let c = parse_flowforge_yml(yml).unwrap().config;
    assert_eq!(c.startup_delay_ms, 500);
    let s = c.frontend.sentry.unwrap();
    assert!(s.report_localhost);
    assert_eq!(s.traces_sample_rate, Some(1.0));
    assert_eq!(s.ignore_errors, ["ResizeObserver", "Network Error"]);
    assert_eq!(c.backend.prometheus.token.as_deref(), Some("s3cret"));
}

#[test]
fn unknown_and_deprecated_keys_warn_but_do_not_fail() {
    let yml = "telemetry:
  enabeld: false
  frontend:
    plausible:
      domain: example.com
    posthog:
      apikey: k
      capture_pageviews: false
";
    let loaded = parse_flowforge_yml(yml).unwrap();
    let warnings: Vec<_> = loaded
        .warnings
        .iter()
        .map(|w| (w.path.as_str().to_owned(), w.kind.clone()))
        .collect();
    assert!(warnings.contains(&("telemetry.enabeld".into(), WarningKind::UnknownKey)));
    assert!(warnings.contains(&(
        "telemetry.frontend.posthog.capture_pageviews".into(),
        WarningKind::UnknownKey
    )));
    assert!(warnings.iter().any(
        |(p, k)| p == "telemetry.frontend.plausible" && matches!(k, WarningKind::Deprecated(_))
    ));
    // The misspelt key did not switch anything off.
    assert!(loaded.config.enabled);
}

/// Every malformed snippet gives errors, each naming the path and what was expected.
#[test]
fn malformed_snippets_name_their_paths() {
    let cases: &[(&str, &[&str])] = &[
        // Syntax errors: the path comes from the indentation around the error.
        (
            "telemetry:\n  enabled: [true\n",
            &["telemetry.enabled: YAML syntax error at line 3"],
        ),
        (
            "telemetry:\n  frontend:\n    posthog:\n      apikey: \"unterminated\n",
            &["telemetry.frontend.posthog.apikey"],
        ),
        (
            "telemetry:\n  enabled: true\n   url: x\n",
            &["telemetry.enabled", "YAML syntax error"],
        ),
        (
            "telemetry:\n\tenabled: true\n",
            &["telemetry", "YAML syntax error"],
        ),
        // Wrong types.
        (
            "telemetry:\n  enabled: yes\n",
            &["telemetry.enabled: expected a boolean (true or false), found string \"yes\""],
        ),
        (
            "telemetry:\n  enabled: 1\n",
            &["telemetry.enabled: expected a boolean (true or false), found number 1"],
        ),
        (
            "telemetry: true\n",
            &["telemetry: expected a mapping of settings, found boolean true"],
        ),
        (
            "telemetry:\n  frontend: [posthog]\n",
            &["telemetry.frontend: expected a mapping of settings, found a list"],
        ),
        (
            "telemetry:\n  frontend:\n    posthog:\n      apikey: 12345\n",
            &["telemetry.frontend.posthog.apikey: expected a string, found number 12345"],
        ),
        (
            "telemetry:\n  frontend:\n    posthog:\n      apikey: k\n      capture_pageview: 'false'\n",
            &["telemetry.frontend.posthog.capture_pageview: expected a boolean"],
        ),
        (
            "telemetry:\n  frontend:\n    sentry:\n      dsn: https://k@h/1\n      production_mode: 0\n",
            &["telemetry.frontend.sentry.production_mode: expected a boolean"],
        ),
        (
            "telemetry:\n  backend:\n    prometheus:\n      enabled: on\n",
            &["telemetry.backend.prometheus.enabled: expected a boolean"],
        ),
        (
            "telemetry:\n  frontend:\n    sentry:\n      dsn: https://k@h/1\n      ignore_errors: [ok, 3]\n",
            &["telemetry.frontend.sentry.ignore_errors[1]: expected a string"],
        ),
        (
            "- telemetry\n",
            &["(root): expected a mapping of settings, found a list"],
        ),
        // Bad URLs.
        (
            "telemetry:\n  url: ping.example.com\n",
            &[
                "telemetry.url: expected an http(s) URL, found \"ping.example.com\": scheme must be http or https",
            ],
        ),
        (
            "telemetry:\n  frontend:\n    posthog:\n      apikey: k\n      apiurl: https://eu.posthog.com:99999\n",
            &[
                "telemetry.frontend.posthog.apiurl: expected an http(s) URL, \
                 found \"https://eu.posthog.com:99999\": port is not a number from 1 to 65535",
            ],
        ),
        (
            "telemetry:\n  url: 'https://exa mple.com'\n",
            &["telemetry.url: expected an http(s) URL", "whitespace"],
        ),
        // Bad DSNs.
        (
            "telemetry:\n  backend:\n    sentry:\n      dsn: https://sentry.io/1\n",
            &[
                "telemetry.backend.sentry.dsn: expected a Sentry DSN",
                "public key is missing",
            ],
        ),
        (
            "telemetry:\n  frontend:\n    sentry:\n      dsn: https://k@o1.ingest.sentry.io\n",
            &[
                "telemetry.frontend.sentry.dsn: expected a Sentry DSN",
                "project id is missing",
            ],
        ),
        (
            "telemetry:\n  frontend:\n    sentry:\n      dsn: https://k@o1.ingest.sentry.io/1/garbage\n",
            &[
                "telemetry.frontend.sentry.dsn",
                "project id must be a number",
            ],
        ),
        (
            "telemetry:\n  backend:\n    sentry:\n      dsn: udp://k@h/1\n",
            &[
                "telemetry.backend.sentry.dsn",
                "scheme must be http or https",
            ],
        ),
        // Out of range and negative values.
        (
            "telemetry:\n  startup_delay_seconds: -5\n",
            &[
                "telemetry.startup_delay_seconds: expected a number of seconds from 0 to 86400, found -5",
            ],
        ),
        (
            "telemetry:\n  frontend:\n    sentry:\n      dsn: https://k@h/1\n      traces_sample_rate: 1.5\n",
            &[
                "telemetry.frontend.sentry.traces_sample_rate: expected a sample rate from 0 to 1, found 1.5",
            ],
        ),
    ];
    assert!(cases.len() >= 15);
    for (yml, wants) in cases {
        let text = errors(yml).to_string();
        for want in *wants {
            assert!(
                text.contains(want),
                "{yml:?}\n  gave: {text}\n  missing: {want}"
            );
        }
    }
}

#[test]
fn all_problems_are_reported_at_once() {
    let yml = "telemetry:
  enabled: nope
  url: nowhere
  frontend:
    posthog:
      apikey: [a]
      apiurl: ftp://x
    sentry:
      dsn: https://k@h/x
      production_mode: maybe
  backend:
    sentry:
      dsn: 42
    prometheus:
      enabled: 'yes'
";
    let errs = errors(yml);
    let paths: Vec<&str> = errs.errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "telemetry.enabled",
            "telemetry.url",
            "telemetry.frontend.posthog.apikey",
            "telemetry.frontend.posthog.apiurl",
            "telemetry.frontend.sentry.dsn",
            "telemetry.frontend.sentry.production_mode",
            "telemetry.backend.sentry.dsn",
            "telemetry.backend.prometheus.enabled",
        ]
    );
    assert!(matches!(errs.errors[0].problem, Problem::WrongType { .. }));
}

mod no_panic {
    use ff_telemetry_core::config::parse_flowforge_yml;
    use ff_telemetry_wire::{Dsn, HttpUrl};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn config_parser_never_panics(text in ".{0,300}") {
            let _ = parse_flowforge_yml(&text);
        }

        #[test]
        fn config_parser_never_panics_on_yaml_shaped_input(
            text in "(telemetry:\n)?( {0,6}[a-z_]{1,12}:( [-a-z0-9:/@.\\[\\]{}'\"]{0,20})?\n){0,8}"
        ) {
            let _ = parse_flowforge_yml(&text);
        }

        #[test]
        fn dsn_and_url_parsers_never_panic(text in "(https?://)?[a-z0-9:@/.\\[\\]?#%-]{0,40}") {
            let _ = text.parse::<Dsn>();
            let _ = text.parse::<HttpUrl>();
        }

        #[test]
        fn dsn_parser_never_panics_on_any_string(text in ".{0,80}") {
            let _ = text.parse::<Dsn>();
        }
    }
}
