//! Failover and failback times on the two-link lab (virtual time, so the
//! figures are exact and reproducible): the project's targets, checked.

use msctp_sim::sctp::failover::{measure, standard_setups};

/// Prints the table of all standard configurations (see `cargo xtask bench`
/// for the same table in the benchmark report) and checks the targets:
/// with SCTP-PF and ICMP on a 1 ms-RTT lab, data flows on link 2 within
/// 50 ms of the failure; without ICMP, within one RTO plus one RTT (RFC 9260
/// §6.3.3, §6.4.1; RFC 7829 §5). Every message arrives once, in order.
#[test]
fn failover_targets() {
    for (name, setup) in standard_setups() {
        let r = measure(&setup);
        eprintln!(
            "{name:45} failover {:>10?} failback {:>10?} worst delivery {:>10?} ({} msgs, in order: {})",
            r.failover, r.failback, r.worst_delivery, r.sent, r.in_order
        );
        assert!(r.in_order, "{name}: messages lost, duplicated or reordered");
        let failover = r
            .failover
            .unwrap_or_else(|| panic!("{name}: never failed over"));
        let rto = setup
            .config
            .rto_min
            .max(setup.config.rto_initial.min(setup.config.rto_min));
        let rtt = 2 * setup.delay;
        if name.contains("REJECT") && setup.config.pf_max_retrans.is_some() {
            assert!(failover.as_millis() < 50, "{name}: failover {failover:?}");
        } else {
            // One RTO plus one RTT, plus the 5 ms message interval.
            let bound = rto + rtt + setup.interval;
            assert!(
                failover <= bound,
                "{name}: failover {failover:?} > {bound:?}"
            );
        }
        assert!(r.failback.is_some(), "{name}: never failed back");
    }
}
