//! Reading pcapng files.
//!
//! Follows the IETF draft "PCAP Next Generation (pcapng) Capture File Format"
//! (draft-ietf-opsawg-pcapng, formerly draft-tuexen-opsawg-pcapng):
//!
//! * a file is a sequence of blocks, each `type (4) | total length (4) |
//!   body | total length (4)`, the total length a multiple of 4;
//! * a Section Header Block (type 0x0a0d0d0a, a palindrome so it reads the
//!   same in both byte orders) starts every section; its byte-order magic
//!   0x1a2b3c4d gives the byte order of every block of the section, and each
//!   section has its own interfaces;
//! * an Interface Description Block (type 1) describes the next interface of
//!   the section: link type, snapshot length, and options, of which this
//!   reader honours `if_tsresol` (code 9: units of 10^-n seconds when the high
//!   bit is clear, 2^-n when it is set; microseconds by default) and
//!   `if_tsoffset` (code 14: seconds added to every timestamp);
//! * Enhanced Packet Blocks (type 6), Simple Packet Blocks (type 3, always
//!   interface 0, no timestamp) and the obsolete Packet Blocks (type 2) carry
//!   the frames;
//! * every other block type (name resolution, interface statistics,
//!   decryption secrets, custom blocks, ...) is skipped by its length.

use super::{CaptureError, CaptureErrorKind, Endian, Frame, LinkType};
use bytes::Bytes;
use core::time::Duration;

/// Block type of a Section Header Block.
pub(crate) const SHB_TYPE: u32 = 0x0a0d_0d0a;
/// The Section Header Block type as it appears on disk (either byte order).
pub(crate) const SHB_TYPE_BYTES: [u8; 4] = SHB_TYPE.to_be_bytes();
/// The byte-order magic of a Section Header Block.
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;
/// Interface Description Block.
const IDB_TYPE: u32 = 1;
/// Obsolete Packet Block.
const PB_TYPE: u32 = 2;
/// Simple Packet Block.
const SPB_TYPE: u32 = 3;
/// Enhanced Packet Block.
const EPB_TYPE: u32 = 6;
/// Option code ending an option list.
const OPT_ENDOFOPT: u16 = 0;
/// Interface option: timestamp resolution.
const IF_TSRESOL: u16 = 9;
/// Interface option: timestamp offset in seconds.
const IF_TSOFFSET: u16 = 14;
/// Block header (type, length) plus trailer (length).
const BLOCK_OVERHEAD: usize = 12;

/// Units of a pcapng timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resolution {
    /// 10^-n seconds.
    Decimal(u8),
    /// 2^-n seconds.
    Binary(u8),
}

impl Resolution {
    /// Decodes the one-byte value of `if_tsresol`.
    fn from_option(v: u8) -> Self {
        if v & 0x80 == 0 {
            Resolution::Decimal(v)
        } else {
            Resolution::Binary(v & 0x7f)
        }
    }

    /// Splits a timestamp in these units into whole seconds and nanoseconds
    /// (always below one second). Exact for resolutions up to nanoseconds;
    /// finer ones are truncated to the nanosecond.
    fn split(self, ts: u64) -> (u64, u32) {
        match self {
            Resolution::Decimal(n) => {
                let Some(unit) = 10u64.checked_pow(u32::from(n)) else {
                    // A unit beyond 10^19 makes every u64 timestamp shorter
                    // than a second; only its nanoseconds can be non-zero.
                    let nanos = 10u64.checked_pow(u32::from(n) - 9).map_or(0, |d| ts / d);
                    return (0, nanos as u32);
                };
                let (secs, frac) = (ts / unit, ts % unit);
                let nanos = if n <= 9 {
                    frac * 10u64.pow(9 - u32::from(n))
                } else {
                    frac / 10u64.pow(u32::from(n) - 9)
                };
                (secs, nanos as u32)
            }
            Resolution::Binary(n) => {
                let secs = if n >= 64 { 0 } else { ts >> n };
                let frac = u128::from(ts) & ((1u128 << n) - 1);
                let nanos = (frac * 1_000_000_000) >> n;
                (secs, nanos as u32)
            }
        }
    }
}

/// What the reader remembers of an Interface Description Block.
#[derive(Clone, Copy, Debug)]
struct Interface {
    link_type: LinkType,
    snaplen: u32,
    resolution: Resolution,
    offset_seconds: i64,
}

