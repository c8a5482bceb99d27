//! The human story of a scenario: a preamble (lab, parameters, application),
//! then the packet ladder in time order — number, time, link, source →
//! destination, chunks with TSNs and cumulative TSN acks, lost packets and
//! ICMP errors marked — interleaved with the endpoints' path events, the
//! link changes, and one line explaining each phase as it begins.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::Duration;

use msctp_proto::{AddressChange, AssociationChange, Event, PathState};
use msctp_sim::scenario::{
    Content, EventRecord, Failure, Fate, LadderPacket, LinkChange, PhaseKind, ScenarioRun,
};
use msctp_sim::{DropReason, IcmpKind, LinkState};

use super::{secs, span};

/// The lab, the parameters and the application, once for all scenarios.
pub fn preamble(seed: u64, run: &ScenarioRun) -> String {
    let p = &run.plan.protocol;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "msctp demo: the two experiments of \"Multi-homing in SCTP\" on the simulator (seed {seed})"
    );
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "  alpha (client)                               beta (server)"
    );
    let _ = writeln!(t, "  192.0.2.1     --- link 1 (primary) ---     192.0.2.2");
    let _ = writeln!(
        t,
        "  198.51.100.1  --- link 2 --------------     198.51.100.2"
    );
    let _ = writeln!(t);
    let links = format!(
        "Links: {} one way, no loss. Application: alpha writes \"msg N\" every {} from t = {}; \
         beta echoes each message.",
        span(run.plan.link_delay),
        span(run.plan.message_interval),
        span(run.plan.first_message_at)
    );
    t.push_str(&wrap(&links, "", ""));
    let parameters = format!(
        "Parameters (RFC 9260 §16): RTO.Initial {}, RTO.Min {}, RTO.Max {}, HB.interval {} \
         (the RFC's 1 s, 1 s, 60 s and 30 s, shortened so that the story fits in seconds and \
         failover stays under a second); Path.Max.Retrans {}, PFMR {} (RFC 7829), delayed SACK {} \
         or every {} packets{}.",
        span(p.rto_initial),
        span(p.rto_min),
        span(p.rto_max),
        span(p.hb_interval),
        p.path_max_retrans,
        p.pf_max_retrans
            .map_or_else(|| "off".to_owned(), |n| n.to_string()),
        span(p.sack_delay),
        p.sack_freq,
        if p.sack_immediately_when_idle {
            ", but a sender going idle sets the I bit (RFC 7053) so that its last DATA is \
             acknowledged at once"
        } else {
            ""
        }
    );
    t.push_str(&wrap(&parameters, "", ""));
    t
}

fn phase_text(kind: PhaseKind, run: &ScenarioRun) -> String {
    let failure = run.plan.failure.map(|f| f.failure);
    let s = match kind {
        PhaseKind::Handshake => {
            "Handshake (RFC 9260 §5.1): alpha sends INIT to beta's link-1 address. INIT and INIT \
             ACK each list the sender's other address (§5.1.2); the receiver also records the \
             source address. The path of the INIT, link 1, becomes the primary (§6.4)."
        }
        PhaseKind::AddressConfirmation => {
            "Address confirmation (§5.4): each side trusts only the handshake address. It sends a \
             HEARTBEAT to the peer's other address and confirms it when the HEARTBEAT ACK returns."
        }
        PhaseKind::DataOnPrimary => {
            "Data on the primary path (§6.4): alpha's messages and beta's echoes go over link 1 \
             only, each SACK bundled with the next DATA or sent on its own."
        }
        PhaseKind::HeartbeatsOnSecondary => {
            "Heartbeats on the secondary path (§8.3): link 2 carries no data, so each side probes \
             it every HB.interval plus a jittered RTO. Link 1 carries acknowledged DATA and gets \
             no HEARTBEAT."
        }
        PhaseKind::LinkFailure => match failure {
            Some(Failure::Drop) => {
                "Failure of link 1: from now on every packet that arrives over link 1, in either \
                 direction, is dropped silently (like iptables -j DROP). Only timers can tell."
            }
            _ => {
                "Failure of link 1: from now on every packet that arrives over link 1, in either \
                 direction, is rejected with an ICMP port unreachable (like the text's iptables \
                 -j REJECT)."
            }
        },
        PhaseKind::RetransmissionOnAlternate => match failure {
            Some(Failure::Drop) => {
                "Retransmission on the alternate path (§6.3.3, §6.4.1): T3-rtx expired after one \
                 RTO. The path to the link-1 address is now potentially failed (RFC 7829). The \
                 lost DATA goes again over link 2 with the same TSN, and new data follows it."
            }
            _ => {
                "Retransmission on the alternate path (§6.4.1, Appendix C): the ICMP error marks \
                 the path to the link-1 address potentially failed at once (RFC 7829). The lost \
                 DATA goes again over link 2 with the same TSN, and new data follows it."
            }
        },
        PhaseKind::ProbingLink1 => match failure {
            Some(Failure::Drop) => {
                "Probing of link 1 (§8.3, RFC 7829 §5): each side keeps sending HEARTBEATs to the \
                 failed address, once per RTO (which doubles up to RTO.Max). None is answered. \
                 After Path.Max.Retrans errors the address becomes unreachable (§8.2)."
            }
            _ => {
                "Probing of link 1 (§8.3, RFC 7829 §5): each side keeps sending HEARTBEATs to the \
                 failed address, once per RTO (which doubles up to RTO.Max). Each one is answered \
                 by ICMP. After Path.Max.Retrans errors the address becomes unreachable (§8.2)."
            }
        },
        PhaseKind::LinkRestored => {
            "Link 1 restored: packets cross it again. Nothing changes until the next probe is \
             answered."
        }
        PhaseKind::Failback => {
            "Failback (§6.4, §8.3): a HEARTBEAT over link 1 is acknowledged. The primary path is \
             active again, and DATA and SACK return to it; link 2 goes back to heartbeats."
        }
        PhaseKind::Shutdown => {
            "Shutdown (§9.2): SHUTDOWN, SHUTDOWN ACK and SHUTDOWN COMPLETE over the primary path. \
             Multi-homing changes nothing here."
        }
    };
    s.to_owned()
}

