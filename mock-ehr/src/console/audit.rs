//! The audit viewer: the trail of `GET /_admin/audit`, newest first, filtered by
//! client, patient and outcome (exact values, from the query string).

use std::collections::BTreeSet;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{Nav, html, query};
use crate::audit::AuditEvent;
use crate::fhir::date::format_instant;
use crate::pages::escape;
use crate::state::AppState;

/// The most rows one page shows.
pub(super) const MAX_ROWS: usize = 500;

fn cell(value: Option<&str>) -> String {
    value.map(escape).unwrap_or_default()
}

pub(super) async fn page(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let root = super::root(&state);
    let params = match query(&root, raw, Nav::Audit) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let client = params.get("client").unwrap_or_default().trim().to_string();
    let patient = params.get("patient").unwrap_or_default().trim().to_string();
    let outcome = params.get("outcome").unwrap_or_default().trim().to_string();
    let matches = |e: &AuditEvent| {
        (client.is_empty() || e.client_id.as_deref() == Some(client.as_str()))
            && (patient.is_empty() || e.patient.as_deref() == Some(patient.as_str()))
            && (outcome.is_empty() || e.outcome == outcome)
    };
    let (rows, shown, matching, total, clients, patients, outcomes) = {
        let store = state.store();
        let mut clients = BTreeSet::new();
        let mut patients = BTreeSet::new();
        let mut outcomes = BTreeSet::new();
        for e in &store.audit.events {
            clients.extend(e.client_id.clone());
            patients.extend(e.patient.clone());
            outcomes.insert(e.outcome.clone());
        }
        let matching = store.audit.events.iter().filter(|e| matches(e)).count();
        let rows: String = store
            .audit.events
            .iter()
            .rev()
            .filter(|e| matches(e))
            .take(MAX_ROWS)
            .map(|e| {
                format!(
                    "<tr><td>{seq}</td><td class=\"nowrap\">{time}</td><td>{event}</td><td>{client}</td><td>{user}</td>\
                     <td>{patient}</td><td>{outcome}</td><td>{token}</td><td>{detail}</td></tr>",
                    seq = e.seq,
                    time = escape(&format_instant(e.time)),
                    event = escape(e.event),
                    client = cell(e.client_id.as_deref()),
                    user = cell(e.user.as_deref()),
                    patient = cell(e.patient.as_deref()),
                    outcome = escape(&e.outcome),
                    token = e
                        .token_id
                        .as_deref()
                        .map(|t| format!("<code>{}</code>", escape(t)))
                        .unwrap_or_default(),
                    detail = cell(e.detail.as_deref()),
                )
            })
            .collect();
        (
            rows,
            matching.min(MAX_ROWS),
            matching,
            store.audit.events.len(),
            clients,
            patients,
            outcomes,
        )
    };
    let list = |id: &str, values: &BTreeSet<String>| -> String {
        let opts: String = values
            .iter()
            .map(|v| format!("<option value=\"{}\"></option>", escape(v)))
            .collect();
        format!("<datalist id=\"{id}\">{opts}</datalist>")
    };
    let body = format!(
        "<form method=\"get\" action=\"{root}/audit\">\
         <label>Client <input name=\"client\" list=\"clients\" value=\"{client}\"></label>{l_clients}\
         <label>Patient <input name=\"patient\" list=\"patients\" value=\"{patient}\"></label>{l_patients}\
         <label>Outcome <input name=\"outcome\" list=\"outcomes\" value=\"{outcome}\" placeholder=\"success\"></label>{l_outcomes}\
         <button type=\"submit\">Filter</button> <a href=\"{root}/audit\">Clear</a></form>\
         <p id=\"audit-count\">Showing {shown} of {matching} matching events ({total} in the trail), newest first. \
         Times are the server clock's (UTC). Tokens appear only by id.</p>\
         <table><thead><tr><th>#</th><th>Time</th><th>Event</th><th>Client</th><th>User</th><th>Patient</th>\
         <th>Outcome</th><th>Token id</th><th>Detail</th></tr></thead><tbody>{rows}</tbody></table>",
        client = escape(&client),
        patient = escape(&patient),
        outcome = escape(&outcome),
        l_clients = list("clients", &clients),
        l_patients = list("patients", &patients),
        l_outcomes = list("outcomes", &outcomes),
    );
    html(
        StatusCode::OK,
        super::page(&root, "Audit trail", Nav::Audit, &body),
    )
}
