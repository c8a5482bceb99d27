//! Tests of the State Cookie (RFC 9260 §5.1.3, §5.1.5, §5.2.6).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use hmac::Mac;
use proptest::prelude::*;

use super::codec::{self, HEADER_LEN};
use super::*;

const SECRET: [u8; 32] = [0x5a; 32];
const LIFE: Duration = Duration::from_secs(60);

/// The only clock read in this module: tests need some `Instant` to start from.
#[allow(clippy::disallowed_methods)]
fn epoch() -> Instant {
    Instant::now()
}

fn v4(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, n))
}

fn v6(n: u16) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, n))
}

fn sample_v4() -> CookieContents {
    CookieContents {
        created_us: 1_000,
        lifespan: LIFE,
        local_port: 5000,
        peer_port: 6000,
        local_vtag: 0x1122_3344,
        peer_vtag: 0x5566_7788,
        local_initial_tsn: 0xdead_beef,
        peer_initial_tsn: 7,
        peer_a_rwnd: 131_072,
        outbound_streams: 10,
        inbound_streams: 65_535,
        local_tie_tag: 0,
        peer_tie_tag: 0,
        init_source: v4(2),
        init_destination: v4(1),
        peer_addresses: vec![v4(2), IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2))],
        local_addresses: vec![v4(1), IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1))],
        peer_features: feature::FORWARD_TSN | feature::ECN,
        peer_supported_address_types: address_type::IPV4,
    }
}

/// The largest cookie: IPv6 everywhere, both lists full, non-zero tie-tags.
fn sample_max() -> CookieContents {
    CookieContents {
        created_us: u64::MAX / 3,
        lifespan: Duration::from_micros(123_456_789),
        local_tie_tag: 0xa5a5_5a5a,
        peer_tie_tag: 0x0f0f_f0f0,
        init_source: v6(2),
        init_destination: v6(1),
        peer_addresses: (0..u16::try_from(MAX_COOKIE_ADDRESSES).unwrap())
            .map(|i| v6(0x100 + i))
            .collect(),
        local_addresses: (0..u16::try_from(MAX_COOKIE_ADDRESSES).unwrap())
            .map(|i| v6(0x200 + i))
            .collect(),
        peer_features: u32::MAX,
        peer_supported_address_types: address_type::ALL,
        ..sample_v4()
    }
}

/// The instant at which `c` was created, for key store `keys`.
fn created_at(keys: &CookieKeys, c: &CookieContents) -> Instant {
    keys.epoch() + Duration::from_micros(c.created_us)
}

fn is_discard(r: &Result<CookieContents, CookieError>) -> bool {
    matches!(
        r,
        Err(CookieError::Malformed | CookieError::UnknownKey | CookieError::BadMac)
    )
}

/// RFC 9260 §5.1.3 / §5.1.5: a sealed IPv4 cookie opens to the same contents.
#[test]
fn cookie_round_trip_ipv4() {
    let keys = CookieKeys::new(SECRET, epoch());
    let c = sample_v4();
    let sealed = keys.seal(&c).unwrap();
    assert_eq!(sealed.len(), c.sealed_len());
    assert_eq!(keys.open(&sealed, created_at(&keys, &c)), Ok(c));
}

/// RFC 9260 §5.1.3 / §5.1.5: IPv6 and mixed families round-trip, including
/// IPv4-mapped IPv6 addresses (kept as IPv6).
#[test]
fn cookie_round_trip_ipv6_and_mixed() {
    let keys = CookieKeys::new(SECRET, epoch());
    let c = CookieContents {
        init_source: v6(2),
        init_destination: v4(1),
        peer_addresses: vec![
            v6(2),
            v4(7),
            IpAddr::V6(Ipv4Addr::new(192, 0, 2, 9).to_ipv6_mapped()),
        ],
        local_addresses: vec![],
        peer_supported_address_types: address_type::IPV6,
        ..sample_v4()
    };
    let sealed = keys.seal(&c).unwrap();
    assert_eq!(keys.open(&sealed, created_at(&keys, &c)), Ok(c));
}

