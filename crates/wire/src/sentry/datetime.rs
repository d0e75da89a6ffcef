//! The two date formats Sentry's wire speaks: RFC 3339 in payloads and HTTP's
//! IMF-fixdate in `Retry-After`. Hand-written so the browser build carries no
//! calendar crate.

use crate::UnixMs;
use crate::text;

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 §5.6.7).
///
/// The obsolete RFC 850 and asctime forms are not accepted: servers must send
/// IMF-fixdate, and a date we cannot read falls back to the default back-off.
pub fn parse_imf_fixdate(s: &str) -> Option<UnixMs> {
    // Every field has its fixed place: one pass over a template costs the
    // browser build less code than splitting into fields. In the template,
    // `w` is any byte but a space (the weekday is not checked), `M` the month
    // (looked up below), `0` an ASCII digit; any other byte stands for itself.
    const TEMPLATE: &[u8; 29] = b"www, 00 MMM 0000 00:00:00 GMT";
    let s = s.trim_ascii().as_bytes();
    if s.len() != TEMPLATE.len() {
        return None;
    }
    for (&byte, &want) in s.iter().zip(TEMPLATE) {
        let fits = match want {
            b'w' => byte != b' ',
            b'M' => true,
            b'0' => byte.is_ascii_digit(),
            _ => byte == want,
        };
        if !fits {
            return None;
        }
    }
    // The digits at `at..at + n` (checked above).
    let number = |at: usize, n: usize| {
        let digits = s.get(at..at + n).unwrap_or_default();
        digits
            .iter()
            .fold(0, |value, digit| value * 10 + u32::from(digit - b'0'))
    };
    let month_name = s.get(8..11).unwrap_or_default();
    let month = MONTHS.iter().position(|m| m.as_bytes() == month_name)? as u32 + 1;
    let (hours, minutes, seconds) = (number(17, 2), number(20, 2), number(23, 2));
    if hours > 23 || minutes > 59 || seconds > 60 {
        return None;
    }
    // A leap second counts as :59.
    let ms_of_day = u64::from(hours * 3600 + minutes * 60 + seconds.min(59)) * UnixMs::SECOND;
    to_unix_ms(i64::from(number(12, 4)), month, number(5, 2), ms_of_day, 0)
}

/// Parses an RFC 3339 timestamp (`2026-11-28T07:17:19.123Z`, any offset, any
/// number of fraction digits; precision beyond milliseconds is dropped).
pub fn parse_rfc3339(s: &str) -> Option<UnixMs> {
    let (date, rest) = (s.get(..10)?, s.get(10..)?);
    let mut ymd = text::split_ascii(date, b'-');
    let year = fixed_digits(ymd.next()?, 4)?;
    let month = fixed_digits(ymd.next()?, 2)?;
    let day = fixed_digits(ymd.next()?, 2)?;
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let time_end = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (time, zone) = rest.split_at(time_end);
    let (hms, fraction) = match text::split_once(time, ".") {
        Some((hms, fraction)) => (hms, Some(fraction)),
        None => (time, None),
    };
    let mut ms_of_day = parse_hms(hms)?;
    if let Some(fraction) = fraction {
        if fraction.is_empty() {
            return None;
        }
        ms_of_day += fraction_millis(fraction)?;
    }
    let offset_minutes = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (hours, minutes) = text::split_once(zone.get(1..)?, ":")?;
            let minutes = fixed_digits(hours, 2)? * 60 + fixed_digits(minutes, 2)?;
            sign * i64::from(minutes)
        }
    };
    to_unix_ms(i64::from(year), month, day, ms_of_day, offset_minutes)
}

