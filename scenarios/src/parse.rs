//! Reading a scenario: TOML text plus `--set` overrides become a validated `Scenario`, or the
//! list of every problem found, each located by line and column (or by the `--set` behind it).
//! Each field is declared once in `fields.rs` (name, type, default, bounds, doc): the known keys,
//! the bounds and the defaults read here come from there, as do the docs' tables and the schema.
//!
//! The text is parsed into a spanned tree, the overrides are grafted onto that tree, and a single
//! pass reads every field, recording a diagnostic and carrying on instead of stopping at the first
//! problem. Checks that involve several fields run only on values that passed their own checks, so
//! one mistake is reported once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

use crate::model::{
    Adversary, AdversaryAction, AdversaryMode, AdversaryRule, AdversaryTargets, Arrivals, Behavior, Byzantine, Checks,
    Clients, CostProfile, Cpu, Crash, Delay, Faults, Jitter, Limits, Network, Output, Pacing, Partition, ProtocolKind,
    Replicas, Scenario, SendPolicy, Who, Workload,
};
use crate::presets;
use crate::protocols::{self, ProtocolSection, Reading};

mod explore;
pub(crate) mod fields;
mod pacing;
mod workload;

use crate::reader::{
    Bounds, Ctx, Entry, Field, FieldTable, MAX_TIME_MS, Missing, NON_NEGATIVE, Node, Origin, Section, TIME_MS, TIME_S,
    Table, Val, Value, convert, convert_table, found, quoted_list, with_suggestion,
};
pub use crate::reader::{Diagnostic, Diagnostics};
pub use fields::{fill_docs, schema_json};

const MAX_RATE_TPS: f64 = 1e7;
/// timeseries.csv holds one row per window; more than this is a mistake, not a plot.
const MAX_WINDOWS: f64 = 1e6;
const MAX_CLIENTS: i128 = 100_000;
/// 0 is allowed: the HotStuff paper measures with empty payloads, and closed-form.toml mirrors it.
const MIN_TX_SIZE_BYTES: i128 = 0;
const MAX_TX_SIZE_BYTES: i128 = 1_048_576;
/// Region label used with a uniform delay when the file names none.
const ANY_REGION: &str = "any";
/// A matrix file may name at most this many regions: as many as replicas, and memory grows with
/// the square.
const MAX_MATRIX_REGIONS: usize = 1024;
/// At most this many problems of one matrix file are listed; the rest are counted.
const MAX_CSV_PROBLEMS: usize = 10;

/// Most parts a `--set` key may have.
const MAX_SET_DEPTH: usize = 8;

/// The three ways to give delays; exactly one may be used.
const DELAY_KEYS: [&str; 3] = ["matrix", "matrix_file", "uniform_delay_ms"];

const PROFILE_KEYS: [&str; 4] = ["sign_us", "verify_us", "aggregate_per_sig_us", "verify_aggregate_us"];
/// The costs a fitted profile (`byzsim calibrate --fit`) may add: they replace `[cpu]`'s.
const PROFILE_CPU_KEYS: [&str; 4] = ["base_us", "per_kib_us", "per_tx_us", "request_base_us"];
/// The flight recorder's largest size (64 bytes a record).
const MAX_FLIGHT_RECORDS: usize = 1_000_000;

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/// Read, override, validate. `overrides` are "key.path=value" strings from `--set` (value is
/// parsed as a TOML value; if that fails it is taken as a bare string, so
/// `--set network.matrix=gcp2019` works). `seed` overrides the `seed` field.
pub fn load(path: &Path, overrides: &[String], seed: Option<u64>) -> Result<Scenario, Diagnostics> {
    match read_scenario(path) {
        Ok(src) => load_str(path, &src, overrides, seed),
        Err(e) => Err(Diagnostics(vec![Diagnostic {
            file: e.file,
            line: e.line.map(|line| usize::try_from(line).unwrap_or(usize::MAX)),
            column: None,
            field: None,
            message: e.message,
            help: e.help,
            set: None,
        }])),
    }
}

/// The text of a scenario file, read as every input file is (`traces::read_text`: regular
/// files only, at most `InputKind::Scenario`'s cap, UTF-8).
pub fn read_scenario(path: &Path) -> Result<String, traces::InputError> {
    traces::read_text(path, traces::InputKind::Scenario)
}

/// Same from a string (path used only for messages and for resolving a relative matrix_file).
pub fn load_str(path: &Path, src: &str, overrides: &[String], seed: Option<u64>) -> Result<Scenario, Diagnostics> {
    let mut ctx = Ctx::new(path, src);
    let mut root = match DeTable::parse(src) {
        Ok(table) => convert_table(table.get_ref(), None),
        Err(e) => {
            ctx.syntax_error(&e);
            return Err(ctx.finish());
        }
    };
    for text in overrides {
        apply_override(&mut ctx, &mut root, text);
    }
    if let Some(seed) = seed {
        let node = Node { at: Origin::Implicit, value: Value::Int(Some(i128::from(seed))), raw: None };
        root.0.insert("seed".into(), Entry { key_at: Origin::Implicit, node });
    }
    let scenario = build(&mut ctx, &root, path);
    match scenario {
        Some(s) if ctx.diags.is_empty() => Ok(s),
        _ => {
            if ctx.diags.is_empty() {
                // Unreachable by construction (a value is only dropped after a report); kept so
                // that a gap in the checks still yields an error rather than a panic.
                ctx.report(&Origin::Implicit, None, "the scenario is invalid (no detail recorded)", None);
            }
            Err(ctx.finish())
        }
    }
}

/// The scenario as run: `src` with the overrides and the seed applied, as TOML text that loads
/// (from the same folder, without overrides) into the very scenario `load_str` gives. None when
/// the scenario is invalid or the text would not load back the same (then show the original
/// and the overrides instead).
///
/// `loaded` is the scenario those arguments already gave, if the caller has it: it saves a
/// load (which reads the files the scenario names again).
pub fn effective_toml(
    path: &Path,
    src: &str,
    overrides: &[String],
    seed: Option<u64>,
    loaded: Option<&Scenario>,
) -> Option<String> {
    let fresh;
    let scenario = match loaded {
        Some(s) => s,
        None => {
            fresh = load_str(path, src, overrides, seed).ok()?;
            &fresh
        }
    };
    let mut ctx = Ctx::new(path, src);
    let mut root = convert_table(DeTable::parse(src).ok()?.get_ref(), None);
    for text in overrides {
        apply_override(&mut ctx, &mut root, text);
    }
    let mut table = to_toml_table(&root)?;
    table.insert("seed".into(), toml::Value::Integer(i64::try_from(scenario.seed).ok()?));
    let text = toml::to_string(&table).ok()?;
    let back = load_str(path, &text, &[], None).ok()?;
    (back == *scenario).then_some(text)
}

fn to_toml_table(table: &Table) -> Option<toml::Table> {
    table.0.iter().map(|(k, e)| Some((k.clone(), to_toml(&e.node.value)?))).collect()
}

fn to_toml(value: &Value) -> Option<toml::Value> {
    Some(match value {
        Value::Str(s) => toml::Value::String(s.clone()),
        Value::Int(i) => toml::Value::Integer(i64::try_from((*i)?).ok()?),
        Value::Float(x) => toml::Value::Float(*x),
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Datetime => return None,
        Value::Array(items) => toml::Value::Array(items.iter().map(|n| to_toml(&n.value)).collect::<Option<_>>()?),
        Value::Table(t) => toml::Value::Table(to_toml_table(t)?),
    })
}

// ---------------------------------------------------------------------------------------------
// --set overrides
// ---------------------------------------------------------------------------------------------

/// Grafts one `key.path=value` onto the tree, creating missing tables on the way.
fn apply_override(ctx: &mut Ctx<'_>, root: &mut Table, text: &str) {
    let Some((key, raw)) = text.split_once('=') else {
        let help = "for example --set workload.rate_tps=5000".to_string();
        ctx.report(&Origin::Set(text.to_string()), None, format!("`--set {text}` is not KEY=VALUE"), Some(help));
        return;
    };
    let (key, raw) = (key.trim(), raw.trim());
    let at = Origin::Set(key.to_string());
    let path: Vec<&str> = key.split('.').map(str::trim).collect();
    if path.iter().any(|part| part.is_empty()) {
        ctx.report(&at, None, "the key has an empty part (keys are like `hotstuff.batch_size`)", None);
        return;
    }
    // No field is nested deeper than network.jitter.kind; refusing absurd depths also keeps the
    // tree shallow enough to drop without exhausting the stack.
    if path.len() > MAX_SET_DEPTH {
        ctx.report(&at, None, format!("the key has {} parts; no field is nested that deeply", path.len()), None);
        return;
    }
    let mut node = match DeValue::parse(raw) {
        Ok(value) => convert(&value, Some(key)),
        Err(_) => Node { at: at.clone(), value: Value::Str(raw.to_string()), raw: None },
    };
    node.raw = Some(raw.to_string());
    replace_file_load(root, &path, &node.value);
    let Some((last, parents)) = path.split_last() else { return };
    let mut table = root;
    for (depth, part) in parents.iter().enumerate() {
        let walked = path[..=depth].join(".");
        let fresh = || Entry {
            key_at: at.clone(),
            node: Node { at: at.clone(), value: Value::Table(Table::default()), raw: None },
        };
        match &mut table.0.entry(part.to_string()).or_insert_with(fresh).node.value {
            Value::Table(inner) => table = inner,
            Value::Array(_) => {
                let message = format!("`{walked}` is a list: --set cannot address one of its entries");
                let help = format!("replace the whole list instead, e.g. --set '{walked}=[{{ ... }}, {{ ... }}]'");
                ctx.report(&at, None, message, Some(help));
                return;
            }
            other => {
                let message =
                    format!("`{walked}` is {}, not a table, so it has no field `{}`", found(other), path[depth + 1]);
                ctx.report(&at, None, message, None);
                return;
            }
        }
    }
    if parents == ["network"] && DELAY_KEYS.contains(last) {
        // Choosing the delay source on the command line replaces the file's choice rather than
        // clashing with it.
        table.0.retain(|k, e| !(DELAY_KEYS.contains(&k.as_str()) && matches!(e.node.at, Origin::File(_))));
    }
    table.0.insert(last.to_string(), Entry { key_at: at, node });
}