/// RFC 9260 §5.1.3: the largest cookie (max addresses, IPv6) round-trips and
/// is exactly `MAX_COOKIE_LEN`; the smallest is exactly `MIN_COOKIE_LEN`.
#[test]
fn cookie_round_trip_max_and_min_size() {
    let keys = CookieKeys::new(SECRET, epoch());
    let c = sample_max();
    let sealed = keys.seal(&c).unwrap();
    assert_eq!(sealed.len(), MAX_COOKIE_LEN);
    assert_eq!(MAX_COOKIE_LEN, 674);
    assert_eq!(keys.open(&sealed, created_at(&keys, &c)), Ok(c));

    let min = CookieContents {
        peer_addresses: vec![],
        local_addresses: vec![],
        ..sample_v4()
    };
    let sealed = keys.seal(&min).unwrap();
    assert_eq!(sealed.len(), MIN_COOKIE_LEN);
    assert_eq!(MIN_COOKIE_LEN, 106);
    assert_eq!(keys.open(&sealed, created_at(&keys, &min)), Ok(min));
}

/// RFC 9260 §5.1.3: the cookie must stay small, so more addresses than
/// `MAX_COOKIE_ADDRESSES` in either list is refused at seal time.
#[test]
fn cookie_seal_rejects_too_many_addresses() {
    let keys = CookieKeys::new(SECRET, epoch());
    let mut c = sample_max();
    c.peer_addresses.push(v6(0xffff));
    assert_eq!(
        keys.seal(&c),
        Err(SealError::TooManyPeerAddresses {
            count: MAX_COOKIE_ADDRESSES + 1
        })
    );
    let mut c = sample_max();
    c.local_addresses.push(v4(99));
    assert_eq!(
        keys.seal(&c),
        Err(SealError::TooManyLocalAddresses {
            count: MAX_COOKIE_ADDRESSES + 1
        })
    );
}

/// RFC 9260 §5.1.5 steps 1-2: every single-bit flip anywhere in a sealed
/// cookie is rejected — version byte ⇒ `Malformed`, key id ⇒ `UnknownKey`,
/// everything else (body and tag) ⇒ `BadMac`. Exhaustive over all bits.
#[test]
fn cookie_every_bit_flip_rejected() {
    let keys = CookieKeys::new(SECRET, epoch());
    let c = sample_max();
    let sealed = keys.seal(&c).unwrap();
    let now = created_at(&keys, &c);
    let mut buf = sealed.to_vec();
    for byte in 0..buf.len() {
        for bit in 0..8 {
            buf[byte] ^= 1 << bit;
            let expected = match byte {
                0 => CookieError::Malformed,
                1..HEADER_LEN => CookieError::UnknownKey,
                _ => CookieError::BadMac,
            };
            assert_eq!(keys.open(&buf, now), Err(expected), "byte {byte} bit {bit}");
            buf[byte] ^= 1 << bit;
        }
    }
    assert_eq!(keys.open(&buf, now), Ok(c));
}

/// RFC 9260 §5.1.5 steps 1-2: with a previous key present, key-id flips may
/// land on it; still never accepted.
#[test]
fn cookie_bit_flips_after_rotation_rejected() {
    let mut keys = CookieKeys::new(SECRET, epoch());
    keys.rotate([0x33; 32]);
    let c = sample_v4();
    let sealed = keys.seal(&c).unwrap();
    let now = created_at(&keys, &c);
    let mut buf = sealed.to_vec();
    for byte in 0..buf.len() {
        for bit in 0..8 {
            buf[byte] ^= 1 << bit;
            assert!(is_discard(&keys.open(&buf, now)), "byte {byte} bit {bit}");
            buf[byte] ^= 1 << bit;
        }
    }
}

/// RFC 9260 §5.1.5: a cookie truncated to any length, or extended by a byte,
/// is rejected.
#[test]
fn cookie_truncated_or_extended_rejected() {
    let keys = CookieKeys::new(SECRET, epoch());
    for c in [sample_v4(), sample_max()] {
        let sealed = keys.seal(&c).unwrap();
        let now = created_at(&keys, &c);
        for len in 0..sealed.len() {
            assert!(is_discard(&keys.open(&sealed[..len], now)), "len {len}");
        }
        let mut longer = sealed.to_vec();
        longer.push(0);
        assert!(is_discard(&keys.open(&longer, now)));
    }
}

/// RFC 9260 §5.1.5 step 4: exactly at the lifespan the cookie is valid; 1 µs
/// later it is stale with a Measure of Staleness of 1 µs (§3.3.10.3).
#[test]
fn cookie_lifespan_boundary() {
    let keys = CookieKeys::new(SECRET, epoch());
    let c = sample_v4();
    let sealed = keys.seal(&c).unwrap();
    let deadline = created_at(&keys, &c) + c.lifespan;
    assert_eq!(keys.open(&sealed, deadline), Ok(c.clone()));
    // Sub-microsecond excess is not counted: time is measured in whole µs.
    assert_eq!(
        keys.open(&sealed, deadline + Duration::from_nanos(999)),
        Ok(c.clone())
    );
    assert_eq!(
        keys.open(&sealed, deadline + Duration::from_micros(1)),
        Err(CookieError::Stale {
            staleness_us: 1,
            contents: Box::new(c.clone()),
        })
    );
    assert!(matches!(
        keys.open(&sealed, deadline + Duration::from_millis(1500)),
        Err(CookieError::Stale {
            staleness_us: 1_500_000,
            ..
        })
    ));
}

