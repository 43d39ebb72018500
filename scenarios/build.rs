//! Records the git commit (and whether the tree had uncommitted changes) that byzsim is built
//! from, so that `--version` and every results file can say exactly which code made a run.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // Rebuilt when any source of the simulator, the commit or the index changes.
    for watched in ["Cargo.lock", "sim-core", "protocols", "traces", "plots", "scenarios/src"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let root = root.display().to_string();
    for file in ["HEAD", "index"] {
        if let Some(path) = git(&["-C", &root, "rev-parse", "--path-format=absolute", "--git-path", file]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    let commit = git(&["-C", &root, "rev-parse", "--short=12", "HEAD"]);
    let dirty = git(&["-C", &root, "status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty());
    let text = match (commit, dirty) {
        (Some(c), Some(true)) => format!("{c}-dirty"),
        (Some(c), _) => c,
        (None, _) => "unknown".to_string(),
    };
    println!("cargo:rustc-env=BYZSIM_GIT={text}");
}
