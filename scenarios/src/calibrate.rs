//! `byzsim calibrate`: times BLS12-381 (blst, min_pk) on this machine through the same calls the
//! `real` crypto mode makes, and writes a cost profile that a scenario names with
//! `[cpu] profile_file`. Each operation is timed in batches after an untimed warm-up batch; the
//! profile holds the median over the batches, and a wide spread warns that the machine was busy.
#![allow(clippy::disallowed_types)] // measuring wall time is the point here

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::Path;
use std::time::Instant;

use sim_core::Streams;
use sim_core::crypto::RealCrypto;

/// The first line of a profile `calibrate` measured; `--out` replaces only files whose first
/// line is this or `FIT_HEADER` (`is_ours`).
pub const HEADER: &str = "# byzsim crypto cost profile: BLS12-381 (min_pk) with blst, measured by `byzsim calibrate`";

/// The first line of a profile `calibrate --fit` wrote (its costs fitted to measured points).
pub const FIT_HEADER: &str = "# byzsim cost profile: fitted to measured points by `byzsim calibrate --fit`";

/// Whether `text` starts with the first line of a profile `calibrate` wrote, measured or fitted.
pub fn is_ours(text: &[u8]) -> bool {
    let first_line = text.split(|&b| b == b'\n').next().unwrap_or_default();
    first_line == HEADER.as_bytes() || first_line == FIT_HEADER.as_bytes()
}

/// Above this spread (percent of the median) the machine is said to be busy.
pub const BUSY_SPREAD_PCT: f64 = 10.0;

/// The timed operations: (profile key, name in the table), in the order `measure` returns them.
pub const KINDS: [(&str, &str); 4] = [
    ("sign_us", "sign"),
    ("verify_us", "verify"),
    ("aggregate_per_sig_us", "aggregate, per signature"),
    ("verify_aggregate_us", "aggregate-verify"),
];

/// The per-operation time of one kind over the timed batches, in microseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub median_us: f64,
    pub min_us: f64,
    pub max_us: f64,
    /// (max - min) / median, in percent: one busy batch is enough to raise it.
    pub spread_pct: f64,
}

/// Median and spread of per-batch times. The spread is the whole range over the median rather
/// than the interquartile range, so that a single disturbed batch out of seven shows.
pub fn summarize(batch_us: &[f64]) -> Summary {
    assert!(!batch_us.is_empty() && batch_us.iter().all(|t| t.is_finite() && *t >= 0.0), "{batch_us:?}");
    let mut sorted = batch_us.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    let median_us = if sorted.len() % 2 == 1 { sorted[mid] } else { (sorted[mid - 1] + sorted[mid]) / 2.0 };
    let (min_us, max_us) = (sorted[0], sorted[sorted.len() - 1]);
    let spread_pct = if median_us > 0.0 { (max_us - min_us) / median_us * 100.0 } else { 0.0 };
    Summary { median_us, min_us, max_us, spread_pct }
}

/// One warning per operation whose spread exceeds `BUSY_SPREAD_PCT`.
pub fn busy_warnings(summaries: &[Summary; 4]) -> Vec<String> {
    KINDS
        .iter()
        .zip(summaries)
        .filter(|(_, s)| s.spread_pct > BUSY_SPREAD_PCT)
        .map(|((_, name), s)| {
            format!(
                "the machine looks busy: {name} varied by {:.0}% between batches; rerun on an idle machine or \
                 raise --rounds",
                s.spread_pct
            )
        })
        .collect()
}

fn per_op_us(ops: usize, f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64() * 1e6 / ops as f64
}

/// One untimed warm-up batch, then `batches` timed batches of `rounds` operations of each kind
/// (aggregates of `signers` signatures). Returns per kind, in `KINDS` order, the per-operation
/// time of each timed batch. The kinds take turns within a batch, so a disturbance lasting a
/// moment lands in one batch of each rather than in all batches of one.
pub fn measure(rounds: usize, signers: u32, batches: usize) -> [Vec<f64>; 4] {
    assert!(rounds >= 1 && signers >= 2 && batches >= 1);
    let mut batch_us: [Vec<f64>; 4] = Default::default();
    for batch in 0..=batches {
        let times_us = one_batch(rounds, signers);
        if batch > 0 {
            for (kind, t) in batch_us.iter_mut().zip(times_us) {
                kind.push(t);
            }
        }
    }
    batch_us
}