impl Interface {
    fn timestamp(&self, ts: u64) -> Duration {
        let (secs, nanos) = self.resolution.split(ts);
        let secs = i128::from(secs) + i128::from(self.offset_seconds);
        if secs < 0 {
            return Duration::ZERO;
        }
        let secs = u64::try_from(secs).unwrap_or(u64::MAX);
        Duration::from_secs(secs).saturating_add(Duration::from_nanos(u64::from(nanos)))
    }
}

/// Iterator state over the blocks of a pcapng file.
#[derive(Debug)]
pub(crate) struct PcapngReader {
    file: Bytes,
    /// Byte order of the current section.
    endian: Endian,
    /// Interfaces of the current section, in description order (one entry per
    /// Interface Description Block present in the file).
    interfaces: Vec<Interface>,
    /// Offset of the next block; `None` once finished or failed.
    offset: Option<usize>,
    number: u64,
}

/// A block's position, type and body.
struct Block {
    at: usize,
    kind: u32,
    /// Offset of the body in the file.
    body_at: usize,
    body: Bytes,
}

impl PcapngReader {
    /// Reads the first Section Header Block of `file`, whose first four bytes
    /// are known to be the SHB type.
    pub(crate) fn new(file: Bytes) -> Result<Self, CaptureError> {
        let mut reader = PcapngReader {
            file,
            endian: Endian::Little,
            interfaces: Vec::new(),
            offset: None,
            number: 0,
        };
        let block = reader.block(0)?;
        reader.section_header(&block)?;
        reader.offset = Some(block.body_at + block.body.len() + 4);
        Ok(reader)
    }

    /// Reads the framing of the block at `at` (which must be inside the file),
    /// switching byte order first if it is a Section Header Block.
    fn block(&mut self, at: usize) -> Result<Block, CaptureError> {
        let rest = &self.file[at..];
        if rest.len() < 8 {
            return Err(CaptureError::truncated(
                at,
                "pcapng block header",
                8,
                rest.len(),
            ));
        }
        let is_shb = rest[..4] == SHB_TYPE_BYTES;
        if is_shb {
            let magic = rest.get(8..12).ok_or_else(|| {
                CaptureError::truncated(at, "pcapng section header block", 12, rest.len())
            })?;
            self.endian = if Endian::Little.u32(magic, 0) == Some(BYTE_ORDER_MAGIC) {
                Endian::Little
            } else if Endian::Big.u32(magic, 0) == Some(BYTE_ORDER_MAGIC) {
                Endian::Big
            } else {
                let m = Endian::Big.u32(magic, 0).unwrap_or(0);
                return Err(CaptureError::new(
                    at + 8,
                    CaptureErrorKind::BadByteOrderMagic(m),
                ));
            };
        }
        let kind = self.endian.u32(rest, 0).unwrap_or(0);
        let total = self.endian.u32(rest, 4).unwrap_or(0) as usize;
        if total < BLOCK_OVERHEAD || total % 4 != 0 {
            return Err(CaptureError::new(
                at,
                CaptureErrorKind::BadBlockLength(format!(
                    "block type {kind:#x} has total length {total}, \
                     which is not a multiple of 4 of at least 12"
                )),
            ));
        }
        if total > rest.len() {
            return Err(CaptureError::truncated(
                at,
                "pcapng block",
                total,
                rest.len(),
            ));
        }
        let trailer = self.endian.u32(rest, total - 4).unwrap_or(0) as usize;
        if trailer != total {
            return Err(CaptureError::new(
                at + total - 4,
                CaptureErrorKind::BadBlockLength(format!(
                    "block type {kind:#x} starts with total length {total} \
                     but ends with {trailer}"
                )),
            ));
        }
        Ok(Block {
            at,
            kind,
            body_at: at + 8,
            body: self.file.slice(at + 8..at + total - 4),
        })
    }

    /// Starts a new section.
    fn section_header(&mut self, block: &Block) -> Result<(), CaptureError> {
        // Body: byte-order magic (4), major (2), minor (2), section length (8).
        if block.body.len() < 16 {
            return Err(CaptureError::truncated(
                block.at,
                "pcapng section header block",
                BLOCK_OVERHEAD + 16,
                BLOCK_OVERHEAD + block.body.len(),
            ));
        }
        let major = self.endian.u16(&block.body, 4).unwrap_or(0);
        let minor = self.endian.u16(&block.body, 6).unwrap_or(0);
        if major != 1 {
            return Err(CaptureError::new(
                block.body_at + 4,
                CaptureErrorKind::UnsupportedVersion {
                    format: "pcapng",
                    major,
                    minor,
                },
            ));
        }
        self.interfaces.clear();
        Ok(())
    }

