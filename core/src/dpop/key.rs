//! Making DPoP proofs ([RFC 9449 section 4.2]) with a P-256 key.
//!
//! [RFC 9449 section 4.2]: https://www.rfc-editor.org/rfc/rfc9449#section-4.2

use alloc::string::String;

use rand_core::CryptoRng;
use serde_json::{Map, Value};

use crate::base64url;
use crate::dpop::{DPOP_TYP, access_token_hash, htu};
use crate::error::Error;
use crate::provider::Signer;
use crate::provider::rustcrypto::EcdsaP256Signer;
use crate::sign::sign_compact;

/// A client's DPoP key: ES256 over P-256, signed by the pure-Rust provider.
#[derive(Clone)]
pub struct DpopKey {
    signer: EcdsaP256Signer,
    jwk: Map<String, Value>,
    jkt: String,
}

impl core::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "DpopKey({})", self.jkt)
    }
}

impl DpopKey {
    /// A fresh key from `rng`.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::from_signer(EcdsaP256Signer::generate(rng))
    }

    /// A key from its 32-byte big-endian secret scalar.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` when the bytes are not 32 bytes of a valid non-zero P-256
    /// scalar.
    pub fn from_bytes(secret: &[u8]) -> Result<Self, Error> {
        if secret.len() != 32 {
            return Err(Error::InvalidArgument("a P-256 secret scalar is 32 bytes"));
        }
        EcdsaP256Signer::from_bytes(secret).map(Self::from_signer)
    }

    fn from_signer(signer: EcdsaP256Signer) -> Self {
        let public = signer.public_key();
        Self {
            jwk: public.to_jwk_members(),
            jkt: public.thumbprint(),
            signer,
        }
    }

    /// The public JWK (`kty`, `crv`, `x`, `y`) that every proof carries in its header.
    pub fn public_jwk(&self) -> &Map<String, Value> {
        &self.jwk
    }

    /// The RFC 7638 thumbprint of the public key: the `jkt` a bound token carries.
    pub fn thumbprint(&self) -> &str {
        &self.jkt
    }

    /// A proof for one request, with a fresh 128-bit random `jti` and `iat` = `now`.
    /// `htu` is `url` without its query and fragment; `ath` is added when
    /// `access_token` is given, `nonce` when `nonce` is.
    ///
    /// # Errors
    /// As [`DpopKey::proof_with_jti`].
    #[allow(clippy::too_many_arguments)]
    pub fn proof<R: CryptoRng + ?Sized>(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        nonce: Option<&str>,
        now: i64,
        rng: &mut R,
    ) -> Result<String, Error> {
        let mut jti = [0u8; 16];
        rng.fill_bytes(&mut jti);
        self.proof_with_jti(
            method,
            url,
            access_token,
            nonce,
            now,
            &base64url::encode(&jti),
        )
    }

    /// A proof with a caller-chosen `jti` (which must be unique: RFC 9449 asks for at
    /// least 96 random bits).
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` when `method` is not an HTTP method token (RFC 9110
    /// section 9.1) or `jti` is empty or longer than
    /// [`MAX_JTI_LEN`](crate::dpop::MAX_JTI_LEN); `ERR_DPOP_HTU_INVALID` when `url` is
    /// not an absolute `http(s)` URL (a proof that no server would accept is not
    /// made); `ERR_SIGNING_FAILED`.
    pub fn proof_with_jti(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        nonce: Option<&str>,
        now: i64,
        jti: &str,
    ) -> Result<String, Error> {
        if method.is_empty() || !method.bytes().all(is_tchar) {
            return Err(Error::InvalidArgument("HTTP method is not a token"));
        }
        if jti.is_empty() || jti.len() > crate::dpop::MAX_JTI_LEN {
            return Err(Error::InvalidArgument("jti length"));
        }
        htu::normalize_htu(url)?;
        let end = url.find(['?', '#']).unwrap_or(url.len());
        let htu = url.get(..end).unwrap_or(url);

        let mut header = Map::new();
        header.insert("typ".into(), DPOP_TYP.into());
        header.insert("jwk".into(), Value::Object(self.jwk.clone()));
        let mut claims = Map::new();
        claims.insert("jti".into(), jti.into());
        claims.insert("htm".into(), method.into());
        claims.insert("htu".into(), htu.into());
        claims.insert("iat".into(), now.into());
        if let Some(token) = access_token {
            claims.insert("ath".into(), access_token_hash(token).into());
        }
        if let Some(nonce) = nonce {
            claims.insert("nonce".into(), nonce.into());
        }
        let payload = serde_json::to_vec(&claims).map_err(|_| Error::SigningFailed)?;
        sign_compact(&header, &payload, &self.signer)
    }
}

/// RFC 9110 section 5.6.2 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}
