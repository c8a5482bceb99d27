//! Captures: real addresses, ICMP errors included, timestamps from the
//! fixed epoch, and Wireshark finds nothing malformed and every SCTP CRC32c
//! good.

use crate::agents::{Scripted, data_packet, init_packet};
use bytes::Bytes;
use msctp_sim::{
    ALPHA_1_V4, ALPHA_1_V6, ALPHA_2_V4, ALPHA_2_V6, BETA_1_V4, BETA_1_V6, BETA_2_V4, BETA_2_V6,
    Datagram, Direction, Lab, LinkConfig, LinkState, PCAP_EPOCH, RejectWith, SimConfig,
    seed_from_env,
};
use msctp_wire::capture::{Decap, read, sctp_in_frame};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const MS: Duration = Duration::from_millis(1);

/// A run with SCTP over IPv4 and IPv6 on both links, rejected datagrams
/// (ICMP and ICMPv6 destination unreachable, small and big enough to be
/// cut in the quote) and datagrams too big for the MTU (packet too big).
fn run() -> Lab {
    let config = SimConfig {
        record_pcap: true,
        combined_pcap: true,
        ..SimConfig::default()
    };
    let mut lab = Lab::with_config(seed_from_env(61), config, LinkConfig::with_delay(MS));
    let start = lab.sim.start();
    let mut small_mtu = LinkConfig::with_delay(MS);
    small_mtu.mtu = Some(1280);
    lab.sim
        .set_link_config(lab.link2, Some(Direction::AToB), small_mtu);
    let mut alpha = Scripted::new(start);
    let mut t = MS;
    let mut tsn = 0;
    for (src, dst) in [
        (ALPHA_1_V4, BETA_1_V4),
        (ALPHA_1_V6, BETA_1_V6),
        (ALPHA_2_V4, BETA_2_V4),
        (ALPHA_2_V6, BETA_2_V6),
    ] {
        alpha.schedule(t, Datagram::new(src, dst, init_packet(false)));
        for user_len in [1, 100, 1200, 1400] {
            alpha.schedule(t, Datagram::new(src, dst, data_packet(tsn, user_len)));
            tsn += 1;
        }
        t += 100 * MS;
    }
    // Link 1 rejects from 50 ms: its IPv6 datagrams (at 101 ms) get ICMPv6.
    // Then again with admin-prohibited for a second IPv4 round at 420 ms.
    for user_len in [10, 1400] {
        alpha.schedule(
            420 * MS,
            Datagram::new(ALPHA_1_V4, BETA_1_V4, data_packet(tsn, user_len)),
        );
        tsn += 1;
    }
    lab.sim.set_agent(lab.alpha, alpha);
    lab.sim.set_agent(lab.beta, Scripted::echo(start));
    lab.sim
        .schedule_link_state(50 * MS, lab.link1, None, LinkState::REJECT);
    lab.sim.schedule_link_state(
        400 * MS,
        lab.link1,
        None,
        LinkState::Reject(RejectWith::AdminProhibited),
    );
    lab.sim.run_for(Duration::from_secs(1));
    lab
}

