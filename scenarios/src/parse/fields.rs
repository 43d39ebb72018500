//! Every scenario field, declared once: its name, type, default, bounds and one line of doc.
//!
//! The declarations drive the reader (known keys, bounds, defaults), the reference tables of
//! docs/scenarios.md (`fill_docs`, run by `cargo xtask docs`) and the JSON Schema for editors
//! (`schema_json`, printed by `byzsim schema`). A field's unit is the end of its name
//! (`_ms`, `_s`, `_mbps`, `_tps`, ...), as everywhere in byzsim.

use serde_json::{Map, Value as Json, json};
use sim_core::{CryptoMode, SendPolicy};

use super::{MAX_CLIENTS, MAX_FLIGHT_RECORDS, MAX_RATE_TPS, MAX_TX_SIZE_BYTES, MIN_TX_SIZE_BYTES};
use crate::reader::{
    Bounds, Dflt, Field, FieldTable, MAX_TIME_MS, MAX_TIME_S, MBPS, NON_NEGATIVE, POSITIVE_TIME_S, TIME_MS, TIME_S,
    TIMEOUT_MS, Ty, number_kind, table,
};

/// Protocols by name (`protocol = "..."`), in the order of `ProtocolKind::ALL`.
pub(super) const PROTOCOL_NAMES: &[&str] = crate::protocols::ProtocolKind::NAMES;
const U32_MAX: i128 = u32::MAX as i128;
/// The values of `clients.send_to` and `cpu.crypto` (the core's enums), in the order of their
/// declared names: the reader and the writer share them.
pub(crate) const SEND_POLICIES: &[SendPolicy] =
    &[SendPolicy::Nearest, SendPolicy::Random, SendPolicy::All, SendPolicy::Spread];
pub(crate) const CRYPTO_MODES: &[CryptoMode] = &[CryptoMode::Modeled, CryptoMode::Real];
const U64_MAX: i128 = u64::MAX as i128;
/// The most transactions a closed-loop client keeps in flight.
pub(crate) const MAX_OUTSTANDING: i128 = 1_000_000;
const PROBABILITY: Bounds = Bounds::at_least(0.0).below(1.0);

table!(top, "", "top", list = false, {
    name: Text, Computed("file name without extension"),
        "not empty; no `/`, `\\`, control characters or leading `.`",
        "names the run; the results folder is `results/<name>-seed<seed>`";
    description: Text, Str(""), "any", "free text";
    seed: Integer(0, U64_MAX), Int(1), "", "the one seed of every random stream of the run; `--seed` overrides it";
    protocol: OneOf(PROTOCOL_NAMES), Str("hotstuff"), "",
        "the consensus protocol: HotStuff (`[hotstuff]`), leaderless BFT (`[leaderless]`) or Algorand (`[algorand]`)";
    duration_s: Number(POSITIVE_TIME_S), Required("30"), "", "clients submit transactions during [0, `duration_s`)";
    warmup_s: Number(TIME_S), Num(0.0), "{bounds}; < `duration_s`",
        "transactions submitted before it are left out of latency and goodput: the measurement window is [`warmup_s`, `duration_s`)";
    drain_s: Number(TIME_S), Num(0.0), "",
        "the run continues this long after `duration_s` so late transactions can finish; the run ends at `duration_s + drain_s`";
});

table!(replicas, "replicas", "replicas", list = false, {
    n: Integer(1, crate::protocols::ProtocolKind::MAX_NODES), Required("4"), "1 to 1024; Algorand: {bounds}",
        "number of replicas (Algorand: users), ids 0 to n-1";
    f: Integer(0, U32_MAX), Computed("(n-1)/3 rounded down"), "n >= 3f+1",
        "faults tolerated: quorums are sized for it. Algorand ignores it (it is 0, and not checked): its safety rests on stake, see [`[algorand]`](#algorand)";
    regions: Strings, Computed("see below"), "at least one; each a region of the matrix",
        "replica i is in `regions[i % len]`: a shorter list is repeated in order, entries beyond n are unused";
    uplink_mbps: Number(MBPS), Num(0.0), "", "each replica's upload bandwidth in Mbit/s; 0 = unlimited";
    downlink_mbps: Number(MBPS), Num(0.0), "", "each replica's download bandwidth in Mbit/s; 0 = unlimited";
});

