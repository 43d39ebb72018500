//! Swarm exploration: `[explore]` turned into the concrete faults of one seed.
//!
//! Each seed first draws which fault kinds are on (each allowed kind with probability 1/2, as
//! swarm testing does), then their parameters: crashed replicas and their recoveries,
//! partitions, Byzantine replicas and behaviours, loss and delay spikes, a network adversary.
//! Every draw comes from a sub-stream of the seed named after what it draws
//! (`explore/kinds`, `explore/crash`, ...), so one more draw of one kind shifts no other. The
//! draw is a pure function of (scenario, seed): `materialize` gives the concrete scenario a run
//! uses, and `concrete_toml` the file that runs it again without `[explore]`.
//!
//! With `settings = true` (`byzsim explore --swarm`) a seed also draws the settings issue 14
//! added, from `explore/settings` alone, so the fault draws of a seed stay what they were: a
//! closed loop, a bounded request queue that drops or pushes back, a separate request pool,
//! and the protocol's own (`Boundary::swarm`: HotStuff's leader policy and mempool).

use std::fmt::Write as _;
use std::path::Path;

use sim_core::{SimRng, Streams};

use crate::model::{
    Adversary, AdversaryMode, AdversaryTargets, Behavior, Byzantine, Crash, Explore, FaultKind, Overload, Pacing,
    Partition, ProtocolSection, QueueBound, Scenario, Spike, Who,
};
use crate::parse;

/// What one seed drew, on top of what the file fixes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Draw {
    /// The kinds the seed turned on (some may have drawn nothing: no budget left).
    pub on: Vec<FaultKind>,
    pub crashes: Vec<Crash>,
    pub partitions: Vec<Partition>,
    /// One replica per entry.
    pub byzantine: Vec<(u32, Behavior)>,
    pub loss_spikes: Vec<Spike>,
    pub delay_spikes: Vec<Spike>,
    /// The adversary drawn (the twin, if Twins, is in `byzantine`).
    pub adversary: Option<Adversary>,
    /// The settings drawn, with `[explore] settings = true`.
    pub settings: Option<Settings>,
}

/// The settings a seed runs with under `[explore] settings = true`: the file's, but where a
/// coin of `explore/settings` replaced one.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// A closed loop (drawn with probability 1/2), else the file's pacing.
    pub pacing: Pacing,
    /// A request queue bound (probability 1/2), else the file's.
    pub queue: Option<QueueBound>,
    /// 0 to 2 request cores (with a CPU model); 0 keeps the file's.
    pub request_cores: u32,
    /// The protocol's section with its own settings drawn, and a phrase for each.
    pub section: ProtocolSection,
    pub section_drawn: Vec<String>,
}

/// The concrete scenario of `scenario.seed`: the draw applied, no `[explore]` left. A scenario
/// without `[explore]` comes back unchanged.
pub fn materialize(scenario: &Scenario) -> Scenario {
    let Some(draw) = draw(scenario) else { return scenario.clone() };
    apply(scenario, &draw)
}

