//! UDP encapsulation (RFC 6951) between two namespaces.

use std::sync::Arc;

use msctp::PcapTap;
use msctp::testing::{Lab, addr::*, check_pcap_with_tshark};
use msctp::transport::{Incoming, OutgoingPacket, SCTP_UDP_PORT, TransportKind};

use crate::common::*;

/// RFC 6951 §5.3: the receiver learns the peer's UDP source port and
/// answers to it; addresses are the chosen ones; captures are clean.
#[tokio::test]
async fn udp_ipv4_round_trip_records_the_peer_port() {
    let lab = Lab::new();
    let scratch = Scratch::new("udp4");
    let tap = Arc::new(PcapTap::create(scratch.path("alpha.pcap")).unwrap());
    let mut a = bind_in(
        &lab.alpha,
        TransportKind::Udp { port: 10_001 },
        &[ALPHA1_V4, ALPHA2_V4],
        5000,
    )
    .await;
    a.set_tap(Some(tap.clone()));
    let b = bind_in(&lab.beta, TransportKind::udp(), &[BETA1_V4, BETA2_V4], 5001).await;
    assert_eq!(a.udp_port(), Some(10_001));
    assert_eq!(b.udp_port(), Some(SCTP_UDP_PORT));

    let other = init(5000, 5002, &[ALPHA1_V4]);
    a.send(ALPHA2_V4, BETA2_V4, None, &other).await.unwrap();
    let init = init(5000, 5001, &[ALPHA1_V4, ALPHA2_V4]);
    a.send(ALPHA2_V4, BETA2_V4, None, &init).await.unwrap();
    let r = next_packet(&b, "the INIT over UDP").await;
    assert_eq!(
        (r.local, r.remote, r.udp_port),
        (BETA2_V4, ALPHA2_V4, Some(10_001))
    );
    assert_eq!(&r.packet[..], &init[..]);
    assert_eq!(b.stats().other_port, 1);

    let ack = cookie_ack(5001, 5000, 0x1234_5678);
    b.send(r.local, r.remote, r.udp_port, &ack).await.unwrap();
    let r = next_packet(&a, "the reply over UDP").await;
    assert_eq!(
        (r.local, r.remote, r.udp_port),
        (ALPHA2_V4, BETA2_V4, Some(SCTP_UDP_PORT))
    );
    assert_eq!(&r.packet[..], &ack[..]);

    a.send(ALPHA1_V4, BETA1_V4, Some(SCTP_UDP_PORT), &init)
        .await
        .unwrap();
    let r = next_packet(&b, "the INIT on link 1").await;
    assert_eq!((r.local, r.remote), (BETA1_V4, ALPHA1_V4));
    drop(a);
    tap.flush().unwrap();
    assert_eq!(
        check_pcap_with_tshark(&scratch.path("alpha.pcap"), &[10_001]),
        4
    );
}

/// Over IPv6, with the local port left to the kernel (port 0): one port for
/// all addresses, reported by `udp_port()` and seen by the peer.
#[tokio::test]
async fn udp_ipv6_round_trip_with_a_chosen_free_port() {
    let lab = Lab::new();
    let a = bind_in(
        &lab.alpha,
        TransportKind::Udp { port: 0 },
        &[ALPHA1_V6, ALPHA2_V6, ALPHA1_V4],
        5000,
    )
    .await;
    let port = a.udp_port().unwrap();
    assert_ne!(port, 0);
    assert_eq!(a.kind(), TransportKind::Udp { port });
    let b = bind_in(&lab.beta, TransportKind::udp(), &Lab::beta_addrs(), 5001).await;
    let init = init(5000, 5001, &[ALPHA1_V6, ALPHA2_V6]);
    for (src, dst) in [
        (ALPHA1_V6, BETA1_V6),
        (ALPHA2_V6, BETA2_V6),
        (ALPHA1_V4, BETA1_V4),
    ] {
        a.send(src, dst, None, &init).await.unwrap();
        let r = next_packet(&b, "the INIT").await;
        assert_eq!((r.local, r.remote, r.udp_port), (dst, src, Some(port)));
        assert_eq!(&r.packet[..], &init[..]);
        let ack = cookie_ack(5001, 5000, 0x1234_5678);
        b.send(r.local, r.remote, r.udp_port, &ack).await.unwrap();
        let r = next_packet(&a, "the reply").await;
        assert_eq!(
            (r.local, r.remote, r.udp_port),
            (src, dst, Some(SCTP_UDP_PORT))
        );
    }
}

/// Batches over UDP: runs with the same source go out with `sendmmsg`
/// (larger than one call's limit), come in with `recvmmsg`.
#[tokio::test]
async fn udp_batches() {
    let lab = Lab::new();
    let a = bind_in(&lab.alpha, TransportKind::udp(), &Lab::alpha_addrs(), 5000).await;
    let b = bind_in(&lab.beta, TransportKind::udp(), &Lab::beta_addrs(), 5001).await;
    let pairs: Vec<_> = Lab::alpha_addrs()
        .into_iter()
        .zip(Lab::beta_addrs())
        .collect();
    let total = 100u32;
    let packets: Vec<Vec<u8>> = (0..total).map(|i| data(5000, 5001, i, 600)).collect();
    // 40 packets on the first path (more than one sendmmsg), then 20 each.
    let path_of = |i: usize| if i < 40 { 0 } else { 1 + (i - 40) / 20 };
    let batch: Vec<OutgoingPacket<'_>> = packets
        .iter()
        .enumerate()
        .map(|(i, p)| OutgoingPacket {
            source: pairs[path_of(i)].0,
            destination: pairs[path_of(i)].1,
            udp_port: None,
            packet: p,
        })
        .collect();
    let receiver = async {
        let mut got = Vec::new();
        while got.len() < total as usize {
            tokio::time::timeout(WAIT, b.recv_batch(&mut got, 16))
                .await
                .unwrap_or_else(|_| panic!("timed out with {} of {total} packets", got.len()))
                .unwrap();
        }
        got
    };
    let sender = async {
        let mut sent = 0;
        while sent < batch.len() {
            sent += a.send_batch(&batch[sent..]).await.unwrap();
        }
    };
    let (got, ()) = tokio::join!(receiver, sender);
    let mut seen = vec![false; total as usize];
    for incoming in got {
        let Incoming::Packet(r) = incoming else {
            panic!("unexpected {incoming:?}");
        };
        let seq = u32::from_be_bytes(r.packet[16..20].try_into().unwrap()) as usize;
        let (src, dst) = pairs[path_of(seq)];
        assert_eq!(
            (r.local, r.remote, r.udp_port),
            (dst, src, Some(SCTP_UDP_PORT))
        );
        assert_eq!(&r.packet[..], &packets[seq][..]);
        assert!(!seen[seq], "packet {seq} twice");
        seen[seq] = true;
    }
    assert_eq!(a.stats().packets_sent, u64::from(total));
}
