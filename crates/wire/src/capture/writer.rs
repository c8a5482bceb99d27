//! Writing classic pcap files, and building the IP (and UDP) packets that
//! carry SCTP packets so that they can be recorded with real addresses.
//!
//! [`PcapWriter`] writes the tcpdump/libpcap savefile format
//! (`pcap-savefile(5)`, IETF draft "PCAP Capture File Format"), always in
//! little-endian byte order so that a given run produces the same bytes on
//! every host. Timestamps are in nanoseconds (magic 0xa1b23c4d) unless
//! microseconds are asked for (magic 0xa1b2c3d4); the link type is `RAW`
//! (101, raw IPv4/IPv6) unless configured otherwise.
//!
//! [`ip_packet`], [`sctp_over_ip`] and [`sctp_over_udp`] build packets for
//! that link type: an IPv4 header (RFC 791) with a correct header checksum,
//! TTL 64, DF set and identification 0, or an IPv6 header (RFC 8200) with
//! hop limit 64; for SCTP over UDP (RFC 6951) a UDP header (RFC 768) whose
//! checksum covers the IPv4 or IPv6 pseudo-header (RFC 768, RFC 8200 §8.1).
//! The SCTP bytes are copied as given: their CRC32c is the caller's business
//! (see [`crate::crc32c::fill`]).

use super::LinkType;
use super::pcap::{MAGIC_MICROSECONDS, MAGIC_NANOSECONDS};
use core::time::Duration;
use std::io::{self, Write};
use std::net::IpAddr;

/// Resolution of the timestamps written by a [`PcapWriter`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TimestampResolution {
    /// Microseconds (magic 0xa1b2c3d4), readable by every pcap tool.
    Microsecond,
    /// Nanoseconds (magic 0xa1b23c4d), readable by libpcap ≥ 1.5 and
    /// Wireshark.
    #[default]
    Nanosecond,
}

/// Settings of a [`PcapWriter`], written into the file header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PcapConfig {
    /// Link type of every frame. Default: [`LinkType::RAW`].
    pub link_type: LinkType,
    /// Timestamp resolution. Default: nanoseconds.
    pub resolution: TimestampResolution,
    /// Largest number of bytes stored per frame; longer frames are cut and
    /// keep their full length as original length. Default: 262144, libpcap's
    /// largest snapshot length.
    pub snaplen: u32,
}

impl Default for PcapConfig {
    fn default() -> Self {
        PcapConfig {
            link_type: LinkType::RAW,
            resolution: TimestampResolution::Nanosecond,
            snaplen: 262_144,
        }
    }
}

/// Writes frames to a classic pcap file.
///
/// The file header is written when the writer is created. Every
/// [`PcapWriter::write_frame`] issues two `write_all` calls (record header and
/// data), so wrap unbuffered sinks such as files in a [`std::io::BufWriter`].
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    inner: W,
    config: PcapConfig,
    frames: u64,
}

impl<W: Write> PcapWriter<W> {
    /// Starts a pcap file with the default settings (raw IP, nanoseconds),
    /// writing its header to `inner`.
    pub fn new(inner: W) -> io::Result<Self> {
        Self::with_config(inner, PcapConfig::default())
    }

    /// Starts a pcap file with the given settings, writing its header to
    /// `inner`.
    pub fn with_config(mut inner: W, config: PcapConfig) -> io::Result<Self> {
        let magic = match config.resolution {
            TimestampResolution::Microsecond => MAGIC_MICROSECONDS,
            TimestampResolution::Nanosecond => MAGIC_NANOSECONDS,
        };
        let mut header = [0u8; super::pcap::FILE_HEADER_LEN];
        header[0..4].copy_from_slice(&magic.to_le_bytes());
        header[4..6].copy_from_slice(&2u16.to_le_bytes()); // version 2.4
        header[6..8].copy_from_slice(&4u16.to_le_bytes());
        // 8..16: time zone offset and timestamp accuracy, both zero.
        header[16..20].copy_from_slice(&config.snaplen.to_le_bytes());
        header[20..24].copy_from_slice(&u32::from(config.link_type.0).to_le_bytes());
        inner.write_all(&header)?;
        Ok(PcapWriter {
            inner,
            config,
            frames: 0,
        })
    }

    /// The settings this file was started with.
    pub fn config(&self) -> PcapConfig {
        self.config
    }

