//! The reference text's two experiments (`multihoming-in-sctp.txt`), checked
//! point by point on the simulator with `msctp_sim::scenario`: normal
//! operation over two links, and primary path switching when link 1 is
//! blocked with ICMP errors (iptables REJECT) or silently (DROP).
//!
//! Each scenario runs once per test binary (they are deterministic) and
//! takes well under a second in debug builds. Set `MSCTP_SIM_SEED` to replay
//! with another seed.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use msctp_proto::{AddressChange, AssociationChange, Event, PathState};
use msctp_sim::scenario::{
    self, ChunkInfo, Content, Failure, Fate, LadderPacket, ScenarioRun, Side,
};
use msctp_sim::{ALPHA_1_V4, ALPHA_2_V4, BETA_1_V4, BETA_2_V4, Direction, DropReason};

fn seed() -> u64 {
    msctp_sim::seed_from_env(1)
}

fn normal() -> &'static ScenarioRun {
    static RUN: OnceLock<ScenarioRun> = OnceLock::new();
    RUN.get_or_init(|| scenario::normal(seed()))
}

fn reject() -> &'static ScenarioRun {
    static RUN: OnceLock<ScenarioRun> = OnceLock::new();
    RUN.get_or_init(|| scenario::failover(seed(), Failure::Reject))
}

fn drop_() -> &'static ScenarioRun {
    static RUN: OnceLock<ScenarioRun> = OnceLock::new();
    RUN.get_or_init(|| scenario::failover(seed(), Failure::Drop))
}

/// The ladder and events, for assertion messages.
fn story(run: &ScenarioRun) -> String {
    format!(
        "scenario {} seed {} (replay with MSCTP_SIM_SEED={})\n--- ladder\n{}--- events\n{}",
        run.name,
        run.seed,
        run.seed,
        run.ladder_text(),
        run.events_text()
    )
}

fn with_chunk<'a>(
    run: &'a ScenarioRun,
    f: impl Fn(&ChunkInfo) -> bool + 'a,
) -> impl Iterator<Item = &'a LadderPacket> + 'a {
    run.ladder.iter().filter(move |p| p.has(&f))
}

fn is_data(c: &ChunkInfo) -> bool {
    matches!(c, ChunkInfo::Data { .. })
}

fn is_heartbeat(c: &ChunkInfo) -> bool {
    matches!(c, ChunkInfo::Heartbeat { .. })
}

fn is_heartbeat_ack(c: &ChunkInfo) -> bool {
    matches!(c, ChunkInfo::HeartbeatAck { .. })
}

/// Times at which `host` reported `change` for `address`.
fn address_events(
    run: &ScenarioRun,
    host: Side,
    address: IpAddr,
    change: AddressChange,
) -> Vec<Duration> {
    run.events
        .iter()
        .filter(|e| {
            e.host == host
                && matches!(e.event, Event::PeerAddress { address: a, change: c, .. } if a == address && c == change)
        })
        .map(|e| e.at)
        .collect()
}

fn assert_all_messages_once_in_order(run: &ScenarioRun) {
    let n = run.plan.messages;
    let expected: Vec<Option<u32>> = (1..=n).map(Some).collect();
    assert!(
        run.messages.written.iter().all(|(_, _, ok)| *ok),
        "the engine refused a message: {:?}\n{}",
        run.messages.written,
        story(run)
    );
    assert_eq!(
        run.messages.received_numbers(),
        expected,
        "beta must read msg 1..={n} once each, in order\n{}",
        story(run)
    );
    assert_eq!(
        run.messages.echoed_numbers(),
        expected,
        "alpha must read every echo once, in order\n{}",
        story(run)
    );
}

