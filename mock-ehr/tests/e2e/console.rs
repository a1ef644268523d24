//! The web console under /_console/: each page, each validation error (status and
//! message next to its field), escaping of hostile input, and CSRF refusal.

use axum::http::StatusCode;
use mock_ehr::MockEhr;
use serde_json::json;

use crate::support::*;

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

#[tokio::test]
async fn every_page_renders_with_the_navigation_bar() {
    let ehr = Ehr::auto();
    for (path, title) in [
        ("/_console/", "Launcher"),
        ("/_console/patients", "Patients"),
        ("/_console/patients?q=okonkwo", "Patients"),
        ("/_console/patients/pat-003", "Dmitri Okonkwo"),
        ("/_console/audit", "Audit trail"),
        ("/_console/clients", "Clients"),
    ] {
        let res = ehr.get(path).await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
        assert!(res.header("content-type").unwrap().starts_with("text/html"));
        assert_eq!(res.header("cache-control"), Some("no-store"));
        let html = res.text();
        assert!(
            html.contains(&format!("<h1>{title}</h1>")),
            "{path}: {html}"
        );
        for link in [
            "/_console/\"",
            "/_console/patients\"",
            "/_console/audit\"",
            "/_console/clients\"",
        ] {
            assert!(
                html.contains(&format!("href=\"{link}")),
                "{path} lacks {link}"
            );
        }
        assert!(!html.contains("<script"), "{path}");
    }
    let bare = ehr.get("/_console").await;
    assert_eq!(bare.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(bare.location(), "/_console/");
}

#[tokio::test]
async fn the_console_is_absent_without_admin() {
    let state = MockEhr::builder().admin(false).build_state(BASE).unwrap();
    let app = mock_ehr::app(state.clone());
    let ehr = Ehr { state, app };
    for path in [
        "/_console/",
        "/_console/patients",
        "/_console/fhir/Patient/pat-001",
    ] {
        let res = ehr.get(path).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(res.json()["error"], "not_found");
    }
}

#[tokio::test]
async fn patient_browser_lists_searches_and_shows_resources() {
    let ehr = Ehr::auto();
    let all = ehr.get("/_console/patients").await.text();
    assert!(all.contains("24 patients."), "{all}");
    assert!(all.contains("Dmitri Okonkwo") && all.contains("1954-01-13") && all.contains("male"));
    assert!(all.contains("href=\"/_console/fhir/Patient/pat-003\""));
    let found = ehr.get("/_console/patients?q=OKON").await.text();
    assert!(found.contains("1 of 24 patients match"), "{found}");
    assert!(found.contains("pat-003") && !found.contains("pat-004"));
    let none = ehr.get("/_console/patients?q=nobody-at-all").await.text();
    assert!(none.contains("0 of 24 patients match"));

    let page = ehr.get("/_console/patients/pat-003").await.text();
    assert!(
        page.contains("<h2 id=\"Observation\">Observation (7)</h2>"),
        "{page}"
    );
    assert!(page.contains("Glucose [Mass/volume] in Blood = 135 mg/dL"));
    assert!(page.contains("href=\"/_console/fhir/Condition/cond-003-1\""));
    assert!(page.contains("href=\"/_console/?patient=pat-003\""));
    // Another patient's records are not listed.
    assert!(!page.contains("obs-004-"));

    let missing = ehr.get("/_console/patients/pat-999").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(unescaped(&missing.text()).contains("There is no patient \"pat-999\" in the data."));
    let bad = ehr.get("/_console/patients/a%20b").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(unescaped(&bad.text()).contains("\"a b\" is not a FHIR id."));
    let repeated = ehr.get("/_console/patients?q=a&q=b").await;
    assert_eq!(repeated.status, StatusCode::BAD_REQUEST);
    assert!(repeated.text().contains("parameter q is repeated"));
}

#[tokio::test]
async fn fhir_json_views_read_the_store_without_a_token() {
    let ehr = Ehr::auto();
    let res = ehr.get("/_console/fhir/Observation/obs-003-1-glu").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.header("content-type"), Some("application/fhir+json"));
    let body = res.json();
    assert_eq!(body["resourceType"], "Observation");
    assert_eq!(body["subject"]["reference"], "Patient/pat-003");
    // The FHIR API itself wants a token for the same resource.
    assert_eq!(
        ehr.get("/fhir/Observation/obs-003-1-glu").await.status,
        StatusCode::UNAUTHORIZED
    );
    let missing = ehr.get("/_console/fhir/Observation/nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["resourceType"], "OperationOutcome");
    let unknown = ehr.get("/_console/fhir/Bogus/x").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json()["resourceType"], "OperationOutcome");
}

