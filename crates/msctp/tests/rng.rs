//! Wire randomness (RFC 9260 §5.1.3 and §3.3.2: verification tags and
//! initial TSNs that cannot be guessed): the runtime's endpoints draw them
//! from a CSPRNG keyed by the OS; the seeded generator of the simulator
//! stays deterministic.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use msctp::testing::addr::*;
use msctp::testing::{Lab, require_root};
use msctp::transport::TransportKind;
use msctp::{Config, Options, SctpListener, SctpStream};
use msctp_proto::Endpoint;
use msctp_wire::capture::{Decap, sctp_in_frame};
use msctp_wire::{Chunk, Packet};
use tokio::time::timeout;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The INIT an endpoint with `config` sends first: (initiate tag, initial
/// TSN, the whole packet).
fn first_init(config: Config) -> (u32, u32, Bytes) {
    let now = Instant::now();
    let mut ep = Endpoint::new(config, vec![ip("192.0.2.1")], 5000, now);
    ep.connect(now, &[ip("192.0.2.2")], 5001).unwrap();
    let t = ep.poll_transmit(now).expect("an INIT");
    init_of(&t.payload).unwrap()
}

fn init_of(sctp: &Bytes) -> Option<(u32, u32, Bytes)> {
    let p = Packet::parse(sctp.clone()).ok()?;
    p.chunks.iter().find_map(|c| match c {
        Chunk::Init(i) => Some((i.initiate_tag, i.initial_tsn.0, sctp.clone())),
        _ => None,
    })
}

/// Secure generators (`rng_secret`) differ across endpoints whose
/// configurations differ only in the secret, and ignore `rng_seed`.
#[test]
fn secure_endpoints_differ_by_secret_only() {
    let base = Config {
        rng_seed: 7,
        cookie_secret: [1; 32],
        ..Config::default()
    };
    let a = first_init(Config {
        rng_secret: Some([0xa; 32]),
        ..base.clone()
    });
    let b = first_init(Config {
        rng_secret: Some([0xb; 32]),
        ..base.clone()
    });
    assert_ne!(a.0, b.0, "initiate tags");
    assert_ne!(a.1, b.1, "initial TSNs");
    // Same secret, different seed: the seed is ignored.
    let a2 = first_init(Config {
        rng_secret: Some([0xa; 32]),
        rng_seed: 8,
        ..base.clone()
    });
    assert_eq!((a.0, a.1), (a2.0, a2.1));
    // Not the seeded generator's values.
    let seeded = first_init(base);
    assert_ne!((a.0, a.1), (seeded.0, seeded.1));
}

/// The seeded generator (no `rng_secret`) is deterministic: the same seed
/// gives the same INIT, byte for byte; another seed another tag.
#[test]
fn seeded_endpoints_stay_deterministic() {
    let config = |seed| Config {
        rng_seed: seed,
        cookie_secret: [1; 32],
        ..Config::default()
    };
    let (t1, n1, p1) = first_init(config(42));
    let (t2, n2, p2) = first_init(config(42));
    assert_eq!((t1, n1, &p1), (t2, n2, &p2));
    let (t3, _, _) = first_init(config(43));
    assert_ne!(t1, t3);
}

/// The runtime keys every endpoint from the OS: two clients with the same
/// options (and the same `rng_seed`) send INITs with different tags and
/// TSNs.
#[tokio::test(flavor = "current_thread")]
async fn runtime_endpoints_get_os_secrets() {
    require_root("the randomness test creates network namespaces and raw sockets");
    let lab = Lab::new();
    let dir = std::env::temp_dir().join(format!("msctp-rng-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let opts = |pcap: &str| Options {
        transport: TransportKind::Raw,
        config: Config {
            rng_seed: 1,
            rto_initial: Duration::from_millis(300),
            ..Config::default()
        },
        pcap: Some(dir.join(pcap)),
        ..Options::default()
    };
    let listener = {
        let _inside = lab.beta.enter();
        SctpListener::bind(&[BETA1_V4], 5001, Options::default())
            .await
            .unwrap()
    };
    let mut inits = Vec::new();
    for name in ["a.pcap", "b.pcap"] {
        let client = {
            let _inside = lab.alpha.enter();
            timeout(
                Duration::from_secs(20),
                SctpStream::connect(&[ALPHA1_V4], &[BETA1_V4], 5001, opts(name)),
            )
            .await
            .unwrap()
            .unwrap()
        };
        let _server = timeout(Duration::from_secs(20), listener.accept())
            .await
            .unwrap()
            .unwrap();
        client.abort(None);
        drop(client);
        // The capture is flushed when the driver ends (the association is
        // gone): wait for the INIT to show up in it.
        let path = dir.join(name);
        let init = timeout(Duration::from_secs(20), async {
            loop {
                let data = std::fs::read(&path).unwrap_or_default();
                let found = msctp_wire::capture::read(Bytes::from(data))
                    .ok()
                    .and_then(|r| {
                        r.filter_map(Result::ok)
                            .find_map(|f| match sctp_in_frame(&f) {
                                Decap::Sctp(d) if d.src == ALPHA1_V4 => init_of(&d.sctp),
                                _ => None,
                            })
                    });
                if let Some(i) = found {
                    return i;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("the client's INIT never appeared in its capture");
        inits.push((init.0, init.1));
    }
    assert_ne!(inits[0].0, inits[1].0, "initiate tags");
    assert_ne!(inits[0].1, inits[1].1, "initial TSNs");
    let _ = std::fs::remove_dir_all(&dir);
}
