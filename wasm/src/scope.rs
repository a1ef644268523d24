//! `ScopeSet`: SMART scopes v1/v2 and the authorization of FHIR requests against them.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value, json};
use smartgate_core::scope::{
    Context, Enforcement, Grant, Interaction, Request, ResourceType, ScopeSet,
};
use wasm_bindgen::prelude::*;

use crate::args::Options;
use crate::error::{BindError, Result};

/// Most search parameters a request may carry to `permits`/`authorize`.
const MAX_PARAMS: usize = 256;

/// A parsed scope set.
#[wasm_bindgen]
pub struct WasmScopeSet {
    pub(crate) set: ScopeSet,
}

#[wasm_bindgen]
impl WasmScopeSet {
    /// Parses a space-separated scope string strictly (any malformed scope refuses it).
    ///
    /// # Errors
    /// The `ERR_SCOPE_*` codes of `smartgate_core::scope`.
    pub fn parse(scopes: &str) -> core::result::Result<WasmScopeSet, JsValue> {
        Ok(Self {
            set: ScopeSet::parse(scopes).map_err(BindError::from)?,
        })
    }

    /// Parses a scope string leniently (as a server reads a token or a request):
    /// malformed scopes are dropped. Returns the set; `dropped()` lists what was
    /// dropped.
    ///
    /// # Errors
    /// `ERR_SCOPE_TOO_LONG`, `ERR_SCOPE_TOO_MANY` for the whole string.
    #[wasm_bindgen(js_name = parseLenient)]
    pub fn parse_lenient(scopes: &str) -> core::result::Result<LenientScopes, JsValue> {
        let parsed = ScopeSet::parse_lenient(scopes).map_err(BindError::from)?;
        let dropped: Vec<Value> = parsed
            .dropped
            .iter()
            .map(|d| json!({ "scope": d.scope, "code": d.error.code(), "message": d.error.to_string() }))
            .collect();
        Ok(LenientScopes {
            set: Some(Self { set: parsed.scopes }),
            dropped: Value::Array(dropped).to_string(),
        })
    }

    /// Whether the request (JSON of `{resourceType, interaction, context?, params?}`)
    /// is permitted.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT`, `ERR_SCOPE_RESOURCE_UNKNOWN`,
    /// `ERR_SCOPE_INTERACTION_UNKNOWN`, `ERR_SCOPE_CONTEXT_UNKNOWN`.
    pub fn permits(&self, request: &str) -> core::result::Result<bool, JsValue> {
        let r = ParsedRequest::from_json(request)?;
        let params = r.param_refs();
        Ok(self.set.permits(&r.request(&params)))
    }

    /// The authorization decision for the request as JSON: `{"ok":true,"unrestricted",
    /// "enforcement","constraints"}` or `{"ok":false,"missing","requiredScopes",
    /// "outsidePatientCompartment","message"}`.
    ///
    /// # Errors
    /// As [`WasmScopeSet::permits`].
    pub fn authorize(&self, request: &str) -> core::result::Result<String, JsValue> {
        Ok(authorize(&self.set, request)?)
    }

    /// The scopes, in order, as a JSON array of strings.
    pub fn scopes(&self) -> String {
        Value::Array(self.set.iter().map(|s| s.to_string().into()).collect()).to_string()
    }

    /// The scope string (v1 scopes keep their spelling).
    #[wasm_bindgen(js_name = toString)]
    pub fn to_string_js(&self) -> String {
        self.set.to_string()
    }

    /// The scope string with every clinical scope in v2 syntax.
    #[wasm_bindgen(js_name = toV2)]
    pub fn to_v2(&self) -> String {
        self.set.to_v2()
    }
}

/// The result of `parseLenient`.
#[wasm_bindgen]
pub struct LenientScopes {
    set: Option<WasmScopeSet>,
    dropped: String,
}

#[wasm_bindgen]
impl LenientScopes {
    /// The set (once; later calls return `undefined`).
    #[wasm_bindgen(js_name = takeSet)]
    pub fn take_set(&mut self) -> Option<WasmScopeSet> {
        self.set.take()
    }

    /// `[{scope, code, message}]` as JSON.
    pub fn dropped(&self) -> String {
        self.dropped.clone()
    }
}

/// A request as `permits`/`authorize` take it.
pub(crate) struct ParsedRequest {
    resource_type: ResourceType,
    interaction: Interaction,
    context: Option<Context>,
    params: Vec<(String, String)>,
}

