//! A whole SCTP packet (RFC 9260 §3): common header and chunks.
//!
//! [`Packet::parse`] verifies the CRC32c (RFC 9260 §6.8) and interprets every
//! chunk; [`Packet::parse_unverified`] skips the checksum (for captures, or a
//! peer that negotiated RFC 9653 zero checksums). [`Packet::emit`] writes
//! canonical bytes with the checksum filled in. For chunk-by-chunk processing
//! that must act on the first bad or unknown chunk, use
//! [`crate::chunk::RawChunks`].

use bytes::Bytes;

use crate::chunk::{Chunk, RawChunks};
use crate::crc32c;
use crate::error::{Error, ErrorKind, Result};
use crate::header::{CommonHeader, HEADER_LEN};

/// An SCTP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Ports and verification tag.
    pub header: CommonHeader,
    /// Chunks, in order.
    pub chunks: Vec<Chunk>,
}

impl Packet {
    /// Parses a packet and verifies its checksum.
    pub fn parse(data: Bytes) -> Result<Packet> {
        Self::check_header(&data)?;
        if !crc32c::verify(&data) {
            return Err(Error::new(
                ErrorKind::BadChecksum,
                8,
                "common header",
                "checksum",
            ));
        }
        Self::parse_unverified(data)
    }

    /// Parses a packet without looking at its checksum.
    pub fn parse_unverified(data: Bytes) -> Result<Packet> {
        let header = Self::check_header(&data)?;
        let mut chunks = Vec::new();
        for raw in RawChunks::new(data) {
            chunks.push(Chunk::parse(&raw?)?);
        }
        Ok(Packet { header, chunks })
    }

    fn check_header(data: &[u8]) -> Result<CommonHeader> {
        CommonHeader::parse(data)
    }

    /// Length of the emitted packet.
    pub fn len(&self) -> usize {
        HEADER_LEN + self.chunks.iter().map(Chunk::padded_len).sum::<usize>()
    }

    /// True when the packet has no chunks.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Writes the packet with its checksum into a new buffer.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        self.emit_into(&mut out);
        out
    }

    /// Appends the packet with its checksum to `out`.
    pub fn emit_into(&self, out: &mut Vec<u8>) {
        let start = out.len();
        self.header.emit(out);
        for c in &self.chunks {
            c.emit(out);
        }
        crc32c::fill(&mut out[start..]);
    }
}
