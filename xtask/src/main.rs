//! `cargo xtask`: the one entry point that developers and CI share.
//!
//! ```text
//! cargo xtask test [--quick]   packages, fmt, clippy, tests, fuzz smoke (CI runs this)
//! cargo xtask fuzz [SECONDS] [TARGET...]
//!                              longer fuzzing run (default 600 s, split over the targets)
//! cargo xtask bench            cargo bench --workspace
//! ```
//!
//! Everything the checks need is installed from here (Debian packages,
//! `cargo-fuzz`, rustup components), so `.ci/run` is just `cargo xtask test`.
//!
//! Environment:
//!
//! * `MSCTP_XTASK_PRETEND_MISSING=pkg[,pkg…]`: treat these Debian packages as
//!   not installed, to exercise the install path (and, when not root, the
//!   failure message) on a machine that already has them.

use std::env;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};

/// Debian packages that the tests need. This is the one list: later issues
/// add the packages they need here.
const REQUIRED_PACKAGES: &[&str] = &[
    "tshark",              // decoding captures in interop tests
    "libusrsctp-dev",      // reference SCTP stack for interop tests
    "libusrsctp-examples", // its echo/discard servers and clients
    "iptables",            // blocking a link (REJECT/DROP) in lab tests
    "iproute2",            // network namespaces, veth links
    "tcpdump",             // capturing on lab links
    "g++",                 // libfuzzer-sys compiles libFuzzer (C++) for the fuzz step
    "gcc",                 // compiles the usrsctp peer program of the interop tests
    "python3-scapy",       // the hostile-peer script of the msctp tests
];

/// Debconf answers given before installing, so `apt-get` never asks.
const DEBCONF_PRESEED: &[&str] = &[
    // tshark pulls in wireshark-common, which asks whether non-root users may capture.
    "wireshark-common wireshark-common/install-setuid boolean false",
];

/// Comma-separated packages to report as missing even when installed (testing aid).
const PRETEND_MISSING_ENV: &str = "MSCTP_XTASK_PRETEND_MISSING";

/// The cargo-fuzz project, relative to the workspace root. It is its own
/// workspace (not a member of ours): it needs nightly-only compiler flags.
const FUZZ_DIR: &str = "crates/wire/fuzz";

/// The cargo-fuzz release series installed when `cargo fuzz` is missing
/// (0.13.2 was current when the fuzz step was written and tested).
const CARGO_FUZZ_VERSION: &str = "^0.13";

/// Total fuzzing time of the smoke run in `cargo xtask test`.
const SMOKE_FUZZ_SECONDS: u64 = 60;

/// Total fuzzing time of `cargo xtask fuzz` without an argument.
const DEFAULT_FUZZ_SECONDS: u64 = 600;

/// Share of the fuzzing time per target (targets not listed get weight 1).
const FUZZ_WEIGHTS: &[(&str, u64)] = &[("packet", 3), ("association", 2), ("capture", 1)];

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  test [--quick]           install needed Debian packages, then cargo fmt --check,
                           clippy -D warnings, cargo test --workspace, the
                           simulator's 50 MB transfer tests in release, fuzz smoke
                           (--quick skips the fuzz smoke; CI never passes it)
  fuzz [SECONDS] [TARGET...]
                           fuzz the wire codec for SECONDS in total (default 600),
                           split over TARGETs (default: all targets)
  bench                    cargo bench --workspace
  help                     print this message

environment:
  MSCTP_XTASK_PRETEND_MISSING=pkg[,pkg...]
                           treat these Debian packages as missing (tests the install path)";

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
enum Task {
    Test { quick: bool },
    Fuzz { seconds: u64, targets: Vec<String> },
    Bench,
    Help,
}

