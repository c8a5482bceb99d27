//! `msctp server` and `msctp client` end to end, between the two network
//! namespaces of the design document's lab (`msctp::testing::Lab`): the
//! server runs in the background in beta, the client in alpha, both as the
//! real `msctp` binary with `--json`, and the tests read what they print.
//!
//! Every process a test starts is waited for with a timeout and, if it is
//! still running when the test ends (also by a panic), killed by its PID.
//! The server is stopped with SIGINT and must then exit 0. Needs root
//! (namespaces, raw sockets, iptables): fails, never skips, without it.

use std::io::{BufRead, BufReader, Read};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use msctp::testing::addr::*;
use msctp::testing::{Lab, Netns, check_pcap_with_tshark, require_root, require_tool};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_msctp");
/// Longest wait for a server to say it listens.
const READY: Duration = Duration::from_secs(10);
/// Longest run of a client (each test's clients take a few seconds).
const RUN: Duration = Duration::from_secs(60);
/// Longest wait for a server to stop after SIGINT.
const STOP: Duration = Duration::from_secs(20);

/// Timing that makes failures show within a second or so.
const FAST: [&str; 8] = [
    "--rto-initial",
    "300",
    "--rto-min",
    "100",
    "--rto-max",
    "1000",
    "--hb-interval",
    "1000",
];

fn s(a: IpAddr) -> String {
    a.to_string()
}

fn list(addrs: &[IpAddr]) -> String {
    addrs
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// What a finished process left.
#[derive(Debug)]
struct Finished {
    status: ExitStatus,
    /// Standard output, line by line.
    lines: Vec<String>,
    stderr: String,
}

impl Finished {
    fn stdout(&self) -> String {
        self.lines.join("\n")
    }

    /// Every stdout line as JSON (each must be one object with `t` and
    /// `event`).
    fn json(&self, what: &str) -> Vec<Value> {
        self.lines
            .iter()
            .map(|l| parse_line(what, l))
            .collect::<Vec<_>>()
    }

    fn assert_success(&self, what: &str) {
        assert!(
            self.status.success(),
            "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
            self.status,
            self.stdout(),
            self.stderr
        );
    }
}

fn parse_line(what: &str, line: &str) -> Value {
    let v: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("{what} printed a line that is not JSON ({e}): {line}"));
    assert!(
        v["t"].is_number() && v["event"].is_string(),
        "{what}: a JSON line without `t` and `event`: {line}"
    );
    v
}

/// A running process whose stdout is read line by line as it comes.
struct Proc {
    what: String,
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: Option<JoinHandle<String>>,
}

