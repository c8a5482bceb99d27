//! Chunks (RFC 9260 §3.2): the chunk header, the typed [`Chunk`] enum and a raw
//! chunk iterator.
//!
//! [`RawChunks`] walks the chunks of a packet without interpreting them (type,
//! flags, length, value), which is what the protocol layer needs to honour the
//! action bits of unknown types (RFC 9260 §3.2) and to quote a chunk in an
//! Unrecognized Chunk Type cause. [`Chunk::parse`] turns one raw chunk into its
//! typed representation; [`Chunk::emit`] writes canonical bytes.

mod abort;
mod asconf;
mod data;
mod forward_tsn;
mod heartbeat;
mod init;
mod sack;
mod simple;

use bytes::{BufMut, Bytes};

pub use abort::{Abort, OperationError, T_BIT};
pub use asconf::{Asconf, AsconfAck, ReConfig};
pub use data::{DATA_FIXED_LEN, Data, I_DATA_FIXED_LEN, IData, flags as data_flags};
pub use forward_tsn::{ForwardTsn, ForwardTsnStream, IForwardTsn, IForwardTsnStream};
pub use heartbeat::Heartbeat;
pub use init::{INIT_FIXED_LEN, Init};
pub use sack::{GapBlock, SACK_FIXED_LEN, Sack};
pub use simple::{Auth, CookieEcho, Cwr, Ecne, Pad, Shutdown, ShutdownComplete};

use crate::error::{Error, ErrorKind, Result};
use crate::reader::{Reader, padded};
use crate::types::ChunkType;

/// Length of the chunk header (type, flags, length).
pub const CHUNK_HEADER_LEN: usize = 4;

/// What every chunk body implements: parse its value, give its flags and the
/// length of its value, and write the value.
pub(crate) trait Body: Sized {
    /// Reads the value; `r` holds exactly the chunk's value (the length field
    /// minus the header).
    fn parse(flags: u8, r: &mut Reader) -> Result<Self>;
    /// The chunk flags this body implies (reserved bits zero).
    fn flags(&self) -> u8 {
        0
    }
    /// Length of the value as the chunk length field counts it.
    fn value_len(&self) -> usize;
    /// Writes the value (parameters and causes padded).
    fn emit_value<B: BufMut>(&self, out: &mut B);
    /// Bytes of padding `emit_value` wrote after `value_len` (the last
    /// parameter's padding, which the chunk length does not count).
    fn trailing_pad(&self) -> usize {
        0
    }
}

pub(crate) fn list_trailing_pad(last_len: Option<usize>) -> usize {
    last_len.map_or(0, |l| padded(l) - l)
}

/// A chunk as it appears in a packet, not yet interpreted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawChunk {
    /// Chunk Type.
    pub ty: ChunkType,
    /// Chunk Flags, as received (reserved bits included).
    pub flags: u8,
    /// Chunk Length field.
    pub length: u16,
    /// Offset of the chunk header from the start of the packet.
    pub offset: usize,
    /// The whole chunk (header and value) without padding, as received: what
    /// an Unrecognized Chunk Type cause quotes (RFC 9260 §3.3.10.6).
    pub bytes: Bytes,
}

impl RawChunk {
    /// The chunk value (without the header).
    pub fn value(&self) -> Bytes {
        self.bytes.slice(CHUNK_HEADER_LEN..)
    }
}

/// Iterator over the chunks of a packet, starting after the common header.
/// Yields an error once and then stops if a chunk is malformed.
#[derive(Debug, Clone)]
pub struct RawChunks {
    data: Bytes,
    pos: usize,
    failed: bool,
}

impl RawChunks {
    /// Iterates over the chunks in `packet`, which starts with the 12-byte
    /// common header (not checked here).
    pub fn new(packet: Bytes) -> Self {
        RawChunks {
            pos: crate::header::HEADER_LEN.min(packet.len()),
            data: packet,
            failed: false,
        }
    }
}

