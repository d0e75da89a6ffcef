//! A minimal JSON writer for what the browser sends (PostHog events, Sentry
//! envelopes).
//!
//! Written by hand because `serde_json`'s serializer and the derived `Serialize`
//! code for every payload type cost the browser build kilobytes it does not
//! have (the whole SDK must fit in 35 KB gzipped). The payload types still
//! derive serde's traits, so the collector and the tests read them with serde,
//! and tests compare the output with `serde_json`'s (and, for Sentry, with a
//! third party's parser).
//!
//! ```
//! use ff_telemetry_core::json::{Obj, WriteJson, to_string};
//! struct Hit { page: String, n_views: u64, tags: Vec<String> }
//! impl WriteJson for Hit {
//!     fn write_json(&self, out: &mut Vec<u8>) {
//!         Obj::new(out).str("page", &self.page).u64("n_views", self.n_views)
//!             .list("tags", &self.tags).end();
//!     }
//! }
//! let hit = Hit { page: "a\"b".into(), n_views: 2, tags: vec!["x".into()] };
//! assert_eq!(to_string(&hit), r#"{"page":"a\"b","n_views":2,"tags":["x"]}"#);
//! ```

/// Something that writes itself as one JSON value.
pub trait WriteJson {
    /// Appends the JSON text of `self` to `out`.
    fn write_json(&self, out: &mut Vec<u8>);
}

/// The JSON text of `value`, as bytes.
pub fn to_json(value: &(impl WriteJson + ?Sized)) -> Vec<u8> {
    let mut out = Vec::new();
    value.write_json(&mut out);
    out
}

/// The JSON text of `value`.
pub fn to_string(value: &(impl WriteJson + ?Sized)) -> String {
    // Only `&str`s and ASCII are ever written, so this is valid UTF-8.
    String::from_utf8(to_json(value)).unwrap_or_default()
}

/// Writes one JSON object, field by field; the closing brace comes with [`Obj::end`].
#[derive(Debug)]
pub struct Obj<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> Obj<'a> {
    /// Starts an object at the end of `out`.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Obj { out, empty: true }
    }

    /// Writes `"key":` and returns the buffer for the value.
    pub fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        write_str(self.out, key);
        self.out.push(b':');
        self.out
    }

    /// A string field.
    pub fn str(&mut self, key: &str, value: &str) -> &mut Self {
        write_str(self.key(key), value);
        self
    }

    /// A string field, left out when `None`.
    pub fn opt_str(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.str(key, value);
        }
        self
    }

    /// An integer field, left out when `None`.
    pub fn opt_u64(&mut self, key: &str, value: Option<u64>) -> &mut Self {
        if let Some(value) = value {
            self.u64(key, value);
        }
        self
    }

    /// A boolean field, left out when `None`.
    pub fn opt_bool(&mut self, key: &str, value: Option<bool>) -> &mut Self {
        if let Some(value) = value {
            self.bool(key, value);
        }
        self
    }

    /// An integer field.
    pub fn u64(&mut self, key: &str, value: u64) -> &mut Self {
        write_u64(self.key(key), value);
        self
    }

    /// A timestamp field: [`UnixMs::to_rfc3339`](crate::UnixMs::to_rfc3339)'s
    /// text, written in place.
    pub fn time(&mut self, key: &str, at: crate::UnixMs) -> &mut Self {
        let out = self.key(key);
        out.push(b'"');
        at.write_rfc3339(out);
        out.push(b'"');
        self
    }

    /// A boolean field.
    pub fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        let text: &[u8] = if value { b"true" } else { b"false" };
        self.key(key).extend_from_slice(text);
        self
    }

    /// A field holding any JSON value.
    pub fn value(&mut self, key: &str, value: &impl WriteJson) -> &mut Self {
        value.write_json(self.key(key));
        self
    }

    /// A field holding any JSON value, left out when `None`.
    pub fn opt_value(&mut self, key: &str, value: Option<&impl WriteJson>) -> &mut Self {
        if let Some(value) = value {
            self.value(key, value);
        }
        self
    }

    /// A JSON array of `items`.
    pub fn list<T: WriteJson>(&mut self, key: &str, items: &[T]) -> &mut Self {
        items.write_json(self.key(key));
        self
    }

    /// An object field from `(key, value)` string pairs.
    pub fn pairs(&mut self, key: &str, pairs: &[(String, String)]) -> &mut Self {
        let mut inner = Obj::new(self.key(key));
        for (k, v) in pairs {
            inner.str(k, v);
        }
        inner.end();
        self
    }

    /// Closes the object.
    pub fn end(&mut self) {
        self.out.push(b'}');
    }
}

/// A JSON string, escaped.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..0x20 | 0x7f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// A non-negative integer.
pub fn write_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(Decimal::new(n).as_bytes());
}

/// The decimal text of an integer, made without `core::fmt`.
///
/// Every integer the browser build writes (JSON numbers, timestamps, ports,
/// stored state) goes through this instead of `to_string`/`format!`: integer
/// `Display` and `{:02}` padding would otherwise stay in the wasm for them.
pub(crate) struct Decimal {
    digits: [u8; 20],
    start: usize,
}