impl Proc {
    /// Starts `command` with stdout and stderr piped.
    fn start(what: &str, mut command: Command) -> Proc {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what} ({command:?}): {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
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
        }
    }

    /// Runs `msctp ARGS` inside `ns`.
    fn msctp(what: &str, ns: &Netns, args: &[&str]) -> Proc {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", ns.name(), BIN]).args(args);
        Proc::start(what, command)
    }

    /// Starts `msctp server --json ARGS` in `ns` and waits until it
    /// listens.
    fn server(ns: &Netns, args: &[&str]) -> Proc {
        let mut all = vec!["server", "--json"];
        all.extend_from_slice(args);
        let mut p = Proc::msctp("msctp server", ns, &all);
        p.wait_for("the `listening` line", READY, |v| v["event"] == "listening");
        p
    }

    /// Waits (at most `limit`) for a JSON line that `pred` accepts.
    fn wait_for(&mut self, what: &str, limit: Duration, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let v = parse_line(&self.what, &line);
                    self.seen.push(line);
                    if pred(&v) {
                        return v;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "{}: no {what} within {limit:?}; output so far:\n{}",
                    self.what,
                    self.seen.join("\n")
                ),
                Err(RecvTimeoutError::Disconnected) => {
                    let f = self.finish(STOP);
                    panic!(
                        "{} ended ({}) before {what}:\nstdout:\n{}\nstderr:\n{}",
                        self.what,
                        f.status,
                        f.stdout(),
                        f.stderr
                    );
                }
            }
        }
    }

    /// Sends SIGINT to the process (by its PID: `ip netns exec` execs the
    /// program, so the PID is msctp's).
    fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -INT {} failed", self.child.id());
    }

    /// Waits (at most `limit`) for the process to exit; kills it and
    /// panics if it does not.
    fn finish(&mut self, limit: Duration) -> Finished {
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
                    panic!(
                        "{} did not exit within {limit:?} (killed); output:\n{}",
                        self.what,
                        self.seen.join("\n")
                    );
                }
                Err(e) => panic!("waiting for {}: {e}", self.what),
            }
        };
        // The process is gone: its stdout ends soon.
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

    /// SIGINT, then the exit: status 0 expected.
    fn stop(mut self) -> Finished {
        self.interrupt();
        let f = self.finish(STOP);
        f.assert_success(&format!("{} after SIGINT", self.what));
        f
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

/// Runs `msctp client --json ARGS` in `ns` to its end.
fn client(ns: &Netns, args: &[&str]) -> Finished {
    let mut all = vec!["client", "--json"];
    all.extend_from_slice(args);
    Proc::msctp("msctp client", ns, &all).finish(RUN)
}

/// The client's last line, `client_result`.
fn result(f: &Finished) -> Value {
    let lines = f.json("msctp client");
    let last = lines.last().cloned().unwrap_or(Value::Null);
    assert_eq!(
        last["event"],
        "client_result",
        "the last line is the result:\n{}",
        f.stdout()
    );
    last
}

fn has(events: &[Value], pred: impl Fn(&Value) -> bool) -> bool {
    events.iter().any(pred)
}

fn assoc_change(events: &[Value], change: &str) -> bool {
    has(events, |v| {
        v["event"] == "association_change" && v["change"] == change
    })
}

fn peer_change(events: &[Value], address: IpAddr, changes: &[&str]) -> Option<usize> {
    events.iter().position(|v| {
        v["event"] == "peer_address_change"
            && v["address"] == address.to_string()
            && changes.iter().any(|c| v["change"] == *c)
    })
}

/// A fresh path for a capture.
fn temp_file(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("msctp-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

/// Echo of 100 messages of 1000 bytes between two multi-homed hosts;
/// returns the server's and the client's JSON lines.
fn echo_100(
    transport: &str,
    alpha: &[IpAddr],
    beta: &[IpAddr],
    pcap: Option<&PathBuf>,
) -> (Vec<Value>, Vec<Value>) {
    let lab = Lab::new();
    let server = Proc::server(
        &lab.beta,
        &["--bind", &list(beta), "--transport", transport],
    );
    let local = list(alpha);
    let peer = list(beta);
    let mut args = vec![
        "--bind",
        &local,
        "--connect",
        &peer,
        "--transport",
        transport,
        "--count",
        "100",
        "--size",
        "1000",
    ];
    let pcap_arg;
    if let Some(p) = pcap {
        pcap_arg = p.display().to_string();
        args.extend(["--pcap", &pcap_arg]);
    }
    let c = client(&lab.alpha, &args);
    c.assert_success("msctp client");
    let r = result(&c);
    assert_eq!(r["messages"], 100, "{r}");
    assert_eq!(r["echoed"], 100, "{r}");
    assert_eq!(r["mismatches"], 0, "{r}");
    assert_eq!(r["bytes"], 100_000, "{r}");
    assert!(r["seconds"].as_f64().is_some_and(|s| s > 0.0), "{r}");
    assert!(r["rtt_ms"]["avg"].is_number(), "{r}");
    assert_eq!(r["paths"].as_array().map(Vec::len), Some(2), "{r}");
    let srv = server.stop();
    let events = srv.json("msctp server");
    (events, c.json("msctp client"))
}

fn check_server_saw(events: &[Value], second_client_addr: IpAddr) {
    let text = || {
        events
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        assoc_change(events, "comm_up"),
        "association up:\n{}",
        text()
    );
    assert!(
        assoc_change(events, "shutdown_complete"),
        "association down (graceful):\n{}",
        text()
    );
    assert!(
        peer_change(events, second_client_addr, &["confirmed"]).is_some(),
        "{second_client_addr} confirmed:\n{}",
        text()
    );
    let closed = events
        .iter()
        .rfind(|v| v["event"] == "counters")
        .expect("final counters");
    assert_eq!(closed["state"], "closed");
    assert_eq!(closed["messages_in"], 100);
    assert_eq!(closed["messages_out"], 100);
    assert_eq!(closed["bytes_out"], 100_000);
    assert_eq!(events.last().unwrap()["event"], "stopping");
}

/// RFC 9260 §5.1.2, §5.4: both addresses of each host are announced, the
/// second one is confirmed by HEARTBEAT; 100 echoes over raw IPv4 arrive
/// intact; the association goes up and down gracefully.
#[test]
fn echo_raw_ipv4_multihomed() {
    require_root("this server/client test");
    let (server, _) = echo_100("raw", &[ALPHA1_V4, ALPHA2_V4], &[BETA1_V4, BETA2_V4], None);
    check_server_saw(&server, ALPHA2_V4);
}

/// The same over UDP encapsulation (RFC 6951) with IPv6 addresses; the
/// client's capture decodes in tshark with good CRC32c everywhere.
#[test]
fn echo_udp_ipv6_multihomed() {
    require_root("this server/client test");
    let pcap = temp_file("udp-ipv6.pcap");
    let (server, _) = echo_100(
        "udp",
        &[ALPHA1_V6, ALPHA2_V6],
        &[BETA1_V6, BETA2_V6],
        Some(&pcap),
    );
    check_server_saw(&server, ALPHA2_V6);
    let frames = check_pcap_with_tshark(&pcap, &[]);
    assert!(frames >= 200, "{frames} frames in the capture");
    let _ = std::fs::remove_file(&pcap);
}

/// `--pcap` on the client over raw IPv4: tshark (CRC32c verification on)
/// finds every checksum good and nothing malformed.
#[test]
fn client_pcap_passes_tshark() {
    require_root("this server/client test");
    require_tool("tshark", "tshark");
    let pcap = temp_file("raw-ipv4.pcap");
    echo_100(
        "raw",
        &[ALPHA1_V4, ALPHA2_V4],
        &[BETA1_V4, BETA2_V4],
        Some(&pcap),
    );
    let frames = check_pcap_with_tshark(&pcap, &[]);
    // 100 DATA and their SACKs, 100 echoes and theirs, handshake, shutdown.
    assert!(frames >= 200, "{frames} frames in the capture");
    let _ = std::fs::remove_file(&pcap);
}

/// The reference experiment with the command: link 1 rejects SCTP
/// (iptables REJECT on both hosts) for about a second while the client
/// sends 100 messages per second; every echo still arrives intact, the
/// client reports 192.0.2.2 potentially failed (or unreachable) and then
/// available again (RFC 9260 §6.4.1, §8.2; RFC 7829).
#[test]
fn failover_on_iptables_reject() {
    require_root("this server/client test");
    require_tool("iptables", "iptables");
    let lab = Lab::new();
    let bind_b = list(&[BETA1_V4, BETA2_V4]);
    let mut sargs = vec!["--bind", bind_b.as_str()];
    sargs.extend(FAST);
    let server = Proc::server(&lab.beta, &sargs);
    let bind_a = list(&[ALPHA1_V4, ALPHA2_V4]);
    let mut cargs = vec![
        "client",
        "--json",
        "--bind",
        &bind_a,
        "--connect",
        &bind_b,
        "--count",
        "300",
        "--rate",
        "100",
    ];
    cargs.extend(FAST);
    let mut c = Proc::msctp("msctp client", &lab.alpha, &cargs);
    let rule = ["INPUT", "-p", "sctp", "-i", "link1", "-j", "REJECT"];
    let iptables = |op: &str| {
        for ns in [&lab.alpha, &lab.beta] {
            let mut args = vec![op];
            args.extend(rule);
            ns.exec_ok("iptables", &args);
        }
    };
    // About 1 s in: the first per-second counters.
    c.wait_for("the first counters", Duration::from_secs(10), |v| {
        v["event"] == "counters"
    });
    iptables("-I");
    c.wait_for(
        "192.0.2.2 potentially failed or unreachable",
        Duration::from_secs(10),
        |v| {
            v["event"] == "peer_address_change"
                && v["address"] == s(BETA1_V4)
                && (v["change"] == "potentially_failed" || v["change"] == "unreachable")
        },
    );
    // About a second on link 2: the next counters.
    c.wait_for("the next counters", Duration::from_secs(10), |v| {
        v["event"] == "counters"
    });
    iptables("-D");
    let f = c.finish(RUN);
    f.assert_success("msctp client");
    let r = result(&f);
    assert_eq!(r["messages"], 300, "{r}");
    assert_eq!(r["mismatches"], 0, "{r}");
    assert_eq!(r["echoed"], 300, "{r}");
    let events = f.json("msctp client");
    let down = peer_change(&events, BETA1_V4, &["potentially_failed", "unreachable"])
        .expect("failure event");
    let up = peer_change(&events, BETA1_V4, &["available"])
        .unwrap_or_else(|| panic!("192.0.2.2 available again:\n{}", f.stdout()));
    assert!(up > down, "available after the failure:\n{}", f.stdout());
    // Data went over link 2 meanwhile.
    let paths = r["paths"].as_array().expect("paths");
    let link2 = paths
        .iter()
        .find(|p| p["remote"] == s(BETA2_V4))
        .expect("path to 198.51.100.2");
    assert!(
        link2["data_chunks_sent"].as_u64().unwrap_or(0)
            + link2["retransmissions"].as_u64().unwrap_or(0)
            > 0,
        "DATA moved to link 2: {r}"
    );
    server.stop();
}

/// Messages larger than the receive window (1 MiB) are delivered in
/// pieces (RFC 6458 §8.1.21 partial delivery); the server puts them
/// together before echoing, the client before comparing.
#[test]
fn echo_reassembles_partial_deliveries() {
    require_root("this server/client test");
    let lab = Lab::new();
    let bind_b = list(&[BETA1_V4, BETA2_V4]);
    let server = Proc::server(&lab.beta, &["--bind", &bind_b]);
    let bind_a = list(&[ALPHA1_V4, ALPHA2_V4]);
    let c = client(
        &lab.alpha,
        &[
            "--bind",
            &bind_a,
            "--connect",
            &bind_b,
            "--count",
            "3",
            "--size",
            "3000000",
        ],
    );
    c.assert_success("msctp client");
    let r = result(&c);
    assert_eq!(
        (r["echoed"].clone(), r["mismatches"].clone()),
        (3.into(), 0.into()),
        "{r}"
    );
    let events = server.stop().json("msctp server");
    let closed = events
        .iter()
        .rfind(|v| v["event"] == "counters")
        .expect("final counters");
    assert_eq!(closed["messages_in"], 3, "{closed}");
    assert_eq!(closed["messages_out"], 3, "{closed}");
}

/// Several clients at once: the server serves each association in its own
/// task and reports each.
#[test]
fn server_serves_several_associations_at_once() {
    require_root("this server/client test");
    let lab = Lab::new();
    let bind_b = list(&[BETA1_V4, BETA2_V4]);
    let server = Proc::server(&lab.beta, &["--bind", &bind_b]);
    let bind_a = list(&[ALPHA1_V4, ALPHA2_V4]);
    let clients: Vec<Proc> = (0..3)
        .map(|_| {
            Proc::msctp(
                "msctp client",
                &lab.alpha,
                &[
                    "client",
                    "--json",
                    "--bind",
                    &bind_a,
                    "--connect",
                    &bind_b,
                    "--count",
                    "50",
                    "--rate",
                    "50",
                ],
            )
        })
        .collect();
    for mut c in clients {
        let f = c.finish(RUN);
        f.assert_success("msctp client");
        assert_eq!(result(&f)["mismatches"], 0);
        assert_eq!(result(&f)["echoed"], 50);
    }
    let events = server.stop().json("msctp server");
    let mut up: Vec<u64> = events
        .iter()
        .filter(|v| v["event"] == "association_change" && v["change"] == "comm_up")
        .filter_map(|v| v["association"].as_u64())
        .collect();
    up.sort_unstable();
    up.dedup();
    assert_eq!(up.len(), 3, "three associations: {up:?}");
    let closed = events
        .iter()
        .filter(|v| v["event"] == "counters" && v["state"] == "closed")
        .count();
    assert_eq!(closed, 3);
}

/// `--mode discard` counts without answering; `--mode daytime` sends the
/// time and shuts down by itself.
#[test]
fn discard_and_daytime_modes() {
    require_root("this server/client test");
    let lab = Lab::new();
    let bind_b = list(&[BETA1_V4, BETA2_V4]);
    let bind_a = list(&[ALPHA1_V4, ALPHA2_V4]);

    let server = Proc::server(&lab.beta, &["--bind", &bind_b, "--mode", "discard"]);
    let c = client(
        &lab.alpha,
        &[
            "--bind",
            &bind_a,
            "--connect",
            &bind_b,
            "--mode",
            "discard",
            "--count",
            "50",
            "--size",
            "3000",
        ],
    );
    c.assert_success("msctp client --mode discard");
    let r = result(&c);
    assert_eq!(
        (r["messages"].clone(), r["bytes"].clone()),
        (50.into(), 150_000.into())
    );
    assert_eq!(r["bytes_in"], 0, "a discard server sends nothing: {r}");
    let events = server.stop().json("msctp server");
    let closed = events
        .iter()
        .rfind(|v| v["event"] == "counters")
        .expect("final counters");
    assert_eq!(closed["messages_in"], 50, "{closed}");
    assert_eq!(closed["bytes_in"], 150_000, "{closed}");
    assert_eq!(closed["messages_out"], 0, "{closed}");

    let server = Proc::server(
        &lab.beta,
        &["--bind", &bind_b, "--mode", "daytime", "--port", "13"],
    );
    let c = client(
        &lab.alpha,
        &[
            "--bind",
            &bind_a,
            "--connect",
            &bind_b,
            "--port",
            "13",
            "--mode",
            "discard",
            "--count",
            "0",
        ],
    );
    c.assert_success("msctp client against a daytime server");
    let r = result(&c);
    // "YYYY-MM-DDTHH:MM:SSZ\r\n"
    assert_eq!(r["bytes_in"], 22, "{r}");
    let events = server.stop().json("msctp server");
    assert!(assoc_change(&events, "shutdown_complete"));
}

/// Connection failures are readable and come within the INIT
/// retransmission budget: nothing listens on the UDP port (ICMP port
/// unreachable), and a server on another SCTP port (no answer: INIT
/// retransmitted Max.Init.Retransmits times, quickly with a small
/// --rto-max).
#[test]
fn connect_failures_are_readable() {
    require_root("this server/client test");
    let lab = Lab::new();
    let bind_a = list(&[ALPHA1_V4, ALPHA2_V4]);
    let bind_b = list(&[BETA1_V4, BETA2_V4]);

    // Nobody on UDP 9899 in beta.
    let started = Instant::now();
    let f = client(
        &lab.alpha,
        &[
            "--bind",
            &bind_a,
            "--connect",
            &bind_b,
            "--transport",
            "udp",
            "--rto-max",
            "200",
        ],
    );
    assert_eq!(f.status.code(), Some(1), "{f:?}");
    assert!(
        f.stderr.contains("ICMP port unreachable") && f.stderr.contains("--transport udp"),
        "{}",
        f.stderr
    );
    assert!(started.elapsed() < Duration::from_secs(10));

    // A server on SCTP port 5001; the client asks for 5002.
    let server = Proc::server(&lab.beta, &["--bind", &bind_b, "--transport", "udp"]);
    let started = Instant::now();
    let f = client(
        &lab.alpha,
        &[
            "--bind",
            &bind_a,
            "--connect",
            &bind_b,
            "--transport",
            "udp",
            "--port",
            "5002",
            "--rto-max",
            "200",
        ],
    );
    let took = started.elapsed();
    assert_eq!(f.status.code(), Some(1), "{f:?}");
    assert!(
        f.stderr.contains(
            "no answer from 192.0.2.2, 198.51.100.2 after 8 INIT retransmissions \
             (Max.Init.Retransmits)"
        ),
        "{}",
        f.stderr
    );
    let events = f.json("msctp client");
    assert!(
        has(&events, |v| v["event"] == "association_change"
            && v["change"] == "cant_start_association"
            && v["reason"] == "init_retransmission_limit"),
        "{}",
        f.stdout()
    );
    assert_eq!(events.last().unwrap()["event"], "error");
    // 9 INITs 200 ms apart at most.
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let events = server.stop().json("msctp server");
    assert!(!assoc_change(&events, "comm_up"));
}

/// Binding problems: an address that is not local, a UDP port in use.
#[test]
fn bind_failures_are_readable() {
    require_root("this server/client test");
    let lab = Lab::new();
    let mut p = Proc::msctp(
        "msctp server",
        &lab.beta,
        &["server", "--bind", "192.0.2.99"],
    );
    let f = p.finish(RUN);
    assert_eq!(f.status.code(), Some(1), "{f:?}");
    assert!(
        f.stderr
            .contains("192.0.2.99 is not an address of this host"),
        "{}",
        f.stderr
    );

    let bind_b = list(&[BETA1_V4, BETA2_V4]);
    let server = Proc::server(&lab.beta, &["--bind", &bind_b, "--transport", "udp"]);
    let mut p = Proc::msctp(
        "second msctp server",
        &lab.beta,
        &[
            "server",
            "--bind",
            &bind_b,
            "--transport",
            "udp",
            "--port",
            "5002",
        ],
    );
    let f = p.finish(RUN);
    assert_eq!(f.status.code(), Some(1), "{f:?}");
    assert!(
        f.stderr.contains("UDP port 9899 is already in use")
            && f.stderr.contains("--transport udp:PORT"),
        "{}",
        f.stderr
    );
    server.stop();
}

/// Raw IP without CAP_NET_RAW (root with the capability taken away by
/// setpriv): the message names the capability and `--transport udp`, exit
/// status 1; the same command over UDP works without it.
#[test]
fn raw_without_cap_net_raw() {
    require_root("this server/client test");
    let setpriv = require_tool("setpriv", "util-linux");
    let lab = Lab::new();
    let unprivileged = |ns: &Netns, what: &str, args: &[&str]| {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", ns.name()])
            .arg(&setpriv)
            .args(["--inh-caps=-all", "--bounding-set=-net_raw", "--", BIN])
            .args(args);
        Proc::start(what, command)
    };
    for (what, args) in [
        (
            "msctp client",
            vec!["client", "--bind", "192.0.2.1", "--connect", "192.0.2.2"],
        ),
        ("msctp server", vec!["server", "--bind", "192.0.2.2"]),
    ] {
        let ns = if what == "msctp client" {
            &lab.alpha
        } else {
            &lab.beta
        };
        let f = unprivileged(ns, what, &args).finish(RUN);
        assert_eq!(f.status.code(), Some(1), "{what}: {f:?}");
        assert!(
            f.stderr.contains("CAP_NET_RAW") && f.stderr.contains("--transport udp"),
            "{what}: {}",
            f.stderr
        );
    }
    // UDP needs no privilege.
    let mut server = unprivileged(
        &lab.beta,
        "unprivileged msctp server",
        &[
            "server",
            "--json",
            "--bind",
            "192.0.2.2",
            "--transport",
            "udp",
        ],
    );
    server.wait_for("the `listening` line", READY, |v| v["event"] == "listening");
    let f = unprivileged(
        &lab.alpha,
        "unprivileged msctp client",
        &[
            "client",
            "--json",
            "--bind",
            "192.0.2.1",
            "--connect",
            "192.0.2.2",
            "--transport",
            "udp",
        ],
    )
    .finish(RUN);
    f.assert_success("unprivileged msctp client over UDP");
    assert_eq!(result(&f)["echoed"], 10);
    server.stop();
}

/// Bad flags: exit status 2 and a message naming the flag and the fix.
/// (No network: runs without root.)
#[test]
fn bad_flags_name_the_flag() {
    let cases: [(&[&str], &[&str]); 8] = [
        (
            &["client", "--bind", "nonsense", "--connect", "192.0.2.2"],
            &["--bind", "not an IP address", "192.0.2.1,198.51.100.1"],
        ),
        (
            &["client", "--bind", "192.0.2.1", "--connect", "192.0.2.2,"],
            &["--connect", "missing"],
        ),
        (
            &[
                "client",
                "--bind",
                "192.0.2.1",
                "--connect",
                "192.0.2.2",
                "--transport",
                "tcp",
            ],
            &["--transport", "raw", "udp:PORT"],
        ),
        (
            &["server", "--bind", "192.0.2.1", "--transport", "udp:0"],
            &["--transport", "1 to 65535"],
        ),
        (
            &[
                "client",
                "--bind",
                "192.0.2.1",
                "--connect",
                "192.0.2.2",
                "--rate",
                "0",
            ],
            &["--rate", "above 0"],
        ),
        (
            &[
                "client",
                "--bind",
                "192.0.2.1",
                "--connect",
                "192.0.2.2",
                "--size",
                "0",
            ],
            &["--size", "1..="],
        ),
        (
            &[
                "client",
                "--bind",
                "192.0.2.1",
                "--connect",
                "192.0.2.2",
                "--rto-min",
                "500",
                "--rto-max",
                "100",
            ],
            &["--rto-min 500", "--rto-max 100"],
        ),
        (
            &["server", "--bind", "192.0.2.1", "--mode", "chargen"],
            &["--mode", "echo", "discard", "daytime"],
        ),
    ];
    for (args, words) in cases {
        let mut command = Command::new(BIN);
        command.args(args);
        let f = Proc::start("msctp", command).finish(RUN);
        assert_eq!(f.status.code(), Some(2), "{args:?}: {f:?}");
        for w in words {
            assert!(f.stderr.contains(w), "{args:?}: `{w}` not in: {}", f.stderr);
        }
    }
    // --bind is required.
    let mut command = Command::new(BIN);
    command.args(["server"]);
    let f = Proc::start("msctp", command).finish(RUN);
    assert_eq!(f.status.code(), Some(2));
    assert!(f.stderr.contains("--bind"), "{}", f.stderr);
}
