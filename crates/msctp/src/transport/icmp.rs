//! ICMP and ICMPv6 errors about SCTP packets we sent: reading them and
//! mapping them to [`IcmpKind`].
//!
//! Mapping (RFC 9260 Appendix C; RFC 792; RFC 4443):
//!
//! | message | raw IP | UDP encapsulation |
//! |---|---|---|
//! | ICMPv4 type 3 code 2 (protocol unreachable) | `ProtocolUnreachable` | `ProtocolUnreachable` |
//! | ICMPv4 type 3 code 3 (port unreachable) | `Unreachable` | `ProtocolUnreachable` (RFC 6951 §5.5 item 1) |
//! | ICMPv4 type 3 code 4 (fragmentation needed) | `PacketTooBig { mtu }` | `PacketTooBig { mtu }` |
//! | other ICMPv4 type 3 codes | `Unreachable` | `Unreachable` |
//! | ICMPv6 type 1 code 4 (port unreachable) | `Unreachable` | `ProtocolUnreachable` (RFC 6951 §5.5 item 2) |
//! | other ICMPv6 type 1 codes | `Unreachable` | `Unreachable` |
//! | ICMPv6 type 2 (packet too big) | `PacketTooBig { mtu }` | `PacketTooBig { mtu }` |
//! | ICMPv6 type 4 code 1 (unrecognised next header) | `ProtocolUnreachable` | `ProtocolUnreachable` |
//!
//! Everything else (time exceeded, other parameter problems, redirects…) is
//! not about reachability and is ignored.

use std::net::IpAddr;

use bytes::Bytes;
use msctp_proto::{IcmpKind, IcmpReport};

use super::headers::{self, PROTO_SCTP};
use crate::sys::ExtendedError;

/// ICMPv4 type: destination unreachable.
pub(crate) const ICMP_DEST_UNREACH: u8 = 3;
/// ICMPv6 types the raw ICMPv6 socket lets through: destination
/// unreachable, packet too big, parameter problem (RFC 4443 §3).
pub(crate) const ICMPV6_ERRORS: [u8; 3] = [1, 2, 4];
/// IP protocol number of ICMP.
const PROTO_ICMP: u8 = 1;
/// `SO_EE_ORIGIN_ICMP` (`linux/errqueue.h`).
const ORIGIN_ICMP: u8 = 2;
/// `SO_EE_ORIGIN_ICMP6` (`linux/errqueue.h`).
const ORIGIN_ICMP6: u8 = 3;

/// How the packet the error quotes was carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Carrier {
    /// Directly over IP (protocol 132).
    Raw,
    /// Over UDP (RFC 6951).
    Udp,
}

/// Maps an ICMPv4 error (type, code, next-hop MTU) to its kind.
pub(crate) fn kind_v4(icmp_type: u8, code: u8, mtu: u32, carrier: Carrier) -> Option<IcmpKind> {
    if icmp_type != ICMP_DEST_UNREACH {
        return None;
    }
    Some(match code {
        // RFC 9260 Appendix C ICMP8: protocol unreachable is treated as an
        // ABORT.
        2 => IcmpKind::ProtocolUnreachable,
        // RFC 6951 §5.5: port unreachable for the encapsulating UDP port
        // SHOULD be treated as protocol unreachable.
        3 if carrier == Carrier::Udp => IcmpKind::ProtocolUnreachable,
        // RFC 9260 Appendix C ICMP7 and §7.3: fragmentation needed.
        4 => IcmpKind::PacketTooBig { mtu },
        _ => IcmpKind::Unreachable,
    })
}

/// Maps an ICMPv6 error (type, code, MTU or pointer) to its kind.
pub(crate) fn kind_v6(icmp_type: u8, code: u8, info: u32, carrier: Carrier) -> Option<IcmpKind> {
    match (icmp_type, code) {
        // RFC 6951 §5.5: port unreachable for the encapsulating UDP port
        // SHOULD be treated as "unrecognised next header".
        (1, 4) if carrier == Carrier::Udp => Some(IcmpKind::ProtocolUnreachable),
        (1, _) => Some(IcmpKind::Unreachable),
        (2, _) => Some(IcmpKind::PacketTooBig { mtu: info }),
        // RFC 9260 Appendix C ICMP8 (the ICMPv6 form of protocol
        // unreachable).
        (4, 1) => Some(IcmpKind::ProtocolUnreachable),
        _ => None,
    }
}

