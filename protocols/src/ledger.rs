//! The ledger every protocol executes: balances and nonces per account, transfers applied
//! deterministically, and the conflict relations that say which transfers must be ordered.
//!
//! Every account exists from genesis with the same balance, so the state is "genesis, except
//! where a transfer touched it". The per-account storage grows on demand, and nothing
//! observable (balances, nonces, digest, supply) depends on how far it grew.
//!
//! Two ways to execute, for two kinds of order:
//! - `settle` (leaderless SMR, a partial order): applies at once; a nonce that is not the
//!   source's next one is a `BadNonce`. The executor makes each source's transfers a chain (a
//!   transfer runs after the one holding the previous nonce), so correct clients' transfers
//!   arrive here in nonce order. A transfer's result depends only on its source account, and
//!   every command that changes that account conflicts with it, so the result is the same at
//!   every replica whatever the interleaving of the others.
//! - `execute` (a total order only): a transfer ahead of its nonce is held until the gap
//!   fills. Deterministic when every replica sees one sequence; under a partial order it is not
//!   (a held transfer takes effect when an unrelated command fills the gap, so commands that
//!   do not conflict with that one see it applied at some replicas and not at others).
//!
//! Supply conservation and nonces 1, 2, 3... per account hold by construction; `apply` asserts
//! both (in release too: O(1) each), they are not protocol checks.

use std::collections::BTreeMap;

use sim_core::digest::{Fold, hash_words};
use sim_core::{AccountId, Tx, TxResult};

/// The source (and destination) of a reconfiguration command: not an account but a barrier that
/// conflicts with every command; executing it moves the membership to its next epoch and leaves
/// the ledger as it was.
pub const RECONFIGURE: AccountId = AccountId(u32::MAX);

/// True if `tx` is a reconfiguration command.
pub fn is_reconfiguration(tx: &Tx) -> bool {
    tx.from == RECONFIGURE
}

/// The balance every account holds at genesis unless a protocol's configuration says otherwise.
pub const GENESIS_BALANCE: u64 = 1_000_000;

/// What applying a transfer did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    Applied,
    /// The nonce is not the source account's last nonce + 1: rejected, no change.
    BadNonce,
    /// The source holds less than the amount: rejected; the nonce is used up, nothing else
    /// changes (as on Ethereum: a failed transfer does not block the account's later ones).
    InsufficientFunds,
}

impl Outcome {
    /// The result a replica sends the client: 0 applied, 1 bad nonce, 2 insufficient funds.
    pub fn code(self) -> TxResult {
        match self {
            Outcome::Applied => 0,
            Outcome::BadNonce => 1,
            Outcome::InsufficientFunds => 2,
        }
    }

    /// The inverse of `code`, for clients and monitors reading replies.
    pub fn from_code(code: TxResult) -> Outcome {
        match code {
            0 => Outcome::Applied,
            1 => Outcome::BadNonce,
            2 => Outcome::InsufficientFunds,
            _ => panic!("no ledger outcome has code {code}"),
        }
    }

    pub fn is_applied(self) -> bool {
        self == Outcome::Applied
    }
}

/// How a transfer uses an account, for conflict detection by key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    /// Reads and changes the account (a debit, with its nonce and funds check).
    Write,
    /// Only adds to the balance: credits commute with each other, not with writes.
    Credit,
}

impl Access {
    /// Two accesses to the same account conflict unless both are credits.
    pub fn clashes(self, other: Access) -> bool {
        !(self == Access::Credit && other == Access::Credit)
    }
}

/// The keys of one transfer: one or two `(account, access)` pairs, without duplicates (a
/// self-transfer has a single key). Iterate it, or use it as a slice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConflictKeys {
    keys: [(AccountId, Access); 2],
    len: usize,
}

impl ConflictKeys {
    fn one(key: (AccountId, Access)) -> ConflictKeys {
        ConflictKeys { keys: [key, key], len: 1 }
    }

    fn two(first: (AccountId, Access), second: (AccountId, Access)) -> ConflictKeys {
        assert_ne!(first.0, second.0, "a transfer has one key per account");
        ConflictKeys { keys: [first, second], len: 2 }
    }

