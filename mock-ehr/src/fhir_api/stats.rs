//! Counters of the FHIR API, read at `GET /_admin/stats` (zeroed by `DELETE`): how many
//! requests, and how their handler time splits between the guard (token and proof
//! verification, scope grants, the token's record) and the FHIR work (store, search,
//! JSON). The phases run without awaiting, on one thread, so their wall time is their
//! CPU time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{Value, json};

/// The time one request spent in each phase.
#[derive(Debug)]
pub(crate) struct Timing {
    started: Instant,
    guard: Duration,
    fhir: Duration,
    cache: Option<bool>,
}

impl Timing {
    pub(crate) fn start(started: Instant) -> Self {
        Self {
            started,
            guard: Duration::ZERO,
            fhir: Duration::ZERO,
            cache: None,
        }
    }

    /// Runs `f` as guard work.
    pub(crate) fn guard<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let t = Instant::now();
        let out = f(self);
        self.guard += t.elapsed();
        out
    }

    /// Runs `f` as FHIR work.
    pub(crate) fn fhir<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        self.fhir += t.elapsed();
        out
    }

    /// Records a token cache hit or miss.
    pub(crate) fn token_cache(&mut self, hit: bool) {
        self.cache = Some(hit);
    }
}

/// Totals since start (or the last `DELETE /_admin/stats`).
#[derive(Debug, Default)]
pub(crate) struct Stats {
    requests: AtomicU64,
    errors: AtomicU64,
    total_ns: AtomicU64,
    guard_ns: AtomicU64,
    fhir_ns: AtomicU64,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Stats {
    /// Counts one request.
    pub(crate) fn record(&self, started: Instant, timing: Option<&Timing>, status: StatusCode) {
        let r = Ordering::Relaxed;
        self.requests.fetch_add(1, r);
        if status.is_client_error() || status.is_server_error() {
            self.errors.fetch_add(1, r);
        }
        let total = timing.map_or(started, |t| t.started).elapsed();
        self.total_ns.fetch_add(ns(total), r);
        if let Some(t) = timing {
            self.guard_ns.fetch_add(ns(t.guard), r);
            self.fhir_ns.fetch_add(ns(t.fhir), r);
            match t.cache {
                Some(true) => self.cache_hits.fetch_add(1, r),
                Some(false) => self.cache_misses.fetch_add(1, r),
                None => 0,
            };
        }
    }

    /// Zeroes every counter.
    pub(crate) fn reset(&self) {
        for c in [
            &self.requests,
            &self.errors,
            &self.total_ns,
            &self.guard_ns,
            &self.fhir_ns,
            &self.cache_hits,
            &self.cache_misses,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }

    /// The counters and the per-request averages, as JSON.
    pub(crate) fn to_json(&self, caching: &str) -> Value {
        let r = Ordering::Relaxed;
        let requests = self.requests.load(r);
        let (total, guard, fhir) = (
            self.total_ns.load(r),
            self.guard_ns.load(r),
            self.fhir_ns.load(r),
        );
        let per = |v: u64| {
            if requests == 0 {
                0.0
            } else {
                v as f64 / requests as f64 / 1_000.0
            }
        };
        let share = |v: u64| {
            if total == 0 {
                0.0
            } else {
                v as f64 / total as f64
            }
        };
        json!({
            "caching": caching,
            "requests": requests,
            "errors": self.errors.load(r),
            "token_cache": { "hits": self.cache_hits.load(r), "misses": self.cache_misses.load(r) },
            "total_ns": total,
            "guard_ns": guard,
            "fhir_ns": fhir,
            "per_request_us": { "total": per(total), "guard": per(guard), "fhir": per(fhir), "other": per(total.saturating_sub(guard + fhir)) },
            "share": { "guard": share(guard), "fhir": share(fhir), "other": share(total.saturating_sub(guard + fhir)) },
        })
    }
}
