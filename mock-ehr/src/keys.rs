//! The server's signing keys: one for access tokens (ES256 by default, configurable)
//! and one RSA key for id_tokens (RS256, as SMART App Launch requires). Rotation keeps
//! the previous key of each in the JWKS, so tokens signed before a rotation still
//! verify until they expire.
//!
//! All signing goes through [`smartgate_core::sign::sign_jwt`] with
//! [`RingSigner`]; all verification through [`smartgate_core::jwt::verify`] with the
//! `ring` provider.

use std::sync::Arc;

use serde_json::{Map, Value};
use smartgate_core::jwk::{Jwk, JwkSet};
use smartgate_core::jws::Algorithm;
use smartgate_core::jwt::{self, Validation, VerifiedJwt};
use smartgate_core::provider::Signer as _;
use smartgate_core::provider::ring::{Ring, RingSigner};
use smartgate_core::sign;

use crate::builtin;

/// Header `typ` of access tokens (RFC 9068).
pub(crate) const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// One signing key with its public JWK.
#[derive(Debug, Clone)]
struct SigningKey {
    kid: String,
    signer: Arc<RingSigner>,
    jwk: Jwk,
}

impl SigningKey {
    fn new(signer: RingSigner) -> Result<Self, smartgate_core::Error> {
        let public = signer.public_key();
        let thumb = public.thumbprint();
        let alg = signer.algorithm();
        let kid = format!(
            "{}-{}",
            alg.name().to_ascii_lowercase(),
            thumb.get(..16).unwrap_or(&thumb)
        );
        let jwk = Jwk::new(public, Some(kid.clone()), Some(alg))?;
        Ok(Self {
            kid,
            signer: Arc::new(signer),
            jwk,
        })
    }
}

/// The key material a rotation starts from (generated outside any lock: RSA
/// generation takes a while).
pub(crate) struct FreshKeys {
    /// The access token key (PKCS#8 DER) when it is not `rsa_der`.
    access_der: Option<Vec<u8>>,
    /// The id_token key (PKCS#8 DER), also the access token key of an RSA `alg`
    /// without a key of its own.
    rsa_der: Vec<u8>,
}

/// Current and previous keys.
#[derive(Debug, Clone)]
pub(crate) struct KeyRing {
    access_alg: Algorithm,
    access: SigningKey,
    id: SigningKey,
    /// Current and previous public keys.
    jwks: JwkSet,
}

impl KeyRing {
    /// The keys a server starts with: the configured access token key
    /// (`access_key`, PKCS#8 DER) or a fresh EC key (when access tokens use ECDSA), and
    /// the shipped RSA key.
    ///
    /// # Errors
    /// The configured key does not fit `access_alg` (family, curve, or not PKCS#8).
    pub(crate) fn initial(
        access_alg: Algorithm,
        access_key: Option<&[u8]>,
    ) -> Result<Self, String> {
        let fresh = match access_key {
            Some(der) => FreshKeys {
                access_der: Some(der.to_vec()),
                rsa_der: builtin::ID_TOKEN_RSA_KEY.to_vec(),
            },
            None => {
                FreshKeys::generate_without_rsa(access_alg, builtin::ID_TOKEN_RSA_KEY.to_vec())?
            }
        };
        Self::from_fresh(access_alg, fresh, None)
    }

    /// A server's keys when it must not share any with another server in the process
    /// (a tenant): a fresh RSA key (slow: RSA generation), and the configured access
    /// token key (`access_key`) or a fresh EC one.
    ///
    /// # Errors
    /// As [`KeyRing::initial`].
    pub(crate) fn generated(
        access_alg: Algorithm,
        access_key: Option<&[u8]>,
    ) -> Result<Self, String> {
        let mut fresh = FreshKeys::generate(access_alg)?;
        if let Some(der) = access_key {
            fresh.access_der = Some(der.to_vec());
        }
        Self::from_fresh(access_alg, fresh, None)
    }