    pub fn as_slice(&self) -> &[(AccountId, Access)] {
        &self.keys[..self.len]
    }
}

impl std::ops::Deref for ConflictKeys {
    type Target = [(AccountId, Access)];
    fn deref(&self) -> &Self::Target {
        self.as_slice()
    }
}

impl IntoIterator for ConflictKeys {
    type Item = (AccountId, Access);
    type IntoIter = std::iter::Take<std::array::IntoIter<(AccountId, Access), 2>>;
    fn into_iter(self) -> Self::IntoIter {
        self.keys.into_iter().take(self.len)
    }
}

impl<'a> IntoIterator for &'a ConflictKeys {
    type Item = &'a (AccountId, Access);
    type IntoIter = std::slice::Iter<'a, (AccountId, Access)>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

/// Which transfers must be ordered with respect to each other.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ConflictRelation {
    /// Two transfers conflict iff they share an account (the seed's relation).
    #[default]
    SharedAccount,
    /// Credits to the same account commute: t1 and t2 conflict iff t1.from == t2.from,
    /// t1.from == t2.to or t1.to == t2.from. More pairs commute, so more fast paths.
    CreditsCommute,
}

impl ConflictRelation {
    /// Whether `a` and `b` must be ordered (symmetric; a transfer conflicts with itself).
    pub fn conflicts(self, a: &Tx, b: &Tx) -> bool {
        if is_reconfiguration(a) || is_reconfiguration(b) {
            return true;
        }
        match self {
            ConflictRelation::SharedAccount => a.from == b.from || a.from == b.to || a.to == b.from || a.to == b.to,
            ConflictRelation::CreditsCommute => a.from == b.from || a.from == b.to || a.to == b.from,
        }
    }

    /// The keys under which a replica indexes `tx` so that conflicting earlier commands are
    /// found by lookup: `a` and `b` conflict iff some key `(acct, x)` of `a` and some key
    /// `(acct, y)` of `b` name the same account and `x.clashes(y)`.
    ///
    /// - `SharedAccount`: `(from, Write)` and `(to, Write)`.
    /// - `CreditsCommute`: `(from, Write)` and `(to, Credit)`.
    /// - A self-transfer (from == to) has the single key `(from, Write)` under both relations
    ///   (it checks the nonce and funds of the account, so it conflicts with everything there).
    ///
    /// A replica keeps, per account, the writes and the credits seen; a command's conflicting
    /// predecessors are, for each of its keys, the writes on that account, plus the credits
    /// when its key is a write.
    pub fn keys(self, tx: &Tx) -> ConflictKeys {
        if tx.from == tx.to {
            return ConflictKeys::one((tx.from, Access::Write));
        }
        let to_access = match self {
            ConflictRelation::SharedAccount => Access::Write,
            ConflictRelation::CreditsCommute => Access::Credit,
        };
        ConflictKeys::two((tx.from, Access::Write), (tx.to, to_access))
    }
}

/// One account's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Account {
    pub balance: u64,
    /// The last nonce used (applied, or failed for funds); 0 before the first transfer out of
    /// the account.
    pub nonce: u64,
}

/// What a transfer did, as a replica reports it: the outcome and the state of the source and
/// the destination just after (the same account twice for a self-transfer or a barrier).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Settlement {
    pub outcome: Outcome,
    pub src: Account,
    pub dst: Account,
}

/// Account ids below this are stored in a vector (one indexed read per access; workloads
/// mostly draw from a few thousand accounts), the others in a map. At most 256 KiB per ledger.
const DENSE_ACCOUNTS_MAX: usize = 1 << 14;

/// Where accounts live: a vector for low ids, grown on demand, and a map above. Either way,
/// an account never stored is at genesis, and iteration is in id order.
#[derive(Clone, Debug)]
struct Accounts {
    genesis: Account,
    dense: Vec<Account>,
    sparse: BTreeMap<AccountId, Account>,
}

impl Accounts {
    fn get(&self, a: AccountId) -> Account {
        let i = a.0 as usize;
        let stored = if i < DENSE_ACCOUNTS_MAX { self.dense.get(i) } else { self.sparse.get(&a) };
        stored.copied().unwrap_or(self.genesis)
    }

