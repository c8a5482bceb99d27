//! The socket API between two network namespaces joined by two links (the
//! design document's lab): a multi-homed echo, bulk transfers checked by
//! SHA-256 over raw IP and UDP, and failover when iptables rejects link 1.
//! Needs root (CI is root); fails, never skips, without it.

use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use msctp::testing::addr::*;
use msctp::testing::{Lab, require_root};
use msctp::transport::TransportKind;
use msctp::{AddressChange, Config, Event, Options, PathState, SctpListener, SctpStream, SendInfo};
use sha2::{Digest, Sha256};
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(20);

fn opts(kind: TransportKind) -> Options {
    Options {
        transport: kind,
        config: Config {
            rto_initial: Duration::from_millis(300),
            rto_min: Duration::from_millis(100),
            rto_max: Duration::from_secs(1),
            hb_interval: Duration::from_secs(1),
            ..Config::default()
        },
        ..Options::default()
    }
}

async fn listen(lab: &Lab, addrs: &[IpAddr], kind: TransportKind) -> SctpListener {
    let _inside = lab.beta.enter();
    SctpListener::bind(addrs, 5001, opts(kind))
        .await
        .expect("bind listener")
}

async fn connect(lab: &Lab, local: &[IpAddr], peer: &[IpAddr], kind: TransportKind) -> SctpStream {
    let _inside = lab.alpha.enter();
    timeout(WAIT, SctpStream::connect(local, peer, 5001, opts(kind)))
        .await
        .expect("connect timed out")
        .expect("connect")
}

/// Echoes every message back on the same stream with the same PPID and
/// ordering, until the peer ends the association.
async fn echo(stream: SctpStream) {
    while let Ok(Some((data, info))) = stream.recv().await {
        let back = SendInfo {
            stream: info.stream,
            ppid: info.ppid,
            unordered: info.unordered,
            ..SendInfo::default()
        };
        if stream.send(data, back).await.is_err() {
            break;
        }
    }
}

/// Accepts one association and collects the numbers (first four bytes) of
/// the messages it reads, in order, until the association ends.
fn count_numbered(listener: SctpListener) -> tokio::task::JoinHandle<Vec<u32>> {
    tokio::spawn(async move {
        let s = listener.accept().await.expect("accept");
        let mut got = Vec::new();
        while let Ok(Some((data, _))) = s.recv().await {
            got.push(u32::from_be_bytes(data[..4].try_into().unwrap()));
        }
        got
    })
}