fn assert_graceful_shutdown(run: &ScenarioRun) {
    let names: Vec<&str> = run
        .ladder
        .iter()
        .flat_map(|p| p.chunks())
        .filter(|c| {
            matches!(
                c,
                ChunkInfo::Shutdown { .. } | ChunkInfo::ShutdownAck | ChunkInfo::ShutdownComplete
            )
        })
        .map(ChunkInfo::name)
        .collect();
    assert_eq!(
        names,
        ["SHUTDOWN", "SHUTDOWN ACK", "SHUTDOWN COMPLETE"],
        "{}",
        story(run)
    );
    let tail = &run.ladder[run.ladder.len() - 3..];
    assert!(
        tail.iter().all(|p| p.fate.delivered() && p.link == 1),
        "the shutdown must close the ladder over link 1\n{}",
        story(run)
    );
    for side in [Side::Alpha, Side::Beta] {
        assert!(
            run.events.iter().any(|e| e.host == side
                && e.event == Event::Association(AssociationChange::ShutdownComplete)),
            "{side} must report SHUTDOWN COMPLETE\n{}",
            story(run)
        );
        assert!(
            !run.events.iter().any(|e| e.host == side
                && matches!(
                    e.event,
                    Event::Association(AssociationChange::CommLost { .. })
                )),
            "{side} lost the association\n{}",
            story(run)
        );
    }
    assert!(run.milestones.shutdown_complete.is_some());
}

// ---------------------------------------------------------------------------
// Normal operation
// ---------------------------------------------------------------------------

/// RFC 9260 §5.1.2 (obtaining the peer's addresses): the INIT lists the
/// client's other address and the INIT ACK the server's other address;
/// neither needs to list its source address, which the receiver records
/// from the IP header anyway.
#[test]
fn normal_init_and_init_ack_list_the_other_address() {
    let run = normal();
    let init = with_chunk(run, |c| matches!(c, ChunkInfo::Init { .. }))
        .next()
        .unwrap_or_else(|| panic!("no INIT\n{}", story(run)));
    assert_eq!(
        (init.number, init.link, init.src, init.dst),
        (1, 1, ALPHA_1_V4, BETA_1_V4)
    );
    let Some(ChunkInfo::Init { addresses, .. }) = init.chunks().first() else {
        unreachable!()
    };
    assert_eq!(addresses, &[ALPHA_2_V4], "INIT addresses\n{}", story(run));

    let ack = with_chunk(run, |c| matches!(c, ChunkInfo::InitAck { .. }))
        .next()
        .unwrap_or_else(|| panic!("no INIT ACK\n{}", story(run)));
    // The INIT ACK goes back to where the INIT came from.
    assert_eq!(
        (ack.number, ack.link, ack.src, ack.dst),
        (2, 1, BETA_1_V4, ALPHA_1_V4)
    );
    let Some(ChunkInfo::InitAck { addresses, .. }) = ack.chunks().first() else {
        unreachable!()
    };
    assert_eq!(
        addresses,
        &[BETA_2_V4],
        "INIT ACK addresses\n{}",
        story(run)
    );
    let names: Vec<&str> = run.ladder[..4]
        .iter()
        .flat_map(|p| p.chunks())
        .map(ChunkInfo::name)
        .collect();
    assert_eq!(names, ["INIT", "INIT ACK", "COOKIE ECHO", "COOKIE ACK"]);
}

/// RFC 9260 §5.4 (path verification): each side starts with only the
/// handshake address confirmed (the client: the address it was given; the
/// server: the INIT's source); the second address is confirmed by a
/// HEARTBEAT answered with a HEARTBEAT ACK before any DATA could go there —
/// and in normal operation no DATA ever does.
#[test]
fn normal_second_path_confirmed_by_heartbeat_before_use() {
    let run = normal();
    for (side, handshake, second) in [
        (Side::Alpha, BETA_1_V4, BETA_2_V4),
        (Side::Beta, ALPHA_1_V4, ALPHA_2_V4),
    ] {
        let confirmed = address_events(run, side, second, AddressChange::Confirmed);
        assert_eq!(
            confirmed.len(),
            1,
            "{side} confirms {second} once\n{}",
            story(run)
        );
        assert!(
            address_events(run, side, handshake, AddressChange::Confirmed).is_empty(),
            "{side}: the handshake address {handshake} is confirmed from the start\n{}",
            story(run)
        );
        let from_unconfirmed = run.events.iter().any(|e| {
            e.host == side
                && matches!(e.event, Event::PeerAddress { address, change: AddressChange::Confirmed, from: PathState::Unconfirmed, to: PathState::Active } if address == second)
        });
        assert!(
            from_unconfirmed,
            "{side}: {second} goes unconfirmed → active\n{}",
            story(run)
        );
        // The HEARTBEAT to the second address, its ACK, then the event.
        let hb = run
            .ladder
            .iter()
            .find(|p| p.dst == second && p.has(is_heartbeat))
            .unwrap_or_else(|| panic!("{side} never probes {second}\n{}", story(run)));
        let ack = run
            .ladder
            .iter()
            .find(|p| p.src == second && p.has(is_heartbeat_ack))
            .unwrap_or_else(|| panic!("{second} never answers\n{}", story(run)));
        assert!(hb.number < ack.number && ack.time <= confirmed[0]);
        let first_data = with_chunk(run, is_data).next().expect("DATA");
        assert!(
            confirmed[0] <= first_data.time,
            "{side}: {second} must be confirmed before data flows\n{}",
            story(run)
        );
    }
    assert!(
        run.milestones.second_path_confirmed.unwrap() < Duration::from_millis(50),
        "{:?}",
        run.milestones
    );
}

