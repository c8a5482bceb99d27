//! `msctp-wire`: the SCTP packet codec.
//!
//! This crate owns the bytes on the wire: the common header and its CRC32c
//! (RFC 9260 §3.1, §6.8, Appendix B), every chunk of RFC 9260 and of the
//! extensions a complete stack needs (RFC 3758, 4820, 4895, 5061, 6525, 7053,
//! 8260), every INIT/INIT ACK and extension parameter, and every error cause. It
//! also reads and writes capture files ([`capture`]) so that the simulator, the
//! runtime and the CLI share one pcap implementation.
//!
//! # Shape
//!
//! Each structure has a *representation* (`Repr`-style struct or enum) with a
//! `parse` that reads received bytes and an `emit` that writes canonical bytes.
//! Received payloads (DATA user data, cookies, heartbeat info, unknown chunks)
//! are zero-copy [`bytes::Bytes`] views of the received buffer.
//!
//! # No-panic rules
//!
//! * Every read of received bytes goes through a bounds-checked cursor that
//!   returns an [`Error`] naming the offset, structure and field.
//! * No allocation is sized by a length or count read from the wire without
//!   first checking that the bytes are there; every list allocates at most one
//!   element per item actually present.
//! * Unknown chunk, parameter and cause codes are kept as raw bytes with their
//!   code, so the protocol layer can honour the high-order action bits
//!   (RFC 9260 §3.2, §3.2.1) and report them back verbatim.
//!
//! # Padding (RFC 9260 §3.2)
//!
//! Chunks and parameters are padded to four bytes with zeros. A chunk's length
//! field counts the padding of every parameter but the last; emit follows that
//! rule exactly, and parse accepts the final padding whether or not the length
//! counts it, and a last chunk whose padding is missing.

pub mod capture;
pub mod cause;
pub mod chunk;
pub mod crc32c;
mod error;
pub mod header;
pub mod packet;
pub mod param;
mod reader;
pub mod serial;
pub mod types;

pub use cause::ErrorCause;
pub use chunk::Chunk;
pub use error::{Error, ErrorKind, Result};
pub use header::CommonHeader;
pub use packet::Packet;
pub use param::Param;
pub use reader::padded;
pub use serial::{Mid, Ssn, Tsn};
pub use types::{CauseCode, ChunkType, ParamType, UnrecognizedAction};
