//! Every refusal, with its code; the limits, at and just past each one.

use smartgate_core::scope::{
    ClinicalScope, Context, Interaction, MAX_QUERY_PARAMS, MAX_SCOPE_LEN, MAX_SCOPES,
    MAX_SCOPES_LEN, Permissions, ResourceSelector, ResourceType, Scope, ScopeError, ScopeSet,
};

/// The code `ScopeSet::parse` (strict) gives, and checks that `Scope::parse` agrees and
/// that the lenient parser drops the scope with the same error.
fn code(scope: &str) -> &'static str {
    let strict = ScopeSet::parse(scope).unwrap_err();
    assert_eq!(Scope::parse(scope).unwrap_err(), strict, "{scope:?}");
    let lenient = ScopeSet::parse_lenient(&format!("openid {scope} launch")).unwrap();
    assert_eq!(lenient.scopes.to_string(), "openid launch", "{scope:?}");
    assert_eq!(lenient.dropped.len(), 1, "{scope:?}");
    assert_eq!(lenient.dropped[0].scope, scope);
    assert_eq!(lenient.dropped[0].error.code(), strict.code());
    strict.code()
}

#[test]
fn malformed() {
    for bad in [
        "patient/.rs",         // empty resource type
        "patient/Observation", // no permissions part
        "user/",               // nothing after the context
        "system/*",            // no '.'
        "patient/Obs?x=1.rs",  // the '.' only inside the query
        "open\"id",            // '"' is not a scope-token character
        "a\\b",                // nor is '\'
        "openid\tprofile",     // nor a tab (scopes are separated by single spaces)
        "fhir\u{7f}User",      // nor DEL
        "naïve",               // nor anything beyond ASCII
        "patient/Observation.rs?category=laboratoire\u{e9}",
    ] {
        assert_eq!(code(bad), "ERR_SCOPE_MALFORMED", "{bad:?}");
    }
}

#[test]
fn context_unknown() {
    for bad in [
        "bogus/Observation.rs",
        "Patient/Observation.rs",
        "users/*.read",
        "practitioner/*.rs",
        "PATIENT/Observation.read",
    ] {
        assert_eq!(code(bad), "ERR_SCOPE_CONTEXT_UNKNOWN", "{bad:?}");
    }
    assert_eq!(
        Context::parse("Patient").unwrap_err().code(),
        "ERR_SCOPE_CONTEXT_UNKNOWN"
    );
    assert_eq!(
        Context::parse("").unwrap_err().code(),
        "ERR_SCOPE_CONTEXT_UNKNOWN"
    );
    for c in Context::ALL {
        assert_eq!(Context::parse(c.as_str()).unwrap(), c);
    }
}

#[test]
fn opaque_scopes_are_not_clinical() {
    // Server-defined scopes (full URIs, "__" names) and other shapes are kept verbatim.
    for ok in [
        "__profilePhoto.manage",
        "https://ehr.example.org/scopes/profilePhoto.manage",
        "api/v1.0",
        "launch/",
        "smart/orchestrate_launch",
        "patient",
        "*",
        "%",
    ] {
        let set = ScopeSet::parse(ok).unwrap();
        assert_eq!(set.scopes(), [Scope::Other(ok.into())], "{ok:?}");
        assert_eq!(set.to_string(), ok);
    }
    let set = ScopeSet::parse(
        "launch/diagnosticreport launch/list?role=https://example.org/med-list-at-home",
    )
    .unwrap();
    assert_eq!(
        set.scopes(),
        [
            Scope::LaunchOther("diagnosticreport".into()),
            Scope::LaunchOther("list?role=https://example.org/med-list-at-home".into())
        ]
    );
}

#[test]
fn resource_unknown() {
    for bad in [
        "patient/Foo.rs",
        "patient/observation.rs",
        "user/Resource.rs",
        "user/DomainResource.read",
        "system/SubstanceDefinition.rs", // R5, not R4
        "patient/Observation,Condition.rs",
        "patient/**.rs",
    ] {
        assert_eq!(code(bad), "ERR_SCOPE_RESOURCE_UNKNOWN", "{bad:?}");
    }
    assert_eq!(
        ResourceType::parse("Observatio").unwrap_err().code(),
        "ERR_SCOPE_RESOURCE_UNKNOWN"
    );
}

