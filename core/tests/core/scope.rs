//! Tests of the `scope` module: the decision table, every refusal with its code, the
//! limits, narrowing, and property tests. Modules under `scope/`.

mod errors;
mod narrow;
mod parse;
mod props;
mod table;

use smartgate_core::scope::{Denied, Enforcement, Grant};

/// A decision as one line of text, so that table rows read like the specification:
/// `deny` followed by the scopes that would grant what is missing; `allow` for an
/// unrestricted grant; otherwise `filter` or `check` and the alternatives, each
/// `compartment(params)` and/or `query(name=value&...)`, joined by ` | `.
pub fn describe(decision: &Result<Grant<'_>, Denied>) -> String {
    match decision {
        Err(denied) => {
            let scopes = denied.required_scopes();
            if scopes.is_empty() {
                "deny".into()
            } else {
                format!("deny {}", scopes.join(" "))
            }
        }
        Ok(grant) if grant.is_unrestricted() => "allow".into(),
        Ok(grant) => {
            let how = match grant.enforcement() {
                Enforcement::Filter => "filter",
                Enforcement::Check => "check",
            };
            let alternatives: Vec<String> = grant
                .constraints()
                .iter()
                .map(|c| {
                    let mut parts = Vec::new();
                    if let Some(pc) = c.patient_compartment() {
                        let mut params: Vec<&str> = Vec::new();
                        if pc.by_id() {
                            params.push("_id");
                        }
                        params.extend_from_slice(pc.params());
                        parts.push(format!("compartment({})", params.join(",")));
                    }
                    if !c.query().is_empty() {
                        let q: Vec<String> =
                            c.query().iter().map(|(n, v)| format!("{n}={v}")).collect();
                        parts.push(format!("query({})", q.join("&")));
                    }
                    parts.join("+")
                })
                .collect();
            format!("{how} {}", alternatives.join(" | "))
        }
    }
}
