//! The wire check: every transmitted datagram is parsed again; a bad one
//! fails the run unless the test asks to record it instead.

use crate::agents::{Scripted, data_packet};
use bytes::Bytes;
use msctp_sim::{
    ALPHA_1_V4, ALPHA_1_V6, BETA_1_V4, Datagram, Lab, LinkConfig, SimConfig, WireErrorKind,
    seed_from_env,
};
use msctp_wire::ErrorKind;
use std::time::Duration;

/// A DATA packet with one byte of user data flipped after the checksum was
/// computed.
fn corrupted() -> Bytes {
    let mut bytes = data_packet(9, 40).to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    Bytes::from(bytes)
}

fn run(config: SimConfig, datagrams: Vec<Datagram>) -> Lab {
    let mut lab = Lab::with_config(seed_from_env(41), config, LinkConfig::default());
    let start = lab.sim.start();
    let mut script = Scripted::new(start);
    for d in datagrams {
        script = script.at(Duration::from_millis(1), d);
    }
    lab.sim.set_agent(lab.alpha, script);
    lab.sim.set_agent(lab.beta, Scripted::new(start));
    lab.sim.run_for(Duration::from_secs(1));
    lab
}

#[test]
#[should_panic(expected = "wire check failed")]
fn corrupted_packet_panics_by_default() {
    run(
        SimConfig::default(),
        vec![Datagram::new(ALPHA_1_V4, BETA_1_V4, corrupted())],
    );
}

#[test]
fn corrupted_packet_is_recorded_when_asked() {
    let config = SimConfig {
        panic_on_wire_error: false,
        ..SimConfig::default()
    };
    let mixed = Datagram::new(ALPHA_1_V6, BETA_1_V4, data_packet(1, 4));
    let lab = run(
        config,
        vec![
            Datagram::new(ALPHA_1_V4, BETA_1_V4, corrupted()),
            Datagram::new(ALPHA_1_V4, BETA_1_V4, Bytes::from_static(&[1, 2, 3])),
            mixed,
        ],
    );
    let errors = lab.sim.wire_errors();
    assert_eq!(errors.len(), 3);
    assert_eq!(errors[0].time, Duration::from_millis(1));
    assert_eq!(errors[0].host, lab.alpha);
    assert!(matches!(
        errors[0].kind,
        WireErrorKind::Parse(e) if e.kind == ErrorKind::BadChecksum
    ));
    assert!(matches!(
        errors[1].kind,
        WireErrorKind::Parse(e) if e.kind == ErrorKind::Truncated
    ));
    assert_eq!(errors[2].kind, WireErrorKind::MixedFamilies);
    let text = errors[0].to_string();
    assert!(
        text.contains("checksum mismatch") && text.contains("0000: 13 88"),
        "{text}"
    );
    // Recorded, not stopped: the bad datagrams still travel.
    assert_eq!(lab.sim.agent::<Scripted>(lab.beta).received.len(), 3);
}

#[test]
fn wire_check_can_be_turned_off() {
    let lab = run(
        SimConfig::fast(),
        vec![Datagram::new(ALPHA_1_V4, BETA_1_V4, corrupted())],
    );
    assert!(lab.sim.wire_errors().is_empty());
    assert_eq!(lab.sim.agent::<Scripted>(lab.beta).received.len(), 1);
    assert!(lab.sim.log().is_empty(), "fast() turns the log off");
}
