//! What an HTTP answer means, and when to try again: the one status classifier and
//! the one retry policy of every sender (the backend's usage ping, the browser's
//! PostHog batches and Sentry envelopes), decided without a clock.
//!
//! The sender says how an attempt ended ([`classify`]) and hands in a random draw;
//! the policy says whether to try again and after how long ([`RetryPolicy`]).
//! What each sender does with a verdict is its own: the browser retries a 5xx and
//! a 429 after its `Retry-After`, for PostHog and Sentry alike (a Sentry 429
//! with `X-Sentry-Rate-Limits`, a used-up quota, drops its categories).

/// What an HTTP answer means for the request that got it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx: the server took it.
    Delivered,
    /// No answer at all (status 0 in the browser): offline, CORS, DNS, timeout.
    NoAnswer,
    /// 5xx: the server failed; the same request may succeed later.
    ServerError,
    /// 429: the server asks the sender to slow down.
    RateLimited,
    /// Anything else (3xx, 4xx but 429, nonsense): the server will never take it.
    Refused,
}

impl Verdict {
    /// Whether the same request could succeed if sent again: no answer or a 5xx.
    pub fn is_retryable(self) -> bool {
        matches!(self, Verdict::NoAnswer | Verdict::ServerError)
    }
}

/// Classifies an HTTP status, 0 when the request never got an answer.
///
/// ```
/// use ff_telemetry_core::retry::{Verdict, classify};
/// assert_eq!(classify(204), Verdict::Delivered);
/// assert_eq!(classify(0), Verdict::NoAnswer);
/// assert_eq!(classify(503), Verdict::ServerError);
/// assert_eq!(classify(429), Verdict::RateLimited);
/// assert_eq!(classify(400), Verdict::Refused);
/// ```
pub fn classify(status: u16) -> Verdict {
    match status {
        0 => Verdict::NoAnswer,
        200..=299 => Verdict::Delivered,
        429 => Verdict::RateLimited,
        500..=599 => Verdict::ServerError,
        _ => Verdict::Refused,
    }
}

/// How one attempt to deliver a request ended, where the sender can tell a
/// network error from an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The server answered with this HTTP status.
    Status(u16),
    /// No answer: connection refused, reset, DNS failure or timeout.
    NetworkError,
}

impl AttemptOutcome {
    /// What the outcome means.
    pub fn verdict(self) -> Verdict {
        match self {
            AttemptOutcome::Status(status) => classify(status),
            AttemptOutcome::NetworkError => Verdict::NoAnswer,
        }
    }
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// The server accepted the request (2xx).
    Delivered,
    /// Try again after this many milliseconds.
    RetryAfterMs(u64),
    /// Stop: the server refused the request for good, or every retry was used up
    /// on retryable failures.
    GiveUp,
}

/// Exponential backoff with jitter: the n-th retry waits between half and all of
/// `min(base_delay_ms · 2ⁿ⁻¹, max_delay_ms)` ("equal jitter", so that senders
/// failing together spread out), and after `max_retries` the sender gives up.
///
/// ```
/// use ff_telemetry_core::retry::{AttemptOutcome, RetryDecision, RetryPolicy};
/// let policy = RetryPolicy::default();
/// assert_eq!(policy.decide(0, AttemptOutcome::Status(503), 0), RetryDecision::RetryAfterMs(500));
/// assert_eq!(policy.decide(0, AttemptOutcome::Status(400), 0), RetryDecision::GiveUp);
/// assert_eq!(policy.decide(3, AttemptOutcome::NetworkError, 0), RetryDecision::GiveUp);
/// assert_eq!(policy.decide(1, AttemptOutcome::Status(204), 0), RetryDecision::Delivered);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so at most `max_retries + 1` attempts).
    pub max_retries: u32,
    /// Upper bound of the first retry's delay.
    pub base_delay_ms: u64,
    /// No delay exceeds this.
    pub max_delay_ms: u64,
}

impl Default for RetryPolicy {
    /// Three retries, delays up to 1 s, 2 s and 4 s.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay_ms: 1_000,
            max_delay_ms: 30_000,
        }
    }
}

impl RetryPolicy {
    /// The decision after attempt number `attempt_idx` (0 for the first) ended with
    /// `outcome`. `jitter_draw` is any random `u32`.
    #[must_use]
    pub fn decide(
        &self,
        attempt_idx: u32,
        outcome: AttemptOutcome,
        jitter_draw: u32,
    ) -> RetryDecision {
        match outcome.verdict() {
            Verdict::Delivered => RetryDecision::Delivered,
            v if v.is_retryable() => self
                .delay_ms(attempt_idx.saturating_add(1), jitter_draw)
                .map_or(RetryDecision::GiveUp, RetryDecision::RetryAfterMs),
            _ => RetryDecision::GiveUp,
        }
    }

    /// How long to wait after `n_failures` consecutive failures (1 for the first),
    /// given a uniform random `jitter_draw`; `None` means give up.
    ///
    /// ```
    /// use ff_telemetry_core::retry::RetryPolicy;
    /// let p = RetryPolicy { base_delay_ms: 1_000, max_delay_ms: 60_000, max_retries: 3 };
    /// assert_eq!(p.delay_ms(1, 0), Some(500));
    /// assert_eq!(p.delay_ms(2, u32::MAX), Some(2_000));
    /// assert_eq!(p.delay_ms(4, 0), None);
    /// ```
    pub fn delay_ms(&self, n_failures: u32, jitter_draw: u32) -> Option<u64> {
        if n_failures == 0 || n_failures > self.max_retries {
            return None;
        }
        // `base_delay_ms × 2^(n_failures - 1)`, saturating: by shifting when no
        // bit falls off, as `saturating_mul`'s overflow check is a 128-bit
        // multiplication on wasm32.
        let shift = n_failures - 1;
        let base = self.base_delay_ms;
        let ceiling = if base == 0 {
            0
        } else if base.leading_zeros() >= shift {
            base << shift
        } else {
            u64::MAX
        }
        .min(self.max_delay_ms);
        let half = ceiling / 2;
        Some(ceiling - half + scale_draw(half, jitter_draw))
    }
}

