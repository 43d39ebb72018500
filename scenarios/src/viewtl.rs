//! The view timeline of `report.html`: a watcher keeping, per replica, the views (HotStuff) or
//! rounds (Algorand) it noted over virtual time, bounded to one point per replica per 1/1000 of
//! the run, with crashed intervals and partition windows; and the step chart drawn from them.

use sim_core::{Entry, FaultAction, Note, Record};

use crate::watch::{RunInfo, Watcher};
use plots::Figure;

/// Points per replica at most: one per bucket of the planned run.
pub const BUCKETS: u64 = 1000;
/// Replicas drawn one line each up to this many; more are summarized as min, median and max.
pub const LINES_MAX: usize = 16;
/// The figure's file stem in the results folder.
pub const STEM: &str = "view-timeline";

/// Test-only bugs of the watcher (see `ViewWatcher::planted`).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlantedBug {
    /// Keeps every view noted, ignoring the buckets.
    EveryPoint,
}

/// What the watcher kept of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Views {
    /// "view" or "round" (empty before a run: "view").
    pub view_word: &'static str,
    /// Whether a correct replica's view never goes back (HotStuff's).
    pub monotone: bool,
    pub n_replicas: u32,
    /// The width of a bucket: 1/1000 of the planned run.
    pub bucket_ns: u64,
    /// Per replica, the (time ns, view) steps, in time order, at most one per bucket.
    pub steps: Vec<Vec<(u64, u64)>>,
    /// Per replica, the crashed intervals (crash, recovery or the end of the run).
    pub crashes: Vec<Vec<(u64, u64)>>,
    /// Partition windows (open, heal or the end of the run), in opening order.
    pub partitions: Vec<(u64, u64)>,
    pub end_ns: u64,
}

impl Views {
    /// Whether any replica noted a view.
    pub fn noted(&self) -> bool {
        self.steps.iter().any(|s| !s.is_empty())
    }

    /// "view" or "round".
    pub fn word(&self) -> &'static str {
        if self.view_word.is_empty() { "view" } else { self.view_word }
    }

    /// The bucket bound and the order of points; for HotStuff, views never going back at a
    /// replica. The first rule broken.
    pub fn check(&self) -> Result<(), String> {
        for (replica, steps) in self.steps.iter().enumerate() {
            if let Some(w) = steps.windows(2).find(|w| w[1].0 / self.bucket_ns <= w[0].0 / self.bucket_ns) {
                return Err(format!("replica {replica}: two points in one bucket or out of order: {w:?}"));
            }
            let monotone = self.monotone;
            if let Some(w) = steps.windows(2).find(|w| monotone && w[1].1 < w[0].1) {
                return Err(format!("replica {replica}: the view went back: {w:?}"));
            }
        }
        for (replica, crashes) in self.crashes.iter().enumerate() {
            if let Some(c) = crashes.iter().find(|c| c.0 > c.1 || c.1 > self.end_ns) {
                return Err(format!("replica {replica}: a crashed interval out of the run: {c:?}"));
            }
        }
        Ok(())
    }

    /// The step chart and its caption, or `None` if no view was noted.
    pub fn figure(&self) -> Option<Figure> {
        if !self.noted() {
            return None;
        }
        let word = self.word();
        let secs = |t_ns: u64| t_ns as f64 / 1e9;
        let end_s = secs(self.end_ns);
        let mut chart = plots::Chart::new(
            format!("{}s over time per replica", capitalize(word)),
            "virtual time (s)",
            word,
            plots::Kind::Step,
        );
        let many = self.steps.len() > LINES_MAX;
        if many {
            for (name, points) in self.summary() {
                chart = chart.series(name, points);
            }
        } else {
            for (replica, steps) in self.steps.iter().enumerate() {
                let mut points: Vec<(f64, f64)> = steps.iter().map(|&(t, v)| (secs(t), v as f64)).collect();
                if let Some(&(_, v)) = points.last() {
                    points.push((end_s, v)); // the last view lasts to the end
                }
                chart = chart.series(format!("replica {replica}"), points);
            }
        }
        // A crashed replica notes nothing: its band sits at the view it stopped in.
        let top = self.steps.iter().flatten().map(|s| s.1).max().unwrap_or(0) as f64;
        let half = (top * 0.015).max(0.3);
        for (replica, crashes) in self.crashes.iter().enumerate() {
            for &(from, to) in crashes {
                let view = self.view_at(replica, from) as f64;
                chart =
                    chart.band("crashed", secs(from), secs(to), Some((view - half, view + half)), plots::Shade::Grey);
            }
        }
        for &(from, to) in &self.partitions {
            chart = chart.band("partitioned", secs(from), secs(to), None, plots::Shade::Amber);
        }
        let lines = if many {
            format!("the min, median and max {word} of the {} replicas", self.steps.len())
        } else {
            format!("the {word} of each replica")
        };
        let caption = format!(
            "{} over virtual time, at most one point per replica per 1/{BUCKETS} of the run (the last {word} in each); \
             grey: a crashed replica, at the {word} it stopped in; amber: a network partition.",
            capitalize(&lines)
        );
        Some(Figure { stem: STEM.into(), caption, chart })
    }

    /// The view `replica` held at `t_ns` (0 before its first note).
    fn view_at(&self, replica: usize, t_ns: u64) -> u64 {
        let steps = &self.steps[replica];
        let idx = steps.partition_point(|s| s.0 <= t_ns);
        if idx == 0 { 0 } else { steps[idx - 1].1 }
    }

    /// Min, median and max over replicas at the end of each bucket.
    fn summary(&self) -> Vec<(String, Vec<(f64, f64)>)> {
        let mut lines = [Vec::new(), Vec::new(), Vec::new()];
        let buckets = self.end_ns.div_ceil(self.bucket_ns).max(1);
        let mut views = Vec::with_capacity(self.steps.len());
        for bucket in 1..=buckets {
            let t_ns = (bucket * self.bucket_ns).min(self.end_ns);
            views.clear();
            views.extend((0..self.steps.len()).map(|r| self.view_at(r, t_ns)));
            views.sort_unstable();
            let t_s = t_ns as f64 / 1e9;
            for (line, v) in lines.iter_mut().zip([views[0], views[views.len() / 2], views[views.len() - 1]]) {
                if line.last().is_none_or(|&(_, last): &(f64, f64)| last != v as f64) {
                    line.push((t_s, v as f64));
                }
            }
        }
        let [min, median, max] = lines;
        vec![("min".into(), min), ("median".into(), median), ("max".into(), max)]
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
}