/// The Internet checksum (RFC 1071) of `data`: zero when `data` includes a
/// correct checksum field.
pub(crate) fn internet_checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Reads the SCTP packet quoted after an ICMP header: its addresses and at
/// least the first 8 bytes (ports and verification tag).
fn quoted_sctp(quote: &[u8], v6: bool) -> Option<(IpAddr, IpAddr, Bytes)> {
    let h = if v6 {
        headers::ipv6(quote)?
    } else {
        headers::ipv4(quote)?
    };
    if h.protocol != PROTO_SCTP || h.later_fragment {
        return None;
    }
    let sctp = quote.get(h.payload_start..h.payload_end)?;
    if sctp.len() < 8 {
        return None;
    }
    Some((h.src, h.dst, Bytes::copy_from_slice(sctp)))
}

/// Reads an ICMPv4 datagram as a raw ICMP socket delivers it (with its IPv4
/// header): returns the sender and the report when it is a valid
/// (checksummed) error quoting an SCTP packet.
pub(crate) fn parse_icmpv4(datagram: &[u8]) -> Option<(IpAddr, IcmpReport)> {
    let outer = headers::ipv4(datagram)?;
    if outer.protocol != PROTO_ICMP || outer.later_fragment {
        return None;
    }
    let icmp = datagram.get(outer.payload_start..outer.payload_end)?;
    // Raw sockets see ICMP before the kernel checks it: verify the checksum.
    if icmp.len() < 8 || internet_checksum(icmp) != 0 {
        return None;
    }
    // RFC 1191 §4: the next-hop MTU is the low 16 bits of the second word.
    let mtu = u32::from(u16::from_be_bytes([icmp[6], icmp[7]]));
    let kind = kind_v4(icmp[0], icmp[1], mtu, Carrier::Raw)?;
    let (quoted_src, quoted_dst, quoted) = quoted_sctp(&icmp[8..], false)?;
    Some((
        outer.src,
        IcmpReport {
            quoted_src,
            quoted_dst,
            quoted,
            kind,
        },
    ))
}

/// Reads an ICMPv6 message as a raw ICMPv6 socket delivers it (no IPv6
/// header; the kernel has checked its checksum, RFC 3542 §3.1): the report
/// when it is an error quoting an SCTP packet.
pub(crate) fn parse_icmpv6(message: &[u8]) -> Option<IcmpReport> {
    let head = message.get(..8)?;
    let info = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
    let kind = kind_v6(head[0], head[1], info, Carrier::Raw)?;
    let (quoted_src, quoted_dst, quoted) = quoted_sctp(&message[8..], true)?;
    Some(IcmpReport {
        quoted_src,
        quoted_dst,
        quoted,
        kind,
    })
}

