//! Parameters (RFC 9260 §3.2.1): the TLVs carried by INIT, INIT ACK, HEARTBEAT,
//! ASCONF, ASCONF-ACK and RE-CONFIG, and nested inside some parameters and
//! error causes.
//!
//! Every parameter type of RFC 9260, RFC 3758, RFC 4820, RFC 4895, RFC 5061,
//! RFC 6525 and RFC 9653 has a typed variant; anything else is kept as
//! [`Param::Unknown`] with its type code, whose two high bits tell the protocol
//! layer what to do (RFC 9260 §3.2.1, [`ParamType::action`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, Bytes};

use crate::cause::ErrorCause;
use crate::error::{ErrorKind, Result};
use crate::reader::{Reader, padded};
use crate::serial::Tsn;
use crate::types::{ChunkType, ParamType};

/// Length of a parameter's type and length fields.
pub const PARAM_HEADER_LEN: usize = 4;

/// A parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    /// Heartbeat Info (RFC 9260 §3.3.5): opaque sender-specific information.
    HeartbeatInfo(Bytes),
    /// IPv4 Address (RFC 9260 §3.3.2.1).
    Ipv4Address(Ipv4Addr),
    /// IPv6 Address (RFC 9260 §3.3.2.1).
    Ipv6Address(Ipv6Addr),
    /// State Cookie (RFC 9260 §3.3.3.1), opaque to everyone but its creator.
    StateCookie(Bytes),
    /// Unrecognized Parameter (RFC 9260 §3.3.3.1): the unrecognised parameter
    /// TLV exactly as it was received.
    UnrecognizedParameter(Bytes),
    /// Cookie Preservative (RFC 9260 §3.3.2.1): suggested cookie life-span
    /// increment in milliseconds.
    CookiePreservative(u32),
    /// Host Name Address (RFC 9260 §3.3.2.1, deprecated): the raw host name
    /// bytes, including the terminating NUL the sender put there.
    HostNameAddress(Bytes),
    /// Supported Address Types (RFC 9260 §3.3.2.1): parameter type codes of
    /// the address types the sender supports (5 for IPv4, 6 for IPv6, 11 for
    /// host names).
    SupportedAddressTypes(Vec<u16>),
    /// Outgoing SSN Reset Request (RFC 6525 §4.1).
    OutgoingSsnResetRequest {
        /// Re-configuration Request Sequence Number.
        request_seq: u32,
        /// Re-configuration Response Sequence Number.
        response_seq: u32,
        /// Sender's Last Assigned TSN.
        last_tsn: Tsn,
        /// Streams to reset; empty means all.
        streams: Vec<u16>,
    },
    /// Incoming SSN Reset Request (RFC 6525 §4.2).
    IncomingSsnResetRequest {
        /// Re-configuration Request Sequence Number.
        request_seq: u32,
        /// Streams to reset; empty means all.
        streams: Vec<u16>,
    },
    /// SSN/TSN Reset Request (RFC 6525 §4.3).
    SsnTsnResetRequest {
        /// Re-configuration Request Sequence Number.
        request_seq: u32,
    },
    /// Re-configuration Response (RFC 6525 §4.4).
    ReconfigResponse {
        /// Re-configuration Response Sequence Number.
        response_seq: u32,
        /// Result code (RFC 6525 §4.4).
        result: u32,
        /// Sender's Next TSN and Receiver's Next TSN, present only in answers
        /// to an SSN/TSN Reset Request.
        next_tsns: Option<(Tsn, Tsn)>,
    },
    /// Add Outgoing Streams Request (RFC 6525 §4.5).
    AddOutgoingStreamsRequest {
        /// Re-configuration Request Sequence Number.
        request_seq: u32,
        /// Number of new streams.
        new_streams: u16,
    },
    /// Add Incoming Streams Request (RFC 6525 §4.6).
    AddIncomingStreamsRequest {
        /// Re-configuration Request Sequence Number.
        request_seq: u32,
        /// Number of new streams.
        new_streams: u16,
    },
    /// ECN Capable (RFC 9260 Appendix A).
    EcnCapable,
    /// Zero Checksum Acceptable (RFC 9653 §3).
    ZeroChecksumAcceptable {
        /// Error Detection Method Identifier.
        edmid: u32,
    },
    /// Random (RFC 4895 §3.1).
    Random(Bytes),
    /// Chunk List (RFC 4895 §3.2): chunk types that must be authenticated.
    ChunkList(Vec<ChunkType>),
    /// Requested HMAC Algorithm (RFC 4895 §3.3): HMAC identifiers in order
    /// of preference.
    RequestedHmacAlgorithm(Vec<u16>),
    /// Padding (RFC 4820 §4): `len` bytes of padding value, emitted as zeros.
    Padding(u16),
    /// Supported Extensions (RFC 5061 §4.2.7).
    SupportedExtensions(Vec<ChunkType>),
    /// Forward-TSN-Supported (RFC 3758 §3.1).
    ForwardTsnSupported,
    /// Add IP Address (RFC 5061 §4.2.1).
    AddIpAddress {
        /// ASCONF-Request Correlation ID.
        correlation_id: u32,
        /// The address to add.
        address: IpAddr,
    },
    /// Delete IP Address (RFC 5061 §4.2.2).
    DeleteIpAddress {
        /// ASCONF-Request Correlation ID.
        correlation_id: u32,
        /// The address to delete.
        address: IpAddr,
    },
    /// Error Cause Indication (RFC 5061 §4.2.3).
    ErrorCauseIndication {
        /// ASCONF-Request Correlation ID.
        correlation_id: u32,
        /// Why the request failed.
        causes: Vec<ErrorCause>,
    },
    /// Set Primary Address (RFC 5061 §4.2.4).
    SetPrimaryAddress {
        /// ASCONF-Request Correlation ID.
        correlation_id: u32,
        /// The address the peer should make its primary.
        address: IpAddr,
    },
    /// Success Indication (RFC 5061 §4.2.5).
    SuccessIndication {
        /// ASCONF-Request Correlation ID.
        correlation_id: u32,
    },
    /// Adaptation Layer Indication (RFC 5061 §4.2.6).
    AdaptationLayerIndication(u32),
    /// A parameter type this crate does not know, value kept verbatim.
    Unknown {
        /// Its type code; [`ParamType::action`] says how to treat it.
        ty: ParamType,
        /// Its value, without the type, length and padding.
        value: Bytes,
    },
}

