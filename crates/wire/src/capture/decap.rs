//! Finding the SCTP packet inside a captured frame.
//!
//! [`sctp_in_frame`] peels the layers of a frame down to the SCTP common
//! header:
//!
//! * link layer: Ethernet II with any number of 802.1Q / 802.1ad VLAN tags
//!   (TPIDs 0x8100, 0x88a8 and the pre-standard 0x9100), Linux cooked capture
//!   v1 (`LINUX_SLL`, 16 bytes, protocol at offset 14) and v2 (`LINUX_SLL2`,
//!   20 bytes, protocol at offset 0), raw IP (`RAW`: version from the first
//!   nibble; `IPV4`, `IPV6`), and BSD loopback (`NULL`: a 4-byte address
//!   family in the capturing host's byte order, tried both ways; `LOOP`: the
//!   same in network byte order) with `AF_INET` = 2 and `AF_INET6` = 10
//!   (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD) or 30 (macOS);
//! * network layer: IPv4 (RFC 791: header options skipped by IHL, the total
//!   length honoured so that Ethernet padding is ignored, fragments reported
//!   as [`Decap::Fragment`]) and IPv6 (RFC 8200: hop-by-hop options,
//!   routing, destination options and authentication headers skipped; a
//!   fragment header is a [`Decap::Fragment`] unless it is an atomic fragment,
//!   offset 0 and M clear, RFC 6946);
//! * transport: protocol 132 is SCTP directly over IP; UDP (protocol 17) whose
//!   source or destination port is the SCTP tunneling port (9899 by default,
//!   RFC 6951 §5.1) is SCTP over UDP, the UDP length field giving the end of
//!   the SCTP packet. Everything else, ICMP and ICMPv6 included, is
//!   [`Decap::NotSctp`].
//!
//! Fragments are not reassembled. Checksums (IPv4 header, UDP, SCTP CRC32c)
//! are not verified here: captures taken on a sending host often hold
//! checksums that the network card fills later. The SCTP bytes are a
//! zero-copy slice of the frame.

use super::{Frame, LinkType};
use bytes::Bytes;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The UDP port registered for SCTP over UDP (RFC 6951 §5.1, IANA
/// "sctp-tunneling").
pub const SCTP_UDP_PORT: u16 = 9899;

/// IP protocol number of SCTP.
const PROTO_SCTP: u8 = 132;
/// IP protocol number of UDP.
const PROTO_UDP: u8 = 17;
/// Length of the SCTP common header: anything shorter is not an SCTP packet.
const SCTP_COMMON_HEADER_LEN: usize = 12;

/// How an SCTP packet was carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encapsulation {
    /// Directly over IP, protocol 132.
    Ip,
    /// Over UDP (RFC 6951).
    Udp {
        /// UDP source port.
        src_port: u16,
        /// UDP destination port.
        dst_port: u16,
    },
}

/// An SCTP packet found in a frame, with the addresses it travelled between.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SctpDatagram {
    /// IP source address.
    pub src: IpAddr,
    /// IP destination address.
    pub dst: IpAddr,
    /// Directly over IP or over UDP.
    pub encapsulation: Encapsulation,
    /// The SCTP packet from its common header onwards (at least 12 bytes), a
    /// zero-copy slice of the frame. Its CRC32c has not been checked.
    pub sctp: Bytes,
}

/// What a frame holds, as far as SCTP is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decap {
    /// A complete SCTP packet.
    Sctp(SctpDatagram),
    /// A well-formed frame that does not carry SCTP (another protocol or
    /// ethertype, ICMP, UDP on other ports, ...).
    NotSctp,
    /// An IPv4 or IPv6 fragment; fragments are not reassembled.
    Fragment,
    /// The frame is cut short or inconsistent; the text says where.
    Malformed(String),
    /// A link type this module cannot decode.
    UnsupportedLinkType(LinkType),
}

/// Finds the SCTP packet in a captured frame, recognising SCTP over UDP on
/// port [`SCTP_UDP_PORT`].
pub fn sctp_in_frame(frame: &Frame) -> Decap {
    sctp_in_link(frame.link_type, frame.data.clone())
}

/// Finds the SCTP packet in the bytes of a frame of link type `link_type`,
/// recognising SCTP over UDP on port [`SCTP_UDP_PORT`].
pub fn sctp_in_link(link_type: LinkType, data: Bytes) -> Decap {
    sctp_in_link_with_udp_port(link_type, data, SCTP_UDP_PORT)
}