/// RFC 9260 §6.4 (primary path): the path used for the INIT is the primary;
/// every DATA chunk and every SACK travels over link 1 (192.0.2.1 ↔
/// 192.0.2.2), none over link 2, as in the text's figure 2.
#[test]
fn normal_data_and_sack_only_on_the_primary() {
    let run = normal();
    let data: Vec<_> = with_chunk(run, is_data).collect();
    assert_eq!(data.len(), 40, "20 messages and 20 echoes\n{}", story(run));
    for p in with_chunk(run, |c| is_data(c) || matches!(c, ChunkInfo::Sack { .. })) {
        assert_eq!(
            p.link,
            1,
            "packet #{} is off the primary\n{}",
            p.number,
            story(run)
        );
        assert!(p.fate.delivered());
        assert!(
            p.data_tsns().all(|(_, retransmitted)| !retransmitted),
            "no retransmission on a clean link\n{}",
            story(run)
        );
    }
    for (side, primary) in [(Side::Alpha, BETA_1_V4), (Side::Beta, ALPHA_1_V4)] {
        let (_, paths) = run
            .paths_before_shutdown
            .iter()
            .find(|(s, _)| *s == side)
            .unwrap();
        assert_eq!(paths.len(), 2, "{side}: two paths");
        for p in paths {
            assert_eq!(p.state, PathState::Active, "{side}: {p:?}");
            assert_eq!(p.primary, p.remote == primary, "{side}: {p:?}");
        }
    }
    let l2 = &run.links[1];
    assert_eq!(l2.total().data_chunks + l2.total().retransmissions, 0);
    assert_eq!(l2.total().sacks, 0);
}

/// RFC 9260 §8.3 (path heartbeat): an idle destination is monitored with
/// HEARTBEATs every HB.interval; the primary carries acknowledged DATA, so it
/// is not heartbeated. HEARTBEATs appear only on link 2, from both sides,
/// and every one is acknowledged.
#[test]
fn normal_heartbeats_only_on_the_idle_second_path() {
    let run = normal();
    let hbs: Vec<_> = with_chunk(run, is_heartbeat).collect();
    for p in &hbs {
        assert_eq!(
            p.link,
            2,
            "HEARTBEAT #{} on link 1\n{}",
            p.number,
            story(run)
        );
        assert!(
            p.has(|c| matches!(
                c,
                ChunkInfo::Heartbeat {
                    answered_by: Some(_)
                }
            )),
            "HEARTBEAT #{} unanswered\n{}",
            p.number,
            story(run)
        );
    }
    // Verification (one per side) plus monitoring every ~1 s for ~4 s.
    for side in [Side::Alpha, Side::Beta] {
        let n = hbs.iter().filter(|p| p.sender() == side).count();
        assert!(n >= 3, "{side} sent {n} HEARTBEATs\n{}", story(run));
    }
    let l2 = &run.links[1];
    assert_eq!(l2.total().heartbeats, hbs.len() as u64);
    assert_eq!(l2.total().heartbeat_acks, hbs.len() as u64);
}

/// RFC 9260 §9.2 (graceful shutdown; the text: "association termination
/// hasn't got any specifics related to multi-homing"): SHUTDOWN, SHUTDOWN
/// ACK, SHUTDOWN COMPLETE over the primary, both ends report it, and every
/// message arrived once and in order.
#[test]
fn normal_graceful_shutdown_after_all_messages() {
    let run = normal();
    assert_graceful_shutdown(run);
    assert_all_messages_once_in_order(run);
    assert!(run.ladder.iter().all(|p| !p.is_icmp()));
    assert!(run.link_changes.is_empty());
}

