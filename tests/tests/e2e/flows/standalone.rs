//! SMART standalone launch: the app starts from the FHIR base it knows, asks for
//! `launch/patient`, and the user picks the patient.

use mock_ehr::Config;

use super::*;

const SCOPE: &str = "launch/patient openid fhirUser patient/*.rs offline_access";

#[tokio::test]
async fn standalone_launch_with_login_picker_and_consent_pages() {
    let ehr = spawn(Config::default(), false).await;
    let server = Server::discover(ehr.fhir_base()).await;
    assert!(server.can("launch-standalone") && server.can("context-standalone-patient"));
    let auth = Authorization::new(&server, APP, SCOPE, None);
    let base = ehr.base_url();
    let login = http::get(&auth.url).await;
    let picker = browser::submit(
        base,
        &login,
        &[("username", "dr.smith"), ("password", "password")],
        &[],
    )
    .await;
    assert!(
        picker.text().contains("Choose a patient"),
        "{}",
        picker.text()
    );
    let consent = browser::submit(base, &picker, &[("patient", "pat-005")], &[]).await;
    assert!(
        consent.text().contains("Patient/pat-005"),
        "{}",
        consent.text()
    );
    // The user unticks offline_access: no refresh token.
    let untick = browser::scope_field(&consent, "offline_access");
    let done = browser::submit(base, &consent, &[("decision", "allow")], &[&untick]).await;
    let code = auth.callback(&server, &done);

    let t = token_response(&auth.exchange(&server, APP, &code, None).await);
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["patient"], "pat-005");
    assert_eq!(t["need_patient_banner"], true);
    assert_eq!(t["scope"], "launch/patient openid fhirUser patient/*.rs");
    assert!(
        t.get("refresh_token").is_none(),
        "offline_access was refused"
    );
    assert!(t.get("encounter").is_none());

    let now = server_now(&ehr).await;
    let access = t["access_token"].as_str().unwrap();
    let at = server.verify_access(access, now).unwrap().claims.into_raw();
    assert_eq!(at["patient"], "pat-005");
    assert_eq!(at["sub"], "dr.smith");
    assert_eq!(at["scope"], t["scope"]);
    let id = server.verify_id_token(t["id_token"].as_str().unwrap(), APP, &auth.nonce, now);
    assert_eq!(
        id["fhirUser"],
        format!("{}/Practitioner/prac-001", server.fhir)
    );

    let patient = read(&server, access, "Patient/pat-005").await;
    assert_eq!(patient["id"], "pat-005");
    search_observations(&server, access, "pat-005").await;
    // A search naming another patient finds nothing of theirs.
    let other = read(&server, access, "Observation?patient=pat-006").await;
    assert_eq!(entry_ids(&other), Vec::<String>::new());
    ehr.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_denied_consent_comes_back_as_access_denied() {
    let ehr = spawn(Config::default(), false).await;
    let server = Server::discover(ehr.fhir_base()).await;
    let auth = Authorization::new(&server, APP, SCOPE, None);
    let base = ehr.base_url();
    let login = http::get(&auth.url).await;
    let picker = browser::submit(
        base,
        &login,
        &[("username", "dr.smith"), ("password", "password")],
        &[],
    )
    .await;
    let consent = browser::submit(base, &picker, &[], &[]).await;
    let done = browser::submit(base, &consent, &[("decision", "deny")], &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let q = done.redirect_query().unwrap();
    assert_eq!(q.get("error").map(String::as_str), Some("access_denied"));
    assert_eq!(q.get("state"), Some(&auth.state));
    check_iss(&server.issuer, q.get("iss").map(String::as_str), true).unwrap();
    assert!(!q.contains_key("code"));
    ehr.shutdown().await.unwrap();
}
