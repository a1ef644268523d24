//! The client pages: listed, registered and deleted, and registration errors by the
//! dynamic registration rules.

use axum::http::StatusCode;

use super::{Case, csrf, field_error, unescaped};
use crate::support::*;

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
