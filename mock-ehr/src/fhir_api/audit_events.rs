//! The audit trail as FHIR R4 [`AuditEvent`] resources, read-only: `GET
//! AuditEvent/[id]` and `GET AuditEvent?...` (or `POST AuditEvent/_search`), answered
//! from the live trail ([`crate::audit`]), never stored with the FHIR data (so bulk
//! export, `_include` and the other searches never see them).
//!
//! # Who may read them
//! A token whose scopes grant read or search of `AuditEvent` in the `user/` or
//! `system/` context (`user/AuditEvent.rs`, `system/AuditEvent.rs`, v1
//! `user/AuditEvent.read`, or a wildcard). `patient/` scopes never do: the request is
//! refused 403 `insufficient_scope` (the guard's refusal). A scope's query
//! (`user/AuditEvent.rs?outcome=8`) filters what is seen, as for every type; a patient
//! user sees only the events about themselves.
//!
//! # Mapping
//! | AuditEvent | from the trail's event |
//! | --- | --- |
//! | `id` | `seq`, 10 digits (`0000000042`): ids sort as text the way the trail is ordered |
//! | `type` | `rest` (audit-event-type) for FHIR API requests; DICOM `110114` User Authentication for authorization server events; DICOM `110100` Application Activity for the rest (key rotation, consent withdrawal) |
//! | `subtype` | the event name (`token`, `refresh`, `fhir`, ...; system `urn:smartgate:mock-ehr:audit-event`) |
//! | `action` | FHIR requests: `R` read, `E` search, `C` create, `U` update and patch, `D` delete; others `E` |
//! | `recorded` | `time` |
//! | `outcome` | `0` success; `8` serious failure for `server_error`, `temporarily_unavailable` and internal errors; `4` minor failure for every other refusal |
//! | `outcomeDesc` | the refusal's code (`invalid_grant`, `ERR_...`) |
//! | `agent` | the client (`who.identifier` `{issuer}/clients` + client id, `requestor` true when there is no user) and the user (`who.reference` their FHIR resource, `altId` the username, `requestor` true) |
//! | `source` | `observer` the server (display and issuer), type `4` Application Server |
//! | `entity` | the patient (`what.reference` `Patient/[id]`, role `1` Patient); the token id (`what.identifier`, never a token) |
//! | `extension` | the chain: `prev_hash` and `hash` ([`crate::audit`]) |
//!
//! # Search parameters
//! `date` (`recorded`, with `eq`, `ne`, `gt`, `lt`, `ge`, `le`), `patient` (`Patient/[id]`
//! or `[id]`), `outcome` (`0`, `4`, `8`), `action`, `type`, `subtype`, with the
//! server's usual `_id`, `_count`, `_offset`, `_sort` (`-date`: newest first) and
//! unknown-parameter handling ([`crate::fhir::search`]).
//!
//! [`AuditEvent`]: https://hl7.org/fhir/R4/auditevent.html

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use smartgate_core::scope::Interaction;

use crate::audit::AuditEvent;
use crate::fhir::{self, FhirError};
use crate::fhir_api::auth::Caller;
use crate::fhir_api::respond::{ApiError, fhir_json};
use crate::fhir_api::route::Route;
use crate::state::AppState;

/// The resource type.
pub(crate) const TYPE: &str = "AuditEvent";
/// The extension URL of the hash chain's links.
pub(crate) const HASH_EXTENSION: &str = "urn:smartgate:mock-ehr:audit-hash";

/// Answers a request on `AuditEvent` (the guard has passed): read and search only.
pub(crate) fn handle(
    state: &AppState,
    caller: &Caller,
    route: &Route,
    method: &Method,
    query: &str,
) -> Result<Response, ApiError> {
    let get = *method == Method::GET || *method == Method::HEAD;
    match route {
        Route::Type(_) if get => search(state, caller, query),
        Route::Search(_) if *method == Method::POST => search(state, caller, query),
        Route::Instance(_, id) if get => read(state, caller, id),
        Route::Type(_) => Err(ApiError::method("GET, HEAD")),
        Route::Search(_) => Err(ApiError::method("POST")),
        Route::Instance(..) => Err(ApiError::method("GET, HEAD")),
        _ => Err(FhirError::NotSupported(
            "AuditEvent resources are read-only views of the audit trail: read and search only"
                .into(),
        )
        .into()),
    }
}

