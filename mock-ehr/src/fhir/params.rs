//! The search parameters this server knows, per resource type, and how one parameter's
//! value is parsed and matched against a resource ([R4 search]).
//!
//! Names and paths follow the R4 SearchParameter definitions (`Observation.patient` is
//! `Observation.subject` restricted to `Patient`, `Encounter.date` is `Encounter.period`,
//! ...). Choice elements list each typed name (`effectiveDateTime`, `effectivePeriod`).
//!
//! [R4 search]: https://hl7.org/fhir/R4/search.html

use serde_json::Value;

use crate::fhir::date::{self, DateRange};
use crate::fhir::error::clip;
use crate::fhir::query::{split_unescaped, unescape};
use crate::fhir::{FhirError, parse_local_reference, valid_id};

/// The type of a search parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `[system]|[code]` against code, Coding, CodeableConcept, Identifier, boolean.
    Token,
    /// A reference, optionally restricted to one target type.
    Reference(Option<&'static str>),
    /// A date with an optional comparison prefix.
    Date,
    /// A string, matched case-insensitively from the start.
    Str,
}

/// One search parameter of one resource type.
#[derive(Debug)]
pub(crate) struct ParamDef {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    paths: &'static [&'static str],
}

const fn p(name: &'static str, kind: Kind, paths: &'static [&'static str]) -> ParamDef {
    ParamDef { name, kind, paths }
}

use Kind::{Date, Reference as Ref, Str, Token};

const COMMON: &[ParamDef] = &[
    p("_id", Token, &["id"]),
    p("_lastUpdated", Date, &["meta.lastUpdated"]),
];

const HUMAN_NAME: &[&str] = &[
    "name.family",
    "name.given",
    "name.text",
    "name.prefix",
    "name.suffix",
];

const PATIENT: &[ParamDef] = &[
    p("name", Str, HUMAN_NAME),
    p("family", Str, &["name.family"]),
    p("given", Str, &["name.given"]),
    p("birthdate", Date, &["birthDate"]),
    p("gender", Token, &["gender"]),
    p("identifier", Token, &["identifier"]),
    p("general-practitioner", Ref(None), &["generalPractitioner"]),
    p(
        "organization",
        Ref(Some("Organization")),
        &["managingOrganization"],
    ),
];

const PRACTITIONER: &[ParamDef] = &[
    p("name", Str, HUMAN_NAME),
    p("family", Str, &["name.family"]),
    p("given", Str, &["name.given"]),
    p("identifier", Token, &["identifier"]),
];

const ORGANIZATION: &[ParamDef] = &[
    p("name", Str, &["name", "alias"]),
    p("identifier", Token, &["identifier"]),
];

const GROUP: &[ParamDef] = &[
    p("member", Ref(None), &["member.entity"]),
    p("actual", Token, &["actual"]),
    p("type", Token, &["type"]),
    p("identifier", Token, &["identifier"]),
];

const OBSERVATION: &[ParamDef] = &[
    p("patient", Ref(Some("Patient")), &["subject"]),
    p("subject", Ref(None), &["subject"]),
    p("encounter", Ref(Some("Encounter")), &["encounter"]),
    p("performer", Ref(None), &["performer"]),
    p("code", Token, &["code"]),
    p("category", Token, &["category"]),
    p(
        "date",
        Date,
        &["effectiveDateTime", "effectivePeriod", "effectiveInstant"],
    ),
    p("status", Token, &["status"]),
    p("identifier", Token, &["identifier"]),
];

const ENCOUNTER: &[ParamDef] = &[
    p("patient", Ref(Some("Patient")), &["subject"]),
    p("subject", Ref(None), &["subject"]),
    p("date", Date, &["period"]),
    p("status", Token, &["status"]),
    p("class", Token, &["class"]),
    p("type", Token, &["type"]),
    p("participant", Ref(None), &["participant.individual"]),
    p(
        "practitioner",
        Ref(Some("Practitioner")),
        &["participant.individual"],
    ),
    p(
        "service-provider",
        Ref(Some("Organization")),
        &["serviceProvider"],
    ),
    p("identifier", Token, &["identifier"]),
];

const CONDITION: &[ParamDef] = &[
    p("patient", Ref(Some("Patient")), &["subject"]),
    p("subject", Ref(None), &["subject"]),
    p("encounter", Ref(Some("Encounter")), &["encounter"]),
    p("asserter", Ref(None), &["asserter"]),
    p("code", Token, &["code"]),
    p("category", Token, &["category"]),
    p("clinical-status", Token, &["clinicalStatus"]),
    p("verification-status", Token, &["verificationStatus"]),
    p("onset-date", Date, &["onsetDateTime", "onsetPeriod"]),
    p("recorded-date", Date, &["recordedDate"]),
    p("identifier", Token, &["identifier"]),
];

const MEDICATION_REQUEST: &[ParamDef] = &[
    p("patient", Ref(Some("Patient")), &["subject"]),
    p("subject", Ref(None), &["subject"]),
    p("encounter", Ref(Some("Encounter")), &["encounter"]),
    p("requester", Ref(None), &["requester"]),
    p("code", Token, &["medicationCodeableConcept"]),
    p("status", Token, &["status"]),
    p("intent", Token, &["intent"]),
    p("category", Token, &["category"]),
    p("authoredon", Date, &["authoredOn"]),
    p("identifier", Token, &["identifier"]),
];

const ALLERGY_INTOLERANCE: &[ParamDef] = &[
    p("patient", Ref(Some("Patient")), &["patient"]),
    p("recorder", Ref(None), &["recorder"]),
    p("asserter", Ref(None), &["asserter"]),
    p("code", Token, &["code"]),
    p("clinical-status", Token, &["clinicalStatus"]),
    p("verification-status", Token, &["verificationStatus"]),
    p("category", Token, &["category"]),
    p("criticality", Token, &["criticality"]),
    p("type", Token, &["type"]),
    p("date", Date, &["recordedDate"]),
    p("identifier", Token, &["identifier"]),
];

const IMMUNIZATION: &[ParamDef] = &[
    p("patient", Ref(Some("Patient")), &["patient"]),
    p("performer", Ref(None), &["performer.actor"]),
    p("date", Date, &["occurrenceDateTime"]),
    p("status", Token, &["status"]),
    p("vaccine-code", Token, &["vaccineCode"]),
    p("identifier", Token, &["identifier"]),
];

const DIAGNOSTIC_REPORT: &[ParamDef] = &[
    p("patient", Ref(Some("Patient")), &["subject"]),
    p("subject", Ref(None), &["subject"]),
    p("encounter", Ref(Some("Encounter")), &["encounter"]),
    p("code", Token, &["code"]),
    p("category", Token, &["category"]),
    p("date", Date, &["effectiveDateTime", "effectivePeriod"]),
    p("status", Token, &["status"]),
    p("identifier", Token, &["identifier"]),
];

const PROCEDURE: &[ParamDef] = &[
    p("patient", Ref(Some("Patient")), &["subject"]),
    p("subject", Ref(None), &["subject"]),
    p("encounter", Ref(Some("Encounter")), &["encounter"]),
    p("code", Token, &["code"]),
    p("date", Date, &["performedDateTime", "performedPeriod"]),
    p("status", Token, &["status"]),
    p("identifier", Token, &["identifier"]),
];

/// The resource types with search parameters of their own (beyond `_id` and
/// `_lastUpdated`), sorted.
pub(crate) const TYPES: &[&str] = &[
    "AllergyIntolerance",
    "Condition",
    "DiagnosticReport",
    "Encounter",
    "Group",
    "Immunization",
    "MedicationRequest",
    "Observation",
    "Organization",
    "Patient",
    "Practitioner",
    "Procedure",
];

/// `AuditEvent`: the audit trail's view ([`crate::fhir_api`]), never stored data.
const AUDIT_EVENT: &[ParamDef] = &[
    p("date", Date, &["recorded"]),
    p("patient", Ref(Some("Patient")), &["entity.what"]),
    p("outcome", Token, &["outcome"]),
    p("action", Token, &["action"]),
    p("type", Token, &["type"]),
    p("subtype", Token, &["subtype"]),
];

fn type_params(resource_type: &str) -> &'static [ParamDef] {
    match resource_type {
        "AuditEvent" => AUDIT_EVENT,
        "Patient" => PATIENT,
        "Practitioner" => PRACTITIONER,
        "Organization" => ORGANIZATION,
        "Group" => GROUP,
        "Observation" => OBSERVATION,
        "Encounter" => ENCOUNTER,
        "Condition" => CONDITION,
        "MedicationRequest" => MEDICATION_REQUEST,
        "AllergyIntolerance" => ALLERGY_INTOLERANCE,
        "Immunization" => IMMUNIZATION,
        "DiagnosticReport" => DIAGNOSTIC_REPORT,
        "Procedure" => PROCEDURE,
        _ => &[],
    }
}

