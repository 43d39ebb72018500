//! Replaying a trace as a workload: the options every format shares (a window of the trace,
//! time and rate scaling, accounts, which client submits what) and the pull-based sources that
//! turn a parsed trace into arrivals, one at a time, from the run's `workload` stream.
//!
//! Trace time t (nanoseconds after the trace's first row) is replayed at simulated time
//! (t - start) / time_scale, for t in [start, start + window), and only before `until`.

use std::sync::Arc;

use sim_core::digest::splitmix64;
use sim_core::workload::{Arrival, Workload};
use sim_core::{AccountId, SimRng, Span, Time};

use crate::error::TraceError;
use crate::nasdaq::NasdaqTrace;
use crate::rates::RateCurve;
use crate::synthetic::{ArrivalProcess, draw_transfer};
use crate::transactions::TxTrace;
use crate::zipf::Zipf;

/// Which client submits a transaction (and so from which region).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientsBy {
    /// Transaction k goes to client k mod n_clients.
    RoundRobin,
    /// A hash of the sender's account: a sender always submits through the same client.
    Sender,
}

/// A parsed trace (shared, so that cloning a scenario does not copy it).
#[derive(Clone, Debug, PartialEq)]
pub enum Trace {
    /// One row per transaction.
    Transactions(Arc<TxTrace>),
    /// A rate curve (a rate series, a Diablo curve or a built-in preset).
    Rates(Arc<RateCurve>),
    /// Per-second trade counts per stock.
    Nasdaq(Arc<NasdaqTrace>),
}

impl Trace {
    /// The end of the trace in nanoseconds of trace time: just after the last transaction, at
    /// the last point of a curve, at the end of the last second of trade counts.
    pub fn end_ns(&self) -> u64 {
        match self {
            Trace::Transactions(t) => t.span_ns() + 1,
            Trace::Rates(c) => c.span_ns(),
            Trace::Nasdaq(n) => n.span_ns(),
        }
    }
}

/// How to replay a trace.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayConfig {
    pub trace: Trace,
    /// Trace time at which the replay starts: what comes before is skipped.
    pub start: Span,
    /// How much trace time to replay from `start` (None: to the end of the trace).
    pub window: Option<Span>,
    /// Trace seconds per simulated second: 5 replays five times faster (and denser).
    pub time_scale: f64,
    /// Share of the transactions offered: a curve's rate is multiplied by it, NASDAQ counts are
    /// multiplied (rounded at random), per-transaction rows are kept with this probability
    /// (so at most 1 for them).
    pub rate_scale: f64,
    /// Gaps of a rate curve's arrivals: Poisson (a non-homogeneous Poisson process) or
    /// constant in expected count (one arrival per unit of the rate's integral).
    pub process: ArrivalProcess,
    /// Arrivals happen before this simulated time.
    pub until: Time,
    pub n_clients: u32,
    pub clients_by: ClientsBy,
    /// Transactions traces: account ids are taken modulo this. Rate curves: accounts drawn
    /// (Zipf). NASDAQ: stocks are accounts 0..n_stocks, traders the rest.
    pub accounts: u32,
    /// Zipf exponent of the drawn accounts (rate curves, NASDAQ traders).
    pub zipf_s: f64,
    /// Size of a transaction when the trace does not give one.
    pub tx_size_bytes: u32,
}

impl ReplayConfig {
    /// The replayed interval of trace time, [start, end), in nanoseconds; empty if the start is
    /// past the trace.
    pub fn trace_window_ns(&self) -> (u64, u64) {
        let start = self.start.as_nanos();
        let window_end = self.window.map_or(u64::MAX, |w| start.saturating_add(w.as_nanos()));
        let run_end = start.saturating_add(Span::from_secs_f64(self.until.as_secs_f64() * self.time_scale).as_nanos());
        (start, self.trace.end_ns().min(window_end).min(run_end).max(start))
    }

    /// Simulated time of trace time `t_ns` (>= start).
    fn sim_ns(&self, t_ns: u64) -> u64 {
        sim_time(t_ns, self.start.as_nanos(), self.time_scale)
    }

