//! The signature checks the JS glue hands to the host's crypto, as one byte string.
//!
//! The core has parsed the JWS, applied the algorithm allow-list, chosen the candidate
//! keys and checked each signature's shape ([`check_signature_shape`], CVE-2022-21449);
//! what is left is pure math, which the host does (`node:crypto` or `crypto.subtle`) or
//! the built-in provider does ([`SigJob::verify_builtin`]). Layout of [`SigJob::packed`]:
//!
//! | bytes | meaning |
//! | --- | --- |
//! | 1 | algorithm: index in `Algorithm::ALL` (ES256, ES384, RS256, RS384, RS512, PS256, PS384) |
//! | 1 | `k`, the number of candidate keys |
//! | 2 `k` | per candidate: key index in the set, then 1 if its shape check passed, else 0 |
//! | 2 | `m`, the signing input's length, little-endian |
//! | `m` | the signing input |
//! | rest | the signature |
//!
//! The host tries the candidates whose shape passed, in order, and reports the position
//! of the first that verifies (or none); [`SigJob::outcome`] then gives the same answer
//! as the core's synchronous `Jws::verify` would have.

use alloc::vec::Vec;

use smartgate_core::Error;
use smartgate_core::jwk::{Jwk, JwkSet};
use smartgate_core::jws::{self, Algorithm, Jws, JwsError, check_signature_shape};
use smartgate_core::provider::rustcrypto::RustCrypto;

/// The signature part of a JWS verification, in flight between the core and the host.
#[derive(Debug, Clone)]
pub struct SigJob {
    alg: Algorithm,
    /// Key index in the set, and the shape check's result for that key.
    candidates: Vec<(usize, Result<(), Error>)>,
    message: Vec<u8>,
    signature: Vec<u8>,
}

impl SigJob {
    /// The job for a parsed JWS against a key set (step 2 and the shape half of step 3
    /// of `smartgate_core::jws`).
    ///
    /// # Errors
    /// `ERR_JWS_KEY_NOT_FOUND`, `ERR_JWS_KEY_ALG_MISMATCH`.
    pub fn for_set(jws: &Jws<'_>, keys: &JwkSet) -> Result<Self, Error> {
        let alg = jws.header().alg();
        let found = jws.candidates(keys)?;
        let candidates = found
            .into_iter()
            .map(|key| {
                let index = keys
                    .keys()
                    .iter()
                    .position(|k| core::ptr::eq(k, key))
                    .unwrap_or(usize::MAX);
                (index, shape(alg, key, jws.signature()))
            })
            .collect();
        Ok(Self {
            alg,
            candidates,
            message: jws.signing_input().to_vec(),
            signature: jws.signature().to_vec(),
        })
    }

    /// The job for a JWS that carries its own key (a DPoP proof's `jwk`): one candidate,
    /// index 0.
    pub fn for_key(alg: Algorithm, key: &Jwk, message: &[u8], signature: &[u8]) -> Self {
        Self {
            alg,
            candidates: alloc::vec![(0, shape(alg, key, signature))],
            message: message.to_vec(),
            signature: signature.to_vec(),
        }
    }

    /// The job for candidates the caller selected and shape-checked already (the
    /// guard's token checks), by their indexes in the key set.
    pub fn for_indexes(
        alg: Algorithm,
        indexes: &[usize],
        message: &[u8],
        signature: &[u8],
    ) -> Self {
        Self {
            alg,
            candidates: indexes.iter().map(|i| (*i, Ok(()))).collect(),
            message: message.to_vec(),
            signature: signature.to_vec(),
        }
    }

    /// The packed form described in the [module docs](self).
    pub fn packed(&self) -> Vec<u8> {
        let k = self.candidates.len();
        let m = self.message.len();
        let mut out = Vec::with_capacity(4 + 2 * k + m + self.signature.len());
        out.push(alg_index(self.alg));
        // At most jwk::MAX_KEYS (64) candidates, each index below it: both fit a byte.
        out.push(u8::try_from(k).unwrap_or(u8::MAX));
        for (index, shape) in &self.candidates {
            out.push(u8::try_from(*index).unwrap_or(u8::MAX));
            out.push(u8::from(shape.is_ok()));
        }
        // The signing input is at most jws::MAX_TOKEN_LEN (16 KiB) bytes.
        out.extend_from_slice(&u16::try_from(m).unwrap_or(u16::MAX).to_le_bytes());
        out.extend_from_slice(&self.message);
        out.extend_from_slice(&self.signature);
        out
    }

    /// Runs the built-in pure-Rust provider over the candidates, whose key indexes point
    /// into `keys` (the set's keys, or the one embedded key); the position of the first
    /// that verifies, if any.
    pub fn verify_builtin(&self, keys: &[Jwk]) -> Option<usize> {
        self.candidates.iter().position(|(index, shape)| {
            shape.is_ok()
                && keys.get(*index).is_some_and(|key| {
                    jws::verify_signature(
                        self.alg,
                        key,
                        &self.message,
                        &self.signature,
                        &RustCrypto,
                    )
                    .is_ok()
                })
        })
    }

