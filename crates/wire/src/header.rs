//! The SCTP common header (RFC 9260 §3.1): source port, destination port,
//! verification tag and checksum. The checksum itself lives in [`crate::crc32c`]:
//! it is verified on parse and filled on emit, so it is not part of the
//! representation.

use bytes::BufMut;

use crate::error::{Error, ErrorKind, Result};

/// Length of the common header in bytes.
pub const HEADER_LEN: usize = 12;

/// Byte ranges of the common header's fields (RFC 9260 §3.1).
pub mod field {
    use core::ops::Range;
    /// Source Port Number.
    pub const SRC_PORT: Range<usize> = 0..2;
    /// Destination Port Number.
    pub const DST_PORT: Range<usize> = 2..4;
    /// Verification Tag.
    pub const VERIFICATION_TAG: Range<usize> = 4..8;
    /// Checksum (CRC32c).
    pub const CHECKSUM: Range<usize> = 8..12;
}

/// The common header of an SCTP packet, without its checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CommonHeader {
    /// SCTP sender's port number.
    pub src_port: u16,
    /// SCTP port number to which this packet is destined.
    pub dst_port: u16,
    /// Verification Tag (RFC 9260 §8.5).
    pub verification_tag: u32,
}

impl CommonHeader {
    /// Reads the common header from the start of `packet`.
    pub fn parse(packet: &[u8]) -> Result<Self> {
        let Some(h) = packet.get(..HEADER_LEN) else {
            return Err(Error::new(
                ErrorKind::Truncated,
                packet.len(),
                "common header",
                "",
            ));
        };
        Ok(CommonHeader {
            src_port: u16::from_be_bytes([h[0], h[1]]),
            dst_port: u16::from_be_bytes([h[2], h[3]]),
            verification_tag: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
        })
    }

    /// Writes the header with a zero checksum; [`crate::crc32c::fill`] fills it
    /// once the whole packet is written.
    pub fn emit(&self, out: &mut impl BufMut) {
        out.put_u16(self.src_port);
        out.put_u16(self.dst_port);
        out.put_u32(self.verification_tag);
        out.put_u32(0);
    }
}
