//! `cargo xtask figures [--only NAME] [--quick] [--render]`: validation figures (markdown tables,
//! CSV files and plots) under docs/figures/, one experiment spec per figure set. `--render` runs
//! nothing: each set's page, tables and plots again from the runs its last run left under
//! target/experiments/ (`byzsim experiment --render-from`).
//!
//! Each set is one `byzsim experiment experiments/<name>.toml` run (docs/experiments.md) whose
//! results folder is copied here; its claims are checked on every run. Runs are seeded, so every
//! table is the same on every rerun; only the wall-time sections differ. `--quick` runs the
//! specs' shorter lists and writes to target/figures-quick/ instead of docs/figures/.
//!
//! To add a set: write a spec and its page and list it in [`SETS`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// A figure set: its spec's name under experiments/ (and for `--only`), one line for the index.
struct Set {
    name: &'static str,
    what: &'static str,
}

const SETS: &[Set] = &[
    Set {
        name: "hotstuff-paper",
        what: "chained HotStuff against the HotStuff paper (PODC 2019): throughput and latency against n, \
               LAN with 1 KiB commands and 10 ms links with 0-byte commands",
    },
    Set {
        name: "hotstuff-closed-loop",
        what: "chained HotStuff, n = 4, closed-loop clients: the throughput-latency curve",
    },
    Set {
        name: "hotstuff-bamboo",
        what: "chained HotStuff configured like Bamboo (ICDCS 2021) against every published HotStuff row: the n = 4 \
               curve, block and payload size, added delay, forking and silence attacks at n = 32",
    },
    Set {
        name: "hotstuff-attacks",
        what: "chained HotStuff, n = 32: goodput and latency against the number of forking or silent replicas",
    },
    Set {
        name: "hotstuff-mempool",
        what: "chained HotStuff, n = 4, 10, 20: the payload in the proposal against the asonnino/hotstuff mempool",
    },
    // The leaderless sets are specs under experiments/leaderless/ and write under leaderless/.
    Set {
        name: "leaderless/regions",
        what: "BLSMR-W, BLSMR-E and HotStuff on the GCP 2019 matrix (US+EU, around the world, n = 6): \
               end-to-end latency per client region against closed-form models, with a spoiling or silent replica",
    },
    Set {
        name: "leaderless/conflicts",
        what: "BLSMR-W: fast-path ratio, dependency sets and latency against contention (Zipf), two conflict relations",
    },
    Set {
        name: "leaderless/saturation",
        what: "BLSMR-W with BLS costs at n = 6, 11, 16: goodput against offered load, HotStuff for reference",
    },
    // The Algorand sets are specs under experiments/algorand/ and write under algorand/.
    Set {
        name: "algorand/scale",
        what: "Algorand (today's parameters with relays, and SOSP 2017's with random peers): latency, round time \
               and simulation cost against the number of users, 100 to 10,000",
    },
    Set {
        name: "algorand/sosp",
        what: "Algorand with the SOSP 2017 setup (1 MB blocks, 20 Mbit/s links): round time and latency against users, against the paper",
    },
    Set {
        name: "algorand/attacks",
        what: "Algorand, 200 users: silent, equivocating, double-voting and crashing users up to 19% of the stake",
    },
    Set {
        name: "traces",
        what: "HotStuff, BLSMR-W and Algorand around the world (n = 6; Algorand also with 600 users) on replayed \
               traces: the NASDAQ open (real hot accounts), Diablo's Dota 2 and FIFA 1998 curves; goodput and latency \
               over time",
    },
];

// ----- the command -----