    /// Transactions the replay offers on average (exactly, for a per-transaction trace that
    /// keeps every row).
    pub fn expected_tx(&self) -> f64 {
        let (from, to) = self.trace_window_ns();
        let raw = match &self.trace {
            Trace::Transactions(t) => {
                let first = t.rows.partition_point(|r| r.at_ns < from);
                let end = t.rows.partition_point(|r| r.at_ns < to);
                (end - first) as f64
            }
            Trace::Rates(c) => c.integral(from, to),
            Trace::Nasdaq(n) => (0..n.seconds.len())
                .map(|r| {
                    let (a, b) = (n.seconds[r] * 1_000_000_000, (n.seconds[r] + 1) * 1_000_000_000);
                    let overlap = b.min(to).saturating_sub(a.max(from)) as f64 / 1e9;
                    overlap * n.row(r).iter().map(|&c| f64::from(c)).sum::<f64>()
                })
                .sum(),
        };
        raw * self.rate_scale
    }

    /// The mean rate offered over the replay, in simulated transactions per second.
    pub fn mean_rate_tps(&self) -> f64 {
        let (from, to) = self.trace_window_ns();
        let secs = self.sim_ns(to).saturating_sub(self.sim_ns(from)) as f64 / 1e9;
        if secs > 0.0 { self.expected_tx() / secs } else { 0.0 }
    }

    /// Refuses a replay that would offer nothing: a start past the end of the trace, a window
    /// with less than one transaction on average, a NASDAQ trace with no account left for
    /// traders. The error's `field` names the option to change. Returns the expected count.
    pub fn check(&self, file: &str) -> Result<f64, TraceError> {
        let end_s = self.trace.end_ns() as f64 / 1e9;
        let start_s = self.start.as_secs_f64();
        if self.start.as_nanos() >= self.trace.end_ns() {
            let message = format!("the replay starts at {start_s} s, at or after the end of the trace ({end_s} s)");
            let help = format!("the trace covers [0, {end_s}) s of its own time: lower start_s");
            return Err(TraceError::new(file, message).field("start_s").help(help));
        }
        if let Trace::Nasdaq(n) = &self.trace
            && (self.accounts as usize) <= n.symbols.len()
        {
            let stocks = n.symbols.len();
            let message = format!(
                "the trace has {stocks} stocks (accounts 0 to {}): {} accounts leave none for the traders",
                stocks - 1,
                self.accounts
            );
            let help = format!("set accounts to at least {} (stocks plus traders)", stocks + 1);
            return Err(TraceError::new(file, message).field("accounts").help(help));
        }
        let expected = self.expected_tx();
        if expected < 1.0 {
            let (from, to) = self.trace_window_ns();
            let message = format!(
                "the replayed part of the trace, [{} s, {} s) of its time, offers {expected:.3} transactions on average; \
                 at least 1 is needed",
                from as f64 / 1e9,
                to as f64 / 1e9
            );
            let help = "widen window_s, move start_s, raise rate_scale or duration_s".to_string();
            let field = if self.window.is_some() { "window_s" } else { "start_s" };
            return Err(TraceError::new(file, message).field(field).help(help));
        }
        Ok(expected)
    }

    /// The arrivals, drawn from `rng` (the run's `workload` stream).
    pub fn workload(&self, rng: SimRng) -> Box<dyn Workload> {
        assert!(self.time_scale > 0.0 && self.time_scale.is_finite() && self.rate_scale > 0.0);
        assert!(self.n_clients >= 1 && self.accounts >= 1);
        let clients = Clients { n: self.n_clients, by: self.clients_by, count: 0 };
        match &self.trace {
            Trace::Transactions(t) => Box::new(TxReplay::new(self, t.clone(), rng, clients)),
            Trace::Rates(c) => Box::new(RateReplay::new(self, c, rng, clients)),
            Trace::Nasdaq(n) => Box::new(NasdaqReplay::new(self, n.clone(), rng, clients)),
        }
    }
}

