//! The platform's own settings in `flowforge.yml` (everything but `telemetry:`,
//! which `ff-telemetry-core` reads).
//!
//! ```yaml
//! port: 3000                # HTTP port (0 picks a free one)
//! host: 127.0.0.1           # address to listen on
//! data_dir: ./data          # where the SQLite file lives (--data-dir overrides)
//! db:
//!   url: postgres://user@127.0.0.1/flowfuse   # default: SQLite <data_dir>/platform.db
//! spa_dir: ./dist           # the single-page app to serve (--spa-dir overrides)
//! admin:
//!   token: change-me        # bearer token of the admin API; env FF_ADMIN_TOKEN overrides
//! license:
//!   id: 4c105579-782b-4d53-af62-cf7fa69f6b43
//!   type: EE                # CE (default, unlicensed), EE or DEV
//! driver:
//!   type: localfs           # reported as platform.config.driver
//! broker:
//!   url: mqtt://127.0.0.1:1883   # present → platform.config.broker.enabled
//! fileStore:
//!   url: http://127.0.0.1:3001   # present → platform.config.fileStore.enabled
//! email:
//!   enabled: false
//! ```

use std::fmt;
use std::path::PathBuf;

use ff_telemetry_core::config::{ConfigWarning, TelemetryConfig, parse_flowforge_yml};
use ff_telemetry_wire::ping::{FeatureFlag, LicenseInfo, LicenseType, PlatformConfigInfo};
use serde_yaml_ng::{Mapping, Value};

/// The environment variable that overrides `admin.token`.
pub const ADMIN_TOKEN_ENV: &str = "FF_ADMIN_TOKEN";

/// The platform's resolved settings.
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformConfig {
    /// `host`
    pub host: String,
    /// `port`
    pub port: u16,
    /// `data_dir`
    pub data_dir: Option<PathBuf>,
    /// `db.url`: a `postgres://` or `sqlite:` URL; `None` means the default SQLite file.
    pub database_url: Option<String>,
    /// `spa_dir`
    pub spa_dir: Option<PathBuf>,
    /// `admin.token`
    pub admin_token: Option<String>,
    /// `license`
    pub license: LicenseInfo,
    /// `driver.type`, `broker`, `fileStore`, `email.enabled`
    pub features: PlatformConfigInfo,
}

/// One problem in the platform's part of `flowforge.yml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformProblem {
    /// The YAML path, e.g. `license.type`.
    pub path: String,
    /// What is wrong, or what was ignored.
    pub message: String,
}

impl fmt::Display for PlatformProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A whole `flowforge.yml`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedFile {
    /// The platform's settings.
    pub platform: PlatformConfig,
    /// The `telemetry:` section.
    pub telemetry: TelemetryConfig,
    /// Everything accepted but worth telling, each line starting with its YAML path.
    pub warnings: Vec<String>,
}

/// Every error of a `flowforge.yml`, each starting with its YAML path, and the
/// platform's warnings found beside them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .errors.join("\n"))]
pub struct FileErrors {
    /// What stops the platform from starting.
    pub errors: Vec<String>,
    /// What would only be warned about.
    pub warnings: Vec<String>,
}

const KNOWN_KEYS: &[&str] = &[
    "host",
    "port",
    "data_dir",
    "db",
    "spa_dir",
    "admin",
    "license",
    "driver",
    "broker",
    "fileStore",
    "email",
    "telemetry",
    "base_url",
    "domain",
    "logging",
];

/// Reads a whole `flowforge.yml`: the platform's keys here, `telemetry:` through
/// `ff_telemetry_core`. Reports every problem of both parts at once.
///
/// ```
/// let loaded = ff_platform::config::load_flowforge_yml("port: 8080\nlicense: {type: DEV, id: x}\n").unwrap();
/// assert_eq!(loaded.platform.port, 8080);
/// assert!(loaded.platform.license.kind.is_licensed());
/// let errors = ff_platform::config::load_flowforge_yml("port: web\ntelemetry: {enabled: 3}\n").unwrap_err();
/// assert_eq!(errors.errors.len(), 2);
/// ```
pub fn load_flowforge_yml(text: &str) -> Result<LoadedFile, FileErrors> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let telemetry = match parse_flowforge_yml(text) {
        Ok(loaded) => {
            warnings.extend(loaded.warnings.iter().map(ConfigWarning::to_string));
            Some(loaded.config)
        }
        Err(e) => {
            errors.extend(e.errors.iter().map(ToString::to_string));
            warnings.extend(e.warnings.iter().map(ConfigWarning::to_string));
            None
        }
    };
    // A syntax error is already reported by the telemetry parser.
    let platform = match serde_yaml_ng::from_str::<Value>(text) {
        Ok(Value::Mapping(root)) => {
            let mut walk = Walk::default();
            let platform = walk.platform(&root);
            errors.extend(walk.errors.iter().map(ToString::to_string));
            warnings.extend(walk.warnings.iter().map(ToString::to_string));
            Some(platform)
        }
        Ok(Value::Null) => Some(Walk::default().platform(&Mapping::new())),
        Ok(_) | Err(_) => None,
    };
    match (platform, telemetry) {
        (Some(platform), Some(telemetry)) if errors.is_empty() => Ok(LoadedFile {
            platform,
            telemetry,
            warnings,
        }),
        _ => Err(FileErrors { errors, warnings }),
    }
}

