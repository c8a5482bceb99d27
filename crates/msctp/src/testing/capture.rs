//! Captures of every interface of a namespace with `tcpdump`, and what they
//! show: SCTP packets by (source, destination) per interface, the chunks
//! they carry, IP fragments, and tshark's verdict.
//!
//! [`Capture::start`] runs one `tcpdump` per interface (loopback excepted)
//! inside the namespace, each writing its own pcap (`-U`, a 32 MiB buffer,
//! packet-buffered, `--immediate-mode`, full snapshot length, no filter, so
//! that IP fragments, ICMP and everything else are kept), and returns once
//! every tcpdump says it is listening (its `listening on` line on stderr),
//! not after a sleep. [`Capture::stop`] sends a marker datagram out of each
//! interface (a UDP broadcast to the discard port, bound to the device),
//! waits until each pcap holds its marker (so every packet sent before is
//! in the file), stops each tcpdump by its recorded PID with SIGINT and
//! reads the files. A capture dropped without `stop` (a test panicking)
//! kills its tcpdumps by PID.
//!
//! [`Captured`] answers the questions a multi-homing test asks: which source
//! addresses each host used on each link ([`Captured::assert_sources`],
//! [`Captured::sources_table`]), how many IP fragments went by
//! ([`Captured::fragments`]), and whether tshark (CRC32c verification on)
//! finds every SCTP frame well formed ([`Captured::check_with_tshark`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use bytes::Bytes;
use msctp_wire::capture::{
    Decap, Encapsulation, Frame, LinkType, PcapConfig, PcapWriter, sctp_in_frame,
};

use super::{Netns, addr, check_pcap_with_tshark, require_tool};

/// Longest wait for a tcpdump to say it listens, for a marker to reach a
/// file, or for a tcpdump to exit after SIGINT.
const WAIT: Duration = Duration::from_secs(10);

/// The UDP port the markers go to (discard, RFC 863): never SCTP's.
const MARKER_PORT: u16 = 9;

/// One running tcpdump.
#[derive(Debug)]
struct Sniffer {
    iface: String,
    file: PathBuf,
    child: Child,
    stderr: Receiver<String>,
    stderr_seen: Vec<String>,
}

/// tcpdump running on every interface of a namespace; see the module
/// documentation.
#[derive(Debug)]
pub struct Capture<'a> {
    ns: &'a Netns,
    label: String,
    sniffers: Vec<Sniffer>,
}

/// The interfaces of `ns` other than loopback, by name.
pub fn interfaces(ns: &Netns) -> Vec<String> {
    let out = ns.exec_ok("ip", &["-o", "link", "show"]);
    out.lines()
        .filter_map(|line| {
            // "12: link1@if11: <BROADCAST,...> mtu 1500 ..."
            let name = line.split(": ").nth(1)?;
            let name = name.split('@').next()?.trim();
            (!name.is_empty() && name != "lo").then(|| name.to_string())
        })
        .collect()
}

