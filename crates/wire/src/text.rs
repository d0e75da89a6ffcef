//! Substring search, splitting, joining and number parsing for the browser
//! path, written on bytes.
//!
//! `str::find("..")` and friends with a `&str` needle go through std's
//! `StrSearcher` (two-way search), whose code and panic paths (`slice_error_fail`
//! with `char` Debug and the Unicode printable tables) cost the browser build
//! about 2.5 KB gzipped. The needles here are short literals and the haystacks
//! URLs, user agents and stack lines, so a plain byte comparison is enough.
//! `char` needles are cheaper but not free: `split`, `split_once`, `contains`
//! and `trim_*_matches` with a `char` bring `CharSearcher` and memchr (about
//! 0.5 KB gzipped), so the browser path uses [`split_ascii`],
//! [`split_once_ascii`] and the byte scans here instead; `starts_with`,
//! `ends_with` and `strip_prefix` with a `char` compare bytes and stay.
//! `str::trim` and friends look for Unicode whitespace (`CharPredicateSearcher`
//! and UTF-8 decoding, about 0.2 KB gzipped): the browser path trims with
//! `str::trim_ascii`, which is also all the whitespace HTTP headers and stack
//! lines have. Likewise `parse_decimal` replaces one `str::parse` monomorph
//! per integer type, and [`concat()`] std's `join_generic_copy`.
//!
//! The public functions are for the web crate; the rest serves core.

/// Byte offset of the first `needle` in `haystack`, like `haystack.find(needle)`
/// (an empty needle is found at 0).
pub fn find(haystack: &str, needle: &str) -> Option<usize> {
    // An index loop: smaller than `windows` and `position`.
    let (haystack, needle) = (haystack.as_bytes(), needle.as_bytes());
    let mut at = 0;
    while at + needle.len() <= haystack.len() {
        if haystack
            .get(at..)
            .is_some_and(|rest| rest.starts_with(needle))
        {
            return Some(at);
        }
        at += 1;
    }
    None
}

/// Whether `needle` occurs in `haystack`, like `haystack.contains(needle)`.
pub fn contains(haystack: &str, needle: &str) -> bool {
    find(haystack, needle).is_some()
}

/// `s` around the first `separator`, like `s.split_once(separator)`.
pub fn split_once<'a>(s: &'a str, separator: &str) -> Option<(&'a str, &'a str)> {
    let start = find(s, separator)?;
    // A match of valid UTF-8 starts and ends on character boundaries, so `get`
    // never fails here; unlike indexing, it has no panic path.
    Some((s.get(..start)?, s.get(start + separator.len()..)?))
}

/// `s` around the first ASCII `separator`, like
/// `s.split_once(char::from(separator))` by a byte scan (the `char` pattern's
/// searcher is more code).
///
/// ```
/// use ff_telemetry_wire::text::split_once_ascii;
/// assert_eq!(split_once_ascii("k=v=w", b'='), Some(("k", "v=w")));
/// assert_eq!(split_once_ascii("k", b'='), None);
/// ```
pub fn split_once_ascii(s: &str, separator: u8) -> Option<(&str, &str)> {
    let (before, after) = split_before(s, &[separator]);
    Some((before, after.get(1..).filter(|_| !after.is_empty())?))
}

/// `s` around the last `separator`, like `s.rsplit_once(separator)` for an
/// ASCII `separator` (a non-ASCII byte is never found).
///
/// `str::rsplit_once` with a `char` goes through the reverse `CharSearcher`,
/// which is larger than this byte scan.
pub fn rsplit_once_ascii(s: &str, separator: u8) -> Option<(&str, &str)> {
    let at = rfind_any(s, &[separator])?;
    Some((s.get(..at)?, s.get(at + 1..)?))
}

/// Byte offset of the last of the ASCII bytes in `set` in `s`.
pub fn rfind_any(s: &str, set: &[u8]) -> Option<usize> {
    // An index loop: smaller than the iterator's `rposition`.
    let bytes = s.as_bytes();
    let mut at = bytes.len();
    while at > 0 {
        at -= 1;
        if is_one_of(bytes[at], set) {
            return Some(at);
        }
    }
    None
}

