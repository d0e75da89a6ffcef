//! The wire crate's parsers of configured text: the Sentry DSN and HTTP URLs.
//! Each value parsed is written back and must parse to itself.

use ff_telemetry_wire::{Authority, Dsn, HttpUrl};

use crate::engine::{Target, shape};

/// `Dsn::from_str` (a DSN from `flowforge.yml` or the runtime config).
#[derive(Debug, Default)]
pub struct DsnTarget;

impl Target for DsnTarget {
    fn name(&self) -> &'static str {
        "dsn"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        [
            "https://public@sentry.example/42",
            "http://publickey42@127.0.0.1:3001/42",
            "https://abc:secret@o1.ingest.sentry.io:8443/prefix/path/1234567",
            "https://k@[::1]:9000/7",
        ]
        .map(|s| s.as_bytes().to_vec())
        .into()
    }

    fn dictionary(&self) -> &'static [&'static str] {
        &["https://", "http://", "@", ":", "/", "[", "]", "::1", "%40"]
    }

    fn run(&mut self, input: &[u8]) -> Result<String, String> {
        let text = String::from_utf8_lossy(input);
        match text.parse::<Dsn>() {
            Ok(dsn) => {
                let written = dsn.to_string();
                let again = written
                    .parse::<Dsn>()
                    .map_err(|e| format!("{written:?} (from {text:?}) does not parse: {e}"))?;
                if again != dsn {
                    return Err(format!("{text:?} → {written:?} parses differently"));
                }
                let url = dsn.envelope_url();
                url.parse::<HttpUrl>()
                    .map_err(|e| format!("envelope URL {url:?} of {text:?}: {e}"))?;
                Ok(format!(
                    "ok {} secret {}",
                    authority_shape(dsn.origin()),
                    dsn.secret_key().is_some()
                ))
            }
            Err(e) => Ok(shape(&e.message())),
        }
    }
}

/// `HttpUrl::from_str` (PostHog and ping URLs).
#[derive(Debug, Default)]
pub struct UrlTarget;

impl Target for UrlTarget {
    fn name(&self) -> &'static str {
        "url"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        [
            "https://eu.i.posthog.com",
            "http://127.0.0.1:3001/ping",
            "https://telemetry.flowfuse.com/?a=b#frag",
            "http://[::1]:8080/x/y",
            "HTTPS://User@Example.COM:443/",
        ]
        .map(|s| s.as_bytes().to_vec())
        .into()
    }

    fn dictionary(&self) -> &'static [&'static str] {
        &[
            "https://", "http://", "@", ":", "/", "?", "#", "[", "]", ":0", ":65536",
        ]
    }

    fn run(&mut self, input: &[u8]) -> Result<String, String> {
        let text = String::from_utf8_lossy(input);
        match text.parse::<HttpUrl>() {
            Ok(url) => {
                let written = url.to_string();
                let again = written
                    .parse::<HttpUrl>()
                    .map_err(|e| format!("{written:?} (from {text:?}) does not parse: {e}"))?;
                if again != url {
                    return Err(format!("{text:?} → {written:?} parses differently"));
                }
                let joined = url.join("/batch/");
                joined
                    .parse::<HttpUrl>()
                    .map_err(|e| format!("{joined:?} (joined to {text:?}): {e}"))?;
                let rest = url.path_and_query();
                Ok(format!(
                    "ok {} path {} query {} fragment {}",
                    authority_shape(url.origin()),
                    rest.len().min(2),
                    rest.contains('?'),
                    rest.contains('#')
                ))
            }
            Err(e) => Ok(shape(&e.message())),
        }
    }
}

/// Which kind of authority was parsed (feedback).
fn authority_shape(a: &Authority) -> String {
    format!(
        "{} ipv6 {} port {}",
        a.scheme.as_str(),
        a.host.starts_with('['),
        a.port.is_some()
    )
}