/// Times each kind once over `rounds` operations. Keys and signatures are made afresh (untimed)
/// so that memory stays that of one batch however many batches run.
fn one_batch(rounds: usize, signers: u32) -> [f64; 4] {
    let mut c = RealCrypto::new(&Streams::new(1), signers);
    let mut sigs = Vec::with_capacity(rounds);
    let sign_us = per_op_us(rounds, || {
        for i in 0..rounds {
            sigs.push(c.sign(i as u32 % signers, 7));
        }
    });
    let mut ok = true;
    let verify_us = per_op_us(rounds, || {
        for (i, &s) in sigs.iter().enumerate() {
            ok &= c.verify(s, i as u32 % signers, 7);
        }
    });
    let quorum: Vec<u32> = (0..signers).map(|i| c.sign(i, 9)).collect();
    let mut aggregates = Vec::with_capacity(rounds);
    let aggregate_per_sig_us = per_op_us(rounds * signers as usize, || {
        for _ in 0..rounds {
            aggregates.push(c.aggregate(&quorum).expect("signatures on one message"));
        }
    });
    let verify_aggregate_us = per_op_us(rounds, || {
        for &a in &aggregates {
            ok &= c.verify_aggregate(a, 0..signers, 9);
        }
    });
    assert!(ok, "blst rejected its own signatures");
    [sign_us, verify_us, aggregate_per_sig_us, verify_aggregate_us]
}

/// What one run of `calibrate` measured, for the profile's comments.
#[derive(Clone, Copy, Debug)]
pub struct Setup<'a> {
    pub machine: &'a str,
    pub signers: u32,
    pub rounds: u32,
    pub batches: u32,
}

/// The profile file's text: the medians, each with its spread as a comment.
pub fn profile_toml(summaries: &[Summary; 4], setup: &Setup<'_>) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "{HEADER}");
    let _ = writeln!(t, "# on {}; aggregate-verify of one message by {} signers.", setup.machine, setup.signers);
    let _ = writeln!(
        t,
        "# Each cost is the median over {} batches of {} operations, after a warm-up batch;",
        setup.batches, setup.rounds
    );
    let _ = writeln!(t, "# spread = (max - min) / median over the batches.");
    let _ = writeln!(t, "# Use it with: [cpu] profile_file = \"<path to this file>\"");
    let _ = writeln!(t, "name = \"calibrated\"");
    for ((key, _), s) in KINDS.iter().zip(summaries) {
        let digits = if *key == "aggregate_per_sig_us" { 3 } else { 2 };
        let _ = writeln!(t, "{key} = {:.digits$}  # spread {:.1}%", s.median_us, s.spread_pct);
    }
    t
}

/// The table printed on stderr: median, range and spread of each operation.
pub fn table(summaries: &[Summary; 4]) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "{:<26} {:>12} {:>10} {:>10} {:>7}", "operation", "median µs", "min µs", "max µs", "spread");
    for ((_, name), s) in KINDS.iter().zip(summaries) {
        let (median, min, max) = (s.median_us, s.min_us, s.max_us);
        let _ = writeln!(t, "{name:<26} {median:>12.3} {min:>10.3} {max:>10.3} {:>6.1}%", s.spread_pct);
    }
    t
}

/// Refuses an `--out` path that exists and is not a profile `calibrate` wrote (its first line is
/// not `HEADER`), so that calibrating never destroys a user's file. Reads at most 4 KiB and
/// never opens anything but a regular file (a FIFO would block).
pub fn check_out(out: &Path) -> Result<(), String> {
    let meta = match std::fs::metadata(out) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("{}: cannot inspect it: {e}", out.display())),
    };
    let refuse = |what: &str| {
        Err(format!(
            "{}: {what}, so calibrate will not replace it; choose another --out (or remove the file yourself)",
            out.display()
        ))
    };
    if !meta.is_file() {
        return refuse("exists and is not a regular file");
    }
    let mut head = Vec::new();
    let read = std::fs::File::open(out).and_then(|f| f.take(4096).read_to_end(&mut head));
    if let Err(e) = read {
        return Err(format!("{}: cannot read it: {e}", out.display()));
    }
    if !is_ours(&head) {
        return refuse("exists and was not written by `byzsim calibrate` (its first line is not the profile header)");
    }
    Ok(())
}

