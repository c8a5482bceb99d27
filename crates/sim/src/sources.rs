//! Source addresses from the topology: for each destination, the addresses
//! a host has on the link its route to that destination uses. The
//! simulator keeps one [`SourceTable`] per host up to date as links and
//! routes change, and hands it to the host's agent ([`crate::Agent::attach`]);
//! [`crate::sctp::SctpHost`] installs it as its endpoint's
//! [`msctp_proto::path::SourceSelector`], as the real runtime installs one
//! that asks the kernel's routing table.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

/// Destination → this host's addresses on the link toward it.
#[derive(Debug, Clone, Default)]
pub struct SourceTable {
    inner: Arc<RwLock<HashMap<IpAddr, Vec<IpAddr>>>>,
}

impl SourceTable {
    /// This host's addresses on the link toward `dst` (empty: no route).
    pub fn link_addresses(&self, dst: IpAddr) -> Vec<IpAddr> {
        self.inner
            .read()
            .map(|m| m.get(&dst).cloned().unwrap_or_default())
            .unwrap_or_default()
    }

    pub(crate) fn replace(&self, table: HashMap<IpAddr, Vec<IpAddr>>) {
        if let Ok(mut m) = self.inner.write() {
            *m = table;
        }
    }
}

impl msctp_proto::path::SourceSelector for SourceTable {
    fn select(&self, remote: IpAddr, candidates: &[IpAddr]) -> Option<IpAddr> {
        let on_link = self.link_addresses(remote);
        candidates
            .iter()
            .copied()
            .find(|c| c.is_ipv4() == remote.is_ipv4() && on_link.contains(c))
    }
}
