//! A hostile peer against a live multi-homed msctp association (issue 8):
//! the `msctp` command as echo server in beta and as client in alpha (both
//! bound to both of their addresses), carrying a stream of messages that the
//! client verifies byte for byte; meanwhile `tests/hostile/hostile_peer.py`
//! (python3 with scapy, raw sockets, its own CRC32c) runs in beta, learns
//! the association's ports, tags and TSNs by sniffing, and sends the client
//! crafted packets in the server's name.
//!
//! Every test asserts that the association survives where the RFC says it
//! must, that no message is lost or duplicated (every echo arrives, intact,
//! once), that the client's resident memory (`VmRSS` of /proc/PID/status,
//! sampled while the attack runs) grows by less than [`RSS_GROWTH_LIMIT_KB`],
//! and that the client exits 0 after a graceful shutdown.
//!
//! Needs root, iptables, tcpdump and python3 with scapy (Debian
//! `python3-scapy`): fails, never skips, without them.

#[path = "interop/procs.rs"]
mod procs;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use msctp::testing::addr::*;
use msctp::testing::capture::Capture;
use msctp::testing::{Lab, require_root, require_tool};
use procs::{FAST, Proc, Scratch, list};
use serde_json::Value;

/// Longest wait for the association to come up.
const WAIT: Duration = Duration::from_secs(15);
/// Longest run of the attack script and of the client.
const RUN: Duration = Duration::from_secs(45);
/// How much the client's RSS may grow while it is attacked.
const RSS_GROWTH_LIMIT_KB: u64 = 24 * 1024;

