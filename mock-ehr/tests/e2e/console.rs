//! The web console under /_console/: each page, each validation error (status and
//! message next to its field), escaping of hostile input, and CSRF refusal.

use crate::support::*;

#[path = "console/clients.rs"]
mod clients;
#[path = "console/csrf_escaping.rs"]
mod csrf_escaping;
#[path = "console/launcher.rs"]
mod launcher;
#[path = "console/pages.rs"]
mod pages;

/// The page's text with the entities `escape` writes turned back (for assertions on
/// messages that quote values).
fn unescaped(html: &str) -> String {
    html.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The message shown next to `field` (`<span class="error" id="{field}-error">`).
fn field_error(html: &str, field: &str) -> String {
    let marker = format!("id=\"{field}-error\">");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no error for {field}: {html}"))
        + marker.len();
    unescaped(html[start..].split("</span>").next().unwrap())
}

/// Form fields to change, the field whose message is expected, the message.
type Case = (
    &'static [(&'static str, &'static str)],
    &'static str,
    &'static str,
);

async fn csrf(ehr: &Ehr) -> String {
    let html = ehr.get("/_console/").await.text();
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a csrf field") + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

fn launch_form<'a>(token: &'a str, overrides: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("csrf", token),
        ("launch_type", "provider"),
        ("patient", "pat-003"),
        ("user", "dr.jones"),
        ("encounter", ""),
        ("launch_url", "http://localhost:3000/launch"),
        ("scope", ""),
        ("fault", ""),
    ];
    for (k, v) in overrides {
        form.retain(|(n, _)| n != k);
        form.push((k, v));
    }
    form
}

/// The query of the launch URL shown on the result page.
fn launch_url_query(html: &str) -> std::collections::HashMap<String, String> {
    let marker = "id=\"launch-url\">";
    let start = html.find(marker).expect("a launch URL") + marker.len();
    let url = unescaped(html[start..].split("</code>").next().unwrap());
    assert!(url.starts_with("http://localhost:3000/launch?"), "{url}");
    let query = url.split_once('?').unwrap().1;
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}
