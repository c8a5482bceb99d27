//! `msctp decode` checked against Wireshark's SCTP dissector (`tshark`).
//!
//! The fixtures in `tests/fixtures/` are real traffic of usrsctp, an independent
//! SCTP implementation, captured between two network namespaces by
//! `scripts/capture-usrsctp-fixtures.sh`: raw IPv4 and IPv6, UDP encapsulation
//! (RFC 6951), multi-homed INIT / INIT ACK, HEARTBEATs, loss with gap blocks,
//! duplicate TSNs and FORWARD TSN, ABORT, I-DATA, AUTH, ASCONF, RE-CONFIG,
//! I-FORWARD-TSN, ICMP errors quoting SCTP; in Ethernet, Linux cooked v1 / v2,
//! pcap and pcapng files.
//!
//! For every fixture, tshark's JSON is the reference: the set of SCTP frames must
//! be the same, and packet by packet, chunk by chunk, parameter by parameter, every
//! field that tshark exposes must have the same value in `msctp decode --json`.
//!
//! tshark is required. These tests fail, never skip, when it is missing.
//!
//! Quirks of `tshark -T json` (4.0) that this file deals with:
//! - Objects repeat keys for repeated fields (`"sctp.supported_chunk_type"` five
//!   times in one parameter) and for repeated protocol layers: a packet with
//!   several DATA chunks has one `"sctp"` layer per DATA chunk, each followed by a
//!   `"data"` layer. `serde_json::Value` keeps one value per key, so tshark's
//!   output is read with the small order- and duplicate-preserving parser at the
//!   end of this file (`--no-duplicate-keys` would merge them into arrays but loses
//!   the interleaving of chunks and layers).
//! - Values are strings, some in hex (`"0x0001"` for a stream identifier).
//! - With `sctp.relative_tsns:FALSE` the TSN fields are called `sctp.data_tsn_raw`
//!   and `sctp.sack_cumulative_tsn_ack_raw`; both spellings are accepted.
//! - An unknown value for the enum preference `sctp.checksum` is silently ignored
//!   (CRC left unverified), so the tests also require every checksum status to be
//!   "Good" (1), which catches a misspelt preference.
//! - Frames holding an ICMP error that quotes an SCTP packet have their `"sctp"`
//!   layer nested inside `"icmp"` / `"icmpv6"`; they are not SCTP packets.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

use self::tjson::J;

const TSHARK_INSTALL_HINT: &str =
    "install it with `apt-get install tshark` or run `cargo xtask test`, which installs it";

/// tshark's options for every run.
const TSHARK_OPTIONS: &[&str] = &[
    "-n",
    // RFC 9260 §6.8: verify the CRC32c checksum (the enum value is "crc-32c").
    "-o",
    "sctp.checksum:crc-32c",
    // TSNs as on the wire, not relative to the first one seen.
    "-o",
    "sctp.relative_tsns:FALSE",
    // No retransmission analysis (its trees and expert notes are not on the wire).
    "-o",
    "sctp.tsn_analysis:FALSE",
    // Leave user messages alone: no reassembly, no dissection by PPID.
    "-o",
    "sctp.reassembly:FALSE",
    "-o",
    "sctp.ulp_dissection:FALSE",
    // RFC 6951: SCTP over UDP port 9899.
    "-d",
    "udp.port==9899,sctp",
];

/// Expert-info severity of "error" in tshark's JSON (`_ws.expert.severity`).
const EXPERT_SEVERITY_ERROR: u64 = 0x0080_0000;

/// Largest mismatch list printed in one failure message.
const MAX_REPORTED: usize = 60;

// ----------------------------------------------------------------------------
// The tests

