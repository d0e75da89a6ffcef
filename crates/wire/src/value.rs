//! Free-form JSON: PostHog event properties, and whatever else the wire carries
//! without a fixed shape.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// Any JSON value, with object members kept in the order they came.
///
/// One hand-written type rather than `serde_json::Value` or an untagged enum: the
/// browser build reads JavaScript values into it through serde-wasm-bindgen, and a
/// `deserialize_any` visitor costs the wasm several kilobytes less than an
/// `#[serde(untagged)]` enum. Numbers are `f64`, as in JavaScript; a whole number
/// that fits a JavaScript safe integer is written without a fraction (`12`, never
/// `12.0`), as `JSON.stringify` writes it.
///
/// ```
/// use ff_telemetry_wire::Value;
/// let v: Value = serde_json::from_str(r#"{"plan":"pro","seats":12,"beta":[true,null]}"#).unwrap();
/// assert_eq!(v.get("seats"), Some(&Value::Number(12.0)));
/// assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"plan":"pro","seats":12,"beta":[true,null]}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// `null` (also what `undefined` reads as).
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, members in their order.
    Object(Vec<(String, Value)>),
}

/// The largest integer a JavaScript number holds exactly (2^53 − 1).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

impl Value {
    /// The member `key` of an object (the last one, if repeated); `None` for
    /// anything else.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) if n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER => {
                // Exact: a safe integer converts to i64 without loss.
                s.serialize_i64(*n as i64)
            }
            // JSON has no NaN or infinity; `JSON.stringify` writes them as null.
            Value::Number(n) if !n.is_finite() => s.serialize_unit(),
            Value::Number(n) => s.serialize_f64(*n),
            Value::String(text) => s.serialize_str(text),
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Object(members) => {
                let mut map = s.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n as f64))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n as f64))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Number(n))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = map.next_entry()? {
            members.push(member);
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            // Integers within the safe range and arbitrary finite floats.
            (-9_007_199_254_740_991i64..=9_007_199_254_740_991)
                .prop_map(|n| Value::Number(n as f64)),
            any::<f64>()
                .prop_filter("finite", |n| n.is_finite())
                .prop_map(Value::Number),
            ".*".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec(("[a-z$]{0,6}", inner), 0..4).prop_map(Value::Object),
            ]
        })
    }

    proptest! {
        #[test]
        fn round_trips_through_json(value in any_value()) {
            let text = serde_json::to_string(&value).unwrap();
            let back: Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(back, value);
        }

        #[test]
        fn writes_what_serde_json_writes_for_integers(n in -9_007_199_254_740_991i64..=9_007_199_254_740_991) {
            prop_assert_eq!(serde_json::to_string(&Value::Number(n as f64)).unwrap(), n.to_string());
        }
    }

    #[test]
    fn whole_numbers_are_written_without_a_fraction() {
        assert_eq!(serde_json::to_string(&Value::Number(12.0)).unwrap(), "12");
        assert_eq!(serde_json::to_string(&Value::Number(-0.5)).unwrap(), "-0.5");
        assert_eq!(
            serde_json::to_string(&Value::Number(f64::NAN)).unwrap(),
            "null"
        );
        assert_eq!(
            serde_json::to_string(&Value::Number(1e300)).unwrap(),
            "1e+300"
        );
    }

    #[test]
    fn object_members_keep_their_order_and_the_last_repeat_wins() {
        let v: Value = serde_json::from_str(r#"{"b":1,"a":2,"b":3}"#).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"b":1,"a":2,"b":3}"#);
        assert_eq!(v.get("b"), Some(&Value::Number(3.0)));
        assert_eq!(v.get("c"), None);
    }
}
