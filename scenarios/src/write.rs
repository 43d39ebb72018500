//! A validated `Scenario` written back as scenario TOML: every key explicit, so that the text
//! loads (with `parse::load_str`, without overrides) into the very same scenario.
//!
//! `parse::effective_toml` renders a file with its overrides applied; this writer renders a
//! scenario that exists only in memory (one `byzsim shrink` made). Files a scenario reads
//! (matrix, trace, cost profile) stay files: they are named by the path the scenario gave
//! when the written file sits in the folder they are relative to, else by an absolute path.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use traces::Trace;

use crate::model::{
    self, Adversary, AdversaryAction, AdversaryMode, AdversaryTargets, Arrivals, Behavior, ClientsBy, Delay, Jitter,
    Overload, Pacing, Scenario, TraceReplay, TraceSource, Who,
};
use crate::parse::fields;
use crate::{parse, presets};

/// The scenario as TOML, to be saved in `dir` (where relative input paths are resolved from).
/// Fails only for a value TOML cannot hold (an integer above `i64::MAX`, such as a huge seed)
/// or an input file the scenario no longer names.
pub fn to_toml(s: &Scenario, dir: &Path) -> Result<String, String> {
    let mut w = Writer { text: String::new(), dir, inputs: &s.inputs };
    w.top(s)?;
    w.replicas(s);
    w.clients(s);
    w.network(s)?;
    w.faults(s);
    w.byzantine(s)?;
    if let Some(bound) = s.checks.liveness_bound_s {
        w.section("checks");
        w.float("liveness_bound_s", bound);
    }
    w.adversary(&s.adversary)?;
    w.workload(s)?;
    for (name, keys) in protocols::write_tables(&s.section, s.genesis_balance)? {
        w.section(name);
        keys.into_iter().for_each(|(key, value)| w.value(key, value));
    }
    w.cpu(s)?;
    w.limits(s)?;
    if let Some(e) = &s.explore {
        w.explore(e, s.protocol())?;
    }
    w.section("output");
    w.float("window_s", s.output.window_s);
    w.value("latency_csv", s.output.latency_csv.into());
    w.value("flight_records", (s.output.flight_records as i64).into());
    Ok(w.text)
}

struct Writer<'a> {
    text: String,
    dir: &'a Path,
    inputs: &'a [PathBuf],
}

use crate::protocols::{self, toml_int as int};

fn strings(items: &[String]) -> toml::Value {
    toml::Value::Array(items.iter().map(|s| toml::Value::String(s.clone())).collect())
}

fn ids(items: &[u32]) -> toml::Value {
    toml::Value::Array(items.iter().map(|&i| toml::Value::Integer(i64::from(i))).collect())
}