/// The watcher `byzsim run` attaches when it writes a results folder.
#[derive(Debug)]
pub struct ViewWatcher {
    views: Views,
    run_ns: u64,
    open_partitions: Vec<(u32, u64)>,
    /// Test-only: a bug planted in the watcher, to show the checks catch it. Never set by the CLI.
    #[doc(hidden)]
    pub planted: Option<PlantedBug>,
}

impl ViewWatcher {
    /// For a run planned to last `run_ns` (duration and drain).
    pub fn new(run_ns: u64) -> ViewWatcher {
        ViewWatcher { views: Views::default(), run_ns, open_partitions: Vec::new(), planted: None }
    }

    /// What it kept, with open crashes and partitions closed at `end_ns`.
    pub fn finish(&self, end_ns: u64) -> Views {
        let mut views = self.views.clone();
        views.end_ns = end_ns;
        for crashes in &mut views.crashes {
            if let Some(last) = crashes.last_mut().filter(|c| c.1 == u64::MAX) {
                last.1 = end_ns.max(last.0);
            }
        }
        for &(_, from) in &self.open_partitions {
            views.partitions.push((from, end_ns.max(from)));
        }
        views
    }

    fn view(&mut self, replica: usize, t_ns: u64, view: u64) {
        let bucket_ns = self.views.bucket_ns;
        let steps = &mut self.views.steps[replica];
        match steps.last_mut() {
            Some(last) if last.1 == view => {}
            Some(last) if last.0 / bucket_ns == t_ns / bucket_ns && self.planted.is_none() => *last = (t_ns, view),
            _ => steps.push((t_ns, view)),
        }
        // A later view in the same bucket may return to the one before it: one point suffices.
        if let [.., a, b] = steps.as_slice()
            && a.1 == b.1
        {
            steps.pop();
        }
    }
}

impl Watcher for ViewWatcher {
    fn begin(&mut self, info: &RunInfo) {
        let n = info.n_replicas as usize;
        self.views = Views {
            view_word: info.view_word,
            monotone: info.views_monotone,
            n_replicas: info.n_replicas,
            bucket_ns: (self.run_ns / BUCKETS).max(1),
            steps: vec![Vec::new(); n],
            crashes: vec![Vec::new(); n],
            partitions: Vec::new(),
            end_ns: 0,
        };
    }

    fn wants_about(&self, _: &Entry) -> bool {
        false
    }

    fn record(&mut self, entry: &Entry, _: &str) {
        let t_ns = entry.at.0;
        match entry.record {
            Record::Note { node, note: Note::View { view } } if node.0 < self.views.n_replicas => {
                self.view(node.idx(), t_ns, view)
            }
            Record::Fault { node, action } if node.0 < self.views.n_replicas => {
                let crashes = &mut self.views.crashes[node.idx()];
                match action {
                    FaultAction::Crash => crashes.push((t_ns, u64::MAX)),
                    FaultAction::Recover => {
                        if let Some(last) = crashes.last_mut().filter(|c| c.1 == u64::MAX) {
                            last.1 = t_ns;
                        }
                    }
                }
            }
            Record::Partition { index, open: true } => self.open_partitions.push((index, t_ns)),
            Record::Partition { index, open: false } => {
                if let Some(i) = self.open_partitions.iter().position(|p| p.0 == index) {
                    let (_, from) = self.open_partitions.remove(i);
                    self.views.partitions.push((from, t_ns));
                }
            }
            _ => {}
        }
    }
}
