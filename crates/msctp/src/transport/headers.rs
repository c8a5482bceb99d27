//! Reading the IPv4 and IPv6 headers the transport meets: the header a raw
//! IPv4 socket hands over with every datagram (`raw(7)`), and the headers
//! quoted inside ICMP and ICMPv6 errors. Plain bounds-checked byte parsing;
//! `None` for anything malformed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IP protocol number of SCTP (RFC 9260 §3, IANA "Protocol Numbers").
pub(crate) const PROTO_SCTP: u8 = 132;

/// The fields of an IP header the transport needs, and where its payload is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IpHeader {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Upper-layer protocol (IPv6: after the extension headers).
    pub protocol: u8,
    /// Offset of the upper-layer payload.
    pub payload_start: usize,
    /// End of the payload as the length field gives it, cut to the bytes
    /// present (quotes in ICMP errors are usually shorter than the original).
    pub payload_end: usize,
    /// The packet is a fragment other than the first: the upper-layer header
    /// is not in it.
    pub later_fragment: bool,
}

/// Reads an IPv4 header (RFC 791) at the start of `p`.
pub(crate) fn ipv4(p: &[u8]) -> Option<IpHeader> {
    let first = *p.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(first & 0x0f) * 4;
    if ihl < 20 || p.len() < ihl {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([p[2], p[3]]));
    // A total length below the header length is malformed.
    if total < ihl {
        return None;
    }
    let fragment_offset = u16::from_be_bytes([p[6], p[7]]) & 0x1fff;
    Some(IpHeader {
        src: IpAddr::V4(Ipv4Addr::new(p[12], p[13], p[14], p[15])),
        dst: IpAddr::V4(Ipv4Addr::new(p[16], p[17], p[18], p[19])),
        protocol: p[9],
        payload_start: ihl,
        // A quote may be shorter than the total length.
        payload_end: total.min(p.len()),
        later_fragment: fragment_offset != 0,
    })
}

/// Reads an IPv6 header (RFC 8200) at the start of `p` and skips the
/// extension headers a packet of ours can carry (hop-by-hop, routing,
/// destination options, fragment, authentication).
pub(crate) fn ipv6(p: &[u8]) -> Option<IpHeader> {
    let fixed = p.get(..40)?;
    if fixed[0] >> 4 != 6 {
        return None;
    }
    let payload_len = usize::from(u16::from_be_bytes([fixed[4], fixed[5]]));
    let mut next = fixed[6];
    let mut src = [0u8; 16];
    src.copy_from_slice(&fixed[8..24]);
    let mut dst = [0u8; 16];
    dst.copy_from_slice(&fixed[24..40]);
    let end = (40 + payload_len).min(p.len());
    let mut at = 40usize;
    let mut later_fragment = false;
    // A bounded walk: at most eight extension headers.
    for _ in 0..8 {
        let len = match next {
            // Hop-by-hop, routing, destination options (RFC 8200 §4.3–4.6).
            0 | 43 | 60 => (usize::from(*p.get(at + 1)?) + 1) * 8,
            // Fragment (RFC 8200 §4.5).
            44 => {
                let h = p.get(at..at + 8)?;
                later_fragment |= (u16::from_be_bytes([h[2], h[3]]) >> 3) != 0;
                8
            }
            // Authentication header (RFC 4302 §2.2).
            51 => (usize::from(*p.get(at + 1)?) + 2) * 4,
            _ => break,
        };
        next = *p.get(at)?;
        at = at.checked_add(len)?;
    }
    if at > end {
        return None;
    }
    Some(IpHeader {
        src: IpAddr::V6(Ipv6Addr::from(src)),
        dst: IpAddr::V6(Ipv6Addr::from(dst)),
        protocol: next,
        payload_start: at,
        payload_end: end,
        later_fragment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use msctp_wire::capture::{ip_packet, sctp_over_ip};

    #[test]
    fn ipv4_header_fields() {
        let src: IpAddr = "192.0.2.1".parse().unwrap();
        let dst: IpAddr = "192.0.2.2".parse().unwrap();
        let p = sctp_over_ip(src, dst, &[7; 16]).unwrap();
        let h = ipv4(&p).unwrap();
        assert_eq!((h.src, h.dst, h.protocol), (src, dst, PROTO_SCTP));
        assert_eq!((h.payload_start, h.payload_end), (20, 36));
        assert!(!h.later_fragment);
        // Quoted (cut) packets keep what is there.
        assert_eq!(ipv4(&p[..28]).unwrap().payload_end, 28);
        // Malformed.
        assert_eq!(ipv4(&p[..19]), None);
        let mut bad = p.clone();
        bad[0] = 0x44; // IHL 4
        assert_eq!(ipv4(&bad), None);
        let mut bad = p.clone();
        bad[0] = 0x65;
        assert_eq!(ipv4(&bad), None);
        let mut frag = p.clone();
        frag[7] = 1;
        assert!(ipv4(&frag).unwrap().later_fragment);
    }

    #[test]
    fn ipv6_header_and_extension_headers() {
        let src: IpAddr = "2001:db8:1::1".parse().unwrap();
        let dst: IpAddr = "2001:db8:1::2".parse().unwrap();
        let p = sctp_over_ip(src, dst, &[7; 16]).unwrap();
        let h = ipv6(&p).unwrap();
        assert_eq!((h.src, h.dst, h.protocol), (src, dst, PROTO_SCTP));
        assert_eq!((h.payload_start, h.payload_end), (40, 56));
        // A destination-options header (8 bytes) before SCTP.
        let mut payload = vec![PROTO_SCTP, 0, 1, 4, 0, 0, 0, 0];
        payload.extend_from_slice(&[7; 16]);
        let p = ip_packet(src, dst, 60, &payload).unwrap();
        let h = ipv6(&p).unwrap();
        assert_eq!((h.protocol, h.payload_start), (PROTO_SCTP, 48));
        // A later fragment.
        let mut payload = vec![PROTO_SCTP, 0, 0, 8, 0, 0, 0, 1];
        payload.extend_from_slice(&[7; 16]);
        let p = ip_packet(src, dst, 44, &payload).unwrap();
        assert!(ipv6(&p).unwrap().later_fragment);
        // Truncated anywhere: never panics.
        for cut in 0..p.len() {
            let _ = ipv6(&p[..cut]);
        }
        assert_eq!(ipv6(&p[..39]), None);
    }
}
