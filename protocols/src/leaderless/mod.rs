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
//!
//! The PBFT layer's safety rests on three rules, each of which a planted bug breaks and the
//! monitor catches (`PlantedBug`, tests only): a correct replica votes for one value per view
//! and counts a quorum of ceil((n+f+1)/2) distinct signers (two quorums of a view share a
//! correct replica); a new view's value is the highest prepared value its quorum of view
//! changes shows (a value decided earlier prepared at a quorum, which the view-change quorum
//! meets), the union of their answers only if none prepared; a decision is accepted only with
//! its proof (n identical signed answers, or a quorum of commit votes of one view). The
//! Byzantine behaviours that attack them (equivocating proposals with proofs that verify,
//! forged and withheld decisions, double votes, view changes that hide the prepared value or
//! show a stale one, late dependency answers) live in `replica/attacks.rs`.
//! - The EPaxos variant proves each dependency with its client's signature; the simulator's
//!   stand-in is "the id was submitted" (ids are dense from 0), or a payload the replica
//!   verified. Byzantine replicas invent ids in a space no client signs in (the top bit set,
//!   `types::invented_id`), so an invented dependency never passes that proof: the old
//!   `max_seen + 1000 + k` became a real command at high rates (issue 11, item 12).
//! - The note keeps every dependency ("prune only below a barrier or a checkpoint"); sets then
//!   grew with the run (issue 11, item 11). Wintermute prunes by floors, a checkpoint each
//!   replica proves by its own execution rather than one signed by 2f+1:
//!   - A replica's answer for c carries its floor L_r, at most its executed prefix (every id
//!     below it executed) when it first saw c, and names only the conflicting commands at or
//!     above L_r. The coordinator's announce suggests a floor (its own prefix rounded down to
//!     `checkpoint_interval`, one interval back); a replica whose rounded prefix reached it
//!     answers with it, one that lags answers with its own. So fault-free answers carry the
//!     same floor and stay identical, and the fast path survives at any rate (rounding alone
//!     split answers whenever prefixes straddled a multiple of the interval: at 500 tx/s the
//!     fast path fell from 99.8% to 9%). The floor is never above the replica's own prefix,
//!     so a Byzantine suggestion costs at most pruning. The conflict index keeps a margin of
//!     `PRUNE_MARGIN_INTERVALS` below the own floor, to answer lower suggestions.
//!   - c's floor L(c) is the (f+1)-th highest floor among the answers (`replica::floor_union`):
//!     some correct replica executed every id below L(c) before it saw c. A named y >= L(c)
//!     enters if f+1 answers report it, by name or by a floor above y: correct replicas prune
//!     at different points, and counting names alone would lose y. Ids below L(c) are not
//!     named; the floor orders them before c.
//!   - The executor runs c only once its own executed prefix reaches L(c). Consistency: of 2f+1
//!     correct replicas both quorums share, f+1 saw y before c (y enters c's set or lies below
//!     its floor) or f+1 saw c before y. No deadlock: a floor never closes a cycle, since the
//!     correct replica behind L(c) executed everything below it, with all its dependencies,
//!     before it knew c. The highest floor instead would let one Byzantine replica make c wait
//!     for itself (the `HighestFloor` planted bug); correct floors never exceed c's own id,
//!     which the monitor checks.
//!   - The floor travels in the dependency set as one more id (`FLOOR_FLAG | L`, bit 62; real
//!     ids are dense from 0, invented ones carry bit 63), so proposals, votes, view changes and
//!     commits are unchanged; it costs one id on the wire. Replicas drop ids below their floor
//!     from their conflict index.
//!   - Ids are dense from 0 in the simulator, so a prefix is one number. A deployment would
//!     use one prefix per client (ids are (client, sequence)): a floor becomes a vector with
//!     one entry per client, or a reference to a signed checkpoint of it, and rounding applies
//!     per entry. A transaction lost before any correct replica saw it stops the prefix, and
//!     pruning with it (safe: sets then grow as before, until it is recovered).
//!   - The EPaxos variant prunes by per-account anchors, explicit dependencies rather than
//!     floors: its answers have one correct witness, not f+1, so an (f+1)-th floor would be
//!     backed by no one (issue 11, item 11). `LeaderlessConfig::keep_all_deps` (tests only)
//!     turns it off.
//!     - A replica's answer for c names, per account A that c touches, its anchor z_A: the
//!       last command it executed (in its own execution order, not by id) that touched A and
//!       conflicts with every command on A (under `SharedAccount` any; when credits commute
//!       a debit of A); for the account c debits, the credits to it executed since its
//!       anchor; every conflicting command it saw and has not executed; and the last
//!       reconfiguration it executed. An anchor is a real client-signed id: it passes the
//!       EPaxos proof like any dependency, and a Byzantine anchor is one more proved
//!       dependency (harmless, like `irrelevant_deps`).
//!     - Safety: let y and c conflict on A, both committed; the two DDS quorums share a
//!       correct replica r, and say r saw y first. If r had not executed y when it answered
//!       for c, it names y. Otherwise r executed y, then its anchor z (y = z, or y ran
//!       before z; a credit y run after z is named itself). y and z conflict, and by
//!       induction on r's execution order one reaches the other in the execution graph (the
//!       committed dependencies plus the executor's chain edges from each transfer to its
//!       source's previous nonce: a pair may be ordered only through such an edge); z
//!       reaching y without y reaching z would have run z before y at r. So y lies in z's
//!       closure, the same at every correct replica (agreement), and c, which depends on z,
//!       runs after y everywhere. Edges are explicit, so cycles are the executor's
//!       components as before, and no implicit floor can make c wait for itself.
//!     - The conflict index keeps per account only unexecuted commands, the anchor, and (when
//!       credits commute) the credits since the last debit: bounded by the in-flight load,
//!       except for an account that only receives, whose credits are named by its next debit
//!       until a reconfiguration covers them. A reconfiguration conflicts with everything: it
//!       names every account's anchor (each executed command ran at or before its source
//!       account's anchor), the last executed reconfiguration and every unexecuted command;
//!       once one executes here, it covers every command executed before it, so the anchors
//!       are dropped and commands name it instead.
//!     - The monitor's consistency check is transitive where the direct one fails: c and y
//!       are consistent if either reaches the other in the committed graph plus chain edges
//!       (`monitor`); a planted `StaleAnchor` (answers naming the anchor before the last, and
//!       nothing executed or unexecuted after it) trips it.
//!     - The EPaxos variant has no fast path here (`Membership::has_fast_path`), so the
//!       different anchors of replicas with different executed prefixes cost no fast path;
//!       a coordinator-suggested anchor (as the suggested floor) would only make view-0
//!       proposals of several coordinators agree more often and shorten answers.
//!
//! Notes (`Ctx::note`, not in the digest): the coordinator's fast or slow path per command, each
//! view change started, each recovery asked, and every Byzantine behaviour acting, the PBFT
//! attacks under the name of the behaviour that makes each alone. `debug_state` lists the
//! epoch, executed prefix and up to 16 commands not executed (not committed first).
//!
//! The references' latencies: a command's coordinator (the replica a client sent it to) reports,
//! when it commits the command, its arrival there (Bamboo's latency at the proposer) and, on the
//! slow path, when it sent its PBFT proposal (the prototype's proposal-to-commit latency). The
//! fast path proposes nothing, so its commands have no proposal-to-commit latency.

pub mod exec;
pub mod membership;
pub mod monitor;
pub mod replica;
pub mod types;

pub use membership::{Membership, Variant};
pub use monitor::LeaderlessMonitor;
pub use replica::Leaderless;
pub use types::{Behavior, LeaderlessConfig, PlantedBug};