impl Param {
    /// The parameter's type code.
    pub fn param_type(&self) -> ParamType {
        use Param::*;
        match self {
            HeartbeatInfo(_) => ParamType::HEARTBEAT_INFO,
            Ipv4Address(_) => ParamType::IPV4_ADDRESS,
            Ipv6Address(_) => ParamType::IPV6_ADDRESS,
            StateCookie(_) => ParamType::STATE_COOKIE,
            UnrecognizedParameter(_) => ParamType::UNRECOGNIZED_PARAMETER,
            CookiePreservative(_) => ParamType::COOKIE_PRESERVATIVE,
            HostNameAddress(_) => ParamType::HOST_NAME_ADDRESS,
            SupportedAddressTypes(_) => ParamType::SUPPORTED_ADDRESS_TYPES,
            OutgoingSsnResetRequest { .. } => ParamType::OUTGOING_SSN_RESET_REQUEST,
            IncomingSsnResetRequest { .. } => ParamType::INCOMING_SSN_RESET_REQUEST,
            SsnTsnResetRequest { .. } => ParamType::SSN_TSN_RESET_REQUEST,
            ReconfigResponse { .. } => ParamType::RECONFIG_RESPONSE,
            AddOutgoingStreamsRequest { .. } => ParamType::ADD_OUTGOING_STREAMS_REQUEST,
            AddIncomingStreamsRequest { .. } => ParamType::ADD_INCOMING_STREAMS_REQUEST,
            EcnCapable => ParamType::ECN_CAPABLE,
            ZeroChecksumAcceptable { .. } => ParamType::ZERO_CHECKSUM_ACCEPTABLE,
            Random(_) => ParamType::RANDOM,
            ChunkList(_) => ParamType::CHUNK_LIST,
            RequestedHmacAlgorithm(_) => ParamType::REQUESTED_HMAC_ALGORITHM,
            Padding(_) => ParamType::PADDING,
            SupportedExtensions(_) => ParamType::SUPPORTED_EXTENSIONS,
            ForwardTsnSupported => ParamType::FORWARD_TSN_SUPPORTED,
            AddIpAddress { .. } => ParamType::ADD_IP_ADDRESS,
            DeleteIpAddress { .. } => ParamType::DELETE_IP_ADDRESS,
            ErrorCauseIndication { .. } => ParamType::ERROR_CAUSE_INDICATION,
            SetPrimaryAddress { .. } => ParamType::SET_PRIMARY_ADDRESS,
            SuccessIndication { .. } => ParamType::SUCCESS_INDICATION,
            AdaptationLayerIndication(_) => ParamType::ADAPTATION_LAYER_INDICATION,
            Unknown { ty, .. } => *ty,
        }
    }

