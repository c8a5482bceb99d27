//! What a run leaves to look at: the event log, wire errors and captures
//! (the [`Sim`] methods that read them, and the helper that appends to the
//! log).

use crate::link::{Direction, LinkId};
use crate::log::{LogEntry, LogKind, NO_ADDRESS};
use crate::pcap::Recorder;
use crate::sim::Sim;
use crate::wire_check::WireError;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

impl Sim {
    /// The event log (empty when logging is off).
    pub fn log(&self) -> &[LogEntry] {
        &self.log
    }

    /// The event log, one line per entry.
    pub fn log_text(&self) -> String {
        let mut out = String::new();
        for e in &self.log {
            let _ = writeln!(out, "{e}");
        }
        out
    }

    /// Empties the event log.
    pub fn clear_log(&mut self) {
        self.log.clear();
    }

    /// Turns the event log on or off.
    pub fn set_logging(&mut self, on: bool) {
        self.config.log = on;
    }

    /// Datagrams that failed the wire check (only when
    /// [`crate::SimConfig::panic_on_wire_error`] is off; otherwise the first one
    /// panics).
    pub fn wire_errors(&self) -> &[WireError] {
        &self.wire_errors
    }

    /// Starts capturing `link` (from now on; no effect if it already is).
    pub fn enable_pcap(&mut self, link: LinkId) {
        let l = &mut self.links[link.0];
        if l.pcap.is_none() {
            l.pcap = Some(Recorder::new());
        }
    }

    /// Starts capturing every link into one combined file.
    pub fn enable_combined_pcap(&mut self) {
        if self.combined.is_none() {
            self.combined = Some(Recorder::new());
        }
    }

    /// The capture of `link` so far, a complete pcap file.
    ///
    /// # Panics
    ///
    /// If the link is not captured ([`Sim::enable_pcap`],
    /// [`crate::SimConfig::record_pcap`]).
    pub fn pcap_bytes(&self, link: LinkId) -> Vec<u8> {
        match &self.links[link.0].pcap {
            Some(r) => r.bytes().to_vec(),
            None => panic!(
                "{link} is not captured: call Sim::enable_pcap or set SimConfig::record_pcap"
            ),
        }
    }

    /// Number of frames captured on `link` (0 if it is not captured).
    pub fn pcap_frames(&self, link: LinkId) -> u64 {
        self.links[link.0].pcap.as_ref().map_or(0, Recorder::frames)
    }

    /// The combined capture of all links so far.
    ///
    /// # Panics
    ///
    /// If it is not enabled ([`Sim::enable_combined_pcap`],
    /// [`crate::SimConfig::combined_pcap`]).
    pub fn combined_pcap_bytes(&self) -> Vec<u8> {
        match &self.combined {
            Some(r) => r.bytes().to_vec(),
            None => panic!(
                "the combined capture is off: call Sim::enable_combined_pcap or set SimConfig::combined_pcap"
            ),
        }
    }

    /// Writes every capture into `dir`: `{prefix}-link{N}.pcap` per captured
    /// link and `{prefix}-all.pcap` for the combined one. Returns the paths
    /// written.
    pub fn write_pcaps(
        &self,
        dir: impl AsRef<Path>,
        prefix: &str,
    ) -> std::io::Result<Vec<PathBuf>> {
        let dir = dir.as_ref();
        let mut written = Vec::new();
        let mut write = |name: String, bytes: &[u8]| -> std::io::Result<()> {
            let path = dir.join(name);
            std::fs::write(&path, bytes)?;
            written.push(path);
            Ok(())
        };
        for (i, l) in self.links.iter().enumerate() {
            if let Some(r) = &l.pcap {
                write(format!("{prefix}-link{}.pcap", i + 1), r.bytes())?;
            }
        }
        if let Some(r) = &self.combined {
            write(format!("{prefix}-all.pcap"), r.bytes())?;
        }
        Ok(written)
    }

    pub(crate) fn note_link(&mut self, link: LinkId, dir: Direction, kind: LogKind) {
        self.note(Some(link), Some(dir), kind, NO_ADDRESS, NO_ADDRESS, 0);
    }

    /// Appends a log entry if logging is on.
    pub(crate) fn note(
        &mut self,
        link: Option<LinkId>,
        direction: Option<Direction>,
        kind: LogKind,
        src: IpAddr,
        dst: IpAddr,
        len: usize,
    ) {
        if self.config.log {
            self.log.push(LogEntry {
                time: self.elapsed(),
                link,
                direction,
                kind,
                src,
                dst,
                len,
            });
        }
    }
}
