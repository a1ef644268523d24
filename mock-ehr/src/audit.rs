//! The audit trail: every authorization, token issuance, refresh, revocation,
//! introspection and failed attempt, readable from `GET /_admin/audit`.
//!
//! Events name tokens by id (`jti`, grant id, refresh token id), never by value.
//!
//! # The hash chain
//! Each event carries `prev_hash`, the `hash` of the event before it, and its own
//! `hash`: the SHA-256, in lowercase hex, of the event's canonical form
//!
//! ```text
//! [seq, time, event, client_id, user, patient, outcome, token_id, detail, prev_hash]
//! ```
//!
//! a JSON array in compact form (no whitespace, as `serde_json::to_vec` and
//! JavaScript's `JSON.stringify` write it), absent fields as `null`, UTF-8. The first
//! event of a trail has `prev_hash` [`GENESIS`] (64 zeros). The trail keeps the newest
//! events only: the hash of the last event dropped is kept as the trail's *anchor*, so
//! the chain of what is left still verifies from its first entry. [`verify`] recomputes
//! the chain and names the first entry that breaks it.

use std::collections::VecDeque;

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first event of a trail.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit event.
#[derive(Debug, Clone, Serialize, Default)]
pub struct AuditEvent {
    /// Position in the trail, from 1.
    pub seq: u64,
    /// Seconds since the epoch (server clock, offset included).
    pub time: i64,
    /// What happened: `authorize`, `token`, `refresh`, `revoke`, `introspect`,
    /// `client_auth`, `consent_withdrawn`, `launch`, ...
    pub event: &'static str,
    /// The client, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The user, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The patient in context, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient: Option<String>,
    /// `success`, or the OAuth error code of the refusal.
    pub outcome: String,
    /// The id of the token or grant concerned (`jti`, grant id): never a token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    /// More detail for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The `hash` of the event before this one ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// SHA-256 (lowercase hex) of this event's canonical form (see the module docs).
    pub hash: String,
}

impl AuditEvent {
    /// The canonical form the hash covers: the compact JSON array
    /// `[seq, time, event, client_id, user, patient, outcome, token_id, detail, prev_hash]`,
    /// absent fields as `null`.
    pub fn canonical(&self) -> Vec<u8> {
        // A tuple serializes as a JSON array, `None` as `null`: the same bytes as the
        // `json!` array of the fields, without copying them.
        serde_json::to_vec(&self.fields()).unwrap_or_default()
    }

    /// The fields the hash covers, in their canonical order.
    #[allow(clippy::type_complexity)]
    fn fields(
        &self,
    ) -> (
        u64,
        i64,
        &str,
        &Option<String>,
        &Option<String>,
        &Option<String>,
        &str,
        &Option<String>,
        &Option<String>,
        &str,
    ) {
        (
            self.seq,
            self.time,
            self.event,
            &self.client_id,
            &self.user,
            &self.patient,
            &self.outcome,
            &self.token_id,
            &self.detail,
            &self.prev_hash,
        )
    }

    /// SHA-256 of [`AuditEvent::canonical`], lowercase hex (streamed into the hash).
    pub fn compute_hash(&self) -> String {
        let mut hasher = HashWriter(Sha256::new());
        if serde_json::to_writer(&mut hasher, &self.fields()).is_err() {
            // Serializing strings and numbers cannot fail; hash the buffered form if
            // it ever did, so a hash is never silently the empty input's.
            return hex(&Sha256::digest(self.canonical()));
        }
        hex(&hasher.0.finalize())
    }

    /// Chains the event after `prev_hash`: sets `prev_hash` and `hash`.
    pub(crate) fn seal(&mut self, prev_hash: &str) {
        prev_hash.clone_into(&mut self.prev_hash);
        self.hash = self.compute_hash();
    }

    /// A new event of `kind` with `outcome`.
    pub(crate) fn new(event: &'static str, outcome: impl Into<String>) -> Self {
        Self {
            event,
            outcome: outcome.into(),
            ..Self::default()
        }
    }