/// The draw of `scenario.seed`, or None without `[explore]`.
pub fn draw(scenario: &Scenario) -> Option<Draw> {
    let explore = scenario.explore.as_ref()?;
    let streams = Streams::new(scenario.seed);
    let mut coins = streams.stream("explore/kinds");
    // A coin for every kind, allowed or not, so that the allowed set shifts no coin.
    let on: Vec<FaultKind> =
        FaultKind::ALL.into_iter().filter(|&k| coins.below(2) == 1 && explore.kinds.contains(&k)).collect();
    let mut d = Draw { on: on.clone(), ..Draw::default() };
    let mut pool = Pool::new(scenario, explore);
    let window = Window { from_ms: ms(explore.from_s), to_ms: ms(explore.to_s), max_ms: ms(explore.max_window_s) };
    if on.contains(&FaultKind::Adversary) && scenario.adversary.mode == AdversaryMode::Off {
        d.adversary = Some(draw_adversary(scenario, &mut streams.stream("explore/adversary"), &mut pool, &mut d));
    }
    if on.contains(&FaultKind::Byzantine) && !explore.behaviors.is_empty() {
        draw_byzantine(explore, &mut streams.stream("explore/byzantine"), &mut pool, &mut d);
    }
    if on.contains(&FaultKind::Crash) {
        draw_crashes(explore, &window, &mut streams.stream("explore/crash"), &mut pool, &mut d);
    }
    if on.contains(&FaultKind::Partition) {
        let rng = &mut streams.stream("explore/partition");
        let count = draw_count(rng, explore.max_partitions);
        d.partitions = (0..count).map(|_| draw_partition(scenario.replicas.n, &window, rng)).collect();
    }
    if on.contains(&FaultKind::Loss) {
        let rng = &mut streams.stream("explore/loss");
        let count = draw_count(rng, explore.max_spikes);
        let loss_max_pct = ((explore.loss_max * 100.0).floor() as u64).max(1);
        d.loss_spikes = (0..count)
            .map(|_| {
                let (start_ms, end_ms) = window.draw(rng);
                let loss = (1 + rng.below(loss_max_pct)) as f64 / 100.0;
                Spike { start_s: secs(start_ms), end_s: secs(end_ms), loss, extra_delay_ms: 0.0 }
            })
            .collect();
    }
    if on.contains(&FaultKind::Delay) {
        let rng = &mut streams.stream("explore/delay");
        let count = draw_count(rng, explore.max_spikes);
        let extra_max_ms = (explore.extra_delay_max_ms.floor() as u64).max(1);
        d.delay_spikes = (0..count)
            .map(|_| {
                let (start_ms, end_ms) = window.draw(rng);
                let extra_delay_ms = (1 + rng.below(extra_max_ms)) as f64;
                Spike { start_s: secs(start_ms), end_s: secs(end_ms), loss: 0.0, extra_delay_ms }
            })
            .collect();
    }
    d.settings = explore.settings.then(|| draw_settings(scenario, &mut streams.stream("explore/settings")));
    Some(d)
}

/// The closed loop, request queue, request cores and protocol settings of one seed. Each
/// draw keeps the scenario valid: a dropping queue only where a lost request is resent
/// (an open loop, or `retry_ms`), request cores only with a CPU model.
fn draw_settings(s: &Scenario, rng: &mut SimRng) -> Settings {
    let pacing = if rng.below(2) == 1 {
        let outstanding = [1, 8, 64, 256][rng.below(4) as usize];
        let think_ms = [0.0, 1.0, 10.0][rng.below(3) as usize];
        Pacing::Closed { outstanding, think_ms }
    } else {
        s.clients.pacing
    };
    let queue = if rng.below(2) == 1 {
        let limit = [16, 128, 1024][rng.below(3) as usize];
        let may_drop = pacing == Pacing::Open || s.clients.retry_ms.is_some();
        let overload = if may_drop && rng.below(2) == 0 {
            Overload::Drop
        } else {
            Overload::PushBack { backoff_ms: 10.0, backoff_max_ms: 1000.0 }
        };
        Some(QueueBound { limit, overload })
    } else {
        s.clients.queue
    };
    let request_cores = if s.cpu.cores > 0 { rng.below(3) as u32 } else { 0 };
    let mut section = s.section.clone();
    let section_drawn = section.swarm(rng, s.clients.send_to == sim_core::SendPolicy::All);
    Settings { pacing, queue, request_cores, section, section_drawn }
}

