//! Sentry's rate limits: what the server said, per data category, and until when.

use super::datetime::{fraction_millis, parse_imf_fixdate};
use super::envelope::Envelope;
use super::protocol::DataCategory;
use crate::UnixMs;
use crate::text;

/// How long to back off after a 429 that names no duration.
pub const DEFAULT_RETRY_AFTER_MS: u64 = 60 * UnixMs::SECOND;

/// Which categories a limit covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitScope {
    /// Every category (an empty category list, or a plain 429).
    All,
    /// One category.
    Category(DataCategory),
}

/// One parsed entry of `X-Sentry-Rate-Limits`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    /// How long the limit lasts.
    pub retry_after_ms: u64,
    /// The categories it covers; empty means all.
    pub categories: Vec<DataCategory>,
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
/// use ff_telemetry_core::UnixMs;
/// use ff_telemetry_core::sentry::parse_retry_after;
/// assert_eq!(parse_retry_after("120", UnixMs(0)), Some(120_000));
/// assert_eq!(parse_retry_after("Thu, 01 Jan 1970 00:00:30 GMT", UnixMs(10_000)), Some(20_000));
/// assert_eq!(parse_retry_after("soon", UnixMs(0)), None);
/// ```
pub fn parse_retry_after(value: &str, now: UnixMs) -> Option<u64> {
    let value = value.trim();
    parse_seconds(value)
        .or_else(|| parse_imf_fixdate(value).map(|until| until.saturating_since(now)))
}

/// Parses `X-Sentry-Rate-Limits`: `secs:cat1;cat2:scope:reason, …`.
///
/// Entries whose seconds are not a number are skipped; unknown categories are
/// kept as [`DataCategory::Other`].
///
/// ```
/// use ff_telemetry_core::sentry::{DataCategory, parse_rate_limits};
/// let limits = parse_rate_limits("60:error;transaction:organization, 10::key:usage_exceeded");
/// assert_eq!(limits[0].categories, [DataCategory::Error, DataCategory::Transaction]);
/// assert_eq!(limits[1].retry_after_ms, 10_000);
/// assert!(limits[1].categories.is_empty());
/// ```
pub fn parse_rate_limits(header: &str) -> Vec<RateLimit> {
    limit_entries(header)
        .map(|(retry_after_ms, categories, mut fields)| {
            let mut text = || {
                fields
                    .next()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            let scope = text();
            let reason = text();
            RateLimit {
                retry_after_ms,
                categories: limit_categories(categories).collect(),
                scope,
                reason,
            }
        })
        .collect()
}

/// The entries of `X-Sentry-Rate-Limits` with a valid number of seconds: the
/// wait, the `;`-separated categories and the fields after them (scope,
/// reason). [`RateLimits::update`] reads them directly, without building
/// [`RateLimit`]s it would not keep.
fn limit_entries(header: &str) -> impl Iterator<Item = (u64, &str, text::SplitAscii<'_>)> {
    text::split_ascii(header, b',').filter_map(|entry| {
        let mut fields = text::split_ascii(entry.trim(), b':');
        let retry_after_ms = parse_seconds(fields.next()?.trim())?;
        Some((retry_after_ms, fields.next().unwrap_or(""), fields))
    })
}

/// The categories of one entry (`error;transaction`), empty names skipped.
fn limit_categories(list: &str) -> impl Iterator<Item = DataCategory> + '_ {
    text::split_ascii(list, b';')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(DataCategory::from_name)
}

/// Rate-limit bookkeeping: fed every response, asked before every send.
///
/// ```
/// use ff_telemetry_core::UnixMs;
/// use ff_telemetry_core::sentry::{DataCategory, RateLimits};
/// let mut limits = RateLimits::default();
/// limits.update(UnixMs(0), 429, None, Some("30:transaction:project"));
/// assert!(limits.is_limited(UnixMs(29_999), &DataCategory::Transaction));
/// assert!(!limits.is_limited(UnixMs(0), &DataCategory::Error));
/// assert!(!limits.is_limited(UnixMs(30_000), &DataCategory::Transaction));
/// assert_eq!(limits.poll_expiry(UnixMs(0)), Some(UnixMs(30_000)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimits {
    /// One entry per scope; a handful at most, so a list beats a map in code size.
    until: Vec<(LimitScope, UnixMs)>,
}

impl RateLimits {
    /// Records what a response says about rate limits.
    ///
    /// `X-Sentry-Rate-Limits` is honoured on any status and takes precedence;
    /// otherwise a 429 limits every category for `Retry-After`, or 60 s when that
    /// is missing or unreadable. A limit never shortens a longer one already known.
    pub fn update(
        &mut self,
        now: UnixMs,
        status: u16,
        retry_after: Option<&str>,
        rate_limits: Option<&str>,
    ) {
        if let Some(header) = rate_limits.filter(|h| !h.trim().is_empty()) {
            for (retry_after_ms, categories, _) in limit_entries(header) {
                let until = now + retry_after_ms;
                let mut any_category = false;
                for category in limit_categories(categories) {
                    any_category = true;
                    self.extend(LimitScope::Category(category), until);
                }
                if !any_category {
                    self.extend(LimitScope::All, until);
                }
            }
        } else if status == 429 {
            let wait_ms = retry_after
                .and_then(|v| parse_retry_after(v, now))
                .unwrap_or(DEFAULT_RETRY_AFTER_MS);
            self.extend(LimitScope::All, now + wait_ms);
        }
    }

    /// Whether items of `category` must not be sent at `now`. Client reports
    /// ([`DataCategory::Internal`]) are never limited.
    pub fn is_limited(&self, now: UnixMs, category: &DataCategory) -> bool {
        if *category == DataCategory::Internal {
            return false;
        }
        self.until.iter().any(|(scope, until)| {
            now < *until
                && match scope {
                    LimitScope::All => true,
                    LimitScope::Category(limited) => limited == category,
                }
        })
    }

