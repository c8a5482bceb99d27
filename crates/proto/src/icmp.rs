//! ICMP and ICMPv6 errors about packets we sent (RFC 9260 Appendix C), as
//! the runtime or the simulator reports them: the kind of error and the
//! quoted start of our SCTP packet. The endpoint validates the quote (ports
//! and verification tag, Appendix C ICMP5/ICMP6) before any association acts
//! on it; unvalidated reports are ignored and counted.

use std::net::IpAddr;

use bytes::Bytes;

/// What an ICMP error says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpKind {
    /// Destination (network, host, port) unreachable or administratively
    /// prohibited: the path is not working (RFC 9260 Appendix C ICMP9).
    Unreachable,
    /// Protocol unreachable (ICMPv4 type 3 code 2) or unrecognised next
    /// header (ICMPv6 type 4 code 1): the peer has no SCTP; treated as an
    /// ABORT (Appendix C ICMP8).
    ProtocolUnreachable,
    /// Fragmentation needed / packet too big, with the next-hop MTU
    /// (Appendix C ICMP7, RFC 9260 §7.3).
    PacketTooBig {
        /// The MTU the router reported.
        mtu: u32,
    },
}

/// An ICMP error about an SCTP packet we sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcmpReport {
    /// Source address of the quoted packet (one of ours).
    pub quoted_src: IpAddr,
    /// Destination address of the quoted packet (the peer address).
    pub quoted_dst: IpAddr,
    /// The quoted SCTP bytes, from the common header on (at least 8 bytes:
    /// ports and verification tag).
    pub quoted: Bytes,
    /// The error.
    pub kind: IcmpKind,
}

impl IcmpReport {
    /// Source port, destination port and verification tag of the quoted
    /// packet, and the first chunk type if quoted.
    pub(crate) fn header(&self) -> Option<(u16, u16, u32, Option<u8>)> {
        let q = &self.quoted;
        if q.len() < 8 {
            return None;
        }
        Some((
            u16::from_be_bytes([q[0], q[1]]),
            u16::from_be_bytes([q[2], q[3]]),
            u32::from_be_bytes([q[4], q[5], q[6], q[7]]),
            q.get(12).copied(),
        ))
    }

    /// The Initiate Tag of a quoted INIT, if the quote reaches it.
    pub(crate) fn init_tag(&self) -> Option<u32> {
        let q = self.quoted.get(16..20)?;
        Some(u32::from_be_bytes([q[0], q[1], q[2], q[3]]))
    }
}
