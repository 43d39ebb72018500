//! Pieces shared by the protocols: quorum arithmetic and vote collection.

pub mod quorum;