    /// Appends one frame captured at `timestamp` (since the Unix epoch).
    ///
    /// Data longer than the snapshot length are cut to it. Fails with
    /// [`io::ErrorKind::InvalidInput`], writing nothing, when the timestamp's
    /// seconds do not fit the format's 32 bits (after February 2106).
    pub fn write_frame(&mut self, timestamp: Duration, data: &[u8]) -> io::Result<()> {
        let seconds = u32::try_from(timestamp.as_secs()).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("timestamp {timestamp:?} does not fit a pcap file"),
            )
        })?;
        let fraction = match self.config.resolution {
            TimestampResolution::Microsecond => timestamp.subsec_micros(),
            TimestampResolution::Nanosecond => timestamp.subsec_nanos(),
        };
        let original = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let captured = original.min(self.config.snaplen);
        let mut header = [0u8; super::pcap::RECORD_HEADER_LEN];
        header[0..4].copy_from_slice(&seconds.to_le_bytes());
        header[4..8].copy_from_slice(&fraction.to_le_bytes());
        header[8..12].copy_from_slice(&captured.to_le_bytes());
        header[12..16].copy_from_slice(&original.to_le_bytes());
        self.inner.write_all(&header)?;
        self.inner.write_all(&data[..captured as usize])?;
        self.frames += 1;
        Ok(())
    }

    /// Number of frames written so far.
    pub fn frames_written(&self) -> u64 {
        self.frames
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The underlying writer, mutably (writing to it directly corrupts the
    /// file).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Returns the underlying writer, without flushing it.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

/// Why a packet could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// One address is IPv4 and the other IPv6 (IPv4-mapped IPv6 addresses
    /// are not converted).
    #[error("source {src} and destination {dst} are not of the same address family")]
    MixedFamilies {
        /// Source address.
        src: IpAddr,
        /// Destination address.
        dst: IpAddr,
    },
    /// The payload does not fit the 16-bit length field of the header.
    #[error("{len}-byte payload too long for one {what} (at most {max} bytes)")]
    TooLong {
        /// `"IPv4 packet"`, `"IPv6 packet"` or `"UDP datagram"`.
        what: &'static str,
        /// Payload length given.
        len: usize,
        /// Largest payload that fits.
        max: usize,
    },
}

/// IP protocol number of SCTP.
const PROTO_SCTP: u8 = 132;
/// IP protocol number of UDP.
const PROTO_UDP: u8 = 17;
/// TTL / hop limit of built packets.
const HOP_LIMIT: u8 = 64;

/// Adds `data` as big-endian 16-bit words (an odd last byte padded with zero)
/// to a one's-complement running sum (RFC 1071).
fn ones_complement_add(mut sum: u32, data: &[u8]) -> u32 {
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        sum = fold(sum + u32::from(u16::from_be_bytes([w[0], w[1]])));
    }
    if let [last] = words.remainder() {
        sum = fold(sum + (u32::from(*last) << 8));
    }
    sum
}

/// Folds the carries of a one's-complement sum back into 16 bits.
fn fold(mut sum: u32) -> u32 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum
}

/// The Internet checksum (RFC 1071) of a running sum: its complement.
fn checksum(sum: u32) -> u16 {
    !(fold(sum) as u16)
}

