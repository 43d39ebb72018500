//! The typed, validated scenario: what a scenario file means once every field has been checked.
//!
//! `parse.rs` builds it from TOML (with every problem reported at once); `lower.rs` turns it into
//! the sim-core configuration. Nothing here can be invalid: validation already refused n < 3f+1,
//! a zero rate, a region the matrix lacks, and so on.

use protocols::algorand::{AlgorandConfig, StakeDistribution, Topology, World};
use sim_core::{Message, Span, Streams, Time};
use traces::ReplayConfig;

/// A whole scenario, after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// `name`; defaults to the file stem.
    pub name: String,
    pub description: String,
    /// `seed`; overridden by `--seed`.
    pub seed: u64,
    pub protocol: ProtocolKind,
    /// Clients submit transactions during [0, duration_s).
    pub duration_s: f64,
    /// Transactions submitted before warmup_s are left out of latency and goodput.
    pub warmup_s: f64,
    /// The run continues this long after duration_s so that late transactions can finish.
    pub drain_s: f64,
    pub replicas: Replicas,
    pub clients: Clients,
    pub network: Network,
    pub faults: Faults,
    /// Replicas that do not follow the protocol, with what they do instead.
    pub byzantine: Vec<Byzantine>,
    /// Online checks beyond safety.
    pub checks: Checks,
    /// The network adversary: what it does to replica-to-replica messages.
    pub adversary: Adversary,
    pub workload: Workload,
    pub hotstuff: HotStuff,
    pub leaderless: Leaderless,
    pub algorand: Algorand,
    pub cpu: Cpu,
    pub limits: Limits,
    pub output: Output,
    /// `[explore]`: faults drawn per seed (swarm testing). `swarm::materialize` turns it into
    /// concrete faults before a run; a run never sees it.
    pub explore: Option<Explore>,
    /// The files the scenario reads (matrix, cost profile, trace), as opened: a results folder
    /// may never replace one of them.
    pub inputs: Vec<std::path::PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolKind {
    HotStuff,
    Leaderless,
    Algorand,
}

