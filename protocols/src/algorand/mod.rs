//! An Algorand-style baseline (Gilad et al., SOSP 2017): cryptographic sortition weighted by
//! stake, highest-priority block proposals, BA* (two reduction steps, BinaryBA* in three-step
//! loops with a common coin, a FINAL step), over a gossip graph of relays or random peers.
//!
//! Departures from the paper, and why:
//! - Gossip is batched: a user gathers what it must relay for `gossip_batch` and sends it as
//!   one message per link, skipping the link every item came from. Items (votes, blocks,
//!   transaction batches) are shared by pointer. This keeps a run at one event per link and
//!   batch, not one per vote and user, which is what lets 10,000 users run in one process.
//! - A round ends when BinaryBA* returns; FINAL votes are counted in the background. A round
//!   whose FINAL votes reach their threshold commits itself and every tentative round before
//!   it (the log checker then sees one commit per round, in order, at every user).
//! - The round seed hashes the previous seed with the decided block (no look-back); the
//!   sortition of every step uses it.
//! - Transactions are checked (client signature) when they enter a user's pool, not again in
//!   blocks; the ledger is not executed by users (each reply is "applied"), as in HotStuff.
//! - A user that decides a block it never received fetches it from its neighbours, who ask
//!   theirs (relays) once per block.
//! - A user that hears votes two or more rounds ahead (it was down, or cut off) asks the
//!   neighbour that relayed them for the rounds it decided since (the last 64) and takes them
//!   as far as they extend its own chain. They commit only once a later round reaches its FINAL
//!   threshold on that chain, so a lying neighbour can stall the user but not make it commit a
//!   block the committee did not certify. (The paper's recovery carries certificates instead.)

mod config;
mod pool;
mod replica;
mod sortition;
mod types;
mod world;

pub use config::{AlgorandConfig, Behavior, Committee, StakeDistribution, Topology};
pub use replica::Algorand;
pub use types::{Msg, Timer};
pub use world::World;