/// Builds an IP packet from `src` to `dst` carrying `payload` as protocol
/// (IPv6 next header) `protocol`.
///
/// IPv4: 20-byte header, DSCP/ECN 0, identification 0, DF set, TTL 64, and a
/// correct header checksum. IPv6: 40-byte header, traffic class and flow label
/// 0, hop limit 64, no extension headers.
///
/// Fails if the addresses are of different families or the payload does not
/// fit the length field (65515 bytes for IPv4, 65535 for IPv6).
pub fn ip_packet(
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    payload: &[u8],
) -> Result<Vec<u8>, BuildError> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let max = usize::from(u16::MAX) - 20;
            let total = u16::try_from(20 + payload.len())
                .ok()
                .filter(|_| payload.len() <= max)
                .ok_or(BuildError::TooLong {
                    what: "IPv4 packet",
                    len: payload.len(),
                    max,
                })?;
            let mut p = Vec::with_capacity(20 + payload.len());
            p.extend_from_slice(&[0x45, 0]); // version 4, IHL 5; DSCP/ECN 0
            p.extend_from_slice(&total.to_be_bytes());
            p.extend_from_slice(&[0, 0, 0x40, 0]); // identification 0; DF, offset 0
            p.extend_from_slice(&[HOP_LIMIT, protocol, 0, 0]);
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            let sum = checksum(ones_complement_add(0, &p));
            p[10..12].copy_from_slice(&sum.to_be_bytes());
            p.extend_from_slice(payload);
            Ok(p)
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let max = usize::from(u16::MAX);
            let len = u16::try_from(payload.len()).map_err(|_| BuildError::TooLong {
                what: "IPv6 packet",
                len: payload.len(),
                max,
            })?;
            let mut p = Vec::with_capacity(40 + payload.len());
            p.extend_from_slice(&[0x60, 0, 0, 0]); // version 6; class and flow 0
            p.extend_from_slice(&len.to_be_bytes());
            p.extend_from_slice(&[protocol, HOP_LIMIT]);
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            p.extend_from_slice(payload);
            Ok(p)
        }
        _ => Err(BuildError::MixedFamilies { src, dst }),
    }
}

/// Builds an IP packet carrying the SCTP packet `sctp` directly (protocol
/// 132), as a raw-socket transport sends it.
pub fn sctp_over_ip(src: IpAddr, dst: IpAddr, sctp: &[u8]) -> Result<Vec<u8>, BuildError> {
    ip_packet(src, dst, PROTO_SCTP, sctp)
}

/// Builds an IP packet carrying the SCTP packet `sctp` over UDP (RFC 6951)
/// between the given ports, with a correct UDP checksum.
pub fn sctp_over_udp(
    src: IpAddr,
    dst: IpAddr,
    src_port: u16,
    dst_port: u16,
    sctp: &[u8],
) -> Result<Vec<u8>, BuildError> {
    let max = usize::from(u16::MAX) - 8;
    let udp_len = u16::try_from(8 + sctp.len())
        .ok()
        .filter(|_| sctp.len() <= max)
        .ok_or(BuildError::TooLong {
            what: "UDP datagram",
            len: sctp.len(),
            max,
        })?;
    // The pseudo-header: addresses, protocol and UDP length (RFC 768 for
    // IPv4; RFC 8200 §8.1 for IPv6, whose 32-bit length and zero padding sum
    // the same as the IPv4 layout for lengths below 65536).
    let mut sum = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            ones_complement_add(ones_complement_add(0, &s.octets()), &d.octets())
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            ones_complement_add(ones_complement_add(0, &s.octets()), &d.octets())
        }
        _ => return Err(BuildError::MixedFamilies { src, dst }),
    };
    sum = ones_complement_add(sum, &[0, PROTO_UDP]);
    sum = ones_complement_add(sum, &udp_len.to_be_bytes());
    let mut udp = Vec::with_capacity(usize::from(udp_len));
    udp.extend_from_slice(&src_port.to_be_bytes());
    udp.extend_from_slice(&dst_port.to_be_bytes());
    udp.extend_from_slice(&udp_len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(sctp);
    let mut check = checksum(ones_complement_add(sum, &udp));
    // RFC 768: a computed zero is sent as all ones (zero means "none").
    if check == 0 {
        check = 0xffff;
    }
    udp[6..8].copy_from_slice(&check.to_be_bytes());
    ip_packet(src, dst, PROTO_UDP, &udp)
}