/// `--set clients.loop=...` chooses how the clients offer load, so it replaces the file's own
/// choice rather than clashing with it: a closed loop drops the file's `workload.rate_tps`, an
/// open one the file's `clients.outstanding` and `clients.think_ms`. What another `--set` gave
/// stays, so a contradiction on the command line is still refused.
fn replace_file_load(root: &mut Table, path: &[&str], value: &Value) {
    let Value::Str(choice) = value else { return };
    let (section, keys): (&str, &[&str]) = match (path, choice.as_str()) {
        (["clients", "loop"], "closed") => ("workload", &["rate_tps"]),
        (["clients", "loop"], "open") => ("clients", &["outstanding", "think_ms"]),
        _ => return,
    };
    if let Some(Entry { node: Node { value: Value::Table(table), .. }, .. }) = root.0.get_mut(section) {
        table.0.retain(|k, e| !(keys.contains(&k.as_str()) && matches!(e.node.at, Origin::File(_))));
    }
}

/// Known keys from the declarations (`fields.rs`), child tables included.
impl Ctx<'_> {
    /// Reports every key of the section that its table does not declare.
    fn table_keys(&mut self, sec: &Section<'_>, table: &FieldTable) {
        self.known_keys(sec, &fields::known_keys(table));
    }
}

// ---------------------------------------------------------------------------------------------
// The scenario, section by section
// ---------------------------------------------------------------------------------------------

fn build(c: &mut Ctx<'_>, root: &Table, path: &Path) -> Option<Scenario> {
    use fields::top as F;
    let top = Section::root(root);
    c.table_keys(&top, &F::TABLE);
    let stem = path.file_stem().map_or_else(|| "scenario".to_string(), |s| s.to_string_lossy().into_owned());
    let name = c.string(&top, F::name.key, Missing::Default(&stem));
    let name = name.filter(|name| check_name(c, name));
    let description = c.text(&top, &F::description);
    let seed = c.whole::<u64>(&top, &F::seed);
    let protocol = c.pick(&top, &F::protocol, ProtocolKind::ALL);
    let duration = c.num(&top, &F::duration_s);
    let warmup = c.num(&top, &F::warmup_s);
    let warmup = warmup.filter(|w| check_warmup(c, w, duration.as_ref()));
    let drain = c.num(&top, &F::drain_s);
    let end_s = duration.as_ref().zip(drain.as_ref()).map(|(d, r)| d.v + r.v);

    let base_dir = path.parent().unwrap_or(Path::new(""));
    let (network, delay) = read_network(c, &top, base_dir, end_s);
    let delay = delay.as_ref();
    let kind = protocol.as_ref().map(|p| p.v);
    let (replicas, n) = read_replicas(c, &top, delay, kind);
    let clients = read_clients(c, &top, delay, replicas.as_ref().map(|r| &r.regions), kind);
    let (faults, crashed) = read_faults(c, &top, n, end_s);
    let (byzantine, byzantine_at) = read_byzantine(c, &top, n, end_s, &crashed, kind);
    let checks = read_checks(c, &top);
    let adversary = read_adversary(c, &top, kind, n, duration.as_ref().map(|d| d.v), end_s);
    let limits = read_limits(c, &top);
    let max_transactions = limits.as_ref().map(|l| l.max_transactions);
    let closed = clients.as_ref().is_some_and(|c| matches!(c.pacing, Pacing::Closed { .. }));
    let workload = read_workload(c, &top, base_dir, duration.as_ref().map(|d| d.v), max_transactions, closed);
    let n_f = replicas.as_ref().map(|r| (r.n, r.f));
    let tx_size_bytes = workload.as_ref().map(|w| w.tx_size_bytes);
    let send_to_all = clients.as_ref().map(|c| c.send_to == SendPolicy::All);
    let reading =
        Reading { runs: false, n, n_f, duration_s: duration.as_ref().map(|d| d.v), tx_size_bytes, send_to_all };
    let section = ProtocolSection::read(c, &top, kind, reading);
    let genesis_balance = protocols::read_genesis_balance(c, &top);
    let cpu = read_cpu(c, &top, base_dir);
    let output = read_output(c, &top, end_s);
    let explore = explore::read_explore(c, &top, kind, n_f, duration.as_ref().map(|d| d.v), end_s);
    let scenario = Scenario {
        name: name?.v,
        description: description?.v,
        seed: seed?.v,
        duration_s: duration?.v,
        warmup_s: warmup?.v,
        drain_s: drain?.v,
        replicas: replicas?,
        clients: clients?,
        network: network?,
        faults: faults?,
        byzantine: byzantine?,
        checks: checks?,
        adversary: adversary?,
        workload: workload?,
        section: section?,
        genesis_balance: genesis_balance?.v,
        cpu: cpu?,
        limits: limits?,
        output: output?,
        explore: explore?,
        inputs: c.inputs.clone(),
    };
    check_seed(c, &scenario, &byzantine_at);
    check_twins(c, &scenario, &byzantine_at);
    Some(scenario)
}

/// The name becomes part of the results folder's name, so it must be a plain file name.
fn check_name(c: &mut Ctx<'_>, name: &Val<String>) -> bool {
    let v = &name.v;
    let plain = !v.is_empty() && !v.starts_with('.') && !v.chars().any(|ch| ch == '/' || ch == '\\' || ch.is_control());
    if !plain {
        let help = "the name is used for the results folder, results/<name>-seed<seed>".to_string();
        c.fail(
            name,
            format!("\"{v}\" is not usable as a folder name (empty, leading '.', '/', '\\' or control characters)"),
            Some(help),
        );
    }
    plain
}

fn check_warmup(c: &mut Ctx<'_>, warmup: &Val<f64>, duration: Option<&Val<f64>>) -> bool {
    let Some(duration) = duration else { return true };
    let ok = warmup.v < duration.v;
    if !ok {
        let message = format!("must be in [0, duration_s) = [0, {}), found {}", duration.v, warmup.v);
        c.fail(warmup, message, Some("the measurement window is [warmup_s, duration_s)".to_string()));
    }
    ok
}

/// The replicas, and their number alone when it is valid but something else in [replicas] is
/// not: the fault checks still need it.
/// The protocol says how many nodes it takes and whether `f` counts its faults: if not, `f` is
/// read (a file shared with `compare` may give it) but not checked, and becomes 0.
fn read_replicas(
    c: &mut Ctx<'_>,
    top: &Section<'_>,
    delay: Option<&Delay>,
    protocol: Option<ProtocolKind>,
) -> (Option<Replicas>, Option<u32>) {
    use fields::replicas as F;
    let sec = c.section(top, "replicas");
    c.table_keys(&sec, &F::TABLE);
    // With the protocol itself invalid (reported), the largest cap: n is not blamed for it.
    let max_n = protocol.map_or(ProtocolKind::MAX_NODES, ProtocolKind::max_nodes);
    let n = c.int::<u32>(&sec, F::n.key, Missing::Required("4"), (1, max_n));
    let counts_f = protocol.is_none_or(ProtocolKind::counts_f);
    let default_f = n.as_ref().map_or(0, |n| if counts_f { (n.v - 1) / 3 } else { 0 });
    let f = c.whole_or::<u32>(&sec, &F::f, default_f);
    let f = match f {
        Some(f) if !counts_f => Some(Val { v: 0, ..f }),
        f => f.filter(|f| n.as_ref().is_none_or(|n| check_quorum(c, n, f))),
    };
    let default_regions = delay.and_then(default_regions);
    let regions = read_regions(c, &sec, delay, default_regions);
    let uplink = c.num(&sec, &F::uplink_mbps);
    let downlink = c.num(&sec, &F::downlink_mbps);
    let count = n.as_ref().map(|n| n.v);
    let replicas = (|| {
        Some(Replicas { n: n?.v, f: f?.v, regions: regions?, uplink_mbps: uplink?.v, downlink_mbps: downlink?.v })
    })();
    (replicas, count)
}

/// Byzantine quorums need n >= 3f + 1.
fn check_quorum(c: &mut Ctx<'_>, n: &Val<u32>, f: &Val<u32>) -> bool {
    let ok = u64::from(n.v) > 3 * u64::from(f.v);
    if !ok {
        let max_f = (n.v - 1) / 3;
        let message = format!("n = {} tolerates at most f = {max_f} (needs n >= 3f+1)", n.v);
        let needed_n = 3 * u64::from(f.v) + 1;
        let help = format!("set replicas.f = {max_f} or raise replicas.n to {needed_n}");
        // Blame f when the file states it; a defaulted f always fits, so this is rare otherwise.
        let blamed = if f.at == Origin::Implicit { &n.at } else { &f.at };
        let field = if f.at == Origin::Implicit { &n.field } else { &f.field };
        c.report(blamed, Some(field), message, Some(help));
    }
    ok
}

/// All replicas in the matrix's first region, or one free label with a uniform delay.
fn default_regions(delay: &Delay) -> Option<Vec<String>> {
    match delay {
        Delay::Uniform { .. } => Some(vec![ANY_REGION.to_string()]),
        Delay::Matrix { regions, .. } => regions.first().map(|r| vec![r.clone()]),
    }
}

/// A `regions` list: each name must be a region of the matrix (any label with a uniform delay).
/// Checked against the matrix only when the delay itself is valid.
fn read_regions(
    c: &mut Ctx<'_>,
    sec: &Section<'_>,
    delay: Option<&Delay>,
    default: Option<Vec<String>>,
) -> Option<Vec<String>> {
    let field = sec.field("regions");
    let Some(node) = sec.get("regions") else { return default };
    let Value::Array(items) = &node.value else {
        let message = format!("expected a list of region names, found {}", found(&node.value));
        return c.bad(
            node,
            &field,
            message,
            Some("write it as regions = [\"us-east1\", \"europe-west1\"]".to_string()),
        );
    };
    if items.is_empty() {
        return c.bad(node, &field, "must name at least one region", None);
    }
    let mut names = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_field = format!("{field}[{i}]");
        let Some(name) = c.node_str(item, &item_field, "a region name (a string)") else { continue };
        if let Some(Delay::Matrix { source, regions, .. }) = delay
            && !regions.iter().any(|r| r == name)
        {
            unknown_region(c, item, &item_field, name, source, regions);
            continue;
        }
        names.push(name.to_string());
    }
    (names.len() == items.len()).then_some(names)
}

fn unknown_region(c: &mut Ctx<'_>, node: &Node, field: &str, name: &str, source: &str, regions: &[String]) {
    let known: Vec<&str> = regions.iter().map(String::as_str).collect();
    let message = with_suggestion(format!("region \"{name}\" is not in the matrix {source}"), name, &known);
    c.report(&node.at, Some(field), message, Some(format!("the regions of {source} are: {}", known.join(", "))));
}

