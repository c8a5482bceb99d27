//! The path manager: the list of paths of an association, the primary, and
//! the choice of destination (RFC 9260 §6.4, §6.4.1; RFC 7829 §5).

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::{Path, PathState};

/// The paths of one association.
#[derive(Debug, Clone, Default)]
pub struct PathManager {
    paths: Vec<Path>,
    primary: usize,
    /// When the latest probes of unconfirmed addresses went out (at most
    /// HB.Max.Burst of them are remembered), for RFC 9260 §5.4 pacing.
    unconfirmed_probes: VecDeque<Instant>,
}

impl PathManager {
    /// Adds a path unless its peer address is already known; returns its index.
    pub(crate) fn add(&mut self, path: Path) -> usize {
        if let Some(i) = self.find(path.remote) {
            return i;
        }
        self.paths.push(path);
        self.paths.len() - 1
    }

    /// Index of the path to `remote`.
    pub fn find(&self, remote: IpAddr) -> Option<usize> {
        self.paths.iter().position(|p| p.remote == remote)
    }

    /// All paths.
    pub fn iter(&self) -> impl Iterator<Item = &Path> {
        self.paths.iter()
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Path> {
        self.paths.iter_mut()
    }

    /// Number of paths.
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    /// True if there are no paths.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// The path at `i`.
    pub fn get(&self, i: usize) -> &Path {
        &self.paths[i]
    }

    pub(crate) fn get_mut(&mut self, i: usize) -> &mut Path {
        &mut self.paths[i]
    }

    /// Index of the primary path.
    pub fn primary(&self) -> usize {
        self.primary
    }

    pub(crate) fn set_primary(&mut self, i: usize) {
        if i < self.paths.len() {
            self.primary = i;
        }
    }

    /// RFC 9260 §6.4: new data goes to the primary while it is active;
    /// otherwise to an active alternate; with none active, RFC 7829 §5 says to
    /// use the potentially-failed path with the fewest errors; failing that,
    /// the primary (there is nowhere better to try).
    pub fn data_destination(&self, requested: Option<usize>) -> usize {
        if let Some(r) = requested.filter(|&r| r < self.paths.len()) {
            if self.paths[r].is_active() {
                return r;
            }
        }
        if self.paths.get(self.primary).is_some_and(Path::is_active) {
            return self.primary;
        }
        self.best_alternate(None).unwrap_or(self.primary)
    }

    /// RFC 9260 §6.4.1: an active destination other than `exclude` for a
    /// retransmission, preferring the most recently confirmed-working
    /// (lowest error count, then lowest RTO); `None` if there is none.
    pub fn alternate(&self, exclude: usize) -> Option<usize> {
        self.best_alternate(Some(exclude)).filter(|&i| {
            i != exclude
                && matches!(
                    self.paths[i].state(),
                    PathState::Active | PathState::PotentiallyFailed
                )
                && (self.paths[i].is_active() || !self.paths[exclude].is_active())
        })
    }

    fn best_alternate(&self, exclude: Option<usize>) -> Option<usize> {
        let rank = |p: &Path| match p.state() {
            PathState::Active => 0,
            PathState::PotentiallyFailed => 1,
            PathState::Inactive => 2,
            PathState::Unconfirmed => 3,
        };
        self.paths
            .iter()
            .enumerate()
            .filter(|(i, p)| Some(*i) != exclude && p.is_confirmed())
            .min_by_key(|(i, p)| (rank(p), p.error_count(), p.rtt.rto(), *i))
            .map(|(i, _)| i)
    }

    /// Where a reply to a packet from `from` goes (a SACK, an ERROR, ...):
    /// RFC 9260 §6.4: to the source of the packet it answers, if that
    /// address is confirmed and its path active; RFC 9260 §5.4: nothing but
    /// HEARTBEAT, HEARTBEAT ACK and a COOKIE ECHO / COOKIE ACK bundled with
    /// a HEARTBEAT goes to an unconfirmed address, and a failed path is no
    /// place for a reply while another works: then to the destination of
    /// new data (or, should that one be unconfirmed, to `from`'s path if it
    /// at least is confirmed).
    pub fn reply_path(&self, from: IpAddr) -> usize {
        let source = self.find(from);
        if let Some(i) = source.filter(|&i| self.paths[i].is_active()) {
            return i;
        }
        let d = self.data_destination(None);
        match source {
            Some(i)
                if self.paths.get(d).is_none_or(|p| !p.is_confirmed())
                    && self.paths[i].is_confirmed() =>
            {
                i
            }
            _ => d,
        }
    }

    /// RFC 9260 §5.4 HB.Max.Burst: may a probe of an unconfirmed address
    /// whose RTO is `rto` go out at `now`, given that at most `burst`
    /// unconfirmed addresses are probed per RTO? `Ok` if so (the caller
    /// then records it with [`PathManager::on_unconfirmed_probe_sent`]),
    /// else the instant the next slot opens.
    pub(crate) fn unconfirmed_probe_slot(
        &self,
        now: Instant,
        rto: Duration,
        burst: u32,
    ) -> Result<(), Instant> {
        let burst = (burst.max(1) as usize).min(self.paths.len().max(1));
        let recent: Vec<Instant> = self
            .unconfirmed_probes
            .iter()
            .copied()
            .filter(|&t| t + rto > now)
            .collect();
        if recent.len() < burst {
            return Ok(());
        }
        // The slot opens one RTO after the burst-th most recent probe.
        let mut recent = recent;
        recent.sort_unstable();
        Err(recent[recent.len() - burst] + rto)
    }

    /// Records that a probe of an unconfirmed address went out at `now`.
    pub(crate) fn on_unconfirmed_probe_sent(&mut self, now: Instant, burst: u32) {
        let keep = (burst.max(1) as usize).min(self.paths.len().max(1));
        self.unconfirmed_probes.push_back(now);
        while self.unconfirmed_probes.len() > keep {
            self.unconfirmed_probes.pop_front();
        }
    }
}