/// The first name of `value` in a table of (name, value).
fn name_of<T: PartialEq>(table: &[(&'static str, T)], value: T) -> &'static str {
    table.iter().find(|(_, v)| *v == value).map(|(name, _)| *name).expect("every value has a name")
}

impl Writer<'_> {
    fn section(&mut self, header: &str) {
        let _ = write!(self.text, "\n[{header}]\n");
    }

    fn entry(&mut self, header: &str) {
        let _ = write!(self.text, "\n[[{header}]]\n");
    }

    fn value(&mut self, key: &str, value: toml::Value) {
        let _ = writeln!(self.text, "{key} = {value}");
    }

    fn float(&mut self, key: &str, v: f64) {
        self.value(key, v.into());
    }

    fn str(&mut self, key: &str, v: &str) {
        self.value(key, v.into());
    }

    fn int(&mut self, key: &str, v: u64) -> Result<(), String> {
        let value = int(key, v)?;
        self.value(key, value);
        Ok(())
    }

    /// How the written file names an input file the scenario named `given`: unchanged when
    /// the file is read from the same place relative to `dir`, else by its absolute path.
    fn input_path(&self, given: &str) -> Result<String, String> {
        let opened = self
            .inputs
            .iter()
            .find(|p| p.ends_with(given))
            .ok_or_else(|| format!("the scenario names {given} but did not read it"))?;
        self.path_of(opened, given)
    }

    fn path_of(&self, opened: &Path, given: &str) -> Result<String, String> {
        if *opened == self.dir.join(given) {
            return Ok(given.to_string());
        }
        let absolute = std::path::absolute(opened).map_err(|e| format!("{}: {e}", opened.display()))?;
        absolute.to_str().map(str::to_string).ok_or_else(|| format!("{} is not UTF-8", absolute.display()))
    }

    fn top(&mut self, s: &Scenario) -> Result<(), String> {
        self.str("name", &s.name);
        if !s.description.is_empty() {
            self.str("description", &s.description);
        }
        self.int("seed", s.seed)?;
        self.str("protocol", s.protocol().name());
        self.float("duration_s", s.duration_s);
        self.float("warmup_s", s.warmup_s);
        self.float("drain_s", s.drain_s);
        Ok(())
    }

    fn replicas(&mut self, s: &Scenario) {
        let r = &s.replicas;
        self.section("replicas");
        self.value("n", i64::from(r.n).into());
        self.value("f", i64::from(r.f).into());
        self.value("regions", strings(&r.regions));
        self.float("uplink_mbps", r.uplink_mbps);
        self.float("downlink_mbps", r.downlink_mbps);
    }

    fn clients(&mut self, s: &Scenario) {
        let c = &s.clients;
        self.section("clients");
        self.value("count", i64::from(c.count).into());
        self.value("regions", strings(&c.regions));
        self.str("send_to", fields::clients::send_to.name_of(fields::SEND_POLICIES, c.send_to));
        if let Some(retry) = c.retry_ms {
            self.float("retry_ms", retry);
        }
        self.float("uplink_mbps", c.uplink_mbps);
        self.float("downlink_mbps", c.downlink_mbps);
        self.pacing(c);
    }

    /// `loop` and its fields, and the request bound, written only where they are not defaults.
    fn pacing(&mut self, c: &model::Clients) {
        if let Pacing::Closed { outstanding, think_ms } = c.pacing {
            self.str("loop", "closed");
            self.value("outstanding", i64::from(outstanding).into());
            self.float("think_ms", think_ms);
        }
        let Some(q) = c.queue else { return };
        self.value("queue_limit", i64::from(q.limit).into());
        match q.overload {
            Overload::Drop => self.str("overload", "drop"),
            Overload::PushBack { backoff_ms, backoff_max_ms } => {
                self.str("overload", "push_back");
                self.float("backoff_ms", backoff_ms);
                self.float("backoff_max_ms", backoff_max_ms);
            }
        }
    }

    fn network(&mut self, s: &Scenario) -> Result<(), String> {
        let n = &s.network;
        self.section("network");
        match &n.delay {
            Delay::Uniform { one_way_ms } => self.float("uniform_delay_ms", *one_way_ms),
            Delay::Matrix { source, regions, one_way_ms } => {
                let preset = presets::get(source).filter(|(r, m)| r == regions && m == one_way_ms);
                if preset.is_some() {
                    self.str("matrix", source);
                } else {
                    let path = self.input_path(source)?;
                    self.str("matrix_file", &path);
                }
            }
        }
        let jitter: Option<Vec<(&str, toml::Value)>> = match n.jitter {
            Jitter::None => None,
            Jitter::Uniform { max_ms } => Some(vec![("kind", "uniform".into()), ("max_ms", max_ms.into())]),
            Jitter::Normal { mean_ms, sd_ms } => {
                Some(vec![("kind", "normal".into()), ("mean_ms", mean_ms.into()), ("sd_ms", sd_ms.into())])
            }
            Jitter::LogNormal { median_ms, sigma } => {
                Some(vec![("kind", "lognormal".into()), ("median_ms", median_ms.into()), ("sigma", sigma.into())])
            }
            Jitter::Pareto { scale_ms, shape } => {
                Some(vec![("kind", "pareto".into()), ("scale_ms", scale_ms.into()), ("shape", shape.into())])
            }
        };
        if let Some(fields) = jitter {
            let table: toml::Table = fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            self.value("jitter", toml::Value::Table(table));
        }
        self.float("loss", n.loss);
        self.value("fifo", n.fifo.into());
        Ok(())
    }

    fn faults(&mut self, s: &Scenario) {
        for p in &s.faults.partitions {
            self.entry("faults.partitions");
            let groups = p.groups.iter().map(|g| ids(g)).collect();
            self.value("groups", toml::Value::Array(groups));
            self.float("start_s", p.start_s);
            self.float("heal_s", p.heal_s);
        }
        for c in &s.faults.crashes {
            self.entry("faults.crashes");
            self.value("replica", i64::from(c.replica).into());
            self.float("at_s", c.at_s);
            if let Some(r) = c.recover_s {
                self.float("recover_s", r);
            }
        }
    }

    fn explore(&mut self, e: &crate::model::Explore, protocol: crate::model::ProtocolKind) -> Result<(), String> {
        self.section("explore");
        let kinds: Vec<String> = e.kinds.iter().map(|k| k.name().to_string()).collect();
        self.value("kinds", strings(&kinds));
        self.value("beyond_f", e.beyond_f.into());
        self.value("max_crashes", i64::from(e.max_crashes).into());
        self.value("max_byzantine", i64::from(e.max_byzantine).into());
        self.value("max_partitions", i64::from(e.max_partitions).into());
        self.value("max_spikes", i64::from(e.max_spikes).into());
        self.float("from_s", e.from_s);
        self.float("to_s", e.to_s);
        self.float("max_window_s", e.max_window_s);
        self.float("loss_max", e.loss_max);
        self.float("extra_delay_max_ms", e.extra_delay_max_ms);
        if !e.behaviors.is_empty() {
            let names = parse::protocol_behaviors(protocol);
            let mut list = Vec::new();
            for b in &e.behaviors {
                let name = names.iter().find(|(_, v)| v == b).map(|(name, _)| name.to_string());
                list.push(name.ok_or_else(|| format!("{b:?} is no behaviour of this protocol"))?);
            }
            self.value("behaviors", strings(&list));
        }
        if e.settings {
            self.value("settings", true.into());
        }
        Ok(())
    }

    fn byzantine(&mut self, s: &Scenario) -> Result<(), String> {
        let names = parse::protocol_behaviors(s.protocol());
        for b in &s.byzantine {
            self.entry("byzantine");
            let name = names.iter().find(|(_, v)| *v == b.behavior).map(|(name, _)| *name);
            let name = name.ok_or_else(|| format!("{:?} is no behaviour of this protocol", b.behavior))?;
            self.str("behavior", name);
            match &b.who {
                Who::Replicas(list) => self.value("replicas", ids(list)),
                Who::Count(count) => self.value("count", i64::from(*count).into()),
            }
            if b.behavior == Behavior::Crash {
                self.float("at_s", b.at_s.expect("validated: a crash has a time"));
                if let Some(r) = b.recover_s {
                    self.float("recover_s", r);
                }
            }
        }
        Ok(())
    }

    fn adversary(&mut self, a: &Adversary) -> Result<(), String> {
        match &a.mode {
            AdversaryMode::Off => {}
            AdversaryMode::Random { targets, delay, drop, slow_replica } => {
                self.section("adversary");
                self.str("mode", "random");
                self.float("delay_max_ms", a.delay_max_ms);
                let targets = match targets {
                    AdversaryTargets::Critical => "critical".into(),
                    AdversaryTargets::All => "all".into(),
                    AdversaryTargets::Kinds(kinds) => strings(kinds),
                };
                self.value("targets", targets);
                self.float("delay", *delay);
                self.float("drop", *drop);
                self.value("slow_replica", (*slow_replica).into());
            }
            AdversaryMode::Twins { partitioned_views, groups, partition_until_s } => {
                self.section("adversary");
                self.str("mode", "twins");
                self.int("partitioned_views", *partitioned_views)?;
                self.value("groups", i64::from(*groups).into());
                self.float("partition_until_s", *partition_until_s);
            }
            AdversaryMode::Scripted(rules) => {
                self.section("adversary");
                self.str("mode", "scripted");
                self.float("delay_max_ms", a.delay_max_ms);
                for rule in rules {
                    self.entry("adversary.rules");
                    if !rule.kinds.is_empty() {
                        self.value("kinds", strings(&rule.kinds));
                    }
                    if let Some(from) = rule.from {
                        self.value("from", i64::from(from).into());
                    }
                    if let Some(to) = rule.to {
                        self.value("to", i64::from(to).into());
                    }
                    if let Some((first, last)) = rule.views {
                        self.value("views", toml::Value::Array(vec![int("views", first)?, int("views", last)?]));
                    }
                    match rule.action {
                        AdversaryAction::Delay { delay_ms } => {
                            self.str("action", "delay");
                            self.float("delay_ms", delay_ms);
                        }
                        AdversaryAction::Hold { until_s } => {
                            self.str("action", "hold");
                            self.float("until_s", until_s);
                        }
                        AdversaryAction::Drop => self.str("action", "drop"),
                    }
                }
            }
        }
        Ok(())
    }

    fn workload(&mut self, s: &Scenario) -> Result<(), String> {
        let w = &s.workload;
        self.section("workload");
        let arrivals = [("poisson", Arrivals::Poisson), ("constant", Arrivals::Constant)];
        let Some(replay) = &w.trace else {
            self.str("source", "synthetic");
            self.str("arrivals", name_of(&arrivals, w.arrivals));
            if s.clients.pacing == Pacing::Open {
                self.float("rate_tps", w.rate_tps);
            }
            self.int("accounts", u64::from(w.accounts))?;
            self.float("zipf_s", w.zipf_s);
            self.value("tx_size_bytes", i64::from(w.tx_size_bytes).into());
            return Ok(());
        };
        self.trace(replay)?;
        // The fields each source takes (parse/workload.rs): a per-transaction trace has its own
        // arrivals and accounts, NASDAQ its own arrivals.
        let source = replay.source;
        if matches!(source, TraceSource::Rates | TraceSource::Diablo | TraceSource::Preset) {
            self.str("arrivals", name_of(&arrivals, w.arrivals));
        }
        if source != TraceSource::Transactions {
            self.float("zipf_s", w.zipf_s);
        }
        self.int("accounts", u64::from(w.accounts))?;
        self.value("tx_size_bytes", i64::from(w.tx_size_bytes).into());
        Ok(())
    }

    fn trace(&mut self, r: &TraceReplay) -> Result<(), String> {
        let sources = [
            ("transactions", TraceSource::Transactions),
            ("rates", TraceSource::Rates),
            ("nasdaq", TraceSource::Nasdaq),
            ("diablo", TraceSource::Diablo),
            ("preset", TraceSource::Preset),
        ];
        self.str("source", name_of(&sources, r.source));
        if r.source == TraceSource::Preset {
            self.str("preset", &r.name);
        } else {
            let path = self.input_path(&r.name)?;
            self.str("file", &path);
        }
        if let Some(id) = &r.workload_id {
            self.str("workload_id", id);
        }
        if let Trace::Rates(curve) = &r.trace {
            let linear = curve.interpolation == traces::Interpolation::Linear;
            self.str("interpolate", if linear { "linear" } else { "step" });
        }
        self.float("start_s", r.start_s);
        if let Some(window) = r.window_s {
            self.float("window_s", window);
        }
        self.float("time_scale", r.time_scale);
        self.float("rate_scale", r.rate_scale);
        let by = [("round_robin", ClientsBy::RoundRobin), ("sender", ClientsBy::Sender)];
        self.str("clients_by", name_of(&by, r.clients_by));
        Ok(())
    }

    fn cpu(&mut self, s: &Scenario) -> Result<(), String> {
        let c = &s.cpu;
        self.section("cpu");
        self.int("cores", u64::from(c.cores))?;
        if c.request_cores > 0 {
            self.int("request_cores", u64::from(c.request_cores))?;
        }
        self.float("base_us", c.base_us);
        if let Some(request_base) = c.request_base_us {
            self.float("request_base_us", request_base);
        }
        self.float("per_kib_us", c.per_kib_us);
        if c.per_tx_us > 0.0 {
            self.float("per_tx_us", c.per_tx_us);
        }
        self.str("crypto", fields::cpu::crypto.name_of(fields::CRYPTO_MODES, c.crypto));
        match builtin_profile(&c.profile) {
            Some(name) => self.str("profile", name),
            None => {
                let path = self.profile_file(s)?;
                self.str("profile_file", &path);
            }
        }
        self.float("client_verify_us", c.client_verify_us);
        Ok(())
    }

    /// The calibrated profile's file: the input that is neither the matrix nor the trace.
    fn profile_file(&self, s: &Scenario) -> Result<String, String> {
        let matrix = match &s.network.delay {
            Delay::Matrix { source, .. } if presets::get(source).is_none() => Some(source.as_str()),
            _ => None,
        };
        let trace = s.workload.trace.as_ref().filter(|r| r.source != TraceSource::Preset).map(|r| r.name.as_str());
        let other = |p: &&PathBuf| ![matrix, trace].into_iter().flatten().any(|named| p.ends_with(named));
        let opened = self.inputs.iter().find(other).ok_or("the scenario's cost profile file is unknown")?;
        let given = opened.file_name().and_then(|f| f.to_str()).unwrap_or_default();
        self.path_of(opened, given)
    }

    fn limits(&mut self, s: &Scenario) -> Result<(), String> {
        let l = &s.limits;
        self.section("limits");
        self.int("max_events", l.max_events)?;
        self.int("max_queue", l.max_queue)?;
        self.int("max_cpu_queue", l.max_cpu_queue)?;
        self.int("max_transactions", l.max_transactions)?;
        self.int("max_stalled_events", l.max_stalled_events)
    }
}

/// The built-in profile with exactly these costs, if any.
fn builtin_profile(p: &crate::model::CostProfile) -> Option<&'static str> {
    ["blst-x86-2core", "free"].into_iter().find(|name| {
        let text =
            format!("duration_s = 1\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n[cpu]\nprofile = \"{name}\"\n");
        minimal(&text).is_some_and(|s| s.cpu.profile == *p)
    })
}

fn minimal(text: &str) -> Option<Scenario> {
    parse::load_str(Path::new("preset.toml"), text, &[], None).ok()
}