impl ParsedRequest {
    pub(crate) fn from_json(json: &str) -> Result<Self> {
        let o = Options::parse(
            "request",
            Some(json),
            &["resourceType", "interaction", "context", "params"],
        )?;
        let resource_type = ResourceType::parse(o.required_string("resourceType")?)?;
        let interaction = Interaction::parse(o.required_string("interaction")?)?;
        let context = o.string("context")?.map(Context::parse).transpose()?;
        let params = match o.raw("params") {
            None => Vec::new(),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    o.wrong(
                        "params",
                        "an object of strings or an array of [name, value] strings",
                    )
                })?,
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item.as_array().map(Vec::as_slice) {
                    Some([Value::String(k), Value::String(v)]) => Some((k.clone(), v.clone())),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    o.wrong(
                        "params",
                        "an object of strings or an array of [name, value] strings",
                    )
                })?,
            Some(_) => {
                return Err(o.wrong(
                    "params",
                    "an object of strings or an array of [name, value] strings",
                ));
            }
        };
        if params.len() > MAX_PARAMS {
            return Err(o.wrong("params", "at most 256 parameters"));
        }
        Ok(Self {
            resource_type,
            interaction,
            context,
            params,
        })
    }

    pub(crate) fn param_refs(&self) -> Vec<(&str, &str)> {
        self.params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    pub(crate) fn request<'a>(&self, params: &'a [(&'a str, &'a str)]) -> Request<'a> {
        let r = Request::new(self.resource_type, self.interaction).with_params(params);
        match self.context {
            Some(c) => r.in_context(c),
            None => r,
        }
    }
}

fn authorize(set: &ScopeSet, request: &str) -> Result<String> {
    let r = ParsedRequest::from_json(request)?;
    let params = r.param_refs();
    Ok(match set.authorize(&r.request(&params)) {
        Ok(grant) => grant_json(&grant),
        Err(denied) => json!({
            "ok": false,
            "missing": denied.missing().to_string(),
            "requiredScopes": denied.required_scopes(),
            "outsidePatientCompartment": denied.outside_patient_compartment(),
            "message": denied.to_string(),
        }),
    }
    .to_string())
}

fn grant_json(grant: &Grant<'_>) -> Value {
    let constraints: Vec<Value> = grant
        .constraints()
        .iter()
        .map(|c| {
            let mut m = Map::new();
            m.insert(
                "patientCompartment".into(),
                c.patient_compartment().map_or(Value::Null, |p| {
                    json!({
                        "resourceType": p.resource_type().name(),
                        "params": p.params(),
                        "byId": p.by_id(),
                    })
                }),
            );
            m.insert(
                "query".into(),
                Value::Array(c.query().iter().map(|(n, v)| json!([n, v])).collect()),
            );
            Value::Object(m)
        })
        .collect();
    json!({
        "ok": true,
        "unrestricted": grant.is_unrestricted(),
        "enforcement": match grant.enforcement() {
            Enforcement::Filter => "filter",
            Enforcement::Check => "check",
        },
        "constraints": constraints,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(s: &str) -> ScopeSet {
        ScopeSet::parse(s).unwrap()
    }

    #[test]
    fn authorize_returns_the_constraint() {
        let s = set("patient/Observation.rs?category=laboratory");
        let out: Value = serde_json::from_str(
            &authorize(
                &s,
                r#"{"resourceType":"Observation","interaction":"search","context":"patient","params":{"code":"x"}}"#,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(out["ok"], true);
        assert_eq!(out["unrestricted"], false);
        assert_eq!(out["enforcement"], "filter");
        assert_eq!(out["constraints"][0]["query"][0][0], "category");
        assert_eq!(
            out["constraints"][0]["patientCompartment"]["resourceType"],
            "Observation"
        );
    }

    #[test]
    fn a_satisfied_query_parameter_is_not_asked_for_again() {
        let s = set("user/Observation.rs?category=laboratory");
        let out: Value = serde_json::from_str(
            &authorize(
                &s,
                r#"{"resourceType":"Observation","interaction":"search","params":[["category","laboratory"]]}"#,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(out["unrestricted"], true);
        assert_eq!(out["constraints"], json!([]));
    }

    #[test]
    fn denied_names_the_missing_scope() {
        let s = set("patient/Observation.rs");
        let out: Value = serde_json::from_str(
            &authorize(
                &s,
                r#"{"resourceType":"Observation","interaction":"create","context":"patient"}"#,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(out["ok"], false);
        assert_eq!(out["missing"], "c");
        assert_eq!(out["requiredScopes"], json!(["patient/Observation.c"]));
    }

    #[test]
    fn request_fields_have_their_own_codes() {
        let s = set("user/*.rs");
        for (json, code) in [
            (
                r#"{"resourceType":"Nope","interaction":"read"}"#,
                "ERR_SCOPE_RESOURCE_UNKNOWN",
            ),
            (
                r#"{"resourceType":"Patient","interaction":"nope"}"#,
                "ERR_SCOPE_INTERACTION_UNKNOWN",
            ),
            (
                r#"{"resourceType":"Patient","interaction":"read","context":"nope"}"#,
                "ERR_SCOPE_CONTEXT_UNKNOWN",
            ),
            (r#"{"interaction":"read"}"#, "ERR_INVALID_ARGUMENT"),
            (
                r#"{"resourceType":"Patient","interaction":"read","params":{"a":1}}"#,
                "ERR_INVALID_ARGUMENT",
            ),
            (
                r#"{"resourceType":"Patient","interaction":"read","params":[["a"]]}"#,
                "ERR_INVALID_ARGUMENT",
            ),
            (
                r#"{"resourceType":"Patient","interaction":"read","extra":1}"#,
                "ERR_INVALID_ARGUMENT",
            ),
        ] {
            assert_eq!(authorize(&s, json).unwrap_err().code, code, "{json}");
        }
    }
}