table!(clients, "clients", "clients", list = false, {
    count: Integer(1, MAX_CLIENTS), Int(1), "", "number of clients; the workload's rate is shared among them";
    regions: Strings, Computed("the replicas' `regions`"), "as `replicas.regions`", "client i is in `regions[i % len]`";
    send_to: OneOf(&["nearest", "random", "all", "spread"]), Str("nearest"), "{bounds} (not \"all\" with Algorand)",
        "where a client sends each transaction: the replica with the smallest one-way delay from it (lowest id on ties); one replica drawn at random per transaction; every replica; each replica in turn (client i's k-th transaction to replica (i + k) mod n: the same share of every client's load at each replica)";
    retry_ms: Number(TIMEOUT_MS), Absent("none"), "",
        "a client that holds no f+1 matching replies this long after sending resends the transaction to the next replica (by id, after the one it tried), and again after as long, at most once per replica; absent: clients never resend, so a transaction sent only to a silent replica is lost";
    uplink_mbps: Number(MBPS), Num(0.0), "", "each client's upload bandwidth in Mbit/s; 0 = unlimited";
    downlink_mbps: Number(MBPS), Num(0.0), "", "each client's download bandwidth in Mbit/s; 0 = unlimited";
    r#loop: OneOf(&["open", "closed"]), Str("open"), "",
        "open: each transaction is submitted at its workload time, whatever became of the earlier ones; closed: each client keeps `outstanding` transactions in flight and submits the next one `think_ms` after one confirms, taking the workload's transactions in order and ignoring their times (not with `workload.rate_tps`), until `duration_s` or the end of a trace";
    outstanding: Integer(1, MAX_OUTSTANDING), Absent("none"), "{bounds}; required with `loop = \"closed\"`, only there",
        "transactions each closed-loop client keeps in flight (submitted at time 0, then one per confirmation)";
    think_ms: Number(TIME_MS), Absent("0"), "{bounds}; `loop = \"closed\"` only",
        "pause between a confirmation and the closed-loop client's next submission";
    queue_limit: Integer(1, U32_MAX), Absent("unbounded"), "",
        "client requests a replica holds waiting for a core; one more is dropped or pushed back (`overload`). Protocol messages are never bounded: dropping a vote or a proposal would break the protocol's own assumptions, not model overload";
    overload: OneOf(&["drop", "push_back"]), Absent("\"drop\""), "{bounds}; with `queue_limit` only",
        "what a replica with a full request queue does with one more request: drops it silently (only `retry_ms` resends it; not with a closed loop without `retry_ms`), or answers at once with a small busy reply, after which the client resends to it after `backoff_ms`";
    backoff_ms: Number(Bounds::above(0.0).at_most(MAX_TIME_MS)), Absent("10"), "{bounds}; `overload = \"push_back\"` only",
        "a pushed-back client's wait before resending, doubled at each push-back of the same transaction";
    backoff_max_ms: Number(Bounds::above(0.0).at_most(MAX_TIME_MS)), Absent("1000"), "{bounds}; >= `backoff_ms`; `overload = \"push_back\"` only",
        "the longest back-off";
});

table!(network, "network", "network", list = false, {
    matrix: Text, Absent("none"), "`\"gcp2019\"`, `\"aws2020\"`; one delay source only",
        "a built-in matrix of delays between regions (see [Presets](#presets))";
    matrix_file: Text, Absent("none"), "a CSV file; one delay source only",
        "a file of round-trip times (see [Matrix files](#matrix-files)); a relative path is relative to the scenario file's directory (but to the current directory when given with `--set`)";
    uniform_delay_ms: Number(TIME_MS), Num(10.0), "{bounds}; one delay source only",
        "the same one-way delay between any two distinct nodes (the default delay source)";
    jitter: Jitter, Absent("none"), "see below", "extra delay drawn for every message";
    loss: Number(PROBABILITY), Num(0.0), "", "probability that a replica-to-replica message is lost";
    fifo: Boolean, Bool(true), "",
        "links deliver in send order: a later message never overtakes an earlier one, whatever the jitter";
});

table!(spikes, "network.spikes", "network.spikes", list = true, {
    start_s: Number(TIME_S), Required("5"), "{bounds}; before the end of the run", "messages sent from then on are hit";
    end_s: Number(TIME_S), Required("6"), "{bounds}; > `start_s`", "messages sent from then on are not";
    loss: Number(PROBABILITY), Num(0.0), "", "probability that a message sent in the window is lost (on top of `loss`)";
    extra_delay_ms: Number(TIME_MS), Num(0.0), "",
        "added to each message sent in the window (a FIFO link still delivers in order)";
});

table!(faults, "faults", "faults", list = false, {});

table!(partitions, "faults.partitions", "faults.partitions", list = true, {
    groups: IntGroups, Required("[[0, 1], [2, 3]]"),
        "1 to 63 non-empty groups; replica ids < n, each at most once per group",
        "replicas that can talk to each other; replicas listed in no group form one more group together";
    start_s: Number(TIME_S), Required("5"), "{bounds}; before the end of the run", "when the partition starts";
    heal_s: Number(TIME_S), Required("15"), "{bounds}; > `start_s`", "when it heals; after the end of the run means never";
});