/// RFC 9260 §3.3.10.3: the Measure of Staleness is 32 bits and saturates.
#[test]
fn cookie_staleness_saturates() {
    let keys = CookieKeys::new(SECRET, epoch());
    let c = CookieContents {
        created_us: 0,
        lifespan: Duration::ZERO,
        ..sample_v4()
    };
    let sealed = keys.seal(&c).unwrap();
    assert_eq!(keys.open(&sealed, keys.epoch()), Ok(c.clone()));
    let just_fits = keys.epoch() + Duration::from_micros(u64::from(u32::MAX));
    assert!(matches!(
        keys.open(&sealed, just_fits),
        Err(CookieError::Stale {
            staleness_us: u32::MAX,
            ..
        })
    ));
    let way_late = keys.epoch() + Duration::from_secs(10 * 86_400);
    assert!(matches!(
        keys.open(&sealed, way_late),
        Err(CookieError::Stale {
            staleness_us: u32::MAX,
            ..
        })
    ));
}

/// RFC 9260 §5.1.5 step 4: a `now` before the creation time (or before the
/// epoch) counts as no time elapsed, not as an underflow.
#[test]
fn cookie_now_before_creation_is_fresh() {
    let keys = CookieKeys::new(SECRET, epoch());
    let c = CookieContents {
        created_us: 5_000_000,
        lifespan: Duration::ZERO,
        ..sample_v4()
    };
    let sealed = keys.seal(&c).unwrap();
    assert_eq!(keys.open(&sealed, keys.epoch()), Ok(c));
    assert_eq!(keys.timestamp(keys.epoch()), 0);
    assert_eq!(
        keys.timestamp(keys.epoch() + Duration::from_nanos(1_999)),
        1
    );
}

/// RFC 9260 §5.1.3: the secret key may change; a cookie sealed before one
/// rotation still opens, after two it is `UnknownKey`.
#[test]
fn cookie_rotation() {
    let mut keys = CookieKeys::new(SECRET, epoch());
    let c = sample_v4();
    let now = created_at(&keys, &c);
    let old = keys.seal(&c).unwrap();
    assert_eq!(keys.current_key_id(), 0);

    keys.rotate([0x11; 32]);
    assert_eq!(keys.current_key_id(), 1);
    assert_eq!(keys.open(&old, now), Ok(c.clone()));
    let newer = keys.seal(&c).unwrap();
    assert_ne!(old, newer, "signed by a different key");
    assert_eq!(keys.open(&newer, now), Ok(c.clone()));

    keys.rotate([0x22; 32]);
    assert_eq!(keys.open(&old, now), Err(CookieError::UnknownKey));
    assert_eq!(keys.open(&newer, now), Ok(c));
}

/// RFC 9260 §5.1.5 step 2: a cookie made with another secret (same key id)
/// fails the MAC.
#[test]
fn cookie_other_secret_is_bad_mac() {
    let ours = CookieKeys::new(SECRET, epoch());
    let theirs = CookieKeys::new([0x77; 32], ours.epoch());
    let c = sample_v4();
    let forged = theirs.seal(&c).unwrap();
    assert_eq!(
        ours.open(&forged, created_at(&ours, &c)),
        Err(CookieError::BadMac)
    );
}

/// RFC 9260 §5.1.3: the MAC covers the lifespan and the creation time, so an
/// attacker who lengthens the lifespan or refreshes the timestamp without the
/// key is caught (`BadMac`), even when the result would otherwise be fresh.
#[test]
fn cookie_forged_lifespan_or_timestamp_is_bad_mac() {
    let keys = CookieKeys::new(SECRET, epoch());
    let c = sample_v4();
    let sealed = keys.seal(&c).unwrap();
    let late = created_at(&keys, &c) + c.lifespan + Duration::from_secs(3600);
    assert!(matches!(
        keys.open(&sealed, late),
        Err(CookieError::Stale { .. })
    ));

    // Lifespan field: bytes 13..21.
    let mut forged = sealed.to_vec();
    forged[HEADER_LEN + 8..HEADER_LEN + 16].copy_from_slice(&u64::MAX.to_be_bytes());
    assert_eq!(keys.open(&forged, late), Err(CookieError::BadMac));

    // Creation time field: bytes 5..13.
    let mut forged = sealed.to_vec();
    forged[HEADER_LEN..HEADER_LEN + 8].copy_from_slice(&keys.timestamp(late).to_be_bytes());
    assert_eq!(keys.open(&forged, late), Err(CookieError::BadMac));
}

