//! HotStuff at the boundary: its `[hotstuff]` section (declared, read and checked here), its behaviours, the n and f it tolerates, its lowered
//! configuration and how a run of it is built (one `HotStuff` per replica, `HotStuffMonitor`).

use protocols::common::mempool::MempoolConfig;
use protocols::hotstuff::{self as hs, CommitRule, HotStuffConfig, HotStuffMonitor, LeaderPolicy};
use sim_core::adversary::Mode;
use sim_core::workload::Workload;
use sim_core::{SimConfig, Simulation, Span};

use super::{Boundary, Ran, Reading, Run, SummaryRows, drive};
use crate::reader::{self, Bounds, Ctx, FieldTable, Origin, TIMEOUT_MS, Value, found, table};

pub struct Module;

/// HotStuff's Byzantine behaviours: the protocol's own (`Correct` is no scenario's: a replica no
/// `[[byzantine]]` entry names follows the protocol).
pub use protocols::hotstuff::Behavior;

/// A HotStuff run: the protocol's configuration and what each replica does.
#[derive(Clone, Debug)]
pub struct Config {
    pub hotstuff: HotStuffConfig,
    pub roster: Vec<hs::Behavior>,
    /// Every account's opening balance (`Scenario::genesis_balance`).
    pub genesis_balance: u64,
}

/// `[hotstuff]`, as validated.
#[derive(Clone, Debug, PartialEq)]
pub struct HotStuff {
    /// `variant`: the commit rule.
    pub variant: CommitRule,
    pub certificate: Certificate,
    pub batch_size: u32,
    pub view_timeout_ms: f64,
    /// Multiplier of the view timeout after each consecutive timeout; 1 = no backoff.
    pub timeout_backoff: f64,
    pub max_timeout_ms: f64,
    /// Who leads each view.
    pub leader: LeaderPolicy,
    /// The rotation order, a permutation of the replica ids; empty: 0..n-1.
    pub leader_order: Vec<u32>,
    /// Where blocks' transactions travel.
    pub payload: Payload,
    /// The mempool's batch size, batch delay and acknowledgement quorum (0: n - f); read
    /// whatever `payload` says, used only with `Payload::Mempool`.
    pub mempool_batch_bytes: u32,
    pub mempool_max_batch_delay_ms: f64,
    pub mempool_ack_quorum: u32,
}

/// Where a block's transactions travel. The boundary's own: the protocol takes an
/// `Option<MempoolConfig>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload {
    /// In the proposal itself (today's HotStuff).
    InProposal,
    /// In mempool batches, broadcast by each replica's worker; blocks name their digests.
    Mempool,
}

/// How a quorum certificate carries its n-f signatures. The boundary's own: the protocol takes a
/// flag (`HotStuffConfig::list_certificates`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Certificate {
    /// One aggregate BLS signature plus a signer bitmap; verified once.
    Aggregate,
    /// The n-f signatures themselves (as the HotStuff paper's secp256k1 certificates);
    /// verified one by one.
    List,
}

const U32_MAX: i128 = u32::MAX as i128;
/// The values of `variant` and `certificate`, in the order of their declared names.
pub(crate) const VARIANTS: &[CommitRule] = &[CommitRule::ThreeChain, CommitRule::TwoChain, CommitRule::Basic];
pub(crate) const CERTIFICATES: &[Certificate] = &[Certificate::Aggregate, Certificate::List];
/// The values of `leader`, in the order of its declared names.
pub(crate) const LEADERS: &[LeaderPolicy] =
    &[LeaderPolicy::RoundRobin, LeaderPolicy::Hash, LeaderPolicy::Stable, LeaderPolicy::Reputation];
pub(crate) const PAYLOADS: &[Payload] = &[Payload::InProposal, Payload::Mempool];
/// The asonnino/hotstuff prototype's benchmark settings: 500,000-byte batches, 100 ms delay.
const MEMPOOL_BATCH_BYTES: u32 = 500_000;
const MEMPOOL_MAX_BATCH_DELAY_MS: f64 = 100.0;

