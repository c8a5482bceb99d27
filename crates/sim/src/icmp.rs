//! ICMP and ICMPv6 errors: the codes the simulator uses ([`codes`]), how much
//! of the offending datagram an error quotes ([`quote`]), and the bytes of
//! the error message as it appears in a capture ([`icmp_packet`]).
//!
//! Messages follow RFC 792 / RFC 1191 (IPv4: type 3 destination unreachable;
//! code 4 with the next-hop MTU for "packet too big") and RFC 4443 (IPv6:
//! type 1 destination unreachable, type 2 packet too big, type 4 parameter
//! problem code 1 for an unrecognized next header), with a correct checksum
//! (for ICMPv6 over the RFC 8200 §8.1 pseudo-header). They quote the
//! original IP packet (header included) up to 548 bytes for IPv4, as Linux
//! does (576 bytes of ICMP datagram), and up to 1232 bytes for IPv6 (the
//! whole error fits the 1280-byte minimum MTU, RFC 4443 §2.4 (c)).

use crate::agent::{Datagram, IcmpError, IcmpKind, ip_header_len};
use msctp_wire::capture::{BuildError, ip_packet, sctp_over_ip};
use std::net::IpAddr;

/// ICMP and ICMPv6 type and code values (RFC 792, RFC 1191, RFC 1812,
/// RFC 4443).
pub mod codes {
    /// ICMP type: destination unreachable.
    pub const V4_DEST_UNREACHABLE: u8 = 3;
    /// ICMP code: net unreachable.
    pub const V4_NET_UNREACHABLE: u8 = 0;
    /// ICMP code: host unreachable.
    pub const V4_HOST_UNREACHABLE: u8 = 1;
    /// ICMP code: protocol unreachable.
    pub const V4_PROTOCOL_UNREACHABLE: u8 = 2;
    /// ICMP code: port unreachable.
    pub const V4_PORT_UNREACHABLE: u8 = 3;
    /// ICMP code: fragmentation needed and DF set (RFC 1191 "packet too big").
    pub const V4_FRAGMENTATION_NEEDED: u8 = 4;
    /// ICMP code: communication administratively prohibited (RFC 1812).
    pub const V4_ADMIN_PROHIBITED: u8 = 13;
    /// ICMPv6 type: destination unreachable.
    pub const V6_DEST_UNREACHABLE: u8 = 1;
    /// ICMPv6 type: packet too big.
    pub const V6_PACKET_TOO_BIG: u8 = 2;
    /// ICMPv6 type: parameter problem.
    pub const V6_PARAMETER_PROBLEM: u8 = 4;
    /// ICMPv6 code: no route to destination.
    pub const V6_NO_ROUTE: u8 = 0;
    /// ICMPv6 code: communication administratively prohibited.
    pub const V6_ADMIN_PROHIBITED: u8 = 1;
    /// ICMPv6 code: address unreachable.
    pub const V6_ADDR_UNREACHABLE: u8 = 3;
    /// ICMPv6 code: port unreachable.
    pub const V6_PORT_UNREACHABLE: u8 = 4;
    /// ICMPv6 parameter problem code: unrecognized next header.
    pub const V6_UNRECOGNIZED_NEXT_HEADER: u8 = 1;
}

/// IP protocol number of ICMP.
pub const PROTO_ICMP: u8 = 1;
/// IPv6 next-header number of ICMPv6.
pub const PROTO_ICMPV6: u8 = 58;
/// Largest quote of the original IPv4 packet (its header included).
pub const IPV4_QUOTE: usize = 548;
/// Largest quote of the original IPv6 packet (its header included).
pub const IPV6_QUOTE: usize = 1232;
/// Length of the ICMP header (type, code, checksum, 4 type-specific bytes).
const ICMP_HEADER_LEN: usize = 8;
/// Offset of the Next Header field in an IPv6 header: the pointer of a
/// parameter problem about it.
const IPV6_NEXT_HEADER_AT: u32 = 6;

