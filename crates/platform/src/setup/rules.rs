//! First-run setup: what the administrator's setup request must hold, the password
//! rule, and which telemetry choice gets recorded.
//!
//! Pure: the platform hands in the parsed JSON body and the licence state, and
//! stores what comes back.

use std::fmt;

use serde_json::{Map, Value};

/// The fields of a setup request, in the order they are checked and reported.
pub const SETUP_FIELDS: [&str; 4] = ["name", "email", "password", "telemetry"];

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest password accepted (a key-derivation function over megabytes of input
/// is a denial of service).
pub const MAX_PASSWORD_CHARS: usize = 128;
/// The longest administrator name accepted.
pub const MAX_NAME_CHARS: usize = 64;
/// The longest email address accepted (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

/// A setup request that passed every check.
#[derive(Clone, PartialEq, Eq)]
pub struct SetupRequest {
    /// The administrator's name, trimmed.
    pub name: String,
    /// The administrator's email address, trimmed.
    pub email: String,
    /// The password as typed (never stored; the platform stores a hash).
    pub password: String,
    /// Whether the administrator agreed to share usage information.
    pub telemetry: bool,
}

impl fmt::Debug for SetupRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetupRequest")
            .field("name", &self.name)
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .field("telemetry", &self.telemetry)
            .finish()
    }
}

/// One problem of a setup request, naming its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct FieldError {
    /// The JSON field (`name`, `email`, `password`, `telemetry`, another key that is
    /// not expected, or `body` when the request is not a JSON object).
    pub field: String,
    /// What is wrong with it.
    pub problem: FieldProblem,
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldProblem {
    /// The field is absent or `null`.
    #[error("is required")]
    Missing,
    /// The request body is not JSON at all (field `body`).
    #[error("not JSON: {0}")]
    NotJson(String),
    /// The field has the wrong JSON type.
    #[error("expected {0}")]
    WrongType(&'static str),
    /// The field is not one of [`SETUP_FIELDS`].
    #[error("is not a setup field")]
    Unknown,
    /// The name is empty, too long or holds control characters.
    #[error("must be 1 to {MAX_NAME_CHARS} characters without control characters")]
    BadName,
    /// The email address is not of the form `local@domain.tld`.
    #[error("must be an email address like admin@example.com")]
    BadEmail,
    /// The password breaks a rule.
    #[error("{0}")]
    WeakPassword(PasswordRule),
}

/// A password rule, with the sentence shown to the administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRule {
    /// Shorter than [`MIN_PASSWORD_CHARS`].
    #[error("must be at least {MIN_PASSWORD_CHARS} characters long")]
    TooShort,
    /// Longer than [`MAX_PASSWORD_CHARS`].
    #[error("must be at most {MAX_PASSWORD_CHARS} characters long")]
    TooLong,
    /// Only letters, or only digits, or only symbols.
    #[error("must mix letters with digits or symbols")]
    OneKindOfCharacter,
    /// Contains the administrator's name or the part of the email before `@`.
    #[error("must not contain your name or email address")]
    ContainsIdentity,
}

/// Checks a setup request body: every field, every problem at once (an empty list
/// is never returned as an error).
///
/// ```
/// use ff_platform::setup::rules::{PasswordRule, FieldProblem, validate_setup};
/// let ok = serde_json::json!({
///     "name": "Ada", "email": "ada@example.com", "password": "correct-horse-7", "telemetry": false,
/// });
/// assert!(!validate_setup(&ok).unwrap().telemetry);
///
/// let bad = serde_json::json!({"name": "", "email": "ada", "password": "short", "telemetry": "yes"});
/// let errors = validate_setup(&bad).unwrap_err();
/// let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
/// assert_eq!(fields, ["name", "email", "password", "telemetry"]);
/// assert_eq!(errors[2].problem, FieldProblem::WeakPassword(PasswordRule::TooShort));
/// ```
pub fn validate_setup(body: &Value) -> Result<SetupRequest, Vec<FieldError>> {
    let Some(object) = body.as_object() else {
        return Err(vec![FieldError {
            field: "body".to_owned(),
            problem: FieldProblem::WrongType("a JSON object"),
        }]);
    };
    let mut errors = Vec::new();
    let mut fail = |field: &str, problem: FieldProblem| {
        errors.push(FieldError {
            field: field.to_owned(),
            problem,
        });
    };
    let name = string_field(object, "name").and_then(|name| {
        let name = name.trim();
        let n_chars = name.chars().count();
        if n_chars == 0 || n_chars > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            Err(FieldProblem::BadName)
        } else {
            Ok(name.to_owned())
        }
    });
    let email = string_field(object, "email").and_then(|email| {
        let email = email.trim();
        if is_plausible_email(email) {
            Ok(email.to_owned())
        } else {
            Err(FieldProblem::BadEmail)
        }
    });
    let password = string_field(object, "password").and_then(|password| {
        let identity = [
            name.as_deref().unwrap_or_default(),
            email
                .as_deref()
                .ok()
                .and_then(|e| e.split('@').next())
                .unwrap_or_default(),
        ];
        match check_password(password, &identity) {
            Some(rule) => Err(FieldProblem::WeakPassword(rule)),
            None => Ok(password.to_owned()),
        }
    });
    let telemetry = match object.get("telemetry") {
        None | Some(Value::Null) => Err(FieldProblem::Missing),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(FieldProblem::WrongType("true or false")),
    };
    let name = name.map_err(|p| fail("name", p)).ok();
    let email = email.map_err(|p| fail("email", p)).ok();
    let password = password.map_err(|p| fail("password", p)).ok();
    let telemetry = telemetry.map_err(|p| fail("telemetry", p)).ok();
    for key in object.keys() {
        if !SETUP_FIELDS.contains(&key.as_str()) {
            fail(key, FieldProblem::Unknown);
        }
    }
    match (name, email, password, telemetry) {
        (Some(name), Some(email), Some(password), Some(telemetry)) if errors.is_empty() => {
            Ok(SetupRequest {
                name,
                email,
                password,
                telemetry,
            })
        }
        _ => Err(errors),
    }
}