impl Iterator for RawChunks {
    type Item = Result<RawChunk>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.data.len() {
            return None;
        }
        let offset = self.pos;
        let rest = &self.data[offset..];
        let err = |kind, field| Error::new(kind, offset, "chunk", field);
        let result = if rest.len() < CHUNK_HEADER_LEN {
            Err(err(ErrorKind::Truncated, "chunk header"))
        } else {
            let length = u16::from_be_bytes([rest[2], rest[3]]);
            let len = usize::from(length);
            if len < CHUNK_HEADER_LEN {
                Err(Error::new(
                    ErrorKind::LengthTooSmall,
                    offset + 2,
                    chunk_context(ChunkType(rest[0])),
                    "length",
                ))
            } else if len > rest.len() {
                Err(Error::new(
                    ErrorKind::LengthTooLarge,
                    offset + 2,
                    chunk_context(ChunkType(rest[0])),
                    "length",
                ))
            } else {
                // RFC 9260 §3.2: the receiver ignores padding; a last chunk
                // without its padding is accepted.
                self.pos = (offset + padded(len)).min(self.data.len());
                Ok(RawChunk {
                    ty: ChunkType(rest[0]),
                    flags: rest[1],
                    length,
                    offset,
                    bytes: self.data.slice(offset..offset + len),
                })
            }
        };
        if result.is_err() {
            self.failed = true;
        }
        Some(result)
    }
}

fn chunk_context(ty: ChunkType) -> &'static str {
    ty.name().unwrap_or("unknown chunk")
}

/// A chunk of a type this crate does not interpret, kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownChunk {
    /// Chunk Type; [`ChunkType::action`] says what the receiver must do.
    pub ty: ChunkType,
    /// Chunk Flags.
    pub flags: u8,
    /// Chunk value, without header and padding.
    pub value: Bytes,
}

/// A typed chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chunk {
    /// DATA (RFC 9260 §3.3.1).
    Data(Data),
    /// INIT (RFC 9260 §3.3.2).
    Init(Init),
    /// INIT ACK (RFC 9260 §3.3.3).
    InitAck(Init),
    /// SACK (RFC 9260 §3.3.4).
    Sack(Sack),
    /// HEARTBEAT (RFC 9260 §3.3.5).
    Heartbeat(Heartbeat),
    /// HEARTBEAT ACK (RFC 9260 §3.3.6).
    HeartbeatAck(Heartbeat),
    /// ABORT (RFC 9260 §3.3.7).
    Abort(Abort),
    /// SHUTDOWN (RFC 9260 §3.3.8).
    Shutdown(Shutdown),
    /// SHUTDOWN ACK (RFC 9260 §3.3.9).
    ShutdownAck,
    /// ERROR (RFC 9260 §3.3.10).
    Error(OperationError),
    /// COOKIE ECHO (RFC 9260 §3.3.11).
    CookieEcho(CookieEcho),
    /// COOKIE ACK (RFC 9260 §3.3.12).
    CookieAck,
    /// ECNE (RFC 9260 Appendix A).
    Ecne(Ecne),
    /// CWR (RFC 9260 Appendix A).
    Cwr(Cwr),
    /// SHUTDOWN COMPLETE (RFC 9260 §3.3.13).
    ShutdownComplete(ShutdownComplete),
    /// AUTH (RFC 4895 §4.1).
    Auth(Auth),
    /// I-DATA (RFC 8260 §2.1).
    IData(IData),
    /// ASCONF-ACK (RFC 5061 §4.1.2).
    AsconfAck(AsconfAck),
    /// RE-CONFIG (RFC 6525 §3.1).
    ReConfig(ReConfig),
    /// PAD (RFC 4820 §3).
    Pad(Pad),
    /// FORWARD TSN (RFC 3758 §3.2).
    ForwardTsn(ForwardTsn),
    /// ASCONF (RFC 5061 §4.1.1).
    Asconf(Asconf),
    /// I-FORWARD-TSN (RFC 8260 §2.3.1).
    IForwardTsn(IForwardTsn),
    /// Any other chunk type, kept verbatim.
    Unknown(UnknownChunk),
}

