//! Fixtures instead of the built-in data (`--data FILE`): a FHIR Bundle of type
//! `transaction` or `collection` (JSON), a single `.ndjson` file, or a folder of
//! `*.ndjson` files (one resource per line, as bulk export writes them).
//!
//! Everything is checked before the store is handed back; the first problem refuses
//! the whole load with a [`LoadError`] naming the file, the resource (entry index or
//! line number, and `Type/id` when known) and the reason. Every resource passes the
//! same checks as a write ([`validate_resource`], valid id), and a `Type/id` may appear
//! once in a load. Every resource becomes version 1 with `meta.lastUpdated` = `now`.
//!
//! - `collection` entries and NDJSON lines must carry an `id`.
//! - `transaction` entries need `request`: `PUT Type/id` (the body's `id` must equal
//!   the URL's) or `POST Type` (the id is the `urn:uuid:` of `fullUrl` when there is
//!   one, else server-assigned; `ifNoneExist` is honoured against the entries loaded
//!   before it). Other methods and conditional PUTs are refused.
//! - References to an entry's `fullUrl` (`urn:uuid:...`, absolute URLs) are rewritten
//!   to `Type/id`, as a transaction does.
//! - In a folder, files are read in name order; other files and subfolders are
//!   skipped; a folder without `*.ndjson` files is refused, as is an empty Bundle.

use alloc::collections::BTreeMap;
use core::fmt;
use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::fhir::access::Access;
use crate::fhir::error::clip;
use crate::fhir::search::{self, SearchQuery};
use crate::fhir::{FhirError, Store, is_resource_type, valid_id, validate_resource};

/// Why a fixture load was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file (or folder) at fault.
    pub file: String,
    /// Which resource: `entry 3 (Patient/abc)`, `line 7`; `None` for the file as a whole.
    pub resource: Option<String>,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.resource {
            Some(r) => write!(f, "{}: {r}: {}", self.file, self.reason),
            None => write!(f, "{}: {}", self.file, self.reason),
        }
    }
}

impl core::error::Error for LoadError {}

/// Loads `path`: a folder of `*.ndjson` files, a `.ndjson` file, or a Bundle JSON file.
///
/// # Errors
/// A [`LoadError`] for an unreadable path or the first invalid resource.
pub fn load_path(path: &Path, now: i64) -> Result<Store, LoadError> {
    let name = path.display().to_string();
    let whole = |reason: String| LoadError {
        file: name.clone(),
        resource: None,
        reason,
    };
    let mut loader = Loader::new(now);
    if path.is_dir() {
        let mut files: Vec<_> = fs::read_dir(path)
            .map_err(|e| whole(format!("cannot read the folder: {e}")))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "ndjson"))
            .collect();
        if files.is_empty() {
            return Err(whole("the folder has no *.ndjson files".into()));
        }
        files.sort();
        for file in files {
            let text = read(&file)?;
            loader.ndjson(&file.display().to_string(), &text)?;
        }
    } else {
        let text = read(path)?;
        if path.extension().is_some_and(|x| x == "ndjson") {
            loader.ndjson(&name, &text)?;
        } else {
            loader.bundle(&name, &text)?;
        }
    }
    Ok(loader.finish())
}

/// Loads a Bundle (`transaction` or `collection`) from JSON text; `name` names it in
/// errors. For Rust tests that embed their fixtures.
///
/// # Errors
/// A [`LoadError`] for the first problem.
pub fn load_bundle_str(name: &str, json: &str, now: i64) -> Result<Store, LoadError> {
    let mut loader = Loader::new(now);
    loader.bundle(name, json)?;
    Ok(loader.finish())
}

/// Loads NDJSON text (one resource per line); `name` names it in errors.
///
/// # Errors
/// A [`LoadError`] for the first problem.
pub fn load_ndjson_str(name: &str, ndjson: &str, now: i64) -> Result<Store, LoadError> {
    let mut loader = Loader::new(now);
    loader.ndjson(name, ndjson)?;
    Ok(loader.finish())
}

fn read(path: &Path) -> Result<String, LoadError> {
    fs::read_to_string(path).map_err(|e| LoadError {
        file: path.display().to_string(),
        resource: None,
        reason: format!("cannot read the file: {e}"),
    })
}

