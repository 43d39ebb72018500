//! Leaderless BFT state-machine replication (BLSMR): dependency discovery, per-command consensus, execution.

pub mod exec;
pub mod membership;
pub mod monitor;
pub mod replica;
pub mod types;

pub use membership::{Membership, Variant};
pub use monitor::LeaderlessMonitor;
pub use replica::Leaderless;
pub use types::{Behavior, LeaderlessConfig, PlantedBug};
