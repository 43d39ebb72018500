//! The event log (`byzsim run --events FILE`): one JSON object per record, schema
//! `byzsim-events` version 1 (docs/event-log.md), with filters; and the one-line human form of a
//! record the flight recorder, `diff` and the reports print.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use sim_core::{Entry, Fate, HandlerInput, Note, Record, Time};

use crate::run::Report;
use crate::watch::{RunInfo, Watcher};

/// The schema version written in each log's first line.
pub const SCHEMA_VERSION: u32 = 1;

/// Which records a log keeps. Records left out still count in `seq` and the digest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Virtual time window, nanoseconds, `from <= t < to`.
    pub from_ns: u64,
    pub to_ns: Option<u64>,
    /// Nodes (a record is kept if it happens at one of them, or, for sends and deliveries, if
    /// either end is one); empty: all.
    pub nodes: BTreeSet<u32>,
    /// Record names (`Record::NAMES`); empty: all.
    pub records: BTreeSet<String>,
    /// Message kind names for sends, deliveries and refusals; empty: all.
    pub kinds: BTreeSet<String>,
}

impl Filter {
    pub fn keeps(&self, entry: &Entry, info: &RunInfo) -> bool {
        if entry.at.0 < self.from_ns || self.to_ns.is_some_and(|to| entry.at.0 >= to) {
            return false;
        }
        if !self.records.is_empty() && !self.records.contains(entry.record.name()) {
            return false;
        }
        let (ends, kind) = match entry.record {
            Record::Send { from, to, kind, .. }
            | Record::Deliver { from, to, kind, .. }
            | Record::Refused { from, to, kind, .. } => ([Some(from.0), Some(to.0)], Some(kind)),
            Record::Resend { client, to, .. } => ([Some(client.0), Some(to.0)], None),
            Record::Overload { node, client, .. } => ([Some(node.0), Some(client.0)], None),
            other => ([other.node().map(|n| n.0), None], None),
        };
        if !self.kinds.is_empty() && !kind.is_some_and(|k| self.kinds.contains(info.kind_name(k))) {
            return false;
        }
        self.nodes.is_empty() || ends.iter().flatten().any(|n| self.nodes.contains(n))
    }

    /// Checks names against the run's tables: unknown record names, kinds or nodes.
    pub fn check(&self, info: &RunInfo) -> Result<(), String> {
        if let Some(bad) = self.records.iter().find(|r| !Record::NAMES.contains(&r.as_str())) {
            return Err(format!("--events-records: no record kind `{bad}`; known: {}", Record::NAMES.join(", ")));
        }
        if let Some(bad) = self.kinds.iter().find(|k| !info.kinds.iter().any(|x| x.name == k.as_str())) {
            let known: Vec<&str> = info.kinds.iter().filter(|k| !k.item).map(|k| k.name).collect();
            return Err(format!(
                "--events-kinds: this protocol has no message kind `{bad}`; known: {}",
                known.join(", ")
            ));
        }
        if let Some(bad) = self.nodes.iter().find(|&&n| n >= info.n_nodes) {
            return Err(format!(
                "--events-nodes: node {bad} does not exist: this run has nodes 0..{} ({} replicas, then clients)",
                info.n_nodes - 1,
                info.n_replicas
            ));
        }
        Ok(())
    }
}

/// A file written under a hidden temporary name next to its path and renamed into place when
/// whole: a log or a timeline that exists is a whole one. The first write error is kept and
/// reported by `finish`.
pub struct PartialFile {
    path: PathBuf,
    partial: PathBuf,
    out: Option<BufWriter<File>>,
    error: Option<io::Error>,
}

