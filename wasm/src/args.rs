//! Reading the option objects JavaScript hands over.
//!
//! The JS glue passes each option object as its `JSON.stringify` text (one crossing, no
//! per-field calls); the checks live here so that they are the same on every host and
//! testable without a JS engine. Unknown members are refused, so a misspelt option
//! (`maxTokenAgee`) is an error instead of a silently weaker check.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value};

use crate::error::{BindError, Result};

/// The largest option object accepted, in bytes of JSON.
pub const MAX_OPTIONS_LEN: usize = 64 * 1024;

/// A parsed option object: its members, and the name used in messages.
pub struct Options {
    name: &'static str,
    map: Map<String, Value>,
}

impl Options {
    /// Parses `json` (the `JSON.stringify` of an object, or `undefined`/`null` for none)
    /// and refuses members not in `known`.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT`: not an object, too large, or an unknown member.
    pub fn parse(name: &'static str, json: Option<&str>, known: &[&str]) -> Result<Self> {
        let map = match json {
            None | Some("null") => Map::new(),
            Some(text) if text.len() > MAX_OPTIONS_LEN => {
                return Err(BindError::invalid(format!("{name} is too large")));
            }
            Some(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => map,
                _ => return Err(BindError::invalid(format!("{name} must be an object"))),
            },
        };
        if let Some(unknown) = map.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(BindError::invalid(format!(
                "{name}.{} is not an option (expected one of: {})",
                truncate(unknown),
                known.join(", ")
            )));
        }
        Ok(Self { name, map })
    }

    /// An optional string member.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` when present and not a string.
    pub fn string(&self, key: &str) -> Result<Option<&str>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.wrong(key, "a string")),
        }
    }

    /// A required string member.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` when absent or not a string.
    pub fn required_string(&self, key: &str) -> Result<&str> {
        self.string(key)?.ok_or_else(|| self.wrong(key, "a string"))
    }

    /// An optional member that is a string or an array of strings, as a list (a string
    /// becomes one entry). An empty array is refused: it could never match.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` for any other type or an empty array.
    pub fn strings(&self, key: &str) -> Result<Option<Vec<String>>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(alloc::vec![s.clone()])),
            Some(Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|v| v.as_str().map(String::from))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| self.wrong(key, "a string or a non-empty array of strings")),
            Some(_) => Err(self.wrong(key, "a string or a non-empty array of strings")),
        }
    }

    /// An optional array of strings (may be empty).
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` for any other type.
    pub fn string_array(&self, key: &str) -> Result<Option<Vec<String>>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(String::from))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| self.wrong(key, "an array of strings")),
            Some(_) => Err(self.wrong(key, "an array of strings")),
        }
    }

    /// An optional whole number of seconds, `0 ..= max`.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` for a fraction, a negative number, a value above `max` or
    /// another type (`JSON.stringify` turns `NaN` and `Infinity` into `null`; the JS glue
    /// refuses those before they get here).
    pub fn seconds(&self, key: &str, max: u64) -> Result<Option<u64>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if v <= max => Ok(Some(v)),
                _ => Err(self.wrong(key, "a whole number of seconds in range")),
            },
            Some(_) => Err(self.wrong(key, "a whole number of seconds")),
        }
    }

    /// An optional Unix time in whole seconds (may be negative).
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` for a fraction or another type.
    pub fn time(&self, key: &str) -> Result<Option<i64>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .filter(|v| v.unsigned_abs() <= MAX_SAFE_INTEGER)
                .map(Some)
                .ok_or_else(|| self.wrong(key, "whole seconds since the Unix epoch")),
            Some(_) => Err(self.wrong(key, "whole seconds since the Unix epoch")),
        }
    }

    /// An optional member that must be one of `allowed`.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` for anything else.
    pub fn one_of(&self, key: &str, allowed: &[&'static str]) -> Result<Option<&'static str>> {
        match self.string(key)? {
            None => Ok(None),
            Some(s) => allowed
                .iter()
                .find(|a| **a == s)
                .copied()
                .map(Some)
                .ok_or_else(|| self.wrong(key, &format!("one of {}", allowed.join(", ")))),
        }
    }

    /// An optional object member, as its map.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` for another type.
    pub fn object(&self, key: &str) -> Result<Option<&Map<String, Value>>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(self.wrong(key, "an object")),
        }
    }

    /// A member as raw JSON, if present.
    pub fn raw(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// `ERR_INVALID_ARGUMENT`: `<name>.<key> must be <what>`.
    pub fn wrong(&self, key: &str, what: &str) -> BindError {
        BindError::invalid(format!("{}.{key} must be {what}", self.name))
    }
}

