use std::fmt;

use ff_telemetry_wire::{DsnError, UrlError};

/// A dotted path into `flowforge.yml`, such as `telemetry.frontend.sentry.dsn`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct YamlPath(String);

impl YamlPath {
    /// The document root.
    pub fn root() -> Self {
        YamlPath(String::new())
    }

    /// This path with one more mapping key.
    pub fn key(&self, key: &str) -> Self {
        if self.0.is_empty() {
            YamlPath(key.to_owned())
        } else {
            YamlPath(format!("{}.{key}", self.0))
        }
    }

    /// This path with a list index, e.g. `ignore_errors[2]`.
    pub fn index(&self, i: usize) -> Self {
        YamlPath(format!("{}[{i}]", self.0))
    }

    /// The path as text; the root is `(root)`.
    pub fn as_str(&self) -> &str {
        if self.0.is_empty() { "(root)" } else { &self.0 }
    }
}

impl fmt::Display for YamlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is wrong at a path.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    /// The file is not YAML at all here.
    #[error("YAML syntax error at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's description.
        message: String,
    },
    /// A value of the wrong type, e.g. a string where a boolean belongs.
    #[error("expected {expected}, found {found}")]
    WrongType {
        /// What the key takes.
        expected: &'static str,
        /// What the file has, with its type.
        found: String,
    },
    /// A number outside what the key accepts.
    #[error("expected {expected}, found {found}")]
    OutOfRange {
        /// The accepted range.
        expected: &'static str,
        /// The number in the file.
        found: String,
    },
    /// Not an `http(s)` URL.
    #[error("expected an http(s) URL, found {found:?}: {reason}")]
    BadUrl {
        /// The string in the file.
        found: String,
        /// Why it is not a URL.
        reason: UrlError,
    },
    /// Not a Sentry DSN.
    #[error("expected a Sentry DSN, found {found:?}: {reason}")]
    BadDsn {
        /// The string in the file.
        found: String,
        /// Why it is not a DSN.
        reason: DsnError,
    },
}

/// One problem in `flowforge.yml`, with the YAML path it is at.
///
/// ```
/// # #[cfg(feature = "yaml")] {
/// use ff_telemetry_core::config::parse_flowforge_yml;
/// let errors = parse_flowforge_yml("telemetry:\n  enabled: yes\n").unwrap_err();
/// assert_eq!(
///     errors.to_string(),
///     "telemetry.enabled: expected a boolean (true or false), found string \"yes\""
/// );
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct ConfigError {
    /// Where.
    pub path: YamlPath,
    /// What.
    pub problem: Problem,
}

/// Every problem found in one file, in document order, and the warnings
/// found alongside them (so an administrator fixing the errors sees those too).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigErrors {
    /// What stops the config from being used; never empty.
    pub errors: Vec<ConfigError>,
    /// What would only have been warned about.
    pub warnings: Vec<ConfigWarning>,
}

impl fmt::Display for ConfigErrors {
    /// The errors, one per line (the warnings are not errors).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Something accepted but worth telling the administrator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {kind}")]
pub struct ConfigWarning {
    /// Where.
    pub path: YamlPath,
    /// What.
    pub kind: WarningKind,
}

/// Kinds of warning.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WarningKind {
    /// A key this version does not know (a typo, or a newer option); ignored.
    #[error("unknown key, ignored")]
    UnknownKey,
    /// A key that used to mean something and is now ignored.
    #[error("deprecated and ignored: {0}")]
    Deprecated(&'static str),
}
