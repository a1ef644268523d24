//! A whole launch over HTTPS with a client that trusts only the generated certificate,
//! and clients that do not trust it.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use mock_ehr::TlsConfig;
use rustls::CertificateError;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::client::{Client, certs, client_config, rustls_error};
use super::https_ehr;

#[tokio::test]
async fn https_launch_with_a_client_trusting_only_the_generated_certificate() {
    let (ehr, pem) = https_ehr().await;
    let base = ehr.base_url().to_string();
    let port = ehr.local_addr().port();
    assert_eq!(base, format!("https://127.0.0.1:{port}"));
    assert_eq!(ehr.fhir_base(), format!("{base}/fhir"));
    assert_eq!(ehr.tls().unwrap().cert_pem(), pem);
    assert_eq!(certs(&pem).len(), 1);

    let client = Client::trusting(&pem);
    // Discovery: every endpoint is https.
    let smart = client
        .get(&format!("{base}/fhir/.well-known/smart-configuration"))
        .await;
    assert_eq!(smart.status, StatusCode::OK);
    let smart = smart.json();
    assert_eq!(smart["issuer"], base);
    for key in [
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "introspection_endpoint",
        "revocation_endpoint",
    ] {
        assert!(
            smart[key]
                .as_str()
                .unwrap()
                .starts_with(&format!("{base}/")),
            "{key}: {}",
            smart[key]
        );
    }
    // Authorize (auto-approved) -> code, state and iss = the https issuer.
    let fhir = ehr.fhir_base().to_string();
    let q = client
        .authorize(
            &fhir,
            "openid fhirUser launch/patient patient/*.rs",
            "st-tls",
        )
        .await;
    assert_eq!(q["state"], "st-tls");
    assert_eq!(q["iss"], base);
    smartgate_core::authz_response::check_iss(&base, Some(&q["iss"]), true).unwrap();
    // Token with the PKCE verifier.
    let token = client
        .redeem(smart["token_endpoint"].as_str().unwrap(), &q["code"])
        .await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.text());
    let token = token.json();
    let access = token["access_token"].as_str().unwrap();
    let patient = token["patient"].as_str().unwrap();
    // The access token says so too: iss and aud are the https URLs.
    let jwks = client.get(smart["jwks_uri"].as_str().unwrap()).await.json();
    let keys = smartgate_core::jwk::JwkSet::from_value(&jwks).unwrap();
    let v = smartgate_core::jwt::Validation::new([base.as_str()], [fhir.as_str()])
        .algorithms(&[smartgate_core::jws::Algorithm::Es256]);
    let now = ehr.state().clock().now();
    smartgate_core::jwt::verify(
        access,
        &keys,
        &v,
        &smartgate_core::provider::ring::Ring,
        now,
    )
    .unwrap();
    // A FHIR read with the token.
    let read = client
        .get_with(
            &format!("{fhir}/Patient/{patient}"),
            &[("authorization", &format!("Bearer {access}"))],
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text());
    assert_eq!(read.json()["id"], patient);
    // Also by name: the certificate holds localhost.
    let by_name = client
        .get(&format!("https://localhost:{port}/fhir/metadata"))
        .await;
    assert_eq!(by_name.status, StatusCode::OK);
    ehr.shutdown().await.unwrap();
}

#[tokio::test]
async fn clients_that_do_not_trust_the_certificate_fail_the_handshake() {
    let (ehr, pem) = https_ehr().await;
    let url = format!("{}/fhir/metadata", ehr.base_url());
    // No trust anchor at all.
    let empty = Client::with_config(client_config(&[]));
    let e = empty
        .try_request(Method::GET, &url, &[], String::new())
        .await
        .err()
        .unwrap();
    assert_eq!(
        rustls_error(&e),
        &rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
    );
    // Another self-signed certificate (another server's) as the only anchor.
    let other = TlsConfig::self_signed().unwrap();
    assert_ne!(other.cert_pem(), pem);
    let e = Client::trusting(other.cert_pem())
        .try_request(Method::GET, &url, &[], String::new())
        .await
        .err()
        .unwrap();
    assert_eq!(
        rustls_error(&e),
        &rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
    );
    // The right anchor but a name the certificate does not hold.
    let port = ehr.local_addr().port();
    let config = Arc::new(client_config(&certs(&pem)));
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let e = TlsConnector::from(config)
        .connect(ServerName::try_from("ehr.example").unwrap(), tcp)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(
            rustls_error(&e),
            rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. })
        ),
        "{e:?}"
    );
    // Plain HTTP to the HTTPS port gets no HTTP answer.
    let plain = Client::plain()
        .try_request(
            Method::GET,
            &format!("http://127.0.0.1:{port}/fhir/metadata"),
            &[],
            String::new(),
        )
        .await;
    assert!(plain.is_err(), "plain HTTP was answered");
    // A connection that never starts its handshake does not keep the server from
    // stopping, and once stopped the port is closed.
    let silent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    ehr.shutdown().await.unwrap();
    let e = TcpStream::connect(("127.0.0.1", port)).await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
    drop(silent);
}
