//! Authorization-server rows (PKCE, codes, refresh tokens, client assertions, redirect
//! URIs, state, mix-up), against a running mock EHR and, where the check is the
//! core's, against the core too.

use std::collections::HashMap;

use serde_json::{Value, json};
use smartgate_core::authz_response;
use smartgate_core::pkce::{self, Method, PlainPolicy};

use super::*;
use crate::http::{get, post_form};

const REDIRECT: &str = "http://localhost:3000/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn authorize_url(ehr: &MockEhr, change: &[(&str, Option<&str>)]) -> String {
    let challenge = pkce::challenge_s256(VERIFIER);
    let aud = ehr.fhir_base().to_owned();
    let mut pairs: Vec<(&str, String)> = vec![
        ("response_type", "code".into()),
        ("client_id", "demo-app".into()),
        ("redirect_uri", REDIRECT.into()),
        (
            "scope",
            "launch/patient patient/Observation.rs offline_access".into(),
        ),
        ("state", "st-1".into()),
        ("aud", aud),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256".into()),
    ];
    for (k, v) in change {
        pairs.retain(|(n, _)| n != k);
        if let Some(v) = v {
            pairs.push((k, (*v).into()));
        }
    }
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    format!("{}/authorize?{}", ehr.base_url(), crate::http::form(&pairs))
}

async fn code(ehr: &MockEhr) -> String {
    let q = get(&authorize_url(ehr, &[]))
        .await
        .redirect_query()
        .expect("a redirect");
    q.get("code")
        .cloned()
        .unwrap_or_else(|| panic!("no code: {q:?}"))
}

async fn exchange(ehr: &MockEhr, code: &str, verifier: Option<&str>) -> crate::http::Reply {
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("client_id", "demo-app"),
    ];
    if let Some(v) = verifier {
        pairs.push(("code_verifier", v));
    }
    post_form(&format!("{}/token", ehr.base_url()), &pairs).await
}

async fn active(ehr: &MockEhr, token: &str) -> bool {
    let res = introspect(ehr, token).await;
    res["active"] == json!(true)
}

async fn introspect(ehr: &MockEhr, token: &str) -> Value {
    let body = crate::http::form(&[("token", token)]);
    let url = format!("{}/introspect", ehr.base_url());
    crate::http::send_with(
        &url,
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("authorization", &format!("Bearer {token}")),
        ],
        body,
    )
    .await
    .json()
}

#[tokio::test]
async fn attack_pkce_missing_verifier() {
    assert_eq!(
        code_of(pkce::verify(
            "",
            &pkce::challenge_s256(VERIFIER),
            Method::S256,
            PlainPolicy::Refuse
        )),
        "ERR_PKCE_VERIFIER_LENGTH"
    );
    let ehr = ehr().await;
    let c = code(&ehr).await;
    // A missing required parameter: invalid_request (RFC 6749 section 5.2).
    let res = exchange(&ehr, &c, None).await;
    assert_eq!(res.oauth_error(), "invalid_request", "{:?}", res.json());
}

#[tokio::test]
async fn attack_pkce_wrong_verifier() {
    let wrong = "WRONGtJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    assert_eq!(
        code_of(pkce::verify(
            wrong,
            &pkce::challenge_s256(VERIFIER),
            Method::S256,
            PlainPolicy::Refuse
        )),
        "ERR_PKCE_MISMATCH"
    );
    let ehr = ehr().await;
    let c = code(&ehr).await;
    assert_eq!(
        exchange(&ehr, &c, Some(wrong)).await.oauth_error(),
        "invalid_grant"
    );
    // The thief's failed attempt does not burn the code: otherwise anyone who saw a
    // code could deny the legitimate client its tokens.
    assert!(exchange(&ehr, &c, Some(VERIFIER)).await.json()["access_token"].is_string());
}

#[tokio::test]
async fn attack_pkce_plain_downgrade() {
    assert_eq!(
        code_of(pkce::verify(
            VERIFIER,
            VERIFIER,
            Method::Plain,
            PlainPolicy::Refuse
        )),
        "ERR_PKCE_METHOD_UNSUPPORTED"
    );
    let ehr = ehr().await;
    let url = authorize_url(
        &ehr,
        &[
            ("code_challenge", Some(VERIFIER)),
            ("code_challenge_method", Some("plain")),
        ],
    );
    let q = get(&url).await.redirect_query().expect("an error redirect");
    assert_eq!(q.get("error").map(String::as_str), Some("invalid_request"));
    assert!(!q.contains_key("code"));
}