    /// Stores `account` at `a`; returns what was there.
    fn put(&mut self, a: AccountId, account: Account) -> Account {
        let i = a.0 as usize;
        if i >= DENSE_ACCOUNTS_MAX {
            return self.sparse.insert(a, account).unwrap_or(self.genesis);
        }
        if i >= self.dense.len() {
            self.dense.resize(i + 1, self.genesis);
        }
        std::mem::replace(&mut self.dense[i], account)
    }

    /// Every stored account, in id order (dense ids are all below sparse ones).
    fn iter(&self) -> impl Iterator<Item = (AccountId, Account)> + '_ {
        let dense = self.dense.iter().enumerate().map(|(i, a)| (AccountId(i as u32), *a));
        dense.chain(self.sparse.iter().map(|(id, a)| (*id, *a)))
    }

    fn stored(&self) -> usize {
        self.dense.len() + self.sparse.len()
    }
}

/// Balances and nonces per account, starting from the same genesis balance everywhere.
#[derive(Clone, Debug)]
pub struct Ledger {
    genesis_balance_per_account: u64,
    /// Accounts ever changed, by id (a run touches few of up to 2^32 accounts); the others are
    /// at genesis.
    accounts: Accounts,
    /// Wrapping sum of a hash of every account that differs from genesis: the state digest,
    /// kept up to date in O(1) per change.
    digest_sum: u64,
    /// Sum over accounts of (balance - genesis), kept up to date like `digest_sum`: 0 while
    /// the supply is conserved.
    supply_delta: i128,
    /// Transfers that arrived ahead of their nonce, waiting for the gap to fill.
    held: BTreeMap<(AccountId, u64), Tx>,
    applied: u64,
    rejected: u64,
}

impl Ledger {
    pub fn new(genesis_balance_per_account: u64) -> Ledger {
        Ledger {
            genesis_balance_per_account,
            accounts: Accounts {
                genesis: Account { balance: genesis_balance_per_account, nonce: 0 },
                dense: Vec::new(),
                sparse: BTreeMap::new(),
            },
            digest_sum: 0,
            supply_delta: 0,
            held: BTreeMap::new(),
            applied: 0,
            rejected: 0,
        }
    }

    fn genesis(&self) -> Account {
        Account { balance: self.genesis_balance_per_account, nonce: 0 }
    }

    fn account(&self, a: AccountId) -> Account {
        self.accounts.get(a)
    }

    fn account_hash(a: AccountId, account: Account) -> u64 {
        hash_words(&[u64::from(a.0), account.balance, account.nonce])
    }

    /// Stores `account` at `a`, keeping the digest sum in step.
    fn set(&mut self, a: AccountId, account: Account) {
        let genesis = self.genesis();
        let old = self.accounts.put(a, account);
        self.supply_delta += account.balance as i128 - old.balance as i128;
        if old != genesis {
            self.digest_sum = self.digest_sum.wrapping_sub(Self::account_hash(a, old));
        }
        if account != genesis {
            self.digest_sum = self.digest_sum.wrapping_add(Self::account_hash(a, account));
        }
    }

    /// Executes `tx` now, under a partial order: `apply`, and the state it left behind. A nonce
    /// ahead of the source's next one is a `BadNonce` like any other wrong nonce: holding it
    /// would make its effect depend on when the gap fills (see the module docs).
    pub fn settle(&mut self, tx: &Tx) -> Settlement {
        let outcome = self.apply(tx);
        self.settlement(tx, outcome)
    }

    fn settlement(&self, tx: &Tx, outcome: Outcome) -> Settlement {
        Settlement { outcome, src: self.account(tx.from), dst: self.account(tx.to) }
    }

