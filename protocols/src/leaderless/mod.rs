//! Leaderless BFT state-machine replication (BLSMR): dependency discovery, per-command consensus, execution.
//!
//! Execution is a function of the committed dependency graph: stable commands run by strongly
//! connected components in a canonical order (`exec`), and each source's transfers form a chain
//! in nonce order (an edge the executor adds from nonce k to nonce k-1), so the ledger settles
//! every transfer at once and the same way at every correct replica; it never holds a transfer
//! for a nonce gap (that made correct replicas diverge: issue 11, bug 2). The monitor checks the
//! design note's protocol invariants and that every correct replica settles each transaction
//! the same way (`monitor`); the ledger asserts its own arithmetic (supply, nonces).
//!
//! Departures from the design note (`leaderless-bft.md`), and why:
//! - The note makes a command's coordinator the leader of view 0 of its consensus and
//!   `(idx(coordinator) + v) mod n` the leader of view v. But "the coordinator" is not common
//!   knowledge: a client may send to several replicas (`send_to = "all"`, or a retry), and a
//!   replica that learns of a command through someone else's message cannot tell who the
//!   client chose (a Byzantine replica could also name itself, or anyone). Replicas that
//!   believed in different coordinators followed different leaders, and no view gathered a
//!   quorum (issue 11, bug 3). Here the leader of view v >= 1 is
//!   `(hash(command id) + v) mod n` (`Membership::leader`): a function of the client-signed
//!   id alone, the same at every correct replica whatever it heard first. View 0 has no
//!   single leader: every replica a client sent the command to runs the discovery and, on
//!   the slow path, proposes in view 0 with the DDS quorum of signed replies as proof.
//!   Several view-0 proposals are safe: a correct replica accepts one proposal per view and
//!   votes only for it, so two values cannot both gather a prepare quorum in one view, and
//!   the view change carries the highest prepared value on (the PBFT argument needs one
//!   value per view, not one proposer). Fault-free, several coordinators that heard all n
//!   replies propose the same value (the threshold union of the same replies), so their
//!   proposals do not even compete; when they differ (a reply missing, a Byzantine replica
//!   proposing a different justified value), view 0 may not decide and view 1's derived
//!   leader finishes, at the cost of one view timeout. Messages name no coordinator.
//! - The EPaxos variant proves each dependency with its client's signature; the simulator's
//!   stand-in is "the id was submitted" (ids are dense from 0), or a payload the replica
//!   verified. Byzantine replicas invent ids in a space no client signs in (the top bit set,
//!   `types::invented_id`), so an invented dependency never passes that proof: the old
//!   `max_seen + 1000 + k` became a real command at high rates (issue 11, item 12).

pub mod exec;
pub mod membership;
pub mod monitor;
pub mod replica;
pub mod types;

pub use membership::{Membership, Variant};
pub use monitor::LeaderlessMonitor;
pub use replica::Leaderless;
pub use types::{Behavior, LeaderlessConfig, PlantedBug};
