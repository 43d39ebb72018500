//! A user's transaction pool: the gossiped batches it holds (pointers, shared with every other
//! user that holds them), and the set of transactions already in its chain as a window over
//! transaction ids (everything below `floor`, plus a bitmap above it), so that neither grows
//! with the length of the run.

use std::collections::{BTreeMap, VecDeque};
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
    batches: BTreeMap<(u64, u32), Rc<TxBatch>>,
    /// In the chain (decided), or handed out in a block this user proposed.
    pub chained: TxWindow,
}

impl Pool {
    /// Keeps `batch` unless it is known or holds nothing new; true if it was kept.
    pub fn offer(&mut self, batch: &Rc<TxBatch>) -> bool {
        if self.batches.contains_key(&batch.key) || batch.txs.iter().all(|t| self.chained.contains(t.id)) {
            return false;
        }
        self.batches.insert(batch.key, Rc::clone(batch));
        true
    }

    pub fn batches(&self) -> usize {
        self.batches.len()
    }

    /// Up to `max_bytes` of transactions not in the chain, oldest batch first.
    pub fn take(&self, max_bytes: u32) -> Vec<Tx> {
        let mut out = Vec::new();
        let mut bytes = 0u32;
        let mut picked = TxWindow::default();
        for batch in self.batches.values() {
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

    /// Drops batches whose transactions are all in the chain.
    pub fn prune(&mut self) {
        let chained = &self.chained;
        self.batches.retain(|_, b| b.txs.iter().any(|t| !chained.contains(t.id)));
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
