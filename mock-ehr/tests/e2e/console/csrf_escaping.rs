//! CSRF refusal and escaping of hostile input on every page.

use axum::http::StatusCode;
use serde_json::json;

use super::{csrf, launch_form, unescaped};
use crate::support::*;

#[tokio::test]
async fn posts_without_the_csrf_token_are_refused() {
    let ehr = Ehr::auto();
    let token = csrf(&ehr).await;
    let message = "Refused: this form was not sent from the console's own page (its csrf token is missing or wrong). Reload the console page and submit it again.";
    for sent in [None, Some("wrong"), Some("")] {
        let mut form: Vec<(&str, &str)> = launch_form(&token, &[])
            .into_iter()
            .filter(|(k, _)| *k != "csrf")
            .collect();
        if let Some(s) = sent {
            form.push(("csrf", s));
        }
        for path in [
            "/_console/launch",
            "/_console/clients",
            "/_console/clients/delete",
        ] {
            let mut form = form.clone();
            form.extend([
                ("client_id", "demo-app"),
                ("confirm", "yes"),
                ("auth", "none"),
            ]);
            form.push(("redirect_uris", "http://localhost:9/cb"));
            let res = ehr.post_form(path, &form).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{path} {sent:?}");
            assert!(unescaped(&res.text()).contains(message), "{path}");
        }
    }
    // Nothing happened: no launch, demo-app still there, no client registered.
    let audit = ehr.audit().await;
    assert!(audit.is_empty(), "{audit:?}");
    assert!(
        ehr.get("/_console/clients")
            .await
            .text()
            .contains("<code>demo-app</code>")
    );
    // A body that is not a form is refused before the token is looked at.
    let res = ehr
        .post_json("/_console/launch", json!({"csrf": token}))
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.text().contains(
        "The form could not be read: Content-Type must be application/x-www-form-urlencoded."
    ));
}

#[tokio::test]
async fn hostile_input_is_escaped_everywhere() {
    let ehr = Ehr::auto();
    let token = csrf(&ehr).await;
    let evil = "\"><script>alert(1)</script>";
    let url = format!("http://localhost:3000/launch{evil}");
    let form = launch_form(&token, &[("launch_url", &url), ("encounter", evil)]);
    let res = ehr.post_form("/_console/launch", &form).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let html = res.text();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));

    // A client named with markup, registered and listed.
    let res = ehr
        .post_form(
            "/_console/clients",
            &[
                ("csrf", &token),
                ("client_id", "evil-app"),
                ("client_name", "<img src=x onerror=alert(1)>"),
                ("auth", "none"),
                ("redirect_uris", "http://localhost:4000/cb?a=1&b=<b>"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let list = ehr.get("/_console/clients").await.text();
    assert!(!list.contains("<img"), "{list}");
    assert!(list.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(list.contains("http://localhost:4000/cb?a=1&amp;b=&lt;b&gt;"));

    let found = ehr
        .get("/_console/patients?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        .await
        .text();
    assert!(!found.contains("<script>") && found.contains("&lt;script&gt;"));

    // The audit trail shows what a client sent, escaped.
    ehr.get(&format!(
        "/authorize?client_id=demo-app&redirect_uri=http://localhost:3000/callback&response_type=code&state=s&scope=openid&aud={FHIR}&code_challenge=x&code_challenge_method=S256&login_hint=%3Cscript%3E"
    ))
    .await;
    let audit = ehr.get("/_console/audit").await.text();
    assert!(!audit.contains("<script>"), "{audit}");
}