/// Wraps `text` at 92 columns (a unit, `s` or `ms`, stays on the line of
/// its number): the first line starts with `first`, the others with
/// `indent`.
fn wrap(text: &str, first: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_owned();
    let mut fresh = true;
    for word in text.split_whitespace() {
        // A unit stays with its number.
        let unit = matches!(
            word.trim_end_matches(|c: char| c.is_ascii_punctuation()),
            "s" | "ms"
        );
        if !fresh && !unit && line.len() + 1 + word.len() > 92 {
            out.push_str(&line);
            out.push('\n');
            line = indent.to_owned();
            fresh = true;
        }
        if !fresh {
            line.push(' ');
        }
        line.push_str(word);
        fresh = false;
    }
    out.push_str(&line);
    out.push('\n');
    out
}

fn link_of(run: &ScenarioRun, address: IpAddr) -> Option<usize> {
    run.links
        .iter()
        .find(|l| l.alpha == address || l.beta == address)
        .map(|l| l.link)
}

fn state_name(s: PathState) -> &'static str {
    match s {
        PathState::Unconfirmed => "unconfirmed",
        PathState::Active => "active",
        PathState::PotentiallyFailed => "potentially failed",
        PathState::Inactive => "inactive",
    }
}

/// The text of an event worth showing, or `None` for the routine ones
/// (readable, sender dry, heartbeat acknowledged).
pub fn event_text(run: &ScenarioRun, e: &EventRecord) -> Option<String> {
    let text = match &e.event {
        Event::Association(change) => match change {
            AssociationChange::CommUp {
                outbound_streams,
                inbound_streams,
            } => format!(
                "association established (COMMUNICATION UP, {outbound_streams} out / \
                 {inbound_streams} in streams)"
            ),
            AssociationChange::CommLost { reason } => {
                format!("association lost (COMMUNICATION LOST: {reason:?})")
            }
            AssociationChange::Restart => "the peer restarted (RESTART)".into(),
            AssociationChange::ShutdownComplete => "association closed (SHUTDOWN COMPLETE)".into(),
            AssociationChange::CantStartAssociation { reason } => {
                format!("cannot start the association ({reason:?})")
            }
        },
        Event::PeerAddress {
            address,
            change,
            from,
            to,
        } => {
            let what = match change {
                AddressChange::Available => "available again",
                AddressChange::Unreachable => "unreachable (Path.Max.Retrans exceeded)",
                AddressChange::PotentiallyFailed => "potentially failed",
                AddressChange::Confirmed => "confirmed",
                AddressChange::MadePrimary => "made primary",
                AddressChange::Added => "added",
            };
            let link = link_of(run, *address).map_or(String::new(), |l| format!(" (link {l})"));
            format!(
                "peer address {address}{link} {what} [{} -> {}]",
                state_name(*from),
                state_name(*to)
            )
        }
        Event::Shutdown => "the peer started a graceful shutdown".into(),
        Event::SendFailed { stream, .. } => {
            format!("a message on stream {stream} could not be sent")
        }
        Event::RemoteError(causes) => format!("the peer reported errors: {causes:?}"),
        Event::HeartbeatAcked { .. } | Event::Readable | Event::SenderDry => return None,
    };
    Some(text)
}

fn icmp_text(kind: IcmpKind, v6: bool) -> String {
    match kind {
        IcmpKind::DestinationUnreachable { code } => {
            let what = match (v6, code) {
                (false, 0) | (true, 0) => "net unreachable".to_owned(),
                (false, 1) | (true, 3) => "host unreachable".to_owned(),
                (false, 3) | (true, 4) => "port unreachable".to_owned(),
                (false, 13) | (true, 1) => "administratively prohibited".to_owned(),
                (_, c) => format!("code {c}"),
            };
            format!("ICMP destination unreachable ({what})")
        }
        IcmpKind::PacketTooBig { mtu } => format!("ICMP packet too big (MTU {mtu})"),
        IcmpKind::ProtocolUnreachable => "ICMP protocol unreachable".into(),
    }
}

