//! Sentry DSNs: parsing, and the envelope endpoint and auth they imply.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::text;
use crate::text::write_decimal;
use crate::url::{Authority, UrlError, parse_authority, scheme_of, split_authority};

/// Why a string is not a usable Sentry DSN.
///
/// `Display` is written by hand (see [`DsnError::message`]) rather than
/// derived: a derived message with arguments brings `core::fmt`'s argument
/// formatting into the browser build, which shows this error as a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DsnError {
    /// The DSN is empty.
    Empty,
    /// Scheme, host or port are wrong.
    Url(UrlError),
    /// No `public_key@` before the host.
    MissingPublicKey,
    /// Nothing after the last `/`.
    MissingProjectId,
    /// The last path segment is not a number.
    BadProjectId,
    /// A query string or fragment after the project id.
    TrailingGarbage,
}

impl DsnError {
    /// What is wrong, in words (the `Display` text).
    ///
    /// ```
    /// use ff_telemetry_wire::DsnError;
    /// let err = DsnError::BadProjectId;
    /// assert_eq!(err.message(), "project id must be a number");
    /// assert_eq!(err.to_string(), err.message());
    /// ```
    pub fn message(&self) -> String {
        // Fixed texts (the DSN is in the config next to them): no text is
        // put together at run time, which costs the browser build code. A
        // `String` still, like `UrlError::message` it may return: measured,
        // `&'static str` made the browser build larger, not smaller.
        let reason = match self {
            DsnError::Url(e) => return e.message(),
            DsnError::Empty => "DSN is empty",
            DsnError::MissingPublicKey => "public key is missing",
            DsnError::MissingProjectId => "project id is missing",
            DsnError::BadProjectId => "project id must be a number",
            DsnError::TrailingGarbage => "query string or fragment after the project id",
        };
        reason.to_owned()
    }
}

impl fmt::Display for DsnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for DsnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DsnError::Url(e) => Some(e),
            _ => None,
        }
    }
}

impl From<UrlError> for DsnError {
    fn from(e: UrlError) -> Self {
        DsnError::Url(e)
    }
}

/// A parsed Sentry DSN: `{scheme}://{public_key}[:secret]@{host}[:port]{/path}/{project_id}`.
///
/// ```
/// use ff_telemetry_wire::Dsn;
/// let dsn: Dsn = "https://abc@o1.ingest.sentry.io/42".parse().unwrap();
/// assert_eq!(dsn.envelope_url(), "https://o1.ingest.sentry.io/api/42/envelope/");
/// assert_eq!(
///     dsn.auth_query("ff-telemetry.web", "0.1.0"),
///     "sentry_version=7&sentry_key=abc&sentry_client=ff-telemetry.web%2F0.1.0"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Dsn {
    authority: Authority,
    public_key: String,
    secret_key: Option<String>,
    path_prefix: String,
    project_id: String,
}

impl Dsn {
    /// The key that authenticates envelopes (`sentry_key`).
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The deprecated secret key, if the DSN carried one.
    pub fn secret_key(&self) -> Option<&str> {
        self.secret_key.as_deref()
    }

    /// The Sentry project id.
    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// Scheme, host and port of the ingest server (for CSP `connect-src`).
    pub fn origin(&self) -> &Authority {
        &self.authority
    }

    /// `{scheme}://{host}[:port]{/path}/api/{project_id}/envelope/`
    pub fn envelope_url(&self) -> String {
        let mut url = text::concat(&[self.authority.scheme.as_str(), "://"]);
        self.push_host_and_path(&mut url);
        url.push_str("/api/");
        url.push_str(&self.project_id);
        url.push_str("/envelope/");
        url
    }

    /// Query-string auth (`sentry_version=7&sentry_key=…&sentry_client=NAME/VER`).
    ///
    /// Browsers send auth this way so the request needs no CORS preflight.
    pub fn auth_query(&self, client_name: &str, client_version: &str) -> String {
        text::concat(&[
            "sentry_version=7&sentry_key=",
            &percent_encode(&self.public_key),
            "&sentry_client=",
            &percent_encode(client_name),
            "%2F",
            &percent_encode(client_version),
        ])
    }

    /// The envelope URL with query-string auth appended.
    pub fn envelope_url_with_auth(&self, client_name: &str, client_version: &str) -> String {
        let mut url = self.envelope_url();
        url.push('?');
        url.push_str(&self.auth_query(client_name, client_version));
        url
    }

    /// The `X-Sentry-Auth` header value, for servers that prefer headers.
    pub fn auth_header(&self, client_name: &str, client_version: &str) -> String {
        format!(
            "Sentry sentry_version=7, sentry_key={}, sentry_client={}/{}",
            self.public_key, client_name, client_version
        )
    }
}

impl Dsn {
    /// The DSN as written (normalised: lowercase host), without `core::fmt`.
    fn text(&self) -> String {
        let mut text = text::concat(&[self.authority.scheme.as_str(), "://", &self.public_key]);
        if let Some(secret) = &self.secret_key {
            text.push(':');
            text.push_str(secret);
        }
        text.push('@');
        self.push_host_and_path(&mut text);
        text.push('/');
        text.push_str(&self.project_id);
        text
    }

