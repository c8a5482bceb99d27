//! FORWARD TSN (RFC 3758 §3.2) and I-FORWARD-TSN (RFC 8260 §2.3.1): move the
//! receiver's cumulative TSN past abandoned messages.

use bytes::BufMut;

use super::Body;
use crate::error::Result;
use crate::reader::Reader;
use crate::serial::{Mid, Ssn, Tsn};

/// A stream entry of FORWARD TSN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForwardTsnStream {
    /// Stream identifier.
    pub stream: u16,
    /// Largest stream sequence number skipped.
    pub ssn: Ssn,
}

/// A FORWARD TSN chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardTsn {
    /// New Cumulative TSN.
    pub new_cum_tsn: Tsn,
    /// Ordered streams whose messages were skipped.
    pub streams: Vec<ForwardTsnStream>,
}

impl Body for ForwardTsn {
    fn parse(_flags: u8, r: &mut Reader) -> Result<Self> {
        let new_cum_tsn = Tsn(r.u32("new cumulative TSN")?);
        let streams = r.list(4, "streams", |r| {
            Ok(ForwardTsnStream {
                stream: r.u16("stream")?,
                ssn: Ssn(r.u16("stream sequence")?),
            })
        })?;
        Ok(ForwardTsn {
            new_cum_tsn,
            streams,
        })
    }
    fn value_len(&self) -> usize {
        4 + 4 * self.streams.len()
    }
    fn emit_value<B: BufMut>(&self, out: &mut B) {
        out.put_u32(self.new_cum_tsn.0);
        for s in &self.streams {
            out.put_u16(s.stream);
            out.put_u16(s.ssn.0);
        }
    }
}

/// A stream entry of I-FORWARD-TSN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IForwardTsnStream {
    /// Stream identifier.
    pub stream: u16,
    /// U bit: the entry is for unordered messages.
    pub unordered: bool,
    /// Largest message identifier skipped.
    pub mid: Mid,
}

/// An I-FORWARD-TSN chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IForwardTsn {
    /// New Cumulative TSN.
    pub new_cum_tsn: Tsn,
    /// Streams whose messages were skipped.
    pub streams: Vec<IForwardTsnStream>,
}

impl Body for IForwardTsn {
    fn parse(_flags: u8, r: &mut Reader) -> Result<Self> {
        let new_cum_tsn = Tsn(r.u32("new cumulative TSN")?);
        let streams = r.list(8, "streams", |r| {
            let stream = r.u16("stream")?;
            let reserved_u = r.u16("reserved / U")?;
            Ok(IForwardTsnStream {
                stream,
                unordered: reserved_u & 1 != 0,
                mid: Mid(r.u32("message identifier")?),
            })
        })?;
        Ok(IForwardTsn {
            new_cum_tsn,
            streams,
        })
    }
    fn value_len(&self) -> usize {
        4 + 8 * self.streams.len()
    }
    fn emit_value<B: BufMut>(&self, out: &mut B) {
        out.put_u32(self.new_cum_tsn.0);
        for s in &self.streams {
            out.put_u16(s.stream);
            out.put_u16(u16::from(s.unordered));
            out.put_u32(s.mid.0);
        }
    }
}
