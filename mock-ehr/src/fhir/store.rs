//! An in-memory, versioned FHIR resource store ([R4 RESTful API]).
//!
//! Resources are `serde_json::Value`s keyed by (type, id), each with its full version
//! history. Every write is checked first ([`validate_resource`],
//! ids, preconditions) and
//! then applied whole: a refused write changes nothing. The clock is a parameter
//! (`now`, seconds since the Unix epoch) and becomes `meta.lastUpdated`.
//!
//! Choices, per the R4 RESTful API where it leaves room:
//! - `create` ignores any `id` in the body and assigns the next free decimal id.
//! - `update` may create (`updateCreate`): a PUT to an unknown or deleted id makes a
//!   new current version and answers [`WriteStatus::Created`]. The body must carry the
//!   URL's id (400 otherwise, as R4 requires). `If-Match` takes `W/"n"`, `"n"` or `*`;
//!   it fails (412) unless the resource has a current version that matches.
//! - `delete` of a never-seen id is 404; of a deleted one, a no-op that succeeds.
//!   The history keeps the deletion as a version without a resource; reading a
//!   deleted resource (or vreading the deletion) is 410.
//! - Conditional create (`If-None-Exist`) refuses unknown parameters instead of
//!   ignoring them, so a typo cannot turn into "matches everything".
//!
//! [R4 RESTful API]: https://hl7.org/fhir/R4/http.html

use alloc::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::fhir::access::Access;
use crate::fhir::date::{format_instant, http_date};
use crate::fhir::error::clip;
use crate::fhir::search::{self, SearchQuery};
use crate::fhir::validate::validate_resource;
use crate::fhir::{FhirError, data, is_resource_type, valid_id};

/// The interaction that made a version (`Bundle.entry.request.method` in a history).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A create (POST, server-assigned id).
    Post,
    /// An update or create-on-update (PUT), or a resource loaded at start.
    Put,
    /// A delete.
    Delete,
}

impl Method {
    /// The HTTP method name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
        }
    }
}

/// One version of one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    /// The resource type.
    pub resource_type: String,
    /// The logical id.
    pub id: String,
    /// The version id, from 1, one more for each write (deletes included).
    pub version_id: u64,
    /// When it was written, seconds since the Unix epoch (`meta.lastUpdated`).
    pub last_updated: i64,
    /// The interaction that wrote it.
    pub method: Method,
    /// The resource with `id` and `meta` set, or `None` for a deletion.
    pub resource: Option<Value>,
}

impl Version {
    /// The weak ETag of this version, `W/"n"`.
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.version_id)
    }

    /// `meta.lastUpdated` as an HTTP date, for `Last-Modified`.
    pub fn last_modified(&self) -> String {
        http_date(self.last_updated)
    }

    /// Whether this version records a deletion.
    pub fn is_deleted(&self) -> bool {
        self.resource.is_none()
    }
}

/// What a successful create or update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteStatus {
    /// A new resource (or a deleted one brought back): 201.
    Created,
    /// A new version of a current resource: 200.
    Updated,
    /// Conditional create found one match and wrote nothing: 200.
    Existing,
}

impl WriteStatus {
    /// The HTTP status to answer with.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Created => 201,
            Self::Updated | Self::Existing => 200,
        }
    }
}

/// The result of a successful create or update.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    /// What happened.
    pub status: WriteStatus,
    /// The resulting current version (the existing one for [`WriteStatus::Existing`]).
    pub version: Version,
}

/// An `If-Match` precondition.
enum Expect {
    Any,
    Version(u64),
}

/// The in-memory store. `Clone` it to keep a pristine copy for resets; two stores are
/// equal when they hold the same histories.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Store {
    types: BTreeMap<String, BTreeMap<String, Vec<Version>>>,
    next_id: u64,
}

impl Store {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The built-in synthetic data set ([`data::generate`]), every resource at version
    /// 1 with `meta.lastUpdated` [`data::GENERATED_AT`]: identical on every call.
    pub fn builtin() -> Self {
        let mut store = Self::new();
        for resource in data::generate() {
            let ty = resource.get("resourceType").and_then(Value::as_str);
            let id = resource.get("id").and_then(Value::as_str);
            if let (Some(ty), Some(id)) = (ty, id) {
                let (ty, id) = (ty.to_string(), id.to_string());
                store.insert_initial(&ty, &id, resource, data::GENERATED_AT);
            }
        }
        store
    }

