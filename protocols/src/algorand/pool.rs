//! A user's transaction pool: the gossiped batches it holds (its bit on the run's one shelf of
//! batches, shared with every other user that holds them), and the set of transactions already
//! in its chain as a window over transaction ids (everything below `floor`, plus a bitmap
//! above it), so that neither grows with the length of the run.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ops::Range;
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

/// A shelf entry: the batch's key beside it, so a search reads no batch.
type Entry = ((u64, u32), Rc<TxBatch>);

/// The gossiped batches that some user's pool lists, one list for the whole run (in `World`),
/// sorted by key. A user's pool is the batches here whose `pooled` bit is its own: every user
/// holds nearly every batch between rounds, so one list and two bits per user and batch cost a
/// fraction of a list per user (24 bytes per user and batch, 190 MB of a 310 MB peak at 1,000
/// users). A batch leaves the shelf when the last pool listing it drops it.
#[derive(Debug, Default)]
pub struct Shelf {
    /// Keys grow roughly with time: a batch mostly lands at the end. Two batches may share a
    /// key (a transaction resent to the same user), never in the same pool.
    batches: RefCell<Vec<Entry>>,
}

impl Shelf {
    /// The batches on the shelf (in some pool).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.batches.borrow().len()
    }
}

/// The entries under `key`, looking from the end in doubling steps first: a new batch's key is
/// mostly among the newest, whose entries are in the cache, where a search from the middle
/// misses it on every probe.
fn key_range(list: &[Entry], key: (u64, u32)) -> Range<usize> {
    let n = list.len();
    let mut step = 1;
    while step <= n && list[n - step].0 >= key {
        step *= 2;
    }
    // Every entry from `n - step / 2` on is at or above `key`; `from` is 0 or one below it.
    let from = n.saturating_sub(step);
    let lo = from + list[from..].partition_point(|(k, _)| *k < key);
    let hi = lo + list[lo..].iter().take_while(|(k, _)| *k == key).count();
    lo..hi
}

/// One user's pool: its batches are on the run's `Shelf`, marked by its bit; it keeps only
/// which transactions are in its chain.
#[derive(Debug, Default)]
pub struct Pool {
    /// In the chain (decided), or handed out in a block this user proposed.
    pub chained: TxWindow,
}

impl Pool {
    /// Keeps `batch` in user `me`'s pool unless it is known or holds nothing new; true if it
    /// was kept. A copy heard again is refused by the batch's holder bit, with no lookup: a
    /// batch once kept and since pruned has every transaction in the chain, which only grows,
    /// so it would be refused anyway. The lookup stays for a batch never held here (another
    /// batch under the same key).
    pub fn offer(&mut self, shelf: &Shelf, me: u32, batch: &Rc<TxBatch>) -> bool {
        if batch.held_by(me) || batch.txs.iter().all(|t| self.chained.contains(t.id)) {
            return false;
        }
        let mut list = shelf.batches.borrow_mut();
        let range = key_range(&list, batch.key);
        if list[range.clone()].iter().any(|(_, b)| b.pooled_by(me)) {
            return false;
        }
        assert!(batch.hold(me), "checked");
        if batch.pool(me) {
            list.insert(range.end, (batch.key, Rc::clone(batch)));
        }
        true
    }

    /// How many batches `me`'s pool lists.
    pub fn batches(&self, shelf: &Shelf, me: u32) -> usize {
        shelf.batches.borrow().iter().filter(|(_, b)| b.pooled_by(me)).count()
    }

