//! Minted access tokens: a token for a chosen client, scopes, patient, user, lifetime
//! and DPoP key, without running a flow, so a team can test its own FHIR-facing
//! service. Two ways in, one set of rules (`check`):
//!
//! - `POST /_admin/tokens` (a running server): the token is recorded like one from the
//!   token endpoint (revocable, introspectable, audited).
//! - `mock-ehr mint` / [`mint_offline`] (no server): signed with the configured access
//!   token key (`[signing] access_token_key_file`) for the given issuer. Such a token
//!   carries the claim `"minted": "offline"`; a server with the same key and issuer
//!   takes it on its first use at the FHIR API (records it, so it can then be revoked
//!   and introspected), after checking its client, user and patient again.
//!
//! A mint refuses what the authorization server would refuse, with an OAuth error code
//! ([`MintError`]): a malformed or unknown scope, a scope the client may not be
//! granted (`invalid_scope`); an unknown client (`invalid_client`); an unknown user or
//! patient, `patient/` scopes without a patient, `fhirUser` without a user, a lifetime
//! outside 1 to [`MAX_MINTED_SECS`] seconds, a `jkt` that is not a SHA-256 JWK
//! thumbprint (`invalid_request`).

use core::fmt;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use smartgate_core::scope::{Context, Scope, ScopeSet};

use crate::config::Config;
use crate::directory::Directory;
use crate::keys::{self, KeyRing};
use crate::state::Urls;

/// The longest lifetime a minted token gets, in seconds (one day).
pub const MAX_MINTED_SECS: i64 = 86_400;
/// The lifetime of a minted token when none is asked for, in seconds.
pub const DEFAULT_MINTED_SECS: i64 = 3600;
/// The value of the `minted` claim of a token minted without a server.
pub const OFFLINE: &str = "offline";

/// What to mint: the body of `POST /_admin/tokens`, the options of `mock-ehr mint`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    /// A registered client (built-in or configured).
    pub client_id: String,
    /// Space-separated scopes, each one the client may be granted.
    pub scope: String,
    /// A user (username): `sub`, and `fhirUser` when the scope has `fhirUser`.
    #[serde(default)]
    pub user: Option<String>,
    /// The patient in context (`patient` claim); required by `patient/` scopes.
    #[serde(default)]
    pub patient: Option<String>,
    /// Binds the token to this DPoP key (`cnf.jkt`): a base64url SHA-256 JWK
    /// thumbprint (RFC 7638), 43 characters.
    #[serde(default)]
    pub jkt: Option<String>,
    /// Lifetime in seconds, 1 to [`MAX_MINTED_SECS`] (default [`DEFAULT_MINTED_SECS`]).
    #[serde(default)]
    pub expires_in: Option<i64>,
}

/// A refused mint: an OAuth error code and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintError {
    /// `invalid_request`, `invalid_scope`, `invalid_client`; `server_error` for a
    /// server-side failure (no key, no randomness).
    pub error: &'static str,
    /// For people.
    pub description: String,
}

impl MintError {
    fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            error,
            description: description.into(),
        }
    }

    fn request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", description)
    }

    /// `{"error", "error_description"}` (RFC 6749 section 5.2).
    pub fn to_json(&self) -> Value {
        json!({ "error": self.error, "error_description": self.description })
    }
}

impl fmt::Display for MintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.description)
    }
}

impl core::error::Error for MintError {}

/// `mock-ehr mint`: prints a signed access token, without a running server.
#[derive(Debug, Clone, clap::Args)]
pub struct MintArgs {
    /// Space-separated scopes the client may be granted (`patient/*.rs`, `user/Observation.rs`, ...).
    #[arg(long)]
    pub scope: String,
    /// The client the token is issued to.
    #[arg(long, default_value = "demo-app")]
    pub client: String,
    /// The patient in context (needed by patient/ scopes).
    #[arg(long)]
    pub patient: Option<String>,
    /// The user (username): `sub`, and `fhirUser` when the scope has fhirUser.
    #[arg(long)]
    pub user: Option<String>,
    /// Lifetime in seconds (1 to 86400).
    #[arg(long, default_value_t = DEFAULT_MINTED_SECS, allow_negative_numbers = true)]
    pub lifetime: i64,
    /// Bind the token to this DPoP key: its base64url SHA-256 JWK thumbprint.
    #[arg(long)]
    pub jkt: Option<String>,
    /// The server's TOML configuration: it must name the access token key the server
    /// signs with (`signing.access_token_key_file`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// The server's base URL (the tokens' `iss`; `aud` is `{issuer}/fhir`).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub issuer: String,
    /// Print the token response as JSON, with the token's claims, instead of the token
    /// alone.
    #[arg(long)]
    pub json: bool,
}

