//! Integration tests of the mock EHR's FHIR data layer, one binary.

extern crate alloc;

#[path = "fhir/access.rs"]
mod access;
#[path = "fhir/conditional.rs"]
mod conditional;
#[path = "fhir/data.rs"]
mod data;
#[path = "fhir/date.rs"]
mod date;
#[path = "fhir/load.rs"]
mod load;
#[path = "fhir/paging.rs"]
mod paging;
#[path = "fhir/search.rs"]
mod search;
#[path = "fhir/store.rs"]
mod store;

use mock_ehr::fhir::{Access, SearchResult, Store};
use serde_json::Value;

/// The FHIR base the tests use for links and fullUrls.
pub const BASE: &str = "http://localhost:8080/fhir";
/// A `now` after the built-in data's `meta.lastUpdated` (2024-07-01T00:00:00Z).
pub const LATER: i64 = 1_719_792_000;

/// A fresh store with the built-in data.
pub fn builtin() -> Store {
    Store::builtin()
}

/// Runs an unrestricted search and returns the result.
pub fn run(store: &Store, ty: &str, query: &str) -> SearchResult {
    mock_ehr::fhir::search(store, BASE, ty, query, &Access::unrestricted()).unwrap()
}

/// The ids of the `match` entries of a searchset Bundle, in order.
pub fn match_ids(bundle: &Value) -> Vec<String> {
    mode_ids(bundle, "match")
}

/// The `Type/id` of the entries with search mode `mode`, in order (ids only for
/// `match`).
pub fn mode_ids(bundle: &Value, mode: &str) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["search"]["mode"] == mode)
        .map(|e| {
            let r = &e["resource"];
            if mode == "match" {
                r["id"].as_str().unwrap().to_string()
            } else {
                format!(
                    "{}/{}",
                    r["resourceType"].as_str().unwrap(),
                    r["id"].as_str().unwrap()
                )
            }
        })
        .collect()
}

/// The URL of the link with relation `rel`, if any.
pub fn link(bundle: &Value, rel: &str) -> Option<String> {
    bundle["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == rel)
        .map(|l| l["url"].as_str().unwrap().to_string())
}

/// The ids matched by an unrestricted search.
pub fn ids(store: &Store, ty: &str, query: &str) -> Vec<String> {
    match_ids(&run(store, ty, query).bundle)
}

/// Owned copies of `items`, to compare with id lists.
pub fn strs(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}
