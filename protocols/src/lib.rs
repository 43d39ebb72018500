//! The protocols byzsim simulates, each a sans-IO state machine driven through `sim_core::Ctx`.
//! Protocols never depend on each other; what they share lives in `common`.

pub mod algorand;
pub mod common;
pub mod hotstuff;
pub mod leaderless;
pub mod ledger;
