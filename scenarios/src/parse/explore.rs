//! `[explore]` (what a swarm seed may draw) and `[[network.spikes]]` (the loss and delay
//! windows such a draw produces, which a file may also fix by hand).

use super::*;
use crate::model::{Explore, FaultKind, Spike};

/// The most partitions or spikes of one kind a seed may draw.
pub(super) const MAX_DRAWN: i128 = 16;

/// The behaviours a seed draws by default: the protocol's, but a crash (the `crash` kind) and
/// the twins (drawn with the Twins adversary).
pub(crate) fn default_behaviors(protocol: ProtocolKind) -> Vec<Behavior> {
    let all = protocol_behaviors(protocol).into_iter().map(|(_, b)| b);
    all.filter(|&b| b != Behavior::Crash && Some(b) != protocol.twin()).collect()
}

/// `[explore]`: None when invalid, Some(None) when absent.
pub(super) fn read_explore(
    c: &mut Ctx<'_>,
    top: &Section<'_>,
    protocol: Option<ProtocolKind>,
    n_f: Option<(u32, u32)>,
    duration_s: Option<f64>,
    end_s: Option<f64>,
) -> Option<Option<Explore>> {
    if top.get("explore").is_none() {
        return Some(None);
    }
    use fields::explore as F;
    let sec = c.section(top, "explore");
    c.table_keys(&sec, &F::TABLE);
    let kinds = read_kinds(c, &sec);
    let beyond_f = c.flag(&sec, &F::beyond_f);
    let f = n_f.map_or(0, |(_, f)| f);
    let n = n_f.map_or(1, |(n, _)| n);
    let max_crashes = c.whole_or::<u32>(&sec, &F::max_crashes, f);
    let max_byzantine = c.whole_or::<u32>(&sec, &F::max_byzantine, f);
    let max_partitions = c.whole::<u32>(&sec, &F::max_partitions);
    let max_spikes = c.whole::<u32>(&sec, &F::max_spikes);
    let from = c.num(&sec, &F::from_s);
    let to = c.num_or(&sec, &F::to_s, duration_s? / 2.0);
    let (from, to) = (from?, to?);
    let window_ok = check_window(c, &from, &to, end_s?);
    let max_window = c.num_or(&sec, &F::max_window_s, (to.v - from.v) / 2.0);
    let loss_max = c.num(&sec, &F::loss_max);
    let extra_max = c.num(&sec, &F::extra_delay_max_ms);
    let behaviors = read_behaviors(c, &sec, protocol?);
    let settings = c.flag(&sec, &F::settings);
    for (key, max) in [("max_crashes", &max_crashes), ("max_byzantine", &max_byzantine)] {
        let Some(max) = max else { continue };
        if max.v >= n {
            let help = format!("at most {} of the {n} replicas (one stays correct)", n.saturating_sub(1));
            c.fail(max, format!("{key} = {} but replicas.n = {n}", max.v), Some(help));
            return None;
        }
    }
    window_ok.then_some(())?;
    Some(Some(Explore {
        kinds: kinds?,
        beyond_f: beyond_f?.v,
        max_crashes: max_crashes?.v,
        max_byzantine: max_byzantine?.v,
        max_partitions: max_partitions?.v,
        max_spikes: max_spikes?.v,
        from_s: from.v,
        to_s: to.v,
        max_window_s: max_window?.v,
        loss_max: loss_max?.v,
        extra_delay_max_ms: extra_max?.v,
        behaviors: behaviors?,
        settings: settings?.v,
    }))
}

/// Drawn faults happen within the run, in a window that is not empty.
fn check_window(c: &mut Ctx<'_>, from: &Val<f64>, to: &Val<f64>, end_s: f64) -> bool {
    if to.v <= from.v {
        c.fail(to, format!("must be after from_s ({} s), found {}", from.v, to.v), None);
        return false;
    }
    if to.v > end_s {
        let message = format!("{} s is after the end of the run at {end_s} s (duration_s + drain_s)", to.v);
        c.fail(to, message, Some(format!("end the drawn faults by {end_s} s at the latest")));
        return false;
    }
    true
}

