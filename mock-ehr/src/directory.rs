//! Who exists: clients, users and patients, validated once from the configuration
//! (built-ins plus `--config`) and extended by dynamic registration.

use std::collections::HashMap;

use smartgate_core::jwk::JwkSet;

use crate::builtin;
use crate::config::{ClientAuthMethod, ClientConfig, Config, UserConfig};

/// Where a `private_key_jwt` client's public keys come from.
#[derive(Debug, Clone)]
pub(crate) enum ClientKeys {
    /// Not an asymmetric client.
    None,
    /// A registered JWK Set (parsed by the core).
    Jwks(JwkSet),
    /// A `jwks_uri` on 127.0.0.1, fetched at each authentication.
    Uri(String),
}

/// A validated client.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) auth: ClientAuthMethod,
    pub(crate) secret: Option<String>,
    pub(crate) keys: ClientKeys,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) launch_uris: Vec<String>,
    pub(crate) origins: Vec<String>,
    pub(crate) scope: String,
}

impl Client {
    /// Validates a client's settings.
    pub(crate) fn from_config(c: &ClientConfig) -> Result<Self, String> {
        let id = c.client_id.trim();
        if id.is_empty() || id != c.client_id || id.chars().any(char::is_control) {
            return Err("client_id must be non-empty printable text".into());
        }
        for uri in c.redirect_uris.iter().chain(&c.launch_uris) {
            check_absolute_url(uri)?;
        }
        let keys = match c.auth {
            ClientAuthMethod::PrivateKeyJwt => match (&c.jwks, &c.jwks_uri) {
                (Some(jwks), None) => ClientKeys::Jwks(
                    JwkSet::from_value(jwks)
                        .map_err(|e| format!("client {id}: jwks refused ({})", e.code()))?,
                ),
                (None, Some(uri)) => {
                    if !is_loopback_http(uri) {
                        return Err(format!(
                            "client {id}: jwks_uri must be http://127.0.0.1:PORT/..."
                        ));
                    }
                    ClientKeys::Uri(uri.clone())
                }
                _ => {
                    return Err(format!(
                        "client {id}: private_key_jwt needs exactly one of jwks, jwks_uri"
                    ));
                }
            },
            _ if c.jwks.is_some() || c.jwks_uri.is_some() => {
                return Err(format!("client {id}: jwks only for private_key_jwt"));
            }
            _ => ClientKeys::None,
        };
        match (c.auth, &c.client_secret) {
            (ClientAuthMethod::ClientSecretBasic, Some(s)) if !s.is_empty() => {}
            (ClientAuthMethod::ClientSecretBasic, _) => {
                return Err(format!(
                    "client {id}: client_secret_basic needs a client_secret"
                ));
            }
            (_, Some(_)) => {
                return Err(format!(
                    "client {id}: client_secret only for client_secret_basic"
                ));
            }
            _ => {}
        }
        if c.auth != ClientAuthMethod::PrivateKeyJwt && c.redirect_uris.is_empty() {
            return Err(format!("client {id}: needs at least one redirect_uri"));
        }
        let origins = if c.origins.is_empty() {
            let mut o: Vec<String> = c
                .redirect_uris
                .iter()
                .filter_map(|u| origin_of(u))
                .collect();
            o.dedup();
            o
        } else {
            c.origins.clone()
        };
        Ok(Self {
            id: id.into(),
            name: c.name.clone().unwrap_or_else(|| id.into()),
            auth: c.auth,
            secret: c.client_secret.clone(),
            keys,
            redirect_uris: c.redirect_uris.clone(),
            launch_uris: c.launch_uris.clone(),
            origins,
            scope: c.scope.clone(),
        })
    }

    /// Whether this client may use the authorization code flow.
    pub(crate) fn uses_redirects(&self) -> bool {
        !self.redirect_uris.is_empty()
    }
}

/// A user who can log in.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub(crate) username: String,
    pub(crate) password: String,
    /// Relative to the FHIR base: `Practitioner/prac-001`.
    pub(crate) fhir_user: String,
    pub(crate) name: String,
}

impl User {
    /// The patient id when the user is a patient.
    pub(crate) fn patient_id(&self) -> Option<&str> {
        self.fhir_user.strip_prefix("Patient/")
    }
}

/// Clients, users and patients.
#[derive(Debug, Clone)]
pub(crate) struct Directory {
    pub(crate) clients: HashMap<String, Client>,
    pub(crate) users: Vec<User>,
    pub(crate) patients: Vec<String>,
    pub(crate) default_user: String,
    pub(crate) default_patient: String,
}