/// The first password rule `password` breaks, if any. `identity` holds the strings
/// it must not contain (case-insensitively; those shorter than 3 characters are
/// ignored, so a one-letter name does not forbid that letter).
///
/// ```
/// use ff_platform::setup::rules::{PasswordRule, check_password};
/// assert_eq!(check_password("abcdefgh", &[]), Some(PasswordRule::OneKindOfCharacter));
/// assert_eq!(check_password("ada-lovelace-1", &["Lovelace"]), Some(PasswordRule::ContainsIdentity));
/// assert_eq!(check_password("tr0ub4dor&3", &["ada"]), None);
/// ```
pub fn check_password(password: &str, identity: &[&str]) -> Option<PasswordRule> {
    let n_chars = password.chars().count();
    if n_chars < MIN_PASSWORD_CHARS {
        return Some(PasswordRule::TooShort);
    }
    if n_chars > MAX_PASSWORD_CHARS {
        return Some(PasswordRule::TooLong);
    }
    let has_letter = password.chars().any(char::is_alphabetic);
    let has_other = password.chars().any(|c| !c.is_alphabetic());
    if !(has_letter && has_other) {
        return Some(PasswordRule::OneKindOfCharacter);
    }
    let lower = password.to_lowercase();
    let contains_identity = identity
        .iter()
        .map(|part| part.trim().to_lowercase())
        .any(|part| part.chars().count() >= 3 && lower.contains(&part));
    contains_identity.then_some(PasswordRule::ContainsIdentity)
}

/// What the setup records for the telemetry question, and whether it overrode the
/// administrator's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelemetryChoice {
    /// The value stored as the admin setting `telemetry:enabled`.
    pub enabled: bool,
    /// `true` when the administrator asked for `false` on a licensed install, which
    /// cannot opt out.
    pub overridden: bool,
}

/// The telemetry choice to record: the administrator's answer, except that a
/// licensed install always shares usage information.
///
/// ```
/// use ff_platform::setup::rules::{TelemetryChoice, telemetry_choice};
/// assert_eq!(telemetry_choice(false, false), TelemetryChoice { enabled: false, overridden: false });
/// assert_eq!(telemetry_choice(false, true), TelemetryChoice { enabled: true, overridden: true });
/// ```
pub fn telemetry_choice(requested: bool, licensed: bool) -> TelemetryChoice {
    TelemetryChoice {
        enabled: requested || licensed,
        overridden: licensed && !requested,
    }
}

fn string_field<'a>(object: &'a Map<String, Value>, field: &str) -> Result<&'a str, FieldProblem> {
    match object.get(field) {
        None | Some(Value::Null) => Err(FieldProblem::Missing),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(FieldProblem::WrongType("a string")),
    }
}