/// A temporary directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("msctp-sim-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs tshark; fails the test with a clear message if it is missing.
fn tshark(args: &[&std::ffi::OsStr]) -> String {
    let tshark = std::env::var_os("TSHARK").unwrap_or_else(|| "tshark".into());
    let output = Command::new(&tshark)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "this test needs tshark (Wireshark's CLI): install it with \
                 `apt-get install tshark` (or run `cargo xtask test`, which does), \
                 or set TSHARK to its path; running {tshark:?} failed: {e}"
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "tshark {args:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn tshark_finds_nothing_malformed_and_every_crc_good() {
    let lab = run();
    let dir = TempDir::new("tshark");
    let written = lab.sim.write_pcaps(&dir.0, "run").unwrap();
    let names: Vec<_> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["run-link1.pcap", "run-link2.pcap", "run-all.pcap"]);
    let all = &written[2];
    let stdout = tshark(&[
        "-r".as_ref(),
        all.as_os_str(),
        "-o".as_ref(),
        "sctp.checksum:CRC 32c".as_ref(),
        "-o".as_ref(),
        "ip.check_checksum:TRUE".as_ref(),
        "-T".as_ref(),
        "fields".as_ref(),
        "-E".as_ref(),
        "separator=|".as_ref(),
        "-e".as_ref(),
        "frame.number".as_ref(),
        "-e".as_ref(),
        "frame.len".as_ref(),
        "-e".as_ref(),
        "frame.protocols".as_ref(),
        "-e".as_ref(),
        "sctp.checksum.status".as_ref(),
        "-e".as_ref(),
        "_ws.malformed".as_ref(),
        "-e".as_ref(),
        "icmp.checksum.status".as_ref(),
        "-e".as_ref(),
        "icmpv6.checksum.status".as_ref(),
        "-e".as_ref(),
        "ip.checksum.status".as_ref(),
        "-e".as_ref(),
        "icmp.type".as_ref(),
        "-e".as_ref(),
        "icmpv6.type".as_ref(),
    ]);
    let lines: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('|').collect()).collect();
    let frames = lab.sim.pcap_frames(lab.link1) + lab.sim.pcap_frames(lab.link2);
    assert_eq!(lines.len() as u64, frames, "tshark output:\n{stdout}");
    let mut icmp = 0;
    let mut icmpv6 = 0;
    for line in &lines {
        let [
            number,
            len,
            protocols,
            sctp,
            malformed,
            icmp_sum,
            icmpv6_sum,
            ip_sum,
            icmp_type,
            icmpv6_type,
        ] = line[..]
        else {
            panic!("unexpected tshark line {line:?}");
        };
        assert!(malformed.is_empty(), "frame {number} malformed:\n{stdout}");
        assert!(
            !protocols.contains("malformed"),
            "frame {number}:\n{stdout}"
        );
        assert!(
            !ip_sum.split(',').any(|s| s == "0"),
            "frame {number} IP checksum:\n{stdout}"
        );
        let len: usize = len.parse().unwrap();
        if !icmp_type.is_empty() || !icmpv6_type.is_empty() {
            let (sum, cut_len) = if icmp_type.is_empty() {
                icmpv6 += 1;
                (icmpv6_sum, 1280)
            } else {
                icmp += 1;
                (icmp_sum, 576)
            };
            assert_eq!(sum, "1", "frame {number} ICMP checksum:\n{stdout}");
            assert!(len <= cut_len, "frame {number}: ICMP error too long");
            // The quoted SCTP packet verifies when it is quoted whole; a
            // quote cut at 576 (IPv4) or 1280 (IPv6) bytes cannot, and
            // Wireshark then reports its checksum as bad.
            if len < cut_len {
                assert_eq!(sctp, "1", "frame {number} quoted SCTP checksum:\n{stdout}");
            }
        } else {
            // A plain SCTP packet: its CRC32c verified good (status 1).
            assert_eq!(sctp, "1", "frame {number} SCTP checksum:\n{stdout}");
        }
    }
    let stats1 = lab.sim.link_stats(lab.link1).a_to_b;
    let stats2 = lab.sim.link_stats(lab.link2).a_to_b;
    assert_eq!(
        icmp + icmpv6,
        stats1.icmp_returned + stats2.icmp_returned,
        "every ICMP error is captured"
    );
    assert!(icmp >= 3 && icmpv6 >= 3, "{icmp} ICMP, {icmpv6} ICMPv6");
}

#[test]
fn frames_carry_real_addresses_and_epoch_timestamps() {
    let lab = run();
    let frames: Vec<_> = read(Bytes::from(lab.sim.pcap_bytes(lab.link1)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // The first frame is alpha's INIT at 1 ms, over IPv4.
    assert_eq!(frames[0].timestamp, PCAP_EPOCH + MS);
    let Decap::Sctp(first) = sctp_in_frame(&frames[0]) else {
        panic!("not SCTP")
    };
    assert_eq!((first.src, first.dst), (ALPHA_1_V4, BETA_1_V4));
    assert_eq!(first.sctp, init_packet(false));
    // Timestamps never go backwards.
    assert!(frames.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    // The echo from beta is there too: a capture sees both directions.
    assert!(frames.iter().any(|f| matches!(
        sctp_in_frame(f),
        Decap::Sctp(d) if d.src == BETA_1_V4
    )));
    // Capturing a link started later holds only the later frames.
    let mut lab2 = Lab::new(seed_from_env(62), LinkConfig::default());
    lab2.sim.enable_pcap(lab2.link2);
    assert_eq!(lab2.sim.pcap_bytes(lab2.link2).len(), 24, "just the header");
    assert_eq!(lab2.sim.pcap_frames(lab2.link1), 0);
}

#[test]
#[should_panic(expected = "is not captured")]
fn asking_for_a_capture_that_is_off_panics() {
    let lab = Lab::new(seed_from_env(63), LinkConfig::default());
    lab.sim.pcap_bytes(lab.link1);
}
