//! `byzsim calibrate`: times BLS12-381 (blst, min_pk) on this machine through the same calls the
//! `real` crypto mode makes, and writes a cost profile that a scenario names with
//! `[cpu] profile_file`.
#![allow(clippy::disallowed_types)] // measuring wall time is the point here

use std::fmt::Write as _;
use std::time::Instant;

use sim_core::Streams;
use sim_core::crypto::RealCrypto;

/// Measured costs, in microseconds per operation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measured {
    pub sign_us: f64,
    pub verify_us: f64,
    pub aggregate_per_sig_us: f64,
    pub verify_aggregate_us: f64,
}

fn per_op_us(ops: usize, f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64() * 1e6 / ops as f64
}

/// `rounds` repetitions of each operation; aggregates of `signers` signatures.
pub fn measure(rounds: usize, signers: u32) -> Measured {
    assert!(rounds >= 1 && signers >= 2);
    let mut c = RealCrypto::new(&Streams::new(1), signers);
    let mut sigs = Vec::new();
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
    let mut aggregates = Vec::new();
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
    Measured { sign_us, verify_us, aggregate_per_sig_us, verify_aggregate_us }
}

/// The profile file's text.
pub fn profile_toml(m: &Measured, machine: &str, signers: u32) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "# byzsim crypto cost profile: BLS12-381 (min_pk) with blst, measured by `byzsim calibrate`");
    let _ = writeln!(t, "# on {machine}; aggregate-verify of one message by {signers} signers.");
    let _ = writeln!(t, "# Use it with: [cpu] profile_file = \"<path to this file>\"");
    let _ = writeln!(t, "name = \"calibrated\"");
    let _ = writeln!(t, "sign_us = {:.2}", m.sign_us);
    let _ = writeln!(t, "verify_us = {:.2}", m.verify_us);
    let _ = writeln!(t, "aggregate_per_sig_us = {:.3}", m.aggregate_per_sig_us);
    let _ = writeln!(t, "verify_aggregate_us = {:.2}", m.verify_aggregate_us);
    t
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

    #[test]
    fn measures_plausible_costs_and_writes_a_profile() {
        let m = measure(3, 4);
        // A pairing check costs far more than adding a point: true on any machine, whatever its
        // speed and however loaded (sign vs verify, only ~3x apart, is left to the benchmark).
        assert!(m.verify_us > 10.0 * m.aggregate_per_sig_us && m.sign_us > 0.0, "{m:?}");
        let text = profile_toml(&m, "test machine", 4);
        let parsed: toml::Table = text.parse().expect("valid TOML");
        assert_eq!(parsed["name"].as_str(), Some("calibrated"));
        assert!(parsed["verify_us"].as_float().is_some_and(|v| v > 0.0));
    }
}