/// The scenario with the draw added to what the file fixes.
fn apply(scenario: &Scenario, d: &Draw) -> Scenario {
    let mut s = scenario.clone();
    s.explore = None;
    s.faults.crashes.extend(d.crashes.iter().cloned());
    s.faults.partitions.extend(d.partitions.iter().cloned());
    let one = |&(id, behavior): &(u32, Behavior)| Byzantine {
        behavior,
        who: Who::Replicas(vec![id]),
        at_s: None,
        recover_s: None,
    };
    s.byzantine.extend(d.byzantine.iter().map(one));
    s.network.spikes.extend(d.loss_spikes.iter().chain(&d.delay_spikes).cloned());
    if let Some(adversary) = &d.adversary {
        s.adversary = adversary.clone();
    }
    if let Some(set) = &d.settings {
        s.clients.pacing = set.pacing;
        s.clients.queue = set.queue;
        if set.request_cores > 0 {
            s.cpu.request_cores = set.request_cores;
        }
        s.section = set.section.clone();
        if set.pacing != Pacing::Open && s.workload.trace.is_none() {
            // A closed loop's clients set the pace: the model's rate is 0.
            s.workload.rate_tps = 0.0;
        }
    }
    s
}

/// Replicas not yet faulty, and how many more may be.
struct Pool {
    free: Vec<u32>,
    budget: u32,
}

impl Pool {
    fn new(s: &Scenario, explore: &Explore) -> Pool {
        let mut taken: Vec<u32> = s.faults.crashes.iter().map(|c| c.replica).collect();
        let mut counted = 0u32;
        for b in &s.byzantine {
            match &b.who {
                Who::Replicas(ids) => taken.extend(ids),
                Who::Count(k) => counted += k,
            }
        }
        taken.sort_unstable();
        taken.dedup();
        let free: Vec<u32> = (0..s.replicas.n).filter(|id| !taken.contains(id)).collect();
        let bound = if explore.beyond_f { s.replicas.n.saturating_sub(1) } else { s.replicas.f };
        let budget = bound.saturating_sub(taken.len() as u32 + counted).min(free.len().saturating_sub(1) as u32);
        Pool { free, budget }
    }

    /// One more faulty replica, drawn among the free ones; None when the budget is spent.
    fn take(&mut self, rng: &mut SimRng) -> Option<u32> {
        if self.budget == 0 || self.free.is_empty() {
            return None;
        }
        self.budget -= 1;
        Some(self.free.remove(rng.below(self.free.len() as u64) as usize))
    }
}

/// Where drawn faults happen, in whole milliseconds.
struct Window {
    from_ms: u64,
    to_ms: u64,
    max_ms: u64,
}

impl Window {
    /// A window [start, end) of at least 1 ms inside [from, to].
    fn draw(&self, rng: &mut SimRng) -> (u64, u64) {
        let start = self.start(rng);
        let len = 1 + rng.below(self.max_ms.max(1));
        (start, (start + len).min(self.to_ms))
    }

    /// A time in [from, to).
    fn start(&self, rng: &mut SimRng) -> u64 {
        self.from_ms + rng.below((self.to_ms - self.from_ms).max(1))
    }
}

fn ms(s: f64) -> u64 {
    (s * 1000.0).round() as u64
}

fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// 1..=max (0 when max is 0).
fn draw_count(rng: &mut SimRng, max: u32) -> u32 {
    if max == 0 { 0 } else { 1 + rng.below(u64::from(max)) as u32 }
}

fn draw_crashes(explore: &Explore, window: &Window, rng: &mut SimRng, pool: &mut Pool, d: &mut Draw) {
    let count = draw_count(rng, explore.max_crashes.min(pool.budget));
    for _ in 0..count {
        let Some(replica) = pool.take(rng) else { return };
        let at_ms = window.start(rng);
        let recovers = rng.below(2) == 1 && at_ms + 1 < window.to_ms;
        let recover_s = recovers.then(|| secs(at_ms + 1 + rng.below(window.to_ms - at_ms - 1)));
        d.crashes.push(Crash { replica, at_s: secs(at_ms), recover_s });
    }
    d.crashes.sort_by_key(|c| c.replica);
}