/// `kinds = ["crash", ...]`: distinct names; every kind when absent.
fn read_kinds(c: &mut Ctx<'_>, sec: &Section<'_>) -> Option<Vec<FaultKind>> {
    let Some(node) = sec.get("kinds") else { return Some(FaultKind::ALL.to_vec()) };
    let field = sec.field("kinds");
    let names: Vec<&str> = FaultKind::ALL.iter().map(|k| k.name()).collect();
    let Value::Array(items) = &node.value else {
        let message = format!("expected a list of fault kinds, found {}", found(&node.value));
        return c.bad(
            node,
            &field,
            message,
            Some(format!("for example kinds = [\"crash\", \"partition\"]; the kinds are {}", quoted_list(&names))),
        );
    };
    let mut kinds = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let item_field = format!("{field}[{i}]");
        let Some(name) = c.node_str(item, &item_field, "a fault kind (a string)") else {
            ok = false;
            continue;
        };
        let Some(kind) = FaultKind::ALL.into_iter().find(|k| k.name() == name) else {
            let message = with_suggestion(format!("unknown fault kind \"{name}\""), name, &names);
            c.report(&item.at, Some(&item_field), message, Some(format!("the kinds are {}", quoted_list(&names))));
            ok = false;
            continue;
        };
        if kinds.contains(&kind) {
            c.report(&item.at, Some(&item_field), format!("\"{name}\" is listed twice"), None);
            ok = false;
            continue;
        }
        kinds.push(kind);
    }
    kinds.sort();
    ok.then_some(kinds)
}

/// `behaviors = ["fork", ...]`: the protocol's, neither `crash` (the crash kind) nor `twins`
/// (the Twins adversary); by default all of those.
fn read_behaviors(c: &mut Ctx<'_>, sec: &Section<'_>, protocol: ProtocolKind) -> Option<Vec<Behavior>> {
    let Some(node) = sec.get("behaviors") else { return Some(default_behaviors(protocol)) };
    let field = sec.field("behaviors");
    let offered: Vec<(&str, Behavior)> =
        protocol_behaviors(protocol).into_iter().filter(|(_, b)| default_behaviors(protocol).contains(b)).collect();
    let names: Vec<&str> = offered.iter().map(|(name, _)| *name).collect();
    let Value::Array(items) = &node.value else {
        let message = format!("expected a list of behaviours, found {}", found(&node.value));
        return c.bad(node, &field, message, Some(format!("the behaviours drawn here are {}", quoted_list(&names))));
    };
    let mut behaviors = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let item_field = format!("{field}[{i}]");
        let Some(name) = c.node_str(item, &item_field, "a behaviour (a string)") else {
            ok = false;
            continue;
        };
        let Some(&(_, b)) = offered.iter().find(|(n, _)| *n == name) else {
            let message = with_suggestion(format!("\"{name}\" is not a behaviour a seed can draw"), name, &names);
            let help = format!(
                "the behaviours drawn under {} are {} (crashes: the \"crash\" kind; twins: the \"adversary\" kind)",
                protocol.name(),
                quoted_list(&names)
            );
            c.report(&item.at, Some(&item_field), message, Some(help));
            ok = false;
            continue;
        };
        if behaviors.contains(&b) {
            c.report(&item.at, Some(&item_field), format!("\"{name}\" is listed twice"), None);
            ok = false;
            continue;
        }
        behaviors.push(b);
    }
    if items.is_empty() {
        let help = "leave `behaviors` out to draw from all of them, or drop \"byzantine\" from kinds".to_string();
        return c.bad(node, &field, "must name at least one behaviour", Some(help));
    }
    ok.then_some(behaviors)
}

/// `[[network.spikes]]`.
pub(super) fn read_spikes(c: &mut Ctx<'_>, net: &Section<'_>, end_s: Option<f64>) -> Option<Vec<Spike>> {
    let (entries, all_tables) = c.table_list(net, "spikes");
    let spikes: Vec<Option<Spike>> = entries.iter().map(|sec| read_spike(c, sec, end_s)).collect();
    let spikes: Vec<Spike> = spikes.into_iter().collect::<Option<_>>()?;
    all_tables.then_some(spikes)
}

fn read_spike(c: &mut Ctx<'_>, sec: &Section<'_>, end_s: Option<f64>) -> Option<Spike> {
    use fields::spikes as F;
    c.table_keys(sec, &F::TABLE);
    let start = c.num(sec, &F::start_s);
    let start = start.filter(|s| check_within_run(c, s, end_s));
    let end = c.num(sec, &F::end_s);
    let end = end.filter(|e| {
        let Some(start) = &start else { return true };
        let ok = e.v > start.v;
        if !ok {
            c.fail(e, format!("must be after start_s ({} s), found {}", start.v, e.v), None);
        }
        ok
    });
    let loss = c.num(sec, &F::loss);
    let extra = c.num(sec, &F::extra_delay_ms);
    let (loss, extra) = (loss?, extra?);
    if loss.v == 0.0 && extra.v == 0.0 {
        let help = "give `loss` (a probability in [0, 1)) or `extra_delay_ms`, e.g. loss = 0.2".to_string();
        c.report(&sec.at, Some(&sec.path), "a spike with loss = 0 and extra_delay_ms = 0 does nothing", Some(help));
        return None;
    }
    Some(Spike { start_s: start?.v, end_s: end?.v, loss: loss.v, extra_delay_ms: extra.v })
}
