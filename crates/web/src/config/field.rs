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
    let deserializer = Tracked {
        value,
        field: &field,
    };
    T::deserialize(deserializer).map_err(|e| (field.take(), e))
}

/// serde-wasm-bindgen's deserializer, noting the field being read. Only
/// structs go through it: everything else is read as what it is.
struct Tracked<'f> {
    value: JsValue,
    field: &'f RefCell<String>,
}

impl<'de> Deserializer<'de> for Tracked<'_> {
    type Error = serde_wasm_bindgen::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        serde_wasm_bindgen::Deserializer::from(self.value).deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        // Read as a map (the object's own entries) rather than by field name:
        // the map path is the one the app's properties take already, while
        // serde-wasm-bindgen's struct path would add its own key cache (a
        // `HashMap` of field names) and a key reader per struct, 1.2 KB
        // gzipped in the download. A field present as `undefined` is a wrong
        // type either way.
        if !self.value.is_object() {
            // The type error the struct path gives ("invalid type: string
            // \"x\", expected struct …"): the unit path accepts only `null` and
            // `undefined`, which a struct refuses as well.
            return serde_wasm_bindgen::Deserializer::from(self.value).deserialize_unit(visitor);
        }
        let field = self.field;
        serde_wasm_bindgen::Deserializer::from(self.value)
            .deserialize_map(Fields { visitor, field })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The struct's visitor, handed a map that notes its keys.
struct Fields<'f, V> {
    visitor: V,
    field: &'f RefCell<String>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Fields<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.visitor.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        let field = self.field;
        self.visitor.visit_map(Keys { map, field })
    }
}

/// A struct's fields, each key noted before its value is read.
struct Keys<'f, A> {
    map: A,
    field: &'f RefCell<String>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Keys<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let field = self.field;
        let key = self.map.next_key_seed(Key { seed, field })?;
        if key.is_none() {
            // Past the last field: what fails now is about the whole.
            field.borrow_mut().clear();
        }
        Ok(key)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// Reads a key as the struct's field visitor does, noting its text.
struct Key<'f, K> {
    seed: K,
    field: &'f RefCell<String>,
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for Key<'_, K> {
    type Value = K::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<K::Value, D::Error> {
        let field = self.field;
        self.seed.deserialize(KeyText {
            inner: deserializer,
            field,
        })
    }
}

/// A key's deserializer whose text is noted when read.
struct KeyText<'f, D> {
    inner: D,
    field: &'f RefCell<String>,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for KeyText<'_, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        let field = self.field;
        self.inner.deserialize_any(Noted { visitor, field })
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        let field = self.field;
        self.inner.deserialize_identifier(Noted { visitor, field })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        ignored_any
    }
}

/// A key's visitor that notes the text it is given.
struct Noted<'f, V> {
    visitor: V,
    field: &'f RefCell<String>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Noted<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.visitor.expecting(f)
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<V::Value, E> {
        key.clone_into(&mut self.field.borrow_mut());
        self.visitor.visit_str(key)
    }
}
