//! FHIR search over the [`Store`]: query parsing, matching, sorting, paging,
//! `_include`, and the `searchset` Bundle ([R4 search]).
//!
//! Supported, per type (plus `_id` and `_lastUpdated` on every type):
//!
//! | type | parameters |
//! | --- | --- |
//! | Patient | `name`, `family`, `given` (string), `birthdate`, `gender`, `identifier`, `general-practitioner`, `organization` |
//! | Practitioner | `name`, `family`, `given`, `identifier` |
//! | Organization | `name`, `identifier` |
//! | Group | `member`, `actual`, `type`, `identifier` |
//! | Observation | `patient`, `subject`, `encounter`, `performer`, `code`, `category`, `date`, `status`, `identifier` |
//! | Encounter | `patient`, `subject`, `date`, `status`, `class`, `type`, `participant`, `practitioner`, `service-provider`, `identifier` |
//! | Condition | `patient`, `subject`, `encounter`, `asserter`, `code`, `category`, `clinical-status`, `verification-status`, `onset-date`, `recorded-date`, `identifier` |
//! | MedicationRequest | `patient`, `subject`, `encounter`, `requester`, `code`, `status`, `intent`, `category`, `authoredon`, `identifier` |
//! | AllergyIntolerance | `patient`, `recorder`, `asserter`, `code`, `clinical-status`, `verification-status`, `category`, `criticality`, `type`, `date`, `identifier` |
//! | Immunization | `patient`, `performer`, `date`, `status`, `vaccine-code`, `identifier` |
//! | DiagnosticReport | `patient`, `subject`, `encounter`, `code`, `category`, `date`, `status`, `identifier` |
//! | Procedure | `patient`, `subject`, `encounter`, `code`, `date`, `status`, `identifier` |
//!
//! Values: commas separate alternatives (OR), a repeated parameter ANDs, `\,` `\|`
//! `\$` `\\` escape. Tokens take `code`, `system|code`, `|code` (no system) and
//! `system|` (any code); plain `code` elements (`status`, `gender`) have no system.
//! References take `id`, `Type/id` or an absolute URL ending in `Type/id`, and a
//! `:Type` modifier. Dates take the prefixes `eq` (default), `ne`, `gt`, `lt`, `ge`,
//! `le`; `sa`, `eb`, `ap` are refused. Strings match case-insensitively from the start,
//! or with `:exact` / `:contains`. Other modifiers are refused (400).
//!
//! Result parameters: `_count` (default [`DEFAULT_COUNT`]; larger values are capped at
//! [`MAX_COUNT`]; `0` gives only `total`), `_offset` (the paging cursor the `next` and
//! `previous` links use), `_sort` (comma-separated, `-` for descending, on `_id`,
//! `_lastUpdated` and the type's date and string parameters; missing values last),
//! `_include=Type:param[:Target]` on the type's reference parameters.
//!
//! Parameters the server does not know (including `_summary`, `_elements`,
//! `_revinclude`, chains) are ignored, as R4 allows, listed in
//! [`SearchResult::ignored`], and left out of the `self` link, which therefore shows
//! the search that was actually run. Bad values of known parameters are 400.
//!
//! [R4 search]: https://hl7.org/fhir/R4/search.html

use alloc::collections::BTreeSet;
use core::cmp::Ordering;

use serde_json::{Value, json};

use crate::fhir::access::Access;
use crate::fhir::date;
use crate::fhir::error::clip;
use crate::fhir::params::{self, Clause, Kind, ParamDef};
use crate::fhir::query::{encode, parse_pairs};
use crate::fhir::{FhirError, Store, is_resource_type, parse_local_reference};

/// Page size when the query has no `_count`.
pub const DEFAULT_COUNT: usize = 50;
/// The largest page served; a larger `_count` is lowered to this (and the links say so).
pub const MAX_COUNT: usize = 1000;

/// The names of the search parameters `resource_type` supports (for a
/// CapabilityStatement), `_id` and `_lastUpdated` first.
pub fn supported_params(resource_type: &str) -> Vec<&'static str> {
    params::names(resource_type)
}

/// The resource types with search parameters of their own (the table above), sorted.
/// Every other type searches by `_id` and `_lastUpdated` only.
pub fn searchable_types() -> &'static [&'static str] {
    params::TYPES
}

/// The search parameters of `resource_type` with their R4 search parameter type
/// (`token`, `reference`, `date` or `string`), `_id` and `_lastUpdated` first: what a
/// CapabilityStatement's `searchParam` lists.
pub fn supported_param_types(resource_type: &str) -> Vec<(&'static str, &'static str)> {
    params::typed(resource_type)
}

