//! ICMP errors about packets we sent: raw ICMP sockets for the raw
//! transport, the error queue for UDP (RFC 9260 Appendix C, RFC 6951 §5.5).

use std::net::IpAddr;

use msctp::testing::{Lab, addr::*, require_tool};
use msctp::transport::{IcmpReceived, TransportKind};
use msctp_proto::IcmpKind;

use crate::common::*;

/// Checks what an ICMP error reports about the packet `sent` from `src` to
/// `dst`.
fn check_quote(i: &IcmpReceived, kind: IcmpKind, src: IpAddr, dst: IpAddr, sent: &[u8]) {
    assert_eq!(i.report.kind, kind, "{i:?}");
    assert_eq!(
        (i.report.quoted_src, i.report.quoted_dst),
        (src, dst),
        "{i:?}"
    );
    // Linux quotes all of a small packet.
    assert_eq!(&i.report.quoted[..], sent, "{i:?}");
}

/// `iptables -j REJECT` on beta answers raw SCTP with ICMP port unreachable
/// (IPv4) and ICMPv6 port unreachable: both are `Unreachable` for raw SCTP,
/// quoting what was sent. Errors about another SCTP port's packets are not
/// ours and are ignored.
#[tokio::test]
async fn raw_reject_yields_unreachable() {
    require_tool("iptables", "iptables");
    let lab = Lab::new();
    lab.beta
        .exec_ok("iptables", &["-I", "INPUT", "-p", "sctp", "-j", "REJECT"]);
    lab.beta
        .exec_ok("ip6tables", &["-I", "INPUT", "-p", "sctp", "-j", "REJECT"]);
    let a = bind_in(
        &lab.alpha,
        TransportKind::Raw,
        &[ALPHA1_V4, ALPHA1_V6],
        5000,
    )
    .await;
    let other = bind_in(&lab.alpha, TransportKind::Raw, &[ALPHA1_V4], 6000).await;

    // The other endpoint's error reaches both transports' ICMP sockets;
    // only the other one reports it.
    let p6000 = init(6000, 5001, &[ALPHA1_V4]);
    other.send(ALPHA1_V4, BETA1_V4, None, &p6000).await.unwrap();
    let i = next_icmp(&other, "the other endpoint's ICMP error").await;
    check_quote(&i, IcmpKind::Unreachable, ALPHA1_V4, BETA1_V4, &p6000);

    for (src, dst) in [(ALPHA1_V4, BETA1_V4), (ALPHA1_V6, BETA1_V6)] {
        let p = init(5000, 5001, &[src]);
        a.send(src, dst, None, &p).await.unwrap();
        let i = next_icmp(&a, "ICMP port unreachable").await;
        check_quote(&i, IcmpKind::Unreachable, src, dst, &p);
        assert_eq!(i.from, dst);
    }
    let s = a.stats();
    assert_eq!((s.icmp_received, s.icmp_ignored), (2, 1), "{s:?}");
}

/// A host with no raw socket for protocol 132 (beta, nothing bound) answers
/// with ICMP protocol unreachable / ICMPv6 parameter problem "unrecognised
/// next header": `ProtocolUnreachable` (RFC 9260 Appendix C ICMP8).
#[tokio::test]
async fn raw_without_listener_yields_protocol_unreachable() {
    let lab = Lab::new();
    let a = bind_in(
        &lab.alpha,
        TransportKind::Raw,
        &[ALPHA2_V4, ALPHA2_V6],
        5000,
    )
    .await;
    for (src, dst) in [(ALPHA2_V4, BETA2_V4), (ALPHA2_V6, BETA2_V6)] {
        let p = init(5000, 5001, &[src]);
        a.send(src, dst, None, &p).await.unwrap();
        let i = next_icmp(&a, "ICMP protocol unreachable").await;
        check_quote(&i, IcmpKind::ProtocolUnreachable, src, dst, &p);
        assert_eq!(i.from, dst);
    }
}