/// Like [`sctp_in_link`], for SCTP over UDP on `udp_port` (source or
/// destination) instead of the RFC 6951 default.
pub fn sctp_in_link_with_udp_port(link_type: LinkType, data: Bytes, udp_port: u16) -> Decap {
    match decapsulate(link_type, &data, udp_port) {
        Ok(datagram) => Decap::Sctp(datagram),
        Err(stop) => stop,
    }
}

/// The early results of decapsulation travel in `Err`.
type Step<T> = Result<T, Decap>;

fn malformed<T>(message: String) -> Step<T> {
    Err(Decap::Malformed(message))
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// The network protocol found under the link layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Network {
    V4,
    V6,
    /// Raw IP: the first nibble says which.
    Either,
}

fn decapsulate(link_type: LinkType, data: &Bytes, udp_port: u16) -> Step<SctpDatagram> {
    let (network, at) = link_layer(link_type, data)?;
    let network = match network {
        Network::Either => match data.get(at).map(|b| b >> 4) {
            Some(4) => Network::V4,
            Some(6) => Network::V6,
            Some(v) => return malformed(format!("raw IP packet of version {v}")),
            None => return malformed("empty raw IP frame".into()),
        },
        n => n,
    };
    let packet = data.slice(at..);
    let (src, dst, protocol, payload) = match network {
        Network::V6 => ipv6(&packet)?,
        _ => ipv4(&packet)?,
    };
    transport(src, dst, protocol, payload, udp_port)
}

/// Maps an ethertype to the network protocol, or stops with `NotSctp`.
fn ethertype(value: u16) -> Step<Network> {
    match value {
        0x0800 => Ok(Network::V4),
        0x86dd => Ok(Network::V6),
        _ => Err(Decap::NotSctp),
    }
}

/// Skips the link-layer header: the network protocol and where it starts.
fn link_layer(link_type: LinkType, data: &[u8]) -> Step<(Network, usize)> {
    let need = |len: usize, what: &str| -> Step<()> {
        if data.len() < len {
            return malformed(format!("{what} truncated: {} of {len} bytes", data.len()));
        }
        Ok(())
    };
    match link_type {
        LinkType::ETHERNET => {
            // Destination (6), source (6), ethertype (2).
            need(14, "Ethernet header")?;
            let mut at = 12;
            let mut kind = be16(data, at).unwrap_or(0);
            // 802.1Q (0x8100), 802.1ad (0x88a8) and pre-standard QinQ (0x9100)
            // tags: TPID (2) then TCI (2); the next ethertype follows.
            while matches!(kind, 0x8100 | 0x88a8 | 0x9100) {
                at += 4;
                kind = match be16(data, at) {
                    Some(k) => k,
                    None => return malformed("VLAN tag truncated".into()),
                };
            }
            Ok((ethertype(kind)?, at + 2))
        }
        LinkType::LINUX_SLL => {
            // Packet type (2), ARPHRD type (2), address length (2), address
            // (8), protocol (2).
            need(16, "Linux cooked (SLL) header")?;
            Ok((ethertype(be16(data, 14).unwrap_or(0))?, 16))
        }
        LinkType::LINUX_SLL2 => {
            // Protocol (2), reserved (2), interface index (4), ARPHRD type
            // (2), packet type (1), address length (1), address (8).
            need(20, "Linux cooked (SLL2) header")?;
            Ok((ethertype(be16(data, 0).unwrap_or(0))?, 20))
        }
        LinkType::RAW => Ok((Network::Either, 0)),
        LinkType::IPV4 => Ok((Network::V4, 0)),
        LinkType::IPV6 => Ok((Network::V6, 0)),
        LinkType::NULL | LinkType::LOOP => {
            need(4, "loopback header")?;
            let b = [data[0], data[1], data[2], data[3]];
            let families = if link_type == LinkType::NULL {
                // Host byte order of the capturing machine: try both.
                [u32::from_le_bytes(b), u32::from_be_bytes(b)]
            } else {
                [u32::from_be_bytes(b); 2]
            };
            for family in families {
                match family {
                    2 => return Ok((Network::V4, 4)),
                    10 | 24 | 28 | 30 => return Ok((Network::V6, 4)),
                    _ => {}
                }
            }
            Err(Decap::NotSctp)
        }
        other => Err(Decap::UnsupportedLinkType(other)),
    }
}