table!(fields, "hotstuff", "hotstuff", list = false, {
    variant: OneOf(&["chained", "two_chain", "basic"]), Str("chained"), "",
        "the commit rule: `chained` commits the head of three blocks certified in consecutive views (HotStuff); `two_chain` commits the head of two (Jolteon / DiemBFT v4), a view earlier, locking on the highest certified block seen in a proposal; `basic` is unchained HotStuff: each view takes one block through prepare, pre-commit, commit and decide (three certificates, votes to the view's leader, which waits for n-f NEWVIEWs before proposing), so a view lasts about 8 one-way delays instead of 2 (a quarter of chained's throughput at the same batch) and a block commits about 6 delays after its proposal";
    certificate: OneOf(&["aggregate", "list"]), Str("aggregate"), "",
        "how a quorum certificate carries its n-f signatures: one aggregate BLS signature plus a signer bitmap (96 bytes + n/8, verified once), or the list of signatures (96 bytes each, verified one by one, as the HotStuff paper's secp256k1 certificates)";
    batch_size: Integer(1, U32_MAX), Int(400), "", "most transactions in one block";
    view_timeout_ms: Number(TIMEOUT_MS), Num(1000.0), "", "how long a replica waits for progress in a view before moving on";
    timeout_backoff: Number(Bounds::at_least(1.0)), Num(1.0), "",
        "each consecutive timeout multiplies the view timeout by this; 1 = no backoff";
    max_timeout_ms: Number(TIMEOUT_MS), Num(60_000.0), "{bounds}; >= `view_timeout_ms`",
        "the backoff never raises the timeout above this";
    leader: OneOf(&["round_robin", "hash", "stable", "reputation"]), Str("round_robin"), "",
        "who leads view v, over the rotation `leader_order`: `round_robin` its (v mod n)-th replica; `hash` Bamboo's hash-random leader (the last replica of the order for views 1-3, then the first 8 bytes of SHA-1 of the decimal text of v + 1, big-endian, mod n); `stable` the proposer of the last committed block keeps leading; while no block has committed for 5 views (or none yet), each replica of the order in turn leads 5 consecutive views (1-5 the first, 6-10 the second, ...); `reputation` DiemBFT v4's leader reputation: the certificate of view w, if its block directly extends view w - 1's, elects the leader of w + 2 among the signers of the certificates of the last n blocks of its chain, minus the proposers of the last f, picked by w (a view no certificate elects: round robin, each replica for 3 consecutive views, 2 under two_chain, 1 under basic). Correct replicas agree in the happy path (`stable`: same log prefix; `reputation`: same certificate); one that does not may name another leader, which costs a view change, never safety";
    leader_order: Ints, Computed("`[]`: 0 to n-1"), "a permutation of 0 to n-1 (each id once, n of them)",
        "the rotation order of the leader policy, as replica ids";
    payload: OneOf(&["in_proposal", "mempool"]), Str("in_proposal"), "{bounds}; `mempool` not with `variant = \"basic\"`",
        "where transactions travel: in the leader's proposal, or through a Narwhal-style mempool (the asonnino/hotstuff prototype's): each replica batches the transactions it receives, broadcasts each batch, and once `mempool_ack_quorum` replicas hold it proposes its digest when it leads; a replica votes for a block only when it holds every batch the block names (asking for missing ones), and a block is a header plus 32 bytes per digest";
    mempool_batch_bytes: Integer(1, U32_MAX), Int(500_000), "",
        "with the mempool: a batch is sealed once its transactions add up to this many bytes";
    mempool_max_batch_delay_ms: Number(TIMEOUT_MS), Num(100.0), "",
        "with the mempool: ...or this long after its first transaction arrived";
    mempool_ack_quorum: Integer(0, U32_MAX), Int(0), "{bounds}; at most n",
        "with the mempool: replicas that must hold a batch, its author included, before its digest may be proposed; 0 = n - f (the prototype's quorum)";
});

