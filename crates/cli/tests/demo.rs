//! `msctp demo` end to end: it runs without privileges, tells every phase of
//! the reference text's two experiments, writes captures and JSON lines
//! that parse, is byte-for-byte reproducible, and rejects bad flags with a
//! message that names the flag.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bytes::Bytes;
use msctp_wire::capture::{self, Decap};
use serde_json::Value;

/// A fresh, empty temporary folder for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("msctp-demo-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn demo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_msctp"))
        .arg("demo")
        .args(args)
        .output()
        .expect("running msctp")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "msctp demo failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

/// Reads a pcap and returns its SCTP packets (decoded), checking every
/// frame is either SCTP with a good CRC32c or an ICMP error.
fn sctp_packets(path: &Path) -> Vec<msctp_wire::Packet> {
    let bytes = Bytes::from(std::fs::read(path).unwrap());
    let mut packets = Vec::new();
    let mut frames = 0;
    for frame in capture::read(bytes).unwrap() {
        let frame = frame.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        frames += 1;
        match capture::sctp_in_frame(&frame) {
            Decap::Sctp(d) => packets.push(
                msctp_wire::Packet::parse(d.sctp)
                    .unwrap_or_else(|e| panic!("{} frame {}: {e}", path.display(), frame.number)),
            ),
            Decap::NotSctp => {
                // ICMP errors: IPv4 protocol 1.
                assert_eq!(
                    frame.data[9],
                    1,
                    "{} frame {}",
                    path.display(),
                    frame.number
                );
            }
            other => panic!("{} frame {}: {other:?}", path.display(), frame.number),
        }
    }
    assert!(frames > 0, "{}: empty capture", path.display());
    packets
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            assert!(v["t"].is_number(), "{l}");
            assert!(v["scenario"].is_string(), "{l}");
            assert!(v["event"].is_string(), "{l}");
            v
        })
        .collect()
}