/// 2^53 - 1: the largest integer a JS number holds exactly.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// At most 64 characters of a caller-supplied name, for messages.
fn truncate(s: &str) -> &str {
    match s.char_indices().nth(64) {
        Some((i, _)) => s.get(..i).unwrap_or(s),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_members_are_refused_with_their_name() {
        let err = Options::parse("options", Some(r#"{"audiance":"x"}"#), &["audience"])
            .err()
            .unwrap();
        assert_eq!(err.code, "ERR_INVALID_ARGUMENT");
        assert!(err.message.contains("options.audiance"), "{}", err.message);
    }

    #[test]
    fn non_objects_are_refused() {
        for json in ["1", "\"x\"", "[]", "true", "{", ""] {
            let err = Options::parse("o", Some(json), &[]).err().unwrap();
            assert_eq!(err.code, "ERR_INVALID_ARGUMENT", "{json}");
        }
        assert!(Options::parse("o", Some("null"), &[]).is_ok());
        assert!(Options::parse("o", None, &[]).is_ok());
    }

    #[test]
    fn strings_accepts_a_string_or_a_non_empty_string_array() {
        let o = Options::parse(
            "o",
            Some(r#"{"a":"x","b":["x","y"],"c":[],"d":[1],"e":3}"#),
            &["a", "b", "c", "d", "e"],
        )
        .unwrap();
        assert_eq!(o.strings("a").unwrap(), Some(alloc::vec!["x".into()]));
        assert_eq!(o.strings("b").unwrap().unwrap().len(), 2);
        assert!(o.strings("c").is_err());
        assert!(o.strings("d").is_err());
        assert!(o.strings("e").is_err());
        assert_eq!(o.strings("missing").unwrap(), None);
    }

    #[test]
    fn seconds_are_whole_non_negative_and_bounded() {
        let o = Options::parse(
            "o",
            Some(r#"{"a":5,"b":-1,"c":1.5,"d":"5","e":100}"#),
            &["a", "b", "c", "d", "e"],
        )
        .unwrap();
        assert_eq!(o.seconds("a", 10).unwrap(), Some(5));
        for k in ["b", "c", "d", "e"] {
            assert!(o.seconds(k, 10).is_err(), "{k}");
        }
    }

    #[test]
    fn time_is_whole_and_within_the_safe_integer_range() {
        let o = Options::parse(
            "o",
            Some(r#"{"a":1700000000,"b":-5,"c":1.5,"d":9007199254740993}"#),
            &["a", "b", "c", "d"],
        )
        .unwrap();
        assert_eq!(o.time("a").unwrap(), Some(1_700_000_000));
        assert_eq!(o.time("b").unwrap(), Some(-5));
        assert!(o.time("c").is_err());
        assert!(o.time("d").is_err());
    }

    #[test]
    fn one_of_names_the_allowed_values() {
        let o = Options::parse("o", Some(r#"{"crypto":"fast"}"#), &["crypto"]).unwrap();
        let err = o.one_of("crypto", &["webcrypto", "builtin"]).err().unwrap();
        assert!(err.message.contains("webcrypto"), "{}", err.message);
    }
}
