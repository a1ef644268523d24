//! SMART EHR launch: the EHR hands the app `iss` and `launch`; the app discovers,
//! authorizes with `launch` (through the login and consent pages), and gets the launch
//! context with its token.

use mock_ehr::Config;
use serde_json::json;

use super::*;

const SCOPE: &str = "launch openid fhirUser patient/*.rs offline_access";

#[tokio::test]
async fn ehr_launch_through_the_login_and_consent_pages() {
    let ehr = spawn(Config::default(), false).await;
    // The EHR: a launch context for pat-003 in encounter enc-003-1, by dr.jones.
    let launch = http::post_json(
        &format!("{}/_admin/launch", ehr.base_url()),
        &json!({
            "patient": "pat-003", "encounter": "enc-003-1", "user": "dr.jones",
            "fhirContext": [{"reference": "Observation/obs-003-1-glu"}],
            "need_patient_banner": false, "smart_style_url": "http://localhost:3000/style.json"
        }),
    )
    .await
    .json();
    let (iss, launch) = (
        launch["iss"].as_str().unwrap(),
        launch["launch"].as_str().unwrap(),
    );

    // The app, from iss alone.
    let server = Server::discover(iss).await;
    assert!(server.can("launch-ehr") && server.can("context-ehr-encounter"));
    let auth = Authorization::new(&server, APP, SCOPE, Some(launch));
    let login = http::get(&auth.url).await;
    assert!(login.text().contains("Sign in"), "{}", login.text());
    let base = ehr.base_url();
    // A wrong password: the login page again.
    let again = browser::submit(
        base,
        &login,
        &[("username", "dr.jones"), ("password", "nope")],
        &[],
    )
    .await;
    assert!(again.text().contains("Unknown user or wrong password."));
    // No patient picker: the launch names the patient.
    let consent = browser::submit(
        base,
        &again,
        &[("username", "dr.jones"), ("password", "password")],
        &[],
    )
    .await;
    let html = consent.text();
    assert!(html.contains("Allow access?"), "{html}");
    assert!(html.contains("Patient/pat-003"));
    let done = browser::submit(base, &consent, &[("decision", "allow")], &[]).await;
    let code = auth.callback(&server, &done);

    let t = token_response(&auth.exchange(&server, APP, &code, None).await);
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["scope"], SCOPE);
    assert_eq!(t["patient"], "pat-003");
    assert_eq!(t["encounter"], "enc-003-1");
    assert_eq!(
        t["fhirContext"],
        json!([{"reference": "Observation/obs-003-1-glu"}])
    );
    assert_eq!(t["need_patient_banner"], false);
    assert_eq!(t["smart_style_url"], "http://localhost:3000/style.json");
    assert!(t["refresh_token"].is_string());

    let now = server_now(&ehr).await;
    let access = t["access_token"].as_str().unwrap();
    let at = server.verify_access(access, now).unwrap().claims.into_raw();
    assert_eq!(at["client_id"], APP);
    assert_eq!(at["scope"], SCOPE);
    assert_eq!(at["patient"], "pat-003");
    assert_eq!(at["sub"], "dr.jones");
    let id = server.verify_id_token(t["id_token"].as_str().unwrap(), APP, &auth.nonce, now);
    assert_eq!(id["sub"], "dr.jones");
    let fhir_user = id["fhirUser"].as_str().unwrap();
    assert_eq!(fhir_user, format!("{iss}/Practitioner/prac-002"));

    // The FHIR API: the patient, the encounter, the patient's Observations.
    let patient = read(&server, access, "Patient/pat-003").await;
    assert_eq!(
        (patient["resourceType"].as_str(), patient["id"].as_str()),
        (Some("Patient"), Some("pat-003"))
    );
    let encounter = read(&server, access, "Encounter/enc-003-1").await;
    assert_eq!(encounter["subject"]["reference"], "Patient/pat-003");
    let obs = read(&server, access, "Observation/obs-003-1-glu").await;
    assert_eq!(obs["subject"]["reference"], "Patient/pat-003");
    search_observations(&server, access, "pat-003").await;
    // The user's own record is outside patient/ scopes: 403, naming a scope that would do.
    let res = fhir_get(
        &format!("{iss}/Practitioner/prac-002"),
        &format!("Bearer {access}"),
        None,
    )
    .await;
    assert_refused(&res, 403, "insufficient_scope");
    // Another patient's data is outside the token's compartment: 404, as if absent.
    let res = fhir_get(
        &format!("{iss}/Patient/pat-004"),
        &format!("Bearer {access}"),
        None,
    )
    .await;
    assert_eq!(res.status.as_u16(), 404, "{}", res.text());
    ehr.shutdown().await.unwrap();
}

#[tokio::test]
async fn ehr_launch_from_the_ehr_launch_page() {
    // The EHR sends the browser to the app's registered launch URL with iss and launch.
    let ehr = spawn(Config::default(), true).await;
    let res = http::get(&format!(
        "{}/launch?{}",
        ehr.base_url(),
        http::form(&[
            ("launch_uri", "http://localhost:3000/launch"),
            ("patient", "pat-007"),
        ])
    ))
    .await;
    let location = res.header("location").unwrap();
    assert!(location.starts_with("http://localhost:3000/launch?"));
    let q = res.redirect_query().unwrap();
    assert_eq!(q["iss"], ehr.fhir_base());

    let server = Server::discover(&q["iss"]).await;
    let auth = Authorization::new(&server, APP, SCOPE, Some(&q["launch"]));
    let code = auth.auto(&server).await;
    let t = token_response(&auth.exchange(&server, APP, &code, None).await);
    assert_eq!(t["patient"], "pat-007");
    assert_eq!(t["need_patient_banner"], true);
    let access = t["access_token"].as_str().unwrap();
    let now = server_now(&ehr).await;
    assert_eq!(
        server.verify_access(access, now).unwrap().claims.raw()["patient"],
        "pat-007"
    );
    server.verify_id_token(t["id_token"].as_str().unwrap(), APP, &auth.nonce, now);
    assert_eq!(
        read(&server, access, "Patient/pat-007").await["id"],
        "pat-007"
    );
    search_observations(&server, access, "pat-007").await;
    ehr.shutdown().await.unwrap();
}