/// RFC 9260 §5.1.5 step 3: ports and verification tag of the COOKIE ECHO
/// header must match the cookie.
#[test]
fn cookie_matches_header() {
    let c = sample_v4();
    assert!(c.matches_header(c.peer_port, c.local_port, c.local_vtag));
    assert!(!c.matches_header(c.local_port, c.peer_port, c.local_vtag));
    assert!(!c.matches_header(c.peer_port, c.local_port, c.peer_vtag));
    assert!(!c.matches_header(c.peer_port, c.local_port.wrapping_add(1), c.local_vtag));
}

/// RFC 9260 §5.2.6 / §3.3.2.1: the Cookie Preservative increment is honoured
/// up to the configured limit, and never overflows.
#[test]
fn cookie_preservative_helper() {
    let max = Duration::from_secs(1);
    assert_eq!(lifespan_with_preservative(LIFE, None, max), LIFE);
    assert_eq!(lifespan_with_preservative(LIFE, Some(0), max), LIFE);
    assert_eq!(
        lifespan_with_preservative(LIFE, Some(500), max),
        LIFE + Duration::from_millis(500)
    );
    assert_eq!(
        lifespan_with_preservative(LIFE, Some(1000), max),
        LIFE + max
    );
    assert_eq!(
        lifespan_with_preservative(LIFE, Some(5000), max),
        LIFE + max
    );
    assert_eq!(
        lifespan_with_preservative(LIFE, Some(5000), Duration::ZERO),
        LIFE
    );
    assert_eq!(
        lifespan_with_preservative(LIFE, Some(u32::MAX), Duration::MAX),
        LIFE + Duration::from_millis(u64::from(u32::MAX))
    );
    assert_eq!(
        lifespan_with_preservative(Duration::MAX, Some(u32::MAX), Duration::MAX),
        Duration::MAX
    );
}

/// RFC 9260 §5.2.6: a granted preservative extends the lifespan carried (and
/// authenticated) in the cookie.
#[test]
fn cookie_preservative_extends_validity() {
    let keys = CookieKeys::new(SECRET, epoch());
    let c = CookieContents {
        lifespan: lifespan_with_preservative(LIFE, Some(800), Duration::from_secs(1)),
        ..sample_v4()
    };
    let sealed = keys.seal(&c).unwrap();
    let t = created_at(&keys, &c) + LIFE + Duration::from_millis(800);
    assert_eq!(keys.open(&sealed, t), Ok(c));
    assert!(matches!(
        keys.open(&sealed, t + Duration::from_micros(1)),
        Err(CookieError::Stale {
            staleness_us: 1,
            ..
        })
    ));
}

/// RFC 9260 §14.1: the secret key does not leak through `Debug`.
#[test]
fn cookie_keys_debug_hides_secrets() {
    let keys = CookieKeys::new([0xab; 32], epoch());
    let text = format!("{keys:?}");
    assert!(text.contains("current_key_id: 0"), "{text}");
    assert!(!text.contains("171, 171"), "{text}");
    assert!(!text.to_lowercase().contains("abab"), "{text}");
}

/// Seals an arbitrary body with the real key (what a key compromise allows).
fn seal_raw(keys: &CookieKeys, key_id: u32, body: &[u8]) -> Vec<u8> {
    let mut out = vec![codec::VERSION];
    out.extend_from_slice(&key_id.to_be_bytes());
    out.extend_from_slice(body);
    let mut mac = keys.current.mac.clone();
    mac.update(&out);
    out.extend_from_slice(&mac.finalize().into_bytes());
    out
}

fn arb_addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|b| IpAddr::V4(Ipv4Addr::from(b))),
        any::<[u8; 16]>().prop_map(|b| IpAddr::V6(Ipv6Addr::from(b))),
    ]
}

