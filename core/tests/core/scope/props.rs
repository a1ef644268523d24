//! Property tests: rendering round trips, `permits` is monotonic, narrowing never grants
//! more than either side, and the parser answers every input with a set or a code.

use proptest::prelude::*;
use smartgate_core::scope::{
    ClinicalScope, Constraint, Context, Grant, Interaction, Permissions, Request, ResourceSelector,
    ResourceType, Scope, ScopeSet,
};

/// A few types, so that generated scopes and requests overlap often: in the compartment
/// with several links, with one, the Patient itself, and outside it.
const TYPES: [ResourceType; 6] = [
    ResourceType::Observation,
    ResourceType::Condition,
    ResourceType::Encounter,
    ResourceType::Patient,
    ResourceType::Practitioner,
    ResourceType::Medication,
];
/// A small pool of query parameters, so that requests carry them often.
const PAIRS: [(&str, &str); 4] = [
    ("category", "lab"),
    ("category", "vital"),
    ("code", "x"),
    ("code:in", "a&b=c %"),
];

fn context() -> impl Strategy<Value = Context> {
    prop::sample::select(Context::ALL.to_vec())
}

fn resource() -> impl Strategy<Value = ResourceSelector> {
    prop_oneof![
        1 => Just(ResourceSelector::Wildcard),
        4 => prop::sample::select(TYPES.to_vec()).prop_map(ResourceSelector::Type),
        1 => prop::sample::select(ResourceType::ALL.to_vec()).prop_map(ResourceSelector::Type),
    ]
}

fn permissions() -> impl Strategy<Value = Permissions> {
    (1u8..32).prop_map(|bits| {
        let letters = [
            Permissions::CREATE,
            Permissions::READ,
            Permissions::UPDATE,
            Permissions::DELETE,
            Permissions::SEARCH,
        ];
        letters
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .fold(Permissions::NONE, |p, (_, l)| p.union(*l))
    })
}

fn pool_query() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(prop::sample::select(PAIRS.to_vec()), 0..3).prop_map(|v| {
        v.into_iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    })
}

/// Names and values full of characters that need escaping.
fn wild_query() -> impl Strategy<Value = Vec<(String, String)>> {
    let text = "[a-z&=%?+ :|/#\"\\\\\u{e9}\u{2713}]{1,6}";
    prop::collection::vec((text, text), 0..4)
}

fn clinical_with(
    query: impl Strategy<Value = Vec<(String, String)>>,
) -> impl Strategy<Value = ClinicalScope> {
    (context(), resource(), permissions(), any::<bool>(), query).prop_map(|(c, r, p, v1, q)| {
        if let (true, true, Ok(s)) = (v1, q.is_empty(), ClinicalScope::v1(c, r, p)) {
            return s;
        }
        ClinicalScope::new(c, r, p).unwrap().with_query(q).unwrap()
    })
}

fn clinical() -> impl Strategy<Value = ClinicalScope> {
    clinical_with(pool_query())
}

fn any_scope() -> impl Strategy<Value = Scope> {
    prop_oneof![
        6 => clinical_with(prop_oneof![pool_query(), wild_query()]).prop_map(Scope::Clinical),
        1 => prop::sample::select(vec![
            Scope::Launch, Scope::LaunchPatient, Scope::LaunchEncounter, Scope::OpenId, Scope::FhirUser,
            Scope::Profile, Scope::OfflineAccess, Scope::OnlineAccess,
        ]),
        1 => "[a-z]{1,8}(\\?role=https://example\\.org/[a-z]{1,5})?"
            .prop_filter("not a named launch scope", |s| s != "patient" && s != "encounter")
            .prop_map(Scope::LaunchOther),
        1 => "(__[a-zA-Z.]{1,8}|https://ehr\\.example\\.org/scopes/[a-z.]{1,8})".prop_map(Scope::Other),
    ]
}

fn set_of(scopes: Vec<ClinicalScope>) -> ScopeSet {
    ScopeSet::from_scopes(scopes.into_iter().map(Scope::Clinical)).unwrap()
}

fn request() -> impl Strategy<
    Value = (
        Option<Context>,
        ResourceType,
        Interaction,
        Vec<(&'static str, &'static str)>,
    ),
> {
    (
        prop::option::of(context()),
        prop::sample::select(TYPES.to_vec()),
        prop::sample::select(Interaction::ALL.to_vec()),
        prop::sample::subsequence(PAIRS.to_vec(), 0..=PAIRS.len()),
    )
}

fn build<'a>(
    (context, t, i, params): &'a (
        Option<Context>,
        ResourceType,
        Interaction,
        Vec<(&'static str, &'static str)>,
    ),
) -> Request<'a> {
    let r = Request::new(*t, *i).with_params(params);
    match context {
        Some(c) => r.in_context(*c),
        None => r,
    }
}