    /// The current version of `resource_type/id`.
    ///
    /// # Errors
    /// [`FhirError::UnknownType`], [`FhirError::InvalidId`], [`FhirError::NotFound`]
    /// (never existed), [`FhirError::Gone`] (deleted).
    pub fn read(&self, resource_type: &str, id: &str) -> Result<&Version, FhirError> {
        let history = self.history(resource_type, id)?;
        match history.last() {
            Some(v) if v.is_deleted() => Err(gone(v)),
            Some(v) => Ok(v),
            None => Err(not_found(resource_type, id)),
        }
    }

    /// Version `version` of `resource_type/id`.
    ///
    /// # Errors
    /// As [`read`](Self::read), plus [`FhirError::InvalidId`] for a malformed version
    /// id, [`FhirError::VersionNotFound`] for one that does not exist, and
    /// [`FhirError::Gone`] when that version is the deletion.
    pub fn vread(
        &self,
        resource_type: &str,
        id: &str,
        version: &str,
    ) -> Result<&Version, FhirError> {
        let history = self.history(resource_type, id)?;
        if !valid_id(version) {
            return Err(FhirError::InvalidId(version.into()));
        }
        let found = version
            .parse::<u64>()
            .ok()
            .and_then(|n| history.iter().find(|v| v.version_id == n));
        match found {
            Some(v) if v.is_deleted() => Err(gone(v)),
            Some(v) => Ok(v),
            None => Err(FhirError::VersionNotFound {
                resource_type: resource_type.into(),
                id: id.into(),
                version: version.into(),
            }),
        }
    }

    /// Every version of `resource_type/id`, oldest first (deletions included).
    ///
    /// # Errors
    /// [`FhirError::UnknownType`], [`FhirError::InvalidId`], [`FhirError::NotFound`].
    pub fn history(&self, resource_type: &str, id: &str) -> Result<&[Version], FhirError> {
        check_type(resource_type)?;
        check_id(id)?;
        self.types
            .get(resource_type)
            .and_then(|m| m.get(id))
            .map(Vec::as_slice)
            .ok_or_else(|| not_found(resource_type, id))
    }

    /// The history of `resource_type/id` as an R4 `history` Bundle, newest first:
    /// each entry has `fullUrl` (`{base}/{type}/{id}`), the resource (absent for a
    /// deletion), `request` and `response` (status, `etag`, `lastModified`).
    ///
    /// # Errors
    /// As [`history`](Self::history).
    pub fn history_bundle(
        &self,
        base: &str,
        resource_type: &str,
        id: &str,
    ) -> Result<Value, FhirError> {
        let base = base.trim_end_matches('/');
        let versions = self.history(resource_type, id)?;
        let mut entries = Vec::with_capacity(versions.len());
        let mut previous_live = false;
        let mut statuses = Vec::with_capacity(versions.len());
        for v in versions {
            statuses.push(match (v.is_deleted(), previous_live) {
                (true, _) => "204 No Content",
                (false, true) => "200 OK",
                (false, false) => "201 Created",
            });
            previous_live = !v.is_deleted();
        }
        for (v, status) in versions.iter().zip(statuses).rev() {
            let url = match v.method {
                Method::Post => resource_type.to_string(),
                Method::Put | Method::Delete => format!("{resource_type}/{id}"),
            };
            let mut entry = json!({
                "fullUrl": format!("{base}/{resource_type}/{id}"),
                "request": { "method": v.method.as_str(), "url": url },
                "response": {
                    "status": status,
                    "etag": v.etag(),
                    "lastModified": format_instant(v.last_updated),
                },
            });
            if let (Some(resource), Some(obj)) = (&v.resource, entry.as_object_mut()) {
                obj.insert("resource".into(), resource.clone());
            }
            entries.push(entry);
        }
        Ok(json!({
            "resourceType": "Bundle",
            "type": "history",
            "total": entries.len(),
            "link": [{
                "relation": "self",
                "url": format!("{base}/{resource_type}/{id}/_history"),
            }],
            "entry": entries,
        }))
    }

    /// Creates a resource of `resource_type` from `body` with a server-assigned id.
    ///
    /// # Errors
    /// [`FhirError::UnknownType`]; the errors of [`validate_resource`].
    pub fn create(
        &mut self,
        resource_type: &str,
        body: Value,
        now: i64,
    ) -> Result<Write, FhirError> {
        check_type(resource_type)?;
        validate_resource(resource_type, &body)?;
        let id = self.next_free_id(resource_type);
        Ok(self.push(
            resource_type,
            &id,
            Some(body),
            Method::Post,
            now,
            WriteStatus::Created,
        ))
    }