table!(crashes, "faults.crashes", "faults.crashes", list = true, {
    replica: Integer(0, U32_MAX), Required("0"), "0 to n-1", "the replica";
    at_s: Number(TIME_S), Required("5"),
        "{bounds}; before the end of the run; not while that replica is already down", "when it crashes";
    recover_s: Number(TIME_S), Absent("none"), "{bounds}; > `at_s`",
        "when it recovers and rejoins; absent (or after the end of the run) means never";
});

table!(byzantine, "byzantine", "byzantine", list = true, {
    behavior: OneOf(crate::protocols::BEHAVIOR_NAMES), Required("\"silent\""), "the protocol's, see below", "what the replicas do";
    replicas: Ints, Computed("exactly one of `replicas` and `count`"),
        "at least one; distinct replica ids < n; in no other entry and in no `[[faults.crashes]]` entry",
        "the Byzantine replicas, by id";
    count: Integer(1, U32_MAX), Computed("exactly one of `replicas` and `count`"), "",
        "this many replicas, drawn from the seed's `byzantine` stream among the replicas no entry names";
    at_s: Number(TIME_S), Computed("required for `\"crash\"`"), "`\"crash\"` only; {bounds}; before the end of the run",
        "when the replicas stop";
    recover_s: Number(TIME_S), Absent("none"), "`\"crash\"` only; {bounds}; > `at_s`",
        "when they restart; absent (or after the end of the run) means never";
});

table!(checks, "checks", "checks", list = false, {
    liveness_bound_s: Number(POSITIVE_TIME_S), Absent("none"), "",
        "liveness: every transaction submitted after the last fault ends (the latest crash or recovery, of `[[faults.crashes]]` or of a `\"crash\"` behaviour, partition heal, or the Twins adversary's `partition_until_s`, capped at the end of the run; 0 without faults) must, within this many seconds, be committed and executed by a correct replica and confirmed by its client (f+1 matching replies; under Algorand, the one reply), else the run stops with exit code 3 and the `liveness` invariant, whose detail names the stage the transaction missed and the progress (transactions pending, and confirmed over the last bound). Once committed, a transaction the ledger holds behind its account's earlier nonce has the bound from when that one executed (an earlier nonce submitted before the fault ended, or pushed back by a full request queue, may legitimately wait). Unless the backlog explains it: when the pending transactions would take more than half the bound to drain at the last bound's rate of confirmations, the run is overloaded, not stuck; it goes on (summary.json `liveness_backlog`, a warning on stderr, `explore` counts it apart) and the check keeps watching for a bound with no confirmation at all. Absent: no liveness check";
});

table!(adversary, "adversary", "adversary", list = false, {
    mode: OneOf(&["off", "random", "scripted", "twins"]), Str("off"), "",
        "no adversary (then no other field may be given); a random one; a script of rules (`[[adversary.rules]]`, below, at least one); or the Twins generator's per-view partitions";
    delay_max_ms: Number(TIMEOUT_MS), Computed("required for `\"random\"` and `\"scripted\"`"), "",
        "the partial-synchrony bound: the adversary delays no message by more than this";
    targets: Targets, Str("critical"),
        "`\"random\"` only; `\"critical\"`, `\"all\"`, or a non-empty list of distinct kind names of the protocol",
        "the kinds the random adversary acts on: the protocol's critical kinds (proposals, votes, certificates, view changes), every kind, or these";
    delay: Number(Bounds::at_least(0.0).at_most(1.0)), Num(0.0), "`\"random\"` only; {bounds}",
        "probability that a targeted message (not dropped) is delayed, by an amount drawn uniformly in [0, `delay_max_ms`]";
    drop: Number(PROBABILITY), Num(0.0),
        "`\"random\"` only; {bounds}; `delay`, `drop` and `slow_replica` not all 0 / false",
        "probability that a targeted message is dropped";
    slow_replica: Boolean, Bool(false), "`\"random\"` only",
        "per seed, pick one correct replica (from the seed's `adversary/slow` stream) and delay every targeted message to it that is not dropped, by an amount drawn uniformly in [0, `delay_max_ms`]: it executes behind the others and sees decisions out of order";
    partitioned_views: Integer(1, sim_core::adversary::TWINS_VIEWS_MAX as i128), Int(10), "`\"twins\"` only; {bounds}",
        "views 1 to this one are partitioned; later views are not, so the network heals";
    groups: Integer(2, sim_core::adversary::TWINS_GROUPS_MAX as i128), Int(2), "`\"twins\"` only; {bounds}",
        "groups per partitioned view";
    partition_until_s: Number(POSITIVE_TIME_S), Computed("`duration_s / 2`"),
        "`\"twins\"` only; {bounds}; at most `duration_s + drain_s`",
        "the partitions end at this time whatever the view: a message sent from then on crosses every group (a message dropped before stays lost; one in flight arrives as it would). It counts as the end of a fault for `liveness_bound_s`. At the end of the run: the partitions end only by view";
});

