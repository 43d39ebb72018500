//! The CPU model: each replica is a queue served by `cores` servers. Handling an input costs a
//! base amount, an amount per KiB received, an amount per transaction of a block the protocol
//! builds or takes in (`Ctx::charge_txs`), and the crypto operations the handler performs
//! (charged through `Ctx`); inputs wait while every core is busy, and what a handler sends
//! leaves when it finishes. A replica may split its cores into two pools (`Pool`): one for
//! client requests and one for consensus, each its own queue.
//!
//! The base amount has two prices: `request_base` for a client request delivered to the replica
//! (`on_request`), `base` for every other input, protocol messages and timers. A protocol message
//! that a protocol routes to the request pool (`Message::pool`, payload batches between replicas)
//! is still a protocol message and pays `base`: which price applies is decided by what the input
//! is, not by the pool it runs on. Without a `request_base` a request pays `base`, as before.

use crate::time::{Span, Time};

/// What each crypto operation costs one core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CryptoCosts {
    pub sign: Span,
    pub verify: Span,
    /// Per signature folded into an aggregate.
    pub aggregate_per_sig: Span,
    /// Verifying an aggregate of signatures on one message (flat in the number of signers).
    pub verify_aggregate: Span,
    /// Verifying a client's signature on a transaction (clients sign with Ed25519-class keys,
    /// not BLS).
    pub verify_client: Span,
}

impl CryptoCosts {
    pub const FREE: CryptoCosts = CryptoCosts {
        sign: Span::ZERO,
        verify: Span::ZERO,
        aggregate_per_sig: Span::ZERO,
        verify_aggregate: Span::ZERO,
        verify_client: Span::ZERO,
    };

    /// BLS12-381 (min_pk) with blst on a 2-core x86 machine: the default profile of the design
    /// brief (sign 0.37 ms, verify 1.04 ms, aggregate 1.3 us per signature, aggregate-verify of
    /// one message about 1.1 ms), with clients' Ed25519 signatures at 50 us to verify.
    pub const BLST_X86_2CORE: CryptoCosts = CryptoCosts {
        sign: Span::from_micros(370),
        verify: Span::from_micros(1040),
        aggregate_per_sig: Span::from_nanos(1300),
        verify_aggregate: Span::from_micros(1100),
        verify_client: Span::from_micros(50),
    };
}

/// Which of a replica's CPU pools runs an input. Without a request pool (`request_cores` 0)
/// every input runs on the consensus pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pool {
    /// Protocol messages and timers.
    Consensus,
    /// Client requests, and the messages a protocol puts there (`Message::pool`).
    Request,
}

impl Pool {
    /// Index of the pool in per-pool arrays.
    pub fn idx(self) -> usize {
        match self {
            Pool::Consensus => 0,
            Pool::Request => 1,
        }
    }
}

/// A replica's processing power.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuConfig {
    /// Servers of the consensus queue; 0 means unlimited: handlers take no time at all.
    pub cores: u32,
    /// Servers of a separate request pool; 0: requests share the consensus pool.
    pub request_cores: u32,
    /// Cost of handling a protocol message or a timer, before the handler runs.
    pub base: Span,
    /// Cost of handling a client request (`on_request`), before the handler runs, in place of
    /// `base`; `None`: the same as `base`. Messages between replicas pay `base`, even those a
    /// protocol puts on the request pool.
    pub request_base: Option<Span>,
    /// Cost per KiB of a received message (deserialization, hashing).
    pub per_kib: Span,
    /// Cost per transaction of a block a protocol builds or takes in (encoding, decoding and
    /// hashing each entry), charged by the protocol through `Ctx::charge_txs`; zero by default.
    pub per_tx: Span,
    pub crypto: CryptoCosts,
    /// Test-only planted mistake: requests run on the consensus pool even when the replica has
    /// a request pool (the pool tests must notice).
    #[doc(hidden)]
    pub planted_requests_on_consensus: bool,
}

impl CpuConfig {
    /// No CPU model: every handler is instantaneous (the closed-form setting).
    pub const UNLIMITED: CpuConfig = CpuConfig {
        cores: 0,
        request_cores: 0,
        base: Span::ZERO,
        request_base: None,
        per_kib: Span::ZERO,
        per_tx: Span::ZERO,
        crypto: CryptoCosts::FREE,
        planted_requests_on_consensus: false,
    };

