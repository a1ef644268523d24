//! The `base64url`, `jwk`, `jwks` and `jws` targets.

use alloc::collections::BTreeSet;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;

use serde_json::Value;

use super::{fixed_keys, must};
use crate::base64url;
use crate::error::Error;
use crate::jwk::{self, EcKey, Jwk, JwkSet, PublicKey, RsaKey};
use crate::jws::{self, Algorithm, Jws};
use crate::provider::rustcrypto::RustCrypto;

/// Base64url: decoding is canonical (what decodes re-encodes to the same text), and
/// any bytes survive encode then decode.
pub fn base64url(data: &[u8]) {
    let decoded = base64url::decode(data);
    match &decoded {
        Ok(bytes) => {
            assert_eq!(base64url::encode(bytes).as_bytes(), data, "not canonical");
            assert_eq!(base64url::decoded_len(data.len()), Some(bytes.len()));
        }
        Err(e) => assert_eq!(e.code(), "ERR_BASE64_INVALID"),
    }
    // decode_exact agrees with decode at the one length that can fit.
    if let Some(n) = base64url::decoded_len(data.len()) {
        let mut out = vec![0u8; n];
        let exact = base64url::decode_exact(data, &mut out);
        assert_eq!(exact.is_ok(), decoded.is_ok(), "decode_exact disagrees");
        if let Ok(bytes) = &decoded {
            assert_eq!(&out, bytes);
        }
    } else {
        assert!(decoded.is_err(), "impossible length decoded");
    }
    let text = base64url::encode(data);
    assert!(
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "encoding left the URL-safe alphabet"
    );
    assert_eq!(base64url::decoded_len(text.len()), Some(data.len()));
    assert_eq!(base64url::decode(text.as_bytes()).as_deref(), Ok(data));
}

/// One JWK: a key that parses renders (`to_json`) to JSON that parses to an equal key
/// with the same thumbprint; its members alone (what RFC 7638 hashes) give the same
/// key material; `jwk::thumbprint` agrees with `Jwk::from_json`.
pub fn jwk(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let parsed = Jwk::from_json(text);
    assert_eq!(
        jwk::thumbprint(text),
        parsed.as_ref().map(Jwk::thumbprint).map_err(Clone::clone)
    );
    let Ok(key) = parsed else {
        return;
    };
    check_jwk(&key);
}

fn check_jwk(key: &Jwk) {
    let thumbprint = key.thumbprint();
    assert_eq!(thumbprint.len(), 43);
    let rendered = Value::Object(key.to_json()).to_string();
    let again = must(Jwk::from_json(&rendered), "rendered JWK");
    assert_eq!(&again, key);
    assert_eq!(again.thumbprint(), thumbprint);
    let members = Value::Object(key.key().to_jwk_members()).to_string();
    let bare = must(Jwk::from_json(&members), "JWK members");
    assert_eq!(bare.key(), key.key());
    assert_eq!(bare.thumbprint(), thumbprint);
    for alg in Algorithm::ALL {
        assert_eq!(
            key.allows(alg),
            key.key().fits(alg) && key.alg().is_none_or(|a| a == alg)
        );
    }
    match key.key() {
        PublicKey::Ec(ec) => {
            let n = ec.curve().coordinate_len();
            assert_eq!(ec.x().len(), n);
            assert_eq!(ec.y().len(), n);
            assert_eq!(ec.sec1_uncompressed().first(), Some(&0x04));
            let rebuilt = EcKey::from_coordinates(ec.curve(), ec.x(), ec.y());
            assert!(rebuilt.as_ref() == Ok(ec), "EC key rebuilt differently");
        }
        PublicKey::Rsa(rsa) => {
            let rebuilt = RsaKey::from_components(rsa.n(), rsa.e());
            assert!(rebuilt.as_ref() == Ok(rsa), "RSA key rebuilt differently");
        }
    }
}

