//! Which navigation transactions are recorded. Errors and sessions are never
//! sampled away: there is no function here that could drop them.

use ff_telemetry_wire::text;
use ff_telemetry_wire::text::write_decimal;

/// Navigation-transaction sample rate in production mode (FlowFuse's).
pub const PRODUCTION_TRACES_SAMPLE_RATE: f64 = 0.05;

/// Navigation-transaction sample rate outside production mode (FlowFuse's).
pub const DEVELOPMENT_TRACES_SAMPLE_RATE: f64 = 0.5;

/// The navigation-transaction sample rate: `traces_sample_rate` when configured
/// (clamped to 0–1; NaN is ignored), else 0.05 in production mode and 0.5 otherwise.
///
/// ```
/// use ff_telemetry_browser::sentry::traces_sample_rate;
/// assert_eq!(traces_sample_rate(true, None), 0.05);
/// assert_eq!(traces_sample_rate(false, None), 0.5);
/// assert_eq!(traces_sample_rate(true, Some(1.0)), 1.0);
/// ```
pub fn traces_sample_rate(production_mode: bool, configured: Option<f64>) -> f64 {
    match configured.filter(|rate| !rate.is_nan()) {
        Some(rate) => rate.clamp(0.0, 1.0),
        None if production_mode => PRODUCTION_TRACES_SAMPLE_RATE,
        None => DEVELOPMENT_TRACES_SAMPLE_RATE,
    }
}

/// Whether a transaction is kept at `rate`, given a uniformly random `draw`
/// (any `u32`; the caller draws it, so the decision is reproducible).
///
/// Exactly `rate × 2³²` of the possible draws keep: rate 0 keeps none, rate 1 all.
///
/// ```
/// use ff_telemetry_browser::sentry::is_sampled;
/// assert!(is_sampled(0.5, 0));
/// assert!(!is_sampled(0.5, u32::MAX));
/// assert!(!is_sampled(0.0, 0));
/// assert!(is_sampled(1.0, u32::MAX));
/// ```
pub fn is_sampled(rate: f64, draw: u32) -> bool {
    let threshold = (rate.clamp(0.0, 1.0) * 4_294_967_296.0) as u64;
    u64::from(draw) < threshold
}

/// A rate from 0 to 1 as short decimal text (`0.05`, `0.5`, `1`), to six places,
/// without float formatting in the browser build: how the `trace` envelope
/// header states the sample rate.
pub(crate) fn decimal_text(rate: f64) -> String {
    let millionths = (rate.clamp(0.0, 1.0) * 1_000_000.0 + 0.5) as u32;
    if millionths >= 1_000_000 {
        return "1".to_owned();
    }
    let mut digits = String::with_capacity(6);
    write_decimal(&mut digits, u64::from(millionths), 6);
    let digits = text::trim_end_ascii(&digits, b'0');
    if digits.is_empty() {
        "0".to_owned()
    } else {
        text::concat(&["0.", digits])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws spread evenly over the whole `u32` range.
    fn even_draws(n: u32) -> impl Iterator<Item = u32> {
        (0..n).map(move |i| ((u64::from(i) << 32) / u64::from(n)) as u32)
    }

    fn n_sampled(rate: f64, n: u32) -> usize {
        even_draws(n).filter(|&d| is_sampled(rate, d)).count()
    }

    #[test]
    fn production_mode_sends_a_tenth_of_the_transactions() {
        let production = n_sampled(traces_sample_rate(true, None), 1_000);
        let development = n_sampled(traces_sample_rate(false, None), 1_000);
        assert_eq!(production, 50);
        assert_eq!(development, 500);
    }

    #[test]
    fn configured_rate_overrides_both_modes() {
        for production_mode in [true, false] {
            let rate = traces_sample_rate(production_mode, Some(0.2));
            assert_eq!(n_sampled(rate, 1_000), 200);
        }
        assert_eq!(traces_sample_rate(true, Some(7.0)), 1.0);
        assert_eq!(traces_sample_rate(true, Some(-1.0)), 0.0);
        assert_eq!(traces_sample_rate(true, Some(f64::NAN)), 0.05);
    }

    #[test]
    fn extreme_rates_are_exact() {
        assert_eq!(n_sampled(0.0, 1_000), 0);
        assert_eq!(n_sampled(1.0, 1_000), 1_000);
    }

    #[test]
    fn sample_rates_as_decimal_text() {
        let cases = [
            (0.05, "0.05"),
            (0.5, "0.5"),
            (1.0, "1"),
            (0.0, "0"),
            (0.123_456_7, "0.123457"),
            (2.0, "1"),
            (f64::NAN, "0"),
        ];
        for (rate, want) in cases {
            assert_eq!(decimal_text(rate), want, "{rate}");
        }
    }
}
