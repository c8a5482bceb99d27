//! Interop with a real third-party SCTP stack, usrsctp (Debian's
//! `libusrsctp2` 0.9.5), between the two namespaces of the lab (issue 8):
//! the `msctp` command on one side, on the other the usrsctp example
//! `echo_server` of `libusrsctp-examples` or the small usrsctp program of
//! `tests/interop/usrsctp_peer.c` (compiled by the test against
//! `libusrsctp-dev`: it binds exactly the addresses it is given, says when
//! it listens and prints its path events, which the examples do not).
//!
//! Every interface of both namespaces is captured with tcpdump
//! (`msctp::testing::capture`), and the captures are checked: every packet
//! msctp sends on link k carries msctp's own link-k address (RFC 9260 §6.4,
//! the design document's "a path's source is the bound address the routing
//! uses"), and tshark (CRC32c on) finds every SCTP frame good. The per-link
//! source counts of msctp and of usrsctp are printed side by side.
//!
//! usrsctp reads its local addresses once, in `usrsctp_init()`: it is
//! started after the lab is configured. Raw IP needs it to run as root
//! inside the namespace (it is). Needs root, tcpdump, tshark, iptables, cc
//! and the usrsctp packages: fails, never skips, without them.

#[path = "interop/procs.rs"]
mod procs;

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use msctp::testing::addr::*;
use msctp::testing::capture::{ALPHA_HOMING, BETA_HOMING, Capture, Captured, chunk_type};
use msctp::testing::{Lab, Netns, require_root, require_tool};
use procs::{FAST, IptablesRule, Proc, Scratch, list, usrsctp_example, usrsctp_peer_bin};
use serde_json::Value;

/// The SCTP port of the servers (the usrsctp `echo_server` has 7 built in).
const PORT: &str = "5001";
/// Longest wait for the association to come up and its paths to be
/// confirmed, for a path to fail, for it to come back.
const WAIT: Duration = Duration::from_secs(15);
/// Longest run of a client.
const RUN: Duration = Duration::from_secs(50);

fn s(a: IpAddr) -> String {
    a.to_string()
}

fn need_everything() {
    require_root("the usrsctp interop tests (namespaces, raw sockets, iptables, tcpdump)");
    require_tool("tcpdump", "tcpdump");
    require_tool("tshark", "tshark");
    require_tool("iptables", "iptables");
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Transport {
    Raw,
    Udp,
}

impl Transport {
    fn msctp(self) -> &'static str {
        match self {
            Transport::Raw => "raw",
            Transport::Udp => "udp",
        }
    }

    /// The UDP port usrsctp is started with (`usrsctp_init(port)`): 0 = no
    /// UDP encapsulation.
    fn usrsctp_port(self) -> &'static str {
        match self {
            Transport::Raw => "0",
            Transport::Udp => "9899",
        }
    }

    /// iptables match of this transport's packets arriving (`dport`) or
    /// leaving (`sport`) beta.
    fn iptables_match(self, dir: &str) -> Vec<&'static str> {
        match (self, dir) {
            (Transport::Raw, _) => vec!["-p", "sctp"],
            (Transport::Udp, "in") => vec!["-p", "udp", "--dport", "9899"],
            (Transport::Udp, _) => vec!["-p", "udp", "--sport", "9899"],
        }
    }
}

/// Captures of both namespaces, started before any program.
struct Captures<'a> {
    alpha: Capture<'a>,
    beta: Capture<'a>,
}

