//! A minimal JSON writer for what the browser sends to Sentry.
//!
//! Written by hand because `serde_json`'s serializer and the derived `Serialize`
//! code for every payload type cost the browser build kilobytes it does not
//! have (the whole SDK must fit in 35 KB gzipped). The payload types still
//! derive `Deserialize`, so the collector and the tests read them with serde,
//! and `tests/sentry_envelopes.rs` checks the output with a third party's parser.

/// Something that writes itself as one JSON value.
pub(crate) trait WriteJson {
    fn write_json(&self, out: &mut Vec<u8>);
}

/// The JSON text of `value`.
pub(crate) fn to_json(value: &impl WriteJson) -> Vec<u8> {
    let mut out = Vec::new();
    value.write_json(&mut out);
    out
}

/// Writes one JSON object, field by field; the closing brace comes with [`Obj::end`].
pub(crate) struct Obj<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> Obj<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Obj { out, empty: true }
    }

    /// Writes `"key":` and returns the buffer for the value.
    pub(crate) fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        write_str(self.out, key);
        self.out.push(b':');
        self.out
    }

    pub(crate) fn str(&mut self, key: &str, value: &str) -> &mut Self {
        write_str(self.key(key), value);
        self
    }

    pub(crate) fn opt_str(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.str(key, value);
        }
        self
    }

    pub(crate) fn opt_u64(&mut self, key: &str, value: Option<u64>) -> &mut Self {
        if let Some(value) = value {
            self.u64(key, value);
        }
        self
    }

    pub(crate) fn opt_bool(&mut self, key: &str, value: Option<bool>) -> &mut Self {
        if let Some(value) = value {
            self.bool(key, value);
        }
        self
    }

    pub(crate) fn u64(&mut self, key: &str, value: u64) -> &mut Self {
        write_u64(self.key(key), value);
        self
    }

    pub(crate) fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        let text: &[u8] = if value { b"true" } else { b"false" };
        self.key(key).extend_from_slice(text);
        self
    }

    pub(crate) fn value(&mut self, key: &str, value: &impl WriteJson) -> &mut Self {
        value.write_json(self.key(key));
        self
    }

    pub(crate) fn opt_value(&mut self, key: &str, value: Option<&impl WriteJson>) -> &mut Self {
        if let Some(value) = value {
            self.value(key, value);
        }
        self
    }

    /// A JSON array of `items`.
    pub(crate) fn list<T: WriteJson>(&mut self, key: &str, items: &[T]) -> &mut Self {
        let out = self.key(key);
        out.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            item.write_json(out);
        }
        out.push(b']');
        self
    }

    pub(crate) fn end(&mut self) {
        self.out.push(b'}');
    }
}

/// A JSON string, escaped.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
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
pub(crate) fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Lowercase hex digits of `bytes`, as a JSON string.
pub(crate) fn write_hex_str(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0xf)]);
    }
    out.push(b'"');
}

/// Lowercase hex digits of `bytes`.
pub(crate) fn hex_string(bytes: &[u8]) -> String {
    bytes
        .iter()
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]])
        .map(char::from)
        .collect()
}

/// Milliseconds as seconds with three decimals (`2500` → `2.500`), without
/// pulling float formatting into the browser build.
pub(crate) fn write_millis_as_secs(out: &mut Vec<u8>, ms: u64) {
    write_u64(out, ms / 1000);
    out.push(b'.');
    let frac = ms % 1000;
    out.extend_from_slice(&[
        b'0' + (frac / 100) as u8,
        b'0' + (frac / 10 % 10) as u8,
        b'0' + (frac % 10) as u8,
    ]);
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

    #[test]
    fn numbers() {
        for n in [0, 7, 10, 1_795_850_763_000, u64::MAX] {
            assert_eq!(text(|out| write_u64(out, n)), n.to_string());
        }
        assert_eq!(text(|out| write_millis_as_secs(out, 2_500)), "2.500");
        assert_eq!(text(|out| write_millis_as_secs(out, 7)), "0.007");
        assert_eq!(
            text(|out| write_hex_str(out, &[0, 0xab, 0x10])),
            r#""00ab10""#
        );
    }

    #[test]
    fn objects_and_lists() {
        let written = text(|out| {
            Obj::new(out)
                .str("a", "x")
                .opt_str("skipped", None)
                .u64("n", 3)
                .bool("b", false)
                .list("l", &["p".to_owned(), "q".to_owned()])
                .end()
        });
        assert_eq!(written, r#"{"a":"x","n":3,"b":false,"l":["p","q"]}"#);
        assert_eq!(text(|out| Obj::new(out).end()), "{}");
    }
}
