//! The typed property bag of the events the browser SDK sends.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::json::{Obj, WriteJson};
use crate::text;

/// Properties of one browser event, named as PostHog expects them.
///
/// Every field is optional on the wire; the SDK fills what applies. User
/// properties (`capture(name, props)`, `$set`, `$group_set`) are merged in by the
/// browser SDK, outside this type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)] // Each field is the PostHog property of the same name.
pub struct EventProperties {
    pub token: String,
    pub distinct_id: String,
    #[serde(rename = "$lib")]
    pub lib: String,
    #[serde(rename = "$lib_version")]
    pub lib_version: String,
    #[serde(
        rename = "$device_id",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub device_id: Option<String>,
    #[serde(
        rename = "$session_id",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub session_id: Option<String>,
    #[serde(
        rename = "$window_id",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub window_id: Option<String>,
    #[serde(
        rename = "$current_url",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub current_url: Option<String>,
    #[serde(rename = "$host", default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(rename = "$pathname", default, skip_serializing_if = "Option::is_none")]
    pub pathname: Option<String>,
    #[serde(rename = "$referrer", default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    #[serde(
        rename = "$referring_domain",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub referring_domain: Option<String>,
    #[serde(
        rename = "$screen_width",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub screen_width: Option<u32>,
    #[serde(
        rename = "$screen_height",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub screen_height: Option<u32>,
    #[serde(
        rename = "$viewport_width",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub viewport_width: Option<u32>,
    #[serde(
        rename = "$viewport_height",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub viewport_height: Option<u32>,
    #[serde(
        rename = "$browser_language",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub browser_language: Option<String>,
    #[serde(rename = "$timezone", default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(
        rename = "$raw_user_agent",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub raw_user_agent: Option<String>,
    #[serde(rename = "$browser", default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    #[serde(rename = "$os", default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(
        rename = "$device_type",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub device_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(
        rename = "$pageview_id",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pageview_id: Option<String>,
    #[serde(
        rename = "$prev_pageview_id",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub prev_pageview_id: Option<String>,
    #[serde(
        rename = "$prev_pageview_pathname",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub prev_pageview_pathname: Option<String>,
    /// Seconds.
    #[serde(
        rename = "$prev_pageview_duration",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub prev_pageview_duration: Option<f64>,
    #[serde(
        rename = "$prev_pageview_last_scroll",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub prev_pageview_last_scroll: Option<u32>,
    #[serde(
        rename = "$prev_pageview_last_scroll_percentage",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub prev_pageview_last_scroll_percentage: Option<f64>,
    #[serde(
        rename = "$prev_pageview_max_scroll",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub prev_pageview_max_scroll: Option<u32>,
    #[serde(
        rename = "$prev_pageview_max_scroll_percentage",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub prev_pageview_max_scroll_percentage: Option<f64>,
    /// FlowFuse's `$pageleave` property: where the user went (path, query, hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// FlowFuse's `$pageview` property: where the user came from (path, query, hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(
        rename = "$anon_distinct_id",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub anon_distinct_id: Option<String>,
    #[serde(
        rename = "$group_type",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub group_type: Option<String>,
    #[serde(
        rename = "$group_key",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub group_key: Option<String>,
    /// `$groups`: group key by group type, a JSON object on the wire.
    #[serde(
        rename = "$groups",
        default,
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "pairs_as_map",
        deserialize_with = "map_as_pairs"
    )]
    pub groups: Vec<(String, String)>,
}

impl EventProperties {
    /// No property set: `EventProperties::default()`, kept in one place. Every
    /// caller inlining the default wrote each of the forty fields again, which
    /// the browser build pays for at every call site.
    #[inline(never)]
    pub(crate) fn empty() -> Self {
        Self::default()
    }
}

