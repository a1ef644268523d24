//! `RemoteJwkSet`: when to fetch an issuer's JWKS, decided here; the fetch is the JS
//! glue's (`fetch`).
//!
//! - Keys are fetched on first use, kept for the response's `Cache-Control: max-age`
//!   clamped to `[minAge, maxAge]` (`defaultAge` without one; `no-store`/`no-cache`
//!   count as `minAge`), then fetched again on the next use.
//! - A token whose `kid` (or algorithm) no cached key matches causes one refetch, at
//!   most once per `cooldown` seconds, so forged `kid`s cannot make us hammer the issuer.
//! - A failed fetch is not retried within `cooldown`: without keys, verifications fail
//!   with `ERR_JWKS_FETCH_FAILED`; with expired keys, the old keys are used for at most
//!   `maxAge` more seconds (so an unreachable issuer does not take the resource server
//!   down with it, and a revoked key does not live for ever).
//! - Only a `200` response whose body is a JWK Set is accepted; a `jku` or `x5u` in a
//!   token is never looked at (the URL is the one given to the constructor).

use alloc::format;
use alloc::string::String;

use wasm_bindgen::prelude::*;

use crate::args::Options;
use crate::error::{BindError, Result};
use crate::jwt::seconds;
use crate::keys::WasmJwkSet;

/// The code for a JWKS that could not be fetched (network error, timeout, status not
/// 200) and no usable cached copy.
pub const FETCH_FAILED: &str = "ERR_JWKS_FETCH_FAILED";

/// Seconds: default lifetime without `Cache-Control`, bounds, cooldown.
const DEFAULT_AGE: u64 = 600;
const MIN_AGE: u64 = 60;
const MAX_AGE: u64 = 86_400;
const COOLDOWN: u64 = 30;
/// Milliseconds the JS glue waits for a response.
const TIMEOUT_MS: u64 = 5_000;
/// Upper bound of every duration option (a year), so sums cannot overflow.
const MAX_SETTING: u64 = 366 * 86_400;

/// The refresh state of one remote JWKS.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct WasmRemotePolicy {
    url: String,
    default_age: i64,
    min_age: i64,
    max_age: i64,
    cooldown: i64,
    timeout_ms: u64,
    /// When the cached keys were fetched, and until when they are fresh.
    fetched_at: Option<i64>,
    fresh_until: i64,
    /// The last fetch attempt (success or not), for the cooldown.
    last_attempt: Option<i64>,
    last_failed: bool,
}

/// What to do before a verification.
#[wasm_bindgen]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Use the cached keys.
    UseCached = 0,
    /// Fetch, then use the new keys.
    Fetch = 1,
    /// Nothing usable and no fetch allowed now: fail with `ERR_JWKS_FETCH_FAILED`.
    Fail = 2,
}

#[wasm_bindgen]
impl WasmRemotePolicy {
    /// `url` and the options' JSON text (`defaultAge`, `minAge`, `maxAge`, `cooldown` in
    /// seconds, `timeout` in milliseconds; `fetch` is the glue's).
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` for a URL that is not `https:` (plain `http:` only to
    /// `localhost`, `127.0.0.1` or `[::1]`), unknown options, or `minAge > maxAge`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        url: &str,
        options: Option<String>,
    ) -> core::result::Result<WasmRemotePolicy, JsValue> {
        Ok(Self::build(url, options.as_deref())?)
    }

    /// The JWKS URL.
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Milliseconds to wait for a response.
    #[wasm_bindgen(getter, js_name = timeoutMs)]
    pub fn timeout_ms(&self) -> f64 {
        // At most MAX_SETTING * 1000 < 2^53: exact.
        self.timeout_ms as f64
    }

    /// What to do before verifying at `now` (seconds).
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` for a `now` that is not whole seconds.
    pub fn plan(&self, now: f64) -> core::result::Result<Plan, JsValue> {
        Ok(self.plan_at(seconds(now)?))
    }

    /// Whether a token whose key was not found may trigger a refetch at `now`.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` for a `now` that is not whole seconds.
    #[wasm_bindgen(js_name = mayRefetch)]
    pub fn may_refetch(&self, now: f64) -> core::result::Result<bool, JsValue> {
        Ok(self.cooled_down(seconds(now)?))
    }