#[derive(Debug, Clone)]
enum SortField {
    Id,
    Param(&'static ParamDef),
}

#[derive(Debug, Clone)]
struct SortKey {
    field: SortField,
    descending: bool,
}

#[derive(Debug, Clone)]
struct Include {
    def: &'static ParamDef,
    target: Option<&'static str>,
}

/// A parsed search query for one resource type.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    resource_type: String,
    clauses: Vec<Clause>,
    count: usize,
    offset: usize,
    sort: Vec<SortKey>,
    includes: Vec<Include>,
    kept: Vec<(String, String)>,
    ignored: Vec<String>,
}

fn invalid(name: &str, reason: impl Into<String>) -> FhirError {
    FhirError::InvalidParameter {
        name: name.into(),
        reason: reason.into(),
    }
}

impl SearchQuery {
    /// Parses `query` (a URL query string, with or without `?`) for `resource_type`,
    /// ignoring unknown parameters.
    ///
    /// # Errors
    /// [`FhirError::UnknownType`]; [`FhirError::InvalidParameter`] for bad encoding or
    /// a bad value of a known parameter (`_count=abc`, `date=2023-13`, a repeated
    /// `_count`); [`FhirError::NotSupported`] for an unsupported modifier, prefix or
    /// `_include` form.
    pub fn parse(resource_type: &str, query: &str) -> Result<Self, FhirError> {
        Self::parse_inner(resource_type, query, None)
    }

    /// As [`parse`](Self::parse), but an unknown parameter is an error, and so is a
    /// query without any search parameter; `context` names the source in errors.
    pub(crate) fn parse_strict(
        resource_type: &str,
        query: &str,
        context: &str,
    ) -> Result<Self, FhirError> {
        let parsed = Self::parse_inner(resource_type, query, Some(context))?;
        if parsed.clauses.is_empty() {
            return Err(invalid(context, "needs at least one search parameter"));
        }
        Ok(parsed)
    }

    fn parse_inner(
        resource_type: &str,
        query: &str,
        strict: Option<&str>,
    ) -> Result<Self, FhirError> {
        if !is_resource_type(resource_type) {
            return Err(FhirError::UnknownType(resource_type.into()));
        }
        let mut q = Self {
            resource_type: resource_type.into(),
            clauses: Vec::new(),
            count: DEFAULT_COUNT,
            offset: 0,
            sort: Vec::new(),
            includes: Vec::new(),
            kept: Vec::new(),
            ignored: Vec::new(),
        };
        let (mut seen_count, mut seen_offset, mut seen_sort) = (false, false, false);
        for (name, value) in parse_pairs(query)? {
            let (base, modifier) = match name.split_once(':') {
                Some((b, m)) => (b, Some(m)),
                None => (name.as_str(), None),
            };
            match base {
                "_count" | "_offset" | "_sort" if modifier.is_some() => {
                    return Err(FhirError::NotSupported(format!(
                        "'{}' takes no modifier",
                        clip(&name)
                    )));
                }
                "_count" => {
                    once(&mut seen_count, &name)?;
                    q.count = parse_number(&name, &value)?.min(MAX_COUNT);
                }
                "_offset" => {
                    once(&mut seen_offset, &name)?;
                    q.offset = parse_number(&name, &value)?;
                }
                "_sort" => {
                    once(&mut seen_sort, &name)?;
                    q.sort = parse_sort(resource_type, &value)?;
                    q.kept.push((name, value));
                }
                "_include" => {
                    if let Some(m) = modifier {
                        return Err(FhirError::NotSupported(format!(
                            "_include:{} is not supported",
                            clip(m)
                        )));
                    }
                    q.includes.push(parse_include(resource_type, &value)?);
                    q.kept.push((name, value));
                }
                _ => match params::lookup(resource_type, base) {
                    Some(def) => {
                        q.clauses.push(Clause::parse(def, modifier, &value)?);
                        q.kept.push((name, value));
                    }
                    None => match strict {
                        Some(context) => {
                            return Err(invalid(
                                context,
                                format!(
                                    "'{}' is not a search parameter of {resource_type} on this server",
                                    clip(&name)
                                ),
                            ));
                        }
                        None => q.ignored.push(name),
                    },
                },
            }
        }
        Ok(q)
    }

    /// The parameters that were ignored because this server does not know them.
    pub fn ignored(&self) -> &[String] {
        &self.ignored
    }

    /// The page size in effect (after the [`MAX_COUNT`] cap).
    pub fn count(&self) -> usize {
        self.count
    }

