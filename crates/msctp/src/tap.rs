//! [`PcapTap`]: a pcap recording of every SCTP packet a transport sends and
//! receives, with the real addresses and, for UDP encapsulation, the real UDP
//! ports, in the `RAW` link type (raw IPv4/IPv6 packets) that tcpdump,
//! Wireshark and `msctp decode` read.
//!
//! The IP (and UDP) headers are rebuilt by
//! [`msctp_wire::capture::sctp_over_ip`] / [`msctp_wire::capture::sctp_over_udp`]
//! from what the socket reports (addresses, ports, SCTP bytes): TTL, IPv4
//! identification and the like are those builders' canonical values, not the
//! ones on the wire. ICMP errors are not recorded.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use msctp_wire::capture::{PcapWriter, sctp_over_ip, sctp_over_udp};

/// Records SCTP packets to a pcap file (link type `RAW`, nanosecond
/// timestamps from the system clock).
///
/// Attach it to a [`Transport`](crate::transport::Transport) with
/// [`Transport::set_tap`](crate::transport::Transport::set_tap), or call
/// [`PcapTap::record`] directly. Writes are buffered and synchronous (a few
/// hundred bytes per packet into a `BufWriter`); a failing write does not
/// disturb the transport: it is counted ([`PcapTap::write_errors`]) and the
/// packet goes unrecorded. The buffer is flushed by [`PcapTap::flush`] and
/// when the tap is dropped.
pub struct PcapTap {
    writer: Mutex<PcapWriter<Box<dyn Write + Send>>>,
    write_errors: AtomicU64,
}

impl std::fmt::Debug for PcapTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcapTap")
            .field("frames", &self.frames())
            .field("write_errors", &self.write_errors())
            .finish()
    }
}

impl PcapTap {
    /// Creates (or truncates) the pcap file at `path` and writes its header.
    pub fn create(path: impl AsRef<Path>) -> io::Result<PcapTap> {
        let file = File::create(path.as_ref())?;
        Self::new(BufWriter::new(file))
    }

    /// Starts a pcap recording into any writer (wrap files in a
    /// `BufWriter`).
    pub fn new(writer: impl Write + Send + 'static) -> io::Result<PcapTap> {
        let boxed: Box<dyn Write + Send> = Box::new(writer);
        Ok(PcapTap {
            writer: Mutex::new(PcapWriter::new(boxed)?),
            write_errors: AtomicU64::new(0),
        })
    }

    /// Records the SCTP packet `sctp` travelling from `src` to `dst`,
    /// directly over IP when `udp_ports` is `None`, otherwise over UDP from
    /// the first port to the second (RFC 6951).
    pub fn record(
        &self,
        src: IpAddr,
        dst: IpAddr,
        udp_ports: Option<(u16, u16)>,
        sctp: &[u8],
    ) -> io::Result<()> {
        let result = self.try_record(src, dst, udp_ports, sctp);
        if result.is_err() {
            self.write_errors.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    fn try_record(
        &self,
        src: IpAddr,
        dst: IpAddr,
        udp_ports: Option<(u16, u16)>,
        sctp: &[u8],
    ) -> io::Result<()> {
        let frame = match udp_ports {
            None => sctp_over_ip(src, dst, sctp),
            Some((sport, dport)) => sctp_over_udp(src, dst, sport, dport, sctp),
        }
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        self.lock().write_frame(now, &frame)
    }

    /// Writes out everything buffered.
    pub fn flush(&self) -> io::Result<()> {
        self.lock().flush()
    }

    /// Number of packets recorded.
    pub fn frames(&self) -> u64 {
        self.lock().frames_written()
    }

    /// Number of packets that could not be recorded.
    pub fn write_errors(&self) -> u64 {
        self.write_errors.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PcapWriter<Box<dyn Write + Send>>> {
        // A panic while holding the lock leaves at worst a half-written
        // frame; keep recording rather than propagate the poison.
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for PcapTap {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A writer whose bytes stay readable after the tap has them.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn records_raw_and_udp_frames() {
        let out = Shared::default();
        let tap = PcapTap::new(out.clone()).unwrap();
        let mut sctp = vec![
            0x13, 0x88, 0x13, 0x89, 1, 2, 3, 4, 0, 0, 0, 0, 0x0b, 0, 0, 4,
        ];
        msctp_wire::crc32c::fill(&mut sctp);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        tap.record(a, b, None, &sctp).unwrap();
        tap.record(b, a, Some((9899, 10001)), &sctp).unwrap();
        // Mixed families cannot be recorded: counted, not fatal.
        assert!(
            tap.record(a, "2001:db8::1".parse().unwrap(), None, &sctp)
                .is_err()
        );
        assert_eq!((tap.frames(), tap.write_errors()), (2, 1));
        drop(tap);
        let bytes = bytes::Bytes::from(out.0.lock().unwrap().clone());
        let reader = msctp_wire::capture::read(bytes).unwrap();
        let frames: Vec<_> = reader.map(Result::unwrap).collect();
        assert_eq!(frames.len(), 2);
        for f in &frames {
            match msctp_wire::capture::sctp_in_frame(f) {
                msctp_wire::capture::Decap::Sctp(d) => assert_eq!(&d.sctp[..], &sctp[..]),
                other => panic!("not SCTP: {other:?}"),
            }
        }
    }
}