fn read_clients(
    c: &mut Ctx<'_>,
    top: &Section<'_>,
    delay: Option<&Delay>,
    replica_regions: Option<&Vec<String>>,
    protocol: Option<ProtocolKind>,
) -> Option<Clients> {
    use fields::clients as F;
    let sec = c.section(top, "clients");
    c.table_keys(&sec, &F::TABLE);
    let count = c.whole::<u32>(&sec, &F::count);
    let regions = read_regions(c, &sec, delay, replica_regions.cloned());
    let send_to = c.pick(&sec, &F::send_to, fields::SEND_POLICIES);
    let send_to = send_to.filter(|s| {
        let refused = protocol.and_then(ProtocolKind::no_send_to_all).filter(|_| s.v == SendPolicy::All);
        if let Some((message, help)) = refused {
            c.fail(s, message, Some(help.to_string()));
        }
        refused.is_none()
    });
    let retry = c.opt_num(&sec, &F::retry_ms);
    let uplink = c.num(&sec, &F::uplink_mbps);
    let downlink = c.num(&sec, &F::downlink_mbps);
    let pacing = pacing::read_pacing(c, &sec);
    let queue = pacing::read_queue(c, &sec, pacing);
    Some(Clients {
        count: count?.v,
        regions: regions?,
        send_to: send_to?.v,
        retry_ms: retry?.map(|r| r.v),
        uplink_mbps: uplink?.v,
        downlink_mbps: downlink?.v,
        pacing: pacing?,
        queue: queue?,
    })
}

/// The network, and its delay alone when that is valid but something else in [network] is not:
/// the region checks still need it.
fn read_network(
    c: &mut Ctx<'_>,
    top: &Section<'_>,
    base_dir: &Path,
    end_s: Option<f64>,
) -> (Option<Network>, Option<Delay>) {
    use fields::network as F;
    let sec = c.section(top, "network");
    c.table_keys(&sec, &F::TABLE);
    let delay = read_delay(c, &sec, base_dir);
    let jitter = read_jitter(c, &sec);
    let loss = c.num(&sec, &F::loss);
    let fifo = c.flag(&sec, &F::fifo);
    let spikes = explore::read_spikes(c, &sec, end_s);
    let network =
        (|| Some(Network { delay: delay.clone()?, jitter: jitter?, loss: loss?.v, fifo: fifo?.v, spikes: spikes? }))();
    (network, delay)
}

/// The one delay source of [network]: a preset, a CSV file or a uniform delay.
fn read_delay(c: &mut Ctx<'_>, sec: &Section<'_>, base_dir: &Path) -> Option<Delay> {
    let given: Vec<&str> = DELAY_KEYS.into_iter().filter(|key| sec.get(key).is_some()).collect();
    if let [first, rest @ ..] = given.as_slice()
        && !rest.is_empty()
    {
        for extra in rest {
            if let Some(node) = sec.get(extra) {
                let message =
                    format!("only one of matrix, matrix_file and uniform_delay_ms may be given; `{first}` is too");
                c.report(&node.at, Some(&sec.field(extra)), message, Some("remove one of them".to_string()));
            }
        }
        return None;
    }
    match given.first().copied() {
        Some("matrix") => read_preset(c, sec),
        Some("matrix_file") => read_matrix_file(c, sec, base_dir),
        _ => {
            let delay = c.num(sec, &fields::network::uniform_delay_ms);
            delay.map(|d| Delay::Uniform { one_way_ms: d.v })
        }
    }
}

fn read_preset(c: &mut Ctx<'_>, sec: &Section<'_>) -> Option<Delay> {
    let name = c.string(sec, "matrix", Missing::Required("\"gcp2019\""))?;
    if let Some((regions, one_way_ms)) = presets::get(&name.v) {
        return Some(Delay::Matrix { source: name.v, regions, one_way_ms });
    }
    let message = with_suggestion(format!("unknown preset \"{}\"", name.v), &name.v, presets::names());
    let help =
        format!("the presets are {}; or give your own with matrix_file = \"path.csv\"", presets::names().join(", "));
    c.fail(&name, message, Some(help));
    None
}

/// The text of the input file `path` named by the field `named`, or None after reporting why
/// it cannot be read (with where a relative path was looked for, when that may be the reason).
fn read_input(
    c: &mut Ctx<'_>,
    named: &Val<String>,
    path: &Path,
    kind: traces::InputKind,
    base_dir: &Path,
) -> Option<String> {
    match traces::read_text(path, kind) {
        Ok(text) => {
            c.inputs.push(path.to_path_buf());
            Some(text)
        }
        Err(e) => {
            let help = e.help.unwrap_or_else(|| relative_path_help(&named.at, base_dir));
            c.fail(named, format!("{}: {}", e.file, e.message), Some(help));
            None
        }
    }
}

/// Where a relative path named in the scenario is looked for: the scenario's directory for a
/// path from the file, the current directory for one from `--set`.
fn relative_path_help(at: &Origin, base_dir: &Path) -> String {
    match at {
        Origin::File(_) if base_dir.as_os_str().is_empty() => {
            "a relative path is relative to the scenario's directory, here the current directory".to_string()
        }
        Origin::File(_) => {
            format!("a relative path is relative to the scenario's directory, here `{}`", base_dir.display())
        }
        _ => "a path given with --set is relative to the current directory".to_string(),
    }
}

/// A matrix of round-trip times from a CSV file. A path from the file is relative to the
/// scenario's directory; one from `--set` to the current directory, as a shell user expects.
fn read_matrix_file(c: &mut Ctx<'_>, sec: &Section<'_>, base_dir: &Path) -> Option<Delay> {
    let name = c.string(sec, "matrix_file", Missing::Required("\"matrix.csv\""))?;
    let path = match name.at {
        Origin::File(_) => base_dir.join(&name.v),
        _ => PathBuf::from(&name.v),
    };
    let text = read_input(c, &name, &path, traces::InputKind::Matrix, base_dir)?;
    match parse_matrix_csv(&text) {
        Ok((regions, rtt_ms)) => {
            let one_way_ms = rtt_ms.iter().map(|row| row.iter().map(|rtt| rtt / 2.0).collect()).collect();
            Some(Delay::Matrix { source: name.v, regions, one_way_ms })
        }
        Err(problems) => {
            report_csv_problems(c, &name, &path, &problems);
            None
        }
    }
}

fn report_csv_problems(c: &mut Ctx<'_>, name: &Val<String>, path: &Path, problems: &CsvProblems) {
    let mut help = Some(
        "a matrix file has a header `from_region,<region>,...` then one row per region, in the \
         header's order, of round-trip times in ms (see docs/scenarios.md)"
            .to_string(),
    );
    for problem in &problems.kept {
        let place = match problem.line {
            Some(line) => format!("{}, line {line}", path.display()),
            None => path.display().to_string(),
        };
        // The format reminder once, not under every line of a badly wrong file.
        c.fail(name, format!("{place}: {}", problem.message), help.take());
    }
    if problems.total > problems.kept.len() {
        let more = problems.total - problems.kept.len();
        c.fail(name, format!("{}: {more} more problem(s) not shown", path.display()), None);
    }
}

/// One problem of a matrix CSV file, by line (1-based).
#[derive(Debug)]
struct CsvProblem {
    line: Option<u64>,
    message: String,
}

/// The problems of a matrix file: the first `MAX_CSV_PROBLEMS`, and how many in all, so that a
/// file wrong in every cell costs no memory per cell.
#[derive(Debug, Default)]
struct CsvProblems {
    kept: Vec<CsvProblem>,
    total: usize,
}

impl CsvProblems {
    fn push(&mut self, line: Option<u64>, message: String) {
        if self.kept.len() < MAX_CSV_PROBLEMS {
            self.kept.push(CsvProblem { line, message });
        }
        self.total += 1;
    }
}

/// Region names and the matrix between them (`values[from][to]`).
type NamedMatrix = (Vec<String>, Vec<Vec<f64>>);

/// Regions and round-trip times from the CSV text, or the problems found in it (the first
/// `MAX_CSV_PROBLEMS`, then one counting the rest). A header naming more than
/// `MAX_MATRIX_REGIONS` regions is refused before any row is read.
fn parse_matrix_csv(text: &str) -> Result<NamedMatrix, CsvProblems> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let mut problems = CsvProblems::default();
    let mut regions: Option<Vec<String>> = None;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    // Rows past the last region: counted, not read.
    let mut extra_rows = 0usize;
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                problems.push(e.position().map(|p| line_at(text, p)), e.to_string());
                continue;
            }
        };
        let line = record.position().map(|p| line_at(text, p));
        match &regions {
            None => {
                let names = matrix_header(&record, line, &mut problems);
                if names.len() > MAX_MATRIX_REGIONS {
                    return Err(problems);
                }
                regions = Some(names);
            }
            Some(names) if rows.len() == names.len() => {
                if extra_rows == 0 {
                    let name = record.get(0).unwrap_or("");
                    let message = format!("row \"{name}\" is one too many: the header has {} regions", names.len());
                    problems.push(line, message);
                }
                extra_rows += 1;
            }
            Some(names) => rows.push(matrix_row(&record, line, names, rows.len(), &mut problems)),
        }
    }
    let Some(regions) = regions else {
        let message = "the file is empty; expected a header `from_region,<region>,...`".to_string();
        problems.push(None, message);
        return Err(problems);
    };
    if extra_rows > 1 {
        let message =
            format!("{} rows for {} regions: one row per region of the header", rows.len() + extra_rows, regions.len());
        problems.push(None, message);
    }
    if rows.len() < regions.len() {
        let message = format!(
            "{} rows for {} regions: the matrix must be square, one row per region of the header",
            rows.len(),
            regions.len()
        );
        problems.push(None, message);
    }
    if problems.total == 0 { Ok((regions, rows)) } else { Err(problems) }
}

/// The 1-based line of the record at `position`. The csv crate's own line count lags by one
/// after a CRLF (it places a record before the `\n` that ends the previous line): the line
/// ends at the record's start are stepped over. Scans only those, so parsing stays linear.
fn line_at(text: &str, position: &csv::Position) -> u64 {
    let offset = usize::try_from(position.byte()).unwrap_or(usize::MAX).min(text.len());
    let rest = &text.as_bytes()[offset..];
    let skipped = rest.iter().take_while(|b| matches!(b, b'\r' | b'\n'));
    position.line() + skipped.filter(|&&b| b == b'\n').count() as u64
}

