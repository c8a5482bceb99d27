//! The small fixed-layout chunks: SHUTDOWN (RFC 9260 §3.3.8), SHUTDOWN COMPLETE
//! (§3.3.13), COOKIE ECHO (§3.3.11), ECNE and CWR (Appendix A), AUTH (RFC 4895
//! §4.1) and PAD (RFC 4820 §3). SHUTDOWN ACK and COOKIE ACK have no body and are
//! unit variants of [`super::Chunk`].

use bytes::{BufMut, Bytes};

use super::Body;
use super::abort::T_BIT;
use crate::error::Result;
use crate::reader::Reader;
use crate::serial::Tsn;

/// A SHUTDOWN chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shutdown {
    /// Cumulative TSN Ack.
    pub cum_tsn_ack: Tsn,
}

impl Body for Shutdown {
    fn parse(_flags: u8, r: &mut Reader) -> Result<Self> {
        Ok(Shutdown {
            cum_tsn_ack: Tsn(r.u32("cumulative TSN ack")?),
        })
    }
    fn value_len(&self) -> usize {
        4
    }
    fn emit_value<B: BufMut>(&self, out: &mut B) {
        out.put_u32(self.cum_tsn_ack.0);
    }
}

/// A SHUTDOWN COMPLETE chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShutdownComplete {
    /// T bit: the verification tag is reflected (RFC 9260 §8.5.1).
    pub t_bit: bool,
}

impl Body for ShutdownComplete {
    fn parse(flags: u8, _r: &mut Reader) -> Result<Self> {
        Ok(ShutdownComplete {
            t_bit: flags & T_BIT != 0,
        })
    }
    fn flags(&self) -> u8 {
        if self.t_bit { T_BIT } else { 0 }
    }
    fn value_len(&self) -> usize {
        0
    }
    fn emit_value<B: BufMut>(&self, _out: &mut B) {}
}

/// A COOKIE ECHO chunk: the State Cookie from the INIT ACK, verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieEcho {
    /// The cookie.
    pub cookie: Bytes,
}

impl Body for CookieEcho {
    fn parse(_flags: u8, r: &mut Reader) -> Result<Self> {
        Ok(CookieEcho { cookie: r.rest() })
    }
    fn value_len(&self) -> usize {
        self.cookie.len()
    }
    fn emit_value<B: BufMut>(&self, out: &mut B) {
        out.put_slice(&self.cookie);
    }
}

/// An ECNE chunk (RFC 9260 Appendix A).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ecne {
    /// Lowest TSN Number.
    pub lowest_tsn: Tsn,
}

impl Body for Ecne {
    fn parse(_flags: u8, r: &mut Reader) -> Result<Self> {
        Ok(Ecne {
            lowest_tsn: Tsn(r.u32("lowest TSN")?),
        })
    }
    fn value_len(&self) -> usize {
        4
    }
    fn emit_value<B: BufMut>(&self, out: &mut B) {
        out.put_u32(self.lowest_tsn.0);
    }
}

/// A CWR chunk (RFC 9260 Appendix A).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cwr {
    /// Lowest TSN Number.
    pub lowest_tsn: Tsn,
}

impl Body for Cwr {
    fn parse(_flags: u8, r: &mut Reader) -> Result<Self> {
        Ok(Cwr {
            lowest_tsn: Tsn(r.u32("lowest TSN")?),
        })
    }
    fn value_len(&self) -> usize {
        4
    }
    fn emit_value<B: BufMut>(&self, out: &mut B) {
        out.put_u32(self.lowest_tsn.0);
    }
}

/// An AUTH chunk (RFC 4895 §4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    /// Shared Key Identifier.
    pub key_id: u16,
    /// HMAC Identifier.
    pub hmac_id: u16,
    /// The HMAC.
    pub hmac: Bytes,
}

impl Body for Auth {
    fn parse(_flags: u8, r: &mut Reader) -> Result<Self> {
        Ok(Auth {
            key_id: r.u16("shared key identifier")?,
            hmac_id: r.u16("HMAC identifier")?,
            hmac: r.rest(),
        })
    }
    fn value_len(&self) -> usize {
        4 + self.hmac.len()
    }
    fn emit_value<B: BufMut>(&self, out: &mut B) {
        out.put_u16(self.key_id);
        out.put_u16(self.hmac_id);
        out.put_slice(&self.hmac);
    }
}

/// A PAD chunk (RFC 4820 §3): `len` bytes of padding, ignored by the receiver
/// and emitted as zeros.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pad {
    /// Length of the padding data.
    pub len: u16,
}

impl Body for Pad {
    fn parse(_flags: u8, r: &mut Reader) -> Result<Self> {
        let len = r.rest().len();
        // The value came from a chunk whose length fits in u16.
        Ok(Pad { len: len as u16 })
    }
    fn value_len(&self) -> usize {
        usize::from(self.len)
    }
    fn emit_value<B: BufMut>(&self, out: &mut B) {
        out.put_bytes(0, usize::from(self.len));
    }
}
