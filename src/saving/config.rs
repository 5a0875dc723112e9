//! Reading and writing Keras-style configurations (`get_config` / `from_config`): JSON objects
//! of constructor arguments, read strictly — a missing key, an unknown key or a value of the
//! wrong type is an [`Error::Config`] naming the object and the key.

use crate::activations::Activation;
use crate::shape::NONE;
use crate::{Error, Result};
use serde_json::{Map, Value};

/// A configuration: a JSON object of arguments, as Keras' `get_config()` returns.
pub(crate) type Config = Map<String, Value>;

/// `value` as JSON, written as its shortest decimal (`0.001`, not `0.0010000000474974513`); read
/// back with [`Reader::f32`] it is the same `f32`, bit for bit.
pub(crate) fn f32_value(value: f32) -> Value {
    let shortest: f64 = value.to_string().parse().unwrap_or(f64::NAN);
    serde_json::Number::from_f64(shortest).map_or(Value::Null, Value::Number)
}

/// Reads the arguments of one configuration object, remembering which keys were read, so that
/// [`Reader::finish`] can refuse a key nobody knows (a typo or a hand edit).
pub(crate) struct Reader<'a> {
    what: String,
    config: &'a Config,
    read: Vec<&'static str>,
}

impl<'a> Reader<'a> {
    /// A reader of `value`, which must be an object; `what` names it in errors (`layer 'dense'
    /// (Dense)`).
    pub(crate) fn new(what: impl Into<String>, value: &'a Value) -> Result<Self> {
        let what = what.into();
        let config =
            value.as_object().ok_or_else(|| config_error(format!("{what}: expected an object")))?;
        Ok(Reader { what, config, read: Vec::new() })
    }

    /// What the reader reads, for messages.
    pub(crate) fn what(&self) -> &str {
        &self.what
    }

    /// The value of `key`, if present.
    pub(crate) fn optional(&mut self, key: &'static str) -> Option<&'a Value> {
        self.read.push(key);
        self.config.get(key).filter(|v| !v.is_null())
    }

    /// The value of `key`.
    pub(crate) fn required(&mut self, key: &'static str) -> Result<&'a Value> {
        match self.optional(key) {
            Some(value) => Ok(value),
            None => Err(config_error(format!("{}: the key `{key}` is missing", self.what))),
        }
    }

    fn wrong(&self, key: &str, expected: &str, found: &Value) -> Error {
        config_error(format!("{}: `{key}` must be {expected}, found {found}", self.what))
    }

    /// A non-negative integer.
    pub(crate) fn u64(&mut self, key: &'static str) -> Result<u64> {
        let value = self.required(key)?;
        value.as_u64().ok_or_else(|| self.wrong(key, "a non-negative integer", value))
    }

    /// A non-negative integer that fits a `usize`.
    pub(crate) fn usize(&mut self, key: &'static str) -> Result<usize> {
        let value = self.required(key)?;
        value
            .as_u64()
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| self.wrong(key, "a non-negative integer", value))
    }

    /// An optional non-negative integer (`null` or absent for none).
    pub(crate) fn optional_u64(&mut self, key: &'static str) -> Result<Option<u64>> {
        match self.optional(key) {
            None => Ok(None),
            Some(value) => value
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.wrong(key, "a non-negative integer or null", value)),
        }
    }

    /// A number, read back exactly as [`f32_value`] wrote it.
    pub(crate) fn f32(&mut self, key: &'static str) -> Result<f32> {
        let value = self.required(key)?;
        number_f32(value).ok_or_else(|| self.wrong(key, "a finite number", value))
    }

    /// An optional number (`null` or absent for none).
    pub(crate) fn optional_f32(&mut self, key: &'static str) -> Result<Option<f32>> {
        match self.optional(key) {
            None => Ok(None),
            Some(value) => number_f32(value)
                .map(Some)
                .ok_or_else(|| self.wrong(key, "a finite number or null", value)),
        }
    }

    /// A boolean.
    pub(crate) fn bool(&mut self, key: &'static str) -> Result<bool> {
        let value = self.required(key)?;
        value.as_bool().ok_or_else(|| self.wrong(key, "true or false", value))
    }