    /// Records a fetch attempt starting at `now` (called before the request goes out,
    /// so concurrent verifications see the cooldown).
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` for a `now` that is not whole seconds.
    pub fn attempt(&mut self, now: f64) -> core::result::Result<(), JsValue> {
        self.last_attempt = Some(seconds(now)?);
        Ok(())
    }

    /// Takes a response: `status`, its `Cache-Control` header and body. Returns the new
    /// key set, and makes it the fresh one.
    ///
    /// # Errors
    /// `ERR_JWKS_FETCH_FAILED` for a status other than 200; the JWKS parse errors
    /// (`ERR_JWKS_MALFORMED`, `ERR_JWK_PRIVATE_KEY`, ...); both leave the old keys
    /// (if any) in place and count as a failed attempt.
    pub fn accept(
        &mut self,
        now: f64,
        status: u16,
        cache_control: Option<String>,
        body: &str,
    ) -> core::result::Result<WasmJwkSet, JsValue> {
        Ok(self.accept_at(seconds(now)?, status, cache_control.as_deref(), body)?)
    }

    /// Records a failed fetch (network error, timeout).
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` for a `now` that is not whole seconds.
    pub fn failed(&mut self, now: f64) -> core::result::Result<(), JsValue> {
        self.fail_at(seconds(now)?);
        Ok(())
    }

    /// Whether the cached keys may still serve at `now` after a failed refresh.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` for a `now` that is not whole seconds.
    #[wasm_bindgen(js_name = staleUsable)]
    pub fn stale_usable_js(&self, now: f64) -> core::result::Result<bool, JsValue> {
        Ok(self.stale_usable(seconds(now)?))
    }

    /// Until when (seconds) the current keys are fresh; `undefined` before the first
    /// successful fetch.
    #[wasm_bindgen(getter, js_name = freshUntil)]
    pub fn fresh_until_js(&self) -> Option<f64> {
        self.fetched_at.map(|_| self.fresh_until as f64)
    }
}

impl WasmRemotePolicy {
    pub(crate) fn build(url: &str, options: Option<&str>) -> Result<Self> {
        check_url(url)?;
        let o = Options::parse(
            "options",
            options,
            &[
                "defaultAge",
                "minAge",
                "maxAge",
                "cooldown",
                "timeout",
                "fetch",
            ],
        )?;
        let get = |k: &str, d: u64| -> Result<i64> {
            let v = o.seconds(k, MAX_SETTING)?.unwrap_or(d);
            // At most MAX_SETTING: fits.
            Ok(i64::try_from(v).unwrap_or(i64::MAX))
        };
        let min_age = get("minAge", MIN_AGE)?;
        let max_age = get("maxAge", MAX_AGE)?;
        if min_age > max_age {
            return Err(BindError::invalid(
                "options.minAge must not exceed options.maxAge",
            ));
        }
        let timeout_ms = o
            .seconds("timeout", MAX_SETTING * 1000)?
            .unwrap_or(TIMEOUT_MS);
        if timeout_ms == 0 {
            return Err(o.wrong("timeout", "at least 1 millisecond"));
        }
        Ok(Self {
            url: url.into(),
            default_age: get("defaultAge", DEFAULT_AGE)?.clamp(min_age, max_age),
            min_age,
            max_age,
            cooldown: get("cooldown", COOLDOWN)?,
            timeout_ms,
            fetched_at: None,
            fresh_until: i64::MIN,
            last_attempt: None,
            last_failed: false,
        })
    }

    fn cooled_down(&self, now: i64) -> bool {
        self.last_attempt
            .is_none_or(|t| now.saturating_sub(t) >= self.cooldown)
    }

    pub(crate) fn plan_at(&self, now: i64) -> Plan {
        let has_keys = self.fetched_at.is_some();
        if has_keys && now < self.fresh_until {
            return Plan::UseCached;
        }
        if !self.last_failed || self.cooled_down(now) {
            return Plan::Fetch;
        }
        // A recent fetch failed: stale keys for at most max_age past their freshness.
        if has_keys && now < self.fresh_until.saturating_add(self.max_age) {
            Plan::UseCached
        } else {
            Plan::Fail
        }
    }

