//! Results folders that never destroy what byzsim did not write: a marker file names the
//! folder's owner and every file in it, `check` refuses a target that is not ours before any
//! run starts, and `replace` swaps a complete new folder in for the old one by two renames.
//!
//! A results folder holds `.byzsim`: a first line that says what it is, then TOML naming the
//! command, version and scenario that wrote it and every file it holds. A target folder may be
//! replaced only if it is absent, empty, or a byzsim folder holding nothing but the files its
//! marker lists (a user's `notes.md` dropped into it makes it theirs again). Some targets are
//! never replaced whatever they hold: `/`, the home folder, the current folder and their
//! ancestors, and any folder holding an input of the command (the scenario file, a merge's
//! shard files).
//!
//! Replacing: the new folder is written complete under `.<name>.partial-<pid>` (its marker first
//! says `state = "partial"`, last `state = "complete"`), the old one is renamed to
//! `.<name>.old-<pid>`, the new one renamed in, the old one removed. A kill between the two
//! renames leaves the old folder beside the final path; the next write there puts it back
//! before anything else, and removes every stale partial or old sibling of a dead process
//! that carries our marker.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::batch::Failure;

/// The marker's file name.
pub const MARKER: &str = ".byzsim";

/// The marker's first line, which no other file starts with.
const MARKER_HEAD: &str =
    "# byzsim results folder: written by byzsim, replaced by the next byzsim command that writes here";

/// What a results folder says about itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Marker {
    /// `run`, `compare`, `sweep` or `merge`.
    pub command: String,
    /// byzsim's version and git commit.
    pub version: String,
    /// The scenario's name.
    pub scenario: String,
    /// `partial` while being written, `complete` once every file is there.
    pub state: String,
    /// Every file byzsim wrote in the folder (the marker aside), sorted.
    pub files: Vec<String>,
}

impl Marker {
    pub fn new(command: &str, scenario: &str) -> Marker {
        Marker {
            command: command.into(),
            version: crate::version::long(),
            scenario: scenario.into(),
            state: "partial".into(),
            files: Vec::new(),
        }
    }

    fn text(&self) -> String {
        format!("{MARKER_HEAD}\n{}", toml::to_string(self).expect("a marker is plain TOML"))
    }

    /// Reads the marker of `dir`, or None when it has none (or one that is not ours).
    pub fn read(dir: &Path) -> Option<Marker> {
        let path = dir.join(MARKER);
        let meta = fs::symlink_metadata(&path).ok()?;
        if !meta.is_file() || meta.len() > 1 << 20 {
            return None;
        }
        let text = fs::read_to_string(&path).ok()?;
        let body = text.strip_prefix(MARKER_HEAD)?.strip_prefix('\n')?;
        toml::from_str(body).ok()
    }

    /// Every listed file is there: what a kill test calls a complete folder.
    pub fn is_complete(&self, dir: &Path) -> bool {
        self.state == "complete" && self.files.iter().all(|f| dir.join(f).is_file())
    }
}

/// Why a target is refused, with what to do instead.
fn refuse(dir: &Path, why: &str, help: &str) -> Failure {
    Failure::input(format!("--out {}: {why}\n  help: {help}", dir.display()))
}

/// The absolute, symlink-free form of `path`, which may not exist yet: its deepest existing
/// ancestor canonicalized, the rest appended.
fn resolve(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map_or_else(|_| path.to_path_buf(), |cwd| cwd.join(path))
    };
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    let mut base = absolute.as_path();
    loop {
        if let Ok(real) = fs::canonicalize(base) {
            let mut out = real;
            for part in rest.iter().rev() {
                match part.to_str() {
                    Some("..") => {
                        out.pop();
                    }
                    Some(".") => {}
                    _ => out.push(part),
                }
            }
            return out;
        }
        match (base.parent(), base.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                base = parent;
            }
            (Some(parent), None) => {
                // `a/..`: keep the `..` for the pass above.
                rest.push("..".into());
                base = parent;
            }
            _ => return absolute,
        }
    }
}

/// Folders that are never a results folder: `/`, home, the current folder, their ancestors.
fn protected() -> Vec<(PathBuf, &'static str)> {
    let mut out = vec![(PathBuf::from("/"), "the root folder")];
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        out.push((resolve(Path::new(&home)), "your home folder"));
    }
    if let Ok(cwd) = std::env::current_dir() {
        out.push((resolve(&cwd), "the current folder"));
    }
    out
}

