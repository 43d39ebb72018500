//! The Algorand figure sets: `algorand/scale` (latency and round time against the number of
//! users, today's parameters and the SOSP 2017 ones) and `algorand/attacks` (Byzantine users
//! up to just under a fifth of the stake). Pages under docs/figures/algorand/.

use std::fmt::Write as _;

use crate::figures::{Ctx, Logged, Metrics, plot, runs_csv, wall_table, write};

const FILE: &str = "scenarios/examples/algorand.toml";

/// One row: what ran and what it measured.
struct Point {
    preset: &'static str,
    users: u32,
    m: Metrics,
}

/// Mean seconds per decided round over the whole run (load and drain).
fn round_s(m: &Metrics, run_s: f64) -> f64 {
    if m.rounds == 0 { f64::NAN } else { run_s / m.rounds as f64 }
}

pub fn scale(ctx: &mut Ctx) -> Result<String, String> {
    let dir = ctx.out_dir.join("algorand");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (mainnet, sosp): (&[u32], &[u32]) =
        if ctx.quick { (&[100, 1000], &[100]) } else { (&[100, 300, 1000, 3000, 10_000], &[100, 300, 1000, 3000]) };
    let rate_tps = 50.0;
    let t0 = ctx.runner.len();
    let mut points = Vec::new();
    for &users in mainnet {
        let sets = vec![format!("replicas.n={users}"), "duration_s=30".into(), "drain_s=15".into()];
        let m = ctx.runner.run(&format!("mainnet n={users}"), FILE, &sets, rate_tps)?;
        points.push(Point { preset: "mainnet", users, m });
    }
    for &users in sosp {
        let sets = vec![
            format!("replicas.n={users}"),
            "algorand.preset=\"sosp2017\"".into(),
            "algorand.topology=\"peers\"".into(),
            "duration_s=60".into(),
            "drain_s=40".into(),
        ];
        let m = ctx.runner.run(&format!("sosp2017 n={users}"), FILE, &sets, rate_tps)?;
        points.push(Point { preset: "sosp2017", users, m });
    }
    let log = ctx.runner.since(t0).to_vec();
    write(&dir.join("scale-runs.csv"), &runs_csv(&log))?;
    let run_s = |p: &Point| if p.preset == "mainnet" { 45.0 } else { 100.0 };
    let mut csv = SCALE_COLUMNS.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(",") + "\n";
    for p in &points {
        let _ = writeln!(csv, "{}", scale_cells(p, run_s(p)).join(","));
    }
    write(&dir.join("scale.csv"), &csv)?;

    let mut md = String::from("# Algorand: latency against the number of users\n\n");
    md.push_str(&scale_summary(&points));
    md.push_str(SCALE_SETUP);
    let heads: Vec<&str> = SCALE_COLUMNS.iter().map(|(_, head)| *head).collect();
    let _ = writeln!(md, "\n| {} |\n|---|{}", heads.join(" | "), "---:|".repeat(heads.len() - 1));
    for p in &points {
        let _ = writeln!(md, "| {} |", scale_cells(p, run_s(p)).join(" | "));
    }
    md.push('\n');
    let series = |preset: &str, f: &dyn Fn(&Point) -> f64| -> Vec<(f64, f64)> {
        points.iter().filter(|p| p.preset == preset).map(|p| (f64::from(p.users), f(p))).collect()
    };
    let p50 = |p: &Point| p.m.e2e_p50_ms / 1000.0;
    let chart = plots::Chart::new("Algorand: end-to-end p50 against users", "users", "e2e p50 (s)", plots::Kind::Line)
        .series("mainnet (relays)", series("mainnet", &p50))
        .series("SOSP 2017 (peers)", series("sosp2017", &p50));
    md.push_str(&plot(&dir, "scale-latency", &chart)?);
    md.push('\n');
    let cost = |p: &Point| p.m.wall_s;
    let chart = plots::Chart::new("Algorand: wall time of a run against users", "users", "wall s", plots::Kind::Line)
        .series("mainnet, 45 simulated s", series("mainnet", &cost))
        .series("SOSP 2017, 100 simulated s", series("sosp2017", &cost));
    md.push_str(&plot(&dir, "scale-wall", &chart)?);
    md.push('\n');
    md.push_str(&scale_reading(&points, &run_s));
    let _ = writeln!(md, "\n## Wall time and memory\n\nThe only section that changes between reruns.\n");
    let _ = writeln!(md, "| run | events | wall s | events per wall s | simulated s per wall s | peak MiB |");
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|");
    for p in &points {
        let m = &p.m;
        let _ = writeln!(
            md,
            "| {} n={} | {} | {:.1} | {:.2e} | {:.2} | {:.0} |",
            p.preset,
            p.users,
            m.events,
            m.wall_s,
            m.events as f64 / m.wall_s,
            run_s(p) / m.wall_s,
            m.peak_mib
        );
    }
    write(&dir.join("scale.md"), &md)?;
    Ok("algorand/scale.md".into())
}

