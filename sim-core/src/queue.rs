//! The event queue: a total order by (time, seq), seq assigned at insertion.
//!
//! The heap holds only 24-byte keys; payloads sit in a slab reused through a free list, so a
//! large message costs nothing to sift.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::time::Time;

#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
    slab: Vec<Option<E>>,
    free: Vec<u32>,
    seq_next: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue { heap: BinaryHeap::new(), slab: Vec::new(), free: Vec::new(), seq_next: 0 }
    }
}

impl<E> EventQueue<E> {
    pub fn push(&mut self, at: Time, event: E) {
        let slot = match self.free.pop() {
            Some(slot) => {
                debug_assert!(self.slab[slot as usize].is_none());
                self.slab[slot as usize] = Some(event);
                slot
            }
            None => {
                let slot = u32::try_from(self.slab.len()).expect("more than 2^32 pending events");
                self.slab.push(Some(event));
                slot
            }
        };
        self.heap.push(Reverse((at.0, self.seq_next, slot)));
        self.seq_next += 1;
    }

    /// The earliest event if it is due at or before `limit`.
    pub fn pop_until(&mut self, limit: Time) -> Option<(Time, u64, E)> {
        let &Reverse((at, seq, slot)) = self.heap.peek()?;
        if at > limit.0 {
            return None;
        }
        self.heap.pop();
        let event = self.slab[slot as usize].take().expect("queued slot is full");
        self.free.push(slot);
        Some((Time(at), seq, event))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_times_pop_in_insertion_order() {
        let mut q = EventQueue::default();
        q.push(Time(5), "b1");
        q.push(Time(1), "a");
        q.push(Time(5), "b2");
        q.push(Time(5), "b3");
        let order: Vec<_> = std::iter::from_fn(|| q.pop_until(Time::MAX).map(|(_, _, e)| e)).collect();
        assert_eq!(order, ["a", "b1", "b2", "b3"]);
    }

    #[test]
    fn limit_is_inclusive_and_slots_are_reused() {
        let mut q = EventQueue::default();
        q.push(Time(10), 1);
        assert!(q.pop_until(Time(9)).is_none());
        assert_eq!(q.pop_until(Time(10)).map(|(_, _, e)| e), Some(1));
        q.push(Time(11), 2);
        assert_eq!(q.slab.len(), 1, "the freed slot is reused");
    }
}