    /// Whether stale keys may still serve at `now` after a failed refresh.
    pub(crate) fn stale_usable(&self, now: i64) -> bool {
        self.fetched_at.is_some() && now < self.fresh_until.saturating_add(self.max_age)
    }

    pub(crate) fn accept_at(
        &mut self,
        now: i64,
        status: u16,
        cache_control: Option<&str>,
        body: &str,
    ) -> Result<WasmJwkSet> {
        self.last_attempt = Some(now);
        if status != 200 {
            self.last_failed = true;
            return Err(BindError {
                code: FETCH_FAILED,
                message: format!("JWKS fetch from {} answered HTTP {status}", self.url),
            });
        }
        let set = match WasmJwkSet::from_json(body) {
            Ok(set) => set,
            Err(e) => {
                self.last_failed = true;
                return Err(e);
            }
        };
        let age = cache_control
            .and_then(|cc| max_age(cc, self.min_age))
            .unwrap_or(self.default_age)
            .clamp(self.min_age, self.max_age);
        self.fetched_at = Some(now);
        self.fresh_until = now.saturating_add(age);
        self.last_failed = false;
        Ok(set)
    }

    pub(crate) fn fail_at(&mut self, now: i64) {
        self.last_attempt = Some(now);
        self.last_failed = true;
    }
}

/// The freshness lifetime a `Cache-Control` value gives: `max-age=N`, or `floor` for
/// `no-store` / `no-cache`; `None` when it says neither (or `max-age` is malformed).
fn max_age(cache_control: &str, floor: i64) -> Option<i64> {
    let mut found = None;
    for directive in cache_control.split(',') {
        let directive = directive.trim();
        let (name, value) = match directive.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
            None => (directive, None),
        };
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return Some(floor);
        }
        if name.eq_ignore_ascii_case("max-age") && found.is_none() {
            found = value
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                // Overlong values saturate (RFC 9111 section 1.2.2: treat as 2^31).
                .map(|v| v.parse::<i64>().unwrap_or(i64::from(i32::MAX)));
        }
    }
    found
}

