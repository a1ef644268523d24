//! HTTPS (`--tls`): a whole launch over TLS with a client that trusts only the
//! server's generated certificate, clients that do not trust it, the protocol versions
//! served (1.2 and 1.3; 1.0 and 1.1 ClientHellos refused), given certificate files, and
//! the binary's banner.

use mock_ehr::{MockEhr, TlsConfig};

#[path = "tls/client.rs"]
mod client;
#[path = "tls/files.rs"]
mod files;
#[path = "tls/handshake.rs"]
mod handshake;
#[path = "tls/launch.rs"]
mod launch;

pub use client::{Client, REDIRECT};
pub use files::{run_binary_with_env, temp_dir};

async fn https_ehr() -> (MockEhr, String) {
    let tls = TlsConfig::self_signed().unwrap();
    let pem = tls.cert_pem().to_string();
    let ehr = MockEhr::builder()
        .auto_approve(true)
        .tls(tls)
        .spawn()
        .await
        .unwrap();
    (ehr, pem)
}