// ---------------------------------------------------------------------------
// Primary path switching
// ---------------------------------------------------------------------------

fn blocked_window(run: &ScenarioRun) -> (Duration, Duration) {
    let m = &run.milestones;
    (
        m.failure.expect("a failure"),
        m.restore.expect("a restoration"),
    )
}

/// RFC 9260 §6.4.1 (retransmission to an alternate destination): the DATA
/// chunk lost on link 1 is retransmitted over link 2 with the same TSN (the
/// text's packets 12 and 17) and acknowledged over link 2 (packet 18). The
/// same holds for every DATA chunk lost on link 1, in both directions.
fn check_lost_data_retransmitted_on_link2(run: &ScenarioRun) {
    let m = &run.milestones;
    let loss = m
        .first_loss
        .unwrap_or_else(|| panic!("no DATA lost on link 1\n{}", story(run)));
    let rtx = m
        .first_retransmission_on_link2
        .unwrap_or_else(|| panic!("no retransmission on link 2\n{}", story(run)));
    assert_eq!(loss.tsn, rtx.tsn, "same TSN\n{}", story(run));
    assert!(rtx.time > loss.time);
    assert!(
        run.packet(rtx.number).unwrap().fate.delivered(),
        "the retransmission must arrive\n{}",
        story(run)
    );
    let ack = m.lost_tsn_acked.unwrap_or_else(|| {
        panic!(
            "the lost TSN is never acknowledged over link 2\n{}",
            story(run)
        )
    });
    assert!(ack.time >= rtx.time);

    let (failure, restore) = blocked_window(run);
    let mut lost = 0;
    for p in run.ladder.iter().filter(|p| p.link == 1 && !p.is_icmp()) {
        if (failure..restore).contains(&p.time) {
            assert!(
                !p.fate.delivered(),
                "#{} crossed a blocked link\n{}",
                p.number,
                story(run)
            );
        }
        if p.fate.delivered() {
            continue;
        }
        let Content::Sctp { vtag, .. } = p.content else {
            continue;
        };
        for (tsn, _) in p.data_tsns() {
            lost += 1;
            let again = run.ladder.iter().find(|q| {
                q.number > p.number
                    && q.link == 2
                    && q.fate.delivered()
                    && matches!(q.content, Content::Sctp { vtag: v, .. } if v == vtag)
                    && q.data_tsns().any(|(t, r)| t == tsn && r)
            });
            let again = again.unwrap_or_else(|| {
                panic!(
                    "TSN {tsn} lost in #{} is never retransmitted over link 2\n{}",
                    p.number,
                    story(run)
                )
            });
            let acked = run.ladder.iter().any(|q| {
                q.number > again.number
                    && q.link == 2
                    && q.direction != again.direction
                    && q.fate.delivered()
                    && q.sack().is_some_and(|c| scenario::serial_ge(c, tsn))
            });
            assert!(
                acked,
                "TSN {tsn} is never acknowledged over link 2\n{}",
                story(run)
            );
        }
    }
    // Both ends had DATA in flight on link 1 (alpha's message, beta's echo).
    assert!(lost >= 2, "{lost} DATA chunks lost\n{}", story(run));
}

/// RFC 9260 §8.3 and RFC 7829 §5 (probing a failed destination): link 1
/// keeps being probed with HEARTBEATs while it is blocked, by both ends, and
/// none is acknowledged; link 2, which now carries each side's data, is
/// not heartbeated by that side any more.
fn check_link1_probed_while_blocked(run: &ScenarioRun) {
    let (failure, restore) = blocked_window(run);
    let probes: Vec<_> = with_chunk(run, is_heartbeat)
        .filter(|p| p.link == 1 && (failure..restore).contains(&p.time))
        .collect();
    for side in [Side::Alpha, Side::Beta] {
        let n = probes.iter().filter(|p| p.sender() == side).count();
        // RTO 100 ms doubling up to 1 s over 4 s: at least 4 probes.
        assert!(n >= 4, "{side} probed link 1 {n} times\n{}", story(run));
    }
    for p in &probes {
        assert!(!p.fate.delivered());
        assert!(p.has(|c| matches!(c, ChunkInfo::Heartbeat { answered_by: None })));
    }
    for side in [Side::Alpha, Side::Beta] {
        // Once this side sends DATA over link 2, link 2 is no longer idle
        // for it.
        let busy_from = with_chunk(run, is_data)
            .find(|p| p.sender() == side && p.link == 2 && p.time >= failure)
            .unwrap_or_else(|| panic!("{side} never sends DATA over link 2\n{}", story(run)))
            .time;
        let on_link2: Vec<usize> = with_chunk(run, is_heartbeat)
            .filter(|p| p.sender() == side && p.link == 2 && p.time > busy_from && p.time < restore)
            .map(|p| p.number)
            .collect();
        assert!(
            on_link2.is_empty(),
            "link 2 carries {side}'s acknowledged DATA: no HEARTBEAT expected there, got \
             {on_link2:?}\n{}",
            story(run)
        );
    }
}

