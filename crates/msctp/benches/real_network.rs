//! Real-network figures between two network namespaces joined by two veth
//! links (the lab of DESIGN.md): failover and failback times when link 1 is
//! blocked with iptables, and bulk throughput over raw IP and over UDP.
//! Needs root (namespaces, iptables, raw sockets); says so and exits
//! non-zero otherwise.
//!
//! ```sh
//! sudo -E cargo bench -p msctp --bench real_network              # everything
//! sudo -E cargo bench -p msctp --bench real_network -- failover  # or: throughput
//! ```
//!
//! Wall-clock figures on a shared machine: they vary from run to run (the
//! simulator's `cargo bench -p msctp-sim --bench failover` gives the exact,
//! reproducible counterpart of the failover table in virtual time).

use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use msctp::testing::addr::*;
use msctp::testing::{Lab, require_tool};
use msctp::{
    AddressChange, Config, Event, EventKinds, Options, PathState, SctpListener, SctpStream,
    SendInfo, TransportKind,
};
use tokio::sync::{Notify, mpsc};
use tokio::time::{MissedTickBehavior, interval, sleep, timeout};

const PORT: u16 = 5001;

fn main() -> ExitCode {
    if !running_as_root() {
        eprintln!(
            "real_network needs root: it creates network namespaces, veth links and iptables \
             rules and opens raw sockets. Run it as root, for example \
             `sudo -E cargo bench -p msctp --bench real_network`."
        );
        return ExitCode::FAILURE;
    }
    require_tool("ip", "iproute2");
    require_tool("iptables", "iptables");
    // `cargo bench` passes `--bench`; other arguments select the sections.
    let sections: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let want = |s: &str| sections.is_empty() || sections.iter().any(|a| a == s);
    println!(
        "msctp real-network figures: Linux {}, {} CPUs, two namespaces joined by two veth links",
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if want("failover") {
        failover_table();
    }
    if want("throughput") {
        throughput_table();
    }
    ExitCode::SUCCESS
}

/// Effective user id 0, read from `/proc/self/status` (no `unsafe`).
fn running_as_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        == Some("0")
}

