//! Wall-clock instants as plain numbers, so that logic can be driven by a fake clock.

use serde::{Deserialize, Serialize};

use crate::text::write_decimal;

/// Milliseconds since the Unix epoch (UTC).
///
/// Core never reads a clock: callers pass `now` in. The browser has no `Instant`,
/// so one plain number type serves the browser, the backend and the tests alike.
///
/// ```
/// use ff_telemetry_wire::UnixMs;
/// let start = UnixMs(1_700_000_000_000);
/// assert_eq!(start + UnixMs::SECOND * 30, UnixMs(1_700_000_030_000));
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct UnixMs(pub u64);

impl UnixMs {
    /// One second, as a duration in milliseconds.
    pub const SECOND: u64 = 1_000;
    /// One minute, as a duration in milliseconds.
    pub const MINUTE: u64 = 60 * Self::SECOND;
    /// One hour, as a duration in milliseconds.
    pub const HOUR: u64 = 60 * Self::MINUTE;
    /// One day, as a duration in milliseconds.
    pub const DAY: u64 = 24 * Self::HOUR;

    /// Milliseconds from `earlier` to `self`, or 0 when `earlier` is later.
    pub fn saturating_since(self, earlier: UnixMs) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// RFC 3339 rendering in UTC with millisecond precision, e.g. `2026-11-28T07:17:19.000Z`.
    ///
    /// ```
    /// use ff_telemetry_wire::UnixMs;
    /// assert_eq!(UnixMs(0).to_rfc3339(), "1970-01-01T00:00:00.000Z");
    /// assert_eq!(UnixMs(1_764_314_239_123).to_rfc3339(), "2025-11-28T07:17:19.123Z");
    /// ```
    pub fn to_rfc3339(self) -> String {
        let mut text = String::with_capacity(24);
        self.write_rfc3339(&mut text);
        text
    }

    /// Appends [`UnixMs::to_rfc3339`]'s text to `out`.
    fn write_rfc3339(self, out: &mut String) {
        let ms_of_day = self.0 % Self::DAY;
        let (year, month, day) = civil_from_days(self.0 / Self::DAY);
        let secs = ms_of_day / 1000;
        // By hand rather than `format!("{year:04}-{month:02}…")`: keeps core::fmt's
        // integer padding out of the browser build. Each field follows its
        // separator; the year has none.
        let fields = [
            (None, year, 4),
            (Some('-'), month, 2),
            (Some('-'), day, 2),
            (Some('T'), secs / 3600, 2),
            (Some(':'), secs / 60 % 60, 2),
            (Some(':'), secs % 60, 2),
            (Some('.'), ms_of_day % 1000, 3),
        ];
        for (separator, value, digits) in fields {
            out.extend(separator);
            write_decimal(out, value, digits);
        }
        out.push('Z');
    }
}

impl std::ops::Add<u64> for UnixMs {
    type Output = UnixMs;
    fn add(self, ms: u64) -> UnixMs {
        UnixMs(self.0.saturating_add(ms))
    }
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month, day).
///
/// Howard Hinnant's `civil_from_days`, which avoids pulling a calendar crate into
/// the browser build for one date format. In unsigned arithmetic, as no day
/// before 1970 can occur: less code than his signed version.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_handles_leap_days_and_century_rules() {
        // 2024-02-29T12:00:00Z and 2000-03-01T00:00:00Z.
        assert_eq!(
            UnixMs(1_709_208_000_000).to_rfc3339(),
            "2024-02-29T12:00:00.000Z"
        );
        assert_eq!(
            UnixMs(951_868_800_000).to_rfc3339(),
            "2000-03-01T00:00:00.000Z"
        );
    }

    #[test]
    fn rfc3339_pads_every_field() {
        let cases = [
            (0, "1970-01-01T00:00:00.000Z"),
            (1, "1970-01-01T00:00:00.001Z"),
            (
                951_782_400_000 + 12 * 3_600_000 + 34_000 + 56,
                "2000-02-29T12:00:34.056Z",
            ),
            (1_709_251_199_999, "2024-02-29T23:59:59.999Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
            (253_402_300_800_000, "10000-01-01T00:00:00.000Z"),
        ];
        for (ms, want) in cases {
            assert_eq!(UnixMs(ms).to_rfc3339(), want, "{ms}");
        }
    }

    /// The signed algorithm and `format!`, as before the browser build needed less code.
    fn rfc3339_by_format(ms: u64) -> String {
        let (days, ms_of_day) = ((ms / UnixMs::DAY) as i64, ms % UnixMs::DAY);
        let z = days + 719_468;
        let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let secs = ms_of_day / 1000;
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            ms_of_day % 1000
        )
    }

    proptest::proptest! {
        #[test]
        fn rfc3339_is_what_format_writes(ms: u64) {
            proptest::prop_assert_eq!(UnixMs(ms).to_rfc3339(), rfc3339_by_format(ms));
        }
    }

    #[test]
    fn adding_never_overflows() {
        assert_eq!(UnixMs(u64::MAX) + 5, UnixMs(u64::MAX));
    }
}
