//! A single deadline owned by the component it belongs to (DESIGN.md: each
//! component owns its timers and the association asks them for the earliest
//! deadline, instead of one central timer table).

use std::time::Instant;

/// An optional deadline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timer(Option<Instant>);

impl Timer {
    /// Arms the timer for `at`, replacing any earlier setting.
    pub fn set(&mut self, at: Instant) {
        self.0 = Some(at);
    }

    /// Disarms the timer.
    pub fn stop(&mut self) {
        self.0 = None;
    }

    /// True if armed.
    pub fn is_running(&self) -> bool {
        self.0.is_some()
    }

    /// The deadline, if armed.
    pub fn deadline(&self) -> Option<Instant> {
        self.0
    }

    /// If the timer is armed and due at `now`, disarms it and returns true.
    pub fn expire(&mut self, now: Instant) -> bool {
        match self.0 {
            Some(t) if t <= now => {
                self.0 = None;
                true
            }
            _ => false,
        }
    }
}

/// The earliest of several optional deadlines.
pub fn earliest(deadlines: impl IntoIterator<Item = Option<Instant>>) -> Option<Instant> {
    deadlines.into_iter().flatten().min()
}
