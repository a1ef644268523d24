//! Bad input of every kind is refused with a code, never a panic.

use super::*;

#[test]
fn bad_input_never_panics() {
    let big = "a".repeat(1 << 20);
    for input in [
        String::new(),
        ".".into(),
        "..".into(),
        "...".into(),
        big.clone(),
        format!("{big}.{big}.{big}"),
        "\u{0}\u{ffff}".into(),
        "eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.".into(),
    ] {
        assert!(verify(&input, "GET", URL).is_err());
        let _ = dpop::normalize_htu(&input);
    }
}

mod props {
    use proptest::prelude::*;

    use super::*;

    fn url_strategy() -> impl Strategy<Value = String> {
        (
            prop::bool::ANY,
            "[a-z0-9]([a-z0-9-]{0,12}[a-z0-9])?(\\.[a-z]{2,6}){0,2}",
            prop::option::of(1u16..=65535),
            proptest::collection::vec("([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-F]{2}){0,10}", 0..4),
            prop::option::of("[a-z0-9=&]{0,10}"),
        )
            .prop_map(|(tls, host, port, segments, query)| {
                let mut u = format!("{}://{host}", if tls { "https" } else { "http" });
                if let Some(p) = port {
                    u.push_str(&format!(":{p}"));
                }
                for s in segments {
                    u.push('/');
                    u.push_str(&s);
                }
                if let Some(q) = query {
                    u.push('?');
                    u.push_str(&q);
                }
                u
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Proofs made by DpopKey for random methods, URLs and tokens verify; a change to
        /// any byte of the proof, or to the method, URL path or token, is refused.
        #[test]
        fn made_proofs_verify_and_mutations_fail(
            seed in 1u64..u64::MAX,
            method in "[A-Z]{1,8}",
            url in url_strategy(),
            token in prop::option::of("[A-Za-z0-9._~+/-]{1,40}"),
            pos in any::<prop::sample::Index>(),
            byte in any::<u8>(),
        ) {
            let key = DpopKey::generate(&mut TestRng(seed));
            let p = key.proof(&method, &url, token.as_deref(), None, NOW, &mut TestRng(seed ^ 1)).unwrap();
            let mut req = ProofRequest::new(&method, &url);
            if let Some(t) = &token { req = req.access_token(t); }
            let ok = verify_at(&p, &req, NOW).unwrap();
            prop_assert_eq!(ok.jkt(), key.thumbprint());

            let mut bytes = p.clone().into_bytes();
            let i = pos.index(bytes.len());
            prop_assume!(bytes[i] != byte);
            bytes[i] = byte;
            if let Ok(mutated) = String::from_utf8(bytes) {
                prop_assert!(verify_at(&mutated, &req, NOW).is_err(), "mutation at {} accepted", i);
            }
            let other_method = format!("{method}X");
            let mut r2 = ProofRequest::new(&other_method, &url);
            if let Some(t) = &token { r2 = r2.access_token(t); }
            prop_assert!(verify_at(&p, &r2, NOW).is_err());
            let base = url.split(['?', '#']).next().unwrap();
            let other_url = format!("{base}/x");
            let mut r3 = ProofRequest::new(&method, &other_url);
            if let Some(t) = &token { r3 = r3.access_token(t); }
            prop_assert_eq!(code(verify_at(&p, &r3, NOW)), "ERR_DPOP_HTU_MISMATCH");
            let other_token = format!("{}x", token.as_deref().unwrap_or(""));
            prop_assert!(verify_at(&p, &req.access_token(&other_token), NOW).is_err());
        }

        /// Case, default ports, percent-encoding of unreserved characters, query and
        /// fragment do not change the normalised URL.
        #[test]
        fn equivalent_urls_normalise_alike(url in url_strategy(), frag in "[a-z]{0,5}") {
            let n = dpop::normalize_htu(&url).unwrap();
            let (scheme, rest) = url.split_once("://").unwrap();
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let path = path.split('?').next().unwrap();
            let default = if scheme == "http" { ":80" } else { ":443" };
            let authority = if authority.contains(':') { authority.to_owned() } else { format!("{authority}{default}") };
            // Percent-encode letters and digits (lower-case hex), leaving existing
            // escapes alone.
            let mut encoded = String::new();
            let mut skip = 0;
            for c in path.chars() {
                if skip > 0 { skip -= 1; encoded.push(c); continue; }
                if c == '%' { skip = 2; }
                if c.is_ascii_alphanumeric() { encoded.push_str(&format!("%{:02x}", c as u32)); } else { encoded.push(c); }
            }
            let variant = format!("{}://{}{encoded}?z#{frag}", scheme.to_uppercase(), authority.to_uppercase());
            prop_assert_eq!(dpop::normalize_htu(&variant).unwrap(), n);
        }

        /// Any string: an answer, never a panic.
        #[test]
        fn arbitrary_input(s in ".{0,300}", method in ".{0,8}") {
            let _ = dpop::normalize_htu(&s);
            let _ = verify(&s, &method, URL);
            let _ = verify(&proof("GET", URL), &method, &s);
        }
    }
}