impl<'a> Capture<'a> {
    /// Starts tcpdump on every interface of `ns` but loopback, writing
    /// `dir/<label>-<namespace>-<interface>.pcap`, and waits until each one
    /// captures. Panics (saying what to install or what tcpdump said) if one
    /// cannot start.
    pub fn start(ns: &'a Netns, dir: &Path, label: &str) -> Capture<'a> {
        let tcpdump = require_tool("tcpdump", "tcpdump");
        std::fs::create_dir_all(dir)
            .unwrap_or_else(|e| panic!("creating the capture directory {}: {e}", dir.display()));
        let mut capture = Capture {
            ns,
            label: label.to_string(),
            sniffers: Vec::new(),
        };
        for iface in interfaces(ns) {
            let file = dir.join(format!("{label}-{}-{iface}.pcap", ns.name()));
            let _ = std::fs::remove_file(&file);
            let mut command = Command::new("ip");
            command
                .args(["netns", "exec", ns.name()])
                .arg(&tcpdump)
                .args(["-i", &iface, "-n", "-U", "--immediate-mode", "-s", "0"])
                // A 32 MiB ring: no drops when the machine is busy.
                .args(["-B", "32768"])
                // Stay root: the file may be in a directory only root
                // writes to.
                .args(["-Z", "root", "-w"])
                .arg(&file)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            let mut child = command
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
            let stderr = child.stderr.take().expect("piped stderr");
            let (tx, rx) = channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            // From here on the guard stops this tcpdump, whatever happens.
            capture.sniffers.push(Sniffer {
                iface,
                file,
                child,
                stderr: rx,
                stderr_seen: Vec::new(),
            });
            let s = capture.sniffers.last_mut().expect("just pushed");
            s.wait_stderr("its `listening on` line", |l| l.contains("listening on"));
        }
        assert!(
            !capture.sniffers.is_empty(),
            "namespace {} has no interface besides lo to capture on",
            ns.name()
        );
        capture
    }

    /// The interfaces captured, in order.
    pub fn interfaces(&self) -> Vec<&str> {
        self.sniffers.iter().map(|s| s.iface.as_str()).collect()
    }

    /// Makes sure every packet sent so far is in the files (a marker sent
    /// after them is), stops every tcpdump by its PID (SIGINT: it flushes
    /// and exits) and reads the files. Panics if a tcpdump reports packets
    /// dropped by the kernel or a file cannot be read.
    pub fn stop(mut self) -> Captured {
        for (n, s) in self.sniffers.iter().enumerate() {
            let marker = format!("msctp-capture-marker {} {} {n}", self.label, s.iface);
            send_marker(self.ns, &s.iface, marker.as_bytes());
            let deadline = Instant::now() + WAIT;
            loop {
                let bytes = std::fs::read(&s.file).unwrap_or_default();
                if contains(&bytes, marker.as_bytes()) {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "the capture marker sent on {} in {} did not reach {} within {WAIT:?}",
                    s.iface,
                    self.ns.name(),
                    s.file.display()
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let mut out = Vec::new();
        for mut s in std::mem::take(&mut self.sniffers) {
            s.interrupt();
            s.wait_exit();
            // tcpdump's last words: "N packets captured", "N packets
            // received by filter", "N packets dropped by kernel".
            while let Ok(line) = s.stderr.recv_timeout(Duration::from_secs(2)) {
                s.stderr_seen.push(line);
            }
            let dropped = s
                .stderr_seen
                .iter()
                .find_map(|l| l.strip_suffix(" packets dropped by kernel"))
                .and_then(|n| n.trim().parse::<u64>().ok());
            assert_eq!(
                dropped,
                Some(0),
                "tcpdump on {} in {} dropped packets (or did not say): {:?}",
                s.iface,
                self.ns.name(),
                s.stderr_seen
            );
            out.push(IfaceCapture::read(&s.iface, &s.file));
        }
        Captured {
            namespace: self.ns.name().to_string(),
            ifaces: out,
        }
    }
}

impl Drop for Capture<'_> {
    fn drop(&mut self) {
        for s in &mut self.sniffers {
            if let Ok(None) = s.child.try_wait() {
                let _ = s.child.kill();
                let _ = s.child.wait();
            }
        }
    }
}

impl Sniffer {
    fn wait_stderr(&mut self, what: &str, pred: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    let hit = pred(&line);
                    self.stderr_seen.push(line);
                    if hit {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "tcpdump on {}: no {what} within {WAIT:?}; stderr: {:?}",
                    self.iface, self.stderr_seen
                ),
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait();
                    panic!(
                        "tcpdump on {} ended ({status:?}) before {what}; stderr: {:?}",
                        self.iface, self.stderr_seen
                    )
                }
            }
        }
    }

    /// SIGINT to this tcpdump's PID (`ip netns exec` execs tcpdump, so the
    /// child's PID is tcpdump's).
    fn interrupt(&self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap_or_else(|e| panic!("running kill -INT {pid}: {e}"));
        assert!(status.success(), "kill -INT {pid} (tcpdump) failed");
    }

