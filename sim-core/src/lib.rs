//! sim-core: virtual time, the (time, seq) event queue, the engine, the network model, seeded
//! streams, the run digest, the safety checker and the metric definitions of byzsim.
//!
//! Nothing here does I/O, reads a clock or returns an error: inputs were validated at the
//! boundary (the `scenarios` crate), and broken internal invariants are asserts.

pub mod adversary;
pub mod bitset;
pub mod checker;
pub mod clients;
pub mod cpu;
pub mod crypto;
pub mod digest;
pub mod engine;
pub mod ids;
pub mod liveness;
pub mod metrics;
pub mod net;
pub mod observe;
pub mod protocol;
pub mod queue;
pub mod record;
pub mod rng;
pub mod time;
pub mod workload;

pub use adversary::Adversary;
pub use bitset::{NodeSet, TxSet};
pub use clients::{ClientModel, ClientStats, ClosedLoop, Overload, RequestBound};
pub use cpu::{CpuConfig, CryptoCosts, Pool};
pub use crypto::CryptoMode;
pub use engine::{
    FaultAction, FaultAt, Limit, Limits, LivenessCheck, NodeReport, RunResult, SendPolicy, SimConfig, Simulation, Stop,
};
pub use ids::{AccountId, NodeId, Tx, TxId, TxResult};
pub use liveness::Backlog;
pub use protocol::{
    AggregateSignature, Class, Ctx, ItemTally, Message, Monitor, NoMessage, NoMonitor, Protocol, Signature,
};
pub use record::{Detail, Entry, EventSink, Fate, FlightRecorder, HandlerInput, Note, Record};
pub use rng::{SimRng, Streams};
pub use time::{Span, Time};