#[tokio::test]
async fn provider_launch_gives_a_launch_url_that_an_app_can_use() {
    let ehr = Ehr::auto();
    let token = csrf(&ehr).await;
    let form = launch_form(&token, &[("encounter", "enc-003-1")]);
    let res = ehr.post_form("/_console/launch", &form).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let html = res.text();
    let q = launch_url_query(&html);
    assert_eq!(q["iss"], FHIR);
    let launch = q["launch"].clone();
    assert!(html.contains("id=\"launch-app\" href=\"http://localhost:3000/launch?iss="));
    let curl = unescaped(&html);
    assert!(
        curl.contains(
            "curl -s -X POST 'http://127.0.0.1:8080/_admin/launch' -H 'content-type: application/json' \\\n  -d '{\"encounter\":\"enc-003-1\",\"patient\":\"pat-003\",\"user\":\"dr.jones\"}'"
        ),
        "{curl}"
    );
    // The launch is the one /_admin/launch would make: the app gets its context.
    let code = ehr
        .code(
            "demo-app",
            "launch openid fhirUser patient/*.rs",
            &[("launch", &launch)],
        )
        .await;
    let t = ehr.exchange(&code).await.json();
    assert_eq!(t["patient"], "pat-003");
    assert_eq!(t["encounter"], "enc-003-1");
    let audit = ehr.audit().await;
    let made = audit.iter().find(|e| e["event"] == "launch").unwrap();
    assert_eq!(made["user"], "dr.jones");
    assert_eq!(made["patient"], "pat-003");
}

#[tokio::test]
async fn patient_and_standalone_launches() {
    let ehr = Ehr::auto();
    let token = csrf(&ehr).await;
    let form = launch_form(
        &token,
        &[
            ("launch_type", "patient"),
            ("user", "jane.doe"),
            ("patient", ""),
        ],
    );
    let res = ehr.post_form("/_console/launch", &form).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let launch = launch_url_query(&res.text())["launch"].clone();
    let code = ehr
        .code(
            "demo-app",
            "launch openid fhirUser patient/*.rs",
            &[("launch", &launch)],
        )
        .await;
    let t = ehr.exchange(&code).await.json();
    assert_eq!(t["patient"], "pat-001");

    let form = launch_form(&token, &[("launch_type", "standalone")]);
    let res = ehr.post_form("/_console/launch", &form).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let html = res.text();
    let q = launch_url_query(&html);
    assert_eq!(q["iss"], FHIR);
    assert!(!q.contains_key("launch"), "{q:?}");
    assert!(!html.contains("launch-curl"));
    // No launch was created.
    assert!(
        ehr.audit()
            .await
            .iter()
            .filter(|e| e["event"] == "launch")
            .count()
            == 1
    );
}