/// Parses an IPv4 header (RFC 791): addresses, protocol and the payload as
/// bounded by the total length.
fn ipv4(p: &Bytes) -> Step<(IpAddr, IpAddr, u8, Bytes)> {
    if p.len() < 20 {
        return malformed(format!("IPv4 header truncated: {} of 20 bytes", p.len()));
    }
    let version = p[0] >> 4;
    if version != 4 {
        return malformed(format!("IPv4 header with version {version}"));
    }
    let header_len = usize::from(p[0] & 0x0f) * 4;
    if header_len < 20 {
        return malformed(format!("IPv4 header length {header_len} below 20"));
    }
    if header_len > p.len() {
        return malformed(format!(
            "IPv4 header length {header_len} exceeds the {} captured bytes",
            p.len()
        ));
    }
    // Flags (3 bits: reserved, DF, MF) and fragment offset (13 bits).
    let fragment = be16(p, 6).unwrap_or(0);
    if fragment & 0x3fff != 0 {
        return Err(Decap::Fragment);
    }
    let total = usize::from(be16(p, 2).unwrap_or(0));
    if total < header_len {
        return malformed(format!(
            "IPv4 total length {total} below its header length {header_len}"
        ));
    }
    if total > p.len() {
        return malformed(format!(
            "IPv4 total length {total} exceeds the {} captured bytes",
            p.len()
        ));
    }
    let src = Ipv4Addr::new(p[12], p[13], p[14], p[15]);
    let dst = Ipv4Addr::new(p[16], p[17], p[18], p[19]);
    // Bytes past the total length are link-layer padding.
    Ok((src.into(), dst.into(), p[9], p.slice(header_len..total)))
}

/// Parses an IPv6 header and its extension headers (RFC 8200): addresses,
/// upper-layer protocol and its payload as bounded by the payload length.
fn ipv6(p: &Bytes) -> Step<(IpAddr, IpAddr, u8, Bytes)> {
    if p.len() < 40 {
        return malformed(format!("IPv6 header truncated: {} of 40 bytes", p.len()));
    }
    let version = p[0] >> 4;
    if version != 6 {
        return malformed(format!("IPv6 header with version {version}"));
    }
    let payload_len = usize::from(be16(p, 4).unwrap_or(0));
    if 40 + payload_len > p.len() {
        return malformed(format!(
            "IPv6 payload length {payload_len} exceeds the {} captured bytes",
            p.len() - 40
        ));
    }
    let address = |at: usize| {
        let mut a = [0u8; 16];
        a.copy_from_slice(&p[at..at + 16]);
        IpAddr::V6(Ipv6Addr::from(a))
    };
    let (src, dst) = (address(8), address(24));
    let payload = p.slice(40..40 + payload_len);
    let mut next = p[6];
    let mut at = 0;
    loop {
        let ext_len = match next {
            // Hop-by-hop options, routing, destination options: length in
            // 8-octet units, not counting the first 8 octets.
            0 | 43 | 60 => payload.get(at + 1).map(|&l| (usize::from(l) + 1) * 8),
            // Authentication header (RFC 4302): length in 4-octet units,
            // minus 2.
            51 => payload.get(at + 1).map(|&l| (usize::from(l) + 2) * 4),
            // Fragment header: next header (1), reserved (1), offset (13
            // bits), reserved (2 bits), M (1 bit), identification (4).
            44 => {
                let Some(field) = be16(&payload, at + 2) else {
                    return malformed("IPv6 fragment header truncated".into());
                };
                if field >> 3 != 0 || field & 1 != 0 {
                    return Err(Decap::Fragment);
                }
                // RFC 6946: an atomic fragment is processed as a whole packet.
                Some(8)
            }
            _ => break,
        };
        let Some(len) = ext_len.filter(|len| at + len <= payload.len()) else {
            return malformed(format!("IPv6 extension header {next} truncated"));
        };
        next = payload[at];
        at += len;
    }
    Ok((src, dst, next, payload.slice(at..)))
}