fn matrix_header(record: &csv::StringRecord, line: Option<u64>, problems: &mut CsvProblems) -> Vec<String> {
    let names: Vec<String> = record.iter().skip(1).map(str::to_string).collect();
    let mut problem = |message: String| problems.push(line, message);
    if names.is_empty() {
        problem("the header names no region; expected `from_region,<region>,...`".to_string());
    }
    if names.len() > MAX_MATRIX_REGIONS {
        // Refused before the rows are read: the caller stops here.
        problem(format!("the header names {} regions; at most {MAX_MATRIX_REGIONS} are allowed", names.len()));
        return names;
    }
    let mut seen = BTreeSet::new();
    for (i, name) in names.iter().enumerate() {
        if name.is_empty() {
            problem(format!("column {} of the header has no region name", i + 2));
        } else if !seen.insert(name) {
            problem(format!("region \"{name}\" appears twice in the header"));
        }
    }
    names
}

fn matrix_row(
    record: &csv::StringRecord,
    line: Option<u64>,
    names: &[String],
    index: usize,
    problems: &mut CsvProblems,
) -> Vec<f64> {
    let mut problem = |message: String| problems.push(line, message);
    let name = record.get(0).unwrap_or("");
    match names.get(index) {
        None => problem(format!("row \"{name}\" is one too many: the header has {} regions", names.len())),
        Some(expected) if expected != name => {
            let why = if names.iter().any(|n| n == name) { "is out of order" } else { "is not a region of the header" };
            problem(format!(
                "row \"{name}\" {why}: row {} must be \"{expected}\" (rows follow the header's column order)",
                index + 1
            ));
        }
        Some(_) => {}
    }
    let values = record.len().saturating_sub(1);
    if values != names.len() {
        problem(format!("row \"{name}\" has {values} values; expected {}, one per region of the header", names.len()));
    }
    let cells = record.iter().skip(1).zip(names);
    cells
        .map(|(cell, column)| match cell.parse::<f64>() {
            Ok(rtt) if rtt.is_finite() && rtt >= 0.0 => rtt,
            Ok(_) => {
                problem(format!("value {cell} (column \"{column}\") must be a round-trip time in ms, >= 0"));
                f64::NAN
            }
            Err(_) => {
                problem(format!("value \"{cell}\" (column \"{column}\") is not a number"));
                f64::NAN
            }
        })
        .collect()
}

#[derive(Clone, Copy, Debug)]
enum JitterKind {
    None,
    Uniform,
    Normal,
    LogNormal,
    Pareto,
}

/// `jitter = { kind = "...", params }`, or the string "none".
fn read_jitter(c: &mut Ctx<'_>, net: &Section<'_>) -> Option<Jitter> {
    let field = net.field("jitter");
    let Some(node) = net.get("jitter") else { return Some(Jitter::None) };
    match &node.value {
        Value::Str(s) if s == "none" => return Some(Jitter::None),
        Value::Table(_) => {}
        other => {
            let message = format!("expected a table, found {}", found(other));
            let help = "write it as jitter = { kind = \"uniform\", max_ms = 2 }".to_string();
            return c.bad(node, &field, message, Some(help));
        }
    }
    let sec = c.section(net, "jitter");
    let kinds = [
        ("none", JitterKind::None),
        ("uniform", JitterKind::Uniform),
        ("normal", JitterKind::Normal),
        ("lognormal", JitterKind::LogNormal),
        ("pareto", JitterKind::Pareto),
    ];
    let kind = c.choice(&sec, "kind", Missing::Required("\"uniform\""), &kinds)?;
    let mut param = |key: &str, bounds: Bounds| c.float(&sec, key, Missing::Required("1.0"), bounds).map(|p| p.v);
    let (params, jitter): (&[&str], _) = match kind.v {
        JitterKind::None => (&[], Some(Jitter::None)),
        JitterKind::Uniform => (&["max_ms"], param("max_ms", TIME_MS).map(|max_ms| Jitter::Uniform { max_ms })),
        JitterKind::Normal => {
            let (mean, sd) = (param("mean_ms", TIME_MS), param("sd_ms", TIME_MS));
            let jitter = mean.zip(sd).map(|(mean_ms, sd_ms)| Jitter::Normal { mean_ms, sd_ms });
            (&["mean_ms", "sd_ms"], jitter)
        }
        JitterKind::LogNormal => {
            let (median, sigma) = (param("median_ms", TIME_MS), param("sigma", NON_NEGATIVE));
            let jitter = median.zip(sigma).map(|(median_ms, sigma)| Jitter::LogNormal { median_ms, sigma });
            (&["median_ms", "sigma"], jitter)
        }
        JitterKind::Pareto => {
            let (scale, shape) = (param("scale_ms", TIME_MS), param("shape", Bounds::above(0.0)));
            let jitter = scale.zip(shape).map(|(scale_ms, shape)| Jitter::Pareto { scale_ms, shape });
            (&["scale_ms", "shape"], jitter)
        }
    };
    let known: Vec<&str> = std::iter::once("kind").chain(params.iter().copied()).collect();
    c.known_keys(&sec, &known);
    jitter
}

/// The faults, and the replicas of `[[faults.crashes]]` whose id is valid (even when the rest of
/// the entry is not): the `[[byzantine]]` checks need them.
fn read_faults(
    c: &mut Ctx<'_>,
    top: &Section<'_>,
    n: Option<u32>,
    end_s: Option<f64>,
) -> (Option<Faults>, Vec<Val<u32>>) {
    let sec = c.section(top, "faults");
    c.table_keys(&sec, &fields::faults::TABLE);
    let (entries, partitions_ok) = c.table_list(&sec, "partitions");
    let partitions: Vec<_> = entries.iter().map(|entry| read_partition(c, entry, n, end_s)).collect();
    let (entries, crashes_ok) = c.table_list(&sec, "crashes");
    let replicas: Vec<_> = entries.iter().map(|entry| read_replica_field(c, entry, "replica", n)).collect();
    let crashes: Vec<_> =
        entries.iter().zip(&replicas).map(|(entry, replica)| read_crash(c, entry, replica.as_ref(), end_s)).collect();
    let crashes = crashes.into_iter().collect::<Option<Vec<_>>>().filter(|all| check_crash_overlaps(c, all));
    let faults = (|| {
        (partitions_ok && crashes_ok).then_some(())?;
        Some(Faults {
            partitions: partitions.into_iter().collect::<Option<_>>()?,
            crashes: crashes?.into_iter().map(|crash| crash.v).collect(),
        })
    })();
    (faults, replicas.into_iter().flatten().collect())
}

/// Reports a fault time at or after the end of the run.
fn check_within_run(c: &mut Ctx<'_>, time: &Val<f64>, end_s: Option<f64>) -> bool {
    let Some(end_s) = end_s else { return true };
    let ok = time.v < end_s;
    if !ok {
        let message = format!("{} s is not within the run, which ends at {end_s} s (duration_s + drain_s)", time.v);
        c.fail(time, message, None);
    }
    ok
}

fn read_partition(c: &mut Ctx<'_>, sec: &Section<'_>, n: Option<u32>, end_s: Option<f64>) -> Option<Partition> {
    use fields::partitions as F;
    c.table_keys(sec, &F::TABLE);
    let groups = read_groups(c, sec, n);
    let start = c.num(sec, &F::start_s);
    let start = start.filter(|s| check_within_run(c, s, end_s));
    let heal = c.num(sec, &F::heal_s);
    let heal = heal.filter(|h| {
        let Some(start) = &start else { return true };
        let ok = h.v > start.v;
        if !ok {
            c.fail(h, format!("must be after start_s ({} s), found {}", start.v, h.v), None);
        }
        ok
    });
    Some(Partition { groups: groups?, start_s: start?.v, heal_s: heal?.v })
}

/// `groups = [[0, 1], [2, 3]]`: replica ids below n, each in at most one group.
fn read_groups(c: &mut Ctx<'_>, sec: &Section<'_>, n: Option<u32>) -> Option<Vec<Vec<u32>>> {
    let field = sec.field("groups");
    let Some(node) = sec.get("groups") else {
        c.missing(sec, "groups", "[[0, 1], [2, 3]]");
        return None;
    };
    let expected = "a list of groups of replica ids, like [[0, 1], [2, 3]]";
    let Value::Array(groups) = &node.value else {
        return c.bad(node, &field, format!("expected {expected}, found {}", found(&node.value)), None);
    };
    if groups.is_empty() {
        return c.bad(node, &field, "must list at least one group", None);
    }
    if groups.len() > 63 {
        return c.bad(node, &field, format!("at most 63 groups, found {}", groups.len()), None);
    }
    let mut group_of = BTreeMap::new();
    let groups: Vec<Option<Vec<u32>>> = (groups.iter().enumerate())
        .map(|(g, group)| read_group(c, group, &format!("{field}[{g}]"), g, n, &mut group_of))
        .collect();
    groups.into_iter().collect()
}

/// One group of a partition: distinct replica ids. Groups may overlap: a replica in two groups
/// bridges them (`group_of`: id to the groups it is in, to catch ids listed twice in one group).
fn read_group(
    c: &mut Ctx<'_>,
    node: &Node,
    field: &str,
    index: usize,
    n: Option<u32>,
    group_of: &mut BTreeMap<(u32, usize), ()>,
) -> Option<Vec<u32>> {
    let members = match &node.value {
        Value::Array(members) if !members.is_empty() => members,
        Value::Array(_) => return c.bad(node, field, "a group must list at least one replica", None),
        other => {
            let message = format!("expected a list of replica ids, like [0, 1], found {}", found(other));
            return c.bad(node, field, message, None);
        }
    };
    let ids: Vec<Option<u32>> = (members.iter().enumerate())
        .map(|(i, member)| {
            let member_field = format!("{field}[{i}]");
            let id = read_replica_id(c, member, &member_field, n)?;
            match group_of.insert((id, index), ()) {
                None => Some(id),
                Some(()) => c.bad(member, &member_field, format!("replica {id} is listed twice"), None),
            }
        })
        .collect();
    ids.into_iter().collect()
}

/// A replica id: an integer below n (when n is known).
fn read_replica_id(c: &mut Ctx<'_>, node: &Node, field: &str, n: Option<u32>) -> Option<u32> {
    let id = c.node_int(node, field, (0, i128::from(u32::MAX)))?;
    let id = u32::try_from(id).ok()?;
    match n {
        Some(n) if id >= n => {
            let message = format!("replica {id} does not exist: replicas.n = {n}, so ids go from 0 to {}", n - 1);
            c.bad(node, field, message, None)
        }
        _ => Some(id),
    }
}

/// A field holding one replica id (required).
fn read_replica_field(c: &mut Ctx<'_>, sec: &Section<'_>, key: &str, n: Option<u32>) -> Option<Val<u32>> {
    let field = sec.field(key);
    let Some(node) = sec.get(key) else {
        c.missing(sec, key, "0");
        return None;
    };
    let v = read_replica_id(c, node, &field, n)?;
    Some(Val { v, at: node.at.clone(), field })
}