#[cfg(test)]
mod tests {
    use super::super::decap::{Decap, Encapsulation, SCTP_UDP_PORT, sctp_in_frame};
    use super::super::{CaptureFormat, read};
    use super::*;
    use bytes::Bytes;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const A4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const B4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2));
    const A6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
    const B6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0xabcd, 2));

    /// A valid SCTP packet: common header (ports 5000 -> 5001, verification
    /// tag 0x01020304) and a COOKIE ACK chunk, with its CRC32c.
    fn cookie_ack() -> Vec<u8> {
        let mut p = vec![
            0x13, 0x88, 0x13, 0x89, 0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0, 0x0b, 0x00, 0x00, 0x04,
        ];
        crate::crc32c::fill(&mut p);
        assert!(crate::crc32c::verify(&p));
        p
    }

    /// Sum of a UDP datagram with its pseudo-header, which must be 0xffff when
    /// its checksum is correct (RFC 768, RFC 1071).
    fn udp_sum(src: IpAddr, dst: IpAddr, udp: &[u8]) -> u32 {
        let mut pseudo = Vec::new();
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                pseudo.extend_from_slice(&s.octets());
                pseudo.extend_from_slice(&d.octets());
                pseudo.extend_from_slice(&[0, 17]);
                pseudo.extend_from_slice(&(udp.len() as u16).to_be_bytes());
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                // RFC 8200 §8.1 layout, written out in full.
                pseudo.extend_from_slice(&s.octets());
                pseudo.extend_from_slice(&d.octets());
                pseudo.extend_from_slice(&(udp.len() as u32).to_be_bytes());
                pseudo.extend_from_slice(&[0, 0, 0, 17]);
            }
            _ => unreachable!(),
        }
        pseudo.extend_from_slice(udp);
        // Independent, naive one's-complement sum.
        let mut sum: u64 = 0;
        for (i, b) in pseudo.iter().enumerate() {
            sum += if i % 2 == 0 {
                u64::from(*b) << 8
            } else {
                u64::from(*b)
            };
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        sum as u32
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
        let sum = ones_complement_add(0, &[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
        assert_eq!(sum, 0xddf2);
        assert_eq!(checksum(sum), !0xddf2);
        assert_eq!(ones_complement_add(0, &[0xab]), 0xab00);
    }

    #[test]
    fn ipv4_header_byte_exact_and_checksum() {
        let p = sctp_over_ip(A4, B4, &cookie_ack()).unwrap();
        assert_eq!(p.len(), 36);
        assert_eq!(
            &p[..10],
            &[0x45, 0x00, 0x00, 36, 0x00, 0x00, 0x40, 0x00, 64, 132]
        );
        assert_eq!(&p[12..20], &[192, 0, 2, 1, 198, 51, 100, 2]);
        assert_eq!(&p[20..], &cookie_ack()[..]);
        // The header, checksum included, sums to 0xffff.
        assert_eq!(ones_complement_add(0, &p[..20]), 0xffff);
        // The worked example of a header checksum (192.168.0.1 ->
        // 192.168.0.199, UDP, total length 115, DF, TTL 64), computed by
        // hand: 4500+0073+0000+4000+4011+c0a8+0001+c0a8+00c7 = 2479c, folded
        // 479e, complemented b861.
        let p = ip_packet(
            Ipv4Addr::new(192, 168, 0, 1).into(),
            Ipv4Addr::new(192, 168, 0, 199).into(),
            17,
            &[0; 95],
        )
        .unwrap();
        assert_eq!(
            &p[..20],
            &[
                0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
                0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7
            ]
        );
    }

    #[test]
    fn ipv6_header_byte_exact() {
        let p = sctp_over_ip(A6, B6, &cookie_ack()).unwrap();
        assert_eq!(p.len(), 56);
        assert_eq!(&p[..8], &[0x60, 0, 0, 0, 0, 16, 132, 64]);
        // 2001:db8::1 and 2001:db8:ffff::abcd:2, written out.
        let mut src = [0u8; 16];
        src[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        src[15] = 1;
        let mut dst = [0u8; 16];
        dst[..6].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff]);
        dst[12..].copy_from_slice(&[0xab, 0xcd, 0, 2]);
        assert_eq!(&p[8..24], &src);
        assert_eq!(&p[24..40], &dst);
        assert_eq!(&p[40..], &cookie_ack()[..]);
    }

    #[test]
    fn udp_checksums_verify() {
        for (src, dst) in [(A4, B4), (A6, B6)] {
            for len in [0usize, 1, 16, 17, 1000] {
                let sctp: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
                let p = sctp_over_udp(src, dst, 49152, SCTP_UDP_PORT, &sctp).unwrap();
                let ip_len = if src.is_ipv4() { 20 } else { 40 };
                let udp = &p[ip_len..];
                assert_eq!(&udp[..4], &[0xc0, 0x00, 0x26, 0xab], "ports");
                assert_eq!(u16::from_be_bytes([udp[4], udp[5]]) as usize, 8 + len);
                assert_ne!(&udp[6..8], &[0, 0]);
                assert_eq!(udp_sum(src, dst, udp), 0xffff, "{src} len {len}");
                if src.is_ipv4() {
                    assert_eq!(ones_complement_add(0, &p[..20]), 0xffff);
                }
            }
        }
    }

    #[test]
    fn udp_checksum_zero_is_sent_as_ones() {
        // Find a payload whose checksum computes to zero: vary two bytes
        // until the sum of everything else is 0xffff.
        let base = sctp_over_udp(A4, B4, 1, 2, &[0, 0]).unwrap();
        let current = u16::from_be_bytes([base[26], base[27]]);
        // Adding `current` to the data changes the complemented sum to zero.
        let p = sctp_over_udp(A4, B4, 1, 2, &current.to_be_bytes()).unwrap();
        assert_eq!(&p[26..28], &[0xff, 0xff]);
        assert_eq!(udp_sum(A4, B4, &p[20..]), 0xffff);
    }

    #[test]
    fn build_errors() {
        assert_eq!(
            sctp_over_ip(A4, B6, &[]),
            Err(BuildError::MixedFamilies { src: A4, dst: B6 })
        );
        assert!(matches!(
            sctp_over_udp(A6, B4, 1, 2, &[]),
            Err(BuildError::MixedFamilies { .. })
        ));
        let big = vec![0u8; 65_516];
        assert!(matches!(
            sctp_over_ip(A4, B4, &big),
            Err(BuildError::TooLong { max: 65_515, .. })
        ));
        assert_eq!(sctp_over_ip(A4, B4, &big[1..]).unwrap().len(), 65_535);
        assert!(sctp_over_ip(A6, B6, &[0; 65_535]).is_ok());
        assert!(sctp_over_ip(A6, B6, &[0; 65_536]).is_err());
        assert!(matches!(
            sctp_over_udp(A6, B6, 1, 2, &[0; 65_528]),
            Err(BuildError::TooLong {
                what: "UDP datagram",
                ..
            })
        ));
        assert!(sctp_over_udp(A6, B6, 1, 2, &[0; 65_527]).is_ok());
        // Fits UDP but not the IPv4 total length.
        assert!(matches!(
            sctp_over_udp(A4, B4, 1, 2, &[0; 65_527]),
            Err(BuildError::TooLong {
                what: "IPv4 packet",
                ..
            })
        ));
        let e = sctp_over_ip(A4, B6, &[]).unwrap_err().to_string();
        assert!(
            e.contains("192.0.2.1") && e.contains("same address family"),
            "{e}"
        );
    }

    #[test]
    fn header_byte_exact() {
        let w = PcapWriter::new(Vec::new()).unwrap();
        assert_eq!(
            w.into_inner(),
            vec![
                0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 101, 0, 0,
                0
            ]
        );
        let config = PcapConfig {
            link_type: LinkType::ETHERNET,
            resolution: TimestampResolution::Microsecond,
            snaplen: 65535,
        };
        let mut w = PcapWriter::with_config(Vec::new(), config).unwrap();
        assert_eq!(w.config(), config);
        w.write_frame(Duration::new(0x0102_0304, 5_006_007), b"xy")
            .unwrap();
        assert_eq!(
            w.into_inner(),
            vec![
                0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0,
                0, 0, // file header
                4, 3, 2, 1, 0x8e, 0x13, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, b'x', b'y'
            ]
        );
    }

    #[test]
    fn round_trip_both_resolutions() {
        let times = [
            Duration::ZERO,
            Duration::new(1_700_000_000, 123_456_789),
            Duration::new(u32::MAX.into(), 999_999_999),
        ];
        for resolution in [
            TimestampResolution::Nanosecond,
            TimestampResolution::Microsecond,
        ] {
            let config = PcapConfig {
                resolution,
                ..PcapConfig::default()
            };
            let mut w = PcapWriter::with_config(Vec::new(), config).unwrap();
            let packets: Vec<Vec<u8>> = (0..3).map(|i| vec![i as u8; i * 10]).collect();
            for (t, p) in times.iter().zip(&packets) {
                w.write_frame(*t, p).unwrap();
            }
            assert_eq!(w.frames_written(), 3);
            w.flush().unwrap();
            let reader = read(Bytes::from(w.into_inner())).unwrap();
            assert_eq!(
                reader.format(),
                CaptureFormat::Pcap {
                    big_endian: false,
                    nanosecond: resolution == TimestampResolution::Nanosecond,
                    link_type: LinkType::RAW
                }
            );
            let frames: Vec<_> = reader.map(Result::unwrap).collect();
            assert_eq!(frames.len(), 3);
            for (i, f) in frames.iter().enumerate() {
                let expected = match resolution {
                    TimestampResolution::Nanosecond => times[i],
                    TimestampResolution::Microsecond => {
                        Duration::new(times[i].as_secs(), times[i].subsec_micros() * 1000)
                    }
                };
                assert_eq!(f.timestamp, expected);
                assert_eq!(f.number, i as u64 + 1);
                assert_eq!(&f.data[..], &packets[i][..]);
                assert_eq!(f.original_len as usize, packets[i].len());
                assert_eq!(f.link_type, LinkType::RAW);
            }
        }
    }

    #[test]
    fn snaplen_cuts_and_late_timestamps_fail() {
        let config = PcapConfig {
            snaplen: 4,
            ..PcapConfig::default()
        };
        let mut w = PcapWriter::with_config(Vec::new(), config).unwrap();
        w.write_frame(Duration::from_secs(1), b"abcdefgh").unwrap();
        let e = w
            .write_frame(Duration::from_secs(u64::from(u32::MAX) + 1), b"z")
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(w.frames_written(), 1);
        assert_eq!(w.get_ref().len(), 24 + 16 + 4);
        let f: Vec<_> = read(Bytes::from(w.into_inner()))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(f.len(), 1);
        assert_eq!(&f[0].data[..], b"abcd");
        assert_eq!(f[0].original_len, 8);
    }

    #[test]
    fn builders_round_trip_through_a_capture() {
        let sctp = cookie_ack();
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        let cases = [
            (A4, B4, Encapsulation::Ip),
            (A6, B6, Encapsulation::Ip),
            (
                B4,
                A4,
                Encapsulation::Udp {
                    src_port: SCTP_UDP_PORT,
                    dst_port: SCTP_UDP_PORT,
                },
            ),
            (
                B6,
                A6,
                Encapsulation::Udp {
                    src_port: 40000,
                    dst_port: SCTP_UDP_PORT,
                },
            ),
        ];
        for (i, (src, dst, enc)) in cases.iter().enumerate() {
            let p = match enc {
                Encapsulation::Ip => sctp_over_ip(*src, *dst, &sctp),
                Encapsulation::Udp { src_port, dst_port } => {
                    sctp_over_udp(*src, *dst, *src_port, *dst_port, &sctp)
                }
            }
            .unwrap();
            w.write_frame(Duration::from_millis(i as u64), &p).unwrap();
        }
        let frames: Vec<_> = read(Bytes::from(w.into_inner()))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(frames.len(), cases.len());
        for (f, (src, dst, enc)) in frames.iter().zip(cases) {
            match sctp_in_frame(f) {
                Decap::Sctp(d) => {
                    assert_eq!((d.src, d.dst, d.encapsulation), (src, dst, enc));
                    assert_eq!(&d.sctp[..], &sctp[..]);
                }
                other => panic!("frame {}: {other:?}", f.number),
            }
        }
    }

    /// Runs tshark with `args`, failing the test with a clear message if it
    /// is not installed (these tests never skip silently).
    fn tshark(args: &[&std::ffi::OsStr]) -> String {
        let tshark = std::env::var_os("TSHARK").unwrap_or_else(|| "tshark".into());
        let output = std::process::Command::new(&tshark)
            .args(args)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "this test needs tshark (Wireshark's CLI; set TSHARK to its path, \
                     or install it with `apt-get install tshark`): running {tshark:?} failed: {e}"
                )
            });
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "tshark {args:?} failed: {}\n{stdout}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }

    /// A file in the temporary directory, removed when dropped.
    struct TempFile(std::path::PathBuf);

    impl TempFile {
        fn new(name: &str) -> Self {
            TempFile(
                std::env::temp_dir()
                    .join(format!("msctp-wire-capture-{}-{name}", std::process::id())),
            )
        }
        fn os(&self) -> &std::ffi::OsStr {
            self.0.as_os_str()
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn four_sctp_packets() -> [Vec<u8>; 4] {
        let sctp = cookie_ack();
        [
            sctp_over_ip(A4, B4, &sctp).unwrap(),
            sctp_over_ip(A6, B6, &sctp).unwrap(),
            sctp_over_udp(A4, B4, 50000, SCTP_UDP_PORT, &sctp).unwrap(),
            sctp_over_udp(A6, B6, SCTP_UDP_PORT, SCTP_UDP_PORT, &sctp).unwrap(),
        ]
    }

    fn write_pcap(packets: &[Vec<u8>]) -> Vec<u8> {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        for (i, p) in packets.iter().enumerate() {
            w.write_frame(Duration::new(1_700_000_000 + i as u64, 123_456_789), p)
                .unwrap();
        }
        w.into_inner()
    }

    /// Wireshark must decode what we write: raw IP and UDP encapsulation,
    /// IPv4 and IPv6, with good IPv4, UDP and SCTP checksums. tshark 4.x
    /// dissects UDP port 9899 as SCTP by default (`udp.port 9899 sctp` in
    /// `tshark -G decodes`), and checks CRC32c when told with
    /// `-o "sctp.checksum:CRC 32c"` (the preference is an enumeration, not a
    /// boolean).
    #[test]
    fn tshark_decodes_written_file() {
        let file = TempFile::new("decode.pcap");
        std::fs::write(&file.0, write_pcap(&four_sctp_packets())).unwrap();
        let args = [
            "-r",
            "FILE",
            "-T",
            "fields",
            "-E",
            "separator=|",
            "-o",
            "sctp.checksum:CRC 32c",
            "-o",
            "ip.check_checksum:TRUE",
            "-o",
            "udp.check_checksum:TRUE",
            "-e",
            "ip.src",
            "-e",
            "ipv6.src",
            "-e",
            "udp.srcport",
            "-e",
            "sctp.verification_tag",
            "-e",
            "sctp.checksum.status",
            "-e",
            "sctp.chunk_type",
            "-e",
            "ip.checksum.status",
            "-e",
            "udp.checksum.status",
        ];
        let args: Vec<&std::ffi::OsStr> = args
            .iter()
            .map(|a| if *a == "FILE" { file.os() } else { a.as_ref() })
            .collect();
        let stdout = tshark(&args);
        let lines: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('|').collect()).collect();
        assert_eq!(lines.len(), 4, "tshark output:\n{stdout}");
        // Checksum status 1 is Wireshark's "Good" (0 is "Bad").
        let expected = [
            ["192.0.2.1", "", "", "0x01020304", "1", "11", "1", ""],
            ["", "2001:db8::1", "", "0x01020304", "1", "11", "", ""],
            ["192.0.2.1", "", "50000", "0x01020304", "1", "11", "1", "1"],
            ["", "2001:db8::1", "9899", "0x01020304", "1", "11", "", "1"],
        ];
        for (line, want) in lines.iter().zip(expected) {
            assert_eq!(&line[..], &want[..], "tshark output:\n{stdout}");
        }
    }

    /// A pcapng file written by Wireshark itself (section header with
    /// options, interface with `if_tsresol` = 9, enhanced packet blocks) reads
    /// back as the frames we wrote.
    #[test]
    fn tshark_pcapng_reads_back() {
        let packets = four_sctp_packets();
        let pcap = TempFile::new("in.pcap");
        let pcapng = TempFile::new("out.pcapng");
        std::fs::write(&pcap.0, write_pcap(&packets)).unwrap();
        tshark(&[
            "-r".as_ref(),
            pcap.os(),
            "-F".as_ref(),
            "pcapng".as_ref(),
            "-w".as_ref(),
            pcapng.os(),
        ]);
        let data = Bytes::from(std::fs::read(&pcapng.0).unwrap());
        let reader = read(data).unwrap();
        assert_eq!(reader.format(), CaptureFormat::Pcapng);
        let frames: Vec<_> = reader.map(Result::unwrap).collect();
        assert_eq!(frames.len(), packets.len());
        for (i, (f, p)) in frames.iter().zip(&packets).enumerate() {
            assert_eq!(f.number, i as u64 + 1);
            assert_eq!(f.link_type, LinkType::RAW);
            assert_eq!(
                f.timestamp,
                Duration::new(1_700_000_000 + i as u64, 123_456_789)
            );
            assert_eq!(&f.data[..], &p[..]);
            assert!(matches!(sctp_in_frame(f), Decap::Sctp(_)));
        }
    }
}
