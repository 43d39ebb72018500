//! `[workload]` with a trace as its source: which fields each source takes, reading the trace
//! file (or built-in preset) once, at validation, and checking that the replay offers
//! something, so that lowering and running cannot fail. Every problem of the trace file becomes
//! a diagnostic naming the file, line and column.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use traces::{InputKind, Interpolation, Trace, TraceError};

use super::*;
use crate::model::{ClientsBy, TraceReplay, TraceSource};

/// The fields of the synthetic generator and of each trace source (the trace options are declared
/// in `fields::trace`, the others in `fields::workload`).
mod keys {
    use super::super::fields::{trace::*, workload::*};
    use super::Field;

    pub(super) const SYNTHETIC: &[Field] = &[arrivals, rate_tps, accounts, zipf_s, tx_size_bytes, source];
    pub(super) const TRANSACTIONS: &[Field] =
        &[source, file, start_s, window_s, time_scale, rate_scale, accounts, clients_by, tx_size_bytes];
    pub(super) const RATES: &[Field] = &[
        source,
        file,
        interpolate,
        arrivals,
        start_s,
        window_s,
        time_scale,
        rate_scale,
        accounts,
        zipf_s,
        clients_by,
        tx_size_bytes,
    ];
    pub(super) const DIABLO: &[Field] = &[
        source,
        file,
        workload_id,
        interpolate,
        arrivals,
        start_s,
        window_s,
        time_scale,
        rate_scale,
        accounts,
        zipf_s,
        clients_by,
        tx_size_bytes,
    ];
    pub(super) const PRESET: &[Field] = &[
        source,
        preset,
        interpolate,
        arrivals,
        start_s,
        window_s,
        time_scale,
        rate_scale,
        accounts,
        zipf_s,
        clients_by,
        tx_size_bytes,
    ];
    pub(super) const NASDAQ: &[Field] =
        &[source, file, start_s, window_s, time_scale, rate_scale, accounts, zipf_s, clients_by, tx_size_bytes];
}

/// (value of `source`, the trace source or None for the synthetic generator, its fields).
const SOURCES: &[(&str, Option<TraceSource>, &[Field])] = &[
    ("synthetic", None, keys::SYNTHETIC),
    ("transactions", Some(TraceSource::Transactions), keys::TRANSACTIONS),
    ("rates", Some(TraceSource::Rates), keys::RATES),
    ("nasdaq", Some(TraceSource::Nasdaq), keys::NASDAQ),
    ("diablo", Some(TraceSource::Diablo), keys::DIABLO),
    ("preset", Some(TraceSource::Preset), keys::PRESET),
];

/// A replay may run a trace at most this many times faster (or slower: 1/this).
pub(super) const MAX_TIME_SCALE: f64 = 1e6;
/// Rate curves and trade counts may be multiplied by at most this.
pub(super) const MAX_RATE_SCALE: f64 = 1e3;

/// `source`: None when it is invalid (reported); Some(None) for the synthetic generator.
pub(super) fn read_source(c: &mut Ctx<'_>, sec: &Section<'_>) -> Option<Option<TraceSource>> {
    let options: Vec<(&str, Option<TraceSource>)> = SOURCES.iter().map(|s| (s.0, s.1)).collect();
    c.choice(sec, "source", Missing::Default(None), &options).map(|v| v.v)
}

/// Reports every field of `[workload]` the source does not take: a field of another source
/// says which sources take it; anything else is unknown.
pub(super) fn check_keys(c: &mut Ctx<'_>, sec: &Section<'_>, source: Option<TraceSource>) {
    let Some(table) = sec.table else { return };
    let &(name, _, fields) = SOURCES.iter().find(|s| s.1 == source).expect("every source is listed");
    let allowed: Vec<&str> = fields.iter().map(|f| f.key).collect();
    let place = match source {
        None => sec.place(),
        Some(_) => format!("{} with source = \"{name}\"", sec.place()),
    };
    for (key, entry) in &table.0 {
        if allowed.contains(&key.as_str()) {
            continue;
        }
        let takes = |fields: &[Field]| fields.iter().any(|f| f.key == key);
        let users: Vec<&str> = SOURCES.iter().filter(|s| takes(s.2)).map(|s| s.0).collect();
        let fields = format!("the fields {place} are: {}", allowed.join(", "));
        let (message, help) = if users.is_empty() {
            (with_suggestion(format!("unknown field `{key}`"), key, &allowed), fields)
        } else if key == "rate_tps" {
            let message = format!("`rate_tps` does not apply to source = \"{name}\": the trace sets the rate");
            (message, "scale the trace's rate with rate_scale (0.1 offers a tenth) or its time with time_scale".into())
        } else {
            let message = format!("`{key}` does not apply to source = \"{name}\"");
            (message, format!("it applies to source = {}; {fields}", quoted_list(&users)))
        };
        c.report(&entry.key_at, Some(&sec.field(key)), message, Some(help));
    }
}

