//! Pieces shared by the protocols: quorum arithmetic, vote collection, the ledger under a total
//! order and the per-transaction result check.

pub mod log_ledger;
pub mod quorum;
pub mod results;