/// Every SCTP packet of every fixture decodes exactly as tshark decodes it
/// (RFC 9260 §3: common header and chunks; the extensions' chunk formats in RFC
/// 3758, 4895, 5061, 6525, 7053, 8260), and `msctp decode` reports the same set
/// of SCTP frames, numbered as in the capture file.
#[test]
fn decode_json_matches_tshark_on_every_fixture() {
    let fixtures = reference();
    let mut report = Report::default();
    for fx in fixtures {
        let out = msctp(&["decode", path_str(&fx.path), "--json"]);
        assert_no_crash(&fx.name, &out);
        assert!(
            out.status.code() == Some(0),
            "msctp decode {} --json exited with {:?}; stderr:\n{}",
            fx.name,
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        let ours = match parse_json_lines(&fx.name, &out.stdout) {
            Ok(p) => p,
            Err(e) => {
                report.err(e);
                continue;
            }
        };
        compare_fixture(fx, &ours, &mut report);
    }
    report.check_coverage(fixtures);
    report.finish("msctp decode --json disagrees with tshark");
    let total: usize = report.compared.values().sum();
    eprintln!(
        "compared {total} values with tshark over {} fixtures: {:?}",
        fixtures.len(),
        report.compared
    );
}

/// The fixtures themselves are sound: each one holds at least one SCTP packet,
/// tshark finds nothing malformed and no error-level expert info in it, and every
/// SCTP packet has a correct CRC32c (RFC 9260 §6.8).
#[test]
fn fixtures_are_well_formed_for_tshark() {
    let fixtures = reference();
    let mut problems = Vec::new();
    for fx in fixtures {
        if fx.packets.is_empty() {
            problems.push(format!("{}: tshark finds no SCTP packet in it", fx.name));
        }
        problems.extend(fx.problems.iter().map(|p| format!("{}: {p}", fx.name)));
        for p in &fx.packets {
            if p.checksum_status.as_deref() != Some("1") {
                problems.push(format!(
                    "{} frame {}: SCTP checksum status {:?}, expected 1 (Good) \
                     (is the preference sctp.checksum:crc-32c still understood?)",
                    fx.name, p.frame, p.checksum_status
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "fixture problems:\n{}",
        problems.join("\n")
    );
}

/// The human-readable output of `msctp decode FILE` succeeds and gives every SCTP
/// packet one line naming its source and destination address, in capture order
/// (further lines, for chunks, parameters or a summary, are allowed as long as they
/// do not name a source and destination pair).
#[test]
fn decode_human_output_has_a_line_per_sctp_packet() {
    let mut failures = Vec::new();
    for fx in reference() {
        let out = msctp(&["decode", path_str(&fx.path)]);
        assert_no_crash(&fx.name, &out);
        if out.status.code() != Some(0) {
            failures.push(format!(
                "{}: exit status {:?}; stderr:\n{}",
                fx.name,
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        // A line names a packet when it shows the packet's source address and,
        // after it, its destination address.
        let names = |l: &str, p: &TPacket| {
            let (src, dst) = (p.src.to_string(), p.dst.to_string());
            l.find(&src)
                .is_some_and(|i| l[i + src.len()..].contains(&dst))
        };
        let packet_lines = lines
            .iter()
            .filter(|l| fx.packets.iter().any(|p| names(l, p)))
            .count();
        if packet_lines != fx.packets.len() {
            failures.push(format!(
                "{}: {} SCTP packets, but {packet_lines} output lines name a packet's \
                 source and destination address",
                fx.name,
                fx.packets.len()
            ));
        }
        // In capture order, each packet has a line of its own.
        let mut next = 0;
        for p in &fx.packets {
            match lines[next..].iter().position(|l| names(l, p)) {
                Some(i) => next += i + 1,
                None => {
                    failures.push(format!(
                        "{}: no line for SCTP frame {} ({} → {}) after output line {next}, \
                         matching the packets' lines in capture order",
                        fx.name, p.frame, p.src, p.dst
                    ));
                    break;
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "human output of msctp decode:\n{}",
        failures.join("\n")
    );
}

/// A capture cut short anywhere (inside the file header, a record header or a
/// packet) makes `msctp decode` stop with status 0 or 1 and a message, never
/// panic: a decoder must not trust lengths it reads from the file.
#[test]
fn decode_survives_truncated_fixtures() {
    let mut failures = Vec::new();
    for fx in reference() {
        let bytes = std::fs::read(&fx.path).expect("read fixture");
        let len = bytes.len();
        let mut cuts: BTreeSet<usize> = [
            0,
            1,
            10,
            23,
            24,
            30,
            40,
            100,
            len / 3,
            len / 2,
            len - 1,
            len - 5,
        ]
        .into_iter()
        .filter(|&c| c < len)
        .collect();
        // Also cut inside the last record (its header and its data).
        cuts.insert(len.saturating_sub(40));
        for cut in cuts {
            let tmp = TempFile::new(&format!("{}-cut{cut}", fx.name), &bytes[..cut]);
            for json in [false, true] {
                let mut args = vec!["decode", path_str(tmp.path())];
                if json {
                    args.push("--json");
                }
                let out = msctp(&args);
                let stderr = String::from_utf8_lossy(&out.stderr);
                let code = out.status.code();
                if !matches!(code, Some(0 | 1)) || stderr.contains("panicked") {
                    failures.push(format!(
                        "{} cut to {cut} of {len} bytes (json: {json}): exit status {code:?}, stderr:\n{stderr}",
                        fx.name
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A corrupted checksum is reported, not hidden (RFC 9260 §6.8: the receiver
/// checks the CRC32c of every packet): flipping one checksum byte of one packet
/// turns that packet's `crc_ok` to false and leaves the others true.
#[test]
fn decode_reports_a_bad_checksum() {
    let fx = reference()
        .iter()
        .find(|f| f.name == "usrsctp-raw-ipv4.pcap")
        .expect("fixture usrsctp-raw-ipv4.pcap (Ethernet, IPv4) is needed by this test");
    let mut bytes = std::fs::read(&fx.path).expect("read fixture");
    let (frame, offset) = first_ipv4_sctp_checksum_offset(&bytes)
        .expect("usrsctp-raw-ipv4.pcap: no IPv4 SCTP packet found by the pcap walker");
    bytes[offset] ^= 0xff;
    let tmp = TempFile::new("bad-crc.pcap", &bytes);

    // The test's own premise, checked by tshark: exactly that frame is bad now.
    let bad_ref = tshark_reference(tmp.path(), "bad-crc.pcap");
    for p in &bad_ref.packets {
        let want = if p.frame == frame { "0" } else { "1" };
        assert_eq!(
            p.checksum_status.as_deref(),
            Some(want),
            "tshark checksum status of frame {} after corrupting frame {frame}",
            p.frame
        );
    }

    let out = msctp(&["decode", path_str(tmp.path()), "--json"]);
    assert_no_crash("bad-crc.pcap", &out);
    let ours = parse_json_lines("bad-crc.pcap", &out.stdout).unwrap_or_else(|e| panic!("{e}"));
    for p in &bad_ref.packets {
        let got = ours.get(&p.frame).unwrap_or_else(|| {
            panic!(
                "frame {} (checksum corrupted: {}) missing from msctp decode --json",
                p.frame,
                p.frame == frame
            )
        });
        assert_eq!(
            got.get("crc_ok"),
            Some(&Value::Bool(p.frame != frame)),
            "crc_ok of frame {} (only frame {frame} has a corrupted checksum)",
            p.frame
        );
    }
}

/// `msctp decode` on a file that does not exist fails with a non-zero status and
/// a message that names the file.
#[test]
fn decode_names_a_missing_file() {
    let name = format!("msctp-no-such-capture-{}.pcap", std::process::id());
    let path = std::env::temp_dir().join(&name);
    let out = msctp(&["decode", path_str(&path)]);
    assert_no_crash(&name, &out);
    assert!(
        !out.status.success(),
        "msctp decode of a missing file exited with success"
    );
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        said.contains(&name),
        "the message for a missing file does not name {name}:\n{said}"
    );
}

// ----------------------------------------------------------------------------
// Running the programs

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("fixture paths are UTF-8")
}

fn msctp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_msctp"))
        .args(args)
        .output()
        .expect("run the msctp binary")
}

fn assert_no_crash(what: &str, out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code().is_some()
            && out.status.code() != Some(101)
            && !stderr.contains("panicked"),
        "msctp crashed on {what} (status {:?}):\n{stderr}",
        out.status
    );
}

fn tshark(args: &[&str]) -> Output {
    match Command::new("tshark").args(args).output() {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "tshark is not installed, and these tests need it as the reference decoder: \
             {TSHARK_INSTALL_HINT}"
        ),
        Err(e) => panic!("cannot run tshark ({e}): {TSHARK_INSTALL_HINT}"),
    }
}

/// One line of `msctp decode --json` per SCTP packet, keyed by frame number.
fn parse_json_lines(name: &str, stdout: &[u8]) -> Result<BTreeMap<u64, Value>, String> {
    let text = String::from_utf8_lossy(stdout);
    let mut packets = BTreeMap::new();
    let mut last = 0;
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: Value = serde_json::from_str(line)
            .map_err(|e| format!("{name}: output line {} is not JSON ({e}): {line}", i + 1))?;
        let n = v.get("n").and_then(Value::as_u64).ok_or_else(|| {
            format!(
                "{name}: output line {} has no frame number \"n\": {line}",
                i + 1
            )
        })?;
        if n <= last {
            return Err(format!(
                "{name}: frame numbers not increasing: {n} after {last}"
            ));
        }
        last = n;
        packets.insert(n, v);
    }
    Ok(packets)
}

struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let unique = format!(
            "msctp-decode-test-{}-{}-{name}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(unique);
        std::fs::write(&path, bytes).expect("write temporary capture");
        TempFile(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Frame number and file offset of the SCTP checksum of the first IPv4 SCTP
/// packet in a classic pcap file with Ethernet link type.
fn first_ipv4_sctp_checksum_offset(b: &[u8]) -> Option<(u64, usize)> {
    let magic = b.get(..4)?;
    let be = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => false,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => true,
        _ => return None,
    };
    let u32_at = |o: usize| -> Option<u32> {
        let a: [u8; 4] = b.get(o..o + 4)?.try_into().ok()?;
        Some(if be {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    };
    if u32_at(20)? != 1 {
        return None; // not Ethernet
    }
    let mut off = 24;
    let mut frame = 0;
    while off + 16 <= b.len() {
        frame += 1;
        let incl = u32_at(off + 8)? as usize;
        let data = b.get(off + 16..off + 16 + incl)?;
        if data.len() >= 14 + 20 && data[12..14] == [0x08, 0x00] && data[14 + 9] == 132 {
            let ihl = usize::from(data[14] & 0x0f) * 4;
            let sctp = 14 + ihl;
            if data.len() >= sctp + 12 {
                return Some((frame, off + 16 + sctp + 8));
            }
        }
        off += 16 + incl;
    }
    None
}

// ----------------------------------------------------------------------------
// tshark's view of the fixtures

/// What tshark says about one fixture.
struct Fixture {
    name: String,
    path: PathBuf,
    /// The SCTP packets (top-level SCTP, not quoted in ICMP), in frame order.
    packets: Vec<TPacket>,
    /// Malformed frames and error-level expert infos.
    problems: Vec<String>,
}

/// One SCTP packet as tshark dissects it.
struct TPacket {
    frame: u64,
    time: f64,
    src: IpAddr,
    dst: IpAddr,
    /// UDP ports when the packet is UDP-encapsulated (RFC 6951).
    udp: Option<(u64, u64)>,
    /// The first `"sctp"` layer (common header).
    header: J,
    checksum_status: Option<String>,
    /// Chunk subtrees in wire order, gathered from every `"sctp"` layer.
    chunks: Vec<J>,
}

fn reference() -> &'static [Fixture] {
    static FIXTURES: OnceLock<Vec<Fixture>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let dir = fixtures_dir();
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .filter(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("pcap" | "pcapng")
                )
            })
            .collect();
        paths.sort();
        assert!(
            !paths.is_empty(),
            "no .pcap / .pcapng fixture in {} (make them with scripts/capture-usrsctp-fixtures.sh)",
            dir.display()
        );
        paths
            .iter()
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                tshark_reference(p, &name)
            })
            .collect()
    })
}

fn tshark_reference(path: &Path, name: &str) -> Fixture {
    let mut args: Vec<&str> = TSHARK_OPTIONS.to_vec();
    args.extend(["-r", path_str(path), "-T", "json"]);
    let out = tshark(&args);
    assert!(
        out.status.success(),
        "tshark failed on {name} ({:?}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("tshark writes UTF-8 JSON");
    let doc = tjson::parse(&text).unwrap_or_else(|e| panic!("tshark JSON for {name}: {e}"));
    let J::Arr(frames) = doc else {
        panic!("tshark JSON for {name} is not an array of packets")
    };
    let mut fx = Fixture {
        name: name.to_owned(),
        path: path.to_owned(),
        packets: Vec::new(),
        problems: Vec::new(),
    };
    for f in &frames {
        let layers = f
            .get("_source")
            .and_then(|s| s.get("layers"))
            .unwrap_or_else(|| panic!("{name}: tshark packet without _source.layers"));
        let frame = layers
            .get("frame")
            .and_then(|fr| fr.get("frame.number"))
            .and_then(J::as_u64)
            .unwrap_or_else(|| panic!("{name}: tshark packet without frame.number"));
        if layers.find_all("_ws.malformed").next().is_some() {
            fx.problems
                .push(format!("frame {frame}: tshark reports a malformed packet"));
        }
        for expert in layers.find_all("_ws.expert") {
            let severity = expert
                .find_all("_ws.expert.severity")
                .next()
                .and_then(J::as_u64)
                .unwrap_or(0);
            if severity >= EXPERT_SEVERITY_ERROR {
                let msg = expert
                    .find_all("_ws.expert.message")
                    .next()
                    .and_then(J::as_str)
                    .unwrap_or("?");
                fx.problems
                    .push(format!("frame {frame}: tshark error: {msg}"));
            }
        }
        if let Some(p) = sctp_packet(name, frame, layers) {
            fx.packets.push(p);
        }
    }
    fx
}

/// The SCTP packet of a frame, if SCTP is a top-level layer of it.
fn sctp_packet(name: &str, frame: u64, layers: &J) -> Option<TPacket> {
    let J::Obj(entries) = layers else { return None };
    let first_sctp = entries.iter().position(|(k, _)| k == "sctp")?;
    let (mut ip, mut udp) = (None, None);
    for (k, v) in &entries[..first_sctp] {
        match k.as_str() {
            "ip" | "ipv6" => ip = Some((k.as_str(), v)),
            "udp" => udp = Some(v),
            "icmp" | "icmpv6" => return None,
            _ => {}
        }
    }
    let (family, ip) = ip.unwrap_or_else(|| panic!("{name} frame {frame}: SCTP without IP layer"));
    let addr = |f: &str| -> IpAddr {
        ip.get(&format!("{family}.{f}"))
            .and_then(J::as_str)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{name} frame {frame}: no {family}.{f}"))
    };
    let udp = udp.map(|u| {
        let port = |f| {
            u.get(f)
                .and_then(J::as_u64)
                .unwrap_or_else(|| panic!("{name} frame {frame}: no {f}"))
        };
        (port("udp.srcport"), port("udp.dstport"))
    });
    let time = layers
        .get("frame")
        .and_then(|f| f.get("frame.time_epoch"))
        .and_then(J::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{name} frame {frame}: no frame.time_epoch"));
    let sctp_layers: Vec<&J> = entries
        .iter()
        .filter(|(k, _)| k == "sctp")
        .map(|(_, v)| v)
        .collect();
    let header = sctp_layers[0].clone();
    let checksum_status = header
        .get("sctp.checksum.status")
        .and_then(J::as_str)
        .map(str::to_owned);
    let chunks = sctp_layers
        .iter()
        .flat_map(|l| l.children())
        .filter(|c| c.get("sctp.chunk_type").is_some())
        .cloned()
        .collect();
    Some(TPacket {
        frame,
        time,
        src: addr("src"),
        dst: addr("dst"),
        udp,
        header,
        checksum_status,
        chunks,
    })
}

// ----------------------------------------------------------------------------
// Comparison

/// Where in a fixture a comparison is made, for messages.
#[derive(Clone)]
struct At<'a> {
    fixture: &'a str,
    frame: u64,
    chunk: Option<(usize, String)>,
    param: Option<(usize, String)>,
}

impl Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} frame {}", self.fixture, self.frame)?;
        if let Some((i, t)) = &self.chunk {
            write!(f, ", chunk {i} ({t})")?;
        }
        if let Some((i, t)) = &self.param {
            write!(f, ", parameter/cause {i} ({t})")?;
        }
        Ok(())
    }
}

impl<'a> At<'a> {
    fn chunk(&self, i: usize, t: &str) -> At<'a> {
        At {
            chunk: Some((i, t.to_owned())),
            param: None,
            ..self.clone()
        }
    }
    fn param(&self, i: usize, t: &str) -> At<'a> {
        At {
            param: Some((i, t.to_owned())),
            ..self.clone()
        }
    }
}

/// Mismatches found, and how often each kind of field was compared.
#[derive(Default)]
struct Report {
    errors: Vec<String>,
    compared: BTreeMap<String, usize>,
    /// Chunk type codes that tshark saw in some fixture.
    chunk_types_seen: BTreeSet<u64>,
    /// Parameter type codes that tshark saw in some INIT / INIT ACK.
    param_types_seen: BTreeSet<u64>,
}

impl Report {
    fn err(&mut self, e: String) {
        self.errors.push(e);
    }

    fn counted(&mut self, label: &str) {
        *self.compared.entry(label.to_owned()).or_default() += 1;
    }

    /// Compares one field: `want` is tshark's value (None: tshark does not show
    /// this field here, nothing to compare), `got` is msctp's.
    fn same<T, U>(&mut self, at: &At<'_>, label: &str, want: Option<T>, got: Option<U>)
    where
        T: PartialEq<U> + std::fmt::Debug,
        U: std::fmt::Debug,
    {
        let Some(want) = want else { return };
        self.counted(label);
        match got {
            None => self.err(format!(
                "{at}: field `{label}`: tshark says {want:?}, msctp decode does not give it"
            )),
            Some(got) if want != got => self.err(format!(
                "{at}: field `{label}`: tshark says {want:?}, msctp decode says {got:?}"
            )),
            Some(_) => {}
        }
    }

    /// Every field kind that the fixtures exercise was compared at least once;
    /// a renamed tshark field would otherwise silently disable its comparison.
    fn check_coverage(&mut self, fixtures: &[Fixture]) {
        for fx in fixtures {
            for p in &fx.packets {
                for c in &p.chunks {
                    let code = c.get("sctp.chunk_type").and_then(J::as_u64).unwrap_or(999);
                    self.chunk_types_seen.insert(code);
                    if code == 1 || code == 2 {
                        for prm in params(c) {
                            if let Some(t) = prm.get("sctp.parameter_type").and_then(J::as_u64) {
                                self.param_types_seen.insert(t);
                            }
                        }
                    }
                }
            }
        }
        let by_chunk: &[(u64, &[&str])] = &[
            (
                0,
                &[
                    "DATA tsn",
                    "DATA stream",
                    "DATA ssn",
                    "DATA ppid",
                    "DATA begin",
                    "DATA end",
                    "DATA unordered",
                    "DATA immediate",
                ],
            ),
            (
                1,
                &[
                    "INIT initiate_tag",
                    "INIT a_rwnd",
                    "INIT outbound_streams",
                    "INIT inbound_streams",
                    "INIT initial_tsn",
                    "param type_code",
                    "param length",
                ],
            ),
            (2, &["INIT ACK initiate_tag", "INIT ACK initial_tsn"]),
            (3, &["SACK cum_tsn_ack", "SACK a_rwnd", "SACK gap_blocks"]),
            (4, &["HEARTBEAT info_length"]),
            (5, &["HEARTBEAT ACK info_length"]),
            (6, &["ABORT t_bit", "cause code", "cause length"]),
            (7, &["SHUTDOWN cum_tsn_ack"]),
            (9, &["cause code", "cause length"]),
            (10, &["COOKIE ECHO cookie_length"]),
            (12, &["ECNE lowest_tsn"]),
            (13, &["CWR lowest_tsn"]),
            (14, &["SHUTDOWN COMPLETE t_bit"]),
            (15, &["AUTH key_id", "AUTH hmac_id", "AUTH hmac_length"]),
            (
                64,
                &[
                    "I-DATA tsn",
                    "I-DATA stream",
                    "I-DATA mid",
                    "I-DATA ppid",
                    "I-DATA fsn",
                ],
            ),
            (128, &["ASCONF-ACK serial"]),
            (130, &["param type_code"]),
            (192, &["FORWARD TSN new_cum_tsn", "FORWARD TSN streams"]),
            (193, &["ASCONF serial"]),
            (194, &["I-FORWARD-TSN new_cum_tsn", "I-FORWARD-TSN streams"]),
        ];
        let by_param: &[(u64, &str)] = &[
            (5, "IPv4 Address address"),
            (6, "IPv6 Address address"),
            (12, "Supported Address Types types"),
            (0x8008, "Supported Extensions chunk_types"),
            (0x8003, "Chunk List chunk_types"),
            (0x8004, "Requested HMAC Algorithm hmac_ids"),
            (0xc006, "Adaptation Layer Indication indication"),
        ];
        let mut missing = Vec::new();
        for (code, labels) in by_chunk {
            if self.chunk_types_seen.contains(code) {
                missing.extend(labels.iter().filter(|l| !self.compared.contains_key(**l)));
            }
        }
        for (code, label) in by_param {
            if self.param_types_seen.contains(code) && !self.compared.contains_key(*label) {
                missing.push(label);
            }
        }
        if !missing.is_empty() && self.errors.is_empty() {
            self.err(format!(
                "these fields were never compared although the fixtures contain them \
                 (did tshark rename a field? check `tshark -G fields`): {missing:?}"
            ));
        }
    }

    fn finish(&self, what: &str) {
        if self.errors.is_empty() {
            return;
        }
        let shown: Vec<&str> = self
            .errors
            .iter()
            .take(MAX_REPORTED)
            .map(String::as_str)
            .collect();
        let more = self.errors.len().saturating_sub(MAX_REPORTED);
        panic!(
            "{what}: {} mismatch(es){}\n{}",
            self.errors.len(),
            if more > 0 {
                format!(" (first {MAX_REPORTED} shown)")
            } else {
                String::new()
            },
            shown.join("\n")
        );
    }
}

fn compare_fixture(fx: &Fixture, ours: &BTreeMap<u64, Value>, r: &mut Report) {
    let theirs: BTreeSet<u64> = fx.packets.iter().map(|p| p.frame).collect();
    let mine: BTreeSet<u64> = ours.keys().copied().collect();
    if ours.is_empty() {
        r.err(format!(
            "{}: msctp decode --json printed no packet",
            fx.name
        ));
    }
    let missing: Vec<_> = theirs.difference(&mine).collect();
    let extra: Vec<_> = mine.difference(&theirs).collect();
    if !missing.is_empty() {
        r.err(format!(
            "{}: SCTP frames that tshark sees but msctp decode does not print: {missing:?}",
            fx.name
        ));
    }
    if !extra.is_empty() {
        r.err(format!(
            "{}: frames msctp decode prints as SCTP but tshark does not see as SCTP: {extra:?}",
            fx.name
        ));
    }
    for p in &fx.packets {
        if let Some(m) = ours.get(&p.frame) {
            let at = At {
                fixture: &fx.name,
                frame: p.frame,
                chunk: None,
                param: None,
            };
            compare_packet(&at, p, m, r);
        }
    }
}

/// RFC 9260 §3.1: the common header, plus where the packet was found.
fn compare_packet(at: &At<'_>, p: &TPacket, m: &Value, r: &mut Report) {
    let num = |k: &str| m.get(k).and_then(Value::as_u64);
    let ip = |k: &str| {
        m.get(k)
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<IpAddr>().ok())
    };
    if let Some(t) = m.get("time").and_then(Value::as_f64) {
        r.counted("time");
        if (t - p.time).abs() > 2e-6 {
            r.err(format!(
                "{at}: field `time`: tshark says {}, msctp decode says {t}",
                p.time
            ));
        }
    } else {
        r.err(format!("{at}: field `time` missing"));
    }
    r.same(at, "src", Some(p.src), ip("src"));
    r.same(at, "dst", Some(p.dst), ip("dst"));
    let encap = if p.udp.is_some() { "udp" } else { "ip" };
    r.same(
        at,
        "encap",
        Some(encap),
        m.get("encap").and_then(Value::as_str),
    );
    if let Some((s, d)) = p.udp {
        // Not part of the brief's format; compared when msctp gives them.
        if m.get("udp_sport").is_some() || m.get("udp_dport").is_some() {
            r.same(at, "udp_sport", Some(s), num("udp_sport"));
            r.same(at, "udp_dport", Some(d), num("udp_dport"));
        }
    }
    let h = &p.header;
    r.same(at, "sport", h.num("sctp.srcport"), num("sport"));
    r.same(at, "dport", h.num("sctp.dstport"), num("dport"));
    r.same(at, "vtag", h.num("sctp.verification_tag"), num("vtag"));
    let good = p.checksum_status.as_deref().map(|s| s == "1");
    r.same(at, "crc_ok", good, m.get("crc_ok").and_then(Value::as_bool));

    if let Some(e) = m.get("error") {
        r.err(format!(
            "{at}: msctp decode reports the packet as malformed ({e}), tshark does not"
        ));
        return;
    }
    let Some(chunks) = m.get("chunks").and_then(Value::as_array) else {
        r.err(format!("{at}: no \"chunks\" array"));
        return;
    };
    if chunks.len() != p.chunks.len() {
        let names = |it: &mut dyn Iterator<Item = String>| it.collect::<Vec<_>>().join(", ");
        r.err(format!(
            "{at}: tshark sees {} chunks [{}], msctp decode {} [{}]",
            p.chunks.len(),
            names(
                &mut p
                    .chunks
                    .iter()
                    .map(|c| c.field("sctp.chunk_type").unwrap_or("?").to_owned())
            ),
            chunks.len(),
            names(
                &mut chunks
                    .iter()
                    .map(|c| c.get("type_code").map(Value::to_string).unwrap_or_default())
            )
        ));
    }
    for (i, (t, c)) in p.chunks.iter().zip(chunks).enumerate() {
        let code = t.num("sctp.chunk_type").unwrap_or(u64::MAX);
        let at = at.chunk(
            i,
            &chunk_name(code).map_or_else(|| format!("type {code}"), str::to_owned),
        );
        compare_chunk(&at, code, t, c, r);
    }
}

/// RFC 9260 §3.3 and the extension RFCs: the name of a chunk type as the
/// `msctp decode` contract spells it.
fn chunk_name(code: u64) -> Option<&'static str> {
    Some(match code {
        0 => "DATA",
        1 => "INIT",
        2 => "INIT ACK",
        3 => "SACK",
        4 => "HEARTBEAT",
        5 => "HEARTBEAT ACK",
        6 => "ABORT",
        7 => "SHUTDOWN",
        8 => "SHUTDOWN ACK",
        9 => "ERROR",
        10 => "COOKIE ECHO",
        11 => "COOKIE ACK",
        12 => "ECNE",
        13 => "CWR",
        14 => "SHUTDOWN COMPLETE",
        15 => "AUTH",
        64 => "I-DATA",
        128 => "ASCONF-ACK",
        130 => "RE-CONFIG",
        132 => "PAD",
        192 => "FORWARD TSN",
        193 => "ASCONF",
        194 => "I-FORWARD-TSN",
        _ => return None,
    })
}

/// Parameter names that the `msctp decode` contract fixes.
fn param_name(code: u64) -> Option<&'static str> {
    Some(match code {
        5 => "IPv4 Address",
        6 => "IPv6 Address",
        7 => "State Cookie",
        12 => "Supported Address Types",
        0x8000 => "ECN Capable",
        0x8002 => "Random",
        0x8003 => "Chunk List",
        0x8004 => "Requested HMAC Algorithm",
        0x8008 => "Supported Extensions",
        0xc000 => "Forward-TSN-Supported",
        0xc006 => "Adaptation Layer Indication",
        _ => return None,
    })
}

fn compare_chunk(at: &At<'_>, code: u64, t: &J, c: &Value, r: &mut Report) {
    let num = |k: &str| c.get(k).and_then(Value::as_u64);
    let flag = |k: &str| c.get(k).and_then(Value::as_bool);
    let name = chunk_name(code);
    r.same(at, "type_code", Some(code), num("type_code"));
    let got_name = c.get("type").and_then(Value::as_str);
    match name {
        Some(n) => r.same(at, "type", Some(n), got_name),
        None => {
            let want = format!("0x{code:02x}");
            r.same(
                at,
                "type",
                Some(want),
                got_name.map(str::to_ascii_lowercase),
            );
        }
    }
    r.same(at, "flags", t.num("sctp.chunk_flags"), num("flags"));
    let length = t.num("sctp.chunk_length");
    r.same(at, "length", length, num("length"));
    let l = |f: &str| format!("{} {f}", name.unwrap_or("?"));
    match code {
        // RFC 9260 §3.3.1 DATA; RFC 7053 I bit.
        0 => {
            r.same(
                at,
                &l("tsn"),
                t.num_any(&["sctp.data_tsn_raw", "sctp.data_tsn"]),
                num("tsn"),
            );
            r.same(at, &l("stream"), t.num("sctp.data_sid"), num("stream"));
            r.same(at, &l("ssn"), t.num("sctp.data_ssn"), num("ssn"));
            r.same(
                at,
                &l("ppid"),
                t.num("sctp.data_payload_proto_id"),
                num("ppid"),
            );
            data_flags(at, t, c, r, &l);
            r.same(
                at,
                &l("payload_len"),
                length.map(|n| n.saturating_sub(16)),
                num("payload_len"),
            );
        }
        // RFC 8260 §2.1 I-DATA: PPID in the first fragment, FSN in the others.
        64 => {
            r.same(
                at,
                &l("tsn"),
                t.num_any(&["sctp.data_tsn_raw", "sctp.data_tsn"]),
                num("tsn"),
            );
            r.same(at, &l("stream"), t.num("sctp.data_sid"), num("stream"));
            r.same(at, &l("mid"), t.num("sctp.data_mid"), num("mid"));
            if t.bool("sctp.data_b_bit") == Some(true) {
                r.same(
                    at,
                    &l("ppid"),
                    t.num("sctp.data_payload_proto_id"),
                    num("ppid"),
                );
            } else {
                r.same(at, &l("fsn"), t.num("sctp.data_fsn"), num("fsn"));
            }
            data_flags(at, t, c, r, &l);
            r.same(
                at,
                &l("payload_len"),
                length.map(|n| n.saturating_sub(20)),
                num("payload_len"),
            );
        }
        // RFC 9260 §3.3.2 INIT, §3.3.3 INIT ACK.
        1 | 2 => {
            let p = if code == 1 {
                "sctp.init_"
            } else {
                "sctp.initack_"
            };
            let f = |s: &str| t.num(&format!("{p}{s}"));
            r.same(
                at,
                &l("initiate_tag"),
                f("initiate_tag"),
                num("initiate_tag"),
            );
            r.same(at, &l("a_rwnd"), f("credit"), num("a_rwnd"));
            r.same(
                at,
                &l("outbound_streams"),
                f("nr_out_streams"),
                num("outbound_streams"),
            );
            r.same(
                at,
                &l("inbound_streams"),
                f("nr_in_streams"),
                num("inbound_streams"),
            );
            r.same(at, &l("initial_tsn"), f("initial_tsn"), num("initial_tsn"));
            compare_params(at, &params(t), c.get("params"), r);
        }
        // RFC 9260 §3.3.4 SACK: gap block offsets relative to the cumulative TSN.
        3 => {
            r.same(
                at,
                &l("cum_tsn_ack"),
                t.num_any(&[
                    "sctp.sack_cumulative_tsn_ack_raw",
                    "sctp.sack_cumulative_tsn_ack",
                ]),
                num("cum_tsn_ack"),
            );
            r.same(at, &l("a_rwnd"), t.num("sctp.sack_a_rwnd"), num("a_rwnd"));
            let starts = t.nums("sctp.sack_gap_block_start");
            let ends = t.nums("sctp.sack_gap_block_end");
            let want: Vec<(u64, u64)> = starts.into_iter().zip(ends).collect();
            r.same(at, &l("gap_blocks"), Some(want), pairs(c.get("gap_blocks")));
            r.same(
                at,
                &l("dup_tsns"),
                Some(t.nums("sctp.sack_duplicate_tsn")),
                list(c.get("dup_tsns")),
            );
        }
        // RFC 9260 §3.3.5 / §3.3.6: the Heartbeat Info parameter's value length.
        4 | 5 => {
            let info = params(t)
                .into_iter()
                .find(|p| p.num("sctp.parameter_type") == Some(1))
                .and_then(|p| p.num("sctp.parameter_length"))
                .map(|n| n.saturating_sub(4));
            r.same(at, &l("info_length"), info, num("info_length"));
        }
        // RFC 9260 §3.3.7 ABORT, §3.3.10 ERROR.
        6 | 9 => {
            if code == 6 {
                r.same(at, &l("t_bit"), t.bool("sctp.abort_t_bit"), flag("t_bit"));
            }
            compare_causes(at, &causes(t), c.get("causes"), r);
        }
        // RFC 9260 §3.3.8 SHUTDOWN.
        7 => r.same(
            at,
            &l("cum_tsn_ack"),
            t.num("sctp.shutdown_cumulative_tsn_ack"),
            num("cum_tsn_ack"),
        ),
        // RFC 9260 §3.3.11 COOKIE ECHO.
        10 => {
            let cookie = t
                .field("sctp.cookie")
                .map(hex_len)
                .or(length.map(|n| n.saturating_sub(4)));
            r.same(at, &l("cookie_length"), cookie, num("cookie_length"));
        }
        // RFC 9260 appendix A: ECNE and CWR.
        12 => r.same(
            at,
            &l("lowest_tsn"),
            t.num("sctp.ecne_lowest_tsn"),
            num("lowest_tsn"),
        ),
        13 => r.same(
            at,
            &l("lowest_tsn"),
            t.num("sctp.cwr_lowest_tsn"),
            num("lowest_tsn"),
        ),
        // RFC 9260 §3.3.13 SHUTDOWN COMPLETE.
        14 => r.same(
            at,
            &l("t_bit"),
            t.bool("sctp.shutdown_complete_t_bit"),
            flag("t_bit"),
        ),
        // RFC 4895 §4.2 AUTH.
        15 => {
            r.same(at, &l("key_id"), t.num("sctp.shared_key_id"), num("key_id"));
            r.same(at, &l("hmac_id"), t.num("sctp.hmac_id"), num("hmac_id"));
            r.same(
                at,
                &l("hmac_length"),
                t.field("sctp.hmac").map(hex_len),
                num("hmac_length"),
            );
        }
        // RFC 3758 §3.2 FORWARD TSN.
        192 => {
            r.same(
                at,
                &l("new_cum_tsn"),
                t.num("sctp.forward_tsn_tsn"),
                num("new_cum_tsn"),
            );
            let want: Vec<(u64, u64)> = t
                .nums("sctp.forward_tsn_sid")
                .into_iter()
                .zip(t.nums("sctp.forward_tsn_ssn"))
                .collect();
            r.same(at, &l("streams"), Some(want), pairs(c.get("streams")));
        }
        // RFC 8260 §2.3.1 I-FORWARD-TSN.
        194 => {
            r.same(
                at,
                &l("new_cum_tsn"),
                t.num("sctp.i_forward_tsn_tsn"),
                num("new_cum_tsn"),
            );
            let sids = t.nums("sctp.i_forward_tsn_sid");
            let us = t.fields("sctp.i_forward_tsn_u_bit");
            let mids = t.nums("sctp.forward_tsn_mid");
            let want: Vec<(u64, bool, u64)> = sids
                .into_iter()
                .zip(us)
                .zip(mids)
                .map(|((s, u), m)| (s, u == "1", m))
                .collect();
            r.same(at, &l("streams"), Some(want), triples(c.get("streams")));
        }
        // RFC 5061 §3.1.1 ASCONF, §3.1.2 ASCONF-ACK.
        193 | 128 => {
            let serial = if code == 193 {
                "sctp.asconf_seq_nr_number"
            } else {
                "sctp.asconf_ack_seq_nr_number"
            };
            r.same(at, &l("serial"), t.num(serial), num("serial"));
            let mut ps = params(t);
            // ASCONF starts with the sender's Address Parameter; accept it either
            // in "params" or as a separate "address".
            let leading = match (code, c.get("address"), ps.first()) {
                (193, Some(a), Some(first))
                    if matches!(first.num("sctp.parameter_type"), Some(5 | 6)) =>
                {
                    Some((a, param_address(first)))
                }
                _ => None,
            };
            if let Some((a, want)) = leading {
                let got = a.as_str().and_then(|s| s.parse::<IpAddr>().ok());
                r.same(at, &l("address"), want, got);
                ps.remove(0);
            }
            compare_params(at, &ps, c.get("params"), r);
        }
        // RFC 6525 §3.1 RE-CONFIG.
        130 => compare_params(at, &params(t), c.get("params"), r),
        _ => {}
    }
}

/// RFC 9260 §3.3.1 (U, B, E) and RFC 7053 (I): the flag bits of DATA and I-DATA.
fn data_flags(at: &At<'_>, t: &J, c: &Value, r: &mut Report, l: &dyn Fn(&str) -> String) {
    for (field, bit) in [
        ("unordered", "sctp.data_u_bit"),
        ("begin", "sctp.data_b_bit"),
        ("end", "sctp.data_e_bit"),
        ("immediate", "sctp.data_i_bit"),
    ] {
        r.same(
            at,
            &l(field),
            t.bool(bit),
            c.get(field).and_then(Value::as_bool),
        );
    }
}

fn param_address(p: &J) -> Option<IpAddr> {
    p.field("sctp.parameter_ipv4_address")
        .or_else(|| p.field("sctp.parameter_ipv6_address"))
        .and_then(|s| s.parse().ok())
}

/// RFC 9260 §3.2.1 and the extension RFCs: parameters in TLV form.
fn compare_params(at: &At<'_>, want: &[&J], got: Option<&Value>, r: &mut Report) {
    let Some(got) = got.and_then(Value::as_array) else {
        if !want.is_empty() {
            r.err(format!(
                "{at}: tshark sees {} parameters, msctp decode gives no \"params\" array",
                want.len()
            ));
        }
        return;
    };
    if want.len() != got.len() {
        r.err(format!(
            "{at}: tshark sees {} parameters (types {:?}), msctp decode {} (types {:?})",
            want.len(),
            want.iter()
                .map(|p| p.num("sctp.parameter_type"))
                .collect::<Vec<_>>(),
            got.len(),
            got.iter()
                .map(|p| p.get("type_code").and_then(Value::as_u64))
                .collect::<Vec<_>>()
        ));
    }
    for (i, (t, p)) in want.iter().zip(got).enumerate() {
        let code = t.num("sctp.parameter_type").unwrap_or(u64::MAX);
        let name = param_name(code);
        let at = at.param(
            i,
            &name.map_or_else(|| format!("type 0x{code:04x}"), str::to_owned),
        );
        let num = |k: &str| p.get(k).and_then(Value::as_u64);
        r.same(&at, "param type_code", Some(code), num("type_code"));
        r.same(
            &at,
            "param length",
            t.num("sctp.parameter_length"),
            num("length"),
        );
        let got_name = p.get("type").and_then(Value::as_str);
        match name {
            Some(n) => r.same(&at, "param type", Some(n), got_name),
            None if got_name.is_none_or(str::is_empty) => {
                r.err(format!("{at}: parameter without a \"type\" name"));
            }
            None => {}
        }
        let l = |f: &str| format!("{} {f}", name.unwrap_or("?"));
        let list_of = |k: &str| list(p.get(k));
        match code {
            5 | 6 => r.same(
                &at,
                &l("address"),
                param_address(t),
                p.get("address")
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse::<IpAddr>().ok()),
            ),
            12 => r.same(
                &at,
                &l("types"),
                Some(t.nums("sctp.parameter_supported_address_type")),
                list_of("types"),
            ),
            0x8008 => r.same(
                &at,
                &l("chunk_types"),
                Some(t.nums("sctp.supported_chunk_type")),
                list_of("chunk_types"),
            ),
            0x8003 => r.same(
                &at,
                &l("chunk_types"),
                Some(t.nums("sctp.chunk_type_to_auth")),
                list_of("chunk_types"),
            ),
            0x8004 => r.same(
                &at,
                &l("hmac_ids"),
                Some(t.nums("sctp.hmac_id")),
                list_of("hmac_ids"),
            ),
            0xc006 => r.same(
                &at,
                &l("indication"),
                t.num("sctp.adaptation_layer_indication"),
                num("indication"),
            ),
            // RFC 5061 §4.2: Add IP, Delete IP, Set Primary carry a correlation ID
            // and an address parameter. Not fixed by the contract: compared when
            // msctp decode gives them.
            0xc001 | 0xc002 | 0xc004 => {
                if p.get("correlation_id").is_some() {
                    r.same(
                        &at,
                        "correlation_id",
                        t.num("sctp.correlation_id"),
                        num("correlation_id"),
                    );
                }
                if let Some(a) = p.get("address") {
                    let nested = params(t).into_iter().next().and_then(param_address);
                    r.same(
                        &at,
                        "address",
                        nested,
                        a.as_str().and_then(|s| s.parse::<IpAddr>().ok()),
                    );
                }
            }
            _ => {}
        }
    }
}

/// RFC 9260 §3.3.10: error causes in ABORT and ERROR.
fn compare_causes(at: &At<'_>, want: &[&J], got: Option<&Value>, r: &mut Report) {
    let got = got
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if want.len() != got.len() {
        r.err(format!(
            "{at}: tshark sees {} error causes, msctp decode {}",
            want.len(),
            got.len()
        ));
    }
    for (i, (t, c)) in want.iter().zip(got).enumerate() {
        let code = t.num("sctp.cause_code").unwrap_or(u64::MAX);
        let at = at.param(i, &format!("cause {code}"));
        r.same(
            &at,
            "cause code",
            Some(code),
            c.get("code").and_then(Value::as_u64),
        );
        r.same(
            &at,
            "cause length",
            t.num("sctp.cause_length"),
            c.get("length").and_then(Value::as_u64),
        );
        if c.get("name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            r.err(format!("{at}: error cause without a \"name\""));
        }
    }
}

