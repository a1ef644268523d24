//! The patient browser: the data's patients with a name search, one patient's
//! resources by type in readable lines, and each resource's FHIR JSON under
//! `/_console/fhir/{type}/{id}`. Those JSON views read the store directly, without a
//! token (the FHIR API at `/fhir` needs one): they exist only with the admin controls.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::{Nav, error_page, html, page, query, query_value};
use crate::fhir;
use crate::pages::escape;
use crate::state::AppState;

/// One row of the patient list.
struct Row {
    id: String,
    name: String,
    gender: String,
    birth_date: String,
    /// Whether the FHIR data holds a Patient resource of this id.
    in_data: bool,
}

/// A patient's display name: the first `name`'s text, or given names and family.
fn name_of(patient: &Value) -> String {
    let Some(name) = patient.pointer("/name/0") else {
        return String::new();
    };
    if let Some(text) = name.get("text").and_then(Value::as_str) {
        return text.to_string();
    }
    let mut parts: Vec<&str> = name
        .get("given")
        .and_then(Value::as_array)
        .map(|g| g.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(family) = name.get("family").and_then(Value::as_str) {
        parts.push(family);
    }
    parts.join(" ")
}

fn text(resource: &Value, key: &str) -> String {
    resource
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Patient id -> display name, from the FHIR data.
pub(super) fn names(state: &AppState) -> HashMap<String, String> {
    state
        .fhir
        .read()
        .current("Patient")
        .filter_map(|p| Some((p.get("id")?.as_str()?.to_string(), name_of(p))))
        .collect()
}

/// The patients of the directory (who can be launched) and of the FHIR data, by id.
fn rows(state: &AppState) -> Vec<Row> {
    let mut rows: BTreeMap<String, Row> = state
        .fhir
        .read()
        .current("Patient")
        .filter_map(|p| {
            let id = p.get("id")?.as_str()?.to_string();
            Some((
                id.clone(),
                Row {
                    id,
                    name: name_of(p),
                    gender: text(p, "gender"),
                    birth_date: text(p, "birthDate"),
                    in_data: true,
                },
            ))
        })
        .collect();
    for id in &state.store().directory.patients {
        rows.entry(id.clone()).or_insert_with(|| Row {
            id: id.clone(),
            name: String::new(),
            gender: String::new(),
            birth_date: String::new(),
            in_data: false,
        });
    }
    rows.into_values().collect()
}

pub(super) async fn list(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let root = super::root(&state);
    let params = match query(&root, raw, Nav::Patients) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let q = params.get("q").unwrap_or_default().trim().to_string();
    let needle = q.to_lowercase();
    let all = rows(&state);
    let total = all.len();
    let found: Vec<Row> = all
        .into_iter()
        .filter(|r| {
            needle.is_empty()
                || r.name.to_lowercase().contains(&needle)
                || r.id.to_lowercase().contains(&needle)
        })
        .collect();
    let lines: String = found
        .iter()
        .map(|r| {
            let json = if r.in_data {
                format!(
                    "<a href=\"{root}/fhir/Patient/{id}\">JSON</a>",
                    id = escape(&query_value(&r.id))
                )
            } else {
                "no Patient resource in the data".into()
            };
            format!(
                "<tr><td><a href=\"{root}/patients/{href}\">{name}</a></td><td>{gender}</td>\
                 <td>{birth}</td><td><code>{id}</code></td><td>{json}</td></tr>",
                href = escape(&query_value(&r.id)),
                name = escape(if r.name.is_empty() { &r.id } else { &r.name }),
                gender = escape(&r.gender),
                birth = escape(&r.birth_date),
                id = escape(&r.id),
            )
        })
        .collect();
    let count = if q.is_empty() {
        format!("{total} patients.")
    } else {
        format!(
            "{} of {total} patients match <q>{}</q>.",
            found.len(),
            escape(&q)
        )
    };
    let body = format!(
        "<form method=\"get\" action=\"{root}/patients\" role=\"search\">\
         <label>Name or id contains <input name=\"q\" value=\"{q}\" type=\"search\"></label>\
         <button type=\"submit\">Search</button></form><p id=\"patient-count\">{count}</p>\
         <table><thead><tr><th>Name</th><th>Gender</th><th>Birth date</th><th>Id</th><th>FHIR</th></tr></thead>\
         <tbody>{lines}</tbody></table>\
         <p class=\"hint\">The JSON links read the store directly, without a token: the FHIR API at \
         <code>/fhir</code> needs one. They exist only with the admin controls.</p>",
        q = escape(&q),
    );
    html(
        StatusCode::OK,
        page(&root, "Patients", Nav::Patients, &body),
    )
}

/// A one-line summary of a resource: what, when, status and value.
fn summary(resource: &Value) -> (String, String, String) {
    let concept = ["code", "vaccineCode", "medicationCodeableConcept", "type"]
        .iter()
        .find_map(|k| {
            let c = resource.get(*k)?;
            let c = c.as_array().and_then(|a| a.first()).unwrap_or(c);
            c.get("text")
                .and_then(Value::as_str)
                .or_else(|| c.pointer("/coding/0/display").and_then(Value::as_str))
                .or_else(|| c.pointer("/coding/0/code").and_then(Value::as_str))
                .map(String::from)
        })
        .or_else(|| {
            resource
                .get("name")
                .and_then(Value::as_str)
                .map(String::from)
        })
        .unwrap_or_default();
    let value = resource
        .get("valueQuantity")
        .map(|q| {
            let v = q.get("value").map(Value::to_string).unwrap_or_default();
            let unit = q.get("unit").and_then(Value::as_str).unwrap_or_default();
            format!(" = {v} {unit}")
        })
        .unwrap_or_default();
    let when = [
        "/effectiveDateTime",
        "/onsetDateTime",
        "/occurrenceDateTime",
        "/authoredOn",
        "/period/start",
        "/recordedDate",
        "/date",
    ]
    .iter()
    .find_map(|p| resource.pointer(p).and_then(Value::as_str))
    .unwrap_or_default()
    .to_string();
    let mut status: Vec<&str> = ["status", "criticality"]
        .iter()
        .filter_map(|k| resource.get(*k).and_then(Value::as_str))
        .collect();
    if let Some(c) = resource
        .pointer("/clinicalStatus/coding/0/code")
        .and_then(Value::as_str)
    {
        status.push(c);
    }
    let status = status.join(", ");
    (format!("{concept}{value}"), when, status)
}

pub(super) async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let root = super::root(&state);
    if !fhir::valid_id(&id) {
        return error_page(
            &root,
            StatusCode::BAD_REQUEST,
            Nav::Patients,
            &format!("{id:?} is not a FHIR id."),
        );
    }
    let known = state.store().directory.has_patient(&id);
    let data = state.fhir.read();
    let patient = data
        .read("Patient", &id)
        .ok()
        .and_then(|v| v.resource.clone());
    if patient.is_none() && !known {
        drop(data);
        return error_page(
            &root,
            StatusCode::NOT_FOUND,
            Nav::Patients,
            &format!("There is no patient {id:?} in the data."),
        );
    }
    let mut sections = String::new();
    let mut total = 0;
    for ty in data.resource_types() {
        if ty == "Patient" || ty == "Group" {
            continue;
        }
        let mut items: Vec<&Value> = data
            .current(ty)
            .filter(|r| fhir::access::in_patient_compartment(r, &id))
            .collect();
        if items.is_empty() {
            continue;
        }
        items.sort_by_key(|r| std::cmp::Reverse(summary(r).1));
        total += items.len();
        let lines: String = items
            .iter()
            .map(|r| {
                let rid = r.get("id").and_then(Value::as_str).unwrap_or_default();
                let (what, when, status) = summary(r);
                format!(
                    "<tr><td>{what}</td><td>{when}</td><td>{status}</td>\
                     <td><a href=\"{root}/fhir/{ty}/{href}\"><code>{rid}</code></a></td></tr>",
                    what = escape(&what),
                    when = escape(&when),
                    status = escape(&status),
                    href = escape(&query_value(rid)),
                    rid = escape(rid),
                )
            })
            .collect();
        sections.push_str(&format!(
            "<h2 id=\"{ty}\">{ty} ({n})</h2><table><thead><tr><th>What</th><th>When</th><th>Status</th>\
             <th>FHIR JSON</th></tr></thead><tbody>{lines}</tbody></table>",
            n = items.len()
        ));
    }
    drop(data);
    let (name, facts) = match &patient {
        Some(p) => (
            name_of(p),
            format!(
                "<p>{gender}, born {birth}. <a href=\"{root}/fhir/Patient/{href}\">Patient JSON</a></p>",
                gender = escape(&text(p, "gender")),
                birth = escape(&text(p, "birthDate")),
                href = escape(&query_value(&id)),
            ),
        ),
        None => (
            id.clone(),
            "<p>A patient of the configuration without a Patient resource in the data.</p>".into(),
        ),
    };
    let launch = if known {
        format!(
            "<p><a href=\"{root}/?patient={}\">Launch an app for this patient</a></p>",
            escape(&query_value(&id))
        )
    } else {
        String::new()
    };
    let body = format!(
        "<p><code>Patient/{id}</code>: {name}</p>{facts}{launch}\
         <p>{total} resources in this patient's compartment.</p>{sections}\
         <p><a href=\"{root}/patients\">All patients</a></p>",
        id = escape(&id),
        name = escape(&name),
    );
    let title = if name.is_empty() { id.clone() } else { name };
    html(StatusCode::OK, page(&root, &title, Nav::Patients, &body))
}

/// A resource's FHIR JSON, from the store (no token: admin only).
pub(super) async fn json(
    State(state): State<AppState>,
    Path((resource_type, id)): Path<(String, String)>,
) -> Response {
    let data = state.fhir.read();
    let (status, body) = match data.read(&resource_type, &id) {
        Ok(v) => (StatusCode::OK, v.resource.clone().unwrap_or(Value::Null)),
        Err(e) => (
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::NOT_FOUND),
            e.operation_outcome(),
        ),
    };
    drop(data);
    let text = serde_json::to_string_pretty(&body).unwrap_or_default();
    let mut response = (status, text).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/fhir+json"),
    );
    crate::error::no_store(&mut response);
    response
}
