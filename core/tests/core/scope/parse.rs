//! Parsing and rendering: the kinds of scope, v1 kept as v1, `to_v2`, query decoding.

use smartgate_core::scope::{
    ClinicalScope, Context, Permissions, ResourceSelector, ResourceType, Scope, ScopeSet, Syntax,
};

const LAB_SCOPE: &str = "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory";

#[test]
fn every_kind_of_scope() {
    let s = "launch launch/patient launch/encounter launch/imagingstudy openid fhirUser profile offline_access \
             online_access __darkMode patient/*.read user/Observation.rs system/Encounter.cud";
    let set = ScopeSet::parse(s).unwrap();
    let clinical = |c, r, p: Permissions, syntax| {
        let scope = match syntax {
            Syntax::V1 => ClinicalScope::v1(c, r, p),
            Syntax::V2 => ClinicalScope::new(c, r, p),
        };
        Scope::Clinical(scope.unwrap())
    };
    assert_eq!(
        set.scopes(),
        [
            Scope::Launch,
            Scope::LaunchPatient,
            Scope::LaunchEncounter,
            Scope::LaunchOther("imagingstudy".into()),
            Scope::OpenId,
            Scope::FhirUser,
            Scope::Profile,
            Scope::OfflineAccess,
            Scope::OnlineAccess,
            Scope::Other("__darkMode".into()),
            clinical(
                Context::Patient,
                ResourceSelector::Wildcard,
                Permissions::V1_READ,
                Syntax::V1
            ),
            clinical(
                Context::User,
                ResourceSelector::Type(ResourceType::Observation),
                Permissions::READ.union(Permissions::SEARCH),
                Syntax::V2
            ),
            clinical(
                Context::System,
                ResourceSelector::Type(ResourceType::Encounter),
                Permissions::V1_WRITE,
                Syntax::V2
            ),
        ]
    );
    assert_eq!(
        set.to_string(),
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    );
}

#[test]
fn v1_scopes_keep_their_spelling_and_map_to_v2() {
    let set =
        ScopeSet::parse("patient/Observation.read user/*.write system/*.* patient/Patient.rs")
            .unwrap();
    assert_eq!(
        set.to_string(),
        "patient/Observation.read user/*.write system/*.* patient/Patient.rs"
    );
    assert_eq!(
        set.to_v2(),
        "patient/Observation.rs user/*.cud system/*.cruds patient/Patient.rs"
    );
    let perms: Vec<String> = set
        .iter()
        .filter_map(Scope::as_clinical)
        .map(|c| c.permissions().to_string())
        .collect();
    assert_eq!(perms, ["rs", "cud", "cruds", "rs"]);
    // Two spellings of one scope are two scopes, but one v2 scope.
    let both = ScopeSet::parse("patient/Observation.read patient/Observation.rs").unwrap();
    assert_eq!(both.len(), 2);
    assert_eq!(both.to_v2(), "patient/Observation.rs");
}

#[test]
fn spec_query_example_renders_verbatim() {
    let set = ScopeSet::parse(LAB_SCOPE).unwrap();
    let c = set.scopes()[0].as_clinical().unwrap();
    assert_eq!(
        c.query(),
        [(
            "category".to_string(),
            "http://terminology.hl7.org/CodeSystem/observation-category|laboratory".to_string()
        )]
    );
    assert_eq!(set.to_string(), LAB_SCOPE);
    assert_eq!(set.to_v2(), LAB_SCOPE);
}

#[test]
fn query_is_percent_decoded_and_rendered_canonically() {
    let set = ScopeSet::parse(
        "user/Observation.rs?code%3Ain=a%26b%3dc&date=ge2020-01-01T00:00:00+01:00&x=%E2%9C%93",
    )
    .unwrap();
    let c = set.scopes()[0].as_clinical().unwrap();
    assert_eq!(
        c.query(),
        [
            ("code:in".to_string(), "a&b=c".to_string()),
            // '+' is a literal plus sign (RFC 3986), not a space.
            (
                "date".to_string(),
                "ge2020-01-01T00:00:00+01:00".to_string()
            ),
            ("x".to_string(), "\u{2713}".to_string()),
        ]
    );
    // Only what must be escaped is: '&' and '%' always, '=' in names, and non-token bytes.
    assert_eq!(
        set.to_string(),
        "user/Observation.rs?code:in=a%26b=c&date=ge2020-01-01T00:00:00+01:00&x=%E2%9C%93"
    );
    assert_eq!(ScopeSet::parse(&set.to_string()).unwrap(), set);
    let odd = ClinicalScope::new(Context::User, ResourceSelector::Wildcard, Permissions::READ)
        .unwrap()
        .with_query(vec![("a=b".into(), "sp ace\"\\%".into())])
        .unwrap();
    assert_eq!(odd.to_string(), "user/*.r?a%3Db=sp%20ace%22%5C%25");
    assert_eq!(
        Scope::parse(&odd.to_string()).unwrap(),
        Scope::Clinical(odd)
    );
}

#[test]
fn spaces_and_repeats() {
    let set = ScopeSet::parse("  openid   fhirUser openid  ").unwrap();
    assert_eq!(set.to_string(), "openid fhirUser");
    assert!(ScopeSet::parse("").unwrap().is_empty());
    assert!(ScopeSet::parse("   ").unwrap().is_empty());
    assert!(set.contains(&Scope::FhirUser));
    assert!(!set.contains(&Scope::Launch));
}

#[test]
fn lenient_keeps_good_scopes_and_reports_the_rest() {
    let parsed =
        ScopeSet::parse_lenient("openid patient/Observation.foo launch bogus/Observation.rs patient/Observation.foo user/*.rs")
            .unwrap();
    assert_eq!(parsed.scopes.to_string(), "openid launch user/*.rs");
    let dropped: Vec<(&str, &str)> = parsed
        .dropped
        .iter()
        .map(|d| (d.scope.as_str(), d.error.code()))
        .collect();
    assert_eq!(
        dropped,
        [
            ("patient/Observation.foo", "ERR_SCOPE_PERMISSIONS_INVALID"),
            ("bogus/Observation.rs", "ERR_SCOPE_CONTEXT_UNKNOWN")
        ]
    );
    assert_eq!(
        ScopeSet::parse("openid patient/Observation.foo")
            .unwrap_err()
            .code(),
        "ERR_SCOPE_PERMISSIONS_INVALID"
    );
}

#[test]
fn wildcard_and_every_r4_type_parse() {
    for t in ResourceType::ALL {
        let s = format!("user/{}.cruds", t.name());
        let set = ScopeSet::parse(&s).unwrap();
        assert_eq!(
            set.scopes()[0].as_clinical().unwrap().resource(),
            ResourceSelector::Type(t)
        );
        assert_eq!(set.to_string(), s);
    }
}
