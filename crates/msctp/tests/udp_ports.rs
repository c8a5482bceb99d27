//! RFC 6951 §5.4: the peer's UDP port is learnt per association and peer
//! address, only from datagrams the association accepted; stateless answers
//! go to the port of the datagram they answer. Between two namespaces (the
//! design document's lab). Needs root; fails, never skips, without it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use msctp::testing::addr::*;
use msctp::testing::{Lab, Netns, require_root};
use msctp::transport::{SCTP_UDP_PORT, TransportKind};
use msctp::{Config, Options, SctpListener, SctpStream, SendInfo};
use msctp_wire::chunk::{Abort, CookieEcho, Data, Heartbeat, Init};
use msctp_wire::{Chunk, CommonHeader, Packet, Param, Ssn, Tsn};
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(20);
/// The client's local UDP port.
const CLIENT_UDP: u16 = 10_001;

fn opts(kind: TransportKind) -> Options {
    Options {
        transport: kind,
        config: Config {
            rto_initial: Duration::from_millis(300),
            rto_min: Duration::from_millis(100),
            rto_max: Duration::from_secs(1),
            hb_interval: Duration::from_millis(500),
            ..Config::default()
        },
        ..Options::default()
    }
}

/// A listener in beta (UDP 9899) whose one association echoes, and a
/// client in alpha (UDP 10001), both on both IPv4 addresses.
struct Setup {
    lab: Lab,
    listener: Arc<SctpListener>,
    server: Arc<SctpStream>,
    client: SctpStream,
    echo: tokio::task::JoinHandle<()>,
}

