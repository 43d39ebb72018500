//! Built-in region delay matrices (to be written).
