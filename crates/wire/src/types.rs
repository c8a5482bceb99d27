//! Type codes: chunk types, parameter types and error-cause codes, with their
//! RFC names and, for chunks and parameters, the action the two high-order bits
//! ask of a receiver that does not recognise the type (RFC 9260 §3.2, §3.2.1).

use core::fmt;

/// What a receiver does with a chunk or parameter type it does not recognise,
/// encoded in the type's two high-order bits (RFC 9260 §3.2 for chunks,
/// §3.2.1 for parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnrecognizedAction {
    /// `00`: stop processing and discard (for chunks: the whole packet; for
    /// parameters: the rest of the chunk), report nothing.
    Stop,
    /// `01`: stop processing and discard, and report it (ERROR with an
    /// Unrecognized Chunk Type cause, or an Unrecognized Parameter).
    StopAndReport,
    /// `10`: skip it and continue processing.
    Skip,
    /// `11`: skip it, continue processing, and report it.
    SkipAndReport,
}

impl UnrecognizedAction {
    const fn from_high_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0b00 => UnrecognizedAction::Stop,
            0b01 => UnrecognizedAction::StopAndReport,
            0b10 => UnrecognizedAction::Skip,
            _ => UnrecognizedAction::SkipAndReport,
        }
    }

    /// True for the actions that continue with the next chunk or parameter.
    pub const fn skips(self) -> bool {
        matches!(
            self,
            UnrecognizedAction::Skip | UnrecognizedAction::SkipAndReport
        )
    }

    /// True for the actions that report the unrecognised type to the peer.
    pub const fn reports(self) -> bool {
        matches!(
            self,
            UnrecognizedAction::StopAndReport | UnrecognizedAction::SkipAndReport
        )
    }
}

macro_rules! codes {
    ($(#[$doc:meta])* $name:ident($int:ty) { $($(#[$cdoc:meta])* $c:ident = $v:expr, $s:expr;)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $int);

        impl $name {
            $($(#[$cdoc])* pub const $c: $name = $name($v);)*

            /// Every code this crate knows, in numeric order of declaration.
            pub const KNOWN: &'static [$name] = &[$($name::$c),*];

            /// The RFC's name for the code, or `None` if this crate does not know it.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($v => Some($s),)*
                    _ => None,
                }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => write!(f, "{}({})", n, self.0),
                    None => write!(f, "{}({})", stringify!($name), self.0),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "0x{:x}", self.0),
                }
            }
        }
    };
}

codes!(
    /// A chunk type (RFC 9260 §3.2 and the extension RFCs).
    ChunkType(u8) {
        /// Payload Data (RFC 9260 §3.3.1).
        DATA = 0, "DATA";
        /// Initiation (RFC 9260 §3.3.2).
        INIT = 1, "INIT";
        /// Initiation Acknowledgement (RFC 9260 §3.3.3).
        INIT_ACK = 2, "INIT ACK";
        /// Selective Acknowledgement (RFC 9260 §3.3.4).
        SACK = 3, "SACK";
        /// Heartbeat Request (RFC 9260 §3.3.5).
        HEARTBEAT = 4, "HEARTBEAT";
        /// Heartbeat Acknowledgement (RFC 9260 §3.3.6).
        HEARTBEAT_ACK = 5, "HEARTBEAT ACK";
        /// Abort (RFC 9260 §3.3.7).
        ABORT = 6, "ABORT";
        /// Shutdown (RFC 9260 §3.3.8).
        SHUTDOWN = 7, "SHUTDOWN";
        /// Shutdown Acknowledgement (RFC 9260 §3.3.9).
        SHUTDOWN_ACK = 8, "SHUTDOWN ACK";
        /// Operation Error (RFC 9260 §3.3.10).
        ERROR = 9, "ERROR";
        /// State Cookie (RFC 9260 §3.3.11).
        COOKIE_ECHO = 10, "COOKIE ECHO";
        /// Cookie Acknowledgement (RFC 9260 §3.3.12).
        COOKIE_ACK = 11, "COOKIE ACK";
        /// Explicit Congestion Notification Echo (RFC 9260 Appendix A).
        ECNE = 12, "ECNE";
        /// Congestion Window Reduced (RFC 9260 Appendix A).
        CWR = 13, "CWR";
        /// Shutdown Complete (RFC 9260 §3.3.13).
        SHUTDOWN_COMPLETE = 14, "SHUTDOWN COMPLETE";
        /// Authentication (RFC 4895 §4.1).
        AUTH = 15, "AUTH";
        /// I-DATA (RFC 8260 §2.1).
        I_DATA = 64, "I-DATA";
        /// ASCONF-ACK (RFC 5061 §4.1.2).
        ASCONF_ACK = 0x80, "ASCONF-ACK";
        /// RE-CONFIG (RFC 6525 §3.1).
        RE_CONFIG = 0x82, "RE-CONFIG";
        /// Padding (RFC 4820 §3).
        PAD = 0x84, "PAD";
        /// Forward Cumulative TSN (RFC 3758 §3.2).
        FORWARD_TSN = 0xC0, "FORWARD TSN";
        /// Address Configuration Change (RFC 5061 §4.1.1).
        ASCONF = 0xC1, "ASCONF";
        /// I-FORWARD-TSN (RFC 8260 §2.3.1).
        I_FORWARD_TSN = 0xC2, "I-FORWARD-TSN";
    }
);