/// `[hotstuff]`: checked on its own, whatever the protocol.
fn read_section(c: &mut Ctx<'_>, top: &reader::Section<'_>, at: &Reading) -> Option<HotStuff> {
    use fields as F;
    let sec = c.section(top, "hotstuff");
    c.leaf_keys(&sec, &F::TABLE);
    let variant = c.pick(&sec, &F::variant, VARIANTS);
    let certificate = c.pick(&sec, &F::certificate, CERTIFICATES);
    let batch = c.whole::<u32>(&sec, &F::batch_size);
    let timeout = c.num(&sec, &F::view_timeout_ms);
    let backoff = c.num(&sec, &F::timeout_backoff);
    let max_timeout = c.num(&sec, &F::max_timeout_ms);
    let leader = c.pick(&sec, &F::leader, LEADERS);
    let order = read_leader_order(c, &sec, at.n.filter(|_| at.runs));
    let max_timeout = max_timeout.filter(|max| {
        let Some(timeout) = &timeout else { return true };
        let ok = max.v >= timeout.v;
        if !ok {
            let message = format!("max_timeout_ms ({}) must be >= view_timeout_ms ({})", max.v, timeout.v);
            // Point at whichever of the two the file states (the other is a default).
            let blamed = if max.at == Origin::Implicit { timeout } else { max };
            c.fail(blamed, message, Some("raise max_timeout_ms or lower view_timeout_ms".to_string()));
        }
        ok
    });
    let payload = read_payload(c, &sec, variant.as_ref().map(|v| v.v), at);
    let leader = leader.filter(|l| stable_leader_reaches_all(c, l, payload.map(|p| p.0), at));
    Some(HotStuff {
        payload: payload?.0,
        mempool_batch_bytes: payload?.1,
        mempool_max_batch_delay_ms: payload?.2,
        mempool_ack_quorum: payload?.3,
        variant: variant?.v,
        certificate: certificate?.v,
        batch_size: batch?.v,
        view_timeout_ms: timeout?.v,
        timeout_backoff: backoff?.v,
        max_timeout_ms: max_timeout?.v,
        leader: leader?.v,
        leader_order: order?,
    })
}

/// A stable leader proposes what it holds: with the payload in the proposal that is only the
/// transactions clients sent it, so every other client's would wait forever. Refused unless
/// clients send to every replica or the mempool hands every replica's batches to the leader.
fn stable_leader_reaches_all(
    c: &mut Ctx<'_>,
    leader: &reader::Val<LeaderPolicy>,
    payload: Option<Payload>,
    at: &Reading,
) -> bool {
    let stranded = at.runs
        && leader.v == LeaderPolicy::Stable
        && payload == Some(Payload::InProposal)
        && at.send_to_all == Some(false);
    if stranded {
        let help = "set [clients] send_to = \"all\", or [hotstuff] payload = \"mempool\", or another leader policy";
        c.fail(
            leader,
            "leader = \"stable\" with the payload in the proposal orders only the transactions clients send to the leader",
            Some(help.to_string()),
        );
    }
    !stranded
}

/// `leader_order = [2, 0, 3, 1]`: each replica id once (n of them, when n is known); empty when
/// absent.
fn read_leader_order(c: &mut Ctx<'_>, sec: &reader::Section<'_>, n: Option<u32>) -> Option<Vec<u32>> {
    let field = sec.field(fields::leader_order.key);
    let Some(node) = sec.get(fields::leader_order.key) else { return Some(Vec::new()) };
    let help = || Some("list every replica id once, like [2, 0, 3, 1] for n = 4, or remove leader_order".to_string());
    let Value::Array(items) = &node.value else {
        let message = format!("expected a list of replica ids, like [2, 0, 3, 1], found {}", found(&node.value));
        return c.bad(node, &field, message, help());
    };
    let hi = n.map_or(i128::from(u32::MAX), |n| i128::from(n) - 1);
    let mut ids = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_field = format!("{field}[{i}]");
        let id = c.node_int(item, &item_field, (0, hi))?;
        let id = u32::try_from(id).ok()?;
        if ids.contains(&id) {
            return c.bad(item, &item_field, format!("replica {id} is listed twice"), help());
        }
        ids.push(id);
    }
    match n {
        Some(n) if ids.len() != n as usize => {
            let message = format!("lists {} replicas, but replicas.n = {n}: it must list each of them once", ids.len());
            c.bad(node, &field, message, help())
        }
        _ => Some(ids),
    }
}

/// `payload` and the mempool's fields: the mempool is refused with basic HotStuff, and an
/// acknowledgement quorum above n.
fn read_payload(
    c: &mut Ctx<'_>,
    sec: &reader::Section<'_>,
    variant: Option<CommitRule>,
    at: &Reading,
) -> Option<(Payload, u32, f64, u32)> {
    use fields as F;
    let payload = c.pick(sec, &F::payload, PAYLOADS);
    let batch = c.whole::<u32>(sec, &F::mempool_batch_bytes);
    let delay = c.num(sec, &F::mempool_max_batch_delay_ms);
    let quorum = c.whole::<u32>(sec, &F::mempool_ack_quorum);
    let payload = payload.filter(|p| {
        let refused = p.v == Payload::Mempool && variant == Some(CommitRule::Basic);
        if refused {
            let help = "use variant = \"chained\" or \"two_chain\", or payload = \"in_proposal\"";
            c.fail(p, "payload = \"mempool\" is not supported with variant = \"basic\"", Some(help.to_string()));
        }
        !refused
    });
    let n = at.n.filter(|_| at.runs);
    let quorum = quorum.filter(|q| {
        let Some(n) = n.filter(|&n| q.v > n) else { return true };
        c.fail(
            q,
            format!("mempool_ack_quorum ({}) must be at most n ({n})", q.v),
            Some("lower it, or 0 for n - f".into()),
        );
        false
    });
    Some((payload?.v, batch?.v, delay?.v, quorum?.v))
}