table!(rules, "adversary.rules", "adversary.rules", list = true, {
    kinds: Strings, Absent("any kind"), "non-empty; distinct kind names of the protocol", "the message kinds it matches";
    from: Integer(0, U32_MAX), Absent("any sender"), "0 to n-1", "the sending replica";
    to: Integer(0, U32_MAX), Absent("any receiver"), "0 to n-1; not `from`", "the receiving replica";
    views: Views, Absent("any view"), "`[first, last]`, first <= last; not under Algorand",
        "the views (inclusive) of the messages it matches; a message without a view (block fetches, payloads) never matches a rule with `views`";
    action: OneOf(&["delay", "hold", "drop"]), Required("\"drop\""), "", "what happens to a matching message";
    delay_ms: Number(TIME_MS), Computed("required for `\"delay\"`"), "`\"delay\"` only; {bounds}; <= `delay_max_ms`",
        "it arrives this much later";
    until_s: Number(TIME_S), Computed("required for `\"hold\"`"), "`\"hold\"` only; {bounds}; before the end of the run",
        "it arrives no earlier than this time, and no more than `delay_max_ms` late";
});

table!(explore, "explore", "explore", list = false, {
    kinds: Names(&["crash", "partition", "byzantine", "loss", "delay", "adversary"]), Absent("every kind"),
        "{bounds}, each once", "the kinds a seed may turn on";
    beyond_f: Boolean, Bool(false), "",
        "allow more than f faulty replicas (up to n-1); by default the replicas that crash at some point plus the Byzantine ones, drawn or fixed, are at most f";
    max_crashes: Integer(0, 1024), Computed("f"), "{bounds}; < n",
        "crashed replicas a seed draws at most (each recovers with probability 1/2)";
    max_byzantine: Integer(0, 1024), Computed("f"), "{bounds}; < n", "Byzantine replicas a seed draws at most";
    max_partitions: Integer(0, crate::parse::explore::MAX_DRAWN), Int(2), "",
        "partitions a seed draws at most (two or three groups covering every replica)";
    max_spikes: Integer(0, crate::parse::explore::MAX_DRAWN), Int(2), "", "loss spikes, and delay spikes, a seed draws at most";
    from_s: Number(TIME_S), Num(0.0), "", "drawn faults start no earlier";
    to_s: Number(POSITIVE_TIME_S), Computed("`duration_s / 2`"), "{bounds}; > `from_s`, within the run",
        "drawn faults start before, and end (heal, recover) by, this time";
    max_window_s: Number(Bounds::at_least(0.001).at_most(MAX_TIME_S)), Computed("(`to_s` - `from_s`) / 2"), "",
        "the longest partition or spike";
    loss_max: Number(Bounds::above(0.0).below(1.0)), Num(0.3), "",
        "the most a loss spike loses (drawn in whole percent from 1%)";
    extra_delay_max_ms: Number(Bounds::at_least(1.0).at_most(MAX_TIME_MS)), Num(100.0), "",
        "the most a delay spike adds, and the random adversary's `delay_max_ms` at most";
    behaviors: Strings, Absent("every one"), "the protocol's `[[byzantine]]` behaviours but `crash` and `twins`",
        "what a drawn Byzantine replica does (one drawn per replica)";
    settings: Boolean, Bool(false), "",
        "also draw, per seed and from its `explore/settings` stream, the clients' loop (`outstanding`, `think_ms`; the workload's `rate_tps` then goes), a request queue (`queue_limit`, `overload`), `cpu.request_cores` and the protocol's own settings (HotStuff: `leader`, and `payload = \"mempool\"` unless `variant = \"basic\"`); `byzsim explore --swarm` sets it";
});

