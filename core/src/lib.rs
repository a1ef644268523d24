#![doc = include_str!("../README.md")]
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod authz_response;
pub mod base64url;
pub mod dpop;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod guard;
pub mod jwk;
pub mod jws;
pub mod jwt;
pub mod pkce;
pub mod provider;
pub mod scope;
pub mod sign;

pub use error::Error;
