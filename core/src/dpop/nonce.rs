//! Server-provided nonces ([RFC 9449 sections 8 and 9]).
//!
//! [RFC 9449 sections 8 and 9]: https://www.rfc-editor.org/rfc/rfc9449#section-8

use alloc::string::String;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::base64url;
use crate::error::Error;

/// Which DPoP nonces a server accepts, and which one it hands out.
///
/// With a policy, a proof without `nonce` is refused with `ERR_DPOP_NONCE_MISSING`
/// and one whose `nonce` the policy does not accept with `ERR_DPOP_NONCE_INVALID`;
/// both carry [`NoncePolicy::current`] for the `DPoP-Nonce` response header
/// (`use_dpop_nonce`).
pub trait NoncePolicy {
    /// Whether `nonce` is one this server issued and still accepts at `now`.
    fn accepts(&self, nonce: &str, now: i64) -> bool;
    /// The nonce clients should use from `now` on.
    fn current(&self, now: i64) -> String;
}

impl<T: NoncePolicy + ?Sized> NoncePolicy for &T {
    fn accepts(&self, nonce: &str, now: i64) -> bool {
        (**self).accepts(nonce, now)
    }
    fn current(&self, now: i64) -> String {
        (**self).current(now)
    }
}

/// Stateless rotating nonces: `BASE64URL(HMAC-SHA256(secret, label || period index))`.
///
/// The nonce changes every `period` seconds; the current and the previous one are
/// accepted, so a nonce is good for between one and two periods. Every server that
/// shares the secret hands out and accepts the same nonces, with no shared state, and
/// nobody without the secret can predict them (RFC 9449 section 8: "Nonce values MUST
/// be unpredictable").
#[derive(Clone)]
pub struct RotatingNonce {
    secret: [u8; 32],
    period: i64,
}

impl core::fmt::Debug for RotatingNonce {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "RotatingNonce {{ period: {} }}", self.period)
    }
}

impl RotatingNonce {
    /// Nonces from a 32-byte secret, rotating every `period` seconds.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` when `period` is 0 or above `i64::MAX`.
    pub fn new(secret: [u8; 32], period: u64) -> Result<Self, Error> {
        match i64::try_from(period) {
            Ok(period) if period > 0 => Ok(Self { secret, period }),
            _ => Err(Error::InvalidArgument(
                "nonce period must be 1..=i64::MAX seconds",
            )),
        }
    }

    fn at(&self, index: i64) -> String {
        base64url::encode(&hmac_sha256(
            &self.secret,
            &[b"smartgate DPoP nonce v1\0", &index.to_be_bytes()],
        ))
    }
}

impl NoncePolicy for RotatingNonce {
    fn accepts(&self, nonce: &str, now: i64) -> bool {
        let index = now.div_euclid(self.period);
        let current = self.at(index);
        let previous = self.at(index.saturating_sub(1));
        let a = nonce.as_bytes().ct_eq(current.as_bytes());
        let b = nonce.as_bytes().ct_eq(previous.as_bytes());
        bool::from(a | b)
    }

    fn current(&self, now: i64) -> String {
        self.at(now.div_euclid(self.period))
    }
}

/// HMAC-SHA256 ([RFC 2104]) of the concatenation of `parts`.
///
/// [RFC 2104]: https://www.rfc-editor.org/rfc/rfc2104
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > block.len() {
        block
            .get_mut(..32)
            .unwrap_or_default()
            .copy_from_slice(&Sha256::digest(key));
    } else {
        block
            .get_mut(..key.len())
            .unwrap_or_default()
            .copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    for p in parts {
        inner.update(p);
    }
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    let mut out = [0u8; 32];
    out.copy_from_slice(&outer.finalize());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 section 4: test cases 1, 2 and 6 (a key longer than the block).
    #[test]
    fn rfc4231() {
        let cases: [(&[u8], &[u8], &str); 3] = [
            (
                &[0x0b; 20],
                b"Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
        ];
        for (key, data, mac) in cases {
            assert_eq!(hex::encode(hmac_sha256(key, &[data])), mac);
            // Split input gives the same MAC.
            let (a, b) = data.split_at(3);
            assert_eq!(hex::encode(hmac_sha256(key, &[a, b])), mac);
        }
    }

    #[test]
    fn rotation() {
        let p = RotatingNonce::new([7; 32], 300).unwrap();
        let n0 = p.current(1_000);
        assert_eq!(n0.len(), 43);
        assert!(p.accepts(&n0, 1_000));
        assert!(p.accepts(&n0, 1_199)); // same period (900..1200)
        assert!(p.accepts(&n0, 1_499)); // next period: previous nonce still good
        assert!(!p.accepts(&n0, 1_500)); // two periods on: refused
        assert_ne!(p.current(1_200), n0);
        assert!(!p.accepts("", 1_000));
        assert!(
            !RotatingNonce::new([8; 32], 300)
                .unwrap()
                .accepts(&n0, 1_000)
        );
        assert!(RotatingNonce::new([7; 32], 0).is_err());
        // Extreme clocks do not overflow.
        let _ = p.current(i64::MIN);
        assert!(p.accepts(&p.current(i64::MAX), i64::MAX));
    }
}
