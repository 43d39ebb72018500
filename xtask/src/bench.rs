//! Benchmarks: each case runs in its own child process (so its peak memory is its own) and
//! prints one line; `all` gathers them into docs/bench.md. Compare ratios within one run:
//! the machines are shared and noisy.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

use scenarios::explore::Exploration;
use scenarios::planted::Planted;
use sim_core::net::{DelayModel, Jitter, NetConfig, NodePlacement};
use sim_core::workload::ListWorkload;
use sim_core::{Ctx, Message, NodeId, Protocol, SendPolicy, SimConfig, Simulation, Span, Time, Tx};

/// Two replicas bouncing one message: the engine's cost per event, nothing else.
struct PingPong;

#[derive(Clone, Debug)]
struct Ball(u64);

impl Message for Ball {
    const KINDS: &'static [&'static str] = &["ball"];
    fn kind(&self) -> usize {
        0
    }
    fn wire_size(&self) -> u32 {
        64
    }
    fn fingerprint(&self) -> u64 {
        self.0
    }
}

impl Protocol for PingPong {
    type Message = Ball;
    type Timer = ();
    type Record = std::convert::Infallible;
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.me() == NodeId(0) {
            for i in 0..64 {
                ctx.send(NodeId(1), Ball(i));
            }
        }
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Ball) {
        ctx.send(from, Ball(msg.0 + 1));
    }
    fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _timer: ()) {}
    fn on_request(&mut self, _ctx: &mut Ctx<'_, Self>, _tx: Tx) {}
}

fn ping_pong(events: u64) -> (u64, f64) {
    let place = NodePlacement { region: 0, uplink_bps: 0, downlink_bps: 0 };
    let cfg = SimConfig {
        seed: 1,
        n_replicas: 2,
        f: 0,
        net: NetConfig {
            nodes: vec![place; 2],
            n_replicas: 2,
            delay: DelayModel::Uniform(Span::from_micros(100)),
            jitter: Jitter::Uniform { max_ns: 1000 },
            loss_ppb: 0,
            fifo: false,
            partitions: vec![],
            spikes: vec![],
        },
        send_to: SendPolicy::Nearest,
        faults: vec![],
        end: Time::MAX,
        limits: sim_core::Limits { max_events: events, max_queue: 1 << 20, ..sim_core::Limits::DEFAULT },
        correct: vec![true; 2],
        cpu: sim_core::CpuConfig::UNLIMITED,
        crypto: Default::default(),
        liveness: None,
        client_retry: None,
        clients: sim_core::ClientModel::OPEN,
        adversary: sim_core::Adversary::OFF,
    };
    let sim = Simulation::new(cfg, Box::new(ListWorkload::default()), |_| PingPong);
    let t = Instant::now();
    let r = sim.run();
    (r.events, t.elapsed().as_secs_f64())
}

fn scenario(path: &str, sets: &[&str]) -> (u64, f64, f64, f64) {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let s = scenarios::parse::load(std::path::Path::new(path), &sets, None).unwrap_or_else(|d| panic!("{d}"));
    let t = Instant::now();
    let report = scenarios::run::run(&s, &mut |_, _| {});
    let wall = t.elapsed().as_secs_f64();
    (report.result.events, wall, report.result.end_time.as_secs_f64(), report.summary.goodput_tps)
}

/// The wall time of one run of `s`: with a flight recorder of `ring` records, and writing the
/// whole event log to `log` if given. Returns (wall s, records, lines written).
fn observed_run(s: &scenarios::model::Scenario, ring: usize, log: Option<&std::path::Path>) -> (f64, u64, u64) {
    let mut s = s.clone();
    s.output.flight_records = ring;
    let made = log.map(|path| {
        let _ = std::fs::remove_file(path);
        let log = scenarios::eventlog::EventLog::create(path, Default::default()).expect("a new log file");
        scenarios::watch::share(log)
    });
    let watchers: Vec<scenarios::watch::Shared> = made.iter().map(|(_, shared)| shared.clone()).collect();
    let t = Instant::now();
    let report = scenarios::run::run_watched(&s, None, &watchers, &mut |_, _| {});
    let lines = made.map_or(0, |(log, _)| {
        let mut log = log.borrow_mut();
        log.finish(&report).expect("the event log is written");
        log.lines
    });
    let wall = t.elapsed().as_secs_f64();
    if let Some(path) = log {
        let _ = std::fs::remove_file(path);
    }
    (wall, report.result.records, lines)
}

