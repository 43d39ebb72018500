//! traces (to be written).