/// The columns of the scale table: CSV name and markdown heading, in `scale_cells` order.
const SCALE_COLUMNS: [(&str, &str); 12] = [
    ("preset", "preset"),
    ("users", "users"),
    ("goodput_tps", "goodput tx/s"),
    ("e2e_p50_ms", "e2e p50 ms"),
    ("e2e_p99_ms", "e2e p99 ms"),
    ("consensus_p50_ms", "consensus p50 ms"),
    ("rounds", "rounds"),
    ("round_s", "s per round"),
    ("empty_rounds", "empty rounds"),
    ("final_rounds", "final rounds"),
    ("step_timeouts", "step timeouts"),
    ("events", "events"),
];

fn scale_cells(p: &Point, run_s: f64) -> [String; 12] {
    let m = &p.m;
    [
        p.preset.to_string(),
        p.users.to_string(),
        format!("{:.1}", m.goodput_tps),
        format!("{:.0}", m.e2e_p50_ms),
        format!("{:.0}", m.e2e_p99_ms),
        format!("{:.0}", m.consensus_p50_ms),
        m.rounds.to_string(),
        format!("{:.2}", round_s(m, run_s)),
        m.empty_rounds.to_string(),
        m.final_rounds.to_string(),
        m.step_timeouts.to_string(),
        m.events.to_string(),
    ]
}

const SCALE_SETUP: &str = "Written by `cargo xtask figures --only algorand/scale` (code `xtask/src/figures_algorand.rs`). \
Scenario `scenarios/examples/algorand.toml` with `--set replicas.n=N`: users with equal stake spread over the 20 \
Google Cloud regions of the 2019 matrix (user i in region i mod 20), 20 clients (one per region) sending to their \
nearest user, Poisson arrivals at 50 tx/s, seed 1, the default CPU model (2 cores; a vote costs a VRF check, 150 µs, \
and an Ed25519 check, 50 µs, at every user that counts it). **mainnet**: today's parameters (20 proposers; soft \
committee 2,990 with threshold 2,267 for the reduction; cert committee 1,500 with threshold 1,112 for BinaryBA* and \
FINAL; 2.5 s filter timeout), relays topology (max(20, n/100) relays meshed 8 ways, every other user on 4 relays), \
30 s of load and 15 s of drain. **SOSP 2017**: the paper's parameters (26 proposers, committees of 2,000 with T = \
0.685, FINAL 10,000 with T = 0.74, lambda_priority + lambda_stepvar = 10 s), random peers (4 each, links both ways, \
every user relays), 60 s of load and 40 s of drain. Rounds: the most any correct user decided; seconds per round \
divide the whole run by them. Latency percentiles over transactions submitted after the first 5 s.\n";

fn scale_summary(points: &[Point]) -> String {
    let of = |preset: &str| -> Vec<&Point> { points.iter().filter(|p| p.preset == preset).collect() };
    let spread = |ps: &[&Point]| -> String {
        let (Some(first), Some(last)) = (ps.first(), ps.last()) else { return "no runs".into() };
        format!(
            "end-to-end p50 {:.2} s at {} users and {:.2} s at {} ({:+.1}%)",
            first.m.e2e_p50_ms / 1000.0,
            first.users,
            last.m.e2e_p50_ms / 1000.0,
            last.users,
            (last.m.e2e_p50_ms / first.m.e2e_p50_ms - 1.0) * 100.0
        )
    };
    let biggest = points.iter().max_by_key(|p| p.users);
    let cost = biggest.map_or(String::new(), |p| {
        format!(
            " The largest run, {} users ({}), is {} events in one process (wall time and memory in the last \
             section).",
            p.users, p.preset, p.m.events
        )
    });
    format!(
        "**Summary.** Algorand's latency is flat in the number of users, as the paper reports: with today's \
         parameters {}; with the SOSP 2017 ones {}. Committees are drawn by stake, not by head count, so a step \
         waits for the same expected weight whatever the population; what grows with users is the gossip \
         (one batch per link per 10 ms) and each user's work, not the number of steps.{cost}\n\n",
        spread(&of("mainnet")),
        spread(&of("sosp2017"))
    )
}

