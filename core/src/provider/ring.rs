//! The `ring` provider (feature `ring`): native-speed verification and signing for
//! servers such as the mock EHR.

use alloc::vec::Vec;

use ring::rand::SystemRandom;
use ring::signature::{self as rs, KeyPair as _};

use crate::error::Error;
use crate::jwk::{Curve, EcKey, PublicKey, RsaKey};
use crate::jws::{Algorithm, JwsError};
use crate::provider::{Signer, Verifier};

/// The `ring` [`Verifier`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Ring;

impl Verifier for Ring {
    fn verify(
        &self,
        alg: Algorithm,
        key: &PublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        let result = match key {
            PublicKey::Ec(k) => {
                let params: &dyn rs::VerificationAlgorithm = match (alg, k.curve()) {
                    (Algorithm::Es256, Curve::P256) => &rs::ECDSA_P256_SHA256_FIXED,
                    (Algorithm::Es384, Curve::P384) => &rs::ECDSA_P384_SHA384_FIXED,
                    _ => return Err(JwsError::SignatureInvalid.into()),
                };
                rs::UnparsedPublicKey::new(params, k.sec1_uncompressed()).verify(message, signature)
            }
            PublicKey::Rsa(k) => {
                let params = match alg {
                    Algorithm::Rs256 => &rs::RSA_PKCS1_2048_8192_SHA256,
                    Algorithm::Rs384 => &rs::RSA_PKCS1_2048_8192_SHA384,
                    Algorithm::Rs512 => &rs::RSA_PKCS1_2048_8192_SHA512,
                    Algorithm::Ps256 => &rs::RSA_PSS_2048_8192_SHA256,
                    Algorithm::Ps384 => &rs::RSA_PSS_2048_8192_SHA384,
                    Algorithm::Es256 | Algorithm::Es384 => {
                        return Err(JwsError::SignatureInvalid.into());
                    }
                };
                rs::RsaPublicKeyComponents { n: k.n(), e: k.e() }.verify(params, message, signature)
            }
        };
        result.map_err(|_| JwsError::SignatureInvalid.into())
    }
}

enum KeyPair {
    Ecdsa(rs::EcdsaKeyPair),
    Rsa(rs::RsaKeyPair),
}

/// A `ring` signer: ES256/ES384 over an ECDSA key, RS256/RS384/RS512/PS256/PS384 over
/// an RSA key, loaded from PKCS#8 DER.
pub struct RingSigner {
    alg: Algorithm,
    pair: KeyPair,
    public: PublicKey,
    rng: SystemRandom,
}

impl core::fmt::Debug for RingSigner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "RingSigner({}, {:?})", self.alg, self.public)
    }
}

impl RingSigner {
    /// Loads a PKCS#8 (DER) private key for `alg`.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` when the key does not parse or does not fit `alg`.
    pub fn from_pkcs8(alg: Algorithm, der: &[u8]) -> Result<Self, Error> {
        let rng = SystemRandom::new();
        let bad =
            || Error::InvalidArgument("PKCS#8 key does not parse or does not fit the algorithm");
        let (pair, public) = match alg.curve() {
            Some(curve) => {
                let params = match curve {
                    Curve::P256 => &rs::ECDSA_P256_SHA256_FIXED_SIGNING,
                    Curve::P384 => &rs::ECDSA_P384_SHA384_FIXED_SIGNING,
                };
                let pair = rs::EcdsaKeyPair::from_pkcs8(params, der, &rng).map_err(|_| bad())?;
                let point = pair.public_key().as_ref();
                let n = curve.coordinate_len();
                let x = point.get(1..1 + n).ok_or_else(bad)?;
                let y = point.get(1 + n..).ok_or_else(bad)?;
                let key = EcKey::from_coordinates(curve, x, y).map_err(|_| bad())?;
                (KeyPair::Ecdsa(pair), PublicKey::Ec(key))
            }
            None => {
                let pair = rs::RsaKeyPair::from_pkcs8(der).map_err(|_| bad())?;
                let comps: rs::RsaPublicKeyComponents<Vec<u8>> = pair.public().into();
                let key =
                    RsaKey::from_components(strip(&comps.n), strip(&comps.e)).map_err(|_| bad())?;
                (KeyPair::Rsa(pair), PublicKey::Rsa(key))
            }
        };
        Ok(Self {
            alg,
            pair,
            public,
            rng,
        })
    }

    /// A fresh ECDSA key for ES256 or ES384, and its PKCS#8 DER (to save and reload).
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` for an RSA algorithm (ring cannot generate RSA keys);
    /// `ERR_SIGNING_FAILED` when the system RNG fails.
    pub fn generate_ecdsa(alg: Algorithm) -> Result<(Self, Vec<u8>), Error> {
        let params = match alg {
            Algorithm::Es256 => &rs::ECDSA_P256_SHA256_FIXED_SIGNING,
            Algorithm::Es384 => &rs::ECDSA_P384_SHA384_FIXED_SIGNING,
            _ => return Err(Error::InvalidArgument("ring generates ECDSA keys only")),
        };
        let der = rs::EcdsaKeyPair::generate_pkcs8(params, &SystemRandom::new())
            .map_err(|_| Error::SigningFailed)?;
        let der = der.as_ref().to_vec();
        Ok((Self::from_pkcs8(alg, &der)?, der))
    }
}

fn strip(bytes: &[u8]) -> &[u8] {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    bytes.get(zeros..).unwrap_or_default()
}

impl Signer for RingSigner {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }

    fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        match &self.pair {
            KeyPair::Ecdsa(pair) => pair
                .sign(&self.rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| Error::SigningFailed),
            KeyPair::Rsa(pair) => {
                let padding: &dyn rs::RsaEncoding = match self.alg {
                    Algorithm::Rs256 => &rs::RSA_PKCS1_SHA256,
                    Algorithm::Rs384 => &rs::RSA_PKCS1_SHA384,
                    Algorithm::Rs512 => &rs::RSA_PKCS1_SHA512,
                    Algorithm::Ps256 => &rs::RSA_PSS_SHA256,
                    Algorithm::Ps384 => &rs::RSA_PSS_SHA384,
                    Algorithm::Es256 | Algorithm::Es384 => return Err(Error::SigningFailed),
                };
                let mut sig = alloc::vec![0u8; pair.public().modulus_len()];
                pair.sign(padding, &self.rng, message, &mut sig)
                    .map_err(|_| Error::SigningFailed)?;
                Ok(sig)
            }
        }
    }
}