fn arb_contents() -> impl Strategy<Value = CookieContents> {
    (
        (
            any::<u64>(),
            any::<u64>(),
            any::<u16>(),
            any::<u16>(),
            any::<[u32; 5]>(),
        ),
        (
            any::<u16>(),
            any::<u16>(),
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            any::<u8>(),
        ),
        (arb_addr(), arb_addr()),
        proptest::collection::vec(arb_addr(), 0..=MAX_COOKIE_ADDRESSES),
        proptest::collection::vec(arb_addr(), 0..=MAX_COOKIE_ADDRESSES),
    )
        .prop_map(|(a, b, (src, dst), peers, locals)| CookieContents {
            created_us: a.0,
            lifespan: Duration::from_micros(a.1),
            local_port: a.2,
            peer_port: a.3,
            local_vtag: a.4[0],
            peer_vtag: a.4[1],
            local_initial_tsn: a.4[2],
            peer_initial_tsn: a.4[3],
            peer_a_rwnd: a.4[4],
            outbound_streams: b.0,
            inbound_streams: b.1,
            local_tie_tag: b.2,
            peer_tie_tag: b.3,
            peer_features: b.4,
            peer_supported_address_types: b.5,
            init_source: src,
            init_destination: dst,
            peer_addresses: peers,
            local_addresses: locals,
        })
}

proptest! {
    /// RFC 9260 §5.1.5: arbitrary bytes never panic and are never accepted.
    #[test]
    fn cookie_arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..800)) {
        let keys = CookieKeys::new(SECRET, epoch());
        prop_assert!(is_discard(&keys.open(&bytes, keys.epoch())));
    }

    /// RFC 9260 §5.1.5: bytes with a valid version and key id still fail the MAC.
    #[test]
    fn cookie_arbitrary_body_with_valid_header_is_bad_mac(
        body in proptest::collection::vec(any::<u8>(), MIN_COOKIE_LEN - HEADER_LEN..=MAX_COOKIE_LEN - HEADER_LEN)
    ) {
        let keys = CookieKeys::new(SECRET, epoch());
        let mut bytes = vec![codec::VERSION, 0, 0, 0, 0];
        bytes.extend_from_slice(&body);
        prop_assert_eq!(keys.open(&bytes, keys.epoch()), Err(CookieError::BadMac));
    }

    /// Key compromise: an arbitrary body under a valid MAC never panics, and
    /// when it decodes, it is canonical (re-sealing gives the same bytes).
    #[test]
    fn cookie_signed_garbage_is_bounded(
        body in proptest::collection::vec(any::<u8>(), 0..MAX_COOKIE_LEN)
    ) {
        let keys = CookieKeys::new(SECRET, epoch());
        let bytes = seal_raw(&keys, 0, &body);
        match keys.open(&bytes, keys.epoch()) {
            Ok(c) => prop_assert_eq!(keys.seal(&c).unwrap().to_vec(), bytes),
            Err(e) => prop_assert_eq!(e, CookieError::Malformed),
        }
    }

    /// Key compromise: a valid body with a few bytes changed, re-signed with
    /// the real key, either decodes canonically or is `Malformed` — never a
    /// panic, never an oversized allocation.
    #[test]
    fn cookie_signed_mutations_are_bounded(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
    ) {
        let keys = CookieKeys::new(SECRET, epoch());
        let sealed = keys.seal(&sample_max()).unwrap();
        let mut body = sealed[HEADER_LEN..sealed.len() - 32].to_vec();
        for (at, value) in edits {
            let i = at.index(body.len());
            body[i] = value;
        }
        let bytes = seal_raw(&keys, 0, &body);
        match keys.open(&bytes, keys.epoch()) {
            Ok(c) => prop_assert_eq!(keys.seal(&c).unwrap().to_vec(), bytes),
            Err(CookieError::Stale { .. }) => {}
            Err(e) => prop_assert_eq!(e, CookieError::Malformed),
        }
    }

    /// RFC 9260 §5.1.3 / §5.1.5: any contents within the bounds round-trip.
    #[test]
    fn cookie_arbitrary_contents_round_trip(c in arb_contents()) {
        let keys = CookieKeys::new(SECRET, epoch());
        let sealed = keys.seal(&c).unwrap();
        prop_assert_eq!(sealed.len(), c.sealed_len());
        prop_assert!((MIN_COOKIE_LEN..=MAX_COOKIE_LEN).contains(&sealed.len()));
        // Opened at creation time: never stale.
        let now = keys.epoch() + Duration::from_micros(c.created_us.min(1 << 50));
        // (A creation time in the future counts as no time elapsed.)
        prop_assert_eq!(keys.open(&sealed, now), Ok(c));
    }
}
