//! DATA (RFC 9260 §3.3.1) and I-DATA (RFC 8260 §2.1) chunks: user data with
//! their U (unordered), B (beginning), E (ending) and I (RFC 7053 SACK-IMMEDIATELY)
//! flags. The payload is a zero-copy view of the received packet.

use bytes::{BufMut, Bytes};

use super::Body;
use crate::error::Result;
use crate::reader::Reader;
use crate::serial::{Mid, Ssn, Tsn};

/// Flag bits of DATA and I-DATA.
pub mod flags {
    /// E: last fragment of a user message.
    pub const END: u8 = 0x01;
    /// B: first fragment of a user message.
    pub const BEGIN: u8 = 0x02;
    /// U: unordered.
    pub const UNORDERED: u8 = 0x04;
    /// I: the receiver should acknowledge at once (RFC 7053 §3).
    pub const IMMEDIATE: u8 = 0x08;
}

/// Fixed part of a DATA chunk after the chunk header.
pub const DATA_FIXED_LEN: usize = 12;
/// Fixed part of an I-DATA chunk after the chunk header.
pub const I_DATA_FIXED_LEN: usize = 16;

fn fragment_flags(unordered: bool, begin: bool, end: bool, immediate: bool) -> u8 {
    let mut f = 0;
    if end {
        f |= flags::END;
    }
    if begin {
        f |= flags::BEGIN;
    }
    if unordered {
        f |= flags::UNORDERED;
    }
    if immediate {
        f |= flags::IMMEDIATE;
    }
    f
}

/// A DATA chunk (RFC 9260 §3.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Data {
    /// Transmission Sequence Number.
    pub tsn: Tsn,
    /// Stream Identifier.
    pub stream: u16,
    /// Stream Sequence Number (meaningless for unordered data).
    pub ssn: Ssn,
    /// Payload Protocol Identifier.
    pub ppid: u32,
    /// U bit: unordered delivery.
    pub unordered: bool,
    /// B bit: first fragment.
    pub begin: bool,
    /// E bit: last fragment.
    pub end: bool,
    /// I bit: ask for an immediate SACK (RFC 7053).
    pub immediate: bool,
    /// User data. May be empty on the wire, which the protocol layer answers
    /// with a No User Data error (RFC 9260 §6.2).
    pub payload: Bytes,
}

impl Body for Data {
    fn parse(flags: u8, r: &mut Reader) -> Result<Self> {
        Ok(Data {
            tsn: Tsn(r.u32("TSN")?),
            stream: r.u16("stream identifier")?,
            ssn: Ssn(r.u16("stream sequence number")?),
            ppid: r.u32("payload protocol identifier")?,
            unordered: flags & flags::UNORDERED != 0,
            begin: flags & flags::BEGIN != 0,
            end: flags & flags::END != 0,
            immediate: flags & flags::IMMEDIATE != 0,
            payload: r.rest(),
        })
    }

    fn flags(&self) -> u8 {
        fragment_flags(self.unordered, self.begin, self.end, self.immediate)
    }

    fn value_len(&self) -> usize {
        DATA_FIXED_LEN + self.payload.len()
    }

    fn emit_value<B: BufMut>(&self, out: &mut B) {
        out.put_u32(self.tsn.0);
        out.put_u16(self.stream);
        out.put_u16(self.ssn.0);
        out.put_u32(self.ppid);
        out.put_slice(&self.payload);
    }
}

/// An I-DATA chunk (RFC 8260 §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IData {
    /// Transmission Sequence Number.
    pub tsn: Tsn,
    /// Stream Identifier.
    pub stream: u16,
    /// Message Identifier.
    pub mid: Mid,
    /// Payload Protocol Identifier when `begin` is set, Fragment Sequence
    /// Number otherwise (RFC 8260 §2.1); see [`IData::ppid`] and [`IData::fsn`].
    pub ppid_or_fsn: u32,
    /// U bit: unordered delivery.
    pub unordered: bool,
    /// B bit: first fragment.
    pub begin: bool,
    /// E bit: last fragment.
    pub end: bool,
    /// I bit: ask for an immediate SACK (RFC 7053).
    pub immediate: bool,
    /// User data.
    pub payload: Bytes,
}

impl IData {
    /// The Payload Protocol Identifier, carried only by the first fragment.
    pub fn ppid(&self) -> Option<u32> {
        self.begin.then_some(self.ppid_or_fsn)
    }

    /// The Fragment Sequence Number; the first fragment's is implicitly 0.
    pub fn fsn(&self) -> u32 {
        if self.begin { 0 } else { self.ppid_or_fsn }
    }
}

impl Body for IData {
    fn parse(flags: u8, r: &mut Reader) -> Result<Self> {
        let tsn = Tsn(r.u32("TSN")?);
        let stream = r.u16("stream identifier")?;
        let _reserved = r.u16("reserved")?;
        Ok(IData {
            tsn,
            stream,
            mid: Mid(r.u32("message identifier")?),
            ppid_or_fsn: r.u32("PPID / fragment sequence number")?,
            unordered: flags & flags::UNORDERED != 0,
            begin: flags & flags::BEGIN != 0,
            end: flags & flags::END != 0,
            immediate: flags & flags::IMMEDIATE != 0,
            payload: r.rest(),
        })
    }

    fn flags(&self) -> u8 {
        fragment_flags(self.unordered, self.begin, self.end, self.immediate)
    }

    fn value_len(&self) -> usize {
        I_DATA_FIXED_LEN + self.payload.len()
    }

    fn emit_value<B: BufMut>(&self, out: &mut B) {
        out.put_u32(self.tsn.0);
        out.put_u16(self.stream);
        out.put_u16(0);
        out.put_u32(self.mid.0);
        out.put_u32(self.ppid_or_fsn);
        out.put_slice(&self.payload);
    }
}
