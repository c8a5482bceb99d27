//! Byte-exact packets built by hand from the RFC layouts, parsed into the
//! expected representation and emitted back to the same bytes.
//!
//! The checksum of each golden packet is computed here with a bit-at-a-time
//! CRC32c written from the RFC 9260 Appendix B description, independent of the
//! table-driven/hardware implementation the crate uses.

use std::net::Ipv4Addr;

use bytes::Bytes;
use msctp_wire::chunk::{Abort, Data, GapBlock, Heartbeat, Init, RawChunks, Sack, UnknownChunk};
use msctp_wire::{
    Chunk, CommonHeader, ErrorCause, ErrorKind, Packet, Param, ParamType, Ssn, Tsn,
    UnrecognizedAction,
};

/// RFC 9260 Appendix B: CRC32c (Castagnoli, reflected polynomial 0x82F63B78),
/// initial value all ones, final complement.
fn reference_crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s
        .bytes()
        .filter(|b| b.is_ascii_hexdigit())
        .map(|b| (b as char).to_digit(16).unwrap() as u8)
        .collect();
    assert!(digits.len() % 2 == 0, "odd number of hex digits");
    digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect()
}

/// Golden packet bytes with the checksum field computed by the reference CRC.
fn golden(s: &str) -> Vec<u8> {
    let mut b = hex(s);
    b[8..12].fill(0);
    let crc = reference_crc32c(&b);
    b[8..12].copy_from_slice(&crc.to_le_bytes());
    b
}

fn check(bytes: &[u8], expected: &Packet) {
    let parsed = Packet::parse(Bytes::copy_from_slice(bytes)).expect("golden packet parses");
    assert_eq!(&parsed, expected);
    assert_eq!(expected.emit(), bytes, "emit is byte-exact");
    assert_eq!(expected.len(), bytes.len());
}

fn header(vtag: u32) -> CommonHeader {
    CommonHeader {
        src_port: 5001,
        dst_port: 5001,
        verification_tag: vtag,
    }
}

/// RFC 9260 §3.3.2 and §3.3.2.1: INIT from a dual-homed endpoint listing both
/// of its IPv4 addresses (as in the multi-homing reference trace) and the
/// Supported Address Types parameter, whose padding is not counted in the
/// chunk length because it is the last parameter (§3.2).
#[test]
fn init_with_two_ipv4_addresses() {
    let bytes = golden(
        "1389 1389 00000000 00000000
         01 00 002a
         11223344 00020000 000a ffff 55667788
         0005 0008 c0000201
         0005 0008 c6336401
         000c 0006 0005 0000",
    );
    let expected = Packet {
        header: header(0),
        chunks: vec![Chunk::Init(Init {
            initiate_tag: 0x1122_3344,
            a_rwnd: 131_072,
            outbound_streams: 10,
            inbound_streams: 0xffff,
            initial_tsn: Tsn(0x5566_7788),
            params: vec![
                Param::Ipv4Address(Ipv4Addr::new(192, 0, 2, 1)),
                Param::Ipv4Address(Ipv4Addr::new(198, 51, 100, 1)),
                Param::SupportedAddressTypes(vec![5]),
            ],
        })],
    };
    check(&bytes, &expected);
    let Chunk::Init(init) = &expected.chunks[0] else {
        unreachable!()
    };
    assert_eq!(init.addresses().count(), 2);
}

/// RFC 9260 §3.3.3: INIT ACK with a State Cookie of odd length (its padding
/// is counted in the chunk length because other parameters follow), an
/// address, Forward-TSN-Supported (RFC 3758) and Supported Extensions
/// (RFC 5061) as the last, unpadded-in-length parameter.
#[test]
fn init_ack_with_cookie() {
    let bytes = golden(
        "1389 1389 11223344 00000000
         02 00 003b
         aabbccdd 00010000 0005 000a 01020304
         0007 0011 636f6f6b69652d6279746573 21 000000
         0005 0008 c6336402
         c000 0004
         8008 0007 c0820f 00",
    );
    let expected = Packet {
        header: header(0x1122_3344),
        chunks: vec![Chunk::InitAck(Init {
            initiate_tag: 0xaabb_ccdd,
            a_rwnd: 65_536,
            outbound_streams: 5,
            inbound_streams: 10,
            initial_tsn: Tsn(0x0102_0304),
            params: vec![
                Param::StateCookie(Bytes::from_static(b"cookie-bytes!")),
                Param::Ipv4Address(Ipv4Addr::new(198, 51, 100, 2)),
                Param::ForwardTsnSupported,
                Param::SupportedExtensions(vec![
                    msctp_wire::ChunkType::FORWARD_TSN,
                    msctp_wire::ChunkType::RE_CONFIG,
                    msctp_wire::ChunkType::AUTH,
                ]),
            ],
        })],
    };
    check(&bytes, &expected);
    let Chunk::InitAck(ack) = &expected.chunks[0] else {
        unreachable!()
    };
    assert_eq!(ack.state_cookie().map(|c| c.len()), Some(13));
}