    fn wait_exit(&mut self) {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Ok(None) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    panic!(
                        "tcpdump on {} did not exit within {WAIT:?} of SIGINT (killed)",
                        self.iface
                    );
                }
                Err(e) => panic!("waiting for tcpdump on {}: {e}", self.iface),
            }
        }
    }
}

/// A UDP broadcast out of `iface` (the socket bound to the device), to the
/// discard port: it shows in the interface's capture after everything sent
/// before it.
fn send_marker(ns: &Netns, iface: &str, payload: &[u8]) {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = {
        let _inside = ns.enter();
        Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
            .unwrap_or_else(|e| panic!("a UDP socket in {}: {e}", ns.name()))
    };
    socket
        .set_broadcast(true)
        .and_then(|()| socket.bind_device(Some(iface.as_bytes())))
        .unwrap_or_else(|e| panic!("binding the marker socket to {iface}: {e}"));
    let to = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::BROADCAST, MARKER_PORT));
    socket
        .send_to(payload, &to.into())
        .unwrap_or_else(|e| panic!("sending the capture marker out of {iface}: {e}"));
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// One chunk of a captured SCTP packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkRecord {
    /// Chunk type (0 DATA, 1 INIT, 2 INIT ACK, 3 SACK, 4 HEARTBEAT, ...).
    pub kind: u8,
    /// Chunk flags.
    pub flags: u8,
    /// The TSN of a DATA (0) or I-DATA (64) chunk.
    pub tsn: Option<u32>,
}

/// Chunk type numbers (RFC 9260 §3.2).
pub mod chunk_type {
    /// DATA.
    pub const DATA: u8 = 0;
    /// INIT.
    pub const INIT: u8 = 1;
    /// INIT ACK.
    pub const INIT_ACK: u8 = 2;
    /// SACK.
    pub const SACK: u8 = 3;
    /// HEARTBEAT.
    pub const HEARTBEAT: u8 = 4;
    /// HEARTBEAT ACK.
    pub const HEARTBEAT_ACK: u8 = 5;
    /// ABORT.
    pub const ABORT: u8 = 6;
    /// SHUTDOWN.
    pub const SHUTDOWN: u8 = 7;
    /// COOKIE ECHO.
    pub const COOKIE_ECHO: u8 = 10;
    /// COOKIE ACK.
    pub const COOKIE_ACK: u8 = 11;
}

/// One SCTP packet seen on an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SctpRecord {
    /// Frame number in the file (from 1, as Wireshark counts).
    pub number: u64,
    /// Capture time since the Unix epoch.
    pub time: Duration,
    /// IP source.
    pub src: IpAddr,
    /// IP destination.
    pub dst: IpAddr,
    /// Carried over UDP (RFC 6951) rather than directly over IP.
    pub udp: bool,
    /// The UDP source and destination ports, over UDP.
    pub udp_ports: Option<(u16, u16)>,
    /// SCTP source port.
    pub src_port: u16,
    /// SCTP destination port.
    pub dst_port: u16,
    /// Verification tag.
    pub vtag: u32,
    /// The chunks, in order (a malformed tail is left out).
    pub chunks: Vec<ChunkRecord>,
}

impl SctpRecord {
    /// Whether the packet carries a chunk of type `kind`.
    pub fn has(&self, kind: u8) -> bool {
        self.chunks.iter().any(|c| c.kind == kind)
    }