table!(workload, "workload", "workload", list = false, {
    source: OneOf(&["synthetic", "transactions", "rates", "nasdaq", "diablo", "preset"]), Str("synthetic"), "",
        "where transactions come from: the generator configured by the fields below, or a trace";
    arrivals: OneOf(&["poisson", "constant"]), Str("poisson"), "",
        "exponential or equal gaps between a client's transactions (a rate series: see each source)";
    rate_tps: Number(Bounds::above(0.0).at_most(MAX_RATE_TPS)), Required("1000"),
        "{bounds}; `rate_tps` x `duration_s` at most `limits.max_transactions`; synthetic only",
        "transactions per second offered by all clients together";
    accounts: Integer(2, U32_MAX), Int(1000), "",
        "number of accounts transactions transfer between (a transactions trace: by default its own senders and receivers); only accounts a run touches take memory (above 4,194,304 accounts with `zipf_s` > 0, accounts are drawn by rejection-inversion instead of from a table)";
    zipf_s: Number(NON_NEGATIVE), Num(0.0), "not with `\"transactions\"`",
        "Zipf exponent of account popularity; 0 = uniform, larger = a few hot accounts";
    tx_size_bytes: Integer(MIN_TX_SIZE_BYTES, MAX_TX_SIZE_BYTES), Int(256), "",
        "size of a transaction on the wire (a transactions file's `size_bytes` column wins; 0 models the empty payloads of the HotStuff paper's benchmarks)";
});

table!(trace, "workload", "workload.trace", list = false, {
    file: Text, Required("\"trace.csv\""), "a trace file of the source's format",
        "the trace file, relative to the scenario file's directory (to the current directory from `--set`)";
    workload_id: Text, Required("\"smart-dota\""), "`\"diablo\"` only; a curve of the file", "which curve of the Diablo file";
    preset: Text, Required("\"dota2\""), "`\"preset\"` only; a built-in curve (below)", "the built-in curve";
    interpolate: OneOf(&["step", "linear"]), Computed("`\"step\"` (Diablo: its convention)"), "not with `\"transactions\"` or `\"nasdaq\"`",
        "a rate curve between its points: each row's rate holds until the next row, or moves linearly";
    start_s: Number(TIME_S), Num(0.0), "{bounds}; before the end of the trace", "trace time skipped before the replay starts";
    window_s: Number(POSITIVE_TIME_S), Absent("to the end"), "", "how much trace time to replay from `start_s`";
    time_scale: Number(Bounds::above(0.0).at_most(crate::parse::workload::MAX_TIME_SCALE)), Num(1.0), "",
        "trace seconds per simulated second: `5` replays five times faster (and five times denser); `0.5` at half speed";
    rate_scale: Number(Bounds::above(0.0).at_most(crate::parse::workload::MAX_RATE_SCALE)), Num(1.0),
        "{bounds}; at most 1 for `\"transactions\"`",
        "share of the transactions offered: a curve's rate is multiplied by it; NASDAQ counts are multiplied by it (each second's count rounded up or down at random, keeping the mean); per-transaction rows are each kept with this probability";
    clients_by: OneOf(&["round_robin", "sender"]), Str("round_robin"), "",
        "which client submits each transaction: in turn (transaction k to client k mod `clients.count`), or by a hash of the sender's account, so that a sender always submits through the same client and so from the same region (`clients.regions`)";
});

table!(cpu, "cpu", "cpu", list = false, {
    cores: Integer(0, 1024), Int(2), "",
        "servers of each replica's CPU queue; `0` turns the CPU model off (handlers take no time), as the closed-form checks assume";
    request_cores: Integer(0, 1024), Int(0), "",
        "servers of a separate request pool: client requests (and the messages a protocol puts there) queue for these cores, protocol messages and timers for `cores`; `0`: requests share the `cores` pool";
    base_us: Number(TIME_MS), Num(5.0), "",
        "cost of handling a protocol message or a timer, and a client request unless `request_base_us` is given";
    request_base_us: Number(TIME_MS), Absent("`base_us`"), "",
        "cost of handling a client request delivered to a replica, in place of `base_us` (the request's own costs, `per_kib_us` and `client_verify_us`, come on top). Only client requests pay it: messages between replicas pay `base_us`, also those a protocol handles on the request pool (`request_cores`, HotStuff's mempool batches). Without it a request pays `base_us`, as before";
    per_kib_us: Number(TIME_MS), Num(2.0), "", "cost per KiB of a received message (decoding, hashing)";
    per_tx_us: Number(TIME_MS), Num(0.0), "",
        "cost per transaction of a block: paid by a HotStuff leader for each transaction it puts in a block (encoding, hashing) and by every other replica for each transaction of a block it stores (decoding); `0` charges nothing, as before";
    crypto: OneOf(&["modeled", "real"]), Str("modeled"), "",
        "`modeled`: signatures are unforgeable tokens that only the signer's `ctx` can create; `real`: the same tokens backed by real BLS12-381 signatures (blst, min_pk, keys derived from the seed), really aggregated and verified, so a wrong signature is rejected by the pairing check. Both charge the profile's costs to the simulated CPU and give the same run; `real` takes more wall time";
    profile: OneOf(&["blst-x86-2core", "free"]), Str("blst-x86-2core"), "",
        "crypto prices. `blst-x86-2core`: BLS12-381 (min_pk) with blst on a 2-core x86 machine: sign 370 µs, verify 1040 µs, aggregate 1.3 µs per signature, aggregate-verify of one message 1100 µs. `free`: every operation costs nothing";
    profile_file: Text, Absent("none"), "a file written by `byzsim calibrate`",
        "a measured profile instead of a built-in one (relative to the scenario file; from `--set`, to the current directory); `profile` and `profile_file` exclude each other";
    client_verify_us: Number(TIME_MS), Num(50.0), "",
        "cost of verifying a client's signature on a transaction (clients sign with Ed25519-class keys, about 50 µs to verify on a server core; BLS prices apply to replica signatures only)";
});

