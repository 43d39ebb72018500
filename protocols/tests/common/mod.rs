//! What the HotStuff integration tests share: a steady open-loop workload.

use sim_core::workload::{Arrival, Workload};
use sim_core::{AccountId, Time};

/// Arrivals at a constant rate, round-robin over clients.
pub struct Steady {
    pub gap_ns: u64,
    pub next: u64,
    pub until: u64,
    pub clients: u32,
    pub count: u64,
}

impl Workload for Steady {
    fn next_arrival(&mut self) -> Option<Arrival> {
        if self.next >= self.until {
            return None;
        }
        let a = Arrival {
            at: Time(self.next),
            client_idx: (self.count % self.clients as u64) as u32,
            from: AccountId(0),
            to: AccountId(1),
            amount: 1,
            size_bytes: 0,
        };
        self.count += 1;
        self.next += self.gap_ns;
        Some(a)
    }
}