/// The workload of a trace source, with its trace read and its replay checked against the
/// run's `duration_s` (None when that is invalid: already reported).
pub(super) fn read_trace(
    c: &mut Ctx<'_>,
    sec: &Section<'_>,
    source: TraceSource,
    base_dir: &Path,
    duration_s: Option<f64>,
    max_transactions: Option<u64>,
) -> Option<Workload> {
    use super::fields::trace as T;
    check_keys(c, sec, Some(source));
    let interpolations = [Some(Interpolation::Step), Some(Interpolation::Linear)];
    let interpolation = c.pick_or(sec, &T::interpolate, None, &interpolations).map(|i| i.v);
    let loaded = match (source, interpolation) {
        (_, None) => None,
        (TraceSource::Preset, Some(interpolation)) => read_preset(c, sec, interpolation).map(|(n, t)| (n, None, t)),
        (_, Some(interpolation)) => read_trace_file(c, sec, source, base_dir, interpolation),
    };
    let start = c.num(sec, &T::start_s);
    let window = c.opt_num(sec, &T::window_s);
    let time_scale = c.num(sec, &T::time_scale);
    // Rows of a per-transaction trace are kept or dropped, not repeated.
    let rate_scale = match source {
        TraceSource::Transactions => {
            c.float(sec, T::rate_scale.key, Missing::Default(1.0), Bounds::above(0.0).at_most(1.0))
        }
        _ => c.num(sec, &T::rate_scale),
    };
    let clients_by = c.pick(sec, &T::clients_by, &[ClientsBy::RoundRobin, ClientsBy::Sender]);
    let generator = read_generator(c, sec, loaded.as_ref().map(|(_, _, trace)| trace));
    let (named, workload_id, trace) = loaded?;
    let (time_scale, rate_scale) = (time_scale?, rate_scale?);
    let replay = TraceReplay {
        source,
        name: named.v.clone(),
        workload_id,
        trace,
        start_s: start?.v,
        window_s: window?.map(|w| w.v),
        time_scale: time_scale.v,
        rate_scale: rate_scale.v,
        clients_by: clients_by?.v,
    };
    let mut workload = generator?;
    let cfg = crate::model::replay_config(&workload, &replay, duration_s?, 1);
    let shown = match source {
        TraceSource::Preset => format!("preset \"{}\"", named.v),
        _ => named.v.clone(),
    };
    let expected = match cfg.check(&shown) {
        Ok(expected) => expected,
        Err(e) => {
            report_trace_problem(c, sec, &named, &e, None);
            return None;
        }
    };
    workload.rate_tps = cfg.mean_rate_tps();
    // Blame the scale the file sets (time_scale first: it multiplies the rate too).
    let blamed =
        if time_scale.at != Origin::Implicit || rate_scale.at == Origin::Implicit { &time_scale } else { &rate_scale };
    if !check_scaled_rate(c, blamed, workload.rate_tps, &rate_scale, &time_scale) {
        return None;
    }
    let fix = "lower rate_scale, time_scale, duration_s or window_s";
    if !check_expected_transactions(c, blamed, expected, max_transactions, fix) {
        return None;
    }
    workload.trace = Some(replay);
    Some(workload)
}

/// The generator's fields a trace takes (`arrivals`, `zipf_s`, `tx_size_bytes`, `accounts`), with
/// no rate yet: the replay sets it.
fn read_generator(c: &mut Ctx<'_>, sec: &Section<'_>, trace: Option<&Trace>) -> Option<Workload> {
    use super::fields::workload as W;
    let arrivals = c.pick(sec, &W::arrivals, &[Arrivals::Poisson, Arrivals::Constant]);
    let zipf = c.num(sec, &W::zipf_s);
    let size = c.whole::<u32>(sec, &W::tx_size_bytes);
    // A per-transaction trace keeps all its accounts unless told to fold them.
    let accounts = match trace {
        Some(Trace::Transactions(t)) => c.whole_or::<u32>(sec, &W::accounts, t.n_accounts.max(1)),
        _ => c.whole::<u32>(sec, &W::accounts),
    };
    let (arrivals, accounts, zipf_s, tx_size_bytes) = (arrivals?.v, accounts?.v, zipf?.v, size?.v);
    Some(Workload { arrivals, rate_tps: 0.0, accounts, zipf_s, tx_size_bytes, trace: None })
}

/// The replay's mean rate, the trace's own times `rate_scale x time_scale`, must stay within
/// the cap on `rate_tps`: the two scales are bounded one by one, not their product.
fn check_scaled_rate(
    c: &mut Ctx<'_>,
    blamed: &Val<f64>,
    rate_tps: f64,
    rate_scale: &Val<f64>,
    time_scale: &Val<f64>,
) -> bool {
    let ok = rate_tps <= MAX_RATE_TPS;
    if !ok {
        let message = format!(
            "the replay offers {rate_tps:.0} tx/s on average (rate_scale {} x time_scale {} times the trace's own \
             rate), above the cap of {MAX_RATE_TPS:.0} tx/s on rates",
            rate_scale.v, time_scale.v
        );
        let help = "lower rate_scale or time_scale so that their product brings the mean rate under the cap";
        c.fail(blamed, message, Some(help.to_string()));
    }
    ok
}