/// Maps an extended error from a UDP socket's error queue to its kind;
/// `None` for errors not from ICMP / ICMPv6 or not about reachability.
pub(crate) fn kind_from_errqueue(e: &ExtendedError) -> Option<IcmpKind> {
    match e.origin {
        ORIGIN_ICMP => kind_v4(e.icmp_type, e.icmp_code, e.info, Carrier::Udp),
        ORIGIN_ICMP6 => kind_v6(e.icmp_type, e.icmp_code, e.info, Carrier::Udp),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use msctp_wire::capture::{ip_packet, sctp_over_ip};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn sctp() -> Vec<u8> {
        let mut p = vec![
            0x13, 0x88, 0x13, 0x89, 1, 2, 3, 4, 0, 0, 0, 0, 0x0b, 0, 0, 4,
        ];
        msctp_wire::crc32c::fill(&mut p);
        p
    }

    /// An ICMPv4 error from `from` to `to` quoting `quote`.
    fn icmpv4(from: &str, to: &str, ty: u8, code: u8, mtu: u16, quote: &[u8]) -> Vec<u8> {
        let mut icmp = vec![ty, code, 0, 0, 0, 0];
        icmp.extend_from_slice(&mtu.to_be_bytes());
        icmp.extend_from_slice(quote);
        let sum = internet_checksum(&icmp);
        icmp[2..4].copy_from_slice(&sum.to_be_bytes());
        ip_packet(ip(from), ip(to), PROTO_ICMP, &icmp).unwrap()
    }

    #[test]
    fn icmpv4_errors_map_and_quote() {
        let quote = sctp_over_ip(ip("192.0.2.1"), ip("192.0.2.2"), &sctp()).unwrap();
        for (code, mtu, kind) in [
            (2, 0, IcmpKind::ProtocolUnreachable),
            (3, 0, IcmpKind::Unreachable),
            (1, 0, IcmpKind::Unreachable),
            (13, 0, IcmpKind::Unreachable),
            (4, 1280, IcmpKind::PacketTooBig { mtu: 1280 }),
        ] {
            let d = icmpv4("192.0.2.2", "192.0.2.1", 3, code, mtu, &quote);
            let (from, r) = parse_icmpv4(&d).unwrap();
            assert_eq!(from, ip("192.0.2.2"));
            assert_eq!(r.kind, kind, "code {code}");
            assert_eq!(r.quoted_src, ip("192.0.2.1"));
            assert_eq!(r.quoted_dst, ip("192.0.2.2"));
            assert_eq!(&r.quoted[..], &sctp()[..]);
        }
        // A quote of only the IP header and 8 bytes (RFC 792's minimum).
        let d = icmpv4("192.0.2.2", "192.0.2.1", 3, 3, 0, &quote[..28]);
        assert_eq!(parse_icmpv4(&d).unwrap().1.quoted.len(), 8);
        // Fewer than 8 SCTP bytes, a bad checksum, another type, a UDP
        // quote: ignored.
        let d = icmpv4("192.0.2.2", "192.0.2.1", 3, 3, 0, &quote[..27]);
        assert!(parse_icmpv4(&d).is_none());
        let mut d = icmpv4("192.0.2.2", "192.0.2.1", 3, 3, 0, &quote);
        d[22] ^= 1;
        assert!(parse_icmpv4(&d).is_none());
        let d = icmpv4("192.0.2.2", "192.0.2.1", 11, 0, 0, &quote);
        assert!(parse_icmpv4(&d).is_none());
        let udp = ip_packet(ip("192.0.2.1"), ip("192.0.2.2"), 17, &sctp()).unwrap();
        let d = icmpv4("192.0.2.2", "192.0.2.1", 3, 3, 0, &udp);
        assert!(parse_icmpv4(&d).is_none());
        // Cut anywhere: never panics.
        let d = icmpv4("192.0.2.2", "192.0.2.1", 3, 3, 0, &quote);
        for cut in 0..d.len() {
            let _ = parse_icmpv4(&d[..cut]);
        }
    }

    #[test]
    fn icmpv6_errors_map_and_quote() {
        let quote = sctp_over_ip(ip("2001:db8:1::1"), ip("2001:db8:1::2"), &sctp()).unwrap();
        for (ty, code, info, kind) in [
            (1, 4, 0, Some(IcmpKind::Unreachable)),
            (1, 1, 0, Some(IcmpKind::Unreachable)),
            (2, 0, 1280, Some(IcmpKind::PacketTooBig { mtu: 1280 })),
            (4, 1, 40, Some(IcmpKind::ProtocolUnreachable)),
            (4, 0, 0, None),
            (3, 0, 0, None),
        ] {
            let mut m = vec![ty, code, 0, 0];
            m.extend_from_slice(&u32::to_be_bytes(info));
            m.extend_from_slice(&quote);
            let r = parse_icmpv6(&m);
            assert_eq!(r.as_ref().map(|r| r.kind), kind, "type {ty} code {code}");
            if let Some(r) = r {
                assert_eq!(r.quoted_src, ip("2001:db8:1::1"));
                assert_eq!(r.quoted_dst, ip("2001:db8:1::2"));
                assert_eq!(&r.quoted[..], &sctp()[..]);
            }
            for cut in 0..m.len() {
                let _ = parse_icmpv6(&m[..cut]);
            }
        }
    }

    #[test]
    fn errqueue_mapping_follows_rfc6951() {
        let e = |origin, icmp_type, icmp_code, info| ExtendedError {
            errno: 0,
            origin,
            icmp_type,
            icmp_code,
            info,
            offender: None,
        };
        // RFC 6951 §5.5: port unreachable means "no SCTP here".
        assert_eq!(
            kind_from_errqueue(&e(2, 3, 3, 0)),
            Some(IcmpKind::ProtocolUnreachable)
        );
        assert_eq!(
            kind_from_errqueue(&e(3, 1, 4, 0)),
            Some(IcmpKind::ProtocolUnreachable)
        );
        assert_eq!(
            kind_from_errqueue(&e(2, 3, 10, 0)),
            Some(IcmpKind::Unreachable)
        );
        assert_eq!(
            kind_from_errqueue(&e(3, 1, 1, 0)),
            Some(IcmpKind::Unreachable)
        );
        assert_eq!(
            kind_from_errqueue(&e(2, 3, 4, 1400)),
            Some(IcmpKind::PacketTooBig { mtu: 1400 })
        );
        assert_eq!(
            kind_from_errqueue(&e(3, 2, 0, 1280)),
            Some(IcmpKind::PacketTooBig { mtu: 1280 })
        );
        // Local errors (origin 1) and time exceeded are not reachability.
        assert_eq!(kind_from_errqueue(&e(1, 0, 0, 1500)), None);
        assert_eq!(kind_from_errqueue(&e(2, 11, 0, 0)), None);
    }

    #[test]
    fn checksum_matches_rfc1071_example() {
        // RFC 1071 §3: 0001 f203 f4f5 f6f7 sums to ddf2.
        assert_eq!(
            internet_checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            !0xddf2
        );
    }
}