impl<'a> Captures<'a> {
    fn start(lab: &'a Lab, scratch: &Scratch) -> Captures<'a> {
        Captures {
            alpha: Capture::start(&lab.alpha, scratch.dir(), "alpha"),
            beta: Capture::start(&lab.beta, scratch.dir(), "beta"),
        }
    }

    fn stop(self) -> (Captured, Captured) {
        (self.alpha.stop(), self.beta.stop())
    }
}

/// Prints the per-link source counts of both hosts as both namespaces saw
/// them, and returns the text.
fn report_sources(title: &str, msctp_side: &str, a: &Captured, b: &Captured) -> String {
    let (msctp_homing, usrsctp_homing) = if msctp_side == "alpha" {
        (ALPHA_HOMING, BETA_HOMING)
    } else {
        (BETA_HOMING, ALPHA_HOMING)
    };
    let hosts = [("msctp", msctp_homing), ("usrsctp", usrsctp_homing)];
    let text = format!(
        "== {title}: SCTP packets per link by source address (msctp | usrsctp)\n{}{}",
        a.sources_table(&hosts),
        b.sources_table(&hosts)
    );
    println!("{text}");
    text
}

/// Checks both captures with tshark (CRC32c on, nothing malformed) and
/// that no IP fragment went by.
fn check_captures(a: &Captured, b: &Captured) {
    for c in [a, b] {
        let frames = c.check_with_tshark(&[]);
        assert!(
            frames.values().sum::<usize>() > 0,
            "no SCTP in the captures of {}",
            c.namespace
        );
        assert!(
            c.fragments().values().all(|n| *n == 0),
            "IP fragments in {}: {:?}",
            c.namespace,
            c.fragments()
        );
    }
}

fn wall(t: SystemTime) -> Duration {
    t.duration_since(UNIX_EPOCH).expect("clock after 1970")
}

/// DATA chunks msctp (source among `from`) sent to `to` on `iface` within
/// `[after, before)` (capture timestamps).
fn data_to(c: &Captured, iface: &str, to: IpAddr, after: Duration, before: Duration) -> usize {
    c.iface(iface)
        .sctp
        .iter()
        .filter(|r| r.dst == to && r.time >= after && r.time < before)
        .map(|r| {
            r.chunks
                .iter()
                .filter(|ch| ch.kind == chunk_type::DATA)
                .count()
        })
        .sum()
}

fn events_text(events: &[Value]) -> String {
    events
        .iter()
        .filter(|v| v["event"] != "counters")
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn peer_event(v: &Value, address: IpAddr, changes: &[&str]) -> bool {
    v["event"] == "peer_address_change"
        && v["address"] == s(address)
        && changes.iter().any(|c| v["change"] == *c)
}

/// The usrsctp peer as a server in `ns`, listening on `bind` port 5001;
/// returns once it says `ready`.
fn usrsctp_server(ns: &Netns, bind: &[IpAddr], t: Transport, mode: &str) -> Proc {
    let mut p = Proc::start(
        "usrsctp peer (server)",
        ns,
        usrsctp_peer_bin(),
        &["server", &list(bind), PORT, t.usrsctp_port(), mode],
    );
    p.wait_line("`ready`", WAIT, |l| l == "ready");
    p
}

/// The usrsctp server's `assoc_end` line: messages in, bytes in, messages
/// out.
fn assoc_end(lines: &[String]) -> Option<(u64, u64, u64)> {
    let line = lines.iter().find(|l| l.starts_with("assoc_end "))?;
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .and_then(|v| v.parse().ok())
    };
    Some((
        field("messages_in=")?,
        field("bytes_in=")?,
        field("messages_out=")?,
    ))
}

/// Issue 8 (a): msctp client multi-homed in alpha (both addresses),
/// connecting to 192.0.2.2 only, ↔ usrsctp listening on both of beta's
/// addresses. Link 1 is blocked in beta (`target`: REJECT or DROP) while
/// messages flow, then opened again.
///
/// Asserts: RFC 9260 §5.1.2/§5.4 the association comes up and both peer
/// paths are confirmed; §6.4 the primary is the INIT's destination
/// (192.0.2.2) and every packet msctp sends on link k has msctp's link-k
/// address as source; §6.4.1/§8.2 and RFC 7829 only the link-1 path fails
/// (potentially failed or unreachable), the link-2 path never does, DATA
/// moves to link 2 and every message is echoed intact, exactly once
/// (msctp's count and byte-for-byte check, usrsctp's received count); when
/// the rule is removed the link-1 path becomes available again and DATA
/// returns to it (RFC 9260 §8.3, RFC 7829 §4). tshark: every SCTP frame
/// good.
fn failover_against_usrsctp(t: Transport, target: &str) {
    need_everything();
    let peer = usrsctp_peer_bin();
    assert!(peer.is_file());
    // Build the msctp command before the clock of the test starts.
    procs::msctp_bin();
    let lab = Lab::new();
    let scratch = Scratch::new(&format!("failover-{}-{target}", t.msctp()));
    let caps = Captures::start(&lab, &scratch);
    let server = usrsctp_server(&lab.beta, &[BETA1_V4, BETA2_V4], t, "echo");

    let count: u64 = 600;
    let count_s = count.to_string();
    let local = list(&[ALPHA1_V4, ALPHA2_V4]);
    let beta1 = s(BETA1_V4);
    let mut args = vec![
        "client",
        "--json",
        "--bind",
        &local,
        "--connect",
        &beta1,
        "--port",
        PORT,
        "--transport",
        t.msctp(),
        "--count",
        &count_s,
        "--size",
        "1000",
        "--rate",
        "50",
    ];
    args.extend(FAST);
    let mut client = Proc::msctp("msctp client", &lab.alpha, &args);

    let up = client.wait_json("comm_up", WAIT, |v| {
        v["event"] == "association_change" && v["change"] == "comm_up"
    });
    let peers: Vec<String> = up["peer_addresses"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        peers.contains(&s(BETA1_V4)) && peers.contains(&s(BETA2_V4)),
        "RFC 9260 §5.1.2: usrsctp's INIT ACK announces both of beta's addresses: {up}"
    );
    client.wait_json("198.51.100.2 confirmed", WAIT, |v| {
        peer_event(v, BETA2_V4, &["confirmed"])
    });
    let both = client.wait_json("counters with both paths active", WAIT, |v| {
        v["event"] == "counters"
            && v["paths"].as_array().is_some_and(|p| {
                p.len() >= 2
                    && [BETA1_V4, BETA2_V4].iter().all(|a| {
                        p.iter()
                            .any(|x| x["remote"] == s(*a) && x["state"] == "active")
                    })
            })
    });
    let primary: Vec<&Value> = both["paths"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["primary"] == true)
        .collect();
    assert!(
        primary.len() == 1 && primary[0]["remote"] == s(BETA1_V4),
        "RFC 9260 §6.4: the primary is the INIT's destination 192.0.2.2: {both}"
    );

    // Block link 1 in beta, both ways.
    let blocked_at = wall(SystemTime::now());
    let mut rule_in = vec!["INPUT", "-i", "link1"];
    rule_in.extend(t.iptables_match("in"));
    rule_in.extend(["-j", target]);
    let mut rule_out = vec!["OUTPUT", "-o", "link1"];
    rule_out.extend(t.iptables_match("out"));
    rule_out.extend(["-j", target]);
    let r_in = IptablesRule::insert(&lab.beta, &rule_in);
    let r_out = IptablesRule::insert(&lab.beta, &rule_out);
    client.wait_json("192.0.2.2 potentially failed or unreachable", WAIT, |v| {
        peer_event(v, BETA1_V4, &["potentially_failed", "unreachable"])
    });
    let pf_seen = client.seen.len();
    // About two seconds on link 2 alone.
    for _ in 0..2 {
        client.wait_json("counters", WAIT, |v| v["event"] == "counters");
    }
    let early: Vec<&String> = client.seen[pf_seen..]
        .iter()
        .filter(|l| procs::json_line(l).is_some_and(|v| peer_event(&v, BETA1_V4, &["available"])))
        .collect();
    assert!(
        early.is_empty(),
        "RFC 9260 §8.3: 192.0.2.2 reported available while link 1 is still blocked \
         (nothing from it can arrive): {early:?}\n{}",
        procs::brief(&client.seen)
    );
    let unblocked_at = wall(SystemTime::now());
    r_in.remove();
    r_out.remove();
    client.wait_json("192.0.2.2 available again", WAIT, |v| {
        peer_event(v, BETA1_V4, &["available"])
    });
    let back_at = wall(SystemTime::now());

    let f = client.finish(RUN);
    // usrsctp's threads do not always let SIGINT end the program: SIGKILL
    // (its output so far is all that is needed).
    let server_out = server.kill();
    let (ca, cb) = caps.stop();
    let table = report_sources(
        &format!("msctp client ↔ usrsctp server, {}, {target}", t.msctp()),
        "alpha",
        &ca,
        &cb,
    );

    f.assert_success("msctp client");
    let events = f.json();
    let result = events.last().cloned().unwrap_or(Value::Null);
    assert_eq!(
        result["event"],
        "client_result",
        "{}",
        procs::brief(&f.lines)
    );
    assert_eq!(result["messages"], count, "{result}");
    assert_eq!(
        result["echoed"], count,
        "every message echoed once: {result}"
    );
    assert_eq!(result["mismatches"], 0, "every echo intact: {result}");
    assert!(
        !events
            .iter()
            .any(|v| peer_event(v, BETA2_V4, &["potentially_failed", "unreachable"])),
        "RFC 9260 §8.2: only the link-1 path fails; the link-2 path stays active:\n{}",
        events_text(&events)
    );
    let (m_in, b_in, m_out) = assoc_end(&server_out.lines).unwrap_or_else(|| {
        panic!(
            "the usrsctp peer reported no association end:\n{}",
            server_out.stdout()
        )
    });
    assert_eq!(
        (m_in, b_in, m_out),
        (count, count * 1000, count),
        "usrsctp received every message exactly once and echoed it"
    );

    // On the wire.
    for c in [&ca, &cb] {
        c.assert_sources("msctp", ALPHA_HOMING);
    }
    let init = ca
        .ifaces
        .iter()
        .flat_map(|i| i.sctp.iter())
        .find(|r| r.has(chunk_type::INIT))
        .expect("msctp's INIT in alpha's capture");
    assert_eq!(init.dst, BETA1_V4, "the INIT goes to --connect");
    assert_eq!(
        data_to(&ca, "link2", BETA2_V4, Duration::ZERO, blocked_at),
        0,
        "RFC 9260 §6.4: before the failure all DATA goes to the primary 192.0.2.2\n{table}"
    );
    assert!(
        data_to(&ca, "link1", BETA1_V4, Duration::ZERO, blocked_at) > 0,
        "DATA on link 1 before the failure\n{table}"
    );
    assert!(
        data_to(&ca, "link2", BETA2_V4, blocked_at, unblocked_at) > 0,
        "RFC 9260 §6.4.1: DATA moves to link 2 while link 1 is blocked\n{table}"
    );
    assert!(
        data_to(&ca, "link1", BETA1_V4, back_at, Duration::MAX) > 0,
        "RFC 7829 §4 / RFC 9260 §8.3: DATA returns to link 1 once 192.0.2.2 answers again\n{table}"
    );
    check_captures(&ca, &cb);
}

#[test]
fn usrsctp_server_failover_raw_reject() {
    failover_against_usrsctp(Transport::Raw, "REJECT");
}

#[test]
fn usrsctp_server_failover_raw_drop() {
    failover_against_usrsctp(Transport::Raw, "DROP");
}

#[test]
fn usrsctp_server_failover_udp_reject() {
    failover_against_usrsctp(Transport::Udp, "REJECT");
}

#[test]
fn usrsctp_server_failover_udp_drop() {
    failover_against_usrsctp(Transport::Udp, "DROP");
}

/// Issue 8 (b): `msctp server --bind 192.0.2.2,198.51.100.2 --mode echo` in
/// beta ↔ a multi-homed usrsctp client in alpha (bound to both of alpha's
/// addresses, connecting to both of beta's). RFC 9260 §5.1.2: the
/// association comes up and msctp confirms alpha's second address by
/// HEARTBEAT (§5.4); every message is echoed intact; §6.4 every packet msctp
/// sends on link k carries msctp's link-k address; tshark: every SCTP frame
/// good.
fn msctp_server_with_usrsctp_client(t: Transport) {
    need_everything();
    let peer = usrsctp_peer_bin();
    procs::msctp_bin();
    let lab = Lab::new();
    let scratch = Scratch::new(&format!("msctp-server-{}", t.msctp()));
    let caps = Captures::start(&lab, &scratch);
    let bind = list(&[BETA1_V4, BETA2_V4]);
    let mut args = vec![
        "server",
        "--json",
        "--bind",
        &bind,
        "--port",
        PORT,
        "--mode",
        "echo",
        "--transport",
        t.msctp(),
    ];
    args.extend(FAST);
    let mut server = Proc::msctp("msctp server", &lab.beta, &args);
    server.wait_json("`listening`", WAIT, |v| v["event"] == "listening");

    let count = 200u64;
    let mut client = Proc::start(
        "usrsctp peer (client)",
        &lab.alpha,
        peer,
        &[
            "client",
            &list(&[ALPHA1_V4, ALPHA2_V4]),
            &list(&[BETA1_V4, BETA2_V4]),
            PORT,
            t.usrsctp_port(),
            &count.to_string(),
            "1000",
            // 10 ms between messages: the run lasts a few seconds, long
            // enough for heartbeats on the second path.
            "10",
        ],
    );
    let f = client.finish(RUN);
    let srv = server.stop();
    let (ca, cb) = caps.stop();
    report_sources(
        &format!("usrsctp client ↔ msctp server, {}", t.msctp()),
        "beta",
        &ca,
        &cb,
    );

    assert!(
        f.lines
            .iter()
            .any(|l| l.starts_with(&format!("result sent={count} echoed={count} mismatches=0"))),
        "usrsctp client: every message echoed intact (exit {}):\n{}\n{}",
        f.status,
        f.stdout(),
        f.stderr
    );
    f.assert_success("usrsctp client");
    let events = srv.json();
    assert!(
        events
            .iter()
            .any(|v| v["event"] == "association_change" && v["change"] == "comm_up"),
        "msctp server: association up:\n{}",
        events_text(&events)
    );
    // The INIT's source is confirmed by the handshake, the other address
    // by a HEARTBEAT (usrsctp in raw mode sends its INIT from
    // 198.51.100.1, over UDP from 192.0.2.1): both end up active.
    assert!(
        events.iter().any(|v| v["event"] == "counters"
            && v["paths"].as_array().is_some_and(|p| {
                [ALPHA1_V4, ALPHA2_V4].iter().all(|a| {
                    p.iter()
                        .any(|x| x["remote"] == s(*a) && x["state"] == "active")
                })
            })),
        "RFC 9260 §5.4: msctp confirms both of the client's addresses:\n{}",
        procs::brief(&srv.lines)
    );
    let closed = events
        .iter()
        .rfind(|v| v["event"] == "counters" && v["state"] == "closed")
        .unwrap_or_else(|| panic!("final counters:\n{}", events_text(&events)));
    assert_eq!(closed["messages_in"], count, "{closed}");
    assert_eq!(closed["messages_out"], count, "{closed}");
    for c in [&ca, &cb] {
        c.assert_sources("msctp", BETA_HOMING);
    }
    check_captures(&ca, &cb);
}

#[test]
fn msctp_server_usrsctp_client_raw() {
    msctp_server_with_usrsctp_client(Transport::Raw);
}

#[test]
fn msctp_server_usrsctp_client_udp() {
    msctp_server_with_usrsctp_client(Transport::Udp);
}

/// Waits until a process in `ns` holds a raw SCTP socket (`/proc/net/raw`,
/// protocol 132 = 0x84) and, for UDP, the UDP port 9899 (0x26AB): usrsctp's
/// `usrsctp_init()` has run. The example sets `sctp_blackhole` to 2, so an
/// INIT that arrives before it listens is dropped silently and the INIT
/// retransmission covers the rest.
fn wait_usrsctp_sockets(ns: &Netns, t: Transport) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let raw = ns.exec_ok("cat", &["/proc/net/raw"]);
        let udp = ns.exec_ok("cat", &["/proc/net/udp"]);
        let raw_ok = raw.lines().skip(1).any(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|a| a.ends_with(":0084"))
        });
        let udp_ok = t == Transport::Raw
            || udp.lines().skip(1).any(|l| {
                l.split_whitespace()
                    .nth(1)
                    .is_some_and(|a| a.ends_with(":26AB"))
            });
        if raw_ok && udp_ok {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "usrsctp's sockets did not appear in {} within {WAIT:?}",
            ns.name()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Issue 8 (c), RFC 9260 §5.1.2 and §5.2: a single-homed msctp client
/// (`--bind 192.0.2.1 --connect 192.0.2.2`) to usrsctp's stock
/// `echo_server` listening on all of beta's addresses (wildcard bind). In
/// raw mode usrsctp may answer the INIT from another address than the one
/// the INIT went to (198.51.100.2); msctp must find the INIT ACK by its
/// verification tag, not by its source address, connect, and echo data.
/// msctp's packets on link 1 carry 192.0.2.1 (it has no other address).
fn single_homed_to_echo_server(t: Transport) {
    need_everything();
    let echo_server = usrsctp_example("echo_server");
    procs::msctp_bin();
    let lab = Lab::new();
    let scratch = Scratch::new(&format!("single-homed-{}", t.msctp()));
    let caps = Captures::start(&lab, &scratch);
    // echo_server [local_encaps_port] [remote_encaps_port]; SCTP port 7.
    let server_args: Vec<&str> = match t {
        Transport::Raw => vec!["0"],
        Transport::Udp => vec!["9899", "9899"],
    };
    let server = Proc::start("usrsctp echo_server", &lab.beta, &echo_server, &server_args);
    wait_usrsctp_sockets(&lab.beta, t);

    let alpha1 = s(ALPHA1_V4);
    let beta1 = s(BETA1_V4);
    let mut args = vec![
        "client",
        "--json",
        "--bind",
        &alpha1,
        "--connect",
        &beta1,
        "--port",
        "7",
        "--transport",
        t.msctp(),
        "--count",
        "50",
        "--size",
        "1000",
    ];
    args.extend(FAST);
    let f = Proc::msctp("msctp client", &lab.alpha, &args).finish(RUN);
    let _ = server.kill();
    let (ca, cb) = caps.stop();
    report_sources(
        &format!(
            "single-homed msctp client → usrsctp echo_server, {}",
            t.msctp()
        ),
        "alpha",
        &ca,
        &cb,
    );
    let init_ack = ca
        .ifaces
        .iter()
        .flat_map(|i| i.sctp.iter())
        .find(|r| r.has(chunk_type::INIT_ACK));
    println!(
        "usrsctp's INIT ACK: {:?}",
        init_ack.map(|r| (r.src, r.dst, r.udp))
    );

    f.assert_success("single-homed msctp client");
    let events = f.json();
    let result = events.last().cloned().unwrap_or(Value::Null);
    assert_eq!(
        result["event"],
        "client_result",
        "{}",
        procs::brief(&f.lines)
    );
    assert_eq!(result["echoed"], 50, "{result}");
    assert_eq!(result["mismatches"], 0, "{result}");
    // Single-homed: everything msctp sends carries 192.0.2.1, whatever the
    // link; nothing leaves from alpha's other addresses.
    for c in [&ca, &cb] {
        let from_a1: u64 = c.ifaces.iter().map(|i| i.from(ALPHA1_V4)).sum();
        assert!(from_a1 > 0, "msctp sent nothing in {}", c.namespace);
        for other in [ALPHA2_V4, ALPHA1_V6, ALPHA2_V6] {
            let n: u64 = c.ifaces.iter().map(|i| i.from(other)).sum();
            assert_eq!(
                n, 0,
                "{} packets from {other}, which msctp is not bound to",
                n
            );
        }
    }
    check_captures(&ca, &cb);
}

#[test]
fn single_homed_msctp_to_usrsctp_echo_server_raw() {
    single_homed_to_echo_server(Transport::Raw);
}

#[test]
fn single_homed_msctp_to_usrsctp_echo_server_udp() {
    single_homed_to_echo_server(Transport::Udp);
}

/// Issue 8 (b) with usrsctp's stock `client` example (wildcard bind, so
/// its INIT lists all of alpha's addresses, IPv6 ones included; it sends
/// each line of its stdin as a message and writes what comes back to
/// stdout): `msctp server --bind 192.0.2.2,198.51.100.2 --mode echo`
/// echoes 40 lines, each waited for, then the client shuts down on end of
/// input. RFC 9260 §5.1.2: addresses of a family msctp is not bound to
/// do not stop the association; §6.4: every packet msctp sends on link k
/// carries its link-k address; tshark: every SCTP frame good.
fn msctp_server_with_stock_client(t: Transport) {
    need_everything();
    let stock = usrsctp_example("client");
    procs::msctp_bin();
    let lab = Lab::new();
    let scratch = Scratch::new(&format!("stock-client-{}", t.msctp()));
    let caps = Captures::start(&lab, &scratch);
    let bind = list(&[BETA1_V4, BETA2_V4]);
    let mut args = vec![
        "server",
        "--json",
        "--bind",
        &bind,
        "--port",
        PORT,
        "--mode",
        "echo",
        "--transport",
        t.msctp(),
    ];
    args.extend(FAST);
    let mut server = Proc::msctp("msctp server", &lab.beta, &args);
    server.wait_json("`listening`", WAIT, |v| v["event"] == "listening");

    // client remote_addr remote_port local_port local_encaps_port remote_encaps_port
    let beta1 = s(BETA1_V4);
    let client_args: Vec<&str> = match t {
        Transport::Raw => vec![&beta1, PORT, "0", "0"],
        Transport::Udp => vec![&beta1, PORT, "0", "9899", "9899"],
    };
    let mut client = Proc::start_with_stdin("usrsctp client", &lab.alpha, &stock, &client_args);
    let lines = 40;
    for i in 0..lines {
        let line = format!(
            "msctp interop line {i} {:016x}",
            (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        );
        client.write_line(&line);
        client.wait_line(&format!("the echo of line {i}"), WAIT, |l| {
            l.ends_with(&line)
        });
    }
    client.close_stdin();
    let f = client.finish(RUN);
    let srv = server.stop();
    let (ca, cb) = caps.stop();
    report_sources(
        &format!("stock usrsctp client ↔ msctp server, {}", t.msctp()),
        "beta",
        &ca,
        &cb,
    );
    f.assert_success("usrsctp client");
    let events = srv.json();
    let up = events
        .iter()
        .find(|v| v["event"] == "association_change" && v["change"] == "comm_up")
        .unwrap_or_else(|| {
            panic!(
                "msctp server: association up:\n{}",
                procs::brief(&srv.lines)
            )
        });
    println!(
        "the stock client's addresses as msctp saw them: {}",
        up["peer_addresses"]
    );
    let closed = events
        .iter()
        .rfind(|v| v["event"] == "counters" && v["state"] == "closed")
        .unwrap_or_else(|| panic!("final counters:\n{}", procs::brief(&srv.lines)));
    assert_eq!(closed["messages_in"], lines, "{closed}");
    assert_eq!(closed["messages_out"], lines, "{closed}");
    assert!(
        events
            .iter()
            .any(|v| v["event"] == "association_change" && v["change"] == "shutdown_complete"),
        "graceful shutdown:\n{}",
        procs::brief(&srv.lines)
    );
    for c in [&ca, &cb] {
        c.assert_sources("msctp", BETA_HOMING);
    }
    check_captures(&ca, &cb);
}

#[test]
fn msctp_server_stock_usrsctp_client_raw() {
    msctp_server_with_stock_client(Transport::Raw);
}

#[test]
fn msctp_server_stock_usrsctp_client_udp() {
    msctp_server_with_stock_client(Transport::Udp);
}