/// `⌊half × draw / u32::MAX⌋`, the draw scaled onto `0..=half`, exactly and in
/// u64: with `half = q × MAX + r`, that is `q × draw + ⌊r × draw / MAX⌋`, and
/// `r × draw < MAX²` fits. (u128 arithmetic would add compiler_builtins' 128-bit
/// division, about 1 KB, to the browser build.)
fn scale_draw(half: u64, draw: u32) -> u64 {
    let max = u64::from(u32::MAX);
    let draw = u64::from(draw);
    half / max * draw + half % max * draw / max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_by_verdict() {
        use Verdict::*;
        let table = [
            (0, NoAnswer),
            (200, Delivered),
            (204, Delivered),
            (301, Refused),
            (400, Refused),
            (413, Refused),
            (429, RateLimited),
            (500, ServerError),
            (503, ServerError),
            (600, Refused),
        ];
        for (status, want) in table {
            assert_eq!(classify(status), want, "{status}");
        }
        assert!(NoAnswer.is_retryable() && ServerError.is_retryable());
        assert!(!RateLimited.is_retryable() && !Refused.is_retryable());
    }

    #[test]
    fn decisions_by_outcome_and_attempt() {
        use AttemptOutcome::{NetworkError, Status};
        use RetryDecision::{Delivered, GiveUp, RetryAfterMs};
        let policy = RetryPolicy::default();
        let table = [
            (0, Status(200), Delivered),
            (0, Status(204), Delivered),
            (3, Status(201), Delivered),
            (0, Status(500), RetryAfterMs(500)),
            (0, Status(503), RetryAfterMs(500)),
            (1, Status(502), RetryAfterMs(1_000)),
            (2, NetworkError, RetryAfterMs(2_000)),
            (3, NetworkError, GiveUp),
            (3, Status(503), GiveUp),
            (0, Status(400), GiveUp),
            (0, Status(404), GiveUp),
            (0, Status(429), GiveUp),
            (0, Status(301), GiveUp),
            (0, Status(600), GiveUp),
        ];
        for (attempt_idx, outcome, want) in table {
            assert_eq!(
                policy.decide(attempt_idx, outcome, 0),
                want,
                "{attempt_idx} {outcome:?}"
            );
        }
    }

    #[test]
    fn waits_double_within_jitter_bounds_and_cap() {
        let p = RetryPolicy {
            base_delay_ms: 1_000,
            max_delay_ms: 10_000,
            max_retries: 6,
        };
        let lows: Vec<_> = (1..=6).map(|n| p.delay_ms(n, 0).unwrap()).collect();
        let highs: Vec<_> = (1..=6).map(|n| p.delay_ms(n, u32::MAX).unwrap()).collect();
        assert_eq!(lows, [500, 1_000, 2_000, 4_000, 5_000, 5_000]);
        assert_eq!(highs, [1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
        assert_eq!(p.delay_ms(7, 0), None);
        assert_eq!(p.delay_ms(0, 0), None);
    }

    #[test]
    fn the_number_of_attempts_is_bounded() {
        let policy = RetryPolicy::default();
        let mut attempts = 1;
        while let RetryDecision::RetryAfterMs(_) =
            policy.decide(attempts - 1, AttemptOutcome::NetworkError, 12_345)
        {
            attempts += 1;
        }
        assert_eq!(attempts, 4);
    }

    #[test]
    fn huge_failure_counts_do_not_overflow() {
        let p = RetryPolicy {
            base_delay_ms: u64::MAX,
            max_delay_ms: u64::MAX,
            max_retries: u32::MAX,
        };
        assert_eq!(p.delay_ms(200, u32::MAX), Some(u64::MAX));
    }

    proptest::proptest! {
        #[test]
        fn scaling_the_draw_is_exact(half: u64, draw: u32) {
            let exact = u128::from(half) * u128::from(draw) / u128::from(u32::MAX);
            proptest::prop_assert_eq!(u128::from(scale_draw(half, draw)), exact);
        }

        #[test]
        fn the_ceiling_is_the_saturating_product(
            base_delay_ms in proptest::prop_oneof![0u64..5, proptest::num::u64::ANY],
            max_delay_ms: u64,
            n_failures in 1u32..200,
        ) {
            let p = RetryPolicy { base_delay_ms, max_delay_ms, max_retries: u32::MAX };
            let doubling = 1u64.checked_shl(n_failures - 1).unwrap_or(u64::MAX);
            let ceiling = base_delay_ms.saturating_mul(doubling).min(max_delay_ms);
            // The highest draw waits the whole ceiling, the lowest half of it.
            proptest::prop_assert_eq!(p.delay_ms(n_failures, u32::MAX), Some(ceiling));
            proptest::prop_assert_eq!(p.delay_ms(n_failures, 0), Some(ceiling - ceiling / 2));
        }
    }
}
