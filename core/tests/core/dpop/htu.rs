//! `htu` normalisation both ways (pairs that must match, pairs that must not) and
//! `htu` values that are not absolute http(s) URLs.

use super::*;

/// (htu in the proof, request URL) pairs that must match.
const HTU_MATCH: &[(&str, &str)] = &[
    ("https://ehr.example.org/fhir/Patient", URL),
    (
        "https://ehr.example.org/fhir/Patient",
        "https://ehr.example.org/fhir/Patient?name=x",
    ),
    (
        "https://ehr.example.org/fhir/Patient",
        "https://ehr.example.org/fhir/Patient#frag",
    ),
    (
        "https://ehr.example.org/fhir/Patient?a=1#b",
        "https://ehr.example.org/fhir/Patient?c=2",
    ),
    ("HTTPS://EHR.Example.ORG/fhir/Patient", URL),
    ("https://ehr.example.org:443/fhir/Patient", URL),
    ("https://ehr.example.org:/fhir/Patient", URL),
    ("https://ehr.example.org:0443/fhir/Patient", URL),
    ("http://ehr.example.org:80/", "http://ehr.example.org"),
    ("http://ehr.example.org", "http://ehr.example.org/"),
    ("https://ehr.example.org/fhir/%50atient", URL),
    (
        "https://ehr.example.org/fhir/%7euser",
        "https://ehr.example.org/fhir/~user",
    ),
    (
        "https://ehr.example.org/fhir/a%2fb",
        "https://ehr.example.org/fhir/a%2Fb",
    ),
    (
        "https://ehr.example.org/fhir/a%c3%a9",
        "https://ehr.example.org/fhir/a%C3%A9",
    ),
    (
        "https://ehr.example.org/fhir/a\u{e9}",
        "https://ehr.example.org/fhir/a%C3%A9",
    ),
    (
        "https://ehr.example.org/fhir/a b",
        "https://ehr.example.org/fhir/a%20b",
    ),
    ("https://ehr.example.org/fhir/./x/../Patient", URL),
    ("https://ehr.example.org/fhir/%2E%2E/fhir/Patient", URL),
    ("https://%65hr.example.org/fhir/Patient", URL),
    (
        "http://[::1]:8080/fhir",
        "http://[0:0:0:0:0:0:0:1]:8080/fhir",
    ),
    ("http://[::1]/fhir", "http://[::1]:80/fhir"),
    (
        "https://[2001:DB8::1]/",
        "https://[2001:db8:0:0:0:0:0:1]:443/",
    ),
    ("http://[::ffff:192.0.2.1]/", "http://[::ffff:c000:201]/"),
    ("http://127.0.0.1:80/x", "http://127.0.0.1/x"),
];

/// Pairs that must not match.
const HTU_MISMATCH: &[(&str, &str)] = &[
    ("http://ehr.example.org/fhir/Patient", URL),
    ("https://ehr.example.org:8443/fhir/Patient", URL),
    (
        "https://ehr.example.org:443/fhir/Patient",
        "http://ehr.example.org:443/fhir/Patient",
    ),
    ("https://ehr.example.org/fhir/patient", URL),
    ("https://ehr.example.org/FHIR/Patient", URL),
    ("https://ehr.example.org/fhir/Patient/", URL),
    ("https://ehr.example.org/fhir/Patient/1", URL),
    ("https://ehr.example.org/fhir", URL),
    (
        "https://ehr.example.org/fhir/a%2Fb",
        "https://ehr.example.org/fhir/a/b",
    ),
    (
        "https://ehr.example.org/fhir/~user",
        "https://ehr.example.org/fhir/%7Fuser",
    ),
    ("https://other.example.org/fhir/Patient", URL),
    ("https://ehr.example.org./fhir/Patient", URL),
    ("https://ehr.example.org/fhir//Patient", URL),
    ("http://[::1]/", "http://[::2]/"),
    ("http://[::1]/", "http://127.0.0.1/"),
    ("https://ehr.example.org/fhir/Patient;v=1", URL),
];

/// `htu` values that are not absolute http(s) URLs.
const HTU_INVALID: &[&str] = &[
    "",
    "/fhir/Patient",
    "ehr.example.org/fhir/Patient",
    "ftp://ehr.example.org/fhir/Patient",
    "wss://ehr.example.org/",
    "https:ehr.example.org/fhir",
    "https:/ehr.example.org/fhir",
    "https:///fhir",
    "https://",
    "https://user@ehr.example.org/fhir/Patient",
    "https://user:pw@ehr.example.org/",
    "https://ehr.example.org:99999/",
    "https://ehr.example.org:8a/",
    "https://ehr.example.org:-1/",
    "https://[::1/",
    "https://[fe80::1%25eth0]/",
    "https://[v1.x]/",
    "https://[::1]x/",
    "https://[1:2:3:4:5:6:7:8:9]/",
    "https://ehr example.org/",
    "https://ehr\"example.org/",
    "https://ehr.example.org/fhir/%zz",
    "https://ehr.example.org/fhir/%4",
    "https://ehr.example.org/fhir/%",
];

#[test]
fn htu_normalisation_must_match() {
    for &(htu, url) in HTU_MATCH {
        let a = dpop::normalize_htu(htu).unwrap_or_else(|e| panic!("{htu}: {e}"));
        let b = dpop::normalize_htu(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(a, b, "{htu} vs {url}");
        // And through a signed proof.
        let p = custom(&client_signer(), json!({}), json!({ "htu": htu }));
        verify(&p, "GET", url).unwrap_or_else(|e| panic!("{htu} vs {url}: {e}"));
    }
}

#[test]
fn htu_normalisation_must_not_match() {
    for &(htu, url) in HTU_MISMATCH {
        assert_ne!(
            dpop::normalize_htu(htu).unwrap(),
            dpop::normalize_htu(url).unwrap(),
            "{htu} vs {url}"
        );
        let p = custom(&client_signer(), json!({}), json!({ "htu": htu }));
        assert_eq!(
            code(verify(&p, "GET", url)),
            "ERR_DPOP_HTU_MISMATCH",
            "{htu} vs {url}"
        );
    }
}

#[test]
fn htu_invalid() {
    for &htu in HTU_INVALID {
        assert_eq!(
            code(dpop::normalize_htu(htu)),
            "ERR_DPOP_HTU_INVALID",
            "{htu}"
        );
        let p = custom(&client_signer(), json!({}), json!({ "htu": htu }));
        assert_eq!(
            code(verify(&p, "GET", URL)),
            "ERR_DPOP_HTU_INVALID",
            "{htu}"
        );
        // The same string as the request URL is the caller's error.
        assert_eq!(
            code(verify(&proof("GET", URL), "GET", htu)),
            "ERR_INVALID_ARGUMENT",
            "{htu}"
        );
    }
    let long = format!("https://ehr.example.org/{}", "a".repeat(dpop::MAX_URL_LEN));
    assert_eq!(code(dpop::normalize_htu(&long)), "ERR_DPOP_HTU_INVALID");
    assert_eq!(
        dpop::normalize_htu("HTTP://EHR.example.org:80/a/%7e/b/../c?q#f").unwrap(),
        "http://ehr.example.org/a/~/c"
    );
}
