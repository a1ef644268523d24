//! The `pkce` target.

use super::{must, refused, seed};
use crate::pkce::{self, CodeVerifier, Method, PlainPolicy};

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