/// Recognises SCTP directly over IP or over UDP.
fn transport(
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    payload: Bytes,
    udp_port: u16,
) -> Step<SctpDatagram> {
    let (encapsulation, sctp) = match protocol {
        PROTO_SCTP => (Encapsulation::Ip, payload),
        PROTO_UDP => {
            if payload.len() < 8 {
                return malformed(format!(
                    "UDP header truncated: {} of 8 bytes",
                    payload.len()
                ));
            }
            let src_port = be16(&payload, 0).unwrap_or(0);
            let dst_port = be16(&payload, 2).unwrap_or(0);
            if src_port != udp_port && dst_port != udp_port {
                return Err(Decap::NotSctp);
            }
            let len = usize::from(be16(&payload, 4).unwrap_or(0));
            if len < 8 || len > payload.len() {
                return malformed(format!(
                    "UDP length {len} outside 8..={} (the bytes present)",
                    payload.len()
                ));
            }
            (
                Encapsulation::Udp { src_port, dst_port },
                payload.slice(8..len),
            )
        }
        _ => return Err(Decap::NotSctp),
    };
    if sctp.len() < SCTP_COMMON_HEADER_LEN {
        return malformed(format!(
            "SCTP packet of {} bytes, shorter than its 12-byte common header",
            sctp.len()
        ));
    }
    Ok(SctpDatagram {
        src,
        dst,
        encapsulation,
        sctp,
    })
}

#[cfg(test)]
mod tests {
    use super::super::writer::{ip_packet, sctp_over_ip, sctp_over_udp};
    use super::*;
    use core::time::Duration;
    use proptest::prelude::*;