impl Decimal {
    /// `n` in decimal.
    pub(crate) fn new(n: u64) -> Self {
        Self::padded(n, 1)
    }

    /// `n` in decimal with at least `min_digits` digits (at most 20), zero-padded:
    /// what `format!("{n:0min_digits$}")` writes.
    pub(crate) fn padded(mut n: u64, min_digits: usize) -> Self {
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
        Decimal { digits, start }
    }

    /// The digits.
    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII digits, so this never fails.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The digits, as bytes (for writers of bytes: no UTF-8 check).
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.digits.get(self.start..).unwrap_or_default()
    }
}

/// Lowercase hex digits of `bytes`, as a JSON string.
pub(crate) fn write_hex_str(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    write_hex(out, bytes);
    out.push(b'"');
}

/// Lowercase hex digits of `bytes`.
pub(crate) fn write_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0xf)]);
    }
}

/// Lowercase hex digits of `bytes`.
pub(crate) fn hex_string(bytes: &[u8]) -> String {
    // Bytes first, then one UTF-8 check: smaller code than pushing `char`s.
    let mut hex = Vec::with_capacity(2 * bytes.len());
    write_hex(&mut hex, bytes);
    String::from_utf8(hex).unwrap_or_default() // only ASCII hex digits
}

/// Milliseconds as seconds with three decimals (`2500` → `2.500`), without
/// pulling float formatting into the browser build.
pub(crate) fn write_millis_as_secs(out: &mut Vec<u8>, ms: u64) {
    write_u64(out, ms / 1000);
    out.push(b'.');
    out.extend_from_slice(Decimal::padded(ms % 1000, 3).as_bytes());
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl WriteJson for str {
    fn write_json(&self, out: &mut Vec<u8>) {
        write_str(out, self);
    }
}

impl WriteJson for String {
    fn write_json(&self, out: &mut Vec<u8>) {
        write_str(out, self);
    }
}

/// A JSON array.
impl<T: WriteJson> WriteJson for [T] {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        for (i, item) in self.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            item.write_json(out);
        }
        out.push(b']');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(write: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        write(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_escape_what_json_requires() {
        let nasty = "quote \" backslash \\ newline \n tab \t nul \0 del \x7f unicode é 😀";
        let written = text(|out| write_str(out, nasty));
        let back: String = serde_json::from_str(&written).unwrap();
        assert_eq!(back, nasty);
        assert_eq!(text(|out| write_str(out, "\u{1}")), r#""\u0001""#);
    }

    proptest::proptest! {
        #[test]
        fn decimal_is_what_format_writes(n: u64, min_digits in 0usize..=20) {
            let (plain, padded) = (Decimal::new(n), Decimal::padded(n, min_digits));
            proptest::prop_assert_eq!(plain.as_str(), n.to_string());
            proptest::prop_assert_eq!(padded.as_str(), format!("{n:0min_digits$}"));
        }
    }

    #[test]
    fn numbers() {
        for n in [0, 7, 10, 1_795_850_763_000, u64::MAX] {
            assert_eq!(text(|out| write_u64(out, n)), n.to_string());
        }
        assert_eq!(Decimal::padded(7, 3).as_str(), "007");
        assert_eq!(Decimal::padded(1234, 2).as_str(), "1234");
        assert_eq!(Decimal::padded(0, 0).as_str(), "0");
        assert_eq!(text(|out| write_millis_as_secs(out, 2_500)), "2.500");
        assert_eq!(text(|out| write_millis_as_secs(out, 7)), "0.007");
        assert_eq!(
            text(|out| write_hex_str(out, &[0, 0xab, 0x10])),
            r#""00ab10""#
        );
    }

    #[test]
    fn values_and_pairs() {
        let written = text(|out| {
            Obj::new(out)
                .value("id", &"k".to_owned())
                .pairs(
                    "map",
                    &[("a".into(), "1".into()), ("b\"".into(), "2".into())],
                )
                .opt_value("none", None::<&String>)
                .end()
        });
        assert_eq!(written, r#"{"id":"k","map":{"a":"1","b\"":"2"}}"#);
    }

    #[test]
    fn objects_and_lists() {
        let written = text(|out| {
            Obj::new(out)
                .str("a", "x")
                .opt_str("skipped", None)
                .u64("n", 3)
                .bool("b", false)
                .time("t", crate::UnixMs(1))
                .list("l", &["p".to_owned(), "q".to_owned()])
                .list("e", &[] as &[String])
                .end()
        });
        assert_eq!(
            written,
            r#"{"a":"x","n":3,"b":false,"t":"1970-01-01T00:00:00.001Z","l":["p","q"],"e":[]}"#
        );
        let strings = ["a".to_owned(), "b\"".to_owned()];
        assert_eq!(to_string(&strings[..]), r#"["a","b\""]"#);
        assert_eq!(text(|out| Obj::new(out).end()), "{}");
    }
}