/// The number written in `s` with ASCII digits only, like `s.parse::<u64>()`
/// except that a leading `+` is refused too; `None` when `s` is empty, has
/// anything but digits, or overflows.
pub fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.bytes().try_fold(0u64, |n, b| {
        let digit = u64::from(b.checked_sub(b'0').filter(|d| *d < 10)?);
        // A comparison rather than `checked_mul`, whose overflow check is a
        // 128-bit multiplication on wasm32.
        (n <= (u64::MAX - digit) / 10).then(|| n * 10 + digit)
    })
}

/// `s` cut before the first of the ASCII `delimiters`, which starts the second
/// part; `(s, "")` when there is none. A byte scan: smaller than `str::find`
/// with a set of `char`s.
pub fn split_before<'a>(s: &'a str, delimiters: &[u8]) -> (&'a str, &'a str) {
    // An index loop: the iterator's `position` and the slice's `contains`
    // (memchr for bytes) cost more code in the browser build.
    let bytes = s.as_bytes();
    let mut end = 0;
    while end < bytes.len() && !is_one_of(bytes[end], delimiters) {
        end += 1;
    }
    // `split_at_checked` instead of `split_at`: no panic path (see the module docs).
    s.split_at_checked(end).unwrap_or((s, ""))
}

/// The pieces of `s` between the ASCII `separator`s, like `s.split(char::from(separator))`.
///
/// `split` with a `char` goes through `CharSearcher` and memchr, more code than
/// this byte scan; the SDK splits only short texts on ASCII separators.
///
/// ```
/// use ff_telemetry_wire::text::split_ascii;
/// assert_eq!(split_ascii("a,,b", b',').collect::<Vec<_>>(), ["a", "", "b"]);
/// assert_eq!(split_ascii("", b',').collect::<Vec<_>>(), [""]);
/// ```
pub fn split_ascii(s: &str, separator: u8) -> SplitAscii<'_> {
    SplitAscii {
        rest: Some(s),
        separator,
    }
}

/// The iterator of [`split_ascii`].
#[derive(Debug, Clone)]
pub struct SplitAscii<'a> {
    /// What is left to split; `None` after the last piece.
    rest: Option<&'a str>,
    separator: u8,
}

impl<'a> Iterator for SplitAscii<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        let (piece, after) = split_before(rest, &[self.separator]);
        // `after` starts with the separator unless it is the end.
        self.rest = after.get(1..).filter(|_| !after.is_empty());
        Some(piece)
    }
}