#[test]
fn permissions_invalid() {
    for bad in [
        "patient/Observation.foo",
        "patient/Observation.sr", // out of order
        "patient/Observation.rr", // repeated
        "patient/Observation.",   // empty
        "patient/Observation.dus",
        "patient/Observation.Read",
        "patient/Observation.READ",
        "patient/Observation.rsx",
        "patient/Observation.crudss",
        "patient/Observation.**",
        "patient/Observation.read,write",
        "user/*.rs.rs",
    ] {
        assert_eq!(code(bad), "ERR_SCOPE_PERMISSIONS_INVALID", "{bad:?}");
    }
    assert_eq!(
        Permissions::parse_v2("").unwrap_err().code(),
        "ERR_SCOPE_PERMISSIONS_INVALID"
    );
    assert_eq!(Permissions::parse_v2("cruds").unwrap(), Permissions::ALL);
    let none = ClinicalScope::new(Context::User, ResourceSelector::Wildcard, Permissions::NONE);
    assert_eq!(none.unwrap_err().code(), "ERR_SCOPE_PERMISSIONS_INVALID");
    let v1 = ClinicalScope::v1(Context::User, ResourceSelector::Wildcard, Permissions::READ);
    assert_eq!(v1.unwrap_err().code(), "ERR_SCOPE_PERMISSIONS_INVALID");
}

#[test]
fn every_in_order_subset_of_cruds_parses() {
    let mut count = 0;
    for bits in 1u8..32 {
        let letters: String = "cruds"
            .chars()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, c)| c)
            .collect();
        let p = Permissions::parse_v2(&letters).unwrap();
        assert_eq!(p.bits(), bits);
        assert_eq!(p.to_string(), letters);
        count += 1;
    }
    assert_eq!(count, 31);
}

#[test]
fn query_invalid() {
    for bad in [
        "patient/Observation.rs?",
        "patient/Observation.rs?category",
        "patient/Observation.rs?=laboratory",
        "patient/Observation.rs?category=",
        "patient/Observation.rs?a=1&&b=2",
        "patient/Observation.rs?a=1&",
        "patient/Observation.rs?&a=1",
        "patient/Observation.rs?a=%",
        "patient/Observation.rs?a=%4",
        "patient/Observation.rs?a=%zz",
        "patient/Observation.rs?a=%FF",    // not UTF-8 once decoded
        "patient/Observation.rs?a=%C3%28", // not UTF-8 once decoded
        "patient/Observation.rs?%=1",
        "patient/Observation.read?category=laboratory", // v1 has no query
        "user/*.*?category=laboratory",
    ] {
        assert_eq!(code(bad), "ERR_SCOPE_QUERY_INVALID", "{bad:?}");
    }
    let v1 = ClinicalScope::v1(
        Context::User,
        ResourceSelector::Wildcard,
        Permissions::V1_READ,
    )
    .unwrap();
    assert_eq!(
        v1.with_query(vec![("a".into(), "1".into())])
            .unwrap_err()
            .code(),
        "ERR_SCOPE_QUERY_INVALID"
    );
    let v2 =
        ClinicalScope::new(Context::User, ResourceSelector::Wildcard, Permissions::READ).unwrap();
    assert_eq!(
        v2.clone()
            .with_query(vec![(String::new(), "1".into())])
            .unwrap_err()
            .code(),
        "ERR_SCOPE_QUERY_INVALID"
    );
    assert_eq!(
        v2.with_query(vec![("a".into(), String::new())])
            .unwrap_err()
            .code(),
        "ERR_SCOPE_QUERY_INVALID"
    );
}

#[test]
fn interaction_unknown() {
    for bad in [
        "READ",
        "export",
        "operation",
        "",
        "search-type",
        "history-instance",
    ] {
        assert_eq!(
            Interaction::parse(bad).unwrap_err().code(),
            "ERR_SCOPE_INTERACTION_UNKNOWN",
            "{bad:?}"
        );
    }
}

#[test]
fn too_many_scopes() {
    let at = vec!["openid"; 1]
        .into_iter()
        .chain((0..MAX_SCOPES - 1).map(|_| "x"))
        .collect::<Vec<_>>();
    assert_eq!(ScopeSet::parse(&at.join(" ")).unwrap().len(), 2);
    // Verbatim repeats count towards the limit (scopes are counted before parsing)...
    assert_eq!(
        ScopeSet::parse(&["x"; MAX_SCOPES + 1].join(" "))
            .unwrap_err()
            .code(),
        "ERR_SCOPE_TOO_MANY"
    );
    let past: Vec<String> = (0..=MAX_SCOPES).map(|i| format!("s{i}")).collect();
    assert_eq!(
        ScopeSet::parse(&past.join(" ")).unwrap_err().code(),
        "ERR_SCOPE_TOO_MANY"
    );
    // ...in both modes: the lenient parser does not truncate.
    assert_eq!(
        ScopeSet::parse_lenient(&past.join(" ")).unwrap_err().code(),
        "ERR_SCOPE_TOO_MANY"
    );
    let fits: Vec<String> = (0..MAX_SCOPES).map(|i| format!("s{i}")).collect();
    assert_eq!(ScopeSet::parse(&fits.join(" ")).unwrap().len(), MAX_SCOPES);
    // Too many scopes built by hand.
    let built = (0..=MAX_SCOPES).map(|i| Scope::Other(format!("s{i}")));
    assert_eq!(
        ScopeSet::from_scopes(built).unwrap_err().code(),
        "ERR_SCOPE_TOO_MANY"
    );
}

