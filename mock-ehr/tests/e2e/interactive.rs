use axum::http::StatusCode;
use mock_ehr::Config;

use crate::support::*;

const SCOPE: &str = "openid fhirUser launch/patient patient/*.rs offline_access";

fn session_of(html: &str) -> String {
    let marker = "name=\"session\" value=\"";
    let start = html.find(marker).expect("a session field") + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn standalone_launch_with_login_picker_and_consent() {
    let ehr = Ehr::new(Config::default(), false);
    let page = ehr.authorize("demo-app", SCOPE, &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("Sign in") && html.contains("Demo SMART App"));
    let session = session_of(&html);
    // Wrong password: the login page again, no progress.
    let again = ehr
        .post_form(
            "/authorize/login",
            &[
                ("session", &session),
                ("username", "dr.smith"),
                ("password", "nope"),
            ],
        )
        .await;
    assert!(again.text().contains("wrong password"));
    let picker = ehr
        .post_form(
            "/authorize/login",
            &[
                ("session", &session),
                ("username", "dr.smith"),
                ("password", "password"),
            ],
        )
        .await;
    assert!(picker.text().contains("Choose a patient") && picker.text().contains("pat-020"));
    // An unknown patient shows the picker again.
    let same = ehr
        .post_form(
            "/authorize/patient",
            &[("session", &session), ("patient", "pat-999")],
        )
        .await;
    assert!(same.text().contains("Choose a patient"));
    let consent = ehr
        .post_form(
            "/authorize/patient",
            &[("session", &session), ("patient", "pat-005")],
        )
        .await;
    let html = consent.text();
    assert!(html.contains("Allow access?"));
    assert!(html.contains("Read and search all kinds of data of the selected patient"));
    assert!(html.contains("Patient/pat-005"));
    // Untick offline_access: keep the others.
    let kept = ["openid", "fhirUser", "launch/patient", "patient/*.rs"];
    let mut form: Vec<(String, String)> = vec![
        ("session".into(), session.clone()),
        ("decision".into(), "allow".into()),
    ];
    for (i, s) in kept.iter().enumerate() {
        form.push((format!("scope_{i}"), s.to_string()));
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let done = ehr.post_form("/authorize/consent", &form).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    let q = done.location_query();
    assert_eq!(q["state"], "st-1");
    assert_eq!(q["iss"], BASE);
    let t = ehr.exchange(&q["code"]).await.json();
    assert_eq!(t["patient"], "pat-005");
    assert_eq!(t["scope"], "openid fhirUser launch/patient patient/*.rs");
    assert!(t.get("refresh_token").is_none());
    // The session is over.
    ehr.post_form("/authorize/consent", &form)
        .await
        .assert_error_page();
}

#[tokio::test]
async fn denying_consent_redirects_access_denied() {
    let ehr = Ehr::new(Config::default(), false);
    let session = session_of(
        &ehr.authorize("demo-app", "openid fhirUser", &[])
            .await
            .text(),
    );
    let consent = ehr
        .post_form(
            "/authorize/login",
            &[
                ("session", &session),
                ("username", "dr.jones"),
                ("password", "password"),
            ],
        )
        .await;
    assert!(
        consent.text().contains("Allow access?"),
        "no picker without launch/patient"
    );
    let res = ehr
        .post_form(
            "/authorize/consent",
            &[("session", &session), ("decision", "deny")],
        )
        .await;
    res.assert_error_redirect("access_denied");
}

#[tokio::test]
async fn a_patient_user_needs_no_picker() {
    let ehr = Ehr::new(Config::default(), false);
    let session = session_of(&ehr.authorize("demo-app", SCOPE, &[]).await.text());
    let consent = ehr
        .post_form(
            "/authorize/login",
            &[
                ("session", &session),
                ("username", "jane.doe"),
                ("password", "password"),
            ],
        )
        .await;
    assert!(consent.text().contains("Patient/pat-001"));
}

#[tokio::test]
async fn pages_escape_and_refuse_unknown_sessions() {
    let ehr = Ehr::new(Config::default(), false);
    ehr.post_form(
        "/authorize/login",
        &[
            ("session", "forged"),
            ("username", "dr.smith"),
            ("password", "password"),
        ],
    )
    .await
    .assert_error_page();
    let page = ehr
        .authorize("demo-app", SCOPE, &[("login_hint", "<script>x</script>")])
        .await;
    assert!(!page.text().contains("<script>x"));
    // Skipping the login is refused.
    let session = session_of(&page.text());
    ehr.post_form(
        "/authorize/consent",
        &[("session", &session), ("decision", "allow")],
    )
    .await
    .assert_error_page();
}