/// `preset = "dota2"`: a built-in curve.
fn read_preset(
    c: &mut Ctx<'_>,
    sec: &Section<'_>,
    interpolation: Option<Interpolation>,
) -> Option<(Val<String>, Trace)> {
    let names: Vec<(&str, &str)> = traces::preset_names().into_iter().map(|n| (n, n)).collect();
    let preset = &super::fields::trace::preset;
    let chosen = c.choice(sec, preset.key, Missing::Required("\"dota2\""), &names)?;
    let curve = traces::preset(chosen.v, interpolation).expect("chosen among the presets");
    let named = Val { v: chosen.v.to_string(), at: chosen.at, field: chosen.field };
    Some((named, Trace::Rates(Arc::new(curve))))
}

/// `file = "trace.csv"`: read and parsed in the source's format. A path from the file is
/// relative to the scenario's directory; one from `--set` to the current directory.
fn read_trace_file(
    c: &mut Ctx<'_>,
    sec: &Section<'_>,
    source: TraceSource,
    base_dir: &Path,
    interpolation: Option<Interpolation>,
) -> Option<(Val<String>, Option<String>, Trace)> {
    use super::fields::trace as T;
    let file = c.text(sec, &T::file);
    let workload_id = match source {
        TraceSource::Diablo => Some(c.text(sec, &T::workload_id)?),
        _ => None,
    };
    let file = file?;
    let path = match file.at {
        Origin::File(_) => base_dir.join(&file.v),
        _ => PathBuf::from(&file.v),
    };
    let kind = match source {
        TraceSource::Transactions => InputKind::Transactions,
        TraceSource::Nasdaq => InputKind::Nasdaq,
        TraceSource::Diablo => InputKind::Diablo,
        TraceSource::Rates | TraceSource::Preset => InputKind::Rates,
    };
    let text = read_input(c, &file, &path, kind, base_dir)?;
    let shown = path.display().to_string();
    let parsed = match (source, &workload_id) {
        (TraceSource::Transactions, _) => {
            traces::parse_transactions(&shown, &text).map(|t| Trace::Transactions(Arc::new(t)))
        }
        (TraceSource::Nasdaq, _) => traces::parse_nasdaq(&shown, &text).map(|t| Trace::Nasdaq(Arc::new(t))),
        (TraceSource::Diablo, Some(id)) => {
            traces::parse_diablo(&shown, &text, &id.v, interpolation).map(|t| Trace::Rates(Arc::new(t)))
        }
        _ => traces::parse_rate_series(&shown, &text, interpolation.unwrap_or(Interpolation::Step))
            .map(|t| Trace::Rates(Arc::new(t))),
    };
    match parsed {
        Ok(trace) => Some((file, workload_id.map(|id| id.v), trace)),
        Err(errors) => {
            let mut reminder = Some(format_reminder(source));
            for e in &errors {
                report_trace_problem(c, sec, &file, e, reminder.take());
            }
            None
        }
    }
}

/// A problem of the trace or of its replay: at the scenario field it names (such as
/// `workload_id` or `start_s`) when the file says it, else at `file` (or `preset`), with the
/// trace file's line and column in the message.
fn report_trace_problem(
    c: &mut Ctx<'_>,
    sec: &Section<'_>,
    named: &Val<String>,
    e: &TraceError,
    fallback_help: Option<String>,
) {
    let help = e.help.clone().or(fallback_help);
    let option = e.field.as_deref().filter(|_| e.line.is_none()).and_then(|key| Some((key, sec.get(key)?)));
    match option {
        Some((key, node)) => c.report(&node.at, Some(&sec.field(key)), format!("{}: {}", e.file, e.message), help),
        None => c.fail(named, format!("{}: {}", e.place(), e.message), help),
    }
}

fn format_reminder(source: TraceSource) -> String {
    let format = match source {
        TraceSource::Transactions => {
            "a transactions trace has a header `timestamp_s,sender,receiver,amount` (and optionally \
             `size_bytes`), then one row per transaction"
        }
        TraceSource::Rates => {
            "a rate series has a header `t_s,rate_tps`, then one point per row, times increasing; the last row \
             ends the curve"
        }
        TraceSource::Nasdaq => {
            "a NASDAQ trace has a header with `t_s` and one `<SYMBOL>_trades` column per stock, then one row per \
             second of whole trade counts"
        }
        TraceSource::Diablo | TraceSource::Preset => {
            "a Diablo curves file has a header `workload_id,contract_function,t_start_s,rate_tps,description`, \
             then one row per point, times increasing within a workload"
        }
    };
    format!("{format} (see docs/scenarios.md)")
}