/// One `[[faults.crashes]]` entry; its `replica` (None if invalid) is read by the caller.
fn read_crash(
    c: &mut Ctx<'_>,
    sec: &Section<'_>,
    replica: Option<&Val<u32>>,
    end_s: Option<f64>,
) -> Option<Val<Crash>> {
    use fields::crashes as F;
    c.table_keys(sec, &F::TABLE);
    let at = c.num(sec, &F::at_s);
    let at = at.filter(|at| check_within_run(c, at, end_s));
    let recover = c.opt_num(sec, &F::recover_s);
    let recover = recover.filter(|recover| check_recovery(c, recover.as_ref(), at.as_ref()));
    let at = at?;
    let crash = Crash { replica: replica?.v, at_s: at.v, recover_s: recover?.map(|r| r.v) };
    Some(Val { v: crash, at: at.at, field: at.field })
}

/// A recovery comes after its crash.
fn check_recovery(c: &mut Ctx<'_>, recover: Option<&Val<f64>>, at: Option<&Val<f64>>) -> bool {
    let (Some(r), Some(at)) = (recover, at) else { return true };
    let ok = r.v > at.v;
    if !ok {
        c.fail(r, format!("must be after at_s ({} s), found {}", at.v, r.v), None);
    }
    ok
}

/// A replica that is down cannot crash again before it recovers.
fn check_crash_overlaps(c: &mut Ctx<'_>, crashes: &[Val<Crash>]) -> bool {
    let mut by_time: Vec<&Val<Crash>> = crashes.iter().collect();
    by_time.sort_by(|a, b| a.v.at_s.total_cmp(&b.v.at_s));
    let mut ok = true;
    for (i, later) in by_time.iter().enumerate() {
        let earlier = by_time[..i].iter().rev().find(|e| e.v.replica == later.v.replica);
        let Some(earlier) = earlier else { continue };
        if earlier.v.recover_s.is_none_or(|r| r > later.v.at_s) {
            let until = earlier.v.recover_s.map_or("never recovers".to_string(), |r| format!("recovers at {r} s"));
            let message = format!(
                "replica {} is still down at {} s: it crashed at {} s ({}) and {until}",
                later.v.replica,
                later.v.at_s,
                earlier.v.at_s,
                earlier.field.trim_end_matches(".at_s")
            );
            c.fail(later, message, None);
            ok = false;
        }
    }
    ok
}

// ---------------------------------------------------------------------------------------------
// Byzantine replicas and checks
// ---------------------------------------------------------------------------------------------

/// The Byzantine behaviours `protocol` offers, by name (`byzsim compare` checks a scenario's
/// `[[byzantine]]` entries against every protocol it compares).
pub fn protocol_behaviors(protocol: ProtocolKind) -> Vec<(&'static str, Behavior)> {
    protocol.behaviors().into_iter().map(|b| (b.name(), b)).collect()
}

/// The behaviours a protocol offers (all of them, each name once, to name in errors, if the
/// protocol is wrong).
fn behaviors_for(protocol: Option<ProtocolKind>) -> Vec<(&'static str, Behavior)> {
    match protocol {
        Some(p) => protocol_behaviors(p),
        None => {
            let mut all: Vec<(&'static str, Behavior)> = Vec::new();
            for b in ProtocolKind::ALL.iter().flat_map(|&p| protocol_behaviors(p)) {
                if !all.iter().any(|(name, _)| *name == b.0) {
                    all.push(b);
                }
            }
            all
        }
    }
}

/// The replicas of one `[[byzantine]]` entry, with where they are written, for the checks across
/// entries.
struct Chosen {
    /// At the `replicas` list or the `count`.
    who: Val<Who>,
    /// Each named id (none for a count).
    ids: Vec<Val<u32>>,
}

/// `[[byzantine]]`: each replica in one entry at most, none also in `[[faults.crashes]]`, and at
/// least one correct replica left. With the entries, where each one's replicas are written (for
/// seed check, which needs the whole scenario).
fn read_byzantine(
    c: &mut Ctx<'_>,
    top: &Section<'_>,
    n: Option<u32>,
    end_s: Option<f64>,
    crashed: &[Val<u32>],
    protocol: Option<ProtocolKind>,
) -> (Option<Vec<Byzantine>>, Vec<Val<Who>>) {
    let (entries, all_tables) = c.table_list(top, "byzantine");
    let behaviors = behaviors_for(protocol);
    let read: Vec<_> = entries.iter().map(|entry| read_byzantine_entry(c, entry, n, end_s, &behaviors)).collect();
    let chosen: Vec<&Chosen> = read.iter().filter_map(|(_, chosen)| chosen.as_ref()).collect();
    let distinct = check_named_once(c, &chosen, crashed);
    let within = n.is_none_or(|n| check_byzantine_total(c, &chosen, n, crashed));
    let at = chosen.iter().map(|chosen| chosen.who.clone()).collect();
    if !(all_tables && distinct && within) {
        return (None, at);
    }
    (read.into_iter().map(|(byzantine, _)| byzantine).collect(), at)
}

/// One entry, and its replicas alone when they are valid but something else is not.
fn read_byzantine_entry(
    c: &mut Ctx<'_>,
    sec: &Section<'_>,
    n: Option<u32>,
    end_s: Option<f64>,
    behaviors: &[(&str, Behavior)],
) -> (Option<Byzantine>, Option<Chosen>) {
    c.table_keys(sec, &fields::byzantine::TABLE);
    let behavior = c.choice(sec, "behavior", Missing::Required("\"silent\""), behaviors).map(|b| b.v);
    let chosen = read_who(c, sec, n);
    let times = read_byzantine_times(c, sec, behavior, end_s);
    let byzantine = (|| {
        let (at_s, recover_s) = times?;
        Some(Byzantine { behavior: behavior?, who: chosen.as_ref()?.who.v.clone(), at_s, recover_s })
    })();
    (byzantine, chosen)
}

/// Exactly one of `replicas = [ids]` and `count = k`.
fn read_who(c: &mut Ctx<'_>, sec: &Section<'_>, n: Option<u32>) -> Option<Chosen> {
    match (sec.get("replicas"), sec.get("count")) {
        (Some(list), None) => read_byzantine_ids(c, sec, list, n),
        (None, Some(_)) => {
            let count = c.int::<u32>(sec, "count", Missing::Required("1"), (1, i128::from(u32::MAX)))?;
            Some(Chosen { who: Val { v: Who::Count(count.v), at: count.at, field: count.field }, ids: Vec::new() })
        }
        (None, None) => {
            let message = "says neither `replicas` nor `count`: which replicas are Byzantine?";
            let help = "write `replicas = [0]` to name them, or `count = 1` to have that many drawn from the seed";
            c.report(&sec.at, Some(&sec.path), message, Some(help.to_string()));
            None
        }
        (Some(_), Some(count)) => {
            let help = "`replicas` names the Byzantine replicas; `count` has that many drawn from the seed: keep one";
            c.bad(count, &sec.field("count"), "give `replicas` or `count`, not both", Some(help.to_string()))
        }
    }
}

/// `replicas = [0, 2]`: a non-empty list of distinct replica ids.
fn read_byzantine_ids(c: &mut Ctx<'_>, sec: &Section<'_>, node: &Node, n: Option<u32>) -> Option<Chosen> {
    let field = sec.field("replicas");
    let members = match &node.value {
        Value::Array(members) if !members.is_empty() => members,
        Value::Array(_) => {
            let help = "name at least one, or write `count = 1` to have one drawn from the seed".to_string();
            return c.bad(node, &field, "must list at least one replica", Some(help));
        }
        other => {
            let message = format!("expected a list of replica ids, like [0, 1], found {}", found(other));
            return c.bad(node, &field, message, None);
        }
    };
    let mut seen = BTreeSet::new();
    let ids: Vec<Option<Val<u32>>> = (members.iter().enumerate())
        .map(|(i, member)| {
            let member_field = format!("{field}[{i}]");
            let id = read_replica_id(c, member, &member_field, n)?;
            if !seen.insert(id) {
                return c.bad(member, &member_field, format!("replica {id} is listed twice"), None);
            }
            Some(Val { v: id, at: member.at.clone(), field: member_field })
        })
        .collect();
    let ids: Vec<Val<u32>> = ids.into_iter().collect::<Option<_>>()?;
    let who = Val { v: Who::Replicas(ids.iter().map(|id| id.v).collect()), at: node.at.clone(), field };
    Some(Chosen { who, ids })
}

/// `at_s` and `recover_s`: required and optional for a crash, absent otherwise.
fn read_byzantine_times(
    c: &mut Ctx<'_>,
    sec: &Section<'_>,
    behavior: Option<Behavior>,
    end_s: Option<f64>,
) -> Option<(Option<f64>, Option<f64>)> {
    match behavior {
        Some(Behavior::Crash) => {
            let at = c.float(sec, "at_s", Missing::Required("5"), TIME_S);
            let at = at.filter(|at| check_within_run(c, at, end_s));
            let recover = c.opt_float(sec, "recover_s", TIME_S);
            let recover = recover.filter(|recover| check_recovery(c, recover.as_ref(), at.as_ref()));
            Some((Some(at?.v), recover?.map(|r| r.v)))
        }
        Some(_) => {
            let at_ok = only_crash(c, sec, "at_s");
            let recover_ok = only_crash(c, sec, "recover_s");
            (at_ok && recover_ok).then_some((None, None))
        }
        None => {
            // The behaviour is wrong (reported): the times can still be checked as numbers.
            let _ = c.opt_float(sec, "at_s", TIME_S);
            let _ = c.opt_float(sec, "recover_s", TIME_S);
            None
        }
    }
}

/// Reports `key` in an entry whose behaviour is not a crash.
fn only_crash(c: &mut Ctx<'_>, sec: &Section<'_>, key: &str) -> bool {
    let Some(node) = sec.get(key) else { return true };
    let help = "remove it, or write behavior = \"crash\"".to_string();
    c.report(&node.at, Some(&sec.field(key)), format!("only a crash has {key}"), Some(help));
    false
}

/// Where a value is written, for a message about another one: `byzantine[0].replicas[1] (line 7)`.
fn place_of<T>(c: &Ctx<'_>, val: &Val<T>) -> String {
    match &val.at {
        Origin::File(span) => format!("{} (line {})", val.field, c.locate(span.start).0),
        Origin::Set(key) => format!("{} (--set {key})", val.field),
        Origin::Implicit => val.field.clone(),
    }
}

/// A replica is named by one `[[byzantine]]` entry at most, and by no `[[faults.crashes]]` entry
/// (those are benign faults of correct replicas).
fn check_named_once(c: &mut Ctx<'_>, chosen: &[&Chosen], crashed: &[Val<u32>]) -> bool {
    let mut first: BTreeMap<u32, &Val<u32>> = BTreeMap::new();
    let mut ok = true;
    for id in chosen.iter().flat_map(|chosen| &chosen.ids) {
        if let Some(earlier) = first.get(&id.v) {
            let message = format!(
                "replica {} is already Byzantine in {}; a replica can be in one [[byzantine]] entry only",
                id.v,
                place_of(c, earlier)
            );
            c.fail(id, message, None);
            ok = false;
            continue;
        }
        first.insert(id.v, id);
        if let Some(crash) = crashed.iter().find(|crash| crash.v == id.v) {
            let message = format!(
                "replica {} is Byzantine but also crashes in {}: [[faults.crashes]] is for correct replicas",
                id.v,
                place_of(c, crash)
            );
            let help = "for a Byzantine replica that crashes, write behavior = \"crash\" with at_s (and recover_s) \
                        here; otherwise remove one of the two"
                .to_string();
            c.fail(id, message, Some(help));
            ok = false;
        }
    }
    ok
}

/// At least one replica must be correct, and counts draw only from replicas that no entry names
/// and that do not crash in `[[faults.crashes]]`. More than f Byzantine replicas are allowed on
/// purpose: a run can check that the checker catches what happens beyond the bound.
fn check_byzantine_total(c: &mut Ctx<'_>, chosen: &[&Chosen], n: u32, crashed: &[Val<u32>]) -> bool {
    if !check_byzantine_at_least_one_correct(c, chosen, n) {
        return false;
    }
    let mut unavailable: BTreeSet<u32> = crashed.iter().map(|id| id.v).collect();
    for entry in chosen {
        if let Who::Replicas(ids) = &entry.who.v {
            unavailable.extend(ids.iter().copied());
        }
    }
    let available = u64::from(n).saturating_sub(unavailable.len() as u64);
    let mut drawn: u64 = 0;
    for &entry in chosen {
        let Who::Count(count) = &entry.who.v else { continue };
        drawn = drawn.saturating_add(u64::from(*count));
        if drawn > available {
            let message = format!(
                "count draws {drawn} replicas in all, but only {available} of the {n} are neither named in \
                 [[byzantine]] nor crash in [[faults.crashes]]"
            );
            c.fail(&entry.who, message, Some(format!("lower the counts to {available} in all")));
            return false;
        }
    }
    true
}

fn check_byzantine_at_least_one_correct(c: &mut Ctx<'_>, chosen: &[&Chosen], n: u32) -> bool {
    let mut named = BTreeSet::new();
    let mut drawn: u64 = 0;
    // The entry that brings the total to n.
    let mut blamed = None;
    for &entry in chosen {
        match &entry.who.v {
            Who::Replicas(ids) => named.extend(ids.iter().copied()),
            Who::Count(count) => drawn = drawn.saturating_add(u64::from(*count)),
        }
        if blamed.is_none() && named.len() as u64 + drawn >= u64::from(n) {
            blamed = Some(entry);
        }
    }
    let Some(blamed) = blamed else { return true };
    let message = format!(
        "{} replicas are Byzantine ({} named, {drawn} by count) but replicas.n = {n}: at least one replica must be \
         correct",
        named.len() as u64 + drawn,
        named.len()
    );
    let help = format!(
        "make at most {} of the {n} replicas Byzantine (more than f is allowed, to test the checks beyond the bound)",
        n.saturating_sub(1)
    );
    c.fail(&blamed.who, message, Some(help));
    false
}

/// `[checks]`: online checks beyond safety.
fn read_checks(c: &mut Ctx<'_>, top: &Section<'_>) -> Option<Checks> {
    let sec = c.section(top, "checks");
    c.table_keys(&sec, &fields::checks::TABLE);
    let bound = c.opt_num(&sec, &fields::checks::liveness_bound_s)?;
    Some(Checks { liveness_bound_s: bound.map(|b| b.v) })
}

// ---------------------------------------------------------------------------------------------
// The network adversary
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AdversaryKind {
    Off,
    Random,
    Scripted,
    Twins,
}

/// In the order of the declared `mode` names.
const ADVERSARY_MODES: [AdversaryKind; 4] =
    [AdversaryKind::Off, AdversaryKind::Random, AdversaryKind::Scripted, AdversaryKind::Twins];

/// The modes that take an `[adversary]` field other than `mode`.
fn adversary_modes_of(key: &str) -> &'static [&'static str] {
    match key {
        "delay_max_ms" => &["random", "scripted"],
        "rules" => &["scripted"],
        "partitioned_views" | "groups" | "partition_until_s" => &["twins"],
        _ => &["random"],
    }
}

