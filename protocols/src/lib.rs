//! protocols (to be written).