    const A4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const B4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
    const A6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1));
    const B6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2));

    /// A 16-byte "SCTP packet": common header and a COOKIE ACK chunk.
    fn sctp() -> Vec<u8> {
        let mut p = vec![
            0x13, 0x88, 0x13, 0x89, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 0x0b, 0, 0, 4,
        ];
        crate::crc32c::fill(&mut p);
        p
    }

    fn expect(d: Decap, src: IpAddr, dst: IpAddr, enc: Encapsulation) {
        let Decap::Sctp(got) = d else {
            panic!("expected SCTP, got {d:?}");
        };
        assert_eq!(got.src, src);
        assert_eq!(got.dst, dst);
        assert_eq!(got.encapsulation, enc);
        assert_eq!(&got.sctp[..], &sctp()[..]);
    }

    fn with_prefix(prefix: &[u8], packet: &[u8]) -> Bytes {
        let mut v = prefix.to_vec();
        v.extend_from_slice(packet);
        Bytes::from(v)
    }

    const MACS: [u8; 12] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];

    #[test]
    fn raw_ip_round_trip_v4_and_v6() {
        for (src, dst) in [(A4, B4), (A6, B6)] {
            let ip = sctp_over_ip(src, dst, &sctp()).unwrap();
            for link in [
                LinkType::RAW,
                if src.is_ipv4() {
                    LinkType::IPV4
                } else {
                    LinkType::IPV6
                },
            ] {
                expect(
                    sctp_in_link(link, Bytes::from(ip.clone())),
                    src,
                    dst,
                    Encapsulation::Ip,
                );
            }
            let udp = sctp_over_udp(src, dst, 5000, SCTP_UDP_PORT, &sctp()).unwrap();
            let frame = Frame {
                number: 1,
                timestamp: Duration::ZERO,
                link_type: LinkType::RAW,
                data: Bytes::from(udp),
                original_len: 0,
            };
            expect(
                sctp_in_frame(&frame),
                src,
                dst,
                Encapsulation::Udp {
                    src_port: 5000,
                    dst_port: SCTP_UDP_PORT,
                },
            );
        }
    }

    #[test]
    fn sctp_bytes_are_zero_copy() {
        let data = Bytes::from(sctp_over_ip(A4, B4, &sctp()).unwrap());
        let Decap::Sctp(d) = sctp_in_link(LinkType::RAW, data.clone()) else {
            panic!()
        };
        assert_eq!(d.sctp.as_ptr(), data[20..].as_ptr());
    }

    #[test]
    fn udp_ports() {
        let from_9899 = sctp_over_udp(A4, B4, SCTP_UDP_PORT, 40000, &sctp()).unwrap();
        expect(
            sctp_in_link(LinkType::RAW, Bytes::from(from_9899)),
            A4,
            B4,
            Encapsulation::Udp {
                src_port: SCTP_UDP_PORT,
                dst_port: 40000,
            },
        );
        let other = Bytes::from(sctp_over_udp(A6, B6, 1000, 2000, &sctp()).unwrap());
        assert_eq!(sctp_in_link(LinkType::RAW, other.clone()), Decap::NotSctp);
        expect(
            sctp_in_link_with_udp_port(LinkType::RAW, other, 2000),
            A6,
            B6,
            Encapsulation::Udp {
                src_port: 1000,
                dst_port: 2000,
            },
        );
    }

    #[test]
    fn udp_length_field_is_used() {
        let mut p = sctp_over_udp(A4, B4, 1, SCTP_UDP_PORT, &sctp()).unwrap();
        // Extra bytes inside the IP packet but past the UDP length.
        p.extend_from_slice(&[0xee; 4]);
        let total = p.len() as u16;
        p[2..4].copy_from_slice(&total.to_be_bytes());
        expect(
            sctp_in_link(LinkType::RAW, Bytes::from(p.clone())),
            A4,
            B4,
            Encapsulation::Udp {
                src_port: 1,
                dst_port: SCTP_UDP_PORT,
            },
        );
        // A UDP length past the IP payload is malformed.
        p[24..26].copy_from_slice(&100u16.to_be_bytes());
        assert!(matches!(
            sctp_in_link(LinkType::RAW, Bytes::from(p)),
            Decap::Malformed(_)
        ));
    }

    #[test]
    fn ethernet_with_and_without_vlan_tags() {
        let v4 = sctp_over_ip(A4, B4, &sctp()).unwrap();
        let v6 = sctp_over_udp(A6, B6, 9, SCTP_UDP_PORT, &sctp()).unwrap();
        let udp = Encapsulation::Udp {
            src_port: 9,
            dst_port: SCTP_UDP_PORT,
        };
        let mut plain = MACS.to_vec();
        plain.extend_from_slice(&[0x08, 0x00]);
        expect(
            sctp_in_link(LinkType::ETHERNET, with_prefix(&plain, &v4)),
            A4,
            B4,
            Encapsulation::Ip,
        );

        let mut one = MACS.to_vec();
        one.extend_from_slice(&[0x81, 0x00, 0x00, 0x2a, 0x86, 0xdd]);
        expect(
            sctp_in_link(LinkType::ETHERNET, with_prefix(&one, &v6)),
            A6,
            B6,
            udp,
        );

        let mut two = MACS.to_vec();
        two.extend_from_slice(&[0x88, 0xa8, 0x00, 0x64, 0x81, 0x00, 0x00, 0x2a, 0x08, 0x00]);
        expect(
            sctp_in_link(LinkType::ETHERNET, with_prefix(&two, &v4)),
            A4,
            B4,
            Encapsulation::Ip,
        );

        // Truncated inside a VLAN tag.
        let mut cut = MACS.to_vec();
        cut.extend_from_slice(&[0x81, 0x00, 0x00, 0x2a, 0x86]);
        assert!(matches!(
            sctp_in_link(LinkType::ETHERNET, Bytes::from(cut)),
            Decap::Malformed(_)
        ));

        // ARP and 802.3 length frames are not SCTP.
        let mut arp = MACS.to_vec();
        arp.extend_from_slice(&[0x08, 0x06, 0, 1]);
        assert_eq!(
            sctp_in_link(LinkType::ETHERNET, Bytes::from(arp)),
            Decap::NotSctp
        );
        assert!(matches!(
            sctp_in_link(LinkType::ETHERNET, Bytes::from_static(&[0; 13])),
            Decap::Malformed(_)
        ));
    }

    #[test]
    fn ethernet_padding_is_ignored() {
        // A 16-byte SCTP packet over IPv4 is 36 bytes: Ethernet pads the frame
        // to 60 bytes, and the padding must not end up in the SCTP packet.
        let v4 = sctp_over_ip(A4, B4, &sctp()).unwrap();
        let mut frame = MACS.to_vec();
        frame.extend_from_slice(&[0x08, 0x00]);
        frame.extend_from_slice(&v4);
        frame.resize(60, 0);
        expect(
            sctp_in_link(LinkType::ETHERNET, Bytes::from(frame)),
            A4,
            B4,
            Encapsulation::Ip,
        );
    }

    #[test]
    fn linux_cooked_v1_and_v2() {
        let v4 = sctp_over_ip(A4, B4, &sctp()).unwrap();
        let v6 = sctp_over_ip(A6, B6, &sctp()).unwrap();
        // SLL: packet type 4 (outgoing), ARPHRD_ETHER, address length 6,
        // address padded to 8, protocol.
        let sll = |proto: [u8; 2]| {
            let mut h = vec![0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
            h.extend_from_slice(&proto);
            h
        };
        expect(
            sctp_in_link(LinkType::LINUX_SLL, with_prefix(&sll([0x08, 0]), &v4)),
            A4,
            B4,
            Encapsulation::Ip,
        );
        expect(
            sctp_in_link(LinkType::LINUX_SLL, with_prefix(&sll([0x86, 0xdd]), &v6)),
            A6,
            B6,
            Encapsulation::Ip,
        );
        // SLL2: protocol, reserved, interface index, ARPHRD_ETHER, packet
        // type, address length, address.
        let sll2 = |proto: [u8; 2]| {
            let mut h = proto.to_vec();
            h.extend_from_slice(&[0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
            h
        };
        expect(
            sctp_in_link(LinkType::LINUX_SLL2, with_prefix(&sll2([0x08, 0]), &v4)),
            A4,
            B4,
            Encapsulation::Ip,
        );
        expect(
            sctp_in_link(LinkType::LINUX_SLL2, with_prefix(&sll2([0x86, 0xdd]), &v6)),
            A6,
            B6,
            Encapsulation::Ip,
        );
        assert_eq!(
            sctp_in_link(LinkType::LINUX_SLL2, with_prefix(&sll2([0x08, 0x06]), &v4)),
            Decap::NotSctp
        );
        assert!(matches!(
            sctp_in_link(LinkType::LINUX_SLL, Bytes::from_static(&[0; 15])),
            Decap::Malformed(_)
        ));
    }

    #[test]
    fn bsd_loopback() {
        let v4 = sctp_over_ip(A4, B4, &sctp()).unwrap();
        let v6 = sctp_over_ip(A6, B6, &sctp()).unwrap();
        expect(
            sctp_in_link(LinkType::NULL, with_prefix(&[2, 0, 0, 0], &v4)),
            A4,
            B4,
            Encapsulation::Ip,
        );
        expect(
            sctp_in_link(LinkType::NULL, with_prefix(&[0, 0, 0, 2], &v4)),
            A4,
            B4,
            Encapsulation::Ip,
        );
        for family in [10u32, 24, 28, 30] {
            expect(
                sctp_in_link(LinkType::NULL, with_prefix(&family.to_le_bytes(), &v6)),
                A6,
                B6,
                Encapsulation::Ip,
            );
            expect(
                sctp_in_link(LinkType::NULL, with_prefix(&family.to_be_bytes(), &v6)),
                A6,
                B6,
                Encapsulation::Ip,
            );
        }
        expect(
            sctp_in_link(LinkType::LOOP, with_prefix(&[0, 0, 0, 2], &v4)),
            A4,
            B4,
            Encapsulation::Ip,
        );
        assert_eq!(
            sctp_in_link(LinkType::LOOP, with_prefix(&[2, 0, 0, 0], &v4)),
            Decap::NotSctp
        );
        assert_eq!(
            sctp_in_link(LinkType::NULL, with_prefix(&[7, 0, 0, 0], &v4)),
            Decap::NotSctp
        );
    }

    #[test]
    fn ipv4_with_options() {
        let payload = sctp();
        // IHL 7: 8 bytes of options (Record Route-ish bytes then NOPs and EOL).
        let total = (28 + payload.len()) as u16;
        let mut p = vec![
            0x47, 0, 0, 0, 0, 0, 0x40, 0, 64, 132, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        p[2..4].copy_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&[0x94, 0x04, 0, 0, 1, 1, 1, 0]);
        p.extend_from_slice(&payload);
        let (a, b) = ([10, 0, 0, 1].into(), [10, 0, 0, 2].into());
        expect(
            sctp_in_link(LinkType::IPV4, Bytes::from(p.clone())),
            a,
            b,
            Encapsulation::Ip,
        );
        // IHL past the captured bytes, and below 5.
        let mut bad = p[..24].to_vec();
        bad[0] = 0x4f;
        assert!(matches!(
            sctp_in_link(LinkType::RAW, Bytes::from(bad)),
            Decap::Malformed(_)
        ));
        let mut bad = p.clone();
        bad[0] = 0x44;
        assert!(matches!(
            sctp_in_link(LinkType::RAW, Bytes::from(bad)),
            Decap::Malformed(_)
        ));
        // Total length past the captured bytes (a snaplen cut).
        assert!(matches!(
            sctp_in_link(LinkType::RAW, Bytes::copy_from_slice(&p[..p.len() - 1])),
            Decap::Malformed(_)
        ));
        // Version mismatch for the IPV4 link type.
        let v6 = sctp_over_ip(A6, B6, &payload).unwrap();
        assert!(matches!(
            sctp_in_link(LinkType::IPV4, Bytes::from(v6)),
            Decap::Malformed(_)
        ));
    }

    #[test]
    fn ipv4_fragments() {
        let p = sctp_over_ip(A4, B4, &sctp()).unwrap();
        // More fragments set (DF cleared).
        let mut mf = p.clone();
        mf[6] = 0x20;
        assert_eq!(
            sctp_in_link(LinkType::RAW, Bytes::from(mf)),
            Decap::Fragment
        );
        // Non-zero offset, last fragment.
        let mut last = p.clone();
        last[6..8].copy_from_slice(&[0x00, 0xb9]);
        assert_eq!(
            sctp_in_link(LinkType::RAW, Bytes::from(last)),
            Decap::Fragment
        );
        // DF alone is not a fragment.
        assert!(matches!(
            sctp_in_link(LinkType::RAW, Bytes::from(p)),
            Decap::Sctp(_)
        ));
    }

    /// Builds an IPv6 packet whose payload is `chain` then the SCTP packet.
    fn ipv6_with(first: u8, chain: &[u8]) -> Bytes {
        let mut payload = chain.to_vec();
        payload.extend_from_slice(&sctp());
        let mut p = ip_packet(A6, B6, first, &payload).unwrap();
        p.extend_from_slice(&[0xaa; 6]); // padding past the payload length
        Bytes::from(p)
    }

    #[test]
    fn ipv6_extension_headers() {
        // Hop-by-hop (8 bytes, PadN) -> routing (type 0 with no addresses left,
        // 8 bytes) -> destination options (16 bytes) -> atomic fragment -> SCTP.
        let chain = [
            43, 0, 1, 4, 0, 0, 0, 0, // hop-by-hop: next routing, PadN 4
            60, 0, 0, 0, 0, 0, 0, 0, // routing: next dest opts, segments left 0
            44, 1, 1, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // dest opts: PadN 10
            132, 0, 0, 0, 0, 0, 0, 1, // fragment: offset 0, M 0, id 1
        ];
        expect(
            sctp_in_link(LinkType::IPV6, ipv6_with(0, &chain)),
            A6,
            B6,
            Encapsulation::Ip,
        );
        // Authentication header: payload length 1 -> (1 + 2) * 4 = 12 bytes.
        let ah = [132, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
        expect(
            sctp_in_link(LinkType::RAW, ipv6_with(51, &ah)),
            A6,
            B6,
            Encapsulation::Ip,
        );
        // Over UDP behind a destination options header.
        let udp_packet = sctp_over_udp(A6, B6, 7, SCTP_UDP_PORT, &sctp()).unwrap();
        let mut payload = vec![17, 0, 1, 4, 0, 0, 0, 0];
        payload.extend_from_slice(&udp_packet[40..]);
        let p = ip_packet(A6, B6, 60, &payload).unwrap();
        expect(
            sctp_in_link(LinkType::RAW, Bytes::from(p)),
            A6,
            B6,
            Encapsulation::Udp {
                src_port: 7,
                dst_port: SCTP_UDP_PORT,
            },
        );
    }

    #[test]
    fn ipv6_fragments_and_truncation() {
        // First fragment: offset 0, M = 1.
        let first = [132, 0, 0, 1, 0, 0, 0, 1];
        assert_eq!(
            sctp_in_link(LinkType::RAW, ipv6_with(44, &first)),
            Decap::Fragment
        );
        // Later fragment: offset 185, M = 0.
        let later = [132, 0, 0x05, 0xc8, 0, 0, 0, 1];
        assert_eq!(
            sctp_in_link(LinkType::RAW, ipv6_with(44, &later)),
            Decap::Fragment
        );
        // An extension header running past the payload.
        let p = ip_packet(A6, B6, 0, &[132, 3, 0, 0]).unwrap();
        assert!(matches!(
            sctp_in_link(LinkType::RAW, Bytes::from(p)),
            Decap::Malformed(_)
        ));
        // Payload length past the captured bytes.
        let mut p = sctp_over_ip(A6, B6, &sctp()).unwrap();
        p.truncate(p.len() - 1);
        assert!(matches!(
            sctp_in_link(LinkType::RAW, Bytes::from(p)),
            Decap::Malformed(_)
        ));
        // No next header (59), ESP (50) and ICMPv6 (58) are not SCTP.
        for next in [59, 50, 58] {
            assert_eq!(
                sctp_in_link(LinkType::RAW, ipv6_with(next, &[])),
                Decap::NotSctp
            );
        }
    }

    #[test]
    fn other_protocols_and_short_sctp() {
        // ICMP (1) and TCP (6) over IPv4.
        for proto in [1, 6] {
            let p = ip_packet(A4, B4, proto, &[0; 20]).unwrap();
            assert_eq!(sctp_in_link(LinkType::RAW, Bytes::from(p)), Decap::NotSctp);
        }
        let short = sctp_over_ip(A4, B4, &[0; 11]).unwrap();
        assert!(matches!(
            sctp_in_link(LinkType::RAW, Bytes::from(short)),
            Decap::Malformed(_)
        ));
        let short = sctp_over_udp(A4, B4, 1, SCTP_UDP_PORT, &[0; 4]).unwrap();
        assert!(matches!(
            sctp_in_link(LinkType::RAW, Bytes::from(short)),
            Decap::Malformed(_)
        ));
        let bad_udp = ip_packet(A4, B4, 17, &[0x26, 0xab]).unwrap();
        assert!(matches!(
            sctp_in_link(LinkType::RAW, Bytes::from(bad_udp)),
            Decap::Malformed(_)
        ));
        assert!(matches!(
            sctp_in_link(LinkType::RAW, Bytes::new()),
            Decap::Malformed(_)
        ));
        assert!(matches!(
            sctp_in_link(LinkType::RAW, Bytes::from_static(&[0x50, 0, 0])),
            Decap::Malformed(_)
        ));
        assert_eq!(
            sctp_in_link(LinkType(147), Bytes::from_static(&[0x45])),
            Decap::UnsupportedLinkType(LinkType(147))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes_never_panic(
            link in prop::sample::select(vec![0u16, 1, 101, 108, 113, 228, 229, 276, 147]),
            data in prop::collection::vec(any::<u8>(), 0..128),
        ) {
            let _ = sctp_in_link(LinkType(link), Bytes::from(data));
        }

        /// Starts from valid packets and corrupts a few bytes, so that the
        /// deeper layers are reached too.
        #[test]
        fn corrupted_packets_never_panic(
            v6 in any::<bool>(),
            udp in any::<bool>(),
            link in prop::sample::select(vec![0u16, 1, 101, 113, 276]),
            edits in prop::collection::vec((any::<usize>(), any::<u8>()), 0..6),
            cut in any::<usize>(),
        ) {
            let (src, dst) = if v6 { (A6, B6) } else { (A4, B4) };
            let ip = if udp {
                sctp_over_udp(src, dst, 1, SCTP_UDP_PORT, &sctp()).unwrap()
            } else {
                sctp_over_ip(src, dst, &sctp()).unwrap()
            };
            let ethertype: [u8; 2] = if v6 { [0x86, 0xdd] } else { [0x08, 0x00] };
            let mut frame = match link {
                0 => vec![if v6 { 30 } else { 2 }, 0, 0, 0],
                1 => [&MACS[..], &ethertype].concat(),
                113 => [&[0u8; 14][..], &ethertype].concat(),
                276 => [&ethertype[..], &[0u8; 18]].concat(),
                _ => Vec::new(),
            };
            frame.extend_from_slice(&ip);
            for (at, byte) in edits {
                let len = frame.len();
                frame[at % len] = byte;
            }
            frame.truncate(cut % (frame.len() + 1));
            let _ = sctp_in_link(LinkType(link), Bytes::from(frame));
        }
    }
}