impl MintArgs {
    /// Runs the subcommand: the text to print, or why nothing was minted.
    ///
    /// # Errors
    /// The configuration cannot be read, or [`mint_offline`] refuses.
    pub fn run(&self) -> Result<String, String> {
        let config = match &self.config {
            None => Config::default(),
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| e.to_string())
                .and_then(|t| Config::from_toml(&t))
                .map_err(|e| format!("{}: {e}", path.display()))?,
        };
        let req = MintRequest {
            client_id: self.client.clone(),
            scope: self.scope.clone(),
            user: self.user.clone(),
            patient: self.patient.clone(),
            jkt: self.jkt.clone(),
            expires_in: Some(self.lifetime),
        };
        let now = crate::clock::Clock::system().now();
        let minted = mint_offline(&config, &self.issuer, &req, now).map_err(|e| e.to_string())?;
        if self.json {
            let mut body = minted.to_json();
            if let Some(obj) = body.as_object_mut() {
                obj.insert("claims".into(), Value::Object(minted.claims));
            }
            Ok(body.to_string())
        } else {
            Ok(minted.access_token)
        }
    }
}

/// A minted token.
#[derive(Debug, Clone)]
pub struct Minted {
    /// The signed access token (JWT, `typ` `at+jwt`).
    pub access_token: String,
    /// Its claims.
    pub claims: Map<String, Value>,
    /// Its lifetime in seconds.
    pub expires_in: i64,
}

impl Minted {
    /// A token response body (RFC 6749 section 5.1 plus SMART's `patient`).
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "access_token": self.access_token,
            "token_type": if self.claims.contains_key("cnf") { "DPoP" } else { "Bearer" },
            "expires_in": self.expires_in,
            "scope": self.claims.get("scope").cloned().unwrap_or_default(),
        });
        if let (Some(p), Some(obj)) = (self.claims.get("patient"), body.as_object_mut()) {
            obj.insert("patient".into(), p.clone());
        }
        body
    }
}

/// A mint request that passed [`check`].
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub(crate) scopes: ScopeSet,
    pub(crate) lifetime: i64,
    /// The user's FHIR resource (`Practitioner/prac-001`).
    pub(crate) fhir_user: Option<String>,
}

/// Checks `req` against the clients, users and patients of `directory`, as the
/// authorization server would (see the [module docs](self) for what is refused).
///
/// # Errors
/// The first refusal found, as a [`MintError`].
pub(crate) fn check(req: &MintRequest, directory: &Directory) -> Result<Checked, MintError> {
    let lifetime = req.expires_in.unwrap_or(DEFAULT_MINTED_SECS);
    if !(1..=MAX_MINTED_SECS).contains(&lifetime) {
        return Err(MintError::request(format!(
            "expires_in must be 1 to {MAX_MINTED_SECS} seconds, not {lifetime}"
        )));
    }
    let client = directory.clients.get(&req.client_id).ok_or_else(|| {
        MintError::new(
            "invalid_client",
            format!("unknown client_id {:?}", req.client_id),
        )
    })?;
    if req.scope.trim().is_empty() {
        return Err(MintError::new("invalid_scope", "scope is empty"));
    }
    let scopes = ScopeSet::parse(&req.scope).map_err(|e| {
        MintError::new(
            "invalid_scope",
            format!("scope is malformed ({}): {e}", e.code()),
        )
    })?;
    let outside: Vec<String> = scopes
        .iter()
        .filter(|s| {
            ScopeSet::from_scopes([(*s).clone()])
                .map(|one| !crate::scopes::within(&one, &client.scope))
                .unwrap_or(true)
        })
        .map(ToString::to_string)
        .collect();
    if !outside.is_empty() {
        return Err(MintError::new(
            "invalid_scope",
            format!(
                "client {:?} may not be granted {}",
                req.client_id,
                outside.join(" ")
            ),
        ));
    }
    let fhir_user = match &req.user {
        Some(u) => Some(
            directory
                .user(u)
                .ok_or_else(|| MintError::request(format!("unknown user {u:?}")))?
                .fhir_user
                .clone(),
        ),
        None => None,
    };
    match &req.patient {
        Some(p) if !directory.has_patient(p) => {
            return Err(MintError::request(format!("unknown patient {p:?}")));
        }
        None if scopes
            .iter()
            .filter_map(Scope::as_clinical)
            .any(|c| c.context() == Context::Patient) =>
        {
            return Err(MintError::request(
                "patient/ scopes need a patient in context: give patient",
            ));
        }
        _ => {}
    }
    if req.user.is_none() && scopes.contains(&Scope::FhirUser) {
        return Err(MintError::request("the fhirUser scope needs a user"));
    }
    if let Some(jkt) = &req.jkt
        && !is_thumbprint(jkt)
    {
        return Err(MintError::request(
            "jkt must be a base64url SHA-256 JWK thumbprint (RFC 7638, 43 characters)",
        ));
    }
    Ok(Checked {
        scopes,
        lifetime,
        fhir_user,
    })
}