/// Applies `$body` to the body of every variant that has one.
macro_rules! with_body {
    ($chunk:expr, $b:ident => $body:expr, unit => $unit:expr) => {
        match $chunk {
            Chunk::Data($b) => $body,
            Chunk::Init($b) | Chunk::InitAck($b) => $body,
            Chunk::Sack($b) => $body,
            Chunk::Heartbeat($b) | Chunk::HeartbeatAck($b) => $body,
            Chunk::Abort($b) => $body,
            Chunk::Shutdown($b) => $body,
            Chunk::Error($b) => $body,
            Chunk::CookieEcho($b) => $body,
            Chunk::Ecne($b) => $body,
            Chunk::Cwr($b) => $body,
            Chunk::ShutdownComplete($b) => $body,
            Chunk::Auth($b) => $body,
            Chunk::IData($b) => $body,
            Chunk::AsconfAck($b) => $body,
            Chunk::ReConfig($b) => $body,
            Chunk::Pad($b) => $body,
            Chunk::ForwardTsn($b) => $body,
            Chunk::Asconf($b) => $body,
            Chunk::IForwardTsn($b) => $body,
            Chunk::ShutdownAck | Chunk::CookieAck | Chunk::Unknown(_) => $unit,
        }
    };
}

impl Chunk {
    /// The chunk's type code.
    pub fn chunk_type(&self) -> ChunkType {
        match self {
            Chunk::Data(_) => ChunkType::DATA,
            Chunk::Init(_) => ChunkType::INIT,
            Chunk::InitAck(_) => ChunkType::INIT_ACK,
            Chunk::Sack(_) => ChunkType::SACK,
            Chunk::Heartbeat(_) => ChunkType::HEARTBEAT,
            Chunk::HeartbeatAck(_) => ChunkType::HEARTBEAT_ACK,
            Chunk::Abort(_) => ChunkType::ABORT,
            Chunk::Shutdown(_) => ChunkType::SHUTDOWN,
            Chunk::ShutdownAck => ChunkType::SHUTDOWN_ACK,
            Chunk::Error(_) => ChunkType::ERROR,
            Chunk::CookieEcho(_) => ChunkType::COOKIE_ECHO,
            Chunk::CookieAck => ChunkType::COOKIE_ACK,
            Chunk::Ecne(_) => ChunkType::ECNE,
            Chunk::Cwr(_) => ChunkType::CWR,
            Chunk::ShutdownComplete(_) => ChunkType::SHUTDOWN_COMPLETE,
            Chunk::Auth(_) => ChunkType::AUTH,
            Chunk::IData(_) => ChunkType::I_DATA,
            Chunk::AsconfAck(_) => ChunkType::ASCONF_ACK,
            Chunk::ReConfig(_) => ChunkType::RE_CONFIG,
            Chunk::Pad(_) => ChunkType::PAD,
            Chunk::ForwardTsn(_) => ChunkType::FORWARD_TSN,
            Chunk::Asconf(_) => ChunkType::ASCONF,
            Chunk::IForwardTsn(_) => ChunkType::I_FORWARD_TSN,
            Chunk::Unknown(u) => u.ty,
        }
    }

    /// The flags this chunk is emitted with.
    pub fn flags(&self) -> u8 {
        match self {
            Chunk::Unknown(u) => u.flags,
            c => with_body!(c, b => b.flags(), unit => 0),
        }
    }

    /// The chunk length field: header plus value, without the final padding.
    pub fn len(&self) -> usize {
        CHUNK_HEADER_LEN
            + match self {
                Chunk::Unknown(u) => u.value.len(),
                c => with_body!(c, b => b.value_len(), unit => 0),
            }
    }

