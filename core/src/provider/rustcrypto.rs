//! The pure-Rust provider: `p256`, `p384` (feature `p384`) and `rsa` (feature `rsa`),
//! all RustCrypto, all `no_std`. Works on every target, deterministic.

use alloc::vec::Vec;

use p256::ecdsa::signature::Verifier as _;
use p256::elliptic_curve::Generate as _;
use rand_core::CryptoRng;

use crate::error::Error;
use crate::jwk::{EcInner, EcKey, PublicKey};
use crate::jws::{Algorithm, JwsError};
use crate::provider::{Signer, Verifier};

/// The pure-Rust [`Verifier`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RustCrypto;

impl Verifier for RustCrypto {
    fn verify(
        &self,
        alg: Algorithm,
        key: &PublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        let bad = || Error::Jws(JwsError::SignatureInvalid);
        match (alg, key) {
            (Algorithm::Es256, PublicKey::Ec(k)) => match k.inner() {
                EcInner::P256(vk) => {
                    let sig = p256::ecdsa::Signature::from_slice(signature).map_err(|_| bad())?;
                    vk.verify(message, &sig).map_err(|_| bad())
                }
                #[cfg(feature = "p384")]
                EcInner::P384(_) => Err(bad()),
            },
            #[cfg(feature = "p384")]
            (Algorithm::Es384, PublicKey::Ec(k)) => match k.inner() {
                EcInner::P384(vk) => {
                    let sig = p384::ecdsa::Signature::from_slice(signature).map_err(|_| bad())?;
                    vk.verify(message, &sig).map_err(|_| bad())
                }
                EcInner::P256(_) => Err(bad()),
            },
            #[cfg(feature = "rsa")]
            (alg, PublicKey::Rsa(k)) if alg.is_rsa() => {
                rsa_verify(alg, k.inner(), message, signature)
            }
            (alg, _) if alg.curve().is_some() || cfg!(feature = "rsa") => Err(bad()),
            _ => Err(JwsError::AlgUnsupported.into()),
        }
    }
}

#[cfg(feature = "rsa")]
fn rsa_verify(
    alg: Algorithm,
    key: &rsa::RsaPublicKey,
    message: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    use rsa::{Pkcs1v15Sign, Pss};
    use sha2::{Digest, Sha256, Sha384, Sha512};
    let result = match alg {
        Algorithm::Rs256 => key.verify(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(message),
            signature,
        ),
        Algorithm::Rs384 => key.verify(
            Pkcs1v15Sign::new::<Sha384>(),
            &Sha384::digest(message),
            signature,
        ),
        Algorithm::Rs512 => key.verify(
            Pkcs1v15Sign::new::<Sha512>(),
            &Sha512::digest(message),
            signature,
        ),
        // RFC 7518 section 3.5: MGF1 with the same hash, salt as long as the hash.
        Algorithm::Ps256 => key.verify(Pss::<Sha256>::new(), &Sha256::digest(message), signature),
        Algorithm::Ps384 => key.verify(Pss::<Sha384>::new(), &Sha384::digest(message), signature),
        Algorithm::Es256 | Algorithm::Es384 => return Err(JwsError::SignatureInvalid.into()),
    };
    result.map_err(|_| JwsError::SignatureInvalid.into())
}

/// An ES256 signer over a P-256 private key, pure Rust (RFC 6979 deterministic nonces).
#[derive(Clone)]
pub struct EcdsaP256Signer {
    key: p256::ecdsa::SigningKey,
}

impl EcdsaP256Signer {
    /// A fresh key from `rng`.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self {
            key: p256::ecdsa::SigningKey::generate_from_rng(rng),
        }
    }

    /// A key from its 32-byte big-endian secret scalar.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` when the bytes are not a valid non-zero scalar.
    pub fn from_bytes(secret: &[u8]) -> Result<Self, Error> {
        let key = p256::ecdsa::SigningKey::from_slice(secret)
            .map_err(|_| Error::InvalidArgument("not a P-256 secret scalar"))?;
        Ok(Self { key })
    }
}

impl core::fmt::Debug for EcdsaP256Signer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("EcdsaP256Signer(..)")
    }
}

impl Signer for EcdsaP256Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::Es256
    }

    fn public_key(&self) -> PublicKey {
        PublicKey::Ec(EcKey::from_p256(self.key.verifying_key()))
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        use p256::ecdsa::signature::Signer as _;
        let sig: p256::ecdsa::Signature = self.key.sign(message);
        Ok(sig.to_bytes().to_vec())
    }
}

/// An ES384 signer over a P-384 private key, pure Rust (RFC 6979 deterministic nonces).
#[cfg(feature = "p384")]
#[derive(Clone)]
pub struct EcdsaP384Signer {
    key: p384::ecdsa::SigningKey,
}

#[cfg(feature = "p384")]
impl EcdsaP384Signer {
    /// A fresh key from `rng`.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self {
            key: p384::ecdsa::SigningKey::generate_from_rng(rng),
        }
    }

    /// A key from its 48-byte big-endian secret scalar.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` when the bytes are not a valid non-zero scalar.
    pub fn from_bytes(secret: &[u8]) -> Result<Self, Error> {
        let key = p384::ecdsa::SigningKey::from_slice(secret)
            .map_err(|_| Error::InvalidArgument("not a P-384 secret scalar"))?;
        Ok(Self { key })
    }
}

#[cfg(feature = "p384")]
impl core::fmt::Debug for EcdsaP384Signer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("EcdsaP384Signer(..)")
    }
}

#[cfg(feature = "p384")]
impl Signer for EcdsaP384Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::Es384
    }

    fn public_key(&self) -> PublicKey {
        PublicKey::Ec(EcKey::from_p384(self.key.verifying_key()))
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        use p384::ecdsa::signature::Signer as _;
        let sig: p384::ecdsa::Signature = self.key.sign(message);
        Ok(sig.to_bytes().to_vec())
    }
}