pub fn main(args: &[String]) -> Result<(), String> {
    let mut quick = false;
    let mut render = false;
    let mut only: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--render" => render = true,
            "--only" => only = Some(it.next().ok_or("--only needs a set name")?.clone()),
            other => return Err(format!("figures: unknown argument {other:?} (use --only NAME, --quick, --render)")),
        }
    }
    if let Some(name) = &only
        && !SETS.iter().any(|s| s.name == name)
    {
        let names: Vec<&str> = SETS.iter().map(|s| s.name).collect();
        return Err(format!("figures: no set {name:?}; the sets are {}", names.join(", ")));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().ok_or("no workspace root")?.to_path_buf();
    std::env::set_current_dir(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    let exe = build_byzsim()?;
    let out_dir = if quick { PathBuf::from("target/figures-quick") } else { PathBuf::from("docs/figures") };
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let mut walls = Vec::new();
    let mut failed = Vec::new();
    for set in SETS.iter().filter(|s| only.as_deref().is_none_or(|o| o == s.name)) {
        eprintln!("figures: {} ...", set.name);
        let t = Instant::now();
        // A failing set does not stop the others; the command fails at the end.
        let outcome = experiment(&exe, Mode { quick, render }, &out_dir, set.name);
        let wall = t.elapsed().as_secs_f64();
        match outcome {
            Ok(file) => eprintln!("figures: {} done in {wall:.0} s: {}", set.name, out_dir.join(&file).display()),
            Err(e) => {
                eprintln!("figures: {} FAILED after {wall:.0} s: {e}", set.name);
                failed.push(set.name);
            }
        }
        walls.push((set.name, wall));
    }
    write(&out_dir.join("README.md"), &index(quick, &out_dir))?;
    for (name, wall) in &walls {
        eprintln!("  {name:<24} {wall:>6.0} s wall");
    }
    eprintln!("  {:<24} {:>6.0} s wall", "all", walls.iter().map(|w| w.1).sum::<f64>());
    if failed.is_empty() { Ok(()) } else { Err(format!("figures: failed sets: {}", failed.join(", "))) }
}

/// Builds the release byzsim once; every set is one run of it.
fn build_byzsim() -> Result<PathBuf, String> {
    eprintln!("$ cargo build --release --quiet --package scenarios --bin byzsim");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "--package", "scenarios", "--bin", "byzsim"])
        .status()
        .map_err(|e| format!("cargo: {e}"))?;
    if !status.success() {
        return Err("`cargo build --release --bin byzsim` failed".into());
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or(PathBuf::from("target"), PathBuf::from);
    Ok(target.join("release").join(format!("byzsim{}", std::env::consts::EXE_SUFFIX)))
}

pub(crate) fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

// ----- sets written by an experiment spec -----

/// How a set is made: `--quick` (the specs' shorter lists), `--render` (from the runs of its last
/// run, running nothing).
#[derive(Clone, Copy)]
struct Mode {
    quick: bool,
    render: bool,
}

