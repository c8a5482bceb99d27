//! Clear errors: no CAP_NET_RAW, an address that is not local, a UDP port
//! in use, bad arguments.

use std::net::IpAddr;

use msctp::testing::{Lab, Netns, addr::*, require_root, run_test_without_cap_net_raw};
use msctp::transport::{Transport, TransportError, TransportKind};

use crate::common::*;

/// Environment variable that selects the child role of
/// `child_bind_raw_without_cap_net_raw`.
const ROLE_VAR: &str = "MSCTP_TRANSPORT_TEST_ROLE";
const ROLE: &str = "bind-raw-without-cap-net-raw";
/// What the child prints before the error message.
const MARKER: &str = "msctp-child-error: ";

/// The child half of `raw_without_cap_net_raw_says_what_to_do`: does
/// nothing (and passes) unless started by it with `ROLE_VAR` set.
#[tokio::test]
async fn child_bind_raw_without_cap_net_raw() {
    if std::env::var(ROLE_VAR).as_deref() != Ok(ROLE) {
        return;
    }
    let local: IpAddr = "127.0.0.1".parse().unwrap();
    match Transport::bind(TransportKind::Raw, &[local], 5000).await {
        Err(e @ TransportError::NeedsCapNetRaw { .. }) => println!("{MARKER}{e}"),
        other => panic!("expected NeedsCapNetRaw, got {other:?}"),
    }
    // UDP needs no privilege.
    let t = Transport::bind(TransportKind::udp(), &[local], 5000)
        .await
        .expect("UDP without CAP_NET_RAW");
    assert_eq!(t.udp_port(), Some(9899));
}

/// Without CAP_NET_RAW (a child process of this test binary started with
/// the capability dropped, inside a fresh namespace), binding raw fails with
/// a message that names the capability, how to get it, and the UDP
/// alternative, while UDP works.
#[test]
fn raw_without_cap_net_raw_says_what_to_do() {
    require_root("dropping CAP_NET_RAW for a child process");
    let ns = Netns::create_unique("nocap");
    let out = run_test_without_cap_net_raw(
        &ns,
        "errors::child_bind_raw_without_cap_net_raw",
        ROLE_VAR,
        ROLE,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the child failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let message = stdout
        .lines()
        .find_map(|l| l.split_once(MARKER).map(|(_, m)| m.to_owned()))
        .unwrap_or_else(|| panic!("the child printed no error:\n{stdout}\n{stderr}"));
    assert_eq!(
        message,
        "raw SCTP needs CAP_NET_RAW (run as root or `setcap cap_net_raw+ep`), \
         or use --transport udp which needs no privilege"
    );
}

/// Binding to an address the namespace does not have fails with
/// `AddressNotLocal` naming it, for raw and UDP, IPv4 and IPv6.
#[tokio::test]
async fn address_not_local() {
    let lab = Lab::new();
    let missing4: IpAddr = "192.0.2.99".parse().unwrap();
    let missing6: IpAddr = "2001:db8:1::99".parse().unwrap();
    for kind in [TransportKind::Raw, TransportKind::udp()] {
        for missing in [missing4, missing6] {
            let e = try_bind_in(&lab.alpha, kind, &[ALPHA1_V4, missing], 5000)
                .await
                .unwrap_err();
            assert!(
                matches!(e, TransportError::AddressNotLocal(a) if a == missing),
                "{kind:?}: {e:?}"
            );
            assert!(e.to_string().contains(&missing.to_string()), "{e}");
        }
    }
    // beta's address is not alpha's either.
    let e = try_bind_in(&lab.alpha, TransportKind::Raw, &[BETA1_V4], 5000)
        .await
        .unwrap_err();
    assert!(matches!(e, TransportError::AddressNotLocal(a) if a == BETA1_V4));
}

/// A UDP port already bound on one of the addresses: `PortInUse`.
#[tokio::test]
async fn udp_port_in_use() {
    let lab = Lab::new();
    let _first = bind_in(&lab.alpha, TransportKind::udp(), &[ALPHA1_V4], 5000).await;
    let e = try_bind_in(
        &lab.alpha,
        TransportKind::udp(),
        &[ALPHA2_V4, ALPHA1_V4],
        6000,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, TransportError::PortInUse(9899)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "UDP port 9899 is already in use on one of the local addresses"
    );
    // Another port on the same address is fine.
    let _second = bind_in(
        &lab.alpha,
        TransportKind::Udp { port: 9900 },
        &[ALPHA1_V4],
        6000,
    )
    .await;
}

/// Arguments that cannot work are refused before any socket is opened, and
/// a bound transport refuses sources it does not have and mixed families.
#[tokio::test]
async fn bad_arguments() {
    let local: IpAddr = "127.0.0.1".parse().unwrap();
    for (kind, addrs, port, expect) in [
        (TransportKind::udp(), vec![local], 0, "SCTP port 0"),
        (TransportKind::Raw, vec![], 5000, "no local address"),
        (
            TransportKind::udp(),
            vec!["0.0.0.0".parse().unwrap()],
            5000,
            "unspecified",
        ),
        (
            TransportKind::udp(),
            vec!["fe80::1".parse().unwrap()],
            5000,
            "link-local",
        ),
        (
            TransportKind::Raw,
            vec!["224.0.0.1".parse().unwrap()],
            5000,
            "multicast",
        ),
        (
            TransportKind::udp(),
            vec!["::ffff:192.0.2.1".parse().unwrap()],
            5000,
            "IPv4-mapped",
        ),
    ] {
        let e = Transport::bind(kind, &addrs, port).await.unwrap_err();
        assert!(e.to_string().contains(expect), "{addrs:?}: {e}");
    }

    let lab = Lab::new();
    let t = bind_in(
        &lab.alpha,
        TransportKind::udp(),
        &[ALPHA1_V4, ALPHA1_V6],
        5000,
    )
    .await;
    let p = init(5000, 5001, &[]);
    let e = t.send(ALPHA2_V4, BETA2_V4, None, &p).await.unwrap_err();
    assert!(
        matches!(e, TransportError::NotBound(a) if a == ALPHA2_V4),
        "{e:?}"
    );
    let e = t.send(ALPHA1_V4, BETA1_V6, None, &p).await.unwrap_err();
    assert!(matches!(e, TransportError::FamilyMismatch { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "cannot send from 192.0.2.1 to 2001:db8:1::2: different address families"
    );
}