fn draw_byzantine(explore: &Explore, rng: &mut SimRng, pool: &mut Pool, d: &mut Draw) {
    let count = draw_count(rng, explore.max_byzantine.min(pool.budget));
    for _ in 0..count {
        let Some(id) = pool.take(rng) else { return };
        let behavior = explore.behaviors[rng.below(explore.behaviors.len() as u64) as usize];
        d.byzantine.push((id, behavior));
    }
    d.byzantine.sort_by_key(|&(id, _)| id);
}

/// Two or three groups covering every replica, none empty.
fn draw_partition(n: u32, window: &Window, rng: &mut SimRng) -> Partition {
    let n_groups = if n >= 3 { 2 + rng.below(2) as usize } else { 2 };
    let mut order: Vec<u32> = (0..n).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let mut groups = vec![Vec::new(); n_groups];
    for (i, &id) in order.iter().enumerate() {
        let g = if i < n_groups { i } else { rng.below(n_groups as u64) as usize };
        groups[g].push(id);
    }
    groups.iter_mut().for_each(|g| g.sort_unstable());
    groups.sort();
    let (start_ms, heal_ms) = window.draw(rng);
    Partition { groups, start_s: secs(start_ms), heal_s: secs(heal_ms) }
}

/// The random per-message scheduler (with or without a slow replica), or, under HotStuff, the
/// Twins adversary with one twin if the budget allows.
fn draw_adversary(s: &Scenario, rng: &mut SimRng, pool: &mut Pool, d: &mut Draw) -> Adversary {
    let explore = s.explore.as_ref().expect("drawn only under [explore]");
    let twin = s.protocol().twin();
    if let Some(twin_behavior) = twin.filter(|_| rng.below(2) == 0) {
        let partitioned_views = 4 + rng.below(9);
        let until_ms = ms(explore.from_s) + 1 + rng.below(ms(explore.to_s - explore.from_s).max(1));
        if let Some(twin) = pool.take(rng) {
            d.byzantine.push((twin, twin_behavior));
        }
        let mode = AdversaryMode::Twins { partitioned_views, groups: 2, partition_until_s: secs(until_ms) };
        return Adversary { mode, delay_max_ms: 0.0 };
    }
    let delay = (10 + rng.below(81)) as f64 / 100.0;
    // No drops: the adversary lasts the whole run, and the liveness check starts after the last
    // fault; loss is drawn as spikes instead, which end.
    let drop = 0.0;
    let slow_replica = rng.below(2) == 1;
    // As far as a delay spike goes: the partial-synchrony bound the protocol's timeouts face.
    let delay_max_ms = (1 + rng.below((explore.extra_delay_max_ms.floor() as u64).max(1))) as f64;
    let mode = AdversaryMode::Random { targets: AdversaryTargets::Critical, delay, drop, slow_replica };
    Adversary { mode, delay_max_ms }
}

impl Draw {
    /// One short phrase per kind, "-" for a kind that drew nothing.
    pub fn columns(&self) -> [(FaultKind, String); 6] {
        let behavior = Behavior::name;
        let crash = self.crashes.iter().map(|c| match c.recover_s {
            Some(r) => format!("r{}@{}-{}", c.replica, c.at_s, r),
            None => format!("r{}@{}", c.replica, c.at_s),
        });
        let partition = self.partitions.iter().map(|p| {
            let groups: Vec<String> =
                p.groups.iter().map(|g| g.iter().map(u32::to_string).collect::<Vec<_>>().join(",")).collect();
            format!("{}@{}-{}", groups.join("|"), p.start_s, p.heal_s)
        });
        let byzantine = self.byzantine.iter().map(|&(id, b)| format!("r{id}={}", behavior(b)));
        let loss = self.loss_spikes.iter().map(|s| format!("{}@{}-{}", s.loss, s.start_s, s.end_s));
        let delay = self.delay_spikes.iter().map(|s| format!("+{}ms@{}-{}", s.extra_delay_ms, s.start_s, s.end_s));
        let adversary = self.adversary.iter().map(|a| match &a.mode {
            AdversaryMode::Twins { partitioned_views, partition_until_s, .. } => {
                format!("twins views 1-{partitioned_views} until {partition_until_s}")
            }
            AdversaryMode::Random { delay, drop, slow_replica, .. } => {
                let slow = if *slow_replica { " slow replica" } else { "" };
                format!("random delay {delay} drop {drop} max {}ms{slow}", a.delay_max_ms)
            }
            AdversaryMode::Off | AdversaryMode::Scripted(_) => "?".to_string(),
        });
        let join = |items: Vec<String>| if items.is_empty() { "-".to_string() } else { items.join(" ") };
        [
            (FaultKind::Crash, join(crash.collect())),
            (FaultKind::Partition, join(partition.collect())),
            (FaultKind::Byzantine, join(byzantine.collect())),
            (FaultKind::Loss, join(loss.collect())),
            (FaultKind::Delay, join(delay.collect())),
            (FaultKind::Adversary, join(adversary.collect())),
        ]
    }

