//! Core's `flowforge.yml` parser: an administrator's file, possibly hostile
//! (aliases, deep nesting, odd scalars).

use ff_telemetry_core::config::parse_flowforge_yml;

use crate::engine::{Target, shape};

/// `parse_flowforge_yml`: a config or a non-empty list of located errors, the
/// same each time.
#[derive(Debug, Default)]
pub struct FlowforgeYmlTarget;

const EXAMPLE: &str = include_str!("../../../core/tests/fixtures/flowforge.example.yml");

impl Target for FlowforgeYmlTarget {
    fn name(&self) -> &'static str {
        "flowforge-yml"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        [
            EXAMPLE,
            "port: 3000\ntelemetry:\n  enabled: false\n",
            "telemetry:\n  url: http://127.0.0.1:3001/ping\n  frontend:\n    sentry:\n      dsn: x\n      traces_sample_rate: 2\n",
            "a: &a [x, x]\nb: &b [*a, *a]\ntelemetry: {enabled: *b}\n",
        ]
        .map(|s| s.as_bytes().to_vec())
        .into()
    }

    fn dictionary(&self) -> &'static [&'static str] {
        &[
            "telemetry:",
            "frontend:",
            "backend:",
            "posthog:",
            "sentry:",
            "plausible:",
            "prometheus:",
            "enabled:",
            "dsn:",
            "apikey:",
            "apiurl:",
            "url:",
            "\n  ",
            "&a",
            "*a",
            "<<:",
            "!!binary",
            "~",
            "- ",
            "---\n",
        ]
    }

    fn run(&mut self, input: &[u8]) -> Result<String, String> {
        let text = String::from_utf8_lossy(input);
        let first = parse_flowforge_yml(&text);
        if parse_flowforge_yml(&text) != first {
            return Err(format!("{text:?} parses differently the second time"));
        }
        match first {
            Ok(loaded) => Ok(format!("ok, {} warnings", loaded.warnings.len())),
            Err(errors) => {
                let Some(error) = errors.errors.first() else {
                    return Err(format!("{text:?}: an error without errors"));
                };
                let message = errors.to_string();
                if message.trim().is_empty() {
                    return Err(format!("{text:?}: an error without a message"));
                }
                Ok(shape(&error.to_string()))
            }
        }
    }
}
