//! Many runs at once, for `compare` and `sweep`: the worker pool (threads across runs, never
//! inside one), the progress bar, the seed range, and the failure type of the batch commands.
//!
//! Determinism: each run is a pure function of its scenario, so which worker runs it and when
//! does not matter; results come back indexed and are put in job order before anything is
//! written. The output is the same whatever the number of workers.
#![allow(clippy::disallowed_types)] // the boundary may use std collections freely; the core may not

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use indicatif::{ProgressBar, ProgressStyle};

/// Why a batch command stops, with its exit code (2 bad input, 1 results not written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    /// Bad input: exit code 2.
    pub fn input(message: impl Into<String>) -> Failure {
        Failure { code: 2, message: message.into() }
    }

    /// The results could not be written: exit code 1.
    pub fn output(message: impl Into<String>) -> Failure {
        Failure { code: 1, message: message.into() }
    }
}

/// Parses `FIRST..LAST` (inclusive; `FIRST..=LAST` too).
pub fn parse_seed_range(text: &str) -> Result<(u64, u64), String> {
    let (a, b) = text.split_once("..").ok_or("expected FIRST..LAST, like 1..1000")?;
    let first: u64 = a.trim().parse().map_err(|e| format!("first seed {a:?}: {e}"))?;
    let last: u64 = b.trim().trim_start_matches('=').parse().map_err(|e| format!("last seed {b:?}: {e}"))?;
    if last < first {
        return Err(format!("the range {first}..{last} is empty"));
    }
    Ok((first, last))
}

/// Most runs one batch may ask for: a typo in a seed range must not queue a billion runs.
pub const MAX_RUNS: u64 = 10_000_000;

/// The seeds of an inclusive range, refused when larger than [`MAX_RUNS`].
pub fn seeds_of((first, last): (u64, u64)) -> Result<Vec<u64>, Failure> {
    let count = last.saturating_sub(first).saturating_add(1);
    if count > MAX_RUNS {
        return Err(Failure::input(format!("--seeds {first}..{last}: {count} seeds; at most {MAX_RUNS} runs")));
    }
    Ok((first..=last).collect())
}

/// The default number of workers: the machine's cores.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// A progress bar of runs done with an ETA, on stderr when it is a terminal; hidden when
/// `quiet` and when stderr is a file or a pipe (CI logs).
pub fn progress_bar(runs: usize, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(runs as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} runs [{bar:40}] {pos}/{len} ({elapsed}, ETA {eta}) {msg}")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar
}

/// Runs `work` on every job over `workers` threads and returns the results in job order.
/// `done(i)` is called on the calling thread as each job finishes (in completion order), for
/// progress. With one worker (or one job) everything runs on the calling thread.
pub fn run_all<J, R, W, D>(jobs: &[J], workers: usize, work: W, mut done: D) -> Vec<R>
where
    J: Sync,
    R: Send,
    W: Fn(&J) -> R + Sync,
    D: FnMut(usize),
{
    let workers = workers.clamp(1, jobs.len().max(1));
    if workers == 1 {
        return jobs
            .iter()
            .enumerate()
            .map(|(idx, job)| {
                let result = work(job);
                done(idx);
                result
            })
            .collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<R>> = (0..jobs.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel::<(usize, R)>();
        for _ in 0..workers {
            let (sender, next, work) = (sender.clone(), &next, &work);
            scope.spawn(move || {
                loop {
                    let idx = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(idx) else { return };
                    if sender.send((idx, work(job))).is_err() {
                        return;
                    }
                }
            });
        }
        drop(sender);
        // Ends when every worker has returned (each holds a sender); a worker that panics
        // drops its sender too, and the scope then propagates the panic.
        for (idx, result) in receiver {
            results[idx] = Some(result);
            done(idx);
        }
    });
    results.into_iter().map(|r| r.expect("every job ran: a worker that panicked re-panics at the scope")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_job_order_whatever_the_workers() {
        let jobs: Vec<u64> = (0..50).collect();
        let square = |x: &u64| {
            // Uneven work, so that workers finish out of order.
            let spin = (50 - x) * 1000;
            (0..spin).fold(*x * x, |acc, i| std::hint::black_box(acc ^ i) ^ i)
        };
        let one = run_all(&jobs, 1, square, |_| {});
        for workers in [2, 3, 8, 100] {
            let mut seen = Vec::new();
            let many = run_all(&jobs, workers, square, |i| seen.push(i));
            assert_eq!(one, many);
            seen.sort_unstable();
            assert_eq!(seen, (0..50).collect::<Vec<_>>());
        }
        assert!(run_all(&[] as &[u64], 4, square, |_| {}).is_empty());
    }

    #[test]
    fn seed_ranges() {
        assert_eq!(parse_seed_range("1..3"), Ok((1, 3)));
        assert_eq!(parse_seed_range("4..=4"), Ok((4, 4)));
        assert!(parse_seed_range("5..2").is_err());
        assert!(parse_seed_range("5").is_err());
        assert_eq!(seeds_of((2, 4)).unwrap(), vec![2, 3, 4]);
        assert_eq!(seeds_of((0, u64::MAX)).unwrap_err().code, 2);
    }
}
