//! JSON Patch ([RFC 6902]) over a resource, with JSON Pointers ([RFC 6901]): `add`,
//! `remove`, `replace`, `move`, `copy`, `test`, applied in order to a copy, so a patch
//! that fails part-way changes nothing.
//!
//! A document that is not an array of operation objects with the members its `op`
//! needs is a 400; a patch that does not apply (a path that does not exist, a failed
//! `test`) is a 422, as FHIR's "patch" interaction asks.
//!
//! [RFC 6902]: https://www.rfc-editor.org/rfc/rfc6902
//! [RFC 6901]: https://www.rfc-editor.org/rfc/rfc6901

use serde_json::Value;

use crate::fhir::FhirError;
use crate::fhir::error::clip;
use crate::fhir_api::respond::ApiError;

/// The most operations one patch may hold.
pub(crate) const MAX_OPERATIONS: usize = 256;

fn malformed(why: impl Into<String>) -> ApiError {
    FhirError::BadRequest(format!("malformed JSON Patch: {}", why.into())).into()
}

/// A JSON Pointer split into unescaped tokens (`~1` is `/`, `~0` is `~`).
fn tokens(pointer: &str) -> Result<Vec<String>, ApiError> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let rest = pointer
        .strip_prefix('/')
        .ok_or_else(|| malformed(format!("'{}' is not a JSON Pointer", clip(pointer))))?;
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

/// An array index token: digits without a leading zero.
fn index(token: &str) -> Option<usize> {
    let canonical = token == "0" || (!token.starts_with('0') && !token.is_empty());
    if canonical && token.bytes().all(|b| b.is_ascii_digit()) {
        token.parse().ok()
    } else {
        None
    }
}

fn missing(pointer: &str) -> ApiError {
    ApiError::patch_failed(format!("the path '{}' does not exist", clip(pointer)))
}

/// The value at `path`.
fn get<'a>(doc: &'a Value, path: &[String], pointer: &str) -> Result<&'a Value, ApiError> {
    let mut current = doc;
    for t in path {
        current = match current {
            Value::Object(o) => o.get(t.as_str()),
            Value::Array(a) => index(t).and_then(|i| a.get(i)),
            _ => None,
        }
        .ok_or_else(|| missing(pointer))?;
    }
    Ok(current)
}