#[test]
fn too_many_query_params() {
    let params = |n: usize| {
        (0..n)
            .map(|i| format!("p{i}=v"))
            .collect::<Vec<_>>()
            .join("&")
    };
    let fits = format!("user/Observation.rs?{}", params(MAX_QUERY_PARAMS));
    let set = ScopeSet::parse(&fits).unwrap();
    assert_eq!(
        set.scopes()[0].as_clinical().unwrap().query().len(),
        MAX_QUERY_PARAMS
    );
    assert_eq!(
        code(&format!(
            "user/Observation.rs?{}",
            params(MAX_QUERY_PARAMS + 1)
        )),
        "ERR_SCOPE_TOO_MANY"
    );
    let v2 =
        ClinicalScope::new(Context::User, ResourceSelector::Wildcard, Permissions::READ).unwrap();
    let many = (0..=MAX_QUERY_PARAMS)
        .map(|i| (format!("p{i}"), "v".to_string()))
        .collect();
    assert_eq!(
        v2.with_query(many).unwrap_err().code(),
        "ERR_SCOPE_TOO_MANY"
    );
}

#[test]
fn too_long() {
    // One scope: 1024 bytes pass, 1025 do not.
    let prefix = "user/Observation.rs?code=";
    let at = format!("{prefix}{}", "x".repeat(MAX_SCOPE_LEN - prefix.len()));
    assert_eq!(at.len(), MAX_SCOPE_LEN);
    assert_eq!(ScopeSet::parse(&at).unwrap().to_string(), at);
    let past = format!("{at}x");
    assert_eq!(code(&past), "ERR_SCOPE_TOO_LONG");
    let opaque = "y".repeat(MAX_SCOPE_LEN + 1);
    assert_eq!(code(&opaque), "ERR_SCOPE_TOO_LONG");
    // The whole string: 16 KiB pass (spaces count), one byte more does not, in both modes.
    let whole = format!("openid{}", " ".repeat(MAX_SCOPES_LEN - "openid".len()));
    assert_eq!(whole.len(), MAX_SCOPES_LEN);
    assert_eq!(ScopeSet::parse(&whole).unwrap().to_string(), "openid");
    let longer = format!("{whole} ");
    assert_eq!(
        ScopeSet::parse(&longer).unwrap_err().code(),
        "ERR_SCOPE_TOO_LONG"
    );
    assert_eq!(
        ScopeSet::parse_lenient(&longer).unwrap_err().code(),
        "ERR_SCOPE_TOO_LONG"
    );
    // A set built by hand that would render longer than 16 KiB.
    let big = (0..17).map(|i| Scope::Other(format!("{i:02}{}", "z".repeat(1000))));
    assert_eq!(
        ScopeSet::from_scopes(big).unwrap_err().code(),
        "ERR_SCOPE_TOO_LONG"
    );
}

#[test]
fn hand_built_scopes_must_round_trip() {
    for bad in [
        Scope::Other("a b".into()),
        Scope::Other("openid".into()),
        Scope::Other(String::new()),
        Scope::LaunchOther("patient".into()),
        Scope::Other("patient/Observation.rs".into()),
    ] {
        assert_eq!(
            ScopeSet::from_scopes([bad.clone()]).unwrap_err().code(),
            "ERR_SCOPE_MALFORMED",
            "{bad:?}"
        );
    }
}

#[test]
fn every_code_is_distinct_and_prefixed() {
    let all = [
        ScopeError::Malformed,
        ScopeError::ContextUnknown,
        ScopeError::ResourceUnknown,
        ScopeError::PermissionsInvalid,
        ScopeError::QueryInvalid,
        ScopeError::InteractionUnknown,
        ScopeError::TooMany,
        ScopeError::TooLong,
    ];
    let mut codes: Vec<_> = all.iter().map(|e| e.code()).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), all.len());
    for e in all {
        assert!(e.code().starts_with("ERR_SCOPE_"));
        assert!(!e.to_string().is_empty());
        let wrapped: smartgate_core::Error = e.into();
        assert_eq!(wrapped.code(), e.code());
        assert_eq!(wrapped.to_string(), e.to_string());
    }
}