fn parse_args(args: &[String]) -> Result<Task, String> {
    let Some((command, rest)) = args.split_first() else {
        return Err("missing command".to_owned());
    };
    match command.as_str() {
        "test" => {
            let mut quick = false;
            for arg in rest {
                match arg.as_str() {
                    "--quick" => quick = true,
                    other => return Err(format!("unknown argument to `test`: `{other}`")),
                }
            }
            Ok(Task::Test { quick })
        }
        "fuzz" => {
            let mut seconds = None;
            let mut targets = Vec::new();
            for arg in rest {
                if arg.starts_with('-') {
                    return Err(format!("unknown flag to `fuzz`: `{arg}`"));
                } else if arg.bytes().all(|b| b.is_ascii_digit()) {
                    if seconds.is_some() {
                        return Err(format!("`fuzz` takes one SECONDS, got another: `{arg}`"));
                    }
                    match arg.parse::<u64>() {
                        Ok(s) if s > 0 => seconds = Some(s),
                        _ => return Err(format!("bad SECONDS for `fuzz`: `{arg}`")),
                    }
                } else {
                    targets.push(arg.clone());
                }
            }
            Ok(Task::Fuzz {
                seconds: seconds.unwrap_or(DEFAULT_FUZZ_SECONDS),
                targets,
            })
        }
        "bench" => match rest.first() {
            None => Ok(Task::Bench),
            Some(other) => Err(format!("unknown argument to `bench`: `{other}`")),
        },
        "help" | "-h" | "--help" => Ok(Task::Help),
        other => Err(format!("unknown command `{other}`")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let task = match parse_args(&args) {
        Ok(task) => task,
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = env::set_current_dir(workspace_root()) {
        eprintln!("error: cannot enter the workspace root: {e}");
        return ExitCode::FAILURE;
    }
    let mut report = Report::default();
    match task {
        Task::Help => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Task::Test { quick } => test(&mut report, quick),
        Task::Fuzz { seconds, targets } => {
            report.step("fuzz", || fuzz(seconds, &targets));
        }
        Task::Bench => {
            report.step("cargo bench", || cargo(&["bench", "--workspace"]));
        }
    }
    report.print();
    if report.all_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `cargo xtask test`: every step runs so that one run shows every problem,
/// except that nothing runs after a failed package install.
fn test(report: &mut Report, quick: bool) {
    if !report.step("system packages", ensure_packages) {
        eprintln!("\nstopping: the remaining steps need the packages above");
        return;
    }
    report.step("cargo fmt --check", || {
        ensure_rustup_component("rustfmt", "fmt")?;
        let workspace = cargo(&["fmt", "--all", "--", "--check"]);
        // The fuzz project is its own workspace, so `--all` does not see it.
        let manifest = format!("{FUZZ_DIR}/Cargo.toml");
        let fuzz = cargo(&["fmt", "--manifest-path", &manifest, "--", "--check"]);
        workspace.and(fuzz)
    });
    report.step("cargo clippy", || {
        ensure_rustup_component("clippy", "clippy")?;
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
    });
    // PROPTEST_CASES is deliberately left alone: proptest's default (256) unless
    // the caller set it.
    report.step("cargo test", || cargo(&["test", "--workspace"]));
    // The simulator's transfer tests move 50 MB per run (20 seeds, seven link
    // conditions, three traffic kinds) only in release builds; in debug they
    // shrink to 2 MB so that `cargo test` stays quick.
    report.step("sim transfers (release, 50 MB)", || {
        cargo(&["test", "--release", "-p", "msctp-sim", "--test", "transfer"])
    });
    if quick {
        report.skip("fuzz smoke", "--quick");
    } else {
        report.step("fuzz smoke", || fuzz(SMOKE_FUZZ_SECONDS, &[]));
    }
}

// ---------------------------------------------------------------------------
// Steps and their summary

#[derive(Default)]
struct Report {
    rows: Vec<Row>,
}

struct Row {
    name: String,
    result: StepResult,
    elapsed: Duration,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum StepResult {
    Ok,
    Failed,
    Skipped,
}

impl Report {
    /// Runs one step under a `==> name` header; returns whether it succeeded.
    fn step(&mut self, name: &str, f: impl FnOnce() -> Result<()>) -> bool {
        println!("\n==> {name}");
        let start = Instant::now();
        let result = f();
        let elapsed = start.elapsed();
        let result = match result {
            Ok(()) => StepResult::Ok,
            Err(e) => {
                eprintln!("\n{name}: FAILED: {e:#}");
                StepResult::Failed
            }
        };
        self.rows.push(Row {
            name: name.to_owned(),
            result,
            elapsed,
        });
        result == StepResult::Ok
    }

    /// Records a step that was not run, and why.
    fn skip(&mut self, name: &str, why: &str) {
        println!("\n==> {name}: skipped ({why})");
        self.rows.push(Row {
            name: name.to_owned(),
            result: StepResult::Skipped,
            elapsed: Duration::ZERO,
        });
    }

    fn all_ok(&self) -> bool {
        self.rows.iter().all(|r| r.result != StepResult::Failed)
    }

    fn render(&self) -> String {
        let width = self
            .rows
            .iter()
            .map(|r| r.name.len())
            .chain(["step".len(), "total".len()])
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        let _ = writeln!(out, "{:<width$}  {:<7}  {:>8}", "step", "result", "seconds");
        let _ = writeln!(out, "{:-<width$}  {:-<7}  {:->8}", "", "", "");
        for row in &self.rows {
            let result = match row.result {
                StepResult::Ok => "ok",
                StepResult::Failed => "FAILED",
                StepResult::Skipped => "skipped",
            };
            let secs = row.elapsed.as_secs_f64();
            let _ = writeln!(out, "{:<width$}  {:<7}  {:>8.1}", row.name, result, secs);
        }
        let total: f64 = self.rows.iter().map(|r| r.elapsed.as_secs_f64()).sum();
        let overall = if self.all_ok() { "ok" } else { "FAILED" };
        let _ = writeln!(out, "{:<width$}  {:<7}  {:>8.1}", "total", overall, total);
        out
    }

    fn print(&self) {
        if !self.rows.is_empty() {
            println!("\n==> summary\n{}", self.render());
        }
    }
}

// ---------------------------------------------------------------------------
// Running commands

fn workspace_root() -> PathBuf {
    let xtask_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask_dir.parent().unwrap_or(xtask_dir).to_path_buf()
}

fn display(cmd: &Command) -> String {
    let mut s = String::new();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            let _ = write!(s, "{}={} ", key.to_string_lossy(), value.to_string_lossy());
        }
    }
    s.push_str(&cmd.get_program().to_string_lossy());
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    s
}

/// Runs a command with inherited stdout/stderr and no stdin; fails unless it exits 0.
fn run(cmd: &mut Command) -> Result<()> {
    let shown = display(cmd);
    println!("$ {shown}");
    let _ = std::io::stdout().flush();
    let status = cmd
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("cannot start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// Runs a command quietly and returns its stdout if it exits 0.
fn output_of(cmd: &mut Command) -> Option<String> {
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn cargo(args: &[&str]) -> Result<()> {
    run(Command::new("cargo").args(args))
}

/// `rustup component add` when a cargo subcommand that ships as a component is missing.
fn ensure_rustup_component(component: &str, subcommand: &str) -> Result<()> {
    if output_of(Command::new("cargo").args([subcommand, "--version"])).is_some() {
        return Ok(());
    }
    println!("`cargo {subcommand}` is missing; installing the `{component}` component");
    run(Command::new("rustup").args(["component", "add", component]))
        .with_context(|| format!("`cargo {subcommand}` is not available"))
}

// ---------------------------------------------------------------------------
// System packages

fn is_root() -> bool {
    output_of(Command::new("id").arg("-u")).is_some_and(|uid| uid.trim() == "0")
}

/// Whether `dpkg-query` reports the package as installed (`install ok installed`).
fn dpkg_installed(package: &str) -> Result<bool> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .context("cannot run dpkg-query: this step needs Debian or a derivative")?;
    // Not known to dpkg at all: exit status 1 and no output.
    let status = String::from_utf8_lossy(&out.stdout);
    Ok(out.status.success() && status.split_whitespace().nth(2) == Some("installed"))
}

fn missing_packages(pretend_missing: &[String]) -> Result<Vec<&'static str>> {
    let mut missing = Vec::new();
    for &package in REQUIRED_PACKAGES {
        if pretend_missing.iter().any(|p| p == package) || !dpkg_installed(package)? {
            missing.push(package);
        }
    }
    Ok(missing)
}

fn pretend_missing() -> Vec<String> {
    env::var(PRETEND_MISSING_ENV)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

fn ensure_packages() -> Result<()> {
    let pretend = pretend_missing();
    if !pretend.is_empty() {
        println!(
            "{PRETEND_MISSING_ENV}: pretending {} missing",
            pretend.join(", ")
        );
    }
    let missing = missing_packages(&pretend)?;
    if missing.is_empty() {
        println!("installed: {}", REQUIRED_PACKAGES.join(", "));
        return Ok(());
    }
    let list = missing.join(" ");
    let manual = format!(
        "printf '%s\\n' {} | debconf-set-selections && apt-get update && \
         DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {list}",
        DEBCONF_PRESEED
            .iter()
            .map(|l| format!("'{l}'"))
            .collect::<Vec<_>>()
            .join(" "),
    );
    println!("missing Debian packages: {list}");
    if !is_root() {
        bail!(
            "missing Debian packages: {list}; installing them needs root, run as root:\n    {manual}"
        );
    }
    install_packages(&missing).with_context(|| {
        format!("installing {list} failed; to do it by hand, run as root:\n    {manual}")
    })?;
    // Check again for real (ignoring the pretence): apt must have installed them.
    let still = missing_packages(&[])?;
    if !still.is_empty() {
        bail!(
            "after apt-get install, still not installed: {}",
            still.join(" ")
        );
    }
    println!("installed: {}", REQUIRED_PACKAGES.join(", "));
    Ok(())
}

fn install_packages(missing: &[&str]) -> Result<()> {
    // Preseed the debconf questions so that nothing waits for an answer.
    println!(
        "$ debconf-set-selections  # stdin: {}",
        DEBCONF_PRESEED.join("; ")
    );
    let mut child = Command::new("debconf-set-selections")
        .stdin(Stdio::piped())
        .spawn()
        .context("cannot run debconf-set-selections")?;
    if let Some(mut stdin) = child.stdin.take() {
        for line in DEBCONF_PRESEED {
            writeln!(stdin, "{line}").context("writing to debconf-set-selections")?;
        }
    }
    let status = child.wait().context("waiting for debconf-set-selections")?;
    if !status.success() {
        bail!("debconf-set-selections failed ({status})");
    }
    // Wait for a concurrent apt/dpkg (e.g. unattended-upgrades on a fresh machine).
    let lock_timeout = "-oDPkg::Lock::Timeout=600";
    run(Command::new("apt-get")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args([lock_timeout, "update"]))?;
    run(Command::new("apt-get")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args([lock_timeout, "install", "-y", "--no-install-recommends"])
        .args(missing))
}

// ---------------------------------------------------------------------------
// Fuzzing

fn ensure_cargo_fuzz() -> Result<()> {
    if let Some(version) = output_of(Command::new("cargo").args(["fuzz", "--version"])) {
        println!("found {}", version.trim());
        return Ok(());
    }
    println!("cargo-fuzz is missing; installing it");
    cargo(&[
        "install",
        "cargo-fuzz",
        "--locked",
        "--version",
        CARGO_FUZZ_VERSION,
    ])?;
    if output_of(Command::new("cargo").args(["fuzz", "--version"])).is_none() {
        bail!("`cargo install cargo-fuzz` succeeded but `cargo fuzz --version` still fails");
    }
    Ok(())
}

/// The fuzz targets: `FUZZ_DIR/fuzz_targets/*.rs` (each a `[[bin]]` of the fuzz crate).
fn all_fuzz_targets() -> Result<Vec<String>> {
    let dir = Path::new(FUZZ_DIR).join("fuzz_targets");
    let mut targets = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "rs") {
            if let Some(stem) = path.file_stem() {
                targets.push(stem.to_string_lossy().into_owned());
            }
        }
    }
    targets.sort();
    Ok(targets)
}

/// Splits `total` seconds over the targets by [`FUZZ_WEIGHTS`], at least 1 s each.
fn split_seconds(total: u64, targets: &[String]) -> Vec<(String, u64)> {
    let weight = |t: &str| {
        FUZZ_WEIGHTS
            .iter()
            .find(|(name, _)| *name == t)
            .map_or(1, |&(_, w)| w)
    };
    let sum: u64 = targets.iter().map(|t| weight(t)).sum::<u64>().max(1);
    targets
        .iter()
        .map(|t| (t.clone(), (total * weight(t) / sum).max(1)))
        .collect()
}

fn fuzz(total_seconds: u64, wanted: &[String]) -> Result<()> {
    let all = all_fuzz_targets()?;
    if let Some(unknown) = wanted.iter().find(|t| !all.contains(t)) {
        bail!(
            "unknown fuzz target `{unknown}` (targets: {})",
            all.join(", ")
        );
    }
    if all.is_empty() {
        bail!("no fuzz targets in {FUZZ_DIR}/fuzz_targets");
    }
    let targets = if wanted.is_empty() {
        all
    } else {
        wanted.to_vec()
    };
    ensure_cargo_fuzz()?;
    let plan = split_seconds(total_seconds, &targets);
    let mut failures = Vec::new();
    let mut stats = Vec::new();
    for (target, seconds) in &plan {
        println!("\n--> fuzz target `{target}` for {seconds} s");
        match fuzz_target(target, *seconds) {
            Ok(stat) => stats.push(format!("{target}: {stat}")),
            Err(e) => {
                eprintln!("fuzz target `{target}`: {e:#}");
                failures.push(target.clone());
            }
        }
    }
    for line in &stats {
        println!("{line}");
    }
    if !failures.is_empty() {
        bail!("fuzz target(s) failed: {}", failures.join(", "));
    }
    Ok(())
}

/// The `cargo fuzz run` command line for one target.
///
/// The toolchain is stable, so `RUSTC_BOOTSTRAP=1` lets it accept the nightly
/// flags cargo-fuzz passes (`-Zsanitizer=address`, sancov `-Cllvm-args`).
/// AddressSanitizer stays on (cargo-fuzz's default): the stable toolchain ships
/// `librustc-stable_rt.asan.a`, and although the codec has no `unsafe`, ASan
/// costs little here and guards the `unsafe` in its dependencies. `-a` turns on
/// debug assertions, so integer overflow in length arithmetic panics (a finding)
/// instead of wrapping. `-timeout=10` makes a hanging input an artifact instead
/// of a stall.
fn fuzz_command(target: &str, seconds: u64) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.env("RUSTC_BOOTSTRAP", "1")
        .args(["fuzz", "run", "--fuzz-dir", FUZZ_DIR, "-a", target, "--"])
        .arg(format!("-max_total_time={seconds}"))
        .args(["-timeout=10", "-print_final_stats=1"]);
    cmd
}

/// Runs one target; returns a one-line statistic (runs, execs/s, corpus size).
fn fuzz_target(target: &str, seconds: u64) -> Result<String> {
    let artifacts = Path::new(FUZZ_DIR).join("artifacts").join(target);
    let started = SystemTime::now();
    let mut cmd = fuzz_command(target, seconds);
    let shown = display(&cmd);
    println!("$ {shown}");
    let _ = std::io::stdout().flush();
    // Pass the output through, picking out libFuzzer's final statistics and
    // leaving out its per-input progress lines (thousands in a minute).
    let mut child = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start `{shown}`"))?;
    let mut stat = FuzzStats::default();
    let mut hidden = 0u64;
    if let Some(stderr) = child.stderr.take() {
        let stderr_out = std::io::stderr();
        for line in BufReader::new(stderr).split(b'\n') {
            let Ok(line) = line else { break };
            let text = String::from_utf8_lossy(&line);
            stat.observe(&text);
            if is_progress_line(&text) {
                hidden += 1;
                continue;
            }
            let mut out = stderr_out.lock();
            let _ = out.write_all(&line);
            let _ = out.write_all(b"\n");
        }
    }
    if hidden > 0 {
        eprintln!("({hidden} libFuzzer NEW/REDUCE progress lines not shown)");
    }
    let status = child.wait().context("waiting for cargo fuzz")?;
    let new_artifacts = artifacts_since(&artifacts, started);
    if !status.success() || !new_artifacts.is_empty() {
        let mut msg = format!("`{shown}` failed ({status})");
        for artifact in &new_artifacts {
            let _ = write!(
                msg,
                "\n    artifact: {}\n    reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir {FUZZ_DIR} -a {target} {}",
                artifact.display(),
                artifact.display(),
            );
        }
        if new_artifacts.is_empty() {
            let _ = write!(msg, "\n    (no new artifact in {})", artifacts.display());
        }
        bail!(msg);
    }
    Ok(stat.summary())
}

/// libFuzzer's line for each new or reduced corpus input (`#123 NEW cov: …`);
/// its other lines (INITED, pulse, DONE, crash reports) are kept.
fn is_progress_line(line: &str) -> bool {
    let mut words = line.split_whitespace();
    let counter = words
        .next()
        .and_then(|w| w.strip_prefix('#'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    counter && matches!(words.next(), Some("NEW" | "REDUCE"))
}

/// Files in `dir` modified at or after `since` (the crash/timeout/oom inputs).
fn artifacts_since(dir: &Path, since: SystemTime) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= since)
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// libFuzzer's `-print_final_stats=1` lines.
#[derive(Default, Debug)]
struct FuzzStats {
    runs: Option<u64>,
    execs_per_sec: Option<u64>,
    corpus: Option<u64>,
}

impl FuzzStats {
    fn observe(&mut self, line: &str) {
        let value = |prefix: &str| {
            line.strip_prefix(prefix)
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        if let Some(v) = value("stat::number_of_executed_units:") {
            self.runs = Some(v);
        } else if let Some(v) = value("stat::average_exec_per_sec:") {
            self.execs_per_sec = Some(v);
        } else if let Some(v) = line
            .split_whitespace()
            .skip_while(|w| *w != "corp:")
            .nth(1)
            .and_then(|c| c.split('/').next())
            .and_then(|c| c.parse().ok())
        {
            // Progress lines: `#1234 NEW cov: 56 ft: 78 corp: 9/100b ...`.
            self.corpus = Some(v);
        }
    }

    fn summary(&self) -> String {
        let show = |v: Option<u64>| v.map_or("?".to_owned(), |v| v.to_string());
        format!(
            "{} runs, {} exec/s, corpus {} inputs, no crash",
            show(self.runs),
            show(self.execs_per_sec),
            show(self.corpus)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn parses_commands() {
        assert_eq!(parse_args(&args("test")), Ok(Task::Test { quick: false }));
        assert_eq!(
            parse_args(&args("test --quick")),
            Ok(Task::Test { quick: true })
        );
        assert_eq!(
            parse_args(&args("fuzz")),
            Ok(Task::Fuzz {
                seconds: DEFAULT_FUZZ_SECONDS,
                targets: vec![]
            })
        );
        assert_eq!(
            parse_args(&args("fuzz 30 packet")),
            Ok(Task::Fuzz {
                seconds: 30,
                targets: vec!["packet".to_owned()]
            })
        );
        assert_eq!(parse_args(&args("bench")), Ok(Task::Bench));
        assert_eq!(parse_args(&args("--help")), Ok(Task::Help));
    }

    #[test]
    fn rejects_bad_arguments_by_name() {
        for (line, bad) in [
            ("", "missing command"),
            ("tset", "`tset`"),
            ("test --quik", "`--quik`"),
            ("fuzz --seconds", "`--seconds`"),
            ("fuzz 0", "`0`"),
            ("fuzz 10 20", "`20`"),
            ("bench --all", "`--all`"),
        ] {
            let err = parse_args(&args(line)).unwrap_err();
            assert!(err.contains(bad), "{line:?} gave {err:?}");
        }
    }

    #[test]
    fn splits_fuzz_time_by_weight() {
        let targets = ["capture".to_owned(), "packet".to_owned()];
        assert_eq!(
            split_seconds(60, &targets),
            [("capture".to_owned(), 15), ("packet".to_owned(), 45)]
        );
        assert_eq!(
            split_seconds(60, &targets[1..]),
            [("packet".to_owned(), 60)]
        );
        assert_eq!(split_seconds(1, &targets)[0].1, 1);
    }

    #[test]
    fn reads_libfuzzer_stats() {
        let mut s = FuzzStats::default();
        s.observe("#4096\tpulse  cov: 310 ft: 920 corp: 95/3061b lim: 43 exec/s: 2048 rss: 40Mb");
        s.observe("stat::number_of_executed_units: 123456");
        s.observe("stat::average_exec_per_sec:     2057");
        assert_eq!(s.runs, Some(123456));
        assert_eq!(s.execs_per_sec, Some(2057));
        assert_eq!(s.corpus, Some(95));
    }

    #[test]
    fn hides_only_progress_lines() {
        assert!(is_progress_line(
            "#1234\tNEW    cov: 56 ft: 78 corp: 9/100b lim: 4 exec/s: 0 rss: 40Mb L: 3/4 MS: 1 CopyPart-"
        ));
        assert!(is_progress_line("#99\tREDUCE cov: 1 ft: 2 corp: 3/4b"));
        for kept in [
            "#2\tINITED cov: 1 ft: 1 corp: 1/1b exec/s: 0 rss: 30Mb",
            "#4096\tpulse  cov: 310 ft: 920 corp: 95/3061b",
            "#7000\tDONE   cov: 310 ft: 920 corp: 95/3061b",
            "==123==ERROR: AddressSanitizer: heap-buffer-overflow",
            "thread '<unnamed>' panicked at src/packet.rs:1:1:",
        ] {
            assert!(!is_progress_line(kept), "{kept}");
        }
    }

    #[test]
    fn package_list_has_no_duplicates() {
        let mut list = REQUIRED_PACKAGES.to_vec();
        list.sort_unstable();
        list.dedup();
        assert_eq!(list.len(), REQUIRED_PACKAGES.len());
    }

    #[test]
    fn summary_marks_failures() {
        let mut r = Report::default();
        r.step("good", || Ok(()));
        r.step("bad", || bail!("boom"));
        r.skip("later", "--quick");
        let table = r.render();
        let line = |name: &str| table.lines().find(|l| l.starts_with(name)).unwrap_or("");
        assert!(line("good").contains(" ok "), "{table}");
        assert!(line("bad").contains(" FAILED "), "{table}");
        assert!(line("later").contains(" skipped "), "{table}");
        assert!(line("total").contains(" FAILED "), "{table}");
        assert!(!r.all_ok());
    }
}