/// The `id` of the event `seq`.
pub(crate) fn id_of(seq: u64) -> String {
    format!("{seq:010}")
}

fn read(state: &AppState, caller: &Caller, id: &str) -> Result<Response, ApiError> {
    let access = caller.audit_access(Interaction::Read)?;
    let not_found = || {
        ApiError::from(FhirError::NotFound {
            resource_type: TYPE.into(),
            id: id.into(),
        })
    };
    let seq: u64 = id.parse().map_err(|_| not_found())?;
    if id_of(seq) != id {
        return Err(not_found());
    }
    let resource = {
        let store = state.store();
        let events = &store.audit.events;
        // Entries are numbered without gaps: the index is the distance from the first
        // (a tampered trail falls back to a scan).
        let guess = events
            .front()
            .and_then(|f| seq.checked_sub(f.seq))
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| events.get(i))
            .filter(|e| e.seq == seq);
        let event = guess
            .or_else(|| events.iter().find(|e| e.seq == seq))
            .ok_or_else(not_found)?;
        to_resource(event, state, &store.directory)
    };
    if !access.permits(&resource) {
        return Err(not_found());
    }
    Ok(fhir_json(StatusCode::OK, &resource))
}

fn search(state: &AppState, caller: &Caller, query: &str) -> Result<Response, ApiError> {
    let access = caller.audit_access(Interaction::Search)?;
    // Copied under the lock, converted outside it: other requests do not wait for the
    // conversion of a long trail.
    let (events, directory) = {
        let store = state.store();
        let events: Vec<AuditEvent> = store.audit.events.iter().cloned().collect();
        (events, store.directory.clone())
    };
    let mut view = fhir::Store::new();
    for event in &events {
        let resource = to_resource(event, state, &directory);
        view.insert_initial(TYPE, &id_of(event.seq), resource, event.time);
    }
    let result = fhir::search(&view, &state.urls().fhir, TYPE, query, &access)?;
    Ok(fhir_json(StatusCode::OK, &result.bundle))
}

/// The outcome code (R4 `AuditEvent.outcome`) of a trail outcome.
fn outcome_code(outcome: &str) -> &'static str {
    match outcome {
        "success" => "0",
        "server_error" | "temporarily_unavailable" | "ERR_FHIR_INTERNAL" => "8",
        _ => "4",
    }
}

/// The `action` of an event: from the method of a FHIR request (its `detail` starts
/// with `METHOD /fhir/...`).
fn action_of(event: &AuditEvent) -> &'static str {
    if event.event != "fhir" {
        return "E";
    }
    let detail = event.detail.as_deref().unwrap_or_default();
    let mut words = detail.split(' ');
    let method = words.next().unwrap_or_default();
    let path = words
        .next()
        .unwrap_or_default()
        .split('?')
        .next()
        .unwrap_or_default();
    let segments = path.trim_end_matches('/').split('/').count();
    match method {
        // `/fhir/Type` is a search, `/fhir/Type/id` and deeper a read.
        "GET" | "HEAD" if segments <= 3 => "E",
        "GET" | "HEAD" => "R",
        "POST" if path.ends_with("/_search") => "E",
        "POST" => "C",
        "PUT" | "PATCH" => "U",
        "DELETE" => "D",
        _ => "E",
    }
}

/// The `type` coding of an event.
fn type_of(event: &str) -> Value {
    match event {
        "fhir" => json!({
            "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
            "code": "rest",
            "display": "RESTful Operation"
        }),
        "keys_rotated" | "consent_withdrawn" => json!({
            "system": "http://dicom.nema.org/resources/ontology/DCM",
            "code": "110100",
            "display": "Application Activity"
        }),
        _ => json!({
            "system": "http://dicom.nema.org/resources/ontology/DCM",
            "code": "110114",
            "display": "User Authentication"
        }),
    }
}