    /// A string.
    pub(crate) fn str(&mut self, key: &'static str) -> Result<&'a str> {
        let value = self.required(key)?;
        value.as_str().ok_or_else(|| self.wrong(key, "a string", value))
    }

    /// An activation by Keras' name.
    pub(crate) fn activation(&mut self, key: &'static str) -> Result<Activation> {
        let name = self.str(key)?;
        name.parse().map_err(|_| {
            self.wrong(
                key,
                "one of \"linear\", \"sigmoid\", \"tanh\", \"relu\", \"softmax\"",
                &Value::from(name),
            )
        })
    }

    /// An optional list of non-negative integers.
    pub(crate) fn optional_dims(&mut self, key: &'static str) -> Result<Option<Vec<usize>>> {
        match self.optional(key) {
            None => Ok(None),
            Some(value) => dims_of(value).map(Some).ok_or_else(|| {
                self.wrong(key, "a list of non-negative integers and nulls, or null", value)
            }),
        }
    }

    /// Checks that every key was read: an unknown key is an error listing the known ones.
    pub(crate) fn finish(self) -> Result<()> {
        let mut unknown: Vec<&String> =
            self.config.keys().filter(|k| !self.read.contains(&k.as_str())).collect();
        if unknown.is_empty() {
            return Ok(());
        }
        unknown.sort();
        let unknown: Vec<String> = unknown.iter().map(|k| format!("`{k}`")).collect();
        let known: Vec<String> = self.read.iter().map(|k| format!("`{k}`")).collect();
        Err(config_error(format!(
            "{}: unknown key(s) {}; expected only {}",
            self.what,
            unknown.join(", "),
            known.join(", ")
        )))
    }
}

/// A JSON number as the `f32` it was written from.
pub(crate) fn number_f32(value: &Value) -> Option<f32> {
    let number = value.as_f64()?;
    // Through the shortest decimal: no double rounding for a number typed by hand.
    let single: f32 = number.to_string().parse().ok()?;
    single.is_finite().then_some(single)
}

pub(crate) fn dims_of(value: &Value) -> Option<Vec<usize>> {
    value
        .as_array()?
        .iter()
        .map(|d| match d {
            Value::Null => Some(NONE),
            d => d.as_u64().and_then(|d| usize::try_from(d).ok()).filter(|&d| d != NONE),
        })
        .collect()
}

/// A per-sample shape as Keras writes it: an axis of any size ([`NONE`]) is `null`.
pub(crate) fn dims_value(dims: &[usize]) -> Value {
    Value::Array(dims.iter().map(|&d| if d == NONE { Value::Null } else { d.into() }).collect())
}

/// The error for a configuration that cannot be read.
pub(crate) fn config_error(message: impl Into<String>) -> Error {
    Error::Config(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_round_trips_through_shortest_decimal() {
        for value in [0.001f32, 1e-7, 0.9, 0.999, 3.4e38, 1.0 / 3.0, f32::MIN_POSITIVE] {
            let json = f32_value(value);
            let text = serde_json::to_string(&json).unwrap();
            let back: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(number_f32(&back).unwrap().to_bits(), value.to_bits(), "{text}");
        }
        assert_eq!(serde_json::to_string(&f32_value(0.001)).unwrap(), "0.001");
    }

    #[test]
    fn unknown_and_missing_keys_are_errors() {
        let value = serde_json::json!({ "units": 3, "unit": 4 });
        let mut reader = Reader::new("layer 'dense' (Dense)", &value).unwrap();
        assert_eq!(reader.usize("units").unwrap(), 3);
        let message = reader.finish().unwrap_err().to_string();
        assert!(message.contains("unknown key(s) `unit`"), "{message}");
        let mut reader = Reader::new("layer 'dense' (Dense)", &value).unwrap();
        let message = reader.bool("use_bias").unwrap_err().to_string();
        assert!(message.contains("`use_bias` is missing"), "{message}");
        let message = reader.str("units").unwrap_err().to_string();
        assert!(message.contains("`units` must be a string, found 3"), "{message}");
    }
}
