//! The scenario-file boundary: every kind of bad input is reported with its place (line or
//! `--set` key) and field, all problems at once; valid files, defaults and overrides give the
//! expected `Scenario`; the built-in matrices hold the published values.

mod common;

use std::path::Path;

use scenarios::model::{
    Adversary, AdversaryAction, AdversaryMode, AdversaryRule, AdversaryTargets, Algorand, AlgorandPreset,
    AlgorandTopology, Arrivals, Behavior, Byzantine, Certificate, Checks, Clients, Conflicts, CostProfile, Cpu, Crash,
    CryptoMode, Delay, Faults, HotStuff, Jitter, Leaderless, LeaderlessVariant, Limits, Network, Output, Partition,
    Payload, ProtocolKind, ProtocolSection, Replicas, Scenario, SendPolicy, Stake, Who, Workload,
};
use scenarios::parse::{self, Diagnostics};
use scenarios::presets;
use scenarios::protocols::ProtocolConfig;

use common::TempDir;

fn default_leaderless() -> Leaderless {
    Leaderless {
        variant: LeaderlessVariant::Wintermute,
        conflicts: Conflicts::SharedAccount,
        fast_path_wait_ms: 50.0,
        view_timeout_ms: 500.0,
        recovery_timeout_ms: 1000.0,
        reconfigure_at_s: Vec::new(),
        checkpoint_interval: 32,
    }
}

/// The `mainnet` preset's values, the `[algorand]` defaults.
fn default_algorand() -> Algorand {
    Algorand {
        preset: AlgorandPreset::Mainnet,
        topology: AlgorandTopology::Relays,
        relays: 0,
        relay_degree: 8,
        fanout: 4,
        gossip_batch_ms: 10.0,
        block_max_bytes: 5 * 1024 * 1024,
        priority_wait_s: 2.5,
        block_wait_s: 1.5,
        step_timeout_s: 4.0,
        final_wait: false,
        vrf_verify_us: 150.0,
        stake: Stake::Equal,
    }
}

/// The smallest valid scenario: only the required fields.
const MINIMAL: &str = "duration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 100\n";

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn load(src: &str, sets: &[&str], seed: Option<u64>) -> Result<Scenario, Diagnostics> {
    parse::load_str(Path::new("x.toml"), src, &strings(sets), seed)
}

fn valid(src: &str, sets: &[&str]) -> Scenario {
    load(src, sets, None).unwrap_or_else(|d| panic!("expected a valid scenario, got:\n{d}"))
}

/// (what, scenario text, --set overrides, substrings the printed diagnostics must contain).
type Case = (&'static str, &'static str, &'static [&'static str], &'static [&'static str]);

/// An Algorand scenario with 10 users; each case appends to it (line 7 is the first added).
macro_rules! algorand {
    ($rest:literal) => {
        concat!("protocol = \"algorand\"\nduration_s = 10\n[replicas]\nn = 10\n[workload]\nrate_tps = 1\n", $rest)
    };
}

/// A HotStuff scenario with 4 replicas (MINIMAL); each case appends to it (line 6 is the first
/// added).
macro_rules! hotstuff {
    ($rest:literal) => {
        concat!("duration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 100\n", $rest)
    };
}