    /// The paging offset in effect.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Whether `resource` meets every search parameter of this query.
    pub fn matches(&self, resource: &Value) -> bool {
        self.clauses.iter().all(|c| c.matches(resource))
    }

    /// The URL of the page at `offset` with this query's recognised parameters, in
    /// their original order, then `_count` and (when not 0) `_offset`.
    fn page_url(&self, base: &str, offset: usize) -> String {
        let mut parts: Vec<String> = self
            .kept
            .iter()
            .map(|(n, v)| format!("{}={}", encode(n), encode(v)))
            .collect();
        parts.push(format!("_count={}", self.count));
        if offset > 0 {
            parts.push(format!("_offset={offset}"));
        }
        format!("{base}/{}?{}", self.resource_type, parts.join("&"))
    }
}

fn once(seen: &mut bool, name: &str) -> Result<(), FhirError> {
    if core::mem::replace(seen, true) {
        Err(invalid(name, "may appear only once"))
    } else {
        Ok(())
    }
}

fn parse_number(name: &str, value: &str) -> Result<usize, FhirError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(name, "expected a whole number of 0 or more"));
    }
    // An all-digit value too large for usize is simply enormous.
    Ok(value.parse().unwrap_or(usize::MAX))
}

fn parse_sort(resource_type: &str, value: &str) -> Result<Vec<SortKey>, FhirError> {
    value
        .split(',')
        .map(|key| {
            let (descending, name) = match key.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, key),
            };
            let field = match params::lookup(resource_type, name) {
                Some(def) if def.name == "_id" => SortField::Id,
                Some(def) if matches!(def.kind, Kind::Date | Kind::Str) => SortField::Param(def),
                _ => {
                    return Err(invalid(
                        "_sort",
                        format!(
                            "cannot sort {resource_type} by '{}' (use _id, _lastUpdated, or a date or string parameter)",
                            clip(name)
                        ),
                    ));
                }
            };
            Ok(SortKey { field, descending })
        })
        .collect()
}

fn parse_include(resource_type: &str, value: &str) -> Result<Include, FhirError> {
    if value == "*" || value.ends_with(":*") {
        return Err(FhirError::NotSupported(
            "_include with '*' is not supported".into(),
        ));
    }
    let mut parts = value.split(':');
    let (source, param, target) = (parts.next(), parts.next(), parts.next());
    if parts.next().is_some() || source != Some(resource_type) {
        return Err(invalid(
            "_include",
            format!(
                "expected {resource_type}:param[:Type], got '{}'",
                clip(value)
            ),
        ));
    }
    let def = param
        .and_then(|p| params::lookup(resource_type, p))
        .filter(|d| matches!(d.kind, Kind::Reference(_)))
        .ok_or_else(|| {
            invalid(
                "_include",
                format!(
                    "'{}' is not a reference parameter of {resource_type}",
                    clip(value)
                ),
            )
        })?;
    let target = match target {
        None => None,
        Some(t) => {
            let known = crate::fhir::RESOURCE_TYPES.iter().find(|k| **k == t);
            match (known, def.kind) {
                (Some(k), Kind::Reference(restricted)) if restricted.is_none_or(|r| r == *k) => {
                    Some(*k)
                }
                _ => {
                    return Err(invalid(
                        "_include",
                        format!("'{}' is not a possible target of {}", clip(t), def.name),
                    ));
                }
            }
        }
    };
    Ok(Include { def, target })
}

/// The outcome of [`search`].
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResult {
    /// The `searchset` Bundle.
    pub bundle: Value,
    /// How many resources matched (`Bundle.total`; includes not counted).
    pub total: usize,
    /// The query parameters that were ignored (unknown to this server).
    pub ignored: Vec<String>,
}

/// The current resources of the query's type that match it and that `access` permits,
/// in id order (unsorted, unpaged).
pub(crate) fn matching<'a>(
    store: &'a Store,
    query: &SearchQuery,
    access: &Access,
) -> Vec<&'a Value> {
    store
        .current(&query.resource_type)
        .filter(|r| query.matches(r) && access.permits(r))
        .collect()
}