#[tokio::test]
async fn scopes_to_allow_cap_what_the_launched_app_gets() {
    let ehr = Ehr::auto();
    let token = csrf(&ehr).await;
    let form = launch_form(&token, &[("scope", "launch openid patient/Observation.rs")]);
    let res = ehr.post_form("/_console/launch", &form).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let html = res.text();
    assert!(unescaped(&html).contains("\"scope\":\"launch openid patient/Observation.rs\""));
    let launch = launch_url_query(&html)["launch"].clone();
    let code = ehr
        .code(
            "demo-app",
            "launch openid fhirUser patient/*.rs patient/Observation.rs",
            &[("launch", &launch)],
        )
        .await;
    let t = ehr.exchange(&code).await.json();
    // fhirUser and patient/*.rs are not covered by the launch's scopes.
    assert_eq!(t["scope"], "launch openid patient/Observation.rs");

    // The same cap through /_admin/launch, and its refusal of a malformed scope.
    let res = ehr
        .post_json(
            "/_admin/launch",
            json!({"patient": "pat-003", "scope": "launch patient/Observation.rs"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let launch = res.json()["launch"].as_str().unwrap().to_string();
    let code = ehr
        .code(
            "demo-app",
            "launch openid patient/*.rs",
            &[("launch", &launch)],
        )
        .await;
    assert_eq!(ehr.exchange(&code).await.json()["scope"], "launch");
    let res = ehr
        .post_json(
            "/_admin/launch",
            json!({"patient": "pat-003", "scope": "patient/Observation.xyz"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        res.json()["error"],
        "scope \"patient/Observation.xyz\" refused (ERR_SCOPE_PERMISSIONS_INVALID)"
    );
}

#[tokio::test]
async fn a_simulated_error_is_armed_for_the_next_call() {
    let ehr = Ehr::auto();
    let token = csrf(&ehr).await;
    let form = launch_form(&token, &[("fault", "token_invalid_grant")]);
    let res = ehr.post_form("/_console/launch", &form).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert!(unescaped(&res.text()).contains(
        "-d '{\"count\":1,\"endpoint\":\"token\",\"fault\":{\"error\":\"invalid_grant\",\"type\":\"oauth_error\"}}'"
    ));
    let faults = ehr.get("/_admin/faults").await.json();
    assert_eq!(faults["faults"][0]["endpoint"], "token");
    assert_eq!(faults["faults"][0]["remaining"], 1);
    let code = ehr.code("demo-app", "openid patient/*.rs", &[]).await;
    ehr.exchange(&code)
        .await
        .assert_oauth_error("invalid_grant");
}

#[tokio::test]
async fn launcher_validation_errors_are_explained_next_to_their_field() {
    let ehr = Ehr::auto();
    let token = csrf(&ehr).await;
    let cases: &[Case] = &[
        (
            &[("patient", "pat-999")],
            "patient",
            "unknown patient \"pat-999\": choose one of the data's patients",
        ),
        (
            &[("launch_url", "localhost:3000/launch")],
            "launch_url",
            "malformed URL: \"localhost:3000/launch\" is not an absolute http(s) URL without a fragment",
        ),
        (
            &[("launch_url", "http://localhost:3000/launch#x")],
            "launch_url",
            "malformed URL: \"http://localhost:3000/launch#x\" is not an absolute http(s) URL without a fragment",
        ),
        (
            &[("launch_url", "")],
            "launch_url",
            "the app's launch URL is required",
        ),
        (
            &[("scope", "patient/Observation.xyz")],
            "scope",
            "scope \"patient/Observation.xyz\" refused (ERR_SCOPE_PERMISSIONS_INVALID): write SMART scopes separated by spaces",
        ),
        (
            &[("user", "nobody")],
            "user",
            "unknown user \"nobody\": choose one of the EHR's users",
        ),
        (
            &[("user", "jane.doe")],
            "user",
            "a provider launch is made by a practitioner, and jane.doe is Patient/pat-001: choose a practitioner",
        ),
        (
            &[("launch_type", "patient")],
            "user",
            "a patient launch is made by a patient user, and dr.jones is Practitioner/prac-002: choose a user whose record is a Patient",
        ),
        (
            &[("launch_type", "patient"), ("user", "jane.doe")],
            "patient",
            "in a patient launch the patient is the user's own record: jane.doe is Patient/pat-001, not pat-003",
        ),
        (
            &[("encounter", "enc-999-1")],
            "encounter",
            "there is no Encounter/enc-999-1 in the data",
        ),
        (
            &[("encounter", "enc-004-1")],
            "encounter",
            "Encounter/enc-004-1 belongs to Patient/pat-004, not to Patient/pat-003",
        ),
        (
            &[("encounter", "enc 1")],
            "encounter",
            "\"enc 1\" is not a FHIR id",
        ),
        (
            &[("encounter", "enc-003-1"), ("patient", "")],
            "encounter",
            "an encounter needs the patient it belongs to",
        ),
        (
            &[("launch_type", "standalone"), ("scope", "openid")],
            "scope",
            "a standalone launch has no launch context to carry allowed scopes: leave this empty (the client's registered scopes apply)",
        ),
        (
            &[("fault", "explode")],
            "fault",
            "unknown simulated error \"explode\"",
        ),
        (
            &[("launch_type", "sideways")],
            "launch_type",
            "unknown launch type \"sideways\": choose provider, patient or standalone",
        ),
    ];
    for (overrides, field, message) in cases {
        let form = launch_form(&token, overrides);
        let res = ehr.post_form("/_console/launch", &form).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{overrides:?}");
        let html = res.text();
        assert_eq!(field_error(&html, field), *message, "{overrides:?}");
        // The form comes back with the values sent, and nothing was done.
        assert!(html.contains("<form method=\"post\" action=\"/_console/launch\">"));
        assert!(html.contains("Nothing was done"));
        assert!(!html.contains("id=\"launch-url\""));
    }
    let audit = ehr.audit().await;
    assert!(audit.iter().all(|e| e["event"] != "launch"), "{audit:?}");
    assert_eq!(ehr.get("/_admin/faults").await.json()["faults"], json!([]));
}

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

#[tokio::test]
async fn clients_are_listed_registered_and_deleted() {
    let ehr = Ehr::auto();
    let token = csrf(&ehr).await;
    let list = ehr.get("/_console/clients").await.text();
    assert!(
        list.contains("<code>demo-backend-es384</code>"),
        "JWKS key ids"
    );
    assert!(list.contains("<code>http://localhost:3000/launch</code>"));
    assert!(list.contains("<td>public</td><td>none</td>"));
    assert!(list.contains("<td>confidential</td><td>client_secret_basic</td>"));

    let res = ehr
        .post_form(
            "/_console/clients",
            &[
                ("csrf", &token),
                ("client_id", "my-app"),
                ("client_name", "My App"),
                ("auth", "client_secret_basic"),
                (
                    "redirect_uris",
                    "http://localhost:4000/callback\r\n\r\nhttp://127.0.0.1:4000/callback\r\n",
                ),
                ("launch_uris", "http://localhost:4000/launch"),
                ("scope", "launch openid patient/*.rs system/*.everything"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let html = res.text();
    assert!(html.contains(
        "Registered client <code>my-app</code> with scopes <code>launch openid patient/*.rs</code>."
    ));
    assert!(html.contains("id=\"client-secret\""));
    assert!(html.contains("<code>http://127.0.0.1:4000/callback</code>"));
    assert!(html.contains("<code>http://localhost:4000/launch</code>"));
    // The client works: its launch URL is accepted by the EHR's launch page.
    let launched = ehr
        .get("/launch?launch_uri=http://localhost:4000/launch&patient=pat-002")
        .await;
    assert_eq!(
        launched.status,
        StatusCode::SEE_OTHER,
        "{}",
        launched.text()
    );
    let audit = ehr.audit().await;
    assert!(
        audit
            .iter()
            .any(|e| e["event"] == "register" && e["client_id"] == "my-app")
    );

    // Delete: the box must be ticked; an unknown client is 404.
    let unticked = ehr
        .post_form(
            "/_console/clients/delete",
            &[("csrf", &token), ("client_id", "my-app")],
        )
        .await;
    assert_eq!(unticked.status, StatusCode::BAD_REQUEST);
    assert!(
        unescaped(&unticked.text())
            .contains("Client \"my-app\" was not deleted: tick \"Really delete\" to confirm.")
    );
    let unknown = ehr
        .post_form(
            "/_console/clients/delete",
            &[("csrf", &token), ("client_id", "ghost"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unescaped(&unknown.text()).contains("There is no client \"ghost\"."));
    let deleted = ehr
        .post_form(
            "/_console/clients/delete",
            &[
                ("csrf", &token),
                ("client_id", "my-app"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    let html = deleted.text();
    assert!(html.contains("Deleted client <code>my-app</code>"));
    assert!(!html.contains("<code>my-app</code><br>"));
    let audit = ehr.audit().await;
    assert!(
        audit
            .iter()
            .any(|e| e["event"] == "client_deleted" && e["client_id"] == "my-app")
    );
    // Deleted clients cannot authorize any more.
    let res = ehr.authorize("my-app", "openid", &[]).await;
    res.assert_error_page();
}

#[tokio::test]
async fn registration_errors_use_the_dynamic_registration_rules() {
    let ehr = Ehr::auto();
    let token = csrf(&ehr).await;
    const JWKS_OK: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"k1"}]}"#;
    let cases: &[Case] = &[
        (
            &[("redirect_uris", "not a url")],
            "redirect_uris",
            "\"not a url\" is not an absolute http(s) URL without a fragment (invalid_redirect_uri)",
        ),
        (
            &[("redirect_uris", "")],
            "redirect_uris",
            "authorization_code needs redirect_uris (invalid_redirect_uri)",
        ),
        (
            &[("launch_uris", "ftp://x/launch")],
            "launch_uris",
            "\"ftp://x/launch\" is not an absolute http(s) URL without a fragment (invalid_client_metadata)",
        ),
        (
            &[("auth", "private_key_jwt"), ("jwks", "{not json")],
            "jwks",
            "not JSON: key must be a string at line 1 column 2",
        ),
        (
            &[
                ("auth", "private_key_jwt"),
                ("jwks", r#"{"keys":[{"kty":"oct","k":"abc"}]}"#),
            ],
            "jwks",
            "jwks refused (ERR_JWK_PRIVATE_KEY) (invalid_client_metadata)",
        ),
        (
            &[("jwks", JWKS_OK)],
            "jwks",
            "jwks only for private_key_jwt clients (invalid_client_metadata)",
        ),
        (
            &[("auth", "magic")],
            "auth",
            "token_endpoint_auth_method \"magic\" is not supported (invalid_client_metadata)",
        ),
        (
            &[("scope", "patient/Observation.xyz")],
            "scope",
            "none of the requested scopes may be registered (invalid_client_metadata)",
        ),
        (
            &[("client_id", "demo-app")],
            "client_id",
            "client_id \"demo-app\" is already registered (invalid_client_metadata)",
        ),
        (
            &[("client_id", "a\u{7}b")],
            "client_id",
            "client_id must be non-empty printable text (invalid_client_metadata)",
        ),
    ];
    for (overrides, field, message) in cases {
        let mut form = vec![
            ("csrf", token.as_str()),
            ("auth", "none"),
            ("redirect_uris", "http://localhost:4000/callback"),
        ];
        for (k, v) in *overrides {
            form.retain(|(n, _)| n != k);
            form.push((k, v));
        }
        let res = ehr.post_form("/_console/clients", &form).await;
        assert_eq!(
            res.status,
            StatusCode::BAD_REQUEST,
            "{overrides:?}: {}",
            res.text()
        );
        assert_eq!(field_error(&res.text(), field), *message, "{overrides:?}");
    }
    // A valid private_key_jwt registration lists its key id.
    let res = ehr
        .post_form(
            "/_console/clients",
            &[
                ("csrf", &token),
                ("auth", "private_key_jwt"),
                ("jwks", JWKS_OK),
                ("scope", "system/*.rs"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    assert!(res.text().contains("<code>k1</code>"));
    // Only the valid one was registered.
    let registered = ehr
        .audit()
        .await
        .iter()
        .filter(|e| e["event"] == "register")
        .count();
    assert_eq!(registered, 1);
}

#[tokio::test]
async fn audit_viewer_filters_newest_first() {
    let ehr = Ehr::auto();
    ehr.tokens("openid patient/*.rs").await;
    let code = ehr.code("demo-confidential", "openid", &[]).await;
    drop(code);
    ehr.authorize("demo-app", "openid", &[("code_challenge_method", "plain")])
        .await;
    let all = ehr.get("/_console/audit").await.text();
    let events = ehr.audit().await;
    assert!(all.contains(&format!(
        "Showing {n} of {n} matching events ({n} in the trail), newest first.",
        n = events.len()
    )));
    // Newest first: the last event's row comes before the first's.
    let last = format!("<tr><td>{}</td>", events.len());
    assert!(all.find(&last).unwrap() < all.find("<tr><td>1</td>").unwrap());
    assert!(
        all.contains("<td class=\"nowrap\">2023-11-14T22:13:20Z</td>"),
        "ISO time of NOW"
    );

    let demo = ehr.get("/_console/audit?client=demo-app").await.text();
    let expected = events
        .iter()
        .filter(|e| e["client_id"] == "demo-app")
        .count();
    assert!(expected >= 3);
    assert!(
        demo.contains(&format!("Showing {expected} of {expected} matching")),
        "{demo}"
    );
    assert!(demo.contains("<td>token</td>") && !demo.contains("demo-confidential</td>"));

    let refused = ehr
        .get("/_console/audit?client=demo-app&outcome=invalid_request")
        .await
        .text();
    assert!(refused.contains("Showing 1 of 1 matching"), "{refused}");
    assert!(refused.contains("<td>authorize</td>"));

    let patient = ehr.get("/_console/audit?patient=pat-001").await.text();
    let expected = events.iter().filter(|e| e["patient"] == "pat-001").count();
    assert!(patient.contains(&format!("Showing {expected} of {expected} matching")));
    let nothing = ehr.get("/_console/audit?client=nobody").await.text();
    assert!(nothing.contains("Showing 0 of 0 matching"));
}
