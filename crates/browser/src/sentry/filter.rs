//! Which errors are not worth sending: events from developers' machines, errors
//! the platform chose to ignore, and the same error again.

use ff_telemetry_wire::sentry::{Frame, Stacktrace};
use ff_telemetry_wire::text;
use ff_telemetry_wire::{Authority, parse_authority, scheme_of, split_authority};

/// Longest text sent in one field (error value, message, frame file or
/// function), in characters: keeps every envelope far below `sendBeacon`'s 64 KiB.
pub const MAX_VALUE_CHARS: usize = 1_024;

/// Whether `page_url` is served from the local machine (`localhost`, `*.localhost`,
/// `127.0.0.0/8`, `[::1]`), whose events FlowFuse drops by default.
///
/// ```
/// use ff_telemetry_browser::sentry::is_local_page;
/// assert!(is_local_page("http://localhost:3000/team/a"));
/// assert!(is_local_page("http://127.0.0.1:8080/"));
/// assert!(is_local_page("http://[::1]/"));
/// assert!(!is_local_page("https://app.flowfuse.com/"));
/// ```
pub fn is_local_page(page_url: &str) -> bool {
    let Some(authority) = page_authority(page_url) else {
        return false;
    };
    let host = text::trim_end_ascii(&authority.host, b'.');
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "[::1]"
        || host.strip_prefix("127.").is_some_and(|rest| {
            // One pass: three parts after `127.`, each an octet.
            let mut n_parts = 0;
            text::split_ascii(rest, b'.').all(|part| {
                n_parts += 1;
                is_octet(part)
            }) && n_parts == 3
        })
}

/// The page URL as it may be reported: without user name, password, query string
/// or fragment (they can hold tokens and personal data).
///
/// ```
/// use ff_telemetry_browser::sentry::sanitize_url;
/// assert_eq!(
///     sanitize_url("https://bob:pw@app.example/team/a?token=s3cr3t#x"),
///     "https://app.example/team/a"
/// );
/// ```
pub fn sanitize_url(url: &str) -> String {
    let without_query = text::split_before(url, b"?#").0;
    let Some((scheme, after_scheme)) = text::split_once(without_query, "://") else {
        return without_query.to_owned();
    };
    let (authority, path) = text::split_before(after_scheme, b"/");
    let host_port = text::rsplit_once_ascii(authority, b'@').map_or(authority, |(_, h)| h);
    text::concat(&[scheme, "://", host_port, path])
}

/// The longest route (or route template, or user id) an event carries, in
/// characters: Sentry's ingestion limit for a tag value, which the route is.
pub const MAX_ROUTE_CHARS: usize = 200;

/// A route as it may be reported: the path without query string or fragment,
/// cut to [`MAX_ROUTE_CHARS`] (a path of megabytes would make every later
/// event's breadcrumbs megabytes, which Sentry refuses).
///
/// ```
/// use ff_telemetry_browser::sentry::sanitize_route;
/// assert_eq!(sanitize_route("/team/a/instances?search=x#top"), "/team/a/instances");
/// assert_eq!(sanitize_route(&"/x".repeat(1_000)).len(), 200);
/// ```
pub fn sanitize_route(route: &str) -> &str {
    truncate_chars(text::split_before(route, b"?#").0, MAX_ROUTE_CHARS)
}

/// Whether an error or message contains one of the `ignore_errors` substrings.
///
/// Patterns are matched against `"{type}: {value}"` (what the browser console
/// shows) and, for messages, the message itself. Empty patterns match nothing.
///
/// ```
/// use ff_telemetry_browser::sentry::is_ignored;
/// let patterns = ["ResizeObserver loop".to_owned()];
/// assert!(is_ignored("Error: ResizeObserver loop limit exceeded", &patterns));
/// assert!(!is_ignored("TypeError: x is undefined", &patterns));
/// ```
pub fn is_ignored(message: &str, patterns: &[String]) -> bool {
    patterns
        .iter()
        .any(|p| !p.is_empty() && text::contains(message, p))
}

/// Drops an error identical to the one just before it (same type, value and
/// top frame, or same message): a render loop throwing on every frame is one
/// report, not thousands.
///
/// ```
/// use ff_telemetry_browser::sentry::{Deduplicator, ErrorFingerprint};
/// let mut dedup = Deduplicator::default();
/// let boom = ErrorFingerprint::message("boom");
/// assert!(!dedup.is_repeat(boom.clone()));
/// assert!(dedup.is_repeat(boom.clone()));
/// assert!(!dedup.is_repeat(ErrorFingerprint::message("other")));
/// assert!(!dedup.is_repeat(boom));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Deduplicator {
    last: Option<ErrorFingerprint>,
}

/// What makes two errors "the same" for [`Deduplicator`]: type, value and
/// newest frame.
///
/// Kept as their JSON text (two JSON strings and a frame object or `null`,
/// each self-delimiting, so equal texts mean equal parts): comparing bytes
/// reuses the payload writer instead of cloning and comparing frames, which
/// costs the browser build more code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorFingerprint(String);

impl ErrorFingerprint {
    /// An exception's type, value and newest frame.
    pub fn exception(kind: &str, value: &str, stacktrace: Option<&Stacktrace<&str>>) -> Self {
        ErrorFingerprint::new(kind, value, stacktrace.and_then(|s| s.frames.last()))
    }

