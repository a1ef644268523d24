//! Several EHRs in one process: each tenant is a whole mock EHR (its own issuer,
//! signing keys, clients, users, FHIR data, audit trail and `/_admin` controls) served
//! under `/t/{name}`, so its issuer is `{base}/t/{name}` and its FHIR base
//! `{base}/t/{name}/fhir`.
//!
//! A client can be tested against per-issuer configuration (the development, test and
//! production endpoints of one vendor, or two vendors) and against mix-up attacks
//! ([RFC 9207]: a response of one issuer delivered to a flow started with another).
//!
//! Tenants come from `--tenants N` (named `t1` .. `tN`, each the top-level
//! configuration) or from `[[tenant]]` tables in the configuration file, each a name and
//! optional overrides of the top-level configuration:
//!
//! ```toml
//! [[tenant]]
//! name = "dev"
//!
//! [[tenant]]
//! name = "prod"
//! signing = { access_token_alg = "RS256" }
//! dpop = { required = true }
//! [[tenant.clients]]
//! client_id = "prod-only-app"
//! redirect_uris = ["http://localhost:4000/callback"]
//! scope = "openid fhirUser launch/patient patient/*.rs"
//! ```
//!
//! In tenant mode `GET /` lists the tenants (JSON); every other path outside `/t/{name}`
//! is a 404.
//!
//! [RFC 9207]: https://www.rfc-editor.org/rfc/rfc9207

use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::paths;
use crate::config::{ClientConfig, Config, DpopConfig, RateLimitConfig, SigningConfig};
use crate::config::{TokenConfig, UserConfig};
use crate::state::AppState;

/// The most tenants one process serves (each has its own RSA key, made at start).
pub const MAX_TENANTS: usize = 64;

/// The longest tenant name.
const MAX_NAME: usize = 64;

/// One `[[tenant]]` table: a name and what differs from the top-level configuration.
/// Clients, users and patients are added to the top-level ones (an entry with an id
/// that exists replaces it); the tables given replace the top-level ones whole.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// The path segment: `/t/{name}`. ASCII letters, digits, `-` and `_`, at most 64.
    pub name: String,
    /// Clients added to the top-level ones.
    #[serde(default)]
    pub clients: Vec<ClientConfig>,
    /// Users added to the top-level ones.
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// Patient ids added to the top-level ones.
    #[serde(default)]
    pub patients: Vec<String>,
    /// Replaces the top-level `default_user`.
    #[serde(default)]
    pub default_user: Option<String>,
    /// Replaces the top-level `default_patient`.
    #[serde(default)]
    pub default_patient: Option<String>,
    /// Replaces the top-level `[tokens]`.
    #[serde(default)]
    pub tokens: Option<TokenConfig>,
    /// Replaces the top-level `[signing]`.
    #[serde(default)]
    pub signing: Option<SigningConfig>,
    /// Replaces the top-level `[rate_limit]`.
    #[serde(default)]
    pub rate_limit: Option<RateLimitConfig>,
    /// Replaces the top-level `[dpop]`.
    #[serde(default)]
    pub dpop: Option<DpopConfig>,
}

impl TenantConfig {
    /// A tenant with this name and the top-level configuration.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// `n` tenants `t1` .. `tn` (what `--tenants N` serves).
    pub fn numbered(n: usize) -> Vec<Self> {
        (1..=n).map(|i| Self::named(format!("t{i}"))).collect()
    }

    /// The configuration of this tenant: `top` with this table's additions and
    /// replacements (`top`'s own `[[tenant]]` tables dropped).
    pub fn apply(&self, top: &Config) -> Config {
        let mut config = top.clone();
        config.tenant.clear();
        config.clients.extend(self.clients.iter().cloned());
        config.users.extend(self.users.iter().cloned());
        config.patients.extend(self.patients.iter().cloned());
        if self.default_user.is_some() {
            config.default_user.clone_from(&self.default_user);
        }
        if self.default_patient.is_some() {
            config.default_patient.clone_from(&self.default_patient);
        }
        if let Some(t) = &self.tokens {
            config.tokens = t.clone();
        }
        if let Some(s) = &self.signing {
            config.signing = s.clone();
        }
        if self.rate_limit.is_some() {
            config.rate_limit.clone_from(&self.rate_limit);
        }
        if let Some(d) = &self.dpop {
            config.dpop = d.clone();
        }
        config
    }
}

