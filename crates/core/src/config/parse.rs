//! Validation of `flowforge.yml` that reports every problem at once.
//!
//! serde's derive stops at the first error, so the file is read into a YAML value
//! tree and walked by hand: each key is checked, its problem recorded with its path,
//! and the walk goes on.

use serde_yaml_ng::{Mapping, Value};

use super::{
    BackendSentrySettings, BackendSettings, BrowserSentrySettings, ConfigError, ConfigErrors,
    ConfigWarning, DEFAULT_STARTUP_DELAY_SECONDS, FrontendSettings, PosthogSettings, Problem,
    PrometheusSettings, TelemetryConfig, WarningKind, YamlPath, default_posthog_url,
};
use ff_telemetry_wire::{Dsn, HttpUrl};

/// A valid config and what was worth a warning while reading it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedConfig {
    /// The resolved `telemetry:` section.
    pub config: TelemetryConfig,
    /// Unknown and deprecated keys; none of them stops the platform.
    pub warnings: Vec<ConfigWarning>,
}

/// Reads the `telemetry:` section of a whole `flowforge.yml` (other top-level keys
/// are left to their owners).
///
/// ```
/// use ff_telemetry_core::config::parse_flowforge_yml;
/// let yml = "port: 3000\ntelemetry:\n  enabled: false\n  frontend:\n    plausible:\n      domain: x\n";
/// let loaded = parse_flowforge_yml(yml).unwrap();
/// assert!(!loaded.config.enabled);
/// assert_eq!(loaded.warnings[0].path.as_str(), "telemetry.frontend.plausible");
///
/// let errors = parse_flowforge_yml("telemetry:\n  url: ping.example.com\n  enabled: 1\n").unwrap_err();
/// assert_eq!(errors.errors.len(), 2);
/// ```
pub fn parse_flowforge_yml(text: &str) -> Result<LoadedConfig, ConfigErrors> {
    let root: Value = match serde_yaml_ng::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return Err(ConfigErrors {
                errors: vec![syntax_error(text, &e)],
                warnings: Vec::new(),
            });
        }
    };
    let mut walk = Walk::default();
    let root_path = YamlPath::root();
    let config = match &root {
        Value::Null => TelemetryConfig::default(),
        Value::Mapping(top) => match top.get("telemetry") {
            None | Some(Value::Null) => TelemetryConfig::default(),
            Some(section) => walk.telemetry(&root_path.key("telemetry"), section),
        },
        other => {
            walk.wrong_type(&root_path, "a mapping of settings", other);
            TelemetryConfig::default()
        }
    };
    if walk.errors.is_empty() {
        Ok(LoadedConfig {
            config,
            warnings: walk.warnings,
        })
    } else {
        Err(ConfigErrors {
            errors: walk.errors,
            warnings: walk.warnings,
        })
    }
}

#[derive(Default)]
struct Walk {
    errors: Vec<ConfigError>,
    warnings: Vec<ConfigWarning>,
}

impl Walk {
    fn telemetry(&mut self, path: &YamlPath, v: &Value) -> TelemetryConfig {
        let defaults = TelemetryConfig::default();
        let Some(m) = self.section(
            path,
            v,
            &[
                "enabled",
                "url",
                "startup_delay_seconds",
                "frontend",
                "backend",
            ],
        ) else {
            return defaults;
        };
        let startup_delay_s = self
            .number(
                &path.key("startup_delay_seconds"),
                m.get("startup_delay_seconds"),
                0.0..=86_400.0,
                "a number of seconds from 0 to 86400",
            )
            .unwrap_or(DEFAULT_STARTUP_DELAY_SECONDS);
        TelemetryConfig {
            enabled: self
                .bool(&path.key("enabled"), m.get("enabled"))
                .unwrap_or(defaults.enabled),
            url: self
                .url(&path.key("url"), m.get("url"))
                .unwrap_or(defaults.url),
            startup_delay_ms: (startup_delay_s * 1000.0).round() as u64,
            frontend: self.frontend(&path.key("frontend"), m.get("frontend")),
            backend: self.backend(&path.key("backend"), m.get("backend")),
        }
    }

