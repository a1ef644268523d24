//! JWK Sets (`JwkSet.parse`) and `jwkThumbprint`.
//!
//! A set is parsed once into a [`WasmJwkSet`]; the JS glue keeps the host crypto keys it
//! imports from it (one per key index and algorithm), so a verification imports nothing.

use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value, json};
use smartgate_core::jwk::{self, Jwk, JwkSet, PublicKey};
use wasm_bindgen::prelude::*;

use crate::error::{BindError, Result};

/// A parsed JWK Set: the keys that can verify, in the set's order.
#[wasm_bindgen]
pub struct WasmJwkSet {
    pub(crate) set: JwkSet,
}

#[wasm_bindgen]
impl WasmJwkSet {
    /// Parses JWKS JSON text (see `smartgate_core::jwk::JwkSet::from_json`).
    ///
    /// # Errors
    /// `ERR_JWKS_MALFORMED`, `ERR_JWKS_TOO_MANY_KEYS`, `ERR_JWK_PRIVATE_KEY`,
    /// `ERR_INPUT_TOO_LARGE`.
    pub fn parse(json: &str) -> core::result::Result<WasmJwkSet, JsValue> {
        Ok(Self::from_json(json)?)
    }

    /// The number of usable keys.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.set.keys().len()
    }

    /// The public members of key `index` (`kty`, `crv`/`x`/`y` or `n`/`e`) as JSON text,
    /// for the host's key import; empty for an index out of range.
    #[wasm_bindgen(js_name = hostJwk)]
    pub fn host_jwk(&self, index: usize) -> String {
        self.set
            .keys()
            .get(index)
            .map(|k| Value::Object(k.key().to_jwk_members()).to_string())
            .unwrap_or_default()
    }

    /// `{"keys":[{kid?,alg?,kty,crv?,bits?,thumbprint}],"skipped":[{index,kid?,code,message}]}`.
    pub fn describe(&self) -> String {
        let keys: Vec<Value> = self.set.keys().iter().map(describe_key).collect();
        let skipped: Vec<Value> = self
            .set
            .skipped()
            .iter()
            .map(|s| {
                let mut m = Map::new();
                m.insert("index".into(), s.index.into());
                if let Some(kid) = &s.kid {
                    m.insert("kid".into(), kid.as_str().into());
                }
                m.insert("code".into(), s.error.code().into());
                m.insert("message".into(), alloc::format!("{}", s.error).into());
                Value::Object(m)
            })
            .collect();
        json!({ "keys": keys, "skipped": skipped }).to_string()
    }

    /// The set as public JWKS JSON text (usable keys only).
    #[wasm_bindgen(js_name = toJson)]
    pub fn to_json(&self) -> String {
        self.set.to_json().to_string()
    }
}

impl WasmJwkSet {
    pub(crate) fn from_json(json: &str) -> Result<Self> {
        Ok(Self {
            set: JwkSet::from_json(json)?,
        })
    }
}

fn describe_key(k: &Jwk) -> Value {
    let mut m = Map::new();
    if let Some(kid) = k.kid() {
        m.insert("kid".into(), kid.into());
    }
    if let Some(alg) = k.alg() {
        m.insert("alg".into(), alg.name().into());
    }
    match k.key() {
        PublicKey::Ec(ec) => {
            m.insert("kty".into(), "EC".into());
            m.insert("crv".into(), ec.curve().name().into());
        }
        PublicKey::Rsa(rsa) => {
            m.insert("kty".into(), "RSA".into());
            m.insert("bits".into(), (rsa.n().len() * 8).into());
        }
        _ => {}
    }
    m.insert("thumbprint".into(), k.thumbprint().into());
    Value::Object(m)
}

/// The RFC 7638 SHA-256 thumbprint of a public JWK given as JSON text.
///
/// # Errors
/// The `ERR_JWK_*` codes of `smartgate_core::jwk`, `ERR_INPUT_TOO_LARGE`.
#[wasm_bindgen(js_name = jwkThumbprint)]
pub fn jwk_thumbprint(json: &str) -> core::result::Result<String, JsValue> {
    Ok(thumbprint(json)?)
}

fn thumbprint(json: &str) -> Result<String> {
    jwk::thumbprint(json).map_err(BindError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7638 section 3.1.
    const RFC7638_JWK: &str = r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#;

    #[test]
    fn rfc7638_section_3_1() {
        assert_eq!(
            thumbprint(RFC7638_JWK).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn describe_lists_kept_and_skipped_keys() {
        let jwks = alloc::format!(r#"{{"keys":[{RFC7638_JWK},{{"kty":"oct","kid":"h"}}]}}"#);
        let set = WasmJwkSet::from_json(&jwks).unwrap();
        assert_eq!(set.length(), 1);
        let d: Value = serde_json::from_str(&set.describe()).unwrap();
        assert_eq!(d["keys"][0]["kid"], "2011-04-29");
        assert_eq!(d["keys"][0]["bits"], 2048);
        assert_eq!(d["skipped"][0]["index"], 1);
        assert_eq!(d["skipped"][0]["code"], "ERR_JWK_KTY_UNSUPPORTED");
        assert_eq!(set.host_jwk(5), "");
        let host: Value = serde_json::from_str(&set.host_jwk(0)).unwrap();
        assert_eq!(host["e"], "AQAB");
        assert!(host.get("kid").is_none());
    }
}