impl PartialFile {
    /// Refuses a `path` that exists (byzsim overwrites nothing it did not write) or whose
    /// folder does not; creates the temporary file.
    pub fn create(path: &Path) -> Result<PartialFile, String> {
        if path.exists() || path.symlink_metadata().is_ok() {
            return Err(format!(
                "error: {} exists; byzsim does not overwrite files\n  help: remove it, or give another file name",
                path.display()
            ));
        }
        let name = path.file_name().ok_or_else(|| format!("error: {} is not a file name", path.display()))?;
        let mut hidden = std::ffi::OsString::from(".");
        hidden.push(name);
        hidden.push(".byzsim-partial");
        let partial = path.with_file_name(hidden);
        let file = File::options().write(true).create_new(true).open(&partial).map_err(|e| {
            format!(
                "error: cannot write {} (nor its temporary {}): {e}\n  help: check that the folder exists and is \
                 writable",
                path.display(),
                partial.display()
            )
        })?;
        let out = Some(BufWriter::with_capacity(1 << 20, file));
        Ok(PartialFile { path: path.to_path_buf(), partial, out, error: None })
    }

    pub fn write(&mut self, bytes: &[u8]) {
        if let (Some(out), None) = (&mut self.out, &self.error)
            && let Err(e) = out.write_all(bytes)
        {
            self.error = Some(e);
        }
    }

    /// Flushes and puts the file in place; removes the temporary file if anything failed.
    pub fn finish(&mut self) -> io::Result<PathBuf> {
        let out = self.out.take().expect("finished once");
        let flushed = match self.error.take() {
            Some(e) => Err(e),
            None => out.into_inner().map_err(|e| e.into_error()).and_then(|f| f.sync_all()),
        };
        match flushed.and_then(|()| std::fs::rename(&self.partial, &self.path)) {
            Ok(()) => Ok(self.path.clone()),
            Err(e) => {
                let _ = std::fs::remove_file(&self.partial);
                Err(e)
            }
        }
    }

    /// Removes the temporary file of a file that will not be finished.
    pub fn abandon(&mut self) {
        self.out = None;
        let _ = std::fs::remove_file(&self.partial);
    }
}

/// Writes kept records as JSON lines to a file written under a temporary name and renamed into
/// place when the run is over, so a log that exists is a whole log.
pub struct EventLog {
    file: PartialFile,
    filter: Filter,
    info: Option<RunInfo>,
    line: String,
    /// Lines written, the header and the footer left out.
    pub lines: u64,
}

impl EventLog {
    /// Refuses a `path` that exists (byzsim overwrites nothing it did not write) or whose
    /// folder does not; creates the temporary file.
    pub fn create(path: &Path, filter: Filter) -> Result<EventLog, String> {
        Ok(EventLog {
            file: PartialFile::create(path)?,
            filter,
            info: None,
            line: String::with_capacity(256),
            lines: 0,
        })
    }

    fn write_line(&mut self) {
        self.line.push('\n');
        self.file.write(self.line.as_bytes());
        self.line.clear();
    }

    /// Writes the footer (the run's digest and why it stopped) and puts the log in place;
    /// removes the temporary file if anything failed.
    pub fn finish(&mut self, report: &Report) -> io::Result<PathBuf> {
        let r = &report.result;
        let _ = write!(
            self.line,
            r#"{{"ev":"end","records":{},"lines":{},"events":{},"end_ns":{},"stop":"{}","digest":"{:016x}"}}"#,
            r.records,
            self.lines,
            r.events,
            r.end_time.0,
            r.stop.name(),
            r.digest
        );
        self.write_line();
        self.file.finish()
    }

    /// Removes the temporary file of a log that will not be finished.
    pub fn abandon(&mut self) {
        self.file.abandon();
    }
}

impl Watcher for EventLog {
    fn begin(&mut self, info: &RunInfo) {
        let kinds: Vec<String> = info.kinds.iter().map(|k| json_str(k.name)).collect();
        let _ = write!(
            self.line,
            r#"{{"schema":"byzsim-events","version":{SCHEMA_VERSION},"byzsim":{},"scenario":{},"protocol":"{}","seed":{},"replicas":{},"nodes":{},"kinds":[{}],"filter":{}}}"#,
            json_str(&crate::version::long()),
            json_str(&info.scenario),
            info.protocol,
            info.seed,
            info.n_replicas,
            info.n_nodes,
            kinds.join(","),
            filter_json(&self.filter),
        );
        self.write_line();
        self.info = Some(info.clone());
    }

