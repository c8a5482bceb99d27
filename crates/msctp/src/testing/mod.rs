//! Test harness for real-network tests (feature `testing`): network
//! namespaces joined by veth links with the lab addresses of the design
//! document, a way to open sockets inside a namespace, and checks of the
//! captures a test writes.
//!
//! Everything here is for tests: failures panic with a message saying what
//! to do (run as root, install a tool) rather than return errors, and nothing
//! is ever skipped silently.
//!
//! Safety rules, which every helper keeps:
//!
//! * namespaces are named `msctp-t<pid>-<n>-…`, unique per process and test,
//!   and removed when their guard drops (also while a test panics);
//!   namespaces left by a process that no longer runs (killed with SIGKILL)
//!   are removed the next time a namespace is created;
//! * only the documentation ranges 192.0.2.0/24, 198.51.100.0/24 and
//!   2001:db8::/32 are configured, and no default route, so no packet can
//!   leave the namespaces.
//!
//! Sockets are created inside a namespace by moving the calling thread into
//! it for a moment ([`Netns::enter`]): a socket keeps the namespace it was
//! created in, so a single-threaded tokio test can own sockets in several
//! namespaces at once.

pub mod capture;
mod lab;
mod netns;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use lab::{Lab, addr};
pub use netns::{Entered, Netns};

/// Panics with a clear message unless the process runs as root (effective
/// user id 0). Call it first in every test that needs root.
pub fn require_root(what: &str) {
    if crate::sys::effective_uid() != 0 {
        panic!(
            "{what} needs root (it creates network namespaces, veth links and iptables rules, \
             and opens raw sockets): run the tests as root, as CI does \
             (for example `sudo -E cargo test -p msctp`)"
        );
    }
}

/// Finds `program` in `PATH`, or panics saying which Debian package has it.
pub fn require_tool(program: &str, package: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "`{program}` is needed by this test and was not found in PATH: install it with \
             `apt-get install {package}` (or run `cargo xtask test`, which installs what the \
             tests need)"
        )
    })
}

/// Runs a command, panicking with its output if it cannot start or fails.
pub fn run(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Checks a pcap file with tshark, CRC32c verification on: every frame must
/// hold SCTP with a good checksum (status 1) and nothing may be malformed.
/// `udp_ports` lists UDP ports other than 9899 that carry SCTP (RFC 6951)
/// in the file. Returns the number of frames. Panics, saying what is wrong,
/// otherwise (also when tshark is missing).
pub fn check_pcap_with_tshark(file: &Path, udp_ports: &[u16]) -> usize {
    let tshark = std::env::var_os("TSHARK")
        .map(PathBuf::from)
        .unwrap_or_else(|| require_tool("tshark", "tshark"));
    let mut command = Command::new(&tshark);
    command.args(["-n", "-o", "sctp.checksum:crc-32c"]);
    for port in udp_ports {
        command.args(["-d", &format!("udp.port=={port},sctp")]);
    }
    command
        .arg("-r")
        .arg(file)
        .args(["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,"])
        .args(["-e", "frame.number", "-e", "sctp.checksum.status"])
        .args(["-e", "_ws.malformed"]);
    let output = run(&mut command);
    let text = String::from_utf8_lossy(&output.stdout);
    let mut frames = 0;
    for line in text.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let col = |i: usize| cols.get(i).copied().unwrap_or("");
        let status: Vec<&str> = col(1).split(',').filter(|s| !s.is_empty()).collect();
        assert!(
            !status.is_empty() && status.iter().all(|s| *s == "1"),
            "{}: frame {}: SCTP CRC32c status {status:?} (tshark: 1 = good, empty = not SCTP)",
            file.display(),
            col(0)
        );
        assert!(
            col(2).is_empty(),
            "{}: frame {} is malformed according to tshark",
            file.display(),
            col(0)
        );
        frames += 1;
    }
    frames
}

/// Runs the test `test_name` of the current test binary again as a child
/// process inside `ns`, with `CAP_NET_RAW` taken away (`setpriv
/// --inh-caps=-all --bounding-set=-net_raw`: even root then lacks the
/// capability after `exec`), the environment variable `role_var` set to
/// `role`. The child test is expected to act on that variable. Returns its
/// output.
pub fn run_test_without_cap_net_raw(
    ns: &Netns,
    test_name: &str,
    role_var: &str,
    role: &str,
) -> Output {
    let setpriv = require_tool("setpriv", "util-linux");
    let exe = std::env::current_exe().expect("the path of the test binary");
    let mut command = Command::new("ip");
    command
        .args(["netns", "exec", ns.name()])
        .arg(setpriv)
        .args(["--inh-caps=-all", "--bounding-set=-net_raw", "--"])
        .arg(exe)
        .args([
            OsStr::new("--exact"),
            OsStr::new(test_name),
            OsStr::new("--nocapture"),
            OsStr::new("--test-threads=1"),
        ])
        .env(role_var, role);
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
}