    pub(crate) fn client(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    pub(crate) fn user(mut self, user: Option<&str>) -> Self {
        self.user = user.map(String::from);
        self
    }

    pub(crate) fn patient(mut self, patient: Option<&str>) -> Self {
        self.patient = patient.map(String::from);
        self
    }

    pub(crate) fn token(mut self, id: impl Into<String>) -> Self {
        self.token_id = Some(id.into());
        self
    }

    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// Feeds what is written to a SHA-256.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Lowercase hex.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            out.push(char::from(
                DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    out
}

/// The audit events kept, and what the chain of them must start and end with.
#[derive(Debug, Clone)]
pub(crate) struct Trail {
    /// The newest events, oldest first.
    pub(crate) events: VecDeque<AuditEvent>,
    /// The `hash` of the last event dropped ([`GENESIS`] before any is).
    pub(crate) anchor: String,
    /// The `hash` of the last event recorded ([`GENESIS`] before any is).
    pub(crate) head: String,
    /// The `seq` of the last event recorded.
    pub(crate) seq: u64,
    /// How many events are kept at most.
    capacity: usize,
}

impl Trail {
    /// An empty trail keeping at most `capacity` events.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            events: VecDeque::new(),
            anchor: GENESIS.into(),
            head: GENESIS.into(),
            seq: 0,
            capacity: capacity.max(1),
        }
    }

    /// Numbers, times, chains and appends `event`; drops the oldest beyond the
    /// capacity (its hash becomes the anchor).
    pub(crate) fn push(&mut self, now: i64, mut event: AuditEvent) {
        self.seq += 1;
        event.seq = self.seq;
        event.time = now;
        event.seal(&self.head);
        self.head.clone_from(&event.hash);
        while self.events.len() >= self.capacity {
            match self.events.pop_front() {
                Some(old) => self.anchor = old.hash,
                None => break,
            }
        }
        self.events.push_back(event);
    }

    /// Recomputes the chain: [`verify`] over this trail.
    pub(crate) fn verify(&self) -> Verdict {
        verify(&self.events, &self.anchor, &self.head)
    }
}

/// What a check of the hash chain found ([`crate::AppState::verify_audit`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every link holds.
    Ok {
        /// How many events were checked.
        entries: usize,
    },
    /// The first link that does not.
    Broken {
        /// The `seq` of the first entry that breaks the chain (for a missing entry:
        /// the `seq` it had).
        seq: u64,
        /// Why, for people.
        reason: String,
    },
}

impl Verdict {
    /// `{"ok": true, "entries": N}` or `{"ok": false, "first_broken_seq": S, "reason"}`.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Ok { entries } => json!({ "ok": true, "entries": entries }),
            Self::Broken { seq, reason } => {
                json!({ "ok": false, "first_broken_seq": seq, "reason": reason })
            }
        }
    }
}

