//! `jti` replay detection ([RFC 9449 section 11.1]).
//!
//! A verified proof yields a replay key — `BASE64URL(SHA-256(jkt ":" jti))`, so one
//! client cannot burn another client's `jti` values and every key has the same
//! 43-character size whatever the `jti` — and the time until which the proof could
//! still be accepted (`iat` + maximum age + leeway). A [`ReplayCache`] records the key
//! until then. An edge deployment plugs a shared store into the same two values (for
//! example Redis `SET key 1 NX EXAT expires_at`, which is exactly
//! [`ReplayCache::check_and_insert`]).
//!
//! [RFC 9449 section 11.1]: https://www.rfc-editor.org/rfc/rfc9449#section-11.1

use alloc::string::String;

use sha2::{Digest, Sha256};

use crate::base64url;
use crate::error::Error;

/// Records DPoP proof replay keys until they expire.
///
/// The method takes `&self`: an implementation that is shared (between threads,
/// tasks or requests) synchronises inside, for exactly the one check-and-insert,
/// never around a whole request. [`MemoryReplayCache`] holds a `std` mutex; a
/// single-threaded `no_std` one can use a `RefCell`.
pub trait ReplayCache {
    /// Atomically: if `key` is recorded and has not expired at `now`, returns
    /// `Ok(false)` (a replay); otherwise records it until `expires_at` (inclusive) and
    /// returns `Ok(true)` (first use).
    ///
    /// # Errors
    /// An implementation that cannot answer must fail closed with an error, never
    /// answer `Ok(true)`. A store that failed (down, timed out, an unusable reply)
    /// returns [`DpopError::ReplayStoreUnavailable`] (`ERR_DPOP_REPLAY_STORE_UNAVAILABLE`);
    /// a bounded store with no room left returns [`DpopError::ReplayCacheFull`]
    /// (`ERR_DPOP_REPLAY_CACHE_FULL`), as [`MemoryReplayCache`] does. Both convert with
    /// `.into()`; the guard answers both with 503 (not the client's fault).
    ///
    /// [`DpopError::ReplayStoreUnavailable`]: crate::dpop::DpopError::ReplayStoreUnavailable
    /// [`DpopError::ReplayCacheFull`]: crate::dpop::DpopError::ReplayCacheFull
    fn check_and_insert(&self, key: &str, expires_at: i64, now: i64) -> Result<bool, Error>;
}

impl<T: ReplayCache + ?Sized> ReplayCache for &T {
    fn check_and_insert(&self, key: &str, expires_at: i64, now: i64) -> Result<bool, Error> {
        (**self).check_and_insert(key, expires_at, now)
    }
}

/// The replay key of a proof: `BASE64URL(SHA-256(jkt ":" jti))` (43 characters).
pub fn replay_key(jkt: &str, jti: &str) -> String {
    let mut h = Sha256::new();
    h.update(jkt.as_bytes());
    h.update(b":");
    h.update(jti.as_bytes());
    base64url::encode(&h.finalize())
}

#[cfg(feature = "std")]
pub use memory::{DEFAULT_REPLAY_CAPACITY, MemoryReplayCache};

#[cfg(feature = "std")]
mod memory {
    use alloc::collections::BTreeSet;
    use std::collections::HashMap;
    use std::sync::{Mutex, PoisonError};

    use sha2::{Digest, Sha256};

    use super::ReplayCache;
    use crate::base64url;
    use crate::dpop::DpopError;
    use crate::error::Error;

    /// The capacity of [`MemoryReplayCache::new`]: at the default 60-second window,
    /// room for about 1,600 proofs per second (about 10 MB).
    pub const DEFAULT_REPLAY_CAPACITY: usize = 100_000;

    /// A bounded in-memory [`ReplayCache`] (feature `std`).
    ///
    /// Holds at most its capacity of live entries (about 100 bytes each). Expired
    /// entries are evicted, oldest expiry first, on every call, so memory never grows
    /// beyond the capacity whatever an attacker sends. When the cache is full of
    /// entries that have not expired, it **fails closed**: the proof is refused with
    /// `ERR_DPOP_REPLAY_CACHE_FULL` (never silently accepted) until entries expire.
    ///
    /// Lookup and insert are O(1) (a hash map by key) plus O(log n) (an ordered set by
    /// expiry, for eviction). The lock is held for one call only, so one cache
    /// (for example in an `Arc`) serves every thread or task of a server.
    #[derive(Debug)]
    pub struct MemoryReplayCache {
        capacity: usize,
        inner: Mutex<Inner>,
    }

    #[derive(Debug, Default)]
    struct Inner {
        by_key: HashMap<[u8; 32], i64>,
        by_expiry: BTreeSet<(i64, [u8; 32])>,
    }

    impl Default for MemoryReplayCache {
        fn default() -> Self {
            Self::new()
        }
    }

    impl MemoryReplayCache {
        /// A cache for [`DEFAULT_REPLAY_CAPACITY`] live entries.
        pub fn new() -> Self {
            Self::with_capacity(DEFAULT_REPLAY_CAPACITY)
        }

        /// A cache for at most `capacity` live entries.
        pub fn with_capacity(capacity: usize) -> Self {
            Self {
                capacity,
                inner: Mutex::new(Inner::default()),
            }
        }

        /// The maximum number of live entries.
        pub fn capacity(&self) -> usize {
            self.capacity
        }

        /// The number of entries held (expired ones included until the next call
        /// evicts them).
        pub fn len(&self) -> usize {
            self.lock().by_key.len()
        }

        /// Whether the cache holds no entry.
        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }

        fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
            // Nothing in this module panics while holding the lock, so a poisoned
            // lock still guards consistent data.
            self.inner.lock().unwrap_or_else(PoisonError::into_inner)
        }
    }

    /// Keys made by [`super::replay_key`] are base64url SHA-256 outputs and are stored
    /// as their 32 bytes; any other string is hashed to 32 bytes.
    fn digest(key: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        if base64url::decode_exact(key.as_bytes(), &mut out).is_err() {
            out.copy_from_slice(&Sha256::digest(key.as_bytes()));
        }
        out
    }

    impl ReplayCache for MemoryReplayCache {
        fn check_and_insert(&self, key: &str, expires_at: i64, now: i64) -> Result<bool, Error> {
            let key = digest(key);
            let mut inner = self.lock();
            let Inner { by_key, by_expiry } = &mut *inner;
            while let Some(&(exp, k)) = by_expiry.first() {
                if exp >= now {
                    break;
                }
                by_expiry.pop_first();
                by_key.remove(&k);
            }
            if by_key.contains_key(&key) {
                return Ok(false);
            }
            if expires_at < now {
                // Already outside its window: nothing could replay it.
                return Ok(true);
            }
            if by_key.len() >= self.capacity {
                return Err(DpopError::ReplayCacheFull.into());
            }
            by_key.insert(key, expires_at);
            by_expiry.insert((expires_at, key));
            Ok(true)
        }
    }
}
