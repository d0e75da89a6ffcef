//! Removing secrets and personal data from URLs before they leave the browser.

use ff_telemetry_wire::text;

/// Query parameters whose values are replaced by [`MASK`], compared without
/// case, separated by spaces: credentials and OAuth round-trip values,
/// personal data, and the click ids ad networks append (which identify a
/// person across sites).
///
/// One string scanned rather than a list of strings: the list's table of
/// pointers and lengths costs the browser build more than the scan.
pub const MASKED_PARAMS: &str = "token access_token refresh_token id_token code state \
    password passwd secret api_key apikey key \
    email e-mail mail \
    gclid gclsrc gbraid wbraid dclid fbclid msclkid twclid ttclid li_fat_id igshid \
    mc_cid mc_eid yclid rdt_cid epik qclid sccid irclid";

/// Whether the values of query parameter `name` are masked (see [`MASKED_PARAMS`]).
///
/// ```
/// use ff_telemetry_browser::posthog::is_masked_param;
/// assert!(is_masked_param("Access_Token"));
/// assert!(!is_masked_param("team"));
/// assert!(!is_masked_param(""));
/// ```
pub fn is_masked_param(name: &str) -> bool {
    text::split_ascii(MASKED_PARAMS, b' ').any(|p| p.eq_ignore_ascii_case(name))
}

/// What a masked value becomes.
pub const MASK: &str = "<masked>";

