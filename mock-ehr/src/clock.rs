//! The server's clock: a time source plus an offset that tests move forward
//! (`POST /_admin/clock`) to expire codes and tokens without waiting.
//!
//! Every time check in the server reads [`Clock::now`]; nothing else reads the
//! system time.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where "now" comes from before the offset is added: seconds since the Unix epoch.
pub type TimeSource = Arc<dyn Fn() -> i64 + Send + Sync>;

/// A time source with an adjustable offset.
pub struct Clock {
    source: TimeSource,
    offset: AtomicI64,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock(now={}, offset={})", self.now(), self.offset())
    }
}

impl Clock {
    /// A clock over the system time.
    pub fn system() -> Self {
        Self::with_source(Arc::new(system_now))
    }

    /// A clock over `source` (tests pin time with `Arc::new(|| 1_700_000_000)`).
    pub fn with_source(source: TimeSource) -> Self {
        Self {
            source,
            offset: AtomicI64::new(0),
        }
    }

    /// Seconds since the epoch, offset included.
    pub fn now(&self) -> i64 {
        (self.source)().saturating_add(self.offset())
    }

    /// The current offset, in seconds.
    pub fn offset(&self) -> i64 {
        self.offset.load(Ordering::SeqCst)
    }

    /// Sets the offset.
    pub fn set_offset(&self, seconds: i64) {
        self.offset.store(seconds, Ordering::SeqCst);
    }

    /// Moves the clock forward by `seconds` (negative moves it back).
    pub fn advance(&self, seconds: i64) {
        // fetch_update never fails with a closure that always returns Some.
        let _ = self
            .offset
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |o| {
                Some(o.saturating_add(seconds))
            });
    }
}

fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_moves_now() {
        let clock = Clock::with_source(Arc::new(|| 1_000));
        assert_eq!(clock.now(), 1_000);
        clock.advance(61);
        assert_eq!(clock.now(), 1_061);
        clock.set_offset(0);
        assert_eq!(clock.now(), 1_000);
    }
}