/// `[adversary]`: off (the default, and then nothing else may be given), random, or scripted.
/// Kind names are checked against the protocol's message kinds (when the protocol is valid).
fn read_adversary(
    c: &mut Ctx<'_>,
    top: &Section<'_>,
    protocol: Option<ProtocolKind>,
    n: Option<u32>,
    duration_s: Option<f64>,
    end_s: Option<f64>,
) -> Option<Adversary> {
    use fields::adversary as F;
    let sec = c.section(top, "adversary");
    c.table_keys(&sec, &F::TABLE);
    let mode = c.pick(&sec, &F::mode, &ADVERSARY_MODES)?;
    let fits = check_adversary_keys(c, &sec, &mode);
    if mode.v == AdversaryKind::Off {
        return fits.then(Adversary::default);
    }
    if mode.v == AdversaryKind::Twins {
        let views = c.whole::<u64>(&sec, &F::partitioned_views);
        let groups = c.whole::<u8>(&sec, &F::groups);
        let until = read_partition_until(c, &sec, duration_s, end_s);
        let mode = AdversaryMode::Twins { partitioned_views: views?.v, groups: groups?.v, partition_until_s: until? };
        return fits.then_some(Adversary { mode, delay_max_ms: 0.0 });
    }
    let delay_max = c.float(&sec, F::delay_max_ms.key, Missing::Required("200"), F::delay_max_ms.bounds());
    let read = match mode.v {
        AdversaryKind::Random => read_random_attack(c, &sec, &mode, protocol),
        _ => read_adversary_rules(c, &sec, &mode, protocol, n, end_s, delay_max.as_ref()),
    };
    let delay_max = delay_max?;
    fits.then_some(Adversary { mode: read?, delay_max_ms: delay_max.v })
}

/// Twins' `partition_until_s`: when the partitions end whatever the view, within the run;
/// half of `duration_s` by default (the partitioned views usually pass before, and the rest of
/// the run shows the protocol recover). `None` when invalid or the run's length is unknown.
fn read_partition_until(
    c: &mut Ctx<'_>,
    sec: &Section<'_>,
    duration_s: Option<f64>,
    end_s: Option<f64>,
) -> Option<f64> {
    let until = c.num_or(sec, &fields::adversary::partition_until_s, duration_s? / 2.0)?;
    let end_s = end_s?;
    if until.v > end_s {
        let message = format!("{} s is after the end of the run at {end_s} s (duration_s + drain_s)", until.v);
        let help = format!(
            "end the partitions within the run (at most {end_s}), or leave it out for the default, duration_s / 2 = {} s",
            duration_s? / 2.0
        );
        c.fail(&until, message, Some(help));
        return None;
    }
    Some(until.v)
}

/// Reports each field the chosen mode does not take.
fn check_adversary_keys(c: &mut Ctx<'_>, sec: &Section<'_>, mode: &Val<AdversaryKind>) -> bool {
    let modes = fields::adversary::mode.names();
    let name = ADVERSARY_MODES.iter().position(|m| *m == mode.v).map_or("off", |i| modes[i]);
    let mut ok = true;
    for key in fields::known_keys(&fields::adversary::TABLE).into_iter().filter(|k| *k != "mode") {
        let Some(node) = sec.get(key) else { continue };
        let owners = adversary_modes_of(key);
        if owners.contains(&name) {
            continue;
        }
        let (message, help) = if mode.v == AdversaryKind::Off {
            let whose = if mode.at == Origin::Implicit { " (mode defaults to \"off\")" } else { "" };
            let message = format!("the adversary is off{whose}, so it takes no `{key}`");
            (message, "remove it, or write mode = \"random\" or \"scripted\"".to_string())
        } else {
            let owner = owners[0];
            let message = format!("only mode = \"{owner}\" has `{key}`; this one is \"{name}\"");
            (message, format!("remove it, or write mode = \"{owner}\""))
        };
        c.report(&node.at, Some(&sec.field(key)), message, Some(help));
        ok = false;
    }
    ok
}

/// `targets`, `delay`, `drop` and `slow_replica`; a random adversary that does nothing is
/// refused.
fn read_random_attack(
    c: &mut Ctx<'_>,
    sec: &Section<'_>,
    mode: &Val<AdversaryKind>,
    protocol: Option<ProtocolKind>,
) -> Option<AdversaryMode> {
    let targets = match sec.get("targets") {
        None => Some(AdversaryTargets::Critical),
        Some(node) => read_targets(c, node, &sec.field("targets"), protocol),
    };
    use fields::adversary as F;
    let delay = c.num(sec, &F::delay);
    let drop = c.num(sec, &F::drop);
    let slow_replica = c.flag(sec, &F::slow_replica);
    let (delay, drop, slow_replica) = (delay?.v, drop?.v, slow_replica?.v);
    if delay == 0.0 && drop == 0.0 && !slow_replica {
        let help = "give `delay` (a probability in [0, 1]) or `drop` (in [0, 1)), e.g. delay = 0.5".to_string();
        c.fail(mode, "a random adversary with delay = 0 and drop = 0 does nothing", Some(help));
        return None;
    }
    Some(AdversaryMode::Random { targets: targets?, delay, drop, slow_replica })
}

/// `targets = "critical" | "all" | ["kind", ...]`.
fn read_targets(c: &mut Ctx<'_>, node: &Node, field: &str, protocol: Option<ProtocolKind>) -> Option<AdversaryTargets> {
    match &node.value {
        Value::Str(s) if s == "critical" => Some(AdversaryTargets::Critical),
        Value::Str(s) if s == "all" => Some(AdversaryTargets::All),
        Value::Array(_) => read_kind_names(c, node, field, protocol).map(AdversaryTargets::Kinds),
        Value::Str(s) => {
            let message = format!("unknown value \"{s}\"; expected \"critical\", \"all\" or a list of message kinds");
            c.bad(node, field, message, Some(format!("for one kind write targets = [\"{s}\"]")))
        }
        other => {
            let message = format!("expected \"critical\", \"all\" or a list of message kinds, found {}", found(other));
            c.bad(node, field, message, None)
        }
    }
}

