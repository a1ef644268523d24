//! The SMART scope side of the guard: [`Guard::authorize`] and the 403 answer.

use alloc::string::String;

use super::authorization::Scheme;
use super::challenge::sanitize;
use super::{Authorized, Guard, GuardError, Rejection, Target};
use crate::error::Error;
use crate::scope::{self, Grant};

impl Guard {
    /// The SMART scope check ([`crate::scope`], "Scopes and Launch Context"): whether
    /// the token's scopes grant `request`, and the constraint the server must then
    /// apply ([`Grant`]: a patient compartment and/or query parameters). A grant that
    /// holds only through `patient/` scopes needs a patient in context, so it is refused
    /// when the token has no `patient` claim. [`Guard::check`] and [`Pending::finish`](super::Pending::finish)
    /// call this for a request made with [`Request::fhir`](super::Request::fhir); a FHIR server calls it again
    /// to get the constraint of each resource type it serves (an `_include`, say).
    ///
    /// # Errors
    /// A 403 `insufficient_scope` [`Rejection`] whose challenge names a scope that
    /// would grant the request (`ERR_GUARD_INSUFFICIENT_SCOPE`).
    pub fn authorize<'a>(
        &self,
        authorized: &'a Authorized,
        request: &scope::Request<'_>,
    ) -> Result<Grant<'a>, Rejection> {
        match authorized.scopes.authorize(request) {
            Ok(grant) => {
                let needs_patient = !grant.is_unrestricted()
                    && grant
                        .constraints()
                        .iter()
                        .all(|c| c.patient_compartment().is_some());
                if needs_patient && authorized.patient.is_none() {
                    return Err(self.insufficient_scope(authorized, None));
                }
                Ok(grant)
            }
            Err(denied) => {
                let needed = denied.required_scopes();
                // RFC 6750 `scope` lists scopes that are all required, so name one: of
                // the context the token is in when there is a choice.
                let prefix = if authorized.patient.is_some() {
                    "patient/"
                } else {
                    "user/"
                };
                let pick = needed
                    .iter()
                    .find(|s| s.starts_with(prefix))
                    .or(needed.first());
                Err(self.insufficient_scope(authorized, pick.map(String::as_str)))
            }
        }
    }

    /// The 403 answer for an authorized request whose token lacks the scope needed
    /// (RFC 6750 section 3.1 `insufficient_scope`), in the scheme the request used,
    /// with `scope="..."` when `scope` is given.
    pub fn insufficient_scope(&self, authorized: &Authorized, scope: Option<&str>) -> Rejection {
        let scheme = if authorized.jkt.is_some() {
            Scheme::Dpop
        } else {
            Scheme::Bearer
        };
        let error = Error::from(GuardError::InsufficientScope);
        let description = sanitize(&alloc::format!("{error}"));
        let scope = scope.map(sanitize);
        Rejection {
            status: 403,
            error: Some("insufficient_scope"),
            www_authenticate: self.challenges(
                Target::One(scheme),
                Some("insufficient_scope"),
                &description,
                scope.as_deref(),
            ),
            description,
            dpop_nonce: None,
            code: error.code(),
        }
    }
}
