//! The `scope` target.

use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;
use core::iter;

use super::{must, seed};
use crate::error::Error;
use crate::scope::{
    Context, Denied, Enforcement, Interaction, Request, ResourceSelector, ResourceType, Scope,
    ScopeSet,
};

/// Scope strings. Strict and lenient parsing agree; a parsed set renders (`Display`)
/// to a string that parses to an equal set, and `to_v2` to one that parses, renders the
/// same again and grants the same; each scope renders to itself. Evaluation:
/// `permits == authorize().is_ok()`, grants and denials are well-formed, any scope a
/// denial suggests grants the request; narrowing a set by itself gives itself. When the
/// input holds a line break, the two sides are narrowed: the result renders and parses
/// back, and never permits what either side does not.
pub fn scope(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let strict = ScopeSet::parse(text);
    let lenient = ScopeSet::parse_lenient(text);
    match (&strict, &lenient) {
        (Ok(s), Ok(l)) => {
            assert_eq!(s, &l.scopes);
            assert!(l.dropped.is_empty());
        }
        (Err(e), Ok(l)) => {
            let first = l.dropped.first().map(|d| Error::from(d.error));
            assert_eq!(
                first.as_ref(),
                Some(e),
                "strict error is not the first dropped"
            );
        }
        (Err(e), Err(l)) => {
            assert_eq!(e, l);
            assert!(matches!(
                e.code(),
                "ERR_SCOPE_TOO_LONG" | "ERR_SCOPE_TOO_MANY"
            ));
        }
        (Ok(_), Err(e)) => panic!("lenient parsing refused a strict set: {}", e.code()),
    }
    let Ok(parsed) = lenient else {
        return;
    };
    let set = parsed.scopes;
    let v2 = check_scope_rendering(&set);
    check_evaluation(&set, &v2, seed(data));
    let itself = set.narrow(&set);
    assert_eq!(itself.granted, set, "narrowing a set by itself changed it");
    assert!(itself.narrowed.is_empty() && itself.dropped.is_empty());

    if let Some((a, b)) = text.split_once('\n')
        && let (Ok(a), Ok(b)) = (ScopeSet::parse_lenient(a), ScopeSet::parse_lenient(b))
    {
        check_narrow(&a.scopes, &b.scopes);
    }
}

/// Round trips of a set's renderings; returns its `to_v2` set.
fn check_scope_rendering(set: &ScopeSet) -> ScopeSet {
    let rendered = set.to_string();
    assert_eq!(&must(ScopeSet::parse(&rendered), "rendered set"), set);
    for scope in set {
        assert_eq!(
            &must(Scope::parse(&scope.to_string()), "rendered scope"),
            scope
        );
        let v2 = must(Scope::parse(&scope.to_v2_string()), "v2 scope");
        assert_eq!(
            v2.as_clinical().map(|c| c.to_v2()),
            scope.as_clinical().map(|c| c.to_v2())
        );
    }
    let v2_text = set.to_v2();
    let v2 = must(ScopeSet::parse(&v2_text), "to_v2 set");
    assert_eq!(v2.to_v2(), v2_text);
    assert_eq!(v2.to_string(), v2_text);
    v2
}

/// The resource types to evaluate requests on: a few fixed ones (in the Patient
/// compartment, the Patient itself, outside it) and those the sets name.
fn request_types<'a>(sets: impl IntoIterator<Item = &'a ScopeSet>) -> Vec<ResourceType> {
    let mut types = vec![
        ResourceType::Observation,
        ResourceType::Patient,
        ResourceType::Practitioner,
    ];
    for set in sets {
        for scope in set {
            if let Some(c) = scope.as_clinical()
                && let ResourceSelector::Type(t) = c.resource()
                && !types.contains(&t)
                && types.len() < 8
            {
                types.push(t);
            }
        }
    }
    types
}

fn contexts() -> [Option<Context>; 4] {
    [
        None,
        Some(Context::Patient),
        Some(Context::User),
        Some(Context::System),
    ]
}

