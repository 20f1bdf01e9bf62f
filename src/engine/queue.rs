//! The event queue: a binary min-heap of small entries `(time, sequence, slot)` ordered by
//! time, then by insertion sequence, so that events scheduled for the same instant run
//! first-in first-out. Payloads live in a slab indexed by `slot`, which keeps heap entries at
//! 24 bytes whatever the payload type (see `shared/bench-baseline`: entry size dominates).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::time::{SimDuration, SimTime};

/// A time-ordered queue of events of type `E`, with a notion of "now".
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
    slab: Vec<Option<E>>,
    free: Vec<u32>,
    next_seq: u64,
    now: SimTime,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            slab: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
            now: SimTime::ZERO,
        }
    }

    /// The time of the event being processed (or of the last one processed).
    pub(crate) fn now(&self) -> SimTime {
        self.now
    }

    /// Pending events (tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Schedules `event` at `at`. Scheduling in the past is a simulator bug.
    pub(crate) fn schedule(&mut self, at: SimTime, event: E) {
        assert!(
            at >= self.now,
            "event scheduled in the past: at {at}, now {}",
            self.now
        );
        let slot = match self.free.pop() {
            Some(s) => {
                self.slab[s as usize] = Some(event);
                s
            }
            None => {
                let s = u32::try_from(self.slab.len()).expect("more than 2^32 pending events");
                self.slab.push(Some(event));
                s
            }
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Reverse((at.0, seq, slot)));
    }

    /// Schedules `event` after `delay` from now.
    pub(crate) fn schedule_in(&mut self, delay: SimDuration, event: E) {
        let at = self.now + delay;
        self.schedule(at, event);
    }

    /// The time of the earliest pending event.
    pub(crate) fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|Reverse((t, _, _))| SimTime(*t))
    }

    /// Removes the earliest event and advances `now` to its time.
    pub(crate) fn pop(&mut self) -> Option<(SimTime, E)> {
        let Reverse((t, _, slot)) = self.heap.pop()?;
        let event = self.slab[slot as usize]
            .take()
            .expect("slab slot of a queued event is filled");
        self.free.push(slot);
        debug_assert!(t >= self.now.0);
        self.now = SimTime(t);
        Some((SimTime(t), event))
    }

    /// Moves `now` forward without processing an event (used when a run stops at its end time
    /// with later events still pending).
    pub(crate) fn advance_to(&mut self, t: SimTime) {
        if t > self.now {
            self.now = t;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_time_events_run_in_insertion_order() {
        let mut q = EventQueue::new();
        for i in 0..100u32 {
            q.schedule(SimTime(10), i);
        }
        q.schedule(SimTime(5), 1000);
        assert_eq!(q.pop(), Some((SimTime(5), 1000)));
        for i in 0..100u32 {
            assert_eq!(q.pop(), Some((SimTime(10), i)));
        }
        assert!(q.pop().is_none());
    }

    #[test]
    fn slots_are_reused() {
        let mut q = EventQueue::new();
        for round in 0..10u64 {
            q.schedule(SimTime(round), round);
            q.pop();
        }
        assert_eq!(q.slab.len(), 1);
    }

    #[test]
    #[should_panic(expected = "scheduled in the past")]
    fn scheduling_in_the_past_is_a_bug() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(10), ());
        q.pop();
        q.schedule(SimTime(9), ());
    }
}
