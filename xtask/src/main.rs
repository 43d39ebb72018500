//! Project automation, `cargo xtask <task>`: `ci` (lint, tests), `lint` (format, clippy), `docs` (the field
//! tables of docs/scenarios.md), `bench` (engine
//! and protocol speed, written to docs/bench.md) and `figures` (validation figures, written to
//! docs/figures/). No shell scripts beyond `.ci/run`.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // benchmarks and figures read the wall clock

mod bench;
mod docs;
mod figures;

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => lint().and_then(|()| cargo(&["test", "--workspace", "--locked"])),
        Some("lint") => lint(),
        Some("bench") => bench::Options::parse(&args[1..]).and_then(bench::all),
        Some("bench-case") => bench::case(args.get(1).map(String::as_str).unwrap_or("")),
        Some("docs") => docs::scenarios(args.get(1).is_some_and(|a| a == "--check")),
        Some("figures") => figures::main(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <ci | lint | docs [--check] | bench [--quick] [--only explore] [--clean-seeds N] | figures [--only NAME] [--quick]>\n  ci       lint, then all tests\n  lint     fmt check, clippy with warnings denied\n  docs     docs/scenarios.md field tables from the declarations\n  bench    engine and protocol benchmarks, explorations -> docs/bench.md\n  figures  validation figures (tables, CSV, plots) -> docs/figures/"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn cargo(args: &[&str]) -> Result<(), String> {
    eprintln!("$ cargo {}", args.join(" "));
    let status = Command::new(env!("CARGO")).args(args).status().map_err(|e| format!("cargo: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`cargo {}` failed", args.join(" "))) }
}

fn lint() -> Result<(), String> {
    cargo(&["fmt", "--all", "--", "--check"])?;
    cargo(&["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"])
}
