//! What the interop (`usrsctp.rs`) and hostile-peer (`hostile.rs`) tests
//! share: the programs they run (the `msctp` command, built from this
//! workspace; the usrsctp peer, compiled from `usrsctp_peer.c`), running a
//! program inside a namespace with its output read line by line as it
//! comes, a scratch directory, iptables rules removed on drop and RSS
//! samples. Every process is stopped by its recorded PID when its guard
//! drops (also while a test panics).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use msctp::testing::{Netns, require_tool};
use serde_json::Value;

/// Longest wait for a program to stop after a signal.
pub const STOP: Duration = Duration::from_secs(20);

/// Timing flags of the `msctp` command that make path failures show within
/// about a second (RTO.Min 100 ms, RTO.Max 1 s, HB.interval 1 s).
pub const FAST: [&str; 8] = [
    "--rto-initial",
    "300",
    "--rto-min",
    "100",
    "--rto-max",
    "1000",
    "--hb-interval",
    "1000",
];

/// The directory of this test binary's profile (`target/debug`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the path of the test binary");
    // target/debug/deps/<test>-<hash>
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps")
        .to_path_buf()
}

/// The `msctp` command of this workspace (crate `msctp-cli`), built now
/// with `cargo build -p msctp-cli --bin msctp` so that it matches the
/// sources under test (`MSCTP_BIN` names another binary instead). Panics
/// with cargo's output if the build fails.
pub fn msctp_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("MSCTP_BIN") {
            return PathBuf::from(p);
        }
        let dir = profile_dir();
        let target = dir.parent().expect("target directory").to_path_buf();
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
        let mut command = Command::new(env!("CARGO"));
        command
            .args(["build", "--quiet", "-p", "msctp-cli", "--bin", "msctp"])
            .arg("--manifest-path")
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target);
        if dir.file_name().is_some_and(|n| n == "release") {
            command.arg("--release");
        }
        let out = command
            .output()
            .unwrap_or_else(|e| panic!("cannot run {command:?} to build the msctp command: {e}"));
        assert!(
            out.status.success(),
            "building the msctp command ({command:?}) failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bin = dir.join("msctp");
        assert!(bin.is_file(), "{} missing after the build", bin.display());
        bin
    })
}

/// The usrsctp peer (`tests/interop/usrsctp_peer.c`), compiled now with
/// `cc … -lusrsctp -lpthread` into the target directory. Panics saying what
/// to install if the compiler or the library is missing.
pub fn usrsctp_peer_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cc = require_tool("cc", "gcc");
        let header = Path::new("/usr/include/usrsctp.h");
        assert!(
            header.is_file(),
            "{} is missing: install it with `apt-get install libusrsctp-dev` (the usrsctp interop \
             tests compile a small usrsctp program)",
            header.display()
        );
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/usrsctp_peer.c");
        // Compiled under a name of this process, then renamed into place
        // (atomic: test processes running at once never see half a file).
        let bin = profile_dir().join("usrsctp_peer");
        let tmp = profile_dir().join(format!("usrsctp_peer.tmp-{}", std::process::id()));
        let out = Command::new(&cc)
            .args(["-O1", "-Wall", "-o"])
            .arg(&tmp)
            .arg(&src)
            .args(["-lusrsctp", "-lpthread"])
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", cc.display()));
        assert!(
            out.status.success(),
            "compiling {} failed (is libusrsctp-dev installed? `apt-get install \
             libusrsctp-dev`):\n{}",
            src.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::rename(&tmp, &bin)
            .unwrap_or_else(|e| panic!("renaming {} to {}: {e}", tmp.display(), bin.display()));
        bin
    })
}

/// One of the usrsctp example programs of `libusrsctp-examples`
/// (`/usr/lib/usrsctp/NAME`); panics saying what to install if missing.
pub fn usrsctp_example(name: &str) -> PathBuf {
    let p = Path::new("/usr/lib/usrsctp").join(name);
    assert!(
        p.is_file(),
        "{} is missing: install it with `apt-get install libusrsctp-examples`",
        p.display()
    );
    p
}

