//! A user's transaction pool: the gossiped batches it holds (pointers, shared with every other
//! user that holds them), and the set of transactions already in its chain as a window over
//! transaction ids (everything below `floor`, plus a bitmap above it), so that neither grows
//! with the length of the run.

use std::collections::VecDeque;
use std::rc::Rc;

use sim_core::{Tx, TxId};

use super::types::TxBatch;

/// The ids a window keeps above its floor, at most (8 KiB of bits). A transaction that never
/// commits (lost with a silent user) would otherwise pin the floor and let the window grow with
/// the run; past this many newer ids it counts as done.
const WINDOW_IDS_MAX: usize = 1 << 16;

/// A set of transaction ids that fills roughly in id order.
#[derive(Debug, Default)]
pub struct TxWindow {
    /// Every id below is in the set.
    floor: u64,
    /// Bit i of word w: id floor + 64 w + i.
    words: VecDeque<u64>,
    len: u64,
}

impl TxWindow {
    pub fn contains(&self, id: TxId) -> bool {
        if id.0 < self.floor {
            return true;
        }
        let off = id.0 - self.floor;
        self.words.get((off / 64) as usize).is_some_and(|w| w & (1 << (off % 64)) != 0)
    }

    /// Adds `id`; false if it was there.
    pub fn insert(&mut self, id: TxId) -> bool {
        if self.contains(id) {
            return false;
        }
        let off = id.0 - self.floor;
        let w = (off / 64) as usize;
        if self.words.len() <= w {
            self.words.resize(w + 1, 0);
        }
        self.words[w] |= 1 << (off % 64);
        self.len += 1;
        while self.words.front() == Some(&u64::MAX) || self.words.len() > WINDOW_IDS_MAX / 64 {
            self.words.pop_front();
            self.floor += 64;
        }
        true
    }

    #[cfg(test)]
    fn len(&self) -> u64 {
        self.len
    }
}

#[derive(Debug, Default)]
pub struct Pool {
    /// Sorted by key, which grows roughly with time: a batch mostly lands at the end. A
    /// sorted array, not a map, because a user holds thousands of batches between rounds
    /// under bandwidth caps, and a map's nodes cost twice the bytes per batch.
    batches: Vec<((u64, u32), Rc<TxBatch>)>,
    /// In the chain (decided), or handed out in a block this user proposed.
    pub chained: TxWindow,
}

impl Pool {
    /// Keeps `batch` in user `me`'s pool unless it is known or holds nothing new; true if it
    /// was kept. A copy heard again is refused by the batch's holder bit, with no lookup: a
    /// batch once kept and since pruned has every transaction in the chain, which only grows,
    /// so it would be refused anyway. The lookup stays for a batch never held here (another
    /// batch under the same key).
    pub fn offer(&mut self, me: u32, batch: &Rc<TxBatch>) -> bool {
        if batch.held_by(me) || batch.txs.iter().all(|t| self.chained.contains(t.id)) {
            return false;
        }
        let Err(at) = self.search(batch.key) else { return false };
        assert!(batch.hold(me), "checked");
        self.batches.insert(at, (batch.key, Rc::clone(batch)));
        true
    }

    /// Where `key` is (`Ok`) or goes (`Err`), as `binary_search` answers, looking from the end
    /// in doubling steps first: a new batch's key is mostly among the newest, whose entries
    /// are in the cache, where a search from the middle misses it on every probe.
    fn search(&self, key: (u64, u32)) -> Result<usize, usize> {
        let n = self.batches.len();
        let mut step = 1;
        while step <= n && self.batches[n - step].0 > key {
            step *= 2;
        }
        // Every entry from `hi` on is above `key`; `lo` is 0 or an entry not above it.
        let (lo, hi) = (n.saturating_sub(step), n - step / 2);
        match self.batches[lo..hi].binary_search_by_key(&key, |(k, _)| *k) {
            Ok(i) => Ok(lo + i),
            Err(i) => Err(lo + i),
        }
    }

    pub fn batches(&self) -> usize {
        self.batches.len()
    }

