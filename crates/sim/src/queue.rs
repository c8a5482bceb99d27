//! The event queue: a binary heap of `(time, sequence number)` keys over a
//! slab of events, so that events at the same virtual time come out in the
//! order they were scheduled (deterministic ties) and the heap only moves
//! small keys.

use crate::clock::Nanos;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A priority queue of events of type `E` by virtual time, first in first
/// out among equal times.
#[derive(Debug)]
pub(crate) struct EventQueue<E> {
    heap: BinaryHeap<Reverse<(Nanos, u64, u32)>>,
    slots: Vec<Option<E>>,
    free: Vec<u32>,
    next_seq: u64,
}

impl<E> EventQueue<E> {
    pub(crate) fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
        }
    }

    /// Schedules `event` at time `at`, after every event already scheduled
    /// at that time.
    pub(crate) fn push(&mut self, at: Nanos, event: E) {
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(event);
                slot
            }
            None => {
                let slot = u32::try_from(self.slots.len()).expect("fewer than 2^32 pending events");
                self.slots.push(Some(event));
                slot
            }
        };
        self.heap.push(Reverse((at, self.next_seq, slot)));
        self.next_seq += 1;
    }

    /// Time of the earliest event.
    pub(crate) fn peek_time(&self) -> Option<Nanos> {
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Removes the earliest event.
    pub(crate) fn pop(&mut self) -> Option<(Nanos, E)> {
        let Reverse((at, _, slot)) = self.heap.pop()?;
        let event = self.slots[slot as usize]
            .take()
            .expect("queued slot holds its event");
        self.free.push(slot);
        Some((at, event))
    }

    /// Number of pending events.
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_order_then_fifo() {
        let mut q = EventQueue::new();
        q.push(5, "c");
        q.push(1, "a");
        q.push(5, "d");
        q.push(1, "b");
        assert_eq!(q.len(), 4);
        assert_eq!(q.peek_time(), Some(1));
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, [(1, "a"), (1, "b"), (5, "c"), (5, "d")]);
        // Slots are reused.
        q.push(9, "e");
        assert_eq!(q.slots.len(), 4);
        assert_eq!(q.pop(), Some((9, "e")));
        assert_eq!(q.pop(), None);
    }
}
