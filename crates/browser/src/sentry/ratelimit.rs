//! Sentry's rate limits: what the server said, per data category, and until when.

use ff_telemetry_wire::UnixMs;
use ff_telemetry_wire::sentry::DataCategory;
use ff_telemetry_wire::sentry::parse_imf_fixdate;
use ff_telemetry_wire::text;

/// How long to back off after a 429 that names no duration.
pub const DEFAULT_RETRY_AFTER_MS: u64 = 60 * UnixMs::SECOND;

/// One parsed entry of `X-Sentry-Rate-Limits`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    /// How long the limit lasts.
    pub retry_after_ms: u64,
    /// The names of the categories it covers, as written; empty means all.
    pub categories: Vec<String>,
    /// `organization`, `project`, `key`, … (informational).
    pub scope: Option<String>,
    /// Why, e.g. `usage_exceeded` (informational).
    pub reason: Option<String>,
}

/// Parses a `Retry-After` value: delta seconds, or an IMF-fixdate relative to `now`.
///
/// A date in the past means no wait; a value that is neither gives `None` (the
/// caller then applies [`DEFAULT_RETRY_AFTER_MS`]).
///
/// ```
/// use ff_telemetry_wire::UnixMs;
/// use ff_telemetry_browser::sentry::parse_retry_after;
/// assert_eq!(parse_retry_after("120", UnixMs(0)), Some(120_000));
/// assert_eq!(parse_retry_after("Thu, 01 Jan 1970 00:00:30 GMT", UnixMs(10_000)), Some(20_000));
/// assert_eq!(parse_retry_after("soon", UnixMs(0)), None);
/// ```
pub fn parse_retry_after(value: &str, now: UnixMs) -> Option<u64> {
    let value = value.trim_ascii();
    parse_seconds(value)
        .or_else(|| parse_imf_fixdate(value).map(|until| until.saturating_since(now)))
}

/// Parses `X-Sentry-Rate-Limits`: `secs:cat1;cat2:scope:reason, …`.
///
/// Entries whose seconds are not a number are skipped.
///
/// ```
/// use ff_telemetry_browser::sentry::parse_rate_limits;
/// let limits = parse_rate_limits("60:error;transaction:organization, 10::key:usage_exceeded");
/// assert_eq!(limits[0].categories, ["error", "transaction"]);
/// assert_eq!(limits[1].retry_after_ms, 10_000);
/// assert!(limits[1].categories.is_empty());
/// ```
pub fn parse_rate_limits(header: &str) -> Vec<RateLimit> {
    let mut limits = Vec::new();
    for_each_limit(header, |retry_after_ms, categories, mut fields| {
        let mut text = || {
            fields
                .next()
                .map(str::trim_ascii)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let scope = text();
        let reason = text();
        let mut list = Vec::new();
        for_each_category(categories, |name| list.push(name.to_owned()));
        limits.push(RateLimit {
            retry_after_ms,
            categories: list,
            scope,
            reason,
        });
    });
    limits
}

/// Calls `f` with each entry of `X-Sentry-Rate-Limits` that has a valid number
/// of seconds: the wait, the `;`-separated categories and the fields after
/// them (scope, reason). [`RateLimits::update`] reads them directly, without
/// building [`RateLimit`]s it would not keep. Callbacks rather than iterator
/// adapters: they cost the browser build less code.
fn for_each_limit<'a>(header: &'a str, mut f: impl FnMut(u64, &'a str, text::SplitAscii<'a>)) {
    for entry in text::split_ascii(header, b',') {
        let mut fields = text::split_ascii(entry.trim_ascii(), b':');
        let Some(retry_after_ms) = fields.next().and_then(|s| parse_seconds(s.trim_ascii())) else {
            continue;
        };
        f(retry_after_ms, fields.next().unwrap_or(""), fields);
    }
}

/// Calls `f` with each category name of one entry (`error;transaction`),
/// empty names skipped.
fn for_each_category<'a>(list: &'a str, mut f: impl FnMut(&'a str)) {
    for name in text::split_ascii(list, b';') {
        let name = name.trim_ascii();
        if !name.is_empty() {
            f(name);
        }
    }
}

/// Rate-limit bookkeeping: fed every response, asked before every send.
///
/// ```
/// use ff_telemetry_wire::UnixMs;
/// use ff_telemetry_wire::sentry::DataCategory;
/// use ff_telemetry_browser::sentry::RateLimits;
/// let mut limits = RateLimits::default();
/// limits.update(UnixMs(0), 429, None, Some("30:transaction:project"));
/// assert!(limits.is_limited(UnixMs(29_999), DataCategory::Transaction));
/// assert!(!limits.is_limited(UnixMs(0), DataCategory::Error));
/// assert!(!limits.is_limited(UnixMs(30_000), DataCategory::Transaction));
/// assert_eq!(limits.poll_expiry(UnixMs(0)), Some(UnixMs(30_000)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimits {
    /// Until when each category is limited (at [`DataCategory`]'s index),
    /// then until when everything is: a fixed table, as there are only the
    /// categories this SDK sends (less code than a list of scopes).
    until: [UnixMs; ALL_CATEGORIES + 1],
}