struct Loader {
    store: Store,
    /// `Type/id` -> where it was loaded from.
    seen: BTreeMap<String, String>,
    /// `fullUrl` -> `Type/id`.
    urls: BTreeMap<String, String>,
    now: i64,
}

/// What a resource is, once its checks passed.
struct Checked {
    ty: String,
    id: Option<String>,
}

impl Loader {
    fn new(now: i64) -> Self {
        Self {
            store: Store::new(),
            seen: BTreeMap::new(),
            urls: BTreeMap::new(),
            now,
        }
    }

    fn finish(mut self) -> Store {
        self.store.rewrite_references(&self.urls);
        self.store
    }

    fn ndjson(&mut self, file: &str, text: &str) -> Result<(), LoadError> {
        let mut any = false;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            any = true;
            let mut at = format!("line {}", i + 1);
            let err = |at: &str, reason: String| LoadError {
                file: file.into(),
                resource: Some(at.into()),
                reason,
            };
            let resource: Value =
                serde_json::from_str(line).map_err(|e| err(&at, format!("not valid JSON: {e}")))?;
            let checked = check(&resource).map_err(|r| err(&labelled(&at, &resource), r))?;
            let Some(id) = checked.id else {
                return Err(err(
                    &labelled(&at, &resource),
                    "the resource has no id".into(),
                ));
            };
            at = format!("{at} ({}/{id})", checked.ty);
            self.insert(&checked.ty, &id, resource, &at)
                .map_err(|r| err(&at, r))?;
        }
        if any {
            Ok(())
        } else {
            Err(LoadError {
                file: file.into(),
                resource: None,
                reason: "the file has no resources".into(),
            })
        }
    }

    fn bundle(&mut self, file: &str, text: &str) -> Result<(), LoadError> {
        let whole = |reason: String| LoadError {
            file: file.into(),
            resource: None,
            reason,
        };
        let bundle: Value =
            serde_json::from_str(text).map_err(|e| whole(format!("not valid JSON: {e}")))?;
        if bundle.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
            return Err(whole(
                "not a FHIR Bundle (resourceType is not 'Bundle')".into(),
            ));
        }
        let kind = bundle
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let transaction = match kind {
            "transaction" => true,
            "collection" => false,
            other => {
                return Err(whole(format!(
                    "Bundle.type is '{}'; only 'transaction' and 'collection' can be loaded",
                    clip(other)
                )));
            }
        };
        let entries = match bundle.get("entry") {
            Some(Value::Array(entries)) if !entries.is_empty() => entries,
            None | Some(Value::Array(_)) => return Err(whole("the Bundle has no entries".into())),
            Some(_) => return Err(whole("Bundle.entry is not an array".into())),
        };
        for (i, entry) in entries.iter().enumerate() {
            let at = format!("entry {i}");
            self.entry(entry, transaction, &at)
                .map_err(|(at, reason)| LoadError {
                    file: file.into(),
                    resource: Some(at),
                    reason,
                })?;
        }
        Ok(())
    }

    fn entry(
        &mut self,
        entry: &Value,
        transaction: bool,
        at: &str,
    ) -> Result<(), (String, String)> {
        let fail = |at: &str, reason: String| (at.to_string(), reason);
        let resource = entry
            .get("resource")
            .cloned()
            .ok_or_else(|| fail(at, "the entry has no resource".into()))?;
        let index = at;
        let labelled_at = labelled(index, &resource);
        let at = labelled_at.as_str();
        let checked = check(&resource).map_err(|r| fail(at, r))?;
        let ty = checked.ty;
        let full_url = entry.get("fullUrl").and_then(Value::as_str);
        let id = if transaction {
            let request = entry
                .get("request")
                .ok_or_else(|| fail(at, "a transaction entry needs a request".into()))?;
            let method = request
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let url = request
                .get("url")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match method {
                "PUT" => {
                    let (url_ty, url_id) = url.split_once('/').unwrap_or((url, ""));
                    if url_ty != ty || url.contains('?') || !valid_id(url_id) {
                        return Err(fail(
                            at,
                            format!("PUT needs the url {ty}/[id], not '{}'", clip(url)),
                        ));
                    }
                    if checked.id.as_deref() != Some(url_id) {
                        return Err(fail(
                            at,
                            format!("the resource id must equal the id '{url_id}' of the PUT url"),
                        ));
                    }
                    url_id.to_string()
                }
                "POST" if url == ty => {
                    let criteria = request.get("ifNoneExist").and_then(Value::as_str);
                    if let Some(criteria) = criteria
                        && let Some(existing) =
                            self.existing(&ty, criteria).map_err(|r| fail(at, r))?
                    {
                        if let Some(full_url) = full_url {
                            self.urls
                                .insert(full_url.into(), format!("{ty}/{existing}"));
                        }
                        return Ok(());
                    }
                    match full_url.and_then(|u| u.strip_prefix("urn:uuid:")) {
                        Some(uuid) if valid_id(uuid) => uuid.to_string(),
                        _ => self.store_next_id(&ty),
                    }
                }
                "POST" => {
                    return Err(fail(
                        at,
                        format!("POST needs the url '{ty}', not '{}'", clip(url)),
                    ));
                }
                other => {
                    return Err(fail(
                        at,
                        format!(
                            "request method '{}' cannot be loaded (use PUT or POST)",
                            clip(other)
                        ),
                    ));
                }
            }
        } else {
            checked
                .id
                .ok_or_else(|| fail(at, "a collection entry's resource needs an id".into()))?
        };
        let at = format!("{index} ({ty}/{id})");
        if let Some(url) = full_url {
            self.urls.insert(url.into(), format!("{ty}/{id}"));
        }
        self.insert(&ty, &id, resource, &at)
            .map_err(|r| fail(&at, r))
    }

    /// The id of the one resource matching `criteria` among those loaded so far.
    fn existing(&self, ty: &str, criteria: &str) -> Result<Option<String>, String> {
        let query =
            SearchQuery::parse_strict(ty, criteria, "ifNoneExist").map_err(|e| e.to_string())?;
        let found = search::matching(&self.store, &query, &Access::unrestricted());
        match found.as_slice() {
            [] => Ok(None),
            [one] => Ok(one.get("id").and_then(Value::as_str).map(String::from)),
            more => Err(FhirError::MultipleMatches { count: more.len() }.to_string()),
        }
    }

    fn store_next_id(&mut self, ty: &str) -> String {
        let mut n = self.seen.len() + 1;
        loop {
            let id = format!("loaded-{n}");
            if !self.store.contains(ty, &id) {
                return id;
            }
            n += 1;
        }
    }

    fn insert(&mut self, ty: &str, id: &str, resource: Value, at: &str) -> Result<(), String> {
        let key = format!("{ty}/{id}");
        if let Some(first) = self.seen.get(&key) {
            return Err(format!("{key} appears twice (first at {first})"));
        }
        let mut resource = resource;
        if let Some(obj) = resource.as_object_mut() {
            obj.insert("id".into(), Value::String(id.into()));
        }
        self.store.insert_initial(ty, id, resource, self.now);
        self.seen.insert(key, at.into());
        Ok(())
    }
}

/// `at`, followed by the resource's `(Type/id)` as written, when it has both.
fn labelled(at: &str, resource: &Value) -> String {
    let ty = resource.get("resourceType").and_then(Value::as_str);
    let id = resource.get("id").and_then(Value::as_str);
    match (ty, id) {
        (Some(ty), Some(id)) => format!("{at} ({}/{})", clip(ty), clip(id)),
        (Some(ty), None) => format!("{at} ({})", clip(ty)),
        _ => at.into(),
    }
}

/// Checks a resource for loading: a known type, the write checks, a valid id if any.
fn check(resource: &Value) -> Result<Checked, String> {
    let ty = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .ok_or("the resource has no resourceType")?;
    if !is_resource_type(ty) {
        return Err(FhirError::UnknownType(ty.into()).to_string());
    }
    validate_resource(ty, resource).map_err(|e| e.to_string())?;
    let id = match resource.get("id") {
        None => None,
        Some(Value::String(id)) if valid_id(id) => Some(id.clone()),
        Some(other) => return Err(FhirError::InvalidId(other.to_string()).to_string()),
    };
    Ok(Checked { ty: ty.into(), id })
}