/// One ladder line (without newline).
pub fn packet_line(p: &LadderPacket) -> String {
    let what = match &p.content {
        Content::Sctp { chunks, .. } => chunks
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" + "),
        Content::Icmp { kind, about } => {
            let about = about.map_or(String::new(), |n| format!(" about #{n}"));
            format!("{}{about}", icmp_text(*kind, p.src.is_ipv6()))
        }
        Content::Undecodable(why) => format!("(undecodable: {why})"),
    };
    let fate = match p.fate {
        Fate::Delivered(_) => String::new(),
        Fate::Dropped {
            reason: DropReason::Rejected,
            ..
        } => format!("   <-- LOST: rejected at the end of link {}", p.link),
        Fate::Dropped {
            reason: DropReason::LinkDown,
            ..
        } => format!("   <-- LOST: dropped silently by link {}", p.link),
        Fate::Dropped { reason, .. } => format!("   <-- LOST ({reason:?})"),
        Fate::InFlight => "   (still in flight at the end)".into(),
    };
    format!(
        "{:>5} {:>10}  {}  {:<13}-> {:<13} {what}{fate}",
        format!("#{}", p.number),
        secs(p.time),
        p.link,
        p.src.to_string(),
        p.dst.to_string()
    )
}

fn state_text(s: LinkState) -> &'static str {
    match s {
        LinkState::Up => "up",
        LinkState::Down => "dropping everything (DROP)",
        LinkState::Reject(_) => "rejecting everything with ICMP (REJECT)",
    }
}

/// Link changes at one instant for one link, both directions merged.
fn link_change_lines(changes: &[LinkChange]) -> Vec<(Duration, usize, String)> {
    let mut out: Vec<(Duration, usize, String)> = Vec::new();
    for c in changes {
        let both = changes
            .iter()
            .filter(|d| d.at == c.at && d.link == c.link && d.to == c.to)
            .count()
            == 2;
        let text = if both {
            format!(
                "link {} is now {} in both directions",
                c.link,
                state_text(c.to)
            )
        } else {
            format!(
                "link {} {:?} is now {}",
                c.link,
                c.direction,
                state_text(c.to)
            )
        };
        if !out
            .iter()
            .any(|(t, l, s)| *t == c.at && *l == c.link && *s == text)
        {
            out.push((c.at, c.link, text));
        }
    }
    out
}

enum Item<'a> {
    Link(usize, String),
    Event(&'a EventRecord, String),
    Packet(&'a LadderPacket),
}

/// The ladder of one scenario with its events and phases.
pub fn story(run: &ScenarioRun) -> String {
    let mut t = String::new();
    let title = match run.plan.failure {
        None => "normal operation (both links stay up)".to_owned(),
        Some(f) => format!(
            "primary path switching (link 1 fails at t = {} with {}, comes back at t = {})",
            span(f.at),
            match f.failure {
                Failure::Reject => "REJECT",
                Failure::Drop => "DROP",
            },
            span(f.restore_at)
        ),
    };
    let _ = writeln!(t);
    let _ = writeln!(t, "=== Scenario {}: {title}", run.name);
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "{:>5} {:>10}  L  {:<13}   {:<13} chunks / events",
        "No.", "time (s)", "source", "destination"
    );

    // (time, class, sequence, item): link changes, then events, then packets.
    let mut items: Vec<(Duration, u8, usize, Item<'_>)> = Vec::new();
    for (i, (at, link, text)) in link_change_lines(&run.link_changes).into_iter().enumerate() {
        items.push((at, 0, i, Item::Link(link, text)));
    }
    for (i, e) in run.events.iter().enumerate() {
        if let Some(text) = event_text(run, e) {
            items.push((e.at, 1, i, Item::Event(e, text)));
        }
    }
    for (i, p) in run.ladder.iter().enumerate() {
        items.push((p.time, 2, i, Item::Packet(p)));
    }
    items.sort_by_key(|(at, class, i, _)| (*at, *class, *i));

    for (at, _, _, item) in items {
        match item {
            Item::Link(link, text) => {
                let kind = run
                    .phases
                    .iter()
                    .find(|ph| ph.packet.is_none() && ph.at == at && link == 1)
                    .map(|ph| ph.kind);
                let _ = writeln!(t, "{:>5} {:>10}  -- {text} --", "", secs(at));
                if let Some(kind) = kind {
                    t.push_str(&wrap(&phase_text(kind, run), "   >> ", "      "));
                }
            }
            Item::Event(e, text) => {
                let _ = writeln!(t, "{:>5} {:>10}  * {}: {text}", "", secs(at), e.host);
            }
            Item::Packet(p) => {
                for ph in run.phases.iter().filter(|ph| ph.packet == Some(p.number)) {
                    t.push_str(&wrap(&phase_text(ph.kind, run), "   >> ", "      "));
                }
                t.push_str(&packet_line(p));
                t.push('\n');
            }
        }
    }
    t
}