fn sim_time(t_ns: u64, start_ns: u64, time_scale: f64) -> u64 {
    let since = t_ns.saturating_sub(start_ns);
    if time_scale == 1.0 { since } else { Span::from_nanos_f64(since as f64 / time_scale).as_nanos() }
}

/// Which client submits each arrival.
#[derive(Debug)]
struct Clients {
    n: u32,
    by: ClientsBy,
    count: u64,
}

impl Clients {
    fn pick(&mut self, sender: u64) -> u32 {
        match self.by {
            ClientsBy::RoundRobin => {
                let idx = self.count % u64::from(self.n);
                self.count += 1;
                idx as u32
            }
            ClientsBy::Sender => (splitmix64(sender) % u64::from(self.n)) as u32,
        }
    }
}

/// A per-transaction trace, row by row.
#[derive(Debug)]
struct TxReplay {
    trace: Arc<TxTrace>,
    next_row: usize,
    end_ns: u64,
    start_ns: u64,
    time_scale: f64,
    until: Time,
    /// Keep probability in parts per billion; None keeps every row without a draw.
    keep_ppb: Option<u32>,
    accounts: u32,
    tx_size_bytes: u32,
    rng: SimRng,
    clients: Clients,
}

impl TxReplay {
    fn new(cfg: &ReplayConfig, trace: Arc<TxTrace>, rng: SimRng, clients: Clients) -> TxReplay {
        assert!(cfg.rate_scale <= 1.0, "rows are thinned, not duplicated");
        let (start_ns, end_ns) = cfg.trace_window_ns();
        let next_row = trace.rows.partition_point(|r| r.at_ns < start_ns);
        let keep_ppb = (cfg.rate_scale < 1.0).then(|| ((cfg.rate_scale * 1e9).round() as u32).max(1));
        TxReplay {
            trace,
            next_row,
            end_ns,
            start_ns,
            time_scale: cfg.time_scale,
            until: cfg.until,
            keep_ppb,
            accounts: cfg.accounts,
            tx_size_bytes: cfg.tx_size_bytes,
            rng,
            clients,
        }
    }
}

impl Workload for TxReplay {
    fn next_arrival(&mut self) -> Option<Arrival> {
        loop {
            let row = *self.trace.rows.get(self.next_row)?;
            if row.at_ns >= self.end_ns {
                return None;
            }
            self.next_row += 1;
            if let Some(ppb) = self.keep_ppb
                && !self.rng.chance_ppb(ppb)
            {
                continue;
            }
            let at = Time(sim_time(row.at_ns, self.start_ns, self.time_scale));
            if at >= self.until {
                self.next_row = self.trace.rows.len();
                return None;
            }
            return Some(Arrival {
                at,
                client_idx: self.clients.pick(u64::from(row.sender)),
                from: AccountId(row.sender % self.accounts),
                to: AccountId(row.receiver % self.accounts),
                amount: row.amount,
                size_bytes: row.size_bytes.unwrap_or(self.tx_size_bytes),
            });
        }
    }
}

/// One piece of a rate curve in simulated time: the rate moves linearly from `r0` to `r1`
/// (per simulated nanosecond) over `len_ns`, offering `mass` transactions.
#[derive(Clone, Copy, Debug)]
struct Piece {
    t0_ns: f64,
    len_ns: f64,
    r0: f64,
    r1: f64,
    mass: f64,
}

impl Piece {
    /// The offset x in [0, len] at which the piece's integral reaches `s` (<= mass): solves
    /// r0 x + (r1 - r0) x^2 / (2 len) = s in the form that stays accurate when r1 ~ r0.
    fn offset_ns(&self, s: f64) -> f64 {
        let a = (self.r1 - self.r0) / (2.0 * self.len_ns);
        let b = self.r0;
        let x = if a == 0.0 {
            s / b
        } else {
            let root = libm::sqrt((b * b + 4.0 * a * s).max(0.0));
            2.0 * s / (b + root)
        };
        if x.is_finite() { x.clamp(0.0, self.len_ns) } else { self.len_ns }
    }
}