    /// Appends `host[:port]{/path}`: what the DSN and its envelope URL share,
    /// written without `core::fmt`.
    fn push_host_and_path(&self, text: &mut String) {
        text.push_str(&self.authority.host);
        if let Some(port) = self.authority.port {
            text.push(':');
            write_decimal(text, u64::from(port), 1);
        }
        text.push_str(&self.path_prefix);
    }
}

impl fmt::Display for Dsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl std::str::FromStr for Dsn {
    type Err = DsnError;

    fn from_str(s: &str) -> Result<Self, DsnError> {
        if s.trim_ascii().is_empty() {
            return Err(DsnError::Empty);
        }
        let scheme = scheme_of(s)?;
        let (authority, rest) = split_authority(s)?;
        let (userinfo, host_port) =
            text::rsplit_once_ascii(authority, b'@').ok_or(DsnError::MissingPublicKey)?;
        let (public_key, secret_key) = match text::split_once(userinfo, ":") {
            Some((key, secret)) => (key, Some(secret.to_owned())),
            None => (userinfo, None),
        };
        if public_key.is_empty() {
            return Err(DsnError::MissingPublicKey);
        }
        let authority = parse_authority(scheme, host_port)?;
        let (rest, garbage) = text::split_before(rest, b"?#");
        if !garbage.is_empty() {
            return Err(DsnError::TrailingGarbage);
        }
        let (path_prefix, project_id) = text::rsplit_once_ascii(rest, b'/').unwrap_or(("", ""));
        if project_id.is_empty() {
            return Err(DsnError::MissingProjectId);
        }
        if !project_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DsnError::BadProjectId);
        }
        Ok(Dsn {
            authority,
            public_key: public_key.to_owned(),
            secret_key,
            path_prefix: path_prefix.to_owned(),
            project_id: project_id.to_owned(),
        })
    }
}

impl Serialize for Dsn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Dsn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

const UPPER_HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            // By hand rather than `format!("%{b:02X}")`: no hex formatter in the browser build.
            out.push('%');
            out.push(char::from(UPPER_HEX[usize::from(b >> 4)]));
            out.push(char::from(UPPER_HEX[usize::from(b & 0xf)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_part() {
        let dsn: Dsn = "http://pub:sec@localhost:9000/sentry/prefix/7"
            .parse()
            .unwrap();
        assert_eq!(dsn.public_key(), "pub");
        assert_eq!(dsn.secret_key(), Some("sec"));
        assert_eq!(dsn.project_id(), "7");
        assert_eq!(dsn.origin().to_string(), "http://localhost:9000");
        assert_eq!(
            dsn.envelope_url(),
            "http://localhost:9000/sentry/prefix/api/7/envelope/"
        );
        assert_eq!(
            dsn.to_string(),
            "http://pub:sec@localhost:9000/sentry/prefix/7"
        );
    }

    #[test]
    fn auth_header_names_key_and_client() {
        let dsn: Dsn = "https://k@h/1".parse().unwrap();
        assert_eq!(
            dsn.auth_header("ff-telemetry.backend", "1.2.3"),
            "Sentry sentry_version=7, sentry_key=k, sentry_client=ff-telemetry.backend/1.2.3"
        );
        assert_eq!(
            dsn.envelope_url_with_auth("c", "1"),
            "https://h/api/1/envelope/?sentry_version=7&sentry_key=k&sentry_client=c%2F1"
        );
    }

    #[test]
    fn rejects_with_a_clear_reason() {
        let cases = [
            ("", DsnError::Empty),
            ("   ", DsnError::Empty),
            ("ftp://k@h/1", DsnError::Url(UrlError::BadScheme)),
            ("https://@h/1", DsnError::MissingPublicKey),
            ("https://:secret@h/1", DsnError::MissingPublicKey),
            ("https://h/1", DsnError::MissingPublicKey),
            ("https://k@h", DsnError::MissingProjectId),
            ("https://k@h/", DsnError::MissingProjectId),
            ("https://k@h/1/", DsnError::MissingProjectId),
            ("https://k@h/1/extra", DsnError::BadProjectId),
            ("https://k@h/1?x=y", DsnError::TrailingGarbage),
            ("https://k@h:port/1", DsnError::Url(UrlError::BadPort)),
            ("https://k@/1", DsnError::Url(UrlError::MissingHost)),
        ];
        for (input, want) in cases {
            assert_eq!(input.parse::<Dsn>(), Err(want), "{input:?}");
        }
    }

    #[test]
    fn messages_say_what_is_wrong() {
        let cases = [
            (DsnError::Empty, "DSN is empty"),
            (
                DsnError::Url(UrlError::BadScheme),
                "scheme must be http or https",
            ),
            (DsnError::MissingPublicKey, "public key is missing"),
            (DsnError::MissingProjectId, "project id is missing"),
            (DsnError::BadProjectId, "project id must be a number"),
            (
                DsnError::TrailingGarbage,
                "query string or fragment after the project id",
            ),
        ];
        for (err, want) in cases {
            assert_eq!(err.to_string(), want);
        }
        let url = DsnError::from(UrlError::MissingHost);
        assert_eq!(
            std::error::Error::source(&url).map(ToString::to_string),
            Some("host is missing".to_owned())
        );
        assert!(std::error::Error::source(&DsnError::Empty).is_none());
    }
}
