//! Rate curves: transactions per second over time, as a step function or with linear
//! interpolation between points. Read from a rate series (`t_s, rate_tps`) or from the Diablo
//! benchmark's curves file (one `workload_id` of it); expanded into arrivals by `replay`.

use crate::error::{Problems, TraceError};
use crate::table::{self, Reader};

/// How the rate varies between two points of a curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interpolation {
    /// A point's rate holds until the next point.
    Step,
    /// The rate moves linearly from one point to the next.
    Linear,
}

/// Rates over time. The curve starts at its first point (time 0) and ends at its last: under
/// `Step` the last point's rate is never used (it conventionally says 0).
#[derive(Clone, Debug, PartialEq)]
pub struct RateCurve {
    /// (nanoseconds after the first point, transactions per second); strictly increasing
    /// times, at least two points.
    pub points: Vec<(u64, f64)>,
    pub interpolation: Interpolation,
}

impl RateCurve {
    /// A curve from points in seconds (built-in tables); panics on a malformed table.
    pub fn from_secs(points: &[(f64, f64)], interpolation: Interpolation) -> RateCurve {
        let points: Vec<(u64, f64)> = points.iter().map(|&(t, r)| ((t * 1e9).round() as u64, r)).collect();
        assert!(points.len() >= 2 && points.windows(2).all(|w| w[0].0 < w[1].0) && points[0].0 == 0);
        assert!(points.iter().all(|p| p.1.is_finite() && p.1 >= 0.0));
        RateCurve { points, interpolation }
    }

    /// Time of the last point: the curve's length in nanoseconds.
    pub fn span_ns(&self) -> u64 {
        self.points.last().map_or(0, |p| p.0)
    }

    /// The pieces of the curve that overlap [from_ns, to_ns): (start, end, rate at start,
    /// rate at end), in nanoseconds and transactions per second, clipped to the interval.
    pub fn pieces(&self, from_ns: u64, to_ns: u64) -> Vec<(u64, u64, f64, f64)> {
        let mut out = Vec::new();
        for w in self.points.windows(2) {
            let ((t0, r0), (t1, r1)) = (w[0], w[1]);
            let (a, b) = (t0.max(from_ns), t1.min(to_ns));
            if a >= b {
                continue;
            }
            let rate_at = |t: u64| match self.interpolation {
                Interpolation::Step => r0,
                Interpolation::Linear => r0 + (r1 - r0) * ((t - t0) as f64 / (t1 - t0) as f64),
            };
            out.push((a, b, rate_at(a), rate_at(b)));
        }
        out
    }

    /// Transactions the curve offers in [from_ns, to_ns).
    pub fn integral(&self, from_ns: u64, to_ns: u64) -> f64 {
        self.pieces(from_ns, to_ns).iter().map(|&(a, b, ra, rb)| (ra + rb) / 2.0 * ((b - a) as f64 / 1e9)).sum()
    }
}

const SERIES_HEADER: &str = "t_s,rate_tps";

/// Reads a rate series: a header `t_s,rate_tps`, then one point per row, times strictly
/// increasing. Times are shifted so that the first point is at 0.
pub fn parse_rate_series(file: &str, text: &str, interpolation: Interpolation) -> Result<RateCurve, Vec<TraceError>> {
    let mut problems = Problems::new(file);
    let mut reader = Reader::new(text);
    let empty = RateCurve { points: Vec::new(), interpolation };
    let Some(header) = table::header(&mut reader, &mut problems, SERIES_HEADER) else { return problems.finish(empty) };
    let Some(cols) = header.require(&["t_s", "rate_tps"], &mut problems) else { return problems.finish(empty) };
    let mut points = Vec::new();
    while let Some(row) = reader.next(&mut problems) {
        if let Some(point) = read_point(&reader, &row, (cols[0], "t_s"), (cols[1], "rate_tps"), &mut problems) {
            check_after(&reader, &row, (cols[0], "t_s"), points.last(), point.0, &mut problems);
            points.push(point);
        }
    }
    finish_curve(problems, points, interpolation, "rows")
}

/// A (time, rate) point of a row, or None after reporting what is wrong with it.
fn read_point(
    reader: &Reader<'_>,
    row: &table::Row,
    (t_col, t_name): (usize, &str),
    (r_col, r_name): (usize, &str),
    problems: &mut Problems,
) -> Option<(u64, f64)> {
    let mut field = |idx: usize, name: &str| -> Option<&str> {
        let column = Some(reader.column(row, idx));
        match row.get(idx) {
            Some(text) if !text.is_empty() => Some(text),
            Some(_) => {
                problems.at(row.line, column, name, "is empty");
                None
            }
            None => {
                problems.at(row.line, column, name, format!("the row has {} fields; `{name}` is missing", row.len()));
                None
            }
        }
    };
    let (t, r) = (field(t_col, t_name), field(r_col, r_name));
    let t = t.and_then(|t| match table::seconds_ns(t) {
        Ok(ns) => Some(ns),
        Err(message) => {
            problems.at(row.line, Some(reader.column(row, t_col)), t_name, message);
            None
        }
    });
    let r = r.and_then(|r| match table::rate_tps(r) {
        Ok(rate) => Some(rate),
        Err(message) => {
            problems.at(row.line, Some(reader.column(row, r_col)), r_name, message);
            None
        }
    });
    Some((t?, r?))
}