/// The definition of parameter `name` on `resource_type` (`*` for any type: only the
/// common `_id` and `_lastUpdated`).
pub(crate) fn lookup(resource_type: &str, name: &str) -> Option<&'static ParamDef> {
    COMMON
        .iter()
        .chain(type_params(resource_type))
        .find(|d| d.name == name)
}

/// The names of every parameter `resource_type` supports, common ones first.
pub(crate) fn names(resource_type: &str) -> Vec<&'static str> {
    COMMON
        .iter()
        .chain(type_params(resource_type))
        .map(|d| d.name)
        .collect()
}

/// Every parameter `resource_type` supports with its R4 search parameter type
/// (`token`, `reference`, `date`, `string`), common ones first.
pub(crate) fn typed(resource_type: &str) -> Vec<(&'static str, &'static str)> {
    COMMON
        .iter()
        .chain(type_params(resource_type))
        .map(|d| {
            let kind = match d.kind {
                Token => "token",
                Ref(_) => "reference",
                Date => "date",
                Str => "string",
            };
            (d.name, kind)
        })
        .collect()
}

/// Every value at `path` (dot-separated element names) in `resource`, arrays flattened.
pub(crate) fn collect<'a>(resource: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut current = vec![resource];
    for segment in path.split('.') {
        let mut next = Vec::new();
        for node in current {
            match node.get(segment) {
                Some(Value::Array(items)) => next.extend(items),
                Some(value) => next.push(value),
                None => {}
            }
        }
        current = next;
    }
    current
}

