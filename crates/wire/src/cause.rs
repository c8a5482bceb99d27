//! Error causes (RFC 9260 §3.3.10, RFC 5061 §5.1, RFC 4895 §4.1): the TLVs of
//! ABORT and ERROR chunks and of the Error Cause Indication parameter.
//!
//! Causes that quote what the peer sent (an unrecognised chunk, unrecognised
//! parameters, an unresolvable address) keep the quoted bytes verbatim so that
//! they can be reported back unchanged.

use bytes::{BufMut, Bytes};

use crate::error::Result;
use crate::param::next_tlv;
use crate::reader::{Reader, padded};
use crate::serial::Tsn;
use crate::types::{CauseCode, ParamType};

/// Length of an error cause's code and length fields.
pub const CAUSE_HEADER_LEN: usize = 4;

/// An error cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorCause {
    /// Invalid Stream Identifier (RFC 9260 §3.3.10.1).
    InvalidStreamIdentifier(u16),
    /// Missing Mandatory Parameter (RFC 9260 §3.3.10.2): the missing types.
    MissingMandatoryParameter(Vec<ParamType>),
    /// Stale Cookie (RFC 9260 §3.3.10.3): how late the cookie was, in
    /// microseconds.
    StaleCookie(u32),
    /// Out of Resource (RFC 9260 §3.3.10.4).
    OutOfResource,
    /// Unresolvable Address (RFC 9260 §3.3.10.5): the address parameter TLV.
    UnresolvableAddress(Bytes),
    /// Unrecognized Chunk Type (RFC 9260 §3.3.10.6): the chunk as received.
    UnrecognizedChunkType(Bytes),
    /// Invalid Mandatory Parameter (RFC 9260 §3.3.10.7).
    InvalidMandatoryParameter,
    /// Unrecognized Parameters (RFC 9260 §3.3.10.8): the parameters as received.
    UnrecognizedParameters(Bytes),
    /// No User Data (RFC 9260 §3.3.10.9): the TSN of the empty DATA chunk.
    NoUserData(Tsn),
    /// Cookie Received While Shutting Down (RFC 9260 §3.3.10.10).
    CookieReceivedWhileShuttingDown,
    /// Restart of an Association with New Addresses (RFC 9260 §3.3.10.11):
    /// the address parameter TLVs that are new.
    RestartWithNewAddresses(Bytes),
    /// User-Initiated Abort (RFC 9260 §3.3.10.12): the upper layer's reason.
    UserInitiatedAbort(Bytes),
    /// Protocol Violation (RFC 9260 §3.3.10.13): additional information.
    ProtocolViolation(Bytes),
    /// Request to Delete Last Remaining IP Address (RFC 5061 §5.1): the
    /// offending ASCONF parameter TLV.
    DeleteLastRemainingIp(Bytes),
    /// Operation Refused Due to Resource Shortage (RFC 5061 §5.1).
    ResourceShortage(Bytes),
    /// Request to Delete Source IP Address (RFC 5061 §5.1).
    DeleteSourceIp(Bytes),
    /// Association Aborted Due to Illegal ASCONF-ACK (RFC 5061 §5.1).
    IllegalAsconfAck,
    /// Request Refused - No Authorization (RFC 5061 §5.1).
    NoAuthorization(Bytes),
    /// Unsupported HMAC Identifier (RFC 4895 §4.1).
    UnsupportedHmacIdentifier(u16),
    /// A cause this crate does not know, value kept verbatim.
    Unknown {
        /// Its code.
        code: CauseCode,
        /// Its value, without code, length and padding.
        value: Bytes,
    },
}

