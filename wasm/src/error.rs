//! Errors as they cross into JavaScript.
//!
//! Every failure leaves Rust as a JS string `"<CODE> <message>"`; the JS glue turns it
//! into a `SmartgateError` (`name` = `"SmartgateError"`, `.code` = `<CODE>`). The code
//! is the core's [`Error::code`] unchanged, or one of the package's own codes
//! ([`INVALID_ARGUMENT`] for JS values of the wrong type or range).

use alloc::format;
use alloc::string::String;

use smartgate_core::Error;
use wasm_bindgen::JsValue;

/// A JS argument of the wrong type or out of range (the same code as the core's
/// `Error::InvalidArgument`).
pub const INVALID_ARGUMENT: &str = "ERR_INVALID_ARGUMENT";

/// A failure on its way to JavaScript: a stable code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindError {
    /// The stable code (`ERR_...`).
    pub code: &'static str,
    /// The message (may change; codes do not).
    pub message: String,
}

impl BindError {
    /// `ERR_INVALID_ARGUMENT` with this message.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            code: INVALID_ARGUMENT,
            message: message.into(),
        }
    }
}

impl From<Error> for BindError {
    fn from(e: Error) -> Self {
        Self {
            code: e.code(),
            message: format!("{e}"),
        }
    }
}

impl From<BindError> for JsValue {
    fn from(e: BindError) -> Self {
        JsValue::from_str(&format!("{} {}", e.code, e.message))
    }
}

/// The result type of every fallible binding.
pub type Result<T> = core::result::Result<T, BindError>;