    fn wants_about(&self, entry: &Entry) -> bool {
        self.info.as_ref().is_some_and(|info| self.filter.keeps(entry, info))
    }

    fn record(&mut self, entry: &Entry, about: &str) {
        let Some(info) = &self.info else { return };
        if !self.filter.keeps(entry, info) {
            return;
        }
        json_entry(&mut self.line, entry, about, info);
        self.lines += 1;
        self.write_line();
    }
}

fn filter_json(f: &Filter) -> String {
    let list = |set: &BTreeSet<String>| set.iter().map(|s| json_str(s)).collect::<Vec<_>>().join(",");
    let nodes: Vec<String> = f.nodes.iter().map(u32::to_string).collect();
    let to = f.to_ns.map_or("null".to_string(), |t| t.to_string());
    format!(
        r#"{{"from_ns":{},"to_ns":{to},"nodes":[{}],"records":[{}],"kinds":[{}]}}"#,
        f.from_ns,
        nodes.join(","),
        list(&f.records),
        list(&f.kinds)
    )
}

/// A JSON string literal.
pub fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// Appends one record as a JSON object (no newline).
pub fn json_entry(line: &mut String, e: &Entry, about: &str, info: &RunInfo) {
    let _ = write!(line, r#"{{"t_ns":{},"seq":{},"ev":"{}""#, e.at.0, e.seq, e.record.name());
    let kind = |k: u32| info.kind_name(k);
    let _ = match e.record {
        Record::Send { .. } | Record::Deliver { .. } | Record::Refused { .. } => json_traffic(line, &e.record, info),
        Record::TimerSet { node, generation, at } => {
            write!(line, r#","node":{},"gen":{generation},"fire_ns":{}"#, node.0, at.0)
        }
        Record::TimerFire { node, generation } => write!(line, r#","node":{},"gen":{generation}"#, node.0),
        Record::Handler { node, cost, input } => {
            let _ = write!(line, r#","node":{},"cost_ns":{}"#, node.0, cost.0);
            match input {
                HandlerInput::Message { kind: k, msg } => write!(line, r#","input":"{}","msg":{msg}"#, kind(k)),
                HandlerInput::Request { msg } => write!(line, r#","input":"{}","msg":{msg}"#, kind(0)),
                HandlerInput::Timer { generation } => write!(line, r#","input":"timer","gen":{generation}"#),
            }
        }
        Record::Release { node, epoch } => write!(line, r#","node":{},"epoch":{epoch}"#, node.0),
        Record::Submit { client, tx } | Record::Confirm { client, tx } => {
            write!(line, r#","client":{},"tx":{}"#, client.0, tx.0)
        }
        Record::Resend { client, to, tx } => write!(line, r#","client":{},"to":{},"tx":{}"#, client.0, to.0, tx.0),
        Record::Overload { node, client, tx, pushed_back } => {
            let action = if pushed_back { "push_back" } else { "drop" };
            write!(line, r#","node":{},"client":{},"tx":{},"action":"{action}""#, node.0, client.0, tx.0)
        }
        Record::Commit { node, slot, entry, txs } => {
            write!(line, r#","node":{},"slot":{slot},"entry":"{entry:016x}","txs":{txs}"#, node.0)
        }
        Record::CommitTx { node, tx } | Record::Execute { node, tx } => {
            write!(line, r#","node":{},"tx":{}"#, node.0, tx.0)
        }
        Record::Fault { node, action } => {
            let action = match action {
                sim_core::FaultAction::Crash => "crash",
                sim_core::FaultAction::Recover => "recover",
            };
            write!(line, r#","node":{},"action":"{action}""#, node.0)
        }
        Record::Partition { index, open } => write!(line, r#","index":{index},"open":{open}"#),
        Record::Note { node, note } => {
            let written = write!(line, r#","node":{},"note":"{}","#, node.0, note.name());
            note_members(line, &note);
            written
        }
        Record::Violation { node, invariant } => write!(line, r#","node":{},"invariant":"{invariant}""#, node.0),
    };
    if !about.is_empty() {
        let _ = write!(line, r#","about":{}"#, json_str(about));
    }
    let _ = write!(line, r#","digest":"{:016x}"}}"#, e.digest);
}

/// The members of a message's records (send, delivery, refusal) in `json_entry`.
fn json_traffic(line: &mut String, record: &Record, info: &RunInfo) -> std::fmt::Result {
    let kind = |k: u32| info.kind_name(k);
    match *record {
        Record::Send { from, to, kind: k, size, msg, fate } => {
            let _ = write!(line, r#","from":{},"to":{},"kind":"{}","size":{size},"msg":{msg}"#, from.0, to.0, kind(k));
            match fate {
                Fate::Arrives(at) => write!(line, r#","fate":"arrives","arrive_ns":{}"#, at.0),
                Fate::Delayed { at, by } => {
                    write!(line, r#","fate":"delayed","arrive_ns":{},"delay_ns":{}"#, at.0, by.0)
                }
                Fate::Lost => write!(line, r#","fate":"lost""#),
                Fate::Dropped => write!(line, r#","fate":"dropped""#),
            }
        }
        Record::Deliver { to, from, kind: k, size, msg, content } => write!(
            line,
            r#","to":{},"from":{},"kind":"{}","size":{size},"msg":{msg},"content":"{content:016x}""#,
            to.0,
            from.0,
            kind(k)
        ),
        Record::Refused { to, from, kind: k, msg } => {
            write!(line, r#","to":{},"from":{},"kind":"{}","msg":{msg}"#, to.0, from.0, kind(k))
        }
        _ => Ok(()),
    }
}

/// A note's fields as JSON members, without braces or a leading comma (the event log and the
/// timeline write them).
pub fn note_members(line: &mut String, note: &Note) {
    let _ = match *note {
        Note::View { view } | Note::Timeout { view } => write!(line, r#""view":{view}"#),
        Note::Lock { view, block } => write!(line, r#""view":{view},"block":"{block:016x}""#),
        Note::Step { round, step } => write!(line, r#""round":{round},"step":{step}"#),
        Note::CatchUp { round } => write!(line, r#""round":{round}"#),
        Note::Path { instance, fast } => write!(line, r#""instance":{instance},"fast":{fast}"#),
        Note::ViewChange { instance, view } => write!(line, r#""instance":{instance},"view":{view}"#),
        Note::Recovery { instance } => write!(line, r#""instance":{instance}"#),
        Note::Byzantine { action, about } => write!(line, r#""action":{},"on":{about}"#, json_str(action)),
    };
}

/// A record as one line for people: `   1.234567890 s  #1234  replica 2  deliver vote from replica 1 (120 B, message 77)`.
pub fn describe(e: &Entry, about: &str, info: &RunInfo) -> String {
    let label = |n: sim_core::NodeId| info.node_label(n);
    let what = match e.record {
        Record::Send { from, to, kind, size, msg, fate } => {
            let fate = match fate {
                Fate::Arrives(at) => format!("arrives at {}", secs(at)),
                Fate::Delayed { at, by } => format!("held by the adversary {by}, arrives at {}", secs(at)),
                Fate::Lost => "lost".to_string(),
                Fate::Dropped => "dropped by the adversary".to_string(),
            };
            format!("{}  send {} to {} ({size} B, message {msg}): {fate}", label(from), info.kind_name(kind), label(to))
        }
        Record::Deliver { to, from, kind, size, msg, .. } => {
            format!("{}  deliver {} from {} ({size} B, message {msg})", label(to), info.kind_name(kind), label(from))
        }
        Record::Refused { to, from, kind, msg } => format!(
            "{}  refused {} from {} (message {msg}: crashed or downlink full)",
            label(to),
            info.kind_name(kind),
            label(from)
        ),
        Record::TimerSet { node, generation, at } => {
            format!("{}  timer set (#{generation}) for {}", label(node), secs(at))
        }
        Record::TimerFire { node, generation } => format!("{}  timer fired (#{generation})", label(node)),
        Record::Handler { node, cost, input } => {
            let ran = match input {
                HandlerInput::Message { kind, msg } => format!("{} (message {msg})", info.kind_name(kind)),
                HandlerInput::Request { msg } => format!("{} (message {msg})", info.kind_name(0)),
                HandlerInput::Timer { generation } => format!("timer #{generation}"),
            };
            format!("{}  handler ran {ran}, {cost} of CPU", label(node))
        }
        Record::Release { node, .. } => format!("{}  handler done, effects leave", label(node)),
        Record::Submit { client, tx } => format!("{}  submit tx {}", label(client), tx.0),
        Record::Resend { client, to, tx } => format!("{}  resend tx {} to {}", label(client), tx.0, label(to)),
        Record::Overload { node, client, tx, pushed_back } => {
            let what = if pushed_back { "pushed back" } else { "dropped" };
            format!("{}  request queue full: {what} tx {} of {}", label(node), tx.0, label(client))
        }
        Record::Confirm { client, tx } => format!("{}  confirmed tx {}", label(client), tx.0),
        Record::Commit { node, slot, entry, txs } => {
            format!("{}  COMMIT slot {slot} = entry {entry:016x} ({txs} txs)", label(node))
        }
        Record::CommitTx { node, tx } => format!("{}  COMMIT tx {}", label(node), tx.0),
        Record::Execute { node, tx } => format!("{}  execute tx {}", label(node), tx.0),
        Record::Fault { node, action } => match action {
            sim_core::FaultAction::Crash => format!("{}  CRASHES", label(node)),
            sim_core::FaultAction::Recover => format!("{}  recovers", label(node)),
        },
        Record::Partition { index, open } => {
            format!("network  partition {index} {}", if open { "OPENS" } else { "heals" })
        }
        Record::Note { node, note } => format!("{}  {}", label(node), note_text(&note)),
        Record::Violation { node, invariant } => format!("{}  VIOLATION of `{invariant}`", label(node)),
    };
    let about = if about.is_empty() { String::new() } else { format!(" [{about}]") };
    format!("{:>16}  #{:<8} {what}{about}", secs(e.at), e.seq)
}

/// A note in a few words: `lock view 3 block b55859e92f2df2f0`.
pub fn note_text(note: &Note) -> String {
    match *note {
        Note::View { view } => format!("enters view {view}"),
        Note::Timeout { view } => format!("TIMEOUT in view {view}"),
        Note::Lock { view, block } => format!("locks block {block:016x} (view {view})"),
        Note::Step { round, step } => format!("round {round} step {step}"),
        Note::CatchUp { round } => format!("asks catch-up to round {round}"),
        Note::Path { instance, fast } => {
            format!("command {instance} takes the {} path", if fast { "fast" } else { "slow" })
        }
        Note::ViewChange { instance, view } => format!("view change of command {instance} to view {view}"),
        Note::Recovery { instance } => format!("recovers {instance}"),
        Note::Byzantine { action, about } => format!("BYZANTINE {action} ({about})"),
    }
}

fn secs(t: Time) -> String {
    format!("{:.9} s", t.as_secs_f64())
}

/// The flight recorder's last `count` records before the stop (it keeps the telling ones:
/// `Record::is_telling`), as lines for the violation report.
pub fn flight_lines(report: &Report, count: usize) -> Vec<String> {
    let info = info_of(report);
    let mut lines: Vec<String> =
        report.result.recent.iter().rev().take(count).map(|e| describe(e, "", &info)).collect();
    lines.reverse();
    lines
}

/// What a watcher will be told of a run of `scenario`, known before it runs.
pub fn preview_info(scenario: &crate::model::Scenario) -> RunInfo {
    let n_nodes = scenario.replicas.n + scenario.clients.count;
    crate::run::run_info(scenario, n_nodes, scenario.protocol().kind_table())
}

/// What a watcher would have been told of this run.
pub fn info_of(report: &Report) -> RunInfo {
    crate::run::run_info(&report.scenario, report.result.nodes.len() as u32, report.result.kinds.clone())
}
