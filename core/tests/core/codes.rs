//! The crate documentation lists every error code the source can return, and no
//! code twice: the docs cannot drift from the behaviour.

use std::collections::BTreeSet;

fn codes_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("\"ERR_") {
        let tail = &rest[i + 1..];
        let end = tail.find('"').unwrap();
        out.push(tail[..end].to_owned());
        rest = &tail[end..];
    }
    out
}

fn source_codes() -> BTreeSet<String> {
    let mut codes = BTreeSet::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut stack = vec![std::path::PathBuf::from(dir)];
    while let Some(p) = stack.pop() {
        for entry in std::fs::read_dir(&p).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                // Quoted codes outside comments (doc comments name codes in backticks).
                for line in std::fs::read_to_string(&path).unwrap().lines() {
                    if !line.trim_start().starts_with("//") {
                        codes.extend(codes_in(line));
                    }
                }
            }
        }
    }
    codes
}

#[test]
fn every_code_is_documented_once() {
    let readme = include_str!("../../README.md");
    let source = source_codes();
    assert!(source.len() >= 40, "found only {} codes", source.len());
    let table: Vec<String> = readme
        .lines()
        .filter(|l| l.starts_with("| `ERR_"))
        .map(|l| l.split('`').nth(1).unwrap().to_owned())
        .collect();
    let documented: BTreeSet<String> = table.iter().cloned().collect();
    assert_eq!(documented.len(), table.len(), "a code is listed twice");
    let undocumented: Vec<_> = source.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&source).collect();
    assert!(
        undocumented.is_empty(),
        "codes missing from README.md: {undocumented:?}"
    );
    assert!(
        stale.is_empty(),
        "README.md lists codes the source no longer has: {stale:?}"
    );
}
