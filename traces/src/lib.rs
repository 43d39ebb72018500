//! Workloads for byzsim: open-loop sources of client transactions. The synthetic generator
//! (constant or Poisson arrivals, Zipf account popularity), and replays of real traces:
//! per-transaction CSV files, rate series, NASDAQ per-second trade counts, the Diablo
//! benchmark's rate curves, and built-in presets of published curves.
//!
//! Trace files are read once, at validation, into plain data (`Trace`); a replay then cannot
//! fail. Every problem of a file is a `TraceError` naming the file, line, column and field.

pub mod error;
pub mod input;
pub mod nasdaq;
pub mod presets;
pub mod rates;
pub mod replay;
pub mod synthetic;
mod table;
pub mod transactions;
pub mod zipf;

pub use error::{MAX_PROBLEMS, TraceError};
pub use input::{InputError, InputKind, read_text};
pub use nasdaq::{NasdaqTrace, parse_nasdaq};
pub use presets::{preset, preset_names};
pub use rates::{Interpolation, RateCurve, parse_diablo, parse_rate_series};
pub use replay::{ClientsBy, ReplayConfig, Trace};
pub use synthetic::{ArrivalProcess, Synthetic, SyntheticConfig};
pub use transactions::{TxRow, TxTrace, parse_transactions};

use sim_core::SimRng;
use sim_core::workload::Workload;

/// Where a run's arrivals come from.
#[derive(Clone, Debug, PartialEq)]
pub enum WorkloadConfig {
    Synthetic(SyntheticConfig),
    Replay(ReplayConfig),
}

impl WorkloadConfig {
    /// The workload, drawing from `rng` (the run's `workload` stream).
    pub fn build(&self, rng: SimRng) -> Box<dyn Workload> {
        match self {
            WorkloadConfig::Synthetic(cfg) => Box::new(Synthetic::new(cfg.clone(), rng)),
            WorkloadConfig::Replay(cfg) => cfg.workload(rng),
        }
    }
}