table!(limits, "limits", "limits", list = false, {
    max_events: Integer(1, U64_MAX), Int(sim_core::Limits::DEFAULT.max_events as i128), "", "most events processed";
    max_queue: Integer(1, U64_MAX), Int(sim_core::Limits::DEFAULT.max_queue as i128), "",
        "most events pending at once: in the engine's queue plus the inputs waiting for a core at every replica (about 150 bytes each)";
    max_cpu_queue: Integer(1, U64_MAX), Int(sim_core::Limits::DEFAULT.max_cpu_queue as i128), "",
        "most inputs waiting for a core at one replica (about 100 bytes each): more means the offered load exceeds what the replica can process";
    max_transactions: Integer(1, U64_MAX), Int(sim_core::Limits::DEFAULT.max_transactions as i128), "",
        "most transactions submitted (each keeps a record of about 100 bytes until the run ends); a synthetic workload whose `rate_tps` x `duration_s`, or a trace whose expected count, exceeds it is refused at validation (exit code 2)";
    max_stalled_events: Integer(1, U64_MAX), Int(sim_core::Limits::DEFAULT.max_stalled_events as i128), "",
        "most events at one virtual instant: more means virtual time stopped advancing (zero network delay and no CPU model let a protocol loop without time passing)";
});

table!(output, "output", "output", list = false, {
    window_s: Number(POSITIVE_TIME_S), Num(1.0), "{bounds}; at most 1000000 windows over the run",
        "width of a row of `timeseries.csv`";
    latency_csv: Boolean, Bool(true), "", "write `latency.csv` (one row per transaction; large for long runs)";
    flight_records: Integer(0, MAX_FLIGHT_RECORDS as i128), Int(sim_core::FlightRecorder::DEFAULT_CAPACITY as i128), "",
        "records the flight recorder keeps: after a violation, the last of them are printed and written to `flight-recorder.txt` (64 bytes each; 0: none)";
});

/// Every table but the protocols' sections, parents before their children.
const GENERIC: &[FieldTable] = &[
    top::TABLE,
    replicas::TABLE,
    clients::TABLE,
    network::TABLE,
    spikes::TABLE,
    faults::TABLE,
    partitions::TABLE,
    crashes::TABLE,
    byzantine::TABLE,
    checks::TABLE,
    adversary::TABLE,
    rules::TABLE,
    workload::TABLE,
    trace::TABLE,
    // (the protocols' sections, `ProtocolKind::SECTIONS`, go here)
    cpu::TABLE,
    limits::TABLE,
    output::TABLE,
    explore::TABLE,
];

/// Every table, parents before their children: the protocols' sections (declared in their
/// modules) after `[workload]`'s, as the docs list them.
pub(super) fn tables() -> Vec<FieldTable> {
    let at = GENERIC.iter().position(|t| t.path == "cpu").expect("[cpu] is declared");
    let sections = crate::protocols::ProtocolKind::SECTIONS.iter();
    GENERIC[..at].iter().chain(sections).chain(&GENERIC[at..]).copied().collect()
}

/// The keys a table takes: its fields, then its child tables (`faults` under the top level).
pub(super) fn known_keys(table: &FieldTable) -> Vec<&'static str> {
    let fields = table.fields.iter().map(|f| f.key);
    let children = tables().into_iter().filter(|t| t.name == t.path).filter_map(|t| child_key(table.path, t.path));
    fields.chain(children).collect()
}

