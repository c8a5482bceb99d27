//! Source addresses follow the kernel's routing (issue 8; RFC 9260 §6.4:
//! each path is a destination reached the way the host routes to it), in
//! the two-host lab of the design document. Needs root and tcpdump; fails,
//! never skips, without them.

use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::Bytes;
use msctp::routes::{RouteSelector, RouteWatcher};
use msctp::testing::addr::*;
use msctp::testing::{Lab, Netns, require_root, require_tool};
use msctp::transport::TransportKind;
use msctp::{Config, Options, PathState, SctpListener, SctpStream, SendInfo};
use msctp_proto::path::{LongestPrefix, SourceSelector};
use msctp_wire::capture::{Decap, sctp_in_frame};
use msctp_wire::{Chunk, Packet};
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(20);

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn opts(pcap: Option<PathBuf>) -> Options {
    Options {
        transport: TransportKind::Raw,
        config: Config {
            rto_initial: Duration::from_millis(300),
            rto_min: Duration::from_millis(100),
            rto_max: Duration::from_secs(1),
            hb_interval: Duration::from_millis(500),
            ..Config::default()
        },
        pcap,
        ..Options::default()
    }
}

/// Polls `f` every 10 ms until it returns `Some`, for at most [`WAIT`]
/// (waits on an outcome; the interval only paces the polling).
async fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    timeout(WAIT, async {
        loop {
            if let Some(v) = f() {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out after {WAIT:?} waiting for {what}"))
}

/// The source a path of `s` to `remote` uses now.
fn path_source(s: &SctpStream, remote: IpAddr) -> Option<IpAddr> {
    s.paths()
        .ok()?
        .into_iter()
        .find(|p| p.remote == remote)
        .map(|p| p.local)
}

/// The selector, asked inside alpha, picks alpha's address on the link
/// that reaches each of beta's addresses (IPv4 and IPv6), follows a route
/// that sends a destination over another link (after `clear`, as the
/// driver does on a netlink change), falls back to a bound address on the
/// output interface, and has no opinion without a route. The watcher sees
/// each change.
#[tokio::test(flavor = "current_thread")]
async fn route_selector_follows_the_kernel_routing_table() {
    require_root("the route tests create network namespaces");
    let lab = Lab::new();
    let (selector, mut watcher) = {
        let _inside = lab.alpha.enter();
        (RouteSelector::new().unwrap(), RouteWatcher::new().unwrap())
    };
    let all = Lab::alpha_addrs();
    for (beta, alpha) in [
        (BETA1_V4, ALPHA1_V4),
        (BETA2_V4, ALPHA2_V4),
        (BETA1_V6, ALPHA1_V6),
        (BETA2_V6, ALPHA2_V6),
    ] {
        assert_eq!(selector.select(beta, &all), Some(alpha), "toward {beta}");
    }
    // Cached: asking again does not query the kernel.
    let before = selector.stats().route_queries;
    assert_eq!(selector.select(BETA2_V4, &all), Some(ALPHA2_V4));
    assert_eq!(selector.stats().route_queries, before);

    // A prefix behind link 2 that longest-prefix matching would send from
    // the link-1 address (2001:db8:99:: is as far from 2001:db8:1:: as from
    // 2001:db8:2::, and link 1 is listed first).
    let far = ip("2001:db8:99::2");
    assert_eq!(LongestPrefix.select(far, &all), Some(ALPHA1_V6));
    assert_eq!(selector.select(far, &all), None, "no route yet");
    let changed = watcher.changed();
    lab.alpha
        .ip(&["-6", "route", "add", "2001:db8:99::/48", "dev", "link2"]);
    timeout(WAIT, changed)
        .await
        .expect("no netlink notification for the new IPv6 route")
        .unwrap();
    selector.clear();
    assert_eq!(selector.select(far, &all), Some(ALPHA2_V6));

    // Move beta's link-2 address onto link 1 with the link-1 source.
    assert_eq!(selector.select(BETA2_V4, &all), Some(ALPHA2_V4));
    let changed = watcher.changed();
    lab.alpha.ip(&[
        "route",
        "add",
        "198.51.100.2/32",
        "dev",
        "link1",
        "src",
        "192.0.2.1",
    ]);
    timeout(WAIT, changed)
        .await
        .expect("no netlink notification for the new IPv4 route")
        .unwrap();
    assert_eq!(
        selector.select(BETA2_V4, &all),
        Some(ALPHA2_V4),
        "the cache answers until cleared"
    );
    selector.clear();
    assert_eq!(selector.select(BETA2_V4, &all), Some(ALPHA1_V4));
    lab.alpha
        .ip(&["route", "del", "198.51.100.2/32", "dev", "link1"]);
    selector.clear();
    assert_eq!(selector.select(BETA2_V4, &all), Some(ALPHA2_V4));

    // The preferred source (198.51.100.1) is not bound: a bound address on
    // the output interface is chosen, which longest prefix would not.
    let changed = watcher.changed();
    lab.alpha
        .ip(&["addr", "add", "192.0.2.77/32", "dev", "link2"]);
    timeout(WAIT, changed)
        .await
        .expect("no netlink notification for the new address")
        .unwrap();
    selector.clear();
    let some = [ALPHA1_V4, ip("192.0.2.77")];
    assert_eq!(LongestPrefix.select(BETA2_V4, &some), Some(ALPHA1_V4));
    assert_eq!(selector.select(BETA2_V4, &some), Some(ip("192.0.2.77")));
    // Nothing of the destination's family on the output interface.
    assert_eq!(selector.select(BETA2_V6, &[ALPHA1_V6]), None);
    assert_eq!(selector.stats().errors, 0);
}

/// The cache holds at most `ROUTE_CACHE_LIMIT` destinations, whatever the
/// peers make us ask about.
#[tokio::test(flavor = "current_thread")]
async fn route_cache_is_bounded() {
    require_root("the route tests create network namespaces");
    let ns = Netns::create_unique("cache");
    ns.ip(&["link", "add", "d0", "type", "veth", "peer", "name", "d1"]);
    ns.ip(&[
        "-6",
        "addr",
        "add",
        "2001:db8:5::1/48",
        "dev",
        "d0",
        "nodad",
    ]);
    ns.ip(&["link", "set", "d0", "up"]);
    ns.ip(&["link", "set", "d1", "up"]);
    let selector = {
        let _inside = ns.enter();
        RouteSelector::new().unwrap()
    };
    let candidates = [ip("2001:db8:5::1")];
    let limit = msctp::routes::ROUTE_CACHE_LIMIT;
    for i in 0..(limit as u32 + 200) {
        let dest = IpAddr::V6(std::net::Ipv6Addr::new(
            0x2001,
            0xdb8,
            5,
            0,
            0,
            0,
            (i >> 16) as u16,
            i as u16 + 2,
        ));
        assert_eq!(selector.select(dest, &candidates), Some(candidates[0]));
        assert!(selector.stats().cached <= limit);
    }
    let stats = selector.stats();
    assert!(stats.clears >= 1, "{stats:?}");
    assert_eq!(stats.route_queries, limit as u64 + 200);
}

/// RFC 9260 §6.4 / issue 8: the driver re-selects sources when the routing
/// changes. A route sending beta's link-2 address over link 1 moves that
/// path's source to alpha's link-1 address; removing it moves it back.
#[tokio::test(flavor = "current_thread")]
async fn driver_refreshes_sources_when_routes_change() {
    require_root("the route tests create network namespaces");
    let lab = Lab::new();
    let listener = {
        let _inside = lab.beta.enter();
        SctpListener::bind(&[BETA1_V4, BETA2_V4], 5001, opts(None))
            .await
            .unwrap()
    };
    let server = tokio::spawn(async move {
        let s = listener.accept().await.unwrap();
        while let Ok(Some(_)) = s.recv().await {}
    });
    let client = {
        let _inside = lab.alpha.enter();
        timeout(
            WAIT,
            SctpStream::connect(&[ALPHA1_V4, ALPHA2_V4], &[BETA1_V4], 5001, opts(None)),
        )
        .await
        .unwrap()
        .unwrap()
    };
    assert_eq!(path_source(&client, BETA1_V4), Some(ALPHA1_V4));
    assert_eq!(path_source(&client, BETA2_V4), Some(ALPHA2_V4));
    lab.alpha.ip(&[
        "route",
        "add",
        "198.51.100.2/32",
        "dev",
        "link1",
        "src",
        "192.0.2.1",
    ]);
    wait_for("the path to 198.51.100.2 to leave from 192.0.2.1", || {
        (path_source(&client, BETA2_V4) == Some(ALPHA1_V4)).then_some(())
    })
    .await;
    assert_eq!(path_source(&client, BETA1_V4), Some(ALPHA1_V4));
    lab.alpha
        .ip(&["route", "del", "198.51.100.2/32", "dev", "link1"]);
    wait_for("the path to 198.51.100.2 to return to 198.51.100.1", || {
        (path_source(&client, BETA2_V4) == Some(ALPHA2_V4)).then_some(())
    })
    .await;
    timeout(WAIT, client.shutdown()).await.unwrap().unwrap();
    timeout(WAIT, server).await.unwrap().unwrap();
}

/// tcpdump on one interface of a namespace, writing to a file; stopped
/// (SIGTERM to the PID it was started with) by [`Capture::stop`] or on drop.
struct Capture {
    child: Child,
    file: PathBuf,
    /// What tcpdump printed after it started (its counters, at the end).
    stderr: std::sync::mpsc::Receiver<Result<(), String>>,
}

impl Capture {
    fn start(ns: &Netns, iface: &str, file: &Path) -> Capture {
        require_tool("tcpdump", "tcpdump");
        let mut child = Command::new("ip")
            .args([
                "netns",
                "exec",
                ns.name(),
                "tcpdump",
                "--immediate-mode",
                "-i",
                iface,
                "-U",
                "-n",
                "-w",
            ])
            .arg(file)
            .arg("ip proto 132 or ip6 proto 132")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start tcpdump");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut seen = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("listening on") {
                    let _ = tx.send(Ok(()));
                    // Keep reading so that tcpdump never blocks on stderr.
                    seen.clear();
                    continue;
                }
                seen.push_str(&line);
                seen.push('\n');
            }
            let _ = tx.send(Err(seen));
        });
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(())) => {}
            Ok(Err(out)) => panic!("tcpdump on {iface} in {} failed:\n{out}", ns.name()),
            Err(_) => panic!("tcpdump on {iface} in {} did not start", ns.name()),
        }
        Capture {
            child,
            file: file.to_path_buf(),
            stderr: rx,
        }
    }

    /// Stops tcpdump and returns the SCTP packets captured: (source,
    /// destination, SCTP packet).
    fn stop(mut self) -> Vec<(IpAddr, IpAddr, Bytes)> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.child.wait();
        let said = self.stderr.recv_timeout(Duration::from_secs(5));
        eprintln!("tcpdump {}: {said:?}", self.file.display());
        let data = std::fs::read(&self.file).unwrap();
        let mut out = Vec::new();
        for frame in msctp_wire::capture::read(Bytes::from(data)).unwrap() {
            let frame = frame.unwrap();
            if let Decap::Sctp(d) = sctp_in_frame(&frame) {
                out.push((d.src, d.dst, d.sctp));
            }
        }
        out
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn scratch(label: &str) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "msctp-routes-{}-{}-{label}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Echoes messages back until the association ends.
async fn echo(s: SctpStream) {
    while let Ok(Some((data, _))) = s.recv().await {
        if s.send(data, SendInfo::default()).await.is_err() {
            break;
        }
    }
}