/// A non-empty list of distinct message kind names of the protocol.
fn read_kind_names(c: &mut Ctx<'_>, node: &Node, field: &str, protocol: Option<ProtocolKind>) -> Option<Vec<String>> {
    let items = match &node.value {
        Value::Array(items) if !items.is_empty() => items,
        Value::Array(_) => return c.bad(node, field, "must name at least one message kind", None),
        other => {
            let message = format!("expected a list of message kinds, like [\"vote\"], found {}", found(other));
            return c.bad(node, field, message, None);
        }
    };
    let mut names = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_field = format!("{field}[{i}]");
        let Some(name) = c.node_str(item, &item_field, "a message kind (a string)") else { continue };
        if let Some(p) = protocol
            && !p.message_kinds().contains(&name)
        {
            let kinds = p.message_kinds();
            let message = with_suggestion(format!("\"{name}\" is not a message kind of {}", p.name()), name, kinds);
            let help = format!("the message kinds of {} are: {}", p.name(), kinds.join(", "));
            c.report(&item.at, Some(&item_field), message, Some(help));
            continue;
        }
        if names.iter().any(|n| n == name) {
            c.report(&item.at, Some(&item_field), format!("\"{name}\" is listed twice"), None);
            continue;
        }
        names.push(name.to_string());
    }
    (names.len() == items.len()).then_some(names)
}

/// `[[adversary.rules]]`: at least one.
fn read_adversary_rules(
    c: &mut Ctx<'_>,
    sec: &Section<'_>,
    mode: &Val<AdversaryKind>,
    protocol: Option<ProtocolKind>,
    n: Option<u32>,
    end_s: Option<f64>,
    delay_max: Option<&Val<f64>>,
) -> Option<AdversaryMode> {
    let (entries, all_tables) = c.table_list(sec, "rules");
    if entries.is_empty() && all_tables {
        let help = "add a rule, e.g. [[adversary.rules]] with kinds = [\"vote\"] and action = \"drop\"".to_string();
        c.fail(mode, "mode = \"scripted\" needs at least one [[adversary.rules]] entry", Some(help));
        return None;
    }
    let rules: Vec<_> =
        entries.iter().map(|entry| read_adversary_rule(c, entry, protocol, n, end_s, delay_max)).collect();
    let rules: Vec<AdversaryRule> = rules.into_iter().collect::<Option<_>>()?;
    all_tables.then_some(AdversaryMode::Scripted(rules))
}

/// One rule: what it matches (kinds, from, to, views) and its action.
fn read_adversary_rule(
    c: &mut Ctx<'_>,
    sec: &Section<'_>,
    protocol: Option<ProtocolKind>,
    n: Option<u32>,
    end_s: Option<f64>,
    delay_max: Option<&Val<f64>>,
) -> Option<AdversaryRule> {
    c.table_keys(sec, &fields::rules::TABLE);
    let kinds = match sec.get("kinds") {
        None => Some(Vec::new()),
        Some(node) => read_kind_names(c, node, &sec.field("kinds"), protocol),
    };
    let replica = |c: &mut Ctx<'_>, key: &str| match sec.get(key) {
        None => Some(None),
        Some(_) => read_replica_field(c, sec, key, n).map(Some),
    };
    let from = replica(c, "from");
    let to = replica(c, "to").filter(|to| {
        let (Some(Some(from)), Some(to)) = (&from, to) else { return true };
        let ok = from.v != to.v;
        if !ok {
            let message = format!("from = to = {}: a replica's messages to itself never meet the adversary", to.v);
            c.fail(to, message, Some("remove `from` or `to`, or name two replicas".to_string()));
        }
        ok
    });
    let views = match sec.get("views") {
        None => Some(None),
        Some(node) => read_views(c, node, &sec.field("views"), protocol).map(Some),
    };
    let action = read_adversary_action(c, sec, end_s, delay_max);
    Some(AdversaryRule {
        kinds: kinds?,
        from: from?.map(|v| v.v),
        to: to?.map(|v| v.v),
        views: views?,
        action: action?,
    })
}

/// `views = [first, last]`, inclusive; refused under a protocol whose messages carry no view.
fn read_views(c: &mut Ctx<'_>, node: &Node, field: &str, protocol: Option<ProtocolKind>) -> Option<(u64, u64)> {
    if let Some((message, help)) = protocol.and_then(ProtocolKind::no_views) {
        return c.bad(node, field, message, Some(help.to_string()));
    }
    let expected = "a range of views [first, last], like [3, 7]";
    let items = match &node.value {
        Value::Array(items) if items.len() == 2 => items,
        other => return c.bad(node, field, format!("expected {expected}, found {}", found(other)), None),
    };
    let range = (0, i128::from(u64::MAX));
    let first = c.node_int(&items[0], &format!("{field}[0]"), range);
    let last = c.node_int(&items[1], &format!("{field}[1]"), range);
    let (first, last) = (u64::try_from(first?).ok()?, u64::try_from(last?).ok()?);
    if first > last {
        return c.bad(node, field, format!("the range is empty: first view {first} > last view {last}"), None);
    }
    Some((first, last))
}

/// `action`, with `delay_ms` (delay, at most `delay_max_ms`) or `until_s` (hold, within the run).
fn read_adversary_action(
    c: &mut Ctx<'_>,
    sec: &Section<'_>,
    end_s: Option<f64>,
    delay_max: Option<&Val<f64>>,
) -> Option<AdversaryAction> {
    use fields::rules as F;
    let action = c.pick(sec, &F::action, F::action.names());
    let (delay_ok, until_ok) = match action.as_ref().map(|a| a.v) {
        Some("delay") => (true, only_action(c, sec, "until_s", "hold")),
        Some("hold") => (only_action(c, sec, "delay_ms", "delay"), true),
        Some(_) => (only_action(c, sec, "delay_ms", "delay"), only_action(c, sec, "until_s", "hold")),
        None => (true, true),
    };
    match action?.v {
        "delay" => {
            let delay = c.float(sec, F::delay_ms.key, Missing::Required("100"), F::delay_ms.bounds())?;
            let capped = delay_max.is_some_and(|max| delay.v > max.v);
            if let (true, Some(max)) = (capped, delay_max) {
                let message = format!(
                    "delay_ms = {} exceeds adversary.delay_max_ms = {}: no message is delayed beyond that bound",
                    delay.v, max.v
                );
                c.fail(&delay, message, Some(format!("lower delay_ms to at most {}", max.v)));
                return None;
            }
            until_ok.then_some(AdversaryAction::Delay { delay_ms: delay.v })
        }
        "hold" => {
            let until = c.float(sec, F::until_s.key, Missing::Required("2"), F::until_s.bounds())?;
            check_within_run(c, &until, end_s).then_some(())?;
            delay_ok.then_some(AdversaryAction::Hold { until_s: until.v })
        }
        _ => (delay_ok && until_ok).then_some(AdversaryAction::Drop),
    }
}

/// Reports `key` in a rule whose action is not `owner`.
fn only_action(c: &mut Ctx<'_>, sec: &Section<'_>, key: &str, owner: &str) -> bool {
    let Some(node) = sec.get(key) else { return true };
    let help = format!("remove it, or write action = \"{owner}\"");
    c.report(&node.at, Some(&sec.field(key)), format!("only action = \"{owner}\" has {key}"), Some(help));
    false
}

/// `[workload]`: the synthetic generator (`source = "synthetic"`, the default) or a trace, read
/// and checked here (see `workload.rs`) so that running cannot fail.
fn read_workload(
    c: &mut Ctx<'_>,
    top: &Section<'_>,
    base_dir: &Path,
    duration_s: Option<f64>,
    max_transactions: Option<u64>,
    closed: bool,
) -> Option<Workload> {
    let sec = c.section(top, "workload");
    if let Some(source) = workload::read_source(c, &sec)? {
        return workload::read_trace(c, &sec, source, base_dir, duration_s, max_transactions);
    }
    use fields::workload as F;
    workload::check_keys(c, &sec, None);
    let arrivals = c.pick(&sec, &F::arrivals, &[Arrivals::Poisson, Arrivals::Constant]);
    let rate = if closed { closed_loop_rate(c, &sec) } else { c.num(&sec, &F::rate_tps) };
    let rate = rate.filter(|rate| {
        let expected = duration_s.map_or(0.0, |d| rate.v * d);
        check_expected_transactions(c, rate, expected, max_transactions, "lower rate_tps or duration_s")
    });
    let accounts = c.whole::<u32>(&sec, &F::accounts);
    let zipf = c.num(&sec, &F::zipf_s);
    let size = c.whole::<u32>(&sec, &F::tx_size_bytes);
    Some(Workload {
        arrivals: arrivals?.v,
        rate_tps: rate?.v,
        accounts: accounts?.v,
        zipf_s: zipf?.v,
        tx_size_bytes: size?.v,
        trace: None,
    })
}

/// A closed loop's clients set the pace: `rate_tps` is refused, and the model's is 0.
fn closed_loop_rate(c: &mut Ctx<'_>, sec: &Section<'_>) -> Option<Val<f64>> {
    let key = fields::workload::rate_tps.key;
    let Some(node) = sec.get(key) else {
        return Some(Val { v: 0.0, at: Origin::Implicit, field: sec.field(key) });
    };
    let message = "`rate_tps` does not apply with clients.loop = \"closed\": closed-loop clients submit as their transactions confirm";
    let help =
        "remove workload.rate_tps (clients.outstanding sets the load), or set clients.loop = \"open\"".to_string();
    c.bad(node, &sec.field(key), message, Some(help))
}

/// Reports a scenario that cannot run at its seed (its protocol says why), at the `[[byzantine]]` entry at fault (`at`: where
/// each entry's replicas are written).
fn check_seed(c: &mut Ctx<'_>, s: &Scenario, at: &[Val<Who>]) {
    let Some(problem) = problem_at_seed(s) else { return };
    match at.get(problem.entry) {
        Some(who) => c.fail(who, problem.message, Some(problem.help)),
        None => c.report(&Origin::Implicit, Some("byzantine"), problem.message, Some(problem.help)),
    }
}

fn problem_at_seed(s: &Scenario) -> Option<protocols::SeedProblem> {
    let byzantine = if s.byzantine.is_empty() { Vec::new() } else { crate::model::assign_byzantine(s) };
    s.section.seed_problem(s.replicas.n, s.seed, &byzantine)
}