/// RFC 9260 §3.3.4: SACK with two gap ack blocks and one duplicate TSN.
#[test]
fn sack_with_gaps_and_duplicates() {
    let bytes = golden(
        "1389 1389 aabbccdd 00000000
         03 00 001c
         00000064 0001f000 0002 0001
         0002 0003 0005 0005
         00000063",
    );
    let expected = Packet {
        header: header(0xaabb_ccdd),
        chunks: vec![Chunk::Sack(Sack {
            cum_tsn_ack: Tsn(100),
            a_rwnd: 0x1f000,
            gap_blocks: vec![GapBlock { start: 2, end: 3 }, GapBlock { start: 5, end: 5 }],
            dup_tsns: vec![Tsn(99)],
        })],
    };
    check(&bytes, &expected);
}

/// RFC 9260 §3.3.5: HEARTBEAT with a 5-byte Heartbeat Info; the chunk length
/// (13) excludes the parameter's padding, the packet includes it.
#[test]
fn heartbeat_with_info() {
    let bytes = golden(
        "1389 1389 aabbccdd 00000000
         04 00 000d 0001 0009 0102030405 000000",
    );
    let expected = Packet {
        header: header(0xaabb_ccdd),
        chunks: vec![Chunk::Heartbeat(Heartbeat {
            info: Bytes::from_static(&[1, 2, 3, 4, 5]),
        })],
    };
    check(&bytes, &expected);
}

/// RFC 9260 §3.3.7 and §3.3.10: ABORT with the T bit and three causes.
#[test]
fn abort_with_causes() {
    let bytes = golden(
        "1389 1389 11223344 00000000
         06 01 0024
         000c 0009 6279652121 000000
         0001 0008 0007 0000
         0002 000c 00000002 0007 0009",
    );
    let expected = Packet {
        header: header(0x1122_3344),
        chunks: vec![Chunk::Abort(Abort {
            t_bit: true,
            causes: vec![
                ErrorCause::UserInitiatedAbort(Bytes::from_static(b"bye!!")),
                ErrorCause::InvalidStreamIdentifier(7),
                ErrorCause::MissingMandatoryParameter(vec![
                    ParamType::STATE_COOKIE,
                    ParamType::COOKIE_PRESERVATIVE,
                ]),
            ],
        })],
    };
    check(&bytes, &expected);
}

/// RFC 9260 §3.3.1 and RFC 7053: DATA chunks bundled, one with B/E set, one
/// unordered with the I bit and a 3-byte payload padded by one byte.
#[test]
fn bundled_data() {
    let bytes = golden(
        "1389 1389 aabbccdd 00000000
         00 03 0014 00000001 0000 0000 00000000 70696e67
         00 0f 0013 00000002 0003 0000 0000002e 616263 00",
    );
    let expected = Packet {
        header: header(0xaabb_ccdd),
        chunks: vec![
            Chunk::Data(Data {
                tsn: Tsn(1),
                stream: 0,
                ssn: Ssn(0),
                ppid: 0,
                unordered: false,
                begin: true,
                end: true,
                immediate: false,
                payload: Bytes::from_static(b"ping"),
            }),
            Chunk::Data(Data {
                tsn: Tsn(2),
                stream: 3,
                ssn: Ssn(0),
                ppid: 46,
                unordered: true,
                begin: true,
                end: true,
                immediate: true,
                payload: Bytes::from_static(b"abc"),
            }),
        ],
    };
    check(&bytes, &expected);
}

/// RFC 9260 §3.2: unknown chunk types of each of the four action classes are
/// kept verbatim with their flags, and expose the action of their high bits.
#[test]
fn unknown_chunks_of_each_action_class() {
    let bytes = golden(
        "1389 1389 aabbccdd 00000000
         3f 00 0005 aa 000000
         7f 01 0004
         bf 02 0006 bbcc 0000
         ff 03 0008 01020304",
    );
    let unknown = |ty: u8, flags: u8, value: &'static [u8]| {
        Chunk::Unknown(UnknownChunk {
            ty: msctp_wire::ChunkType(ty),
            flags,
            value: Bytes::from_static(value),
        })
    };
    let expected = Packet {
        header: header(0xaabb_ccdd),
        chunks: vec![
            unknown(0x3f, 0, &[0xaa]),
            unknown(0x7f, 1, &[]),
            unknown(0xbf, 2, &[0xbb, 0xcc]),
            unknown(0xff, 3, &[1, 2, 3, 4]),
        ],
    };
    check(&bytes, &expected);
    let actions: Vec<_> = expected
        .chunks
        .iter()
        .map(|c| c.chunk_type().action())
        .collect();
    assert_eq!(
        actions,
        [
            UnrecognizedAction::Stop,
            UnrecognizedAction::StopAndReport,
            UnrecognizedAction::Skip,
            UnrecognizedAction::SkipAndReport,
        ]
    );
    // The raw view quotes each chunk exactly as received, for an
    // Unrecognized Chunk Type cause (RFC 9260 §3.3.10.6).
    let raw: Vec<_> = RawChunks::new(Bytes::from(bytes.clone()))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(&raw[0].bytes[..], &hex("3f000005aa")[..]);
    assert_eq!(raw[2].offset, 12 + 8 + 4);
}