/// CPU time of the calling thread: `/proc/thread-self/schedstat` (ns on
/// CPU), or `utime + stime` of `/proc/thread-self/stat` (clock ticks of
/// 10 ms) where schedstat is missing.
fn thread_cpu() -> Duration {
    if let Ok(s) = std::fs::read_to_string("/proc/thread-self/schedstat") {
        if let Some(ns) = s.split_whitespace().next().and_then(|n| n.parse().ok()) {
            return Duration::from_nanos(ns);
        }
    }
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after_name
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    // Fields 14 and 15 of the file are the 12th and 13th after the name.
    let ticks = fields.get(11).unwrap_or(&0) + fields.get(12).unwrap_or(&0);
    Duration::from_millis(ticks * 10)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn fmt_ms(d: Option<Duration>) -> String {
    d.map_or("never".into(), |d| {
        format!("{:.0} ms", d.as_secs_f64() * 1e3)
    })
}

// ---------------------------------------------------------------------------
// Failover and failback
// ---------------------------------------------------------------------------

/// Message interval of the failover runs.
const TICK: Duration = Duration::from_millis(5);
/// Traffic before link 1 is blocked.
const STEADY: Duration = Duration::from_secs(1);
/// Link 1 stays blocked this long after the failover was seen.
const HOLD: Duration = Duration::from_secs(2);
/// Give up waiting for a failover or a failback after this long.
const GIVE_UP: Duration = Duration::from_secs(60);

/// What one failover run measured. Times after "rules in" count from the
/// moment both iptables rules are in place; after "rules out", from the
/// moment both are removed.
#[derive(Debug, Default)]
struct FailoverFigures {
    /// Rules in → the client reports 192.0.2.2 potentially failed (or
    /// unreachable).
    detect: Option<Duration>,
    /// Rules in → the server reads the first message sent after that.
    delivery: Option<Duration>,
    /// Rules in → the client reads the echo of the first message sent after
    /// that (both directions moved to link 2).
    failover: Option<Duration>,
    /// Longest time between two echoes over the whole run.
    worst_gap: Duration,
    /// Rules out → the client reports 192.0.2.2 available.
    available: Option<Duration>,
    /// Rules out → the client sends new DATA over link 1 again.
    failback: Option<Duration>,
    /// Every message reached the server once and in order.
    in_order: bool,
    /// Path events of the client after the rules went in.
    timeline: Vec<String>,
}

const FAILOVER_INTRO: &str = "
Failover and failback over raw IP (IPv4), SCTP-PF on (PFMR 0), the same configuration on both
ends. alpha (192.0.2.1, 198.51.100.1) sends an 8-byte message every 5 ms to an echo server on
beta (192.0.2.2, 198.51.100.2), connecting to 192.0.2.2 (link 1 is the primary path). After 1 s,
`iptables -I INPUT -p sctp -i link1 -j REJECT|DROP` goes in on both hosts, and comes out again
2 s after the failover was seen. Columns, timed from the moment both rules are in place (resp.
both are removed again, for avail and failback):
  detect    the client reports 192.0.2.2 potentially failed
  delivery  the server reads the first message sent after the rules went in
  failover  the client reads that message's echo: both directions run over link 2
  max gap   the longest time between two echoes
  avail     the client reports 192.0.2.2 available again
  failback  the client sends new DATA over link 1 again (sampled every 5 ms)

";

fn failover_table() {
    let tuned = Config {
        rto_initial: Duration::from_millis(300),
        rto_min: Duration::from_millis(100),
        rto_max: Duration::from_secs(1),
        hb_interval: Duration::from_secs(1),
        ..Config::default()
    };
    let scenarios = [
        (
            "RFC 9260 defaults (RTO.Min 1 s), REJECT",
            Config::default(),
            "REJECT",
        ),
        (
            "RFC 9260 defaults (RTO.Min 1 s), DROP",
            Config::default(),
            "DROP",
        ),
        (
            "tuned (RTO.Min 100 ms, RTO.Max 1 s, HB 1 s), REJECT",
            tuned.clone(),
            "REJECT",
        ),
        (
            "tuned (RTO.Min 100 ms, RTO.Max 1 s, HB 1 s), DROP",
            tuned,
            "DROP",
        ),
    ];
    print!("{FAILOVER_INTRO}");
    println!(
        "{:54} {:>8} {:>9} {:>9} {:>8} {:>8} {:>9} {:>9}",
        "configuration, failure",
        "detect",
        "delivery",
        "failover",
        "max gap",
        "avail",
        "failback",
        "in order"
    );
    let mut timelines = Vec::new();
    for (name, config, target) in scenarios {
        let f = runtime().block_on(measure_failover(config, target));
        println!(
            "{:54} {:>8} {:>9} {:>9} {:>8} {:>8} {:>9} {:>9}",
            name,
            fmt_ms(f.detect),
            fmt_ms(f.delivery),
            fmt_ms(f.failover),
            fmt_ms(Some(f.worst_gap)),
            fmt_ms(f.available),
            fmt_ms(f.failback),
            if f.in_order { "yes" } else { "NO" }
        );
        timelines.push((name, f.timeline));
    }
    println!();
    println!("Client path events (time from the rules going in):");
    for (name, timeline) in timelines {
        println!("  {name}: {}", timeline.join("; "));
    }
}

/// Inserts (`-I`) or deletes (`-D`) the rule on link 1 in both namespaces;
/// returns when both are done.
fn iptables(namespaces: &[String; 2], op: &str, target: &str) -> Instant {
    for ns in namespaces {
        let rule = ["INPUT", "-p", "sctp", "-i", "link1", "-j", target];
        let out = Command::new("ip")
            .args(["netns", "exec", ns, "iptables", op])
            .args(rule)
            .output()
            .expect("running iptables");
        assert!(
            out.status.success(),
            "iptables {op} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Instant::now()
}

fn message(seq: u32) -> Bytes {
    let mut m = seq.to_be_bytes().to_vec();
    m.extend_from_slice(&[0; 4]);
    Bytes::from(m)
}

fn seq_of(data: &[u8]) -> u32 {
    u32::from_be_bytes(data[..4].try_into().expect("an 8-byte message"))
}

async fn wait_all_active(streams: [&SctpStream; 2]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let active = |s: &SctpStream| {
            s.paths()
                .is_ok_and(|p| p.len() == 2 && p.iter().all(|p| p.state == PathState::Active))
        };
        if streams.iter().all(|s| active(s)) {
            return;
        }
        assert!(Instant::now() < deadline, "paths not confirmed within 20 s");
        sleep(Duration::from_millis(5)).await;
    }
}

/// Where a failover run is.
enum Phase {
    Steady,
    Blocking,
    Blocked,
    Unblocking,
    Unblocked { link1_data_before: u64 },
}

/// The client side of a failover run: sends, watches echoes and events,
/// and blocks and unblocks link 1 as the run goes on.
struct Run<'a> {
    client: &'a SctpStream,
    namespaces: [String; 2],
    target: &'static str,
    /// Reports when an iptables change is complete.
    rules_changed: mpsc::UnboundedSender<Instant>,
    start: Instant,
    phase: Phase,
    /// Messages sent so far (the next sequence number).
    sent: u32,
    /// When the rules were in place, and the first message sent after.
    blocked_at: Option<(Instant, u32)>,
    unblocked_at: Option<Instant>,
    failover_seen: Option<Instant>,
    last_echo: Option<Instant>,
    f: FailoverFigures,
}

impl Run<'_> {
    fn change_rules(&mut self, op: &'static str, next: Phase) {
        let (tx, ns, target) = (
            self.rules_changed.clone(),
            self.namespaces.clone(),
            self.target,
        );
        tokio::task::spawn_blocking(move || tx.send(iptables(&ns, op, target)));
        self.phase = next;
    }

    fn link1_data(&self) -> u64 {
        let paths = self.client.paths().unwrap_or_default();
        let link1 = paths.iter().filter(|p| p.remote == BETA1_V4);
        link1.map(|p| p.counters.data_chunks_sent).sum()
    }

    /// After each message sent: moves the run on; true when it is over.
    fn after_send(&mut self, now: Instant) -> bool {
        match self.phase {
            Phase::Steady if now >= self.start + STEADY => self.change_rules("-I", Phase::Blocking),
            Phase::Blocked => {
                let (since, _) = self.blocked_at.expect("blocked");
                let held = self.failover_seen.is_some_and(|t| now >= t + HOLD);
                if held || now >= since + GIVE_UP {
                    self.change_rules("-D", Phase::Unblocking);
                }
            }
            Phase::Unblocked { link1_data_before } => {
                let since = self.unblocked_at.expect("unblocked");
                if self.f.failback.is_none() && self.link1_data() > link1_data_before {
                    self.f.failback = Some(now - since);
                }
                let settled = (self.f.failback.zip(self.f.available))
                    .is_some_and(|(a, b)| now >= since + a.max(b) + Duration::from_millis(500));
                return settled || now >= since + GIVE_UP;
            }
            _ => {}
        }
        false
    }

    fn on_echo(&mut self, seq: u32, now: Instant) {
        if let Some(last) = self.last_echo {
            self.f.worst_gap = self.f.worst_gap.max(now - last);
        }
        self.last_echo = Some(now);
        if let (Phase::Blocked, Some((since, first_seq))) = (&self.phase, self.blocked_at) {
            if self.failover_seen.is_none() && seq >= first_seq {
                self.failover_seen = Some(now);
                self.f.failover = Some(now - since);
            }
        }
    }

    fn on_event(&mut self, event: &Event, now: Instant) {
        let (
            Some((t0, _)),
            Event::PeerAddress {
                address, change, ..
            },
        ) = (self.blocked_at, event)
        else {
            return;
        };
        let at = (now - t0).as_secs_f64();
        self.f
            .timeline
            .push(format!("{at:+.3} s {address} {change:?}"));
        if *address != BETA1_V4 {
            return;
        }
        match (&self.phase, change) {
            (Phase::Blocked, AddressChange::PotentiallyFailed | AddressChange::Unreachable) => {
                self.f.detect.get_or_insert(now - t0);
            }
            (Phase::Unblocked { .. }, AddressChange::Available) => {
                let since = self.unblocked_at.expect("unblocked");
                self.f.available.get_or_insert(now - since);
            }
            _ => {}
        }
    }

    fn on_rules_changed(&mut self, at: Instant) {
        match self.phase {
            Phase::Blocking => {
                self.blocked_at = Some((at, self.sent));
                self.phase = Phase::Blocked;
            }
            Phase::Unblocking => {
                let (t0, _) = self.blocked_at.expect("blocked before");
                let removed = (at - t0).as_secs_f64();
                self.f
                    .timeline
                    .push(format!("{removed:+.3} s rules removed"));
                self.unblocked_at = Some(at);
                self.phase = Phase::Unblocked {
                    link1_data_before: self.link1_data(),
                };
            }
            _ => unreachable!("one iptables change at a time"),
        }
    }
}