/// The python interpreter with scapy (Debian's; a python of a virtual
/// environment first in PATH may lack scapy).
fn python() -> PathBuf {
    let py = Path::new("/usr/bin/python3");
    assert!(
        py.is_file(),
        "/usr/bin/python3 is missing: `apt-get install python3 python3-scapy`"
    );
    let ok = std::process::Command::new(py)
        .args(["-c", "import scapy.all"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "python3 cannot import scapy: `apt-get install python3-scapy` (the hostile-peer tests \
         sniff and craft packets with it)"
    );
    py.to_path_buf()
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/hostile_peer.py")
}

/// What an attack run measured.
struct Outcome {
    script: Vec<String>,
    client_events: Vec<Value>,
    rss_before_kb: u64,
    rss_max_kb: u64,
    alpha_capture: Option<msctp::testing::capture::Captured>,
}

/// Runs the attack `attack` against a live association carrying `count`
/// messages of 1000 bytes, and checks what every attack must leave intact
/// (see the module documentation). `echo`: the client sends a message,
/// waits for its echo and verifies it, at most 40 a second (one message in
/// flight); otherwise (discard) it sends 200 a second without waiting, so
/// that several DATA chunks are in flight, and the server's counters show
/// that each arrived once.
fn under_attack(attack: &str, udp: bool, count: u64, capture: bool, echo: bool) -> Outcome {
    require_root("the hostile-peer tests (namespaces, raw sockets, iptables)");
    require_tool("iptables", "iptables");
    let py = python();
    procs::msctp_bin();
    let lab = Lab::new();
    let scratch = Scratch::new(&format!("hostile-{attack}"));
    let cap = capture.then(|| Capture::start(&lab.alpha, scratch.dir(), "alpha"));
    let transport = if udp { "udp" } else { "raw" };
    let bind_b = list(&[BETA1_V4, BETA2_V4]);
    let mode = if echo { "echo" } else { "discard" };
    let mut sargs = vec![
        "server",
        "--json",
        "--bind",
        &bind_b,
        "--transport",
        transport,
        "--mode",
        mode,
    ];
    sargs.extend(FAST);
    let mut server = Proc::msctp("msctp server", &lab.beta, &sargs);
    server.wait_json("`listening`", WAIT, |v| v["event"] == "listening");

    let bind_a = list(&[ALPHA1_V4, ALPHA2_V4]);
    let count_s = count.to_string();
    let mut cargs = vec![
        "client",
        "--json",
        "--bind",
        &bind_a,
        "--connect",
        &bind_b,
        "--transport",
        transport,
        "--count",
        &count_s,
        "--size",
        "1000",
        "--mode",
        mode,
        "--rate",
        if echo { "40" } else { "200" },
    ];
    cargs.extend(FAST);
    let mut client = Proc::msctp("msctp client", &lab.alpha, &cargs);
    client.wait_json("comm_up", WAIT, |v| {
        v["event"] == "association_change" && v["change"] == "comm_up"
    });
    let rss_before_kb = client.rss_kb().expect("the client's VmRSS");

    let script_path = script();
    let mut sargs = vec![script_path.to_str().unwrap(), attack, "--port", "5001"];
    if udp {
        sargs.push("--udp");
    }
    let mut hostile = Proc::start("hostile peer", &lab.beta, &py, &sargs);
    // Sample the client's memory while the attack runs.
    let mut rss_max_kb = rss_before_kb;
    let deadline = Instant::now() + RUN;
    while !hostile.exited() {
        assert!(
            Instant::now() < deadline,
            "the hostile peer did not finish within {RUN:?}"
        );
        if let Some(kb) = client.rss_kb() {
            rss_max_kb = rss_max_kb.max(kb);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let h = hostile.finish(RUN);
    let script_out = h.lines.clone();
    assert!(
        h.status.success() && script_out.iter().any(|l| l == "done"),
        "the hostile peer failed ({}):\n{}\n{}",
        h.status,
        h.stdout(),
        h.stderr
    );
    if let Some(kb) = client.rss_kb() {
        rss_max_kb = rss_max_kb.max(kb);
    }

    let f = client.finish(RUN);
    let srv = server.stop();
    let alpha_capture = cap.map(Capture::stop);
    println!(
        "== {attack}: client VmRSS {rss_before_kb} kB before, at most {rss_max_kb} kB under \
         attack; hostile peer said:\n{}",
        script_out.join("\n")
    );
    let events = f.json();
    let text = procs::brief(&f.lines);
    f.assert_success(&format!("msctp client under attack `{attack}`"));
    let result = events.last().cloned().unwrap_or(Value::Null);
    assert_eq!(result["event"], "client_result", "{text}");
    assert_eq!(result["messages"], count, "`{attack}`: {result}");
    if echo {
        assert_eq!(
            (result["echoed"].clone(), result["mismatches"].clone()),
            (count.into(), 0.into()),
            "`{attack}`: every message echoed, intact, once: {result}"
        );
        assert_eq!(
            result["messages_in"], count,
            "`{attack}`: no message delivered twice: {result}"
        );
    }
    for v in &events {
        assert!(
            !(v["event"] == "association_change"
                && (v["change"] == "comm_lost" || v["change"] == "restart")),
            "`{attack}`: the association must survive (no loss, no restart): {v}\n{text}"
        );
    }
    assert!(
        rss_max_kb.saturating_sub(rss_before_kb) < RSS_GROWTH_LIMIT_KB,
        "`{attack}`: the client's RSS grew from {rss_before_kb} kB to {rss_max_kb} kB \
         (limit: +{RSS_GROWTH_LIMIT_KB} kB)"
    );
    srv.assert_success("msctp server after SIGINT");
    let server_events = srv.json();
    let closed = server_events
        .iter()
        .rfind(|v| v["event"] == "counters" && v["state"] == "closed")
        .unwrap_or_else(|| panic!("the server's final counters:\n{}", procs::brief(&srv.lines)));
    assert_eq!(
        (closed["messages_in"].clone(), closed["bytes_in"].clone()),
        (count.into(), (count * 1000).into()),
        "`{attack}`: the server received every message exactly once: {closed}"
    );
    Outcome {
        script: script_out,
        client_events: events,
        rss_before_kb,
        rss_max_kb,
        alpha_capture,
    }
}

/// RFC 9260 §6.2.1: SACKs with 4000 and 16000 Gap Ack Blocks (IP
/// fragmented), half with the current Cumulative TSN Ack and blocks beyond
/// anything sent, half with a stale one (D i: "drop the SACK"). Processing
/// a SACK costs bounded work and memory; the association carries on.
#[test]
fn sack_with_thousands_of_gap_blocks() {
    let o = under_attack("gap-flood", false, 300, false, true);
    assert!(o.script.iter().any(|l| l.starts_with("sent gap-flood")));
}

/// RFC 9260 §6.2.1 (reneging): DATA gap-acked by forged SACKs while the
/// server never got it (dropped by iptables) and then left out of the real
/// SACKs must not be freed: it is retransmitted and every message arrives.
#[test]
fn reneged_gap_acks_are_retransmitted() {
    let o = under_attack("renege", false, 1000, false, false);
    assert!(o.script.iter().any(|l| l.starts_with("sent renege")));
}

/// RFC 9260 §6.2 (duplicate TSN: reported, not delivered again) and RFC 4820
/// (PAD chunk, type 0x84: skipped): a DATA chunk the client already has,
/// sent again behind or in front of PAD chunks of 1200 to 60000 bytes.
#[test]
fn pad_inflated_duplicate_data_is_not_delivered_twice() {
    let o = under_attack("pad-dup", false, 300, false, true);
    assert!(o.script.iter().any(|l| l.starts_with("sent pad-dup")));
}

/// RFC 9260 §8.5.1 B: an ABORT with the T bit set is accepted only with
/// the peer's tag, without it only with the receiver's own: blind ABORTs
/// with tag 0 (T set and clear) and random tags are discarded.
#[test]
fn blind_abort_with_tag_zero_and_t_bit_is_discarded() {
    let o = under_attack("blind-abort", false, 300, false, true);
    assert!(o.script.iter().any(|l| l.starts_with("sent blind-abort")));
}

/// The same blind ABORTs over UDP encapsulation (RFC 6951), from the
/// server's own addresses and UDP port 9899.
#[test]
fn blind_abort_over_udp_is_discarded() {
    let o = under_attack("blind-abort", true, 300, false, true);
    assert!(o.script.iter().any(|l| l.starts_with("sent blind-abort")));
}

/// RFC 9260 §6.2.1 over UDP encapsulation: the gap-block flood from the
/// server's addresses and UDP port 9899.
#[test]
fn sack_with_thousands_of_gap_blocks_over_udp() {
    let o = under_attack("gap-flood", true, 300, false, true);
    assert!(o.script.iter().any(|l| l.starts_with("sent gap-flood")));
}

/// RFC 6951 §5 and RFC 9260 §8.5: over UDP encapsulation, datagrams from
/// the server's own addresses but another UDP port (40000), with wrong
/// verification tags (HEARTBEAT, ABORT, SACK), are discarded: the
/// association carries on and msctp never starts sending to UDP port 40000.
#[test]
fn spoofed_udp_datagrams_are_discarded() {
    let o = under_attack("udp-spoof", true, 300, true, true);
    assert!(o.script.iter().any(|l| l.starts_with("sent udp-spoof")));
    let cap = o.alpha_capture.expect("alpha's capture");
    let to_spoofed: u64 = cap
        .ifaces
        .iter()
        .map(|i| {
            i.sctp
                .iter()
                .filter(|r| r.udp_ports.is_some_and(|(_, d)| d == 40000))
                .count() as u64
        })
        .sum();
    assert_eq!(
        to_spoofed, 0,
        "RFC 6951: a datagram with a wrong verification tag must not change the path's UDP port"
    );
}

/// RFC 9260 §5.2.2 and §9.2: while the client waits in SHUTDOWN-SENT (its
/// SHUTDOWN dropped at the server by iptables), an INIT with a new tag from
/// the server's address neither restarts nor ends the association; once
/// the SHUTDOWN gets through the shutdown completes and the client exits
/// 0 with every message echoed.
#[test]
fn restart_init_while_shutting_down() {
    let o = under_attack("restart-shutdown", false, 60, false, true);
    assert!(
        o.script
            .iter()
            .any(|l| l.starts_with("sent restart-shutdown")),
        "{:?}",
        o.script
    );
    assert!(
        o.client_events
            .iter()
            .any(|v| v["event"] == "association_change" && v["change"] == "shutdown_complete"),
        "the shutdown completes"
    );
    let answer = o.script.iter().find(|l| l.starts_with("answer"));
    println!(
        "client's answer to the INIT (chunk types per packet): {answer:?}; RSS {} → {} kB",
        o.rss_before_kb, o.rss_max_kb
    );
}
