//! What the standard event properties are made of: URL parts and the
//! browser family of a user agent.

use ff_telemetry_wire::text;

/// An absolute URL cut into what the page properties need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UrlParts<'a> {
    /// `host[:port]`, empty for a relative URL.
    pub host: &'a str,
    /// Path, query and fragment (`/a?b#c`), at least `/`.
    pub path_and_more: &'a str,
    /// Path only.
    pub pathname: &'a str,
}

pub(crate) fn url_parts(url: &str) -> UrlParts<'_> {
    let (host, rest) = match text::split_once(url, "://") {
        Some((_, after_scheme)) => text::split_before(after_scheme, b"/?#"),
        None => ("", url),
    };
    let pathname = text::split_before(rest, b"?#").0;
    UrlParts {
        host,
        path_and_more: if rest.is_empty() { "/" } else { rest },
        pathname: if pathname.is_empty() { "/" } else { pathname },
    }
}

/// Browser, OS and device type from a user agent string: the coarse families
/// PostHog shows, decided by a few substrings instead of a parser library.
///
/// ```
/// use ff_telemetry_browser::posthog::describe_user_agent;
/// let ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
/// assert_eq!(describe_user_agent(ua), ("Chrome", "Linux", "Desktop"));
/// ```
pub fn describe_user_agent(ua: &str) -> (&'static str, &'static str, &'static str) {
    // Tables of `marker=family` entries separated by `;`, searched in order:
    // the first family with a marker in `ua` wins. Strings scanned rather
    // than arrays of pairs, whose pointers cost the browser build more.
    const BROWSERS: &str = "Edg/=Microsoft Edge;OPR/=Opera;Firefox/=Firefox;FxiOS/=Firefox;\
        Chrome/=Chrome;CriOS/=Chrome;Safari/=Safari";
    const SYSTEMS: &str = "Windows=Windows;iPhone=iOS;iPad=iOS;Android=Android;CrOS=Chrome OS;\
        Mac OS X=Mac OS X;Linux=Linux";
    // `Mobi` (MDN's advice) before `Android`: Android without it is a tablet.
    const DEVICES: &str = "iPad=Tablet;Tablet=Tablet;Mobi=Mobile;iPhone=Mobile;Android=Tablet";
    (
        first_family(ua, BROWSERS, "Other"),
        first_family(ua, SYSTEMS, "Other"),
        first_family(ua, DEVICES, "Desktop"),
    )
}

/// The family of the first entry of `table` (see [`describe_user_agent`])
/// whose marker is in `ua`, else `default`.
fn first_family(ua: &str, table: &'static str, default: &'static str) -> &'static str {
    for entry in text::split_ascii(table, b';') {
        if let Some((marker, family)) = text::split_once_ascii(entry, b'=')
            && text::contains(ua, marker)
        {
            return family;
        }
    }
    default
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parts_of_absolute_and_relative_urls() {
        let p = url_parts("https://h:8080/a/b?x=1#y");
        assert_eq!(
            (p.host, p.path_and_more, p.pathname),
            ("h:8080", "/a/b?x=1#y", "/a/b")
        );
        let p = url_parts("http://h");
        assert_eq!((p.host, p.path_and_more, p.pathname), ("h", "/", "/"));
        let p = url_parts("/rel?q");
        assert_eq!(
            (p.host, p.path_and_more, p.pathname),
            ("", "/rel?q", "/rel")
        );
    }

    #[test]
    fn user_agent_families() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0",
                ("Microsoft Edge", "Windows", "Desktop"),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
                ("Safari", "iOS", "Mobile"),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.0; rv:120.0) Gecko/20100101 Firefox/120.0",
                ("Firefox", "Mac OS X", "Desktop"),
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
                ("Chrome", "Android", "Mobile"),
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 OPR/106.0",
                ("Opera", "Chrome OS", "Desktop"),
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0 Mobile/15E148 Safari/604.1",
                ("Chrome", "iOS", "Tablet"),
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
                ("Chrome", "Android", "Tablet"),
            ),
            ("curl/8.5.0", ("Other", "Other", "Desktop")),
        ];
        for (ua, want) in cases {
            assert_eq!(describe_user_agent(ua), want, "{ua}");
        }
    }
}