/// 43 base64url characters that decode to 32 bytes.
fn is_thumbprint(jkt: &str) -> bool {
    jkt.len() == 43
        && smartgate_core::base64url::decode(jkt.as_bytes()).is_ok_and(|b| b.len() == 32)
}

/// The claims of a minted token (RFC 9068 shape plus SMART's), as the token endpoint
/// writes them; `offline` adds `"minted": "offline"`.
pub(crate) fn claims(
    req: &MintRequest,
    checked: &Checked,
    urls: &Urls,
    now: i64,
    jti: &str,
    offline: bool,
) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("iss".into(), urls.issuer().into());
    claims.insert(
        "sub".into(),
        req.user.as_deref().unwrap_or(&req.client_id).into(),
    );
    claims.insert("aud".into(), urls.fhir.clone().into());
    claims.insert("exp".into(), now.saturating_add(checked.lifetime).into());
    claims.insert("iat".into(), now.into());
    claims.insert("jti".into(), jti.into());
    claims.insert("client_id".into(), req.client_id.clone().into());
    claims.insert("scope".into(), checked.scopes.to_string().into());
    if let Some(p) = &req.patient {
        claims.insert("patient".into(), p.clone().into());
    }
    if let Some(f) = &checked.fhir_user
        && checked.scopes.contains(&Scope::FhirUser)
    {
        claims.insert("fhirUser".into(), format!("{}/{f}", urls.fhir).into());
    }
    if let Some(jkt) = &req.jkt {
        claims.insert("cnf".into(), json!({ "jkt": jkt }));
    }
    if offline {
        claims.insert("minted".into(), OFFLINE.into());
    }
    claims
}