/// UDP: errors come from the sockets' error queues. Port unreachable is
/// protocol unreachable (RFC 6951 §5.5), administratively prohibited is
/// unreachable; the socket keeps working afterwards (the pending socket
/// error the ICMP leaves is absorbed).
#[tokio::test]
async fn udp_reject_uses_the_error_queue() {
    require_tool("iptables", "iptables");
    let lab = Lab::new();
    let a = bind_in(&lab.alpha, TransportKind::udp(), &Lab::alpha_addrs(), 5000).await;
    let b = bind_in(&lab.beta, TransportKind::udp(), &Lab::beta_addrs(), 5001).await;
    let port_unreachable = |dst: &str| {
        let v6 = dst.contains(':');
        (
            if v6 { "ip6tables" } else { "iptables" },
            vec![
                "INPUT", "-d", dst, "-p", "udp", "--dport", "9899", "-j", "REJECT",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>(),
        )
    };
    let prohibited = |dst: &str| {
        let (tool, mut rule) = port_unreachable(dst);
        let with = if tool == "iptables" {
            "icmp-admin-prohibited"
        } else {
            "icmp6-adm-prohibited"
        };
        rule.extend(["--reject-with".to_owned(), with.to_owned()]);
        (tool, rule)
    };
    for (src, dst, (tool, rule), kind) in [
        (
            ALPHA1_V4,
            BETA1_V4,
            port_unreachable("192.0.2.2"),
            IcmpKind::ProtocolUnreachable,
        ),
        (
            ALPHA2_V4,
            BETA2_V4,
            prohibited("198.51.100.2"),
            IcmpKind::Unreachable,
        ),
        (
            ALPHA1_V6,
            BETA1_V6,
            port_unreachable("2001:db8:1::2"),
            IcmpKind::ProtocolUnreachable,
        ),
        (
            ALPHA2_V6,
            BETA2_V6,
            prohibited("2001:db8:2::2"),
            IcmpKind::Unreachable,
        ),
    ] {
        let args = |op: &str| {
            let mut v = vec![op];
            v.extend(rule.iter().map(String::as_str));
            v.into_iter().map(str::to_owned).collect::<Vec<_>>()
        };
        let insert = args("-I");
        lab.beta
            .exec_ok(tool, &insert.iter().map(String::as_str).collect::<Vec<_>>());
        // Two packets, two errors. While the second error waits in the
        // queue the kernel keeps it pending as the socket's error too, which
        // the next send would return (unless the transport absorbs it).
        let p = init(5000, 5001, &[src]);
        a.send(src, dst, None, &p).await.unwrap();
        a.send(src, dst, None, &p).await.unwrap();
        let what = format!("the ICMP error from {tool} {rule:?}");
        let i = next_icmp(&a, &what).await;
        check_quote(&i, kind, src, dst, &p);
        assert_eq!(i.from, dst);
        // Lift the rule: the same socket sends and the peer receives again.
        let delete = args("-D");
        lab.beta
            .exec_ok(tool, &delete.iter().map(String::as_str).collect::<Vec<_>>());
        a.send(src, dst, None, &p).await.unwrap();
        let r = next_packet(&b, "the packet after the rule is gone").await;
        assert_eq!((r.local, r.remote), (dst, src));
        let i = next_icmp(&a, &format!("the second {what}")).await;
        check_quote(&i, kind, src, dst, &p);
    }
    assert_eq!(a.stats().icmp_received, 8);
}

/// A router (beta, forwarding to a link with MTU 1280) answers a 1400-byte
/// packet with "fragmentation needed" / "packet too big": `PacketTooBig`
/// with the MTU, for raw IP (ICMP sockets) and UDP (error queue), IPv4 and
/// IPv6 (RFC 9260 Appendix C ICMP7, §7.3).
#[tokio::test]
async fn packet_too_big_from_a_router() {
    let lab = Lab::new();
    // alpha routes two small prefixes through beta; beta forwards them to
    // link 1, whose MTU on its side is 1280. Nothing answers there: the
    // packets are too big to be forwarded in the first place.
    lab.alpha
        .ip(&["route", "add", "198.51.100.64/26", "via", "198.51.100.2"]);
    lab.alpha.ip(&[
        "-6",
        "route",
        "add",
        "2001:db8:2::100/120",
        "via",
        "2001:db8:2::2",
    ]);
    lab.beta.ip(&["link", "set", "link1", "mtu", "1280"]);
    lab.beta
        .ip(&["route", "add", "198.51.100.64/26", "dev", "link1"]);
    lab.beta
        .ip(&["-6", "route", "add", "2001:db8:2::100/120", "dev", "link1"]);
    lab.beta.sysctl("net/ipv4/ip_forward", "1");
    lab.beta.sysctl("net/ipv6/conf/all/forwarding", "1");

    let raw = bind_in(
        &lab.alpha,
        TransportKind::Raw,
        &[ALPHA2_V4, ALPHA2_V6],
        5000,
    )
    .await;
    let udp = bind_in(
        &lab.alpha,
        TransportKind::udp(),
        &[ALPHA2_V4, ALPHA2_V6],
        5000,
    )
    .await;
    let big = data(5000, 5001, 1, 1400);
    // A different destination per case: the first error lowers alpha's path
    // MTU towards its destination.
    let cases: [(&msctp::Transport, IpAddr, IpAddr); 4] = [
        (&raw, ALPHA2_V4, "198.51.100.77".parse().unwrap()),
        (&raw, ALPHA2_V6, "2001:db8:2::177".parse().unwrap()),
        (&udp, ALPHA2_V4, "198.51.100.78".parse().unwrap()),
        (&udp, ALPHA2_V6, "2001:db8:2::178".parse().unwrap()),
    ];
    for (t, src, dst) in cases {
        t.send(src, dst, None, &big).await.unwrap();
        let i = next_icmp(t, &format!("packet too big for {dst} ({:?})", t.kind())).await;
        assert_eq!(i.report.kind, IcmpKind::PacketTooBig { mtu: 1280 }, "{i:?}");
        assert_eq!((i.report.quoted_src, i.report.quoted_dst), (src, dst));
        // The quote holds at least the common header and the DATA chunk's
        // header of what was sent.
        assert!(i.report.quoted.len() >= 28, "{i:?}");
        assert_eq!(&i.report.quoted[..], &big[..i.report.quoted.len()]);
        let router = if src.is_ipv4() { BETA2_V4 } else { BETA2_V6 };
        assert_eq!(i.from, router);
    }
}