    fn frontend(&mut self, path: &YamlPath, v: Option<&Value>) -> FrontendSettings {
        let Some(m) = v.and_then(|v| self.section(path, v, &["posthog", "sentry", "plausible"]))
        else {
            return FrontendSettings::default();
        };
        if m.contains_key("plausible") {
            self.warnings.push(ConfigWarning {
                path: path.key("plausible"),
                kind: WarningKind::Deprecated("Plausible support was removed; use PostHog"),
            });
        }
        FrontendSettings {
            posthog: m
                .get("posthog")
                .and_then(|v| self.posthog(&path.key("posthog"), v)),
            sentry: m
                .get("sentry")
                .and_then(|v| self.browser_sentry(&path.key("sentry"), v)),
        }
    }

    fn posthog(&mut self, path: &YamlPath, v: &Value) -> Option<PosthogSettings> {
        let m = self.section(path, v, &["apikey", "apiurl", "capture_pageview"])?;
        let apikey = self.string(&path.key("apikey"), m.get("apikey"));
        let apiurl = self.url(&path.key("apiurl"), m.get("apiurl"));
        let capture_pageview = self.bool(&path.key("capture_pageview"), m.get("capture_pageview"));
        Some(PosthogSettings {
            apikey: apikey?,
            apiurl: apiurl.unwrap_or_else(default_posthog_url),
            capture_pageview: capture_pageview.unwrap_or(true),
        })
    }

    fn browser_sentry(&mut self, path: &YamlPath, v: &Value) -> Option<BrowserSentrySettings> {
        let m = self.section(
            path,
            v,
            &[
                "dsn",
                "production_mode",
                "report_localhost",
                "traces_sample_rate",
                "ignore_errors",
            ],
        )?;
        let dsn = self.dsn(&path.key("dsn"), m.get("dsn"));
        let production_mode = self.bool(&path.key("production_mode"), m.get("production_mode"));
        let report_localhost = self.bool(&path.key("report_localhost"), m.get("report_localhost"));
        let traces_sample_rate = self.number(
            &path.key("traces_sample_rate"),
            m.get("traces_sample_rate"),
            0.0..=1.0,
            "a sample rate from 0 to 1",
        );
        let ignore_errors = self.strings(&path.key("ignore_errors"), m.get("ignore_errors"));
        Some(BrowserSentrySettings {
            dsn: dsn?,
            production_mode: production_mode.unwrap_or(false),
            report_localhost: report_localhost.unwrap_or(false),
            traces_sample_rate,
            ignore_errors,
        })
    }

    fn backend(&mut self, path: &YamlPath, v: Option<&Value>) -> BackendSettings {
        let Some(m) = v.and_then(|v| self.section(path, v, &["sentry", "prometheus"])) else {
            return BackendSettings::default();
        };
        let sentry = m.get("sentry").and_then(|v| {
            let path = path.key("sentry");
            let m = self.section(&path, v, &["dsn"])?;
            Some(BackendSentrySettings {
                dsn: self.dsn(&path.key("dsn"), m.get("dsn"))?,
            })
        });
        let prometheus = match m.get("prometheus") {
            None => PrometheusSettings::default(),
            Some(v) => {
                let path = path.key("prometheus");
                match self.section(&path, v, &["enabled", "token"]) {
                    None => PrometheusSettings::default(),
                    Some(m) => PrometheusSettings {
                        enabled: self
                            .bool(&path.key("enabled"), m.get("enabled"))
                            .unwrap_or(false),
                        token: self.string(&path.key("token"), m.get("token")),
                    },
                }
            }
        };
        BackendSettings { sentry, prometheus }
    }