/// Direct parameter subtrees of a chunk (or of a parameter).
fn params(j: &J) -> Vec<&J> {
    j.children()
        .filter(|c| c.get("sctp.parameter_type").is_some())
        .collect()
}

/// Direct error-cause subtrees of a chunk.
fn causes(j: &J) -> Vec<&J> {
    j.children()
        .filter(|c| c.get("sctp.cause_code").is_some())
        .collect()
}

/// Number of bytes in tshark's "aa:bb:cc" rendering of a byte string.
fn hex_len(s: &str) -> u64 {
    if s.is_empty() {
        0
    } else {
        s.split(':').count() as u64
    }
}

fn list(v: Option<&Value>) -> Option<Vec<u64>> {
    v?.as_array()?.iter().map(Value::as_u64).collect()
}

fn pairs(v: Option<&Value>) -> Option<Vec<(u64, u64)>> {
    v?.as_array()?
        .iter()
        .map(|e| match e.as_array()?.as_slice() {
            [a, b] => Some((a.as_u64()?, b.as_u64()?)),
            _ => None,
        })
        .collect()
}

fn triples(v: Option<&Value>) -> Option<Vec<(u64, bool, u64)>> {
    v?.as_array()?
        .iter()
        .map(|e| match e.as_array()?.as_slice() {
            [a, b, c] => Some((a.as_u64()?, b.as_bool()?, c.as_u64()?)),
            _ => None,
        })
        .collect()
}

