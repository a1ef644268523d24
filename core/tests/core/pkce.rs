//! PKCE (RFC 7636): generation, parsing and every refusal by code.

use smartgate_core::pkce::{self, CodeVerifier, Method, PlainPolicy};

use crate::common::*;

const V43: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

#[test]
fn generated_verifiers_are_valid_and_distinct() {
    let mut rng = TestRng(1);
    let a = CodeVerifier::generate(&mut rng);
    let b = CodeVerifier::generate(&mut rng);
    assert_eq!(a.as_str().len(), 43);
    assert_ne!(a, b);
    CodeVerifier::parse(a.as_str()).unwrap();
    for len in [43, 44, 45, 46, 100, 127, 128] {
        let v = CodeVerifier::generate_with_len(&mut rng, len).unwrap();
        assert_eq!(v.as_str().len(), len);
        CodeVerifier::parse(v.as_str()).unwrap();
        pkce::verify(
            v.as_str(),
            &v.challenge(),
            Method::S256,
            PlainPolicy::Refuse,
        )
        .unwrap();
    }
    assert_eq!(
        code(CodeVerifier::generate_with_len(&mut rng, 42)),
        "ERR_PKCE_VERIFIER_LENGTH"
    );
    assert_eq!(
        code(CodeVerifier::generate_with_len(&mut rng, 129)),
        "ERR_PKCE_VERIFIER_LENGTH"
    );
}

#[test]
fn verifier_length_bounds() {
    assert_eq!(
        code(CodeVerifier::parse(&"a".repeat(42))),
        "ERR_PKCE_VERIFIER_LENGTH"
    );
    CodeVerifier::parse(&"a".repeat(43)).unwrap();
    CodeVerifier::parse(&"a".repeat(128)).unwrap();
    assert_eq!(
        code(CodeVerifier::parse(&"a".repeat(129))),
        "ERR_PKCE_VERIFIER_LENGTH"
    );
    assert_eq!(code(CodeVerifier::parse("")), "ERR_PKCE_VERIFIER_LENGTH");
}

#[test]
fn verifier_charset() {
    CodeVerifier::parse(&format!("{}-._~", "A".repeat(40))).unwrap();
    for bad in ['+', '/', '=', ' ', '%', 'é', '\0'] {
        let s = format!("{}{bad}", "a".repeat(43));
        assert_eq!(
            code(CodeVerifier::parse(&s)),
            "ERR_PKCE_VERIFIER_CHARSET",
            "{bad:?}"
        );
    }
}

#[test]
fn plain_is_refused_unless_allowed() {
    assert_eq!(
        code(pkce::verify(V43, V43, Method::Plain, PlainPolicy::Refuse)),
        "ERR_PKCE_METHOD_UNSUPPORTED"
    );
    pkce::verify(V43, V43, Method::Plain, PlainPolicy::Allow).unwrap();
    assert_eq!(
        code(pkce::verify(
            V43,
            "other",
            Method::Plain,
            PlainPolicy::Allow
        )),
        "ERR_PKCE_MISMATCH"
    );
}

#[test]
fn method_names() {
    assert_eq!(Method::parse("S256").unwrap(), Method::S256);
    assert_eq!(Method::parse("plain").unwrap(), Method::Plain);
    assert_eq!(code(Method::parse("s256")), "ERR_PKCE_METHOD_UNKNOWN");
    assert_eq!(code(Method::parse("SHA256")), "ERR_PKCE_METHOD_UNKNOWN");
    assert_eq!(Method::S256.as_str(), "S256");
}

#[test]
fn mismatch() {
    let challenge = pkce::challenge_s256(V43);
    let mut wrong = V43.to_owned();
    wrong.replace_range(0..1, "e");
    assert_eq!(
        code(pkce::verify(
            &wrong,
            &challenge,
            Method::S256,
            PlainPolicy::Refuse
        )),
        "ERR_PKCE_MISMATCH"
    );
    assert_eq!(
        code(pkce::verify(V43, "", Method::S256, PlainPolicy::Refuse)),
        "ERR_PKCE_MISMATCH"
    );
    assert_eq!(
        code(pkce::verify(
            V43,
            &challenge[..42],
            Method::S256,
            PlainPolicy::Refuse
        )),
        "ERR_PKCE_MISMATCH"
    );
    // A malformed verifier is reported as such even when the challenge would "match".
    let short = "abc";
    assert_eq!(
        code(pkce::verify(
            short,
            &pkce::challenge_s256(short),
            Method::S256,
            PlainPolicy::Refuse
        )),
        "ERR_PKCE_VERIFIER_LENGTH"
    );
}

#[test]
fn debug_does_not_leak_the_verifier() {
    let v = CodeVerifier::parse(V43).unwrap();
    assert!(!format!("{v:?}").contains(V43));
}
