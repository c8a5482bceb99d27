//! Capture files: reading pcap and pcapng, writing pcap, and finding the SCTP
//! packets inside captured frames.
//!
//! This module owns the capture-file side of the project, shared by the
//! simulator (which records every link), the runtime (`--pcap FILE`) and the
//! `msctp decode` command:
//!
//! * [`read`] autodetects the format from the first four bytes of a file and
//!   returns a [`Reader`], an iterator of [`Frame`]s. Classic pcap is read by
//!   the private `pcap` submodule (the tcpdump/libpcap file format, as
//!   described in `pcap-savefile(5)` and the IETF draft "PCAP Capture File
//!   Format"), pcapng by the private `pcapng` submodule (the IETF draft "PCAP
//!   Next Generation (pcapng) Capture File Format",
//!   draft-ietf-opsawg-pcapng, formerly draft-tuexen-opsawg-pcapng).
//! * [`decap`] finds the SCTP packet inside a frame: link layer, IPv4/IPv6 and,
//!   for UDP encapsulation, the UDP header of RFC 6951.
//! * [`writer`] writes classic pcap files and builds IPv4/IPv6 (and UDP)
//!   packets around SCTP packets so that they can be recorded with real
//!   addresses.
//!
//! # No-panic and allocation rules
//!
//! Reading never panics on any input. Frame data are zero-copy slices of the
//! file's [`Bytes`]; the only allocation that grows with the input is the
//! pcapng interface table, one entry per Interface Description Block actually
//! present in the file. A truncated or malformed record is reported as a
//! [`CaptureError`] naming the byte offset in the file, after which the
//! iterator ends.

use bytes::Bytes;
use core::fmt;
use core::time::Duration;

pub mod decap;
mod pcap;
mod pcapng;
pub mod writer;

pub use decap::{
    Decap, Encapsulation, SCTP_UDP_PORT, SctpDatagram, sctp_in_frame, sctp_in_link,
    sctp_in_link_with_udp_port,
};
pub use writer::{
    BuildError, PcapConfig, PcapWriter, TimestampResolution, ip_packet, sctp_over_ip, sctp_over_udp,
};

/// A link-layer header type, as numbered by the tcpdump.org `LINKTYPE_`
/// registry (the value stored in a pcap global header or a pcapng Interface
/// Description Block).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u16);

impl LinkType {
    /// `LINKTYPE_NULL`: BSD loopback, a 4-byte address family in the byte
    /// order of the capturing host.
    pub const NULL: LinkType = LinkType(0);
    /// `LINKTYPE_ETHERNET`: Ethernet II (and IEEE 802.3) frames.
    pub const ETHERNET: LinkType = LinkType(1);
    /// `LINKTYPE_RAW`: raw IPv4 or IPv6, the version given by the first nibble.
    pub const RAW: LinkType = LinkType(101);
    /// `LINKTYPE_LOOP`: OpenBSD loopback, a 4-byte address family in network
    /// byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// `LINKTYPE_LINUX_SLL`: Linux "cooked" capture, version 1 (16-byte header).
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// `LINKTYPE_IPV4`: raw IPv4.
    pub const IPV4: LinkType = LinkType(228);
    /// `LINKTYPE_IPV6`: raw IPv6.
    pub const IPV6: LinkType = LinkType(229);
    /// `LINKTYPE_LINUX_SLL2`: Linux "cooked" capture, version 2 (20-byte header).
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// The registry name without its `LINKTYPE_` prefix (for example
    /// `"ETHERNET"`), or `None` for a link type this module does not know.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            LinkType::NULL => "NULL",
            LinkType::ETHERNET => "ETHERNET",
            LinkType::RAW => "RAW",
            LinkType::LOOP => "LOOP",
            LinkType::LINUX_SLL => "LINUX_SLL",
            LinkType::IPV4 => "IPV4",
            LinkType::IPV6 => "IPV6",
            LinkType::LINUX_SLL2 => "LINUX_SLL2",
            _ => return None,
        })
    }
}

impl fmt::Debug for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "LinkType::{name}"),
            None => write!(f, "LinkType({})", self.0),
        }
    }
}

impl fmt::Display for LinkType {
    /// The registry name when known (`ETHERNET`), the number otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "link type {}", self.0),
        }
    }
}

