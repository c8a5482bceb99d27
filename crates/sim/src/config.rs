//! Simulator-wide settings ([`SimConfig`]): the wire check, the event log,
//! captures, and the livelock guards.

/// Settings of a [`crate::Sim`]. The defaults suit tests: every datagram is
/// checked and logged; [`SimConfig::fast`] suits big benchmark runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimConfig {
    /// Parse every datagram an agent transmits with
    /// `msctp_wire::Packet::parse` (CRC32c verified) and record failures in
    /// [`crate::Sim::wire_errors`]. Default: on.
    pub check_wire: bool,
    /// Panic, with the datagram in hex and the parse error, on the first
    /// wire error. Default: on.
    pub panic_on_wire_error: bool,
    /// Keep the event log ([`crate::Sim::log`]). Default: on.
    pub log: bool,
    /// Capture every link (as if [`crate::Sim::enable_pcap`] were called for
    /// each link when it is added). Default: off.
    pub record_pcap: bool,
    /// Also capture all links into one combined file
    /// ([`crate::Sim::combined_pcap_bytes`]). Default: off.
    pub combined_pcap: bool,
    /// Panic when more than this many events happen at one virtual instant:
    /// an agent that keeps asking for a timeout that is not in the future
    /// would otherwise spin forever. Default: 1 000 000.
    pub max_events_per_instant: u64,
    /// Panic when one agent returns more than this many datagrams from one
    /// round of `poll_transmit`. Default: 1 000 000.
    pub max_transmits_per_poll: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            check_wire: true,
            panic_on_wire_error: true,
            log: true,
            record_pcap: false,
            combined_pcap: false,
            max_events_per_instant: 1_000_000,
            max_transmits_per_poll: 1_000_000,
        }
    }
}

impl SimConfig {
    /// For big runs: no wire check, no log, no captures.
    pub fn fast() -> SimConfig {
        SimConfig {
            check_wire: false,
            log: false,
            ..SimConfig::default()
        }
    }
}