    /// The whole draw in one line: `crash r2@0.41; byzantine r3=fork`, or `nothing`.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = self
            .columns()
            .into_iter()
            .filter(|(_, text)| text != "-")
            .map(|(kind, text)| format!("{} {text}", kind.name()))
            .collect();
        parts.extend(self.settings.as_ref().map(|set| format!("settings {}", set.phrases().join(", "))));
        if parts.is_empty() { "nothing".to_string() } else { parts.join("; ") }
    }
}

impl Settings {
    /// `closed 8 think 1ms`, `queue 128 drop`, `request_cores 1`, then the protocol's.
    pub fn phrases(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Pacing::Closed { outstanding, think_ms } = self.pacing {
            out.push(format!("closed {outstanding} think {think_ms}ms"));
        }
        if let Some(q) = self.queue {
            let overload = if q.overload == Overload::Drop { "drop" } else { "push_back" };
            out.push(format!("queue {} {overload}", q.limit));
        }
        if self.request_cores > 0 {
            out.push(format!("request_cores {}", self.request_cores));
        }
        out.extend(self.section_drawn.iter().cloned());
        out
    }
}

/// The concrete scenario of `seed` as TOML that loads (from `dest`'s folder, without
/// overrides) into `materialize` of the scenario: the file's text with the overrides and the
/// seed applied, `[explore]` removed and the drawn faults written in. None when the text would
/// not load back the same (a relative input path that `dest`'s folder does not reach, say).
pub fn concrete_toml(file: &Path, src: &str, sets: &[String], seed: u64, dest: &Path) -> Option<String> {
    let loaded = parse::load_str(file, src, sets, Some(seed)).ok()?;
    let concrete = materialize(&loaded);
    let text = parse::effective_toml(file, src, sets, Some(seed), Some(&loaded))?;
    let mut table: toml::Table = text.parse().ok()?;
    table.remove("explore");
    // A file named seed-N.toml would otherwise take its name from its own stem.
    table.insert("name".into(), toml::Value::String(loaded.name.clone()));
    if let Some(d) = draw(&loaded) {
        write_draw(&mut table, &d);
    }
    let mut text = String::new();
    if let Some(d) = draw(&loaded) {
        let _ = writeln!(text, "# Drawn by [explore] for seed {seed}: {}\n", d.summary());
    }
    text.push_str(&toml::to_string(&table).ok()?);
    let back = parse::load_str(dest, &text, &[], None).ok()?;
    (Scenario { inputs: Vec::new(), ..back } == Scenario { inputs: Vec::new(), ..concrete }).then_some(text)
}