impl ErrorCause {
    /// The cause code.
    pub fn code(&self) -> CauseCode {
        use ErrorCause::*;
        match self {
            InvalidStreamIdentifier(_) => CauseCode::INVALID_STREAM_IDENTIFIER,
            MissingMandatoryParameter(_) => CauseCode::MISSING_MANDATORY_PARAMETER,
            StaleCookie(_) => CauseCode::STALE_COOKIE,
            OutOfResource => CauseCode::OUT_OF_RESOURCE,
            UnresolvableAddress(_) => CauseCode::UNRESOLVABLE_ADDRESS,
            UnrecognizedChunkType(_) => CauseCode::UNRECOGNIZED_CHUNK_TYPE,
            InvalidMandatoryParameter => CauseCode::INVALID_MANDATORY_PARAMETER,
            UnrecognizedParameters(_) => CauseCode::UNRECOGNIZED_PARAMETERS,
            NoUserData(_) => CauseCode::NO_USER_DATA,
            CookieReceivedWhileShuttingDown => CauseCode::COOKIE_RECEIVED_WHILE_SHUTTING_DOWN,
            RestartWithNewAddresses(_) => CauseCode::RESTART_WITH_NEW_ADDRESSES,
            UserInitiatedAbort(_) => CauseCode::USER_INITIATED_ABORT,
            ProtocolViolation(_) => CauseCode::PROTOCOL_VIOLATION,
            DeleteLastRemainingIp(_) => CauseCode::DELETE_LAST_REMAINING_IP,
            ResourceShortage(_) => CauseCode::RESOURCE_SHORTAGE,
            DeleteSourceIp(_) => CauseCode::DELETE_SOURCE_IP,
            IllegalAsconfAck => CauseCode::ILLEGAL_ASCONF_ACK,
            NoAuthorization(_) => CauseCode::NO_AUTHORIZATION,
            UnsupportedHmacIdentifier(_) => CauseCode::UNSUPPORTED_HMAC_IDENTIFIER,
            Unknown { code, .. } => *code,
        }
    }

    /// Length of the value, without code, length and padding.
    pub fn value_len(&self) -> usize {
        use ErrorCause::*;
        match self {
            InvalidStreamIdentifier(_) | StaleCookie(_) | NoUserData(_) => 4,
            UnsupportedHmacIdentifier(_) => 2,
            MissingMandatoryParameter(v) => 4 + 2 * v.len(),
            OutOfResource
            | InvalidMandatoryParameter
            | CookieReceivedWhileShuttingDown
            | IllegalAsconfAck => 0,
            UnresolvableAddress(b)
            | UnrecognizedChunkType(b)
            | UnrecognizedParameters(b)
            | RestartWithNewAddresses(b)
            | UserInitiatedAbort(b)
            | ProtocolViolation(b)
            | DeleteLastRemainingIp(b)
            | ResourceShortage(b)
            | DeleteSourceIp(b)
            | NoAuthorization(b) => b.len(),
            Unknown { value, .. } => value.len(),
        }
    }

    /// Length of the cause without trailing padding (its length field).
    pub fn len(&self) -> usize {
        CAUSE_HEADER_LEN + self.value_len()
    }

    /// Always false: a cause is at least its 4-byte header.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the cause and its zero padding.
    pub fn emit(&self, out: &mut impl BufMut) {
        use ErrorCause::*;
        let len = self.len();
        out.put_u16(self.code().0);
        out.put_u16(len as u16);
        match self {
            InvalidStreamIdentifier(s) => {
                out.put_u16(*s);
                out.put_u16(0);
            }
            StaleCookie(v) => out.put_u32(*v),
            NoUserData(t) => out.put_u32(t.0),
            UnsupportedHmacIdentifier(id) => out.put_u16(*id),
            MissingMandatoryParameter(v) => {
                out.put_u32(v.len() as u32);
                v.iter().for_each(|t| out.put_u16(t.0));
            }
            OutOfResource
            | InvalidMandatoryParameter
            | CookieReceivedWhileShuttingDown
            | IllegalAsconfAck => {}
            UnresolvableAddress(b)
            | UnrecognizedChunkType(b)
            | UnrecognizedParameters(b)
            | RestartWithNewAddresses(b)
            | UserInitiatedAbort(b)
            | ProtocolViolation(b)
            | DeleteLastRemainingIp(b)
            | ResourceShortage(b)
            | DeleteSourceIp(b)
            | NoAuthorization(b) => out.put_slice(b),
            Unknown { value, .. } => out.put_slice(value),
        }
        out.put_bytes(0, padded(len) - len);
    }