/// Mints a token without a server: `config`'s clients, users, patients, access token
/// algorithm and key (`[signing] access_token_key_file`), for the server at `issuer`
/// (its base URL, `http://127.0.0.1:8080` by default; the audience is `{issuer}/fhir`).
///
/// # Errors
/// What the endpoint refuses too (see the [module docs](self)); `invalid_request` for an issuer that is not an `http(s)://`
/// URL; `server_error` when the configuration has no key file or it cannot be used
/// (the description says why).
pub fn mint_offline(
    config: &Config,
    issuer: &str,
    req: &MintRequest,
    now: i64,
) -> Result<Minted, MintError> {
    let server = |d: String| MintError::new("server_error", d);
    if !(issuer.starts_with("http://") || issuer.starts_with("https://"))
        || issuer.contains(['?', '#', ' '])
    {
        return Err(MintError::request(format!(
            "issuer {issuer:?} must be the server's base URL (http://HOST:PORT)"
        )));
    }
    let alg = keys::parse_alg(&config.signing.access_token_alg).map_err(server)?;
    let Some(key) = keys::configured_access_key(config).map_err(server)? else {
        return Err(server(
            "no access token key: set [signing] access_token_key_file in the --config file \
             (a PKCS#8 PEM or DER key) and start the server with the same file; without it \
             the server signs with a fresh key at each start, and a minted token could \
             never verify"
                .into(),
        ));
    };
    let ring = KeyRing::initial(alg, Some(&key)).map_err(server)?;
    let mut config = config.clone();
    for p in crate::fhir::Store::builtin().current("Patient") {
        if let Some(id) = p.get("id").and_then(Value::as_str)
            && !config.patients.iter().any(|x| x == id)
        {
            config.patients.push(id.to_string());
        }
    }
    let jwks = crate::server::demo_backend_jwks().map_err(|e| server(e.0))?;
    let directory = Directory::build(&config, jwks).map_err(server)?;
    let checked = check(req, &directory)?;
    let jti = crate::state::random_id().map_err(|_| server("no randomness".into()))?;
    let claims = claims(req, &checked, &Urls::new(issuer), now, &jti, true);
    let access_token = ring
        .sign_access(&claims)
        .map_err(|e| server(format!("signing failed ({})", e.code())))?;
    Ok(Minted {
        access_token,
        claims,
        expires_in: checked.lifetime,
    })
}

/// Takes an offline-minted token (see the [module docs](self)) on its first use: checks
/// its client, user (`sub` when it is not the client), patient, scopes and `cnf.jkt`
/// as [`check`] would, then records it (and a grant when it has a user or patient)
/// until its `exp`, and audits it.
///
/// # Errors
/// The token names what this server would not issue.
pub(crate) fn adopt(
    store: &mut crate::store::Store,
    authorized: &smartgate_core::guard::Authorized,
    jti: &str,
    now: i64,
) -> Result<(), &'static str> {
    const REFUSED: &str =
        "an offline-minted token for a client, user, patient or scope this server does not have";
    let client_id = authorized.client_id.clone().ok_or(REFUSED)?;
    let user = authorized.subject.clone().filter(|s| *s != client_id);
    let req = MintRequest {
        client_id: client_id.clone(),
        scope: authorized.scope.clone(),
        user: user.clone(),
        patient: authorized.patient.clone(),
        jkt: authorized.jkt.clone(),
        expires_in: None,
    };
    let checked = check(&req, &store.directory).map_err(|_| REFUSED)?;
    let expires = authorized.claims.exp().ok_or(REFUSED)?;
    record(
        store,
        &req,
        checked.scopes,
        jti,
        expires,
        now,
        "offline-minted token (mock-ehr mint) taken on its first use".into(),
    )
    .map_err(|()| REFUSED)
}

/// Records a minted token as the token endpoint records its tokens: a grant when it has
/// a user or patient (so revocation and consent withdrawal reach it), the access token
/// record, and an audit event with `detail`.
///
/// # Errors
/// No randomness for the grant id.
pub(crate) fn record(
    store: &mut crate::store::Store,
    req: &MintRequest,
    scopes: ScopeSet,
    jti: &str,
    expires: i64,
    now: i64,
    detail: String,
) -> Result<(), ()> {
    let grant = if req.user.is_some() || req.patient.is_some() {
        let id = crate::state::random_id().map_err(|_| ())?;
        store.grants.insert(
            id.clone(),
            crate::store::Grant {
                id: id.clone(),
                client_id: req.client_id.clone(),
                user: req.user.clone(),
                scope: scopes,
                context: crate::store::LaunchContext {
                    patient: req.patient.clone(),
                    ..crate::store::LaunchContext::default()
                },
                created: now,
                revoked: None,
                id_token_issued: false,
                jkt: req.jkt.clone(),
            },
        );
        Some(id)
    } else {
        None
    };
    store.access.insert(
        jti.to_string(),
        crate::store::AccessRecord {
            grant,
            client_id: req.client_id.clone(),
            revoked: false,
            expires,
        },
    );
    crate::state::AppState::audit_locked(
        store,
        now,
        crate::audit::AuditEvent::new("token", "success")
            .client(&req.client_id)
            .user(req.user.as_deref())
            .patient(req.patient.as_deref())
            .token(jti)
            .detail(detail),
    );
    Ok(())
}