/// Sends `k` numbered messages 10 ms apart, numbering on from `*n` (the
/// sleep paces the traffic; it synchronises nothing).
async fn send_numbered(client: &SctpStream, n: &mut u32, k: u32) {
    for _ in 0..k {
        client
            .send(
                Bytes::copy_from_slice(&n.to_be_bytes()),
                SendInfo::default(),
            )
            .await
            .unwrap();
        *n += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn wait_event(s: &SctpStream, what: &str, f: impl Fn(&Event) -> bool) -> Event {
    timeout(WAIT, async {
        loop {
            match s.next_event().await {
                Some(e) if f(&e) => return e,
                Some(_) => {}
                None => panic!("association ended while waiting for {what}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// RFC 9260 §5.1.2, §5.4, §6.4: both addresses are announced and the second
/// is confirmed by heartbeat; messages are echoed intact; graceful shutdown
/// completes.
#[tokio::test(flavor = "current_thread")]
async fn multihomed_echo_raw_ipv4() {
    require_root("the socket tests create network namespaces and raw sockets");
    let lab = Lab::new();
    let listener = listen(&lab, &[BETA1_V4, BETA2_V4], TransportKind::Raw).await;
    let server = tokio::spawn(async move {
        let s = listener.accept().await.expect("accept");
        echo(s).await;
    });
    let client = connect(
        &lab,
        &[ALPHA1_V4, ALPHA2_V4],
        &[BETA1_V4],
        TransportKind::Raw,
    )
    .await;
    wait_event(&client, "confirmation of 198.51.100.2", |e| {
        matches!(e, Event::PeerAddress { address, change: AddressChange::Confirmed, .. } if *address == BETA2_V4)
    })
    .await;
    let paths = client.paths().unwrap();
    assert_eq!(paths.len(), 2);
    assert!(paths.iter().all(|p| p.state == PathState::Active));
    for i in 0..50u32 {
        let msg = Bytes::from(format!("message {i}").repeat(1 + (i as usize % 7) * 100));
        let info = SendInfo {
            stream: (i % 3) as u16,
            ppid: 42,
            ..SendInfo::default()
        };
        client.send(msg.clone(), info).await.unwrap();
        let (back, rinfo) = timeout(WAIT, client.recv())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(back, msg);
        assert_eq!((rinfo.stream, rinfo.ppid), ((i % 3) as u16, 42));
        assert_eq!(
            rinfo.from,
            Some(BETA1_V4),
            "echo arrives from the primary address"
        );
    }
    timeout(WAIT, client.shutdown()).await.unwrap().unwrap();
    timeout(WAIT, server).await.unwrap().unwrap();
}

async fn bulk(kind: TransportKind, local: &[IpAddr], peer: &[IpAddr], server_addrs: &[IpAddr]) {
    let lab = Lab::new();
    let listener = listen(&lab, server_addrs, kind).await;
    let server = tokio::spawn(async move {
        let s = listener.accept().await.expect("accept");
        let mut h = Sha256::new();
        let mut n = 0usize;
        while let Some((data, _)) = s.recv().await.unwrap() {
            n += data.len();
            h.update(&data);
        }
        (n, h.finalize())
    });
    let client = connect(&lab, local, peer, kind).await;
    let total = 20 * 1024 * 1024;
    let mut h = Sha256::new();
    let mut sent = 0usize;
    let mut i = 0u64;
    while sent < total {
        let len = (64 * 1024).min(total - sent);
        let chunk: Vec<u8> = (0..len).map(|j| (j as u64 * 31 + i * 7) as u8).collect();
        h.update(&chunk);
        client.send(chunk, SendInfo::default()).await.unwrap();
        sent += len;
        i += 1;
    }
    timeout(Duration::from_secs(120), client.shutdown())
        .await
        .unwrap()
        .unwrap();
    let (n, digest) = timeout(WAIT, server).await.unwrap().unwrap();
    assert_eq!(n, total);
    assert_eq!(digest, h.finalize(), "SHA-256 of 20 MB");
}

/// RFC 9260 §6: 20 MB over raw IPv4, checked by SHA-256.
#[tokio::test(flavor = "current_thread")]
async fn bulk_20mb_raw() {
    require_root("the socket tests create network namespaces and raw sockets");
    bulk(
        TransportKind::Raw,
        &[ALPHA1_V4, ALPHA2_V4],
        &[BETA1_V4],
        &[BETA1_V4, BETA2_V4],
    )
    .await;
}

/// RFC 6951: 20 MB over UDP encapsulation, IPv6 and IPv4 paths mixed.
#[tokio::test(flavor = "current_thread")]
async fn bulk_20mb_udp_mixed() {
    require_root("the socket tests create network namespaces");
    bulk(
        TransportKind::udp(),
        &[ALPHA1_V6, ALPHA2_V4],
        &[BETA1_V6],
        &[BETA1_V6, BETA2_V4],
    )
    .await;
}

/// The reference experiment on real sockets: `iptables -I INPUT -p sctp -i
/// link1 -j REJECT` on both hosts while messages flow; the association
/// reports link 1 potentially failed, keeps delivering every message over
/// link 2, and returns to link 1 when the rules are removed (RFC 9260
/// §6.4.1, RFC 7829, Appendix C).
#[tokio::test(flavor = "current_thread")]
async fn failover_on_iptables_reject() {
    require_root("the socket tests create network namespaces and iptables rules");
    let lab = Lab::new();
    let listener = listen(&lab, &[BETA1_V4, BETA2_V4], TransportKind::Raw).await;
    let server = count_numbered(listener);
    let pcap = std::env::temp_dir().join(format!("msctp-failover-{}.pcap", std::process::id()));
    let client = {
        let _inside = lab.alpha.enter();
        let o = Options {
            pcap: Some(pcap.clone()),
            ..opts(TransportKind::Raw)
        };
        timeout(
            WAIT,
            SctpStream::connect(&[ALPHA1_V4, ALPHA2_V4], &[BETA1_V4], 5001, o),
        )
        .await
        .unwrap()
        .unwrap()
    };
    let rule = ["-p", "sctp", "-i", "link1", "-j", "REJECT"];
    let mut n = 0u32;
    send_numbered(&client, &mut n, 20).await;
    for ns in [&lab.alpha, &lab.beta] {
        let mut args = vec!["-I", "INPUT"];
        args.extend(rule);
        ns.exec_ok("iptables", &args);
    }
    send_numbered(&client, &mut n, 50).await;
    let pf = wait_event(&client, "link 1 potentially failed", |e| {
        matches!(e, Event::PeerAddress { address, change: AddressChange::PotentiallyFailed, .. } if *address == BETA1_V4)
    })
    .await;
    let _ = pf;
    let on_link2 = client
        .paths()
        .unwrap()
        .iter()
        .find(|p| p.remote == BETA2_V4)
        .unwrap()
        .counters;
    assert!(
        on_link2.data_chunks_sent + on_link2.retransmissions > 0,
        "data moved to link 2"
    );
    for ns in [&lab.alpha, &lab.beta] {
        let mut args = vec!["-D", "INPUT"];
        args.extend(rule);
        ns.exec_ok("iptables", &args);
    }
    wait_event(&client, "link 1 available again", |e| {
        matches!(e, Event::PeerAddress { address, change: AddressChange::Available, .. } if *address == BETA1_V4)
    })
    .await;
    let before = client
        .paths()
        .unwrap()
        .iter()
        .find(|p| p.remote == BETA1_V4)
        .unwrap()
        .counters
        .data_chunks_sent;
    send_numbered(&client, &mut n, 30).await;
    let after = client
        .paths()
        .unwrap()
        .iter()
        .find(|p| p.remote == BETA1_V4)
        .unwrap()
        .counters
        .data_chunks_sent;
    assert!(after > before, "data back on link 1");
    timeout(WAIT, client.shutdown()).await.unwrap().unwrap();
    let got = timeout(WAIT, server).await.unwrap().unwrap();
    assert_eq!(
        got,
        (0..100).collect::<Vec<_>>(),
        "every message once, in order"
    );
    drop(client);
    // The capture is complete once the driver has ended and dropped it.
    timeout(WAIT, async {
        loop {
            let complete = std::fs::read(&pcap).is_ok_and(|b| {
                msctp_wire::capture::read(bytes::Bytes::from(b))
                    .is_ok_and(|r| r.into_iter().all(|f| f.is_ok()))
            });
            if complete {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the capture is flushed when the endpoint ends");
    // RFC 9260 §6.4.1: a DATA chunk sent to 192.0.2.2 while link 1 was
    // rejected went again, with the same TSN, to 198.51.100.2.
    let bytes = bytes::Bytes::from(std::fs::read(&pcap).unwrap());
    let mut sent: Vec<(IpAddr, u32)> = Vec::new();
    for frame in msctp_wire::capture::read(bytes).unwrap().flatten() {
        let msctp_wire::capture::Decap::Sctp(d) = msctp_wire::capture::sctp_in_frame(&frame) else {
            continue;
        };
        if d.src != ALPHA1_V4 && d.src != ALPHA2_V4 {
            continue;
        }
        let p = msctp_wire::Packet::parse(d.sctp).unwrap();
        for c in p.chunks {
            if let msctp_wire::Chunk::Data(data) = c {
                sent.push((d.dst, data.tsn.0));
            }
        }
    }
    let retransmitted = sent.iter().enumerate().any(|(i, (dst, tsn))| {
        *dst == BETA1_V4
            && sent[i + 1..]
                .iter()
                .any(|(d2, t2)| *d2 == BETA2_V4 && t2 == tsn)
    });
    assert!(
        retransmitted,
        "a TSN first sent to 192.0.2.2 is sent again to 198.51.100.2"
    );
    msctp::testing::check_pcap_with_tshark(&pcap, &[]);
    std::fs::remove_file(&pcap).ok();
}

/// RFC 6458 §3: a one-to-many socket serves two peers at once, each message
/// tagged with its association; autoclose (RFC 6458 §8.1.8) shuts idle
/// associations down; event subscriptions filter what is reported.
#[tokio::test(flavor = "current_thread")]
async fn one_to_many_two_peers_and_autoclose() {
    require_root("the socket tests create network namespaces and raw sockets");
    let lab = Lab::new();
    let server_opts = Options {
        events: msctp::EventKinds::ASSOCIATION,
        ..opts(TransportKind::Raw)
    };
    let server = {
        let _inside = lab.beta.enter();
        msctp::SocketBuilder::new()
            .add_addr(BETA1_V4)
            .add_addr(BETA2_V4)
            .add_addr(BETA1_V6)
            .remove_addr(BETA1_V6)
            .port(5001)
            .options(server_opts)
            .one_to_many()
            .await
            .unwrap()
    };
    assert_eq!(server.local_addrs(), vec![BETA1_V4, BETA2_V4]);
    server.set_autoclose(Some(Duration::from_millis(500)));
    let a = connect(&lab, &[ALPHA1_V4], &[BETA1_V4], TransportKind::Raw).await;
    let b = connect(&lab, &[ALPHA2_V4], &[BETA2_V4], TransportKind::Raw).await;
    a.send(Bytes::from_static(b"from a"), SendInfo::default())
        .await
        .unwrap();
    b.send(Bytes::from_static(b"from b"), SendInfo::default())
        .await
        .unwrap();
    let mut seen = std::collections::HashMap::new();
    for _ in 0..2 {
        let (data, info) = timeout(WAIT, server.recv()).await.unwrap().unwrap();
        let expected_from = if &data[..] == b"from a" {
            ALPHA1_V4
        } else {
            ALPHA2_V4
        };
        assert_eq!(info.from, Some(expected_from));
        seen.insert(data, info.association);
    }
    let ha = seen[&Bytes::from_static(b"from a")];
    let hb = seen[&Bytes::from_static(b"from b")];
    assert_ne!(ha, hb);
    server
        .send(ha, Bytes::from_static(b"to a"), SendInfo::default())
        .await
        .unwrap();
    server
        .send(hb, Bytes::from_static(b"to b"), SendInfo::default())
        .await
        .unwrap();
    assert_eq!(
        timeout(WAIT, a.recv()).await.unwrap().unwrap().unwrap().0,
        Bytes::from_static(b"to a")
    );
    assert_eq!(
        timeout(WAIT, b.recv()).await.unwrap().unwrap().unwrap().0,
        Bytes::from_static(b"to b")
    );
    // Autoclose: both go idle and are shut down by the server.
    let mut closed = 0;
    while closed < 2 {
        let (_, e) = timeout(WAIT, server.next_event()).await.expect("autoclose");
        assert!(
            matches!(e, Event::Association(_)),
            "only subscribed kinds: {e:?}"
        );
        if e == Event::Association(msctp::AssociationChange::ShutdownComplete) {
            closed += 1;
        }
    }
    assert_eq!(
        timeout(WAIT, a.recv()).await.unwrap().unwrap(),
        None,
        "a was shut down"
    );
    assert!(server.associations().is_empty());
}

/// RFC 9260 §9.1: an abort reaches the peer with its reason.
#[tokio::test(flavor = "current_thread")]
async fn abort_reaches_peer() {
    require_root("the socket tests create network namespaces and raw sockets");
    abort_over(TransportKind::Raw).await;
    abort_over(TransportKind::udp()).await;
}

async fn abort_over(kind: TransportKind) {
    let lab = Lab::new();
    let listener = listen(&lab, &[BETA1_V4], kind).await;
    let server = tokio::spawn(async move {
        let s = listener.accept().await.unwrap();
        let mut reason = None;
        while let Some(e) = s.next_event().await {
            if let Event::Association(msctp::AssociationChange::CommLost { reason: r }) = e {
                reason = Some(r);
            }
        }
        reason
    });
    let client = connect(&lab, &[ALPHA1_V4], &[BETA1_V4], kind).await;
    client.abort(Some(Bytes::from_static(b"going away")));
    let reason = timeout(WAIT, server).await.unwrap().unwrap();
    assert_eq!(
        reason,
        Some(msctp::CloseReason::PeerAborted(vec![
            msctp_wire::ErrorCause::UserInitiatedAbort(Bytes::from_static(b"going away"))
        ]))
    );
}

/// RFC 9260 §5.1: nobody listens: the INIT is retransmitted
/// Max.Init.Retransmits times, then `connect` fails with a clear error.
#[tokio::test(flavor = "current_thread")]
async fn connect_to_nobody_fails_clearly() {
    require_root("the socket tests create network namespaces");
    let lab = Lab::new();
    let o = Options {
        config: Config {
            rto_initial: Duration::from_millis(50),
            rto_min: Duration::from_millis(50),
            rto_max: Duration::from_millis(100),
            max_init_retransmits: 3,
            ..Config::default()
        },
        ..Options::udp(9899)
    };
    let _inside = lab.alpha.enter();
    let e = timeout(
        WAIT,
        SctpStream::connect(&[ALPHA1_V4], &[BETA1_V4], 5001, o),
    )
    .await
    .expect("connect must give up in time")
    .expect_err("nobody listens");
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(e.to_string().contains("could not be started"), "{e}");
}

/// Failover with a silent failure (iptables DROP) and with the link device
/// set down: T3-rtx detects it and every message arrives over link 2
/// (RFC 9260 §6.3.3, §6.4.1, RFC 7829).
#[tokio::test(flavor = "current_thread")]
async fn failover_on_drop_and_link_down() {
    require_root("the socket tests create network namespaces and iptables rules");
    for how in ["drop", "link-down"] {
        let lab = Lab::new();
        let listener = listen(&lab, &[BETA1_V4, BETA2_V4], TransportKind::Raw).await;
        let server = count_numbered(listener);
        let client = connect(
            &lab,
            &[ALPHA1_V4, ALPHA2_V4],
            &[BETA1_V4],
            TransportKind::Raw,
        )
        .await;
        let mut n = 0u32;
        for step in 0..3 {
            if step == 1 {
                match how {
                    "drop" => {
                        for ns in [&lab.alpha, &lab.beta] {
                            ns.exec_ok(
                                "iptables",
                                &["-I", "INPUT", "-p", "sctp", "-i", "link1", "-j", "DROP"],
                            );
                        }
                    }
                    _ => {
                        lab.alpha.exec_ok("ip", &["link", "set", "link1", "down"]);
                    }
                }
            }
            send_numbered(&client, &mut n, 40).await;
        }
        let p2 = client
            .paths()
            .unwrap()
            .into_iter()
            .find(|p| p.remote == BETA2_V4)
            .unwrap();
        assert!(
            p2.counters.data_chunks_sent + p2.counters.retransmissions > 0,
            "{how}: data on link 2"
        );
        timeout(WAIT, client.shutdown()).await.unwrap().unwrap();
        let got = timeout(WAIT, server).await.unwrap().unwrap();
        assert_eq!(
            got,
            (0..120).collect::<Vec<_>>(),
            "{how}: every message once, in order"
        );
    }
}

/// The reference experiment over UDP encapsulation (RFC 6951): `iptables -I
/// INPUT -p udp --dport 9899 -i link1 -j REJECT` on both hosts; the ICMP
/// port unreachable fails link 1 only (another path is active), every
/// message arrives over link 2, and traffic returns to link 1 afterwards.
#[tokio::test(flavor = "current_thread")]
async fn failover_on_udp_reject() {
    require_root("the socket tests create network namespaces and iptables rules");
    let lab = Lab::new();
    let listener = listen(&lab, &[BETA1_V4, BETA2_V4], TransportKind::udp()).await;
    let server = count_numbered(listener);
    let client = connect(
        &lab,
        &[ALPHA1_V4, ALPHA2_V4],
        &[BETA1_V4],
        TransportKind::udp(),
    )
    .await;
    wait_event(&client, "confirmation of 198.51.100.2", |e| {
        matches!(e, Event::PeerAddress { address, change: AddressChange::Confirmed, .. } if *address == BETA2_V4)
    })
    .await;
    let rule = [
        "-p", "udp", "--dport", "9899", "-i", "link1", "-j", "REJECT",
    ];
    let mut n = 0u32;
    send_numbered(&client, &mut n, 20).await;
    for ns in [&lab.alpha, &lab.beta] {
        let mut args = vec!["-I", "INPUT"];
        args.extend(rule);
        ns.exec_ok("iptables", &args);
    }
    send_numbered(&client, &mut n, 50).await;
    wait_event(&client, "link 1 potentially failed", |e| {
        matches!(e, Event::PeerAddress { address, change: AddressChange::PotentiallyFailed, .. } if *address == BETA1_V4)
    })
    .await;
    for ns in [&lab.alpha, &lab.beta] {
        let mut args = vec!["-D", "INPUT"];
        args.extend(rule);
        ns.exec_ok("iptables", &args);
    }
    wait_event(&client, "link 1 available again", |e| {
        matches!(e, Event::PeerAddress { address, change: AddressChange::Available, .. } if *address == BETA1_V4)
    })
    .await;
    send_numbered(&client, &mut n, 30).await;
    timeout(WAIT, client.shutdown()).await.unwrap().unwrap();
    let got = timeout(WAIT, server).await.unwrap().unwrap();
    assert_eq!(
        got,
        (0..100).collect::<Vec<_>>(),
        "every message once, in order"
    );
}

/// RFC 6458 §6: notifications as an async stream: COMM_UP-era path events
/// arrive, and the stream ends after the association ends.
#[tokio::test(flavor = "current_thread")]
async fn events_as_a_stream() {
    use futures_core::Stream;
    use std::pin::Pin;
    require_root("the socket tests create network namespaces and raw sockets");
    let lab = Lab::new();
    let listener = listen(&lab, &[BETA1_V4, BETA2_V4], TransportKind::Raw).await;
    let server = tokio::spawn(async move {
        let s = listener.accept().await.unwrap();
        echo(s).await;
    });
    let client = connect(
        &lab,
        &[ALPHA1_V4, ALPHA2_V4],
        &[BETA1_V4],
        TransportKind::Raw,
    )
    .await;
    let mut events = client.events();
    let first = timeout(
        WAIT,
        std::future::poll_fn(|cx| Pin::new(&mut events).poll_next(cx)),
    )
    .await
    .unwrap();
    assert!(
        matches!(
            first,
            Some(Event::Association(msctp::AssociationChange::CommUp { .. }))
        ),
        "{first:?}"
    );
    let confirmed = timeout(
        WAIT,
        std::future::poll_fn(|cx| Pin::new(&mut events).poll_next(cx)),
    )
    .await
    .unwrap();
    assert!(
        matches!(confirmed, Some(Event::PeerAddress { address, change: AddressChange::Confirmed, .. }) if address == BETA2_V4),
        "{confirmed:?}"
    );
    drop(events);
    timeout(WAIT, client.shutdown()).await.unwrap().unwrap();
    let mut events = client.events();
    let mut rest = Vec::new();
    while let Some(e) = timeout(
        WAIT,
        std::future::poll_fn(|cx| Pin::new(&mut events).poll_next(cx)),
    )
    .await
    .unwrap()
    {
        rest.push(e);
    }
    assert!(rest.contains(&Event::Association(
        msctp::AssociationChange::ShutdownComplete
    )));
    timeout(WAIT, server).await.unwrap().unwrap();
}
