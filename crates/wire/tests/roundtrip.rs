//! Property tests: every chunk, parameter and error cause survives
//! `parse(emit(x)) == x`, emitting is canonical (a fixed point after one
//! parse), and arbitrary or mutated bytes never make the parser panic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::Bytes;
use msctp_wire::chunk::*;
use msctp_wire::param::parse_param_list;
use msctp_wire::{
    CauseCode, Chunk, ChunkType, CommonHeader, ErrorCause, Mid, Packet, Param, ParamType, Ssn, Tsn,
};
use proptest::collection::vec;
use proptest::prelude::*;

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a))),
        any::<[u8; 16]>().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a))),
    ]
}

fn tsn() -> impl Strategy<Value = Tsn> {
    any::<u32>().prop_map(Tsn)
}

fn chunk_types() -> impl Strategy<Value = Vec<ChunkType>> {
    vec(any::<u8>().prop_map(ChunkType), 0..12)
}

fn cause() -> impl Strategy<Value = ErrorCause> {
    use ErrorCause::*;
    prop_oneof![
        any::<u16>().prop_map(InvalidStreamIdentifier),
        vec(any::<u16>().prop_map(ParamType), 0..6).prop_map(MissingMandatoryParameter),
        any::<u32>().prop_map(StaleCookie),
        Just(OutOfResource),
        bytes(24).prop_map(UnresolvableAddress),
        bytes(24).prop_map(UnrecognizedChunkType),
        Just(InvalidMandatoryParameter),
        bytes(24).prop_map(UnrecognizedParameters),
        tsn().prop_map(NoUserData),
        Just(CookieReceivedWhileShuttingDown),
        bytes(24).prop_map(RestartWithNewAddresses),
        bytes(24).prop_map(UserInitiatedAbort),
        bytes(24).prop_map(ProtocolViolation),
        bytes(24).prop_map(DeleteLastRemainingIp),
        bytes(24).prop_map(ResourceShortage),
        bytes(24).prop_map(DeleteSourceIp),
        Just(IllegalAsconfAck),
        bytes(24).prop_map(NoAuthorization),
        any::<u16>().prop_map(UnsupportedHmacIdentifier),
        (
            any::<u16>().prop_filter("unknown code", |c| CauseCode(*c).name().is_none()),
            bytes(24)
        )
            .prop_map(|(c, value)| Unknown {
                code: CauseCode(c),
                value
            }),
    ]
}

fn param() -> impl Strategy<Value = Param> {
    use Param::*;
    prop_oneof![
        bytes(40).prop_map(HeartbeatInfo),
        any::<[u8; 4]>().prop_map(|a| Ipv4Address(a.into())),
        any::<[u8; 16]>().prop_map(|a| Ipv6Address(a.into())),
        bytes(64).prop_map(StateCookie),
        bytes(24).prop_map(UnrecognizedParameter),
        any::<u32>().prop_map(CookiePreservative),
        bytes(24).prop_map(HostNameAddress),
        vec(any::<u16>(), 0..4).prop_map(SupportedAddressTypes),
        (any::<u32>(), any::<u32>(), tsn(), vec(any::<u16>(), 0..5)).prop_map(
            |(request_seq, response_seq, last_tsn, streams)| OutgoingSsnResetRequest {
                request_seq,
                response_seq,
                last_tsn,
                streams
            }
        ),
        (any::<u32>(), vec(any::<u16>(), 0..5)).prop_map(|(request_seq, streams)| {
            IncomingSsnResetRequest {
                request_seq,
                streams,
            }
        }),
        any::<u32>().prop_map(|request_seq| SsnTsnResetRequest { request_seq }),
        (
            any::<u32>(),
            any::<u32>(),
            proptest::option::of((tsn(), tsn()))
        )
            .prop_map(|(response_seq, result, next_tsns)| ReconfigResponse {
                response_seq,
                result,
                next_tsns
            }),
        (any::<u32>(), any::<u16>()).prop_map(|(request_seq, new_streams)| {
            AddOutgoingStreamsRequest {
                request_seq,
                new_streams,
            }
        }),
        (any::<u32>(), any::<u16>()).prop_map(|(request_seq, new_streams)| {
            AddIncomingStreamsRequest {
                request_seq,
                new_streams,
            }
        }),
        Just(EcnCapable),
        any::<u32>().prop_map(|edmid| ZeroChecksumAcceptable { edmid }),
        bytes(36).prop_map(Random),
        chunk_types().prop_map(ChunkList),
        vec(any::<u16>(), 0..4).prop_map(RequestedHmacAlgorithm),
        (0u16..40).prop_map(Padding),
        chunk_types().prop_map(SupportedExtensions),
        Just(ForwardTsnSupported),
        (any::<u32>(), ip()).prop_map(|(correlation_id, address)| AddIpAddress {
            correlation_id,
            address
        }),
        (any::<u32>(), ip()).prop_map(|(correlation_id, address)| DeleteIpAddress {
            correlation_id,
            address
        }),
        (any::<u32>(), vec(cause(), 0..3)).prop_map(|(correlation_id, causes)| {
            ErrorCauseIndication {
                correlation_id,
                causes,
            }
        }),
        (any::<u32>(), ip()).prop_map(|(correlation_id, address)| SetPrimaryAddress {
            correlation_id,
            address
        }),
        any::<u32>().prop_map(|correlation_id| SuccessIndication { correlation_id }),
        any::<u32>().prop_map(AdaptationLayerIndication),
        (
            any::<u16>().prop_filter("unknown type", |t| ParamType(*t).name().is_none()),
            bytes(24)
        )
            .prop_map(|(t, value)| Unknown {
                ty: ParamType(t),
                value
            }),
    ]
}