    /// Always false: a chunk is at least its 4-byte header.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Bytes this chunk occupies in a packet, padding included.
    pub fn padded_len(&self) -> usize {
        padded(self.len())
    }

    /// Writes the chunk, padded with zeros to a multiple of four bytes
    /// (RFC 9260 §3.2). The length must fit the 16-bit length field; a chunk
    /// that fits in a packet always does.
    pub fn emit<B: BufMut>(&self, out: &mut B) {
        let len = self.len();
        out.put_u8(self.chunk_type().0);
        out.put_u8(self.flags());
        out.put_u16(len as u16);
        let written_pad = match self {
            Chunk::Unknown(u) => {
                out.put_slice(&u.value);
                0
            }
            c => with_body!(c, b => { b.emit_value(out); b.trailing_pad() }, unit => 0),
        };
        out.put_bytes(0, padded(len) - len - written_pad);
    }

    /// Interprets a raw chunk.
    pub fn parse(raw: &RawChunk) -> Result<Chunk> {
        let ctx = chunk_context(raw.ty);
        let mut r = Reader::new(raw.value(), raw.offset + CHUNK_HEADER_LEN, ctx);
        let f = raw.flags;
        let r = &mut r;
        let chunk = match raw.ty {
            ChunkType::DATA => Chunk::Data(Data::parse(f, r)?),
            ChunkType::INIT => Chunk::Init(Init::parse(f, r)?),
            ChunkType::INIT_ACK => Chunk::InitAck(Init::parse(f, r)?),
            ChunkType::SACK => Chunk::Sack(Sack::parse(f, r)?),
            ChunkType::HEARTBEAT => Chunk::Heartbeat(Heartbeat::parse(f, r)?),
            ChunkType::HEARTBEAT_ACK => Chunk::HeartbeatAck(Heartbeat::parse(f, r)?),
            ChunkType::ABORT => Chunk::Abort(Abort::parse(f, r)?),
            ChunkType::SHUTDOWN => Chunk::Shutdown(Shutdown::parse(f, r)?),
            ChunkType::SHUTDOWN_ACK => Chunk::ShutdownAck,
            ChunkType::ERROR => Chunk::Error(OperationError::parse(f, r)?),
            ChunkType::COOKIE_ECHO => Chunk::CookieEcho(CookieEcho::parse(f, r)?),
            ChunkType::COOKIE_ACK => Chunk::CookieAck,
            ChunkType::ECNE => Chunk::Ecne(Ecne::parse(f, r)?),
            ChunkType::CWR => Chunk::Cwr(Cwr::parse(f, r)?),
            ChunkType::SHUTDOWN_COMPLETE => Chunk::ShutdownComplete(ShutdownComplete::parse(f, r)?),
            ChunkType::AUTH => Chunk::Auth(Auth::parse(f, r)?),
            ChunkType::I_DATA => Chunk::IData(IData::parse(f, r)?),
            ChunkType::ASCONF_ACK => Chunk::AsconfAck(AsconfAck::parse(f, r)?),
            ChunkType::RE_CONFIG => Chunk::ReConfig(ReConfig::parse(f, r)?),
            ChunkType::PAD => Chunk::Pad(Pad::parse(f, r)?),
            ChunkType::FORWARD_TSN => Chunk::ForwardTsn(ForwardTsn::parse(f, r)?),
            ChunkType::ASCONF => Chunk::Asconf(Asconf::parse(f, r)?),
            ChunkType::I_FORWARD_TSN => Chunk::IForwardTsn(IForwardTsn::parse(f, r)?),
            ty => Chunk::Unknown(UnknownChunk {
                ty,
                flags: f,
                value: r.rest(),
            }),
        };
        // Fixed-size chunks must not carry extra bytes.
        r.finish("value")?;
        Ok(chunk)
    }
}
