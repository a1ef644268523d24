//! The protocol versions served: TLS 1.2 and 1.3 (HTTP/1.1 by ALPN), TLS 1.0 and 1.1
//! ClientHellos refused with a fatal alert.

use std::io::{Read as _, Write as _};
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::client::certs;
use super::https_ehr;

/// Negotiates with a client limited to `version`; the version and ALPN protocol agreed.
async fn negotiate(
    port: u16,
    pem: &str,
    version: &'static rustls::SupportedProtocolVersion,
) -> (rustls::ProtocolVersion, Option<Vec<u8>>) {
    let mut store = RootCertStore::empty();
    store.add(certs(pem).remove(0)).unwrap();
    let mut config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[version])
            .unwrap()
            .with_root_certificates(store)
            .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let tls = TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
        .unwrap();
    let (_, conn) = tls.get_ref();
    (
        conn.protocol_version().unwrap(),
        conn.alpn_protocol().map(<[u8]>::to_vec),
    )
}

#[tokio::test]
async fn tls_1_2_and_1_3_are_served_with_http_1_1_alpn() {
    let (ehr, pem) = https_ehr().await;
    let port = ehr.local_addr().port();
    assert_eq!(
        negotiate(port, &pem, &rustls::version::TLS13).await,
        (rustls::ProtocolVersion::TLSv1_3, Some(b"http/1.1".to_vec()))
    );
    assert_eq!(
        negotiate(port, &pem, &rustls::version::TLS12).await,
        (rustls::ProtocolVersion::TLSv1_2, Some(b"http/1.1".to_vec()))
    );
    ehr.shutdown().await.unwrap();
}

/// A ClientHello record without a `supported_versions` extension (RFC 8446 section
/// 4.2.1), so the highest version it offers is its `legacy_version`: `0x0301` is a
/// TLS 1.0 client, `0x0302` TLS 1.1, `0x0303` TLS 1.2. `sigalgs`: with the
/// `signature_algorithms` extension, which TLS 1.2 introduced (RFC 5246 section
/// 7.4.1.4.1), so real TLS 1.0/1.1 clients do not send it. The rest is the same for
/// every call and enough for a TLS 1.2 handshake with the server's ECDSA P-256
/// certificate.
fn client_hello(version: [u8; 2], sigalgs: bool) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&version);
    body.extend_from_slice(&[0x5a; 32]); // random
    body.push(0); // no session id
    // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (TLS 1.2), then what TLS 1.0/1.1 clients
    // offer: TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
    // TLS_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_3DES_EDE_CBC_SHA.
    let suites: [u8; 10] = [0xc0, 0x2b, 0xc0, 0x09, 0xc0, 0x13, 0x00, 0x2f, 0x00, 0x0a];
    body.extend_from_slice(&(suites.len() as u16).to_be_bytes());
    body.extend_from_slice(&suites);
    body.extend_from_slice(&[1, 0]); // compression: null
    let mut exts = Vec::new();
    // server_name: localhost
    let host = b"localhost";
    let mut sni = Vec::new();
    sni.extend_from_slice(&((host.len() + 3) as u16).to_be_bytes());
    sni.push(0);
    sni.extend_from_slice(&(host.len() as u16).to_be_bytes());
    sni.extend_from_slice(host);
    exts.extend_from_slice(&[0x00, 0x00]);
    exts.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    exts.extend_from_slice(&sni);
    // supported_groups: secp256r1, secp384r1
    exts.extend_from_slice(&[0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x17, 0x00, 0x18]);
    // ec_point_formats: uncompressed
    exts.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    // signature_algorithms: ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256
    if sigalgs {
        exts.extend_from_slice(&[
            0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01,
        ]);
    }
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(&exts);
    let mut handshake = vec![1]; // client_hello
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);
    let mut record = vec![22, 0x03, 0x01]; // handshake record, record version TLS 1.0
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

/// Sends `hello` over a plain TCP connection and reads up to `limit` bytes of what
/// the server sends, or everything until it closes (a blocking socket, off the async
/// threads; the read timeout only keeps a misbehaving server from hanging the test).
async fn answer_to(port: u16, hello: Vec<u8>, limit: Option<usize>) -> Vec<u8> {
    tokio::task::spawn_blocking(move || {
        let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        tcp.write_all(&hello).unwrap();
        let mut answer = Vec::new();
        match limit {
            Some(n) => {
                answer.resize(n, 0);
                tcp.read_exact(&mut answer).unwrap();
            }
            None => {
                tcp.read_to_end(&mut answer).unwrap();
            }
        }
        answer
    })
    .await
    .unwrap()
}

/// What rustls 0.23 does, in this order: it first requires `signature_algorithms`
/// (alert `handshake_failure`, 40, without it), then picks the version (alert
/// `protocol_version`, 70, when the client offers no more than TLS 1.1). Either way
/// the answer is one fatal alert record and the connection closes: no ServerHello.
#[tokio::test]
async fn tls_1_0_and_1_1_client_hellos_are_refused_with_a_fatal_alert() {
    let (ehr, _) = https_ehr().await;
    let port = ehr.local_addr().port();
    const HANDSHAKE_FAILURE: u8 = 40;
    const PROTOCOL_VERSION: u8 = 70;
    for version in [[0x03, 0x01], [0x03, 0x02]] {
        // As TLS 1.0/1.1 clients send it (OpenSSL's `s_client -tls1_1` gets the same).
        let answer = answer_to(port, client_hello(version, false), None).await;
        // The whole answer: an alert record (21), record version 0x0303, length 2,
        // level fatal (2), handshake_failure; then the server closes.
        assert_eq!(
            answer,
            [21, 0x03, 0x03, 0, 2, 2, HANDSHAKE_FAILURE],
            "{version:?}"
        );
        // With signature_algorithms: refused for its version.
        let answer = answer_to(port, client_hello(version, true), None).await;
        assert_eq!(
            answer,
            [21, 0x03, 0x03, 0, 2, 2, PROTOCOL_VERSION],
            "{version:?}"
        );
    }
    // The same hello as a TLS 1.2 client gets a ServerHello (a handshake record, 22,
    // whose first message is server_hello, 2, with version 0x0303): only the version
    // was refused above.
    let head = answer_to(port, client_hello([0x03, 0x03], true), Some(11)).await;
    assert_eq!(head[0], 22, "{head:?}");
    assert_eq!(head[5], 2, "{head:?}");
    assert_eq!(head[9..11], [0x03, 0x03], "{head:?}");
    ehr.shutdown().await.unwrap();
}
