//! Identifiers and the transaction record every protocol carries.

use std::fmt;

/// A node of the simulation: replicas are 0..n_replicas, clients come after them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

impl NodeId {
    pub fn idx(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

/// A transaction's id: dense, assigned in submission order from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxId(pub u64);

impl TxId {
    pub fn idx(self) -> usize {
        self.0 as usize
    }
}

/// An account of the ledger the workload drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(pub u32);

/// A client's transaction: a transfer between two accounts. Small and `Copy` so that batches
/// of thousands stay cheap; the payload bytes are only counted (`size_bytes`), never stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tx {
    pub id: TxId,
    /// The client node that submitted it and awaits the replies.
    pub client: NodeId,
    pub from: AccountId,
    pub to: AccountId,
    pub amount: u64,
    /// The source account's sequence number, from 1, assigned in submission order.
    pub nonce: u64,
    pub size_bytes: u32,
}

/// A replica's answer to a client about one transaction (0 = applied).
pub type TxResult = u32;
