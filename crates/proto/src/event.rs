//! Events an association reports to the application, mirroring the RFC 6458
//! notifications (§6.1) as typed Rust values.

use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use msctp_wire::ErrorCause;

use crate::path::PathState;

/// Why an association went up or down (RFC 6458 §6.1.1 `sac_state`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssociationChange {
    /// SCTP_COMM_UP: the association is established and can carry data.
    CommUp {
        /// Streams we may send on.
        outbound_streams: u16,
        /// Streams the peer may send on.
        inbound_streams: u16,
    },
    /// SCTP_COMM_LOST: the association failed (too many retransmissions,
    /// or aborted by the peer).
    CommLost {
        /// Why.
        reason: CloseReason,
    },
    /// SCTP_RESTART: the peer restarted (RFC 9260 §5.2.4).
    Restart,
    /// SCTP_SHUTDOWN_COMP: graceful shutdown finished.
    ShutdownComplete,
    /// SCTP_CANT_STR_ASSOC: the handshake failed.
    CantStartAssociation {
        /// Why.
        reason: CloseReason,
    },
}

/// Why an association ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// Association.Max.Retrans exceeded (RFC 9260 §8.1).
    RetransmissionLimit,
    /// Max.Init.Retransmits exceeded (RFC 9260 §5.1).
    InitRetransmissionLimit,
    /// The peer sent ABORT, with these causes.
    PeerAborted(Vec<ErrorCause>),
    /// The application aborted.
    LocalAbort,
    /// The peer violated the protocol; we sent ABORT with this cause.
    ProtocolError(ErrorCause),
    /// T5-shutdown-guard expired (RFC 9260 §9.2).
    ShutdownGuardExpired,
    /// An ICMP protocol unreachable: the peer has no SCTP (RFC 9260
    /// Appendix C ICMP8).
    ProtocolUnreachable,
}

/// What happened to a peer address (RFC 6458 §6.1.2 `spc_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressChange {
    /// SCTP_ADDR_AVAILABLE: the path is active again.
    Available,
    /// SCTP_ADDR_UNREACHABLE: the path became inactive.
    Unreachable,
    /// SCTP_ADDR_POTENTIALLY_FAILED (RFC 7829 §7): data moves off the path.
    PotentiallyFailed,
    /// SCTP_ADDR_CONFIRMED: a HEARTBEAT ACK confirmed the address (RFC 9260 §5.4).
    Confirmed,
    /// SCTP_ADDR_MADE_PRIM: the address became the primary path.
    MadePrimary,
    /// SCTP_ADDR_ADDED: the address joined the association.
    Added,
}

/// An event for the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The association changed state.
    Association(AssociationChange),
    /// A peer address changed state.
    PeerAddress {
        /// The peer address.
        address: IpAddr,
        /// What happened.
        change: AddressChange,
        /// The path's state before and after.
        from: PathState,
        /// The path's state now.
        to: PathState,
    },
    /// A HEARTBEAT ACK measured a path's round-trip time.
    HeartbeatAcked {
        /// The peer address probed.
        address: IpAddr,
        /// The measured round-trip time.
        rtt: Duration,
    },
    /// A message could not be sent (RFC 6458 §6.1.4 SCTP_SEND_FAILED_EVENT).
    SendFailed {
        /// Stream of the message.
        stream: u16,
        /// Its payload protocol identifier.
        ppid: u32,
        /// Its data.
        data: Bytes,
        /// Whether any of it had been transmitted.
        sent: bool,
    },
    /// The peer started a graceful shutdown (SCTP_SHUTDOWN_EVENT).
    Shutdown,
    /// The peer reported an error (SCTP_REMOTE_ERROR).
    RemoteError(Vec<ErrorCause>),
    /// Messages are waiting to be read with `recv`.
    Readable,
    /// Everything queued has been sent and acknowledged (SCTP_SENDER_DRY_EVENT).
    SenderDry,
}