#[test]
fn demo_tells_every_phase_and_writes_files_that_parse() {
    let dir = temp_dir("phases");
    let out = demo(&["--out", dir.to_str().unwrap()]);
    let text = ok(&out);
    for phrase in [
        "=== Scenario normal",
        "=== Scenario failover",
        ">> Handshake",
        ">> Address confirmation",
        ">> Data on the primary path",
        ">> Heartbeats on the secondary path",
        ">> Failure of link 1",
        ">> Retransmission on the alternate path",
        ">> Probing of link 1",
        ">> Link 1 restored",
        ">> Failback",
        ">> Shutdown",
        "INIT initial TSN",
        "addresses [198.51.100.1]",
        "addresses [198.51.100.2]",
        "HEARTBEAT ACK",
        "cum TSN ack",
        "(retransmission)",
        "LOST: rejected",
        "ICMP destination unreachable (port unreachable)",
        "potentially failed",
        "available again",
        "SHUTDOWN COMPLETE",
        "Per-path summary, scenario normal",
        "Per-path summary, scenario failover",
        "FAILOVER TIME",
        "FAILBACK TIME",
        "same TSN as the lost one          yes",
        "none lost, none duplicated, all in order",
    ] {
        assert!(
            text.contains(phrase),
            "the output lacks {phrase:?}:\n{text}"
        );
    }
    // Phases appear in the reference text's order within the failover.
    let failover = &text[text.find("=== Scenario failover").unwrap()..];
    let order: Vec<usize> = [
        ">> Handshake",
        ">> Address confirmation",
        ">> Data on the primary path",
        ">> Heartbeats on the secondary path",
        ">> Failure of link 1",
        ">> Retransmission on the alternate path",
        ">> Probing of link 1",
        ">> Link 1 restored",
        ">> Failback",
        ">> Shutdown",
    ]
    .iter()
    .map(|p| failover.find(p).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");

    for name in ["normal", "failover"] {
        let packets = sctp_packets(&dir.join(format!("{name}.pcap")));
        assert!(
            packets
                .iter()
                .any(|p| matches!(p.chunks[0], msctp_wire::Chunk::Init(_))),
            "{name}.pcap has the INIT"
        );
    }
    let events = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    let lines = json_lines(&events);
    for (scenario, kinds) in [
        (
            "normal",
            &[
                "scenario_start",
                "association_change",
                "peer_address_change",
                "counters",
                "scenario_end",
            ][..],
        ),
        (
            "failover",
            &[
                "link_state",
                "data_path_change",
                "peer_address_change",
                "counters",
                "scenario_end",
            ][..],
        ),
    ] {
        for kind in kinds {
            assert!(
                lines
                    .iter()
                    .any(|v| v["scenario"] == scenario && v["event"] == *kind),
                "events.jsonl has no {kind} for {scenario}"
            );
        }
    }
    let end = lines
        .iter()
        .find(|v| v["scenario"] == "failover" && v["event"] == "scenario_end")
        .unwrap();
    assert_eq!(end["all_in_order"], true);
    assert!(end["failover_ms"].as_f64().unwrap() < 1000.0, "{end}");
    assert!(end["failback_ms"].as_f64().is_some(), "{end}");
    assert_eq!(end["lost_tsn"], end["retransmitted_tsn"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn same_seed_gives_identical_output_and_files() {
    let dir = temp_dir("repro");
    let d = dir.to_str().unwrap();
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    let files = ["normal.pcap", "failover.pcap", "events.jsonl"];
    let first = ok(&demo(&["--out", d, "--seed", "7"]));
    let first_files: Vec<Vec<u8>> = files.iter().map(|f| read(f)).collect();
    let second = ok(&demo(&["--out", d, "--seed", "7"]));
    let second_files: Vec<Vec<u8>> = files.iter().map(|f| read(f)).collect();
    assert_eq!(first, second, "stdout differs between two runs with seed 7");
    for (i, f) in files.iter().enumerate() {
        assert_eq!(
            first_files[i], second_files[i],
            "{f} differs between two runs"
        );
    }
    ok(&demo(&["--out", d, "--seed", "8"]));
    assert_ne!(
        read("failover.pcap"),
        first_files[1],
        "another seed, other tags and TSNs"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn json_prints_the_event_lines() {
    let dir = temp_dir("json");
    let text = ok(&demo(&[
        "--json",
        "--scenario",
        "failover",
        "--failure",
        "drop",
        "--out",
        dir.to_str().unwrap(),
    ]));
    let lines = json_lines(&text);
    assert!(lines.iter().all(|v| v["scenario"] == "failover"));
    assert_eq!(lines[0]["event"], "scenario_start");
    assert_eq!(lines[0]["failure"], "drop");
    assert!(lines.iter().any(|v| v["event"] == "peer_address_change"
        && v["change"] == "potentially_failed"
        && v["host"] == "alpha"
        && v["address"] == "192.0.2.2"));
    let times: Vec<f64> = lines.iter().map(|v| v["t"].as_f64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "time order");
    assert_eq!(
        text,
        std::fs::read_to_string(dir.join("events.jsonl")).unwrap(),
        "--json prints exactly events.jsonl"
    );
    assert!(dir.join("failover.pcap").exists());
    assert!(!dir.join("normal.pcap").exists());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_flags_name_the_flag_and_the_fix() {
    let out = demo(&["--scenario", "bogus"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--scenario"), "{err}");
    assert!(
        err.contains("normal") && err.contains("failover") && err.contains("all"),
        "{err}"
    );

    let out = demo(&["--seed", "many"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--seed"));

    let out = demo(&["--failure", "flood"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--failure") && err.contains("reject") && err.contains("drop"),
        "{err}"
    );

    // A folder that cannot be created: below a regular file (this fails for
    // root too).
    let dir = temp_dir("unwritable");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let bad = file.join("out");
    let out = demo(&["--out", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--out") && err.contains(bad.to_str().unwrap()),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing printed on failure");
    std::fs::remove_dir_all(&dir).ok();
}