/// RFC 9260 §8.3 and §6.4 (failback): after link 1 is restored its
/// HEARTBEATs are acknowledged, the primary is active again and the DATA
/// returns to it (the text's packets 29–37); no DATA uses link 2 once link 1
/// has answered.
fn check_failback(run: &ScenarioRun) {
    let (_, restore) = blocked_window(run);
    let m = &run.milestones;
    let answers = m
        .link1_answers
        .unwrap_or_else(|| panic!("link 1 never answers again\n{}", story(run)));
    let back = m
        .first_data_back_on_link1
        .unwrap_or_else(|| panic!("DATA never returns to link 1\n{}", story(run)));
    assert!(answers.number < back.number, "{}", story(run));
    let failback = m.failback.unwrap();
    // Probes back off to RTO.Max (1 s); the next message follows within
    // one message interval.
    let bound = run.plan.protocol.rto_max + run.plan.message_interval + Duration::from_millis(10);
    assert!(
        failback <= bound,
        "failback took {failback:?}\n{}",
        story(run)
    );
    let settled = run
        .ladder
        .iter()
        .filter(|p| p.time > restore && p.has(is_heartbeat_ack) && p.link == 1)
        .map(|p| p.time)
        .max()
        .unwrap();
    for p in with_chunk(run, is_data).filter(|p| p.time > settled) {
        assert_eq!(p.link, 1, "#{} after failback\n{}", p.number, story(run));
    }
    for (side, primary) in [(Side::Alpha, BETA_1_V4), (Side::Beta, ALPHA_1_V4)] {
        let (_, paths) = run
            .paths_before_shutdown
            .iter()
            .find(|(s, _)| *s == side)
            .unwrap();
        let p = paths.iter().find(|p| p.remote == primary).unwrap();
        assert!(p.primary && p.state == PathState::Active, "{side}: {p:?}");
    }
}

/// RFC 7829 §7 and RFC 9260 §8.2 (notifications): each end reports the
/// peer's link-1 address potentially failed after the failure (and
/// unreachable once Path.Max.Retrans is exceeded), and available again after
/// the restoration; nothing happens to link 2.
fn check_address_events(run: &ScenarioRun) {
    let (failure, restore) = blocked_window(run);
    for (side, address, other) in [
        (Side::Alpha, BETA_1_V4, BETA_2_V4),
        (Side::Beta, ALPHA_1_V4, ALPHA_2_V4),
    ] {
        let pf = address_events(run, side, address, AddressChange::PotentiallyFailed);
        let unreachable = address_events(run, side, address, AddressChange::Unreachable);
        let available = address_events(run, side, address, AddressChange::Available);
        assert_eq!(
            pf.len(),
            1,
            "{side}: {address} potentially failed once\n{}",
            story(run)
        );
        assert!(pf[0] > failure && pf[0] < restore);
        assert!(unreachable.iter().all(|t| *t > pf[0] && *t < restore));
        assert_eq!(
            available.len(),
            1,
            "{side}: {address} available again\n{}",
            story(run)
        );
        assert!(available[0] > restore);
        let about_link2 = run.events.iter().filter(|e| {
            e.host == side
                && matches!(e.event, Event::PeerAddress { address: a, change, .. }
                    if a == other && change != AddressChange::Confirmed)
        });
        assert_eq!(
            about_link2.count(),
            0,
            "{side}: link 2 never fails\n{}",
            story(run)
        );
    }
}

