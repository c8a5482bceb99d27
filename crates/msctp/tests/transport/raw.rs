//! Raw IP transport (protocol 132) between two namespaces.

use std::sync::Arc;

use msctp::PcapTap;
use msctp::testing::{Lab, addr::*, check_pcap_with_tshark};
use msctp::transport::{Incoming, OutgoingPacket, TransportKind};

use crate::common::*;

/// A raw IPv4 packet sent from a chosen local address arrives on the right
/// address with the right bytes; the reply goes back from the address it
/// was sent from; packets for another SCTP port are left alone; both sides'
/// captures are clean for tshark.
#[tokio::test]
async fn raw_ipv4_round_trip_from_the_chosen_address() {
    let lab = Lab::new();
    let scratch = Scratch::new("raw4");
    let tap_a = Arc::new(PcapTap::create(scratch.path("alpha.pcap")).unwrap());
    let tap_b = Arc::new(PcapTap::create(scratch.path("beta.pcap")).unwrap());
    let mut a = bind_in(
        &lab.alpha,
        TransportKind::Raw,
        &[ALPHA1_V4, ALPHA2_V4],
        5000,
    )
    .await;
    let mut b = bind_in(&lab.beta, TransportKind::Raw, &[BETA1_V4, BETA2_V4], 5001).await;
    a.set_tap(Some(tap_a.clone()));
    b.set_tap(Some(tap_b.clone()));

    // For another SCTP port on beta's address: beta's transport must not
    // report it. It is sent first, so beta has read (and dropped) it by the
    // time the next packet arrives.
    let other = init(5000, 5002, &[ALPHA1_V4, ALPHA2_V4]);
    a.send(ALPHA2_V4, BETA2_V4, None, &other).await.unwrap();

    let init = init(5000, 5001, &[ALPHA1_V4, ALPHA2_V4]);
    a.send(ALPHA2_V4, BETA2_V4, None, &init).await.unwrap();
    let r = next_packet(&b, "the INIT on link 2").await;
    assert_eq!((r.local, r.remote, r.udp_port), (BETA2_V4, ALPHA2_V4, None));
    assert_eq!(&r.packet[..], &init[..]);
    assert_eq!(b.stats().other_port, 1, "{:?}", b.stats());

    let ack = cookie_ack(5001, 5000, 0x1234_5678);
    b.send(r.local, r.remote, r.udp_port, &ack).await.unwrap();
    let r = next_packet(&a, "the reply on link 2").await;
    assert_eq!((r.local, r.remote, r.udp_port), (ALPHA2_V4, BETA2_V4, None));
    assert_eq!(&r.packet[..], &ack[..]);

    // The same transport on link 1.
    a.send(ALPHA1_V4, BETA1_V4, None, &init).await.unwrap();
    let r = next_packet(&b, "the INIT on link 1").await;
    assert_eq!((r.local, r.remote), (BETA1_V4, ALPHA1_V4));

    let (sa, sb) = (a.stats(), b.stats());
    assert_eq!((sa.packets_sent, sa.packets_received), (3, 1), "{sa:?}");
    assert_eq!((sb.packets_sent, sb.packets_received), (1, 2), "{sb:?}");
    drop((a, b));
    tap_a.flush().unwrap();
    tap_b.flush().unwrap();
    assert_eq!(check_pcap_with_tshark(&scratch.path("alpha.pcap"), &[]), 4);
    assert_eq!(check_pcap_with_tshark(&scratch.path("beta.pcap"), &[]), 3);
}

/// The same over IPv6: the destination address is the bound one, the
/// source comes from the socket address.
#[tokio::test]
async fn raw_ipv6_round_trip_from_the_chosen_address() {
    let lab = Lab::new();
    let a = bind_in(
        &lab.alpha,
        TransportKind::Raw,
        &[ALPHA1_V6, ALPHA2_V6],
        5000,
    )
    .await;
    let b = bind_in(&lab.beta, TransportKind::Raw, &[BETA1_V6, BETA2_V6], 5001).await;
    let other = init(5000, 5002, &[ALPHA1_V6]);
    a.send(ALPHA1_V6, BETA1_V6, None, &other).await.unwrap();
    let init = init(5000, 5001, &[ALPHA1_V6, ALPHA2_V6]);
    for (src, dst) in [(ALPHA1_V6, BETA1_V6), (ALPHA2_V6, BETA2_V6)] {
        a.send(src, dst, None, &init).await.unwrap();
        let r = next_packet(&b, "the INIT").await;
        assert_eq!((r.local, r.remote, r.udp_port), (dst, src, None));
        assert_eq!(&r.packet[..], &init[..]);
        let ack = cookie_ack(5001, 5000, 0x1234_5678);
        b.send(r.local, r.remote, None, &ack).await.unwrap();
        let r = next_packet(&a, "the reply").await;
        assert_eq!((r.local, r.remote), (src, dst));
        assert_eq!(&r.packet[..], &ack[..]);
    }
    assert_eq!(b.stats().other_port, 1);
}

/// One transport with IPv4 and IPv6 addresses on both links; batches of
/// packets with mixed sources go out with `sendmmsg` and come in with
/// `recvmmsg`, each on its own path.
#[tokio::test]
async fn raw_batches_over_mixed_families() {
    let lab = Lab::new();
    let a = bind_in(&lab.alpha, TransportKind::Raw, &Lab::alpha_addrs(), 5000).await;
    let b = bind_in(&lab.beta, TransportKind::Raw, &Lab::beta_addrs(), 5001).await;
    let pairs: Vec<_> = Lab::alpha_addrs()
        .into_iter()
        .zip(Lab::beta_addrs())
        .collect();
    // Runs of 5 packets per path (one sendmmsg each), 20 in all.
    let packets: Vec<Vec<u8>> = (0..20).map(|i| data(5000, 5001, i, 128)).collect();
    let batch: Vec<OutgoingPacket<'_>> = packets
        .iter()
        .enumerate()
        .map(|(i, p)| OutgoingPacket {
            source: pairs[i / 5].0,
            destination: pairs[i / 5].1,
            udp_port: None,
            packet: p,
        })
        .collect();
    let mut sent = 0;
    while sent < batch.len() {
        sent += a.send_batch(&batch[sent..]).await.unwrap();
    }
    let mut got = Vec::new();
    while got.len() < batch.len() {
        let n = tokio::time::timeout(WAIT, b.recv_batch(&mut got, 64))
            .await
            .unwrap_or_else(|_| panic!("timed out with {} of 20 packets", got.len()))
            .unwrap();
        assert!(n > 0);
    }
    assert_eq!(got.len(), 20);
    for incoming in got {
        let Incoming::Packet(r) = incoming else {
            panic!("unexpected {incoming:?}");
        };
        let seq = u32::from_be_bytes(r.packet[16..20].try_into().unwrap());
        let (src, dst) = pairs[seq as usize / 5];
        assert_eq!((r.local, r.remote), (dst, src), "packet {seq}");
        assert_eq!(&r.packet[..], &packets[seq as usize][..]);
    }
    assert_eq!(a.stats().packets_sent, 20);
}
