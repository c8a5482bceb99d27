//! SACK (RFC 9260 §3.3.4): cumulative TSN ack, receiver window, gap ack blocks
//! and duplicate TSNs. The counts in the header are checked against the chunk
//! length before anything is allocated.

use bytes::BufMut;

use super::Body;
use crate::error::{ErrorKind, Result};
use crate::reader::Reader;
use crate::serial::Tsn;

/// Fixed part of a SACK after the chunk header.
pub const SACK_FIXED_LEN: usize = 12;

/// A Gap Ack Block: TSNs `cum_tsn_ack + start ..= cum_tsn_ack + end` received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GapBlock {
    /// Gap Ack Block Start, an offset from the Cumulative TSN Ack.
    pub start: u16,
    /// Gap Ack Block End, an offset from the Cumulative TSN Ack.
    pub end: u16,
}

/// A SACK chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sack {
    /// Cumulative TSN Ack.
    pub cum_tsn_ack: Tsn,
    /// Advertised Receiver Window Credit.
    pub a_rwnd: u32,
    /// Gap Ack Blocks, in the order received.
    pub gap_blocks: Vec<GapBlock>,
    /// Duplicate TSNs reported.
    pub dup_tsns: Vec<Tsn>,
}

impl Body for Sack {
    fn parse(_flags: u8, r: &mut Reader) -> Result<Self> {
        let cum_tsn_ack = Tsn(r.u32("cumulative TSN ack")?);
        let a_rwnd = r.u32("a_rwnd")?;
        let gaps = usize::from(r.u16("number of gap ack blocks")?);
        let dups = usize::from(r.u16("number of duplicate TSNs")?);
        if r.remaining() != 4 * (gaps + dups) {
            return Err(r.error(ErrorKind::BadLength, "gap ack blocks and duplicate TSNs"));
        }
        let mut gap_blocks = Vec::with_capacity(gaps);
        for _ in 0..gaps {
            gap_blocks.push(GapBlock {
                start: r.u16("gap ack block start")?,
                end: r.u16("gap ack block end")?,
            });
        }
        let dup_tsns = r.list(4, "duplicate TSNs", |r| r.u32("duplicate TSN").map(Tsn))?;
        Ok(Sack {
            cum_tsn_ack,
            a_rwnd,
            gap_blocks,
            dup_tsns,
        })
    }

    fn value_len(&self) -> usize {
        SACK_FIXED_LEN + 4 * (self.gap_blocks.len() + self.dup_tsns.len())
    }

    fn emit_value<B: BufMut>(&self, out: &mut B) {
        out.put_u32(self.cum_tsn_ack.0);
        out.put_u32(self.a_rwnd);
        out.put_u16(self.gap_blocks.len() as u16);
        out.put_u16(self.dup_tsns.len() as u16);
        for g in &self.gap_blocks {
            out.put_u16(g.start);
            out.put_u16(g.end);
        }
        self.dup_tsns.iter().for_each(|t| out.put_u32(t.0));
    }
}