/// The container holding the last token of `path`, and that token.
fn parent<'a, 'p>(
    doc: &'a mut Value,
    path: &'p [String],
    pointer: &str,
) -> Result<(&'a mut Value, &'p str), ApiError> {
    let Some((last, init)) = path.split_last() else {
        return Err(ApiError::patch_failed(
            "the whole resource cannot be replaced, added or removed by a patch",
        ));
    };
    let mut current = doc;
    for t in init {
        current = match current {
            Value::Object(o) => o.get_mut(t.as_str()),
            Value::Array(a) => index(t).and_then(|i| a.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| missing(pointer))?;
    }
    Ok((current, last))
}

fn add(doc: &mut Value, path: &[String], pointer: &str, value: Value) -> Result<(), ApiError> {
    let (container, last) = parent(doc, path, pointer)?;
    match container {
        Value::Object(o) => {
            o.insert(last.to_string(), value);
            Ok(())
        }
        Value::Array(a) => {
            let at = if last == "-" {
                a.len()
            } else {
                index(last)
                    .filter(|i| *i <= a.len())
                    .ok_or_else(|| missing(pointer))?
            };
            a.insert(at, value);
            Ok(())
        }
        _ => Err(missing(pointer)),
    }
}

fn remove(doc: &mut Value, path: &[String], pointer: &str) -> Result<Value, ApiError> {
    let (container, last) = parent(doc, path, pointer)?;
    match container {
        Value::Object(o) => o.remove(last).ok_or_else(|| missing(pointer)),
        Value::Array(a) => {
            let at = index(last)
                .filter(|i| *i < a.len())
                .ok_or_else(|| missing(pointer))?;
            Ok(a.remove(at))
        }
        _ => Err(missing(pointer)),
    }
}

/// Applies the JSON Patch `operations` to `resource`.
///
/// # Errors
/// 400 for a malformed patch document, 422 for one that does not apply.
pub(crate) fn apply(resource: Value, operations: &Value) -> Result<Value, ApiError> {
    let ops = operations
        .as_array()
        .ok_or_else(|| malformed("the body is not an array of operations"))?;
    if ops.len() > MAX_OPERATIONS {
        return Err(malformed(format!("more than {MAX_OPERATIONS} operations")));
    }
    let mut doc = resource;
    for (i, op) in ops.iter().enumerate() {
        let member = |name: &str| -> Result<&str, ApiError> {
            op.get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| malformed(format!("operation {i} has no '{name}' string")))
        };
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| malformed(format!("operation {i} has no 'value'")))
        };
        let pointer = member("path")?;
        let path = tokens(pointer)?;
        match member("op")? {
            "add" => add(&mut doc, &path, pointer, value()?)?,
            "remove" => {
                remove(&mut doc, &path, pointer)?;
            }
            "replace" => {
                remove(&mut doc, &path, pointer)?;
                add(&mut doc, &path, pointer, value()?)?;
            }
            "move" => {
                let from_pointer = member("from")?;
                let from = tokens(from_pointer)?;
                if path.len() > from.len() && path.starts_with(&from) {
                    return Err(ApiError::patch_failed(format!(
                        "operation {i} moves a value into itself"
                    )));
                }
                let moved = remove(&mut doc, &from, from_pointer)?;
                add(&mut doc, &path, pointer, moved)?;
            }
            "copy" => {
                let from_pointer = member("from")?;
                let copied = get(&doc, &tokens(from_pointer)?, from_pointer)?.clone();
                add(&mut doc, &path, pointer, copied)?;
            }
            "test" => {
                if *get(&doc, &path, pointer)? != value()? {
                    return Err(ApiError::patch_failed(format!(
                        "operation {i}: the test of '{}' failed",
                        clip(pointer)
                    )));
                }
            }
            other => {
                return Err(malformed(format!(
                    "operation {i} has an unknown op '{}'",
                    clip(other)
                )));
            }
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rfc6902_appendix_a_examples() {
        // A.1 add an object member; A.2 add an array element; A.3 remove; A.4 replace;
        // A.6 move; A.8 test.
        let doc = json!({"foo": "bar", "baz": ["a", "c"]});
        let out = apply(
            doc,
            &json!([
                {"op": "add", "path": "/qux", "value": 1},
                {"op": "add", "path": "/baz/1", "value": "b"},
                {"op": "remove", "path": "/qux"},
                {"op": "replace", "path": "/foo", "value": "boo"},
                {"op": "move", "from": "/foo", "path": "/moved"},
                {"op": "copy", "from": "/baz/0", "path": "/baz/-"},
                {"op": "test", "path": "/baz", "value": ["a", "b", "c", "a"]}
            ]),
        )
        .unwrap();
        assert_eq!(out, json!({"moved": "boo", "baz": ["a", "b", "c", "a"]}));
    }

    #[test]
    fn failures_are_422_and_malformed_documents_400() {
        let doc = json!({"a": {"b~c/d": 1}});
        assert_eq!(
            apply(
                doc.clone(),
                &json!([{"op": "test", "path": "/a/b~0c~1d", "value": 1}])
            )
            .unwrap(),
            doc
        );
        let status = |ops: Value| apply(doc.clone(), &ops).unwrap_err().status().as_u16();
        assert_eq!(status(json!([{"op": "remove", "path": "/x"}])), 422);
        assert_eq!(
            status(json!([{"op": "test", "path": "/a", "value": 2}])),
            422
        );
        assert_eq!(
            status(json!([{"op": "add", "path": "/a/b/c", "value": 2}])),
            422
        );
        assert_eq!(
            status(json!([{"op": "move", "from": "/a", "path": "/a/x"}])),
            422
        );
        assert_eq!(status(json!([{"op": "remove", "path": ""}])), 422);
        assert_eq!(status(json!({"op": "remove"})), 400);
        assert_eq!(status(json!([{"op": "frobnicate", "path": "/a"}])), 400);
        assert_eq!(status(json!([{"op": "add", "path": "/a"}])), 400);
        assert_eq!(status(json!([{"op": "add", "path": "a", "value": 1}])), 400);
    }
}
