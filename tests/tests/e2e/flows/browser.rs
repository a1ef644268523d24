//! The interactive pages, as a browser fills them in: the fields of a page's form
//! (hidden inputs, text fields, checked radios and checkboxes), some replaced, posted
//! to the form's action.

use super::*;

/// The attributes of one tag, values HTML-unescaped.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = tag;
    while let Some(eq) = rest.find("=\"") {
        let name = rest[..eq]
            .rsplit(|c: char| c.is_whitespace())
            .next()
            .unwrap()
            .to_string();
        let after = &rest[eq + 2..];
        let end = after.find('"').unwrap();
        out.push((name, unescape(&after[..end])));
        rest = &after[end + 1..];
    }
    // Valueless attributes (`checked`).
    if tag
        .split_whitespace()
        .any(|w| w == "checked" || w == "checked>")
    {
        out.push(("checked".into(), String::new()));
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// The form of `page`: its action and the fields a browser would send.
pub fn form(page: &str) -> (String, Vec<(String, String)>) {
    let start = page.find("<form ").expect("a form on the page");
    let form = &page[start..page[start..].find("</form>").unwrap() + start];
    let head = &form[..form.find('>').unwrap()];
    let action = attributes(head)
        .into_iter()
        .find(|(k, _)| k == "action")
        .unwrap()
        .1;
    let mut fields = Vec::new();
    for chunk in form.split("<input ").skip(1) {
        let tag = &chunk[..chunk.find('>').unwrap() + 1];
        let attrs = attributes(tag);
        let get = |n: &str| attrs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let Some(name) = get("name") else { continue };
        let kind = get("type").unwrap_or_else(|| "text".into());
        let checked = get("checked").is_some();
        if (kind == "radio" || kind == "checkbox") && !checked {
            continue;
        }
        fields.push((name, get("value").unwrap_or_default()));
    }
    (action, fields)
}

/// Submits the form of `page` (status 200 asserted) with `set` replacing or adding
/// fields and `drop` removing the fields of those names (unticking a checkbox).
pub async fn submit(base: &str, page: &Reply, set: &[(&str, &str)], drop: &[&str]) -> Reply {
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let (action, mut fields) = form(&page.text());
    fields.retain(|(k, _)| !drop.contains(&k.as_str()) && !set.iter().any(|(n, _)| n == k));
    fields.extend(set.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    http::post_form(&format!("{base}{action}"), &pairs).await
}

/// The `name` of the checked box whose value is `scope` on a consent page.
pub fn scope_field(page: &Reply, scope: &str) -> String {
    form(&page.text())
        .1
        .into_iter()
        .find(|(_, v)| v == scope)
        .unwrap_or_else(|| panic!("no box for {scope}"))
        .0
}