    /// Up to `max_bytes` of transactions not in the chain, oldest batch first.
    pub fn take(&self, max_bytes: u32) -> Vec<Tx> {
        let mut out = Vec::new();
        let mut bytes = 0u32;
        let mut picked = TxWindow::default();
        for (_, batch) in &self.batches {
            for tx in &batch.txs {
                if self.chained.contains(tx.id) || picked.contains(tx.id) {
                    continue;
                }
                if bytes.saturating_add(tx.size_bytes) > max_bytes {
                    return out;
                }
                bytes += tx.size_bytes;
                picked.insert(tx.id);
                out.push(*tx);
            }
        }
        out
    }

    /// Drops batches whose transactions are all in the chain, and the room of a pool that
    /// emptied out.
    pub fn prune(&mut self) {
        let chained = &self.chained;
        self.batches.retain(|(_, b)| b.txs.iter().any(|t| !chained.contains(t.id)));
        if self.batches.len() < self.batches.capacity() / 4 {
            self.batches.shrink_to(self.batches.len() * 2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_slides_and_remembers_out_of_order_ids() {
        let mut w = TxWindow::default();
        for id in (0..200).rev().filter(|i| i % 7 != 3) {
            assert!(w.insert(TxId(id)));
        }
        assert!(!w.insert(TxId(5)), "already there");
        assert!(!w.contains(TxId(3)) && w.contains(TxId(4)) && !w.contains(TxId(1000)));
        for id in (0..200).filter(|i| i % 7 == 3) {
            w.insert(TxId(id));
        }
        assert_eq!((w.floor, w.len()), (192, 200), "full words fold into the floor");
        assert!(w.contains(TxId(150)) && w.contains(TxId(199)) && !w.contains(TxId(200)));
    }

    fn tx(id: u64) -> Tx {
        let (from, to) = (sim_core::AccountId(0), sim_core::AccountId(1));
        Tx { id: TxId(id), client: sim_core::NodeId(9), from, to, amount: 1, nonce: id + 1, size_bytes: 100 }
    }

    #[test]
    fn a_pool_keeps_a_batch_once_and_each_user_its_own() {
        let batch = Rc::new(TxBatch::new(3, vec![tx(10), tx(11)], 130));
        let (mut mine, mut theirs) = (Pool::default(), Pool::default());
        assert!(mine.offer(7, &batch) && !mine.offer(7, &batch), "a copy heard again is refused");
        assert!(theirs.offer(129, &batch), "another user's bit is its own");
        let same_key = Rc::new(TxBatch::new(3, vec![tx(10), tx(12)], 130));
        assert!(!mine.offer(7, &same_key), "another batch under a key held is refused");
        mine.chained.insert(TxId(10));
        mine.chained.insert(TxId(11));
        mine.prune();
        assert_eq!(mine.batches(), 0);
        assert!(!mine.offer(7, &batch), "pruned: every transaction is in the chain");
        assert!(mine.offer(7, &same_key), "its key is free again and it holds a new transaction");
        assert_eq!(mine.take(1000), vec![tx(12)]);
    }

    #[test]
    fn the_search_from_the_end_answers_as_a_binary_search() {
        let mut pool = Pool::default();
        let keys: Vec<(u64, u32)> = (0..300u64).map(|i| (i * 3 / 2, (i % 3) as u32)).collect();
        for (i, &key) in keys.iter().enumerate() {
            pool.batches.push((key, Rc::new(TxBatch::new(key.1, vec![tx(i as u64)], 3))));
        }
        for probe in (0..460u64).flat_map(|id| (0..4).map(move |o| (id, o))) {
            for len in [0, 1, 2, 7, 64, 300] {
                let shorter = Pool { batches: pool.batches[..len].to_vec(), chained: TxWindow::default() };
                assert_eq!(shorter.search(probe), keys[..len].binary_search(&probe), "{probe:?} in {len}");
            }
        }
    }

    #[test]
    fn an_id_that_never_comes_does_not_pin_the_window() {
        let mut w = TxWindow::default();
        let far = WINDOW_IDS_MAX as u64 * 3;
        for id in 1..far {
            w.insert(TxId(id)); // id 0 never commits
        }
        assert!(w.words.len() <= WINDOW_IDS_MAX / 64, "{} words", w.words.len());
        assert!(w.contains(TxId(0)), "far behind the newest ids, it counts as done");
        assert!(w.contains(TxId(far - 1)) && !w.contains(TxId(far)));
    }
}