/// A rate curve expanded by time rescaling: arrival k happens where the curve's integral
/// reaches S_k, with S_k - S_(k-1) exponential of mean 1 (Poisson) or exactly 1 (constant).
#[derive(Debug)]
struct RateReplay {
    pieces: Vec<Piece>,
    piece_idx: usize,
    /// Integral of the pieces before `piece_idx`.
    mass_before: f64,
    /// Integral at which the next arrival happens.
    target: f64,
    process: ArrivalProcess,
    until: Time,
    last: Time,
    accounts: u32,
    zipf: Zipf,
    tx_size_bytes: u32,
    rng: SimRng,
    clients: Clients,
}

impl RateReplay {
    fn new(cfg: &ReplayConfig, curve: &RateCurve, rng: SimRng, clients: Clients) -> RateReplay {
        assert!(cfg.accounts >= 2);
        let (from, to) = cfg.trace_window_ns();
        let per_ns = cfg.time_scale * cfg.rate_scale / 1e9;
        let pieces = curve
            .pieces(from, to)
            .into_iter()
            .map(|(a, b, ra, rb)| {
                let t0_ns = (a - from) as f64 / cfg.time_scale;
                let len_ns = (b - a) as f64 / cfg.time_scale;
                let (r0, r1) = (ra * per_ns, rb * per_ns);
                Piece { t0_ns, len_ns, r0, r1, mass: (r0 + r1) / 2.0 * len_ns }
            })
            .filter(|p| p.mass > 0.0)
            .collect();
        RateReplay {
            pieces,
            piece_idx: 0,
            mass_before: 0.0,
            target: 0.0,
            process: cfg.process,
            until: cfg.until,
            last: Time::ZERO,
            accounts: cfg.accounts,
            zipf: Zipf::new(cfg.accounts, cfg.zipf_s),
            tx_size_bytes: cfg.tx_size_bytes,
            rng,
            clients,
        }
    }
}

impl Workload for RateReplay {
    fn next_arrival(&mut self) -> Option<Arrival> {
        self.target += match self.process {
            ArrivalProcess::Constant => 1.0,
            ArrivalProcess::Poisson => self.rng.exponential(1.0),
        };
        // An arrival exactly at the end of a piece belongs to the next one: the replay covers
        // [start, end), and the curve's last instant is not in it.
        while self.target >= self.mass_before + self.pieces.get(self.piece_idx)?.mass {
            self.mass_before += self.pieces[self.piece_idx].mass;
            self.piece_idx += 1;
        }
        let piece = self.pieces[self.piece_idx];
        let at_ns = piece.t0_ns + piece.offset_ns(self.target - self.mass_before);
        let at = Time(Span::from_nanos_f64(at_ns).as_nanos()).max(self.last);
        if at >= self.until {
            self.piece_idx = self.pieces.len();
            return None;
        }
        self.last = at;
        let (from, to, amount) = draw_transfer(&self.zipf, &mut self.rng, self.accounts);
        let client_idx = self.clients.pick(u64::from(from.0));
        Some(Arrival { at, client_idx, from, to, amount, size_bytes: self.tx_size_bytes })
    }
}

/// NASDAQ trade counts: second by second, each second's trades spread uniformly over it (their
/// sorted times drawn one at a time as order statistics, so a second of 34,762 trades holds no
/// list), each on a stock drawn in proportion to the trades left, with a trader drawn as the
/// other side and a coin deciding who pays.
#[derive(Debug)]
struct NasdaqReplay {
    trace: Arc<NasdaqTrace>,
    /// The row being expanded (or the next one, when `left` is 0).
    row: usize,
    start_ns: u64,
    end_ns: u64,
    time_scale: f64,
    rate_scale: f64,
    until: Time,
    /// Trades of the current second not yet emitted, per stock and in all.
    remaining: Vec<u64>,
    left: u64,
    /// Position in the current second, in [0, 1), of the latest trade.
    position: f64,
    second_ns: u64,
    done: bool,
    zipf: Zipf,
    tx_size_bytes: u32,
    rng: SimRng,
    clients: Clients,
}