#[derive(Default)]
struct Walk {
    errors: Vec<PlatformProblem>,
    warnings: Vec<PlatformProblem>,
}

impl Walk {
    fn platform(&mut self, root: &Mapping) -> PlatformConfig {
        for key in root.keys() {
            let name = key.as_str().unwrap_or_default();
            if !KNOWN_KEYS.contains(&name) {
                self.warnings.push(problem(name, "unknown key, ignored"));
            }
        }
        let db = self.section(root, "db", &["url"]);
        let admin = self.section(root, "admin", &["token"]);
        let license = self.section(root, "license", &["id", "type"]);
        let driver = self.section(root, "driver", &["type"]);
        let email = self.section(root, "email", &["enabled"]);
        PlatformConfig {
            host: self
                .string(root.get("host"), "host")
                .unwrap_or_else(|| "127.0.0.1".to_owned()),
            port: self.port(root.get("port")),
            data_dir: self
                .string(root.get("data_dir"), "data_dir")
                .map(PathBuf::from),
            database_url: self.database_url(db.and_then(|m| m.get("url"))),
            spa_dir: self
                .string(root.get("spa_dir"), "spa_dir")
                .map(PathBuf::from),
            admin_token: self
                .string(admin.and_then(|m| m.get("token")), "admin.token")
                .filter(|t| !t.trim().is_empty()),
            license: self.license(license),
            features: PlatformConfigInfo {
                driver: Some(
                    self.string(driver.and_then(|m| m.get("type")), "driver.type")
                        .unwrap_or_else(|| "localfs".to_owned()),
                ),
                broker: Some(FeatureFlag {
                    enabled: present(root.get("broker")),
                }),
                file_store: Some(FeatureFlag {
                    enabled: present(root.get("fileStore")),
                }),
                email: Some(FeatureFlag {
                    enabled: self
                        .boolean(email.and_then(|m| m.get("enabled")), "email.enabled")
                        .unwrap_or(false),
                }),
            },
        }
    }