/// Decimal digits after a point as milliseconds (`5` → 500, `123456` → 123);
/// `None` unless all are digits.
pub(crate) fn fraction_millis(digits: &str) -> Option<u64> {
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Three places, a missing digit counting as 0: no `pow`, no slicing.
    let digits = digits.as_bytes();
    let place = |i: usize| digits.get(i).map_or(0, |b| u64::from(b - b'0'));
    Some(place(0) * 100 + place(1) * 10 + place(2))
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Exactly `n` ASCII digits.
fn fixed_digits(s: &str, n: usize) -> Option<u32> {
    if s.len() != n {
        return None;
    }
    u32::try_from(text::parse_decimal(s)?).ok()
}

/// `HH:MM:SS` as milliseconds of the day (a leap second counts as :59).
fn parse_hms(s: &str) -> Option<u64> {
    let mut parts = text::split_ascii(s, b':');
    let hours = fixed_digits(parts.next()?, 2)?;
    let minutes = fixed_digits(parts.next()?, 2)?;
    let seconds = fixed_digits(parts.next()?, 2)?;
    if parts.next().is_some() || hours > 23 || minutes > 59 || seconds > 60 {
        return None;
    }
    Some(u64::from(hours * 3600 + minutes * 60 + seconds.min(59)) * UnixMs::SECOND)
}

fn to_unix_ms(
    year: i64,
    month: u32,
    day: u32,
    ms_of_day: u64,
    offset_minutes: i64,
) -> Option<UnixMs> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    // `i64` is wide enough: every caller parses a four-digit year and a
    // two-digit offset, so this stays within ±10⁴ years of milliseconds (and
    // `i128` arithmetic costs the browser build a multiplication routine).
    let days = days_from_civil(year, month, day);
    let ms = days * UnixMs::DAY as i64 + ms_of_day as i64 - offset_minutes * UnixMs::MINUTE as i64;
    u64::try_from(ms).ok().map(UnixMs)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`, the inverse of the one `UnixMs::to_rfc3339` uses).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Writes a timestamp as RFC 3339 with milliseconds (`1970-01-01T00:00:00.007Z`).
pub(crate) fn write_rfc3339<S: serde::Serializer>(at: &UnixMs, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339())
}

/// Reads a timestamp from an RFC 3339 string (what we write) or float seconds
/// since the epoch (what other SDKs write).
pub(crate) fn rfc3339<'de, D: serde::Deserializer<'de>>(d: D) -> Result<UnixMs, D::Error> {
    d.deserialize_any(timestamp::TimestampVisitor)
}

mod timestamp {
    use serde::de;

    use crate::UnixMs;

    pub(super) struct TimestampVisitor;

    impl de::Visitor<'_> for TimestampVisitor {
        type Value = UnixMs;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an RFC 3339 timestamp or seconds since the epoch")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<UnixMs, E> {
            super::parse_rfc3339(v).ok_or_else(|| E::custom(format!("bad timestamp {v:?}")))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<UnixMs, E> {
            Ok(UnixMs(v.saturating_mul(UnixMs::SECOND)))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<UnixMs, E> {
            u64::try_from(v)
                .map(|v| UnixMs(v.saturating_mul(UnixMs::SECOND)))
                .map_err(|_| E::custom("timestamp before 1970"))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<UnixMs, E> {
            if v.is_finite() && v >= 0.0 {
                Ok(UnixMs((v * 1000.0).round() as u64))
            } else {
                Err(E::custom("timestamp before 1970 or not finite"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imf_fixdate_round_trips_known_instants() {
        let cases = [
            ("Sun, 06 Nov 1994 08:49:37 GMT", Some(784_111_777_000)),
            ("Thu, 29 Feb 2024 12:00:00 GMT", Some(1_709_208_000_000)),
            ("Thu, 01 Jan 1970 00:00:00 GMT", Some(0)),
            ("Sat, 28 Nov 2026 07:26:03 GMT", Some(1_795_850_763_000)),
            // Obsolete forms and broken input are refused.
            ("Sunday, 06-Nov-94 08:49:37 GMT", None),
            ("Sun Nov  6 08:49:37 1994", None),
            ("Sun, 06 Nov 1994 08:49:37 UTC", None),
            ("Sun, 31 Nov 1994 08:49:37 GMT", None),
            ("Sun, 06 Nov 1994 24:00:00 GMT", None),
            ("Sun, 6 Nov 1994 08:49:37 GMT", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_imf_fixdate(input), want.map(UnixMs), "{input:?}");
        }
    }

    /// The field-splitting parser this module had before the template: the
    /// reference the template must agree with.
    fn imf_fixdate_by_fields(s: &str) -> Option<UnixMs> {
        let mut parts = s.trim().split(' ');
        let weekday = parts.next()?;
        let day = parts.next()?;
        let month = parts.next()?;
        let year = parts.next()?;
        let time = parts.next()?;
        let zone = parts.next()?;
        if parts.next().is_some() || zone != "GMT" || weekday.len() != 4 || !weekday.ends_with(',')
        {
            return None;
        }
        let month = MONTHS.iter().position(|m| *m == month)? as u32 + 1;
        let day = fixed_digits(day, 2)?;
        let year = fixed_digits(year, 4)?;
        let ms_of_day = parse_hms(time)?;
        to_unix_ms(i64::from(year), month, day, ms_of_day, 0)
    }

    proptest::proptest! {
        #[test]
        fn imf_fixdate_template_agrees_with_splitting_fields(
            s in "(Sun|Mon|a b|é),? [0-3][0-9] (Jan|Feb|Nov|Dec) [0-9]{4} [0-2][0-9]:[0-6][0-9]:[0-6][0-9] GMT\
                |[Sé ,]{0,5} ?[0-9 +]{1,3} (Jan|Feb|Nov|Dec|Jux|Nov ) [0-9+]{3,5} [0-6][0-9]:[0-9]{2}:[0-9+]{2}(:0)? ?(GMT|UTC)? ?\
                |\\PC{0,30}",
        ) {
            proptest::prop_assert_eq!(parse_imf_fixdate(&s), imf_fixdate_by_fields(&s));
        }
    }

    #[test]
    fn fractions_become_milliseconds() {
        let cases = [
            ("", Some(0)),
            ("5", Some(500)),
            ("05", Some(50)),
            ("123", Some(123)),
            ("123999", Some(123)),
            ("99999999999999999999999", Some(999)),
            ("1a", None),
            ("+1", None),
        ];
        for (digits, want) in cases {
            assert_eq!(fraction_millis(digits), want, "{digits:?}");
        }
    }

    #[test]
    fn rfc3339_reads_what_we_write_and_what_others_write() {
        for ms in [0, 1_709_208_000_123, 1_795_850_763_999] {
            assert_eq!(parse_rfc3339(&UnixMs(ms).to_rfc3339()), Some(UnixMs(ms)));
        }
        let cases = [
            ("2026-11-28T07:26:03Z", Some(1_795_850_763_000)),
            ("2026-11-28T07:26:03.5Z", Some(1_795_850_763_500)),
            ("2026-11-28T07:26:03.123456+00:00", Some(1_795_850_763_123)),
            ("2026-11-28T09:26:03+02:00", Some(1_795_850_763_000)),
            ("2026-11-28T02:26:03-05:00", Some(1_795_850_763_000)),
            ("2026-11-28", None),
            ("2026-11-28T07:26Z", None),
            ("2026-13-28T07:26:03Z", None),
            ("2026-11-28T07:26:03.Z", None),
            // The extremes four digits allow: no overflow, no wrap-around.
            ("9999-12-31T23:59:59.999-99:99", Some(253_402_663_139_999)),
            ("0000-01-01T00:00:00+99:99", None),
            ("1969-12-31T23:59:59.999Z", None),
            ("1970-01-01T01:00:00+01:00", Some(0)),
        ];
        for (input, want) in cases {
            assert_eq!(parse_rfc3339(input), want.map(UnixMs), "{input:?}");
        }
    }
}