    /// Whether an item of `item_type` (`event`, `session`, …) must not be sent at `now`.
    pub fn is_item_limited(&self, now: UnixMs, item_type: &str) -> bool {
        self.is_limited(now, &DataCategory::for_item_type(item_type))
    }

    /// The envelope without the items limited at `now` (`None` when nothing is
    /// left to send); `dropped` is told the category of each item removed.
    ///
    /// A callback rather than a returned list: the browser counts each drop at
    /// once, and a `Vec` of categories costs its build more code.
    pub fn filter_envelope(
        &self,
        now: UnixMs,
        mut envelope: Envelope,
        mut dropped: impl FnMut(DataCategory),
    ) -> Option<Envelope> {
        envelope.items.retain(|item| {
            let category = DataCategory::for_item_type(&item.header.kind);
            let limited = self.is_limited(now, &category);
            if limited {
                dropped(category);
            }
            !limited
        });
        (!envelope.items.is_empty()).then_some(envelope)
    }

    /// When the next active limit ends (to retry held items then), if any.
    pub fn poll_expiry(&self, now: UnixMs) -> Option<UnixMs> {
        self.until
            .iter()
            .map(|(_, until)| *until)
            .filter(|t| *t > now)
            .min()
    }

    /// Forgets limits that ended before `now`, keeping memory bounded.
    pub fn handle_timeout(&mut self, now: UnixMs) {
        self.until.retain(|(_, until)| *until > now);
    }

    fn extend(&mut self, scope: LimitScope, until: UnixMs) {
        match self.until.iter_mut().find(|(s, _)| *s == scope) {
            Some((_, known)) => *known = (*known).max(until),
            None => self.until.push((scope, until)),
        }
    }
}

/// Whole or fractional seconds (`60`, `2.5`) as milliseconds.
fn parse_seconds(s: &str) -> Option<u64> {
    let (whole, fraction) = text::split_once(s, ".").unwrap_or((s, ""));
    let whole = text::parse_decimal(whole)?;
    let millis = fraction_millis(fraction)?;
    // A comparison rather than `saturating_mul`, whose overflow check is a
    // 128-bit multiplication on wasm32.
    let whole_ms = if whole > u64::MAX / UnixMs::SECOND {
        u64::MAX
    } else {
        whole * UnixMs::SECOND
    };
    Some(whole_ms.saturating_add(millis))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentry::envelope::EnvelopeItem;

    const NOW: UnixMs = UnixMs(784_111_777_000); // Sun, 06 Nov 1994 08:49:37 GMT

    #[test]
    fn retry_after_values() {
        let cases = [
            ("0", Some(0)),
            ("120", Some(120_000)),
            (" 7 ", Some(7_000)),
            ("1.5", Some(1_500)),
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
                categories: vec![DataCategory::Error, DataCategory::Transaction],
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
                categories: vec![DataCategory::Other("metric_bucket".into())],
                scope: Some("organization".into()),
                reason: Some("quota".into()),
            },
            RateLimit {
                retry_after_ms: 5_000,
                categories: vec![DataCategory::Session],
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
                    limits.is_limited(NOW, category),
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
                    assert!(limits.is_limited(NOW + (ms - 1), category), "case {i}");
                    assert!(!limits.is_limited(NOW + ms, category), "case {i}");
                }
            }
        }
    }

    #[test]
    fn limits_never_shrink_and_expire() {
        let mut limits = RateLimits::default();
        limits.update(NOW, 200, None, Some("60:error"));
        limits.update(NOW + 1_000, 200, None, Some("5:error, 10:session"));
        assert!(limits.is_limited(NOW + 59_000, &DataCategory::Error));
        assert_eq!(limits.poll_expiry(NOW), Some(NOW + 11_000));
        assert_eq!(limits.poll_expiry(NOW + 11_000), Some(NOW + 60_000));
        limits.handle_timeout(NOW + 60_000);
        assert_eq!(limits, RateLimits::default());
    }

    #[test]
    fn unknown_and_internal_categories() {
        let mut limits = RateLimits::default();
        limits.update(NOW, 429, None, Some("60:metric_bucket"));
        assert!(limits.is_limited(NOW, &DataCategory::Other("metric_bucket".into())));
        assert!(!limits.is_limited(NOW, &DataCategory::Error));
        limits.update(NOW, 429, None, None);
        assert!(!limits.is_item_limited(NOW, "client_report"));
        assert!(limits.is_item_limited(NOW, "event"));
    }

    #[test]
    fn filtering_drops_only_limited_items() {
        let mut limits = RateLimits::default();
        limits.update(NOW, 200, None, Some("60:session"));
        let envelope = Envelope {
            header: Default::default(),
            items: vec![
                EnvelopeItem::json("event", &serde_json::json!({})),
                EnvelopeItem::json("session", &serde_json::json!({})),
            ],
        };
        let mut dropped = Vec::new();
        let kept = limits
            .filter_envelope(NOW, envelope.clone(), |c| dropped.push(c))
            .unwrap();
        assert_eq!(kept.items.len(), 1);
        assert_eq!(kept.items[0].header.kind, "event");
        assert_eq!(dropped, [DataCategory::Session]);
        limits.update(NOW, 200, None, Some("60:error"));
        let mut dropped = Vec::new();
        let kept = limits.filter_envelope(NOW, envelope, |c| dropped.push(c));
        assert_eq!(kept, None);
        assert_eq!(dropped, [DataCategory::Error, DataCategory::Session]);
    }
}
