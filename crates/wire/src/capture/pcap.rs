//! Reading classic pcap files.
//!
//! Follows the tcpdump/libpcap savefile format (`pcap-savefile(5)`, and the
//! IETF draft "PCAP Capture File Format", draft-ietf-opsawg-pcap):
//!
//! * a 24-byte file header: magic number, major and minor version, two
//!   obsolete fields (time zone, timestamp accuracy), snapshot length, and the
//!   link type (low 16 bits; the high bits may carry FCS information and are
//!   ignored here);
//! * then records of a 16-byte header (seconds, microseconds or nanoseconds,
//!   captured length, original length) followed by the captured bytes.
//!
//! The magic number is written in the byte order of the writer, so reading it
//! gives the byte order of every other field: 0xa1b2c3d4 announces
//! microsecond timestamps, 0xa1b23c4d nanosecond timestamps.

use super::{CaptureError, CaptureErrorKind, CaptureFormat, Endian, Frame, LinkType};
use bytes::Bytes;
use core::time::Duration;

/// Magic number of a pcap file with microsecond timestamps.
pub(crate) const MAGIC_MICROSECONDS: u32 = 0xa1b2_c3d4;
/// Magic number of a pcap file with nanosecond timestamps.
pub(crate) const MAGIC_NANOSECONDS: u32 = 0xa1b2_3c4d;
/// Length of the file header.
pub(crate) const FILE_HEADER_LEN: usize = 24;
/// Length of a record header.
pub(crate) const RECORD_HEADER_LEN: usize = 16;

/// Recognises a pcap magic number in the first four bytes of a file, giving
/// the file's byte order and whether timestamps are in nanoseconds.
pub(crate) fn detect(head: [u8; 4]) -> Option<(Endian, bool)> {
    for endian in [Endian::Little, Endian::Big] {
        match endian.u32(&head, 0) {
            Some(MAGIC_MICROSECONDS) => return Some((endian, false)),
            Some(MAGIC_NANOSECONDS) => return Some((endian, true)),
            _ => {}
        }
    }
    None
}

/// Iterator state over the records of a classic pcap file.
#[derive(Debug)]
pub(crate) struct PcapReader {
    file: Bytes,
    endian: Endian,
    nanosecond: bool,
    link_type: LinkType,
    /// Offset of the next record header; `None` once finished or failed.
    offset: Option<usize>,
    number: u64,
}

impl PcapReader {
    /// Checks the file header of `file`, whose magic number `detect` has
    /// already recognised.
    pub(crate) fn new(file: Bytes, endian: Endian, nanosecond: bool) -> Result<Self, CaptureError> {
        let header = file.get(..FILE_HEADER_LEN).ok_or_else(|| {
            CaptureError::truncated(0, "pcap file header", FILE_HEADER_LEN, file.len())
        })?;
        let field16 = |at| endian.u16(header, at).unwrap_or(0);
        let (major, minor) = (field16(4), field16(6));
        // libpcap reads every 2.x file the same way; 1.x predates the
        // original-length field and nothing newer than 2 exists.
        if major != 2 {
            return Err(CaptureError::new(
                4,
                CaptureErrorKind::UnsupportedVersion {
                    format: "pcap",
                    major,
                    minor,
                },
            ));
        }
        let link = endian.u32(header, 20).unwrap_or(0);
        Ok(PcapReader {
            file,
            endian,
            nanosecond,
            link_type: LinkType((link & 0xffff) as u16),
            offset: Some(FILE_HEADER_LEN),
            number: 0,
        })
    }

    pub(crate) fn format(&self) -> CaptureFormat {
        CaptureFormat::Pcap {
            big_endian: self.endian == Endian::Big,
            nanosecond: self.nanosecond,
            link_type: self.link_type,
        }
    }