    /// A mapping under `key`, warning about keys it does not know.
    fn section<'a>(&mut self, root: &'a Mapping, key: &str, known: &[&str]) -> Option<&'a Mapping> {
        match root.get(key)? {
            Value::Null => None,
            Value::Mapping(m) => {
                for k in m.keys() {
                    let name = k.as_str().unwrap_or_default();
                    if !known.contains(&name) {
                        self.warnings
                            .push(problem(&format!("{key}.{name}"), "unknown key, ignored"));
                    }
                }
                Some(m)
            }
            other => {
                self.wrong_type(key, "a mapping", other);
                None
            }
        }
    }

    fn string(&mut self, value: Option<&Value>, path: &str) -> Option<String> {
        match value? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => {
                self.wrong_type(path, "a string", other);
                None
            }
        }
    }

    fn boolean(&mut self, value: Option<&Value>, path: &str) -> Option<bool> {
        match value? {
            Value::Null => None,
            Value::Bool(b) => Some(*b),
            other => {
                self.wrong_type(path, "a boolean (true or false)", other);
                None
            }
        }
    }

    fn port(&mut self, value: Option<&Value>) -> u16 {
        const DEFAULT_PORT: u16 = 3000;
        match value {
            None | Some(Value::Null) => DEFAULT_PORT,
            Some(Value::Number(n)) => match n.as_u64().and_then(|n| u16::try_from(n).ok()) {
                Some(port) => port,
                None => {
                    self.errors
                        .push(problem("port", &format!("expected 0 to 65535, found {n}")));
                    DEFAULT_PORT
                }
            },
            Some(other) => {
                self.wrong_type("port", "a port number", other);
                DEFAULT_PORT
            }
        }
    }

    fn database_url(&mut self, value: Option<&Value>) -> Option<String> {
        let url = self.string(value, "db.url")?;
        if url.starts_with("postgres://")
            || url.starts_with("postgresql://")
            || url.starts_with("sqlite:")
        {
            Some(url)
        } else {
            self.errors.push(problem(
                "db.url",
                &format!("expected a postgres:// or sqlite: URL, found {url:?}"),
            ));
            None
        }
    }

    fn license(&mut self, section: Option<&Mapping>) -> LicenseInfo {
        let unlicensed = LicenseInfo {
            id: None,
            kind: LicenseType::Ce,
        };
        let Some(section) = section else {
            return unlicensed;
        };
        let id = self.string(section.get("id"), "license.id");
        let kind = match self.string(section.get("type"), "license.type") {
            None => LicenseType::Ce,
            Some(text) => match text.parse::<LicenseType>() {
                Ok(kind) => kind,
                Err(_) => {
                    self.errors.push(problem(
                        "license.type",
                        &format!("expected CE, EE or DEV, found {text:?}"),
                    ));
                    return unlicensed;
                }
            },
        };
        if kind.is_licensed() && id.is_none() {
            self.errors
                .push(problem("license.id", "required for an EE or DEV licence"));
        }
        LicenseInfo { id, kind }
    }

    fn wrong_type(&mut self, path: &str, expected: &str, found: &Value) {
        let found = match found {
            Value::Bool(b) => format!("boolean {b}"),
            Value::Number(n) => format!("number {n}"),
            Value::String(s) => format!("string {s:?}"),
            Value::Sequence(_) => "a list".to_owned(),
            Value::Mapping(_) => "a mapping".to_owned(),
            Value::Null | Value::Tagged(_) => "another value".to_owned(),
        };
        self.errors.push(problem(
            path,
            &format!("expected {expected}, found {found}"),
        ));
    }
}

fn present(value: Option<&Value>) -> bool {
    !matches!(value, None | Some(Value::Null))
}

fn problem(path: &str, message: &str) -> PlatformProblem {
    PlatformProblem {
        path: path.to_owned(),
        message: message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_from_an_empty_file() {
        let loaded = load_flowforge_yml("").unwrap();
        let platform = loaded.platform;
        assert_eq!((platform.host.as_str(), platform.port), ("127.0.0.1", 3000));
        assert_eq!(platform.license.kind, LicenseType::Ce);
        assert_eq!(platform.database_url, None);
        assert_eq!(platform.admin_token, None);
        assert_eq!(platform.features.driver.as_deref(), Some("localfs"));
        assert!(loaded.telemetry.enabled);
    }

    #[test]
    fn every_problem_of_both_parts_is_reported_with_its_path() {
        let yml = "\
port: 70000
db: {url: mysql://x}
license: {type: PRO}
email: {enabled: yes}
admin: token
colour: blue
telemetry:
  enabled: maybe
  url: not-a-url
";
        let errors = load_flowforge_yml(yml).unwrap_err().errors;
        let paths: Vec<&str> = errors
            .iter()
            .map(|e| e.split(':').next().unwrap_or_default())
            .collect();
        for path in [
            "telemetry.enabled",
            "telemetry.url",
            "port",
            "db.url",
            "license.type",
            "email.enabled",
            "admin",
        ] {
            assert!(paths.contains(&path), "{path} missing from {errors:?}");
        }
        assert_eq!(errors.len(), 7, "{errors:?}");
    }

    #[test]
    fn warnings_name_unknown_keys() {
        let loaded =
            load_flowforge_yml("colour: blue\nlicense: {id: a, type: EE, seats: 3}\n").unwrap();
        assert_eq!(
            loaded.warnings,
            [
                "colour: unknown key, ignored",
                "license.seats: unknown key, ignored"
            ]
        );
    }

    #[test]
    fn licensed_needs_an_id_and_features_are_read() {
        let errors = load_flowforge_yml("license: {type: EE}\n")
            .unwrap_err()
            .errors;
        assert_eq!(errors, ["license.id: required for an EE or DEV licence"]);
        let yml = "driver: {type: kubernetes}\nbroker: {url: 'mqtt://b'}\nemail: {enabled: true}\n";
        let features = load_flowforge_yml(yml).unwrap().platform.features;
        assert_eq!(features.driver.as_deref(), Some("kubernetes"));
        assert_eq!(features.broker, Some(FeatureFlag { enabled: true }));
        assert_eq!(features.file_store, Some(FeatureFlag { enabled: false }));
        assert_eq!(features.email, Some(FeatureFlag { enabled: true }));
    }
}