    fn parse(
        number: u64,
        time: Duration,
        src: IpAddr,
        dst: IpAddr,
        udp_ports: Option<(u16, u16)>,
        b: &[u8],
    ) -> Self {
        let be16 = |at: usize| u16::from_be_bytes([b[at], b[at + 1]]);
        let be32 = |at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        // The decapsulation guarantees the 12-byte common header.
        let mut chunks = Vec::new();
        let mut at = 12;
        while at + 4 <= b.len() {
            let (kind, flags, len) = (b[at], b[at + 1], usize::from(be16(at + 2)));
            if len < 4 || at + len > b.len() {
                break;
            }
            let tsn = ((kind == 0 || kind == 64) && len >= 8).then(|| be32(at + 4));
            chunks.push(ChunkRecord { kind, flags, tsn });
            at += len.div_ceil(4) * 4;
        }
        SctpRecord {
            number,
            time,
            src,
            dst,
            udp: udp_ports.is_some(),
            udp_ports,
            src_port: be16(0),
            dst_port: be16(2),
            vtag: be32(4),
            chunks,
        }
    }
}

/// An IP fragment seen on an interface (fragments are not reassembled).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FragmentRecord {
    /// Frame number in the file.
    pub number: u64,
    /// IP source and destination, when the frame is Ethernet.
    pub addrs: Option<(IpAddr, IpAddr)>,
}

/// What one interface's capture holds.
#[derive(Clone, Debug)]
pub struct IfaceCapture {
    /// The interface.
    pub iface: String,
    /// The pcap file.
    pub file: PathBuf,
    /// Frames in the file.
    pub frames: u64,
    /// The SCTP packets, in file order.
    pub sctp: Vec<SctpRecord>,
    /// IP fragments (of anything).
    pub fragments: Vec<FragmentRecord>,
    /// Frames that are neither SCTP nor fragments nor well-formed other
    /// traffic, with what is wrong.
    pub malformed: Vec<(u64, String)>,
    link_type: Option<LinkType>,
}

impl IfaceCapture {
    /// Reads the pcap `file` captured on `iface`.
    pub fn read(iface: &str, file: &Path) -> IfaceCapture {
        let bytes = std::fs::read(file)
            .unwrap_or_else(|e| panic!("reading the capture {}: {e}", file.display()));
        let reader = msctp_wire::capture::read(Bytes::from(bytes))
            .unwrap_or_else(|e| panic!("{} is not a capture: {e}", file.display()));
        let mut c = IfaceCapture {
            iface: iface.to_string(),
            file: file.to_path_buf(),
            frames: 0,
            sctp: Vec::new(),
            fragments: Vec::new(),
            malformed: Vec::new(),
            link_type: None,
        };
        for frame in reader {
            let frame = frame.unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
            c.frames += 1;
            c.link_type.get_or_insert(frame.link_type);
            match sctp_in_frame(&frame) {
                Decap::Sctp(d) => c.sctp.push(SctpRecord::parse(
                    frame.number,
                    frame.timestamp,
                    d.src,
                    d.dst,
                    match d.encapsulation {
                        Encapsulation::Ip => None,
                        Encapsulation::Udp { src_port, dst_port } => Some((src_port, dst_port)),
                    },
                    &d.sctp,
                )),
                Decap::Fragment => c.fragments.push(FragmentRecord {
                    number: frame.number,
                    addrs: ethernet_ip_addrs(&frame),
                }),
                Decap::NotSctp => {}
                Decap::Malformed(why) => c.malformed.push((frame.number, why)),
                Decap::UnsupportedLinkType(l) => {
                    panic!("{}: link type {l} cannot be decoded", file.display())
                }
            }
        }
        c
    }

    /// SCTP packets by (source, destination).
    pub fn counts(&self) -> BTreeMap<(IpAddr, IpAddr), u64> {
        self.count_where(|_| true)
    }

    /// SCTP packets that `pred` accepts, by (source, destination).
    pub fn count_where(
        &self,
        pred: impl Fn(&SctpRecord) -> bool,
    ) -> BTreeMap<(IpAddr, IpAddr), u64> {
        let mut m = BTreeMap::new();
        for r in self.sctp.iter().filter(|r| pred(r)) {
            *m.entry((r.src, r.dst)).or_insert(0) += 1;
        }
        m
    }

    /// SCTP packets whose source is `src`.
    pub fn from(&self, src: IpAddr) -> u64 {
        self.sctp.iter().filter(|r| r.src == src).count() as u64
    }
}