fn check_evaluation(set: &ScopeSet, v2: &ScopeSet, seed: u64) {
    // Every query pair the set names, as the parameters of search and export requests.
    let params: Vec<(&str, &str)> = set
        .iter()
        .filter_map(Scope::as_clinical)
        .flat_map(|c| c.query().iter().map(|(n, v)| (n.as_str(), v.as_str())))
        .take(32)
        .collect();
    let mut denials = Vec::new();
    for t in request_types([set]) {
        for interaction in Interaction::ALL {
            for context in contexts() {
                let mut request = Request::new(t, interaction);
                if let Some(c) = context {
                    request = request.in_context(c);
                }
                if interaction.enforcement() == Enforcement::Filter {
                    check_request(set, &request.with_params(&params), &mut denials);
                }
                check_request(set, &request, &mut denials);
                assert_eq!(
                    v2.permits(&request),
                    set.permits(&request),
                    "to_v2 changed a grant"
                );
            }
        }
    }
    // Any scope a denial suggests grants the request; checked on two denials the input
    // picks (each check re-parses the set).
    for k in [seed, seed >> 32] {
        let Some((request, denied)) = usize::try_from(k)
            .ok()
            .and_then(|k| denials.get(k.checked_rem(denials.len())?))
        else {
            break;
        };
        for suggested in denied.required_scopes() {
            let scope = must(Scope::parse(&suggested), "suggested scope");
            let wider = ScopeSet::from_scopes(set.iter().cloned().chain(iter::once(scope)));
            if let Ok(wider) = wider {
                assert!(
                    wider.permits(request),
                    "{suggested} does not grant the request"
                );
            }
        }
    }
}

fn check_request<'r>(
    set: &ScopeSet,
    request: &Request<'r>,
    denials: &mut Vec<(Request<'r>, Denied)>,
) {
    let permits = set.permits(request);
    match set.authorize(request) {
        Ok(grant) => {
            assert!(permits, "authorize granted what permits refused");
            assert_eq!(grant.enforcement(), request.interaction.enforcement());
            assert_eq!(grant.is_unrestricted(), grant.constraints().is_empty());
            for c in grant.constraints() {
                if let Some(pc) = c.patient_compartment() {
                    assert_eq!(pc.resource_type(), request.resource_type);
                    assert!(request.context.is_none_or(|ctx| ctx == Context::Patient));
                } else {
                    assert_ne!(request.context, Some(Context::Patient));
                }
                if grant.enforcement() == Enforcement::Filter {
                    assert!(c.query().iter().all(|p| !request.params.contains(p)));
                }
            }
        }
        Err(denied) => {
            assert!(!permits, "permits granted what authorize refused");
            let need = request.interaction.required();
            assert!(!denied.missing().is_empty() && need.contains(denied.missing()));
            assert_eq!(denied.interaction(), request.interaction);
            assert_eq!(denied.resource_type(), request.resource_type);
            assert_eq!(denied.context(), request.context);
            assert!(!denied.to_string().is_empty());
            denials.push((*request, denied));
        }
    }
}

fn check_narrow(requested: &ScopeSet, allowed: &ScopeSet) {
    let n = requested.narrow(allowed);
    let rendered = n.granted.to_string();
    assert_eq!(must(ScopeSet::parse(&rendered), "narrowed set"), n.granted);
    for scope in requested {
        let places = [
            n.granted.contains(scope),
            n.narrowed.contains(scope),
            n.dropped.contains(scope),
        ];
        assert!(places.iter().any(|p| *p), "{scope} lost by narrowing");
    }
    for t in request_types([requested, allowed]) {
        for interaction in Interaction::ALL {
            for context in contexts() {
                let mut request = Request::new(t, interaction);
                if let Some(c) = context {
                    request = request.in_context(c);
                }
                if n.granted.permits(&request) {
                    assert!(
                        requested.permits(&request),
                        "narrowing granted more than asked"
                    );
                    assert!(
                        allowed.permits(&request),
                        "narrowing granted more than allowed"
                    );
                }
            }
        }
    }
}