/// Number of SCTP bytes an ICMP error about `original` quotes.
pub fn quoted_payload_len(original: &Datagram) -> usize {
    let max = if original.dst.is_ipv4() {
        IPV4_QUOTE
    } else {
        IPV6_QUOTE
    };
    original
        .payload
        .len()
        .min(max - ip_header_len(original.dst))
}

/// The error `from` sends about `original`: the datagram's addresses and a
/// zero-copy slice of its first bytes.
pub fn quote(from: IpAddr, kind: IcmpKind, original: &Datagram) -> IcmpError {
    IcmpError {
        from,
        kind,
        original: Datagram {
            src: original.src,
            dst: original.dst,
            payload: original.payload.slice(..quoted_payload_len(original)),
        },
    }
}

/// Length of the IP packet [`icmp_packet`] builds for these arguments.
pub fn icmp_packet_len(original: &Datagram) -> usize {
    let quoted = ip_header_len(original.dst) + quoted_payload_len(original);
    ip_header_len(original.src) + ICMP_HEADER_LEN + quoted
}

/// Builds the IP packet of the ICMP error `from` sends to `original.src`
/// about the complete datagram `original` (not a quote: the quoted IP header
/// keeps the original total length, as real errors do).
pub fn icmp_packet(
    from: IpAddr,
    kind: IcmpKind,
    original: &Datagram,
) -> Result<Vec<u8>, BuildError> {
    let full = sctp_over_ip(original.src, original.dst, &original.payload)?;
    let max = if original.dst.is_ipv4() {
        IPV4_QUOTE
    } else {
        IPV6_QUOTE
    };
    let quoted = &full[..full.len().min(max)];
    let to = original.src;
    let (kind_type, code, rest): (u8, u8, [u8; 4]) = match (to.is_ipv4(), kind) {
        (true, IcmpKind::DestinationUnreachable { code }) => {
            (codes::V4_DEST_UNREACHABLE, code, [0; 4])
        }
        (true, IcmpKind::PacketTooBig { mtu }) => {
            // RFC 1191: unused (2 bytes), next-hop MTU (2 bytes).
            let mtu = u16::try_from(mtu).unwrap_or(u16::MAX).to_be_bytes();
            (
                codes::V4_DEST_UNREACHABLE,
                codes::V4_FRAGMENTATION_NEEDED,
                [0, 0, mtu[0], mtu[1]],
            )
        }
        (true, IcmpKind::ProtocolUnreachable) => (
            codes::V4_DEST_UNREACHABLE,
            codes::V4_PROTOCOL_UNREACHABLE,
            [0; 4],
        ),
        (false, IcmpKind::DestinationUnreachable { code }) => {
            (codes::V6_DEST_UNREACHABLE, code, [0; 4])
        }
        (false, IcmpKind::PacketTooBig { mtu }) => (codes::V6_PACKET_TOO_BIG, 0, mtu.to_be_bytes()),
        (false, IcmpKind::ProtocolUnreachable) => (
            codes::V6_PARAMETER_PROBLEM,
            codes::V6_UNRECOGNIZED_NEXT_HEADER,
            IPV6_NEXT_HEADER_AT.to_be_bytes(),
        ),
    };
    let mut message = Vec::with_capacity(ICMP_HEADER_LEN + quoted.len());
    message.extend_from_slice(&[kind_type, code, 0, 0]);
    message.extend_from_slice(&rest);
    message.extend_from_slice(quoted);
    let sum = match (from, to) {
        (IpAddr::V4(_), IpAddr::V4(_)) => ones_complement_add(0, &message),
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            // RFC 8200 §8.1 pseudo-header: addresses, 32-bit upper-layer
            // length, three zero bytes and the next header.
            let mut sum = ones_complement_add(0, &s.octets());
            sum = ones_complement_add(sum, &d.octets());
            sum = ones_complement_add(sum, &(message.len() as u32).to_be_bytes());
            sum = ones_complement_add(sum, &[0, 0, 0, PROTO_ICMPV6]);
            ones_complement_add(sum, &message)
        }
        _ => return Err(BuildError::MixedFamilies { src: from, dst: to }),
    };
    message[2..4].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    let protocol = if to.is_ipv4() {
        PROTO_ICMP
    } else {
        PROTO_ICMPV6
    };
    ip_packet(from, to, protocol, &message)
}