/// Ethernet + IPv4/IPv6: the IP addresses of a frame (for fragments).
fn ethernet_ip_addrs(frame: &Frame) -> Option<(IpAddr, IpAddr)> {
    if frame.link_type != LinkType::ETHERNET {
        return None;
    }
    let d = &frame.data;
    let ip = d.get(14..)?;
    match (d.get(12..14)?, ip.first()? >> 4) {
        ([0x08, 0x00], 4) => {
            let a: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let b: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            Some((IpAddr::from(a), IpAddr::from(b)))
        }
        ([0x86, 0xdd], 6) => {
            let a: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let b: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            Some((IpAddr::from(a), IpAddr::from(b)))
        }
        _ => None,
    }
}

/// A host's addresses per link: `(interface, addresses on that link)`.
pub type Homing<'h> = &'h [(&'h str, &'h [IpAddr])];

/// alpha's addresses in the lab, per link (interfaces `link1`, `link2`).
pub const ALPHA_HOMING: Homing<'static> = &[
    ("link1", &[addr::ALPHA1_V4, addr::ALPHA1_V6]),
    ("link2", &[addr::ALPHA2_V4, addr::ALPHA2_V6]),
];

/// beta's addresses in the lab, per link.
pub const BETA_HOMING: Homing<'static> = &[
    ("link1", &[addr::BETA1_V4, addr::BETA1_V6]),
    ("link2", &[addr::BETA2_V4, addr::BETA2_V6]),
];

/// Every capture of one namespace, one per interface.
#[derive(Clone, Debug)]
pub struct Captured {
    /// The namespace captured.
    pub namespace: String,
    /// One per interface, in order.
    pub ifaces: Vec<IfaceCapture>,
}

impl Captured {
    /// The capture of `iface`; panics if there is none.
    pub fn iface(&self, iface: &str) -> &IfaceCapture {
        self.ifaces
            .iter()
            .find(|c| c.iface == iface)
            .unwrap_or_else(|| panic!("no capture of {iface} in {}", self.namespace))
    }

    /// Per interface, SCTP packets by (source, destination).
    pub fn counts(&self) -> BTreeMap<String, BTreeMap<(IpAddr, IpAddr), u64>> {
        self.ifaces
            .iter()
            .map(|c| (c.iface.clone(), c.counts()))
            .collect()
    }

    /// The SCTP packets sent by the host whose addresses are `homing`
    /// (source among them), per interface, that carry a source which is
    /// not the host's address on that interface's link, by (source,
    /// destination). Empty when the host is correct.
    pub fn wrong_sources(
        &self,
        homing: Homing<'_>,
    ) -> BTreeMap<String, BTreeMap<(IpAddr, IpAddr), u64>> {
        let all: Vec<IpAddr> = homing.iter().flat_map(|(_, a)| a.iter().copied()).collect();
        let mut out = BTreeMap::new();
        for c in &self.ifaces {
            let Some((_, own)) = homing.iter().find(|(i, _)| *i == c.iface) else {
                continue;
            };
            let wrong = c.count_where(|r| all.contains(&r.src) && !own.contains(&r.src));
            if !wrong.is_empty() {
                out.insert(c.iface.clone(), wrong);
            }
        }
        out
    }

    /// Asserts that every SCTP packet sent by `who` (a host whose addresses
    /// per link are `homing`) on link k carries `who`'s own link-k address
    /// as its source (RFC 9260 §6.4: a path's packets leave from the
    /// address that reaches it; the design document: a path's source is the
    /// bound address the routing uses for its destination). Also asserts
    /// that `who` sent something on at least one interface.
    pub fn assert_sources(&self, who: &str, homing: Homing<'_>) {
        let all: Vec<IpAddr> = homing.iter().flat_map(|(_, a)| a.iter().copied()).collect();
        let sent: u64 = self
            .ifaces
            .iter()
            .map(|c| c.sctp.iter().filter(|r| all.contains(&r.src)).count() as u64)
            .sum();
        assert!(
            sent > 0,
            "{who} sent no SCTP packet in the captures of {}",
            self.namespace
        );
        let wrong = self.wrong_sources(homing);
        assert!(
            wrong.is_empty(),
            "{who} sent packets with another link's source address (capture of {}; per \
             interface, (source, destination): packets): {wrong:?}\n{}",
            self.namespace,
            self.sources_table(&[(who, homing)])
        );
    }

