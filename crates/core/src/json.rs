//! A small JSON writer for serde types, for the browser build.
//!
//! `serde_json` formats floats with tables and pulls in its reader when its
//! errors are formatted; in the browser SDK every byte counts, so events are
//! written by this writer instead. It handles what the wire types use: it
//! writes floats in fixed point with up to six decimals (enough for durations
//! in seconds and scroll fractions), non-finite floats as `null`, and map keys
//! that are strings, chars or integers.
//!
//! ```
//! use ff_telemetry_core::json::{RawJson, to_string};
//! #[derive(serde::Serialize)]
//! struct E { name: &'static str, seconds: f64, tags: Vec<u8>, extra: RawJson }
//! let e = E { name: "a\"b", seconds: 2.5, tags: vec![1, 2], extra: RawJson(r#"{"k":1}"#.into()) };
//! assert_eq!(to_string(&e).unwrap(), r#"{"name":"a\"b","seconds":2.5,"tags":[1,2],"extra":{"k":1}}"#);
//! ```

use std::fmt::Display;

use serde::Serialize;
use serde::ser::{self, Impossible};

/// Why a value could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// A map key that is not a string, char or integer.
    #[error("map keys must be strings")]
    KeyNotString,
    /// Bytes, or a custom error from a `Serialize` impl.
    #[error("value cannot be written as JSON")]
    Unsupported,
}

impl ser::Error for JsonError {
    // The message is dropped: formatting it would cost more than it tells.
    fn custom<T: Display>(_msg: T) -> Self {
        JsonError::Unsupported
    }
}

/// Text that already is JSON, written as is (only by [`to_string`]; other
/// serializers see a newtype holding a string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawJson(pub String);

const RAW_TOKEN: &str = "$ff_telemetry::RawJson";

impl Serialize for RawJson {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(RAW_TOKEN, &self.0)
    }
}

/// `value` as compact JSON text.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, JsonError> {
    let mut writer = Writer {
        out: String::with_capacity(256),
    };
    value.serialize(&mut writer)?;
    Ok(writer.out)
}

/// Appends `s` as a JSON string literal.
pub(crate) fn push_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let b = c as u8;
                out.push_str("\\u00");
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 0xf)] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Fixed point, up to six decimals, always with a decimal point; `null` when
/// not finite.
fn push_float(out: &mut String, x: f64) {
    if !x.is_finite() {
        out.push_str("null");
        return;
    }
    if x.is_sign_negative() && x != 0.0 {
        out.push('-');
    }
    let micros = (x.abs() * 1e6).round() as u64;
    out.push_str(&(micros / 1_000_000).to_string());
    out.push('.');
    let frac = micros % 1_000_000;
    let digits = (frac + 1_000_000).to_string();
    let digits = digits[1..].trim_end_matches('0');
    out.push_str(if digits.is_empty() { "0" } else { digits });
}

struct Writer {
    out: String,
}

/// A sequence or map being written: whether an element was written yet.
struct Compound<'a> {
    w: &'a mut Writer,
    first: bool,
    /// Closing text: `]`, `}` or `}}` (a variant wrapped in an object).
    close: &'static str,
}

impl Compound<'_> {
    fn comma(&mut self) {
        if !self.first {
            self.w.out.push(',');
        }
        self.first = false;
    }
}

