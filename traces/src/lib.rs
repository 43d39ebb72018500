//! Workloads for byzsim: open-loop sources of client transactions. For now the synthetic
//! generator (constant or Poisson arrivals, Zipf account popularity); real trace files next.

pub mod synthetic;
pub mod zipf;

pub use synthetic::{ArrivalProcess, Synthetic, SyntheticConfig};