/// Checks, before anything runs, that `dir` may receive a results folder; `inputs` are the
/// command's input files (or folders), which `dir` must not hold.
pub fn check(dir: &Path, inputs: &[&Path]) -> Result<(), Failure> {
    let other_name = "choose another --out (or leave it out: byzsim picks a fresh name under results/)";
    if dir.as_os_str().is_empty() {
        return Err(refuse(dir, "an empty path", other_name));
    }
    let real = resolve(dir);
    for (place, what) in protected() {
        if place.starts_with(&real) {
            let why = if place == real { format!("this is {what}") } else { format!("this folder holds {what}") };
            return Err(refuse(dir, &format!("{why}; byzsim never replaces it"), other_name));
        }
    }
    for input in inputs {
        let input_real = resolve(input);
        if input_real.starts_with(&real) {
            let why = if input_real == real {
                "this is an input of the command".to_string()
            } else {
                format!("this folder holds {}, an input of the command", input.display())
            };
            return Err(refuse(dir, &format!("{why}; byzsim never replaces it"), other_name));
        }
    }
    let Ok(meta) = fs::symlink_metadata(dir) else { return Ok(()) };
    if meta.file_type().is_symlink() {
        return Err(refuse(dir, "is a symbolic link", "give the folder's real path, or another --out"));
    }
    if !meta.is_dir() {
        return Err(refuse(dir, "exists and is not a folder", other_name));
    }
    let entries = list(dir).map_err(|e| refuse(dir, &format!("cannot be listed: {e}"), other_name))?;
    if entries.is_empty() {
        return Ok(());
    }
    let Some(marker) = Marker::read(dir) else {
        let shown: Vec<&str> = entries.iter().take(3).map(String::as_str).collect();
        return Err(refuse(
            dir,
            &format!(
                "this folder is not empty (it holds {}{}) and byzsim did not write it (it has no {MARKER} file)",
                shown.join(", "),
                if entries.len() > 3 { ", ..." } else { "" }
            ),
            &format!("{other_name}; byzsim only replaces folders it wrote"),
        ));
    };
    if let Some(foreign) = entries.iter().find(|e| *e != MARKER && !marker.files.contains(e)) {
        return Err(refuse(
            dir,
            &format!("this byzsim results folder now also holds `{foreign}`, which byzsim did not write"),
            &format!("move `{foreign}` out of the folder, or {other_name}"),
        ));
    }
    Ok(())
}