// ----------------------------------------------------------------------------
// tshark's JSON, read keeping key order and repeated keys

mod tjson {
    //! A small JSON reader whose objects are ordered lists of (key, value) pairs,
    //! so that repeated keys (which `tshark -T json` emits) and their order survive.

    /// A JSON value. Numbers are kept as their text.
    #[derive(Clone, Debug)]
    pub enum J {
        Null,
        Bool(bool),
        Num(String),
        Str(String),
        Arr(Vec<J>),
        Obj(Vec<(String, J)>),
    }

    impl J {
        /// The first value of `key` in this object.
        pub fn get(&self, key: &str) -> Option<&J> {
            match self {
                J::Obj(es) => es.iter().find(|(k, _)| k == key).map(|(_, v)| v),
                _ => None,
            }
        }

        /// The values of this object (or array), in order.
        pub fn children(&self) -> Box<dyn Iterator<Item = &J> + '_> {
            match self {
                J::Obj(es) => Box::new(es.iter().map(|(_, v)| v)),
                J::Arr(vs) => Box::new(vs.iter()),
                _ => Box::new(std::iter::empty()),
            }
        }

        /// Every value of `key` anywhere below this value, in document order.
        pub fn find_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a J> + 'a {
            let mut out = Vec::new();
            fn walk<'a>(j: &'a J, key: &str, out: &mut Vec<&'a J>) {
                match j {
                    J::Obj(es) => {
                        for (k, v) in es {
                            if k == key {
                                out.push(v);
                            }
                            walk(v, key, out);
                        }
                    }
                    J::Arr(vs) => vs.iter().for_each(|v| walk(v, key, out)),
                    _ => {}
                }
            }
            walk(self, key, &mut out);
            out.into_iter()
        }

        /// Every string value of the field `key` in this subtree, in document
        /// order, without descending into nested parameters or error causes
        /// (subtrees that have their own `sctp.parameter_type` or
        /// `sctp.cause_code`). Array values (as `--no-duplicate-keys` would
        /// produce) are flattened.
        pub fn fields<'a>(&'a self, key: &str) -> Vec<&'a str> {
            fn nested(j: &J) -> bool {
                j.get("sctp.parameter_type").is_some() || j.get("sctp.cause_code").is_some()
            }
            fn push<'a>(v: &'a J, out: &mut Vec<&'a str>) {
                match v {
                    J::Str(s) | J::Num(s) => out.push(s),
                    J::Bool(b) => out.push(if *b { "1" } else { "0" }),
                    J::Arr(vs) => vs.iter().for_each(|v| push(v, out)),
                    _ => {}
                }
            }
            fn walk<'a>(j: &'a J, key: &str, out: &mut Vec<&'a str>) {
                if let J::Obj(es) = j {
                    for (k, v) in es {
                        if k == key {
                            push(v, out);
                        } else if matches!(v, J::Obj(_)) && !nested(v) {
                            walk(v, key, out);
                        }
                    }
                }
            }
            let mut out = Vec::new();
            walk(self, key, &mut out);
            out
        }

        /// The first value of the field `key` (see [`J::fields`]).
        pub fn field(&self, key: &str) -> Option<&str> {
            self.fields(key).into_iter().next()
        }

        /// The field as a number (decimal, or hex with `0x`).
        pub fn num(&self, key: &str) -> Option<u64> {
            self.field(key).and_then(parse_num)
        }

        /// The first of several spellings of a numeric field.
        pub fn num_any(&self, keys: &[&str]) -> Option<u64> {
            keys.iter().find_map(|k| self.num(k))
        }

        /// Every value of a numeric field.
        pub fn nums(&self, key: &str) -> Vec<u64> {
            self.fields(key).into_iter().filter_map(parse_num).collect()
        }

        /// A boolean field ("1" / "0").
        pub fn bool(&self, key: &str) -> Option<bool> {
            match self.field(key)? {
                "1" | "True" | "true" => Some(true),
                "0" | "False" | "false" => Some(false),
                _ => None,
            }
        }

        /// This value as a number.
        pub fn as_u64(&self) -> Option<u64> {
            match self {
                J::Str(s) | J::Num(s) => parse_num(s),
                _ => None,
            }
        }

        /// This value as a string.
        pub fn as_str(&self) -> Option<&str> {
            match self {
                J::Str(s) => Some(s),
                _ => None,
            }
        }
    }

    fn parse_num(s: &str) -> Option<u64> {
        match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            Some(h) => u64::from_str_radix(h, 16).ok(),
            None => s.parse().ok(),
        }
    }

    /// Parses a complete JSON document.
    pub fn parse(text: &str) -> Result<J, String> {
        let mut p = Parser {
            b: text.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        if p.i != p.b.len() {
            return Err(p.error("trailing characters"));
        }
        Ok(v)
    }

    struct Parser<'a> {
        b: &'a [u8],
        i: usize,
    }

    impl Parser<'_> {
        fn error(&self, what: &str) -> String {
            format!("{what} at byte {}", self.i)
        }

        fn ws(&mut self) {
            while self.b.get(self.i).is_some_and(u8::is_ascii_whitespace) {
                self.i += 1;
            }
        }

        fn eat(&mut self, c: u8) -> Result<(), String> {
            self.ws();
            if self.b.get(self.i) == Some(&c) {
                self.i += 1;
                Ok(())
            } else {
                Err(self.error(&format!("expected '{}'", c as char)))
            }
        }

        fn value(&mut self) -> Result<J, String> {
            self.ws();
            match self.b.get(self.i) {
                Some(b'{') => {
                    self.i += 1;
                    let mut es = Vec::new();
                    self.ws();
                    if self.b.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        return Ok(J::Obj(es));
                    }
                    loop {
                        self.ws();
                        let k = self.string()?;
                        self.eat(b':')?;
                        es.push((k, self.value()?));
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                return Ok(J::Obj(es));
                            }
                            _ => return Err(self.error("expected ',' or '}'")),
                        }
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    let mut vs = Vec::new();
                    self.ws();
                    if self.b.get(self.i) == Some(&b']') {
                        self.i += 1;
                        return Ok(J::Arr(vs));
                    }
                    loop {
                        vs.push(self.value()?);
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                return Ok(J::Arr(vs));
                            }
                            _ => return Err(self.error("expected ',' or ']'")),
                        }
                    }
                }
                Some(b'"') => Ok(J::Str(self.string()?)),
                Some(b't') => self.word("true", J::Bool(true)),
                Some(b'f') => self.word("false", J::Bool(false)),
                Some(b'n') => self.word("null", J::Null),
                Some(c) if *c == b'-' || c.is_ascii_digit() => {
                    let start = self.i;
                    while self
                        .b
                        .get(self.i)
                        .is_some_and(|c| c.is_ascii_digit() || b"+-.eE".contains(c))
                    {
                        self.i += 1;
                    }
                    Ok(J::Num(
                        String::from_utf8_lossy(&self.b[start..self.i]).into_owned(),
                    ))
                }
                _ => Err(self.error("expected a JSON value")),
            }
        }

        fn word(&mut self, w: &str, v: J) -> Result<J, String> {
            if self.b[self.i..].starts_with(w.as_bytes()) {
                self.i += w.len();
                Ok(v)
            } else {
                Err(self.error("bad literal"))
            }
        }

        fn hex4(&mut self) -> Result<u32, String> {
            let h = self
                .b
                .get(self.i..self.i + 4)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .ok_or_else(|| self.error("bad \\u escape"))?;
            self.i += 4;
            Ok(h)
        }

        fn string(&mut self) -> Result<String, String> {
            self.eat(b'"')?;
            let mut s = Vec::new();
            loop {
                let Some(&c) = self.b.get(self.i) else {
                    return Err(self.error("unterminated string"));
                };
                self.i += 1;
                match c {
                    b'"' => break,
                    b'\\' => {
                        let Some(&e) = self.b.get(self.i) else {
                            return Err(self.error("unterminated escape"));
                        };
                        self.i += 1;
                        let ch = match e {
                            b'"' => '"',
                            b'\\' => '\\',
                            b'/' => '/',
                            b'b' => '\u{8}',
                            b'f' => '\u{c}',
                            b'n' => '\n',
                            b'r' => '\r',
                            b't' => '\t',
                            b'u' => {
                                let hi = self.hex4()?;
                                let cp = if (0xd800..0xdc00).contains(&hi)
                                    && self.b[self.i..].starts_with(b"\\u")
                                {
                                    self.i += 2;
                                    let lo = self.hex4()?;
                                    0x10000
                                        + ((hi - 0xd800) << 10)
                                        + (lo.wrapping_sub(0xdc00) & 0x3ff)
                                } else {
                                    hi
                                };
                                char::from_u32(cp).unwrap_or('\u{fffd}')
                            }
                            _ => return Err(self.error("bad escape")),
                        };
                        let mut buf = [0; 4];
                        s.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    }
                    _ => s.push(c),
                }
            }
            String::from_utf8(s).map_err(|_| self.error("string is not UTF-8"))
        }
    }
}