impl Directory {
    /// Built-ins plus the configuration's entries (which replace built-ins of the same id).
    pub(crate) fn build(
        config: &Config,
        demo_backend_jwks: serde_json::Value,
    ) -> Result<Self, String> {
        let mut clients = HashMap::new();
        for c in builtin::clients(demo_backend_jwks)
            .iter()
            .chain(&config.clients)
        {
            let client = Client::from_config(c)?;
            clients.insert(client.id.clone(), client);
        }
        let mut users: Vec<User> = Vec::new();
        for u in builtin::users()
            .into_iter()
            .chain(config.users.iter().cloned())
        {
            let user = user_from_config(u)?;
            users.retain(|x| x.username != user.username);
            users.push(user);
        }
        let mut patients = builtin::patients();
        for p in &config.patients {
            if p.is_empty()
                || !p
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            {
                return Err(format!("patient id {p:?} is not a FHIR id"));
            }
            if !patients.contains(p) {
                patients.push(p.clone());
            }
        }
        let default_user = config
            .default_user
            .clone()
            .unwrap_or_else(|| builtin::DEFAULT_USER.into());
        if !users.iter().any(|u| u.username == default_user) {
            return Err(format!("default_user {default_user:?} is not a user"));
        }
        let default_patient = config
            .default_patient
            .clone()
            .unwrap_or_else(|| builtin::DEFAULT_PATIENT.into());
        if !patients.contains(&default_patient) {
            return Err(format!(
                "default_patient {default_patient:?} is not a patient"
            ));
        }
        Ok(Self {
            clients,
            users,
            patients,
            default_user,
            default_patient,
        })
    }

    pub(crate) fn user(&self, username: &str) -> Option<&User> {
        self.users.iter().find(|u| u.username == username)
    }

    /// A user named by a `login_hint`: a username or a FHIR reference
    /// (`Practitioner/prac-001`, `Patient/pat-001`, relative or absolute).
    pub(crate) fn user_by_hint(&self, hint: &str, fhir_base: &str) -> Option<&User> {
        let reference = hint
            .strip_prefix(fhir_base)
            .and_then(|r| r.strip_prefix('/'))
            .unwrap_or(hint);
        self.users
            .iter()
            .find(|u| u.username == hint || u.fhir_user == reference)
    }

    pub(crate) fn has_patient(&self, id: &str) -> bool {
        self.patients.iter().any(|p| p == id)
    }
}

fn user_from_config(u: UserConfig) -> Result<User, String> {
    let (kind, id) = u
        .fhir_user
        .split_once('/')
        .ok_or_else(|| format!("user {}: fhir_user must be Type/id", u.username))?;
    if !matches!(
        kind,
        "Practitioner" | "Patient" | "RelatedPerson" | "PractitionerRole"
    ) || id.is_empty()
        || id.contains('/')
    {
        return Err(format!(
            "user {}: fhir_user must be Practitioner|Patient|RelatedPerson|PractitionerRole/id",
            u.username
        ));
    }
    if u.username.is_empty() {
        return Err("a user needs a username".into());
    }
    Ok(User {
        name: u.name.unwrap_or_else(|| u.username.clone()),
        username: u.username,
        password: u.password,
        fhir_user: u.fhir_user,
    })
}

/// `scheme://authority` of an absolute http(s) URL.
pub(crate) fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty()).then(|| format!("{scheme}://{authority}"))
}

/// An absolute `http`/`https` URL without a fragment (RFC 6749 section 3.1.2).
pub(crate) fn check_absolute_url(uri: &str) -> Result<(), String> {
    let ok = (uri.starts_with("http://") || uri.starts_with("https://"))
        && origin_of(uri).is_some()
        && !uri.contains('#')
        && !uri.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{uri:?} is not an absolute http(s) URL without a fragment"
        ))
    }
}

/// `http://127.0.0.1[:port]/...`: the only place the mock fetches from.
pub(crate) fn is_loopback_http(uri: &str) -> bool {
    uri.strip_prefix("http://127.0.0.1")
        .is_some_and(|rest| rest.starts_with('/') || rest.starts_with(':'))
        && check_absolute_url(uri).is_ok()
        && !uri.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_urls() {
        assert_eq!(
            origin_of("http://localhost:3000/cb?x").as_deref(),
            Some("http://localhost:3000")
        );
        assert!(check_absolute_url("https://a.example/cb").is_ok());
        assert!(check_absolute_url("https://a.example/cb#frag").is_err());
        assert!(check_absolute_url("/relative").is_err());
        assert!(is_loopback_http("http://127.0.0.1:9000/jwks.json"));
        assert!(!is_loopback_http("http://127.0.0.1.evil.example/jwks.json"));
        assert!(!is_loopback_http("http://127.0.0.1:80@evil.example/"));
        assert!(!is_loopback_http("https://127.0.0.1/jwks"));
    }
}