/// The Twins adversary and the twins among the `[[byzantine]]` entries (`at`: where each
/// entry's replicas are written), checked by the registry.
fn check_twins(c: &mut Ctx<'_>, s: &Scenario, at: &[Val<Who>]) {
    let entries: Vec<protocols::Entry<'_, Who>> = s
        .byzantine
        .iter()
        .enumerate()
        .map(|(i, b)| protocols::Entry {
            behavior: b.behavior,
            count: match &b.who {
                Who::Replicas(ids) => ids.len() as u64,
                Who::Count(k) => u64::from(*k),
            },
            at: at.get(i),
        })
        .collect();
    let twins_mode = matches!(s.adversary.mode, AdversaryMode::Twins { .. });
    protocols::check_twins(c, s.protocol(), twins_mode, s.replicas.f, &entries);
}

/// Why a valid scenario cannot run at the seed it now has, or None. Validation checks a file at
/// one seed; `compare` and `sweep` then run it at others, and with Pareto stake the Byzantine
/// users' share of the stake depends on the seed.
pub fn seed_problem(s: &Scenario) -> Option<String> {
    let problem = problem_at_seed(s)?;
    Some(format!("byzantine: {}\n  help: {}", problem.message, problem.help))
}

/// Built-in crypto cost profiles, in microseconds: (name, sign, verify, aggregate per
/// signature, aggregate-verify). `blst-x86-2core` is BLS12-381 (min_pk) with blst on a 2-core
/// x86 machine, the design brief's default; `free` makes crypto cost nothing.
const COST_PROFILES: &[(&str, [f64; 4])] = &[("blst-x86-2core", [370.0, 1040.0, 1.3, 1100.0]), ("free", [0.0; 4])];

fn read_cpu(c: &mut Ctx<'_>, top: &Section<'_>, base_dir: &Path) -> Option<Cpu> {
    use fields::cpu as F;
    let sec = c.section(top, "cpu");
    c.table_keys(&sec, &F::TABLE);
    let cores = c.whole::<u32>(&sec, &F::cores);
    let request_cores = c.whole::<u32>(&sec, &F::request_cores);
    let base = c.num(&sec, &F::base_us);
    let request_base = c.opt_num(&sec, &F::request_base_us);
    let per_kib = c.num(&sec, &F::per_kib_us);
    let per_tx = c.num(&sec, &F::per_tx_us);
    let crypto = c.pick(&sec, &F::crypto, fields::CRYPTO_MODES);
    let profile = match (sec.get("profile"), sec.get("profile_file")) {
        (Some(node), Some(_)) => {
            let help = Some("`profile` names a built-in profile, `profile_file` a calibrated one: keep one".into());
            c.bad(node, &sec.field("profile"), "give `profile` or `profile_file`, not both", help)
        }
        (_, Some(_)) => read_profile_file(c, &sec, base_dir),
        _ => read_builtin_profile(c, &sec).map(|p| (p, [None; 4])),
    };
    let client_verify = c.num(&sec, &F::client_verify_us);
    let (profile, fitted) = profile?;
    let base_us = fitted_cost(c, &base?, fitted[0])?;
    let per_kib_us = fitted_cost(c, &per_kib?, fitted[1])?;
    let per_tx_us = fitted_cost(c, &per_tx?, fitted[2])?;
    let request_base_us = match request_base? {
        Some(given) => Some(fitted_cost(c, &given, fitted[3])?),
        None => fitted[3],
    };
    Some(Cpu {
        cores: cores?.v,
        request_cores: request_cores?.v,
        base_us,
        request_base_us,
        per_kib_us,
        per_tx_us,
        crypto: crypto?.v,
        profile,
        client_verify_us: client_verify?.v,
    })
}

/// A `[cpu]` cost that a fitted profile may give: the profile's value, unless the scenario
/// gives another one (both would be a guess at which one counts).
fn fitted_cost(c: &mut Ctx<'_>, given: &Val<f64>, fitted: Option<f64>) -> Option<f64> {
    let Some(fitted) = fitted else { return Some(given.v) };
    if !matches!(given.at, Origin::Implicit) && given.v != fitted {
        let help = Some(format!("the profile file was fitted with {fitted}: drop the field from [cpu] to use it"));
        c.fail(given, "this cost is also in the fitted profile file, with another value".to_string(), help);
        return None;
    }
    Some(fitted)
}

fn read_builtin_profile(c: &mut Ctx<'_>, sec: &Section<'_>) -> Option<CostProfile> {
    let profile = &fields::cpu::profile;
    let chosen = c.pick(sec, profile, profile.names())?;
    let (name, [sign, verify, agg, agg_verify]) =
        *COST_PROFILES.iter().find(|(name, _)| *name == chosen.v).expect("chosen among the profiles");
    Some(CostProfile {
        name: name.to_string(),
        sign_us: sign,
        verify_us: verify,
        aggregate_per_sig_us: agg,
        verify_aggregate_us: agg_verify,
    })
}

/// A profile written by `byzsim calibrate`: `name` and the four costs in microseconds.
/// With the fitted `base_us`, `per_kib_us`, `per_tx_us` and `request_base_us` when the file has
/// them.
fn read_profile_file(c: &mut Ctx<'_>, sec: &Section<'_>, base_dir: &Path) -> Option<(CostProfile, [Option<f64>; 4])> {
    let file = c.string(sec, fields::cpu::profile_file.key, Missing::Required("\"calibrated-profile.toml\""))?;
    let path = match file.at {
        Origin::File(_) => base_dir.join(&file.v),
        _ => PathBuf::from(&file.v),
    };
    let problem = |c: &mut Ctx<'_>, what: String| {
        let help = Some("write one with `byzsim calibrate --out FILE` (see docs/scenarios.md)".to_string());
        c.fail(&file, format!("profile file `{}`: {what}", path.display()), help);
        None
    };
    let text = read_input(c, &file, &path, traces::InputKind::CostProfile, base_dir)?;
    let table: toml::Table = match text.parse() {
        Ok(table) => table,
        Err(e) => return problem(c, format!("invalid TOML: {}", e.to_string().trim_end())),
    };
    let known = |k: &str| k == "name" || PROFILE_KEYS.contains(&k) || PROFILE_CPU_KEYS.contains(&k);
    if let Some(unknown) = table.keys().find(|k| !known(k)) {
        let keys = PROFILE_KEYS.iter().chain(&PROFILE_CPU_KEYS).copied().collect::<Vec<_>>().join(", ");
        return problem(c, format!("unknown field `{unknown}` (the fields are name, {keys})"));
    }
    let mut fitted = [None; 4];
    for (cost, key) in fitted.iter_mut().zip(PROFILE_CPU_KEYS) {
        match table.get(key).map(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64))) {
            None => {}
            Some(Some(v)) if v.is_finite() && (0.0..=MAX_TIME_MS * 1e3).contains(&v) => *cost = Some(v),
            Some(_) => return problem(c, format!("`{key}` must be a number of microseconds >= 0")),
        }
    }
    let mut costs = [0.0; 4];
    for (cost, key) in costs.iter_mut().zip(PROFILE_KEYS) {
        let value = table.get(key).and_then(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)));
        match value {
            Some(v) if v.is_finite() && (0.0..=MAX_TIME_MS * 1e3).contains(&v) => *cost = v,
            Some(v) => return problem(c, format!("`{key}` must be a number of microseconds >= 0, found {v}")),
            None => return problem(c, format!("`{key}` is missing or not a number")),
        }
    }
    let name = table.get("name").and_then(|v| v.as_str()).unwrap_or("calibrated").to_string();
    let [sign_us, verify_us, aggregate_per_sig_us, verify_aggregate_us] = costs;
    Some((CostProfile { name, sign_us, verify_us, aggregate_per_sig_us, verify_aggregate_us }, fitted))
}

/// Refuses a workload whose expected transactions (`expected`) exceed
/// `limits.max_transactions`: each keeps a record in memory until the run ends, so such a run
/// would only stop at the limit. Reported at `blamed`, the rate (or scale) that makes it so.
fn check_expected_transactions<T>(
    c: &mut Ctx<'_>,
    blamed: &Val<T>,
    expected: f64,
    max_transactions: Option<u64>,
    fix: &str,
) -> bool {
    let Some(max) = max_transactions else { return true };
    let ok = expected <= max as f64;
    if !ok {
        let message = format!(
            "the workload offers about {expected:.0} transactions over duration_s, more than \
             limits.max_transactions = {max} (each keeps a record in memory until the run ends)"
        );
        let help = format!("{fix}, or raise limits.max_transactions (about 100 bytes per transaction)");
        c.fail(blamed, message, Some(help));
    }
    ok
}

fn read_limits(c: &mut Ctx<'_>, top: &Section<'_>) -> Option<Limits> {
    use fields::limits as F;
    let sec = c.section(top, "limits");
    c.table_keys(&sec, &F::TABLE);
    let max_events = c.whole::<u64>(&sec, &F::max_events);
    let max_queue = c.whole::<u64>(&sec, &F::max_queue);
    let max_cpu_queue = c.whole::<u64>(&sec, &F::max_cpu_queue);
    let max_transactions = c.whole::<u64>(&sec, &F::max_transactions);
    let stalled = c.whole::<u64>(&sec, &F::max_stalled_events);
    Some(Limits {
        max_events: max_events?.v,
        max_queue: max_queue?.v,
        max_cpu_queue: max_cpu_queue?.v,
        max_transactions: max_transactions?.v,
        max_stalled_events: stalled?.v,
    })
}

fn read_output(c: &mut Ctx<'_>, top: &Section<'_>, end_s: Option<f64>) -> Option<Output> {
    use fields::output as F;
    let sec = c.section(top, "output");
    c.table_keys(&sec, &F::TABLE);
    let window = c.num(&sec, &F::window_s);
    let window = window.filter(|w| {
        let windows = end_s.map_or(0.0, |end| end / w.v);
        let ok = windows <= MAX_WINDOWS;
        if !ok {
            let message = format!(
                "{} s windows over a {} s run make {windows:.0} windows; at most {MAX_WINDOWS}",
                w.v,
                end_s.unwrap_or(0.0)
            );
            c.fail(w, message, Some("use wider windows".to_string()));
        }
        ok
    });
    let latency_csv = c.flag(&sec, &F::latency_csv);
    let flight = c.whole::<usize>(&sec, &F::flight_records);
    Some(Output { window_s: window?.v, latency_csv: latency_csv?.v, flight_records: flight?.v })
}