/// One captured packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Position of the frame in the file, counting only packet records and
    /// starting at 1, as Wireshark numbers them.
    pub number: u64,
    /// Capture time since the Unix epoch. pcapng Simple Packet Blocks carry no
    /// timestamp; their frames have [`Duration::ZERO`]. A time before the
    /// epoch (possible only through a negative pcapng `if_tsoffset`) is
    /// clamped to zero.
    pub timestamp: Duration,
    /// Link-layer header type of the interface the frame was captured on.
    pub link_type: LinkType,
    /// The captured bytes (possibly fewer than [`Frame::original_len`]), a
    /// zero-copy slice of the file.
    pub data: Bytes,
    /// Length of the packet on the wire.
    pub original_len: u32,
}

/// The format of a capture file, as detected by [`read`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Classic pcap.
    Pcap {
        /// Byte order of the file's headers.
        big_endian: bool,
        /// Nanosecond timestamps (magic 0xa1b23c4d) rather than microseconds.
        nanosecond: bool,
        /// The file's single link type.
        link_type: LinkType,
    },
    /// pcapng (the byte order may change from one section to the next).
    Pcapng,
}

/// What is wrong with a capture file; see [`CaptureError`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureErrorKind {
    /// The first bytes are neither a pcap magic number nor a pcapng Section
    /// Header Block.
    #[error("not a pcap or pcapng file (first bytes {0:02x?})")]
    UnknownFormat(Vec<u8>),
    /// A structure runs past the end of the file (or of its enclosing block).
    #[error("truncated {what}: needs {needed} bytes, {available} available")]
    Truncated {
        /// The structure being read.
        what: &'static str,
        /// Bytes it needs.
        needed: u64,
        /// Bytes that remain.
        available: u64,
    },
    /// A version this reader does not understand.
    #[error("unsupported {format} version {major}.{minor}")]
    UnsupportedVersion {
        /// `"pcap"` or `"pcapng"`.
        format: &'static str,
        /// Major version.
        major: u16,
        /// Minor version.
        minor: u16,
    },
    /// A pcapng Section Header Block whose byte-order magic is not 0x1a2b3c4d
    /// in either byte order.
    #[error("bad pcapng byte-order magic {0:#010x}")]
    BadByteOrderMagic(u32),
    /// A pcapng block total length that is too small, not a multiple of 4, or
    /// different in the block's trailer.
    #[error("bad pcapng block length: {0}")]
    BadBlockLength(String),
    /// A packet block names an interface that the section has not described.
    #[error("packet refers to interface {id}, but the section describes {count}")]
    UnknownInterface {
        /// The interface id in the packet block.
        id: u32,
        /// Number of interfaces described so far in the section.
        count: usize,
    },
    /// Any other inconsistency inside a record.
    #[error("malformed {0}")]
    Malformed(String),
}

/// An error found while reading a capture file: what is wrong, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte offset {offset}")]
pub struct CaptureError {
    /// Byte offset in the file of the record (or field) at fault.
    pub offset: u64,
    /// What is wrong.
    pub kind: CaptureErrorKind,
}

impl CaptureError {
    pub(crate) fn new(offset: usize, kind: CaptureErrorKind) -> Self {
        CaptureError {
            offset: offset as u64,
            kind,
        }
    }

    pub(crate) fn truncated(
        offset: usize,
        what: &'static str,
        needed: usize,
        available: usize,
    ) -> Self {
        Self::new(
            offset,
            CaptureErrorKind::Truncated {
                what,
                needed: needed as u64,
                available: available as u64,
            },
        )
    }
}

/// An iterator over the frames of a capture file, created by [`read`].
///
/// Yields `Ok(frame)` for every packet record in file order and, if the file
/// is malformed or truncated, one `Err` after which it yields nothing more.
#[derive(Debug)]
pub struct Reader {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Pcap(pcap::PcapReader),
    Pcapng(pcapng::PcapngReader),
}

impl Reader {
    /// The detected file format.
    pub fn format(&self) -> CaptureFormat {
        match &self.inner {
            Inner::Pcap(r) => r.format(),
            Inner::Pcapng(_) => CaptureFormat::Pcapng,
        }
    }
}

