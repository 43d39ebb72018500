//! plots (to be written).
