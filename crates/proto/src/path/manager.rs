//! The path manager: the list of paths of an association, the primary, and
//! the choice of destination (RFC 9260 §6.4, §6.4.1; RFC 7829 §5).

use std::net::IpAddr;

use super::{Path, PathState};

/// The paths of one association.
#[derive(Debug, Clone, Default)]
pub struct PathManager {
    paths: Vec<Path>,
    primary: usize,
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
                    self.paths[i].state,
                    PathState::Active | PathState::PotentiallyFailed
                )
                && (self.paths[i].is_active() || !self.paths[exclude].is_active())
        })
    }

    fn best_alternate(&self, exclude: Option<usize>) -> Option<usize> {
        let rank = |p: &Path| match p.state {
            PathState::Active => 0,
            PathState::PotentiallyFailed => 1,
            PathState::Inactive => 2,
            PathState::Unconfirmed => 3,
        };
        self.paths
            .iter()
            .enumerate()
            .filter(|(i, p)| Some(*i) != exclude && p.state != PathState::Unconfirmed)
            .min_by_key(|(i, p)| (rank(p), p.error_count, p.rtt.rto(), *i))
            .map(|(i, _)| i)
    }
}
