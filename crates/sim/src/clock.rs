//! The virtual clock: simulation time as nanoseconds since the start of the
//! run, and its mapping to the [`Instant`]s agents see and to the
//! timestamps written in captures.
//!
//! One base [`Instant`] is captured when the simulator is built; agents see
//! `base + offset`. Nothing the simulator writes (logs, pcap files) depends
//! on that base: logs print offsets, captures use [`PCAP_EPOCH`] + offset, so
//! runs are reproducible byte for byte.

use std::fmt;
use std::time::{Duration, Instant};

/// Capture timestamp of virtual time zero: 2026-01-01T00:00:00Z, as time
/// since the Unix epoch.
pub const PCAP_EPOCH: Duration = Duration::from_secs(1_767_225_600);

/// Virtual time in nanoseconds since the start of the run.
pub(crate) type Nanos = u64;

/// Converts a duration to nanoseconds, saturating after 584 years.
pub(crate) fn nanos(d: Duration) -> Nanos {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Maps virtual time to `Instant`s and back.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    base: Instant,
}

impl Clock {
    /// A clock whose time zero is `base`.
    pub(crate) fn new(base: Instant) -> Clock {
        Clock { base }
    }

    /// The instant of virtual time `t`.
    pub(crate) fn instant(&self, t: Nanos) -> Instant {
        self.base + Duration::from_nanos(t)
    }

    /// The virtual time of `instant`; instants before the start map to zero.
    pub(crate) fn offset(&self, instant: Instant) -> Nanos {
        instant.checked_duration_since(self.base).map_or(0, nanos)
    }

    /// The instant of virtual time zero.
    pub(crate) fn base(&self) -> Instant {
        self.base
    }
}

/// Displays a virtual time as seconds with nine decimals (`12.000345000`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct VirtualTime(pub Duration);

impl fmt::Display for VirtualTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:09}", self.0.as_secs(), self.0.subsec_nanos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_clamp() {
        let base = Instant::now();
        let c = Clock::new(base);
        assert_eq!(c.offset(c.instant(123_456_789)), 123_456_789);
        assert_eq!(c.instant(0), base);
        if let Some(before) = base.checked_sub(Duration::from_secs(1)) {
            assert_eq!(c.offset(before), 0);
        }
        assert_eq!(nanos(Duration::MAX), u64::MAX);
    }

    #[test]
    fn display() {
        assert_eq!(
            VirtualTime(Duration::new(12, 345_000)).to_string(),
            "12.000345000"
        );
    }
}