    /// Executes `tx` in a totally ordered log: a transfer whose nonce is ahead of its account's
    /// next one is held until the ones before it have executed, so that concurrent transfers of
    /// one account, ordered against their nonces by consensus, still apply in nonce order.
    /// Calls `settled` for `tx` if it settles now and for every held transfer it releases, in
    /// order. A nonce already used is a `BadNonce` at once. Only for a total order: under a
    /// partial order use `settle` (the module docs say why).
    pub fn execute(&mut self, tx: &Tx, mut settled: impl FnMut(&Tx, Settlement)) {
        let next = self.account(tx.from).nonce.wrapping_add(1);
        if tx.nonce > next && !is_reconfiguration(tx) {
            self.held.entry((tx.from, tx.nonce)).or_insert(*tx);
            return;
        }
        settled(tx, self.settle(tx));
        if self.held.is_empty() {
            return;
        }
        while let Some(released) = self.held.remove(&(tx.from, self.account(tx.from).nonce.wrapping_add(1))) {
            let settlement = self.settle(&released);
            settled(&released, settlement);
        }
    }

    /// Transfers held for a nonce gap.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Applies `tx` if its nonce is the next one of its source and the source can pay.
    /// Checks in that order, so a transfer with both faults is a `BadNonce`. A self-transfer
    /// passes the same checks (it cannot move more than the account holds) and then only
    /// bumps the nonce.
    pub fn apply(&mut self, tx: &Tx) -> Outcome {
        if is_reconfiguration(tx) {
            // A barrier, not a transfer: the membership acts on it, the ledger does not.
            self.applied += 1;
            return Outcome::Applied;
        }
        let src = self.account(tx.from);
        let outcome = if tx.nonce != src.nonce.wrapping_add(1) {
            Outcome::BadNonce
        } else if src.balance < tx.amount {
            Outcome::InsufficientFunds
        } else {
            Outcome::Applied
        };
        if !outcome.is_applied() {
            self.rejected += 1;
            if outcome == Outcome::InsufficientFunds {
                self.set(tx.from, Account { nonce: tx.nonce, ..src });
            }
            self.assert_settled(tx, src, outcome);
            return outcome;
        }
        self.applied += 1;
        let dst_before = self.account(tx.to);
        if tx.from == tx.to {
            self.set(tx.from, Account { nonce: tx.nonce, ..src });
            self.assert_settled(tx, src, outcome);
            return outcome;
        }
        // The credit cannot overflow while the total supply fits in a u64; say so if it does.
        let dst_balance =
            dst_before.balance.checked_add(tx.amount).expect("a balance overflows u64: genesis too large");
        let src_balance = src.balance.checked_sub(tx.amount).expect("no balance goes negative: funds were checked");
        let src_after = Account { balance: src_balance, nonce: tx.nonce };
        self.set(tx.from, src_after);
        self.set(tx.to, Account { balance: dst_balance, ..dst_before });
        // Conservation, locally: what left the source arrived at the destination.
        debug_assert_eq!(
            src.balance as u128 + dst_before.balance as u128,
            src_after.balance as u128 + dst_balance as u128
        );
        self.assert_settled(tx, src, outcome);
        outcome
    }

    /// The ledger's own invariants after `apply` (design note invariant 8), O(1): the supply
    /// is conserved, and the source's nonce moved by exactly one unless the nonce was bad.
    /// They hold by construction, so they are asserts (paired with the checks `apply` makes
    /// on its input), not protocol checks: no protocol bug can break them.
    fn assert_settled(&self, tx: &Tx, src_before: Account, outcome: Outcome) {
        assert_eq!(self.supply_delta, 0, "the ledger changed the supply applying {tx:?}");
        let nonce_after = self.account(tx.from).nonce;
        let expected = if outcome == Outcome::BadNonce { src_before.nonce } else { src_before.nonce + 1 };
        assert_eq!(nonce_after, expected, "account {} nonce after {tx:?} ({outcome:?})", tx.from.0);
    }

    pub fn balance(&self, a: AccountId) -> u64 {
        self.account(a).balance
    }

    /// The last nonce applied for source `a` (0 if none): the next valid one is this + 1.
    pub fn nonce(&self, a: AccountId) -> u64 {
        self.account(a).nonce
    }

    pub fn genesis_balance_per_account(&self) -> u64 {
        self.genesis_balance_per_account
    }

