//! Bounded retry with exponential backoff and jitter, decided without a clock.
//!
//! The sender says how an attempt ended and hands in a random draw; the policy says
//! whether the job is done, should be retried after a delay, or is given up. Network
//! errors and 5xx responses are worth retrying; 4xx responses never are, because the
//! same request would be refused again.

/// How one attempt to deliver a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The server answered with this HTTP status.
    Status(u16),
    /// No answer: connection refused, reset, DNS failure or timeout.
    NetworkError,
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// The server accepted the request (2xx).
    Delivered,
    /// Try again after this many milliseconds.
    RetryAfterMs(u64),
    /// Stop: the server refused the request for good (3xx/4xx), or every retry
    /// was used up on retryable failures.
    GiveUp,
}

/// How many times and how far apart a failed request is retried.
///
/// Delays double from `base_delay_ms` up to `max_delay_ms`; each is then drawn in its
/// upper half ("equal jitter") so that replicas failing together spread out.
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

impl AttemptOutcome {
    /// Whether the same request could succeed if sent again.
    pub fn is_retryable(self) -> bool {
        match self {
            AttemptOutcome::NetworkError => true,
            AttemptOutcome::Status(status) => (500..600).contains(&status),
        }
    }

    /// Whether the server accepted the request.
    pub fn is_success(self) -> bool {
        matches!(self, AttemptOutcome::Status(200..=299))
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
        if outcome.is_success() {
            RetryDecision::Delivered
        } else if outcome.is_retryable() && attempt_idx < self.max_retries {
            RetryDecision::RetryAfterMs(self.backoff_ms(attempt_idx, jitter_draw))
        } else {
            RetryDecision::GiveUp
        }
    }

    /// The delay before retry number `retry_idx` (0 for the first retry): the capped
    /// exponential ceiling, then a draw between half of it and all of it.
    pub fn backoff_ms(&self, retry_idx: u32, jitter_draw: u32) -> u64 {
        let ceiling = self
            .base_delay_ms
            .saturating_mul(1u64.checked_shl(retry_idx).unwrap_or(u64::MAX))
            .min(self.max_delay_ms);
        let half = ceiling / 2;
        half + u64::from(jitter_draw) % (ceiling - half + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn backoff_stays_in_the_upper_half_of_a_capped_doubling() {
        let policy = RetryPolicy {
            max_retries: 40,
            base_delay_ms: 1_000,
            max_delay_ms: 30_000,
        };
        let draws = [0, 1, 499, 500, 501, 7_919, u32::MAX / 2, u32::MAX];
        for retry_idx in 0..40 {
            let ceiling = (1_000u64 << retry_idx.min(20)).min(30_000);
            for draw in draws {
                let delay = policy.backoff_ms(retry_idx, draw);
                assert!(
                    delay >= ceiling / 2 && delay <= ceiling,
                    "{retry_idx} {draw}: {delay}"
                );
            }
        }
        // The draw reaches both ends of the range.
        assert_eq!(policy.backoff_ms(0, 0), 500);
        assert_eq!(policy.backoff_ms(0, 500), 1_000);
        assert_eq!(policy.backoff_ms(0, 501), 500);
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
}
