//! Test helpers shared by this crate's test files: a scratch folder that removes itself, and
//! the `byzsim` binary run in a folder.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh, empty folder under the system temp folder, removed with everything in it when the
/// value is dropped, also when the test panics. The name holds the crate, the test's name, the
/// process id and a counter, so tests running in parallel (in one process or several) never
/// share a folder. It derefs to its `Path`, so `dir.join("x")` and `&dir` work as with a path.
pub struct TempDir {
    path: PathBuf,
}

static NEXT_ID: AtomicU32 = AtomicU32::new(0);

impl TempDir {
    /// Creates `<temp>/byzsim-<crate>-<name>-<pid>-<n>`. It never reuses a folder that exists
    /// already (a leftover of a killed run with the same pid): it takes the next number instead.
    pub fn new(name: &str) -> TempDir {
        let crate_name = env!("CARGO_PKG_NAME");
        loop {
            let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
            let folder = format!("byzsim-{crate_name}-{name}-{}-{id}", std::process::id());
            let path = std::env::temp_dir().join(folder);
            match std::fs::create_dir(&path) {
                Ok(()) => return TempDir { path },
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => panic!("cannot create the test folder {}: {e}", path.display()),
            }
        }
    }
}

impl Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Runs the `byzsim` binary built for these tests with `args`, in `dir` (not every test file
/// runs it).
#[allow(dead_code)]
pub fn byzsim(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_byzsim")).args(args).current_dir(dir).output().expect("byzsim runs")
}

/// Four HotStuff replicas, two seconds of load: the base scenario of the experiment tests.
#[allow(dead_code)] // not every test binary uses it
pub const TOY: &str = r#"
name = "toy"
duration_s = 2
warmup_s = 0.5
drain_s = 1
[replicas]
n = 4
regions = ["us-east1", "europe-west1"]
[clients]
count = 2
[network]
matrix = "gcp2019"
[workload]
rate_tps = 200
"#;