/// The names in a folder, sorted.
fn list(dir: &Path) -> io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir)? {
        names.push(entry?.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// Writes the results folder `dir`: `fill` writes into a temporary sibling (see the module
/// comment) and returns the files it wrote; the marker is written around them, then the folder
/// replaces the old one. Checks `dir` again first (it may have changed during the runs).
pub fn replace(
    dir: &Path,
    inputs: &[&Path],
    marker: Marker,
    fill: impl FnOnce(&Path) -> io::Result<Vec<String>>,
) -> io::Result<()> {
    let to_io = |f: Failure| io::Error::new(io::ErrorKind::AlreadyExists, f.message);
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    recover(dir)?;
    check(dir, inputs).map_err(to_io)?;
    let staging = sibling(dir, "partial", std::process::id());
    let written = stage(&staging, marker, fill).and_then(|()| swap_in(&staging, dir));
    if written.is_err() && Marker::read(&staging).is_some() {
        let _ = remove_ours(&staging);
    }
    written
}

/// Fills the staging folder, marker first (partial) and last (complete, with the file list).
fn stage(staging: &Path, mut marker: Marker, fill: impl FnOnce(&Path) -> io::Result<Vec<String>>) -> io::Result<()> {
    fs::create_dir(staging)?;
    fs::write(staging.join(MARKER), marker.text())?;
    let mut files = fill(staging)?;
    files.sort();
    files.dedup();
    let present = list(staging)?;
    if let Some(unlisted) = present.iter().find(|p| *p != MARKER && !files.contains(p)) {
        return Err(io::Error::other(format!("internal: {unlisted} was written but not listed")));
    }
    marker.files = files;
    marker.state = "complete".into();
    // Renamed over the partial marker, so that a kill never leaves a folder whose marker is cut.
    let next = staging.join(format!("{MARKER}.next"));
    fs::write(&next, marker.text())?;
    fs::rename(&next, staging.join(MARKER))
}

/// Renames the old folder aside, the new one in, then removes the old one.
fn swap_in(staging: &Path, dir: &Path) -> io::Result<()> {
    let old = sibling(dir, "old", std::process::id());
    let had_old = fs::symlink_metadata(dir).is_ok();
    if had_old {
        fs::rename(dir, &old)?;
    }
    if let Err(e) = fs::rename(staging, dir) {
        if had_old {
            let _ = fs::rename(&old, dir);
        }
        return Err(e);
    }
    if had_old {
        remove_ours(&old)?;
    }
    Ok(())
}

/// Removes one of our folders with its marker last, so that a kill midway leaves a folder that
/// is still recognisably ours (and is cleaned up by the next write).
fn remove_ours(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name() == MARKER {
            continue;
        }
        if entry.file_type()?.is_dir() { fs::remove_dir_all(entry.path())? } else { fs::remove_file(entry.path())? }
    }
    let _ = fs::remove_file(dir.join(MARKER));
    fs::remove_dir(dir)
}

/// `.<name>.<what>-<pid>` beside `dir`.
fn sibling(dir: &Path, what: &str, pid: u32) -> PathBuf {
    let name = dir.file_name().map_or("results".into(), |n| n.to_string_lossy().into_owned());
    dir.with_file_name(format!(".{name}.{what}-{pid}"))
}

/// Whether process `pid` may still be writing (on systems without /proc: assume not).
fn alive(pid: u32) -> bool {
    pid == std::process::id() || (Path::new("/proc/self").exists() && Path::new(&format!("/proc/{pid}")).exists())
}

/// Puts back an old folder a killed process left renamed aside, and removes the stale partial
/// and old siblings of dead processes that carry our marker.
fn recover(dir: &Path) -> io::Result<()> {
    let Some(name) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) else { return Ok(()) };
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(entries) = fs::read_dir(&parent) else { return Ok(()) };
    let mut stale: Vec<(String, u32, PathBuf)> = Vec::new();
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&format!(".{name}.")) else { continue };
        let Some((what, pid)) = rest.split_once('-') else { continue };
        let Ok(pid) = pid.parse::<u32>() else { continue };
        if (what == "partial" || what == "old") && !alive(pid) && leftover_of_ours(&entry.path()) {
            stale.push((what.to_string(), pid, entry.path()));
        }
    }
    stale.sort();
    if fs::symlink_metadata(dir).is_err()
        && let Some((_, _, old)) = stale.iter().find(|(what, _, p)| what == "old" && is_complete(p))
    {
        fs::rename(old, dir)?;
    }
    for (_, _, path) in &stale {
        if path.exists() {
            remove_ours(path)?;
        }
    }
    Ok(())
}

/// A sibling a killed byzsim left: it carries our marker, or holds nothing but (part of) a
/// marker, as when the kill came between creating the folder and writing its marker, or between
/// removing the marker and the folder.
fn leftover_of_ours(dir: &Path) -> bool {
    Marker::read(dir).is_some() || list(dir).is_ok_and(|names| names.iter().all(|n| n == MARKER))
}

fn is_complete(dir: &Path) -> bool {
    Marker::read(dir).is_some_and(|m| m.is_complete(dir))
}