/// Whether everything `small` allows, `big` allows: unrestricted, or each alternative of
/// `small` implied by some alternative of `big`.
fn grant_within(small: &Grant<'_>, big: &Grant<'_>) -> bool {
    let implies = |b: &Constraint<'_>, a: &Constraint<'_>| {
        (b.patient_compartment().is_none() || a.patient_compartment().is_some())
            && b.query().iter().all(|p| a.query().contains(p))
    };
    if big.is_unrestricted() {
        return true;
    }
    !small.is_unrestricted()
        && small
            .constraints()
            .iter()
            .all(|a| big.constraints().iter().any(|b| implies(b, a)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// parse(render(s)) == s, for v1, v2, queries with odd characters, launch and opaque
    /// scopes; the lenient parser agrees and drops nothing; `to_v2` keeps every decision.
    #[test]
    fn render_then_parse_is_identity(scopes in prop::collection::vec(any_scope(), 0..12), req in request()) {
        let set = ScopeSet::from_scopes(scopes).unwrap();
        let text = set.to_string();
        prop_assert_eq!(&ScopeSet::parse(&text).unwrap(), &set);
        let lenient = ScopeSet::parse_lenient(&text).unwrap();
        prop_assert!(lenient.dropped.is_empty());
        prop_assert_eq!(&lenient.scopes, &set);
        let v2 = ScopeSet::parse(&set.to_v2()).unwrap();
        let r = build(&req);
        prop_assert_eq!(v2.authorize(&r), set.authorize(&r));
    }

    /// Adding a scope never removes a permission, nor narrows what a grant allows; and
    /// `permits` is exactly whether `authorize` grants.
    #[test]
    fn permits_is_monotonic(base in prop::collection::vec(clinical(), 0..8), extra in clinical(), req in request()) {
        let small = set_of(base.clone());
        let mut more = base;
        more.push(extra);
        let big = set_of(more);
        let r = build(&req);
        prop_assert_eq!(small.permits(&r), small.authorize(&r).is_ok());
        prop_assert_eq!(big.permits(&r), big.authorize(&r).is_ok());
        if let Ok(g) = small.authorize(&r) {
            prop_assert!(big.permits(&r));
            let g2 = big.authorize(&r).unwrap();
            prop_assert!(grant_within(&g, &g2), "{:?} then {:?}", g, g2);
        }
    }

    /// Without a context, a request is granted at least as widely as in any one context.
    #[test]
    fn no_context_is_the_union_of_contexts(scopes in prop::collection::vec(clinical(), 0..8), req in request()) {
        let set = set_of(scopes);
        let free_req = (None, req.1, req.2, req.3.clone());
        let free = build(&free_req);
        for c in Context::ALL {
            let ctx = (Some(c), req.1, req.2, req.3.clone());
            if let Ok(g) = set.authorize(&build(&ctx)) {
                let any = set.authorize(&free);
                prop_assert!(any.is_ok());
                prop_assert!(grant_within(&g, &any.unwrap()));
            }
        }
    }

    /// What `narrow` grants is permitted by the request and by the allowance; a set
    /// narrowed by itself, or by everything, is unchanged.
    #[test]
    fn narrow_never_grants_more(
        requested in prop::collection::vec(clinical(), 0..6),
        allowed in prop::collection::vec(clinical(), 0..6),
        req in request(),
    ) {
        let requested = set_of(requested);
        let allowed = set_of(allowed);
        let n = requested.narrow(&allowed);
        prop_assert_eq!(&ScopeSet::parse(&n.granted.to_string()).unwrap(), &n.granted);
        let r = build(&req);
        if n.granted.permits(&r) {
            prop_assert!(requested.permits(&r));
            prop_assert!(allowed.permits(&r));
        }
        let same = requested.narrow(&requested);
        prop_assert_eq!(&same.granted, &requested);
        prop_assert!(same.narrowed.is_empty() && same.dropped.is_empty());
        let everything = ScopeSet::parse("patient/*.cruds user/*.cruds system/*.cruds").unwrap();
        prop_assert_eq!(&requested.narrow(&everything).granted, &requested);
    }

    /// Any string gets a set or a coded error, never a panic; whatever parses renders to
    /// a string that parses back to the same set.
    #[test]
    fn any_input_gives_a_set_or_a_code(
        s in prop_oneof![
            any::<String>(),
            "[a-zA-Z/*.?=&%0-9 |:_\"\\\\\t]{0,300}",
            "((patient|user|system|bogus|launch)/(Observation|Patient|\\*|Foo|)\\.(rs|read|\\*|sr|cruds|)(\\?[a-z=&%0-9]{0,12})? ?){0,8}",
        ]
    ) {
        match ScopeSet::parse(&s) {
            Ok(set) => prop_assert_eq!(ScopeSet::parse(&set.to_string()).unwrap(), set),
            Err(e) => prop_assert!(e.code().starts_with("ERR_SCOPE_"), "{}", e.code()),
        }
        let lenient = ScopeSet::parse_lenient(&s).unwrap();
        for d in &lenient.dropped {
            prop_assert!(d.error.code().starts_with("ERR_SCOPE_"));
        }
        prop_assert_eq!(ScopeSet::parse(&lenient.scopes.to_string()).unwrap(), lenient.scopes);
    }
}