    /// The address parameter for `addr` (IPv4 or IPv6 Address, RFC 9260 §3.3.2.1).
    pub fn address(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(a) => Param::Ipv4Address(a),
            IpAddr::V6(a) => Param::Ipv6Address(a),
        }
    }

    /// The address this parameter carries, if it is an IPv4 or IPv6 Address.
    pub fn as_address(&self) -> Option<IpAddr> {
        match self {
            Param::Ipv4Address(a) => Some(IpAddr::V4(*a)),
            Param::Ipv6Address(a) => Some(IpAddr::V6(*a)),
            _ => None,
        }
    }

    /// Length of the value, without type, length and padding.
    pub fn value_len(&self) -> usize {
        use Param::*;
        match self {
            HeartbeatInfo(b)
            | StateCookie(b)
            | UnrecognizedParameter(b)
            | HostNameAddress(b)
            | Random(b) => b.len(),
            Unknown { value, .. } => value.len(),
            Ipv4Address(_) | CookiePreservative(_) | AdaptationLayerIndication(_) => 4,
            SuccessIndication { .. } | SsnTsnResetRequest { .. } => 4,
            ZeroChecksumAcceptable { .. } => 4,
            Ipv6Address(_) => 16,
            SupportedAddressTypes(v) | RequestedHmacAlgorithm(v) => 2 * v.len(),
            ChunkList(v) | SupportedExtensions(v) => v.len(),
            OutgoingSsnResetRequest { streams, .. } => 12 + 2 * streams.len(),
            IncomingSsnResetRequest { streams, .. } => 4 + 2 * streams.len(),
            ReconfigResponse { next_tsns, .. } => {
                if next_tsns.is_some() {
                    16
                } else {
                    8
                }
            }
            AddOutgoingStreamsRequest { .. } | AddIncomingStreamsRequest { .. } => 8,
            EcnCapable | ForwardTsnSupported => 0,
            Padding(n) => usize::from(*n),
            AddIpAddress { address, .. }
            | DeleteIpAddress { address, .. }
            | SetPrimaryAddress { address, .. } => 4 + address_param_len(address),
            ErrorCauseIndication { causes, .. } => 4 + crate::cause::causes_len(causes),
        }
    }

    /// Length of the whole parameter without trailing padding (what its
    /// length field holds).
    pub fn len(&self) -> usize {
        PARAM_HEADER_LEN + self.value_len()
    }

    /// Always false: a parameter is at least its 4-byte header.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the parameter and its zero padding.
    pub fn emit(&self, out: &mut impl BufMut) {
        use Param::*;
        let len = self.len();
        out.put_u16(self.param_type().0);
        // Lengths above u16::MAX cannot be represented; callers keep
        // parameters within a packet, which is far smaller.
        out.put_u16(len as u16);
        match self {
            HeartbeatInfo(b)
            | StateCookie(b)
            | UnrecognizedParameter(b)
            | HostNameAddress(b)
            | Random(b) => out.put_slice(b),
            Unknown { value, .. } => out.put_slice(value),
            Ipv4Address(a) => out.put_slice(&a.octets()),
            Ipv6Address(a) => out.put_slice(&a.octets()),
            CookiePreservative(v) | AdaptationLayerIndication(v) => out.put_u32(*v),
            SuccessIndication { correlation_id } => out.put_u32(*correlation_id),
            SsnTsnResetRequest { request_seq } => out.put_u32(*request_seq),
            ZeroChecksumAcceptable { edmid } => out.put_u32(*edmid),
            SupportedAddressTypes(v) | RequestedHmacAlgorithm(v) => {
                v.iter().for_each(|t| out.put_u16(*t))
            }
            ChunkList(v) | SupportedExtensions(v) => v.iter().for_each(|t| out.put_u8(t.0)),
            OutgoingSsnResetRequest {
                request_seq,
                response_seq,
                last_tsn,
                streams,
            } => {
                out.put_u32(*request_seq);
                out.put_u32(*response_seq);
                out.put_u32(last_tsn.0);
                streams.iter().for_each(|s| out.put_u16(*s));
            }
            IncomingSsnResetRequest {
                request_seq,
                streams,
            } => {
                out.put_u32(*request_seq);
                streams.iter().for_each(|s| out.put_u16(*s));
            }
            ReconfigResponse {
                response_seq,
                result,
                next_tsns,
            } => {
                out.put_u32(*response_seq);
                out.put_u32(*result);
                if let Some((sender, receiver)) = next_tsns {
                    out.put_u32(sender.0);
                    out.put_u32(receiver.0);
                }
            }
            AddOutgoingStreamsRequest {
                request_seq,
                new_streams,
            }
            | AddIncomingStreamsRequest {
                request_seq,
                new_streams,
            } => {
                out.put_u32(*request_seq);
                out.put_u16(*new_streams);
                out.put_u16(0);
            }
            EcnCapable | ForwardTsnSupported => {}
            Padding(n) => out.put_bytes(0, usize::from(*n)),
            AddIpAddress {
                correlation_id,
                address,
            }
            | DeleteIpAddress {
                correlation_id,
                address,
            }
            | SetPrimaryAddress {
                correlation_id,
                address,
            } => {
                out.put_u32(*correlation_id);
                Param::address(*address).emit(out);
            }
            ErrorCauseIndication {
                correlation_id,
                causes,
            } => {
                out.put_u32(*correlation_id);
                crate::cause::emit_causes(causes, out);
            }
        }
        out.put_bytes(0, padded(len) - len - self.nested_trailing_pad());
    }

    /// Padding already written by a nested list at the end of the value (the
    /// last error cause of an Error Cause Indication), which the length field
    /// does not count.
    fn nested_trailing_pad(&self) -> usize {
        match self {
            Param::ErrorCauseIndication { causes, .. } => {
                causes.last().map_or(0, |c| padded(c.len()) - c.len())
            }
            _ => 0,
        }
    }

    /// Reads one parameter whose TLV (without padding) is `r`'s content.
    pub(crate) fn parse_value(ty: ParamType, mut r: Reader) -> Result<Param> {
        use Param::*;
        let p = match ty {
            ParamType::HEARTBEAT_INFO => HeartbeatInfo(r.rest()),
            ParamType::IPV4_ADDRESS => Ipv4Address(Ipv4Addr::from(r.array::<4>("address")?)),
            ParamType::IPV6_ADDRESS => Ipv6Address(Ipv6Addr::from(r.array::<16>("address")?)),
            ParamType::STATE_COOKIE => StateCookie(r.rest()),
            ParamType::UNRECOGNIZED_PARAMETER => UnrecognizedParameter(r.rest()),
            ParamType::COOKIE_PRESERVATIVE => CookiePreservative(r.u32("life-span increment")?),
            ParamType::HOST_NAME_ADDRESS => HostNameAddress(r.rest()),
            ParamType::SUPPORTED_ADDRESS_TYPES => {
                SupportedAddressTypes(r.list(2, "address types", |r| r.u16("address type"))?)
            }
            ParamType::OUTGOING_SSN_RESET_REQUEST => OutgoingSsnResetRequest {
                request_seq: r.u32("request sequence number")?,
                response_seq: r.u32("response sequence number")?,
                last_tsn: Tsn(r.u32("last assigned TSN")?),
                streams: r.list(2, "streams", |r| r.u16("stream"))?,
            },
            ParamType::INCOMING_SSN_RESET_REQUEST => IncomingSsnResetRequest {
                request_seq: r.u32("request sequence number")?,
                streams: r.list(2, "streams", |r| r.u16("stream"))?,
            },
            ParamType::SSN_TSN_RESET_REQUEST => SsnTsnResetRequest {
                request_seq: r.u32("request sequence number")?,
            },
            ParamType::RECONFIG_RESPONSE => {
                let response_seq = r.u32("response sequence number")?;
                let result = r.u32("result")?;
                let next_tsns = if r.is_empty() {
                    None
                } else {
                    Some((
                        Tsn(r.u32("sender's next TSN")?),
                        Tsn(r.u32("receiver's next TSN")?),
                    ))
                };
                ReconfigResponse {
                    response_seq,
                    result,
                    next_tsns,
                }
            }
            ParamType::ADD_OUTGOING_STREAMS_REQUEST | ParamType::ADD_INCOMING_STREAMS_REQUEST => {
                let request_seq = r.u32("request sequence number")?;
                let new_streams = r.u16("number of new streams")?;
                let _reserved = r.u16("reserved")?;
                if ty == ParamType::ADD_OUTGOING_STREAMS_REQUEST {
                    AddOutgoingStreamsRequest {
                        request_seq,
                        new_streams,
                    }
                } else {
                    AddIncomingStreamsRequest {
                        request_seq,
                        new_streams,
                    }
                }
            }
            ParamType::ECN_CAPABLE => EcnCapable,
            ParamType::ZERO_CHECKSUM_ACCEPTABLE => ZeroChecksumAcceptable {
                edmid: r.u32("error detection method identifier")?,
            },
            ParamType::RANDOM => Random(r.rest()),
            ParamType::CHUNK_LIST => {
                ChunkList(r.list(1, "chunk types", |r| r.u8("chunk type").map(ChunkType))?)
            }
            ParamType::REQUESTED_HMAC_ALGORITHM => {
                RequestedHmacAlgorithm(r.list(2, "HMAC identifiers", |r| r.u16("HMAC identifier"))?)
            }
            ParamType::PADDING => {
                let n = r.remaining();
                r.rest();
                // The value came from a parameter whose length fits in u16.
                Padding(n as u16)
            }
            ParamType::SUPPORTED_EXTENSIONS => {
                SupportedExtensions(
                    r.list(1, "chunk types", |r| r.u8("chunk type").map(ChunkType))?,
                )
            }
            ParamType::FORWARD_TSN_SUPPORTED => ForwardTsnSupported,
            ParamType::ADD_IP_ADDRESS
            | ParamType::DELETE_IP_ADDRESS
            | ParamType::SET_PRIMARY_ADDRESS => {
                let whole = r.clone();
                let correlation_id = r.u32("correlation ID")?;
                let Ok(address) = parse_address_param(&mut r) else {
                    // RFC 5061 §4.2.1–4.2.4 nest an IPv4 or IPv6 Address
                    // parameter; anything else (a Host Name Address, say)
                    // is not a layout we can represent, so the parameter is
                    // kept verbatim like an unknown one, for the receiver to
                    // handle by its type bits (RFC 9260 §3.2.1) instead of
                    // losing the whole chunk.
                    let mut whole = whole;
                    return Ok(Unknown {
                        ty,
                        value: whole.rest(),
                    });
                };
                match ty {
                    ParamType::ADD_IP_ADDRESS => AddIpAddress {
                        correlation_id,
                        address,
                    },
                    ParamType::DELETE_IP_ADDRESS => DeleteIpAddress {
                        correlation_id,
                        address,
                    },
                    _ => SetPrimaryAddress {
                        correlation_id,
                        address,
                    },
                }
            }
            ParamType::ERROR_CAUSE_INDICATION => ErrorCauseIndication {
                correlation_id: r.u32("correlation ID")?,
                causes: crate::cause::parse_causes(&mut r)?,
            },
            ParamType::SUCCESS_INDICATION => SuccessIndication {
                correlation_id: r.u32("correlation ID")?,
            },
            ParamType::ADAPTATION_LAYER_INDICATION => {
                AdaptationLayerIndication(r.u32("adaptation code point")?)
            }
            _ => Unknown {
                ty,
                value: r.rest(),
            },
        };
        r.finish("value")?;
        Ok(p)
    }
}