impl Iterator for Reader {
    type Item = Result<Frame, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            Inner::Pcap(r) => r.next(),
            Inner::Pcapng(r) => r.next(),
        }
    }
}

impl core::iter::FusedIterator for Reader {}

/// Opens a capture file held in memory, detecting classic pcap (either byte
/// order, microsecond or nanosecond magic) or pcapng from its first bytes.
///
/// Fails only if the file header itself is unreadable; errors in later records
/// are reported by the returned iterator.
pub fn read(file: Bytes) -> Result<Reader, CaptureError> {
    let Some(head) = file.get(..4) else {
        return Err(CaptureError::new(
            0,
            CaptureErrorKind::UnknownFormat(file.to_vec()),
        ));
    };
    let head = [head[0], head[1], head[2], head[3]];
    let inner = if let Some((endian, nanosecond)) = pcap::detect(head) {
        Inner::Pcap(pcap::PcapReader::new(file, endian, nanosecond)?)
    } else if head == pcapng::SHB_TYPE_BYTES {
        Inner::Pcapng(pcapng::PcapngReader::new(file)?)
    } else {
        return Err(CaptureError::new(
            0,
            CaptureErrorKind::UnknownFormat(head.to_vec()),
        ));
    };
    Ok(Reader { inner })
}

/// Byte order of a capture file's headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endian {
    Little,
    Big,
}