fn scale_reading(points: &[Point], run_s: &dyn Fn(&Point) -> f64) -> String {
    let mut t = String::from("## Reading\n\n");
    for preset in ["mainnet", "sosp2017"] {
        let ps: Vec<&Point> = points.iter().filter(|p| p.preset == preset).collect();
        let rounds: Vec<String> = ps.iter().map(|p| format!("{:.2}", round_s(&p.m, run_s(p)))).collect();
        let timeouts: u64 = ps.iter().map(|p| p.m.step_timeouts).sum();
        let empty: u64 = ps.iter().map(|p| p.m.empty_rounds).sum();
        let _ = writeln!(
            t,
            "- **{preset}**: seconds per round {} for {} users; {empty} empty rounds and {timeouts} step timeouts in \
             all these runs.",
            rounds.join(", "),
            ps.iter().map(|p| p.users.to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    t.push_str(
        "- A round is the proposal wait (2.5 s today, 10 s in the paper's parameters) plus four voting steps \
         (two reductions, one BinaryBA* step, FINAL in the background), each a few gossip hops around the world; \
         a transaction waits on average half a round for the next proposal, then a full round, which is why the \
         end-to-end p50 is about 1.5 rounds.\n\
         - The paper's measured rounds were longer (about 20 s with 1 MB blocks over 20 Mbit/s links): these runs \
         carry 50 tx/s, so blocks are small and links are not limited; block transfer time is what this setup \
         leaves out.\n",
    );
    t
}

/// `(label, [[byzantine]] entry)` rows of the attack set; `None` is the attack-free run.
fn attack_rows(quick: bool) -> Vec<(&'static str, Option<String>)> {
    let entry = |behavior: &str, count: u32, at: &str| {
        Some(format!("byzantine=[{{ behavior = \"{behavior}\", count = {count}{at} }}]"))
    };
    let mut rows = vec![("none", None)];
    if !quick {
        rows.push(("silent 5%", entry("silent", 10, "")));
        rows.push(("silent 10%", entry("silent", 20, "")));
        rows.push(("silent 15%", entry("silent", 30, "")));
    }
    rows.push(("silent 19%", entry("silent", 38, "")));
    rows.push(("equivocate 19%", entry("equivocate", 38, "")));
    rows.push(("double_vote 19%", entry("double_vote", 38, "")));
    rows.push(("crash 19% at 10 s", entry("crash", 38, ", at_s = 10")));
    rows
}

pub fn attacks(ctx: &mut Ctx) -> Result<String, String> {
    let dir = ctx.out_dir.join("algorand");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let rate_tps = 200.0;
    let t0 = ctx.runner.len();
    let mut rows: Vec<(&str, Metrics)> = Vec::new();
    for (label, entry) in attack_rows(ctx.quick) {
        let sets = vec![entry.unwrap_or_else(|| "byzantine=[]".into()), "clients.retry_ms=8000".into()];
        rows.push((label, ctx.runner.run(label, FILE, &sets, rate_tps)?));
    }
    let log: Vec<Logged> = ctx.runner.since(t0).to_vec();
    write(&dir.join("attacks-runs.csv"), &runs_csv(&log))?;
    let mut md = String::from("# Algorand under attack: up to 19% of the stake Byzantine\n\n");
    md.push_str(&attack_summary(&rows));
    md.push_str(ATTACK_SETUP);
    let _ = writeln!(
        md,
        "\n| attack | goodput tx/s | e2e p50 / p99 ms | unconfirmed tx | rounds | empty rounds | final rounds | step timeouts | stop |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for (label, m) in &rows {
        let _ = writeln!(
            md,
            "| {label} | {:.1} | {:.0} / {:.0} | {} | {} | {} | {} | {} | {} |",
            m.goodput_tps,
            m.e2e_p50_ms,
            m.e2e_p99_ms,
            m.unconfirmed_tx,
            m.rounds,
            m.empty_rounds,
            m.final_rounds,
            m.step_timeouts,
            m.stop
        );
    }
    md.push('\n');
    let p50: Vec<(f64, f64)> = rows.iter().enumerate().map(|(i, (_, m))| (i as f64, m.e2e_p50_ms / 1000.0)).collect();
    let p99: Vec<(f64, f64)> = rows.iter().enumerate().map(|(i, (_, m))| (i as f64, m.e2e_p99_ms / 1000.0)).collect();
    let chart =
        plots::Chart::new("Algorand, 200 users: latency under attack", "attack", "end-to-end (s)", plots::Kind::Bars)
            .series("p50", p50)
            .series("p99", p99)
            .categories(rows.iter().map(|(l, _)| l.to_string()));
    md.push_str(&plot(&dir, "attacks-p50", &chart)?);
    md.push('\n');
    let _ = writeln!(md, "\n## Wall time\n\nThe only section that changes between reruns.\n");
    md.push_str(&wall_table(&log));
    write(&dir.join("attacks.md"), &md)?;
    Ok("algorand/attacks.md".into())
}

const ATTACK_SETUP: &str = "Written by `cargo xtask figures --only algorand/attacks`. Scenario \
`scenarios/examples/algorand.toml` as shipped: 200 users with equal stake over 20 GCP regions, mainnet preset, \
relays (the first 20 users), 200 tx/s for 30 s (the first 5 s left out) and 15 s of drain, seed 1. The Byzantine \
users are drawn from the seed among all 200 (relays included). **silent**: offline stake, sends and relays \
nothing. **equivocate**: as a proposer, two blocks with one credential, one to each half of its links; as a \
voter, a different value to each half. **double_vote**: votes both its value and the empty block in every step. \
**crash**: stops at 10 s. A client whose user is Byzantine would lose its transactions, so clients resend a \
transaction unconfirmed after 8 s to the next user (`clients.retry_ms = 8000`; a wallet would do the same). The log checker sees every commit of every correct user (agreement per round, gap-free, \
exactly-once); the stop column says `end` when it held to the end.\n";

fn attack_summary(rows: &[(&str, Metrics)]) -> String {
    let Some((_, base)) = rows.first() else { return String::new() };
    let worst = rows.iter().max_by(|a, b| a.1.e2e_p50_ms.total_cmp(&b.1.e2e_p50_ms)).expect("non-empty");
    let broken: Vec<&str> = rows.iter().filter(|(_, m)| m.stop != "end").map(|(l, _)| *l).collect();
    let missed_final: u64 = rows.iter().map(|(_, m)| m.rounds.saturating_sub(m.final_rounds + m.empty_rounds)).sum();
    let timeouts: Vec<String> = rows
        .iter()
        .filter(|(_, m)| m.step_timeouts > 0)
        .map(|(l, m)| format!("{l}: {} step timeouts, {} empty rounds", m.step_timeouts, m.empty_rounds))
        .collect();
    let unconfirmed: u64 = rows.iter().map(|(_, m)| m.unconfirmed_tx).sum();
    let p99_max = rows.iter().map(|(_, m)| m.e2e_p99_ms).fold(0.0, f64::max);
    format!(
        "**Summary.** With up to 19% of the stake Byzantine (silent, equivocating, double-voting or crashing \
         users), every run keeps agreement{}; the attack-free end-to-end p50 is {:.2} s and the worst attack here \
         ({}) moves it to {:.2} s. Silent or crashed stake costs only weight: the thresholds (about 74-76% of each \
         committee's expected weight) stay within reach of 81% honest stake, and steps complete a little later \
         (non-empty rounds that missed their FINAL threshold, across these runs: {}; an empty round is never final). Only equivocation costs whole steps ({}). \
         The p99 up to {:.1} s is the clients whose user is silent or crashed: they resend after 8 s; {} \
         transactions were still unconfirmed at the end (a resend that lands on another Byzantine user waits 8 s \
         more).\n\n",
        if broken.is_empty() { String::new() } else { format!(" except {}", broken.join(", ")) },
        base.e2e_p50_ms / 1000.0,
        worst.0,
        worst.1.e2e_p50_ms / 1000.0,
        missed_final,
        if timeouts.is_empty() { "none here".to_string() } else { timeouts.join("; ") },
        p99_max / 1000.0,
        unconfirmed
    )
}
