//! Which field of a config part a deserialisation error is about.
//!
//! serde's errors say what was wrong ("invalid type: string \"yes\",
//! expected a boolean") but not where. The config parts are flat structs, so
//! the field is the last key the struct's visitor asked for: this wraps
//! serde-wasm-bindgen's deserializer to remember it. It replaces
//! serde_path_to_error, whose general paths (nested, sequences, enums) cost
//! 4.5 KB gzipped in the download, for the one level the config has.

use std::cell::RefCell;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, Visitor};
use wasm_bindgen::JsValue;

/// `value` deserialised as the struct `T`; on error, the name of the field
/// being read (empty when the error is about the whole, such as a missing
/// field, whose message names it) with serde-wasm-bindgen's error.
pub fn deserialize_struct<T: DeserializeOwned>(
    value: JsValue,
) -> Result<T, (String, serde_wasm_bindgen::Error)> {
    let field = RefCell::new(String::new());
    let deserializer = Noting {
        inner: serde_wasm_bindgen::Deserializer::from(value),
        field: &field,
    };
    T::deserialize(deserializer).map_err(|e| (field.take(), e))
}

/// One wrapper for each step between the struct and its keys' text:
/// serde-wasm-bindgen's deserializer, the struct's visitor, then for each key
/// its seed, deserializer and visitor. Each hands what it passes on wrapped
/// too, and the last notes the key's text in `field`. The values of the
/// fields are read unwrapped (see [`Keys`]).
struct Noting<'f, T> {
    inner: T,
    field: &'f RefCell<String>,
}

impl<'f, T> Noting<'f, T> {
    /// `inner`, noting into the same field.
    fn wrap<U>(&self, inner: U) -> Noting<'f, U> {
        Noting {
            inner,
            field: self.field,
        }
    }
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Noting<'_, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        let visitor = self.wrap(visitor);
        self.inner.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = self.wrap(visitor);
        self.inner.deserialize_struct(name, fields, visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        let visitor = self.wrap(visitor);
        self.inner.deserialize_identifier(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum ignored_any
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Noting<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.expecting(f)
    }

    /// The struct's fields: each key noted before its value is read.
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        let keys = self.wrap(map);
        self.inner.visit_map(Keys(keys))
    }

    /// A key's text (serde-wasm-bindgen hands no struct a string).
    fn visit_str<E: de::Error>(self, key: &str) -> Result<V::Value, E> {
        key.clone_into(&mut self.field.borrow_mut());
        self.inner.visit_str(key)
    }
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for Noting<'_, K> {
    type Value = K::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<K::Value, D::Error> {
        let deserializer = self.wrap(deserializer);
        self.inner.deserialize(deserializer)
    }
}

/// A struct's fields, each key read through [`Noting`], each value as it is.
struct Keys<'f, A>(Noting<'f, A>);

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Keys<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let seed = self.0.wrap(seed);
        let key = self.0.inner.next_key_seed(seed)?;
        if key.is_none() {
            // Past the last field: what fails now is about the whole.
            self.0.field.borrow_mut().clear();
        }
        Ok(key)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.0.inner.next_value_seed(seed)
    }
}
