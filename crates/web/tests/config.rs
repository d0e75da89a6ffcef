//! The runtime config as serde-wasm-bindgen reads it: a field of the wrong
//! type is one console warning that names the field, and never an exception
//! in the page.

#![cfg(target_arch = "wasm32")]

use ff_telemetry_web::init;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/js/config.js")]
extern "C" {
    /// Runs `f`, counting the `console.warn` calls whose text contains
    /// `text`; -1 when `f` threw.
    #[wasm_bindgen(js_name = warningsWhile)]
    fn warnings_while(text: &str, f: &mut dyn FnMut()) -> i32;
}

/// A valid config (PostHog and Sentry, to a port nothing listens on, kept in
/// memory) with the field at `path` set to the JSON `wrong`.
fn config_with(path: &str, wrong: &str) -> JsValue {
    let mut config = serde_json::json!({
        "posthog": {"apikey": "phc_config_types", "apiurl": "http://127.0.0.1:1",
            "capture_pageview": false},
        "sentry": {"dsn": "http://config-types@127.0.0.1:1/42", "environment": "test",
            "release": "flowfuse@1.0.0", "production_mode": false, "report_localhost": false,
            "traces_sample_rate": 0, "ignore_errors": []},
        "persistence": "memory",
        "respect_dnt": false,
        "cookieless": false,
    });
    let wrong: serde_json::Value = serde_json::from_str(wrong).unwrap();
    match path.split_once('.') {
        Some((part, field)) => config[part][field] = wrong,
        None => config[path] = wrong,
    }
    js_sys::JSON::parse(&config.to_string()).unwrap()
}

#[wasm_bindgen_test]
fn a_field_of_the_wrong_type_is_one_warning_naming_it() {
    let cases = [
        ("posthog.apikey", "7"),
        ("posthog.apiurl", "true"),
        ("posthog.capture_pageview", r#""yes""#),
        ("sentry.dsn", "42"),
        ("sentry.production_mode", "1"),
        ("sentry.environment", "[]"),
        ("sentry.release", "{}"),
        ("sentry.report_localhost", r#""no""#),
        ("sentry.traces_sample_rate", r#""half""#),
        ("sentry.ignore_errors", r#""boom""#),
        ("persistence", "5"),
        ("respect_dnt", r#""true""#),
        ("cookieless", "0"),
    ];
    for (path, wrong) in cases {
        let config = config_with(path, wrong);
        let warnings = warnings_while(path, &mut || drop(init(Some(config.clone()))));
        assert_ne!(warnings, -1, "init threw for a wrong {path}");
        assert_eq!(warnings, 1, "one warning naming {path} (set to {wrong})");
    }
}

#[wasm_bindgen_test]
fn a_config_of_the_wrong_shape_is_one_warning() {
    for config in ["7", r#""posthog""#, "[]"] {
        let config = js_sys::JSON::parse(config).unwrap();
        let warnings = warnings_while("ff-telemetry", &mut || drop(init(Some(config.clone()))));
        assert_eq!(warnings, 1, "one warning for the config {config:?}");
    }
}