/// The cost of observing a run, in one process, variants interleaved and the fastest of five
/// rounds kept (the machine is shared): no flight recorder, the default one (the event log
/// off), and the whole event log written to a file.
fn observe_rows() -> String {
    let cases: [(&str, &str, &[&str]); 2] = [
        ("quickstart", "scenarios/quickstart.toml", &[]),
        (
            "hotstuff64",
            "scenarios/examples/closed-form.toml",
            &["replicas.n=64", "workload.rate_tps=40000", "duration_s=5", "hotstuff.batch_size=400", "clients.count=8"],
        ),
    ];
    let log = std::env::temp_dir().join(format!("byzsim-bench-events-{}.jsonl", std::process::id()));
    let mut rows = String::new();
    for (name, path, sets) in cases {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let s = scenarios::parse::load(std::path::Path::new(path), &sets, None).unwrap_or_else(|d| panic!("{d}"));
        let (mut bare, mut ring, mut logged) = (f64::MAX, f64::MAX, f64::MAX);
        let (mut records, mut lines) = (0, 0);
        for _ in 0..5 {
            bare = bare.min(observed_run(&s, 0, None).0);
            ring = ring.min(observed_run(&s, sim_core::FlightRecorder::DEFAULT_CAPACITY, None).0);
            let (wall, r, l) = observed_run(&s, sim_core::FlightRecorder::DEFAULT_CAPACITY, Some(&log));
            (logged, records, lines) = (logged.min(wall), r, l);
        }
        let _ = writeln!(
            rows,
            "| {name} | {records} | {bare:.3} | {ring:.3} | {:+.1}% | {logged:.3} | {:.2e} |",
            (ring / bare - 1.0) * 100.0,
            lines as f64 / logged
        );
    }
    rows
}

fn observe_section() -> Result<String, String> {
    let rows = exploration("observe")?;
    let mut table = String::new();
    let _ = writeln!(
        table,
        "\n## Observing a run: flight recorder and event log\n\nOne process, the three variants interleaved, the \
         fastest of five rounds. `no recorder`: `[output] flight_records = 0` and no event log; `log off`: the \
         default (the flight recorder keeps the last 4096 records, every run); `log on`: `byzsim run --events` \
         writing every record to a file. The cost of the event log off is `log off` against `no recorder` \
         (records are built either way); `records/s written` is the log's lines over the logged run's wall time.\n"
    );
    let _ =
        writeln!(table, "| case | records | no recorder s | log off s | log off cost | log on s | records/s written |");
    let _ = writeln!(table, "|---|---:|---:|---:|---:|---:|---:|");
    table.push_str(&rows);
    Ok(table)
}

pub(crate) fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// Safety exploration: every Byzantine behaviour with f = 1 of n = 4 replicas (placed by the
/// seed), on many seeds; prints markdown rows. Any violation here is a bug.
fn safety_rows(seeds: u64) -> String {
    let mut rows = String::new();
    for behavior in ["silent", "fork", "equivocate", "withhold_votes", "slow_leader", "crash"] {
        let t = Instant::now();
        let (mut broken, mut committed) = (0u64, 0u64);
        for seed in 1..=seeds {
            let entry = if behavior == "crash" {
                "byzantine=[{behavior = \"crash\", count = 1, at_s = 1}]".to_string()
            } else {
                format!("byzantine=[{{behavior = \"{behavior}\", count = 1}}]")
            };
            let variant = if seed % 2 == 0 { "two_chain" } else { "chained" };
            let sets = [
                "replicas.n=4".to_string(),
                "duration_s=3".into(),
                "drain_s=1".into(),
                entry,
                format!("hotstuff.variant={variant}"),
            ];
            let s =
                scenarios::parse::load(std::path::Path::new("scenarios/examples/byzantine.toml"), &sets, Some(seed))
                    .unwrap_or_else(|d| panic!("{d}"));
            let r = scenarios::run::run(&s, &mut |_, _| {});
            broken += u64::from(matches!(r.result.stop, sim_core::Stop::Violation(_)));
            committed += r.summary.committed_tx;
        }
        let wall = t.elapsed().as_secs_f64();
        let _ = writeln!(
            rows,
            "| {behavior} | {seeds} | {broken} | {:.0} | {wall:.1} | {:.0} |",
            committed as f64 / seeds as f64,
            seeds as f64 / wall
        );
    }
    rows
}