impl ChunkType {
    /// What to do if this type is not recognised (RFC 9260 §3.2).
    pub const fn action(self) -> UnrecognizedAction {
        UnrecognizedAction::from_high_bits(self.0 >> 6)
    }
}

codes!(
    /// A parameter type (RFC 9260 §3.2.1 and the extension RFCs).
    ParamType(u16) {
        /// Heartbeat Info (RFC 9260 §3.3.5).
        HEARTBEAT_INFO = 1, "Heartbeat Info";
        /// IPv4 Address (RFC 9260 §3.3.2.1).
        IPV4_ADDRESS = 5, "IPv4 Address";
        /// IPv6 Address (RFC 9260 §3.3.2.1).
        IPV6_ADDRESS = 6, "IPv6 Address";
        /// State Cookie (RFC 9260 §3.3.3.1).
        STATE_COOKIE = 7, "State Cookie";
        /// Unrecognized Parameter (RFC 9260 §3.3.3.1).
        UNRECOGNIZED_PARAMETER = 8, "Unrecognized Parameter";
        /// Cookie Preservative (RFC 9260 §3.3.2.1).
        COOKIE_PRESERVATIVE = 9, "Cookie Preservative";
        /// Host Name Address (RFC 9260 §3.3.2.1, deprecated).
        HOST_NAME_ADDRESS = 11, "Host Name Address";
        /// Supported Address Types (RFC 9260 §3.3.2.1).
        SUPPORTED_ADDRESS_TYPES = 12, "Supported Address Types";
        /// Outgoing SSN Reset Request (RFC 6525 §4.1).
        OUTGOING_SSN_RESET_REQUEST = 13, "Outgoing SSN Reset Request";
        /// Incoming SSN Reset Request (RFC 6525 §4.2).
        INCOMING_SSN_RESET_REQUEST = 14, "Incoming SSN Reset Request";
        /// SSN/TSN Reset Request (RFC 6525 §4.3).
        SSN_TSN_RESET_REQUEST = 15, "SSN/TSN Reset Request";
        /// Re-configuration Response (RFC 6525 §4.4).
        RECONFIG_RESPONSE = 16, "Re-configuration Response";
        /// Add Outgoing Streams Request (RFC 6525 §4.5).
        ADD_OUTGOING_STREAMS_REQUEST = 17, "Add Outgoing Streams Request";
        /// Add Incoming Streams Request (RFC 6525 §4.6).
        ADD_INCOMING_STREAMS_REQUEST = 18, "Add Incoming Streams Request";
        /// ECN Capable (RFC 9260 Appendix A).
        ECN_CAPABLE = 0x8000, "ECN Capable";
        /// Zero Checksum Acceptable (RFC 9653 §3).
        ZERO_CHECKSUM_ACCEPTABLE = 0x8001, "Zero Checksum Acceptable";
        /// Random (RFC 4895 §3.1).
        RANDOM = 0x8002, "Random";
        /// Chunk List (RFC 4895 §3.2).
        CHUNK_LIST = 0x8003, "Chunk List";
        /// Requested HMAC Algorithm (RFC 4895 §3.3).
        REQUESTED_HMAC_ALGORITHM = 0x8004, "Requested HMAC Algorithm";
        /// Padding (RFC 4820 §4).
        PADDING = 0x8005, "Padding";
        /// Supported Extensions (RFC 5061 §4.2.7).
        SUPPORTED_EXTENSIONS = 0x8008, "Supported Extensions";
        /// Forward-TSN-Supported (RFC 3758 §3.1).
        FORWARD_TSN_SUPPORTED = 0xC000, "Forward-TSN-Supported";
        /// Add IP Address (RFC 5061 §4.2.1).
        ADD_IP_ADDRESS = 0xC001, "Add IP Address";
        /// Delete IP Address (RFC 5061 §4.2.2).
        DELETE_IP_ADDRESS = 0xC002, "Delete IP Address";
        /// Error Cause Indication (RFC 5061 §4.2.3).
        ERROR_CAUSE_INDICATION = 0xC003, "Error Cause Indication";
        /// Set Primary Address (RFC 5061 §4.2.4).
        SET_PRIMARY_ADDRESS = 0xC004, "Set Primary Address";
        /// Success Indication (RFC 5061 §4.2.5).
        SUCCESS_INDICATION = 0xC005, "Success Indication";
        /// Adaptation Layer Indication (RFC 5061 §4.2.6).
        ADAPTATION_LAYER_INDICATION = 0xC006, "Adaptation Layer Indication";
    }
);

impl ParamType {
    /// What to do if this type is not recognised (RFC 9260 §3.2.1).
    pub const fn action(self) -> UnrecognizedAction {
        UnrecognizedAction::from_high_bits((self.0 >> 14) as u8)
    }
}

