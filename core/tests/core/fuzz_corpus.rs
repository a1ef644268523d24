//! The fuzz corpus, replayed: every file under `fuzz/corpus/<target>/` goes through the
//! function its fuzz target calls (`smartgate_core::fuzzing`), so an input the fuzzer
//! once crashed on stays fixed on every `cargo test`, without a nightly toolchain.
//! Each bug the fuzzer found also has a named test below.
//!
//! The `seed-*` files are written by [`write_seeds`] from the test vectors
//! (`cargo test -p smartgate-core --test core fuzz_corpus::write_seeds -- --ignored`);
//! the other files are inputs the fuzzer kept.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use smartgate_core::base64url;
use smartgate_core::dpop::DpopKey;
use smartgate_core::fuzzing;
use smartgate_core::jwk::Jwk;
use smartgate_core::provider::Signer;
use smartgate_core::provider::rustcrypto::{EcdsaP256Signer, EcdsaP384Signer};
use smartgate_core::scope::ScopeSet;
use smartgate_core::sign::{sign_compact, sign_jwt};

use crate::common::{data, raw_jws};

type Target = fn(&[u8]);

/// Every fuzz target, by name, and the function it calls.
const TARGETS: [(&str, Target); 9] = [
    ("base64url", fuzzing::base64url),
    ("dpop", fuzzing::dpop),
    ("guard_headers", fuzzing::guard_headers),
    ("jwk", fuzzing::jwk),
    ("jwks", fuzzing::jwks),
    ("jws", fuzzing::jws),
    ("jwt_verify", fuzzing::jwt_verify),
    ("scope", fuzzing::scope),
    ("pkce", fuzzing::pkce),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn replay_corpus() {
    let mut failures = Vec::new();
    let mut replayed = 0;
    for (name, target) in TARGETS {
        let dir = fuzz_dir().join("corpus").join(name);
        let inputs = files(&dir);
        assert!(
            !inputs.is_empty(),
            "no corpus for {name} in {}",
            dir.display()
        );
        for path in inputs {
            let bytes = std::fs::read(&path).unwrap();
            if catch_unwind(AssertUnwindSafe(|| target(&bytes))).is_err() {
                failures.push(path.display().to_string());
            }
            replayed += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "corpus inputs that fail: {failures:#?}"
    );
    assert!(replayed >= TARGETS.len());
}

/// Every fuzz target in `fuzz/Cargo.toml` and every corpus directory is replayed here.
#[test]
fn every_target_is_replayed() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    let mut bins: Vec<&str> = manifest
        .split("[[bin]]")
        .skip(1)
        .filter_map(|bin| bin.lines().find_map(|l| l.strip_prefix("name = ")))
        .map(|n| n.trim_matches('"'))
        .collect();
    let mut known: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
    bins.sort_unstable();
    known.sort_unstable();
    assert_eq!(bins, known, "fuzz/Cargo.toml targets vs. TARGETS");
    for entry in std::fs::read_dir(fuzz_dir().join("corpus")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            known.contains(&name.as_str()),
            "corpus/{name} has no target"
        );
    }
}

/// Broke the `scope` target's render -> parse round trip (corpus file
/// `regression-two_spellings`): `?a=%41` and `?a=A` spell one scope; the set kept both,
/// rendered both as `?a=A`, and that string parsed back to a set of one. Fixed in
/// `scope::parse_string` (a scope equal to one already parsed is kept once).
#[test]
fn regression_scope_two_spellings_of_one_scope() {
    let text = "patient/Observation.rs?a=%41 patient/Observation.rs?a=A user/*.read";
    let set = ScopeSet::parse(text).unwrap();
    assert_eq!(set.to_string(), "patient/Observation.rs?a=A user/*.read");
    assert_eq!(ScopeSet::parse(&set.to_string()).unwrap(), set);
    assert_eq!(ScopeSet::parse_lenient(text).unwrap().scopes, set);
    fuzzing::scope(text.as_bytes());
}