    /// A mapping whose keys are checked against `known`; `None` for null or a wrong type.
    fn section<'v>(
        &mut self,
        path: &YamlPath,
        v: &'v Value,
        known: &[&str],
    ) -> Option<&'v Mapping> {
        match v {
            Value::Null => None,
            Value::Mapping(m) => {
                for key in m.keys() {
                    match key.as_str() {
                        Some(k) if known.contains(&k) => {}
                        Some(k) => self.warnings.push(ConfigWarning {
                            path: path.key(k),
                            kind: WarningKind::UnknownKey,
                        }),
                        None => self.wrong_type(path, "string keys", key),
                    }
                }
                Some(m)
            }
            other => {
                self.wrong_type(path, "a mapping of settings", other);
                None
            }
        }
    }

    fn bool(&mut self, path: &YamlPath, v: Option<&Value>) -> Option<bool> {
        match v? {
            Value::Null => None,
            Value::Bool(b) => Some(*b),
            other => {
                self.wrong_type(path, "a boolean (true or false)", other);
                None
            }
        }
    }

    /// A non-empty string; null and `""` both mean "not set".
    fn string(&mut self, path: &YamlPath, v: Option<&Value>) -> Option<String> {
        match v? {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) => Some(s.trim().to_owned()),
            other => {
                self.wrong_type(path, "a string", other);
                None
            }
        }
    }

    fn strings(&mut self, path: &YamlPath, v: Option<&Value>) -> Vec<String> {
        match v {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Sequence(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| match item {
                    Value::String(s) => Some(s.clone()),
                    other => {
                        self.wrong_type(&path.index(i), "a string", other);
                        None
                    }
                })
                .collect(),
            Some(other) => {
                self.wrong_type(path, "a list of strings", other);
                Vec::new()
            }
        }
    }

    fn number(
        &mut self,
        path: &YamlPath,
        v: Option<&Value>,
        range: std::ops::RangeInclusive<f64>,
        expected: &'static str,
    ) -> Option<f64> {
        match v? {
            Value::Null => None,
            Value::Number(n) => match n.as_f64() {
                Some(x) if range.contains(&x) => Some(x),
                _ => {
                    self.errors.push(ConfigError {
                        path: path.clone(),
                        problem: Problem::OutOfRange {
                            expected,
                            found: n.to_string(),
                        },
                    });
                    None
                }
            },
            other => {
                self.wrong_type(path, expected, other);
                None
            }
        }
    }

    fn url(&mut self, path: &YamlPath, v: Option<&Value>) -> Option<HttpUrl> {
        let s = self.string(path, v)?;
        match s.parse() {
            Ok(url) => Some(url),
            Err(reason) => {
                self.errors.push(ConfigError {
                    path: path.clone(),
                    problem: Problem::BadUrl { found: s, reason },
                });
                None
            }
        }
    }

    fn dsn(&mut self, path: &YamlPath, v: Option<&Value>) -> Option<Dsn> {
        let s = self.string(path, v)?;
        match s.parse() {
            Ok(dsn) => Some(dsn),
            Err(reason) => {
                self.errors.push(ConfigError {
                    path: path.clone(),
                    problem: Problem::BadDsn { found: s, reason },
                });
                None
            }
        }
    }

    fn wrong_type(&mut self, path: &YamlPath, expected: &'static str, found: &Value) {
        self.errors.push(ConfigError {
            path: path.clone(),
            problem: Problem::WrongType {
                expected,
                found: describe(found),
            },
        });
    }
}

/// A value with its type, for "expected …, found …" messages.
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "nothing (null)".to_owned(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => format!("string {s:?}"),
        Value::Sequence(_) => "a list".to_owned(),
        Value::Mapping(_) => "a mapping".to_owned(),
        Value::Tagged(t) => format!("a value tagged {}", t.tag),
    }
}

fn syntax_error(text: &str, e: &serde_yaml_ng::Error) -> ConfigError {
    let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
    let message = e.to_string();
    // The parser appends " at line L column C"; the location is reported separately.
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_owned();
    ConfigError {
        path: path_at_line(text, line),
        problem: Problem::Syntax {
            line,
            column,
            message,
        },
    }
}

/// The path of the mapping key in effect at `line` (1-based), judged by indentation.
///
/// A syntax error has no value tree to take a path from, but administrators still
/// want to know which setting to look at.
fn path_at_line(text: &str, line: usize) -> YamlPath {
    let mut stack: Vec<(usize, &str)> = Vec::new();
    for raw in text.lines().take(line) {
        let content = raw.trim_start();
        if content.is_empty() || content.starts_with('#') || content.starts_with('-') {
            continue;
        }
        let indent = raw.len() - content.len();
        let Some((key, _)) = content.split_once(':') else {
            continue;
        };
        let key = key.trim().trim_matches(['"', '\'']);
        if key.is_empty() || key.contains(char::is_whitespace) && !key.starts_with('"') {
            continue;
        }
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        stack.push((indent, key));
    }
    stack
        .iter()
        .fold(YamlPath::root(), |path, (_, key)| path.key(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_at_line_follows_indentation() {
        let text = "a:\n  b:\n    c: 1\n  d:\n    e: [\n";
        assert_eq!(path_at_line(text, 3).as_str(), "a.b.c");
        assert_eq!(path_at_line(text, 5).as_str(), "a.d.e");
        assert_eq!(path_at_line("", 1).as_str(), "(root)");
    }
}