/// The slot of [`RateLimits::until`] that limits every category.
const ALL_CATEGORIES: usize = DataCategory::ALL.len();

impl RateLimits {
    /// Records what a response says about rate limits.
    ///
    /// `X-Sentry-Rate-Limits` is honoured on any status and takes precedence
    /// (an entry naming only categories this SDK does not send limits
    /// nothing); otherwise a 429 limits every category for `Retry-After`, or 60 s when that
    /// is missing or unreadable. A limit never shortens a longer one already known.
    pub fn update(
        &mut self,
        now: UnixMs,
        status: u16,
        retry_after: Option<&str>,
        rate_limits: Option<&str>,
    ) {
        if let Some(header) = rate_limits.filter(|h| !h.trim_ascii().is_empty()) {
            for_each_limit(header, |retry_after_ms, categories, _| {
                let until = now + retry_after_ms;
                let mut any_category = false;
                for_each_category(categories, |name| {
                    any_category = true;
                    if let Some(category) = DataCategory::from_name(name) {
                        self.extend(category as usize, until);
                    }
                });
                if !any_category {
                    self.extend(ALL_CATEGORIES, until);
                }
            });
        } else if status == 429 {
            let wait_ms = retry_after
                .and_then(|v| parse_retry_after(v, now))
                .unwrap_or(DEFAULT_RETRY_AFTER_MS);
            self.extend(ALL_CATEGORIES, now + wait_ms);
        }
    }

    /// Whether items of `category` must not be sent at `now`. Client reports
    /// ([`DataCategory::Internal`]) are never limited.
    pub fn is_limited(&self, now: UnixMs, category: DataCategory) -> bool {
        if category == DataCategory::Internal {
            return false;
        }
        [category as usize, ALL_CATEGORIES]
            .into_iter()
            .any(|slot| self.until.get(slot).is_some_and(|until| now < *until))
    }

    /// When the next active limit ends (to retry held items then), if any.
    pub fn poll_expiry(&self, now: UnixMs) -> Option<UnixMs> {
        self.until.iter().copied().filter(|t| *t > now).min()
    }

    /// Limits the `slot` of [`RateLimits::until`] until `until` at least.
    fn extend(&mut self, slot: usize, until: UnixMs) {
        if let Some(known) = self.until.get_mut(slot) {
            *known = (*known).max(until);
        }
    }
}