impl ProtocolKind {
    /// The name scenario files, tables and files use.
    pub fn name(self) -> &'static str {
        match self {
            ProtocolKind::HotStuff => "hotstuff",
            ProtocolKind::Leaderless => "leaderless",
            ProtocolKind::Algorand => "algorand",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Replicas {
    /// Replicas (Algorand: users, each with its stake).
    pub n: u32,
    /// Faults tolerated; default floor((n-1)/3). Validation requires n >= 3f+1. Always 0 under
    /// Algorand, whose safety rests on the Byzantine users' share of the stake instead.
    pub f: u32,
    /// One region name per replica; a shorter list is repeated in order (replica i gets
    /// regions[i % len]). Every name exists in the delay matrix (or the list is ["any"] when the
    /// network uses a uniform delay).
    pub regions: Vec<String>,
    /// 0 means unlimited.
    pub uplink_mbps: f64,
    pub downlink_mbps: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Clients {
    pub count: u32,
    /// Same convention as `Replicas::regions`.
    pub regions: Vec<String>,
    pub send_to: SendTo,
    /// Resend an unconfirmed transaction to the next replica after this long (never if None).
    pub retry_ms: Option<f64>,
    pub uplink_mbps: f64,
    pub downlink_mbps: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendTo {
    /// To the replica with the smallest one-way delay from the client (lowest id on ties).
    Nearest,
    /// To one replica drawn per transaction from the workload stream.
    Random,
    /// To every replica.
    All,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    pub delay: Delay,
    pub jitter: Jitter,
    /// Probability in [0, 1) that a replica-to-replica message is lost.
    pub loss: f64,
    /// Links deliver in send order (a later message never overtakes an earlier one).
    pub fifo: bool,
    /// `[[network.spikes]]`: windows of extra loss and delay between replicas.
    pub spikes: Vec<Spike>,
}

/// A loss and delay spike: replica-to-replica messages sent in [start_s, end_s) are lost with
/// probability `loss` (on top of `Network::loss`) and arrive `extra_delay_ms` later.
#[derive(Clone, Debug, PartialEq)]
pub struct Spike {
    pub start_s: f64,
    pub end_s: f64,
    pub loss: f64,
    pub extra_delay_ms: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Delay {
    /// The same one-way delay between any two nodes (and 0 inside a node).
    Uniform { one_way_ms: f64 },
    /// One-way delays in ms between named regions; `regions[i]` names row and column i.
    /// Built from a preset or a CSV file of round-trip times (one-way = RTT/2).
    Matrix { source: String, regions: Vec<String>, one_way_ms: Vec<Vec<f64>> },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Jitter {
    None,
    /// Added delay uniform in [0, max_ms].
    Uniform {
        max_ms: f64,
    },
    /// Added delay max(0, N(mean_ms, sd_ms)).
    Normal {
        mean_ms: f64,
        sd_ms: f64,
    },
    /// Added delay median_ms * exp(sigma * N(0,1)).
    LogNormal {
        median_ms: f64,
        sigma: f64,
    },
    /// Added delay scale_ms * (U^(-1/shape) - 1) (Pareto type II, heavy tail).
    Pareto {
        scale_ms: f64,
        shape: f64,
    },
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Faults {
    pub partitions: Vec<Partition>,
    pub crashes: Vec<Crash>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Partition {
    /// Replica ids; replicas listed in no group form one more group together.
    pub groups: Vec<Vec<u32>>,
    pub start_s: f64,
    pub heal_s: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Crash {
    pub replica: u32,
    pub at_s: f64,
    pub recover_s: Option<f64>,
}

/// One `[[byzantine]]` entry: a behaviour and the replicas that have it.
#[derive(Clone, Debug, PartialEq)]
pub struct Byzantine {
    pub behavior: Behavior,
    pub who: Who,
    /// Crash only: when the replicas stop, and (optionally) restart.
    pub at_s: Option<f64>,
    pub recover_s: Option<f64>,
}

/// Which replicas a `[[byzantine]]` entry covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Who {
    /// These ids (distinct, < n, in no other entry).
    Replicas(Vec<u32>),
    /// This many, drawn from the seed's `byzantine` stream among the replicas no entry names.
    Count(u32),
}

/// What a Byzantine replica does. None of them can sign as another replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {
    /// Stops at `at_s` (and restarts at `recover_s`, state intact).
    Crash,
    /// Drops everything, sends nothing.
    Silent,
    /// As leader, extends the parent of the block its highest QC certifies.
    Fork,
    /// Two faces: one run of the protocol for each half of the correct replicas: two blocks
    /// as leader, a vote for each as voter.
    Equivocate,
    /// Never votes.
    WithholdVotes,
    /// As leader, proposes just before the view times out.
    SlowLeader,
    /// HotStuff: two correct copies under one id, each in its group of the Twins adversary's
    /// per-view partitions (`[adversary] mode = "twins"`).
    Twins,
    /// Leaderless: dependency replies with no dependencies.
    OmitDeps,
    /// Leaderless: dependency replies naming commands no client signed.
    InventDeps,
    /// Leaderless: dependency replies adding real commands that do not conflict.
    IrrelevantDeps,
    /// Leaderless: a different (valid) reply, so the fast path fails.
    SpoilDifferent,
    /// Leaderless: no dependency replies at all.
    SpoilSilent,
    /// Leaderless: as coordinator, announces and never drives the command further.
    NeverCommit,
    /// Leaderless: as coordinator or view leader, proposes without a valid proof.
    ProposeWithoutProof,
    /// Leaderless: as coordinator, broadcasts a commit with a forged dependency set.
    ForgeCommit,
    /// Leaderless: pushes every command's payload to all and coordinates it too, racing the
    /// client's coordinator in view 0.
    ClaimCoordinator,
    /// Leaderless: as a view-0 coordinator or view leader, two values with their proofs to
    /// the two halves of the replicas, and a forged decision.
    EquivocateProposal,
    /// Leaderless: in view changes, nothing prepared and a late dependency answer.
    HidePrepared,
    /// Leaderless: in view changes, its oldest prepared certificate and a late answer.
    StalePrepared,
    /// Leaderless: claims every command and runs every PBFT attack at once.
    PbftAttack,
    /// Algorand: votes in every step both for its value and for the empty block. Leaderless:
    /// votes prepare and commit for every value it sees in a view.
    DoubleVote,
    /// Algorand: tells its neighbours every round, unasked, that the round decided the empty
    /// block (a catch-up reply without a certificate).
    FakeSync,
}

impl Behavior {
    /// The name scenario files and tables use.
    pub fn name(self) -> &'static str {
        match self {
            Behavior::Crash => "crash",
            Behavior::Silent => "silent",
            Behavior::Fork => "fork",
            Behavior::Equivocate => "equivocate",
            Behavior::WithholdVotes => "withhold_votes",
            Behavior::SlowLeader => "slow_leader",
            Behavior::Twins => "twins",
            Behavior::OmitDeps => "omit_deps",
            Behavior::InventDeps => "invent_deps",
            Behavior::IrrelevantDeps => "irrelevant_deps",
            Behavior::SpoilDifferent => "spoil_different",
            Behavior::SpoilSilent => "spoil_silent",
            Behavior::NeverCommit => "never_commit",
            Behavior::ProposeWithoutProof => "propose_without_proof",
            Behavior::ForgeCommit => "forge_commit",
            Behavior::ClaimCoordinator => "claim_coordinator",
            Behavior::EquivocateProposal => "equivocate_proposal",
            Behavior::HidePrepared => "hide_prepared",
            Behavior::StalePrepared => "stale_prepared",
            Behavior::PbftAttack => "pbft_attack",
            Behavior::DoubleVote => "double_vote",
            Behavior::FakeSync => "fake_sync",
        }
    }

    /// A replica's role as tables show it: its behaviour, or `correct`.
    pub fn name_of(role: Option<Behavior>) -> &'static str {
        role.map_or("correct", Behavior::name)
    }
}

/// The leaderless protocol's settings (`[leaderless]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Leaderless {
    pub variant: LeaderlessVariant,
    pub conflicts: Conflicts,
    pub fast_path_wait_ms: f64,
    pub view_timeout_ms: f64,
    pub recovery_timeout_ms: f64,
    pub genesis_balance: u64,
    /// When a reconfiguration command (a barrier that moves every replica to the next epoch)
    /// is submitted, by client 0.
    pub reconfigure_at_s: Vec<f64>,
    /// Wintermute prunes dependency sets below executed prefixes rounded down to a multiple
    /// of this many commands; 0 keeps every dependency (EPaxos never prunes).
    pub checkpoint_interval: u64,
}

/// The leaderless protocol's variant and conflict relation: the protocol's own.
pub use protocols::leaderless::Variant as LeaderlessVariant;
pub use protocols::ledger::ConflictRelation as Conflicts;

/// The Algorand baseline's settings (`[algorand]`): a preset's values, with the file's
/// overrides applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Algorand {
    pub preset: AlgorandPreset,
    pub topology: AlgorandTopology,
    /// Relays topology: users 0..relays are relays; 0 = n/100 of them, at least 20 (at most n).
    pub relays: u32,
    /// Relays topology: each relay links to this many other relays (at most all of them).
    pub relay_degree: u32,
    /// Links per user: random peers, or (relays topology) random relays for a non-relay user.
    pub fanout: u32,
    pub gossip_batch_ms: f64,
    pub block_max_bytes: u32,
    pub priority_wait_s: f64,
    pub block_wait_s: f64,
    pub step_timeout_s: f64,
    pub vrf_verify_us: f64,
    pub stake: Stake,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlgorandPreset {
    /// Today's network (go-algorand's consensus parameters, relays).
    Mainnet,
    /// Gilad et al., SOSP 2017 (random peers, the paper's committees and timeouts).
    Sosp2017,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlgorandTopology {
    Relays,
    Peers,
}

/// How stake is spread over Algorand users (the mean per user is the preset's).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stake {
    Equal,
    /// Pareto-distributed holdings with this shape (> 1).
    Pareto {
        shape: f64,
    },
}

/// The network adversary (`[adversary]`): it delays, holds or drops protocol messages between
/// replicas, never beyond `delay_max_ms` (drops aside).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Adversary {
    pub mode: AdversaryMode,
    /// The partial-synchrony bound: no message arrives more than this late because of the
    /// adversary. 0 when the mode is off.
    pub delay_max_ms: f64,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub enum AdversaryMode {
    #[default]
    Off,
    /// Each targeted message is dropped with probability `drop`, otherwise delayed with
    /// probability `delay` by a uniform amount up to `delay_max_ms` (draws from the seed's
    /// `adversary` stream). With `slow_replica`, one correct replica drawn per seed also gets
    /// every targeted message late (it lags and sees the run reordered).
    Random { targets: AdversaryTargets, delay: f64, drop: f64, slow_replica: bool },
    /// The first rule that matches a message acts on it; a message no rule matches passes.
    Scripted(Vec<AdversaryRule>),
    /// Twins (Bano et al.): views 1..=`partitioned_views` are partitioned into `groups` groups
    /// drawn from the seed (twins' copies apart); messages of such a view cross no group, until
    /// `partition_until_s`: a message sent from then on is not partitioned, whatever its view.
    Twins { partitioned_views: u64, groups: u8, partition_until_s: f64 },
}

/// Which message kinds the random adversary goes after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdversaryTargets {
    /// The protocol's critical kinds (`Message::CRITICAL_KINDS`; every kind if it names none).
    Critical,
    All,
    /// These kind names, each one of the protocol's (`Message::KINDS`).
    Kinds(Vec<String>),
}

/// One `[[adversary.rules]]` entry: every field given must match.
#[derive(Clone, Debug, PartialEq)]
pub struct AdversaryRule {
    /// Kind names of the protocol; empty: any kind.
    pub kinds: Vec<String>,
    pub from: Option<u32>,
    pub to: Option<u32>,
    /// Inclusive; a message without a view never matches a rule with one.
    pub views: Option<(u64, u64)>,
    pub action: AdversaryAction,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AdversaryAction {
    /// Arrives this much later (at most `delay_max_ms`).
    Delay {
        delay_ms: f64,
    },
    /// Arrives no earlier than this time (and no more than `delay_max_ms` late).
    Hold {
        until_s: f64,
    },
    Drop,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Checks {
    /// Liveness: after the last fault ends (crash, recovery, partition heal), every transaction
    /// commits within this bound. `None`: no liveness check.
    pub liveness_bound_s: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    /// Gaps between arrivals (of the synthetic generator, or of a replayed rate curve).
    pub arrivals: Arrivals,
    /// Transactions per second offered by all clients together; > 0. With a trace, the mean
    /// rate of the replayed part (computed at validation, for reports).
    pub rate_tps: f64,
    /// Number of accounts; >= 2. A per-transaction trace's accounts are taken modulo it (by
    /// default it is their number, so none are merged).
    pub accounts: u32,
    /// Zipf exponent of account popularity; 0 = uniform.
    pub zipf_s: f64,
    /// Size of a transaction (unless a per-transaction trace gives its own).
    pub tx_size_bytes: u32,
    /// `None`: the synthetic generator at `rate_tps` (`source = "synthetic"`). `Some`: a trace,
    /// read and checked at validation, replayed instead.
    pub trace: Option<TraceReplay>,
}

/// A trace replayed as the workload (`[workload] source` other than `"synthetic"`).
#[derive(Clone, Debug, PartialEq)]
pub struct TraceReplay {
    pub source: TraceSource,
    /// The file as the scenario names it, or the preset's name.
    pub name: String,
    /// Diablo: the curve of the file replayed (`workload_id`).
    pub workload_id: Option<String>,
    /// The parsed trace (shared: cloning a scenario does not copy it).
    pub trace: traces::Trace,
    /// Trace time skipped before the replay starts.
    pub start_s: f64,
    /// Trace time replayed from `start_s`; None: to the end of the trace.
    pub window_s: Option<f64>,
    /// Trace seconds per simulated second (5 = five times faster).
    pub time_scale: f64,
    /// Share of the trace's transactions offered (a curve's rate is multiplied by it).
    pub rate_scale: f64,
    pub clients_by: ClientsBy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceSource {
    /// A CSV file of transactions (`timestamp_s, sender, receiver, amount[, size_bytes]`).
    Transactions,
    /// A CSV rate series (`t_s, rate_tps`).
    Rates,
    /// NASDAQ per-second trade counts per stock.
    Nasdaq,
    /// One curve of the Diablo benchmark's rate-curves file.
    Diablo,
    /// A built-in rate curve.
    Preset,
}

/// Which client submits each transaction of a trace (and so from which region): the replay's own.
pub use traces::ClientsBy;

/// Gaps between a client's transactions: the generator's own process.
pub use traces::ArrivalProcess as Arrivals;

#[derive(Clone, Debug, PartialEq)]
pub struct HotStuff {
    pub variant: HotStuffVariant,
    pub certificate: Certificate,
    pub batch_size: u32,
    pub view_timeout_ms: f64,
    /// Multiplier of the view timeout after each consecutive timeout; 1 = no backoff.
    pub timeout_backoff: f64,
    pub max_timeout_ms: f64,
}

/// How a quorum certificate carries its n-f signatures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Certificate {
    /// One aggregate BLS signature plus a signer bitmap; verified once.
    Aggregate,
    /// The n-f signatures themselves (as the HotStuff paper's secp256k1 certificates);
    /// verified one by one.
    List,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HotStuffVariant {
    /// Three-chain commit rule.
    Chained,
    /// Two-chain commit rule (Jolteon / DiemBFT v4).
    TwoChain,
    /// Basic (unchained) HotStuff: prepare, pre-commit, commit and decide on one block per view.
    Basic,
}

/// The replicas' CPU model: a queue with `cores` servers.
#[derive(Clone, Debug, PartialEq)]
pub struct Cpu {
    /// 0 = no CPU model: handlers take no time.
    pub cores: u32,
    /// Cost of handling any message, timer or request.
    pub base_us: f64,
    /// Cost per KiB of a received message.
    pub per_kib_us: f64,
    pub crypto: CryptoMode,
    pub profile: CostProfile,
    /// Verifying a client's (Ed25519-class) signature on a transaction.
    pub client_verify_us: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CryptoMode {
    /// Signatures are unforgeable tokens; operations are charged from the cost profile.
    Modeled,
    /// The same, backed by real BLS12-381 signatures (blst) that are really verified: slower in
    /// wall time, the same simulated run.
    Real,
}

/// What each crypto operation costs one core, in microseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct CostProfile {
    pub name: String,
    pub sign_us: f64,
    pub verify_us: f64,
    pub aggregate_per_sig_us: f64,
    pub verify_aggregate_us: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    pub max_events: u64,
    /// Events pending in the engine's queue.
    pub max_queue: u64,
    /// Inputs waiting for a core, per replica.
    pub max_cpu_queue: u64,
    /// Transactions submitted over the run.
    pub max_transactions: u64,
    /// Events at one virtual instant before the run counts as stalled.
    pub max_stalled_events: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    /// Width of a timeseries.csv window.
    pub window_s: f64,
    /// Write latency.csv (one row per transaction).
    pub latency_csv: bool,
    /// Records the flight recorder keeps (shown after a violation).
    pub flight_records: usize,
}

/// `[explore]`: what each seed draws, on top of the faults the file fixes. Every seed first
/// draws which of `kinds` are on (each with probability 1/2), then their parameters, all from
/// the seed's `explore/...` streams (see `swarm.rs`).
#[derive(Clone, Debug, PartialEq)]
pub struct Explore {
    /// The kinds a seed may turn on, in `FaultKind` order, each once.
    pub kinds: Vec<FaultKind>,
    /// Allow more than f faulty replicas (crashed at some point, or Byzantine).
    pub beyond_f: bool,
    /// Crashed replicas drawn at most (within the budget of faulty replicas).
    pub max_crashes: u32,
    /// Byzantine replicas drawn at most (within the same budget).
    pub max_byzantine: u32,
    pub max_partitions: u32,
    /// Loss spikes drawn at most, and delay spikes drawn at most.
    pub max_spikes: u32,
    /// Drawn faults start and end within [from_s, to_s].
    pub from_s: f64,
    pub to_s: f64,
    /// The longest partition or spike.
    pub max_window_s: f64,
    /// A loss spike loses at most this share of messages.
    pub loss_max: f64,
    /// A delay spike adds at most this much.
    pub extra_delay_max_ms: f64,
    /// The Byzantine behaviours drawn from (names of the protocol's); empty: every one that
    /// needs no other setting.
    pub behaviors: Vec<Behavior>,
}

/// What a swarm seed can turn on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    Crash,
    Partition,
    Byzantine,
    Loss,
    Delay,
    Adversary,
}

impl FaultKind {
    pub const ALL: [FaultKind; 6] = [
        FaultKind::Crash,
        FaultKind::Partition,
        FaultKind::Byzantine,
        FaultKind::Loss,
        FaultKind::Delay,
        FaultKind::Adversary,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Crash => "crash",
            FaultKind::Partition => "partition",
            FaultKind::Byzantine => "byzantine",
            FaultKind::Loss => "loss",
            FaultKind::Delay => "delay",
            FaultKind::Adversary => "adversary",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What validation and lowering both derive from a scenario (so that validation checks exactly
// what a run gets, without depending on the lowering)
// ---------------------------------------------------------------------------------------------

/// The names of a protocol's message kinds (`Message::KINDS`), which `[adversary]` uses.
pub fn message_kinds(protocol: ProtocolKind) -> &'static [&'static str] {
    match protocol {
        ProtocolKind::HotStuff => <protocols::hotstuff::HsMsg as Message>::KINDS,
        ProtocolKind::Leaderless => <protocols::leaderless::types::Envelope as Message>::KINDS,
        ProtocolKind::Algorand => <protocols::algorand::Msg as Message>::KINDS,
    }
}

/// The protocol's configuration of a preset (validation takes its defaults from it).
pub fn algorand_preset(preset: AlgorandPreset) -> AlgorandConfig {
    match preset {
        AlgorandPreset::Mainnet => AlgorandConfig::mainnet(),
        AlgorandPreset::Sosp2017 => AlgorandConfig::sosp2017(),
    }
}

/// The Algorand preset with the scenario's `[algorand]` values.
pub fn algorand_config(a: &Algorand) -> AlgorandConfig {
    let preset = algorand_preset(a.preset);
    let per_user = match preset.stake {
        StakeDistribution::Equal { per_user } => per_user,
        StakeDistribution::Pareto { mean_per_user, .. } => mean_per_user,
    };
    AlgorandConfig {
        fanout: a.fanout,
        topology: match a.topology {
            AlgorandTopology::Relays => Topology::Relays { relays: a.relays, relay_degree: a.relay_degree },
            AlgorandTopology::Peers => Topology::Peers,
        },
        gossip_batch: Span::from_millis_f64(a.gossip_batch_ms),
        block_max_bytes: a.block_max_bytes,
        priority_wait: Span::from_secs_f64(a.priority_wait_s),
        block_wait: Span::from_secs_f64(a.block_wait_s),
        step_timeout: Span::from_secs_f64(a.step_timeout_s),
        vrf_verify: Span::from_nanos_f64(a.vrf_verify_us * 1e3),
        stake: match a.stake {
            Stake::Equal => StakeDistribution::Equal { per_user },
            Stake::Pareto { shape } => StakeDistribution::Pareto { shape, mean_per_user: per_user },
        },
        ..preset
    }
}

/// What every Algorand user knows before the first round (stakes, gossip graph, keys), drawn
/// from the seed's `algorand` stream: the same for the run and for validation.
pub fn algorand_world(cfg: &AlgorandConfig, n_users: u32, seed: u64) -> World {
    World::new(cfg, n_users, &mut Streams::new(seed).stream("algorand"))
}

/// How to replay a trace workload over a run of `duration_s` with `n_clients` clients
/// (validation builds the same to check that the replay offers something).
pub fn replay_config(w: &Workload, t: &TraceReplay, duration_s: f64, n_clients: u32) -> ReplayConfig {
    ReplayConfig {
        trace: t.trace.clone(),
        start: Span::from_secs_f64(t.start_s),
        window: t.window_s.map(Span::from_secs_f64),
        time_scale: t.time_scale,
        rate_scale: t.rate_scale,
        process: w.arrivals,
        until: Time::from_secs_f64(duration_s),
        n_clients,
        clients_by: t.clients_by,
        accounts: w.accounts,
        zipf_s: w.zipf_s,
        tx_size_bytes: w.tx_size_bytes,
    }
}

/// Who misbehaves: the ids of each `[[byzantine]]` entry, named replicas first, then each
/// `count` drawn from the seed's `byzantine` stream among the replicas not yet taken and not
/// crashing in `[[faults.crashes]]` (validation made sure there are enough), in entry order.
/// Validation calls it too, to weigh the Algorand stake of exactly the users a run gets.
pub fn assign_byzantine(s: &Scenario) -> Vec<Vec<u32>> {
    let mut taken = vec![false; s.replicas.n as usize];
    let mut per_entry: Vec<Vec<u32>> = s
        .byzantine
        .iter()
        .map(|e| match &e.who {
            Who::Replicas(ids) => ids.clone(),
            Who::Count(_) => Vec::new(),
        })
        .collect();
    per_entry.iter().flatten().for_each(|&id| taken[id as usize] = true);
    s.faults.crashes.iter().for_each(|c| taken[c.replica as usize] = true);
    let mut rng = Streams::new(s.seed).stream("byzantine");
    for (entry, ids) in s.byzantine.iter().zip(per_entry.iter_mut()) {
        let Who::Count(count) = entry.who else { continue };
        for _ in 0..count {
            let free: Vec<u32> = (0..s.replicas.n).filter(|&i| !taken[i as usize]).collect();
            assert!(!free.is_empty(), "validated: fewer Byzantine replicas than replicas");
            let id = free[rng.below(free.len() as u64) as usize];
            taken[id as usize] = true;
            ids.push(id);
        }
    }
    per_entry
}