/// `s` without the trailing ASCII `b`s, like `s.trim_end_matches(char::from(b))`
/// by an index loop.
pub fn trim_end_ascii(s: &str, b: u8) -> &str {
    let bytes = s.as_bytes();
    let mut end = bytes.len();
    while end > 0 && bytes[end - 1] == b {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// `s` without the leading ASCII `b`s, like `s.trim_start_matches(char::from(b))`
/// by an index loop (the `char` pattern's searcher is more code).
pub fn trim_start_ascii(s: &str, b: u8) -> &str {
    let bytes = s.as_bytes();
    let mut start = 0;
    while start < bytes.len() && bytes[start] == b {
        start += 1;
    }
    s.get(start..).unwrap_or_default()
}

/// Whether `b` is in `set`: a loop rather than `<[u8]>::contains`, whose
/// memchr costs more code than the few delimiters here need.
fn is_one_of(b: u8, set: &[u8]) -> bool {
    let mut i = 0;
    while i < set.len() {
        if set[i] == b {
            return true;
        }
        i += 1;
    }
    false
}

/// The parts joined, like `parts.concat()`.
///
/// std's `concat` is `join_generic_copy` (about 1 KB of the browser build,
/// with its overflow checks and separator cases); a sum and a loop of
/// `push_str` do the same for the few short texts the SDK joins.
///
/// ```
/// assert_eq!(ff_telemetry_wire::text::concat(&["a", "-", "b"]), "a-b");
/// ```
pub fn concat(parts: &[&str]) -> String {
    let mut len = 0;
    for part in parts {
        len += part.len();
    }
    let mut out = String::with_capacity(len);
    for part in parts {
        out.push_str(part);
    }
    out
}

/// `n` in decimal, made without `core::fmt`.
///
/// Every integer the browser build writes (JSON numbers, timestamps, ports,
/// stored state) goes through this or [`write_decimal`] instead of
/// `to_string`/`format!`: integer `Display` and `{:02}` padding would
/// otherwise stay in the wasm for them.
pub fn decimal(n: u64) -> String {
    let mut text = String::new();
    write_decimal(&mut text, n, 1);
    text
}

/// Appends `n` in decimal with at least `min_digits` digits (at most 20),
/// zero-padded: what `format!("{n:0min_digits$}")` writes.
pub fn write_decimal(out: &mut String, mut n: u64, min_digits: usize) {
    let mut digits = [b'0'; 20];
    let mut start = digits.len();
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (n % 10) as u8;
        start -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let start = start.min(digits.len().saturating_sub(min_digits));
    push_ascii(out, digits.get(start..).unwrap_or_default());
}

/// Lowercase hex digits of `bytes`.
pub fn write_hex(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        push_ascii(out, &[HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]);
    }
}

/// Lowercase hex digits of `bytes`.
pub fn hex_string(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(2 * bytes.len());
    write_hex(&mut hex, bytes);
    hex
}

/// Appends ASCII bytes (digits), one `char` each: no UTF-8 check needed.
fn push_ascii(out: &mut String, ascii: &[u8]) {
    for &b in ascii {
        out.push(char::from(b));
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn agrees_with_std(haystack in "[ab:/é]{0,12}", needle in "[ab:/é]{0,3}") {
            proptest::prop_assert_eq!(find(&haystack, &needle), haystack.find(needle.as_str()));
            proptest::prop_assert_eq!(contains(&haystack, &needle), haystack.contains(needle.as_str()));
            proptest::prop_assert_eq!(
                split_once(&haystack, &needle),
                haystack.split_once(needle.as_str())
            );
            proptest::prop_assert_eq!(rfind_any(&haystack, b":/"), haystack.rfind([':', '/']));
            proptest::prop_assert_eq!(trim_start_ascii(&haystack, b'/'), haystack.trim_start_matches('/'));
            proptest::prop_assert_eq!(trim_end_ascii(&haystack, b'/'), haystack.trim_end_matches('/'));
            for separator in [b':', b'/'] {
                let separator_char = char::from(separator);
                proptest::prop_assert_eq!(
                    rsplit_once_ascii(&haystack, separator),
                    haystack.rsplit_once(separator_char)
                );
                proptest::prop_assert_eq!(
                    split_once_ascii(&haystack, separator),
                    haystack.split_once(separator_char)
                );
                proptest::prop_assert_eq!(
                    split_ascii(&haystack, separator).collect::<Vec<_>>(),
                    haystack.split(separator_char).collect::<Vec<_>>()
                );
            }
            let parts: Vec<&str> = haystack.split('/').collect();
            proptest::prop_assert_eq!(concat(&parts), haystack.replace('/', ""));
            let end = haystack.find(['/', ':']).unwrap_or(haystack.len());
            proptest::prop_assert_eq!(
                split_before(&haystack, b"/:"),
                (&haystack[..end], &haystack[end..])
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_decimal_is_parse_without_a_plus(s in "[0-9]{0,22}|-?[0-9a ]{0,4}|\\PC{0,6}") {
            let std = if s.starts_with('+') { None } else { s.parse::<u64>().ok() };
            proptest::prop_assert_eq!(parse_decimal(&s), std);
        }
    }

    #[test]
    fn decimal_limits() {
        assert_eq!(parse_decimal("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_decimal("18446744073709551616"), None);
        assert_eq!(parse_decimal("007"), Some(7));
        assert_eq!(parse_decimal("+7"), None);
        assert_eq!(parse_decimal(""), None);
    }

    #[test]
    fn empty_needles() {
        assert_eq!(find("", ""), Some(0));
        assert_eq!(find("abc", ""), Some(0));
        assert_eq!(split_before("abc", b"/"), ("abc", ""));
        assert_eq!(rsplit_once_ascii("é", 0xa9), None, "inside a character");
    }
}