fn init() -> impl Strategy<Value = Init> {
    (
        any::<u32>(),
        any::<u32>(),
        any::<u16>(),
        any::<u16>(),
        tsn(),
        vec(param(), 0..6),
    )
        .prop_map(
            |(initiate_tag, a_rwnd, outbound_streams, inbound_streams, initial_tsn, params)| Init {
                initiate_tag,
                a_rwnd,
                outbound_streams,
                inbound_streams,
                initial_tsn,
                params,
            },
        )
}

fn chunk() -> impl Strategy<Value = Chunk> {
    let flags4 = any::<[bool; 4]>();
    prop_oneof![
        (
            tsn(),
            any::<u16>(),
            any::<u16>(),
            any::<u32>(),
            flags4,
            bytes(300)
        )
            .prop_map(
                |(tsn, stream, ssn, ppid, [u, b, e, i], payload)| Chunk::Data(Data {
                    tsn,
                    stream,
                    ssn: Ssn(ssn),
                    ppid,
                    unordered: u,
                    begin: b,
                    end: e,
                    immediate: i,
                    payload
                })
            ),
        init().prop_map(Chunk::Init),
        init().prop_map(Chunk::InitAck),
        (
            tsn(),
            any::<u32>(),
            vec(any::<(u16, u16)>(), 0..20),
            vec(tsn(), 0..8)
        )
            .prop_map(|(cum_tsn_ack, a_rwnd, gaps, dup_tsns)| Chunk::Sack(Sack {
                cum_tsn_ack,
                a_rwnd,
                gap_blocks: gaps
                    .into_iter()
                    .map(|(start, end)| GapBlock { start, end })
                    .collect(),
                dup_tsns
            })),
        bytes(48).prop_map(|info| Chunk::Heartbeat(Heartbeat { info })),
        bytes(48).prop_map(|info| Chunk::HeartbeatAck(Heartbeat { info })),
        (any::<bool>(), vec(cause(), 0..4))
            .prop_map(|(t_bit, causes)| Chunk::Abort(Abort { t_bit, causes })),
        tsn().prop_map(|cum_tsn_ack| Chunk::Shutdown(Shutdown { cum_tsn_ack })),
        Just(Chunk::ShutdownAck),
        vec(cause(), 0..4).prop_map(|causes| Chunk::Error(OperationError { causes })),
        bytes(100).prop_map(|cookie| Chunk::CookieEcho(CookieEcho { cookie })),
        Just(Chunk::CookieAck),
        tsn().prop_map(|lowest_tsn| Chunk::Ecne(Ecne { lowest_tsn })),
        tsn().prop_map(|lowest_tsn| Chunk::Cwr(Cwr { lowest_tsn })),
        any::<bool>().prop_map(|t_bit| Chunk::ShutdownComplete(ShutdownComplete { t_bit })),
        (any::<u16>(), any::<u16>(), bytes(40)).prop_map(|(key_id, hmac_id, hmac)| {
            Chunk::Auth(Auth {
                key_id,
                hmac_id,
                hmac,
            })
        }),
        (
            tsn(),
            any::<u16>(),
            any::<u32>(),
            any::<u32>(),
            flags4,
            bytes(300)
        )
            .prop_map(|(tsn, stream, mid, ppid_or_fsn, [u, b, e, i], payload)| {
                Chunk::IData(IData {
                    tsn,
                    stream,
                    mid: Mid(mid),
                    ppid_or_fsn,
                    unordered: u,
                    begin: b,
                    end: e,
                    immediate: i,
                    payload,
                })
            }),
        (any::<u32>(), vec(param(), 0..4))
            .prop_map(|(serial, params)| Chunk::AsconfAck(AsconfAck { serial, params })),
        vec(param(), 0..3).prop_map(|params| Chunk::ReConfig(ReConfig { params })),
        (0u16..64).prop_map(|len| Chunk::Pad(Pad { len })),
        (tsn(), vec(any::<(u16, u16)>(), 0..6)).prop_map(|(new_cum_tsn, s)| {
            Chunk::ForwardTsn(ForwardTsn {
                new_cum_tsn,
                streams: s
                    .into_iter()
                    .map(|(stream, ssn)| ForwardTsnStream {
                        stream,
                        ssn: Ssn(ssn),
                    })
                    .collect(),
            })
        }),
        (any::<u32>(), ip(), vec(param(), 0..4)).prop_map(|(serial, address, params)| {
            Chunk::Asconf(Asconf {
                serial,
                address,
                params,
            })
        }),
        (tsn(), vec(any::<(u16, bool, u32)>(), 0..6)).prop_map(|(new_cum_tsn, s)| {
            Chunk::IForwardTsn(IForwardTsn {
                new_cum_tsn,
                streams: s
                    .into_iter()
                    .map(|(stream, unordered, mid)| IForwardTsnStream {
                        stream,
                        unordered,
                        mid: Mid(mid),
                    })
                    .collect(),
            })
        }),
        (
            any::<u8>().prop_filter("unknown type", |t| ChunkType(*t).name().is_none()),
            any::<u8>(),
            bytes(40)
        )
            .prop_map(|(t, flags, value)| Chunk::Unknown(UnknownChunk {
                ty: ChunkType(t),
                flags,
                value
            })),
    ]
}

