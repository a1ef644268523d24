//! # smartgate-core
//!
//! The protocol logic of SMART on FHIR in one `no_std` + `alloc` crate: PKCE
//! ([RFC 7636]), JWS/JWT verification, JWK and JWK Sets with [RFC 7638] thumbprints,
//! DPoP ([RFC 9449]) and SMART scopes. No clock, no I/O, no global state: the caller
//! passes `now`, randomness and (for DPoP) a replay cache.
//!
//! [RFC 7636]: https://www.rfc-editor.org/rfc/rfc7636
//! [RFC 7638]: https://www.rfc-editor.org/rfc/rfc7638
//! [RFC 9449]: https://www.rfc-editor.org/rfc/rfc9449
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod base64url;
pub mod dpop;
pub mod error;
pub mod guard;
pub mod jwk;
pub mod jws;
pub mod jwt;
pub mod pkce;
pub mod provider;
pub mod sign;

pub use error::Error;