/// RFC 9260 §6.4.1, Appendix C and RFC 7829 (REJECT, the text's
/// experiment): the ICMP destination unreachable (packet 13) is the first
/// sign; the sender marks the path potentially failed at once and
/// retransmits on link 2 without waiting for T3-rtx.
#[test]
fn reject_icmp_triggers_immediate_retransmission_on_link2() {
    let run = reject();
    let m = &run.milestones;
    let loss = m
        .first_loss
        .unwrap_or_else(|| panic!("no loss\n{}", story(run)));
    let icmp = run
        .ladder
        .iter()
        .find(|p| matches!(p.content, Content::Icmp { about: Some(n), .. } if n == loss.number))
        .unwrap_or_else(|| panic!("no ICMP about #{}\n{}", loss.number, story(run)));
    let Fate::Delivered(icmp_at) = icmp.fate else {
        panic!("ICMP not delivered")
    };
    assert_eq!(icmp.src, BETA_1_V4);
    assert_eq!(icmp.dst, ALPHA_1_V4);
    assert_eq!(m.detection, Some(icmp_at), "{}", story(run));
    let rtx = m.first_retransmission_on_link2.unwrap();
    assert_eq!(
        rtx.time,
        icmp_at,
        "retransmitted on the ICMP, not on T3-rtx\n{}",
        story(run)
    );
    assert!(run.milestones.recovery.unwrap() < run.plan.protocol.rto_min);
    assert!(matches!(
        run.packet(loss.number).unwrap().fate,
        Fate::Dropped {
            reason: DropReason::Rejected,
            ..
        }
    ));
}

/// RFC 9260 §6.4.1: see [`check_lost_data_retransmitted_on_link2`].
#[test]
fn reject_lost_data_retransmitted_with_same_tsn_on_link2() {
    check_lost_data_retransmitted_on_link2(reject());
}

/// RFC 9260 §8.3, RFC 7829 §5: link 1 probed while blocked, each probe
/// answered by ICMP (the text's packets 19–22).
#[test]
fn reject_link1_probed_and_answered_by_icmp() {
    let run = reject();
    check_link1_probed_while_blocked(run);
    let (failure, restore) = blocked_window(run);
    for p in with_chunk(run, is_heartbeat)
        .filter(|p| p.link == 1 && p.time >= failure && p.time < restore)
    {
        let answered = run.ladder.iter().any(|q| {
            matches!(q.content, Content::Icmp { about: Some(n), .. } if n == p.number)
                && q.fate.delivered()
        });
        assert!(answered, "probe #{} got no ICMP\n{}", p.number, story(run));
    }
}

/// RFC 9260 §8.3, §6.4: failback once link 1 answers again.
#[test]
fn reject_traffic_returns_to_link1() {
    check_failback(reject());
}

/// RFC 7829 §7, RFC 9260 §8.2: address notifications.
#[test]
fn reject_reports_potentially_failed_then_available() {
    check_address_events(reject());
}

/// The text: the failover is transparent to the application — no message
/// lost or duplicated, and the association shuts down gracefully.
#[test]
fn reject_no_message_lost_or_duplicated() {
    let run = reject();
    assert_all_messages_once_in_order(run);
    assert_graceful_shutdown(run);
}

/// RFC 9260 §6.3.3 and §6.4.1 (DROP: a silent blackhole): with no ICMP the
/// loss is detected by T3-rtx, one RTO after the lost DATA, and the
/// retransmission goes to link 2.
#[test]
fn drop_detected_by_t3_rtx_and_retransmitted_on_link2() {
    let run = drop_();
    assert!(
        run.ladder.iter().all(|p| !p.is_icmp()),
        "a blackhole sends no ICMP\n{}",
        story(run)
    );
    let m = &run.milestones;
    let loss = m
        .first_loss
        .unwrap_or_else(|| panic!("no loss\n{}", story(run)));
    assert!(matches!(
        run.packet(loss.number).unwrap().fate,
        Fate::Dropped {
            reason: DropReason::LinkDown,
            ..
        }
    ));
    let detection = m
        .detection
        .unwrap_or_else(|| panic!("never detected\n{}", story(run)));
    let waited = detection - loss.time;
    assert!(
        waited >= run.plan.protocol.rto_min && waited <= run.plan.protocol.rto_max,
        "detected {waited:?} after the loss\n{}",
        story(run)
    );
    let rtx = m.first_retransmission_on_link2.unwrap();
    assert_eq!(rtx.time, detection, "{}", story(run));
    let (_, paths) = &run.paths_before_shutdown[0];
    let primary = paths.iter().find(|p| p.remote == BETA_1_V4).unwrap();
    assert!(primary.counters.timeouts >= 1, "{primary:?}");
    check_lost_data_retransmitted_on_link2(run);
}