impl<'a> ser::Serializer for &'a mut Writer {
    type Ok = ();
    type Error = JsonError;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), JsonError> {
        self.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), JsonError> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<(), JsonError> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<(), JsonError> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<(), JsonError> {
        self.out.push_str(&v.to_string());
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), JsonError> {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<(), JsonError> {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<(), JsonError> {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<(), JsonError> {
        self.out.push_str(&v.to_string());
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), JsonError> {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result<(), JsonError> {
        push_float(&mut self.out, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), JsonError> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), JsonError> {
        push_string(&mut self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<(), JsonError> {
        Err(JsonError::Unsupported)
    }
    fn serialize_none(self) -> Result<(), JsonError> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), JsonError> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), JsonError> {
        self.out.push_str("null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), JsonError> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _idx: u32,
        variant: &'static str,
    ) -> Result<(), JsonError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        v: &T,
    ) -> Result<(), JsonError> {
        if name == RAW_TOKEN {
            return v.serialize(KeyWriter {
                out: &mut self.out,
                raw: true,
            });
        }
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _idx: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<(), JsonError> {
        self.out.push('{');
        push_string(&mut self.out, variant);
        self.out.push(':');
        v.serialize(&mut *self)?;
        self.out.push('}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a>, JsonError> {
        self.out.push('[');
        Ok(Compound {
            w: self,
            first: true,
            close: "]",
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>, JsonError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'a>, JsonError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _idx: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, JsonError> {
        self.out.push('{');
        push_string(&mut self.out, variant);
        self.out.push_str(":[");
        Ok(Compound {
            w: self,
            first: true,
            close: "]}",
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a>, JsonError> {
        self.out.push('{');
        Ok(Compound {
            w: self,
            first: true,
            close: "}",
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a>, JsonError> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _idx: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, JsonError> {
        self.out.push('{');
        push_string(&mut self.out, variant);
        self.out.push_str(":{");
        Ok(Compound {
            w: self,
            first: true,
            close: "}}",
        })
    }
}

impl Compound<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), JsonError> {
        self.comma();
        v.serialize(&mut *self.w)
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, v: &T) -> Result<(), JsonError> {
        self.comma();
        push_string(&mut self.w.out, key);
        self.w.out.push(':');
        v.serialize(&mut *self.w)
    }

    fn end(self) -> Result<(), JsonError> {
        self.w.out.push_str(self.close);
        Ok(())
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = JsonError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), JsonError> {
        self.element(v)
    }
    fn end(self) -> Result<(), JsonError> {
        Compound::end(self)
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = JsonError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), JsonError> {
        self.element(v)
    }
    fn end(self) -> Result<(), JsonError> {
        Compound::end(self)
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = JsonError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), JsonError> {
        self.element(v)
    }
    fn end(self) -> Result<(), JsonError> {
        Compound::end(self)
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = JsonError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), JsonError> {
        self.element(v)
    }
    fn end(self) -> Result<(), JsonError> {
        Compound::end(self)
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = JsonError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), JsonError> {
        self.comma();
        key.serialize(KeyWriter {
            out: &mut self.w.out,
            raw: false,
        })?;
        self.w.out.push(':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), JsonError> {
        v.serialize(&mut *self.w)
    }
    fn end(self) -> Result<(), JsonError> {
        Compound::end(self)
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = JsonError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), JsonError> {
        self.field(key, v)
    }
    fn end(self) -> Result<(), JsonError> {
        Compound::end(self)
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = JsonError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), JsonError> {
        self.field(key, v)
    }
    fn end(self) -> Result<(), JsonError> {
        Compound::end(self)
    }
}

/// Writes a map key: strings as they are, chars and integers as strings. With
/// `raw`, writes the text of a [`RawJson`] unquoted.
struct KeyWriter<'a> {
    out: &'a mut String,
    raw: bool,
}

macro_rules! key_integers {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method(self, v: $ty) -> Result<(), JsonError> {
            push_string(self.out, &v.to_string());
            Ok(())
        }
    )*};
}

impl ser::Serializer for KeyWriter<'_> {
    type Ok = ();
    type Error = JsonError;
    type SerializeSeq = Impossible<(), JsonError>;
    type SerializeTuple = Impossible<(), JsonError>;
    type SerializeTupleStruct = Impossible<(), JsonError>;
    type SerializeTupleVariant = Impossible<(), JsonError>;
    type SerializeMap = Impossible<(), JsonError>;
    type SerializeStruct = Impossible<(), JsonError>;
    type SerializeStructVariant = Impossible<(), JsonError>;

    fn serialize_str(self, v: &str) -> Result<(), JsonError> {
        if self.raw {
            self.out.push_str(v);
        } else {
            push_string(self.out, v);
        }
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), JsonError> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    key_integers!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64);
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        v: &T,
    ) -> Result<(), JsonError> {
        v.serialize(self)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _idx: u32,
        variant: &'static str,
    ) -> Result<(), JsonError> {
        self.serialize_str(variant)
    }
    fn serialize_bool(self, _v: bool) -> Result<(), JsonError> {
        Err(JsonError::KeyNotString)
    }
    fn serialize_f32(self, _v: f32) -> Result<(), JsonError> {
        Err(JsonError::KeyNotString)
    }
    fn serialize_f64(self, _v: f64) -> Result<(), JsonError> {
        Err(JsonError::KeyNotString)
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<(), JsonError> {
        Err(JsonError::KeyNotString)
    }
    fn serialize_none(self) -> Result<(), JsonError> {
        Err(JsonError::KeyNotString)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _v: &T) -> Result<(), JsonError> {
        Err(JsonError::KeyNotString)
    }
    fn serialize_unit(self) -> Result<(), JsonError> {
        Err(JsonError::KeyNotString)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), JsonError> {
        Err(JsonError::KeyNotString)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _idx: u32,
        _variant: &'static str,
        _v: &T,
    ) -> Result<(), JsonError> {
        Err(JsonError::KeyNotString)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, JsonError> {
        Err(JsonError::KeyNotString)
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, JsonError> {
        Err(JsonError::KeyNotString)
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, JsonError> {
        Err(JsonError::KeyNotString)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _idx: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, JsonError> {
        Err(JsonError::KeyNotString)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, JsonError> {
        Err(JsonError::KeyNotString)
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, JsonError> {
        Err(JsonError::KeyNotString)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _idx: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, JsonError> {
        Err(JsonError::KeyNotString)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::collections::BTreeMap;

    #[derive(Serialize)]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(u8, bool),
        Struct { a: i32 },
    }

    fn same_as_serde_json<T: Serialize>(value: &T) {
        let ours: Value = serde_json::from_str(&to_string(value).unwrap()).unwrap();
        assert_eq!(ours, serde_json::to_value(value).unwrap());
    }

    #[test]
    fn writes_what_serde_json_writes() {
        same_as_serde_json(&json!({"a": [1, -2, true, null, "x\n\"y\"\\\u{1}é"], "b": {"c": {}}}));
        same_as_serde_json(&(Shape::Unit, Shape::Newtype(1), Shape::Tuple(2, false)));
        same_as_serde_json(&Shape::Struct { a: -7 });
        same_as_serde_json(&BTreeMap::from([(1u8, 'x'), (2, 'y')]));
        same_as_serde_json(&(Some(1.5f64), None::<u8>, 0.75f32, u64::MAX, i64::MIN));
    }

    #[test]
    fn floats_are_fixed_point_with_up_to_six_decimals() {
        let cases = [
            (2.0, "2.0"),
            (2.5, "2.5"),
            (0.001, "0.001"),
            (-1.25, "-1.25"),
            (12.3456789, "12.345679"),
            (0.0, "0.0"),
            (f64::NAN, "null"),
            (f64::INFINITY, "null"),
        ];
        for (x, want) in cases {
            assert_eq!(to_string(&x).unwrap(), want, "{x}");
        }
    }

    #[test]
    fn raw_json_is_embedded_as_is() {
        let raw = RawJson(r#"{"a":"\"q\"","b":[1,2]}"#.to_owned());
        assert_eq!(
            to_string(&vec![raw.clone()]).unwrap(),
            format!("[{}]", raw.0)
        );
    }

    #[test]
    fn refuses_what_json_cannot_hold() {
        let bad_key = BTreeMap::from([((1, 2), 3)]);
        assert_eq!(to_string(&bad_key), Err(JsonError::KeyNotString));
        assert_eq!(to_string(&serde_bytes_like()), Err(JsonError::Unsupported));
    }

    struct Bytes;
    impl Serialize for Bytes {
        fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(b"x")
        }
    }
    fn serde_bytes_like() -> Bytes {
        Bytes
    }
}