codes!(
    /// An error-cause code (RFC 9260 §3.3.10 and the extension RFCs).
    CauseCode(u16) {
        /// Invalid Stream Identifier (RFC 9260 §3.3.10.1).
        INVALID_STREAM_IDENTIFIER = 1, "Invalid Stream Identifier";
        /// Missing Mandatory Parameter (RFC 9260 §3.3.10.2).
        MISSING_MANDATORY_PARAMETER = 2, "Missing Mandatory Parameter";
        /// Stale Cookie (RFC 9260 §3.3.10.3).
        STALE_COOKIE = 3, "Stale Cookie";
        /// Out of Resource (RFC 9260 §3.3.10.4).
        OUT_OF_RESOURCE = 4, "Out of Resource";
        /// Unresolvable Address (RFC 9260 §3.3.10.5).
        UNRESOLVABLE_ADDRESS = 5, "Unresolvable Address";
        /// Unrecognized Chunk Type (RFC 9260 §3.3.10.6).
        UNRECOGNIZED_CHUNK_TYPE = 6, "Unrecognized Chunk Type";
        /// Invalid Mandatory Parameter (RFC 9260 §3.3.10.7).
        INVALID_MANDATORY_PARAMETER = 7, "Invalid Mandatory Parameter";
        /// Unrecognized Parameters (RFC 9260 §3.3.10.8).
        UNRECOGNIZED_PARAMETERS = 8, "Unrecognized Parameters";
        /// No User Data (RFC 9260 §3.3.10.9).
        NO_USER_DATA = 9, "No User Data";
        /// Cookie Received While Shutting Down (RFC 9260 §3.3.10.10).
        COOKIE_RECEIVED_WHILE_SHUTTING_DOWN = 10, "Cookie Received While Shutting Down";
        /// Restart of an Association with New Addresses (RFC 9260 §3.3.10.11).
        RESTART_WITH_NEW_ADDRESSES = 11, "Restart of an Association with New Addresses";
        /// User-Initiated Abort (RFC 9260 §3.3.10.12).
        USER_INITIATED_ABORT = 12, "User-Initiated Abort";
        /// Protocol Violation (RFC 9260 §3.3.10.13).
        PROTOCOL_VIOLATION = 13, "Protocol Violation";
        /// Request to Delete Last Remaining IP Address (RFC 5061 §5.1).
        DELETE_LAST_REMAINING_IP = 0xA0, "Request to Delete Last Remaining IP Address";
        /// Operation Refused Due to Resource Shortage (RFC 5061 §5.1).
        RESOURCE_SHORTAGE = 0xA1, "Operation Refused Due to Resource Shortage";
        /// Request to Delete Source IP Address (RFC 5061 §5.1).
        DELETE_SOURCE_IP = 0xA2, "Request to Delete Source IP Address";
        /// Association Aborted Due to Illegal ASCONF-ACK (RFC 5061 §5.1).
        ILLEGAL_ASCONF_ACK = 0xA3, "Association Aborted Due to Illegal ASCONF-ACK";
        /// Request Refused - No Authorization (RFC 5061 §5.1).
        NO_AUTHORIZATION = 0xA4, "Request Refused - No Authorization";
        /// Unsupported HMAC Identifier (RFC 4895 §4.1).
        UNSUPPORTED_HMAC_IDENTIFIER = 0x105, "Unsupported HMAC Identifier";
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9260 §3.2: the two high-order bits of the chunk type.
    #[test]
    fn chunk_type_actions() {
        assert_eq!(ChunkType(0x3f).action(), UnrecognizedAction::Stop);
        assert_eq!(ChunkType(0x40).action(), UnrecognizedAction::StopAndReport);
        assert_eq!(ChunkType(0x80).action(), UnrecognizedAction::Skip);
        assert_eq!(ChunkType(0xc0).action(), UnrecognizedAction::SkipAndReport);
        assert!(ChunkType::PAD.action().skips());
        assert!(!ChunkType::PAD.action().reports());
    }

    /// RFC 9260 §3.2.1: the two high-order bits of the parameter type.
    #[test]
    fn param_type_actions() {
        assert_eq!(ParamType(0x0001).action(), UnrecognizedAction::Stop);
        assert_eq!(
            ParamType(0x4001).action(),
            UnrecognizedAction::StopAndReport
        );
        assert_eq!(ParamType::ECN_CAPABLE.action(), UnrecognizedAction::Skip);
        assert_eq!(
            ParamType::FORWARD_TSN_SUPPORTED.action(),
            UnrecognizedAction::SkipAndReport
        );
    }

    #[test]
    fn names() {
        assert_eq!(ChunkType::INIT_ACK.to_string(), "INIT ACK");
        assert_eq!(ChunkType(0x99).to_string(), "0x99");
        assert_eq!(ParamType::IPV4_ADDRESS.name(), Some("IPv4 Address"));
        assert_eq!(CauseCode::STALE_COOKIE.name(), Some("Stale Cookie"));
    }
}