/// A comma-separated address list.
pub fn list(addrs: &[IpAddr]) -> String {
    addrs
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// What a finished process left.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    /// Standard output, line by line.
    pub lines: Vec<String>,
    pub stderr: String,
}

impl Finished {
    pub fn stdout(&self) -> String {
        self.lines.join("\n")
    }

    /// Every stdout line that is a JSON object with `event`.
    pub fn json(&self) -> Vec<Value> {
        self.lines.iter().filter_map(|l| json_line(l)).collect()
    }

    pub fn assert_success(&self, what: &str) {
        assert!(
            self.status.success(),
            "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
            self.status,
            self.stdout(),
            self.stderr
        );
    }
}

/// Output for a failure message: every line but the per-second
/// `counters` of the `msctp` command, of which only the last is kept.
pub fn brief(lines: &[String]) -> String {
    let is_counters = |l: &String| l.contains(r#""event":"counters""#);
    let last = lines.iter().rposition(is_counters);
    let kept: Vec<&str> = lines
        .iter()
        .enumerate()
        .filter(|(i, l)| !is_counters(l) || Some(*i) == last)
        .map(|(_, l)| l.as_str())
        .collect();
    let left_out = lines.len() - kept.len();
    format!(
        "{}{}",
        kept.join("\n"),
        if left_out > 0 {
            format!("\n({left_out} earlier `counters` lines left out)")
        } else {
            String::new()
        }
    )
}

/// A line as a JSON event (`t` and `event`), if it is one.
pub fn json_line(line: &str) -> Option<Value> {
    let v: Value = serde_json::from_str(line).ok()?;
    v["event"].is_string().then_some(v)
}

/// A running process (inside a namespace) whose stdout is read line by line
/// as it comes. Dropping it kills it by its PID if it still runs.
pub struct Proc {
    pub what: String,
    child: Child,
    lines: Receiver<String>,
    pub seen: Vec<String>,
    stderr: Option<JoinHandle<String>>,
    stdin: Option<ChildStdin>,
}

impl Proc {
    /// Starts `program args` inside `ns` (`ip netns exec`, which execs the
    /// program: the child's PID is the program's), stdout and stderr piped,
    /// stdin closed.
    pub fn start(what: &str, ns: &Netns, program: &Path, args: &[&str]) -> Proc {
        Proc::spawn(what, ns, program, args, false)
    }

    /// Like [`Proc::start`], with stdin a pipe ([`Proc::write_line`],
    /// [`Proc::close_stdin`]).
    pub fn start_with_stdin(what: &str, ns: &Netns, program: &Path, args: &[&str]) -> Proc {
        Proc::spawn(what, ns, program, args, true)
    }

    fn spawn(what: &str, ns: &Netns, program: &Path, args: &[&str], stdin: bool) -> Proc {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", ns.name()])
            .arg(program)
            .args(args)
            .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what} ({command:?}): {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let stdin = child.stdin.take();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        Proc {
            what: what.to_string(),
            child,
            lines: rx,
            seen: Vec::new(),
            stderr: Some(stderr),
            stdin,
        }
    }

    /// Writes `line` and a newline to the program's stdin.
    pub fn write_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("started with a stdin pipe");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| stdin.flush())
            .unwrap_or_else(|e| panic!("writing to the stdin of {}: {e}", self.what));
    }

    /// Closes the program's stdin (end of file).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Runs the `msctp` command with `args` inside `ns`.
    pub fn msctp(what: &str, ns: &Netns, args: &[&str]) -> Proc {
        Proc::start(what, ns, msctp_bin(), args)
    }

    /// Whether the program has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// The PID of the program.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits (at most `limit`) for a stdout line that `pred` accepts.
    pub fn wait_line(
        &mut self,
        what: &str,
        limit: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "{}: no {what} within {limit:?}; output so far:\n{}",
                    self.what,
                    brief(&self.seen)
                ),
                Err(RecvTimeoutError::Disconnected) => {
                    let f = self.finish(STOP);
                    panic!(
                        "{} ended ({}) before {what}:\nstdout:\n{}\nstderr:\n{}",
                        self.what,
                        f.status,
                        brief(&f.lines),
                        f.stderr
                    );
                }
            }
        }
    }

    /// Waits (at most `limit`) for a JSON event line that `pred` accepts.
    pub fn wait_json(
        &mut self,
        what: &str,
        limit: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let line = self.wait_line(what, limit, |l| json_line(l).is_some_and(|v| pred(&v)));
        json_line(&line).expect("a JSON line")
    }

    /// Takes the lines that have come so far without waiting.
    pub fn drain(&mut self) -> &[String] {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        &self.seen
    }

    /// Sends `signal` (`INT`, `TERM`, ...) to the program's PID.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args([&format!("-{signal}"), pid.as_str()])
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -{signal} {pid} failed");
    }

    /// Waits (at most `limit`) for the process to exit; kills it and panics
    /// if it does not.
    pub fn finish(&mut self, limit: Duration) -> Finished {
        let deadline = Instant::now() + limit;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(None) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    self.drain();
                    panic!(
                        "{} did not exit within {limit:?} (killed); output:\n{}",
                        self.what,
                        brief(&self.seen)
                    );
                }
                Err(e) => panic!("waiting for {}: {e}", self.what),
            }
        };
        let mut lines = std::mem::take(&mut self.seen);
        loop {
            match self.lines.recv_timeout(Duration::from_secs(5)) {
                Ok(line) => lines.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("{}: stdout not closed after exit", self.what)
                }
            }
        }
        let stderr = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        Finished {
            status,
            lines,
            stderr,
        }
    }

    /// SIGINT, then the exit (whatever its status).
    pub fn stop(mut self) -> Finished {
        self.signal("INT");
        self.finish(STOP)
    }

    /// SIGKILL (for programs that do not stop on SIGINT, like usrsctp's).
    pub fn kill(mut self) -> Finished {
        let _ = self.child.kill();
        self.finish(STOP)
    }

    /// The resident set size of the program in kB (`VmRSS` of
    /// `/proc/PID/status`), or `None` once it has exited.
    pub fn rss_kb(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // Still running (the test failed half-way): kill this PID only.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// An iptables rule in a namespace, inserted now and deleted when dropped
/// (the namespace's removal would delete it too).
pub struct IptablesRule<'a> {
    ns: &'a Netns,
    rule: Vec<String>,
    active: bool,
}