async fn setup() -> Setup {
    require_root("the UDP port tests create network namespaces");
    let lab = Lab::new();
    let listener = {
        let _inside = lab.beta.enter();
        Arc::new(
            SctpListener::bind(&[BETA1_V4, BETA2_V4], 5001, opts(TransportKind::udp()))
                .await
                .unwrap(),
        )
    };
    let client = {
        let _inside = lab.alpha.enter();
        timeout(
            WAIT,
            SctpStream::connect(
                &[ALPHA1_V4, ALPHA2_V4],
                &[BETA1_V4],
                5001,
                opts(TransportKind::Udp { port: CLIENT_UDP }),
            ),
        )
        .await
        .unwrap()
        .unwrap()
    };
    let server = Arc::new(timeout(WAIT, listener.accept()).await.unwrap().unwrap());
    let echo = {
        let s = server.clone();
        tokio::spawn(async move {
            while let Ok(Some((data, _))) = s.recv().await {
                if s.send(data, SendInfo::default()).await.is_err() {
                    break;
                }
            }
        })
    };
    // Both of the client's addresses have sent something the association
    // accepted (heartbeats confirm each path), so the table is complete.
    timeout(WAIT, async {
        while server.peer_udp_ports().len() < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the server did not learn the client's port on both addresses");
    Setup {
        lab,
        listener,
        server,
        client,
        echo,
    }
}

/// Sends a message and waits for its echo.
async fn round_trip(client: &SctpStream, text: &str) {
    let msg = Bytes::from(text.to_string());
    client.send(msg.clone(), SendInfo::default()).await.unwrap();
    let (back, _) = timeout(WAIT, client.recv())
        .await
        .unwrap_or_else(|_| panic!("no echo of {text:?}"))
        .unwrap()
        .unwrap();
    assert_eq!(back, msg);
}

/// A UDP socket in `ns` bound to `addr`:`port` (0: any), for tokio.
fn udp_in(ns: &Netns, addr: IpAddr, port: u16) -> tokio::net::UdpSocket {
    let _inside = ns.enter();
    let s = std::net::UdpSocket::bind(SocketAddr::new(addr, port)).unwrap();
    s.set_nonblocking(true).unwrap();
    tokio::net::UdpSocket::from_std(s).unwrap()
}

fn packet(src_port: u16, dst_port: u16, tag: u32, chunk: Chunk) -> Vec<u8> {
    Packet {
        header: CommonHeader {
            src_port,
            dst_port,
            verification_tag: tag,
        },
        chunks: vec![chunk],
    }
    .emit()
}

fn data_chunk(tsn: u32) -> Chunk {
    Chunk::Data(Data {
        tsn: Tsn(tsn),
        stream: 0,
        ssn: Ssn(0),
        ppid: 0,
        unordered: false,
        begin: true,
        end: true,
        immediate: false,
        payload: Bytes::from_static(b"spoofed"),
    })
}

fn init_chunk(tag: u32, addr: IpAddr) -> Chunk {
    Chunk::Init(Init {
        initiate_tag: tag,
        a_rwnd: 65_536,
        outbound_streams: 10,
        inbound_streams: 10,
        initial_tsn: Tsn(tag),
        params: vec![match addr {
            IpAddr::V4(a) => Param::Ipv4Address(a),
            IpAddr::V6(a) => Param::Ipv6Address(a),
        }],
    })
}

/// The datagrams an off-path attacker can make for the association's
/// ports without knowing its verification tags.
fn spoofs(src_port: u16, dst_port: u16, seq: u32) -> Vec<Vec<u8>> {
    let wrong_tag = 0x5eed_0000 | (seq & 0xffff);
    let mut bad_crc = packet(src_port, dst_port, wrong_tag, data_chunk(seq));
    bad_crc[8] ^= 0xff;
    vec![
        packet(src_port, dst_port, wrong_tag, data_chunk(seq)),
        packet(
            src_port,
            dst_port,
            wrong_tag,
            Chunk::Heartbeat(Heartbeat {
                info: Bytes::from_static(b"spoofed heartbeat"),
            }),
        ),
        packet(
            src_port,
            dst_port,
            wrong_tag,
            Chunk::Abort(Abort {
                t_bit: false,
                causes: vec![],
            }),
        ),
        packet(
            src_port,
            dst_port,
            wrong_tag,
            Chunk::CookieEcho(CookieEcho {
                cookie: Bytes::from(vec![seq as u8; 64]),
            }),
        ),
        bad_crc,
    ]
}

fn learnt(server: &SctpStream) -> Vec<(IpAddr, u16)> {
    let mut p = server.peer_udp_ports();
    p.sort();
    p
}

/// RFC 6951 §5.4: a UDP-encapsulated datagram claiming the peer's address
/// from another UDP port, with a wrong verification tag (or a bad checksum,
/// or a forged COOKIE ECHO), is not accepted by the association, so it does
/// not teach the server a new port: the learnt port stays the client's and
/// messages keep flowing both ways. An INIT from that port is answered
/// statelessly to that port, and teaches nothing either.
#[tokio::test(flavor = "current_thread")]
async fn spoofed_datagram_does_not_redirect_the_association() {
    let s = setup().await;
    round_trip(&s.client, "before").await;
    let before = learnt(&s.server);
    assert_eq!(
        before,
        [(ALPHA1_V4, CLIENT_UDP), (ALPHA2_V4, CLIENT_UDP)],
        "learnt from the client's packets"
    );
    let (sctp_src, sctp_dst) = (s.client.local_port(), s.client.peer_port().unwrap());
    assert_eq!(sctp_dst, 5001);

    let attacker = udp_in(&s.lab.alpha, ALPHA1_V4, 20_000);
    let to = SocketAddr::new(BETA1_V4, SCTP_UDP_PORT);
    let mut buf = vec![0u8; 65_536];
    for (i, d) in spoofs(sctp_src, sctp_dst, 1).into_iter().enumerate() {
        attacker.send_to(&d, to).await.unwrap();
        // An INIT with the association's ports from the attacker's port,
        // right behind it on the same socket: its INIT ACK comes back to
        // that port (a stateless answer), which also tells that the spoof
        // has been handled.
        let init = packet(sctp_src, sctp_dst, 0, init_chunk(0x1234_5678, ALPHA1_V4));
        attacker.send_to(&init, to).await.unwrap();
        let (n, from) = timeout(WAIT, attacker.recv_from(&mut buf))
            .await
            .expect("no answer to the INIT on its own UDP port")
            .unwrap();
        assert_eq!(from, to);
        let answer = Packet::parse(Bytes::copy_from_slice(&buf[..n])).unwrap();
        assert_eq!(answer.header.verification_tag, 0x1234_5678);
        assert!(
            matches!(answer.chunks[..], [Chunk::InitAck(_)]),
            "{:?}",
            answer.chunks
        );
        assert_eq!(learnt(&s.server), before, "after spoof {i}");
        // The server speaks first: its message must reach the client's
        // port, not the attacker's.
        let msg = Bytes::from(format!("server after spoof {i}"));
        s.server
            .send(msg.clone(), SendInfo::default())
            .await
            .unwrap();
        let (got, _) = timeout(WAIT, s.client.recv())
            .await
            .unwrap_or_else(|_| panic!("the server's message after spoof {i} was lost"))
            .unwrap()
            .unwrap();
        assert_eq!(got, msg);
        round_trip(&s.client, &format!("after spoof {i}")).await;
    }
    // Nothing came to the attacker but the INIT ACKs.
    assert!(
        timeout(Duration::from_millis(200), attacker.recv_from(&mut buf))
            .await
            .is_err(),
        "the association sent something to the attacker's port"
    );
    round_trip(&s.client, "after the INIT").await;
    assert_eq!(learnt(&s.server), before);
    assert!(s.listener.learnt_udp_ports() <= 2);

    timeout(WAIT, s.client.shutdown()).await.unwrap().unwrap();
    timeout(WAIT, s.echo).await.unwrap().unwrap();
}

/// Everything a peer controls costs bounded memory: a flood of datagrams
/// from many UDP ports and source addresses (wrong tags, bad checksums,
/// forged cookies, INITs) grows no table of the server. It learns ports only
/// for its association's peer addresses, and answers the INITs to their
/// own ports without remembering them.
#[tokio::test(flavor = "current_thread")]
async fn udp_flood_from_many_ports_and_addresses_grows_no_table() {
    let s = setup().await;
    round_trip(&s.client, "before").await;
    let before = learnt(&s.server);
    let (sctp_src, sctp_dst) = (s.client.local_port(), s.client.peer_port().unwrap());
    // 32 extra source addresses in alpha, 4 sockets (ports) on each.
    let extra: Vec<IpAddr> = (100..132u8)
        .map(|i| IpAddr::V4(Ipv4Addr::new(192, 0, 2, i)))
        .collect();
    for a in &extra {
        s.lab
            .alpha
            .ip(&["addr", "add", &format!("{a}/32"), "dev", "link1"]);
    }
    let mut sockets = Vec::new();
    for a in extra.iter().chain([ALPHA1_V4, ALPHA2_V4].iter()) {
        for _ in 0..4 {
            sockets.push((*a, udp_in(&s.lab.alpha, *a, 0)));
        }
    }
    let to = SocketAddr::new(BETA1_V4, SCTP_UDP_PORT);
    let mut sent = 0;
    for (i, (addr, sock)) in sockets.iter().enumerate() {
        let i = i as u32;
        let mut all = spoofs(sctp_src, sctp_dst, i);
        // INITs for new associations and ones with the real association's
        // ports.
        all.push(packet(40_000 + i as u16, 5001, 0, init_chunk(i + 1, *addr)));
        all.push(packet(sctp_src, sctp_dst, 0, init_chunk(i + 1, *addr)));
        for d in all {
            sock.send_to(&d, to).await.unwrap();
            sent += 1;
        }
        if i % 16 == 0 {
            round_trip(&s.client, &format!("during the flood {i}")).await;
        }
    }
    assert_eq!(sent, sockets.len() * 7);
    round_trip(&s.client, "after the flood").await;
    assert_eq!(learnt(&s.server), before, "the association's ports");
    assert!(
        s.listener.learnt_udp_ports() <= 2,
        "{} ports remembered",
        s.listener.learnt_udp_ports()
    );
    // The INITs were answered, each to its own port.
    let mut buf = vec![0u8; 65_536];
    for (_, sock) in sockets.iter().take(8) {
        let (n, from) = timeout(WAIT, sock.recv_from(&mut buf))
            .await
            .expect("no INIT ACK on the flood socket's own port")
            .unwrap();
        assert_eq!(from, to);
        let p = Packet::parse(Bytes::copy_from_slice(&buf[..n])).unwrap();
        assert!(
            p.chunks
                .iter()
                .any(|c| matches!(c, Chunk::InitAck(_) | Chunk::Abort(_))),
            "{:?}",
            p.chunks
        );
    }
    timeout(WAIT, s.client.shutdown()).await.unwrap().unwrap();
    timeout(WAIT, s.echo).await.unwrap().unwrap();
    // The association is gone, and its ports with it.
    timeout(WAIT, async {
        while s.listener.learnt_udp_ports() != 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the ended association's UDP ports are still remembered");
}