    /// The ring after a rotation: `fresh` becomes current, the current keys previous.
    pub(crate) fn rotate(&self, fresh: FreshKeys) -> Result<Self, String> {
        Self::from_fresh(
            self.access_alg,
            fresh,
            Some((self.access.clone(), self.id.clone())),
        )
    }

    fn from_fresh(
        access_alg: Algorithm,
        fresh: FreshKeys,
        previous: Option<(SigningKey, SigningKey)>,
    ) -> Result<Self, String> {
        let err = |e: smartgate_core::Error| format!("signing key: {}", e.code());
        let access_signer = RingSigner::from_pkcs8(
            access_alg,
            fresh.access_der.as_deref().unwrap_or(&fresh.rsa_der),
        )
        .map_err(|e| {
            format!(
                "access token key: not a PKCS#8 {} key ({})",
                access_alg.name(),
                e.code()
            )
        })?;
        let id_signer = RingSigner::from_pkcs8(Algorithm::Rs256, &fresh.rsa_der).map_err(err)?;
        let access = SigningKey::new(access_signer).map_err(err)?;
        let id = SigningKey::new(id_signer).map_err(err)?;
        let (access_previous, id_previous) = match previous {
            Some((a, i)) => (Some(a), Some(i)),
            None => (None, None),
        };
        let mut keys = vec![access.jwk.clone(), id.jwk.clone()];
        keys.extend(access_previous.iter().map(|k| k.jwk.clone()));
        keys.extend(id_previous.iter().map(|k| k.jwk.clone()));
        let jwks = JwkSet::new(keys).map_err(err)?;
        Ok(Self {
            access_alg,
            access,
            id,
            jwks,
        })
    }

    /// Every published key: current and previous, access and id_token.
    pub(crate) fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// Signs access token claims (`typ` `at+jwt`).
    pub(crate) fn sign_access(
        &self,
        claims: &Map<String, Value>,
    ) -> Result<String, smartgate_core::Error> {
        sign::sign_jwt(
            claims,
            Some(ACCESS_TOKEN_TYP),
            Some(&self.access.kid),
            self.access.signer.as_ref(),
        )
    }

    /// Signs id_token claims (RS256, `typ` `JWT`).
    pub(crate) fn sign_id(
        &self,
        claims: &Map<String, Value>,
    ) -> Result<String, smartgate_core::Error> {
        sign::sign_jwt(
            claims,
            Some("JWT"),
            Some(&self.id.kid),
            self.id.signer.as_ref(),
        )
    }

    /// What one of our access tokens must pass: signature under a published key with
    /// the access algorithm, `typ` `at+jwt`, `iss`, `aud`, `exp`, `jti`, `client_id`.
    pub(crate) fn access_validation(&self, issuer: &str, audience: &str) -> Validation {
        Validation::new([issuer], [audience])
            .algorithms(&[self.access_alg])
            .typ(ACCESS_TOKEN_TYP)
            .require("jti")
            .require("client_id")
    }

    /// Verifies one of our access tokens ([`KeyRing::access_validation`], by the core).
    pub(crate) fn verify_access(
        &self,
        token: &str,
        issuer: &str,
        audience: &str,
        now: i64,
    ) -> Result<VerifiedJwt, smartgate_core::Error> {
        let validation = self.access_validation(issuer, audience);
        jwt::verify(token, &self.jwks, &validation, &Ring, now)
    }
}

impl FreshKeys {
    /// New keys for a rotation: an EC key from ring, an RSA key from the `rsa` crate
    /// (slow: call from a blocking task).
    pub(crate) fn generate(access_alg: Algorithm) -> Result<Self, String> {
        Self::generate_without_rsa(access_alg, generate_rsa_der()?)
    }

    fn generate_without_rsa(access_alg: Algorithm, rsa_der: Vec<u8>) -> Result<Self, String> {
        let access_der = if access_alg.is_rsa() {
            None
        } else {
            let (_, der) =
                RingSigner::generate_ecdsa(access_alg).map_err(|e| e.code().to_string())?;
            Some(der)
        };
        Ok(Self {
            access_der,
            rsa_der,
        })
    }
}

