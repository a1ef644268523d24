//! The report: per stream and operation, every failure label, the recovery after
//! each restart.

use std::collections::BTreeMap;

use crate::classify::{Class, Event, classify, outcome_label};
use crate::{Outcome, Sample};

/// The `p`th percentile (nearest rank) of sorted values.
pub(crate) fn percentile(sorted: &[u64], p: u64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let n = sorted.len() as u64;
    let rank = (p * n).div_ceil(100).max(1);
    sorted
        .get(usize::try_from(rank - 1).unwrap_or(0))
        .copied()
        .unwrap_or(0)
}

pub(crate) fn ms(us: u64) -> String {
    format!("{:.1}", us as f64 / 1000.0)
}

/// Prints the report; true when nothing unexpected happened and every stream recovered.
pub(crate) fn report(samples: &[Sample], events: &[Event], secs: f64, conns: usize) -> bool {
    let classes: Vec<Class> = samples.iter().map(|s| classify(s, events)).collect();
    let count = |k: &str| events.iter().filter(|e| e.kind == k).count();
    println!(
        "load: 4 streams x {conns} connections, {secs:.1} s; state changes: {} key rotations, \
         {} resets, {} restarts{}",
        count("rotate"),
        count("reset"),
        count("restart"),
        {
            let failed = events
                .iter()
                .filter(|e| e.kind.ends_with("-failed"))
                .count();
            if failed > 0 {
                format!(", {failed} FAILED admin calls")
            } else {
                String::new()
            }
        }
    );
    println!();
    println!(
        "{:<8} {:<9} {:>8} {:>8} {:>7} {:>7} {:>6} {:>6} {:>6} {:>6} {:>8} {:>8} {:>8} {:>8}",
        "stream",
        "op",
        "requests",
        "ok",
        "ok/s",
        "exp4xx",
        "down",
        "unx4xx",
        "5xx",
        "unxnet",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms"
    );
    let mut keys: Vec<(&str, &str)> = samples.iter().map(|s| (s.stream, s.op)).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut total = [0usize; 7];
    let mut all_latency: Vec<u64> = Vec::with_capacity(samples.len());
    for (stream, op) in keys {
        let mut n = [0usize; 7];
        let mut latency = Vec::new();
        for (s, c) in samples.iter().zip(&classes) {
            if s.stream != stream || s.op != op {
                continue;
            }
            n[0] += 1;
            let slot = match c {
                Class::Ok => 1,
                Class::ExpectedRefusal | Class::ExpectedRotated => 2,
                Class::ExpectedDown => 3,
                Class::Unexpected4xx => 4,
                Class::Unexpected5xx => 5,
                Class::UnexpectedTransport => 6,
            };
            if let Some(v) = n.get_mut(slot) {
                *v += 1;
            }
            if !matches!(s.outcome, Outcome::Transport(_)) {
                latency.push(s.latency_us);
            }
        }
        latency.sort_unstable();
        all_latency.extend_from_slice(&latency);
        for (t, v) in total.iter_mut().zip(n) {
            *t += v;
        }
        println!(
            "{:<8} {:<9} {:>8} {:>8} {:>7.0} {:>7} {:>6} {:>6} {:>6} {:>6} {:>8} {:>8} {:>8} {:>8}",
            stream,
            op,
            n[0],
            n[1],
            n[1] as f64 / secs,
            n[2],
            n[3],
            n[4],
            n[5],
            n[6],
            ms(percentile(&latency, 50)),
            ms(percentile(&latency, 90)),
            ms(percentile(&latency, 99)),
            ms(latency.last().copied().unwrap_or(0)),
        );
    }
    all_latency.sort_unstable();
    println!(
        "{:<8} {:<9} {:>8} {:>8} {:>7.0} {:>7} {:>6} {:>6} {:>6} {:>6} {:>8} {:>8} {:>8} {:>8}",
        "all",
        "",
        total[0],
        total[1],
        total[1] as f64 / secs,
        total[2],
        total[3],
        total[4],
        total[5],
        total[6],
        ms(percentile(&all_latency, 50)),
        ms(percentile(&all_latency, 90)),
        ms(percentile(&all_latency, 99)),
        ms(all_latency.last().copied().unwrap_or(0)),
    );
    println!(
        "requests = sent; ok = the expected answer; exp4xx = a token or grant issued before a \
         reset/restart, refused; down = transport errors while the server was restarting; \
         unx4xx, 5xx, unxnet = unexpected 4xx, any 5xx, transport errors while the server was \
         up; latencies are of answered requests, connect included"
    );

    // Every failure label, by stream and class.
    let mut failures: BTreeMap<(Class, &str, &str, String), usize> = BTreeMap::new();
    for (s, c) in samples.iter().zip(&classes) {
        if *c != Class::Ok {
            *failures
                .entry((*c, s.stream, s.op, outcome_label(&s.outcome)))
                .or_default() += 1;
        }
    }
    println!();
    println!("failures by stream, operation and answer:");
    if failures.is_empty() {
        println!("  none");
    }
    for ((class, stream, op, label), n) in &failures {
        println!(
            "  {:<8} {:<9} {:<38} {:>6}  {}",
            stream,
            op,
            label,
            n,
            class.label()
        );
    }

    // The first unexpected failures, with the state changes around them.
    let t0 = samples.iter().map(|s| s.start_ms).min().unwrap_or(0);
    let rel = |t: u64| t.saturating_sub(t0) as f64 / 1000.0;
    let unexpected_samples: Vec<&Sample> = samples
        .iter()
        .zip(&classes)
        .filter(|(_, c)| {
            matches!(
                c,
                Class::Unexpected4xx | Class::Unexpected5xx | Class::UnexpectedTransport
            )
        })
        .map(|(s, _)| s)
        .collect();
    if !unexpected_samples.is_empty() {
        println!();
        println!("first unexpected failures (s from the start of the load):");
    }
    for s in unexpected_samples.iter().take(10) {
        let from = if s.issued_ms > 0 {
            s.issued_ms
        } else {
            s.start_ms
        };
        let around: Vec<String> = events
            .iter()
            .filter(|e| e.end_ms + 10_000 >= from && e.start_ms <= s.start_ms + 1_000)
            .map(|e| format!("{}@{:.3}-{:.3}", e.kind, rel(e.start_ms), rel(e.end_ms)))
            .collect();
        println!(
            "  {:.3} {} {} {} (token/grant asked for at {:.3}); state changes near: {}",
            rel(s.start_ms),
            s.stream,
            s.op,
            outcome_label(&s.outcome),
            rel(from),
            if around.is_empty() {
                "none".to_string()
            } else {
                around.join(" ")
            }
        );
    }

    // Recovery after each restart: the first success of every stream after the new
    // server answered.
    let mut recovered = true;
    for e in events.iter().filter(|e| e.kind == "restart") {
        println!();
        println!(
            "restart: SIGTERM to first answer of the new server {} ms",
            e.end_ms.saturating_sub(e.start_ms)
        );
        for stream in ["cc", "refresh", "bearer", "dpop"] {
            let during = samples
                .iter()
                .filter(|s| {
                    s.stream == stream
                        && matches!(s.outcome, Outcome::Transport(_))
                        && s.start_ms <= e.end_ms
                        && s.start_ms + s.latency_us / 1000 + 1 >= e.start_ms
                })
                .count();
            let refused_after = samples
                .iter()
                .filter(|s| {
                    s.stream == stream
                        && matches!(s.outcome, Outcome::Refused(..))
                        && s.start_ms >= e.start_ms
                        && s.start_ms <= e.end_ms + 5_000
                })
                .count();
            // The stream's own work, not just a new token.
            let main_op = |op: &str| match stream {
                "cc" => op == "cc",
                "refresh" => op == "refresh",
                _ => op == "read" || op == "search",
            };
            let first_ok = samples
                .iter()
                .filter(|s| {
                    s.stream == stream
                        && main_op(s.op)
                        && s.outcome == Outcome::Ok
                        && s.start_ms >= e.end_ms
                })
                .map(|s| s.start_ms + s.latency_us / 1000)
                .min();
            match first_ok {
                Some(t) => println!(
                    "  {stream:<8} {during:>4} transport errors while down, {refused_after:>3} \
                     refused tokens/grants in the next 5 s, first success of its own \
                     requests {} ms after the server was back",
                    t.saturating_sub(e.end_ms)
                ),
                None => {
                    recovered = false;
                    println!("  {stream:<8} NOT RECOVERED: no success after the restart");
                }
            }
        }
    }
    let unexpected = classes
        .iter()
        .filter(|c| {
            matches!(
                c,
                Class::Unexpected4xx | Class::Unexpected5xx | Class::UnexpectedTransport
            )
        })
        .count();
    let failed_admin = events.iter().any(|e| e.kind.ends_with("-failed"));
    println!();
    println!(
        "driver verdict: {} ({unexpected} unexpected failures{}{})",
        if unexpected == 0 && recovered && !failed_admin {
            "PASS"
        } else {
            "FAIL"
        },
        if recovered {
            ""
        } else {
            ", a stream did not recover"
        },
        if failed_admin {
            ", an admin call failed"
        } else {
            ""
        }
    );
    unexpected == 0 && recovered && !failed_admin
}