/// A set that is an experiment spec (docs/experiments.md): `byzsim experiment
/// experiments/<name>.toml` writes its results folder under target/experiments/, whose page,
/// CSV files and plots are copied into the figures folder. Its claims are checked on every run: a
/// set whose claims fail is copied all the same (its page explains the misses) and still fails.
fn experiment(exe: &Path, mode: Mode, figures: &Path, name: &str) -> Result<String, String> {
    let Mode { quick, render } = mode;
    let folder = PathBuf::from("target/experiments").join(if quick { format!("{name}-quick") } else { name.into() });
    // A set named `group/set` (`algorand/attacks`) writes into the figures' `group/` folder.
    let group = Path::new(name).parent().unwrap_or(Path::new(""));
    let out_dir = figures.join(group);
    for dir in [folder.parent().unwrap_or(Path::new(".")), &out_dir] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut cmd = Command::new(exe);
    cmd.args(["experiment", &format!("experiments/{name}.toml"), "--quiet", "--out"]).arg(&folder);
    if quick {
        cmd.arg("--quick");
    }
    if render {
        cmd.arg("--render-from").arg(&folder);
    }
    // A run that fails its claims (exit code 1) still writes its whole folder: complete by its
    // marker, and written by this run when its results.json is newer than before it.
    let results = folder.join("results.json");
    let modified = || std::fs::metadata(&results).and_then(|m| m.modified()).ok();
    let before = modified();
    eprintln!("$ {cmd:?}");
    let status = cmd.status().map_err(|e| format!("{}: {e}", exe.display()))?;
    let whole = scenarios::resultsdir::Marker::read(&folder).is_some_and(|m| m.is_complete(&folder));
    let written = whole && modified() > before;
    if !status.success() && !written {
        return Err(format!("byzsim experiment experiments/{name}.toml failed ({status})"));
    }
    let entries = std::fs::read_dir(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    for entry in entries {
        let file = entry.map_err(|e| format!("{}: {e}", folder.display()))?.file_name();
        if file == scenarios::resultsdir::MARKER || file == "results.json" {
            continue;
        }
        let to = out_dir.join(&file);
        std::fs::copy(folder.join(&file), &to).map_err(|e| format!("{}: {e}", to.display()))?;
    }
    if !status.success() {
        // A page whose claims fail is published as it is (it says why): the set still fails.
        return Err(format!("claims of experiments/{name}.toml do not hold (above); its page is written"));
    }
    Ok(format!("{name}.md"))
}

/// The paragraph of a page that starts with `**Summary.**`, if the page exists and has one.
fn summary_of(page: &Path) -> Option<String> {
    let text = std::fs::read_to_string(page).ok()?;
    let start = text.find("**Summary.**")?;
    let para = text[start..].split("\n\n").next()?;
    Some(para.trim().to_string())
}

/// The index of docs/figures/, with the summary of every page already written.
fn index(quick: bool, out_dir: &Path) -> String {
    let mut t = String::from("# Validation figures\n\n");
    let _ = writeln!(
        t,
        "Written by `cargo xtask figures` (`--only NAME` runs one set; `--quick` runs fewer points and writes \
         to target/figures-quick/ instead){}. Every number comes from seeded runs of the scenario files in \
         `scenarios/figures/`, so the tables are the same on every rerun; only the wall-time sections change. \
         Each set has a page with its tables, plots and the explanation of every gap, a CSV per table, and \
         `<set>-runs.csv` with every run (offered load, goodput, latency, digest).\n",
        if quick { " (this is a --quick run)" } else { "" }
    );
    // A set's page is `<name>.md`, or `<name>/README.md` for a set that writes a folder.
    let page = |name: &str| {
        let folder = format!("{name}/README.md");
        if out_dir.join(&folder).exists() && !out_dir.join(format!("{name}.md")).exists() {
            folder
        } else {
            format!("{name}.md")
        }
    };
    let _ = writeln!(t, "| set | what |\n|---|---|");
    for s in SETS {
        let _ = writeln!(t, "| [{}]({}) | {} |", s.name, page(s.name), s.what);
    }
    let _ = writeln!(t, "\n## What they say\n");
    for s in SETS {
        let p = page(s.name);
        match summary_of(&out_dir.join(&p)) {
            Some(summary) => {
                let _ = writeln!(t, "[{}]({p}). {}\n", s.name, summary.trim_start_matches("**Summary.** "));
            }
            None => {
                let _ = writeln!(t, "[{}]({p}): not written yet (`cargo xtask figures --only {}`).\n", s.name, s.name);
            }
        }
    }
    let _ = writeln!(
        t,
        "\n## Metrics\n\nThe definitions are those of `byzsim run --help` (README, Metrics), over the measurement \
         window [`warmup_s`, `duration_s`):\n\n\
         - **goodput**: distinct valid transactions confirmed (f+1 matching replies at the client) per second;\n\
         - **end-to-end latency**: from the client's send to the client holding f+1 matching replies;\n\
         - **consensus latency**: from a transaction's arrival at its first replica to its first commit at a \
         correct replica.\n\n\
         Clients are open-loop (they send at the offered rate whatever happens and never retry). A saturation \
         throughput is therefore found by the one load search of `byzsim experiment` (docs/experiments.md, \
         \"The load search\"), and latency is measured in a separate run below it, since above it the queue of \
         pending transactions (and with it every latency) grows for as long as the run lasts.\n\n\
         ## Adding a set\n\nWrite an experiment spec `experiments/<name>.toml` and its page \
         `experiments/<name>.md` (docs/experiments.md) and list it in `SETS` in `xtask/src/figures.rs`. A \
         page's paragraph that starts with `**Summary.**` is copied here."
    );
    t
}