/// Seconds (`60`) as milliseconds. Sentry and `Retry-After` send whole
/// seconds; of a fraction (`2.5`) only the whole seconds count, as with
/// `parseInt` in sentry-javascript: less code than reading the fraction.
fn parse_seconds(s: &str) -> Option<u64> {
    let whole = text::parse_decimal(text::split_before(s, b".").0)?;
    // A comparison rather than `saturating_mul`, whose overflow check is a
    // 128-bit multiplication on wasm32.
    Some(if whole > u64::MAX / UnixMs::SECOND {
        u64::MAX
    } else {
        whole * UnixMs::SECOND
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixMs = UnixMs(784_111_777_000); // Sun, 06 Nov 1994 08:49:37 GMT

    #[test]
    fn retry_after_values() {
        let cases = [
            ("0", Some(0)),
            ("120", Some(120_000)),
            (" 7 ", Some(7_000)),
            // Whole seconds only, as `parseInt` reads them.
            ("1.5", Some(1_000)),
            ("2.", Some(2_000)),
            (".5", None),
            ("Sun, 06 Nov 1994 08:50:37 GMT", Some(60_000)),
            ("Sun, 06 Nov 1994 08:49:36 GMT", Some(0)),
            ("-5", None),
            ("5s", None),
            ("", None),
            ("Sunday, 06-Nov-94 08:50:37 GMT", None),
        ];
        for (value, want) in cases {
            assert_eq!(parse_retry_after(value, NOW), want, "{value:?}");
        }
    }

    #[test]
    fn rate_limit_header_entries() {
        let limits = parse_rate_limits(
            "60:error;transaction:organization:usage_exceeded, 2700::key, \
             30:metric_bucket:organization:quota:custom, bad:error, 5:;session;",
        );
        let want = vec![
            RateLimit {
                retry_after_ms: 60_000,
                categories: vec!["error".into(), "transaction".into()],
                scope: Some("organization".into()),
                reason: Some("usage_exceeded".into()),
            },
            RateLimit {
                retry_after_ms: 2_700_000,
                categories: vec![],
                scope: Some("key".into()),
                reason: None,
            },
            RateLimit {
                retry_after_ms: 30_000,
                categories: vec!["metric_bucket".into()],
                scope: Some("organization".into()),
                reason: Some("quota".into()),
            },
            RateLimit {
                retry_after_ms: 5_000,
                categories: vec!["session".into()],
                scope: None,
                reason: None,
            },
        ];
        assert_eq!(limits, want);
        assert!(parse_rate_limits("").is_empty());
    }

    /// One response, then which categories are limited 1 ms before and at the end.
    #[test]
    fn responses_set_limits_per_category() {
        struct Case {
            status: u16,
            retry_after: Option<&'static str>,
            rate_limits: Option<&'static str>,
            limited: &'static [DataCategory],
            for_ms: Option<u64>,
        }
        use DataCategory::{Error, Session, Transaction};
        let all: &[DataCategory] = &[Error, Transaction, Session];
        #[rustfmt::skip]
        let cases = [
            // A plain 429: everything for 60 s.
            Case { status: 429, retry_after: None, rate_limits: None, limited: all, for_ms: Some(60_000) },
            // Retry-After in seconds and as a date.
            Case { status: 429, retry_after: Some("5"), rate_limits: None, limited: all, for_ms: Some(5_000) },
            Case { status: 429, retry_after: Some("Sun, 06 Nov 1994 08:49:47 GMT"), rate_limits: None, limited: all, for_ms: Some(10_000) },
            // Unreadable Retry-After: the default.
            Case { status: 429, retry_after: Some("later"), rate_limits: None, limited: all, for_ms: Some(60_000) },
            // X-Sentry-Rate-Limits wins over Retry-After and limits only its categories.
            Case { status: 429, retry_after: Some("5"), rate_limits: Some("20:transaction:project"), limited: &[Transaction], for_ms: Some(20_000) },
            // ... and counts on a 200 too.
            Case { status: 200, retry_after: None, rate_limits: Some("8:error;session:key"), limited: &[Error, Session], for_ms: Some(8_000) },
            // Empty categories: all.
            Case { status: 200, retry_after: None, rate_limits: Some("3::organization"), limited: all, for_ms: Some(3_000) },
            // Retry-After alone on a 200 means nothing.
            Case { status: 200, retry_after: Some("30"), rate_limits: None, limited: &[], for_ms: None },
            Case { status: 503, retry_after: Some("30"), rate_limits: None, limited: &[], for_ms: None },
        ];
        for (i, case) in cases.iter().enumerate() {
            let mut limits = RateLimits::default();
            limits.update(NOW, case.status, case.retry_after, case.rate_limits);
            for category in all {
                let want = case.limited.contains(category);
                assert_eq!(
                    limits.is_limited(NOW, *category),
                    want,
                    "case {i} {category:?}"
                );
            }
            assert_eq!(
                limits.poll_expiry(NOW),
                case.for_ms.map(|ms| NOW + ms),
                "case {i}"
            );
            if let Some(ms) = case.for_ms {
                for category in case.limited {
                    assert!(limits.is_limited(NOW + (ms - 1), *category), "case {i}");
                    assert!(!limits.is_limited(NOW + ms, *category), "case {i}");
                }
            }
        }
    }

    #[test]
    fn limits_never_shrink_and_expire() {
        let mut limits = RateLimits::default();
        limits.update(NOW, 200, None, Some("60:error"));
        limits.update(NOW + 1_000, 200, None, Some("5:error, 10:session"));
        assert!(limits.is_limited(NOW + 59_000, DataCategory::Error));
        assert_eq!(limits.poll_expiry(NOW), Some(NOW + 11_000));
        assert_eq!(limits.poll_expiry(NOW + 11_000), Some(NOW + 60_000));
        assert_eq!(limits.poll_expiry(NOW + 60_000), None);
        assert!(!limits.is_limited(NOW + 60_000, DataCategory::Error));
    }

    #[test]
    fn ended_limits_can_start_again() {
        use DataCategory::{Error, Session, Transaction};
        let mut limits = RateLimits::default();
        for (i, category) in [Error, Session, Transaction, Error].into_iter().enumerate() {
            let now = NOW + i as u64 * 2_000;
            limits.update(now, 429, None, Some(&format!("1:{}", category.as_str())));
            assert!(limits.is_limited(now, category), "{category:?}");
            assert_eq!(limits.poll_expiry(now), Some(now + 1_000), "{category:?}");
            let others = [Error, Session, Transaction]
                .into_iter()
                .filter(|c| *c != category);
            for other in others {
                assert!(!limits.is_limited(now, other), "{category:?} {other:?}");
            }
        }
    }

    #[test]
    fn unknown_and_internal_categories() {
        use DataCategory::{Error, Internal};
        let mut limits = RateLimits::default();
        // A category this SDK does not send: nothing is limited (not everything).
        limits.update(NOW, 429, None, Some("60:metric_bucket"));
        assert_eq!(limits.poll_expiry(NOW), None);
        assert!(!limits.is_limited(NOW, Error));
        limits.update(NOW, 429, None, None);
        assert!(!limits.is_limited(NOW, Internal));
        assert!(limits.is_limited(NOW, Error));
    }
}
