//! The hash chain: recomputed here from the documented canonical form, and
//! `GET /_admin/audit/verify` finding a changed, a removed and a reordered entry at the
//! right `seq`.

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::{ehr, some_flows, verify};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash of an entry of `GET /_admin/audit`, from the README's definition.
fn documented_hash(e: &Value) -> String {
    let field = |n: &str| e.get(n).cloned().unwrap_or(Value::Null);
    let canonical = json!([
        field("seq"),
        field("time"),
        field("event"),
        field("client_id"),
        field("user"),
        field("patient"),
        field("outcome"),
        field("token_id"),
        field("detail"),
        field("prev_hash"),
    ])
    .to_string();
    hex(&Sha256::digest(canonical.as_bytes()))
}

#[tokio::test]
async fn the_chain_is_the_documented_one_and_verifies() {
    let ehr = ehr();
    some_flows(&ehr).await;
    let events = ehr.audit().await;
    assert!(events.len() >= 5, "{events:?}");
    let mut prev = mock_ehr::GENESIS.to_string();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["seq"], i as u64 + 1);
        assert_eq!(e["prev_hash"], prev.as_str(), "{e}");
        assert_eq!(e["hash"], documented_hash(e).as_str(), "{e}");
        prev = e["hash"].as_str().unwrap().to_string();
    }
    assert_eq!(
        verify(&ehr).await,
        json!({ "ok": true, "entries": events.len() })
    );
    // A reset starts a new chain.
    ehr.post_json("/_admin/reset", json!({})).await;
    assert_eq!(verify(&ehr).await, json!({ "ok": true, "entries": 0 }));
}

#[tokio::test]
async fn verify_finds_a_changed_entry_at_its_seq() {
    let ehr = ehr();
    some_flows(&ehr).await;
    ehr.state.tamper_with_audit_trail(|events| {
        let e = events.iter_mut().find(|e| e.seq == 3).unwrap();
        e.outcome = "success".into();
        e.client_id = Some("someone-else".into());
    });
    assert_eq!(
        verify(&ehr).await,
        json!({ "ok": false, "first_broken_seq": 3, "reason": "hash does not match the entry's contents" })
    );
    // Resealing the changed entry moves the break to the next link.
    ehr.state.tamper_with_audit_trail(|events| {
        let prev = events[1].hash.clone();
        let e = &mut events[2];
        e.prev_hash = prev;
        e.hash = e.compute_hash();
    });
    assert_eq!(
        verify(&ehr).await,
        json!({ "ok": false, "first_broken_seq": 4, "reason": "prev_hash is not the hash of the entry before it" })
    );
}

#[tokio::test]
async fn verify_finds_a_removed_entry_at_its_seq() {
    let ehr = ehr();
    some_flows(&ehr).await;
    ehr.state.tamper_with_audit_trail(|events| {
        let i = events.iter().position(|e| e.seq == 4).unwrap();
        events.remove(i);
    });
    assert_eq!(
        verify(&ehr).await,
        json!({ "ok": false, "first_broken_seq": 4, "reason": "entry 4 is missing (the next entry is 5)" })
    );
    // Removing the newest: the trail no longer ends at its recorded head.
    let ehr2 = self::ehr();
    some_flows(&ehr2).await;
    let last = ehr2.audit().await.len() as u64;
    ehr2.state.tamper_with_audit_trail(|events| {
        events.pop_back();
    });
    assert_eq!(
        verify(&ehr2).await,
        json!({ "ok": false, "first_broken_seq": last, "reason": "the trail ends before its last recorded entry" })
    );
}

#[tokio::test]
async fn verify_finds_reordered_entries_at_the_first_one_out_of_place() {
    let ehr = ehr();
    some_flows(&ehr).await;
    ehr.state
        .tamper_with_audit_trail(|events| events.swap(1, 2));
    assert_eq!(
        verify(&ehr).await,
        json!({ "ok": false, "first_broken_seq": 2, "reason": "entry 2 is out of order (found 3 in its place)" })
    );
    // Renumbered to hide it: the chain still breaks there.
    ehr.state.tamper_with_audit_trail(|events| {
        events[1].seq = 2;
        events[2].seq = 3;
    });
    let v = verify(&ehr).await;
    assert_eq!(v["first_broken_seq"], 2, "{v}");
    assert_eq!(v["ok"], false);
}