/// Safety exploration of the leaderless protocol: each Byzantine behaviour, one Byzantine
/// replica placed by the seed, hot accounts, clients in three regions; both variants (n = 6
/// Wintermute, n = 4 EPaxos). Prints markdown rows. Any violation here is a bug.
fn leaderless_safety_rows(seeds: u64) -> String {
    let behaviors = [
        "silent",
        "omit_deps",
        "invent_deps",
        "irrelevant_deps",
        "equivocate",
        "spoil_different",
        "spoil_silent",
        "never_commit",
        "propose_without_proof",
        "forge_commit",
        "crash",
    ];
    let mut rows = String::new();
    for variant in ["wintermute", "epaxos"] {
        for behavior in behaviors {
            let t = Instant::now();
            let (mut broken, mut unconfirmed, mut recovered) = (0u64, 0u64, 0u64);
            for seed in 1..=seeds {
                let at = if behavior == "crash" { ", at_s = 1" } else { "" };
                let sets = [
                    format!("byzantine=[{{behavior = \"{behavior}\", count = 1{at}}}]"),
                    format!("leaderless.variant={variant}"),
                    format!("replicas.n={}", if variant == "epaxos" { 4 } else { 6 }),
                    "duration_s=3".into(),
                ];
                let path = std::path::Path::new("scenarios/examples/leaderless-byzantine.toml");
                let s = scenarios::parse::load(path, &sets, Some(seed)).unwrap_or_else(|d| panic!("{d}"));
                let r = scenarios::run::run(&s, &mut |_, _| {});
                broken += u64::from(matches!(r.result.stop, sim_core::Stop::Violation(_)));
                unconfirmed += r.summary.unconfirmed_tx;
                recovered += r.result.counters.iter().find(|c| c.0 == "recovered_commands").map_or(0, |c| c.1);
            }
            let wall = t.elapsed().as_secs_f64();
            let _ = writeln!(
                rows,
                "| {variant} | {behavior} | {seeds} | {broken} | {unconfirmed} | {:.1} | {wall:.1} | {:.1} |",
                recovered as f64 / seeds as f64,
                seeds as f64 / wall
            );
        }
    }
    rows
}

/// Safety exploration of the Algorand baseline: each Byzantine behaviour held by 19 of 100
/// users (19% of the stake, just under the 20% the protocol assumes), placed by the seed, on
/// `scenarios/examples/algorand.toml` shortened to 10 s + 10 s drain. Prints markdown rows. Any
/// violation here is a bug.
fn algorand_safety_rows(seeds: u64) -> String {
    let mut rows = String::new();
    for behavior in ["silent", "equivocate", "double_vote", "crash"] {
        let t = Instant::now();
        let (mut broken, mut unconfirmed, mut rounds, mut empty) = (0u64, 0u64, 0u64, 0u64);
        for seed in 1..=seeds {
            let at = if behavior == "crash" { ", at_s = 3" } else { "" };
            let sets = [
                format!("byzantine=[{{behavior = \"{behavior}\", count = 19{at}}}]"),
                "replicas.n=100".into(),
                "duration_s=10".into(),
                "warmup_s=0".into(),
                "drain_s=10".into(),
            ];
            let path = std::path::Path::new("scenarios/examples/algorand.toml");
            let s = scenarios::parse::load(path, &sets, Some(seed)).unwrap_or_else(|d| panic!("{d}"));
            let r = scenarios::run::run(&s, &mut |_, _| {});
            broken += u64::from(matches!(r.result.stop, sim_core::Stop::Violation(_)));
            unconfirmed += r.summary.unconfirmed_tx;
            let correct = r.result.nodes.iter().filter(|n| n.is_replica && n.correct);
            let counter = |n: &sim_core::NodeReport, k: &str| n.counters.iter().find(|c| c.0 == k).map_or(0, |c| c.1);
            let (r_max, e_max) =
                correct.fold((0, 0), |(a, b), n| (a.max(counter(n, "rounds")), b.max(counter(n, "empty_rounds"))));
            rounds += r_max;
            empty += e_max;
        }
        let wall = t.elapsed().as_secs_f64();
        let _ = writeln!(
            rows,
            "| {behavior} | {seeds} | {broken} | {unconfirmed} | {:.1} | {:.1} | {wall:.1} | {:.1} |",
            rounds as f64 / seeds as f64,
            empty as f64 / seeds as f64,
            seeds as f64 / wall
        );
    }
    rows
}

/// The exploration of one scenario file with overrides, on the batch pool.
fn explore(path: &str, sets: &[&str], seeds: u64, planted: Option<Planted>) -> (Exploration, f64) {
    explore_on(path, sets, seeds, planted, scenarios::batch::default_jobs(), planted.map(|_| 1))
}

fn explore_on(
    path: &str,
    sets: &[&str],
    seeds: u64,
    planted: Option<Planted>,
    jobs: usize,
    max_failures: Option<u64>,
) -> (Exploration, f64) {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let scenario = scenarios::parse::load(std::path::Path::new(path), &sets, None).unwrap_or_else(|d| panic!("{d}"));
    let plan = scenarios::explore::Plan { scenario, seeds: (1..=seeds).collect(), jobs, planted, max_failures };
    let t = Instant::now();
    let found = scenarios::explore::explore(&plan, &mut || {}, &mut |_| {});
    (found, t.elapsed().as_secs_f64())
}