async fn measure_failover(config: Config, target: &'static str) -> FailoverFigures {
    let lab = Lab::new();
    let opts = Options {
        config,
        events: EventKinds::ASSOCIATION | EventKinds::PEER_ADDRESS,
        ..Options::default()
    };
    let listener = {
        let _inside = lab.beta.enter();
        SctpListener::bind(&[BETA1_V4, BETA2_V4], PORT, opts.clone())
            .await
            .expect("bind")
    };
    let client = {
        let _inside = lab.alpha.enter();
        let connect = SctpStream::connect(&[ALPHA1_V4, ALPHA2_V4], &[BETA1_V4], PORT, opts);
        timeout(Duration::from_secs(20), connect)
            .await
            .expect("connect timed out")
            .expect("connect")
    };
    // The echo server records when each message arrives.
    let server = Arc::new(listener.accept().await.expect("accept"));
    let arrivals = Arc::new(Mutex::new(Vec::<(u32, Instant)>::new()));
    let echo = tokio::spawn({
        let (server, arrivals) = (server.clone(), arrivals.clone());
        async move {
            while let Ok(Some((data, _))) = server.recv().await {
                arrivals
                    .lock()
                    .unwrap()
                    .push((seq_of(&data), Instant::now()));
                if server.send(data, SendInfo::default()).await.is_err() {
                    break;
                }
            }
        }
    });
    // RFC 9260 §5.4: both ends confirm the second path by heartbeat.
    wait_all_active([&client, &server]).await;

    let (rules_changed, mut rules_done) = mpsc::unbounded_channel();
    let mut run = Run {
        client: &client,
        namespaces: [lab.alpha.name().to_string(), lab.beta.name().to_string()],
        target,
        rules_changed,
        start: Instant::now(),
        phase: Phase::Steady,
        sent: 0,
        blocked_at: None,
        unblocked_at: None,
        failover_seen: None,
        last_echo: None,
        f: FailoverFigures::default(),
    };
    let mut tick = interval(TICK);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                client.send(message(run.sent), SendInfo::default()).await.expect("send");
                run.sent += 1;
                if run.after_send(Instant::now()) {
                    break;
                }
            }
            msg = client.recv() => {
                let (data, _) = msg.expect("recv").expect("the association ended");
                run.on_echo(seq_of(&data), Instant::now());
            }
            Some(event) = client.next_event() => run.on_event(&event, Instant::now()),
            Some(at) = rules_done.recv() => run.on_rules_changed(at),
        }
    }
    let (sent, blocked_at, mut f) = (run.sent, run.blocked_at, run.f);
    timeout(Duration::from_secs(30), client.shutdown())
        .await
        .expect("shutdown timed out")
        .expect("shutdown");
    timeout(Duration::from_secs(10), echo)
        .await
        .expect("the server did not see the end")
        .expect("echo task");
    let arrivals = std::mem::take(&mut *arrivals.lock().unwrap());
    if let Some((t0, first_seq)) = blocked_at {
        let first = arrivals.iter().find(|(seq, _)| *seq >= first_seq);
        f.delivery = first.map(|(_, at)| *at - t0);
    }
    f.in_order = arrivals.iter().map(|(s, _)| *s).eq(0..sent);
    f
}