impl Boundary for Module {
    type Behavior = Behavior;
    type Bug = hs::PlantedBug;
    type Config = Config;
    type Message = hs::HsMsg;
    type Section = HotStuff;
    const FIELDS: FieldTable = fields::TABLE;
    const NAME: &'static str = "hotstuff";
    const NODE: &'static str = "replica";
    const VIEW: &'static str = "view";
    const VIEWS_MONOTONE: bool = true;
    const SUMMARY_ROWS: SummaryRows = SummaryRows::Metrics(&[("views / view changes", "{views} / {view_changes}")]);
    const BEHAVIORS: &'static [Behavior] = &[
        Behavior::Silent,
        Behavior::Fork,
        Behavior::Equivocate,
        Behavior::WithholdVotes,
        Behavior::SlowLeader,
        Behavior::Twins,
        Behavior::WithholdBatches,
    ];
    const BUGS: &'static [hs::PlantedBug] = hs::PlantedBug::ALL;

    fn behavior_name(b: Behavior) -> &'static str {
        match b {
            Behavior::Correct => "correct",
            Behavior::Silent => "silent",
            Behavior::Fork => "fork",
            Behavior::Equivocate => "equivocate",
            Behavior::WithholdVotes => "withhold_votes",
            Behavior::SlowLeader => "slow_leader",
            Behavior::Twins => "twins",
            Behavior::WithholdBatches => "withhold_batches",
        }
    }

    fn twin() -> Option<Behavior> {
        Some(Behavior::Twins)
    }

    fn read(c: &mut Ctx<'_>, top: &reader::Section<'_>, at: &Reading) -> Option<HotStuff> {
        read_section(c, top, at)
    }

    fn write(h: &HotStuff) -> Result<Vec<(&'static str, toml::Value)>, String> {
        let mut keys = vec![
            ("variant", fields::variant.name_of(VARIANTS, h.variant).into()),
            ("certificate", fields::certificate.name_of(CERTIFICATES, h.certificate).into()),
            ("batch_size", i64::from(h.batch_size).into()),
            ("view_timeout_ms", h.view_timeout_ms.into()),
            ("timeout_backoff", h.timeout_backoff.into()),
            ("max_timeout_ms", h.max_timeout_ms.into()),
        ];
        // Written only when set, so that scenarios written before them read back byte for byte.
        if h.leader != LeaderPolicy::RoundRobin {
            keys.push(("leader", fields::leader.name_of(LEADERS, h.leader).into()));
        }
        if !h.leader_order.is_empty() {
            let order: Vec<toml::Value> = h.leader_order.iter().map(|&id| i64::from(id).into()).collect();
            keys.push(("leader_order", order.into()));
        }
        keys.extend(write_payload(h));
        Ok(keys)
    }

    fn fit(h: &mut HotStuff, n: u32, _: f64) {
        if h.leader_order.len() != n as usize {
            h.leader_order.clear();
        }
        h.mempool_ack_quorum = h.mempool_ack_quorum.min(n);
    }

    /// A leader policy, and the mempool with probability 1/2 where the variant allows it (its
    /// batch delay 50-100 ms: shorter delays with clients sending to every replica seal more batches than blocks of 16 digests can order at a few thousand tx/s, an overload the liveness bound cannot tell from a stall).
    fn swarm(h: &mut HotStuff, rng: &mut sim_core::SimRng, send_to_all: bool) -> Vec<String> {
        h.leader = LEADERS[rng.below(LEADERS.len() as u64) as usize];
        let mut drawn = Vec::new();
        if h.variant != CommitRule::Basic && rng.below(2) == 1 {
            h.payload = Payload::Mempool;
            h.mempool_max_batch_delay_ms = (50 + 10 * rng.below(6)) as f64;
            drawn.push(format!("payload mempool {} ms", h.mempool_max_batch_delay_ms));
        }
        if h.leader == LeaderPolicy::Stable && h.payload == Payload::InProposal && !send_to_all {
            h.leader = LeaderPolicy::Reputation; // stable would strand other replicas' clients
        }
        drawn.insert(0, format!("leader {}", fields::leader.name_of(LEADERS, h.leader)));
        drawn
    }

    fn tolerates(_: &HotStuff, n: u32, f: u32) -> bool {
        u64::from(n) > 3 * u64::from(f)
    }

    fn client_f(_: &HotStuff, f: u32) -> u32 {
        f
    }

    fn bug_name(b: hs::PlantedBug) -> &'static str {
        b.name()
    }

    fn explored_by(b: hs::PlantedBug) -> Option<(&'static str, &'static [&'static str])> {
        Some(match b {
            hs::PlantedBug::ReversedBlocks => ("scenarios/examples/ledger-hotstuff.toml", &[]),
            // Two twins at n = 7 lead views 5, 6, 12 and 13 and make double votes common.
            hs::PlantedBug::SeveralVotesPerView => ("scenarios/examples/twins-hotstuff-n7.toml", &[]),
            hs::PlantedBug::VoteWithoutBatches => ("scenarios/examples/mempool-hotstuff.toml", &[]),
            hs::PlantedBug::VoteIgnoringLock | hs::PlantedBug::QuorumMinusOne => {
                ("scenarios/examples/twins-hotstuff.toml", &[])
            }
        })
    }

    fn lower(h: &HotStuff, genesis_balance: u64, roles: &[Option<Behavior>], sim: &SimConfig) -> Config {
        let mempool = (h.payload == Payload::Mempool).then(|| MempoolConfig {
            batch_bytes: h.mempool_batch_bytes,
            max_batch_delay: Span::from_millis_f64(h.mempool_max_batch_delay_ms),
            ack_quorum: h.mempool_ack_quorum,
        });
        let hotstuff = HotStuffConfig {
            batch_size: h.batch_size as usize,
            view_timeout: Span::from_millis_f64(h.view_timeout_ms),
            backoff_permille: (h.timeout_backoff * 1000.0).round() as u64,
            max_timeout: Span::from_millis_f64(h.max_timeout_ms),
            list_certificates: h.certificate == Certificate::List,
            commit_rule: h.variant,
            leader: h.leader,
            leader_order: h.leader_order.clone(),
            mempool,
            // The twins play the network's own plan.
            twins: match &sim.adversary.mode {
                Mode::Twins(plan) => Some(plan.clone()),
                _ => None,
            },
            bug: None,
        };
        let roster = roles.iter().map(|r| r.unwrap_or(Behavior::Correct)).collect();
        Config { hotstuff, roster, genesis_balance }
    }

    fn plant(cfg: &mut Config, bug: hs::PlantedBug) {
        cfg.hotstuff.bug = Some(bug);
    }

    fn run(run: Run<'_>, workload: Box<dyn Workload>, cfg: &Config) -> Ran {
        let make = |id: sim_core::NodeId| {
            hs::HotStuff::with_behavior(cfg.hotstuff.clone(), cfg.roster[id.idx()], &cfg.roster)
                .with_genesis_balance(cfg.genesis_balance)
        };
        let sim = Simulation::new(run.sim.clone(), workload, make).with_monitor(Box::new(HotStuffMonitor::new()));
        let (result, states) = drive(sim, run);
        Ran { result, states, byzantine_stake_ppm: None }
    }
}

/// The payload fields that differ from their defaults (a file without them writes none).
fn write_payload(h: &HotStuff) -> Vec<(&'static str, toml::Value)> {
    let mut out: Vec<(&'static str, toml::Value)> = Vec::new();
    if h.payload != Payload::InProposal {
        out.push(("payload", fields::payload.name_of(PAYLOADS, h.payload).into()));
    }
    if h.mempool_batch_bytes != MEMPOOL_BATCH_BYTES {
        out.push(("mempool_batch_bytes", i64::from(h.mempool_batch_bytes).into()));
    }
    if h.mempool_max_batch_delay_ms != MEMPOOL_MAX_BATCH_DELAY_MS {
        out.push(("mempool_max_batch_delay_ms", h.mempool_max_batch_delay_ms.into()));
    }
    if h.mempool_ack_quorum != 0 {
        out.push(("mempool_ack_quorum", i64::from(h.mempool_ack_quorum).into()));
    }
    out
}
