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
//! Everything is written straight into a `String` (ASCII punctuation, digits
//! and escaped `&str`s): the text never needs a UTF-8 check, so the browser
//! build carries no `String::from_utf8` validator for it.
//!
//! ```
//! use ff_telemetry_wire::json::{Obj, WriteJson, to_string};
//! struct Hit { page: String, n_views: u64, tags: Vec<String> }
//! impl WriteJson for Hit {
//!     fn write_json(&self, out: &mut String) {
//!         Obj::new(out).str("page", &self.page).u64("n_views", self.n_views)
//!             .list("tags", &self.tags).end();
//!     }
//! }
//! let hit = Hit { page: "a\"b".into(), n_views: 2, tags: vec!["x".into()] };
//! assert_eq!(to_string(&hit), r#"{"page":"a\"b","n_views":2,"tags":["x"]}"#);
//! ```

use crate::UnixMs;
use crate::text::{write_decimal, write_hex};

/// Something that writes itself as one JSON value.
pub trait WriteJson {
    /// Appends the JSON text of `self` to `out`.
    fn write_json(&self, out: &mut String);
}

/// The JSON text of `value`.
pub fn to_string(value: &(impl WriteJson + ?Sized)) -> String {
    let mut out = String::new();
    value.write_json(&mut out);
    out
}

/// Writes one JSON object, field by field; the closing brace comes with [`Obj::end`].
#[derive(Debug)]
pub struct Obj<'a> {
    out: &'a mut String,
    empty: bool,
}

impl<'a> Obj<'a> {
    /// Starts an object at the end of `out`.
    pub fn new(out: &'a mut String) -> Self {
        out.push('{');
        Obj { out, empty: true }
    }

    /// Writes `"key":` and returns the text for the value.
    pub fn key(&mut self, key: &str) -> &mut String {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        write_str(self.out, key);
        self.out.push(':');
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
    pub fn time(&mut self, key: &str, at: UnixMs) -> &mut Self {
        let out = self.key(key);
        out.push('"');
        at.write_rfc3339(out);
        out.push('"');
        self
    }

    /// A boolean field.
    pub fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.key(key).push_str(if value { "true" } else { "false" });
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
        self.out.push('}');
    }
}

/// A JSON string, escaped.
///
/// Copied `char` by `char` into the `String`: no UTF-8 check afterwards, and
/// smaller code than copying unescaped runs as slices (payloads are short).
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0'..'\x20' | '\x7f' => {
                out.push_str("\\u00");
                write_hex(out, &[c as u8]);
            }
            _ => out.push(c),
        }
    }
    out.push('"');
}

/// A non-negative integer.
pub fn write_u64(out: &mut String, n: u64) {
    write_decimal(out, n, 1);
}

/// Lowercase hex digits of `bytes`, as a JSON string.
pub fn write_hex_str(out: &mut String, bytes: &[u8]) {
    out.push('"');
    write_hex(out, bytes);
    out.push('"');
}

/// Milliseconds as seconds with three decimals (`2500` → `2.500`), without
/// pulling float formatting into the browser build.
pub fn write_millis_as_secs(out: &mut String, ms: u64) {
    write_u64(out, ms / 1000);
    out.push('.');
    write_decimal(out, ms % 1000, 3);
}

impl WriteJson for str {
    fn write_json(&self, out: &mut String) {
        write_str(out, self);
    }
}

impl WriteJson for String {
    fn write_json(&self, out: &mut String) {
        write_str(out, self);
    }
}

/// A JSON array.
impl<T: WriteJson> WriteJson for [T] {
    fn write_json(&self, out: &mut String) {
        out.push('[');
        for (i, item) in self.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            item.write_json(out);
        }
        out.push(']');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::decimal;

    fn text(write: impl FnOnce(&mut String)) -> String {
        let mut out = String::new();
        write(&mut out);
        out
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
        fn any_string_reads_back(s: String) {
            let written = text(|out| write_str(out, &s));
            proptest::prop_assert_eq!(serde_json::from_str::<String>(&written).unwrap(), s);
        }

        #[test]
        fn decimal_is_what_format_writes(n: u64, min_digits in 0usize..=20) {
            proptest::prop_assert_eq!(decimal(n), n.to_string());
            let padded = text(|out| write_decimal(out, n, min_digits));
            proptest::prop_assert_eq!(padded, format!("{n:0min_digits$}"));
        }
    }

    #[test]
    fn numbers() {
        for n in [0, 7, 10, 1_795_850_763_000, u64::MAX] {
            assert_eq!(text(|out| write_u64(out, n)), n.to_string());
        }
        assert_eq!(text(|out| write_decimal(out, 7, 3)), "007");
        assert_eq!(text(|out| write_decimal(out, 1234, 2)), "1234");
        assert_eq!(text(|out| write_decimal(out, 0, 0)), "0");
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