fn packet() -> impl Strategy<Value = Packet> {
    (any::<u16>(), any::<u16>(), any::<u32>(), vec(chunk(), 0..6)).prop_map(
        |(src_port, dst_port, verification_tag, chunks)| Packet {
            header: CommonHeader {
                src_port,
                dst_port,
                verification_tag,
            },
            chunks,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// RFC 9260 §3.2.1: every parameter type round-trips, padded to 4 bytes.
    #[test]
    fn param_roundtrip(p in param()) {
        let mut out = Vec::new();
        p.emit(&mut out);
        prop_assert_eq!(out.len() % 4, 0);
        prop_assert_eq!(usize::from(u16::from_be_bytes([out[2], out[3]])), p.len());
        prop_assert_eq!(parse_param_list(Bytes::from(out)).unwrap(), vec![p]);
    }

    /// RFC 9260 §3.2, §3.3: every chunk type round-trips inside a packet and
    /// emit is canonical; the CRC32c verifies.
    #[test]
    fn packet_roundtrip(p in packet()) {
        let out = p.emit();
        prop_assert_eq!(out.len(), p.len());
        prop_assert_eq!(out.len() % 4, 0);
        let parsed = Packet::parse(Bytes::from(out.clone())).unwrap();
        prop_assert_eq!(&parsed, &p);
        prop_assert_eq!(parsed.emit(), out);
    }

    /// Arbitrary bytes never panic the parser, with or without a valid CRC.
    #[test]
    fn arbitrary_bytes_never_panic(data in vec(any::<u8>(), 0..600)) {
        let _ = Packet::parse(Bytes::from(data.clone()));
        let mut fixed = data;
        msctp_wire::crc32c::fill(&mut fixed);
        if let Ok(p) = Packet::parse(Bytes::from(fixed)) {
            let out = p.emit();
            prop_assert_eq!(Packet::parse(Bytes::from(out.clone())).unwrap().emit(), out);
        }
    }

    /// Valid packets with random bytes overwritten never panic the parser, and
    /// whatever still parses is emitted canonically (emit is a fixed point).
    #[test]
    fn mutated_packets_never_panic(
        p in packet(),
        edits in vec((any::<usize>(), any::<u8>()), 1..8),
    ) {
        let mut b = p.emit();
        for (at, v) in edits {
            let i = at % b.len();
            b[i] = v;
        }
        if let Ok(q) = Packet::parse_unverified(Bytes::from(b)) {
            let out = q.emit();
            let r = Packet::parse(Bytes::from(out.clone())).unwrap();
            prop_assert_eq!(&r, &q);
            prop_assert_eq!(r.emit(), out);
        }
    }

    /// Parameter lists from arbitrary bytes never panic.
    #[test]
    fn arbitrary_param_lists_never_panic(data in vec(any::<u8>(), 0..200)) {
        let _ = parse_param_list(Bytes::from(data));
    }
}