    /// A digest of the state (balances and nonces; not the applied/rejected counters). Only
    /// accounts that differ from genesis are folded, with their index, so a ledger whose
    /// storage grew over untouched accounts hashes like one that did not.
    pub fn state_digest(&self) -> u64 {
        hash_words(&[0x6c65_6467_6572, self.genesis_balance_per_account, self.digest_sum])
    }

    /// The state digest recomputed from every account (a check on the incremental one).
    pub fn state_digest_full(&self) -> u64 {
        let sum = self
            .accounts
            .iter()
            .filter(|(_, a)| *a != self.genesis())
            .fold(0u64, |s, (id, a)| s.wrapping_add(Self::account_hash(id, a)));
        hash_words(&[0x6c65_6467_6572, self.genesis_balance_per_account, sum])
    }

    /// The fold of every non-genesis account in index order (order-sensitive; for tests).
    pub fn state_fold(&self) -> u64 {
        let genesis = self.genesis();
        let mut fold = Fold::new(0x6c65_6467_6572); // "ledger"
        fold.add(self.genesis_balance_per_account);
        for (id, account) in self.accounts.iter() {
            if account != genesis {
                fold.add(u64::from(id.0)).add(account.balance).add(account.nonce);
            }
        }
        fold.value()
    }

    /// Sum over accounts of (balance - genesis balance), kept up to date on every change: the
    /// supply is conserved iff this is 0 (untouched accounts contribute 0). O(1).
    pub fn supply_delta(&self) -> i128 {
        self.supply_delta
    }

    /// The same, recomputed from every balance.
    pub fn supply_delta_full(&self) -> i128 {
        let genesis = self.genesis_balance_per_account as i128;
        self.accounts.iter().map(|(_, a)| a.balance as i128 - genesis).sum()
    }

    /// Supply conserved, as a report (for tests and tools; `apply` asserts it). No balance is
    /// negative and nonces go 1, 2, 3... by construction: u64 balances, and `apply` checks both.
    pub fn check_conservation(&self) -> Result<(), String> {
        match self.supply_delta() {
            0 => Ok(()),
            delta => Err(format!(
                "supply not conserved: balances sum to genesis {delta:+} over {} stored accounts",
                self.accounts.stored()
            )),
        }
    }