/// Seeds-to-detection of every planted bug, on the exploration that must catch it within
/// 200 seeds (`Planted::explored_by`). Prints markdown rows.
fn planted_rows() -> String {
    let mut rows = String::new();
    for bug in Planted::all() {
        let Some((path, sets)) = bug.explored_by() else {
            let _ = writeln!(rows, "| {} | none yet: its protocols test pins a crafted case | - | - | - |", bug.name());
            continue;
        };
        let (found, wall) = explore(path, sets, PLANTED_SEEDS, Some(bug));
        let seeds: Vec<u64> = (1..=PLANTED_SEEDS).collect();
        let (first, invariant) = match (found.seeds_to_first(&seeds), found.findings.first()) {
            (Some(n), Some(f)) => (n.to_string(), format!("`{}` at {}", f.invariant, f.node)),
            _ => (format!("not in {PLANTED_SEEDS}"), "-".into()),
        };
        let sets = if sets.is_empty() { String::new() } else { format!(" `{}`", sets.join(" ")) };
        let _ = writeln!(rows, "| {} | `{path}`{sets} | {first} | {invariant} | {wall:.1} |", bug.name());
    }
    rows
}

/// Seeds a planted bug must be caught within.
const PLANTED_SEEDS: u64 = 200;

/// The explorations without planted bugs that must find nothing: per protocol, its attack
/// scenarios (Byzantine replicas at exactly f with the network adversary), and the seeds each
/// gets: at least 10,000 per protocol; the floors' runs take a tenth of a second, so that
/// second leaderless exploration gets fewer in the bench's time.
const CLEAN_EXPLORATIONS: &[(&str, &[&str], u64)] = &[
    ("scenarios/examples/twins-hotstuff.toml", &[], 10_000),
    ("scenarios/examples/twins-hotstuff-n7.toml", &[], 10_000),
    ("scenarios/examples/ledger-hotstuff.toml", &[], 10_000),
    ("scenarios/examples/leaderless-pbft-attacks.toml", &[], 10_000),
    ("scenarios/examples/leaderless-pbft-attacks-wintermute.toml", &[], 10_000),
    ("scenarios/examples/leaderless-floors.toml", &[], 2_000),
    ("scenarios/examples/leaderless-floors-slow.toml", &[], 2_000),
    ("scenarios/examples/algorand-attacks.toml", &[], 10_000),
];

/// Every clean exploration, on its seeds or at most `cap`. Prints markdown rows.
fn clean_rows(cap: u64) -> String {
    let mut rows = String::new();
    for &(path, sets, seeds) in CLEAN_EXPLORATIONS {
        let (found, wall) = explore(path, sets, seeds.min(cap), None);
        let first = found.findings.first().map_or("-".into(), |f| format!("seed {}: `{}`", f.seed, f.invariant));
        let sets = if sets.is_empty() { String::new() } else { format!(" `{}`", sets.join(" ")) };
        let _ = writeln!(
            rows,
            "| `{path}`{sets} | {} | {} | {first} | {} | {wall:.0} | {:.1} |",
            found.runs,
            found.findings.len(),
            found.limited,
            found.runs as f64 / wall
        );
    }
    rows
}

/// The swarm examples (`[explore]`: faults drawn per seed) and the planted bugs each is
/// measured on.
const SWARM_EXPLORATIONS: &[(&str, &[&str])] = &[
    (
        "scenarios/examples/hotstuff-swarm.toml",
        &["hotstuff/quorum_minus_one", "hotstuff/vote_ignoring_lock", "hotstuff/several_votes_per_view"],
    ),
    (
        "scenarios/examples/leaderless-swarm.toml",
        &[
            "leaderless/pbft_quorum_minus_one",
            "leaderless/dds_quorum_minus_one",
            "leaderless/ignore_prepared_values",
            "leaderless/commit_without_proof",
        ],
    ),
];