    /// Conditional create (`If-None-Exist: criteria`): creates unless resources visible
    /// under `access` match `criteria` (a query string such as
    /// `identifier=http://x|123`). No match creates; one match returns it
    /// ([`WriteStatus::Existing`]) and writes nothing.
    ///
    /// # Errors
    /// As [`create`](Self::create) (checked first); [`FhirError::InvalidParameter`]
    /// for criteria without a parameter, with a parameter this server does not know
    /// (refused, not ignored) or with a bad value; [`FhirError::MultipleMatches`]
    /// (412) for more than one match.
    pub fn create_if_none_exist(
        &mut self,
        resource_type: &str,
        body: Value,
        criteria: &str,
        access: &Access,
        now: i64,
    ) -> Result<Write, FhirError> {
        check_type(resource_type)?;
        validate_resource(resource_type, &body)?;
        let query = SearchQuery::parse_strict(resource_type, criteria, "If-None-Exist")?;
        let ids: Vec<String> = search::matching(self, &query, access)
            .iter()
            .filter_map(|r| r.get("id").and_then(Value::as_str).map(String::from))
            .collect();
        match ids.as_slice() {
            [] => self.create(resource_type, body, now),
            [id] => Ok(Write {
                status: WriteStatus::Existing,
                version: self.read(resource_type, id)?.clone(),
            }),
            more => Err(FhirError::MultipleMatches { count: more.len() }),
        }
    }

    /// Updates (or creates) `resource_type/id` with `body`; `if_match` is the
    /// `If-Match` header, if any.
    ///
    /// # Errors
    /// [`FhirError::UnknownType`], [`FhirError::InvalidId`]; the errors of
    /// [`validate_resource`]; [`FhirError::BadRequest`] when the body has no `id` or a
    /// different one; [`FhirError::InvalidParameter`] for a malformed `If-Match`;
    /// [`FhirError::PreconditionFailed`] when `If-Match` does not name the current
    /// version (or there is none).
    pub fn update(
        &mut self,
        resource_type: &str,
        id: &str,
        body: Value,
        if_match: Option<&str>,
        now: i64,
    ) -> Result<Write, FhirError> {
        check_type(resource_type)?;
        check_id(id)?;
        validate_resource(resource_type, &body)?;
        match body.get("id") {
            Some(Value::String(body_id)) if body_id == id => {}
            None => {
                return Err(FhirError::BadRequest(format!(
                    "the resource has no id; an update of {resource_type}/{id} must carry id '{id}'"
                )));
            }
            Some(other) => {
                return Err(FhirError::BadRequest(format!(
                    "the resource id {} differs from the id '{id}' in the URL",
                    clip(&other.to_string())
                )));
            }
        }
        let expected = if_match.map(parse_if_match).transpose()?;
        let current = self
            .types
            .get(resource_type)
            .and_then(|m| m.get(id))
            .and_then(|h| h.last())
            .filter(|v| !v.is_deleted());
        match (expected, current) {
            (None, _) | (Some(Expect::Any), Some(_)) => {}
            (Some(Expect::Version(n)), Some(c)) if c.version_id == n => {}
            (Some(Expect::Version(n)), Some(c)) => {
                return Err(FhirError::PreconditionFailed(format!(
                    "If-Match is W/\"{n}\" but {resource_type}/{id} is at W/\"{}\"",
                    c.version_id
                )));
            }
            (Some(_), None) => {
                return Err(FhirError::PreconditionFailed(format!(
                    "If-Match was sent but {resource_type}/{id} has no current version"
                )));
            }
        }
        let status = if current.is_some() {
            WriteStatus::Updated
        } else {
            WriteStatus::Created
        };
        Ok(self.push(resource_type, id, Some(body), Method::Put, now, status))
    }

    /// Deletes `resource_type/id` and returns the deletion version (the existing one
    /// when it was already deleted: deleting twice succeeds and writes nothing).
    ///
    /// # Errors
    /// [`FhirError::UnknownType`], [`FhirError::InvalidId`], [`FhirError::NotFound`].
    pub fn delete(
        &mut self,
        resource_type: &str,
        id: &str,
        now: i64,
    ) -> Result<Version, FhirError> {
        let last = self.history(resource_type, id)?.last().cloned();
        match last {
            Some(v) if v.is_deleted() => Ok(v),
            Some(_) => Ok(self
                .push(
                    resource_type,
                    id,
                    None,
                    Method::Delete,
                    now,
                    WriteStatus::Updated,
                )
                .version),
            None => Err(not_found(resource_type, id)),
        }
    }