    fn parse_value(code: CauseCode, mut r: Reader) -> Result<ErrorCause> {
        use ErrorCause::*;
        let c = match code {
            CauseCode::INVALID_STREAM_IDENTIFIER => {
                let s = r.u16("stream identifier")?;
                let _reserved = r.u16("reserved")?;
                InvalidStreamIdentifier(s)
            }
            CauseCode::MISSING_MANDATORY_PARAMETER => {
                let n = r.u32("number of missing parameters")?;
                let types = r.list(2, "missing parameter types", |r| {
                    r.u16("parameter type").map(ParamType)
                })?;
                if types.len() as u64 != u64::from(n) {
                    return Err(
                        r.error(crate::ErrorKind::BadLength, "number of missing parameters")
                    );
                }
                MissingMandatoryParameter(types)
            }
            CauseCode::STALE_COOKIE => StaleCookie(r.u32("measure of staleness")?),
            CauseCode::OUT_OF_RESOURCE => OutOfResource,
            CauseCode::UNRESOLVABLE_ADDRESS => UnresolvableAddress(r.rest()),
            CauseCode::UNRECOGNIZED_CHUNK_TYPE => UnrecognizedChunkType(r.rest()),
            CauseCode::INVALID_MANDATORY_PARAMETER => InvalidMandatoryParameter,
            CauseCode::UNRECOGNIZED_PARAMETERS => UnrecognizedParameters(r.rest()),
            CauseCode::NO_USER_DATA => NoUserData(Tsn(r.u32("TSN")?)),
            CauseCode::COOKIE_RECEIVED_WHILE_SHUTTING_DOWN => CookieReceivedWhileShuttingDown,
            CauseCode::RESTART_WITH_NEW_ADDRESSES => RestartWithNewAddresses(r.rest()),
            CauseCode::USER_INITIATED_ABORT => UserInitiatedAbort(r.rest()),
            CauseCode::PROTOCOL_VIOLATION => ProtocolViolation(r.rest()),
            CauseCode::DELETE_LAST_REMAINING_IP => DeleteLastRemainingIp(r.rest()),
            CauseCode::RESOURCE_SHORTAGE => ResourceShortage(r.rest()),
            CauseCode::DELETE_SOURCE_IP => DeleteSourceIp(r.rest()),
            CauseCode::ILLEGAL_ASCONF_ACK => IllegalAsconfAck,
            CauseCode::NO_AUTHORIZATION => NoAuthorization(r.rest()),
            CauseCode::UNSUPPORTED_HMAC_IDENTIFIER => {
                UnsupportedHmacIdentifier(r.u16("HMAC identifier")?)
            }
            _ => Unknown {
                code,
                value: r.rest(),
            },
        };
        r.finish("value")?;
        Ok(c)
    }
}

/// Reads error causes until `r` is exhausted.
pub(crate) fn parse_causes(r: &mut Reader) -> Result<Vec<ErrorCause>> {
    let mut out = Vec::new();
    while !r.is_empty() {
        let (code, body) = next_tlv(r, "error cause", |c| CauseCode(c).name())?;
        out.push(ErrorCause::parse_value(CauseCode(code), body)?);
    }
    Ok(out)
}

/// Length of a cause list as the enclosing length field counts it (every
/// cause padded but the last, as for parameters in RFC 9260 §3.2).
pub(crate) fn causes_len(causes: &[ErrorCause]) -> usize {
    let padded_sum: usize = causes.iter().map(|c| padded(c.len())).sum();
    match causes.last() {
        Some(last) => padded_sum - (padded(last.len()) - last.len()),
        None => 0,
    }
}

/// Writes a cause list, every cause padded.
pub(crate) fn emit_causes(causes: &[ErrorCause], out: &mut impl BufMut) {
    causes.iter().for_each(|c| c.emit(out));
}