/// Swarm exploration with `--jobs 2`: each planted bug over seeds 1..=200 (first detection,
/// detections), then the clean example over `clean` seeds with its seeds per second. Prints
/// markdown rows.
fn swarm_rows(clean: u64) -> String {
    let mut rows = String::new();
    for &(path, bugs) in SWARM_EXPLORATIONS {
        for bug in bugs {
            let planted = Planted::parse(bug).expect("a planted bug");
            let (found, wall) = explore_on(path, &[], PLANTED_SEEDS, Some(planted), 2, None);
            let first = found.seeds_to_first(&(1..=PLANTED_SEEDS).collect::<Vec<_>>());
            let first = first.map_or("not found".into(), |s| s.to_string());
            let _ = writeln!(
                rows,
                "| `{path}` | {bug} | {PLANTED_SEEDS} | {first} | {} | {:.1} |",
                found.findings.len(),
                found.runs as f64 / wall
            );
        }
        let (found, wall) = explore_on(path, &[], clean, None, 2, None);
        let _ = writeln!(
            rows,
            "| `{path}` | none | {} | - | {} | {:.1} |",
            found.runs,
            found.findings.len(),
            found.runs as f64 / wall
        );
    }
    rows
}

/// A scenario case of the engine table: its name, what it is, its file and its overrides.
struct ScenarioCase {
    name: &'static str,
    what: &'static str,
    file: &'static str,
    sets: &'static [&'static str],
}

const PINGPONG: &str = "engine ping-pong, 2 nodes, 64 balls in flight";

/// The engine table's scenario cases, in its order (after the ping-pong).
const SCENARIO_CASES: &[ScenarioCase] = &[
    ScenarioCase {
        name: "quickstart",
        what: "scenarios/quickstart.toml (4 replicas, GCP matrix, 2000 tx/s, 30 s)",
        file: "scenarios/quickstart.toml",
        sets: &[],
    },
    ScenarioCase {
        name: "quickstart-real",
        what: "the quickstart with real BLS signatures (blst): same run, real crypto",
        file: "scenarios/quickstart.toml",
        sets: &["cpu.crypto=real"],
    },
    ScenarioCase {
        name: "byzantine",
        what: "scenarios/examples/byzantine.toml (n = 7, an equivocator and a forker)",
        file: "scenarios/examples/byzantine.toml",
        sets: &[],
    },
    ScenarioCase {
        name: "closed10ms",
        what: "closed form d = 10 ms, n = 4, batch 400, saturated",
        file: "scenarios/examples/closed-form.toml",
        sets: &[],
    },
    ScenarioCase {
        name: "closed1ms",
        what: "closed form d = 1 ms, n = 4, batch 400, saturated",
        file: "scenarios/examples/closed-form.toml",
        sets: &["network.uniform_delay_ms=1", "workload.rate_tps=300000", "duration_s=2", "warmup_s=0.5"],
    },
    ScenarioCase {
        name: "hotstuff64",
        what: "HotStuff n = 64, d = 10 ms, batch 400, saturated (40k tx/s offered)",
        file: "scenarios/examples/closed-form.toml",
        sets: &[
            "replicas.n=64",
            "workload.rate_tps=40000",
            "duration_s=5",
            "hotstuff.batch_size=400",
            "clients.count=8",
        ],
    },
    ScenarioCase {
        name: "leaderless",
        what: "scenarios/examples/leaderless.toml (BLSMR-W, n = 6, US+EU, 500 tx/s, 20 s)",
        file: "scenarios/examples/leaderless.toml",
        sets: &[],
    },
    ScenarioCase {
        name: "leaderless-load",
        what: "the same at 1000 tx/s for 10 s (replicas' CPU about 60% busy over the whole run)",
        file: "scenarios/examples/leaderless.toml",
        sets: &["workload.rate_tps=1000", "duration_s=10", "warmup_s=2", "drain_s=3"],
    },
    ScenarioCase {
        name: "leaderless-contended",
        what: "leaderless-byzantine.toml without attacker: 20 hot accounts, 3 regions; one dependency component \
               executes after the load stops, so goodput in the window is 0",
        file: "scenarios/examples/leaderless-byzantine.toml",
        sets: &["byzantine=[]"],
    },
    ScenarioCase {
        name: "algorand",
        what: "scenarios/examples/algorand.toml (mainnet preset, 200 users, 20 GCP regions, 200 tx/s)",
        file: "scenarios/examples/algorand.toml",
        sets: &[],
    },
    ScenarioCase {
        name: "algorand-1k",
        what: "the same with 1,000 users",
        file: "scenarios/examples/algorand.toml",
        sets: &["replicas.n=1000"],
    },
    ScenarioCase {
        name: "algorand-10k",
        what: "scenarios/examples/algorand-10k.toml (10,000 users, Pareto stake, 100 relays, 50 tx/s)",
        file: "scenarios/examples/algorand-10k.toml",
        sets: &[],
    },
    ScenarioCase {
        name: "algorand-1k-sosp",
        what: "1,000 users with the SOSP 2017 preset: random peers (fanout 4, every user relays), the paper's \
               committees and timeouts, 50 tx/s for 60 s",
        file: "scenarios/examples/algorand.toml",
        sets: &[
            "replicas.n=1000",
            "algorand.preset=\"sosp2017\"",
            "algorand.topology=\"peers\"",
            "workload.rate_tps=50",
            "duration_s=60",
            "drain_s=40",
        ],
    },
    ScenarioCase {
        name: "algorand-1k-sosp-capped",
        what: "the SOSP 2017 setup of the validation page: 1,000 users, random peers, 20 Mbit/s up and down, \
               400 tx/s, 20 s + 20 s drain",
        file: "scenarios/examples/algorand.toml",
        sets: &[
            "replicas.n=1000",
            "algorand.preset=\"sosp2017\"",
            "algorand.topology=\"peers\"",
            "replicas.uplink_mbps=20",
            "replicas.downlink_mbps=20",
            "workload.rate_tps=400",
            "duration_s=20",
            "warmup_s=10",
            "drain_s=20",
        ],
    },
];