impl NasdaqReplay {
    fn new(cfg: &ReplayConfig, trace: Arc<NasdaqTrace>, rng: SimRng, clients: Clients) -> NasdaqReplay {
        let (start_ns, end_ns) = cfg.trace_window_ns();
        let stocks = trace.symbols.len();
        assert!(cfg.accounts as usize > stocks, "validated: accounts are left for the traders");
        let row = trace.seconds.partition_point(|&s| (s + 1) * 1_000_000_000 <= start_ns);
        NasdaqReplay {
            row,
            start_ns,
            end_ns,
            time_scale: cfg.time_scale,
            rate_scale: cfg.rate_scale,
            until: cfg.until,
            remaining: vec![0; stocks],
            left: 0,
            position: 0.0,
            second_ns: 0,
            done: false,
            zipf: Zipf::new(cfg.accounts - stocks as u32, cfg.zipf_s),
            tx_size_bytes: cfg.tx_size_bytes,
            rng,
            clients,
            trace,
        }
    }

    /// Loads the next row with trades; false when the window is over.
    fn next_second(&mut self) -> bool {
        while self.row < self.trace.seconds.len() {
            let second_ns = self.trace.seconds[self.row] * 1_000_000_000;
            if second_ns >= self.end_ns {
                return false;
            }
            let row = self.row;
            self.row += 1;
            for (stock, &count) in self.trace.row(row).iter().enumerate() {
                self.remaining[stock] = scaled(u64::from(count), self.rate_scale, &mut self.rng);
            }
            self.left = self.remaining.iter().sum();
            if self.left > 0 {
                self.second_ns = second_ns;
                self.position = 0.0;
                return true;
            }
        }
        false
    }

    /// The next trade of the current second: its time in trace nanoseconds and its stock.
    fn next_trade(&mut self) -> (u64, usize) {
        // The smallest of `left` uniform points on [position, 1).
        let shrink = libm::pow(self.rng.unit_open_f64(), 1.0 / self.left as f64);
        self.position = 1.0 - (1.0 - self.position) * shrink;
        let offset_ns = ((self.position * 1e9) as u64).min(999_999_999);
        let mut pick = self.rng.below(self.left);
        let mut stock = 0;
        while pick >= self.remaining[stock] {
            pick -= self.remaining[stock];
            stock += 1;
        }
        self.remaining[stock] -= 1;
        self.left -= 1;
        (self.second_ns + offset_ns, stock)
    }
}

/// `count * scale`, rounded down or up at random so that the mean is exact.
fn scaled(count: u64, scale: f64, rng: &mut SimRng) -> u64 {
    if scale == 1.0 || count == 0 {
        return count;
    }
    let exact = count as f64 * scale;
    let whole = exact.floor();
    let fraction = exact - whole;
    whole as u64 + u64::from(fraction > 0.0 && rng.unit_f64() < fraction)
}

impl Workload for NasdaqReplay {
    fn next_arrival(&mut self) -> Option<Arrival> {
        loop {
            if self.done || (self.left == 0 && !self.next_second()) {
                self.done = true;
                return None;
            }
            let (t_ns, stock) = self.next_trade();
            if t_ns < self.start_ns {
                continue;
            }
            let at = Time(sim_time(t_ns, self.start_ns, self.time_scale));
            if t_ns >= self.end_ns || at >= self.until {
                self.done = true;
                return None;
            }
            let stocks = self.remaining.len() as u32;
            let trader = AccountId(stocks + self.zipf.sample(&mut self.rng));
            let stock = AccountId(stock as u32);
            let (from, to) = if self.rng.below(2) == 0 { (trader, stock) } else { (stock, trader) };
            let amount = 1 + self.rng.below(100);
            let client_idx = self.clients.pick(u64::from(from.0));
            return Some(Arrival { at, client_idx, from, to, amount, size_bytes: self.tx_size_bytes });
        }
    }
}
