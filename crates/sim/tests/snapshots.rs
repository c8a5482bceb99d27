//! Snapshots of the reference scenarios (DESIGN.md: event logs of test runs
//! kept as snapshots, so that a behaviour change shows up in review): the
//! packet ladder and the events of each scenario with seed 1 are compared
//! with `tests/snapshots/*.txt`. After an intended change, re-record them
//! with `MSCTP_UPDATE_SNAPSHOTS=1 cargo test -p msctp-sim --test snapshots`
//! and review the diff.

use std::fmt::Write as _;
use std::path::PathBuf;

use msctp_sim::scenario::{self, Failure, ScenarioRun};

fn render(run: &ScenarioRun) -> String {
    let mut s = run.ladder_text();
    s.push_str("\n-- events --\n");
    for e in &run.events {
        let _ = writeln!(s, "{e:?}");
    }
    let _ = writeln!(s, "\n-- milestones --\n{:#?}", run.milestones);
    s
}

fn check(name: &str, run: &ScenarioRun) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.txt"));
    let text = render(run);
    if std::env::var_os("MSCTP_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; record it with MSCTP_UPDATE_SNAPSHOTS=1 cargo test -p msctp-sim --test snapshots",
            path.display()
        )
    });
    if expected != text {
        let first = expected
            .lines()
            .zip(text.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(text.lines().count()));
        panic!(
            "{name}: the run differs from {} from line {}:\n  expected: {:?}\n  now:      {:?}\n\
             If the change is intended, re-record with MSCTP_UPDATE_SNAPSHOTS=1 and review the diff.",
            path.display(),
            first + 1,
            expected.lines().nth(first),
            text.lines().nth(first)
        );
    }
}

/// The reference text's normal operation (RFC 9260 §5.1, §5.4, §6.4, §8.3, §9.2).
#[test]
fn normal_operation_snapshot() {
    check("normal", &scenario::normal(1));
}

/// The reference text's primary path switching with ICMP (REJECT) and with
/// a silent DROP (RFC 9260 §6.4.1, §8.2, RFC 7829).
#[test]
fn failover_snapshots() {
    check("failover-reject", &scenario::failover(1, Failure::Reject));
    check("failover-drop", &scenario::failover(1, Failure::Drop));
}