/// Runs the search `query` on `resource_type` and builds the `searchset` Bundle.
///
/// `base` is the FHIR base URL (`http://host:port/fhir`) for `fullUrl`s and links.
/// `access` is mandatory: a match must also meet the caller's [`Access`] (the
/// security layer's compartment and scope filters, ANDed with the query), and an
/// `_include`d resource is only added when `access` permits it. `total` counts the
/// permitted matches only.
///
/// The Bundle has `type` `searchset`, `total`, a `self` link (the recognised
/// parameters, the effective `_count` and `_offset`), `next` and `previous` links when
/// there are such pages (same query, other `_offset`), and entries with `fullUrl`,
/// `resource` and `search.mode` (`match`, then `include`).
///
/// # Errors
/// [`FhirError::UnknownType`]; [`FhirError::Forbidden`] when `access` grants nothing
/// on `resource_type`; the errors of [`SearchQuery::parse`].
pub fn search(
    store: &Store,
    base: &str,
    resource_type: &str,
    query: &str,
    access: &Access,
) -> Result<SearchResult, FhirError> {
    let base = base.trim_end_matches('/');
    if !is_resource_type(resource_type) {
        return Err(FhirError::UnknownType(resource_type.into()));
    }
    if !access.permits_type(resource_type) {
        return Err(FhirError::Forbidden(format!(
            "this access does not cover {resource_type}"
        )));
    }
    let q = SearchQuery::parse(resource_type, query)?;
    let mut found = matching(store, &q, access);
    if !q.sort.is_empty() {
        let mut keyed: Vec<(Vec<Option<SortValue>>, &Value)> = found
            .into_iter()
            .map(|r| (q.sort.iter().map(|k| sort_value(&k.field, r)).collect(), r))
            .collect();
        keyed.sort_by(|(ka, ra), (kb, rb)| {
            compare(&q.sort, ka, kb).then_with(|| id_of(ra).cmp(id_of(rb)))
        });
        found = keyed.into_iter().map(|(_, r)| r).collect();
    }
    let total = found.len();
    let page: Vec<&Value> = found.iter().skip(q.offset).take(q.count).copied().collect();

    let mut entries: Vec<Value> = page.iter().map(|r| entry(base, r, "match")).collect();
    let mut seen: BTreeSet<(String, String)> = page
        .iter()
        .map(|r| (resource_type.to_string(), id_of(r).to_string()))
        .collect();
    for include in &q.includes {
        for r in &page {
            for element in include.def.values(r) {
                let Some((ty, id)) = element
                    .get("reference")
                    .and_then(Value::as_str)
                    .and_then(parse_local_reference)
                else {
                    continue;
                };
                if include.target.is_some_and(|t| t != ty) || seen.contains(&(ty.into(), id.into()))
                {
                    continue;
                }
                let Some(included) = store.read(ty, id).ok().and_then(|v| v.resource.as_ref())
                else {
                    continue;
                };
                if access.permits(included) {
                    seen.insert((ty.into(), id.into()));
                    entries.push(entry(base, included, "include"));
                }
            }
        }
    }

    let mut links = vec![json!({ "relation": "self", "url": q.page_url(base, q.offset) })];
    if q.count > 0 && q.offset.saturating_add(q.count) < total {
        let next = q.offset.saturating_add(q.count);
        links.push(json!({ "relation": "next", "url": q.page_url(base, next) }));
    }
    if q.count > 0 && q.offset > 0 {
        let prev = q.offset.min(total).saturating_sub(q.count);
        links.push(json!({ "relation": "previous", "url": q.page_url(base, prev) }));
    }
    let bundle = json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": entries,
    });
    Ok(SearchResult {
        bundle,
        total,
        ignored: q.ignored,
    })
}

fn entry(base: &str, resource: &Value, mode: &str) -> Value {
    let ty = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    json!({
        "fullUrl": format!("{base}/{ty}/{}", id_of(resource)),
        "resource": resource,
        "search": { "mode": mode },
    })
}

fn id_of(resource: &Value) -> &str {
    resource
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SortValue {
    Time(i64),
    Text(String),
}

fn sort_value(field: &SortField, resource: &Value) -> Option<SortValue> {
    match field {
        SortField::Id => Some(SortValue::Text(id_of(resource).into())),
        SortField::Param(def) => {
            let values = def.values(resource);
            match def.kind {
                Kind::Date => values
                    .iter()
                    .filter_map(|v| date::element_range(v))
                    .map(|r| r.start)
                    .min()
                    .map(SortValue::Time),
                _ => values
                    .iter()
                    .find_map(|v| v.as_str())
                    .map(|s| SortValue::Text(s.to_lowercase())),
            }
        }
    }
}

/// Compares two sort-key lists: each key in turn, descending keys reversed, a missing
/// value after any present one whatever the direction.
fn compare(keys: &[SortKey], a: &[Option<SortValue>], b: &[Option<SortValue>]) -> Ordering {
    for ((key, va), vb) in keys.iter().zip(a).zip(b) {
        let ord = match (va, vb) {
            (Some(x), Some(y)) if key.descending => y.cmp(x),
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}