    /// IP fragments per interface.
    pub fn fragments(&self) -> BTreeMap<String, u64> {
        self.ifaces
            .iter()
            .map(|c| (c.iface.clone(), c.fragments.len() as u64))
            .collect()
    }

    /// Per interface and host, SCTP packets by source address, as a table
    /// for people (the hosts side by side):
    ///
    /// ```text
    /// link1  msctp: 192.0.2.1=120  usrsctp: 192.0.2.2=110 198.51.100.2=3
    /// ```
    pub fn sources_table(&self, hosts: &[(&str, Homing<'_>)]) -> String {
        let mut out = String::new();
        for c in &self.ifaces {
            let _ = write!(out, "{} ({}):", c.iface, self.namespace);
            for (who, homing) in hosts {
                let all: Vec<IpAddr> = homing.iter().flat_map(|(_, a)| a.iter().copied()).collect();
                let mut by_src: BTreeMap<IpAddr, u64> = BTreeMap::new();
                for r in c.sctp.iter().filter(|r| all.contains(&r.src)) {
                    *by_src.entry(r.src).or_insert(0) += 1;
                }
                let _ = write!(out, "  {who}:");
                if by_src.is_empty() {
                    out.push_str(" none");
                }
                for (src, n) in by_src {
                    let _ = write!(out, " {src}={n}");
                }
            }
            let _ = writeln!(out, "  fragments: {}", c.fragments.len());
        }
        out
    }

    /// Runs tshark (CRC32c verification on) over the SCTP frames of each
    /// interface's capture (copied to `<file>.sctp.pcap`, other traffic
    /// left out), with [`check_pcap_with_tshark`]: every checksum good,
    /// nothing malformed. Also asserts that the capture reader found no
    /// malformed frame. `udp_ports`: UDP ports other than 9899 carrying
    /// SCTP. Returns the SCTP frames checked per interface.
    pub fn check_with_tshark(&self, udp_ports: &[u16]) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for c in &self.ifaces {
            assert!(
                c.malformed.is_empty(),
                "{}: malformed frames: {:?}",
                c.file.display(),
                c.malformed
            );
            let copy = c.file.with_extension("sctp.pcap");
            write_sctp_only(&c.file, &copy, c.link_type.unwrap_or(LinkType::ETHERNET));
            let n = check_pcap_with_tshark(&copy, udp_ports);
            assert_eq!(
                n as u64,
                c.sctp.len() as u64,
                "{}: tshark saw {n} SCTP frames, the reader {}",
                copy.display(),
                c.sctp.len()
            );
            out.insert(c.iface.clone(), n);
        }
        out
    }
}

/// Copies the SCTP frames of `from` into a new pcap `to`.
fn write_sctp_only(from: &Path, to: &Path, link_type: LinkType) {
    let bytes = std::fs::read(from).unwrap_or_else(|e| panic!("reading {}: {e}", from.display()));
    let reader = msctp_wire::capture::read(Bytes::from(bytes))
        .unwrap_or_else(|e| panic!("{} is not a capture: {e}", from.display()));
    let file =
        std::fs::File::create(to).unwrap_or_else(|e| panic!("creating {}: {e}", to.display()));
    let config = PcapConfig {
        link_type,
        ..PcapConfig::default()
    };
    let mut w = PcapWriter::with_config(std::io::BufWriter::new(file), config)
        .unwrap_or_else(|e| panic!("writing {}: {e}", to.display()));
    for frame in reader.flatten() {
        if matches!(sctp_in_frame(&frame), Decap::Sctp(_)) {
            w.write_frame(frame.timestamp, &frame.data)
                .unwrap_or_else(|e| panic!("writing {}: {e}", to.display()));
        }
    }
    w.flush()
        .unwrap_or_else(|e| panic!("writing {}: {e}", to.display()));
}

#[cfg(test)]
mod tests {
    //! The checkers on a capture written here (no root, no tcpdump): they
    //! must find what they look for.