// ---------------------------------------------------------------------------
// Throughput
// ---------------------------------------------------------------------------

/// Bytes sent per run at most, and time spent sending at most.
const BULK_BYTES: u64 = 200_000_000;
const BULK_TIME: Duration = Duration::from_secs(10);
const MESSAGE: usize = 64 * 1024;

struct Throughput {
    bytes: u64,
    elapsed: Duration,
    client_cpu: Duration,
    server_cpu: Duration,
    retransmissions: u64,
    timeouts: u64,
}

const THROUGHPUT_INTRO: &str = "
Bulk transfer alpha -> beta over link 1 only (192.0.2.1 -> 192.0.2.2), 64 KiB messages, default
options, 200 MB or 10 s of sending, whichever ends first. Goodput = bytes read by the server /
time from the first send until the server has read the last byte (MB = 10^6 bytes). Each end
runs a single-threaded tokio runtime on its own thread; CPU = that thread's CPU time; rtx = DATA
chunks retransmitted, T3 = retransmission timeouts (the client's path counters).

";

fn throughput_table() {
    print!("{THROUGHPUT_INTRO}");
    println!(
        "{:28} {:>9} {:>8} {:>10} {:>9} {:>11} {:>11} {:>8} {:>5}",
        "transport", "MB", "seconds", "MB/s", "Mbit/s", "CPU client", "CPU server", "rtx", "T3"
    );
    for (name, kind) in [
        ("raw IP (protocol 132)", TransportKind::Raw),
        ("UDP encapsulation (9899)", TransportKind::udp()),
    ] {
        let t = measure_throughput(kind);
        let secs = t.elapsed.as_secs_f64();
        let mb = t.bytes as f64 / 1e6;
        println!(
            "{:28} {:>9.1} {:>8.2} {:>10.1} {:>9.0} {:>9.2} s {:>9.2} s {:>8} {:>5}",
            name,
            mb,
            secs,
            mb / secs,
            mb * 8.0 / secs,
            t.client_cpu.as_secs_f64(),
            t.server_cpu.as_secs_f64(),
            t.retransmissions,
            t.timeouts
        );
    }
}

fn measure_throughput(kind: TransportKind) -> Throughput {
    let lab = Lab::new();
    let opts = Options {
        transport: kind,
        ..Options::default()
    };
    let received = AtomicU64::new(0);
    let progress = Notify::new();
    std::thread::scope(|s| {
        let (ready_tx, ready) = std::sync::mpsc::channel();
        let (beta, received, progress, opts) = (&lab.beta, &received, &progress, &opts);
        let server = s.spawn(move || {
            runtime().block_on(async {
                let listener = {
                    let _inside = beta.enter();
                    SctpListener::bind(&[BETA1_V4], PORT, opts.clone())
                        .await
                        .expect("bind")
                };
                ready_tx.send(()).expect("the client waits");
                let stream = listener.accept().await.expect("accept");
                let cpu = thread_cpu();
                while let Some((data, _)) = stream.recv().await.expect("recv") {
                    received.fetch_add(data.len() as u64, Ordering::Relaxed);
                    progress.notify_one();
                }
                thread_cpu() - cpu
            })
        });
        ready.recv().expect("the server is bound");
        let mut t = runtime().block_on(async {
            let client = {
                let _inside = lab.alpha.enter();
                let connect = SctpStream::connect(&[ALPHA1_V4], &[BETA1_V4], PORT, opts.clone());
                timeout(Duration::from_secs(20), connect)
                    .await
                    .expect("connect timed out")
                    .expect("connect")
            };
            let chunk = Bytes::from(vec![0x5a; MESSAGE]);
            let cpu = thread_cpu();
            let start = Instant::now();
            let mut sent = 0u64;
            while sent < BULK_BYTES && start.elapsed() < BULK_TIME {
                client
                    .send(chunk.clone(), SendInfo::default())
                    .await
                    .expect("send");
                sent += MESSAGE as u64;
            }
            while received.load(Ordering::Relaxed) < sent {
                let notified = progress.notified();
                if received.load(Ordering::Relaxed) >= sent {
                    break;
                }
                timeout(Duration::from_secs(30), notified)
                    .await
                    .expect("the server stopped receiving");
            }
            let elapsed = start.elapsed();
            let client_cpu = thread_cpu() - cpu;
            let paths = client.paths().expect("paths");
            let result = Throughput {
                bytes: sent,
                elapsed,
                client_cpu,
                server_cpu: Duration::ZERO,
                retransmissions: paths.iter().map(|p| p.counters.retransmissions).sum(),
                timeouts: paths.iter().map(|p| p.counters.timeouts).sum(),
            };
            timeout(Duration::from_secs(20), client.shutdown())
                .await
                .expect("shutdown timed out")
                .expect("shutdown");
            result
        });
        t.server_cpu = server.join().expect("the server thread");
        t
    })
}
