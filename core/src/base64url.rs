//! Strict, unpadded base64url ([RFC 4648 section 5], as JOSE uses it: [RFC 7515 section 2]).
//!
//! Decoding refuses padding (`=`), whitespace, the standard alphabet's `+` and `/`, and
//! non-canonical encodings (a final character whose unused low bits are not zero), so
//! every byte string has exactly one accepted encoding. The work is done by `base64ct`
//! (RustCrypto), which is constant-time with respect to the data.
//!
//! [RFC 4648 section 5]: https://www.rfc-editor.org/rfc/rfc4648#section-5
//! [RFC 7515 section 2]: https://www.rfc-editor.org/rfc/rfc7515#section-2

use alloc::string::String;
use alloc::vec::Vec;

use base64ct::{Base64UrlUnpadded, Encoding};

use crate::error::Base64Error;

/// Encodes `data` as unpadded base64url.
pub fn encode(data: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(data)
}

/// Decodes strict unpadded base64url.
///
/// # Errors
/// [`Base64Error`] (`ERR_BASE64_INVALID`) for padding, whitespace, characters outside
/// the URL-safe alphabet, an impossible length (4n+1), or non-zero trailing bits.
pub fn decode(input: &[u8]) -> Result<Vec<u8>, Base64Error> {
    Base64UrlUnpadded::decode_vec(core::str::from_utf8(input).map_err(|_| Base64Error)?)
        .map_err(|_| Base64Error)
}

/// Decodes into `out`, which must be exactly the decoded length.
///
/// # Errors
/// As [`decode`], and when the decoded length differs from `out.len()`.
pub fn decode_exact(input: &[u8], out: &mut [u8]) -> Result<(), Base64Error> {
    if decoded_len(input.len()) != Some(out.len()) {
        return Err(Base64Error);
    }
    let decoded = Base64UrlUnpadded::decode(input, out).map_err(|_| Base64Error)?;
    if decoded.len() == out.len() {
        Ok(())
    } else {
        Err(Base64Error)
    }
}

/// The decoded length of `encoded_len` unpadded characters, or `None` for the
/// impossible length 4n+1.
pub fn decoded_len(encoded_len: usize) -> Option<usize> {
    match encoded_len % 4 {
        1 => None,
        rem => Some(encoded_len / 4 * 3 + rem.saturating_sub(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4648 section 10 test vectors, in the URL-safe alphabet without padding.
    #[test]
    fn rfc4648_section_10() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), enc);
            assert_eq!(decode(enc.as_bytes()).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn url_alphabet() {
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(decode(b"-_8").unwrap(), [0xfb, 0xff]);
    }

    #[test]
    fn refuses_non_strict_input() {
        for bad in [
            &b"Zg=="[..], // padding
            b"Zm9v Yg",   // whitespace
            b"Zm9v\nYg",  // newline
            b"+/8",       // standard alphabet
            b"Zh",        // non-zero trailing bits (canonical: Zg)
            b"Zm9",       // non-zero trailing bits (canonical: Zm8)
            b"Z",         // impossible length
            b"Zm9vY",     // impossible length
            b"\xff\xfe",  // not UTF-8
            b"Zm9v.Yg",   // JWS separator
        ] {
            assert_eq!(decode(bad), Err(Base64Error), "{bad:?}");
            assert_eq!(Base64Error.code(), "ERR_BASE64_INVALID");
        }
    }

    #[test]
    fn decode_exact_checks_length() {
        let mut out = [0u8; 3];
        decode_exact(b"Zm9v", &mut out).unwrap();
        assert_eq!(&out, b"foo");
        let mut short = [0u8; 2];
        assert_eq!(decode_exact(b"Zm9v", &mut short), Err(Base64Error));
    }

    proptest::proptest! {
        #[test]
        fn round_trip(data in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let enc = encode(&data);
            proptest::prop_assert_eq!(decoded_len(enc.len()), Some(data.len()));
            proptest::prop_assert_eq!(decode(enc.as_bytes()).unwrap(), data);
        }
    }
}