impl ParamDef {
    /// Every element this parameter looks at in `resource`.
    pub(crate) fn values<'a>(&self, resource: &'a Value) -> Vec<&'a Value> {
        self.paths
            .iter()
            .flat_map(|p| collect(resource, p))
            .collect()
    }
}

/// A token value: `code`, `system|code`, `|code` (no system) or `system|` (any code).
#[derive(Debug, Clone)]
struct TokenValue {
    /// `None`: any system; `Some(None)`: no system; `Some(Some(s))`: system `s`.
    system: Option<Option<String>>,
    code: Option<String>,
}

#[derive(Debug, Clone)]
struct RefValue {
    resource_type: Option<String>,
    id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefix {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StrMode {
    StartsWith,
    Exact,
    Contains,
}

#[derive(Debug, Clone)]
enum Test {
    Token(Vec<TokenValue>),
    Reference(Vec<RefValue>),
    Date(Vec<(Prefix, DateRange)>),
    Str(Vec<String>, StrMode),
}

/// One parsed occurrence of a search parameter: the resource matches when any of its
/// comma-separated values matches (several clauses are ANDed by the caller).
#[derive(Debug, Clone)]
pub(crate) struct Clause {
    def: &'static ParamDef,
    test: Test,
}

fn invalid(name: &str, reason: impl Into<String>) -> FhirError {
    FhirError::InvalidParameter {
        name: name.into(),
        reason: reason.into(),
    }
}

impl Clause {
    /// Parses `value` (already URL-decoded) for parameter `def` with an optional
    /// `modifier` (the text after `:` in the name).
    ///
    /// # Errors
    /// [`FhirError::InvalidParameter`] for an empty or malformed value,
    /// [`FhirError::NotSupported`] for a modifier or prefix this server does not
    /// implement.
    pub(crate) fn parse(
        def: &'static ParamDef,
        modifier: Option<&str>,
        value: &str,
    ) -> Result<Self, FhirError> {
        let name = def.name;
        let unsupported_modifier = |m: &str| {
            FhirError::NotSupported(format!(
                "the modifier ':{}' is not supported on '{name}'",
                clip(m)
            ))
        };
        if value.is_empty() {
            return Err(invalid(name, "the value is empty"));
        }
        let parts = split_unescaped(value, ',');
        let test = match def.kind {
            Token => {
                if let Some(m) = modifier {
                    return Err(unsupported_modifier(m));
                }
                let tokens: Vec<TokenValue> = parts
                    .iter()
                    .map(|v| parse_token(name, v))
                    .collect::<Result<_, _>>()?;
                // `_id` values are logical ids: anything else can never match.
                if name == "_id"
                    && let Some(bad) = tokens
                        .iter()
                        .find(|t| t.system.is_some() || !t.code.as_deref().is_some_and(valid_id))
                {
                    return Err(invalid(
                        name,
                        format!(
                            "'{}' is not a valid id",
                            clip(bad.code.as_deref().unwrap_or(""))
                        ),
                    ));
                }
                Test::Token(tokens)
            }
            Ref(target) => {
                let target = match modifier {
                    None => target,
                    Some(m) => match crate::fhir::RESOURCE_TYPES.iter().find(|t| **t == m) {
                        Some(t) if target.is_none_or(|x| x == *t) => Some(*t),
                        _ => return Err(unsupported_modifier(m)),
                    },
                };
                Test::Reference(
                    parts
                        .iter()
                        .map(|v| parse_reference(name, target, &unescape(v)))
                        .collect::<Result<_, _>>()?,
                )
            }
            Date => {
                if let Some(m) = modifier {
                    return Err(unsupported_modifier(m));
                }
                Test::Date(
                    parts
                        .iter()
                        .map(|v| parse_date(name, &unescape(v)))
                        .collect::<Result<_, _>>()?,
                )
            }
            Str => {
                let mode = match modifier {
                    None => StrMode::StartsWith,
                    Some("exact") => StrMode::Exact,
                    Some("contains") => StrMode::Contains,
                    Some(m) => return Err(unsupported_modifier(m)),
                };
                let values: Vec<String> = parts
                    .iter()
                    .map(|v| {
                        let v = unescape(v);
                        if mode == StrMode::Exact {
                            v
                        } else {
                            v.to_lowercase()
                        }
                    })
                    .collect();
                if values.iter().any(String::is_empty) {
                    return Err(invalid(name, "a value is empty"));
                }
                Test::Str(values, mode)
            }
        };
        Ok(Self { def, test })
    }

    /// Whether `resource` matches this clause.
    pub(crate) fn matches(&self, resource: &Value) -> bool {
        let elements = self.def.values(resource);
        match &self.test {
            Test::Token(values) => values
                .iter()
                .any(|t| elements.iter().any(|e| token_matches(t, e))),
            Test::Reference(values) => {
                let target = match self.def.kind {
                    Ref(t) => t,
                    _ => None,
                };
                values
                    .iter()
                    .any(|r| elements.iter().any(|e| reference_matches(r, target, e)))
            }
            Test::Date(values) => values.iter().any(|(prefix, range)| {
                elements
                    .iter()
                    .filter_map(|e| date::element_range(e))
                    .any(|t| date_matches(*prefix, range, &t))
            }),
            Test::Str(values, mode) => values.iter().any(|v| {
                elements
                    .iter()
                    .filter_map(|e| e.as_str())
                    .any(|s| match mode {
                        StrMode::Exact => s == v,
                        StrMode::StartsWith => s.to_lowercase().starts_with(v.as_str()),
                        StrMode::Contains => s.to_lowercase().contains(v.as_str()),
                    })
            }),
        }
    }
}

fn parse_token(name: &str, raw: &str) -> Result<TokenValue, FhirError> {
    let parts = split_unescaped(raw, '|');
    let nonempty = |s: &String| (!s.is_empty()).then(|| unescape(s));
    match parts.as_slice() {
        [code] if !code.is_empty() => Ok(TokenValue {
            system: None,
            code: Some(unescape(code)),
        }),
        [system, code] if !(system.is_empty() && code.is_empty()) => Ok(TokenValue {
            system: Some(nonempty(system)),
            code: nonempty(code),
        }),
        _ => Err(invalid(
            name,
            "expected code, system|code, |code or system|",
        )),
    }
}

fn parse_reference(
    name: &str,
    target: Option<&'static str>,
    raw: &str,
) -> Result<RefValue, FhirError> {
    // An absolute URL names the resource by its last `Type/id` segments.
    let local = match raw.find("://") {
        Some(_) => {
            let segments: Vec<&str> = raw.split('/').collect();
            let history = segments.iter().rposition(|s| *s == "_history");
            let end = history.unwrap_or(segments.len());
            segments
                .get(end.saturating_sub(2)..end)
                .map(|s| s.join("/"))
                .unwrap_or_default()
        }
        None => raw.into(),
    };
    let (resource_type, id) = if local.contains('/') {
        let (ty, id) = parse_local_reference(&local)
            .ok_or_else(|| invalid(name, format!("'{}' is not a reference", clip(raw))))?;
        (Some(ty.to_string()), id.to_string())
    } else if valid_id(&local) {
        (None, local)
    } else {
        return Err(invalid(name, format!("'{}' is not a valid id", clip(raw))));
    };
    if let (Some(t), Some(ty)) = (target, &resource_type)
        && t != ty
    {
        return Err(invalid(name, format!("'{name}' refers to {t}, not {ty}")));
    }
    Ok(RefValue {
        resource_type: resource_type.or(target.map(String::from)),
        id,
    })
}

fn parse_date(name: &str, raw: &str) -> Result<(Prefix, DateRange), FhirError> {
    let prefix = raw
        .get(..2)
        .filter(|p| p.bytes().all(|b| b.is_ascii_lowercase()));
    let (prefix, rest) = match prefix {
        None => (Prefix::Eq, raw),
        Some(p) => {
            let rest = raw.get(2..).unwrap_or_default();
            let prefix = match p {
                "eq" => Prefix::Eq,
                "ne" => Prefix::Ne,
                "gt" => Prefix::Gt,
                "lt" => Prefix::Lt,
                "ge" => Prefix::Ge,
                "le" => Prefix::Le,
                "sa" | "eb" | "ap" => {
                    return Err(FhirError::NotSupported(format!(
                        "the date prefix '{p}' is not supported (use eq, ne, gt, lt, ge, le)"
                    )));
                }
                _ => return Err(invalid(name, format!("unknown prefix '{p}'"))),
            };
            (prefix, rest)
        }
    };
    // A '+' in a zone arrives as a space when the client did not percent-encode it.
    let text = rest.replace(' ', "+");
    let range = date::parse(&text)
        .ok_or_else(|| invalid(name, format!("'{}' is not a FHIR date", clip(rest))))?;
    Ok((prefix, range))
}

fn token_matches(t: &TokenValue, element: &Value) -> bool {
    let check = |system: Option<&str>, code: Option<&str>| {
        let system_ok = match &t.system {
            None => true,
            Some(None) => system.is_none(),
            Some(Some(s)) => system == Some(s.as_str()),
        };
        let code_ok = match &t.code {
            None => true,
            Some(c) => code == Some(c.as_str()),
        };
        system_ok && code_ok
    };
    match element {
        Value::String(code) => check(None, Some(code.as_str())),
        Value::Bool(b) => check(None, Some(if *b { "true" } else { "false" })),
        Value::Object(o) => {
            if let Some(Value::Array(codings)) = o.get("coding") {
                codings.iter().any(|c| {
                    check(
                        c.get("system").and_then(Value::as_str),
                        c.get("code").and_then(Value::as_str),
                    )
                })
            } else if o.contains_key("code") {
                check(
                    o.get("system").and_then(Value::as_str),
                    o.get("code").and_then(Value::as_str),
                )
            } else {
                check(
                    o.get("system").and_then(Value::as_str),
                    o.get("value").and_then(Value::as_str),
                )
            }
        }
        _ => false,
    }
}

fn reference_matches(r: &RefValue, target: Option<&str>, element: &Value) -> bool {
    let Some((ty, id)) = element
        .get("reference")
        .and_then(Value::as_str)
        .and_then(parse_local_reference)
    else {
        return false;
    };
    id == r.id
        && r.resource_type.as_deref().is_none_or(|t| t == ty)
        && target.is_none_or(|t| t == ty)
}

/// R4 prefix semantics over ranges: `eq` the target lies within the search range;
/// `gt`/`lt` the target reaches beyond its end / before its start; `ge`/`le` either.
fn date_matches(prefix: Prefix, search: &DateRange, target: &DateRange) -> bool {
    let within = target.start >= search.start && target.end <= search.end;
    match prefix {
        Prefix::Eq => within,
        Prefix::Ne => !within,
        Prefix::Gt => target.end > search.end,
        Prefix::Lt => target.start < search.start,
        Prefix::Ge => target.end > search.end || within,
        Prefix::Le => target.start < search.start || within,
    }
}