    pub fn is_unlimited(&self) -> bool {
        self.cores == 0
    }

    /// The pool an input asking for `wanted` runs on: `wanted` if the replica has a request
    /// pool, else the consensus pool.
    pub fn pool_for(&self, wanted: Pool) -> Pool {
        if self.request_cores == 0 { Pool::Consensus } else { wanted }
    }

    /// The servers of `pool` (0: unlimited).
    pub fn cores_of(&self, pool: Pool) -> u32 {
        match pool {
            Pool::Consensus => self.cores,
            Pool::Request => self.request_cores,
        }
    }

    /// The cost charged before the handler runs, for a protocol message of `size` bytes.
    pub fn input_cost(&self, size: u32) -> Span {
        self.base + self.size_cost(size)
    }

    /// The cost charged before the handler runs, for a client request of `size` bytes.
    pub fn request_cost(&self, size: u32) -> Span {
        self.request_base.unwrap_or(self.base) + self.size_cost(size)
    }

    fn size_cost(&self, size: u32) -> Span {
        Span((self.per_kib.0 as u128 * size as u128 / 1024) as u64)
    }
}

/// Recent busy time is kept for this many whole seconds before the current one.
pub const RECENT_WINDOW_S: u64 = 5;
const RECENT_BUCKETS: usize = RECENT_WINDOW_S as usize + 1;
const NS_PER_S: u64 = 1_000_000_000;

/// Busy time charged to a resource (a CPU, a link) in the last few seconds of virtual time,
/// by the second it was charged in: what tells an overloaded resource from a stuck protocol
/// when a run stops. O(1) per charge and a fixed 96 bytes per resource.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecentBusy {
    /// Per bucket: 1 + the second it counts (0: never used).
    second: [u64; RECENT_BUCKETS],
    busy_ns: [u64; RECENT_BUCKETS],
}

impl RecentBusy {
    /// Charges `busy` at `now` (work that may run on past `now`: a queue's backlog counts
    /// when it is charged, so a saturated resource shows 100% or more).
    pub fn add(&mut self, now: Time, busy: Span) {
        let sec = now.0 / NS_PER_S;
        let slot = (sec % RECENT_BUCKETS as u64) as usize;
        if self.second[slot] != sec + 1 {
            self.second[slot] = sec + 1;
            self.busy_ns[slot] = 0;
        }
        self.busy_ns[slot] = self.busy_ns[slot].saturating_add(busy.0);
    }

    /// (busy time charged, window length) over the window from the start of the second
    /// `RECENT_WINDOW_S` before `now`'s second up to `now`.
    pub fn window(&self, now: Time) -> (u64, u64) {
        let sec = now.0 / NS_PER_S;
        let first = sec.saturating_sub(RECENT_WINDOW_S);
        let busy_ns = (0..RECENT_BUCKETS)
            .filter(|&i| self.second[i] > first && self.second[i] <= sec + 1)
            .map(|i| self.busy_ns[i])
            .fold(0u64, u64::saturating_add);
        (busy_ns, now.0 - first * NS_PER_S)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_busy_forgets_what_left_the_window() {
        let s = |x: f64| Time::from_secs_f64(x);
        let mut r = RecentBusy::default();
        r.add(s(0.5), Span::from_millis(900)); // second 0: out of the window at 7.5 s
        r.add(s(3.2), Span::from_millis(400));
        r.add(s(7.1), Span::from_millis(100));
        r.add(s(7.4), Span::from_millis(100));
        assert_eq!(r.window(s(7.5)), (600_000_000, 5_500_000_000), "seconds 2 to 7");
        // A bucket reused by a later second starts from zero: 1.0 s has 6 s later's slot.
        r.add(s(9.0), Span::from_millis(50));
        assert_eq!(r.window(s(9.5)), (250_000_000, 5_500_000_000), "seconds 4 to 9");
        assert_eq!(RecentBusy::default().window(s(0.25)), (0, 250_000_000), "a run younger than the window");
    }
}
