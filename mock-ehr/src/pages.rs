//! Server-rendered HTML: the error page, login, patient picker and consent. Every
//! value is HTML-escaped; pages carry no script.

use smartgate_core::scope::{
    ClinicalScope, Context, Permissions, ResourceSelector, Scope, ScopeSet,
};

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

fn layout(title: &str, body: &str) -> String {
    document(title, "", body, "")
}

/// A whole page: `title` (escaped) as `<title>` and `<h1>`, `before` (markup, such as
/// a navigation bar) above the heading, `body` (markup) below it, and `style` (CSS)
/// after the shared style sheet. Callers escape every value they put in `before` and
/// `body`.
pub(crate) fn document(title: &str, before: &str, body: &str, style: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} - mock EHR</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:36em;margin:2em auto;padding:0 1em;color:#222}}\
         label{{display:block;margin:.4em 0}}.error{{color:#9e2d2d}}button{{margin:.6em .6em 0 0;padding:.4em 1em}}\
         code{{background:#f2f2f2;padding:0 .2em}}{style}</style></head>\
         <body>{before}<h1>{title}</h1>\n{body}\n</body></html>\n",
        title = escape(title),
    )
}

/// The authorization error page (no redirect happened).
pub(crate) fn error_page(code: &str, description: &str) -> String {
    layout(
        "Authorization error",
        &format!(
            "<p class=\"error\"><code>{}</code></p><p>{}</p>\
             <p>The request was not sent back to the application.</p>",
            escape(code),
            escape(description)
        ),
    )
}

/// The login page.
pub(crate) fn login(
    action: &str,
    session: &str,
    client_name: &str,
    username: &str,
    error: Option<&str>,
) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\">{}</p>", escape(e)))
        .unwrap_or_default();
    layout(
        "Sign in",
        &format!(
            "<p><strong>{client}</strong> asks to connect to your health record.</p>{error}\
             <form method=\"post\" action=\"{action}\">\
             <input type=\"hidden\" name=\"session\" value=\"{session}\">\
             <label>Username <input name=\"username\" value=\"{username}\" autocomplete=\"username\"></label>\
             <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\"></label>\
             <button type=\"submit\">Sign in</button></form>",
            client = escape(client_name),
            action = escape(action),
            session = escape(session),
            username = escape(username),
        ),
    )
}

/// The patient picker of a standalone launch.
pub(crate) fn patient_picker(action: &str, session: &str, patients: &[String]) -> String {
    let options: String = patients
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "<label><input type=\"radio\" name=\"patient\" value=\"{p}\"{checked}> Patient/{p}</label>",
                p = escape(p),
                checked = if i == 0 { " checked" } else { "" },
            )
        })
        .collect();
    layout(
        "Choose a patient",
        &format!(
            "<form method=\"post\" action=\"{action}\">\
             <input type=\"hidden\" name=\"session\" value=\"{}\">{options}\
             <button type=\"submit\">Continue</button></form>",
            escape(session),
            action = escape(action),
        ),
    )
}

/// The consent page: one checkbox per granted scope, ticked, with a plain description.
pub(crate) fn consent(
    action: &str,
    session: &str,
    client_name: &str,
    patient: Option<&str>,
    scopes: &ScopeSet,
) -> String {
    let items: String = scopes
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "<label><input type=\"checkbox\" name=\"scope_{i}\" value=\"{v}\" checked> {d} <code>{v}</code></label>",
                v = escape(&s.to_string()),
                d = escape(&describe(s)),
            )
        })
        .collect();
    let patient = patient
        .map(|p| format!("<p>Patient: <code>Patient/{}</code></p>", escape(p)))
        .unwrap_or_default();
    layout(
        "Allow access?",
        &format!(
            "<p><strong>{client}</strong> asks to:</p>{patient}\
             <form method=\"post\" action=\"{action}\">\
             <input type=\"hidden\" name=\"session\" value=\"{session}\">{items}\
             <p>Untick anything you do not want to allow.</p>\
             <button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\
             <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
            client = escape(client_name),
            action = escape(action),
            session = escape(session),
        ),
    )
}

/// A plain-words description of a SMART scope, from the core's reading of it.
pub(crate) fn describe(scope: &Scope) -> String {
    let text = match scope {
        Scope::OpenId => "Confirm who you are",
        Scope::FhirUser => "Know which user record is yours",
        Scope::Profile => "See your name",
        Scope::Launch => "Receive the context the EHR opened it in",
        Scope::LaunchPatient => "Know which patient is selected",
        Scope::LaunchEncounter => "Know which encounter is selected",
        Scope::OfflineAccess => "Keep access after you close it (long-lived)",
        Scope::OnlineAccess => "Keep access while you are signed in",
        Scope::Clinical(c) => return describe_clinical(c),
        other => return format!("Use the permission \"{other}\""),
    };
    text.to_string()
}

fn describe_clinical(c: &ClinicalScope) -> String {
    let what = match c.resource() {
        ResourceSelector::Wildcard => "all kinds of data".to_string(),
        ResourceSelector::Type(t) => format!("{} records", t.name()),
    };
    let p = c.permissions();
    let action = if p == Permissions::ALL {
        "Read, search, create, change and delete".to_string()
    } else if p == Permissions::V1_READ {
        "Read and search".to_string()
    } else if p == Permissions::V1_WRITE {
        "Create, change and delete".to_string()
    } else {
        let words: Vec<&str> = [
            (Permissions::CREATE, "create"),
            (Permissions::READ, "read"),
            (Permissions::UPDATE, "change"),
            (Permissions::DELETE, "delete"),
            (Permissions::SEARCH, "search"),
        ]
        .iter()
        .filter(|(bit, _)| p.contains(*bit))
        .map(|(_, w)| *w)
        .collect();
        let joined = words.join(", ");
        let mut chars = joined.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => format!("Use ({p})"),
        }
    };
    let whose = match c.context() {
        Context::Patient => "of the selected patient",
        Context::User => "that you can see",
        Context::System => "across the whole system",
    };
    let only: Vec<String> = c.query().iter().map(|(n, v)| format!("{n}={v}")).collect();
    if only.is_empty() {
        format!("{action} {what} {whose}")
    } else {
        format!("{action} {what} {whose}, only where {}", only.join(" and "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
        );
        assert!(!error_page("x", "<script>").contains("<script>"));
    }

    fn describe(scope: &str) -> String {
        super::describe(&Scope::parse(scope).unwrap())
    }

    #[test]
    fn describes_scopes_in_plain_words() {
        assert_eq!(
            describe("patient/Observation.rs"),
            "Read and search Observation records of the selected patient"
        );
        assert_eq!(
            describe("user/*.cruds"),
            "Read, search, create, change and delete all kinds of data that you can see"
        );
        assert_eq!(
            describe("patient/Condition.cu"),
            "Create, change Condition records of the selected patient"
        );
        assert_eq!(describe("patient/*.read"), describe("patient/*.rs"));
        assert_eq!(describe("launch/patient"), "Know which patient is selected");
        assert_eq!(
            describe("patient/Observation.rs?category=laboratory"),
            "Read and search Observation records of the selected patient, only where category=laboratory"
        );
        assert_eq!(describe("x-custom"), "Use the permission \"x-custom\"");
    }
}