/// Appends the draw's entries to the file's tables, in the order `apply` appends them.
fn write_draw(table: &mut toml::Table, d: &Draw) {
    use toml::Value as V;
    let faults = sub_table(table, "faults");
    for c in &d.crashes {
        let mut t = toml::Table::new();
        t.insert("replica".into(), V::Integer(i64::from(c.replica)));
        t.insert("at_s".into(), V::Float(c.at_s));
        if let Some(r) = c.recover_s {
            t.insert("recover_s".into(), V::Float(r));
        }
        push(faults, "crashes", t);
    }
    for p in &d.partitions {
        let mut t = toml::Table::new();
        let groups = p.groups.iter().map(|g| V::Array(g.iter().map(|&id| V::Integer(i64::from(id))).collect()));
        t.insert("groups".into(), V::Array(groups.collect()));
        t.insert("start_s".into(), V::Float(p.start_s));
        t.insert("heal_s".into(), V::Float(p.heal_s));
        push(faults, "partitions", t);
    }
    if faults.is_empty() {
        table.remove("faults");
    }
    for &(id, b) in &d.byzantine {
        let name = b.name();
        let mut t = toml::Table::new();
        t.insert("behavior".into(), V::String(name.to_string()));
        t.insert("replicas".into(), V::Array(vec![V::Integer(i64::from(id))]));
        push(table, "byzantine", t);
    }
    let network = sub_table(table, "network");
    for s in d.loss_spikes.iter().chain(&d.delay_spikes) {
        let mut t = toml::Table::new();
        t.insert("start_s".into(), V::Float(s.start_s));
        t.insert("end_s".into(), V::Float(s.end_s));
        t.insert("loss".into(), V::Float(s.loss));
        t.insert("extra_delay_ms".into(), V::Float(s.extra_delay_ms));
        push(network, "spikes", t);
    }
    if let Some(a) = &d.adversary {
        table.insert("adversary".into(), V::Table(adversary_table(a)));
    }
    if let Some(set) = &d.settings {
        write_settings(table, set);
    }
}

/// The drawn settings over the file's: `[clients]` loop and queue, `[cpu] request_cores`, the
/// protocol's section as a whole.
fn write_settings(table: &mut toml::Table, set: &Settings) {
    use toml::Value as V;
    if let Pacing::Closed { outstanding, think_ms } = set.pacing {
        let clients = sub_table(table, "clients");
        clients.insert("loop".into(), V::String("closed".into()));
        clients.insert("outstanding".into(), V::Integer(i64::from(outstanding)));
        clients.insert("think_ms".into(), V::Float(think_ms));
        sub_table(table, "workload").remove("rate_tps");
    }
    if let Some(q) = set.queue {
        let clients = sub_table(table, "clients");
        clients.insert("queue_limit".into(), V::Integer(i64::from(q.limit)));
        for key in ["overload", "backoff_ms", "backoff_max_ms"] {
            clients.remove(key);
        }
        if let Overload::PushBack { backoff_ms, backoff_max_ms } = q.overload {
            clients.insert("overload".into(), V::String("push_back".into()));
            clients.insert("backoff_ms".into(), V::Float(backoff_ms));
            clients.insert("backoff_max_ms".into(), V::Float(backoff_max_ms));
        }
    }
    if set.request_cores > 0 {
        sub_table(table, "cpu").insert("request_cores".into(), V::Integer(i64::from(set.request_cores)));
    }
    if !set.section_drawn.is_empty() {
        let keys = set.section.write().expect("a drawn section writes");
        table
            .insert(set.section.kind().name().into(), V::Table(keys.into_iter().map(|(k, v)| (k.into(), v)).collect()));
    }
}