/// The markdown rows an exploration case prints, if `name` is one.
fn exploration_rows(name: &str) -> Result<Option<String>, String> {
    let seeds = |rest: &str| rest.parse::<u64>().map_err(|e| format!("bench case {name}: {e}"));
    Ok(Some(match name {
        "planted" => planted_rows(),
        "observe" => observe_rows(),
        "safety" => safety_rows(300),
        "leaderless-safety" => leaderless_safety_rows(60),
        "algorand-safety" => algorand_safety_rows(30),
        _ => match (name.strip_prefix("clean-"), name.strip_prefix("swarm-")) {
            (Some(n), _) => clean_rows(seeds(n)?),
            (_, Some(n)) => swarm_rows(seeds(n)?),
            _ => return Ok(None),
        },
    }))
}

/// One case, in this process: an exploration prints its markdown rows, a scenario or the
/// ping-pong prints what it measured as JSON.
pub fn case(name: &str) -> Result<(), String> {
    if let Some(rows) = exploration_rows(name)? {
        print!("{rows}");
        return Ok(());
    }
    let (events, wall, sim_s, goodput) = if name == "pingpong" {
        let (e, w) = ping_pong(20_000_000);
        (e, w, 0.0, 0.0)
    } else {
        let c = SCENARIO_CASES.iter().find(|c| c.name == name).ok_or(format!("unknown bench case {name:?}"))?;
        scenario(c.file, c.sets)
    };
    let measured = Measured { events, wall_s: wall, sim_s, goodput, peak_mib: peak_rss_mib() };
    println!("{}", serde_json::to_string(&measured).map_err(|e| e.to_string())?);
    Ok(())
}

struct Row {
    name: &'static str,
    what: &'static str,
    m: Measured,
}

/// What a bench case's child process measures, printed as JSON and read back typed.
#[derive(serde::Serialize, serde::Deserialize)]
struct Measured {
    events: u64,
    wall_s: f64,
    sim_s: f64,
    goodput: f64,
    peak_mib: f64,
}

fn run_case(name: &'static str, what: &'static str) -> Result<Row, String> {
    // Each case is a fresh release-built process: its peak RSS is its own.
    let out = Command::new(env!("CARGO"))
        .args(["run", "--release", "--quiet", "--package", "xtask", "--", "bench-case", name])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("bench case {name} failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let m = serde_json::from_str(&text).map_err(|e| format!("bench case {name} printed {text:?}: {e}"))?;
    Ok(Row { name, what, m })
}

/// Runs the exploration `case` in a release child and returns the markdown rows it printed.
fn exploration(case: &str) -> Result<String, String> {
    eprintln!("bench {case} exploration ...");
    let out = Command::new(env!("CARGO"))
        .args(["run", "--release", "--quiet", "--package", "xtask", "--", "bench-case", case])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("{case} exploration failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `cargo xtask bench [--quick] [--only explore|observe] [--clean-seeds N]`.
pub struct Options {
    /// Only the engine ping-pong, printed, nothing written.
    quick: bool,
    /// Only the planted-bug and clean explorations, written to docs/exploration.md.
    only_explore: bool,
    /// Only the cost of observing runs (flight recorder, event log), written to
    /// docs/bench-observe.md.
    only_observe: bool,
    /// At most this many seeds per clean exploration (default: each one's own count).
    clean_seeds: u64,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options { quick: false, only_explore: false, only_observe: false, clean_seeds: u64::MAX };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--quick" => o.quick = true,
                "--only" => match it.next().map(String::as_str) {
                    Some("explore") => o.only_explore = true,
                    Some("observe") => o.only_observe = true,
                    _ => return Err("--only takes explore or observe".to_string()),
                },
                "--clean-seeds" => {
                    o.clean_seeds = it.next().and_then(|v| v.parse().ok()).ok_or("--clean-seeds takes a number")?
                }
                other => {
                    return Err(format!(
                        "bench: unknown argument {other:?} (--quick, --only explore|observe, --clean-seeds N)"
                    ));
                }
            }
        }
        Ok(o)
    }
}