/// RFC 9260 §8.3, RFC 7829 §5: probing a silent link 1.
#[test]
fn drop_link1_probed_while_blocked() {
    check_link1_probed_while_blocked(drop_());
}

/// RFC 9260 §8.3, §6.4: failback after a blackhole.
#[test]
fn drop_traffic_returns_to_link1() {
    check_failback(drop_());
}

/// RFC 7829 §7, RFC 9260 §8.2: address notifications after a blackhole.
#[test]
fn drop_reports_potentially_failed_then_available() {
    check_address_events(drop_());
}

/// No message lost or duplicated through a silent failure either.
#[test]
fn drop_no_message_lost_or_duplicated() {
    let run = drop_();
    assert_all_messages_once_in_order(run);
    assert_graceful_shutdown(run);
}

/// The project's goal: sub-second failover with these parameters, for
/// both kinds of failure; and the counters the summary shows agree with
/// the engine's own per-path counters.
#[test]
fn failover_is_sub_second_and_summaries_agree_with_the_engine() {
    for run in [reject(), drop_()] {
        let m = &run.milestones;
        let failover = m
            .failover
            .unwrap_or_else(|| panic!("no failover\n{}", story(run)));
        assert!(
            failover < Duration::from_secs(1),
            "{failover:?}\n{}",
            story(run)
        );
        assert!(m.recovery.unwrap() < Duration::from_millis(500), "{m:?}");
        // The engine's counters (alpha, just before the shutdown) against the
        // wire: DATA alpha sent for the first time per destination.
        let (_, paths) = &run.paths_before_shutdown[0];
        for (i, link) in run.links.iter().enumerate() {
            let path = paths.iter().find(|p| p.remote == link.beta).unwrap();
            let wire = link.alpha_to_beta;
            assert_eq!(
                path.counters.retransmissions,
                wire.retransmissions,
                "link {}: {path:?} vs {wire:?}",
                i + 1
            );
            assert!(
                path.counters.heartbeats_sent >= wire.heartbeats,
                "{path:?} vs {wire:?}"
            );
        }
        let total: u64 = run.links.iter().map(|l| l.alpha_to_beta.data_chunks).sum();
        // 40 messages: their first transmissions, plus nothing else.
        assert_eq!(total, u64::from(run.plan.messages), "{}", story(run));
    }
}

/// Determinism: the same seed gives the same run — ladder, events and
/// capture bytes — and another seed gives other verification tags and TSNs.
#[test]
fn same_seed_same_run() {
    let a = scenario::failover(seed(), Failure::Reject);
    assert_eq!(&a, reject());
    assert_eq!(a.combined_pcap, reject().combined_pcap);
    assert_eq!(a.link_pcaps, reject().link_pcaps);
    let n = scenario::normal(seed());
    assert_eq!(&n, normal());
    let other = scenario::normal(seed() + 1);
    assert_ne!(other.combined_pcap, n.combined_pcap);
    assert_eq!(
        other.ladder.len(),
        n.ladder.len(),
        "the story does not depend on the seed"
    );
}

// ---------------------------------------------------------------------------
// Captures checked by tshark
// ---------------------------------------------------------------------------

fn tshark() -> String {
    let t = std::env::var("TSHARK").unwrap_or_else(|_| "tshark".into());
    match Command::new(&t).arg("--version").output() {
        Ok(o) if o.status.success() => t,
        _ => panic!(
            "tshark is needed to check the scenario captures and was not found; install it \
             with `apt-get install tshark` or run `cargo xtask test`, which installs it"
        ),
    }
}

/// One line of tshark's field output.
struct Row {
    frame: String,
    checksum_status: Vec<String>,
    malformed: String,
    ipv4_params: Vec<IpAddr>,
    chunk_types: Vec<u8>,
    icmp: bool,
}

