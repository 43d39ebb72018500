//! The `byzsim` command line.

fn main() {}