/// Checks a set of tenants: 1 to [`MAX_TENANTS`], valid and distinct names.
///
/// # Errors
/// The first problem found, naming the tenant.
pub fn validate(tenants: &[TenantConfig]) -> Result<(), String> {
    if tenants.is_empty() || tenants.len() > MAX_TENANTS {
        return Err(format!(
            "tenants: {} given, 1 to {MAX_TENANTS} allowed",
            tenants.len()
        ));
    }
    for (i, t) in tenants.iter().enumerate() {
        let name = &t.name;
        if name.is_empty()
            || name.len() > MAX_NAME
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!(
                "tenant name {name:?}: 1 to {MAX_NAME} ASCII letters, digits, '-' or '_'"
            ));
        }
        if tenants
            .get(..i)
            .is_some_and(|before| before.iter().any(|b| &b.name == name))
        {
            return Err(format!("tenant name {name:?} is given twice"));
        }
    }
    Ok(())
}

/// The path prefix of a tenant: `/t/{name}`.
pub fn prefix(name: &str) -> String {
    format!("/t/{name}")
}

/// One running tenant.
#[derive(Debug, Clone)]
pub struct Tenant {
    name: String,
    state: AppState,
}

impl Tenant {
    pub(crate) fn new(name: String, state: AppState) -> Self {
        Self { name, state }
    }

    /// Its name (the `/t/{name}` segment).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `{base}/t/{name}`: its issuer.
    pub fn base_url(&self) -> &str {
        &self.state.urls().base
    }

    /// `{base}/t/{name}/fhir`: its FHIR base.
    pub fn fhir_base(&self) -> &str {
        &self.state.urls().fhir
    }

    /// Its state.
    pub fn state(&self) -> &AppState {
        &self.state
    }
}

/// The router of a multi-tenant server: each tenant's whole router under
/// `/t/{name}`, the list of tenants at `/`, 404 elsewhere.
pub fn app(tenants: &[Tenant]) -> Router {
    let index = index(tenants);
    let mut router = Router::new().route(
        "/",
        get(move || {
            let index = index.clone();
            async move { Json(index) }
        }),
    );
    for t in tenants {
        router = router.nest(&prefix(&t.name), crate::app::app(t.state.clone()));
    }
    router.fallback(not_found)
}

/// What `GET /` answers: every tenant's name, issuer, FHIR base and discovery URL.
fn index(tenants: &[Tenant]) -> Value {
    let list: Vec<Value> = tenants
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "issuer": t.state.urls().issuer(),
                "fhir_base": t.state.urls().fhir,
                "smart_configuration": t.state.urls().at(paths::SMART_CONFIGURATION),
            })
        })
        .collect();
    json!({ "tenants": list })
}

async fn not_found() -> Response {
    (
        axum::http::StatusCode::NOT_FOUND,
        Json(json!({ "error": "not_found" })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_example_parses_and_applies() {
        let doc = include_str!("tenants.rs");
        let start = doc.find("//! ```toml").unwrap_or(0);
        let text: String = doc[start..]
            .lines()
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| l.trim_start_matches("//!").trim_start_matches(' '))
            .collect::<Vec<_>>()
            .join("\n");
        let config = Config::from_toml(&text).unwrap();
        let names: Vec<&str> = config.tenant.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["dev", "prod"]);
        validate(&config.tenant).unwrap();
        let dev = config.tenant[0].apply(&config);
        assert!(dev.tenant.is_empty() && dev.clients.is_empty());
        assert_eq!(dev.signing.access_token_alg, "ES256");
        let prod = config.tenant[1].apply(&config);
        assert_eq!(prod.signing.access_token_alg, "RS256");
        assert!(prod.dpop.required);
        assert_eq!(prod.clients[0].client_id, "prod-only-app");
    }

    #[test]
    fn numbered_tenants_are_t1_to_tn() {
        let names: Vec<String> = TenantConfig::numbered(3)
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(names, ["t1", "t2", "t3"]);
        assert_eq!(prefix("t2"), "/t/t2");
    }
}