    fn interface_description(&mut self, block: &Block) -> Result<(), CaptureError> {
        // Body: link type (2), reserved (2), snaplen (4), options.
        let body = &block.body;
        if body.len() < 8 {
            return Err(CaptureError::truncated(
                block.at,
                "pcapng interface description block",
                BLOCK_OVERHEAD + 8,
                BLOCK_OVERHEAD + body.len(),
            ));
        }
        let mut interface = Interface {
            link_type: LinkType(self.endian.u16(body, 0).unwrap_or(0)),
            snaplen: self.endian.u32(body, 4).unwrap_or(0),
            resolution: Resolution::Decimal(6),
            offset_seconds: 0,
        };
        let mut pos = 8;
        while pos + 4 <= body.len() {
            let code = self.endian.u16(body, pos).unwrap_or(0);
            let len = usize::from(self.endian.u16(body, pos + 2).unwrap_or(0));
            if code == OPT_ENDOFOPT {
                break;
            }
            let value = body.get(pos + 4..pos + 4 + len).ok_or_else(|| {
                CaptureError::new(
                    block.body_at + pos,
                    CaptureErrorKind::Malformed(format!(
                        "pcapng interface option {code}: length {len} runs past its block"
                    )),
                )
            })?;
            let bad_length = |expected: usize| {
                CaptureError::new(
                    block.body_at + pos,
                    CaptureErrorKind::Malformed(format!(
                        "pcapng interface option {code}: length {len}, expected {expected}"
                    )),
                )
            };
            match code {
                IF_TSRESOL => {
                    let &[v] = value else {
                        return Err(bad_length(1));
                    };
                    interface.resolution = Resolution::from_option(v);
                }
                IF_TSOFFSET => {
                    let v = match self.endian.u64(value, 0) {
                        Some(v) if len == 8 => v,
                        _ => return Err(bad_length(8)),
                    };
                    // The option is a signed 64-bit number of seconds.
                    interface.offset_seconds = v as i64;
                }
                _ => {}
            }
            // Values are padded to 32 bits.
            pos += 4 + len.next_multiple_of(4);
        }
        self.interfaces.push(interface);
        Ok(())
    }

