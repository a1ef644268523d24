//! Entry points for the fuzz targets in `fuzz/` and for the test that replays their
//! corpus (`tests/core/fuzz_corpus.rs`). Not part of the API: hidden, and free to change.
//!
//! Each function takes the fuzzer's bytes and panics when an invariant breaks. Where a
//! round trip exists it is asserted (parse, render, parse again; sign, then verify), not
//! only the absence of a panic. The targets in `fuzz/fuzz_targets/` are three lines that
//! call these, as in rustls, so the logic is compiled and linted with the crate and the
//! corpus replays on every `cargo test` without a nightly toolchain.

// A panic is how a fuzz target reports a broken invariant.
#![allow(clippy::panic)]

use alloc::collections::BTreeSet;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::iter;

use serde_json::{Map, Value};

use crate::base64url;
use crate::error::Error;
use crate::jwk::{self, EcKey, Jwk, JwkSet, PublicKey, RsaKey};
use crate::jws::{self, Algorithm, Jws};
use crate::jwt::{self, Claims, Validation};
use crate::pkce::{self, CodeVerifier, Method, PlainPolicy};
use crate::provider::Signer;
use crate::provider::rustcrypto::{EcdsaP256Signer, RustCrypto};
use crate::scope::{
    Context, Denied, Interaction, Request, ResourceSelector, ResourceType, Scope, ScopeSet,
};
use crate::sign;

/// The fixed clock of the JWT target.
pub const NOW: i64 = 1_700_000_000;
/// The issuer the JWT target accepts.
pub const ISS: &str = "https://ehr.example.org";
/// The audience the JWT target accepts.
pub const AUD: &str = "https://ehr.example.org/fhir";
/// The `kid` of the JWT target's signing key.
pub const KID: &str = "k1";
/// The JWT target's signing key: the P-256 scalar `[7; 32]`.
pub const SECRET: [u8; 32] = [7; 32];

/// RFC 7515 appendix A.3's P-256 key.
const RFC7515_A3_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;
/// RFC 7515 appendix A.2's RSA key.
const RFC7515_A2_JWK: &str = r#"{"kty":"RSA","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ","e":"AQAB"}"#;

/// Unwraps a result the invariant says is `Ok`.
#[track_caller]
fn must<T>(result: Result<T, Error>, what: &str) -> T {
    match result {
        Ok(v) => v,
        Err(e) => panic!("{what}: unexpected {} ({e})", e.code()),
    }
}

/// Asserts `result` is the error with this code.
#[track_caller]
fn refused<T>(result: Result<T, Error>, code: &str, what: &str) {
    match result {
        Ok(_) => panic!("{what}: accepted, expected {code}"),
        Err(e) => assert_eq!(e.code(), code, "{what}"),
    }
}

