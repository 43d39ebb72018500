//! Scenario TOML parsing and validation (to be written).