/// The planted-bug matrix and the clean explorations, as a markdown section.
fn explorations(clean_seeds: u64) -> Result<String, String> {
    let mut table = String::new();
    let rows = exploration("planted")?;
    let _ = writeln!(
        table,
        "\n## Planted bugs: seeds to detection\n\nEach planted bug (a test-only switch in every replica, \
         `byzsim explore FILE --plant BUG`) explored on seeds 1, 2, ... up to {PLANTED_SEEDS} with the \
         scenario's Byzantine replicas (exactly f) and network adversary, until an invariant breaks. Seeds \
         to detection counts the breaking seed; every bug must be caught within {PLANTED_SEEDS}.\n"
    );
    let _ = writeln!(table, "| planted bug | exploration | seeds to detection | what broke | wall s |");
    let _ = writeln!(table, "|---|---|---:|---|---:|");
    table.push_str(&rows);
    let rows = exploration(&format!("clean-{clean_seeds}"))?;
    let _ = writeln!(
        table,
        "\n## Clean explorations\n\nThe attack scenarios without planted bugs (Byzantine replicas at exactly f, \
         the network adversary), on all cores. Any violation here is a bug.\n"
    );
    let _ = writeln!(table, "| exploration | seeds | violations | first | limit stops | wall s | runs/s |");
    let _ = writeln!(table, "|---|---:|---:|---|---:|---:|---:|");
    table.push_str(&rows);
    let rows = exploration(&format!("swarm-{}", clean_seeds.min(SWARM_CLEAN_SEEDS)))?;
    table.push_str(SWARM_TEXT);
    let _ =
        writeln!(table, "| exploration | planted bug | seeds | first detection | detections | seeds/s (--jobs 2) |");
    let _ = writeln!(table, "|---|---|---:|---:|---:|---:|");
    table.push_str(&rows);
    Ok(table)
}

/// Clean seeds of each swarm example.
const SWARM_CLEAN_SEEDS: u64 = 1000;

const SWARM_TEXT: &str = "
## Swarm exploration

A scenario with an `[explore]` section fixes no fault: every seed first turns each allowed fault \
kind on with probability 1/2 (crash, partition, byzantine, loss, delay, adversary), then draws \
its parameters (which replicas crash and when, partition groups and windows, which replicas are \
Byzantine and with which behaviour, loss and delay spikes, the random scheduler with or without \
a slow replica or, under HotStuff, Twins), all from `explore/...` streams of the seed, with at \
most f faulty replicas unless `beyond_f = true` (see docs/scenarios.md, `[explore]`). \
`swarm::materialize` applies the draw wherever a scenario runs, so `byzsim run FILE --seed N` \
is the run `explore` made for seed N, and prints what it drew. `byzsim explore FILE --seeds A..B \
--out DIR` writes `explore.csv` (every seed: what it drew, per kind, outcome, invariant, node, \
time, digest, reproduce command) and `seed-N.toml` for each failing seed: the concrete scenario, \
without `[explore]`, that `byzsim run DIR/seed-N.toml` breaks the same way with the same digest. \
`--max-failures K` stops after the K lowest failing seeds, whatever `--jobs`.

Each swarm example with planted bugs (seeds 1..200, every detection counted) and without \
(violations must be 0), all with `--jobs 2`:
";

/// A section of docs/bench.md over one exploration case: its heading and text, its table header.
struct Section {
    case: &'static str,
    text: &'static str,
    header: &'static str,
    align: &'static str,
}

