//! The wire check: every datagram an agent transmits is parsed again with
//! `msctp_wire::Packet::parse` (CRC32c verified), so that every packet any
//! simulated test emits is known to be well formed. Failures are kept as
//! [`WireError`]s and, by default, fail the run at once.

use crate::agent::Datagram;
use crate::clock::VirtualTime;
use crate::topology::HostId;
use msctp_wire::Packet;
use std::fmt::{self, Write as _};
use std::time::Duration;

/// What is wrong with a transmitted datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireErrorKind {
    /// The SCTP packet does not parse, or its checksum is wrong.
    Parse(msctp_wire::Error),
    /// Source and destination are of different address families.
    MixedFamilies,
    /// The source is not one of the sending host's addresses on the link
    /// the datagram was routed over (DESIGN.md: the source is the address
    /// routing uses for the destination).
    SourceNotOnLink,
}

impl fmt::Display for WireErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireErrorKind::Parse(e) => write!(f, "SCTP packet does not parse: {e}"),
            WireErrorKind::MixedFamilies => {
                f.write_str("source and destination are of different address families")
            }
            WireErrorKind::SourceNotOnLink => {
                f.write_str("the source is not the host's address on the link the route uses")
            }
        }
    }
}

/// A datagram that failed the wire check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireError {
    /// When it was transmitted.
    pub time: Duration,
    /// The transmitting host.
    pub host: HostId,
    /// The datagram.
    pub datagram: Datagram,
    /// What is wrong.
    pub kind: WireErrorKind,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "at {} host {} sent {} > {} ({} bytes): {}\n{}",
            VirtualTime(self.time),
            self.host.index(),
            self.datagram.src,
            self.datagram.dst,
            self.datagram.payload.len(),
            self.kind,
            hex(&self.datagram.payload)
        )
    }
}

/// Checks one datagram.
pub(crate) fn check(datagram: &Datagram) -> Result<(), WireErrorKind> {
    if datagram.src.is_ipv4() != datagram.dst.is_ipv4() {
        return Err(WireErrorKind::MixedFamilies);
    }
    Packet::parse(datagram.payload.clone())
        .map(drop)
        .map_err(WireErrorKind::Parse)
}

/// Bytes as hex, 16 per line with the offset first.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3 + bytes.len() / 16 * 6);
    for (i, line) in bytes.chunks(16).enumerate() {
        let _ = write!(out, "{:04x}:", i * 16);
        for b in line {
            let _ = write!(out, " {b:02x}");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_lines() {
        let b: Vec<u8> = (0..18).collect();
        assert_eq!(
            hex(&b),
            "0000: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n0010: 10 11\n"
        );
    }
}