/// A fresh 2048-bit RSA key as PKCS#8 DER.
fn generate_rsa_der() -> Result<Vec<u8>, String> {
    use getrandom::SysRng;
    use getrandom::rand_core::UnwrapErr;
    use rsa::pkcs8::EncodePrivateKey as _;
    let key = rsa::RsaPrivateKey::new(&mut UnwrapErr(SysRng), 2048).map_err(|e| e.to_string())?;
    let der = key.to_pkcs8_der().map_err(|e| e.to_string())?;
    Ok(der.as_bytes().to_vec())
}

/// Reads a private key file: PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) or DER.
///
/// # Errors
/// The file cannot be read; a PEM file whose first block is not a PKCS#8
/// `PRIVATE KEY` (a SEC1 `EC PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY` must be converted,
/// `openssl pkcs8 -topk8 -nocrypt`), or whose base64 is broken.
pub(crate) fn read_key_file(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = core::str::from_utf8(&bytes).ok().map(str::trim_start);
    match text {
        Some(t) if t.starts_with("-----BEGIN ") => {
            let (label, der) = pem_rfc7468::decode_vec(t.as_bytes())
                .map_err(|e| format!("{}: not a PEM file ({e})", path.display()))?;
            if label != "PRIVATE KEY" {
                return Err(format!(
                    "{}: a PEM \"{label}\" block; expected a PKCS#8 \"PRIVATE KEY\" \
                     (convert with `openssl pkcs8 -topk8 -nocrypt`)",
                    path.display()
                ));
            }
            Ok(der)
        }
        _ => Ok(bytes),
    }
}

/// The configured access token key (`[signing] access_token_key_file`), read.
///
/// # Errors
/// As [`read_key_file`], naming the setting.
pub(crate) fn configured_access_key(
    config: &crate::config::Config,
) -> Result<Option<Vec<u8>>, String> {
    config
        .signing
        .access_token_key_file
        .as_deref()
        .map(|p| read_key_file(p).map_err(|e| format!("signing.access_token_key_file {e}")))
        .transpose()
}

/// Parses an access token algorithm name from the configuration.
pub(crate) fn parse_alg(name: &str) -> Result<Algorithm, String> {
    Algorithm::from_name(name)
        .map_err(|e| format!("signing.access_token_alg {name:?}: {}", e.code()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify_roundtrip_across_rotation() {
        let ring = KeyRing::initial(Algorithm::Es256, None).unwrap();
        let mut claims = Map::new();
        claims.insert("iss".into(), "http://iss".into());
        claims.insert("aud".into(), "http://aud".into());
        claims.insert("exp".into(), 2_000.into());
        claims.insert("jti".into(), "j1".into());
        claims.insert("client_id".into(), "c".into());
        let old = ring.sign_access(&claims).unwrap();
        ring.verify_access(&old, "http://iss", "http://aud", 1_000)
            .unwrap();
        let ring = ring
            .rotate(
                FreshKeys::generate_without_rsa(
                    Algorithm::Es256,
                    builtin::ID_TOKEN_RSA_KEY.to_vec(),
                )
                .unwrap(),
            )
            .unwrap();
        let new = ring.sign_access(&claims).unwrap();
        ring.verify_access(&old, "http://iss", "http://aud", 1_000)
            .unwrap();
        ring.verify_access(&new, "http://iss", "http://aud", 1_000)
            .unwrap();
        assert_eq!(ring.jwks().keys().len(), 4);
    }

    #[test]
    fn shipped_keys_load() {
        RingSigner::from_pkcs8(Algorithm::Es384, builtin::DEMO_BACKEND_KEY).unwrap();
        RingSigner::from_pkcs8(Algorithm::Rs256, builtin::ID_TOKEN_RSA_KEY).unwrap();
    }
}