fn address_param_len(addr: &IpAddr) -> usize {
    match addr {
        IpAddr::V4(_) => 8,
        IpAddr::V6(_) => 20,
    }
}

/// Reads an IPv4 or IPv6 Address parameter that must come next in `r`
/// (the nested address of RFC 5061 §4.2.1–4.2.4 and of ASCONF).
pub(crate) fn parse_address_param(r: &mut Reader) -> Result<IpAddr> {
    let start = r.offset();
    let (ty, body) = next_tlv(r, "address parameter", param_name)?;
    match Param::parse_value(ParamType(ty), body)? {
        Param::Ipv4Address(a) => Ok(IpAddr::V4(a)),
        Param::Ipv6Address(a) => Ok(IpAddr::V6(a)),
        _ => Err(crate::error::Error::new(
            ErrorKind::UnexpectedParameter,
            start,
            "address parameter",
            "type",
        )),
    }
}

/// Reads the next type-length-value (parameter or error cause layout) from
/// `r` and skips its padding. Returns the raw type code and a reader over the
/// value named after `name(code)`.
pub(crate) fn next_tlv(
    r: &mut Reader,
    field: &'static str,
    name: fn(u16) -> Option<&'static str>,
) -> Result<(u16, Reader)> {
    let start = r.offset();
    let ty = r.u16(field)?;
    let len = usize::from(r.u16("length")?);
    let context = name(ty).unwrap_or(field);
    if len < PARAM_HEADER_LEN {
        return Err(crate::error::Error::new(
            ErrorKind::LengthTooSmall,
            start + 2,
            context,
            "length",
        ));
    }
    let body_len = len - PARAM_HEADER_LEN;
    if body_len > r.remaining() {
        return Err(crate::error::Error::new(
            ErrorKind::LengthTooLarge,
            start + 2,
            context,
            "length",
        ));
    }
    let body = Reader::new(
        r.bytes(body_len, "value")?,
        start + PARAM_HEADER_LEN,
        context,
    );
    // RFC 9260 §3.2: padding of the last TLV may be absent or not counted.
    r.skip_up_to(padded(len) - len);
    Ok((ty, body))
}