    /// A message.
    pub fn message(message: &str) -> Self {
        ErrorFingerprint::new("", message, None)
    }

    fn new(kind: &str, value: &str, top_frame: Option<&Frame<&str>>) -> Self {
        // A JSON array of the three: each part self-delimiting.
        let text = serde_json::to_string(&(kind, value, top_frame))
            .unwrap_or_else(|_| unreachable!("strings and frames serialise"));
        ErrorFingerprint(text)
    }
}

impl Deduplicator {
    /// Whether `error` equals the previous error; either way it becomes the previous error.
    pub fn is_repeat(&mut self, error: ErrorFingerprint) -> bool {
        let repeat = self.last.as_ref() == Some(&error);
        self.last = Some(error);
        repeat
    }
}

/// The first `max` characters of `s`.
pub(crate) fn truncate_chars(s: &str, max: usize) -> &str {
    // Counts the bytes that start a character (UTF-8 continuation bytes are
    // `0b10xx_xxxx`): less code in the browser build than `char_indices()`.
    let mut n_chars = 0;
    for (at, byte) in s.as_bytes().iter().enumerate() {
        if byte & 0xC0 != 0x80 {
            if n_chars == max {
                return s.get(..at).unwrap_or(s);
            }
            n_chars += 1;
        }
    }
    s
}

/// Scheme, host (lowercased, brackets kept for IPv6) and port of a page URL,
/// by the parser DSNs and endpoints go through (and any user name dropped).
fn page_authority(url: &str) -> Option<Authority> {
    let (authority, _) = split_authority(url).ok()?;
    let host_port = text::rsplit_once_ascii(authority, b'@').map_or(authority, |(_, h)| h);
    parse_authority(scheme_of(url).ok()?, host_port).ok()
}

fn is_octet(s: &str) -> bool {
    // `s.parse::<u8>().is_ok()` (which takes a leading `+`) by the crate's
    // byte parser: std's integer parsing costs the browser build more.
    let digits = s.strip_prefix('+').unwrap_or(s);
    s.len() <= 3 && text::parse_decimal(digits).is_some_and(|n| n <= 255)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff_telemetry_wire::sentry::Stacktrace;

    #[test]
    fn octets_agree_with_std() {
        for s in [
            "", "0", "7", "007", "255", "256", "+1", "+", "-1", "1a", "1000", " 1",
        ] {
            assert_eq!(
                is_octet(s),
                !s.is_empty() && s.len() <= 3 && s.parse::<u8>().is_ok(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn local_pages_are_recognised() {
        let cases = [
            ("http://localhost/", true),
            ("http://LOCALHOST:3000/a", true),
            ("http://app.localhost:3000/a", true),
            ("http://127.0.0.1:8080/", true),
            ("http://127.1.2.3/", true),
            ("http://user@127.0.0.1/", true),
            ("http://[::1]:5173/", true),
            ("http://localhost./", true),
            ("https://app.flowfuse.com/localhost", false),
            ("https://localhost.example.com/", false),
            ("http://127.0.0.1.example.com/", false),
            ("http://10.0.0.1/", false),
            ("http://[::2]/", false),
            ("https://app.example/?next=http://localhost/", false),
        ];
        for (url, want) in cases {
            assert_eq!(is_local_page(url), want, "{url}");
        }
    }

    #[test]
    fn sanitising_keeps_origin_and_path() {
        let cases = [
            ("http://h:1/a/b", "http://h:1/a/b"),
            ("http://u@h/a?x=1", "http://h/a"),
            ("http://h#frag", "http://h"),
            ("http://[::1]:8/p?q", "http://[::1]:8/p"),
            ("/relative?x", "/relative"),
        ];
        for (url, want) in cases {
            assert_eq!(sanitize_url(url), want, "{url}");
        }
    }

    proptest::proptest! {
        #[test]
        fn truncation_keeps_the_first_characters(s: String, max in 0usize..12) {
            let want: String = s.chars().take(max).collect();
            proptest::prop_assert_eq!(truncate_chars(&s, max), want);
        }
    }

    #[test]
    fn empty_ignore_patterns_match_nothing() {
        assert!(!is_ignored("anything", &[String::new()]));
    }

    #[test]
    fn repeats_compare_type_value_and_top_frame() {
        let frame = |line| Frame {
            filename: Some("http://h/app.js"),
            lineno: Some(line),
            ..Frame::default()
        };
        let exception = |value, top_line| {
            let stack = Stacktrace {
                frames: vec![frame(1), frame(top_line)],
            };
            (value, stack)
        };
        let mut dedup = Deduplicator::default();
        let steps = [
            (exception("a", 10), false),
            (exception("a", 10), true),
            (exception("a", 11), false),
            (exception("b", 11), false),
            (exception("b", 11), true),
        ];
        for (i, ((value, stack), want)) in steps.into_iter().enumerate() {
            assert_eq!(
                dedup.is_repeat(ErrorFingerprint::exception(
                    "TypeError",
                    value,
                    Some(&stack)
                )),
                want,
                "{i}"
            );
        }
    }
}
