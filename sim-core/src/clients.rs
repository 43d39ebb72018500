//! How clients pace their transactions (open or closed loop) and what a replica does with
//! client requests past its bound (drop or push back): the configuration and the per-client
//! and per-run bookkeeping the engine keeps for them.

use crate::time::{Span, Time};

/// Clients and replica request queues; `ClientModel::OPEN` is the open loop with unbounded
/// queues, byzsim's behaviour before closed loops existed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientModel {
    /// `None`: open loop, each transaction submitted at its workload arrival time.
    pub closed: Option<ClosedLoop>,
    /// `None`: a replica holds every request that waits for a core.
    pub queue: Option<RequestBound>,
}

impl ClientModel {
    pub const OPEN: ClientModel = ClientModel { closed: None, queue: None };
}

/// A closed loop: each client keeps `outstanding` transactions in flight, submitting the next
/// one `think` after one confirms, while the virtual time is before `until`. The transactions'
/// contents come from the workload in order; their arrival times are ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClosedLoop {
    pub outstanding: u32,
    pub think: Span,
    /// No client submits at or after it (the scenario's `duration_s`).
    pub until: Time,
    /// Test-only planted bug: a confirmation lets its client submit two transactions, not one.
    #[doc(hidden)]
    pub planted_double_submit: bool,
}

/// The most client requests a replica holds waiting for a core, and what it does with one more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestBound {
    pub limit: u32,
    pub overload: Overload,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overload {
    /// The request is dropped silently; only the client's retry timer, if any, resends it.
    Drop,
    /// The replica answers at once with a busy reply; the client resends to the same replica
    /// after `backoff`, doubled at each push-back of the same transaction up to `backoff_max`.
    PushBack { backoff: Span, backoff_max: Span },
}

impl Overload {
    /// How long a client waits before resending a transaction pushed back `times` times (>= 1).
    pub fn backoff(&self, times: u32) -> Span {
        let Overload::PushBack { backoff, backoff_max } = *self else { unreachable!("only push-backs back off") };
        assert!(times >= 1, "a back-off follows a push-back");
        let doubled = backoff.0.saturating_mul(1u64 << (times - 1).min(32));
        Span(doubled.min(backoff_max.0))
    }
}

/// What the clients and the request bound did in a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Requests a replica dropped because its request queue was full.
    pub dropped: u64,
    /// Requests a replica pushed back with a busy reply.
    pub pushed_back: u64,
    /// The most requests any replica held waiting for a core at once.
    pub max_requests_waiting: u64,
}

/// Transactions in flight per closed-loop client: O(clients) state.
#[derive(Clone, Debug)]
pub struct InFlight {
    outstanding_max: u32,
    per_client: Vec<u32>,
}

impl InFlight {
    pub fn new(n_clients: usize, outstanding_max: u32) -> InFlight {
        assert!(outstanding_max >= 1, "a closed loop keeps at least one transaction in flight");
        InFlight { outstanding_max, per_client: vec![0; n_clients] }
    }

    /// Client `idx` submitted a transaction.
    pub fn submitted(&mut self, idx: u32) {
        let n = &mut self.per_client[idx as usize];
        *n += 1;
        assert!(
            *n <= self.outstanding_max,
            "closed-loop client {idx} has {n} transactions in flight, above its outstanding cap"
        );
    }

    /// Client `idx` confirmed a transaction.
    pub fn confirmed(&mut self, idx: u32) {
        let n = &mut self.per_client[idx as usize];
        assert!(*n >= 1, "closed-loop client {idx} confirmed a transaction it did not have in flight");
        *n -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let o = Overload::PushBack { backoff: Span::from_millis(10), backoff_max: Span::from_millis(50) };
        let waits: Vec<u64> = (1..=5).map(|t| o.backoff(t).0 / 1_000_000).collect();
        assert_eq!(waits, [10, 20, 40, 50, 50]);
        assert_eq!(o.backoff(200), Span::from_millis(50));
    }

    #[test]
    #[should_panic(expected = "above its outstanding cap")]
    fn in_flight_refuses_more_than_its_cap() {
        let mut f = InFlight::new(1, 2);
        f.submitted(0);
        f.submitted(0);
        f.submitted(0);
    }
}
