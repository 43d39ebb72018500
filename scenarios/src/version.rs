//! byzsim's identity: the crate version and the git commit it was built from (`-dirty` when the
//! tree had uncommitted changes), as `--version` and every results file show it.

/// The crate version, e.g. `0.1.0`.
pub const CRATE: &str = env!("CARGO_PKG_VERSION");

/// The git commit, e.g. `1a2b3c4d5e6f` or `1a2b3c4d5e6f-dirty`; `unknown` outside a checkout.
pub const GIT: &str = env!("BYZSIM_GIT");

/// `0.1.0 (git 1a2b3c4d5e6f)`.
pub fn long() -> String {
    format!("{CRATE} (git {GIT})")
}

/// Whether the build had uncommitted changes (or an unknown commit): same version, maybe not
/// the same code.
pub fn dirty() -> bool {
    GIT.ends_with("-dirty") || GIT == "unknown"
}