    /// The key indexes of the candidates, in order.
    pub fn key_indexes(&self) -> impl Iterator<Item = usize> + '_ {
        self.candidates.iter().map(|(i, _)| *i)
    }

    /// The result of the signature step, given the position of the candidate the host
    /// verified (`None`: none did). Exactly what `Jws::verify` returns: success with
    /// that key, or the last candidate's error. A position whose shape check failed, or
    /// past the end, is refused (the host cannot override the core's shape check).
    ///
    /// # Errors
    /// `ERR_JWS_SIGNATURE_MALFORMED`, `ERR_JWS_SIGNATURE_INVALID`.
    pub fn outcome(&self, verified: Option<usize>) -> Result<usize, Error> {
        if let Some(pos) = verified {
            return match self.candidates.get(pos) {
                Some((index, Ok(()))) => Ok(*index),
                _ => Err(JwsError::SignatureInvalid.into()),
            };
        }
        match self.candidates.last() {
            Some((_, Err(e))) => Err(e.clone()),
            _ => Err(JwsError::SignatureInvalid.into()),
        }
    }
}

fn shape(alg: Algorithm, key: &Jwk, signature: &[u8]) -> Result<(), Error> {
    if !key.allows(alg) {
        return Err(JwsError::KeyAlgMismatch.into());
    }
    check_signature_shape(alg, key.key(), signature)
}

/// The position of `alg` in `Algorithm::ALL`.
pub fn alg_index(alg: Algorithm) -> u8 {
    let i = Algorithm::ALL.iter().position(|a| *a == alg).unwrap_or(0);
    u8::try_from(i).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use smartgate_core::jwk::Jwk;
    use smartgate_core::provider::Signer;
    use smartgate_core::provider::rustcrypto::EcdsaP256Signer;
    use smartgate_core::sign::sign_jwt;

    fn setup() -> (String, JwkSet) {
        let signer = EcdsaP256Signer::from_bytes(&[7u8; 32]).unwrap();
        let other = EcdsaP256Signer::from_bytes(&[8u8; 32]).unwrap();
        let keys = JwkSet::new(alloc::vec![
            Jwk::new(other.public_key(), None, None).unwrap(),
            Jwk::new(signer.public_key(), None, None).unwrap(),
        ])
        .unwrap();
        let claims = serde_json::json!({"sub": "x"});
        let token = sign_jwt(claims.as_object().unwrap(), None, None, &signer).unwrap();
        (token, keys)
    }
    use alloc::string::String;

    #[test]
    fn packed_layout_and_builtin_agree_with_the_core() {
        let (token, keys) = setup();
        let jws = Jws::parse(&token).unwrap();
        let job = SigJob::for_set(&jws, &keys).unwrap();
        let p = job.packed();
        assert_eq!(p[0], 0, "ES256 is index 0");
        assert_eq!(p[1], 2);
        assert_eq!(&p[2..6], &[0, 1, 1, 1]);
        let m = usize::from(u16::from_le_bytes([p[6], p[7]]));
        assert_eq!(&p[8..8 + m], jws.signing_input());
        assert_eq!(&p[8 + m..], jws.signature());
        assert_eq!(job.verify_builtin(keys.keys()), Some(1));
        assert_eq!(job.outcome(Some(1)).unwrap(), 1);
        assert_eq!(
            job.outcome(None).unwrap_err().code(),
            "ERR_JWS_SIGNATURE_INVALID"
        );
        assert_eq!(
            job.outcome(Some(9)).unwrap_err().code(),
            "ERR_JWS_SIGNATURE_INVALID"
        );
    }

    #[test]
    fn a_host_cannot_accept_a_signature_the_shape_check_refused() {
        let (token, keys) = setup();
        // r = s = 0: the CVE-2022-21449 signature.
        let (head, _) = token.rsplit_once('.').unwrap();
        let forged = alloc::format!("{head}.{}", "A".repeat(86));
        let jws = Jws::parse(&forged).unwrap();
        let job = SigJob::for_set(&jws, &keys).unwrap();
        assert_eq!(&job.packed()[2..6], &[0, 0, 1, 0]);
        for pos in [Some(0), Some(1), None] {
            let code = job.outcome(pos).unwrap_err().code();
            assert!(
                code == "ERR_JWS_SIGNATURE_MALFORMED" || code == "ERR_JWS_SIGNATURE_INVALID",
                "{code}"
            );
        }
        assert_eq!(
            job.outcome(None).unwrap_err().code(),
            "ERR_JWS_SIGNATURE_MALFORMED"
        );
    }
}