fn param_name(code: u16) -> Option<&'static str> {
    ParamType(code).name()
}

/// Reads parameters until `r` is exhausted.
pub(crate) fn parse_params(r: &mut Reader) -> Result<Vec<Param>> {
    let mut out = Vec::new();
    while !r.is_empty() {
        let (ty, body) = next_tlv(r, "parameter", param_name)?;
        out.push(Param::parse_value(ParamType(ty), body)?);
    }
    Ok(out)
}

/// Length of a parameter list as the enclosing chunk's length field counts
/// it: every parameter padded except the last (RFC 9260 §3.2).
pub(crate) fn params_len(params: &[Param]) -> usize {
    let padded_sum: usize = params.iter().map(|p| padded(p.len())).sum();
    match params.last() {
        Some(last) => padded_sum - (padded(last.len()) - last.len()),
        None => 0,
    }
}

/// Writes a parameter list, every parameter padded.
pub(crate) fn emit_params(params: &[Param], out: &mut impl BufMut) {
    params.iter().for_each(|p| p.emit(out));
}

/// Parses a buffer holding a parameter list (for example the value of an
/// Unrecognized Parameter, or parameters read from a cookie).
pub fn parse_param_list(data: Bytes) -> Result<Vec<Param>> {
    let mut r = Reader::new(data, 0, "parameters");
    parse_params(&mut r)
}