/// `child`'s key in `parent` when it is a direct child table.
fn child_key(parent: &str, child: &'static str) -> Option<&'static str> {
    let rest = if parent.is_empty() { child } else { child.strip_prefix(parent)?.strip_prefix('.')? };
    (!rest.is_empty() && !rest.contains('.')).then_some(rest)
}

// ---------------------------------------------------------------------------------------------
// docs/scenarios.md
// ---------------------------------------------------------------------------------------------

const MARKER_END: &str = "<!-- /fields -->";

/// `text` with the table between each `<!-- fields:NAME -->` and `<!-- /fields -->` made from the
/// declarations; an error names a marker that is unknown or not closed.
pub fn fill_docs(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<!-- fields:") {
        let (before, from_marker) = rest.split_at(start);
        let close = from_marker.find(" -->").ok_or("a `<!-- fields:` marker is not closed by ` -->`")?;
        let name = &from_marker["<!-- fields:".len()..close];
        let table =
            tables().into_iter().find(|t| t.name == name).ok_or(format!("unknown table `{name}` in a marker"))?;
        let end = from_marker.find(MARKER_END).ok_or(format!("the table `{name}` has no `{MARKER_END}`"))?;
        out.push_str(before);
        out.push_str(&from_marker[..close + " -->".len()]);
        out.push('\n');
        out.push_str(&markdown_table(&table));
        out.push_str(MARKER_END);
        rest = &from_marker[end + MARKER_END.len()..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The reference table of one section.
fn markdown_table(table: &FieldTable) -> String {
    let mut out = String::from("| field | type | default | allowed | meaning |\n|---|---|---|---|---|\n");
    for f in table.fields {
        let row = [
            format!("`{}`", f.key),
            type_name(f.ty).to_string(),
            default_text(f.default),
            allowed_text(f),
            f.doc.into(),
        ];
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out
}

fn type_name(ty: Ty) -> &'static str {
    match ty {
        Ty::Integer(..) => "integer",
        Ty::Number(_) => "number",
        Ty::Boolean => "boolean",
        Ty::Text | Ty::OneOf(_) => "string",
        Ty::Names(_) | Ty::Strings => "list of strings",
        Ty::Ints => "list of integers",
        Ty::Numbers => "list of numbers",
        Ty::IntGroups => "list of lists of integers",
        Ty::Views => "list of two integers",
        Ty::Jitter => "inline table",
        Ty::Targets => "string or list of strings",
    }
}

fn default_text(default: Dflt) -> String {
    match default {
        Dflt::Required(_) => "required".into(),
        Dflt::Absent(text) | Dflt::Computed(text) => text.into(),
        Dflt::Int(i) => format!("`{i}`"),
        Dflt::Num(x) => format!("`{x}`"),
        Dflt::Bool(b) => format!("`{b}`"),
        Dflt::Str(s) => format!("`\"{s}\"`"),
    }
}

/// The "allowed" column: the declared text with `{bounds}` filled, or the bounds alone.
fn allowed_text(f: &Field) -> String {
    let bounds = match f.ty {
        Ty::Integer(lo, hi) => format!("{lo} to {hi}"),
        Ty::Number(bounds) => bounds.to_string(),
        Ty::OneOf(names) | Ty::Names(names) => {
            names.iter().map(|n| format!("`\"{n}\"`")).collect::<Vec<_>>().join(", ")
        }
        _ => String::new(),
    };
    if f.allowed.is_empty() { bounds } else { f.allowed.replace("{bounds}", &bounds) }
}

// ---------------------------------------------------------------------------------------------
// JSON Schema
// ---------------------------------------------------------------------------------------------

/// The JSON Schema (draft 2020-12) of a scenario file, for editors.
pub fn schema_json() -> String {
    let mut root = table_schema(&top::TABLE);
    let Json::Object(map) = &mut root else { unreachable!("a table's schema is an object") };
    map.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
    map.insert("$id".into(), json!("https://byzsim.invalid/scenario.schema.json"));
    map.insert("title".into(), json!("byzsim scenario"));
    let mut text = serde_json::to_string_pretty(&root).expect("a schema serializes");
    text.push('\n');
    text
}

/// A table's schema: its fields, the trace fields under `workload`, and its child tables.
fn table_schema(table: &FieldTable) -> Json {
    let mut properties = Map::new();
    let mut fields: Vec<&Field> = table.fields.iter().collect();
    if table.name == "workload" {
        fields.extend(trace::TABLE.fields);
    }
    for f in &fields {
        properties.insert(f.key.into(), field_schema(f));
    }
    for child in tables().iter().filter(|t| t.name == t.path) {
        let Some(key) = child_key(table.path, child.path) else { continue };
        let inner = table_schema(child);
        let schema = if child.list { json!({ "type": "array", "items": inner }) } else { inner };
        properties.insert(key.into(), schema);
    }
    // A trace source does without `rate_tps`: no key is required under [workload].
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| matches!(f.default, Dflt::Required(_)) && table.name != "workload")
        .map(|f| f.key)
        .collect();
    let mut schema = json!({ "type": "object", "additionalProperties": false, "properties": properties });
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

fn field_schema(f: &Field) -> Json {
    let mut schema = type_schema(f.ty);
    let unit = number_kind(f.key).strip_prefix("a number of ").map(|u| format!(" (in {u})")).unwrap_or_default();
    schema["description"] = json!(format!("{}{unit}", f.doc));
    let default = match f.default {
        Dflt::Int(i) => json_int(i),
        Dflt::Num(x) => json!(x),
        Dflt::Bool(b) => json!(b),
        Dflt::Str(s) => json!(s),
        Dflt::Required(_) | Dflt::Absent(_) | Dflt::Computed(_) => Json::Null,
    };
    if !default.is_null() {
        schema["default"] = default;
    }
    schema
}

fn json_int(i: i128) -> Json {
    match (i64::try_from(i), u64::try_from(i)) {
        (Ok(i), _) => json!(i),
        (_, Ok(u)) => json!(u),
        _ => unreachable!("declared bounds fit 64 bits"),
    }
}

fn type_schema(ty: Ty) -> Json {
    match ty {
        Ty::Integer(lo, hi) => json!({ "type": "integer", "minimum": json_int(lo), "maximum": json_int(hi) }),
        Ty::Number(bounds) => number_schema(bounds),
        Ty::Boolean => json!({ "type": "boolean" }),
        Ty::Text => json!({ "type": "string" }),
        Ty::OneOf(names) => json!({ "enum": names }),
        Ty::Names(names) => json!({ "type": "array", "items": { "enum": names }, "uniqueItems": true }),
        Ty::Strings => json!({ "type": "array", "items": { "type": "string" } }),
        Ty::Ints => json!({ "type": "array", "items": { "type": "integer", "minimum": 0 } }),
        Ty::Numbers => json!({ "type": "array", "items": { "type": "number" } }),
        Ty::IntGroups => {
            json!({ "type": "array", "items": { "type": "array", "items": { "type": "integer", "minimum": 0 } } })
        }
        Ty::Views => {
            json!({ "type": "array", "items": { "type": "integer", "minimum": 0 }, "minItems": 2, "maxItems": 2 })
        }
        Ty::Jitter => jitter_schema(),
        Ty::Targets => json!({ "anyOf": [
            { "enum": ["critical", "all"] },
            { "type": "array", "items": { "type": "string" }, "minItems": 1 },
        ] }),
    }
}

fn number_schema(b: Bounds) -> Json {
    let mut schema = json!({ "type": "number" });
    schema[if b.lo_inclusive { "minimum" } else { "exclusiveMinimum" }] = json!(b.lo);
    if b.hi.is_finite() {
        schema[if b.hi_inclusive { "maximum" } else { "exclusiveMaximum" }] = json!(b.hi);
    }
    schema
}

/// `jitter`: "none", or a kind with its parameters (see `parse::read_jitter`).
fn jitter_schema() -> Json {
    let ms = number_schema(TIME_MS);
    let kinds = ["none", "uniform", "normal", "lognormal", "pareto"];
    json!({ "anyOf": [
        { "const": "none" },
        { "type": "object", "additionalProperties": false, "required": ["kind"], "properties": {
            "kind": { "enum": kinds },
            "max_ms": ms, "mean_ms": ms, "sd_ms": ms, "median_ms": ms, "scale_ms": ms,
            "sigma": number_schema(NON_NEGATIVE), "shape": number_schema(Bounds::above(0.0)),
        } },
    ] })
}

#[cfg(test)]
mod tests {
    use super::super::{COST_PROFILES, behaviors_for};

    /// The readers map declared names to values by position, and some names have their own tables.
    #[test]
    fn declared_names_match_the_readers_tables() {
        let protocols: Vec<&str> = crate::protocols::ProtocolKind::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(protocols, super::PROTOCOL_NAMES);
        let profiles: Vec<&str> = COST_PROFILES.iter().map(|(name, _)| *name).collect();
        assert_eq!(profiles, super::cpu::profile.names());
        let mut behaviors: Vec<&str> = behaviors_for(None).iter().map(|(name, _)| *name).collect();
        let mut declared = super::byzantine::behavior.names().to_vec();
        behaviors.sort_unstable();
        declared.sort_unstable();
        assert_eq!(behaviors, declared);
    }

    /// Every table's keys are distinct, and every child table hangs under a declared parent.
    #[test]
    fn tables_are_well_formed() {
        for table in &super::tables() {
            let keys = super::known_keys(table);
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), keys.len(), "{}: a key is declared twice", table.name);
            let parent = table.path.rsplit_once('.').map_or("", |(parent, _)| parent);
            assert!(table.path.is_empty() || super::tables().iter().any(|t| t.path == parent), "{}", table.path);
        }
    }
}
