//! `msctp demo`: runs the reference text's two multi-homing experiments
//! (normal operation, primary path switching) on the deterministic
//! simulator (`msctp_sim::scenario`) and tells what happened: a packet
//! ladder with the path events and a line explaining each phase, a per-path
//! summary, and files in `--out`: one combined pcap per scenario
//! (`normal.pcap`, `failover.pcap`) and `events.jsonl`.
//!
//! No root, no network: everything runs in virtual time, so the same seed
//! gives byte-identical output and files.
//!
//! | module | owns |
//! |---|---|
//! | `narrate` | the human ladder: phases, packets, events, link changes |
//! | `table` | the per-path summary table and the milestones |
//! | `jsonl` | the JSON lines of `events.jsonl` and `--json` |

mod jsonl;
mod narrate;
mod table;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use msctp_sim::scenario::{self, Failure, ScenarioRun};

/// Which scenarios to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Which {
    /// Normal operation: both links stay up.
    Normal,
    /// Primary path switching: link 1 fails at 2 s and comes back at 6 s.
    Failover,
    /// Both, normal first.
    All,
}

/// How link 1 fails in the failover scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailureArg {
    /// Packets are rejected with ICMP port unreachable (iptables REJECT, as
    /// in the reference text).
    Reject,
    /// Packets are dropped silently (iptables DROP): detection by timeout.
    Drop,
}

/// Arguments of `msctp demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario to run.
    #[arg(long, value_enum, default_value_t = Which::All)]
    scenario: Which,
    /// Folder for the captures (`normal.pcap`, `failover.pcap`) and
    /// `events.jsonl`; created if missing.
    #[arg(long, value_name = "DIR", default_value = "msctp-demo")]
    out: PathBuf,
    /// Print the JSON lines of events.jsonl on stdout instead of the story.
    #[arg(long)]
    json: bool,
    /// Simulator seed (verification tags, initial TSNs, heartbeat jitter);
    /// the same seed gives the same output, byte for byte.
    #[arg(long, value_name = "N", default_value_t = 1)]
    seed: u64,
    /// How link 1 fails in the failover scenario.
    #[arg(long, value_enum, default_value_t = FailureArg::Reject)]
    failure: FailureArg,
}

/// Formats a virtual time as seconds with microseconds: `2.102000`.
pub(crate) fn secs(d: Duration) -> String {
    format!("{}.{:06}", d.as_secs(), d.subsec_micros())
}

/// Formats a duration for people: `2 s`, `300 ms`, `1.234 ms`.
pub(crate) fn span(d: Duration) -> String {
    let us = d.as_micros();
    if us % 1_000_000 == 0 {
        format!("{} s", us / 1_000_000)
    } else if us % 1000 == 0 {
        format!("{} ms", us / 1000)
    } else {
        format!("{}.{:03} ms", us / 1000, us % 1000)
    }
}

/// What the run found wrong with a scenario (none when the story is whole).
fn problems(run: &ScenarioRun) -> Vec<String> {
    let mut p = Vec::new();
    let expected: Vec<Option<u32>> = (1..=run.plan.messages).map(Some).collect();
    if run.messages.received_numbers() != expected {
        p.push(format!(
            "beta did not read msg 1..={} once each in order",
            run.plan.messages
        ));
    }
    if run.messages.echoed_numbers() != expected {
        p.push("alpha did not read every echo once in order".into());
    }
    let m = &run.milestones;
    if m.shutdown_complete.is_none() {
        p.push("the association did not shut down gracefully".into());
    }
    if run.plan.failure.is_some() {
        if m.failover.is_none() {
            p.push("no failover to link 2 was seen".into());
        }
        if m.failback.is_none() {
            p.push("no failback to link 1 was seen".into());
        }
    }
    p
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, String> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|e| {
        format!(
            "cannot write {} in the --out directory {}: {e}",
            name,
            dir.display()
        )
    })?;
    Ok(path)
}

/// Runs the command.
pub fn run(args: &Args) -> ExitCode {
    let failure = match args.failure {
        FailureArg::Reject => Failure::Reject,
        FailureArg::Drop => Failure::Drop,
    };
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!(
            "msctp demo: cannot create the --out directory {}: {e}; choose a writable folder \
             with --out DIR",
            args.out.display()
        );
        return ExitCode::FAILURE;
    }
    let runs: Vec<ScenarioRun> = match args.scenario {
        Which::Normal => vec![scenario::normal(args.seed)],
        Which::Failover => vec![scenario::failover(args.seed, failure)],
        Which::All => vec![
            scenario::normal(args.seed),
            scenario::failover(args.seed, failure),
        ],
    };

    let lines: Vec<String> = runs.iter().flat_map(jsonl::lines).collect();
    let mut events = lines.join("\n");
    events.push('\n');
    let mut written = Vec::new();
    for r in &runs {
        match write_file(&args.out, &format!("{}.pcap", r.name), &r.combined_pcap) {
            Ok(path) => written.push((path, r.ladder.len())),
            Err(e) => {
                eprintln!("msctp demo: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let events_path = match write_file(&args.out, "events.jsonl", events.as_bytes()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("msctp demo: {e}");
            return ExitCode::FAILURE;
        }
    };

    let text = if args.json {
        events
    } else {
        let mut t = narrate::preamble(args.seed, &runs[0]);
        for r in &runs {
            t.push_str(&narrate::story(r));
            t.push_str(&table::summary(r));
        }
        t.push_str("\nFiles:\n");
        for (path, frames) in &written {
            t.push_str(&format!(
                "  {}  ({frames} frames, both links, real addresses; open it in Wireshark)\n",
                path.display()
            ));
        }
        t.push_str(&format!(
            "  {}  ({} JSON lines: association, address and primary changes, per-second counters)\n",
            events_path.display(),
            lines.len()
        ));
        t
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("msctp demo: cannot write to stdout: {e}");
            return ExitCode::FAILURE;
        }
    }
    let mut status = ExitCode::SUCCESS;
    for r in &runs {
        for p in problems(r) {
            eprintln!(
                "msctp demo: scenario {} (seed {}): {p}; this is a bug in the protocol engine, \
                 please report it with the seed and {}.pcap",
                r.name, r.seed, r.name
            );
            status = ExitCode::FAILURE;
        }
    }
    status
}