    fn record(&mut self, at: usize) -> Result<(Frame, usize), CaptureError> {
        let rest = self.file.len() - at;
        let header = self.file.get(at..at + RECORD_HEADER_LEN).ok_or_else(|| {
            CaptureError::truncated(at, "pcap record header", RECORD_HEADER_LEN, rest)
        })?;
        let field = |i| u64::from(self.endian.u32(header, i).unwrap_or(0));
        let (seconds, fraction) = (field(0), field(4));
        let (captured, original) = (field(8), field(12));
        let data_at = at + RECORD_HEADER_LEN;
        let available = self.file.len() - data_at;
        if captured > available as u64 {
            return Err(CaptureError::new(
                at,
                CaptureErrorKind::Truncated {
                    what: "pcap record data",
                    needed: captured,
                    available: available as u64,
                },
            ));
        }
        // `captured` fits in usize: it is at most the remaining file length.
        let end = data_at + captured as usize;
        // The fraction is normally below one second, but a larger value is
        // simply carried into the seconds (no overflow: both parts fit u32).
        let fraction = if self.nanosecond {
            Duration::from_nanos(fraction)
        } else {
            Duration::from_micros(fraction)
        };
        self.number += 1;
        let frame = Frame {
            number: self.number,
            timestamp: Duration::from_secs(seconds) + fraction,
            link_type: self.link_type,
            data: self.file.slice(data_at..end),
            original_len: original as u32,
        };
        Ok((frame, end))
    }
}