const SAFETY_SECTIONS: &[Section] = &[
    Section {
        case: "safety",
        text: "\n## Safety exploration\n\nEach Byzantine behaviour with f = 1 of n = 4 replicas (placed by the seed), \
               `scenarios/examples/byzantine.toml` at n = 4, 3 s + 1 s drain, 2000 tx/s, every other seed with the \
               two-chain rule. Any violation here is a bug.\n",
        header: "| behaviour | seeds | violations | committed tx per run | wall s | runs/s |",
        align: "|---|---:|---:|---:|---:|---:|",
    },
    Section {
        case: "leaderless-safety",
        text: "\n## Leaderless safety exploration\n\nEach Byzantine behaviour, one Byzantine replica placed by the \
               seed, on `scenarios/examples/leaderless-byzantine.toml` (20 hot accounts with Zipf 1.0, clients in three \
               GCP regions sending to random replicas, 150 tx/s for 3 s + 4 s drain); Wintermute at n = 6, EPaxos at \
               n = 4. The leaderless monitor's nine checks run online; the liveness bound is 6 s. Any violation here is a bug.\n",
        header: "| variant | behaviour | seeds | violations | unconfirmed tx (sum) | recovered commands per run | wall s | runs/s |",
        align: "|---|---|---:|---:|---:|---:|---:|---:|",
    },
    Section {
        case: "algorand-safety",
        text: "\n## Algorand safety exploration\n\nEach Byzantine behaviour held by 19 of 100 users with equal stake \
               (19% of the stake; the protocol assumes less than 20%), placed by the seed, on \
               `scenarios/examples/algorand.toml` (mainnet preset, 20 GCP regions, 200 tx/s) for 10 s + 10 s drain; \
               the crashing users stop at 3 s. The log checker (agreement on every round's block, gap-free logs, \
               exactly-once) sees every commit of every correct user. Rounds and empty rounds: the most any correct \
               user decided, mean per run. Unconfirmed transactions are those whose client sent them to a \
               silent or crashed user (clients do not resend here) and, with equivocators, the last second's when an \
               equivocated round costs a step timeout and an empty round before the drain ends (a 20 s drain confirms \
               them). Any violation here is a bug.\n",
        header: "| behaviour | seeds | violations | unconfirmed tx (sum) | rounds per run | empty rounds per run | wall s | runs/s |",
        align: "|---|---:|---:|---:|---:|---:|---:|---:|",
    },
];

/// Writes one document of `--only`: its title line, the machine, `body`.
fn only(doc: &str, title: &str, flag: &str, body: &str) -> Result<(), String> {
    let table = format!(
        "# {title}\n\nWritten by `cargo xtask bench --only {flag}` on {} (release build).\n{body}",
        scenarios::calibrate::machine()
    );
    print!("{table}");
    std::fs::write(doc, &table).map_err(|e| format!("{doc}: {e}"))?;
    eprintln!("wrote {doc}");
    Ok(())
}

/// The engine table: the ping-pong and (unless `quick`) every scenario case, one child each.
fn engine_table(quick: bool) -> Result<String, String> {
    let mut cases = vec![("pingpong", PINGPONG)];
    if !quick {
        cases.extend(SCENARIO_CASES.iter().map(|c| (c.name, c.what)));
    }
    let mut table = String::new();
    let _ = writeln!(
        table,
        "| case | what | events | wall s | events/s | simulated s per wall s | goodput tx/s | peak RSS MiB |"
    );
    let _ = writeln!(table, "|---|---|---:|---:|---:|---:|---:|---:|");
    for (name, what) in cases {
        eprintln!("bench {name} ...");
        let r = run_case(name, what)?;
        let _ = writeln!(
            table,
            "| {} | {} | {} | {:.2} | {:.2e} | {} | {} | {:.0} |",
            r.name,
            r.what,
            r.m.events,
            r.m.wall_s,
            r.m.events as f64 / r.m.wall_s,
            if r.m.sim_s > 0.0 { format!("{:.1}", r.m.sim_s / r.m.wall_s) } else { "-".into() },
            if r.m.goodput > 0.0 { format!("{:.0}", r.m.goodput) } else { "-".into() },
            r.m.peak_mib
        );
    }
    Ok(table)
}

pub fn all(options: Options) -> Result<(), String> {
    if options.only_explore {
        return only("docs/exploration.md", "Explorations", "explore", &explorations(options.clean_seeds)?);
    }
    if options.only_observe {
        return only("docs/bench-observe.md", "Observing runs", "observe", &observe_section()?);
    }
    let mut table = String::new();
    let _ = writeln!(
        table,
        "# Benchmarks\n\nWritten by `cargo xtask bench` on {} (release build).\n",
        scenarios::calibrate::machine()
    );
    table.push_str(&engine_table(options.quick)?);
    if options.quick {
        print!("{table}");
        return Ok(());
    }
    for section in SAFETY_SECTIONS {
        let rows = exploration(section.case)?;
        let _ = writeln!(table, "{}", section.text);
        let _ = writeln!(table, "{}\n{}", section.header, section.align);
        table.push_str(&rows);
    }
    table.push_str(&observe_section()?);
    table.push_str(&explorations(options.clean_seeds)?);
    print!("{table}");
    std::fs::write("docs/bench.md", &table).map_err(|e| format!("docs/bench.md: {e}"))?;
    eprintln!("wrote docs/bench.md");
    Ok(())
}