impl Endian {
    /// Reads a `u16` at `at`, or `None` past the end of `buf`.
    pub(crate) fn u16(self, buf: &[u8], at: usize) -> Option<u16> {
        let b: [u8; 2] = buf.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u16::from_le_bytes(b),
            Endian::Big => u16::from_be_bytes(b),
        })
    }

    /// Reads a `u32` at `at`, or `None` past the end of `buf`.
    pub(crate) fn u32(self, buf: &[u8], at: usize) -> Option<u32> {
        let b: [u8; 4] = buf.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        })
    }

    /// Reads a `u64` at `at`, or `None` past the end of `buf`.
    pub(crate) fn u64(self, buf: &[u8], at: usize) -> Option<u64> {
        let b: [u8; 8] = buf.get(at..at.checked_add(8)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u64::from_le_bytes(b),
            Endian::Big => u64::from_be_bytes(b),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reads every frame (and decapsulates it), stopping at the first error
    /// as callers do; checks the iterator is fused and the frames sane.
    /// Returns the number of frames read.
    fn drain(file: Vec<u8>) -> u64 {
        let len = file.len();
        let Ok(mut reader) = read(Bytes::from(file)) else {
            return 0;
        };
        let mut number = 0;
        for item in reader.by_ref() {
            match item {
                Ok(frame) => {
                    number += 1;
                    assert_eq!(frame.number, number);
                    assert!(frame.data.len() <= len);
                    let _ = sctp_in_frame(&frame);
                }
                Err(e) => assert!(e.offset <= len as u64, "{e}"),
            }
        }
        assert!(reader.next().is_none());
        number
    }

    /// Applies a few byte edits and a cut to a well-formed file.
    fn damage(mut file: Vec<u8>, edits: Vec<(usize, u8)>, cut: Option<usize>) -> Vec<u8> {
        for (at, byte) in edits {
            let len = file.len();
            file[at % len] = byte;
        }
        if let Some(cut) = cut {
            file.truncate(cut % (file.len() + 1));
        }
        file
    }

    /// One pcapng block, described loosely enough to cover every field.
    #[derive(Debug, Clone)]
    enum TestBlock {
        Section,
        Interface {
            link: u16,
            snaplen: u32,
            options: Vec<(u16, Vec<u8>)>,
        },
        Enhanced {
            interface: u32,
            ts: u64,
            data: Vec<u8>,
            original: u32,
        },
        Obsolete {
            interface: u16,
            ts: u64,
            data: Vec<u8>,
        },
        Simple {
            data: Vec<u8>,
            original: u32,
        },
        Other {
            kind: u32,
            body: Vec<u8>,
        },
    }

    fn test_interface() -> impl Strategy<Value = TestBlock> {
        // Mostly well-formed timestamp options, sometimes anything.
        let option = prop_oneof![
            prop::collection::vec(any::<u8>(), 1..=1).prop_map(|v| (9u16, v)),
            prop::collection::vec(any::<u8>(), 8..=8).prop_map(|v| (14u16, v)),
            (
                prop::sample::select(vec![0u16, 1, 2, 9, 14, 300]),
                prop::collection::vec(any::<u8>(), 0..10),
            ),
        ];
        (
            prop::sample::select(vec![0u16, 1, 101, 113, 228, 229, 276]),
            prop::sample::select(vec![0u32, 4, 65535]),
            prop::collection::vec(option, 0..3),
        )
            .prop_map(|(link, snaplen, options)| TestBlock::Interface {
                link,
                snaplen,
                options,
            })
    }

    fn test_block() -> impl Strategy<Value = TestBlock> {
        let data = || prop::collection::vec(any::<u8>(), 0..40);
        prop_oneof![
            1 => Just(TestBlock::Section),
            2 => test_interface(),
            4 => (0u32..2, any::<u64>(), data(), any::<u32>()).prop_map(
                |(interface, ts, data, original)| TestBlock::Enhanced {
                    interface,
                    ts,
                    data,
                    original
                }
            ),
            1 => (0u16..2, any::<u64>(), data()).prop_map(|(interface, ts, data)| {
                TestBlock::Obsolete { interface, ts, data }
            }),
            2 => (data(), any::<u32>()).prop_map(|(data, original)| TestBlock::Simple { data, original }),
            1 => (any::<u32>(), data()).prop_map(|(kind, body)| TestBlock::Other { kind, body }),
        ]
    }

    /// Writes `blocks` after a first Section Header Block, in one byte order.
    fn pcapng_file(little: bool, blocks: &[TestBlock]) -> Vec<u8> {
        let u16b = |v: u16| {
            if little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            }
        };
        let u32b = |v: u32| {
            if little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            }
        };
        let mut file = Vec::new();
        let mut put = |kind: u32, body: &[u8]| {
            let total = (12 + body.len().next_multiple_of(4)) as u32;
            file.extend_from_slice(&u32b(kind));
            file.extend_from_slice(&u32b(total));
            file.extend_from_slice(body);
            file.resize(file.len() + body.len().next_multiple_of(4) - body.len(), 0);
            file.extend_from_slice(&u32b(total));
        };
        let mut shb = u32b(0x1a2b_3c4d).to_vec();
        shb.extend_from_slice(&u16b(1));
        shb.extend_from_slice(&u16b(0));
        shb.extend_from_slice(&[0xff; 8]);
        put(0x0a0d_0d0a, &shb);
        for b in blocks {
            let mut body = Vec::new();
            match b {
                TestBlock::Section => put(0x0a0d_0d0a, &shb),
                TestBlock::Interface {
                    link,
                    snaplen,
                    options,
                } => {
                    body.extend_from_slice(&u16b(*link));
                    body.extend_from_slice(&[0, 0]);
                    body.extend_from_slice(&u32b(*snaplen));
                    for (code, value) in options {
                        body.extend_from_slice(&u16b(*code));
                        body.extend_from_slice(&u16b(value.len() as u16));
                        body.extend_from_slice(value);
                        body.resize(body.len().next_multiple_of(4), 0);
                    }
                    put(1, &body);
                }
                TestBlock::Enhanced {
                    interface,
                    ts,
                    data,
                    original,
                } => {
                    body.extend_from_slice(&u32b(*interface));
                    body.extend_from_slice(&u32b((ts >> 32) as u32));
                    body.extend_from_slice(&u32b(*ts as u32));
                    body.extend_from_slice(&u32b(data.len() as u32));
                    body.extend_from_slice(&u32b(*original));
                    body.extend_from_slice(data);
                    put(6, &body);
                }
                TestBlock::Obsolete {
                    interface,
                    ts,
                    data,
                } => {
                    body.extend_from_slice(&u16b(*interface));
                    body.extend_from_slice(&u16b(0));
                    body.extend_from_slice(&u32b((ts >> 32) as u32));
                    body.extend_from_slice(&u32b(*ts as u32));
                    body.extend_from_slice(&u32b(data.len() as u32));
                    body.extend_from_slice(&u32b(data.len() as u32));
                    body.extend_from_slice(data);
                    put(2, &body);
                }
                TestBlock::Simple { data, original } => {
                    body.extend_from_slice(&u32b(*original));
                    body.extend_from_slice(data);
                    put(3, &body);
                }
                TestBlock::Other { kind, body } => put(*kind, body),
            }
        }
        file
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..256)) {
            drain(data);
        }

        /// Well-formed pcap files (any magic, any link type), then damaged.
        #[test]
        fn arbitrary_pcap_files_never_panic(
            big in any::<bool>(),
            nano in any::<bool>(),
            link in prop::sample::select(vec![0u32, 1, 101, 113, 228, 229, 276, 0x1400_0001]),
            records in prop::collection::vec(
                (any::<u32>(), any::<u32>(), prop::collection::vec(any::<u8>(), 0..64), any::<u32>()),
                0..6,
            ),
            edits in prop::collection::vec((any::<usize>(), any::<u8>()), 0..3),
            cut in prop::option::of(any::<usize>()),
        ) {
            let u32b = |v: u32| if big { v.to_be_bytes() } else { v.to_le_bytes() };
            let mut file = u32b(if nano { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }).to_vec();
            file.extend_from_slice(&if big { [0, 2, 0, 4] } else { [2, 0, 4, 0] });
            file.extend_from_slice(&[0; 8]);
            file.extend_from_slice(&u32b(65535));
            file.extend_from_slice(&u32b(link));
            for (sec, frac, data, orig) in &records {
                file.extend_from_slice(&u32b(*sec));
                file.extend_from_slice(&u32b(*frac));
                file.extend_from_slice(&u32b(data.len() as u32));
                file.extend_from_slice(&u32b(*orig));
                file.extend_from_slice(data);
            }
            let undamaged = edits.is_empty() && cut.is_none();
            let frames = drain(damage(file, edits, cut));
            if undamaged {
                prop_assert_eq!(frames, records.len() as u64);
            }
        }

        /// Well-framed pcapng blocks of every kind, then damaged.
        #[test]
        fn arbitrary_pcapng_files_never_panic(
            little in any::<bool>(),
            first in test_interface(),
            mut blocks in prop::collection::vec(test_block(), 0..10),
            edits in prop::collection::vec((any::<usize>(), any::<u8>()), 0..3),
            cut in prop::option::of(any::<usize>()),
        ) {
            blocks.insert(0, first);
            drain(damage(pcapng_file(little, &blocks), edits, cut));
        }
    }

    #[test]
    fn link_type_names() {
        assert_eq!(LinkType::ETHERNET.name(), Some("ETHERNET"));
        assert_eq!(LinkType::LINUX_SLL2.name(), Some("LINUX_SLL2"));
        assert_eq!(LinkType(147).name(), None);
        assert_eq!(LinkType::RAW.to_string(), "RAW");
        assert_eq!(LinkType(147).to_string(), "link type 147");
        assert_eq!(format!("{:?}", LinkType::IPV6), "LinkType::IPV6");
    }

    #[test]
    fn unknown_and_short_files() {
        let e = read(Bytes::from_static(b"GIF89a")).unwrap_err();
        assert_eq!(e.offset, 0);
        assert!(matches!(e.kind, CaptureErrorKind::UnknownFormat(_)));
        assert!(e.to_string().contains("not a pcap or pcapng file"), "{e}");
        assert!(read(Bytes::new()).is_err());
        assert!(read(Bytes::from_static(&[0xd4, 0xc3])).is_err());
    }

    #[test]
    fn error_display_names_offset() {
        let e = CaptureError::truncated(40, "pcap record header", 16, 3);
        assert_eq!(
            e.to_string(),
            "truncated pcap record header: needs 16 bytes, 3 available at byte offset 40"
        );
    }

    #[test]
    fn endian_reads_are_bounds_checked() {
        let b = [1, 2, 3, 4];
        assert_eq!(Endian::Big.u16(&b, 2), Some(0x0304));
        assert_eq!(Endian::Little.u32(&b, 0), Some(0x0403_0201));
        assert_eq!(Endian::Little.u32(&b, 1), None);
        assert_eq!(Endian::Big.u64(&b, 0), None);
        assert_eq!(Endian::Big.u16(&b, usize::MAX), None);
    }
}