fn adversary_table(a: &Adversary) -> toml::Table {
    use toml::Value as V;
    let mut t = toml::Table::new();
    match &a.mode {
        AdversaryMode::Twins { partitioned_views, groups, partition_until_s } => {
            t.insert("mode".into(), V::String("twins".into()));
            t.insert("partitioned_views".into(), V::Integer(*partitioned_views as i64));
            t.insert("groups".into(), V::Integer(i64::from(*groups)));
            t.insert("partition_until_s".into(), V::Float(*partition_until_s));
        }
        AdversaryMode::Random { delay, drop, slow_replica, .. } => {
            t.insert("mode".into(), V::String("random".into()));
            t.insert("targets".into(), V::String("critical".into()));
            t.insert("delay_max_ms".into(), V::Float(a.delay_max_ms));
            t.insert("delay".into(), V::Float(*delay));
            t.insert("drop".into(), V::Float(*drop));
            t.insert("slow_replica".into(), V::Boolean(*slow_replica));
        }
        AdversaryMode::Off | AdversaryMode::Scripted(_) => unreachable!("a swarm draws random or twins"),
    }
    t
}

fn sub_table<'t>(table: &'t mut toml::Table, key: &str) -> &'t mut toml::Table {
    let entry = table.entry(key).or_insert_with(|| toml::Value::Table(toml::Table::new()));
    entry.as_table_mut().expect("validated: a table")
}

fn push(table: &mut toml::Table, key: &str, item: toml::Table) {
    let list = table.entry(key).or_insert_with(|| toml::Value::Array(Vec::new()));
    list.as_array_mut().expect("validated: a list").push(toml::Value::Table(item));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(protocol: &str, extra: &str) -> Scenario {
        let src = format!(
            "protocol = \"{protocol}\"\nduration_s = 2\ndrain_s = 1\n[replicas]\nn = 7\n[network]\n\
             uniform_delay_ms = 5\n[workload]\nrate_tps = 100\n[explore]\n{extra}"
        );
        parse::load_str(Path::new("t.toml"), &src, &[], None).expect("valid")
    }

    #[test]
    fn a_draw_is_a_function_of_the_seed_and_stays_within_f() {
        let base = scenario("hotstuff", "");
        let mut kinds_seen = std::collections::BTreeSet::new();
        for seed in 1..200 {
            let s = Scenario { seed, ..base.clone() };
            let (a, b) = (materialize(&s), materialize(&s));
            assert_eq!(a, b);
            assert!(a.explore.is_none());
            let d = draw(&s).expect("[explore]");
            kinds_seen.extend(d.on.iter().copied());
            let mut faulty: Vec<u32> = d.crashes.iter().map(|c| c.replica).collect();
            faulty.extend(d.byzantine.iter().map(|b| b.0));
            let n_faulty = faulty.len();
            faulty.sort_unstable();
            faulty.dedup();
            assert_eq!(faulty.len(), n_faulty, "seed {seed}: a replica faulty twice: {d:?}");
            assert!(n_faulty <= 2, "seed {seed}: {n_faulty} faulty replicas, f = 2: {d:?}");
            for w in d.partitions.iter().map(|p| (p.start_s, p.heal_s)) {
                assert!(w.0 < w.1 && w.1 <= 1.0, "seed {seed}: {w:?}");
            }
        }
        assert_eq!(kinds_seen.len(), FaultKind::ALL.len(), "every kind drawn on some seed");
    }

    #[test]
    fn beyond_f_allows_more_faulty_replicas() {
        let base = scenario("hotstuff", "beyond_f = true\nmax_byzantine = 5\nkinds = [\"byzantine\"]\n");
        let most = (1..100).map(|seed| draw(&Scenario { seed, ..base.clone() }).unwrap().byzantine.len()).max();
        assert!(most > Some(2), "{most:?}");
    }

    #[test]
    fn the_concrete_file_loads_back_the_concrete_scenario() {
        let src = "protocol = \"hotstuff\"\nduration_s = 2\ndrain_s = 1\n[replicas]\nn = 4\n[network]\n\
                   uniform_delay_ms = 5\n[workload]\nrate_tps = 100\n[explore]\n";
        let path = Path::new("t.toml");
        for seed in 1..40 {
            let text = concrete_toml(path, src, &[], seed, path).expect("loads back");
            assert!(!text.lines().any(|l| l.starts_with("[explore")), "{text}");
        }
    }
}
