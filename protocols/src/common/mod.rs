//! Pieces shared by the protocols: quorum arithmetic, vote collection, the ledger under a total
//! order, the per-transaction result check and the Narwhal-style mempool.

pub mod log_ledger;
pub mod mempool;
pub mod quorum;
pub mod results;
