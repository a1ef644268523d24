//! Search results: sorting, paging with links, `_count` limits and `_include`.

use alloc::collections::BTreeSet;

use mock_ehr::fhir::search::{DEFAULT_COUNT, MAX_COUNT, SearchQuery};
use serde_json::json;

use super::{BASE, LATER, builtin, ids, link, match_ids, mode_ids, run, strs};

#[test]
fn sort_by_date_string_and_id() {
    let store = builtin();
    let dates = |q: &str| -> Vec<String> {
        run(&store, "Observation", q).bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                e["resource"]["effectiveDateTime"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let desc = dates("patient=pat-004&_sort=-date");
    assert_eq!(desc.len(), 11);
    assert!(
        desc[..4].iter().all(|d| d.starts_with("2023-06-02")),
        "{desc:?}"
    );
    assert!(
        desc[4..].iter().all(|d| d.starts_with("2023-04-30")),
        "{desc:?}"
    );
    let asc = dates("patient=pat-004&_sort=date");
    assert!(
        asc[..7].iter().all(|d| d.starts_with("2023-04-30")),
        "{asc:?}"
    );
    // Ties keep id order, so the order is fully determined.
    assert_eq!(
        ids(&store, "Observation", "patient=pat-004&_sort=-date")[..4],
        strs(&[
            "obs-004-2-hr",
            "obs-004-2-ht",
            "obs-004-2-sbp",
            "obs-004-2-wt"
        ])
    );

    let families: Vec<String> = run(&store, "Patient", "_sort=family").bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["resource"]["name"][0]["family"]
                .as_str()
                .unwrap()
                .to_lowercase()
        })
        .collect();
    let mut sorted = families.clone();
    sorted.sort();
    assert_eq!(families, sorted);

    let births: Vec<String> = run(&store, "Patient", "_sort=-birthdate").bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["birthDate"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = births.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(births, sorted);

    let mut by_id = ids(&store, "Patient", "_sort=-_id");
    by_id.reverse();
    assert_eq!(by_id, ids(&store, "Patient", ""));
}

#[test]
fn sort_puts_missing_values_last_in_both_directions() {
    let mut store = builtin();
    let bare = json!({ "resourceType": "Observation", "status": "final", "code": { "text": "no date" },
                       "subject": { "reference": "Patient/pat-004" } });
    let id = store.create("Observation", bare, LATER).unwrap().version.id;
    for q in ["patient=pat-004&_sort=date", "patient=pat-004&_sort=-date"] {
        let got = ids(&store, "Observation", q);
        assert_eq!(got.last(), Some(&id), "{q}");
    }
}

#[test]
fn last_updated_finds_changes() {
    let mut store = builtin();
    let p = store
        .read("Patient", "pat-010")
        .unwrap()
        .resource
        .clone()
        .unwrap();
    store.update("Patient", "pat-010", p, None, LATER).unwrap();
    assert_eq!(
        ids(&store, "Patient", "_lastUpdated=gt2024-06-01"),
        strs(&["pat-010"])
    );
    assert_eq!(ids(&store, "Patient", "_lastUpdated=2024-06-01").len(), 23);
    assert_eq!(ids(&store, "Patient", "_sort=-_lastUpdated")[0], "pat-010");
}

#[test]
fn paging_walks_every_result_once() {
    let store = builtin();
    let mut query = "category=vital-signs&_count=25".to_string();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let r = run(&store, "Observation", &query);
        assert_eq!(r.total, 192);
        pages += 1;
        let page = match_ids(&r.bundle);
        assert!(page.len() <= 25);
        seen.extend(page);
        if pages > 1 {
            assert!(link(&r.bundle, "previous").is_some());
        }
        match link(&r.bundle, "next") {
            Some(next) => {
                assert!(
                    next.starts_with(&format!(
                        "{BASE}/Observation?category=vital-signs&_count=25&_offset="
                    )),
                    "{next}"
                );
                query = next.split_once('?').unwrap().1.to_string();
            }
            None => break,
        }
    }
    assert_eq!(pages, 8);
    assert_eq!(seen.len(), 192);
    assert_eq!(
        seen.iter().collect::<BTreeSet<_>>().len(),
        192,
        "duplicates across pages"
    );
    assert_eq!(
        seen,
        ids(&store, "Observation", "category=vital-signs&_count=1000")
    );
}