/// A hash of the input, to pick positions and values from it deterministically.
fn seed(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

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

/// The verification keys of the JWS and JWT targets: RFC 7515's P-256 and RSA keys,
/// without `kid`, and `signer`'s key as [`KID`].
fn fixed_keys(signer: &EcdsaP256Signer) -> JwkSet {
    let mut keys: Vec<Jwk> = [RFC7515_A3_JWK, RFC7515_A2_JWK]
        .iter()
        .filter_map(|j| Jwk::from_json(j).ok())
        .collect();
    keys.push(must(
        Jwk::new(signer.public_key(), Some(KID.into()), None),
        "fixed key",
    ));
    must(JwkSet::new(keys), "fixed key set")
}

fn signer() -> EcdsaP256Signer {
    must(EcdsaP256Signer::from_bytes(&SECRET), "fixed signer")
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

    let keys = fixed_keys(&signer());
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

fn validation() -> Validation {
    Validation::new([ISS], [AUD])
        .typ("at+jwt")
        .algorithms(&[Algorithm::Es256])
}

/// JWT verification with fixed keys and clock. Three parts:
/// 1. the input as a token: a token that verifies has claims the policy accepts;
/// 2. the input as a payload: claims the policy accepts are what it promises
///    ([`Validation::check_claims`], the step after the signature);
/// 3. valid claims derived from the input, signed by [`SECRET`]: they verify at [`NOW`]
///    to the same claims, are expired at `exp`, and a token with one byte changed
///    (position and value picked by the input), one byte cut or one byte added never
///    verifies.
pub fn jwt_verify(data: &[u8]) {
    let signer = signer();
    let keys = fixed_keys(&signer);
    let validation = validation();

    if let Ok(token) = core::str::from_utf8(data)
        && let Ok(verified) = jwt::verify(token, &keys, &validation, &RustCrypto, NOW)
    {
        assert_accepted(&verified.claims);
    }

    if let Ok(claims) = validation.check_claims(data, NOW) {
        assert_accepted(&claims);
    }

    let claims = derived_claims(data);
    let token = must(
        sign::sign_jwt(&claims, Some("at+jwt"), Some(KID), &signer),
        "sign claims",
    );
    let verify = |token: &str| jwt::verify(token, &keys, &validation, &RustCrypto, NOW);
    if token.len() > jws::MAX_TOKEN_LEN {
        refused(verify(&token), "ERR_INPUT_TOO_LARGE", "oversized token");
        return;
    }
    let payload = must(
        serde_json::to_vec(&claims).map_err(|_| Error::SigningFailed),
        "claims JSON",
    );
    let verified = must(verify(&token), "valid claims");
    assert_eq!(verified.claims, must(Claims::from_json(&payload), "claims"));
    assert_eq!(verified.kid.as_deref(), Some(KID));
    let exp = verified.claims.exp().unwrap_or(NOW);
    refused(
        validation.check_claims(&payload, exp),
        "ERR_JWT_EXPIRED",
        "at exp",
    );

    const ALT: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \x00";
    let h = seed(data);
    let len = token.len();
    let pos = usize::try_from(h % len as u64).unwrap_or(0);
    let alt = usize::try_from((h >> 32) % ALT.len() as u64).unwrap_or(0);
    let mut bytes = token.clone().into_bytes();
    let Some(byte) = bytes.get_mut(pos) else {
        panic!("position outside the token");
    };
    let original = *byte;
    *byte = ALT
        .iter()
        .cycle()
        .skip(alt)
        .find(|&&b| b != original)
        .copied()
        .unwrap_or(b'A');
    let changed = String::from_utf8(bytes).unwrap_or_default();
    assert!(
        verify(&changed).is_err(),
        "verified with byte {pos} changed"
    );
    let cut = token.get(..len - 1).unwrap_or_default();
    assert!(verify(cut).is_err(), "verified with the last byte cut");
    let extra = char::from(ALT.get(alt).copied().unwrap_or(b'A'));
    let longer = alloc::format!("{token}{extra}");
    assert!(verify(&longer).is_err(), "verified with a byte added");
}

/// What the JWT target's policy guarantees of accepted claims.
fn assert_accepted(claims: &Claims) {
    assert_eq!(claims.iss(), Some(ISS));
    assert!(claims.aud().iter().any(|a| a == AUD));
    assert!(claims.exp().is_some_and(|exp| NOW < exp));
    assert!(claims.nbf().is_none_or(|nbf| nbf <= NOW));
    assert!(claims.iat().is_none_or(|iat| iat <= NOW));
}

/// The input's JSON object (or `{"data": base64url(input)}`), made valid at [`NOW`]:
/// `iss` and `aud` set (a string-array `aud` keeps its entries), `exp` kept when it is an
/// integer in the future and set to `NOW + 300` otherwise, `nbf`/`iat` kept when integers
/// in the past and dropped otherwise, `sub`/`jti` dropped unless strings.
fn derived_claims(data: &[u8]) -> Map<String, Value> {
    let mut claims = serde_json::from_slice::<Map<String, Value>>(data).unwrap_or_else(|_| {
        let mut m = Map::new();
        m.insert("data".into(), base64url::encode(data).into());
        m
    });
    claims.insert("iss".into(), ISS.into());
    match claims.get_mut("aud") {
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => a.push(AUD.into()),
        _ => {
            claims.insert("aud".into(), AUD.into());
        }
    }
    let int = |c: &Map<String, Value>, name: &str| c.get(name).and_then(Value::as_i64);
    if !int(&claims, "exp").is_some_and(|exp| exp > NOW && exp < NOW + 1_000_000_000) {
        claims.insert("exp".into(), (NOW + 300).into());
    }
    for name in ["nbf", "iat"] {
        if !int(&claims, name).is_some_and(|t| t <= NOW && t > NOW - 1_000_000_000) {
            claims.remove(name);
        }
    }
    for name in ["sub", "jti"] {
        if claims.get(name).is_some_and(|v| !v.is_string()) {
            claims.remove(name);
        }
    }
    claims
}

/// Scope strings. Strict and lenient parsing agree; a parsed set renders (`Display`)
/// to a string that parses to an equal set, and `to_v2` to one that parses, renders the
/// same again and grants the same; each scope renders to itself. Evaluation:
/// `permits == authorize().is_ok()`, grants and denials are well-formed, any scope a
/// denial suggests grants the request; narrowing a set by itself gives itself. When the
/// input holds a line break, the two sides are narrowed: the result renders and parses
/// back, and never permits what either side does not.
pub fn scope(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let strict = ScopeSet::parse(text);
    let lenient = ScopeSet::parse_lenient(text);
    match (&strict, &lenient) {
        (Ok(s), Ok(l)) => {
            assert_eq!(s, &l.scopes);
            assert!(l.dropped.is_empty());
        }
        (Err(e), Ok(l)) => {
            let first = l.dropped.first().map(|d| Error::from(d.error));
            assert_eq!(
                first.as_ref(),
                Some(e),
                "strict error is not the first dropped"
            );
        }
        (Err(e), Err(l)) => {
            assert_eq!(e, l);
            assert!(matches!(
                e.code(),
                "ERR_SCOPE_TOO_LONG" | "ERR_SCOPE_TOO_MANY"
            ));
        }
        (Ok(_), Err(e)) => panic!("lenient parsing refused a strict set: {}", e.code()),
    }
    let Ok(parsed) = lenient else {
        return;
    };
    let set = parsed.scopes;
    let v2 = check_scope_rendering(&set);
    check_evaluation(&set, &v2, seed(data));
    let itself = set.narrow(&set);
    assert_eq!(itself.granted, set, "narrowing a set by itself changed it");
    assert!(itself.narrowed.is_empty() && itself.dropped.is_empty());

    if let Some((a, b)) = text.split_once('\n')
        && let (Ok(a), Ok(b)) = (ScopeSet::parse_lenient(a), ScopeSet::parse_lenient(b))
    {
        check_narrow(&a.scopes, &b.scopes);
    }
}

/// Round trips of a set's renderings; returns its `to_v2` set.
fn check_scope_rendering(set: &ScopeSet) -> ScopeSet {
    let rendered = set.to_string();
    assert_eq!(&must(ScopeSet::parse(&rendered), "rendered set"), set);
    for scope in set {
        assert_eq!(
            &must(Scope::parse(&scope.to_string()), "rendered scope"),
            scope
        );
        let v2 = must(Scope::parse(&scope.to_v2_string()), "v2 scope");
        assert_eq!(
            v2.as_clinical().map(|c| c.to_v2()),
            scope.as_clinical().map(|c| c.to_v2())
        );
    }
    let v2_text = set.to_v2();
    let v2 = must(ScopeSet::parse(&v2_text), "to_v2 set");
    assert_eq!(v2.to_v2(), v2_text);
    assert_eq!(v2.to_string(), v2_text);
    v2
}

/// The resource types to evaluate requests on: a few fixed ones (in the Patient
/// compartment, the Patient itself, outside it) and those the sets name.
fn request_types<'a>(sets: impl IntoIterator<Item = &'a ScopeSet>) -> Vec<ResourceType> {
    let mut types = vec![
        ResourceType::Observation,
        ResourceType::Patient,
        ResourceType::Practitioner,
    ];
    for set in sets {
        for scope in set {
            if let Some(c) = scope.as_clinical()
                && let ResourceSelector::Type(t) = c.resource()
                && !types.contains(&t)
                && types.len() < 8
            {
                types.push(t);
            }
        }
    }
    types
}

fn contexts() -> [Option<Context>; 4] {
    [
        None,
        Some(Context::Patient),
        Some(Context::User),
        Some(Context::System),
    ]
}

fn check_evaluation(set: &ScopeSet, v2: &ScopeSet, seed: u64) {
    // Every query pair the set names, as the parameters of search and export requests.
    let params: Vec<(&str, &str)> = set
        .iter()
        .filter_map(Scope::as_clinical)
        .flat_map(|c| c.query().iter().map(|(n, v)| (n.as_str(), v.as_str())))
        .take(32)
        .collect();
    let mut denials = Vec::new();
    for t in request_types([set]) {
        for interaction in Interaction::ALL {
            for context in contexts() {
                let mut request = Request::new(t, interaction);
                if let Some(c) = context {
                    request = request.in_context(c);
                }
                if interaction.enforcement() == crate::scope::Enforcement::Filter {
                    check_request(set, &request.with_params(&params), &mut denials);
                }
                check_request(set, &request, &mut denials);
                assert_eq!(
                    v2.permits(&request),
                    set.permits(&request),
                    "to_v2 changed a grant"
                );
            }
        }
    }
    // Any scope a denial suggests grants the request; checked on two denials the input
    // picks (each check re-parses the set).
    for k in [seed, seed >> 32] {
        let Some((request, denied)) = usize::try_from(k)
            .ok()
            .and_then(|k| denials.get(k.checked_rem(denials.len())?))
        else {
            break;
        };
        for suggested in denied.required_scopes() {
            let scope = must(Scope::parse(&suggested), "suggested scope");
            let wider = ScopeSet::from_scopes(set.iter().cloned().chain(iter::once(scope)));
            if let Ok(wider) = wider {
                assert!(
                    wider.permits(request),
                    "{suggested} does not grant the request"
                );
            }
        }
    }
}

fn check_request<'r>(
    set: &ScopeSet,
    request: &Request<'r>,
    denials: &mut Vec<(Request<'r>, Denied)>,
) {
    let permits = set.permits(request);
    match set.authorize(request) {
        Ok(grant) => {
            assert!(permits, "authorize granted what permits refused");
            assert_eq!(grant.enforcement(), request.interaction.enforcement());
            assert_eq!(grant.is_unrestricted(), grant.constraints().is_empty());
            for c in grant.constraints() {
                if let Some(pc) = c.patient_compartment() {
                    assert_eq!(pc.resource_type(), request.resource_type);
                    assert!(request.context.is_none_or(|ctx| ctx == Context::Patient));
                } else {
                    assert_ne!(request.context, Some(Context::Patient));
                }
                if grant.enforcement() == crate::scope::Enforcement::Filter {
                    assert!(c.query().iter().all(|p| !request.params.contains(p)));
                }
            }
        }
        Err(denied) => {
            assert!(!permits, "permits granted what authorize refused");
            let need = request.interaction.required();
            assert!(!denied.missing().is_empty() && need.contains(denied.missing()));
            assert_eq!(denied.interaction(), request.interaction);
            assert_eq!(denied.resource_type(), request.resource_type);
            assert_eq!(denied.context(), request.context);
            assert!(!denied.to_string().is_empty());
            denials.push((*request, denied));
        }
    }
}

fn check_narrow(requested: &ScopeSet, allowed: &ScopeSet) {
    let n = requested.narrow(allowed);
    let rendered = n.granted.to_string();
    assert_eq!(must(ScopeSet::parse(&rendered), "narrowed set"), n.granted);
    for scope in requested {
        let places = [
            n.granted.contains(scope),
            n.narrowed.contains(scope),
            n.dropped.contains(scope),
        ];
        assert!(places.iter().any(|p| *p), "{scope} lost by narrowing");
    }
    for t in request_types([requested, allowed]) {
        for interaction in Interaction::ALL {
            for context in contexts() {
                let mut request = Request::new(t, interaction);
                if let Some(c) = context {
                    request = request.in_context(c);
                }
                if n.granted.permits(&request) {
                    assert!(
                        requested.permits(&request),
                        "narrowing granted more than asked"
                    );
                    assert!(
                        allowed.permits(&request),
                        "narrowing granted more than allowed"
                    );
                }
            }
        }
    }
}

/// A deterministic RNG from the input (xorshift; for the fuzz target only).
struct InputRng(u64);

impl rand_core::TryRng for InputRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok((self.try_next_u64()? >> 32) as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Ok(self.0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            for (d, s) in chunk.iter_mut().zip(v) {
                *d = s;
            }
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for InputRng {}

/// PKCE: `CodeVerifier::parse` accepts exactly 43 to 128 unreserved characters; an
/// accepted verifier matches its S256 challenge (and itself under `plain` when allowed),
/// never shows in `Debug`, and a refused one is refused by `verify` with the same code
/// whatever the challenge and method; generated verifiers parse.
pub fn pkce(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let syntax_ok = (pkce::MIN_VERIFIER_LEN..=pkce::MAX_VERIFIER_LEN).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    let challenge = pkce::challenge_s256(text);
    assert_eq!(challenge.len(), 43);
    if let Ok(m) = Method::parse(text) {
        assert_eq!(m.as_str(), text);
    }
    let methods = [
        (Method::S256, PlainPolicy::Refuse),
        (Method::S256, PlainPolicy::Allow),
        (Method::Plain, PlainPolicy::Refuse),
        (Method::Plain, PlainPolicy::Allow),
    ];
    match CodeVerifier::parse(text) {
        Ok(v) => {
            assert!(syntax_ok, "accepted a malformed verifier");
            assert_eq!(v.as_str(), text);
            assert_eq!(v.challenge(), challenge);
            assert!(!alloc::format!("{v:?}").contains(text), "verifier in Debug");
            let verify = |c: &str, m, p| pkce::verify(text, c, m, p);
            must(
                verify(&challenge, Method::S256, PlainPolicy::Refuse),
                "S256",
            );
            must(verify(&challenge, Method::S256, PlainPolicy::Allow), "S256");
            must(verify(text, Method::Plain, PlainPolicy::Allow), "plain");
            refused(
                verify(text, Method::Plain, PlainPolicy::Refuse),
                "ERR_PKCE_METHOD_UNSUPPORTED",
                "plain",
            );
            refused(
                verify(text, Method::S256, PlainPolicy::Allow),
                "ERR_PKCE_MISMATCH",
                "S256 of itself",
            );
            refused(
                verify(&challenge, Method::Plain, PlainPolicy::Allow),
                "ERR_PKCE_MISMATCH",
                "plain vs S256",
            );
            let other = pkce::challenge_s256(&alloc::format!("{text}~"));
            refused(
                verify(&other, Method::S256, PlainPolicy::Refuse),
                "ERR_PKCE_MISMATCH",
                "other challenge",
            );
            let prefix = challenge.get(..42).unwrap_or_default();
            refused(
                verify(prefix, Method::S256, PlainPolicy::Refuse),
                "ERR_PKCE_MISMATCH",
                "prefix",
            );
        }
        Err(e) => {
            assert!(!syntax_ok, "refused a well-formed verifier");
            for (m, p) in methods {
                assert_eq!(pkce::verify(text, &challenge, m, p).as_ref(), Err(&e));
                assert_eq!(pkce::verify(text, text, m, p).as_ref(), Err(&e));
            }
        }
    }
    let h = seed(data);
    let len = pkce::MIN_VERIFIER_LEN
        + usize::try_from(h % (pkce::MAX_VERIFIER_LEN - pkce::MIN_VERIFIER_LEN + 1) as u64)
            .unwrap_or(0);
    let generated = must(
        CodeVerifier::generate_with_len(&mut InputRng(h | 1), len),
        "generate",
    );
    assert_eq!(generated.as_str().len(), len);
    assert_eq!(
        must(CodeVerifier::parse(generated.as_str()), "generated").as_str(),
        generated.as_str()
    );
    let short = CodeVerifier::generate(&mut InputRng(h | 1));
    assert!(CodeVerifier::parse(short.as_str()).is_ok());
}