/// Writes the `seed-*` files of every corpus from the test vectors (RFC 4648, 7515,
/// 7636, 7638, the SMART App Launch scope examples) and the fuzz keys.
#[test]
#[ignore = "writes fuzz/corpus; run by hand when the seeds change"]
fn write_seeds() {
    let a2 = data("rfc7515_a2_rs256.json");
    let a3 = data("rfc7515_a3_es256.json");
    let b = data("rfc7636_appendix_b.json");
    let tp = data("rfc7638_3_1.json");
    let fixed = EcdsaP256Signer::from_bytes(&fuzzing::SECRET).unwrap();
    let fixed_jwk = Jwk::new(fixed.public_key(), Some(fuzzing::KID.into()), None).unwrap();
    let p384 = Jwk::new(
        EcdsaP384Signer::from_bytes(&[0x17; 48])
            .unwrap()
            .public_key(),
        None,
        None,
    )
    .unwrap();
    let text = |v: &Value| v.to_string();
    let mut private = a3["jwk"].clone();
    private["d"] = a3["d"].clone();

    let jwks: Vec<(&str, String)> = vec![
        ("rfc7515_a3_ec", text(&a3["jwk"])),
        ("rfc7515_a2_rsa", text(&a2["jwk"])),
        ("rfc7638_rsa_kid_alg", text(&tp["jwk"])),
        ("fixed_p256_kid", text(&Value::Object(fixed_jwk.to_json()))),
        ("p384", text(&Value::Object(p384.to_json()))),
        ("private_d", text(&private)),
        ("oct", r#"{"kty":"oct","k":"AAAA"}"#.into()),
        (
            "use_enc_key_ops",
            r#"{"kty":"EC","crv":"P-256","use":"enc","key_ops":["encrypt"],"x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#.into(),
        ),
        ("crv_p521", r#"{"kty":"EC","crv":"P-521","x":"AA","y":"AA"}"#.into()),
        ("rsa_short", r#"{"kty":"RSA","n":"AQAB","e":"AQAB","alg":"RS256"}"#.into()),
    ];
    let all: Vec<Value> = jwks
        .iter()
        .filter(|(n, _)| *n != "private_d")
        .map(|(_, t)| serde_json::from_str(t).unwrap())
        .collect();
    let sets: Vec<(&str, String)> = vec![
        ("mixed", text(&json!({ "keys": all }))),
        (
            "signing",
            text(&json!({ "keys": [a3["jwk"], a2["jwk"], fixed_jwk.to_json()] })),
        ),
        (
            "with_private",
            text(&json!({ "keys": [a3["jwk"], private] })),
        ),
        ("empty", r#"{"keys":[]}"#.into()),
        ("not_array", r#"{"keys":{}}"#.into()),
    ];

    let claims = json!({
        "iss": fuzzing::ISS, "aud": fuzzing::AUD, "sub": "Practitioner/1",
        "exp": fuzzing::NOW + 300, "iat": fuzzing::NOW - 10, "jti": "abc",
        "scope": "patient/Observation.rs"
    });
    let claims = claims.as_object().unwrap();
    let valid = sign_jwt(claims, Some("at+jwt"), Some(fuzzing::KID), &fixed).unwrap();
    let mut header = serde_json::Map::new();
    header.insert("kid".into(), fuzzing::KID.into());
    let untyped = sign_compact(&header, &serde_json::to_vec(claims).unwrap(), &fixed).unwrap();
    let tokens: Vec<(&str, String)> = vec![
        ("rfc7515_a3_es256", a3["token"].as_str().unwrap().into()),
        ("rfc7515_a2_rs256", a2["token"].as_str().unwrap().into()),
        ("fixed_at_jwt", valid.clone()),
        ("fixed_untyped", untyped),
        (
            "alg_none",
            raw_jws(r#"{"alg":"none"}"#, r#"{"iss":"joe"}"#, b""),
        ),
        (
            "alg_hs256",
            raw_jws(r#"{"alg":"HS256","typ":"JWT"}"#, "{}", &[1; 32]),
        ),
        (
            "crit",
            raw_jws(r#"{"alg":"ES256","crit":["exp"],"exp":1}"#, "{}", &[1; 64]),
        ),
        (
            "kid_jku_jwk",
            raw_jws(
                r#"{"alg":"RS256","kid":"k1","jku":"https://a.example/jwks","jwk":{}}"#,
                "{}",
                &[0; 256],
            ),
        ),
        (
            "zero_signature",
            raw_jws(r#"{"alg":"ES256"}"#, "{}", &[0; 64]),
        ),
    ];
    let payloads: Vec<(&str, String)> = vec![
        ("claims", text(&Value::Object(claims.clone()))),
        ("aud_array_floats", r#"{"iss":"x","aud":["a","b"],"exp":1.7e9,"nbf":-0.5,"iat":1700000000.9}"#.into()),
        ("expired", r#"{"iss":"https://ehr.example.org","aud":"https://ehr.example.org/fhir","exp":1699999999}"#.into()),
        ("wrong_types", r#"{"iss":1,"aud":[1],"sub":{},"jti":[],"exp":"1700000300"}"#.into()),
        ("not_object", "[1,2,3]".into()),
        ("token", valid),
    ];

    let b64: Vec<(&str, String)> = [
        ("rfc4648_empty", ""),
        ("rfc4648_f", "Zg"),
        ("rfc4648_fo", "Zm8"),
        ("rfc4648_foo", "Zm9v"),
        ("rfc4648_foob", "Zm9vYg"),
        ("rfc4648_fooba", "Zm9vYmE"),
        ("rfc4648_foobar", "Zm9vYmFy"),
        ("url_alphabet", "-_8"),
        ("padded", "Zg=="),
        ("trailing_bits", "Zh"),
        ("length_4n1", "Zm9vY"),
        ("standard_alphabet", "+/8"),
    ]
    .into_iter()
    .map(|(n, t)| (n, t.to_string()))
    .chain([(
        "rfc7636_challenge",
        b["code_challenge"].as_str().unwrap().to_string(),
    )])
    .collect();

    let lab = "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory";
    let scopes: Vec<(&str, String)> = [
        ("smart_example", "launch/patient openid fhirUser offline_access patient/*.rs"),
        ("lab_category", lab),
        ("v1", "patient/*.read user/Observation.write system/*.* launch"),
        ("every_kind", "launch launch/patient launch/encounter launch/imagingstudy openid fhirUser profile offline_access online_access __darkMode patient/*.read user/Observation.rs system/Encounter.cud"),
        ("launch_role", "launch/list?role=https://example.org/med-list-at-home"),
        ("unknown_context", "bogus/Observation.rs Patient/Observation.rs"),
        ("bad_permissions", "patient/Observation.sr user/Patient.rr system/*.x"),
        ("query_escapes", "user/Observation.rs?code:in=a%26b%3Dc%20%25&category=%c3%a9"),
        ("narrow_pair", "patient/*.cruds user/*.read\npatient/Observation.rs patient/Condition.r user/Patient.rs?_id=1"),
        ("export", "system/*.read system/Patient.rs?_tag=x"),
    ]
    .into_iter()
    .map(|(n, t)| (n, t.to_string()))
    .collect();

    let verifier = b["code_verifier"].as_str().unwrap();
    let pkce: Vec<(&str, String)> = vec![
        ("rfc7636_appendix_b", verifier.into()),
        ("len_43", "a".repeat(43)),
        ("len_128", "-._~".repeat(32)),
        ("len_42", "a".repeat(42)),
        ("len_129", "Z".repeat(129)),
        ("charset", format!("{}+", "a".repeat(42))),
        ("method_s256", "S256".into()),
        ("method_plain", "plain".into()),
    ];

    let rfc9449 = data("rfc9449_examples.json");
    let jwcrypto = data("dpop_jwcrypto.json");
    let line = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let mut dpop: Vec<(String, String)> = [
        "section_4_1_figure_2",
        "section_5_figure_7",
        "section_7_1_figure_13",
    ]
    .iter()
    .map(|name| {
        let f = &rfc9449[name];
        let fields = [
            &f["proof"],
            &f["method"],
            &f["url"],
            &f["now"],
            &f["access_token"],
        ];
        (format!("rfc9449_{name}"), fields.map(line).join("\n"))
    })
    .collect();
    for case in jwcrypto["cases"].as_array().unwrap() {
        let fields = [
            &case["proof"],
            &case["method"],
            &case["url"],
            &case["now"],
            &case["access_token"],
        ];
        dpop.push((
            format!("jwcrypto_{}", line(&case["name"])),
            fields.map(line).join("\n"),
        ));
    }
    for (name, url) in [
        ("ipv6", "http://[0:0::1]:080/a/./b/../c?q#f"),
        (
            "percent",
            "HTTPS://Server.Example.COM:443/%7e%41/%2F/%2e%2E/x y",
        ),
        ("ipv4_tail", "https://[::ffff:192.0.2.1]/"),
    ] {
        dpop.push((
            format!("url_{name}"),
            format!("\nGET\n{url}\n{}\n\njti-{name}", fuzzing::NOW),
        ));
    }

    let g = &jwcrypto["guard"];
    let bearer_claims = json!({
        "iss": fuzzing::ISS, "aud": fuzzing::AUD, "sub": "Practitioner/1", "exp": fuzzing::NOW + 300,
        "scope": "user/Observation.rs", "client_id": "app"
    });
    let bearer = sign_jwt(
        bearer_claims.as_object().unwrap(),
        Some("at+jwt"),
        Some(fuzzing::KID),
        &fixed,
    )
    .unwrap();
    let dpop_key = DpopKey::from_bytes(&fuzzing::DPOP_SECRET).unwrap();
    let mut bound_claims = bearer_claims.clone();
    bound_claims["cnf"] = json!({ "jkt": dpop_key.thumbprint() });
    bound_claims["scope"] = json!("patient/Observation.rs");
    bound_claims["patient"] = json!("123");
    let bound = sign_jwt(
        bound_claims.as_object().unwrap(),
        Some("at+jwt"),
        Some(fuzzing::KID),
        &fixed,
    )
    .unwrap();
    let mut cert_claims = bearer_claims.clone();
    cert_claims["cnf"] = json!({ "x5t#S256": base64url::encode(&[0xab; 32]) });
    let cert_bound = sign_jwt(
        cert_claims.as_object().unwrap(),
        None,
        Some(fuzzing::KID),
        &fixed,
    )
    .unwrap();
    let url = line(&g["url"]);
    let bound_proof = dpop_key
        .proof_with_jti("GET", &url, Some(&bound), None, fuzzing::NOW, "jti-guard")
        .unwrap();
    let guard: Vec<(String, String)> = vec![
        (
            "jwcrypto_dpop".into(),
            format!("{}\n{}", line(&g["authorization"]), line(&g["dpop"])),
        ),
        ("bearer".into(), format!("Bearer {bearer}")),
        (
            "bearer_padded_lower".into(),
            format!(" \tbearer   {bearer}\t"),
        ),
        ("dpop_bound".into(), format!("DPoP {bound}\n{bound_proof}")),
        ("dpop_bound_as_bearer".into(), format!("Bearer {bound}")),
        ("dpop_scheme_no_proof".into(), format!("DPoP {bearer}")),
        (
            "two_credentials".into(),
            format!("Bearer {bearer}, DPoP {bound}"),
        ),
        ("basic".into(), "Basic dXNlcjpwYXNz".into()),
        ("empty".into(), String::new()),
        ("token68_padding".into(), "Bearer abc==".into()),
        (
            "cert_bound".into(),
            format!("Bearer {cert_bound}\n\nGET\n{url}\n{}", "AB".repeat(32)),
        ),
    ];

    write_corpus("base64url", b64);
    write_corpus("dpop", dpop);
    write_corpus("guard_headers", guard);
    write_corpus("jwk", jwks);
    write_corpus("jwks", sets);
    write_corpus("jws", tokens);
    write_corpus("jwt_verify", payloads);
    write_corpus("pkce", pkce);
    write_corpus("scope", scopes);
}

fn write_corpus<N: std::fmt::Display>(target: &str, seeds: Vec<(N, String)>) {
    let dir = fuzz_dir().join("corpus").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, content) in seeds {
        std::fs::write(dir.join(format!("seed-{name}")), content).unwrap();
    }
}