const BAD: &[Case] = &[
    (
        "adversary: a kind name the protocol lacks",
        hotstuff!(
            "[adversary]\nmode = \"random\"\ndelay_max_ms = 100\ndelay = 0.5\ntargets = [\"vote\", \"propsal\"]\n"
        ),
        &[],
        &[
            "x.toml:10:20: adversary.targets[1]: \"propsal\" is not a message kind of hotstuff; did you mean `proposal`?",
            "help: the message kinds of hotstuff are: proposal, vote, pre-commit-vote",
        ],
    ),
    (
        "adversary: a rule's kind name the protocol lacks, and kinds listed twice",
        hotstuff!(
            "[adversary]\nmode = \"scripted\"\ndelay_max_ms = 100\n[[adversary.rules]]\nkinds = [\"gossip\"]\n\
             action = \"drop\"\n[[adversary.rules]]\nkinds = [\"vote\", \"vote\"]\naction = \"drop\"\n"
        ),
        &[],
        &[
            "x.toml:10:10: adversary.rules[0].kinds[0]: \"gossip\" is not a message kind of hotstuff",
            "x.toml:13:18: adversary.rules[1].kinds[1]: \"vote\" is listed twice",
        ],
    ),
    (
        "adversary: a leaderless kind under algorand",
        algorand!("[adversary]\nmode = \"random\"\ndelay_max_ms = 100\ndrop = 0.1\ntargets = [\"prepare\"]\n"),
        &[],
        &[
            "x.toml:11:12: adversary.targets[0]: \"prepare\" is not a message kind of algorand",
            "help: the message kinds of algorand are: gossip, fetch, sync-request, sync-reply",
        ],
    ),
    (
        "adversary: views under algorand",
        algorand!(
            "[adversary]\nmode = \"scripted\"\ndelay_max_ms = 100\n[[adversary.rules]]\nviews = [1, 3]\n\
             action = \"drop\"\n"
        ),
        &[],
        &["x.toml:11:9: adversary.rules[0].views: Algorand has no views", "help: remove `views`"],
    ),
    (
        "adversary: delay_max_ms missing",
        hotstuff!("[adversary]\nmode = \"random\"\ndrop = 0.1\n"),
        &[],
        &[
            "x.toml:6:1: adversary.delay_max_ms: missing required field `adversary.delay_max_ms`",
            "help: add `delay_max_ms = 200` under [adversary]",
        ],
    ),
    (
        "adversary: a key under mode = \"off\"",
        hotstuff!("[adversary]\nmode = \"off\"\ndelay_max_ms = 100\n"),
        &[],
        &[
            "x.toml:8:16: adversary.delay_max_ms: the adversary is off, so it takes no `delay_max_ms`",
            "help: remove it, or write mode = \"random\" or \"scripted\"",
        ],
    ),
    (
        "adversary: a key with the mode left to its default",
        hotstuff!("[adversary]\ndrop = 0.1\n"),
        &[],
        &["x.toml:7:8: adversary.drop: the adversary is off (mode defaults to \"off\"), so it takes no `drop`"],
    ),
    (
        "adversary: a key of the other mode",
        hotstuff!(
            "[adversary]\nmode = \"scripted\"\ndelay_max_ms = 100\ntargets = \"all\"\n[[adversary.rules]]\n\
             action = \"drop\"\n"
        ),
        &[],
        &["x.toml:9:11: adversary.targets: only mode = \"random\" has `targets`; this one is \"scripted\""],
    ),
    (
        "adversary: probabilities out of range",
        hotstuff!("[adversary]\nmode = \"random\"\ndelay_max_ms = 100\ndelay = 1.5\ndrop = 1\n"),
        &[],
        &[
            "x.toml:9:9: adversary.delay: must be >= 0 and <= 1, found 1.5",
            "x.toml:10:8: adversary.drop: must be >= 0 and < 1, found 1",
        ],
    ),
    (
        "adversary: a random adversary that does nothing",
        hotstuff!("[adversary]\nmode = \"random\"\ndelay_max_ms = 100\n"),
        &[],
        &["x.toml:7:8: adversary.mode: a random adversary with delay = 0 and drop = 0 does nothing"],
    ),
    (
        "adversary: an unknown targets value",
        hotstuff!("[adversary]\nmode = \"random\"\ndelay_max_ms = 100\ndrop = 0.1\ntargets = \"vote\"\n"),
        &[],
        &["x.toml:10:11: adversary.targets: unknown value \"vote\"", "help: for one kind write targets = [\"vote\"]"],
    ),
    (
        "adversary: from >= n, from = to, an empty view range, a delay beyond the bound",
        hotstuff!(
            "[adversary]\nmode = \"scripted\"\ndelay_max_ms = 100\n[[adversary.rules]]\nfrom = 4\n\
             action = \"drop\"\n[[adversary.rules]]\nfrom = 1\nto = 1\naction = \"drop\"\n[[adversary.rules]]\n\
             views = [5, 3]\naction = \"delay\"\ndelay_ms = 150\n"
        ),
        &[],
        &[
            "x.toml:10:8: adversary.rules[0].from: replica 4 does not exist: replicas.n = 4, so ids go from 0 to 3",
            "x.toml:14:6: adversary.rules[1].to: from = to = 1: a replica's messages to itself never meet the adversary",
            "x.toml:17:9: adversary.rules[2].views: the range is empty: first view 5 > last view 3",
            "x.toml:19:12: adversary.rules[2].delay_ms: delay_ms = 150 exceeds adversary.delay_max_ms = 100",
        ],
    ),
    (
        "adversary: actions and their fields",
        hotstuff!(
            "[adversary]\nmode = \"scripted\"\ndelay_max_ms = 100\n[[adversary.rules]]\naction = \"delay\"\n\
             [[adversary.rules]]\naction = \"hold\"\nuntil_s = 10\n[[adversary.rules]]\naction = \"drop\"\n\
             delay_ms = 5\n[[adversary.rules]]\nkinds = [\"vote\"]\n"
        ),
        &[],
        &[
            "x.toml:9:1: adversary.rules[0].delay_ms: missing required field `adversary.rules[0].delay_ms`",
            "x.toml:13:11: adversary.rules[1].until_s: 10 s is not within the run, which ends at 10 s",
            "x.toml:16:12: adversary.rules[2].delay_ms: only action = \"delay\" has delay_ms",
            "x.toml:17:1: adversary.rules[3].action: missing required field `adversary.rules[3].action`",
        ],
    ),
    (
        "adversary: scripted without rules",
        hotstuff!("[adversary]\nmode = \"scripted\"\ndelay_max_ms = 100\n"),
        &[],
        &["x.toml:7:8: adversary.mode: mode = \"scripted\" needs at least one [[adversary.rules]] entry"],
    ),
    (
        "adversary: a bad --set",
        MINIMAL,
        &["adversary.mode=random", "adversary.delay_max_ms=0"],
        &["x.toml: --set adversary.delay_max_ms: must be >= 0.001"],
    ),
    (
        "an unknown [algorand] field",
        algorand!("[algorand]\nfanuot = 4\n"),
        &[],
        &["x.toml:8:1: algorand.fanuot: unknown field `fanuot`; did you mean `fanout`?", "the fields under [algorand]"],
    ),
    (
        "a fanout of 0",
        algorand!("[algorand]\nfanout = 0\n"),
        &[],
        &["x.toml:8:10: algorand.fanout: must be an integer from 1 to 64, found 0"],
    ),
    (
        "Byzantine users holding 20% of the (equal) stake",
        algorand!("[[byzantine]]\nbehavior = \"double_vote\"\ncount = 2\n"),
        &[],
        &[
            "x.toml:9:9: byzantine[0].count: 2 of the 10 users are Byzantine: 20.0% of the stake",
            "less than 20% of the stake",
            "help: make at most 1 of the 10 users Byzantine",
        ],
    ),
    (
        "Byzantine users holding 20% of the (Pareto) stake, at the entry that reaches it",
        algorand!(
            "[algorand]\nstake = \"pareto\"\n[[byzantine]]\nbehavior = \"silent\"\nreplicas = [9]\n\
             [[byzantine]]\nbehavior = \"equivocate\"\nreplicas = [0, 1, 2, 3, 4, 5, 6, 7]\n"
        ),
        &[],
        &["x.toml:14:12: byzantine[1].replicas: with seed 1, the 9 Byzantine users hold", "(Pareto stake"],
    ),
    (
        "send_to = \"all\" under algorand",
        algorand!("[clients]\nsend_to = \"all\"\n"),
        &[],
        &[
            "x.toml:8:11: clients.send_to: send_to = \"all\" does not fit protocol = \"algorand\"",
            "trusts the user it submits to",
        ],
    ),
    (
        "more relays than users",
        algorand!("[algorand]\nrelays = 11\n"),
        &[],
        &["x.toml:8:10: algorand.relays: relays = 11 but there are only 10 users (replicas.n)"],
    ),
    (
        "a fanout beyond the relays, relay settings with peers, a shape with equal stake",
        algorand!("[algorand]\nrelays = 3\nfanout = 5\nrelay_degree = 3\n[algorand.x]\n"),
        &["algorand.pareto_shape=2"],
        &[
            "x.toml:9:10: algorand.fanout: fanout = 5 but only 3 can be linked to",
            "x.toml:10:16: algorand.relay_degree: relay_degree = 3 but only 2 can be linked to",
            "algorand.x: unknown field `x`",
            "--set algorand.pareto_shape: only stake = \"pareto\" has pareto_shape",
        ],
    ),
    (
        "relays with the peers topology, a Pareto shape of 1, a HotStuff behaviour",
        algorand!(
            "[algorand]\npreset = \"sosp2017\"\nrelays = 5\nstake = \"pareto\"\npareto_shape = 1\n\
             [[byzantine]]\nbehavior = \"fork\"\ncount = 1\n"
        ),
        &[],
        &[
            "x.toml:9:10: algorand.relays: only topology = \"relays\" has relays",
            "x.toml:11:16: algorand.pareto_shape: must be > 1, found 1",
            "byzantine[0].behavior: unknown value \"fork\"",
            "\"double_vote\"",
        ],
    ),
    (
        "a block smaller than a transaction, a zero step timeout",
        algorand!("[algorand]\nblock_max_kib = 1\nstep_timeout_s = 0\n"),
        &["workload.tx_size_bytes=2048"],
        &[
            "x.toml:8:17: algorand.block_max_kib: a block of 1 KiB cannot hold one transaction of 2048 bytes",
            "x.toml:9:18: algorand.step_timeout_s: must be >= 0.000001",
        ],
    ),
    (
        "more than 1024 replicas outside algorand; double_vote outside algorand",
        "duration_s = 10\n[replicas]\nn = 2000\n[workload]\nrate_tps = 1\n[[byzantine]]\nbehavior = \"double_vote\"\ncount = 1\n",
        &[],
        &["x.toml:3:5: replicas.n: must be an integer from 1 to 1024, found 2000", "unknown value \"double_vote\""],
    ),
    (
        "more than 100000 users",
        algorand!(""),
        &["replicas.n=100001"],
        &["--set replicas.n: must be an integer from 1 to 100000, found 100001"],
    ),
    (
        "wintermute with n < 5f+1",
        "protocol = \"leaderless\"\nduration_s = 10\n[replicas]\nn = 5\nf = 1\n[workload]\nrate_tps = 1\n[leaderless]\nvariant = \"wintermute\"\n",
        &[],
        &["x.toml:9:11: leaderless.variant", "wintermute needs n >= 5f+1 = 6", "variant = \"epaxos\""],
    ),
    (
        "a HotStuff behaviour in a leaderless run",
        "protocol = \"leaderless\"\nduration_s = 10\n[replicas]\nn = 6\nf = 1\n[workload]\nrate_tps = 1\n[[byzantine]]\nbehavior = \"fork\"\nreplicas = [1]\n",
        &[],
        &["byzantine[0].behavior: unknown value \"fork\"", "\"never_commit\""],
    ),
    (
        "a nonsensical retry",
        "duration_s = 10\n[replicas]\nn = 4\n[clients]\nretry_ms = -5\n[workload]\nrate_tps = 1\n",
        &[],
        &["x.toml:5:12: clients.retry_ms"],
    ),
    (
        "malformed TOML",
        "duration_s = 10\n[replicas\nn = 4\n",
        &[],
        &["x.toml:2:", "invalid TOML", "1 problem in x.toml"],
    ),
    (
        "unknown field",
        "duraton_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n",
        &[],
        &["x.toml:1:1: duraton_s: unknown field `duraton_s`; did you mean `duration_s`?"],
    ),
    (
        "unknown field, suggestion by prefix",
        "duration_s = 10\n[replicas]\nn = 4\n[workload]\nrate = 1\n",
        &[],
        &[
            "x.toml:5:1: workload.rate: unknown field `rate`; did you mean `rate_tps`?",
            "help: the fields under [workload] are: arrivals, rate_tps",
        ],
    ),
    (
        "unknown table",
        "duration_s = 10\n[replica]\nn = 4\n",
        &[],
        &["x.toml:2:2: replica: unknown field `replica`; did you mean `replicas`?"],
    ),
    (
        "n < 3f+1",
        "duration_s = 10\n[replicas]\nn = 4\nf = 2\n[workload]\nrate_tps = 1\n",
        &[],
        &[
            "x.toml:4:5: replicas.f: n = 4 tolerates at most f = 1 (needs n >= 3f+1)",
            "help: set replicas.f = 1 or raise replicas.n to 7",
        ],
    ),
    (
        "zero rate",
        "duration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 0\n",
        &[],
        &["x.toml:5:12: workload.rate_tps: must be > 0 and <= 10000000, found 0"],
    ),
    (
        "negative rate",
        "duration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = -5\n",
        &[],
        &["x.toml:5:12: workload.rate_tps: must be > 0", "found -5"],
    ),
    (
        "NaN rate",
        "duration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = nan\n",
        &[],
        &["x.toml:5:12: workload.rate_tps: must be a finite number, found NaN"],
    ),
    (
        "infinite duration",
        "duration_s = inf\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n",
        &[],
        &["x.toml:1:14: duration_s: must be a finite number, found inf"],
    ),
    (
        "overflowing float",
        "duration_s = 1e400\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n",
        &[],
        &["duration_s: must be a finite number"],
    ),
    (
        "huge integer",
        "duration_s = 10\n[replicas]\nn = 99999999999999999999999999999999999999999999\n[workload]\nrate_tps = 1\n",
        &[],
        &["x.toml:3:5: replicas.n: must be an integer from 1 to 1024; this one is far too large"],
    ),
    (
        "negative integer",
        "duration_s = 10\n[replicas]\nn = -4\n[workload]\nrate_tps = 1\n",
        &[],
        &["replicas.n: must be an integer from 1 to 1024, found -4"],
    ),
    (
        "wrong type: string for seconds",
        "duration_s = \"ten\"\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n",
        &[],
        &["x.toml:1:14: duration_s: expected a number of seconds, found a string"],
    ),
    (
        "wrong type: table for a number",
        "duration_s = { a = 1 }\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n",
        &[],
        &["duration_s: expected a number of seconds, found a table"],
    ),
    (
        "wrong type: float for an integer",
        "duration_s = 10\n[replicas]\nn = 4.0\n[workload]\nrate_tps = 1\n",
        &[],
        &[
            "replicas.n: expected an integer from 1 to 1024, found a float (4)",
            "help: write it without a decimal point",
        ],
    ),
    (
        "wrong type: number for a table",
        "duration_s = 10\nreplicas = 4\n[workload]\nrate_tps = 1\n",
        &[],
        &["x.toml:2:12: replicas: expected a table, found an integer", "1 problem in x.toml"],
    ),
    (
        "wrong type: boolean",
        "duration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n[output]\nlatency_csv = \"yes\"\n",
        &[],
        &["output.latency_csv: expected true or false, found a string"],
    ),
    (
        "bad enum value",
        "duration_s = 10\n[replicas]\nn = 4\n[clients]\nsend_to = \"closest\"\n[workload]\nrate_tps = 1\n",
        &[],
        &[
            "x.toml:5:11: clients.send_to: unknown value \"closest\"",
            "`send_to` is one of \"nearest\", \"random\", \"all\", \"spread\"",
        ],
    ),
    (
        "unknown protocol",
        "protocol = \"pbft\"\nduration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n",
        &[],
        &["protocol: unknown value \"pbft\"", "\"hotstuff\""],
    ),
    (
        "missing required fields",
        "",
        &[],
        &[
            "x.toml: duration_s: missing required field `duration_s`",
            "x.toml: replicas.n: missing required field `replicas.n`",
            "x.toml: workload.rate_tps: missing required field `workload.rate_tps`",
            "3 problems in x.toml",
        ],
    ),
    (
        "missing field points at its table",
        "duration_s = 10\n[replicas]\nf = 1\n[workload]\nrate_tps = 1\n",
        &[],
        &["x.toml:2:1: replicas.n: missing required field `replicas.n`", "help: add `n = 4` under [replicas]"],
    ),
    (
        "warmup not before the end",
        "duration_s = 10\nwarmup_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n",
        &[],
        &["x.toml:2:12: warmup_s: must be in [0, duration_s) = [0, 10), found 10"],
    ),
    (
        "bad name",
        "name = \"a/b\"\nduration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n",
        &[],
        &["x.toml:1:8: name: \"a/b\" is not usable as a folder name"],
    ),
    (
        "unknown preset",
        "duration_s = 10\n[replicas]\nn = 4\n[network]\nmatrix = \"gcp2020\"\n[workload]\nrate_tps = 1\n",
        &[],
        &[
            "x.toml:5:10: network.matrix: unknown preset \"gcp2020\"; did you mean `gcp2019`?",
            "the presets are gcp2019, aws2020",
        ],
    ),
    (
        "missing matrix file",
        "duration_s = 10\n[replicas]\nn = 4\n[network]\nmatrix_file = \"nope.csv\"\n[workload]\nrate_tps = 1\n",
        &[],
        &["x.toml:5:15: network.matrix_file: nope.csv: cannot read the matrix file: No such file"],
    ),
    (
        "region the matrix lacks",
        "duration_s = 10\n[replicas]\nn = 4\nregions = [\"us-east1\", \"europe-west1\", \"us-east\"]\n[network]\nmatrix = \"gcp2019\"\n[workload]\nrate_tps = 1\n",
        &[],
        &[
            "x.toml:4:40: replicas.regions[2]: region \"us-east\" is not in the matrix gcp2019; did you mean `us-east1`?",
            "help: the regions of gcp2019 are: asia-east1, asia-east2,",
        ],
    ),
    (
        "client region the matrix lacks",
        "duration_s = 10\n[replicas]\nn = 4\n[clients]\nregions = [\"eu-west-1\"]\n[network]\nmatrix = \"gcp2019\"\n[workload]\nrate_tps = 1\n",
        &[],
        &["x.toml:5:12: clients.regions[0]: region \"eu-west-1\" is not in the matrix gcp2019"],
    ),
    (
        "regions checked even when the rest of [network] is wrong",
        "duration_s = 10\n[replicas]\nn = 4\nregions = [\"mars\"]\n[network]\nmatrix = \"gcp2019\"\nloss = 2\n[workload]\nrate_tps = 1\n",
        &[],
        &[
            "x.toml:4:12: replicas.regions[0]: region \"mars\" is not in the matrix gcp2019",
            "x.toml:7:8: network.loss: must be >= 0 and < 1, found 2",
        ],
    ),
    (
        "empty region list",
        "duration_s = 10\n[replicas]\nn = 4\nregions = []\n[workload]\nrate_tps = 1\n",
        &[],
        &["replicas.regions: must name at least one region"],
    ),
    (
        "two delay sources",
        "duration_s = 10\n[replicas]\nn = 4\n[network]\nmatrix = \"gcp2019\"\nuniform_delay_ms = 5\n[workload]\nrate_tps = 1\n",
        &[],
        &[
            "x.toml:6:20: network.uniform_delay_ms: only one of matrix, matrix_file and uniform_delay_ms may be given; `matrix` is too",
        ],
    ),
    (
        "negative delay",
        "duration_s = 10\n[replicas]\nn = 4\n[network]\nuniform_delay_ms = -1\n[workload]\nrate_tps = 1\n",
        &[],
        &["network.uniform_delay_ms: must be >= 0"],
    ),
    (
        "loss of 1",
        "duration_s = 10\n[replicas]\nn = 4\n[network]\nloss = 1\n[workload]\nrate_tps = 1\n",
        &[],
        &["network.loss: must be >= 0 and < 1, found 1"],
    ),
    (
        "jitter problems",
        "duration_s = 10\n[replicas]\nn = 4\n[network]\njitter = { kind = \"pareto\", scale_ms = 1, shape = 0, max_ms = 3 }\n[workload]\nrate_tps = 1\n",
        &[],
        &["network.jitter.shape: must be > 0, found 0", "network.jitter.max_ms: unknown field `max_ms`", "2 problems"],
    ),
    (
        "jitter missing parameter",
        "duration_s = 10\n[replicas]\nn = 4\n[network]\njitter = { kind = \"normal\", mean_ms = 1 }\n[workload]\nrate_tps = 1\n",
        &[],
        &["x.toml:5:10: network.jitter.sd_ms: missing required field `network.jitter.sd_ms`"],
    ),
    (
        "jitter unknown kind",
        "duration_s = 10\n[replicas]\nn = 4\n[network]\njitter = { kind = \"gauss\" }\n[workload]\nrate_tps = 1\n",
        &[],
        &["network.jitter.kind: unknown value \"gauss\""],
    ),
    (
        "partition problems",
        "duration_s = 10\n[replicas]\nn = 4\n[[faults.partitions]]\ngroups = [[0, 4], [1, 1], []]\nstart_s = 5\nheal_s = 5\n[workload]\nrate_tps = 1\n",
        &[],
        &[
            "x.toml:5:15: faults.partitions[0].groups[0][1]: replica 4 does not exist: replicas.n = 4, so ids go from 0 to 3",
            "x.toml:5:23: faults.partitions[0].groups[1][1]: replica 1 is listed twice",
            "x.toml:5:27: faults.partitions[0].groups[2]: a group must list at least one replica",
            "x.toml:7:10: faults.partitions[0].heal_s: must be after start_s (5 s), found 5",
            "4 problems",
        ],
    ),
    (
        "partition after the run",
        "duration_s = 10\ndrain_s = 2\n[replicas]\nn = 4\n[[faults.partitions]]\ngroups = [[0, 1]]\nstart_s = 12\nheal_s = 13\n[workload]\nrate_tps = 1\n",
        &[],
        &["faults.partitions[0].start_s: 12 s is not within the run, which ends at 12 s"],
    ),
    (
        "crash problems",
        "duration_s = 10\n[replicas]\nn = 4\n[[faults.crashes]]\nreplica = 9\nat_s = 11\n[[faults.crashes]]\nreplica = 1\nat_s = 3\nrecover_s = 2\n[workload]\nrate_tps = 1\n",
        &[],
        &[
            "x.toml:5:11: faults.crashes[0].replica: replica 9 does not exist",
            "x.toml:6:8: faults.crashes[0].at_s: 11 s is not within the run, which ends at 10 s",
            "x.toml:10:13: faults.crashes[1].recover_s: must be after at_s (3 s), found 2",
        ],
    ),
    (
        "crash of a crashed replica",
        "duration_s = 10\n[replicas]\nn = 4\n[[faults.crashes]]\nreplica = 1\nat_s = 2\nrecover_s = 6\n[[faults.crashes]]\nreplica = 1\nat_s = 5\n[workload]\nrate_tps = 1\n",
        &[],
        &[
            "x.toml:10:8: faults.crashes[1].at_s: replica 1 is still down at 5 s: it crashed at 2 s (faults.crashes[0]) and recovers at 6 s",
        ],
    ),
    (
        "faults not a list of tables",
        "duration_s = 10\n[replicas]\nn = 4\n[faults]\ncrashes = 3\n[workload]\nrate_tps = 1\n",
        &[],
        &["faults.crashes: expected a list of tables, found an integer"],
    ),
    (
        "byzantine: unknown behaviour, and neither replicas nor count",
        "duration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n[[byzantine]]\nbehavior = \"evil\"\n",
        &[],
        &[
            "x.toml:6:1: byzantine[0]: says neither `replicas` nor `count`: which replicas are Byzantine?",
            "help: write `replicas = [0]` to name them, or `count = 1` to have that many drawn from the seed",
            "x.toml:7:12: byzantine[0].behavior: unknown value \"evil\"",
            "`behavior` is one of \"crash\", \"silent\", \"fork\", \"equivocate\", \"withhold_votes\", \"slow_leader\"",
            "2 problems",
        ],
    ),
    (
        "byzantine: both replicas and count",
        "duration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n[[byzantine]]\nbehavior = \"silent\"\nreplicas = [1]\ncount = 1\n",
        &[],
        &[
            "x.toml:9:9: byzantine[0].count: give `replicas` or `count`, not both",
            "help: `replicas` names the Byzantine replicas; `count` has that many drawn from the seed: keep one",
            "1 problem in x.toml",
        ],
    ),
    (
        "byzantine: bad replicas and counts",
        "duration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n[[byzantine]]\nbehavior = \"fork\"\nreplicas = [4, 1, 1]\n[[byzantine]]\nbehavior = \"silent\"\nreplicas = []\n[[byzantine]]\nbehavior = \"silent\"\ncount = 0\n[[byzantine]]\nbehavior = \"silent\"\nreplicas = 2\n",
        &[],
        &[
            "x.toml:8:13: byzantine[0].replicas[0]: replica 4 does not exist: replicas.n = 4, so ids go from 0 to 3",
            "x.toml:8:19: byzantine[0].replicas[2]: replica 1 is listed twice",
            "x.toml:11:12: byzantine[1].replicas: must list at least one replica",
            "help: name at least one, or write `count = 1` to have one drawn from the seed",
            "x.toml:14:9: byzantine[2].count: must be an integer from 1 to 4294967295, found 0",
            "x.toml:17:12: byzantine[3].replicas: expected a list of replica ids, like [0, 1], found an integer",
            "5 problems",
        ],
    ),
    (
        "byzantine: crash times",
        "duration_s = 10\n[replicas]\nn = 7\n[workload]\nrate_tps = 1\n[[byzantine]]\nbehavior = \"crash\"\nreplicas = [0]\n[[byzantine]]\nbehavior = \"crash\"\nreplicas = [1]\nat_s = 10\n[[byzantine]]\nbehavior = \"crash\"\ncount = 1\nat_s = 3\nrecover_s = 3\n",
        &[],
        &[
            "x.toml:6:1: byzantine[0].at_s: missing required field `byzantine[0].at_s`",
            "help: add `at_s = 5` in byzantine[0]",
            "x.toml:12:8: byzantine[1].at_s: 10 s is not within the run, which ends at 10 s (duration_s + drain_s)",
            "x.toml:17:13: byzantine[2].recover_s: must be after at_s (3 s), found 3",
            "3 problems",
        ],
    ),
    (
        "byzantine: times of a behaviour that is not a crash",
        "duration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n[[byzantine]]\nbehavior = \"equivocate\"\ncount = 1\nat_s = 2\nrecover_s = 4\n",
        &[],
        &[
            "x.toml:9:8: byzantine[0].at_s: only a crash has at_s",
            "help: remove it, or write behavior = \"crash\"",
            "x.toml:10:13: byzantine[0].recover_s: only a crash has recover_s",
            "2 problems",
        ],
    ),
    (
        "byzantine: a replica in two entries, or also crashed as a correct replica",
        "duration_s = 10\n[replicas]\nn = 7\n[workload]\nrate_tps = 1\n[[faults.crashes]]\nreplica = 2\nat_s = 1\n[[byzantine]]\nbehavior = \"silent\"\nreplicas = [0, 2]\n[[byzantine]]\nbehavior = \"fork\"\nreplicas = [3, 0]\n",
        &[],
        &[
            "x.toml:11:16: byzantine[0].replicas[1]: replica 2 is Byzantine but also crashes in faults.crashes[0].replica (line 7): [[faults.crashes]] is for correct replicas",
            "help: for a Byzantine replica that crashes, write behavior = \"crash\" with at_s (and recover_s) here; otherwise remove one of the two",
            "x.toml:14:16: byzantine[1].replicas[1]: replica 0 is already Byzantine in byzantine[0].replicas[0] (line 11); a replica can be in one [[byzantine]] entry only",
            "2 problems",
        ],
    ),
    (
        "byzantine: no correct replica left",
        "duration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n[[byzantine]]\nbehavior = \"silent\"\nreplicas = [0, 1]\n[[byzantine]]\nbehavior = \"withhold_votes\"\ncount = 2\n[[byzantine]]\nbehavior = \"slow_leader\"\ncount = 5\n",
        &[],
        &[
            "x.toml:11:9: byzantine[1].count: 9 replicas are Byzantine (2 named, 7 by count) but replicas.n = 4: at least one replica must be correct",
            "help: make at most 3 of the 4 replicas Byzantine (more than f is allowed, to test the checks beyond the bound)",
            "1 problem in x.toml",
        ],
    ),
    (
        "byzantine: a table instead of a list of tables",
        "duration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n[byzantine]\nbehavior = \"silent\"\ncount = 1\n",
        &[],
        &[
            "x.toml:6:1: byzantine: expected a list of tables, found a table",
            "help: write each entry as a [[byzantine]] section",
        ],
    ),
    (
        "byzantine: --set an entry with an unknown field",
        MINIMAL,
        &["byzantine=[{ behaviour = \"silent\", count = 1 }]"],
        &[
            "x.toml: --set byzantine: byzantine[0].behaviour: unknown field `behaviour`; did you mean `behavior`?",
            "help: the fields in byzantine[0] are: behavior, replicas, count, at_s, recover_s",
            "x.toml: --set byzantine: byzantine[0].behavior: missing required field `byzantine[0].behavior`",
        ],
    ),
    (
        "byzantine: not a table, from the file",
        "byzantine = [1]\nduration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n",
        &[],
        &["x.toml:1:14: byzantine[0]: expected a table, found an integer", "1 problem in x.toml"],
    ),
    (
        "byzantine: --set a list with too many replicas",
        MINIMAL,
        &["byzantine=[{ behavior = \"silent\", count = 4 }]"],
        &[
            "x.toml: --set byzantine: byzantine[0].count: 4 replicas are Byzantine (0 named, 4 by count) but replicas.n = 4",
        ],
    ),
    (
        "checks problems",
        "duration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n[checks]\nliveness_bound_s = 0\nliveness = 1\n",
        &[],
        &[
            "x.toml:7:20: checks.liveness_bound_s: must be > 0 and <= 10000000, found 0",
            "x.toml:8:1: checks.liveness: unknown field `liveness`; did you mean `liveness_bound_s`?",
            "2 problems",
        ],
    ),
    (
        "checks: wrong types",
        "checks = 5\nduration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n",
        &["checks.liveness_bound_s=\"soon\""],
        &["x.toml:1:10: checks: expected a table, found an integer"],
    ),
    (
        "checks: a string bound",
        MINIMAL,
        &["checks.liveness_bound_s=soon"],
        &["x.toml: --set checks.liveness_bound_s: expected a number of seconds, found a string"],
    ),
    (
        "hotstuff problems",
        "duration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n[hotstuff]\nbatch_size = 0\nview_timeout_ms = 2000\nmax_timeout_ms = 1000\ntimeout_backoff = 0.5\n",
        &[],
        &[
            "hotstuff.batch_size: must be an integer from 1 to 4294967295, found 0",
            "x.toml:9:18: hotstuff.max_timeout_ms: max_timeout_ms (1000) must be >= view_timeout_ms (2000)",
            "hotstuff.timeout_backoff: must be >= 1, found 0.5",
        ],
    ),
    (
        "default max timeout below the view timeout",
        "duration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n[hotstuff]\nview_timeout_ms = 90000\n",
        &[],
        &["x.toml:7:19: hotstuff.view_timeout_ms: max_timeout_ms (60000) must be >= view_timeout_ms (90000)"],
    ),
    (
        "workload problems",
        "duration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\naccounts = 1\nzipf_s = -1\ntx_size_bytes = 2000000\narrivals = \"bursty\"\n",
        &[],
        &[
            "workload.accounts: must be an integer from 2 to",
            "workload.zipf_s: must be >= 0, found -1",
            "workload.tx_size_bytes: must be an integer from 0 to 1048576, found 2000000",
            "workload.arrivals: unknown value \"bursty\"",
        ],
    ),
    (
        "too many windows",
        "duration_s = 10000\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n[output]\nwindow_s = 0.001\n",
        &[],
        &["output.window_s: 0.001 s windows over a 10000 s run make 10000000 windows"],
    ),
    (
        "limits",
        "duration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n[limits]\nmax_events = 0\n",
        &[],
        &["limits.max_events: must be an integer from 1 to"],
    ),
    (
        "several problems at once, in file order",
        "duration_s = -1\n[replicas]\nn = 4\nf = 3\nuplink_mbps = \"fast\"\n[workload]\nrate_tps = 0\n[hotstuff]\nbatchsize = 10\n",
        &[],
        &[
            "x.toml:1:14: duration_s: must be > 0",
            "x.toml:4:5: replicas.f: n = 4 tolerates at most f = 1",
            "x.toml:5:15: replicas.uplink_mbps: expected a number of Mbit/s, found a string",
            "x.toml:7:12: workload.rate_tps: must be > 0",
            "x.toml:9:1: hotstuff.batchsize: unknown field `batchsize`; did you mean `batch_size`?",
            "5 problems in x.toml",
        ],
    ),
    (
        "--set value out of range",
        MINIMAL,
        &["replicas.f=2"],
        &["x.toml: --set replicas.f: n = 4 tolerates at most f = 1", "1 problem in x.toml"],
    ),
    (
        "--set wrong type",
        MINIMAL,
        &["replicas.n=four"],
        &["x.toml: --set replicas.n: expected an integer from 1 to 1024, found a string"],
    ),
    (
        "--set unknown key",
        MINIMAL,
        &["workload.rate=5"],
        &["x.toml: --set workload.rate: unknown field `rate`; did you mean `rate_tps`?"],
    ),
    ("--set unknown table", MINIMAL, &["a.b=1"], &["x.toml: --set a.b: a: unknown field `a`"]),
    (
        "--set into a list of tables",
        "duration_s = 10\n[replicas]\nn = 4\n[[faults.crashes]]\nreplica = 1\nat_s = 2\n[workload]\nrate_tps = 1\n",
        &["faults.crashes.0.at_s=3"],
        &["x.toml: --set faults.crashes.0.at_s: `faults.crashes` is a list: --set cannot address one of its entries"],
    ),
    (
        "--set into a number",
        MINIMAL,
        &["duration_s.x=1"],
        &["--set duration_s.x: `duration_s` is an integer, not a table"],
    ),
    (
        "--set too deep",
        MINIMAL,
        &["a.b.c.d.e.f.g.h.i=1"],
        &["--set a.b.c.d.e.f.g.h.i: the key has 9 parts; no field is nested that deeply"],
    ),
    ("--set without =", MINIMAL, &["workload.rate_tps"], &["`--set workload.rate_tps` is not KEY=VALUE"]),
    (
        "--set nested value",
        MINIMAL,
        &["network.jitter={ kind = \"uniform\", max_ms = -1 }"],
        &["x.toml: --set network.jitter: network.jitter.max_ms: must be >= 0"],
    ),
    (
        "--set region not in the new matrix",
        "duration_s = 10\n[replicas]\nn = 4\nregions = [\"us-east1\"]\n[network]\nmatrix = \"gcp2019\"\n[workload]\nrate_tps = 1\n",
        &["network.matrix=aws2020"],
        &[
            "x.toml:4:12: replicas.regions[0]: region \"us-east1\" is not in the matrix aws2020; did you mean `us-east-1`?",
        ],
    ),
];

