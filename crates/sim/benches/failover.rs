//! Failover and failback times on the two-link lab, in virtual time (exact
//! and reproducible): prints one row per standard configuration.

use msctp_sim::sctp::failover::{measure, standard_setups};

fn main() {
    println!(
        "{:45} {:>12} {:>12} {:>16}",
        "configuration (1 ms RTT, msg every 5 ms)", "failover", "failback", "worst delivery"
    );
    for (name, setup) in standard_setups() {
        let r = measure(&setup);
        let show = |d: Option<std::time::Duration>| {
            d.map_or("never".to_string(), |d| {
                format!("{:.1} ms", d.as_secs_f64() * 1e3)
            })
        };
        println!(
            "{name:45} {:>12} {:>12} {:>16}",
            show(r.failover),
            show(r.failback),
            show(Some(r.worst_delivery))
        );
    }
}
