//! Settings: what the `--config` TOML file holds, and what the builder sets.
//!
//! Every table refuses unknown keys, so a misspelt or not-yet-supported setting is an
//! error at startup rather than silently ignored. Clients, users and patients given here are added to the built-in
//! ones ([`crate::builtin`]); a client or user with a built-in id replaces it.
//!
//! ```toml
//! default_user = "dr.smith"
//! default_patient = "pat-001"
//!
//! [tokens]
//! access_token_secs = 3600
//! refresh_token_secs = 2592000
//! backend_access_token_secs = 300
//!
//! [signing]
//! access_token_alg = "ES256"   # ES256, ES384, RS256, RS384, RS512, PS256, PS384
//! # The access token signing key (PKCS#8, PEM or DER, fitting access_token_alg);
//! # a fresh key at each start when absent. `mock-ehr mint` needs it.
//! # access_token_key_file = "access-key.pem"
//!
//! [rate_limit]
//! requests_per_minute = 120    # per client, on /authorize and /token
//!
//! [dpop]
//! required = false             # every token request must carry a DPoP proof
//! nonce = true                 # proofs must carry a server nonce (use_dpop_nonce)
//! nonce_period_secs = 300      # how often the nonce changes
//!
//! [[clients]]
//! client_id = "my-app"
//! auth = "none"                # none | client_secret_basic | private_key_jwt
//! redirect_uris = ["http://localhost:4000/callback"]
//! launch_uris = ["http://localhost:4000/launch"]
//! scope = "openid fhirUser launch launch/patient patient/*.rs offline_access"
//! dpop_bound_access_tokens = false   # true: this client's token requests need DPoP
//!
//! [[users]]
//! username = "dr.who"
//! password = "tardis"
//! fhir_user = "Practitioner/prac-042"
//! name = "Dr. Who"
//! ```

use serde::Deserialize;
use serde_json::Value;

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Clients added to the built-in ones.
    pub clients: Vec<ClientConfig>,
    /// Users added to the built-in ones.
    pub users: Vec<UserConfig>,
    /// Patient ids added to the built-in `pat-001` .. `pat-020`.
    pub patients: Vec<String>,
    /// The user of auto-approved requests without a `login_hint` (default `dr.smith`).
    pub default_user: Option<String>,
    /// The patient of auto-approved standalone launches without another source
    /// (default `pat-001`).
    pub default_patient: Option<String>,
    /// Token lifetimes.
    pub tokens: TokenConfig,
    /// Signing algorithms.
    pub signing: SigningConfig,
    /// Per-client rate limit on `/authorize` and `/token`; none when absent.
    pub rate_limit: Option<RateLimitConfig>,
    /// DPoP at the token endpoint.
    pub dpop: DpopConfig,
    /// `[[tenant]]` tables: serve several EHRs under `/t/{name}` ([`crate::tenants`]).
    pub tenant: Vec<crate::tenants::TenantConfig>,
}

impl Config {
    /// Parses TOML text.
    ///
    /// # Errors
    /// The TOML parser's message (syntax, unknown keys, wrong types).
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

/// Token lifetimes, in seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenConfig {
    /// Access tokens of user-facing grants (default 3600).
    pub access_token_secs: u64,
    /// Refresh tokens (default 30 days). Each use rotates the token and restarts this.
    pub refresh_token_secs: u64,
    /// Access tokens of SMART Backend Services (default and maximum 300).
    pub backend_access_token_secs: u64,
}

impl Default for TokenConfig {
    fn default() -> Self {
        Self {
            access_token_secs: 3600,
            refresh_token_secs: 30 * 24 * 3600,
            backend_access_token_secs: 300,
        }
    }
}

/// Signing algorithms. id_tokens are always RS256 (SMART App Launch requires it).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SigningConfig {
    /// The JWS `alg` of access tokens (default `ES256`).
    pub access_token_alg: String,
    /// The access token signing key: a PKCS#8 private key file, PEM
    /// (`-----BEGIN PRIVATE KEY-----`) or DER, of the family and curve of
    /// `access_token_alg` (a relative path is relative to the working directory).
    /// Without it the server makes a fresh key at each start, so tokens minted by
    /// `mock-ehr mint` (which needs this key) could never verify. `/_admin/reset`
    /// returns to this key after rotations.
    pub access_token_key_file: Option<std::path::PathBuf>,
}

impl Default for SigningConfig {
    fn default() -> Self {
        Self {
            access_token_alg: "ES256".into(),
            access_token_key_file: None,
        }
    }
}

