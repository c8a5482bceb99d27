//! Captures of simulated links: every datagram as it enters a link (before
//! any loss, as a capture at the sender's side of the wire sees it) and
//! every ICMP error sent back over it, as raw IP frames (`LINKTYPE_RAW`) with
//! real addresses, in classic pcap files with nanosecond timestamps
//! [`crate::clock::PCAP_EPOCH`] + virtual time.
//!
//! The files are written with `msctp_wire::capture::PcapWriter` into memory;
//! [`crate::Sim::pcap_bytes`] and [`crate::Sim::write_pcaps`] hand them out.

use crate::agent::Datagram;
use crate::clock::{Nanos, PCAP_EPOCH};
use msctp_wire::capture::{PcapWriter, sctp_over_ip};
use std::time::Duration;

/// An in-memory pcap file being written.
#[derive(Debug)]
pub(crate) struct Recorder {
    writer: PcapWriter<Vec<u8>>,
}

impl Recorder {
    /// An empty capture (just the file header).
    pub(crate) fn new() -> Recorder {
        Recorder {
            // Writing to a Vec cannot fail.
            writer: PcapWriter::new(Vec::new()).expect("writing to memory"),
        }
    }

    /// Appends a frame captured at virtual time `t`.
    pub(crate) fn record(&mut self, t: Nanos, frame: &[u8]) {
        let timestamp = PCAP_EPOCH + Duration::from_nanos(t);
        // Only fails for timestamps after 2106 or I/O errors, which memory
        // does not have; such frames are left out rather than failing a run.
        let _ = self.writer.write_frame(timestamp, frame);
    }

    /// The file so far.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.writer.get_ref()
    }

    /// Number of frames recorded.
    pub(crate) fn frames(&self) -> u64 {
        self.writer.frames_written()
    }
}

/// The raw IP frame of a datagram, or `None` if it cannot be built (mixed
/// address families, or too long for IP).
pub(crate) fn frame(datagram: &Datagram) -> Option<Vec<u8>> {
    sctp_over_ip(datagram.src, datagram.dst, &datagram.payload).ok()
}