/// Checks `events` (oldest first) as a chain starting after `anchor` and ending at
/// `head`, entry by entry: `seq` follows the previous one (else an entry is missing or
/// out of order), `prev_hash` is the previous entry's `hash` (the anchor for the
/// first), `hash` is the hash of the entry's contents; and the last `hash` is `head`
/// (else entries were cut from the end).
pub(crate) fn verify<'a>(
    events: impl IntoIterator<Item = &'a AuditEvent>,
    anchor: &str,
    head: &str,
) -> Verdict {
    let events: Vec<&AuditEvent> = events.into_iter().collect();
    let mut prev_hash = anchor;
    let mut prev_seq: Option<u64> = None;
    let mut entries = 0usize;
    for e in &events {
        if let Some(p) = prev_seq {
            let expected = p.saturating_add(1);
            if e.seq != expected {
                let reason = if events.iter().any(|x| x.seq == expected) {
                    format!(
                        "entry {expected} is out of order (found {} in its place)",
                        e.seq
                    )
                } else {
                    format!("entry {expected} is missing (the next entry is {})", e.seq)
                };
                return Verdict::Broken {
                    seq: expected,
                    reason,
                };
            }
        }
        if e.prev_hash != prev_hash {
            return Verdict::Broken {
                seq: e.seq,
                reason: "prev_hash is not the hash of the entry before it".into(),
            };
        }
        if e.compute_hash() != e.hash {
            return Verdict::Broken {
                seq: e.seq,
                reason: "hash does not match the entry's contents".into(),
            };
        }
        prev_hash = &e.hash;
        prev_seq = Some(e.seq);
        entries += 1;
    }
    if prev_hash != head {
        return Verdict::Broken {
            seq: prev_seq.map_or(1, |s| s.saturating_add(1)),
            reason: "the trail ends before its last recorded entry".into(),
        };
    }
    Verdict::Ok { entries }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trail(n: u64, capacity: usize) -> Trail {
        let mut t = Trail::new(capacity);
        for i in 0..n {
            t.push(
                1_000 + i as i64,
                AuditEvent::new("token", "success").client(format!("c{i}")),
            );
        }
        t
    }

    #[test]
    fn the_canonical_form_is_documented_json() {
        let mut e = AuditEvent::new("token", "success").client("a\"b");
        e.seq = 3;
        e.time = 7;
        e.seal(GENESIS);
        assert_eq!(
            String::from_utf8(e.canonical()).unwrap(),
            format!("[3,7,\"token\",\"a\\\"b\",null,null,\"success\",null,null,\"{GENESIS}\"]")
        );
        let as_json = json!([
            e.seq,
            e.time,
            e.event,
            e.client_id,
            e.user,
            e.patient,
            e.outcome,
            e.token_id,
            e.detail,
            e.prev_hash
        ]);
        assert_eq!(e.canonical(), as_json.to_string().into_bytes());
        assert_eq!(e.hash.len(), 64);
        assert_eq!(e.hash, hex(&Sha256::digest(e.canonical())));
    }

    #[test]
    fn hex_of_sha256_of_abc() {
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            hex(&Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn the_chain_verifies_after_eviction() {
        let t = trail(10, 4);
        assert_eq!(t.events.len(), 4);
        assert_eq!(t.events.front().unwrap().seq, 7);
        assert_eq!(t.events.front().unwrap().prev_hash, t.anchor);
        assert_eq!(t.verify(), Verdict::Ok { entries: 4 });
        assert_eq!(trail(0, 4).verify(), Verdict::Ok { entries: 0 });
    }

    #[test]
    fn tampering_is_found_at_its_seq() {
        let mut t = trail(6, 100);
        t.events[2].outcome = "invalid_grant".into();
        assert_eq!(
            t.verify(),
            Verdict::Broken {
                seq: 3,
                reason: "hash does not match the entry's contents".into()
            }
        );
        // Rehashing the modified entry breaks the next link instead.
        let prev = t.events[1].hash.clone();
        t.events[2].seal(&prev);
        assert!(matches!(t.verify(), Verdict::Broken { seq: 4, .. }));

        let mut t = trail(6, 100);
        t.events.remove(3);
        assert_eq!(
            t.verify(),
            Verdict::Broken {
                seq: 4,
                reason: "entry 4 is missing (the next entry is 5)".into()
            }
        );

        let mut t = trail(6, 100);
        t.events.swap(1, 2);
        assert_eq!(
            t.verify(),
            Verdict::Broken {
                seq: 2,
                reason: "entry 2 is out of order (found 3 in its place)".into()
            }
        );

        let mut t = trail(6, 100);
        t.events.pop_back();
        assert_eq!(
            t.verify(),
            Verdict::Broken {
                seq: 6,
                reason: "the trail ends before its last recorded entry".into()
            }
        );

        let mut t = trail(6, 3);
        t.anchor = GENESIS.into();
        assert_eq!(
            t.verify(),
            Verdict::Broken {
                seq: 4,
                reason: "prev_hash is not the hash of the entry before it".into()
            }
        );
    }
}
