//! The per-path summary of a scenario: a table of what each direction of
//! each link carried, the state changes of each path, the milestones
//! (failure, lost TSN, retransmission, failover and failback times) and the
//! message count.

use std::fmt::Write as _;

use msctp_proto::AddressChange;
use msctp_sim::scenario::{DirectionSummary, Failure, PacketRef, ScenarioRun};

use super::{secs, span};

fn change_name(c: AddressChange) -> &'static str {
    match c {
        AddressChange::Available => "available",
        AddressChange::Unreachable => "unreachable",
        AddressChange::PotentiallyFailed => "potentially failed",
        AddressChange::Confirmed => "confirmed",
        AddressChange::MadePrimary => "made primary",
        AddressChange::Added => "added",
    }
}

fn packet_ref(r: Option<PacketRef>) -> String {
    match r {
        Some(r) => {
            let tsn = r.tsn.map_or(String::new(), |t| format!(", TSN {t}"));
            format!("#{} at {} s{tsn}", r.number, secs(r.time))
        }
        None => "not seen".into(),
    }
}

/// The summary of one scenario.
pub fn summary(run: &ScenarioRun) -> String {
    let mut t = String::new();
    let _ = writeln!(t);
    let _ = writeln!(t, "--- Per-path summary, scenario {} ---", run.name);
    let _ = writeln!(t);
    let mut header = format!("{:<24}", "");
    let mut sub = format!("{:<24}", "");
    for l in &run.links {
        let name = if l.link == 1 {
            "link 1 (primary)".to_owned()
        } else {
            format!("link {}", l.link)
        };
        header.push_str(&format!("{name:^26}"));
        sub.push_str(&format!("{:>13}{:>13}", "alpha->beta", "beta->alpha"));
    }
    let _ = writeln!(t, "{}", header.trim_end());
    let _ = writeln!(t, "{sub}");
    type Row = (&'static str, fn(&DirectionSummary) -> String);
    let rows: [Row; 9] = [
        ("SCTP packets", |d| d.packets.to_string()),
        ("bytes (SCTP)", |d| d.bytes.to_string()),
        ("delivered / lost", |d| {
            format!("{} / {}", d.delivered, d.dropped)
        }),
        ("DATA chunks (new)", |d| d.data_chunks.to_string()),
        ("retransmissions", |d| d.retransmissions.to_string()),
        ("SACK chunks", |d| d.sacks.to_string()),
        ("HEARTBEAT", |d| d.heartbeats.to_string()),
        ("HEARTBEAT ACK", |d| d.heartbeat_acks.to_string()),
        ("ICMP errors sent back", |d| d.icmp_errors.to_string()),
    ];
    for (name, f) in rows {
        let mut line = format!("  {name:<22}");
        for l in &run.links {
            line.push_str(&format!(
                "{:>13}{:>13}",
                f(&l.alpha_to_beta),
                f(&l.beta_to_alpha)
            ));
        }
        let _ = writeln!(t, "{line}");
    }
    let _ = writeln!(t);
    let _ = writeln!(t, "  Path state changes:");
    for l in &run.links {
        if l.state_changes.is_empty() {
            let _ = writeln!(t, "    link {}: none", l.link);
            continue;
        }
        for (i, c) in l.state_changes.iter().enumerate() {
            let label = if i == 0 {
                format!("link {}:", l.link)
            } else {
                String::new()
            };
            let _ = writeln!(
                t,
                "    {label:<8}{:>10} s  {} sees {} {}",
                secs(c.at),
                c.host,
                c.address,
                change_name(c.change)
            );
        }
    }
    let m = &run.milestones;
    let _ = writeln!(t);
    let _ = writeln!(t, "  Milestones:");
    let mut line = |k: &str, v: String| {
        let _ = writeln!(t, "    {k:<34}{v}");
    };
    let at =
        |d: Option<std::time::Duration>| d.map_or("not seen".into(), |d| format!("{} s", secs(d)));
    line("association up (alpha)", at(m.established));
    line("second addresses confirmed", at(m.second_path_confirmed));
    if run.plan.failure.is_some() {
        line("link 1 blocked", at(m.failure));
        line("first DATA lost on link 1", packet_ref(m.first_loss));
        line(
            "failure detected (alpha)",
            match (m.detection, m.failure, m.first_loss) {
                (Some(d), Some(f), Some(l)) => format!(
                    "{} s: {} after the failure, {} after the first loss ({})",
                    secs(d),
                    span(d - f),
                    span(d.saturating_sub(l.time)),
                    match run.plan.failure.map(|f| f.failure) {
                        Some(Failure::Drop) => "T3-rtx expired",
                        _ => "ICMP error",
                    }
                ),
                (d, _, _) => at(d),
            },
        );
        line(
            "retransmitted over link 2",
            packet_ref(m.first_retransmission_on_link2),
        );
        let same = match (m.first_loss, m.first_retransmission_on_link2) {
            (Some(a), Some(b)) if a.tsn == b.tsn => "yes".to_owned(),
            (Some(_), Some(_)) => "NO".to_owned(),
            _ => "-".to_owned(),
        };
        line("same TSN as the lost one", same);
        line("acknowledged over link 2", packet_ref(m.lost_tsn_acked));
        line(
            "lost DATA recovered in",
            m.recovery.map_or("not recovered".into(), |d| {
                format!("{}  (from its loss to its SACK over link 2)", span(d))
            }),
        );
        line(
            "FAILOVER TIME",
            m.failover.map_or("not seen".into(), |d| {
                format!(
                    "{}  (failure -> first new DATA acknowledged over link 2; alpha writes \
                     every {})",
                    span(d),
                    span(run.plan.message_interval)
                )
            }),
        );
        line("link 1 restored", at(m.restore));
        line("link 1 answers a HEARTBEAT", packet_ref(m.link1_answers));
        line(
            "first DATA back on link 1",
            packet_ref(m.first_data_back_on_link1),
        );
        line(
            "FAILBACK TIME",
            m.failback.map_or("not seen".into(), |d| {
                format!(
                    "{}  (restored -> first DATA delivered over link 1)",
                    span(d)
                )
            }),
        );
    }
    line("shutdown started", at(m.shutdown));
    line("shutdown complete (both ends)", at(m.shutdown_complete));
    let msgs = &run.messages;
    let expected: Vec<Option<u32>> = (1..=run.plan.messages).map(Some).collect();
    let verdict = if msgs.received_numbers() == expected && msgs.echoed_numbers() == expected {
        "none lost, none duplicated, all in order".to_owned()
    } else {
        "SOME LOST, DUPLICATED OR OUT OF ORDER".to_owned()
    };
    line(
        "messages",
        format!(
            "{} written by alpha, {} read by beta, {} echoes read by alpha: {verdict}",
            msgs.written.len(),
            msgs.received.len(),
            msgs.echoed.len()
        ),
    );
    t
}
