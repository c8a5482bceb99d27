//! Errors of the transport layer.

use std::io;
use std::net::IpAddr;

/// What to do about a missing `CAP_NET_RAW`, as [`TransportError::NeedsCapNetRaw`]
/// carries it.
pub const CAP_NET_RAW_HINT: &str = "run as root or `setcap cap_net_raw+ep`";

/// Why a [`Transport`](super::Transport) could not be bound, or could not
/// send or receive.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// Opening a raw IP socket (protocol 132, or ICMP) was refused: the
    /// process lacks `CAP_NET_RAW`.
    #[error("raw SCTP needs CAP_NET_RAW ({hint}), or use --transport udp which needs no privilege")]
    NeedsCapNetRaw {
        /// How to get the capability.
        hint: &'static str,
    },
    /// A local address given to `bind` is not an address of this host (or
    /// of this network namespace).
    #[error("address {0} is not an address of this host (bind to addresses of local interfaces)")]
    AddressNotLocal(IpAddr),
    /// The UDP port is already bound by another socket on one of the
    /// addresses.
    #[error("UDP port {0} is already in use on one of the local addresses")]
    PortInUse(u16),
    /// `bind` was given no local address.
    #[error("no local address given: a transport needs at least one")]
    NoLocalAddress,
    /// `bind` was given SCTP port 0, which RFC 9260 §3.1 reserves.
    #[error("SCTP port 0 cannot be used (RFC 9260 §3.1); choose a port from 1 to 65535")]
    ZeroPort,
    /// A local address of a kind the transport cannot bind to.
    #[error("cannot bind to {addr}: {reason}")]
    UnsupportedAddress {
        /// The address.
        addr: IpAddr,
        /// Why it cannot be used.
        reason: &'static str,
    },
    /// `send` was asked to use a source address the transport is not bound
    /// to.
    #[error("source address {0} is not one of this transport's local addresses")]
    NotBound(IpAddr),
    /// Source and destination of a packet are of different address families.
    #[error("cannot send from {local} to {remote}: different address families")]
    FamilyMismatch {
        /// The source address.
        local: IpAddr,
        /// The destination address.
        remote: IpAddr,
    },
    /// Any other error of the operating system, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What the transport was doing.
        context: String,
        /// The system's error.
        #[source]
        source: io::Error,
    },
}

impl TransportError {
    /// Wraps a system error with what was being done.
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        TransportError::Io {
            context: context.into(),
            source,
        }
    }

    /// The system error number behind this error, if any.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            TransportError::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

impl From<TransportError> for io::Error {
    fn from(e: TransportError) -> io::Error {
        let kind = match &e {
            TransportError::NeedsCapNetRaw { .. } => io::ErrorKind::PermissionDenied,
            TransportError::AddressNotLocal(_) => io::ErrorKind::AddrNotAvailable,
            TransportError::PortInUse(_) => io::ErrorKind::AddrInUse,
            TransportError::Io { source, .. } => source.kind(),
            _ => io::ErrorKind::InvalidInput,
        };
        io::Error::new(kind, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_do() {
        let e = TransportError::NeedsCapNetRaw {
            hint: CAP_NET_RAW_HINT,
        };
        assert_eq!(
            e.to_string(),
            "raw SCTP needs CAP_NET_RAW (run as root or `setcap cap_net_raw+ep`), \
             or use --transport udp which needs no privilege"
        );
        assert_eq!(io::Error::from(e).kind(), io::ErrorKind::PermissionDenied);
        let e = TransportError::AddressNotLocal("192.0.2.99".parse().unwrap());
        assert!(
            e.to_string().starts_with("address 192.0.2.99 is not"),
            "{e}"
        );
        assert_eq!(io::Error::from(e).kind(), io::ErrorKind::AddrNotAvailable);
        let e = TransportError::PortInUse(9899);
        assert_eq!(io::Error::from(e).kind(), io::ErrorKind::AddrInUse);
        let e = TransportError::io("sending", io::Error::from_raw_os_error(libc::ENETUNREACH));
        assert_eq!(e.raw_os_error(), Some(libc::ENETUNREACH));
        assert!(e.to_string().starts_with("sending: "), "{e}");
    }
}