/// A fixed-window rate limit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Requests one client may make to `/authorize` and `/token` (each counted
    /// separately) per minute; more are answered 429 with `Retry-After`.
    pub requests_per_minute: u32,
}

/// DPoP ([RFC 9449]) at the token endpoint. Without this table DPoP is optional: a
/// token request with a valid proof gets a DPoP-bound token, one without gets a
/// bearer token (unless the client registered `dpop_bound_access_tokens`).
///
/// [RFC 9449]: https://www.rfc-editor.org/rfc/rfc9449
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DpopConfig {
    /// Every token request must carry a DPoP proof (`invalid_dpop_proof` otherwise).
    pub required: bool,
    /// Proofs must carry a server nonce: without one, or with a stale one, the answer is
    /// `use_dpop_nonce` with the nonce to use in `DPoP-Nonce` (RFC 9449 section 8).
    pub nonce: bool,
    /// How often the nonce changes, in seconds (default 300). The previous nonce stays
    /// good, so a nonce lives one to two periods.
    pub nonce_period_secs: u64,
}

impl Default for DpopConfig {
    fn default() -> Self {
        Self {
            required: false,
            nonce: false,
            nonce_period_secs: 300,
        }
    }
}

/// How a client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMethod {
    /// A public client: sends only `client_id` (PKCE protects its codes).
    #[default]
    None,
    /// A confidential symmetric client: HTTP Basic with `client_id` and `client_secret`.
    ClientSecretBasic,
    /// A confidential asymmetric client: a signed JWT assertion (SMART Backend
    /// Services, `private_key_jwt`).
    PrivateKeyJwt,
}

impl ClientAuthMethod {
    /// The name of the method in discovery and registration.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ClientSecretBasic => "client_secret_basic",
            Self::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

/// One registered client.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// The `client_id`.
    pub client_id: String,
    /// A display name for the consent page.
    #[serde(default)]
    pub name: Option<String>,
    /// How it authenticates.
    #[serde(default)]
    pub auth: ClientAuthMethod,
    /// The secret of a `client_secret_basic` client.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// The public keys of a `private_key_jwt` client, as a JWK Set.
    #[serde(default)]
    pub jwks: Option<Value>,
    /// Where to fetch the keys of a `private_key_jwt` client: `http://127.0.0.1:PORT/...`
    /// only (the mock never reaches beyond the loopback address).
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// Redirect URIs, compared by exact string match.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// App launch URLs that `GET /launch` may send a browser to.
    #[serde(default)]
    pub launch_uris: Vec<String>,
    /// Browser origins allowed by CORS on the token endpoint; the origins of
    /// `redirect_uris` when empty.
    #[serde(default)]
    pub origins: Vec<String>,
    /// The scopes the client may be granted, space-separated.
    #[serde(default)]
    pub scope: String,
    /// RFC 9449 section 5.2: the client always uses DPoP, so its token requests
    /// without a DPoP proof are refused (`invalid_dpop_proof`).
    #[serde(default)]
    pub dpop_bound_access_tokens: bool,
}

/// One user who can log in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// The login name (also the `sub` of its id_tokens).
    pub username: String,
    /// The password of the login page.
    pub password: String,
    /// The FHIR resource of the user, relative to the FHIR base:
    /// `Practitioner/prac-001`, `Patient/pat-001`, ...
    pub fhir_user: String,
    /// A display name.
    #[serde(default)]
    pub name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_example_parses() {
        let doc = include_str!("config.rs");
        let start = doc.find("//! ```toml").unwrap_or(0);
        let text: String = doc[start..]
            .lines()
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| l.trim_start_matches("//!").trim_start_matches(' '))
            .collect::<Vec<_>>()
            .join("\n");
        let config = Config::from_toml(&text).unwrap();
        assert_eq!(config.clients.len(), 1);
        assert_eq!(config.clients[0].auth, ClientAuthMethod::None);
        assert_eq!(config.users[0].fhir_user, "Practitioner/prac-042");
        assert_eq!(config.rate_limit.unwrap().requests_per_minute, 120);
        assert!(config.dpop.nonce && !config.dpop.required);
        assert_eq!(config.dpop.nonce_period_secs, 300);
        assert!(!config.clients[0].dpop_bound_access_tokens);
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = Config::from_toml("[dpop]\nrequire = true\n").unwrap_err();
        assert!(err.contains("require"), "{err}");
        assert!(Config::from_toml("[fhir_bulk]\non = true\n").is_err());
        assert!(Config::from_toml("[[clients]]\nclient_id='a'\nsecret='x'\n").is_err());
    }
}
