//! SCTP runs through the simulator: same seed, same bytes; the pcap of a
//! lossy run is clean for tshark (RFC 9260 §6.8: every CRC32c correct).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use msctp_proto::Config;
use msctp_sim::sctp::{BulkSender, SctpHost, Sink, Traffic};
use msctp_sim::{ALPHA_1_V4, ALPHA_2_V4, BETA_1_V4, BETA_2_V4, Lab, LinkConfig, SimConfig};

fn lossy_run(seed: u64) -> Lab {
    let link = LinkConfig {
        delay: Duration::from_millis(5),
        loss: 0.03,
        duplicate: 0.01,
        reorder: 0.01,
        ..LinkConfig::default()
    };
    let config = SimConfig {
        record_pcap: true,
        combined_pcap: true,
        ..SimConfig::default()
    };
    let mut lab = Lab::with_config(seed, config, link);
    let start = lab.sim.start();
    let mut client = SctpHost::new(
        Config {
            rng_seed: seed,
            cookie_secret: [3; 32],
            ..Config::default()
        },
        vec![ALPHA_1_V4, ALPHA_2_V4],
        5001,
        start,
    )
    .with_app(BulkSender::new(
        300_000,
        1,
        20_000,
        Traffic::MultiStream(4),
        seed,
    ));
    client.endpoint.connect(start, &[BETA_1_V4], 5001).unwrap();
    let mut server = SctpHost::new(
        Config {
            rng_seed: seed + 1,
            cookie_secret: [4; 32],
            ..Config::default()
        },
        vec![BETA_1_V4, BETA_2_V4],
        5001,
        start,
    )
    .with_app(Sink::new());
    server.endpoint.listen(true);
    lab.sim.set_agent(lab.alpha, client);
    lab.sim.set_agent(lab.beta, server);
    let beta = lab.beta;
    let ok = lab.sim.run_until_cond(Duration::from_secs(300), |sim| {
        sim.agent::<SctpHost>(beta)
            .app::<Sink>()
            .unwrap()
            .digest()
            .bytes
            == 300_000
    });
    assert!(ok, "seed {seed}: transfer incomplete");
    lab.sim.run_for(Duration::from_secs(35));
    lab
}

/// Same seed, same run: identical pcap bytes and event logs.
#[test]
fn same_seed_same_bytes() {
    let a = lossy_run(11);
    let b = lossy_run(11);
    assert_eq!(a.sim.combined_pcap_bytes(), b.sim.combined_pcap_bytes());
    assert_eq!(a.sim.log_text(), b.sim.log_text());
    let c = lossy_run(12);
    assert_ne!(a.sim.combined_pcap_bytes(), c.sim.combined_pcap_bytes());
}

fn tshark() -> String {
    let t = std::env::var("TSHARK").unwrap_or_else(|_| "tshark".into());
    match Command::new(&t).arg("--version").output() {
        Ok(o) if o.status.success() => t,
        _ => panic!(
            "tshark is needed to check simulator captures and was not found; install it with \
             `apt-get install tshark` or run `cargo xtask test`, which installs it"
        ),
    }
}

/// RFC 9260 §6.8 and the wire format: tshark decodes every packet of a
/// lossy run's capture, finds nothing malformed, and every CRC32c is good.
#[test]
fn lossy_pcap_is_clean_for_tshark() {
    let tshark = tshark();
    let lab = lossy_run(5);
    let dir = std::env::temp_dir().join(format!("msctp-sim-pcap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files: Vec<PathBuf> = lab.sim.write_pcaps(&dir, "lossy").unwrap();
    assert!(!files.is_empty());
    let mut total = 0;
    for f in &files {
        let out = Command::new(&tshark)
            .args(["-n", "-o", "sctp.checksum:crc-32c", "-r"])
            .arg(f)
            .args([
                "-T",
                "fields",
                "-e",
                "frame.number",
                "-e",
                "sctp.checksum.status",
                "-e",
                "_ws.malformed",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tshark failed on {}: {}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let mut frames = 0;
        for line in text.lines() {
            let cols: Vec<_> = line.split('\t').collect();
            frames += 1;
            assert_eq!(
                cols.get(1).copied(),
                Some("1"),
                "{}: frame {} CRC not good: {line}",
                f.display(),
                cols[0]
            );
            assert!(
                cols.get(2).is_none_or(|m| m.is_empty()),
                "{}: malformed frame {line}",
                f.display()
            );
        }
        assert!(frames > 0, "{}: no frames", f.display());
        total += frames;
    }
    assert!(total > 200, "only {total} frames in all captures");
    std::fs::remove_dir_all(&dir).ok();
}