/// The CPU model name and the number of cores, as far as this machine tells.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(str::trim)
                .map(String::from)
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steady(median_us: f64) -> Summary {
        summarize(&[median_us; 7])
    }

    /// Both kinds of profile calibrate writes may be replaced by it; a file that only mentions
    /// a header, or starts with a longer first line, may not.
    #[test]
    fn measured_and_fitted_profiles_are_ours_and_nothing_else() {
        assert!(is_ours(format!("{HEADER}\n[crypto]\n").as_bytes()));
        assert!(is_ours(format!("{FIT_HEADER}\n# fitted by ...\n").as_bytes()));
        assert!(!is_ours(b"# my own profile\n"));
        assert!(!is_ours(format!("# note\n{FIT_HEADER}\n").as_bytes()));
        assert!(!is_ours(format!("{FIT_HEADER} (edited)\n").as_bytes()));
        assert!(!is_ours(b""));
    }
    #[test]
    fn median_and_spread_of_batches() {
        let s = summarize(&[102.0, 98.0, 100.0, 101.0, 99.0, 100.0, 103.0]);
        assert_eq!((s.median_us, s.min_us, s.max_us), (100.0, 98.0, 103.0));
        assert!((s.spread_pct - 5.0).abs() < 1e-9, "{s:?}");
        let even = summarize(&[4.0, 1.0, 3.0, 2.0]);
        assert_eq!(even.median_us, 2.5);
        assert_eq!(summarize(&[0.0, 0.0, 0.0]).spread_pct, 0.0);
    }

    /// Planted busy batch: six batches at 100 µs and one at 134 µs. The median ignores it, the
    /// spread shows it, and the warning names the operation and the spread. (An interquartile
    /// spread would be 0 here and miss it.)
    #[test]
    fn one_busy_batch_raises_a_warning() {
        let busy = summarize(&[100.0, 100.0, 134.0, 100.0, 100.0, 100.0, 100.0]);
        assert_eq!(busy.median_us, 100.0);
        assert!((busy.spread_pct - 34.0).abs() < 1e-9, "{busy:?}");
        let quiet = summarize(&[100.0, 101.0, 99.0, 100.0, 104.0, 100.0, 97.0]);
        assert!(busy_warnings(&[quiet, steady(1000.0), steady(1.3), steady(1100.0)]).is_empty());
        let warnings = busy_warnings(&[quiet, busy, steady(1.3), steady(1100.0)]);
        assert_eq!(
            warnings,
            [
                "the machine looks busy: verify varied by 34% between batches; rerun on an idle machine or raise --rounds"
            ]
        );
    }

    #[test]
    fn measures_plausible_costs_and_writes_a_profile() {
        let batch_us = measure(3, 4, 3);
        assert!(batch_us.iter().all(|b| b.len() == 3), "{batch_us:?}");
        let s: [Summary; 4] = std::array::from_fn(|i| summarize(&batch_us[i]));
        // A pairing check costs far more than adding a point: true on any machine, whatever its
        // speed and however loaded (sign vs verify, only ~3x apart, is left to the benchmark).
        assert!(s[1].median_us > 10.0 * s[2].median_us && s[0].median_us > 0.0, "{s:?}");
        let setup = Setup { machine: "test machine", signers: 4, rounds: 3, batches: 3 };
        let text = profile_toml(&s, &setup);
        assert!(text.starts_with(&format!("{HEADER}\n")), "{text}");
        let parsed: toml::Table = text.parse().expect("valid TOML");
        assert_eq!(parsed["name"].as_str(), Some("calibrated"));
        let verify_us = parsed["verify_us"].as_float().expect("verify_us is a number");
        assert!((verify_us - s[1].median_us).abs() <= 0.0051, "{verify_us} vs {:?}", s[1]);
        assert!(table(&s).lines().nth(2).is_some_and(|l| l.starts_with("verify ")), "{}", table(&s));
    }
}
