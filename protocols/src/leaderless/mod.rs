//! Leaderless BFT state-machine replication (BLSMR): dependency discovery, per-command consensus, execution.
//!
//! Execution is a function of the committed dependency graph: stable commands run by strongly
//! connected components in a canonical order (`exec`), and each source's transfers form a chain
//! in nonce order (an edge the executor adds from nonce k to nonce k-1), so the ledger settles
//! every transfer at once and the same way at every correct replica; it never holds a transfer
//! for a nonce gap (that made correct replicas diverge: issue 11, bug 2). The monitor checks the
//! design note's protocol invariants and that every correct replica settles each transaction
//! the same way (`monitor`); the ledger asserts its own arithmetic (supply, nonces).

pub mod exec;
pub mod membership;
pub mod monitor;
pub mod replica;
pub mod types;

pub use membership::{Membership, Variant};
pub use monitor::LeaderlessMonitor;
pub use replica::Leaderless;
pub use types::{Behavior, LeaderlessConfig, PlantedBug};