#[test]
fn every_problem_is_reported_with_its_place_and_field() {
    let mut failures = Vec::new();
    for &(what, src, sets, needles) in BAD {
        match load(src, sets, None) {
            Ok(_) => failures.push(format!("{what}: accepted")),
            Err(diags) => {
                let text = diags.to_string();
                for needle in needles {
                    if !text.contains(needle) {
                        failures.push(format!("{what}: lacks {needle:?} in:\n{text}\n"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn diagnostics_carry_structured_places() {
    let diags = load("duration_s = 10\n[replicas]\nn = 4\nf = 2\n[workload]\nrate_tps = 1\n", &[], None).unwrap_err();
    let d = &diags.0[0];
    assert_eq!((d.file.as_str(), d.line, d.column), ("x.toml", Some(4), Some(5)));
    assert_eq!(d.field.as_deref(), Some("replicas.f"));
    assert!(d.help.is_some());
    assert_eq!(d.set, None);
    let diags = load(MINIMAL, &["replicas.f=2"], None).unwrap_err();
    assert_eq!((diags.0[0].line, diags.0[0].set.as_deref()), (None, Some("replicas.f")));
}

#[test]
fn a_missing_file_is_named_with_the_os_error() {
    let dir = TempDir::new("missing");
    let path = dir.join("absent.toml");
    let diags = parse::load(&path, &[], None).unwrap_err();
    let text = diags.to_string();
    assert!(text.contains("absent.toml") && text.contains("cannot read the scenario file"), "{text}");
    assert!(
        text.contains(&std::io::Error::from(std::io::ErrorKind::NotFound).to_string()) || text.contains("os error"),
        "{text}"
    );
}

#[test]
fn defaults_are_filled_in() {
    let s = parse::load_str(Path::new("dir/my-run.toml"), MINIMAL, &[], None).unwrap_or_else(|d| panic!("{d}"));
    let expected = Scenario {
        name: "my-run".into(),
        description: String::new(),
        seed: 1,
        duration_s: 10.0,
        warmup_s: 0.0,
        drain_s: 0.0,
        replicas: Replicas { n: 4, f: 1, regions: strings(&["any"]), uplink_mbps: 0.0, downlink_mbps: 0.0 },
        clients: Clients {
            count: 1,
            regions: strings(&["any"]),
            send_to: SendPolicy::Nearest,
            retry_ms: None,
            uplink_mbps: 0.0,
            downlink_mbps: 0.0,
            pacing: scenarios::model::Pacing::Open,
            queue: None,
        },
        network: Network {
            delay: Delay::Uniform { one_way_ms: 10.0 },
            jitter: Jitter::None,
            loss: 0.0,
            fifo: true,
            spikes: vec![],
        },
        faults: Faults::default(),
        byzantine: Vec::new(),
        checks: Checks { liveness_bound_s: None },
        adversary: Adversary::default(),
        workload: Workload {
            arrivals: Arrivals::Poisson,
            rate_tps: 100.0,
            accounts: 1000,
            zipf_s: 0.0,
            tx_size_bytes: 256,
            trace: None,
        },
        section: ProtocolSection::HotStuff(HotStuff {
            variant: protocols::hotstuff::CommitRule::ThreeChain,
            certificate: Certificate::Aggregate,
            batch_size: 400,
            view_timeout_ms: 1000.0,
            timeout_backoff: 1.0,
            max_timeout_ms: 60_000.0,
            leader: protocols::hotstuff::LeaderPolicy::RoundRobin,
            leader_order: vec![],
            payload: Payload::InProposal,
            mempool_batch_bytes: 500_000,
            mempool_max_batch_delay_ms: 100.0,
            mempool_ack_quorum: 0,
        }),
        genesis_balance: 1_000_000,
        cpu: Cpu {
            cores: 2,
            request_cores: 0,
            base_us: 5.0,
            request_base_us: None,
            per_kib_us: 2.0,
            per_tx_us: 0.0,
            crypto: CryptoMode::Modeled,
            profile: CostProfile {
                name: "blst-x86-2core".into(),
                sign_us: 370.0,
                verify_us: 1040.0,
                aggregate_per_sig_us: 1.3,
                verify_aggregate_us: 1100.0,
            },
            client_verify_us: 50.0,
        },
        limits: Limits {
            max_events: 1_000_000_000,
            max_queue: 20_000_000,
            max_cpu_queue: 4_000_000,
            max_transactions: 20_000_000,
            max_stalled_events: 2_000_000,
        },
        output: Output { window_s: 1.0, latency_csv: true, flight_records: 4096 },
        explore: None,
        inputs: Vec::new(),
    };
    assert_eq!(s, expected);
    // f defaults to floor((n-1)/3).
    for (n, f) in [(1, 0), (3, 0), (4, 1), (7, 2), (10, 3), (100, 33)] {
        assert_eq!(valid(MINIMAL, &[&format!("replicas.n={n}")]).replicas.f, f, "n = {n}");
    }
}

#[test]
fn a_matrix_defaults_regions_to_its_first_region() {
    let s = valid(MINIMAL, &["network.matrix=gcp2019"]);
    assert_eq!(s.replicas.regions, strings(&["asia-east1"]));
    assert_eq!(s.clients.regions, s.replicas.regions);
    let Delay::Matrix { source, regions, one_way_ms } = &s.network.delay else { panic!("not a matrix") };
    assert_eq!((source.as_str(), regions.len(), one_way_ms.len()), ("gcp2019", 20, 20));
}

const FULL: &str = r#"
name = "full"
description = "every field"
seed = 42
protocol = "hotstuff"
duration_s = 20
warmup_s = 2.5
drain_s = 3

[replicas]
n = 7
f = 2
regions = ["us-east-1", "eu-west-1", "ap-northeast-1"]
uplink_mbps = 100
downlink_mbps = 200.5

[clients]
count = 3
regions = ["us-east-1"]
send_to = "all"
uplink_mbps = 10
downlink_mbps = 20

[network]
matrix = "aws2020"
jitter = { kind = "lognormal", median_ms = 0.5, sigma = 0.25 }
loss = 0.01
fifo = false

[[faults.partitions]]
groups = [[0, 1, 2], [3, 4]]
start_s = 5
heal_s = 8.5

[[faults.crashes]]
replica = 6
at_s = 4
recover_s = 9

[[faults.crashes]]
replica = 6
at_s = 12

[[byzantine]]
behavior = "equivocate"
replicas = [1, 5]

[[byzantine]]
behavior = "crash"
count = 2
at_s = 3
recover_s = 7

[[byzantine]]
behavior = "slow_leader"
count = 1

[checks]
liveness_bound_s = 4.5

[workload]
arrivals = "constant"
rate_tps = 1_500
accounts = 50
zipf_s = 0.9
tx_size_bytes = 512

[hotstuff]
variant = "chained"
batch_size = 300
certificate = "list"
view_timeout_ms = 1500
timeout_backoff = 1.5
max_timeout_ms = 8000

[cpu]
cores = 4
base_us = 10
per_kib_us = 0.5
crypto = "modeled"
profile = "free"

[limits]
max_events = 123456789
max_queue = 1000

[output]
window_s = 0.5
latency_csv = false
"#;

#[test]
fn a_full_example_parses_to_the_expected_scenario() {
    let s = valid(FULL, &[]);
    let (regions, one_way_ms) = presets::get("aws2020").expect("aws2020 exists");
    let expected = Scenario {
        name: "full".into(),
        description: "every field".into(),
        seed: 42,
        duration_s: 20.0,
        warmup_s: 2.5,
        drain_s: 3.0,
        replicas: Replicas {
            n: 7,
            f: 2,
            regions: strings(&["us-east-1", "eu-west-1", "ap-northeast-1"]),
            uplink_mbps: 100.0,
            downlink_mbps: 200.5,
        },
        clients: Clients {
            count: 3,
            regions: strings(&["us-east-1"]),
            send_to: SendPolicy::All,
            retry_ms: None,
            uplink_mbps: 10.0,
            downlink_mbps: 20.0,
            pacing: scenarios::model::Pacing::Open,
            queue: None,
        },
        network: Network {
            delay: Delay::Matrix { source: "aws2020".into(), regions, one_way_ms },
            jitter: Jitter::LogNormal { median_ms: 0.5, sigma: 0.25 },
            loss: 0.01,
            fifo: false,
            spikes: vec![],
        },
        faults: Faults {
            partitions: vec![Partition { groups: vec![vec![0, 1, 2], vec![3, 4]], start_s: 5.0, heal_s: 8.5 }],
            crashes: vec![
                Crash { replica: 6, at_s: 4.0, recover_s: Some(9.0) },
                Crash { replica: 6, at_s: 12.0, recover_s: None },
            ],
        },
        // Five Byzantine replicas with f = 2: more than f is allowed.
        byzantine: vec![
            Byzantine {
                behavior: Behavior::HotStuff(scenarios::protocols::hotstuff::Behavior::Equivocate),
                who: Who::Replicas(vec![1, 5]),
                at_s: None,
                recover_s: None,
            },
            Byzantine { behavior: Behavior::Crash, who: Who::Count(2), at_s: Some(3.0), recover_s: Some(7.0) },
            Byzantine {
                behavior: Behavior::HotStuff(scenarios::protocols::hotstuff::Behavior::SlowLeader),
                who: Who::Count(1),
                at_s: None,
                recover_s: None,
            },
        ],
        checks: Checks { liveness_bound_s: Some(4.5) },
        adversary: Adversary::default(),
        workload: Workload {
            arrivals: Arrivals::Constant,
            rate_tps: 1500.0,
            accounts: 50,
            zipf_s: 0.9,
            tx_size_bytes: 512,
            trace: None,
        },
        section: ProtocolSection::HotStuff(HotStuff {
            variant: protocols::hotstuff::CommitRule::ThreeChain,
            certificate: Certificate::List,
            batch_size: 300,
            view_timeout_ms: 1500.0,
            timeout_backoff: 1.5,
            max_timeout_ms: 8000.0,
            leader: protocols::hotstuff::LeaderPolicy::RoundRobin,
            leader_order: vec![],
            payload: Payload::InProposal,
            mempool_batch_bytes: 500_000,
            mempool_max_batch_delay_ms: 100.0,
            mempool_ack_quorum: 0,
        }),
        genesis_balance: 1_000_000,
        cpu: Cpu {
            cores: 4,
            request_cores: 0,
            base_us: 10.0,
            request_base_us: None,
            per_kib_us: 0.5,
            per_tx_us: 0.0,
            crypto: CryptoMode::Modeled,
            profile: CostProfile {
                name: "free".into(),
                sign_us: 0.0,
                verify_us: 0.0,
                aggregate_per_sig_us: 0.0,
                verify_aggregate_us: 0.0,
            },
            client_verify_us: 50.0,
        },
        limits: Limits {
            max_events: 123_456_789,
            max_queue: 1000,
            max_cpu_queue: 4_000_000,
            max_transactions: 20_000_000,
            max_stalled_events: 2_000_000,
        },
        output: Output { window_s: 0.5, latency_csv: false, flight_records: 4096 },
        explore: None,
        inputs: Vec::new(),
    };
    assert_eq!(s, expected);
}

#[test]
fn byzantine_entries_and_checks_parse() {
    use scenarios::protocols::hotstuff::Behavior as Hs;
    let behaviors = [
        ("silent", Behavior::HotStuff(Hs::Silent)),
        ("fork", Behavior::HotStuff(Hs::Fork)),
        ("equivocate", Behavior::HotStuff(Hs::Equivocate)),
        ("withhold_votes", Behavior::HotStuff(Hs::WithholdVotes)),
        ("slow_leader", Behavior::HotStuff(Hs::SlowLeader)),
    ];
    for (name, behavior) in behaviors {
        let s = valid(MINIMAL, &[&format!("byzantine=[{{ behavior = \"{name}\", replicas = [3, 0] }}]")]);
        let expected = Byzantine { behavior, who: Who::Replicas(vec![3, 0]), at_s: None, recover_s: None };
        assert_eq!(s.byzantine, vec![expected], "{name}");
    }
    let s = valid(MINIMAL, &["byzantine=[{ behavior = \"crash\", count = 1, at_s = 0 }]"]);
    let expected = Byzantine { behavior: Behavior::Crash, who: Who::Count(1), at_s: Some(0.0), recover_s: None };
    assert_eq!(s.byzantine, vec![expected]);
    // n - 1 Byzantine replicas, far beyond f = 1, are allowed; so is a count next to a crash fault
    // (the crash check concerns named replicas) and a crash recovering after the end of the run.
    let src = "duration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n[[faults.crashes]]\nreplica = 3\nat_s = 1\n\
               [[byzantine]]\nbehavior = \"fork\"\nreplicas = [0]\n[[byzantine]]\nbehavior = \"crash\"\ncount = 2\n\
               at_s = 2\nrecover_s = 50\n[checks]\nliveness_bound_s = 3\n";
    let s = valid(src, &[]);
    assert_eq!(s.byzantine.len(), 2);
    assert_eq!(s.byzantine[1].who, Who::Count(2));
    assert_eq!(s.byzantine[1].recover_s, Some(50.0));
    assert_eq!(s.checks, Checks { liveness_bound_s: Some(3.0) });
    // --set replaces the whole list, and sets the bound.
    let s = valid(FULL, &["byzantine=[]", "checks.liveness_bound_s=0.25"]);
    assert_eq!((s.byzantine, s.checks.liveness_bound_s), (Vec::new(), Some(0.25)));
    // Absent: every replica is correct and there is no liveness check.
    let s = valid(MINIMAL, &[]);
    assert_eq!((s.byzantine, s.checks), (Vec::new(), Checks { liveness_bound_s: None }));
    let s = valid(MINIMAL, &["checks={}"]);
    assert_eq!(s.checks.liveness_bound_s, None);
}

#[test]
fn an_adversary_parses_and_lowers_to_the_engine_adversary() {
    use sim_core::adversary::{Action, Mode, RandomAttack, Rule, kind_bit};
    use sim_core::{Message, NodeId, Span, Time};
    let lowered = |s: &Scenario| scenarios::lower::lower(s).sim.adversary;
    // Random, on named kinds.
    let src = hotstuff!(
        "[adversary]\nmode = \"random\"\ndelay_max_ms = 200\ntargets = [\"vote\", \"proposal\"]\ndelay = 0.25\n\
         drop = 0.02\n"
    );
    let s = valid(src, &[]);
    let targets = AdversaryTargets::Kinds(strings(&["vote", "proposal"]));
    let mode = AdversaryMode::Random { targets, delay: 0.25, drop: 0.02, slow_replica: false };
    assert_eq!(s.adversary, Adversary { mode, delay_max_ms: 200.0 });
    let attack = RandomAttack { targets_mask: 0b11, delay_ppb: 250_000_000, drop_ppb: 20_000_000 };
    let expected = sim_core::Adversary { mode: Mode::Random(attack), delay_max: Span(200_000_000) };
    assert_eq!(lowered(&s), expected);
    // "critical" (the default) takes the protocol's critical kinds; "all" every kind; Algorand
    // names no critical kind, so "critical" is every kind there.
    let critical = protocols::hotstuff::HsMsg::CRITICAL_KINDS.iter().fold(0, |m, &k| m | kind_bit(k));
    let all = (1u64 << protocols::hotstuff::HsMsg::KINDS.len()) - 1;
    let cases: [(&str, &[&str], u64); 4] = [
        (MINIMAL, &[], critical),
        (MINIMAL, &["adversary.targets=all"], all),
        (MINIMAL, &["adversary.targets=critical"], critical),
        (algorand!(""), &[], 0b1111),
    ];
    for (src, sets, mask) in cases {
        let base = ["adversary.mode=random", "adversary.delay_max_ms=50", "adversary.drop=0.1"];
        let s = valid(src, &[&base[..], sets].concat());
        let attack = RandomAttack { targets_mask: mask, delay_ppb: 0, drop_ppb: 100_000_000 };
        assert_eq!(lowered(&s).mode, Mode::Random(attack), "{sets:?}");
        assert_eq!(lowered(&s).delay_max, Span(50_000_000));
    }
    // A slow replica: a correct one, drawn per seed; slow_replica alone is an attack.
    let slow_of = |seed: u64| {
        let sets = ["adversary.mode=random", "adversary.delay_max_ms=50", "adversary.slow_replica=true"];
        let seed = format!("seed={seed}");
        let s = valid(MINIMAL, &[&sets[..], &["byzantine=[{behavior=\"silent\", replicas=[0]}]", &seed]].concat());
        match lowered(&s).mode {
            Mode::RandomSlow { attack, slow } => {
                assert_eq!((attack.delay_ppb, attack.drop_ppb), (0, 0));
                slow
            }
            other => panic!("expected a slow replica, got {other:?}"),
        }
    };
    let picked: std::collections::BTreeSet<NodeId> = (1..40).map(slow_of).collect();
    assert_eq!(picked.into_iter().collect::<Vec<_>>(), vec![NodeId(1), NodeId(2), NodeId(3)], "correct ones only");
    assert_eq!(slow_of(7), slow_of(7));
    // Scripted: every field of a rule, each action, in file order (the first match wins).
    let src = hotstuff!(
        "[adversary]\nmode = \"scripted\"\ndelay_max_ms = 500\n[[adversary.rules]]\nkinds = [\"vote\", \"new-view\"]\n\
         from = 1\nto = 2\nviews = [3, 7]\naction = \"drop\"\n[[adversary.rules]]\nkinds = [\"proposal\"]\n\
         action = \"delay\"\ndelay_ms = 150\n[[adversary.rules]]\nfrom = 3\naction = \"hold\"\nuntil_s = 2.5\n"
    );
    let s = valid(src, &[]);
    let rules = vec![
        AdversaryRule {
            kinds: strings(&["vote", "new-view"]),
            from: Some(1),
            to: Some(2),
            views: Some((3, 7)),
            action: AdversaryAction::Drop,
        },
        AdversaryRule {
            kinds: strings(&["proposal"]),
            from: None,
            to: None,
            views: None,
            action: AdversaryAction::Delay { delay_ms: 150.0 },
        },
        AdversaryRule {
            kinds: Vec::new(),
            from: Some(3),
            to: None,
            views: None,
            action: AdversaryAction::Hold { until_s: 2.5 },
        },
    ];
    assert_eq!(s.adversary, Adversary { mode: AdversaryMode::Scripted(rules), delay_max_ms: 500.0 });
    let rules = vec![
        Rule::any(Action::Drop).kind(1).kind(4).from(NodeId(1)).to(NodeId(2)).views(3, 7),
        Rule::any(Action::Delay(Span(150_000_000))).kind(0),
        Rule::any(Action::HoldUntil(Time(2_500_000_000))).from(NodeId(3)),
    ];
    assert_eq!(lowered(&s), sim_core::Adversary::scripted(rules, Span(500_000_000)));
    // A list of rules from --set, and the leaderless kinds.
    let rules = "adversary.rules=[{ kinds = [\"prepare\", \"commit\"], views = [0, 0], action = \"drop\" }]";
    let s = valid(
        MINIMAL,
        &["protocol=leaderless", "replicas.n=6", "adversary.mode=scripted", "adversary.delay_max_ms=10", rules],
    );
    let expected = Rule::any(Action::Drop).kind(3).kind(4).views(0, 0);
    assert_eq!(lowered(&s), sim_core::Adversary::scripted(vec![expected], Span(10_000_000)));
    // Absent, or off: no adversary.
    assert_eq!(lowered(&valid(MINIMAL, &[])), sim_core::Adversary::OFF);
    assert_eq!(valid(MINIMAL, &["adversary.mode=off"]).adversary, Adversary::default());
}

/// A scenario keeps its own protocol's section only, with that section's defaults.
#[test]
fn a_scenario_carries_its_own_protocol_section() {
    let src = "duration_s = 10\n[replicas]\nn = 6\n[workload]\nrate_tps = 1\n";
    let s = valid(src, &["protocol=leaderless"]);
    assert_eq!(s.section, ProtocolSection::Leaderless(default_leaderless()));
    assert_eq!(valid(src, &[]).section.leaderless(), None);
}

#[test]
fn an_algorand_scenario_parses_to_its_preset_with_overrides() {
    let src = "protocol = \"algorand\"\nduration_s = 10\n[replicas]\nn = 5000\nf = 7\n[workload]\nrate_tps = 1\n";
    let s = valid(src, &[]);
    assert_eq!(s.protocol(), ProtocolKind::Algorand);
    // f means nothing to Algorand: read, not checked against n, and 0.
    assert_eq!((s.replicas.n, s.replicas.f), (5000, 0));
    assert_eq!(valid(src, &["replicas.n=4", "replicas.f=2"]).replicas.f, 0, "not even n >= 3f+1 is asked");
    assert_eq!(*s.section.algorand().unwrap(), default_algorand());
    // The defaults are the preset's exact values, and the client trusts one user.
    let lowered = scenarios::lower::lower(&s);
    assert_eq!(algorand_config(&lowered).algorand, protocols::algorand::AlgorandConfig::mainnet());
    assert_eq!(lowered.sim.f, 0);
    let sosp = valid(src, &["algorand.preset=sosp2017"]);
    assert_eq!(sosp.section.algorand().unwrap().topology, AlgorandTopology::Peers);
    assert_eq!(
        algorand_config(&scenarios::lower::lower(&sosp)).algorand,
        protocols::algorand::AlgorandConfig::sosp2017()
    );
    let full = "[algorand]\npreset = \"sosp2017\"\ntopology = \"relays\"\nrelays = 50\nrelay_degree = 10\nfanout = 3\n\
                gossip_batch_ms = 0\nblock_max_kib = 2048\npriority_wait_s = 1\nblock_wait_s = 2.5\n\
                step_timeout_s = 3\nfinal_wait = false\nvrf_verify_us = 80\nstake = \"pareto\"\npareto_shape = 1.5\n\
                [[byzantine]]\nbehavior = \"double_vote\"\ncount = 100\n[[byzantine]]\nbehavior = \"crash\"\n\
                replicas = [3]\nat_s = 1\n";
    let s = valid(&format!("{src}{full}"), &[]);
    let expected = Algorand {
        preset: AlgorandPreset::Sosp2017,
        topology: AlgorandTopology::Relays,
        relays: 50,
        relay_degree: 10,
        fanout: 3,
        gossip_batch_ms: 0.0,
        block_max_bytes: 2 * 1024 * 1024,
        priority_wait_s: 1.0,
        block_wait_s: 2.5,
        step_timeout_s: 3.0,
        final_wait: false,
        vrf_verify_us: 80.0,
        stake: Stake::Pareto { shape: 1.5 },
    };
    assert_eq!(*s.section.algorand().unwrap(), expected);
    use scenarios::protocols::algorand::Behavior as Ag;
    assert_eq!(s.byzantine[0].behavior, Behavior::Algorand(Ag::DoubleVote));
    let lowered = scenarios::lower::lower(&s);
    use protocols::algorand::Behavior as B;
    let roster = &algorand_config(&lowered).roster;
    assert_eq!(roster.iter().filter(|&&b| b == B::DoubleVote).count(), 100);
    assert_eq!(roster[3], B::Correct, "a crash is an engine fault");
    let liars = valid(src, &["byzantine=[{ behavior = \"fake_sync\", count = 10 }]"]);
    assert_eq!(liars.byzantine[0].behavior, Behavior::Algorand(Ag::FakeSync));
    let lowered = scenarios::lower::lower(&liars);
    assert_eq!(algorand_config(&lowered).roster.iter().filter(|&&b| b == B::FakeSync).count(), 10);
    // A scenario valid at its seed may not be at another (Pareto stake): compare and sweep ask.
    assert_eq!(parse::seed_problem(&s), None);
}

#[test]
fn every_jitter_kind_parses() {
    let cases = [
        ("\"none\"", Jitter::None),
        ("{ kind = \"none\" }", Jitter::None),
        ("{ kind = \"uniform\", max_ms = 2 }", Jitter::Uniform { max_ms: 2.0 }),
        ("{ kind = \"normal\", mean_ms = 1, sd_ms = 0.5 }", Jitter::Normal { mean_ms: 1.0, sd_ms: 0.5 }),
        ("{ kind = \"lognormal\", median_ms = 1, sigma = 0.5 }", Jitter::LogNormal { median_ms: 1.0, sigma: 0.5 }),
        ("{ kind = \"pareto\", scale_ms = 1, shape = 2.5 }", Jitter::Pareto { scale_ms: 1.0, shape: 2.5 }),
    ];
    for (text, expected) in cases {
        let s = valid(MINIMAL, &[&format!("network.jitter={text}")]);
        assert_eq!(s.network.jitter, expected, "{text}");
    }
}

#[test]
fn overrides_are_applied() {
    let s = valid(
        FULL,
        &[
            "workload.rate_tps=5000",
            "network.matrix=gcp2019", // a bare string
            "replicas.regions=[\"us-east1\", \"europe-west1\"]",
            "clients.regions=[\"us-west1\"]",
            "name=2024", // a string field takes the text even when it parses as a number
            "hotstuff.batch_size = 10",
            "limits.max_queue=5",
        ],
    );
    assert_eq!(s.workload.rate_tps, 5000.0);
    assert!(matches!(&s.network.delay, Delay::Matrix { source, .. } if source == "gcp2019"));
    assert_eq!(s.replicas.regions, strings(&["us-east1", "europe-west1"]));
    assert_eq!(s.name, "2024");
    assert_eq!((s.section.hotstuff().unwrap().batch_size, s.limits.max_queue), (10, 5));
    // A later --set of the same key wins; --set creates missing tables.
    let s = valid(MINIMAL, &["output.window_s=0.5", "output.window_s=2", "clients.count=3"]);
    assert_eq!((s.output.window_s, s.clients.count), (2.0, 3));
    // Choosing another delay source on the command line replaces the file's.
    let s = valid(FULL, &["network.uniform_delay_ms=7"]);
    assert_eq!(s.network.delay, Delay::Uniform { one_way_ms: 7.0 });
    // A whole list of tables can be replaced.
    let s = valid(FULL, &["faults.crashes=[{ replica = 0, at_s = 1 }]"]);
    assert_eq!(s.faults.crashes, vec![Crash { replica: 0, at_s: 1.0, recover_s: None }]);
    // An override can fix an invalid file.
    let s = valid("duration_s = 10\n[replicas]\nn = 4\nf = 2\n[workload]\nrate_tps = 1\n", &["replicas.f=1"]);
    assert_eq!(s.replicas.f, 1);
}

#[test]
fn choosing_the_loop_on_the_command_line_replaces_the_files_load() {
    use scenarios::model::Pacing;
    // MINIMAL offers an open load (`workload.rate_tps`): a closed loop set on the command line
    // drops it instead of being refused for it.
    let s = valid(MINIMAL, &["clients.loop=closed", "clients.outstanding=8"]);
    assert_eq!(s.clients.pacing, Pacing::Closed { outstanding: 8, think_ms: 0.0 });
    // Back again: an open loop drops the file's outstanding and think time.
    let closed = "duration_s = 10\n[replicas]\nn = 4\n[clients]\nloop = \"closed\"\noutstanding = 2\nthink_ms = 1\n";
    let s = valid(closed, &["clients.loop=open", "workload.rate_tps=50"]);
    assert_eq!((s.clients.pacing, s.workload.rate_tps), (Pacing::Open, 50.0));
    // What the command line itself says is kept, so it still contradicts itself visibly.
    let diags = load(MINIMAL, &["workload.rate_tps=5", "clients.loop=closed", "clients.outstanding=8"], None);
    assert!(diags.unwrap_err().to_string().contains("rate_tps"), "a --set rate with a closed loop is refused");
    // Only the loop key does this: another --set never removes a file's key.
    assert!(load(closed, &["clients.count=3"], None).is_ok());
    assert!(load(closed, &["workload.rate_tps=50"], None).is_err(), "the file's closed loop refuses a rate");
}

#[test]
fn the_seed_option_overrides_the_file() {
    assert_eq!(valid(FULL, &[]).seed, 42);
    let s = load(FULL, &[], Some(7)).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(s.seed, 7);
    let s = load(FULL, &["seed=9"], Some(u64::MAX)).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(s.seed, u64::MAX, "--seed wins over --set seed");
    // An invalid seed in the file does not matter once --seed replaces it.
    assert!(load("seed = -1\nduration_s = 1\n[replicas]\nn = 1\n[workload]\nrate_tps = 1\n", &[], Some(3)).is_ok());
}

const MATRIX_CSV: &str = "\
# RTT in ms
from_region,a,b,c
a,0,10,20.5
b,10,0,30
c,20.5,30,0
";

#[test]
fn a_matrix_file_is_read_relative_to_the_scenario() {
    let dir = TempDir::new("matrix-ok");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/m.csv"), MATRIX_CSV).unwrap();
    let src = "duration_s = 10\n[replicas]\nn = 4\nregions = [\"a\", \"c\"]\n[network]\nmatrix_file = \"data/m.csv\"\n[workload]\nrate_tps = 1\n";
    std::fs::write(dir.join("s.toml"), src).unwrap();
    let s = parse::load(&dir.join("s.toml"), &[], None).unwrap_or_else(|d| panic!("{d}"));
    let expected = Delay::Matrix {
        source: "data/m.csv".into(),
        regions: strings(&["a", "b", "c"]),
        one_way_ms: vec![vec![0.0, 5.0, 10.25], vec![5.0, 0.0, 15.0], vec![10.25, 15.0, 0.0]],
    };
    assert_eq!(s.network.delay, expected);
    assert_eq!(s.clients.regions, strings(&["a", "c"]));
    // From --set, a path is taken as given (relative to the current directory, not the file).
    let absolute = dir.join("data/m.csv").display().to_string();
    let set = format!("network.matrix_file={absolute}");
    let s = parse::load_str(Path::new("elsewhere/s.toml"), src, &[set], None).unwrap_or_else(|d| panic!("{d}"));
    assert!(matches!(&s.network.delay, Delay::Matrix { source, .. } if *source == absolute));
    let diags = parse::load_str(Path::new("elsewhere/s.toml"), src, &[], None).unwrap_err().to_string();
    assert!(diags.contains("elsewhere/data/m.csv: cannot read the matrix file: No such file"), "{diags}");
}

#[test]
fn corrupt_matrix_files_are_reported_by_line() {
    let dir = TempDir::new("matrix-bad");
    let cases: &[(&str, &str, &[&str])] = &[
        ("empty", "", &["empty.csv: the file is empty"]),
        (
            "not-square",
            "from_region,a,b\na,0,1\n",
            &["not-square.csv: 1 rows for 2 regions: the matrix must be square"],
        ),
        (
            "order",
            "from_region,a,b\nb,1,0\na,0,1\n",
            &[
                "order.csv, line 2: row \"b\" is out of order: row 1 must be \"a\"",
                "order.csv, line 3: row \"a\" is out of order: row 2 must be \"b\"",
            ],
        ),
        ("crlf", "from_region,a,b\r\nb,1,0\r\na,0,1\r\n", &["crlf.csv, line 2: row \"b\" is out of order"]),
        (
            "comments-and-blank-lines",
            "# rtt\nfrom_region,a,b\n\n# a\na,0,1\nb,1,x\n",
            &["comments-and-blank-lines.csv, line 6: value \"x\" (column \"b\") is not a number"],
        ),
        (
            "unknown-row",
            "from_region,a,b\na,0,1\nz,1,0\n",
            &["unknown-row.csv, line 3: row \"z\" is not a region of the header"],
        ),
        (
            "values",
            "from_region,a,b\na,0,-1\nb,x,0,7\n",
            &[
                "values.csv, line 2: value -1 (column \"b\") must be a round-trip time in ms, >= 0",
                "values.csv, line 3: row \"b\" has 3 values; expected 2",
                "values.csv, line 3: value \"x\" (column \"a\") is not a number",
            ],
        ),
        (
            "duplicate",
            "from_region,a,a\na,0,1\na,1,0\n",
            &["duplicate.csv, line 1: region \"a\" appears twice in the header"],
        ),
        ("too-many-rows", "from_region,a\na,0\nb,1\n", &["too-many-rows.csv, line 3: row \"b\" is one too many"]),
    ];
    let mut failures = Vec::new();
    for &(name, csv, needles) in cases {
        let file = format!("{name}.csv");
        std::fs::write(dir.join(&file), csv).unwrap();
        let src = format!(
            "duration_s = 1\n[replicas]\nn = 1\n[network]\nmatrix_file = \"{file}\"\n[workload]\nrate_tps = 1\n"
        );
        let result = parse::load_str(&dir.join("s.toml"), &src, &[], None);
        let text = result.map_or_else(|d| d.to_string(), |_| "accepted".to_string());
        for needle in needles {
            if !text.contains(needle) || !text.contains("s.toml:5:15: network.matrix_file:") {
                failures.push(format!("{name}: lacks {needle:?} in:\n{text}\n"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn presets_hold_the_published_round_trip_times() {
    assert_eq!(presets::names(), &["gcp2019", "aws2020"]);
    for &name in presets::names() {
        let (regions, one_way_ms) = presets::get(name).expect("every listed preset exists");
        assert_eq!(one_way_ms.len(), regions.len(), "{name} is square");
        for (i, row) in one_way_ms.iter().enumerate() {
            assert_eq!(row.len(), regions.len(), "{name} row {i}");
            assert_eq!(row[i], 0.0, "{name}: zero delay within {}", regions[i]);
            assert!(row.iter().all(|&d| d.is_finite() && d >= 0.0));
        }
        let mut sorted = regions.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), regions.len(), "{name}: region names are unique");
    }
    let (gcp, gcp_ms) = presets::get("gcp2019").unwrap();
    let (aws, aws_ms) = presets::get("aws2020").unwrap();
    assert_eq!((gcp.len(), aws.len()), (20, 19));
    let one_way = |regions: &[String], ms: &[Vec<f64>], a: &str, b: &str| {
        let at = |r: &str| regions.iter().position(|x| x == r).unwrap_or_else(|| panic!("{r} missing"));
        ms[at(a)][at(b)]
    };
    assert_eq!(one_way(&gcp, &gcp_ms, "us-east1", "europe-west1"), 46.5);
    assert_eq!(one_way(&gcp, &gcp_ms, "europe-west1", "us-east1"), 46.5);
    assert_eq!(one_way(&gcp, &gcp_ms, "asia-east1", "asia-east2"), 9.0);
    assert_eq!(one_way(&gcp, &gcp_ms, "asia-south1", "southamerica-east1"), 190.5);
    assert_eq!(one_way(&aws, &aws_ms, "us-east-1", "eu-west-1"), 35.0);
    assert_eq!(one_way(&aws, &aws_ms, "af-south-1", "ap-southeast-2"), 206.0);
    assert_eq!(one_way(&aws, &aws_ms, "us-west-1", "us-west-2"), 10.5);
    assert!(presets::get("gcp2020").is_none());
}

/// Values that are wrong for most fields, to throw at every line of a valid file.
const ODD_VALUES: &[&str] = &[
    "-1",
    "0",
    "1e400",
    "-inf",
    "nan",
    "99999999999999999999999999999999999999999999",
    "-9223372036854775808",
    "\"\"",
    "\"x/y\"",
    "true",
    "1979-05-27T07:32:00Z",
    "[]",
    "[[]]",
    "[1, \"a\"]",
    "{}",
    "{ kind = 3 }",
    "0.5",
];

#[test]
fn no_input_panics() {
    // Every value of the full example replaced by each odd value, from the file and from --set.
    for (i, line) in FULL.lines().enumerate() {
        let Some((key, _)) = line.split_once(" = ") else { continue };
        for value in ODD_VALUES {
            let mut lines: Vec<String> = FULL.lines().map(str::to_string).collect();
            lines[i] = format!("{key} = {value}");
            let _ = load(&lines.join("\n"), &[], None);
            let _ = load(FULL, &[&format!("{key}={value}"), &format!("hotstuff.{key}={value}")], None);
        }
    }
    // Every prefix of the file: syntax errors anywhere, and missing tables.
    for end in (0..FULL.len()).filter(|&i| FULL.is_char_boundary(i)) {
        let _ = load(&FULL[..end], &[], None);
    }
    // Odd overrides.
    for set in [
        "",
        "=",
        "=1",
        ".=1",
        "a..b=1",
        "seed=",
        "replicas=",
        "replicas.n.x.y=1",
        "faults=[]",
        "network.jitter.kind=pareto",
        "byzantine={}",
        "byzantine=[[]]",
        "byzantine=[{ behavior = \"crash\", replicas = [0, 0], count = -1, at_s = nan }]",
        "byzantine=[{ count = 4294967295 }, { count = 4294967295 }, { count = 4294967295 }]",
        "checks.liveness_bound_s=[]",
    ] {
        let _ = load(FULL, &[set], None);
    }
    let _ = load("\u{feff}duration_s = 1\n\u{e9}\u{e9} = 2", &[], None);
    // Every [algorand] field, under Algorand with few users, set to each odd value.
    let keys = ["preset", "topology", "relays", "relay_degree", "fanout", "gossip_batch_ms", "block_max_kib"];
    let more = ["priority_wait_s", "block_wait_s", "step_timeout_s", "vrf_verify_us", "stake", "pareto_shape"];
    for key in keys.into_iter().chain(more) {
        for value in ODD_VALUES {
            for n in ["1", "3"] {
                let sets = ["protocol=algorand", &format!("replicas.n={n}"), &format!("algorand.{key}={value}")];
                let _ = load(MINIMAL, &sets, None);
            }
        }
    }
}

#[test]
fn overlapping_groups_two_chain_and_counts_beside_crash_faults() {
    let base = "duration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n";
    let bridged = format!("{base}[[faults.partitions]]\ngroups = [[0, 2, 3], [1, 2, 3]]\nstart_s = 0\nheal_s = 5\n");
    let s = parse::load_str(Path::new("x.toml"), &bridged, &[], None).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(s.faults.partitions[0].groups, vec![vec![0, 2, 3], vec![1, 2, 3]]);
    let two = parse::load_str(Path::new("x.toml"), base, &["hotstuff.variant=two_chain".into()], None).unwrap();
    assert_eq!(two.section.hotstuff().unwrap().variant, protocols::hotstuff::CommitRule::TwoChain);
    // Two crash faults and one named Byzantine replica leave one replica to draw from.
    let crowded = format!(
        "{base}[[faults.crashes]]\nreplica = 0\nat_s = 1\n[[faults.crashes]]\nreplica = 1\nat_s = 1\n\
         [[byzantine]]\nbehavior = \"silent\"\nreplicas = [2]\n[[byzantine]]\nbehavior = \"fork\"\ncount = 2\n"
    );
    let err = parse::load_str(Path::new("x.toml"), &crowded, &[], None).unwrap_err().to_string();
    assert!(err.contains("byzantine[1].count: count draws 2 replicas in all, but only 1 of the 4"), "{err}");
    let fits = crowded.replace("count = 2", "count = 1");
    parse::load_str(Path::new("x.toml"), &fits, &[], None).unwrap_or_else(|d| panic!("{d}"));
}

#[test]
fn cost_profile_files() {
    let dir = TempDir::new("profile");
    let good =
        "name = \"mine\"\nsign_us = 400\nverify_us = 1100.5\naggregate_per_sig_us = 1.7\nverify_aggregate_us = 1300\n";
    std::fs::write(dir.join("good.toml"), good).unwrap();
    std::fs::write(dir.join("bad.toml"), good.replace("verify_us = 1100.5", "verify_us = -1")).unwrap();
    std::fs::write(dir.join("odd.toml"), format!("{good}speed = 3\n")).unwrap();
    let base = "duration_s = 10\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n[cpu]\n";
    let scenario = dir.join("s.toml");
    let load = |cpu: &str| parse::load_str(&scenario, &format!("{base}{cpu}"), &[], None);
    let s = load("profile_file = \"good.toml\"\n").unwrap_or_else(|d| panic!("{d}"));
    assert_eq!((s.cpu.profile.name.as_str(), s.cpu.profile.verify_us), ("mine", 1100.5));
    let cases = [
        ("profile_file = \"missing.toml\"\n", "missing.toml: cannot read the profile file: No such file"),
        ("profile_file = \"bad.toml\"\n", "`verify_us` must be a number of microseconds >= 0, found -1"),
        ("profile_file = \"odd.toml\"\n", "unknown field `speed`"),
        (
            "profile = \"free\"\nprofile_file = \"good.toml\"\n",
            "cpu.profile: give `profile` or `profile_file`, not both",
        ),
    ];
    for (cpu, needle) in cases {
        let err = load(cpu).unwrap_err().to_string();
        assert!(err.contains(needle), "{cpu:?}: lacks {needle:?} in\n{err}");
    }
}

/// The tests' scratch folder removes itself and what it holds, also when the test panics, and
/// two folders of one name never coincide. (Planted bug: an empty `Drop` fails the first assert
/// with "... survived its drop".)
#[test]
fn scratch_folders_remove_themselves() {
    let kept = {
        let dir = TempDir::new("self-removing");
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        std::fs::write(dir.join("a/b/c.txt"), "x").unwrap();
        dir.to_path_buf()
    };
    assert!(!kept.exists(), "{} survived its drop", kept.display());
    let panicked = std::panic::catch_unwind(|| {
        let dir = TempDir::new("self-removing");
        std::fs::write(dir.join("f.txt"), "x").unwrap();
        panic!("{}", dir.display());
    });
    let message = panicked.unwrap_err().downcast::<String>().unwrap();
    assert!(!Path::new(message.as_str()).exists(), "{message} survived a panic");
    let (one, two) = (TempDir::new("same"), TempDir::new("same"));
    assert_ne!(one.to_path_buf(), two.to_path_buf());
}

#[test]
fn leaderless_pbft_behaviours_parse_and_lower() {
    // The scenario's behaviour is the protocol's own: what validation keeps is what runs.
    use protocols::leaderless::Behavior as L;
    let src = "duration_s = 2\nprotocol = \"leaderless\"\n[replicas]\nn = 4\nf = 1\n[workload]\nrate_tps = 100\n\
               [leaderless]\nvariant = \"epaxos\"\n";
    let cases = [
        ("equivocate_proposal", L::EquivocateProposal),
        ("double_vote", L::DoubleVote),
        ("hide_prepared", L::HidePrepared),
        ("stale_prepared", L::StalePrepared),
        ("pbft_attack", L::PbftAttack),
    ];
    for (name, behavior) in cases {
        let s = valid(src, &[&format!("byzantine=[{{ behavior = \"{name}\", replicas = [2] }}]")]);
        assert_eq!(s.byzantine[0].behavior, Behavior::Leaderless(behavior), "{name}");
        let ProtocolConfig::Leaderless(cfg) = scenarios::lower::lower(&s).protocol else { panic!("a leaderless run") };
        assert_eq!(cfg.roster[2], behavior, "{name}");
        assert_eq!(s.byzantine[0].behavior.name(), name);
    }
    // HotStuff has none of them.
    let hotstuff = "duration_s = 2\n[replicas]\nn = 4\n[workload]\nrate_tps = 100\n";
    let sets = ["byzantine=[{ behavior = \"pbft_attack\", replicas = [2] }]".to_string()];
    assert!(parse::load_str(std::path::Path::new("t.toml"), hotstuff, &sets, None).is_err());
}

#[test]
fn explore_and_spikes_parse_and_every_problem_is_reported() {
    let s = valid(&format!("{MINIMAL}[explore]\n"), &[]);
    let e = s.explore.expect("[explore]");
    assert_eq!((e.kinds.len(), e.beyond_f, e.max_crashes, e.max_byzantine, e.to_s), (6, false, 1, 1, 5.0));
    let s = valid(&format!("{MINIMAL}[[network.spikes]]\nstart_s = 1\nend_s = 2\nloss = 0.2\n"), &[]);
    assert_eq!(s.network.spikes.len(), 1);
    assert!(valid(MINIMAL, &[]).explore.is_none());
    let src = format!(
        "{MINIMAL}[explore]\nkinds = [\"crash\", \"partitoin\", \"crash\"]\nmax_crashes = 4\nto_s = 40\nbehaviours = 1\n\
         [[network.spikes]]\nstart_s = 2\nend_s = 1\n"
    );
    let text = load(&src, &[], None).unwrap_err().to_string();
    for needle in [
        "explore.kinds[1]",
        "unknown fault kind \"partitoin\"",
        "did you mean `partition`?",
        "max_crashes = 4 but replicas.n = 4",
        "\"crash\" is listed twice",
        "unknown field `behaviours`",
        "40 s is after the end of the run",
        "must be after start_s",
        "a spike with loss = 0 and extra_delay_ms = 0 does nothing",
    ] {
        assert!(text.contains(needle), "lacks {needle:?} in:\n{text}");
    }
    let text = load(&format!("{MINIMAL}[explore]\nbehaviors = [\"twins\"]\n"), &[], None).unwrap_err().to_string();
    assert!(text.contains("\"twins\" is not a behaviour a seed can draw"), "{text}");
}

/// The Algorand part of a lowered scenario.
fn algorand_config(lowered: &scenarios::lower::Lowered) -> &scenarios::protocols::algorand::Config {
    match &lowered.protocol {
        ProtocolConfig::Algorand(cfg) => cfg,
        other => panic!("an Algorand run, not {other:?}"),
    }
}
