//! The `dpop` target.

use alloc::format;

use super::{DPOP_SECRET, NOW, SeenOnce, change_one_byte, must, refused, seed};
use crate::dpop::{
    self, DEFAULT_MAX_AGE, DEFAULT_MAX_FUTURE, DpopKey, DpopValidation, MAX_URL_LEN, NoncePolicy,
    ProofRequest, RotatingNonce, VerifiedProof,
};
use crate::error::Error;
use crate::jws;
use crate::jwt::Claims;
use crate::provider::rustcrypto::RustCrypto;

/// The method when the input names none.
const METHOD: &str = "POST";
/// The request URL when the input names none (RFC 9449 section 4.1's).
const URL: &str = "https://server.example.com/token";

/// DPoP proofs (RFC 9449). The input is lines: `proof`, `method`, `url`, `now`,
/// `access token` (empty: none), `jti`; missing lines take defaults.
///
/// 1. The input's proof, checked for that request: a proof that verifies matches it
///    (`htm`, `htu`, `iat` window, `ath`, `jkt` the key's thumbprint), and the same
///    proof a second time is a replay.
/// 2. A proof made by [`DpopKey`] for that request (with a server nonce when the input
///    picks one), when the maker accepts the request: it verifies, to the key, `jti`,
///    `iat` and nonce it was made with; it binds a token whose `cnf.jkt` is the key's
///    thumbprint and no other; it is a replay the second time, stale after the maximum
///    age, from the future before `iat - max_future`; and with one byte changed it
///    never verifies.
/// 3. `htu` normalisation of the URL is idempotent, drops query and fragment, and
///    names an `http(s)` URL.
pub fn dpop(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let proof = lines.next().unwrap_or_default();
    let method = lines.next().unwrap_or(METHOD);
    let url = lines.next().unwrap_or(URL);
    let now = lines
        .next()
        .and_then(|n| n.parse::<i64>().ok())
        .unwrap_or(NOW);
    let access_token = lines.next().filter(|t| !t.is_empty());
    let jti = lines.next().unwrap_or("jti-1");

    check_htu(url);

    let validation = DpopValidation::default();
    let mut request = ProofRequest::new(method, url);
    if let Some(token) = access_token {
        request = request.access_token(token);
    }

    let cache = SeenOnce::default();
    if let Ok(verified) = dpop::verify(proof, &request, &validation, &RustCrypto, &cache, now) {
        check_verified(&verified, method, url, now);
        refused(
            replay(proof, &request, &validation, &cache, now),
            "ERR_DPOP_REPLAY",
            "the input's proof twice",
        );
    }

    let key = must(DpopKey::from_bytes(&DPOP_SECRET), "DPoP key");
    let policy = must(RotatingNonce::new([9; 32], 300), "nonce policy");
    let h = seed(data);
    let nonce = (h & 1 == 1).then(|| policy.current(now));
    if nonce.is_some() {
        request = request.nonce(&policy);
    }
    let made = match key.proof_with_jti(method, url, access_token, nonce.as_deref(), now, jti) {
        Ok(made) => made,
        Err(e) => {
            assert!(
                matches!(e.code(), "ERR_INVALID_ARGUMENT" | "ERR_DPOP_HTU_INVALID"),
                "proof refused with {}",
                e.code()
            );
            if e.code() == "ERR_DPOP_HTU_INVALID" {
                assert!(dpop::normalize_htu(url).is_err(), "maker refused a URL");
            }
            return;
        }
    };
    let cache = SeenOnce::default();
    let verify =
        |proof: &str, at: i64| dpop::verify(proof, &request, &validation, &RustCrypto, &cache, at);
    if made.len() > jws::MAX_TOKEN_LEN {
        refused(verify(&made, now), "ERR_INPUT_TOO_LARGE", "oversized proof");
        return;
    }
    let verified = must(verify(&made, now), "a proof made for the request");
    check_verified(&verified, method, url, now);
    assert_eq!(verified.jkt(), key.thumbprint());
    assert_eq!(verified.jti(), jti);
    assert_eq!(verified.iat(), now);
    assert_eq!(verified.nonce(), nonce.as_deref());
    refused(
        replay(&made, &request, &validation, &cache, now),
        "ERR_DPOP_REPLAY",
        "a made proof twice",
    );

    let bound = |jkt: &str| {
        let json = format!(r#"{{"cnf":{{"jkt":"{jkt}"}}}}"#);
        must(Claims::from_json(json.as_bytes()), "cnf claims")
    };
    must(
        dpop::check_binding(&bound(key.thumbprint()), &verified),
        "binding to the proof's key",
    );
    let other = match key.thumbprint().strip_prefix('A') {
        Some(rest) => format!("B{rest}"),
        None => format!("A{}", key.thumbprint().get(1..).unwrap_or_default()),
    };
    refused(
        dpop::check_binding(&bound(&other), &verified),
        "ERR_DPOP_JKT_MISMATCH",
        "binding to another key",
    );
    refused(
        dpop::check_binding(&must(Claims::from_json(b"{}"), "claims"), &verified),
        "ERR_DPOP_TOKEN_NOT_BOUND",
        "an unbound token",
    );

    let window = i64::try_from(DEFAULT_MAX_AGE).unwrap_or(i64::MAX);
    if let Some(later) = now.checked_add(window + 1) {
        refused(
            dpop::prepare(&made, &request, &validation, later),
            "ERR_DPOP_IAT_STALE",
            "after the maximum age",
        );
    }
    let future = i64::try_from(DEFAULT_MAX_FUTURE).unwrap_or(i64::MAX);
    if let Some(earlier) = now.checked_sub(future + 1) {
        refused(
            dpop::prepare(&made, &request, &validation, earlier),
            "ERR_DPOP_IAT_FUTURE",
            "before iat - max_future",
        );
    }

    let (pos, changed) = change_one_byte(&made, h >> 1);
    let fresh = SeenOnce::default();
    assert!(
        dpop::verify(&changed, &request, &validation, &RustCrypto, &fresh, now).is_err(),
        "verified with byte {pos} changed"
    );
}

/// What a verified proof promises about the request it was checked for.
fn check_verified(proof: &VerifiedProof, method: &str, url: &str, now: i64) {
    let claims = proof.claims();
    let claim = |name| claims.get(name).and_then(serde_json::Value::as_str);
    assert_eq!(claim("htm"), Some(method));
    let htu = must(
        dpop::normalize_htu(claim("htu").unwrap_or_default()),
        "verified htu",
    );
    assert_eq!(Ok(htu), dpop::normalize_htu(url));
    assert_eq!(proof.jkt(), proof.jwk().thumbprint());
    assert!(proof.jwk().allows(proof.alg()));
    let window = i64::try_from(DEFAULT_MAX_AGE).unwrap_or(i64::MAX);
    let future = i64::try_from(DEFAULT_MAX_FUTURE).unwrap_or(i64::MAX);
    assert!(now.saturating_sub(proof.iat()) <= window);
    assert!(proof.iat() <= now.saturating_add(future));
    assert!(!proof.jti().is_empty() && proof.jti().len() <= dpop::MAX_JTI_LEN);
}

/// The replay check of a proof whose signature is known to verify, without checking it
/// again: step 1, then step 3 against `cache`.
fn replay(
    proof: &str,
    request: &ProofRequest<'_>,
    validation: &DpopValidation,
    cache: &SeenOnce,
    now: i64,
) -> Result<VerifiedProof, Error> {
    dpop::prepare(proof, request, validation, now)?
        .finish(Ok(()))?
        .check(cache, now)
}

/// `normalize_htu` is idempotent, drops query and fragment, and names an `http(s)` URL.
fn check_htu(url: &str) {
    let Ok(normal) = dpop::normalize_htu(url) else {
        return;
    };
    assert!(normal.starts_with("http://") || normal.starts_with("https://"));
    assert!(!normal.contains(['?', '#']), "query or fragment kept");
    if normal.len() <= MAX_URL_LEN {
        assert_eq!(
            dpop::normalize_htu(&normal).as_deref(),
            Ok(normal.as_str()),
            "normalize_htu is not idempotent on {url:?}"
        );
    }
    if url.len() + 2 <= MAX_URL_LEN {
        let with_fragment = format!("{url}#x");
        assert_eq!(
            dpop::normalize_htu(&with_fragment).as_deref(),
            Ok(normal.as_str())
        );
    }
}