/// `local@domain.tld` with no spaces: enough to catch typing mistakes; only a sent
/// mail proves an address.
fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let labels_ok = domain.split('.').count() >= 2
        && domain
            .split('.')
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
    email.chars().count() <= MAX_EMAIL_CHARS
        && !local.is_empty()
        && !domain.contains('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && labels_ok
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn valid() -> Value {
        json!({"name": "Ada Admin", "email": "ada@example.com", "password": "s3cure-enough", "telemetry": true})
    }

    fn with(field: &str, value: Value) -> Value {
        let mut body = valid();
        body[field] = value;
        body
    }

    fn without(field: &str) -> Value {
        let mut body = valid();
        body.as_object_mut().unwrap().remove(field);
        body
    }

    fn problems(body: &Value) -> Vec<(String, FieldProblem)> {
        validate_setup(body)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.problem))
            .collect()
    }

    #[test]
    fn a_valid_request_is_trimmed() {
        let request = validate_setup(&with("name", json!("  Ada Admin "))).unwrap();
        assert_eq!(request.name, "Ada Admin");
        assert_eq!(request.email, "ada@example.com");
        assert!(request.telemetry);
        assert!(!format!("{request:?}").contains("s3cure"));
    }

    #[test]
    fn every_bad_field_is_named() {
        let cases: [(Value, &str, FieldProblem); 14] = [
            (without("name"), "name", FieldProblem::Missing),
            (with("name", json!(null)), "name", FieldProblem::Missing),
            (
                with("name", json!(7)),
                "name",
                FieldProblem::WrongType("a string"),
            ),
            (with("name", json!("   ")), "name", FieldProblem::BadName),
            (
                with("name", json!("a\u{7}b")),
                "name",
                FieldProblem::BadName,
            ),
            (
                with("name", json!("x".repeat(65))),
                "name",
                FieldProblem::BadName,
            ),
            (without("email"), "email", FieldProblem::Missing),
            (with("email", json!("ada")), "email", FieldProblem::BadEmail),
            (
                with("email", json!("ada@localhost")),
                "email",
                FieldProblem::BadEmail,
            ),
            (
                with("email", json!("a da@example.com")),
                "email",
                FieldProblem::BadEmail,
            ),
            (
                with("email", json!("ada@@example.com")),
                "email",
                FieldProblem::BadEmail,
            ),
            (without("password"), "password", FieldProblem::Missing),
            (without("telemetry"), "telemetry", FieldProblem::Missing),
            (
                with("telemetry", json!("false")),
                "telemetry",
                FieldProblem::WrongType("true or false"),
            ),
        ];
        for (body, field, problem) in cases {
            assert_eq!(problems(&body), [(field.to_owned(), problem)], "{body}");
        }
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let got = problems(&json!({"email": 3, "password": "short", "admin": true}));
        let fields: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["name", "email", "password", "telemetry", "admin"]);
        assert_eq!(got[4].1, FieldProblem::Unknown);
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused() {
        for body in [json!([]), json!("setup"), json!(null)] {
            assert_eq!(
                problems(&body),
                [("body".to_owned(), FieldProblem::WrongType("a JSON object"))]
            );
        }
    }

    #[test]
    fn password_rules() {
        let cases = [
            ("", Some(PasswordRule::TooShort)),
            ("abc-123", Some(PasswordRule::TooShort)),
            ("ab€-1234", None),
            (&"a1".repeat(65), Some(PasswordRule::TooLong)),
            ("abcdefghij", Some(PasswordRule::OneKindOfCharacter)),
            ("1234567890", Some(PasswordRule::OneKindOfCharacter)),
            ("!!!!????", Some(PasswordRule::OneKindOfCharacter)),
            ("adaadmin-1", None),
            ("my-Lovelace-9", Some(PasswordRule::ContainsIdentity)),
            ("xx-ADA.L-99", Some(PasswordRule::ContainsIdentity)),
        ];
        for (password, want) in cases {
            assert_eq!(
                check_password(password, &["lovelace", "ada.l", "al"]),
                want,
                "{password}"
            );
        }
    }

    #[test]
    fn the_password_may_not_contain_the_name_or_email() {
        let body = with("password", json!("Ada Admin 2026"));
        assert_eq!(
            problems(&body),
            [(
                "password".to_owned(),
                FieldProblem::WeakPassword(PasswordRule::ContainsIdentity)
            )]
        );
        let body = with("password", json!("my-ADA-pass-1"));
        assert_eq!(
            problems(&body),
            [(
                "password".to_owned(),
                FieldProblem::WeakPassword(PasswordRule::ContainsIdentity)
            )]
        );
    }

    #[test]
    fn error_messages_name_the_field_and_rule() {
        let errors = validate_setup(&with("password", json!("short"))).unwrap_err();
        assert_eq!(
            errors[0].to_string(),
            "password: must be at least 8 characters long"
        );
    }

    #[test]
    fn licensed_installs_record_enabled_whatever_was_asked() {
        let cases = [
            (true, false, true, false),
            (false, false, false, false),
            (true, true, true, false),
            (false, true, true, true),
        ];
        for (requested, licensed, enabled, overridden) in cases {
            assert_eq!(
                telemetry_choice(requested, licensed),
                TelemetryChoice {
                    enabled,
                    overridden
                },
                "requested {requested}, licensed {licensed}"
            );
        }
    }
}