impl Iterator for PcapReader {
    type Item = Result<Frame, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        let at = self.offset.take()?;
        if at >= self.file.len() {
            return None;
        }
        match self.record(at) {
            Ok((frame, next)) => {
                self.offset = Some(next);
                Some(Ok(frame))
            }
            Err(e) => Some(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{CaptureErrorKind, CaptureFormat, LinkType, read};
    use bytes::Bytes;
    use core::time::Duration;

    /// Builds a pcap file by hand from the format description: every field
    /// is written in the requested byte order.
    fn build(big: bool, nano: bool, link: u32, records: &[(u32, u32, &[u8], u32)]) -> Vec<u8> {
        let w32 = |v: &mut Vec<u8>, x: u32| {
            v.extend_from_slice(&if big {
                x.to_be_bytes()
            } else {
                x.to_le_bytes()
            })
        };
        let w16 = |v: &mut Vec<u8>, x: u16| {
            v.extend_from_slice(&if big {
                x.to_be_bytes()
            } else {
                x.to_le_bytes()
            })
        };
        let mut v = Vec::new();
        w32(&mut v, if nano { 0xa1b2_3c4d } else { 0xa1b2_c3d4 });
        w16(&mut v, 2);
        w16(&mut v, 4);
        w32(&mut v, 0); // thiszone
        w32(&mut v, 0); // sigfigs
        w32(&mut v, 65535); // snaplen
        w32(&mut v, link);
        for &(sec, frac, data, orig) in records {
            w32(&mut v, sec);
            w32(&mut v, frac);
            w32(&mut v, data.len() as u32);
            w32(&mut v, orig);
            v.extend_from_slice(data);
        }
        v
    }

    #[test]
    fn little_endian_microseconds_byte_exact() {
        // The header as it appears on disk from a little-endian writer.
        let file = build(
            false,
            false,
            1,
            &[(1_700_000_000, 123_456, b"\x01\x02\x03", 60)],
        );
        assert_eq!(
            &file[..24],
            &[
                0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0,
                0, 0
            ]
        );
        let reader = read(Bytes::from(file)).unwrap();
        assert_eq!(
            reader.format(),
            CaptureFormat::Pcap {
                big_endian: false,
                nanosecond: false,
                link_type: LinkType::ETHERNET
            }
        );
        let frames: Vec<_> = reader.map(Result::unwrap).collect();
        assert_eq!(frames.len(), 1);
        let f = &frames[0];
        assert_eq!(f.number, 1);
        assert_eq!(f.timestamp, Duration::new(1_700_000_000, 123_456_000));
        assert_eq!(f.link_type, LinkType::ETHERNET);
        assert_eq!(&f.data[..], b"\x01\x02\x03");
        assert_eq!(f.original_len, 60);
    }

    #[test]
    fn big_endian_nanoseconds_byte_exact() {
        let file = build(
            true,
            true,
            101,
            &[
                (5, 999_999_999, b"ab", 2),
                (6, 1, b"", 0),
                (7, 0, b"xyz", 1500),
            ],
        );
        assert_eq!(&file[..8], &[0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4]);
        assert_eq!(&file[20..24], &[0, 0, 0, 101]);
        let reader = read(Bytes::from(file)).unwrap();
        assert_eq!(
            reader.format(),
            CaptureFormat::Pcap {
                big_endian: true,
                nanosecond: true,
                link_type: LinkType::RAW
            }
        );
        let frames: Vec<_> = reader.map(Result::unwrap).collect();
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[0].timestamp, Duration::new(5, 999_999_999));
        assert_eq!(frames[1].timestamp, Duration::new(6, 1));
        assert_eq!(frames[1].data.len(), 0);
        assert_eq!(&frames[2].data[..], b"xyz");
        assert_eq!(frames[2].original_len, 1500);
        assert_eq!(
            frames.iter().map(|f| f.number).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
    }

    #[test]
    fn big_endian_microseconds_and_little_endian_nanoseconds() {
        let be = build(true, false, 113, &[(1, 2, b"q", 1)]);
        assert_eq!(&be[..4], &[0xa1, 0xb2, 0xc3, 0xd4]);
        let f = read(Bytes::from(be)).unwrap().next().unwrap().unwrap();
        assert_eq!(f.timestamp, Duration::new(1, 2_000));
        assert_eq!(f.link_type, LinkType::LINUX_SLL);

        let le = build(false, true, 229, &[(1, 2, b"q", 1)]);
        assert_eq!(&le[..4], &[0x4d, 0x3c, 0xb2, 0xa1]);
        let f = read(Bytes::from(le)).unwrap().next().unwrap().unwrap();
        assert_eq!(f.timestamp, Duration::new(1, 2));
        assert_eq!(f.link_type, LinkType::IPV6);
    }

    #[test]
    fn fcs_bits_of_link_type_are_ignored() {
        // Bits 28..31 say "FCS present, 4 bytes"; the link type is the low half.
        let file = build(false, false, 0x1000_0000 | 1 | (1 << 26), &[]);
        let reader = read(Bytes::from(file)).unwrap();
        assert!(matches!(
            reader.format(),
            CaptureFormat::Pcap {
                link_type: LinkType::ETHERNET,
                ..
            }
        ));
    }

    #[test]
    fn frame_is_zero_copy() {
        let file = Bytes::from(build(false, false, 1, &[(0, 0, b"hello", 5)]));
        let f = read(file.clone()).unwrap().next().unwrap().unwrap();
        assert_eq!(f.data.as_ptr(), file[40..].as_ptr());
    }

    #[test]
    fn empty_file_has_no_frames() {
        let file = build(false, false, 1, &[]);
        assert_eq!(read(Bytes::from(file)).unwrap().count(), 0);
    }

    #[test]
    fn truncated_header_and_records() {
        let file = build(false, false, 1, &[(1, 0, b"abcd", 4), (2, 0, b"efgh", 4)]);
        // Short file header.
        let e = read(Bytes::copy_from_slice(&file[..20])).unwrap_err();
        assert!(matches!(e.kind, CaptureErrorKind::Truncated { .. }), "{e}");
        // Truncated record data: one good frame then one error, then the end.
        let mut r = read(Bytes::copy_from_slice(&file[..file.len() - 1])).unwrap();
        assert!(r.next().unwrap().is_ok());
        let e = r.next().unwrap().unwrap_err();
        assert_eq!(e.offset, 44);
        assert_eq!(
            e.kind,
            CaptureErrorKind::Truncated {
                what: "pcap record data",
                needed: 4,
                available: 3
            }
        );
        assert!(r.next().is_none());
        assert!(r.next().is_none());
        // Truncated record header.
        let mut r = read(Bytes::copy_from_slice(&file[..24 + 20 + 5])).unwrap();
        assert!(r.next().unwrap().is_ok());
        let e = r.next().unwrap().unwrap_err();
        assert_eq!(e.offset, 44);
        assert!(e.to_string().contains("pcap record header"), "{e}");
        assert!(r.next().is_none());
    }

    #[test]
    fn huge_captured_length_is_an_error() {
        let mut file = build(false, false, 1, &[(1, 0, b"abcd", 4)]);
        file[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
        let mut r = read(Bytes::from(file)).unwrap();
        assert!(r.next().unwrap().is_err());
        assert!(r.next().is_none());
    }

    #[test]
    fn wrong_version_is_rejected() {
        let mut file = build(false, false, 1, &[]);
        file[4] = 1;
        let e = read(Bytes::from(file)).unwrap_err();
        assert_eq!(
            e.kind,
            CaptureErrorKind::UnsupportedVersion {
                format: "pcap",
                major: 1,
                minor: 4
            }
        );
    }
}
