//! What to do with an HTTP answer, and when to try again.
//!
//! Generic over what is sent, so any sender can share it: the browser's PostHog
//! batches today, other senders later.

use ff_telemetry_wire::UnixMs;

/// What an HTTP status means for the request that got it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx: done.
    Delivered,
    /// Status 0 (network error, CORS, offline), 429 (too many requests) or
    /// 5xx: try again later.
    Retry,
    /// Anything else, 4xx above all: the server will never take it, so drop it.
    Drop,
}

/// Classifies an HTTP status (0 when the request never got an answer).
///
/// ```
/// use ff_telemetry_browser::posthog::{Verdict, verdict};
/// assert_eq!(verdict(200), Verdict::Delivered);
/// assert_eq!(verdict(0), Verdict::Retry);
/// assert_eq!(verdict(503), Verdict::Retry);
/// assert_eq!(verdict(429), Verdict::Retry);
/// assert_eq!(verdict(400), Verdict::Drop);
/// ```
pub fn verdict(status: u16) -> Verdict {
    match status {
        200..=299 => Verdict::Delivered,
        0 | 429 | 500..=599 => Verdict::Retry,
        _ => Verdict::Drop,
    }
}

/// Exponential backoff with jitter: the n-th retry waits between half and all of
/// `min(base_ms · 2ⁿ⁻¹, max_ms)`, and after `max_retries` the sender gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Upper bound of the first wait.
    pub base_ms: u64,
    /// Upper bound of any wait.
    pub max_ms: u64,
    /// Retries before giving up.
    pub max_retries: u32,
}

impl Default for Backoff {
    /// 1 s, 2 s, 4 s … capped at 5 minutes, 10 retries (about 20 minutes in all).
    fn default() -> Self {
        Backoff {
            base_ms: UnixMs::SECOND,
            max_ms: 5 * UnixMs::MINUTE,
            max_retries: 10,
        }
    }
}

impl Backoff {
    /// How long to wait after `n_failures` consecutive failures (1 for the first),
    /// given a uniform random `jitter_draw`; `None` means give up.
    ///
    /// ```
    /// use ff_telemetry_browser::posthog::Backoff;
    /// let b = Backoff { base_ms: 1_000, max_ms: 60_000, max_retries: 3 };
    /// assert_eq!(b.delay_ms(1, 0), Some(500));
    /// assert_eq!(b.delay_ms(2, u32::MAX), Some(2_000));
    /// assert_eq!(b.delay_ms(4, 0), None);
    /// ```
    pub fn delay_ms(&self, n_failures: u32, jitter_draw: u32) -> Option<u64> {
        if n_failures == 0 || n_failures > self.max_retries {
            return None;
        }
        // `base_ms × 2^(n_failures - 1)`, saturating: by shifting when no bit
        // falls off, as `saturating_mul`'s overflow check is a 128-bit
        // multiplication on wasm32.
        let shift = n_failures - 1;
        let ceiling = if self.base_ms == 0 {
            0
        } else if self.base_ms.leading_zeros() >= shift {
            self.base_ms << shift
        } else {
            u64::MAX
        }
        .min(self.max_ms);
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
    fn waits_double_within_jitter_bounds_and_cap() {
        let b = Backoff {
            base_ms: 1_000,
            max_ms: 10_000,
            max_retries: 6,
        };
        let lows: Vec<_> = (1..=6).map(|n| b.delay_ms(n, 0).unwrap()).collect();
        let highs: Vec<_> = (1..=6).map(|n| b.delay_ms(n, u32::MAX).unwrap()).collect();
        assert_eq!(lows, [500, 1_000, 2_000, 4_000, 5_000, 5_000]);
        assert_eq!(highs, [1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
        assert_eq!(b.delay_ms(7, 0), None);
        assert_eq!(b.delay_ms(0, 0), None);
    }

    proptest::proptest! {
        #[test]
        fn scaling_the_draw_is_exact(half: u64, draw: u32) {
            let exact = u128::from(half) * u128::from(draw) / u128::from(u32::MAX);
            proptest::prop_assert_eq!(u128::from(scale_draw(half, draw)), exact);
        }
    }

    proptest::proptest! {
        #[test]
        fn the_ceiling_is_the_saturating_product(
            base_ms in proptest::prop_oneof![0u64..5, proptest::num::u64::ANY],
            max_ms: u64,
            n_failures in 1u32..200,
        ) {
            let b = Backoff { base_ms, max_ms, max_retries: u32::MAX };
            let doubling = 1u64.checked_shl(n_failures - 1).unwrap_or(u64::MAX);
            let ceiling = base_ms.saturating_mul(doubling).min(max_ms);
            // The highest draw waits the whole ceiling.
            proptest::prop_assert_eq!(b.delay_ms(n_failures, u32::MAX), Some(ceiling));
        }
    }

    #[test]
    fn huge_failure_counts_do_not_overflow() {
        let b = Backoff {
            base_ms: u64::MAX,
            max_ms: u64::MAX,
            max_retries: u32::MAX,
        };
        assert_eq!(b.delay_ms(200, u32::MAX), Some(u64::MAX));
    }

    #[test]
    fn only_status_zero_429_and_5xx_are_retried() {
        let table = [
            (0, Verdict::Retry),
            (200, Verdict::Delivered),
            (204, Verdict::Delivered),
            (301, Verdict::Drop),
            (400, Verdict::Drop),
            (413, Verdict::Drop),
            (429, Verdict::Retry),
            (500, Verdict::Retry),
            (503, Verdict::Retry),
        ];
        for (status, want) in table {
            assert_eq!(verdict(status), want, "{status}");
        }
    }
}
