//! Scenario files (schema, validation, presets) and the runner behind the `byzsim` command.

pub mod model;
pub mod parse;
pub mod presets;