// The same JSON as the derived `Serialize` (a test compares them), without
// serde's serializer in the browser build.
impl WriteJson for EventProperties {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.str("token", &self.token)
            .str("distinct_id", &self.distinct_id)
            .str("$lib", &self.lib)
            .str("$lib_version", &self.lib_version)
            .opt_strs(
                &[
                    "$device_id",
                    "$session_id",
                    "$window_id",
                    "$current_url",
                    "$host",
                    "$pathname",
                    "$referrer",
                    "$referring_domain",
                ],
                &[
                    &self.device_id,
                    &self.session_id,
                    &self.window_id,
                    &self.current_url,
                    &self.host,
                    &self.pathname,
                    &self.referrer,
                    &self.referring_domain,
                ],
            )
            .opt_u64("$screen_width", self.screen_width.map(u64::from))
            .opt_u64("$screen_height", self.screen_height.map(u64::from))
            .opt_u64("$viewport_width", self.viewport_width.map(u64::from))
            .opt_u64("$viewport_height", self.viewport_height.map(u64::from))
            .opt_strs(
                &[
                    "$browser_language",
                    "$timezone",
                    "$raw_user_agent",
                    "$browser",
                    "$os",
                    "$device_type",
                    "title",
                    "$pageview_id",
                    "$prev_pageview_id",
                    "$prev_pageview_pathname",
                ],
                &[
                    &self.browser_language,
                    &self.timezone,
                    &self.raw_user_agent,
                    &self.browser,
                    &self.os,
                    &self.device_type,
                    &self.title,
                    &self.pageview_id,
                    &self.prev_pageview_id,
                    &self.prev_pageview_pathname,
                ],
            )
            .opt_f64("$prev_pageview_duration", self.prev_pageview_duration)
            .opt_u64(
                "$prev_pageview_last_scroll",
                self.prev_pageview_last_scroll.map(u64::from),
            )
            .opt_f64(
                "$prev_pageview_last_scroll_percentage",
                self.prev_pageview_last_scroll_percentage,
            )
            .opt_u64(
                "$prev_pageview_max_scroll",
                self.prev_pageview_max_scroll.map(u64::from),
            )
            .opt_f64(
                "$prev_pageview_max_scroll_percentage",
                self.prev_pageview_max_scroll_percentage,
            )
            .opt_strs(
                &[
                    "to",
                    "from",
                    "$anon_distinct_id",
                    "$group_type",
                    "$group_key",
                ],
                &[
                    &self.to,
                    &self.from,
                    &self.anon_distinct_id,
                    &self.group_type,
                    &self.group_key,
                ],
            );
        if !self.groups.is_empty() {
            obj.pairs("$groups", &self.groups);
        }
        obj.end();
    }
}

// A `Vec` of pairs rather than a map type: the browser build stays smaller and
// the few groups a user has are searched linearly.
fn pairs_as_map<S: Serializer>(pairs: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(pairs.iter().map(|(k, v)| (k, v)))
}

fn map_as_pairs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    Ok(BTreeMap::<String, String>::deserialize(d)?
        .into_iter()
        .collect())
}

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
/// use ff_telemetry_core::posthog::describe_user_agent;
/// let ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
/// assert_eq!(describe_user_agent(ua), ("Chrome", "Linux", "Desktop"));
/// ```
pub fn describe_user_agent(ua: &str) -> (&'static str, &'static str, &'static str) {
    let has = |s: &str| text::contains(ua, s);
    // Tables searched in order, the first family with a marker in `ua` wins:
    // one loop rather than a call per marker.
    const BROWSERS: [(&str, &str); 7] = [
        ("Edg/", "Microsoft Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("CriOS/", "Chrome"),
        ("Safari/", "Safari"),
    ];
    const SYSTEMS: [(&str, &str); 7] = [
        ("Windows", "Windows"),
        ("iPhone", "iOS"),
        ("iPad", "iOS"),
        ("Android", "Android"),
        ("CrOS", "Chrome OS"),
        ("Mac OS X", "Mac OS X"),
        ("Linux", "Linux"),
    ];
    let first = |table: &[(&str, &'static str)]| {
        for (marker, family) in table {
            if has(marker) {
                return *family;
            }
        }
        "Other"
    };
    let device = if has("iPad") || has("Tablet") || (has("Android") && !has("Mobile")) {
        "Tablet"
    } else if has("Mobi") || has("iPhone") {
        "Mobile"
    } else {
        "Desktop"
    };
    (first(&BROWSERS), first(&SYSTEMS), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_written_json_is_what_serde_writes() {
        let text = |s: &str| Some(format!("{s} \"quoted\"\n"));
        let full = EventProperties {
            token: "phc_k".into(),
            distinct_id: "d".into(),
            lib: "l".into(),
            lib_version: "1".into(),
            device_id: text("device"),
            session_id: text("session"),
            window_id: text("window"),
            current_url: text("url"),
            host: text("host"),
            pathname: text("path"),
            referrer: text("ref"),
            referring_domain: text("refdomain"),
            screen_width: Some(1),
            screen_height: Some(2),
            viewport_width: Some(3),
            viewport_height: Some(u32::MAX),
            browser_language: text("lang"),
            timezone: text("tz"),
            raw_user_agent: text("ua"),
            browser: text("browser"),
            os: text("os"),
            device_type: text("device type"),
            title: text("title"),
            pageview_id: text("pv"),
            prev_pageview_id: text("prev pv"),
            prev_pageview_pathname: text("prev path"),
            prev_pageview_duration: Some(2.5),
            prev_pageview_last_scroll: Some(7),
            prev_pageview_last_scroll_percentage: Some(0.25),
            prev_pageview_max_scroll: Some(9),
            prev_pageview_max_scroll_percentage: Some(1.0),
            to: text("to"),
            from: text("from"),
            anon_distinct_id: text("anon"),
            group_type: text("gt"),
            group_key: text("gk"),
            groups: vec![("team".into(), "t1".into()), ("org".into(), "o1".into())],
        };
        for props in [full, EventProperties::default()] {
            let ours: serde_json::Value =
                serde_json::from_str(&crate::json::to_string(&props)).unwrap();
            assert_eq!(ours, serde_json::to_value(&props).unwrap());
        }
    }

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
        ];
        for (ua, want) in cases {
            assert_eq!(describe_user_agent(ua), want, "{ua}");
        }
    }
}
