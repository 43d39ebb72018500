//! Scenario files (schema, validation, presets) and the runner behind the `byzsim` command.
#![allow(clippy::disallowed_types)] // the boundary may use std collections freely; the core may not

pub mod calibrate;
pub mod lower;
pub mod model;
pub mod output;
pub mod parse;
pub mod presets;
pub mod run;
