//! What an endpoint is created with: the protocol configuration (RFC 9260
//! §16 names, see [`msctp_proto::Config`]), the transport, and capture.

use std::path::PathBuf;

use msctp_proto::Config;

use crate::events::EventKinds;
use crate::transport::TransportKind;

/// Options of a listener or a connecting stream.
#[derive(Debug, Clone)]
pub struct Options {
    /// Protocol parameters. `rng_secret` (when `None`) and `cookie_secret`
    /// (when all zero) are filled from the operating system's random source,
    /// so the runtime's verification tags, TSNs and nonces come from a
    /// CSPRNG and `rng_seed` is not used.
    pub config: Config,
    /// Raw IP (needs `CAP_NET_RAW`) or UDP encapsulation (RFC 6951).
    pub transport: TransportKind,
    /// The peer's UDP port for UDP encapsulation (RFC 6951 §5.1: 9899).
    pub remote_udp_port: u16,
    /// Write every SCTP packet sent and received to this pcap file.
    pub pcap: Option<PathBuf>,
    /// Which events `next_event` reports (RFC 6458 §6.2); association
    /// changes always are. See [`EventKinds::default`].
    pub events: EventKinds,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            config: Config::default(),
            transport: TransportKind::Raw,
            remote_udp_port: crate::transport::SCTP_UDP_PORT,
            pcap: None,
            events: EventKinds::default(),
        }
    }
}

impl Options {
    /// UDP encapsulation on `port` (local) to the peer's 9899.
    pub fn udp(port: u16) -> Self {
        Options {
            transport: TransportKind::Udp { port },
            ..Options::default()
        }
    }
}