/// Times must increase strictly from one point to the next.
fn check_after(
    reader: &Reader<'_>,
    row: &table::Row,
    (t_col, t_name): (usize, &str),
    previous: Option<&(u64, f64)>,
    t_ns: u64,
    problems: &mut Problems,
) {
    let Some(&(before, _)) = previous else { return };
    if t_ns <= before {
        let message = format!(
            "{} s is not after the previous point ({} s): times must increase from row to row",
            t_ns as f64 / 1e9,
            before as f64 / 1e9
        );
        problems.at(row.line, Some(reader.column(row, t_col)), t_name, message);
    }
}

fn finish_curve(
    mut problems: Problems,
    mut points: Vec<(u64, f64)>,
    interpolation: Interpolation,
    what: &str,
) -> Result<RateCurve, Vec<TraceError>> {
    if problems.is_empty() && points.len() < 2 {
        let message =
            format!("the curve has {} {what}; it needs at least two: the last one marks its end", points.len());
        problems.push(TraceError::new(problems.file(), message).help(
            "a curve holds from its first point to its last; end a step curve with a row of rate 0 at the end time",
        ));
    }
    let first = points.first().map_or(0, |p| p.0);
    points.iter_mut().for_each(|p| p.0 -= first);
    problems.finish(RateCurve { points, interpolation })
}

const DIABLO_HEADER: &str = "workload_id,contract_function,t_start_s,rate_tps,description";

/// Reads the curve of one `workload_id` from a Diablo rate-curves file (columns
/// `workload_id, contract_function, t_start_s, rate_tps, description`; the last two are not
/// needed). With no `interpolation`, the Diablo convention: a curve whose last row has rate 0
/// is a step function ended by that row; one whose last row does not (the Twitter spike) is
/// interpolated linearly.
pub fn parse_diablo(
    file: &str,
    text: &str,
    workload_id: &str,
    interpolation: Option<Interpolation>,
) -> Result<RateCurve, Vec<TraceError>> {
    let mut problems = Problems::new(file);
    let mut reader = Reader::new(text);
    let empty = RateCurve { points: Vec::new(), interpolation: Interpolation::Step };
    let Some(header) = table::header(&mut reader, &mut problems, DIABLO_HEADER) else {
        return problems.finish(empty);
    };
    let names = ["workload_id", "t_start_s", "rate_tps"];
    let Some(cols) = header.require(&names, &mut problems) else { return problems.finish(empty) };
    // The ids in file order, for the help text; the set keeps the lookup per row cheap.
    let mut ids: Vec<String> = Vec::new();
    let mut known_ids: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut points = Vec::new();
    while let Some(row) = reader.next(&mut problems) {
        let id = row.get(cols[0]).unwrap_or("");
        if id.is_empty() {
            problems.at(row.line, Some(reader.column(&row, cols[0])), "workload_id", "is empty");
            continue;
        }
        if !known_ids.contains(id) {
            known_ids.insert(id.to_string());
            ids.push(id.to_string());
        }
        let Some(point) = read_point(&reader, &row, (cols[1], "t_start_s"), (cols[2], "rate_tps"), &mut problems)
        else {
            continue;
        };
        if id == workload_id {
            check_after(&reader, &row, (cols[1], "t_start_s"), points.last(), point.0, &mut problems);
            points.push(point);
        }
    }
    if problems.is_empty() && points.is_empty() {
        let message = if ids.is_empty() {
            "the file holds no curve: only a header".to_string()
        } else if let Some(near) = closest(workload_id, &ids) {
            format!("no curve has workload_id \"{workload_id}\"; did you mean \"{near}\"?")
        } else {
            format!("no curve has workload_id \"{workload_id}\"")
        };
        let e = TraceError::new(file, message).field("workload_id");
        problems.push(if ids.is_empty() { e } else { e.help(format!("the workload ids are: {}", ids.join(", "))) });
    }
    let last_rate = points.last().map_or(0.0, |p| p.1);
    let default = if last_rate == 0.0 { Interpolation::Step } else { Interpolation::Linear };
    finish_curve(problems, points, interpolation.unwrap_or(default), "rows for this workload_id")
}

/// The id closest to `word` by edit distance, if close enough to be a typo.
fn closest<'i>(word: &str, ids: &'i [String]) -> Option<&'i str> {
    let distance = |a: &str, b: &str| {
        let b: Vec<char> = b.chars().collect();
        let mut previous: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut current = vec![i + 1];
            for (j, cb) in b.iter().enumerate() {
                current.push((previous[j] + usize::from(ca != *cb)).min(previous[j + 1] + 1).min(current[j] + 1));
            }
            previous = current;
        }
        previous[b.len()]
    };
    let (best, d) = ids.iter().map(|id| (id.as_str(), distance(word, id))).min_by_key(|p| p.1)?;
    (d <= (word.chars().count() / 3).max(1)).then_some(best)
}
