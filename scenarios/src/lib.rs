//! Scenario files (schema, validation, presets) and the runner behind the `byzsim` command.
#![allow(clippy::disallowed_types)] // the boundary may use std collections freely; the core may not

pub mod batch;
pub mod calibrate;
pub mod compare;
pub mod diagnose;
pub mod diff;
pub mod eventlog;
pub mod experiment;
pub mod explore;
pub mod fit;
pub mod lower;
pub mod messages;
pub mod model;
pub mod output;
pub mod parse;
pub mod perfetto;
pub mod planted;
pub mod presets;
pub mod protocols;
pub mod reader;
pub mod report;
pub mod results;
pub mod resultsdir;
pub mod run;
pub mod search;
pub mod shrink;
pub mod stats;
pub mod swarm;
pub mod sweep;
pub mod version;
pub mod viewtl;
pub mod watch;
pub mod write;