    fn interface(&self, block: &Block, id: u32) -> Result<Interface, CaptureError> {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.interfaces.get(i))
            .copied()
            .ok_or_else(|| {
                CaptureError::new(
                    block.body_at,
                    CaptureErrorKind::UnknownInterface {
                        id,
                        count: self.interfaces.len(),
                    },
                )
            })
    }

    /// Builds the frame of an Enhanced (`obsolete == false`) or obsolete
    /// Packet Block: both have a 20-byte fixed part before the data.
    fn packet(&mut self, block: &Block, obsolete: bool) -> Result<Frame, CaptureError> {
        let body = &block.body;
        let what = if obsolete {
            "pcapng packet block"
        } else {
            "pcapng enhanced packet block"
        };
        if body.len() < 20 {
            return Err(CaptureError::truncated(
                block.at,
                what,
                BLOCK_OVERHEAD + 20,
                BLOCK_OVERHEAD + body.len(),
            ));
        }
        let e = self.endian;
        let id = if obsolete {
            u32::from(e.u16(body, 0).unwrap_or(0))
        } else {
            e.u32(body, 0).unwrap_or(0)
        };
        let interface = self.interface(block, id)?;
        let high = u64::from(e.u32(body, 4).unwrap_or(0));
        let low = u64::from(e.u32(body, 8).unwrap_or(0));
        let captured = e.u32(body, 12).unwrap_or(0) as usize;
        let original = e.u32(body, 16).unwrap_or(0);
        let data = 20usize
            .checked_add(captured)
            .and_then(|end| body.get(20..end))
            .ok_or_else(|| {
                CaptureError::new(
                    block.at,
                    CaptureErrorKind::Truncated {
                        what,
                        needed: captured as u64,
                        available: (body.len() - 20) as u64,
                    },
                )
            })?;
        self.number += 1;
        Ok(Frame {
            number: self.number,
            timestamp: interface.timestamp(high << 32 | low),
            link_type: interface.link_type,
            data: body.slice_ref(data),
            original_len: original,
        })
    }

    fn simple_packet(&mut self, block: &Block) -> Result<Frame, CaptureError> {
        let body = &block.body;
        if body.len() < 4 {
            return Err(CaptureError::truncated(
                block.at,
                "pcapng simple packet block",
                BLOCK_OVERHEAD + 4,
                BLOCK_OVERHEAD + body.len(),
            ));
        }
        let interface = self.interface(block, 0)?;
        let original = self.endian.u32(body, 0).unwrap_or(0);
        // The captured length is not stored: it is the original length cut to
        // the interface's snapshot length, and the data fill the body up to
        // the 32-bit padding.
        let mut captured = (body.len() - 4).min(original as usize);
        if interface.snaplen != 0 {
            captured = captured.min(interface.snaplen as usize);
        }
        self.number += 1;
        Ok(Frame {
            number: self.number,
            timestamp: Duration::ZERO,
            link_type: interface.link_type,
            data: body.slice(4..4 + captured),
            original_len: original,
        })
    }

    /// Reads blocks from `at` until one yields a frame, returning it with the
    /// offset of the following block, or `None` at the end of the file.
    fn next_frame(&mut self, mut at: usize) -> Result<Option<(Frame, usize)>, CaptureError> {
        while at < self.file.len() {
            let block = self.block(at)?;
            let next = block.body_at + block.body.len() + 4;
            let frame = match block.kind {
                SHB_TYPE => {
                    self.section_header(&block)?;
                    None
                }
                IDB_TYPE => {
                    self.interface_description(&block)?;
                    None
                }
                EPB_TYPE => Some(self.packet(&block, false)?),
                PB_TYPE => Some(self.packet(&block, true)?),
                SPB_TYPE => Some(self.simple_packet(&block)?),
                _ => None,
            };
            if let Some(frame) = frame {
                return Ok(Some((frame, next)));
            }
            at = next;
        }
        Ok(None)
    }
}