impl<'a> IptablesRule<'a> {
    /// `iptables -I <rule>` in `ns`.
    pub fn insert(ns: &'a Netns, rule: &[&str]) -> IptablesRule<'a> {
        require_tool("iptables", "iptables");
        let mut args = vec!["-I"];
        args.extend_from_slice(rule);
        ns.exec_ok("iptables", &args);
        IptablesRule {
            ns,
            rule: rule.iter().map(|s| s.to_string()).collect(),
            active: true,
        }
    }

    /// `iptables -D <rule>`.
    pub fn remove(mut self) {
        self.delete();
    }

    fn delete(&mut self) {
        if self.active {
            self.active = false;
            let mut args = vec!["-D"];
            args.extend(self.rule.iter().map(String::as_str));
            let out = self.ns.exec("iptables", &args);
            if !out.status.success() && !std::thread::panicking() {
                panic!(
                    "iptables -D {:?} in {}: {}",
                    self.rule,
                    self.ns.name(),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
}

impl Drop for IptablesRule<'_> {
    fn drop(&mut self) {
        self.delete();
    }
}

/// A scratch directory for a test's files, removed when the test passes
/// and kept (and named on stderr) when it fails.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(label: &str) -> Scratch {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "msctp-interop-{}-{}-{label}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn dir(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() || std::env::var_os("MSCTP_KEEP_CAPTURES").is_some() {
            eprintln!("test files kept in {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