/// Writes one file into `dir` (created if needed) atomically: into a temporary sibling, then
/// renamed. An existing file is replaced only if `ours` says byzsim wrote it.
pub fn write_file(path: &Path, contents: &[u8], ours: impl Fn(&[u8]) -> bool) -> io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    if let Ok(meta) = fs::symlink_metadata(path) {
        let theirs = !meta.is_file() || meta.len() > 1 << 30 || !fs::read(path).is_ok_and(|old| ours(&old));
        if theirs {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and byzsim did not write it: move it away or choose another --out", path.display()),
            ));
        }
    }
    let staging = sibling(path, "partial", std::process::id());
    let written = fs::write(&staging, contents).and_then(|()| fs::rename(&staging, path));
    if written.is_err() {
        let _ = fs::remove_file(&staging);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder in the temp folder that removes itself.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!("byzsim-resultsdir-{}-{name}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn fill<'a>(files: &'a [&'a str]) -> impl FnOnce(&Path) -> io::Result<Vec<String>> + 'a {
        move |dir: &Path| {
            for f in files {
                fs::write(dir.join(f), f.as_bytes())?;
            }
            Ok(files.iter().map(|f| f.to_string()).collect())
        }
    }

    #[test]
    fn a_foreign_folder_is_refused_and_kept() {
        let s = Scratch::new("foreign");
        let thesis = s.0.join("thesis");
        fs::create_dir(&thesis).unwrap();
        fs::write(thesis.join("chapter1.tex"), "precious").unwrap();
        let err = check(&thesis, &[]).unwrap_err();
        assert_eq!(err.code, 2);
        assert!(err.message.contains("did not write it") && err.message.contains("chapter1.tex"), "{}", err.message);
        assert!(replace(&thesis, &[], Marker::new("run", "x"), fill(&["a.csv"])).is_err());
        assert_eq!(fs::read_to_string(thesis.join("chapter1.tex")).unwrap(), "precious");
        assert_eq!(list(&thesis).unwrap(), ["chapter1.tex"]);
    }

    #[test]
    fn our_folder_is_replaced_whole_but_not_once_a_user_file_is_added() {
        let s = Scratch::new("ours");
        let dir = s.0.join("res");
        replace(&dir, &[], Marker::new("run", "x"), fill(&["a.csv", "b.json"])).unwrap();
        assert!(is_complete(&dir));
        replace(&dir, &[], Marker::new("run", "x"), fill(&["c.csv"])).unwrap();
        assert_eq!(list(&dir).unwrap(), [MARKER, "c.csv"]);
        fs::write(dir.join("notes.md"), "mine").unwrap();
        let err = check(&dir, &[]).unwrap_err();
        assert!(err.message.contains("`notes.md`"), "{}", err.message);
        assert!(replace(&dir, &[], Marker::new("run", "x"), fill(&["d.csv"])).is_err());
        assert_eq!(fs::read_to_string(dir.join("notes.md")).unwrap(), "mine");
        // No staging folder is left behind by the refusal or the successes.
        assert_eq!(list(&s.0).unwrap(), ["res"]);
    }

    #[test]
    fn protected_places_and_inputs_are_refused() {
        let s = Scratch::new("protected");
        for dir in [".", "..", "/"] {
            let err = check(Path::new(dir), &[]).unwrap_err();
            assert!(err.message.contains("never replaces it"), "{dir}: {}", err.message);
        }
        let scenario = s.0.join("in").join("s.toml");
        fs::create_dir_all(scenario.parent().unwrap()).unwrap();
        fs::write(&scenario, "name = 'x'").unwrap();
        let err = check(&s.0.join("in"), &[&scenario]).unwrap_err();
        assert!(err.message.contains("input of the command"), "{}", err.message);
        assert!(check(&s.0.join("in").join("out"), &[&scenario]).is_ok());
        let err = check(&s.0.join("in").join("sub").join(".."), &[&scenario]).unwrap_err();
        assert!(err.message.contains("input of the command"), "{}", err.message);
    }

    #[test]
    fn an_old_folder_left_aside_by_a_kill_is_put_back_and_stale_partials_go() {
        let s = Scratch::new("recover");
        let dir = s.0.join("res");
        replace(&dir, &[], Marker::new("run", "x"), fill(&["a.csv"])).unwrap();
        // A process (pid 0 is never a writer) killed between its two renames.
        let dead = 0;
        fs::rename(&dir, sibling(&dir, "old", dead)).unwrap();
        let partial = sibling(&dir, "partial", dead);
        fs::create_dir(&partial).unwrap();
        fs::write(partial.join(MARKER), Marker::new("run", "x").text()).unwrap();
        // Killed before its marker was written: an empty partial folder goes too.
        fs::create_dir(sibling(&dir, "partial", 2_000_000_000)).unwrap();
        // A look-alike that is not ours stays.
        let lookalike = sibling(&dir, "partial", 2_000_000_001);
        fs::create_dir(&lookalike).unwrap();
        fs::write(lookalike.join("thesis.tex"), "not ours").unwrap();
        recover(&dir).unwrap();
        assert!(is_complete(&dir));
        assert_eq!(list(&s.0).unwrap(), [".res.partial-2000000001", "res"]);
    }

    #[test]
    fn a_file_is_replaced_only_when_ours() {
        let s = Scratch::new("file");
        let path = s.0.join("shards").join("shard-0-of-2.json");
        write_file(&path, b"ours 1", |old| old.starts_with(b"ours")).unwrap();
        write_file(&path, b"ours 2", |old| old.starts_with(b"ours")).unwrap();
        fs::write(&path, "theirs").unwrap();
        assert!(write_file(&path, b"ours 3", |old| old.starts_with(b"ours")).is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), "theirs");
    }
}