    /// Transfers applied so far.
    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// Transfers rejected so far (bad nonce or insufficient funds).
    pub fn rejected(&self) -> u64 {
        self.rejected
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use sim_core::digest::splitmix64;
    use sim_core::{NodeId, TxId};

    use super::*;

    fn tx(id: u64, from: u32, to: u32, amount: u64, nonce: u64) -> Tx {
        Tx {
            id: TxId(id),
            client: NodeId(100),
            from: AccountId(from),
            to: AccountId(to),
            amount,
            nonce,
            size_bytes: 100,
        }
    }

    #[test]
    fn outcome_codes() {
        assert_eq!(Outcome::Applied.code(), 0);
        assert_eq!(Outcome::BadNonce.code(), 1);
        assert_eq!(Outcome::InsufficientFunds.code(), 2);
        for o in [Outcome::Applied, Outcome::BadNonce, Outcome::InsufficientFunds] {
            assert_eq!(Outcome::from_code(o.code()), o);
        }
    }

    #[test]
    fn transfer_moves_funds_and_bumps_nonce() {
        let mut l = Ledger::new(100);
        assert_eq!(l.apply(&tx(0, 1, 2, 30, 1)), Outcome::Applied);
        assert_eq!((l.balance(AccountId(1)), l.balance(AccountId(2))), (70, 130));
        assert_eq!((l.nonce(AccountId(1)), l.nonce(AccountId(2))), (1, 0));
        assert_eq!(l.apply(&tx(1, 1, 2, 70, 2)), Outcome::Applied);
        assert_eq!((l.balance(AccountId(1)), l.balance(AccountId(2))), (0, 200));
        assert_eq!((l.applied(), l.rejected()), (2, 0));
        assert_eq!(l.balance(AccountId(999)), 100);
        assert_eq!(l.nonce(AccountId(999)), 0);
        assert_eq!(l.check_conservation(), Ok(()));
    }

    #[test]
    fn bad_nonce_is_rejected_without_change() {
        let mut l = Ledger::new(100);
        let before = l.state_digest();
        for nonce in [0, 2, 7] {
            assert_eq!(l.apply(&tx(0, 1, 2, 10, nonce)), Outcome::BadNonce);
        }
        assert_eq!(l.state_digest(), before);
        assert_eq!(l.apply(&tx(1, 1, 2, 10, 1)), Outcome::Applied);
        // Replaying the same nonce is rejected too.
        let after = l.state_digest();
        assert_eq!(l.apply(&tx(2, 1, 2, 10, 1)), Outcome::BadNonce);
        assert_eq!(l.state_digest(), after);
        assert_eq!((l.applied(), l.rejected()), (1, 4));
    }

    #[test]
    fn insufficient_funds_uses_the_nonce_and_nothing_else() {
        let mut l = Ledger::new(100);
        assert_eq!(l.apply(&tx(0, 1, 2, 101, 1)), Outcome::InsufficientFunds);
        assert_eq!((l.balance(AccountId(1)), l.balance(AccountId(2))), (100, 100));
        assert_eq!(l.nonce(AccountId(1)), 1, "a failed transfer uses its nonce");
        // Bad nonce is checked first.
        assert_eq!(l.apply(&tx(1, 1, 2, 101, 5)), Outcome::BadNonce);
        assert_eq!(l.apply(&tx(2, 1, 2, 100, 2)), Outcome::Applied);
        assert_eq!(l.balance(AccountId(1)), 0);
        assert_eq!(l.apply(&tx(3, 1, 2, 1, 3)), Outcome::InsufficientFunds);
        assert_eq!(l.apply(&tx(4, 1, 2, 0, 4)), Outcome::Applied, "a zero transfer from an empty account is fine");
        assert_eq!(l.state_digest(), l.state_digest_full());
    }

    #[test]
    fn under_a_total_order_transfers_ahead_of_their_nonce_wait_for_the_gap() {
        let mut l = Ledger::new(100);
        let mut settled = Vec::new();
        l.execute(&tx(0, 1, 2, 10, 3), |t, s| settled.push((t.id.0, s.outcome)));
        l.execute(&tx(1, 1, 2, 10, 2), |t, s| settled.push((t.id.0, s.outcome)));
        assert!(settled.is_empty());
        assert_eq!(l.held(), 2);
        l.execute(&tx(2, 1, 2, 10, 1), |t, s| settled.push((t.id.0, s.outcome)));
        assert_eq!(settled, vec![(2, Outcome::Applied), (1, Outcome::Applied), (0, Outcome::Applied)]);
        l.execute(&tx(3, 1, 2, 10, 2), |t, s| settled.push((t.id.0, s.outcome)));
        assert_eq!(settled[3], (3, Outcome::BadNonce), "a used nonce is refused at once");
        assert_eq!((l.nonce(AccountId(1)), l.held()), (3, 0));
        assert_eq!(l.state_digest(), l.state_digest_full());
    }

    #[test]
    fn settle_rejects_a_nonce_ahead_and_reports_both_accounts() {
        let mut l = Ledger::new(100);
        let ahead = l.settle(&tx(0, 1, 2, 10, 2));
        let genesis = Account { balance: 100, nonce: 0 };
        assert_eq!(ahead, Settlement { outcome: Outcome::BadNonce, src: genesis, dst: genesis });
        assert_eq!(l.held(), 0, "nothing is held under a partial order");
        let s = l.settle(&tx(1, 1, 2, 10, 1));
        assert_eq!(s.outcome, Outcome::Applied);
        assert_eq!((s.src, s.dst), (Account { balance: 90, nonce: 1 }, Account { balance: 110, nonce: 0 }));
        let poor = l.settle(&tx(2, 1, 1, 91, 2));
        assert_eq!(
            (poor.outcome, poor.src, poor.dst),
            (Outcome::InsufficientFunds, Account { balance: 90, nonce: 2 }, poor.src)
        );
    }

    #[test]
    #[should_panic(expected = "changed the supply")]
    fn apply_asserts_conservation() {
        let mut l = Ledger::new(10);
        // What a buggy ledger would leave behind: a credit without a debit.
        l.set(AccountId(1), Account { balance: 11, nonce: 0 });
        l.apply(&tx(0, 0, 2, 1, 1));
    }

    #[test]
    fn self_transfer_only_bumps_the_nonce() {
        let mut l = Ledger::new(100);
        assert_eq!(l.apply(&tx(0, 3, 3, 60, 1)), Outcome::Applied);
        assert_eq!((l.balance(AccountId(3)), l.nonce(AccountId(3))), (100, 1));
        assert_eq!(l.apply(&tx(1, 3, 3, 101, 2)), Outcome::InsufficientFunds);
        assert_eq!(l.nonce(AccountId(3)), 2);
        assert_eq!(l.check_conservation(), Ok(()));
    }

    #[test]
    fn digest_ignores_storage_growth() {
        let fresh = Ledger::new(100);
        let mut grown = Ledger::new(100);
        // A rejected transfer still reads (and may grow storage for) high accounts.
        assert_eq!(grown.apply(&tx(0, 5000, 7000, 1, 9)), Outcome::BadNonce);
        assert_eq!(grown.state_digest(), fresh.state_digest());
        assert_eq!(grown.supply_delta(), 0);

        // Two ledgers reaching the same state through different storage sizes agree.
        let mut a = Ledger::new(100);
        let mut b = Ledger::new(100);
        assert_eq!(b.apply(&tx(0, 900, 901, 1000, 2)), Outcome::BadNonce);
        for l in [&mut a, &mut b] {
            assert_eq!(l.apply(&tx(1, 1, 2, 5, 1)), Outcome::Applied);
        }
        assert_eq!(a.state_digest(), b.state_digest());
    }

    #[test]
    fn digest_tells_states_apart() {
        let digest_after = |txs: &[Tx]| {
            let mut l = Ledger::new(100);
            for t in txs {
                assert_eq!(l.apply(t), Outcome::Applied);
            }
            l.state_digest()
        };
        let base = digest_after(&[]);
        let one_to_two = digest_after(&[tx(0, 1, 2, 5, 1)]);
        let two_to_one = digest_after(&[tx(0, 2, 1, 5, 1)]);
        let one_to_two_more = digest_after(&[tx(0, 1, 2, 6, 1)]);
        let self_transfer = digest_after(&[tx(0, 1, 1, 6, 1)]);
        let all = [base, one_to_two, two_to_one, one_to_two_more, self_transfer];
        assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), all.len());
        assert_ne!(Ledger::new(100).state_digest(), Ledger::new(101).state_digest());
    }

    #[test]
    fn random_transfers_conserve_supply() {
        let mut l = Ledger::new(50);
        let mut seed = 7u64;
        let mut next_nonce = [1u64; 8];
        for id in 0..5_000 {
            seed = splitmix64(seed);
            let from = (seed % 8) as u32;
            let to = ((seed >> 8) % 8) as u32;
            let amount = (seed >> 16) % 40;
            // Mostly the right nonce, sometimes a wrong one.
            let wrong = (seed >> 32).is_multiple_of(10);
            let nonce = next_nonce[from as usize] + u64::from(wrong);
            let outcome = l.apply(&tx(id, from, to, amount, nonce));
            if outcome != Outcome::BadNonce {
                next_nonce[from as usize] += 1;
            }
            assert_eq!(l.nonce(AccountId(from)), next_nonce[from as usize] - 1);
            assert_eq!(l.state_digest(), l.state_digest_full());
            assert_eq!(l.supply_delta(), l.supply_delta_full());
        }
        assert_eq!(l.applied() + l.rejected(), 5_000);
        assert!(l.applied() > 1_000 && l.rejected() > 100);
        assert_eq!(l.supply_delta(), 0);
        assert_eq!(l.check_conservation(), Ok(()));
        let total: u64 = (0..8).map(|a| l.balance(AccountId(a))).sum();
        assert_eq!(total, 8 * 50);
    }

    #[test]
    fn conservation_check_reports_a_broken_supply() {
        let mut l = Ledger::new(10);
        assert_eq!(l.apply(&tx(0, 0, 1, 3, 1)), Outcome::Applied);
        // What a buggy apply would do: credit without the matching debit.
        let credited = Account { balance: l.balance(AccountId(1)) + 1, nonce: 0 };
        l.set(AccountId(1), credited);
        assert_eq!(l.supply_delta(), 1);
        assert_eq!(l.supply_delta_full(), 1);
        assert!(l.check_conservation().unwrap_err().contains("+1"));
    }

    #[test]
    fn conflict_relations_on_examples() {
        let shared = ConflictRelation::SharedAccount;
        let credits = ConflictRelation::CreditsCommute;
        let a_to_b = tx(0, 0, 1, 1, 1);
        let cases = [
            // (other, shared conflicts, credits-commute conflicts)
            (tx(1, 0, 2, 1, 2), true, true),   // same source
            (tx(1, 2, 0, 1, 1), true, true),   // credits a's source
            (tx(1, 1, 2, 1, 1), true, true),   // spends from a's destination
            (tx(1, 2, 1, 1, 1), true, false),  // credits the same destination: commutes
            (tx(1, 2, 3, 1, 1), false, false), // disjoint
            (tx(1, 1, 1, 1, 1), true, true),   // self-transfer on a's destination
            (tx(1, 0, 0, 1, 2), true, true),   // self-transfer on a's source
            (tx(1, 3, 3, 1, 1), false, false), // unrelated self-transfer
        ];
        for (other, want_shared, want_credits) in cases {
            assert_eq!(shared.conflicts(&a_to_b, &other), want_shared, "{other:?}");
            assert_eq!(shared.conflicts(&other, &a_to_b), want_shared, "{other:?}");
            assert_eq!(credits.conflicts(&a_to_b, &other), want_credits, "{other:?}");
            assert_eq!(credits.conflicts(&other, &a_to_b), want_credits, "{other:?}");
        }
        assert_eq!(ConflictRelation::default(), shared);
    }

    #[test]
    fn keys_shape() {
        let a_to_b = tx(0, 0, 1, 1, 1);
        let w = Access::Write;
        let c = Access::Credit;
        assert_eq!(ConflictRelation::SharedAccount.keys(&a_to_b).as_slice(), &[(AccountId(0), w), (AccountId(1), w)]);
        assert_eq!(ConflictRelation::CreditsCommute.keys(&a_to_b).as_slice(), &[(AccountId(0), w), (AccountId(1), c)]);
        for rel in [ConflictRelation::SharedAccount, ConflictRelation::CreditsCommute] {
            let keys = rel.keys(&tx(0, 4, 4, 1, 1));
            assert_eq!(keys.len(), 1);
            assert_eq!(keys.into_iter().collect::<Vec<_>>(), vec![(AccountId(4), w)]);
        }
        assert!(w.clashes(w) && w.clashes(c) && c.clashes(w) && !c.clashes(c));
    }

    /// A replica's index: per account, the earlier commands seen with each access. Looking up
    /// a new command's keys must find exactly the earlier commands `conflicts` names.
    #[test]
    fn key_lookup_finds_exactly_the_conflicts() {
        for rel in [ConflictRelation::SharedAccount, ConflictRelation::CreditsCommute] {
            let mut seed = 11u64;
            let mut txs = Vec::new();
            for id in 0..400u64 {
                seed = splitmix64(seed);
                // Five accounts, so that every kind of overlap (and self-transfers) occurs.
                txs.push(tx(id, (seed % 5) as u32, ((seed >> 8) % 5) as u32, 1, 1));
            }
            let mut index: BTreeMap<AccountId, Vec<(Access, usize)>> = BTreeMap::new();
            for (i, t) in txs.iter().enumerate() {
                let mut found = BTreeSet::new();
                for (account, access) in rel.keys(t) {
                    for &(earlier_access, j) in index.get(&account).into_iter().flatten() {
                        if access.clashes(earlier_access) {
                            found.insert(j);
                        }
                    }
                }
                let expected: BTreeSet<usize> = (0..i).filter(|&j| rel.conflicts(&txs[j], t)).collect();
                assert_eq!(found, expected, "{rel:?}: tx {i} {t:?}");
                for &(account, access) in rel.keys(t).iter() {
                    index.entry(account).or_default().push((access, i));
                }
            }
        }
    }
}