    use super::*;
    use msctp_wire::capture::{sctp_over_ip, sctp_over_udp};

    /// A 16-byte SCTP packet: the common header and one empty chunk of
    /// type `kind` (its 4-byte header only).
    fn sctp(kind: u8) -> Vec<u8> {
        let mut p = vec![0x13, 0x89, 0xe0, 0x00, 0, 0, 0, 7, 0, 0, 0, 0];
        p.extend_from_slice(&[kind, 0, 0, 4]);
        p
    }

    fn write(path: &Path, packets: &[Vec<u8>]) {
        let file = std::fs::File::create(path).unwrap();
        let mut w = PcapWriter::new(std::io::BufWriter::new(file)).unwrap();
        for (i, p) in packets.iter().enumerate() {
            w.write_frame(Duration::from_millis(i as u64), p).unwrap();
        }
        w.flush().unwrap();
    }

    #[test]
    fn checkers_find_wrong_sources_fragments_and_udp_ports() {
        let dir = std::env::temp_dir().join(format!("msctp-capture-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let link1 = dir.join("link1.pcap");
        let link2 = dir.join("link2.pcap");
        let mut fragment = sctp_over_ip(addr::ALPHA1_V4, addr::BETA1_V4, &sctp(0)).unwrap();
        fragment[6] |= 0x20; // More Fragments
        write(
            &link1,
            &[
                // alpha's own link-1 address: right.
                sctp_over_ip(addr::ALPHA1_V4, addr::BETA1_V4, &sctp(0)).unwrap(),
                // alpha's link-2 address on link 1: wrong, twice.
                sctp_over_ip(addr::ALPHA2_V4, addr::BETA1_V4, &sctp(3)).unwrap(),
                sctp_over_ip(addr::ALPHA2_V4, addr::BETA1_V4, &sctp(3)).unwrap(),
                // beta's packets are not alpha's business.
                sctp_over_ip(addr::BETA2_V4, addr::ALPHA1_V4, &sctp(3)).unwrap(),
                fragment,
            ],
        );
        write(
            &link2,
            &[sctp_over_udp(addr::ALPHA2_V4, addr::BETA2_V4, 9899, 40000, &sctp(4)).unwrap()],
        );
        let c = Captured {
            namespace: "unit".into(),
            ifaces: vec![
                IfaceCapture::read("link1", &link1),
                IfaceCapture::read("link2", &link2),
            ],
        };
        let wrong = c.wrong_sources(ALPHA_HOMING);
        assert_eq!(
            wrong,
            BTreeMap::from([(
                "link1".to_string(),
                BTreeMap::from([((addr::ALPHA2_V4, addr::BETA1_V4), 2)])
            )])
        );
        assert!(c.wrong_sources(BETA_HOMING).contains_key("link1"));
        assert_eq!(
            c.fragments(),
            BTreeMap::from([("link1".to_string(), 1), ("link2".to_string(), 0)])
        );
        assert_eq!(c.iface("link1").counts().values().sum::<u64>(), 4);
        let udp = &c.iface("link2").sctp[0];
        assert_eq!(udp.udp_ports, Some((9899, 40000)));
        assert!(udp.has(chunk_type::HEARTBEAT));
        let table = c.sources_table(&[("alpha", ALPHA_HOMING), ("beta", BETA_HOMING)]);
        assert!(table.contains("198.51.100.1=2"), "{table}");
        let caught = std::panic::catch_unwind(|| c.assert_sources("alpha", ALPHA_HOMING));
        assert!(
            caught.is_err(),
            "assert_sources must fail on a wrong source"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
