//! A small validated `http(s)` URL type: enough for endpoints in config, without
//! bringing a full URL crate (and its IDNA tables) into the browser build.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::text::{self, decimal};

/// Why a string is not an acceptable `http`/`https` URL.
///
/// The variants carry no part of the URL: whoever shows the error has the
/// URL (config errors quote it), and copying the bad part into the error
/// costs the browser build code on every path that can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlError {
    /// The URL does not start with `http://` or `https://`.
    BadScheme,
    /// Nothing between `://` and the path.
    MissingHost,
    /// The host has characters no host name or IP literal may have.
    BadHost,
    /// The port is not a number from 1 to 65535.
    BadPort,
    /// Whitespace or control characters anywhere in the URL.
    BadCharacter,
}

impl UrlError {
    /// What is wrong, as `Display` writes it, without `core::fmt` (which
    /// the browser build avoids).
    ///
    /// ```
    /// use ff_telemetry_wire::UrlError;
    /// assert_eq!(UrlError::BadPort.message(), "port is not a number from 1 to 65535");
    /// ```
    pub fn message(&self) -> String {
        // A `String` though every text is fixed: see `DsnError::message`.
        let reason = match self {
            UrlError::BadScheme => "scheme must be http or https",
            UrlError::MissingHost => "host is missing",
            UrlError::BadHost => "host is not a valid host name",
            UrlError::BadPort => "port is not a number from 1 to 65535",
            UrlError::BadCharacter => "URL contains whitespace or control characters",
        };
        reason.to_owned()
    }
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for UrlError {}

/// URL scheme of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http`
    Http,
    /// `https`
    Https,
}

impl Scheme {
    /// The scheme as written in a URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// Scheme, host and optional port: the part of a URL a CSP `connect-src` names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Authority {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// Host name or IP literal (IPv6 keeps its brackets), lowercased.
    pub host: String,
    /// Explicit port, if the URL had one.
    pub port: Option<u16>,
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `write_str` and `text::decimal` rather than `write!`: keeps integer
        // `Display` out of the browser build.
        f.write_str(self.scheme.as_str())?;
        f.write_str("://")?;
        f.write_str(&self.host)?;
        if let Some(port) = self.port {
            f.write_str(":")?;
            f.write_str(&decimal(u64::from(port)))?;
        }
        Ok(())
    }
}

/// An absolute `http`/`https` URL that has been checked once, at parse time.
///
/// ```
/// use ff_telemetry_wire::HttpUrl;
/// let url: HttpUrl = "https://EU.posthog.com/".parse().unwrap();
/// assert_eq!(url.origin().to_string(), "https://eu.posthog.com");
/// assert_eq!(url.join("/batch/"), "https://eu.posthog.com/batch/");
/// assert!("ftp://example.com".parse::<HttpUrl>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HttpUrl {
    authority: Authority,
    /// Everything after the authority: path, query and fragment, possibly empty.
    rest: String,
}

impl HttpUrl {
    /// Scheme, host and port.
    pub fn origin(&self) -> &Authority {
        &self.authority
    }

    /// Path, query and fragment as written (may be empty).
    pub fn path_and_query(&self) -> &str {
        &self.rest
    }

    /// This URL as a base with `path` appended, with exactly one `/` between them.
    pub fn join(&self, path: &str) -> String {
        let base = self.to_text();
        text::concat(&[
            text::trim_end_ascii(&base, b'/'),
            "/",
            text::trim_start_ascii(path, b'/'),
        ])
    }