impl Iterator for PcapngReader {
    type Item = Result<Frame, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        let at = self.offset.take()?;
        match self.next_frame(at) {
            Ok(Some((frame, next))) => {
                self.offset = Some(next);
                Some(Ok(frame))
            }
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{CaptureErrorKind, CaptureFormat, Frame, LinkType, read};
    use super::Resolution;
    use bytes::Bytes;
    use core::time::Duration;

    /// Writes pcapng blocks by hand, following the draft's block layouts, in
    /// one byte order.
    struct Builder {
        big: bool,
        out: Vec<u8>,
    }

    impl Builder {
        fn new(big: bool) -> Self {
            Builder {
                big,
                out: Vec::new(),
            }
        }
        fn u16(&self, v: u16) -> [u8; 2] {
            if self.big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        }
        fn u32(&self, v: u32) -> [u8; 4] {
            if self.big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        }
        /// Appends a block of `kind` with `body` (padded here to 32 bits).
        fn block(&mut self, kind: u32, body: &[u8]) -> &mut Self {
            let padded = body.len().next_multiple_of(4);
            let total = (12 + padded) as u32;
            self.out.extend_from_slice(&self.u32(kind));
            self.out.extend_from_slice(&self.u32(total));
            self.out.extend_from_slice(body);
            self.out.resize(self.out.len() + padded - body.len(), 0);
            self.out.extend_from_slice(&self.u32(total));
            self
        }
        fn shb(&mut self) -> &mut Self {
            let mut body = Vec::new();
            body.extend_from_slice(&self.u32(0x1a2b_3c4d));
            body.extend_from_slice(&self.u16(1));
            body.extend_from_slice(&self.u16(0));
            body.extend_from_slice(&[0xff; 8]); // section length unknown (-1)
            self.block(0x0a0d_0d0a, &body)
        }
        fn option(&self, body: &mut Vec<u8>, code: u16, value: &[u8]) {
            body.extend_from_slice(&self.u16(code));
            body.extend_from_slice(&self.u16(value.len() as u16));
            body.extend_from_slice(value);
            body.resize(body.len().next_multiple_of(4), 0);
        }
        fn idb(&mut self, link: u16, snaplen: u32, tsresol: Option<u8>) -> &mut Self {
            let mut body = Vec::new();
            body.extend_from_slice(&self.u16(link));
            body.extend_from_slice(&[0, 0]);
            body.extend_from_slice(&self.u32(snaplen));
            self.option(&mut body, 2, b"eth0"); // if_name, ignored
            if let Some(r) = tsresol {
                self.option(&mut body, 9, &[r]);
            }
            self.option(&mut body, 0, &[]);
            self.block(1, &body)
        }
        fn epb(&mut self, iface: u32, ts: u64, data: &[u8], orig: u32) -> &mut Self {
            let mut body = Vec::new();
            body.extend_from_slice(&self.u32(iface));
            body.extend_from_slice(&self.u32((ts >> 32) as u32));
            body.extend_from_slice(&self.u32(ts as u32));
            body.extend_from_slice(&self.u32(data.len() as u32));
            body.extend_from_slice(&self.u32(orig));
            body.extend_from_slice(data);
            body.resize(body.len().next_multiple_of(4), 0);
            self.option(&mut body, 1, b"a comment"); // opt_comment, ignored
            self.option(&mut body, 0, &[]);
            self.block(6, &body)
        }
        fn pb(&mut self, iface: u16, ts: u64, data: &[u8], orig: u32) -> &mut Self {
            let mut body = Vec::new();
            body.extend_from_slice(&self.u16(iface));
            body.extend_from_slice(&self.u16(0)); // drops count
            body.extend_from_slice(&self.u32((ts >> 32) as u32));
            body.extend_from_slice(&self.u32(ts as u32));
            body.extend_from_slice(&self.u32(data.len() as u32));
            body.extend_from_slice(&self.u32(orig));
            body.extend_from_slice(data);
            self.block(2, &body)
        }
        fn spb(&mut self, data: &[u8], orig: u32) -> &mut Self {
            let mut body = Vec::new();
            body.extend_from_slice(&self.u32(orig));
            body.extend_from_slice(data);
            self.block(3, &body)
        }
        fn bytes(&self) -> Bytes {
            Bytes::from(self.out.clone())
        }
    }

    fn frames(file: Bytes) -> Vec<Frame> {
        read(file).unwrap().map(Result::unwrap).collect()
    }

    #[test]
    fn section_header_block_byte_exact() {
        let le = Builder::new(false).shb().bytes();
        assert_eq!(
            &le[..],
            &[
                0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff,
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0
            ]
        );
        let be = Builder::new(true).shb().bytes();
        assert_eq!(
            &be[..12],
            &[0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 28, 0x1a, 0x2b, 0x3c, 0x4d]
        );
        for file in [le, be] {
            let r = read(file).unwrap();
            assert_eq!(r.format(), CaptureFormat::Pcapng);
            assert_eq!(r.count(), 0);
        }
    }

    #[test]
    fn two_interfaces_epb_spb_unknown_block() {
        for big in [false, true] {
            let mut b = Builder::new(big);
            b.shb()
                // Interface 0: Ethernet, default microseconds, snaplen 4.
                .idb(1, 4, None)
                // Interface 1: raw IP, nanoseconds (10^-9).
                .idb(101, 0, Some(9))
                // A Name Resolution Block (type 4), skipped.
                .block(4, &[0, 0, 0, 0])
                // A block type nobody knows, skipped.
                .block(0x0bad_cafe, b"whatever")
                .epb(0, 1_700_000_000_123_456, b"\xaa\xbb\xcc", 3)
                .epb(1, 1_700_000_000_000_000_001, b"\x45\x00", 1500)
                // SPB: interface 0, whose snaplen (4) cuts the 6 bytes present.
                .spb(b"\x01\x02\x03\x04\x05\x06", 100)
                .pb(1, 2_000_000_000, b"\x60", 1);
            let f = frames(b.bytes());
            assert_eq!(f.len(), 4, "big endian: {big}");
            assert_eq!(f[0].number, 1);
            assert_eq!(f[0].link_type, LinkType::ETHERNET);
            assert_eq!(f[0].timestamp, Duration::new(1_700_000_000, 123_456_000));
            assert_eq!(&f[0].data[..], b"\xaa\xbb\xcc");
            assert_eq!(f[0].original_len, 3);
            assert_eq!(f[1].number, 2);
            assert_eq!(f[1].link_type, LinkType::RAW);
            assert_eq!(f[1].timestamp, Duration::new(1_700_000_000, 1));
            assert_eq!(&f[1].data[..], b"\x45\x00");
            assert_eq!(f[1].original_len, 1500);
            assert_eq!(f[2].number, 3);
            assert_eq!(f[2].link_type, LinkType::ETHERNET);
            assert_eq!(f[2].timestamp, Duration::ZERO);
            assert_eq!(&f[2].data[..], b"\x01\x02\x03\x04");
            assert_eq!(f[2].original_len, 100);
            assert_eq!(f[3].number, 4);
            assert_eq!(f[3].link_type, LinkType::RAW);
            assert_eq!(f[3].timestamp, Duration::new(2, 0));
            assert_eq!(&f[3].data[..], b"\x60");
        }
    }

    #[test]
    fn epb_byte_exact_layout() {
        let mut b = Builder::new(false);
        b.shb().idb(228, 65535, Some(0x80 | 20));
        let start = b.out.len();
        // 2^-20 s units: 3.5 s = 3.5 * 2^20 = 3670016.
        b.out.extend_from_slice(&[
            6, 0, 0, 0, // type EPB
            36, 0, 0, 0, // total length
            0, 0, 0, 0, // interface 0
            0, 0, 0, 0, // timestamp high
            0x00, 0x00, 0x38, 0x00, // timestamp low = 0x380000
            3, 0, 0, 0, // captured length
            9, 0, 0, 0, // original length
            0x45, 0x46, 0x47, 0, // data + 1 byte padding
            36, 0, 0, 0, // total length
        ]);
        assert_eq!(b.out.len() - start, 36);
        let f = frames(b.bytes());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].link_type, LinkType::IPV4);
        assert_eq!(f[0].timestamp, Duration::from_millis(3500));
        assert_eq!(&f[0].data[..], b"\x45\x46\x47");
        assert_eq!(f[0].original_len, 9);
    }

    #[test]
    fn several_sections_with_different_byte_orders() {
        let mut le = Builder::new(false);
        le.shb().idb(1, 0, None).epb(0, 1_000_000, b"A", 1);
        let mut be = Builder::new(true);
        // New section: interfaces restart; interface 0 is now SLL2.
        be.shb().idb(276, 0, Some(3)).epb(0, 2_500, b"B", 1);
        let mut file = le.out.clone();
        file.extend_from_slice(&be.out);
        let f = frames(Bytes::from(file));
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].link_type, f[0].timestamp),
            (LinkType::ETHERNET, Duration::from_secs(1))
        );
        assert_eq!(
            (f[1].link_type, f[1].timestamp, f[1].number),
            (LinkType::LINUX_SLL2, Duration::from_millis(2500), 2)
        );
    }

    #[test]
    fn new_section_forgets_interfaces() {
        let mut b = Builder::new(false);
        b.shb().idb(1, 0, None).shb().epb(0, 0, b"x", 1);
        let mut r = read(b.bytes()).unwrap();
        let e = r.next().unwrap().unwrap_err();
        assert_eq!(
            e.kind,
            CaptureErrorKind::UnknownInterface { id: 0, count: 0 }
        );
        // SHB (28) + IDB (32: 8 fixed, if_name 8, end of options 4) + SHB.
        assert_eq!(e.offset, 28 + 32 + 28 + 8);
        assert!(r.next().is_none());
    }

    #[test]
    fn if_tsoffset_is_added() {
        let mut b = Builder::new(true);
        b.shb();
        let mut body = Vec::new();
        body.extend_from_slice(&b.u16(1));
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&b.u32(0));
        b.option(&mut body, 14, &100i64.to_be_bytes());
        b.option(&mut body, 9, &[0]); // whole seconds
        b.block(1, &body).epb(0, 7, b"", 0);
        let f = frames(b.bytes());
        assert_eq!(f[0].timestamp, Duration::from_secs(107));
    }

    #[test]
    fn resolutions() {
        assert_eq!(Resolution::from_option(6), Resolution::Decimal(6));
        assert_eq!(Resolution::from_option(0x8a), Resolution::Binary(10));
        assert_eq!(Resolution::Decimal(6).split(1_500_000), (1, 500_000_000));
        assert_eq!(Resolution::Decimal(0).split(42), (42, 0));
        assert_eq!(Resolution::Decimal(12).split(1_000_000_000_123), (1, 0));
        assert_eq!(Resolution::Decimal(12).split(1_000_000_001_999), (1, 1));
        assert_eq!(Resolution::Binary(1).split(3), (1, 500_000_000));
        assert_eq!(Resolution::Binary(0).split(9), (9, 0));
        assert_eq!(Resolution::Binary(127).split(u64::MAX), (0, 0));
        assert_eq!(Resolution::Binary(64).split(1 << 63), (0, 500_000_000));
        assert_eq!(Resolution::Decimal(127).split(u64::MAX), (0, 0));
        assert_eq!(Resolution::Decimal(20).split(u64::MAX), (0, 184_467_440));
        for r in 0..=255u8 {
            let (_, n) = Resolution::from_option(r).split(u64::MAX);
            assert!(n < 1_000_000_000, "resolution byte {r}");
        }
    }

    #[test]
    fn bad_block_lengths() {
        let mut b = Builder::new(false);
        b.shb().idb(1, 0, None);
        let good = b.out.clone();

        // Not a multiple of 4.
        let mut file = good.clone();
        file.extend_from_slice(&[6, 0, 0, 0, 13, 0, 0, 0, 0, 0, 0, 0, 13]);
        let e = read(Bytes::from(file))
            .unwrap()
            .next()
            .unwrap()
            .unwrap_err();
        assert!(matches!(e.kind, CaptureErrorKind::BadBlockLength(_)), "{e}");
        assert_eq!(e.offset, good.len() as u64);

        // Trailer differs.
        let mut file = good.clone();
        file.extend_from_slice(&[4, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0]);
        let e = read(Bytes::from(file))
            .unwrap()
            .next()
            .unwrap()
            .unwrap_err();
        assert!(e.to_string().contains("ends with 20"), "{e}");

        // Truncated final block.
        let mut b2 = Builder::new(false);
        b2.out = good.clone();
        b2.epb(0, 0, b"abcdefgh", 8);
        let mut file = b2.out.clone();
        file.truncate(file.len() - 5);
        let mut r = read(Bytes::from(file)).unwrap();
        let e = r.next().unwrap().unwrap_err();
        assert!(matches!(e.kind, CaptureErrorKind::Truncated { .. }), "{e}");
        assert!(r.next().is_none());

        // A few stray bytes after the last block.
        let mut file = good.clone();
        file.extend_from_slice(&[1, 2, 3]);
        let e = read(Bytes::from(file))
            .unwrap()
            .next()
            .unwrap()
            .unwrap_err();
        assert!(e.to_string().contains("pcapng block header"), "{e}");
    }

    #[test]
    fn bad_section_headers() {
        let mut file = Builder::new(false).shb().out.clone();
        file[8] = 0x00;
        let e = read(Bytes::from(file)).unwrap_err();
        assert!(
            matches!(e.kind, CaptureErrorKind::BadByteOrderMagic(_)),
            "{e}"
        );
        assert_eq!(e.offset, 8);

        let mut file = Builder::new(false).shb().out.clone();
        file[12] = 2;
        let e = read(Bytes::from(file)).unwrap_err();
        assert!(matches!(
            e.kind,
            CaptureErrorKind::UnsupportedVersion { major: 2, .. }
        ));

        assert!(read(Bytes::from_static(&[0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0])).is_err());
        assert!(
            read(Bytes::from_static(&[
                0x0a, 0x0d, 0x0d, 0x0a, 12, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a
            ]))
            .is_err()
        );
    }

    #[test]
    fn epb_captured_length_past_block() {
        let mut b = Builder::new(false);
        b.shb().idb(1, 0, None);
        let epb = b.out.len();
        b.epb(0, 0, b"abcd", 4);
        // Captured length field: block header (8), interface and timestamp (12).
        let at = epb + 8 + 12;
        b.out[at..at + 4].copy_from_slice(&1000u32.to_le_bytes());
        let e = read(b.bytes()).unwrap().next().unwrap().unwrap_err();
        assert!(
            matches!(e.kind, CaptureErrorKind::Truncated { needed: 1000, .. }),
            "{e}"
        );
    }

    #[test]
    fn overlong_interface_option() {
        let mut b = Builder::new(false);
        b.shb();
        let mut body = Vec::new();
        body.extend_from_slice(&b.u16(1));
        body.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        body.extend_from_slice(&b.u16(9));
        body.extend_from_slice(&b.u16(200));
        body.extend_from_slice(&[6, 0, 0, 0]);
        b.block(1, &body);
        let e = read(b.bytes()).unwrap().next().unwrap().unwrap_err();
        assert!(e.to_string().contains("runs past"), "{e}");
        assert_eq!(e.offset, 28 + 8 + 8);
    }
}