    /// The current (not deleted) resources of `resource_type`, in id order.
    pub fn current<'a>(&'a self, resource_type: &str) -> impl Iterator<Item = &'a Value> + 'a {
        self.types
            .get(resource_type)
            .into_iter()
            .flat_map(|m| m.values())
            .filter_map(|h| h.last().and_then(|v| v.resource.as_ref()))
    }

    /// How many current resources of `resource_type` there are.
    pub fn count(&self, resource_type: &str) -> usize {
        self.current(resource_type).count()
    }

    /// The resource types with at least one current resource, sorted.
    pub fn resource_types(&self) -> Vec<&str> {
        self.types
            .keys()
            .filter(|t| self.count(t) > 0)
            .map(String::as_str)
            .collect()
    }

    /// Whether `resource_type/id` has any version (current or deleted).
    pub(crate) fn contains(&self, resource_type: &str, id: &str) -> bool {
        self.types
            .get(resource_type)
            .is_some_and(|m| m.contains_key(id))
    }

    /// Stores `resource` as version 1 of `resource_type/id` without checks (the caller
    /// validated it and made sure the id is new).
    pub(crate) fn insert_initial(
        &mut self,
        resource_type: &str,
        id: &str,
        resource: Value,
        now: i64,
    ) {
        self.push(
            resource_type,
            id,
            Some(resource),
            Method::Put,
            now,
            WriteStatus::Created,
        );
    }

    /// Replaces every `reference` equal to a key of `map` with its value, in every
    /// current resource (used once, right after loading a Bundle).
    pub(crate) fn rewrite_references(&mut self, map: &BTreeMap<String, String>) {
        for history in self.types.values_mut().flat_map(|m| m.values_mut()) {
            if let Some(resource) = history.last_mut().and_then(|v| v.resource.as_mut()) {
                rewrite(resource, map);
            }
        }
    }

    fn next_free_id(&mut self, resource_type: &str) -> String {
        loop {
            self.next_id += 1;
            let id = self.next_id.to_string();
            if !self.contains(resource_type, &id) {
                return id;
            }
        }
    }

    fn push(
        &mut self,
        resource_type: &str,
        id: &str,
        resource: Option<Value>,
        method: Method,
        now: i64,
        status: WriteStatus,
    ) -> Write {
        let history = self
            .types
            .entry(resource_type.into())
            .or_default()
            .entry(id.into())
            .or_default();
        let version_id = history.last().map_or(1, |v| v.version_id + 1);
        let resource = resource.map(|mut r| {
            stamp(&mut r, id, version_id, now);
            r
        });
        let version = Version {
            resource_type: resource_type.into(),
            id: id.into(),
            version_id,
            last_updated: now,
            method,
            resource,
        };
        history.push(version.clone());
        Write { status, version }
    }
}

/// Parses an `If-Match` value: `W/"n"`, `"n"` or `*`.
fn parse_if_match(value: &str) -> Result<Expect, FhirError> {
    let value = value.trim();
    if value == "*" {
        return Ok(Expect::Any);
    }
    let quoted = value.strip_prefix("W/").unwrap_or(value);
    quoted
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse().ok())
        .map(Expect::Version)
        .ok_or_else(|| FhirError::InvalidParameter {
            name: "If-Match".into(),
            reason: format!("'{}' is not an ETag of the form W/\"n\"", clip(value)),
        })
}

fn stamp(resource: &mut Value, id: &str, version_id: u64, now: i64) {
    if let Some(obj) = resource.as_object_mut() {
        obj.insert("id".into(), Value::String(id.into()));
        let meta = obj
            .entry("meta")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(meta) = meta.as_object_mut() {
            meta.insert("versionId".into(), Value::String(version_id.to_string()));
            meta.insert("lastUpdated".into(), Value::String(format_instant(now)));
        }
    }
}

fn rewrite(value: &mut Value, map: &BTreeMap<String, String>) {
    match value {
        Value::Object(obj) => {
            for (key, child) in obj.iter_mut() {
                match child {
                    Value::String(s) if key == "reference" => {
                        if let Some(local) = map.get(s.as_str()) {
                            *s = local.clone();
                        }
                    }
                    _ => rewrite(child, map),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rewrite(i, map)),
        _ => {}
    }
}

fn check_type(resource_type: &str) -> Result<(), FhirError> {
    if is_resource_type(resource_type) {
        Ok(())
    } else {
        Err(FhirError::UnknownType(resource_type.into()))
    }
}

fn check_id(id: &str) -> Result<(), FhirError> {
    if valid_id(id) {
        Ok(())
    } else {
        Err(FhirError::InvalidId(id.into()))
    }
}

fn not_found(resource_type: &str, id: &str) -> FhirError {
    FhirError::NotFound {
        resource_type: resource_type.into(),
        id: id.into(),
    }
}

fn gone(v: &Version) -> FhirError {
    FhirError::Gone {
        resource_type: v.resource_type.clone(),
        id: v.id.clone(),
        version: v.version_id,
    }
}