    /// The URL as text, without `core::fmt` (which the browser build avoids).
    fn to_text(&self) -> String {
        let a = &self.authority;
        let port = a.port.map(|p| decimal(u64::from(p)));
        let port = port.as_deref().unwrap_or_default();
        let colon = if a.port.is_some() { ":" } else { "" };
        text::concat(&[a.scheme.as_str(), "://", &a.host, colon, port, &self.rest])
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl std::str::FromStr for HttpUrl {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Self, UrlError> {
        let (authority, rest) = split_authority(s)?;
        Ok(HttpUrl {
            authority: parse_authority(scheme_of(s)?, authority)?,
            rest: rest.to_owned(),
        })
    }
}

impl Serialize for HttpUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HttpUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The scheme `s` starts with (case-insensitive), or [`UrlError::BadScheme`].
pub fn scheme_of(s: &str) -> Result<Scheme, UrlError> {
    // Compared in place rather than on a lowercased copy: no allocation.
    let starts_with = |prefix: &str| {
        s.get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    if starts_with("https://") {
        Ok(Scheme::Https)
    } else if starts_with("http://") {
        Ok(Scheme::Http)
    } else {
        Err(UrlError::BadScheme)
    }
}

/// Splits `scheme://authority/rest` into the authority (with any userinfo) and the rest.
pub fn split_authority(s: &str) -> Result<(&str, &str), UrlError> {
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UrlError::BadCharacter);
    }
    let Some((_, after_scheme)) = text::split_once(s, "://") else {
        return Err(UrlError::BadScheme);
    };
    Ok(text::split_before(after_scheme, b"/?#"))
}

/// Parses `host[:port]` (userinfo already removed).
pub fn parse_authority(scheme: Scheme, host_port: &str) -> Result<Authority, UrlError> {
    let (host, port) = match text::rsplit_once_ascii(host_port, b':') {
        // The colons inside an IPv6 literal (`[::1]`) are not a port's.
        Some((host, port)) if !port.ends_with(']') => (host, Some(port)),
        _ => (host_port, None),
    };
    if host.is_empty() {
        return Err(UrlError::MissingHost);
    }
    let valid_host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(inside) => {
            !inside.is_empty()
                && inside
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        }
        None => {
            host.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
                && !host.starts_with('.')
                && !host.starts_with('-')
        }
    };
    if !valid_host {
        return Err(UrlError::BadHost);
    }
    let port = match port {
        None => None,
        Some(p) => match text::parse_decimal(p).and_then(|n| u16::try_from(n).ok()) {
            Some(n) if n > 0 => Some(n),
            _ => return Err(UrlError::BadPort),
        },
    };
    Ok(Authority {
        scheme,
        host: host.to_ascii_lowercase(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_common_endpoints() {
        for ok in [
            "http://127.0.0.1:3001",
            "https://ping.flowfuse.com/ping",
            "http://[::1]:8080/x?y=1",
            "HTTPS://App.PostHog.com",
            "http://collector_1.local/",
        ] {
            assert!(ok.parse::<HttpUrl>().is_ok(), "{ok}");
        }
        let v6: HttpUrl = "http://[::1]:8080/x".parse().unwrap();
        assert_eq!(v6.origin().to_string(), "http://[::1]:8080");
        let v6: HttpUrl = "http://[::1]/x".parse().unwrap();
        assert_eq!(v6.origin().to_string(), "http://[::1]");
    }

    #[test]
    fn scheme_is_case_insensitive() {
        let cases = [
            ("HTTPS://h", Ok(Scheme::Https)),
            ("Http://h", Ok(Scheme::Http)),
            ("http://é", Ok(Scheme::Http)),
            ("httpé://h", Err(UrlError::BadScheme)),
            ("http:/h", Err(UrlError::BadScheme)),
            ("", Err(UrlError::BadScheme)),
        ];
        for (input, want) in cases {
            assert_eq!(scheme_of(input), want, "{input}");
        }
    }

    #[test]
    fn rejects_with_a_reason() {
        let cases = [
            ("ping.flowfuse.com", UrlError::BadScheme),
            ("ws://x", UrlError::BadScheme),
            ("https://", UrlError::MissingHost),
            ("https:///path", UrlError::MissingHost),
            ("https://a b", UrlError::BadCharacter),
            ("https://host:99999", UrlError::BadPort),
            ("https://host:0", UrlError::BadPort),
            ("https://host:", UrlError::BadPort),
            ("https://ho$t", UrlError::BadHost),
            // Used to panic: the bracket check sliced inside the `é`.
            ("https://[é", UrlError::BadHost),
            // An IPv6 literal is bracketed, and only a port may follow it.
            ("https://[abc/", UrlError::BadHost),
            ("https://[]/", UrlError::BadHost),
            ("https://[::1]x/", UrlError::BadHost),
            ("https://[::1]:", UrlError::BadPort),
        ];
        for (input, want) in cases {
            assert_eq!(input.parse::<HttpUrl>(), Err(want), "{input}");
        }
    }

    #[test]
    fn join_has_one_slash() {
        let url: HttpUrl = "http://h:1/base/".parse().unwrap();
        assert_eq!(url.join("batch/"), "http://h:1/base/batch/");
        let url: HttpUrl = "http://h:1".parse().unwrap();
        assert_eq!(url.join("/batch/"), "http://h:1/batch/");
    }
}