    /// Up to `max_bytes` of transactions of `me`'s pool not in the chain, oldest batch first.
    pub fn take(&self, shelf: &Shelf, me: u32, max_bytes: u32) -> Vec<Tx> {
        let mut out = Vec::new();
        let mut bytes = 0u32;
        let mut picked = TxWindow::default();
        for (_, batch) in shelf.batches.borrow().iter().filter(|(_, b)| b.pooled_by(me)) {
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

    /// Drops from `me`'s pool the batches whose transactions are all in its chain; a batch no
    /// pool lists any more leaves the shelf, and so does the room of a shelf that emptied out.
    pub fn prune(&mut self, shelf: &Shelf, me: u32) {
        let chained = &self.chained;
        let mut list = shelf.batches.borrow_mut();
        list.retain(|(_, b)| {
            if !b.pooled_by(me) || b.txs.iter().any(|t| !chained.contains(t.id)) {
                return true;
            }
            !b.unpool(me)
        });
        if list.len() < list.capacity() / 4 {
            let len = list.len();
            list.shrink_to(len * 2);
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
        let shelf = Shelf::default();
        let batch = Rc::new(TxBatch::new(3, vec![tx(10), tx(11)], 130));
        let (mut mine, mut theirs) = (Pool::default(), Pool::default());
        assert!(mine.offer(&shelf, 7, &batch) && !mine.offer(&shelf, 7, &batch), "a copy heard again is refused");
        assert!(theirs.offer(&shelf, 129, &batch), "another user's bit is its own");
        assert_eq!(shelf.len(), 1, "one entry for both pools");
        let same_key = Rc::new(TxBatch::new(3, vec![tx(10), tx(12)], 130));
        assert!(!mine.offer(&shelf, 7, &same_key), "another batch under a key held is refused");
        mine.chained.insert(TxId(10));
        mine.chained.insert(TxId(11));
        mine.prune(&shelf, 7);
        assert_eq!(mine.batches(&shelf, 7), 0);
        assert!(!mine.offer(&shelf, 7, &batch), "pruned: every transaction is in the chain");
        assert!(mine.offer(&shelf, 7, &same_key), "its key is free again and it holds a new transaction");
        assert_eq!(mine.take(&shelf, 7, 1000), vec![tx(12)]);
        assert_eq!(theirs.take(&shelf, 129, 1000), vec![tx(10), tx(11)], "the other pool still lists it");
    }

    /// The shelf drops a batch only when the last pool listing it prunes it (dropping it at
    /// the first prune, as a per-user list would, empties the other user's pool: its `take`
    /// returns nothing and this test fails).
    #[test]
    fn a_batch_leaves_the_shelf_with_the_last_pool_that_lists_it() {
        let shelf = Shelf::default();
        let (a, b) = (Rc::new(TxBatch::new(1, vec![tx(1)], 8)), Rc::new(TxBatch::new(2, vec![tx(2)], 8)));
        let (mut first, mut second) = (Pool::default(), Pool::default());
        for (pool, me) in [(&mut first, 0), (&mut second, 5)] {
            assert!(pool.offer(&shelf, me, &a) && pool.offer(&shelf, me, &b));
            pool.chained.insert(TxId(1));
        }
        first.prune(&shelf, 0);
        assert_eq!((shelf.len(), first.batches(&shelf, 0), second.batches(&shelf, 5)), (2, 1, 2));
        assert_eq!(second.take(&shelf, 5, 1000), vec![tx(2)], "chained transactions are skipped, not gone");
        second.prune(&shelf, 5);
        assert_eq!((shelf.len(), second.batches(&shelf, 5)), (1, 1), "no pool lists the first batch");
        assert!(!a.pooled_by(0) && !a.pooled_by(5) && a.held_by(0), "held, so a copy heard again is refused");
        first.chained.insert(TxId(2));
        first.prune(&shelf, 0);
        assert_eq!(shelf.len(), 1, "the second pool still lists the second batch");
        assert!(first.offer(&shelf, 3, &Rc::new(TxBatch::new(4, vec![tx(3)], 8))), "another user, a new batch");
    }

    #[test]
    fn the_key_range_from_the_end_is_the_equal_range() {
        let keys: Vec<(u64, u32)> = (0..300u64).map(|i| (i / 2 * 3, (i % 4) as u32 / 3)).collect();
        let list: Vec<Entry> =
            keys.iter().enumerate().map(|(i, &k)| (k, Rc::new(TxBatch::new(k.1, vec![tx(i as u64)], 3)))).collect();
        for probe in (0..460u64).flat_map(|id| (0..2).map(move |o| (id, o))) {
            for len in [0, 1, 2, 7, 64, 300] {
                let lo = keys[..len].iter().filter(|&&k| k < probe).count();
                let hi = keys[..len].iter().filter(|&&k| k <= probe).count();
                assert_eq!(key_range(&list[..len], probe), lo..hi, "{probe:?} in {len}");
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