/// `url` with secrets and personal data masked.
///
/// - Values of the [`MASKED_PARAMS`] query parameters, in the query and in a
///   fragment written as parameters (`#access_token=…`) or as a hash router's
///   route with a query (`#/reset?token=…`), become [`MASK`].
/// - Any other query value or name, path segment or fragment that looks like
///   an email address becomes [`MASK`], so an email never travels as
///   `$current_url`.
/// - User info (`https://user:password@host`) is removed.
///
/// ```
/// use ff_telemetry_browser::posthog::sanitize_url;
/// assert_eq!(
///     sanitize_url("https://app.example/reset?token=abc&team=7&gclid=x1"),
///     "https://app.example/reset?token=<masked>&team=7&gclid=<masked>"
/// );
/// assert_eq!(sanitize_url("https://app.example/users/ann@corp.example"), "https://app.example/users/<masked>");
/// ```
pub fn sanitize_url(url: &str) -> String {
    let (before_fragment, fragment) = match text::split_once(url, "#") {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let (before_query, query) = match text::split_once(before_fragment, "?") {
        Some((b, q)) => (b, Some(q)),
        None => (before_fragment, None),
    };
    // Written into one string as it goes: no string per part to join.
    let mut out = String::with_capacity(url.len());
    let path = match text::split_once(before_query, "://") {
        Some((scheme, after_scheme)) => {
            let (authority, path) = text::split_before(after_scheme, b"/");
            // Without user info.
            let host = text::rsplit_once_ascii(authority, b'@').map_or(authority, |(_, h)| h);
            out.push_str(scheme);
            out.push_str("://");
            out.push_str(host);
            path
        }
        None => before_query,
    };
    push_path_and_query(&mut out, path, query);
    if let Some(fragment) = fragment {
        out.push('#');
        match text::split_once(fragment, "?") {
            // A hash router's route and query (`#/reset?token=…`).
            Some((route, query)) => push_path_and_query(&mut out, route, Some(query)),
            None => {
                let pieces = if text::contains(fragment, "=") {
                    Pieces::Params
                } else {
                    Pieces::PathSegments
                };
                push_masked(&mut out, fragment, pieces);
            }
        }
    }
    out
}

/// `path` and `?query` (if any), masked.
fn push_path_and_query(out: &mut String, path: &str, query: Option<&str>) {
    push_masked(out, path, Pieces::PathSegments);
    if let Some(query) = query {
        out.push('?');
        push_masked(out, query, Pieces::Params);
    }
}

/// What a part of a URL is made of.
#[derive(Clone, Copy, PartialEq)]
enum Pieces {
    /// `/`-separated segments.
    PathSegments,
    /// `&`-separated `name=value` pairs (or bare values).
    Params,
}

/// `part` with email-looking pieces masked, and the values of the
/// [`MASKED_PARAMS`] when it is made of parameters.
fn push_masked(out: &mut String, part: &str, pieces: Pieces) {
    let separator = if pieces == Pieces::Params { b'&' } else { b'/' };
    for (i, piece) in text::split_ascii(part, separator).enumerate() {
        if i > 0 {
            out.push(char::from(separator));
        }
        let (name, value) = match text::split_once_ascii(piece, b'=') {
            Some((name, value)) if pieces == Pieces::Params => (Some(name), value),
            _ => (None, piece),
        };
        let mut secret = false;
        if let Some(name) = name {
            secret = is_masked_param(name);
            out.push_str(if looks_like_email(name) { MASK } else { name });
            out.push('=');
        }
        out.push_str(if secret || looks_like_email(value) {
            MASK
        } else {
            value
        });
    }
}

/// Whether `value` (possibly percent-encoded) looks like an email address:
/// something, an `@`, and a dotted domain.
pub fn looks_like_email(value: &str) -> bool {
    let Some((local, domain)) = split_at_last_at(value) else {
        return false;
    };
    // What follows the last `/`, `:`, `=`, `&` or `?`; scanned as bytes because
    // a reverse `split` with a char set is a large iterator in the browser build.
    let local = text::rfind_any(local, b"/:=&?")
        .and_then(|at| local.get(at + 1..))
        .unwrap_or(local);
    let domain = text::split_before(domain, b"/?&#").0;
    !local.is_empty()
        && text::contains(domain, ".")
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !local.chars().any(char::is_whitespace)
}

/// An `@`, plainly and percent-encoded once and twice.
const ENCODED_ATS: &[&str] = &["@", "%40", "%2540"];

/// `value` around its last `@`, written plainly or percent-encoded once
/// (`%40`) or twice (`%2540`): what splitting the decoded text at its last
/// `@` gives, without decoding into a new string.
fn split_at_last_at(value: &str) -> Option<(&str, &str)> {
    let bytes = value.as_bytes();
    let mut at = bytes.len();
    while at > 0 {
        at -= 1;
        let rest = bytes.get(at..).unwrap_or_default();
        for marker in ENCODED_ATS {
            if rest.starts_with(marker.as_bytes()) {
                // `at` starts an ASCII marker: both ends are character boundaries.
                return Some((value.get(..at)?, value.get(at + marker.len()..)?));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_secrets_click_ids_and_emails() {
        let cases = [
            ("https://h/a", "https://h/a"),
            ("https://h/a?team=1&tab=x", "https://h/a?team=1&tab=x"),
            (
                "https://h/cb?code=c0de&state=s1",
                "https://h/cb?code=<masked>&state=<masked>",
            ),
            (
                "https://h/?ACCESS_TOKEN=t&Refresh_Token=r",
                "https://h/?ACCESS_TOKEN=<masked>&Refresh_Token=<masked>",
            ),
            (
                "https://h/login?password=hunter2",
                "https://h/login?password=<masked>",
            ),
            (
                "https://h/?email=a%40b.example",
                "https://h/?email=<masked>",
            ),
            (
                "https://h/?invite=ann%40corp.example",
                "https://h/?invite=<masked>",
            ),
            ("https://h/?u=ann@corp.example", "https://h/?u=<masked>"),
            (
                "https://h/?fbclid=1&msclkid=2&dclid=3&gclid=4",
                "https://h/?fbclid=<masked>&msclkid=<masked>&dclid=<masked>&gclid=<masked>",
            ),
            (
                "https://h/users/ann@corp.example/edit",
                "https://h/users/<masked>/edit",
            ),
            (
                "https://h/app#access_token=t&x=1",
                "https://h/app#access_token=<masked>&x=1",
            ),
            (
                "https://h/app#/users/ann@corp.example",
                "https://h/app#/users/<masked>",
            ),
            // A hash router's route with a query.
            (
                "https://h/#/reset?token=t&team=7",
                "https://h/#/reset?token=<masked>&team=7",
            ),
            (
                "https://h/#/callback?state=s&code=c",
                "https://h/#/callback?state=<masked>&code=<masked>",
            ),
            ("https://h/#?email=e", "https://h/#?email=<masked>"),
            // Names are matched whole: look-alikes keep their values.
            (
                "https://h/?xtoken=1&token2=2&Token=3",
                "https://h/?xtoken=1&token2=2&Token=<masked>",
            ),
            // An email as a parameter's name.
            ("https://h/?ann@corp.example=1", "https://h/?<masked>=1"),
            ("https://user:pw@h/a", "https://h/a"),
            ("https://h/?flag", "https://h/?flag"),
            ("https://h/?ann@corp.example", "https://h/?<masked>"),
            ("/relative?token=1", "/relative?token=<masked>"),
            ("https://h/@scoped/pkg", "https://h/@scoped/pkg"),
        ];
        for (input, want) in cases {
            assert_eq!(sanitize_url(input), want, "{input}");
        }
    }

    /// `sanitize_url` as it was when each part was sanitised into a string of
    /// its own: the one-pass version must write the same.
    fn sanitize_url_by_parts(url: &str) -> String {
        fn path(p: &str) -> String {
            let masked: Vec<&str> = p
                .split('/')
                .map(|s| if looks_like_email(s) { MASK } else { s })
                .collect();
            masked.join("/")
        }
        fn params(p: &str) -> String {
            let masked: Vec<String> = p
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, value)) => {
                        let secret = is_masked_param(name);
                        let value = if secret || looks_like_email(value) {
                            MASK
                        } else {
                            value
                        };
                        let name = if looks_like_email(name) { MASK } else { name };
                        format!("{name}={value}")
                    }
                    None if looks_like_email(pair) => MASK.to_owned(),
                    None => pair.to_owned(),
                })
                .collect();
            masked.join("&")
        }
        let (before_fragment, fragment) = url
            .split_once('#')
            .map_or((url, None), |(b, f)| (b, Some(f)));
        let (before_query, query) = before_fragment
            .split_once('?')
            .map_or((before_fragment, None), |(b, q)| (b, Some(q)));
        let mut out = match before_query.split_once("://") {
            Some((scheme, after)) => {
                let (authority, p) = after.split_at(after.find('/').unwrap_or(after.len()));
                let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
                format!("{scheme}://{host}{}", path(p))
            }
            None => path(before_query),
        };
        if let Some(query) = query {
            out = format!("{out}?{}", params(query));
        }
        if let Some(f) = fragment {
            let f = match f.split_once('?') {
                Some((route, query)) => format!("{}?{}", path(route), params(query)),
                None if f.contains('=') => params(f),
                None => path(f),
            };
            out = format!("{out}#{f}");
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn one_pass_is_what_sanitising_by_parts_wrote(
            url in "(https?://([a:]+@)?h(:8)?)?([/?#&=a.@é]|token|CODE|%40){0,14}"
        ) {
            proptest::prop_assert_eq!(sanitize_url(&url), sanitize_url_by_parts(&url));
        }
    }

    #[test]
    fn masked_params_are_single_spaced_lowercase_names() {
        let names: Vec<&str> = MASKED_PARAMS.split(' ').collect();
        assert_eq!(names.len(), 34);
        for name in names {
            assert!(!name.is_empty(), "no empty name, or `?=x` would be masked");
            assert_eq!(name, name.to_ascii_lowercase().trim());
        }
        assert!(is_masked_param("ttclid") && is_masked_param("irclid"));
    }

    /// `looks_like_email` as it was, decoding `%40` and `%2540` into a new
    /// string first: finding the markers in place must decide the same.
    fn looks_like_email_by_decoding(value: &str) -> bool {
        let decoded = value.replace("%40", "@").replace("%2540", "@");
        let Some((local, domain)) = decoded.rsplit_once('@') else {
            return false;
        };
        let local = local
            .rsplit(['/', ':', '=', '&', '?'])
            .next()
            .unwrap_or(local);
        let domain = domain.split(['/', '?', '&', '#']).next().unwrap_or(domain);
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !local.chars().any(char::is_whitespace)
    }

    proptest::proptest! {
        #[test]
        fn finding_the_last_at_in_place_is_decoding(
            value in "(a|é|[.]|@|%40|%2540| |/){0,8}"
        ) {
            proptest::prop_assert_eq!(looks_like_email(&value), looks_like_email_by_decoding(&value));
        }
    }

    #[test]
    fn email_detection_needs_a_dotted_domain() {
        assert!(looks_like_email("a@b.co"));
        assert!(looks_like_email("a%40b.co"));
        assert!(looks_like_email("a%2540b.co"), "encoded twice");
        assert!(!looks_like_email("@scoped"));
        assert!(!looks_like_email("a@localhost"));
        assert!(!looks_like_email("v1.2@"));
        // Only what follows the last `/`, `:`, `=`, `&` or `?` is the local part.
        assert!(looks_like_email("mailto:a@b.co"));
        assert!(looks_like_email("é?x@b.co"));
        assert!(!looks_like_email("ann/@b.co"));
        assert!(!looks_like_email("q=a b&c=@b.co"));
        assert!(!looks_like_email("x=a b@b.co"));
    }
}