#[tokio::test]
async fn attack_authorization_code_replay() {
    let ehr = ehr().await;
    let c = code(&ehr).await;
    let first = exchange(&ehr, &c, Some(VERIFIER)).await.json();
    let token = first["access_token"].as_str().unwrap().to_owned();
    assert!(active(&ehr, &token).await);
    assert_eq!(
        exchange(&ehr, &c, Some(VERIFIER)).await.oauth_error(),
        "invalid_grant"
    );
    // RFC 6749 section 4.1.2: what the code issued is revoked.
    assert!(!active(&ehr, &token).await);
}

#[tokio::test]
async fn attack_refresh_token_reuse() {
    let ehr = ehr().await;
    let c = code(&ehr).await;
    let first = exchange(&ehr, &c, Some(VERIFIER)).await.json();
    let old = first["refresh_token"]
        .as_str()
        .expect("offline_access gives a refresh token")
        .to_owned();
    let refresh = |rt: String| {
        let url = format!("{}/token", ehr.base_url());
        async move {
            post_form(
                &url,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &rt),
                    ("client_id", "demo-app"),
                ],
            )
            .await
        }
    };
    let rotated = refresh(old.clone()).await.json();
    let new = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(new, old, "refresh tokens rotate");
    assert_eq!(refresh(old).await.oauth_error(), "invalid_grant");
    // Reuse of an old one ends the whole grant: the new one is dead too.
    assert_eq!(refresh(new).await.oauth_error(), "invalid_grant");
}

#[tokio::test]
async fn attack_client_assertion_replay() {
    let ehr = ehr().await;
    let a = jwt(
        &assertion_claims(&ehr, "once"),
        json!({"kid": "as-1"}),
        &issuer(),
    );
    assert_eq!(token_error(&ehr, &a).await, "(accepted)");
    assert_eq!(token_error(&ehr, &a).await, "invalid_client");
}

#[tokio::test]
async fn attack_client_assertion_exp_too_far_ahead() {
    let ehr = ehr().await;
    let mut c = assertion_claims(&ehr, "far");
    c.insert("exp".into(), (wall_clock() + 3600).into());
    assert_eq!(
        token_error(&ehr, &jwt(&c, json!({"kid": "as-1"}), &issuer())).await,
        "invalid_client"
    );
}

async fn no_redirect(ehr: &MockEhr, redirect_uri: &str) {
    let res = get(&authorize_url(ehr, &[("redirect_uri", Some(redirect_uri))])).await;
    assert_eq!(res.status.as_u16(), 400, "an error page");
    assert!(
        res.headers.get("location").is_none(),
        "never a redirect to {redirect_uri}"
    );
}

#[tokio::test]
async fn attack_redirect_uri_not_registered() {
    no_redirect(&ehr().await, "https://evil.example/callback").await;
}

#[tokio::test]
async fn attack_redirect_uri_with_a_trailing_slash() {
    no_redirect(&ehr().await, "http://localhost:3000/callback/").await;
}

#[tokio::test]
async fn attack_redirect_uri_with_a_query() {
    no_redirect(
        &ehr().await,
        "http://localhost:3000/callback?next=https://evil.example",
    )
    .await;
}

#[tokio::test]
async fn attack_missing_state() {
    let ehr = ehr().await;
    let q = get(&authorize_url(&ehr, &[("state", None)]))
        .await
        .redirect_query()
        .expect("an error redirect");
    assert_eq!(q.get("error").map(String::as_str), Some("invalid_request"));
    assert!(!q.contains_key("code"));
    assert_eq!(q.get("iss").map(String::as_str), Some(ehr.base_url()));
}

#[tokio::test]
async fn attack_mix_up_iss_mismatch() {
    // Two EHRs: the flow was started with `honest`, the response comes from `other`.
    let (honest, other) = (ehr().await, ehr().await);
    let q: HashMap<String, String> = get(&authorize_url(&other, &[]))
        .await
        .redirect_query()
        .unwrap();
    let iss = q.get("iss").map(String::as_str);
    assert_eq!(
        iss,
        Some(other.base_url()),
        "RFC 9207: the response names its issuer"
    );
    let r = authz_response::check_iss(honest.base_url(), iss, true);
    assert_eq!(code_of(r), "ERR_AUTHZ_RESPONSE_ISS_MISMATCH");
    assert_eq!(
        code_of(authz_response::check_iss(honest.base_url(), None, true)),
        "ERR_AUTHZ_RESPONSE_ISS_MISSING"
    );
    authz_response::check_iss(other.base_url(), iss, true).unwrap();
}

fn code_of<T: std::fmt::Debug>(r: Result<T, smartgate_core::Error>) -> &'static str {
    super::code(r)
}