#[test]
fn paging_links_are_exact() {
    let store = builtin();
    let r = run(&store, "Observation", "patient=pat-004&_count=5&_offset=5");
    assert_eq!(match_ids(&r.bundle).len(), 5);
    let q = "Observation?patient=pat-004&_count=5";
    assert_eq!(
        link(&r.bundle, "self").unwrap(),
        format!("{BASE}/{q}&_offset=5")
    );
    assert_eq!(
        link(&r.bundle, "next").unwrap(),
        format!("{BASE}/{q}&_offset=10")
    );
    assert_eq!(link(&r.bundle, "previous").unwrap(), format!("{BASE}/{q}"));
    let last = run(&store, "Observation", "patient=pat-004&_count=5&_offset=10");
    assert_eq!(match_ids(&last.bundle), strs(&["obs-004-2-wt"]));
    assert!(link(&last.bundle, "next").is_none());
    let past = run(
        &store,
        "Observation",
        "patient=pat-004&_count=5&_offset=500",
    );
    assert_eq!((past.total, match_ids(&past.bundle).len()), (11, 0));
    assert_eq!(
        link(&past.bundle, "previous").unwrap(),
        format!("{BASE}/{q}&_offset=6")
    );
    let first = run(&store, "Observation", "patient=pat-004");
    assert_eq!(
        link(&first.bundle, "self").unwrap(),
        format!("{BASE}/Observation?patient=pat-004&_count={DEFAULT_COUNT}")
    );
    assert!(link(&first.bundle, "previous").is_none() && link(&first.bundle, "next").is_none());
}

#[test]
fn count_zero_gives_only_the_total() {
    let r = run(&builtin(), "Observation", "_count=0");
    assert_eq!(r.total, 264);
    assert_eq!(r.bundle["entry"], json!([]));
    assert_eq!(r.bundle["link"].as_array().unwrap().len(), 1);
}

#[test]
fn enormous_count_is_capped_and_the_link_says_so() {
    let store = builtin();
    for big in ["100000", "99999999999999999999999999999"] {
        let r = run(&store, "Observation", &format!("_count={big}"));
        assert_eq!(match_ids(&r.bundle).len(), 264);
        assert_eq!(
            link(&r.bundle, "self").unwrap(),
            format!("{BASE}/Observation?_count={MAX_COUNT}")
        );
    }
    assert_eq!(
        SearchQuery::parse("Observation", "_count=5000")
            .unwrap()
            .count(),
        1000
    );
    assert_eq!(MAX_COUNT, 1000);
}

#[test]
fn include_adds_subjects_once_with_mode_include() {
    let store = builtin();
    let r = run(
        &store,
        "Observation",
        "patient=pat-003&_include=Observation:subject",
    );
    assert_eq!(r.total, 7);
    assert_eq!(match_ids(&r.bundle).len(), 7);
    assert_eq!(mode_ids(&r.bundle, "include"), strs(&["Patient/pat-003"]));
    let entries = r.bundle["entry"].as_array().unwrap();
    assert_eq!(
        entries.last().unwrap()["fullUrl"],
        format!("{BASE}/Patient/pat-003")
    );
    let r = run(
        &store,
        "Observation",
        "patient=pat-003&_include=Observation:performer:Practitioner&_include=Observation:patient",
    );
    assert_eq!(
        mode_ids(&r.bundle, "include"),
        strs(&[
            "Practitioner/prac-003",
            "Practitioner/prac-001",
            "Patient/pat-003"
        ])
    );
    let r = run(
        &store,
        "MedicationRequest",
        "patient=pat-003&_include=MedicationRequest:requester",
    );
    assert_eq!(
        mode_ids(&r.bundle, "include"),
        strs(&["Practitioner/prac-001"])
    );
    assert_eq!(
        link(&r.bundle, "self").unwrap(),
        format!("{BASE}/MedicationRequest?patient=pat-003&_include=MedicationRequest%3Arequester&_count=50").replace("%3A", ":")
    );
}

#[test]
fn include_skips_deleted_targets() {
    let mut store = builtin();
    store.delete("Patient", "pat-003", LATER).unwrap();
    let r = run(
        &store,
        "Observation",
        "patient=pat-003&_include=Observation:subject",
    );
    assert_eq!((r.total, mode_ids(&r.bundle, "include").len()), (7, 0));
}
