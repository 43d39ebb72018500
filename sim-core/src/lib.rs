//! sim-core (to be written).
