//! The event queue: a total order by (time, seq), seq assigned at insertion.
//!
//! A radix heap over the keys, not a binary heap: virtual time never goes back, so every key
//! pushed is above the last one popped, and keys sit in buckets by the highest bit in which
//! they differ from it. A pop scans one bucket and moves its keys down to lower buckets, each
//! key a few times in its life, over contiguous memory; a binary heap of a million pending
//! events missed the cache at every level of every pop. The order is the same total order, so
//! runs are the same event for event. Keys are 24 bytes; payloads sit in a slab reused through
//! a free list, so a large message costs nothing to move.

use crate::time::Time;

/// 128 bits of (time, seq), plus one bucket for the key equal to the last popped.
const BUCKETS: usize = 129;

/// Keys an emptied bucket keeps room for (24 KiB); a larger room is freed.
const BUCKET_KEPT_MAX: usize = 1024;

#[derive(Clone, Copy, Debug)]
struct Key {
    at: u64,
    seq: u64,
    slot: u32,
}

impl Key {
    fn order(&self) -> (u64, u64) {
        (self.at, self.seq)
    }
}

#[derive(Debug)]
pub struct EventQueue<E> {
    /// Bucket b > 0 holds the keys whose highest bit differing from `last` is bit b - 1 of the
    /// 128-bit key (time above seq); bucket 0 the key equal to `last` (seqs are unique).
    buckets: Vec<Vec<Key>>,
    /// Bit b - 1: bucket b (b >= 1) is not empty.
    occupied: u128,
    /// The last key popped: no key pushed may be below it.
    last: (u64, u64),
    len: usize,
    slab: Vec<Option<E>>,
    free: Vec<u32>,
    seq_next: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            occupied: 0,
            last: (0, 0),
            len: 0,
            slab: Vec::new(),
            free: Vec::new(),
            seq_next: 0,
        }
    }
}

/// The bucket of `key` relative to `last`.
fn bucket_of(key: (u64, u64), last: (u64, u64)) -> usize {
    let time_bits = key.0 ^ last.0;
    if time_bits != 0 {
        return 128 - time_bits.leading_zeros() as usize;
    }
    64 - (key.1 ^ last.1).leading_zeros() as usize
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
        let key = Key { at: at.0, seq: self.seq_next, slot };
        assert!(key.order() > self.last || self.seq_next == 0, "an event queued before the last one run");
        self.seq_next += 1;
        self.place(key);
        self.len += 1;
    }

    fn place(&mut self, key: Key) {
        let b = bucket_of(key.order(), self.last);
        self.buckets[b].push(key);
        if b > 0 {
            self.occupied |= 1 << (b - 1);
        }
    }

    /// The earliest event if it is due at or before `limit`.
    pub fn pop_until(&mut self, limit: Time) -> Option<(Time, u64, E)> {
        if self.buckets[0].is_empty() {
            if self.occupied == 0 {
                return None;
            }
            let b = self.occupied.trailing_zeros() as usize + 1;
            let min = self.buckets[b].iter().map(Key::order).min().expect("an occupied bucket holds a key");
            if min.0 > limit.0 {
                return None;
            }
            // Every key of bucket b moves to a lower one relative to the new last key.
            self.last = min;
            self.occupied &= !(1 << (b - 1));
            let mut moved = std::mem::take(&mut self.buckets[b]);
            for key in moved.drain(..) {
                debug_assert!(bucket_of(key.order(), min) < b);
                self.place(key);
            }
            // An emptied bucket keeps a small room; a large one is freed: every bucket kept
            // the most it ever held, several times the keys pending (70 of 120 MiB of queue at
            // 5,000 Algorand users).
            if moved.capacity() <= BUCKET_KEPT_MAX {
                self.buckets[b] = moved;
            }
        }
        let key = self.buckets[0].pop().expect("the least key is in bucket 0");
        debug_assert!(self.buckets[0].is_empty(), "seqs are unique");
        if key.at > limit.0 {
            self.buckets[0].push(key);
            return None;
        }
        self.len -= 1;
        let event = self.slab[key.slot as usize].take().expect("queued slot is full");
        self.free.push(key.slot);
        Some((Time(key.at), key.seq, event))
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
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

    /// A bucket emptied by a pop gives its room back past `BUCKET_KEPT_MAX` keys (kept, the
    /// bucket that once held all 10,000 keys below would still hold room for them).
    #[test]
    fn an_emptied_bucket_frees_a_large_room() {
        let mut q = EventQueue::default();
        for i in 0..10_000u64 {
            q.push(Time(1_000_000 + i * 7), i);
        }
        let peak: usize = q.buckets.iter().map(Vec::capacity).sum();
        assert!(peak >= 10_000);
        let popped = std::iter::from_fn(|| q.pop_until(Time::MAX)).count();
        assert_eq!(popped, 10_000);
        assert!(q.buckets.iter().all(|b| b.capacity() <= BUCKET_KEPT_MAX), "an emptied bucket kept its room");
    }

    #[test]
    fn pops_in_the_order_of_a_binary_heap_of_time_and_seq() {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let (mut q, mut reference) = (EventQueue::default(), BinaryHeap::new());
        let (mut now, mut seq, mut state) = (0u64, 0u64, 7u64);
        let mut popped = 0;
        for round in 0..20_000u64 {
            state = crate::digest::splitmix64(state);
            // Bursts of pushes at now, near now and far ahead, pops in between, limits that stop short.
            for k in 0..state % 4 {
                let at = now + [0, 1, state >> 40, 1 << (state % 50)][k as usize % 4];
                q.push(Time(at), seq);
                reference.push(Reverse((at, seq)));
                seq += 1;
            }
            let limit = if round % 7 == 0 { now + (state >> 50) } else { u64::MAX };
            for _ in 0..state % 5 {
                let expected = reference.peek().map(|&Reverse(k)| k).filter(|&(at, _)| at <= limit);
                let got = q.pop_until(Time(limit)).map(|(at, s, e)| (at.0, s, e));
                assert_eq!(got.map(|(at, s, _)| (at, s)), expected);
                if let Some((at, s, e)) = got {
                    assert_eq!(s, e, "the payload of that key");
                    reference.pop();
                    now = at;
                    popped += 1;
                }
            }
            assert_eq!(q.len(), reference.len());
        }
        assert!(popped > 10_000, "{popped}");
    }
}
