//! `byzsim experiment SPEC --render-from DIR`: the page, tables, plots and claims again from the
//! runs a run of the same experiment wrote to `DIR/results.json`, running nothing: a changed
//! template, table, plot or claim costs a second, not the hours its runs took. Refused (exit 2)
//! when what decides the runs changed since: the spec's cases, rates, search, seeds or its
//! scenarios (`runs_id`).

use std::path::Path;

use super::cases::Case;
use super::spec::Loaded;
use super::{Args, Results};
use crate::batch::Failure;

/// Spec keys that only present the runs: a change to them leaves every run as it was.
const PRESENTATION: [&str; 5] = ["table", "plot", "expect", "page", "reference"];

/// A hash of what decides the runs: the spec without its presentation keys (as TOML values, so
/// comments and layout do not count) and every base scenario's text.
pub fn runs_id(loaded: &Loaded, scenario_src: &str) -> String {
    let mut spec: toml::Table = toml::from_str(&loaded.text).expect("the spec was read as TOML");
    for key in PRESENTATION {
        spec.remove(key);
    }
    let text = format!("{}\0{scenario_src}", toml::to_string(&spec).expect("a TOML table writes"));
    format!("{:016x}", sim_core::digest::stable_hash_str(&text))
}

/// The results in `from`, checked to be this experiment's runs as the spec would run them now.
pub fn read(loaded: &Loaded, args: &Args, cases: &[Case], runs_id: &str, from: &Path) -> Result<Results, Failure> {
    let path = from.join("results.json");
    let help = "--render-from takes the folder a run of this experiment wrote";
    let bytes = std::fs::read(&path).map_err(|e| Failure::input(format!("{}: {e}\n  help: {help}", path.display())))?;
    let results: Results = serde_json::from_slice(&bytes).map_err(|e| {
        Failure::input(format!("{}: not an experiment's results ({e})\n  help: {help}", path.display()))
    })?;
    let refuse = |why: String, fix: &str| Failure::input(format!("{}: {why}\n  help: {fix}", path.display()));
    if results.name != loaded.spec.name {
        return Err(refuse(format!("the results of experiment `{}`, not `{}`", results.name, loaded.spec.name), help));
    }
    if results.quick != args.quick {
        let which = if results.quick { "a --quick run's: add --quick" } else { "a full run's: leave out --quick" };
        return Err(refuse(format!("these results are {which}"), "render with the flag they ran with"));
    }
    let same_cases = results.cases.len() == cases.len() && results.cases.iter().zip(cases).all(|(r, c)| r.case == *c);
    if results.runs_id != runs_id || !same_cases {
        let spec = loaded.path.display();
        return Err(refuse(
            format!(
                "what decides the runs changed since they ran (the cases, rates, search or seeds of {spec}, or its scenarios)"
            ),
            &format!(
                "run `byzsim experiment {spec}` again; only its tables, plots, claims, references and page may change"
            ),
        ));
    }
    Ok(results)
}