/// `https:`, or `http:` to a loopback host (tests, sidecars).
fn check_url(url: &str) -> Result<()> {
    let lower = url
        .get(..8)
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let ok = if lower == "https://" {
        url.len() > 8
    } else {
        ["http://localhost", "http://127.0.0.1", "http://[::1]"]
            .iter()
            .any(|p| {
                url.len() >= p.len()
                    && url
                        .get(..p.len())
                        .is_some_and(|h| h.eq_ignore_ascii_case(p))
                    && matches!(url.as_bytes().get(p.len()), None | Some(b':' | b'/'))
            })
    };
    if ok
        && !url
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        Ok(())
    } else {
        Err(BindError::invalid(
            "the JWKS URL must be https: (http: only to localhost, 127.0.0.1 or [::1])",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","kid":"1"}]}"#;

    fn policy() -> WasmRemotePolicy {
        WasmRemotePolicy::build("https://ehr.example/jwks", None).unwrap()
    }

    #[test]
    fn first_use_fetches_then_caches_for_max_age_within_bounds() {
        let mut p = policy();
        assert_eq!(p.plan_at(0), Plan::Fetch);
        p.accept_at(0, 200, Some("public, max-age=120"), JWKS)
            .unwrap();
        assert_eq!(p.plan_at(119), Plan::UseCached);
        assert_eq!(p.plan_at(120), Plan::Fetch);
        p.accept_at(200, 200, Some("max-age=5"), JWKS).unwrap();
        assert_eq!(
            p.plan_at(259),
            Plan::UseCached,
            "5 s is raised to minAge (60)"
        );
        p.accept_at(300, 200, Some("max-age=99999999"), JWKS)
            .unwrap();
        assert_eq!(p.plan_at(300 + 86_399), Plan::UseCached);
        assert_eq!(p.plan_at(300 + 86_400), Plan::Fetch, "capped at maxAge");
        p.accept_at(0, 200, None, JWKS).unwrap();
        assert_eq!(p.plan_at(599), Plan::UseCached, "default 600 s");
        p.accept_at(0, 200, Some("no-cache, max-age=3000"), JWKS)
            .unwrap();
        assert_eq!(p.plan_at(60), Plan::Fetch, "no-cache: minAge");
    }

    #[test]
    fn unknown_kid_refetches_at_most_once_per_cooldown() {
        let mut p = policy();
        p.accept_at(100, 200, None, JWKS).unwrap();
        assert!(!p.cooled_down(110));
        assert!(p.cooled_down(130));
        p.last_attempt = Some(130);
        assert!(!p.cooled_down(159));
    }

    #[test]
    fn failures_back_off_and_stale_keys_are_bounded() {
        let mut p = policy();
        p.fail_at(0);
        assert_eq!(p.plan_at(10), Plan::Fail, "no keys, within cooldown");
        assert_eq!(p.plan_at(30), Plan::Fetch);
        p.accept_at(30, 200, Some("max-age=60"), JWKS).unwrap();
        p.fail_at(90);
        assert_eq!(
            p.plan_at(100),
            Plan::UseCached,
            "stale while the issuer is down"
        );
        assert!(p.stale_usable(100));
        assert_eq!(p.plan_at(120), Plan::Fetch, "cooldown over: try again");
        p.fail_at(120);
        assert_eq!(p.plan_at(90 + 86_400 + 10), Plan::Fetch);
        p.fail_at(90 + 86_400 + 10);
        assert_eq!(p.plan_at(90 + 86_400 + 11), Plan::Fail, "stale too long");
    }

    #[test]
    fn only_200_with_a_jwks_is_accepted_and_old_keys_stay() {
        let mut p = policy();
        p.accept_at(0, 200, None, JWKS).unwrap();
        let e = p.accept_at(700, 500, None, JWKS).err().unwrap();
        assert_eq!(e.code, FETCH_FAILED);
        assert!(p.stale_usable(701));
        let e = p.accept_at(800, 200, None, "<html>").err().unwrap();
        assert_eq!(e.code, "ERR_JWKS_MALFORMED");
        let e = p
            .accept_at(900, 200, None, r#"{"keys":[{"kty":"EC","d":"x"}]}"#)
            .err()
            .unwrap();
        assert_eq!(e.code, "ERR_JWK_PRIVATE_KEY");
    }

    #[test]
    fn cache_control_parsing() {
        assert_eq!(max_age("max-age=30", 60), Some(30));
        assert_eq!(max_age("public, MAX-AGE=\"45\"", 60), Some(45));
        assert_eq!(max_age("max-age=-1", 60), None);
        assert_eq!(max_age("max-age=", 60), None);
        assert_eq!(max_age("no-store", 60), Some(60));
        assert_eq!(max_age("private", 60), None);
        assert_eq!(
            max_age("max-age=99999999999999999999999", 60),
            Some(i64::from(i32::MAX))
        );
    }

    #[test]
    fn urls_must_be_https_or_loopback_http() {
        for ok in [
            "https://ehr.example/jwks",
            "http://127.0.0.1:8080/jwks",
            "http://localhost/jwks",
            "http://[::1]:1/x",
            "HTTPS://EHR.EXAMPLE/",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://ehr.example/jwks",
            "http://localhost.evil.example/jwks",
            "http://127.0.0.1.evil/x",
            "ftp://x",
            "https://",
            "https://a b",
            "",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn options_are_checked() {
        assert!(
            WasmRemotePolicy::build("https://x/", Some(r#"{"minAge":10,"maxAge":5}"#)).is_err()
        );
        assert!(WasmRemotePolicy::build("https://x/", Some(r#"{"timeout":0}"#)).is_err());
        assert!(WasmRemotePolicy::build("https://x/", Some(r#"{"ttl":5}"#)).is_err());
        let p =
            WasmRemotePolicy::build("https://x/", Some(r#"{"timeout":250,"cooldown":0}"#)).unwrap();
        assert_eq!(p.timeout_ms, 250);
        assert!(p.cooled_down(0));
    }
}