/// RFC 9260 §3.2: "A robust implementation is expected to accept the chunk
/// whether or not the final padding has been included in the Chunk Length",
/// and the last chunk of a packet may arrive without its padding.
#[test]
fn lenient_final_padding() {
    // Length 16 counts the Heartbeat Info's padding.
    let counted = golden("1389 1389 aabbccdd 00000000 04 00 0010 0001 0009 0102030405 000000");
    let p = Packet::parse(Bytes::from(counted)).unwrap();
    assert_eq!(
        p.chunks,
        vec![Chunk::Heartbeat(Heartbeat {
            info: Bytes::from_static(&[1, 2, 3, 4, 5])
        })]
    );
    // The last chunk's padding missing from the packet.
    let short = golden("1389 1389 aabbccdd 00000000 00 03 0013 00000001 0000 0000 00000000 616263");
    let p = Packet::parse(Bytes::from(short)).unwrap();
    assert_eq!(p.chunks.len(), 1);
}

/// RFC 9260 §6.8: a packet whose checksum does not match is rejected, and the
/// error says so.
#[test]
fn bad_checksum() {
    let mut b = golden("1389 1389 aabbccdd 00000000 0b 00 0004");
    assert!(Packet::parse(Bytes::from(b.clone())).is_ok());
    b[13] = 0x10; // a flag bit of COOKIE ACK
    let e = Packet::parse(Bytes::from(b.clone())).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadChecksum);
    // Without verification the packet still parses.
    assert_eq!(
        Packet::parse_unverified(Bytes::from(b)).unwrap().chunks,
        vec![Chunk::CookieAck]
    );
}

/// Malformed input yields a typed error that names the offset and field.
#[test]
fn malformed_inputs_name_the_problem() {
    let cases: &[(&str, ErrorKind, usize)] = &[
        // Shorter than the common header.
        ("1389 1389 aabb", ErrorKind::Truncated, 6),
        // Chunk length 2 < 4 (RFC 9260 §3.2).
        (
            "1389 1389 aabbccdd 00000000 0b 00 0002",
            ErrorKind::LengthTooSmall,
            14,
        ),
        // Chunk length points past the packet.
        (
            "1389 1389 aabbccdd 00000000 0b 00 0010",
            ErrorKind::LengthTooLarge,
            14,
        ),
        // Three stray bytes after the last chunk.
        (
            "1389 1389 aabbccdd 00000000 0b 00 0004 000000",
            ErrorKind::Truncated,
            16,
        ),
        // SACK announcing one gap block but carrying none.
        (
            "1389 1389 aabbccdd 00000000 03 00 0010 00000001 00001000 0001 0000",
            ErrorKind::BadLength,
            28,
        ),
        // IPv4 Address parameter of length 7.
        (
            "1389 1389 00000000 00000000 01 00 001b 11223344 00020000 000a ffff 55667788 0005 0007 c00002 00",
            ErrorKind::Truncated,
            36,
        ),
        // Parameter length running past the chunk.
        (
            "1389 1389 00000000 00000000 01 00 001c 11223344 00020000 000a ffff 55667788 0005 0010 c0000201",
            ErrorKind::LengthTooLarge,
            34,
        ),
        // HEARTBEAT without Heartbeat Info.
        (
            "1389 1389 00000000 00000000 04 00 0004",
            ErrorKind::Missing,
            16,
        ),
        // SHUTDOWN with a truncated Cumulative TSN Ack.
        (
            "1389 1389 00000000 00000000 07 00 0006 0000 0000",
            ErrorKind::Truncated,
            16,
        ),
        // COOKIE ACK with a body where none is allowed.
        (
            "1389 1389 00000000 00000000 0b 00 0008 00000000",
            ErrorKind::Trailing,
            16,
        ),
    ];
    for (i, (h, kind, offset)) in cases.iter().enumerate() {
        let e = Packet::parse_unverified(Bytes::from(hex(h))).unwrap_err();
        assert_eq!((e.kind, e.offset), (*kind, *offset), "case {i}: {e}");
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn error_messages_are_descriptive() {
    let e = Packet::parse_unverified(Bytes::from(hex(
        "1389 1389 00000000 00000000 03 00 0010 00000001 00001000 0001 0000",
    )))
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "length field inconsistent with the layout at offset 28 (SACK, field 'gap ack blocks and duplicate TSNs')"
    );
}