/// Issue 8 (RFC 9260 §6.4): every packet alpha sends on link k carries
/// alpha's link-k address (of the packet's family), over raw IP, in a
/// four-address association (IPv4 and IPv6 on both links), with DATA on
/// each path in turn. beta is made the peer of issue 8: it reaches alpha's
/// link-2 IPv4 address over link 1 from its link-1 address, so alpha
/// receives packets on link 1 addressed to its link-2 address and must not
/// answer from there.
async fn every_packet_leaves_with_its_link_source(alpha_is_client: bool) {
    require_root("the route tests create network namespaces and raw sockets");
    let lab = Lab::new();
    lab.beta.ip(&[
        "route",
        "add",
        "198.51.100.1/32",
        "dev",
        "link1",
        "src",
        "192.0.2.2",
    ]);
    let dir = scratch(if alpha_is_client { "client" } else { "server" });
    let cap1 = Capture::start(&lab.alpha, "link1", &dir.join("link1.pcap"));
    let cap2 = Capture::start(&lab.alpha, "link2", &dir.join("link2.pcap"));
    let (alpha, beta_task) = if alpha_is_client {
        let listener = {
            let _inside = lab.beta.enter();
            SctpListener::bind(&Lab::beta_addrs(), 5001, opts(None))
                .await
                .unwrap()
        };
        let task = tokio::spawn(async move { echo(listener.accept().await.unwrap()).await });
        let _inside = lab.alpha.enter();
        let client = timeout(
            WAIT,
            SctpStream::connect(&Lab::alpha_addrs(), &[BETA1_V4], 5001, opts(None)),
        )
        .await
        .unwrap()
        .unwrap();
        (client, task)
    } else {
        let listener = {
            let _inside = lab.alpha.enter();
            SctpListener::bind(&Lab::alpha_addrs(), 5001, opts(None))
                .await
                .unwrap()
        };
        let client = {
            let _inside = lab.beta.enter();
            timeout(
                WAIT,
                SctpStream::connect(&Lab::beta_addrs(), &[ALPHA1_V4], 5001, opts(None)),
            )
            .await
            .unwrap()
            .unwrap()
        };
        let task = tokio::spawn(echo(client));
        let server = timeout(WAIT, listener.accept()).await.unwrap().unwrap();
        (server, task)
    };
    wait_for("all four paths of alpha to be confirmed and active", || {
        let p = alpha.paths().ok()?;
        (p.len() == 4 && p.iter().all(|p| p.state == PathState::Active)).then_some(())
    })
    .await;
    for primary in Lab::beta_addrs() {
        alpha.set_primary(primary).unwrap();
        for i in 0..10u32 {
            let msg = Bytes::from(format!("to {primary}: {i}"));
            alpha.send(msg.clone(), SendInfo::default()).await.unwrap();
            let (back, _) = timeout(WAIT, alpha.recv()).await.unwrap().unwrap().unwrap();
            assert_eq!(back, msg);
        }
    }
    timeout(WAIT, alpha.shutdown()).await.unwrap().unwrap();
    timeout(WAIT, beta_task).await.unwrap().unwrap();
    let alpha_addrs = Lab::alpha_addrs();
    for (link, cap, v4, v6) in [
        (1, cap1, ALPHA1_V4, ALPHA1_V6),
        (2, cap2, ALPHA2_V4, ALPHA2_V6),
    ] {
        let packets = cap.stop();
        let mut sent = 0;
        let mut data = 0;
        for (src, dst, sctp) in &packets {
            if !alpha_addrs.contains(src) {
                continue;
            }
            let expected = if src.is_ipv4() { v4 } else { v6 };
            assert_eq!(
                *src,
                expected,
                "alpha sent a packet on link {link} from {src} to {dst}; captures in {}",
                dir.display()
            );
            sent += 1;
            if Packet::parse(sctp.clone())
                .is_ok_and(|p| p.chunks.iter().any(|c| matches!(c, Chunk::Data(_))))
            {
                data += 1;
            }
        }
        assert!(
            data >= 10,
            "alpha sent {sent} packets, {data} with DATA, on link {link}; captures in {}",
            dir.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// See [`every_packet_leaves_with_its_link_source`]; alpha connects.
#[tokio::test(flavor = "current_thread")]
async fn sources_follow_links_raw_alpha_client() {
    every_packet_leaves_with_its_link_source(true).await;
}

/// See [`every_packet_leaves_with_its_link_source`]; alpha accepts.
#[tokio::test(flavor = "current_thread")]
async fn sources_follow_links_raw_alpha_server() {
    every_packet_leaves_with_its_link_source(false).await;
}
