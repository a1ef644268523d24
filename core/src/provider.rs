//! Signature math behind two small traits, as rustls does with its `CryptoProvider`.
//!
//! The core parses, selects the key, builds the exact bytes and checks their shape;
//! a [`Verifier`] only answers whether a signature verifies, and a [`Signer`] only
//! signs. Providers:
//! - [`rustcrypto`] (always present, `no_std`): pure Rust (`p256`, `p384`, `rsa`);
//! - `ring` (feature `ring`, native targets): for servers where native speed matters;
//! - WebCrypto, in the WASM package: asynchronous, so it calls the steps of
//!   [`crate::jws`] itself instead of implementing [`Verifier`].

use alloc::vec::Vec;

use crate::error::Error;
use crate::jwk::PublicKey;
use crate::jws::Algorithm;

pub mod rustcrypto;

#[cfg(feature = "ring")]
pub mod ring;

/// Checks signatures.
pub trait Verifier {
    /// Whether `signature` is a valid `alg` signature of `message` under `key`.
    ///
    /// Called only after the core has checked that `key` fits `alg` and that the
    /// signature has the right shape ([`crate::jws::check_signature_shape`]).
    ///
    /// # Errors
    /// `ERR_JWS_SIGNATURE_INVALID` when it does not verify; `ERR_JWS_ALG_UNSUPPORTED`
    /// when this provider was built without the algorithm.
    fn verify(
        &self,
        alg: Algorithm,
        key: &PublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), Error>;
}

/// Makes signatures with one private key.
pub trait Signer {
    /// The algorithm this signer uses.
    fn algorithm(&self) -> Algorithm;

    /// The public half of the key.
    fn public_key(&self) -> PublicKey;

    /// The JWS signature of `message` (for ECDSA the fixed-size `r || s`, RFC 7518
    /// section 3.4).
    ///
    /// # Errors
    /// `ERR_SIGNING_FAILED` when the provider fails (for example, no randomness).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error>;
}

impl<T: Verifier + ?Sized> Verifier for &T {
    fn verify(
        &self,
        alg: Algorithm,
        key: &PublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        (**self).verify(alg, key, message, signature)
    }
}