/// Adds `data` as big-endian 16-bit words to a one's-complement sum
/// (RFC 1071), folding the carries; an odd last byte is padded with zero.
fn ones_complement_add(mut sum: u32, data: &[u8]) -> u32 {
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
        sum = (sum & 0xffff) + (sum >> 16);
    }
    if let [last] = words.remainder() {
        sum += u32::from(*last) << 8;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn datagram(src: &str, dst: &str, len: usize) -> Datagram {
        let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
        Datagram::new(src.parse().unwrap(), dst.parse().unwrap(), payload)
    }

    #[test]
    fn quotes_are_bounded() {
        let d = datagram("192.0.2.1", "192.0.2.2", 1480);
        assert_eq!(quoted_payload_len(&d), 528);
        let d = datagram("2001:db8:1::1", "2001:db8:1::2", 1460);
        assert_eq!(quoted_payload_len(&d), 1192);
        let d = datagram("192.0.2.1", "192.0.2.2", 100);
        let e = quote(d.dst, IcmpKind::ProtocolUnreachable, &d);
        assert_eq!(e.original, d);
    }

    #[test]
    fn ipv4_message_layout_and_checksum() {
        let d = datagram("192.0.2.1", "192.0.2.2", 1480);
        let p = icmp_packet(d.dst, IcmpKind::PacketTooBig { mtu: 1280 }, &d).unwrap();
        assert_eq!(p.len(), icmp_packet_len(&d));
        assert_eq!(p.len(), 20 + 8 + 548);
        assert_eq!(p[9], PROTO_ICMP);
        assert_eq!(&p[12..16], &[192, 0, 2, 2]);
        assert_eq!(&p[16..20], &[192, 0, 2, 1]);
        let icmp = &p[20..];
        assert_eq!(&icmp[..2], &[3, 4]);
        assert_eq!(&icmp[4..8], &[0, 0, 0x05, 0x00]);
        assert_eq!(ones_complement_add(0, icmp), 0xffff);
        // The quoted header keeps the original total length, 1500.
        assert_eq!(&icmp[8 + 2..8 + 4], &1500u16.to_be_bytes());
    }

    #[test]
    fn ipv6_message_layout_and_checksum() {
        let d = datagram("2001:db8:1::1", "2001:db8:1::2", 101);
        for (kind, head) in [
            (
                IcmpKind::DestinationUnreachable { code: 4 },
                [1u8, 4, 0, 0, 0, 0],
            ),
            (IcmpKind::PacketTooBig { mtu: 1280 }, [2, 0, 0, 0, 0, 0]),
            (IcmpKind::ProtocolUnreachable, [4, 1, 0, 0, 0, 0]),
        ] {
            let p = icmp_packet(d.dst, kind, &d).unwrap();
            assert_eq!(p.len(), 40 + 8 + 40 + 101);
            assert_eq!(p[6], PROTO_ICMPV6);
            let icmp = &p[40..];
            assert_eq!(icmp[0], head[0]);
            assert_eq!(icmp[1], head[1]);
            let mut sum = ones_complement_add(0, &p[8..40]);
            sum = ones_complement_add(sum, &(icmp.len() as u32).to_be_bytes());
            sum = ones_complement_add(sum, &[0, 0, 0, 58]);
            assert_eq!(ones_complement_add(sum, icmp), 0xffff, "{kind:?}");
        }
    }
}
