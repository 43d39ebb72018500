//! An Algorand-style baseline (Gilad et al., SOSP 2017): cryptographic sortition weighted by
//! stake, highest-priority block proposals, BA* (two reduction steps, BinaryBA* in three-step
//! loops with a common coin, a FINAL step), over a gossip graph of relays or random peers.
//!
//! Departures from the paper, and why:
//! - Gossip is batched: a user gathers what it must relay for `gossip_batch` and sends it as
//!   one message per link. A link to a peer that relayed some of the items carries the batch
//!   without them (`Cut`), as flooding relays everything but back to where it came from
//!   (go-algorand's `Relay(.., except)`); until issue 14's last revision a batch that mixed
//!   sources went whole to each of them, 6% more vote bytes at 3,000 users. Items (votes,
//!   blocks, transaction batches) are shared by pointer. This keeps a run at one event per link and
//!   batch, not one per vote and user, which is what lets 10,000 users run in one process.
//! - Two classes of gossip, as go-algorand's message tags (votes and proposal values served
//!   before proposal payloads): a flush sends votes, priorities and transaction batches as one
//!   urgent batch (`Class::Urgent`: on a finite link it goes ahead of queued blocks) and the
//!   blocks after it as a normal one. A user relays a block only while it is the best proposal
//!   it has heard (go-algorand relays the payload of the proposal it would vote for); since
//!   priorities now overtake blocks, the better priority is usually heard first and worse blocks
//!   stop there. Before this (issue 14), one batch per flush on one FIFO queue put votes behind
//!   every block queued ahead of them: with the SOSP 2017 setup (1 MB blocks, 20 Mbit/s)
//!   steps took seconds, rounds grew and fell back to empty blocks (`one_lane`, test-only,
//!   keeps that gossip). A Byzantine proposer that sends its priority and withholds the block
//!   makes users wait `block_wait` and vote for the empty block, as in the paper: no second-best
//!   block is relayed in its place. Transactions ride with the votes here; go-algorand sends
//!   them in bulk, behind votes and proposal payloads (`network/wsNetwork.go`,
//!   `highPriorityTag`). Putting them behind the blocks on the normal class moved nothing
//!   measurable with the SOSP 2017 setup (1,000 users: rounds within noise), and a faithful
//!   model needs a third link class, so they stay urgent. Not modelled: go-algorand's
//!   pipelining of the next round's proposal.
//! - With `final_wait` off (the `mainnet` preset) a round ends when BinaryBA* returns and FINAL
//!   votes are counted in the background; the `sosp2017` preset counts them inside the round,
//!   as the paper's Algorithm 3 (up to `step_timeout`, then the round is tentative). A round
//!   whose FINAL votes reach their threshold commits itself and every tentative round before
//!   it (the log checker then sees one commit per round, in order, at every user).
//! - The round seed hashes the previous seed with the decided block (no look-back); the
//!   sortition of every step uses it.
//! - Transactions are checked (client signature) when they enter a user's pool, not again in
//!   blocks. Committed rounds execute on the ledger in log order (a transfer ahead of its nonce
//!   waits for the gap), and the user a client sent to answers with the ledger's result; every
//!   correct user's settlements pass the per-transaction result check. Users share the run's
//!   memo of executions (`common::log_ledger`): execution is a function of the sequence
//!   executed, so a user replays the results of the first user to execute the same sequence,
//!   and one whose sequence differs rebuilds a ledger of its own: one ledger per run, not one
//!   per user. Execution costs no CPU time in the model.
//! - A user that decides a block it never received fetches it from its neighbours, who ask
//!   theirs (relays) once per block.
//! - Votes are signed on (credential, parent, value) by construction, as `Ctx::sign` tokens
//!   are: a `Vote`'s fields are private and `Vote::sign` needs the voter's `Seat`, which only
//!   the voter's own sortition draw returns (the `Credential` others see signs nothing). A
//!   Byzantine user signs what it likes on its own seats (equivocation, double votes) but
//!   cannot make or alter another's vote, so no signature is hashed; checking one is still
//!   charged as the Ed25519 verification it stands for (`verify_client`), not as BLS.
//! - Catch-up: a user that hears votes two or more rounds ahead (it was down, cut off, or on a
//!   branch the others left) asks the relay that relayed them for the rounds decided from its
//!   oldest uncommitted round on. It takes only the answer to that request (from the user asked,
//!   starting at the round asked), and only if the last round carries a certificate: votes of a
//!   binary step where BinaryBA* returns, for that block on its parent, from distinct users whose
//!   credentials (under the seed the entries imply) and signatures verify, weighing the step's
//!   threshold; each vote checked is charged. One certificate covers the whole answer, since
//!   its votes name their parent and block ids hash their parent's (the paper, and
//!   go-algorand's catch-up, check one per block). Users that relay keep, until they decide
//!   the current round, the votes that could certify it (of a step where BinaryBA* would
//!   return their value, up to the threshold per value: about 1,100 at 10,000 users) as
//!   pointers to the voter's one copy, and move them into the round's certificate on
//!   deciding; the certificate of the last decided round is kept for replies and replaced
//!   with the next. So a user holds at most two certificates and one round's returning
//!   steps, non-relays hold none; a reply counts every vote's bytes. An answer that does not
//!   verify, or never comes, sends the next request to another neighbour. A user one round
//!   behind asks too, once two of its steps time out while votes of the next round keep
//!   coming: the others decided its round on votes it never got (a partition cut them off in
//!   flight), and BinaryBA* sends no vote twice, so without asking it would wait for ever
//!   (found by `byzsim explore`, seed 498 of `algorand-attacks.toml`).
//! - Fork recovery, the minimal part of the paper's: a certified answer that disagrees with
//!   rounds this user decided but has not committed replaces them (and their tallies), since
//!   a committee certified the other branch; committed rounds never change. Simplified: the
//!   transactions of a dropped block are not put back into this user's pool (others still
//!   propose them), and recovery needs a certified branch to exist: if users are split so
//!   that no branch reaches a threshold, nothing recovers (the paper runs a recovery BA* on
//!   the longest fork at set intervals; we do not).
//!
//! Notes (`Ctx::note`, not in the digest; a few per round and user, none per vote): each round
//! entered (`Note::View`), each BA* step (numbered as roles: 1 and 2 the reductions, 2 + s
//! BinaryBA*'s step s), catch-up asked (from the round asked), fork recovery (from the first
//! round replaced), Byzantine users acting. `debug_state`: round, step, parent, committed
//! rounds, the last certificate held.
//!
//! Planted bugs (`AlgorandConfig::bug`, test-only, never set by a scenario): `TrustAnySync`
//! takes any catch-up reply that extends the chain unchecked (the old bug); `LowThreshold`
//! lowers every threshold to 3/10 of its committee, so that each half of the stake reaches it
//! alone.
//!
//! Invariant of the pool (`pool.rs`): a transaction batch's holder bit for a user is set iff
//! that user once kept the batch; it is never cleared, because a batch pruned from a pool has
//! every transaction in the chain, which only grows, so the pool refuses it again either way.
//! Its pooled bit is set while the batch is in that user's pool; the run's shelf lists a batch
//! exactly while some pooled bit of it is set (its count above zero).
//!
//! The references' latencies: a block carries the time its proposer made it (measurement only,
//! not in its id or size), and a user committing a round reports it (the prototype's
//! proposal-to-commit latency). There is no latency at the proposer (Bamboo's): the pool keeps
//! gossiped batches, not when each transaction reached the user that proposes it.

mod config;
mod pool;
mod replica;
mod sortition;
mod types;
mod world;

pub use config::{AlgorandConfig, Behavior, Committee, PlantedBug, StakeDistribution, Topology};
pub use replica::Algorand;
pub use types::{Msg, Timer};
pub use world::World;
