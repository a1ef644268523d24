//! The script's log of state changes, and the class of every request against it.

use std::path::Path;

use crate::{Outcome, Sample};

/// A state change from the script's log.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub(crate) kind: String,
    pub(crate) start_ms: u64,
    pub(crate) end_ms: u64,
}

pub(crate) fn read_events(path: &Path) -> Result<Vec<Event>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut events = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.split_whitespace();
        let (Some(kind), Some(start), Some(end)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("bad event line: {line}"));
        };
        let start_ms = start
            .parse()
            .map_err(|_| format!("bad event line: {line}"))?;
        let end_ms = end.parse().map_err(|_| format!("bad event line: {line}"))?;
        events.push(Event {
            kind: kind.to_string(),
            start_ms,
            end_ms,
        });
    }
    Ok(events)
}

/// The class of a sample, as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Class {
    Ok,
    /// A refused token after a reset or restart.
    ExpectedRefusal,
    /// A refused token after two key rotations (the server keeps one previous key).
    ExpectedRotated,
    /// A transport error while the server was being restarted.
    ExpectedDown,
    Unexpected4xx,
    Unexpected5xx,
    UnexpectedTransport,
}

impl Class {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::ExpectedRefusal => "expected: token/grant from before a reset or restart",
            Self::ExpectedRotated => "expected: token signed 2 key rotations ago",
            Self::ExpectedDown => "expected: server down (restart)",
            Self::Unexpected4xx => "UNEXPECTED answer (4xx or a wrong 2xx/3xx)",
            Self::Unexpected5xx => "UNEXPECTED 5xx",
            Self::UnexpectedTransport => "UNEXPECTED transport error (server up)",
        }
    }
}

pub(crate) fn classify(s: &Sample, events: &[Event]) -> Class {
    let end_ms = s.start_ms + s.latency_us / 1000 + 1;
    let overlapping = |from: u64, to: u64, kinds: &[&str]| {
        events
            .iter()
            .filter(|e| kinds.contains(&e.kind.as_str()) && e.end_ms >= from && e.start_ms <= to)
            .count()
    };
    let overlaps = |from: u64, to: u64, kinds: &[&str]| overlapping(from, to, kinds) > 0;
    match &s.outcome {
        Outcome::Ok => Class::Ok,
        Outcome::Refused(..) if overlaps(s.issued_ms, end_ms, &["reset", "restart"]) => {
            Class::ExpectedRefusal
        }
        // An access token's key leaves the JWKS at the second rotation after it was
        // signed; refresh tokens and codes are not signed, rotation never ends them.
        Outcome::Refused(401, _) if overlapping(s.issued_ms, end_ms, &["rotate"]) >= 2 => {
            Class::ExpectedRotated
        }
        Outcome::Refused(..) => Class::Unexpected4xx,
        Outcome::Status(status, _) if *status >= 500 => Class::Unexpected5xx,
        Outcome::Status(..) => Class::Unexpected4xx,
        Outcome::Transport(_) if overlaps(s.start_ms, end_ms, &["restart"]) => Class::ExpectedDown,
        Outcome::Transport(_) => Class::UnexpectedTransport,
    }
}

pub(crate) fn outcome_label(o: &Outcome) -> String {
    match o {
        Outcome::Ok => "ok".into(),
        Outcome::Refused(status, code) | Outcome::Status(status, code) => {
            format!("{status} {code}")
        }
        Outcome::Transport(why) => (*why).to_string(),
    }
}
