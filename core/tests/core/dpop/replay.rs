//! The replay check: `jti` reuse, the bounded `MemoryReplayCache` (fails closed when
//! full), and a store that cannot answer.

use super::*;

#[test]
fn replay() {
    let cache = MemoryReplayCache::new();
    let run = |p: &str, now: i64| {
        dpop::verify(
            p,
            &ProofRequest::new("GET", URL),
            &DpopValidation::default(),
            &RustCrypto,
            &cache,
            now,
        )
    };
    let p = proof("GET", URL);
    run(&p, NOW).unwrap();
    assert_eq!(code(run(&p, NOW)), "ERR_DPOP_REPLAY");
    assert_eq!(code(run(&p, NOW + 60)), "ERR_DPOP_REPLAY");
    assert_eq!(code(run(&p, NOW + 61)), "ERR_DPOP_IAT_STALE");
    // The same jti under another key is another proof.
    let other = DpopKey::from_bytes(&[0x22; 32])
        .unwrap()
        .proof_with_jti("GET", URL, None, None, NOW, "j-shared")
        .unwrap();
    let mine = client()
        .proof_with_jti("GET", URL, None, None, NOW, "j-shared")
        .unwrap();
    run(&other, NOW).unwrap();
    run(&mine, NOW).unwrap();
    // The same key and jti in a fresh proof (another URL) is a replay.
    let again = client()
        .proof_with_jti(
            "GET",
            "https://ehr.example.org/fhir/Patient",
            None,
            None,
            NOW + 1,
            "j-shared",
        )
        .unwrap();
    assert_eq!(code(run(&again, NOW + 1)), "ERR_DPOP_REPLAY");
}

#[test]
fn memory_replay_cache_is_bounded_and_fails_closed() {
    let cache = MemoryReplayCache::with_capacity(2);
    assert_eq!(cache.capacity(), 2);
    assert!(cache.is_empty());
    assert!(cache.check_and_insert("a", 100, 10).unwrap());
    assert!(!cache.check_and_insert("a", 100, 10).unwrap());
    assert!(cache.check_and_insert("b", 50, 10).unwrap());
    // Full of live entries: refused, never accepted.
    assert_eq!(
        code(cache.check_and_insert("c", 100, 10)),
        "ERR_DPOP_REPLAY_CACHE_FULL"
    );
    assert_eq!(cache.len(), 2);
    // An entry is live up to and including its expiry.
    assert!(!cache.check_and_insert("b", 50, 50).unwrap());
    assert_eq!(
        code(cache.check_and_insert("c", 100, 50)),
        "ERR_DPOP_REPLAY_CACHE_FULL"
    );
    // After b expires it is evicted and c fits; b is new again.
    assert!(cache.check_and_insert("c", 100, 51).unwrap());
    assert_eq!(cache.len(), 2);
    assert!(!cache.check_and_insert("a", 100, 51).unwrap());
    // Everything expired: evicted on the next call.
    assert!(cache.check_and_insert("b", 200, 101).unwrap());
    assert_eq!(cache.len(), 1);
    // An entry already past its expiry is answered "first use" and not stored.
    assert!(cache.check_and_insert("old", 5, 101).unwrap());
    assert!(cache.check_and_insert("old", 5, 101).unwrap());
    assert_eq!(cache.len(), 1);
    // Zero capacity refuses everything live.
    assert_eq!(
        code(MemoryReplayCache::with_capacity(0).check_and_insert("a", 1, 0)),
        "ERR_DPOP_REPLAY_CACHE_FULL"
    );
    assert_eq!(
        MemoryReplayCache::new().capacity(),
        dpop::DEFAULT_REPLAY_CAPACITY
    );
}

/// A shared replay store that is down: every call fails, as a `ReplayCache`
/// implementation must (fail closed, with the dedicated code).
pub struct DownStore;

impl ReplayCache for DownStore {
    fn check_and_insert(&self, _key: &str, _expires_at: i64, _now: i64) -> Result<bool, Error> {
        Err(DpopError::ReplayStoreUnavailable.into())
    }
}

#[test]
fn replay_store_that_cannot_answer() {
    let p = proof("GET", URL);
    let request = ProofRequest::new("GET", URL);
    let with = |store: &dyn ReplayCache| {
        dpop::verify(
            &p,
            &request,
            &DpopValidation::default(),
            &RustCrypto,
            store,
            NOW,
        )
    };
    // A store that failed: its own code, not "cache full".
    assert_eq!(code(with(&DownStore)), "ERR_DPOP_REPLAY_STORE_UNAVAILABLE");
    let e = with(&DownStore).unwrap_err();
    assert_eq!(e, Error::Dpop(DpopError::ReplayStoreUnavailable), "{e}");
    assert_eq!(
        e.to_string(),
        "DPoP replay store did not answer; proof refused"
    );
    // The built-in cache with no room is still "cache full".
    assert_eq!(
        code(with(&MemoryReplayCache::with_capacity(0))),
        "ERR_DPOP_REPLAY_CACHE_FULL"
    );
    // Both are the server's fault; a replay is the client's.
    assert!(DpopError::ReplayStoreUnavailable.is_server_error());
    assert!(DpopError::ReplayCacheFull.is_server_error());
    assert!(!DpopError::Replay.is_server_error());
    // The proof was never recorded: a working store takes it afterwards.
    let cache = MemoryReplayCache::new();
    with(&cache).unwrap();
    assert_eq!(code(with(&cache)), "ERR_DPOP_REPLAY");
}

#[test]
fn memory_replay_cache_at_capacity_churn() {
    // 100k live entries, then steady churn: each call evicts one expired entry.
    let cache = MemoryReplayCache::new();
    for i in 0..dpop::DEFAULT_REPLAY_CAPACITY as i64 {
        assert!(
            cache
                .check_and_insert(&dpop::replay_key("k", &i.to_string()), i, 0)
                .unwrap()
        );
    }
    assert_eq!(
        code(cache.check_and_insert("extra", 10, 0)),
        "ERR_DPOP_REPLAY_CACHE_FULL"
    );
    for i in 0..1000i64 {
        let key = dpop::replay_key("k2", &i.to_string());
        assert!(cache.check_and_insert(&key, 1_000_000, i + 1).unwrap());
        assert!(!cache.check_and_insert(&key, 1_000_000, i + 1).unwrap());
    }
    assert_eq!(cache.len(), dpop::DEFAULT_REPLAY_CAPACITY);
}

#[test]
fn memory_replay_cache_is_shared_across_threads() {
    let cache = Arc::new(MemoryReplayCache::new());
    let firsts: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let cache = Arc::clone(&cache);
                s.spawn(move || {
                    (0..500)
                        .filter(|i| cache.check_and_insert(&format!("key-{i}"), 100, 0).unwrap())
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(firsts, 500, "each key is a first use exactly once");
}
