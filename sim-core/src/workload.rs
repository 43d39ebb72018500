//! The workload interface: a source of client transactions, pulled one at a time so that a
//! long run never holds its whole future in the event queue. An open loop submits each at its
//! time; a closed loop (`clients::ClosedLoop`) pulls the next one whenever a client may submit,
//! as its own transaction, and ignores its time and client.

use crate::ids::AccountId;
use crate::time::Time;

/// One transaction a client submits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrival {
    pub at: Time,
    /// Index among the clients (0..n_clients), not a node id.
    pub client_idx: u32,
    pub from: AccountId,
    pub to: AccountId,
    pub amount: u64,
    pub size_bytes: u32,
}

/// A source of arrivals in non-decreasing time order; `None` when it is exhausted.
pub trait Workload {
    fn next_arrival(&mut self) -> Option<Arrival>;
}

/// A fixed list of arrivals, for tests.
#[derive(Clone, Debug, Default)]
pub struct ListWorkload {
    arrivals: std::collections::VecDeque<Arrival>,
}

impl ListWorkload {
    pub fn new(arrivals: Vec<Arrival>) -> ListWorkload {
        assert!(arrivals.windows(2).all(|w| w[0].at <= w[1].at), "arrivals must be in time order");
        ListWorkload { arrivals: arrivals.into() }
    }
}

impl Workload for ListWorkload {
    fn next_arrival(&mut self) -> Option<Arrival> {
        self.arrivals.pop_front()
    }
}