/// A JWK Set: the kept keys render (`to_json`) to a set that parses to the same keys
/// and skips none; each kept key is the key its entry parses to alone; a refusal of the
/// whole set is one of the documented ones.
pub fn jwks(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let set = match JwkSet::from_json(text) {
        Ok(set) => set,
        Err(e) => {
            assert!(
                matches!(
                    e.code(),
                    "ERR_JWKS_MALFORMED"
                        | "ERR_JWKS_TOO_MANY_KEYS"
                        | "ERR_JWK_PRIVATE_KEY"
                        | "ERR_INPUT_TOO_LARGE"
                ),
                "whole set refused with {}",
                e.code()
            );
            return;
        }
    };
    let entries: Vec<Value> = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(mut o)) => match o.remove("keys") {
            Some(Value::Array(a)) => a,
            _ => panic!("a set parsed without a keys array"),
        },
        _ => panic!("a set parsed from text that is not a JSON object"),
    };
    assert!(entries.len() <= jwk::MAX_KEYS);
    assert_eq!(set.keys().len() + set.skipped().len(), entries.len());
    let skipped: BTreeSet<usize> = set.skipped().iter().map(|s| s.index).collect();
    assert_eq!(skipped.len(), set.skipped().len(), "an index skipped twice");
    let mut kept = set.keys().iter();
    for (index, entry) in entries.iter().enumerate() {
        let alone = Jwk::from_value(entry);
        if skipped.contains(&index) {
            assert!(alone.is_err(), "skipped a key that parses");
        } else {
            assert_eq!(kept.next(), Some(&must(alone, "kept key")));
        }
    }
    for s in set.skipped() {
        assert_ne!(s.error.code(), "ERR_JWK_PRIVATE_KEY");
    }
    let again = must(
        JwkSet::from_json(&set.to_json().to_string()),
        "rendered set",
    );
    assert_eq!(again.keys(), set.keys());
    assert!(again.skipped().is_empty());
    for key in set.keys() {
        if let Some(kid) = key.kid() {
            assert!(set.find(kid).all(|k| k.kid() == Some(kid)));
            assert!(set.find(kid).any(|k| k == key));
        }
    }
}

/// JWS compact parsing: the parts decode canonically, the signing input is the first
/// two parts, the header's typed members agree with its JSON, the same header
/// re-serialized parses to the same JWS, and verification against fixed keys returns
/// only a key that fits.
pub fn jws(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let jws = match Jws::parse(text) {
        Ok(jws) => jws,
        Err(e) => {
            assert!(
                matches!(e, Error::Jws(_) | Error::TooLarge(_)),
                "parse refused with {}",
                e.code()
            );
            return;
        }
    };
    let parts: Vec<&str> = text.split('.').collect();
    let [h, p, s] = parts.as_slice() else {
        panic!("parsed a JWS of {} parts", parts.len());
    };
    assert_eq!(
        jws.signing_input(),
        text.get(..h.len() + 1 + p.len())
            .map(str::as_bytes)
            .unwrap_or_default()
    );
    assert_eq!(&base64url::encode(jws.payload()), p);
    assert_eq!(&base64url::encode(jws.signature()), s);
    let header = jws.header();
    let raw = header.raw();
    assert_eq!(
        raw.get("alg").and_then(Value::as_str),
        Some(header.alg().name())
    );
    assert_eq!(raw.get("kid").and_then(Value::as_str), header.kid());
    assert_eq!(raw.get("typ").and_then(Value::as_str), header.typ());
    assert!(!raw.contains_key("crit"), "crit accepted");
    if let Some(typ) = header.typ() {
        assert!(header.typ_is(typ));
    }

    let h2 = base64url::encode(&must(
        serde_json::to_vec(raw).map_err(|_| Error::SigningFailed),
        "header JSON",
    ));
    let token2 = alloc::format!("{h2}.{p}.{s}");
    if h2.len() <= jws::MAX_HEADER_LEN && token2.len() <= jws::MAX_TOKEN_LEN {
        let again = must(Jws::parse(&token2), "re-serialized header");
        assert_eq!(again.header(), header);
        assert_eq!(again.payload(), jws.payload());
        assert_eq!(again.signature(), jws.signature());
    }

    let keys = fixed_keys();
    match jws.verify(&keys, &RustCrypto) {
        Ok(key) => {
            assert!(key.allows(header.alg()));
            assert!(jws::check_signature_shape(header.alg(), key.key(), jws.signature()).is_ok());
            let candidates = must(jws.candidates(&keys), "candidates of a verified JWS");
            assert!(candidates.contains(&key));
        }
        Err(e) => assert!(
            matches!(e, Error::Jws(_)),
            "verify refused with {}",
            e.code()
        ),
    }
}