/// The FHIR R4 AuditEvent of one trail event (see the [module docs](self)).
pub(crate) fn to_resource(
    event: &AuditEvent,
    state: &AppState,
    directory: &crate::directory::Directory,
) -> Value {
    let issuer = state.urls().issuer();
    let recorded = fhir::date::format_instant(event.time);
    let mut agents = Vec::new();
    if let Some(c) = &event.client_id {
        agents.push(json!({
            "type": { "coding": [{
                "system": "http://dicom.nema.org/resources/ontology/DCM",
                "code": "110150",
                "display": "Application"
            }]},
            "who": {
                "identifier": { "system": format!("{issuer}/clients"), "value": c },
                "display": c
            },
            "requestor": event.user.is_none()
        }));
    }
    if let Some(u) = &event.user {
        let who = match directory.user(u) {
            Some(user) => json!({ "reference": user.fhir_user, "display": u }),
            None => json!({ "display": u }),
        };
        agents.push(json!({
            "type": { "coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                "code": "IRCP",
                "display": "information recipient"
            }]},
            "who": who,
            "altId": u,
            "requestor": true
        }));
    }
    if agents.is_empty() {
        agents.push(json!({
            "who": { "display": "smartgate mock EHR" },
            "requestor": false
        }));
    }
    let mut entities = Vec::new();
    if let Some(p) = &event.patient {
        entities.push(json!({
            "what": { "reference": format!("Patient/{p}") },
            "type": {
                "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                "code": "1",
                "display": "Person"
            },
            "role": {
                "system": "http://terminology.hl7.org/CodeSystem/object-role",
                "code": "1",
                "display": "Patient"
            }
        }));
    }
    if let Some(t) = &event.token_id {
        entities.push(json!({
            "what": { "identifier": { "system": format!("{issuer}/token-ids"), "value": t } },
            "type": {
                "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                "code": "2",
                "display": "System Object"
            },
            "description": "the id (jti or grant id) of the token concerned, never a token"
        }));
    }
    let mut resource = json!({
        "resourceType": TYPE,
        "id": id_of(event.seq),
        "meta": { "versionId": "1", "lastUpdated": recorded },
        "extension": [
            { "url": format!("{HASH_EXTENSION}#prev"), "valueString": event.prev_hash },
            { "url": HASH_EXTENSION, "valueString": event.hash }
        ],
        "type": type_of(event.event),
        "subtype": [{ "system": "urn:smartgate:mock-ehr:audit-event", "code": event.event }],
        "action": action_of(event),
        "recorded": recorded,
        "outcome": outcome_code(&event.outcome),
        "agent": agents,
        "source": {
            "site": issuer,
            "observer": { "display": "smartgate mock EHR", "identifier": { "value": issuer } },
            "type": [{
                "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                "code": "4",
                "display": "Application Server"
            }]
        }
    });
    if let Some(obj) = resource.as_object_mut() {
        if event.outcome != "success" {
            let desc = match &event.detail {
                Some(d) => format!("{}: {d}", event.outcome),
                None => event.outcome.clone(),
            };
            obj.insert("outcomeDesc".into(), desc.into());
        } else if let Some(d) = &event.detail {
            obj.insert("outcomeDesc".into(), d.clone().into());
        }
        if !entities.is_empty() {
            obj.insert("entity".into(), entities.into());
        }
    }
    resource
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fhir(detail: &str) -> AuditEvent {
        AuditEvent::new("fhir", "success").detail(detail)
    }

    #[test]
    fn actions_follow_the_request_method_and_path() {
        for (detail, action) in [
            ("GET /fhir/Patient?name=x -> 200", "E"),
            ("GET /fhir/Patient/pat-001 -> 200", "R"),
            ("GET /fhir/Patient/pat-001/_history/2 -> 200", "R"),
            ("HEAD /fhir/Observation -> 200", "E"),
            ("POST /fhir/Observation/_search -> 200", "E"),
            ("POST /fhir/Observation -> 201", "C"),
            ("PUT /fhir/Observation/o1 -> 200", "U"),
            ("PATCH /fhir/Observation/o1 -> 200", "U"),
            ("DELETE /fhir/Observation/o1 -> 204", "D"),
        ] {
            assert_eq!(action_of(&fhir(detail)), action, "{detail}");
        }
        assert_eq!(action_of(&AuditEvent::new("token", "success")), "E");
    }

    #[test]
    fn outcomes_are_r4_codes() {
        assert_eq!(outcome_code("success"), "0");
        assert_eq!(outcome_code("invalid_grant"), "4");
        assert_eq!(outcome_code("ERR_FHIR_NOT_FOUND"), "4");
        assert_eq!(outcome_code("server_error"), "8");
        assert_eq!(outcome_code("temporarily_unavailable"), "8");
        assert_eq!(id_of(42), "0000000042");
    }
}