fn tshark_rows(tshark: &str, file: &Path) -> Vec<Row> {
    let out = Command::new(tshark)
        .args(["-n", "-o", "sctp.checksum:crc-32c", "-r"])
        .arg(file)
        .args(["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,"])
        .args([
            "-e",
            "frame.number",
            "-e",
            "sctp.checksum.status",
            "-e",
            "_ws.malformed",
            "-e",
            "sctp.parameter_ipv4_address",
            "-e",
            "sctp.chunk_type",
            "-e",
            "icmp.type",
        ])
        .output()
        .unwrap_or_else(|e| panic!("running {tshark}: {e}"));
    assert!(
        out.status.success(),
        "tshark failed on {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let list = |s: &str| -> Vec<String> {
        s.split(',')
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect()
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let col = |i: usize| cols.get(i).copied().unwrap_or("");
            Row {
                frame: col(0).to_owned(),
                checksum_status: list(col(1)),
                malformed: col(2).to_owned(),
                ipv4_params: list(col(3)).iter().filter_map(|a| a.parse().ok()).collect(),
                chunk_types: list(col(4)).iter().filter_map(|t| t.parse().ok()).collect(),
                icmp: !col(5).is_empty(),
            }
        })
        .collect()
}

/// RFC 9260 §6.8 and the wire format: tshark reads every per-link capture of
/// the three runs, finds nothing malformed and every CRC32c good (also in
/// the SCTP packets the ICMP errors quote), and shows the other link's
/// address in the INIT and the INIT ACK (the text's figures 3 and 4).
#[test]
fn captures_are_clean_for_tshark() {
    let tshark = tshark();
    let dir: PathBuf =
        std::env::temp_dir().join(format!("msctp-seed-scenarios-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut seen_init = BTreeMap::new();
    let mut icmp_frames = 0;
    for (label, run) in [
        ("normal", normal()),
        ("reject", reject()),
        ("drop", drop_()),
    ] {
        for (i, bytes) in run.link_pcaps.iter().enumerate() {
            let file = dir.join(format!("{label}-link{}.pcap", i + 1));
            std::fs::write(&file, bytes).unwrap();
            let rows = tshark_rows(&tshark, &file);
            let expected = run.ladder.iter().filter(|p| p.link == i + 1).count();
            assert_eq!(rows.len(), expected, "{}: frames", file.display());
            for r in &rows {
                assert!(
                    r.malformed.is_empty(),
                    "{}: frame {} malformed",
                    file.display(),
                    r.frame
                );
                assert!(
                    !r.checksum_status.is_empty() && r.checksum_status.iter().all(|s| s == "1"),
                    "{}: frame {} CRC32c status {:?} (1 = good){}",
                    file.display(),
                    r.frame,
                    r.checksum_status,
                    if r.icmp { " in an ICMP quote" } else { "" }
                );
                icmp_frames += usize::from(r.icmp);
                if !r.icmp {
                    for (ty, name) in [(1u8, "INIT"), (2, "INIT ACK")] {
                        if r.chunk_types.contains(&ty) {
                            seen_init.insert((label, name), r.ipv4_params.clone());
                        }
                    }
                }
            }
        }
    }
    assert!(icmp_frames > 0, "the REJECT run has ICMP errors");
    for label in ["normal", "reject", "drop"] {
        assert_eq!(
            seen_init.get(&(label, "INIT")),
            Some(&vec![ALPHA_2_V4]),
            "{label}"
        );
        assert_eq!(
            seen_init.get(&(label, "INIT ACK")),
            Some(&vec![BETA_2_V4]),
            "{label}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// The ladder is the combined capture, frame for frame, and its link and
/// direction follow the addresses of the lab.
#[test]
fn ladder_matches_the_captures() {
    for run in [normal(), reject(), drop_()] {
        let frames: Vec<_> =
            msctp_wire::capture::read(bytes::Bytes::from(run.combined_pcap.clone()))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
        assert_eq!(frames.len(), run.ladder.len());
        for (f, p) in frames.iter().zip(&run.ladder) {
            assert_eq!(f.number as usize, p.number);
            assert_eq!(f.timestamp - msctp_sim::PCAP_EPOCH, p.time);
            assert!(!matches!(p.content, Content::Undecodable(_)), "{p:?}");
            if !p.is_icmp() {
                let alpha_side = if p.direction == Direction::AToB {
                    p.src
                } else {
                    p.dst
                };
                let expected = if p.link == 1 { ALPHA_1_V4 } else { ALPHA_2_V4 };
                assert_eq!(alpha_side, expected, "{p:?}");
            }
        }
    }
}
