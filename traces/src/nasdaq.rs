//! NASDAQ per-second trade counts (the Diablo benchmark's raw data, aggregated): a row per
//! second, a `<SYMBOL>_trades` column per stock. Each trade becomes one transfer touching that
//! stock's account, a real hot account; see `replay` for how they are spread in time.

use crate::error::{Problems, TraceError};
use crate::table::{self, Reader};

/// Most trades of one stock in one second (the busiest real second holds 34,762 in all).
pub const MAX_TRADES_PER_CELL: u64 = 10_000_000;

const HEADER: &str = "t_s,clock_et,trades_total,shares_total,<SYMBOL>_trades...";
const SUFFIX: &str = "_trades";

/// Trade counts per second and stock.
#[derive(Clone, Debug, PartialEq)]
pub struct NasdaqTrace {
    /// The stocks, in column order (`AAPL` for `AAPL_trades`); stock i is account i.
    pub symbols: Vec<String>,
    /// Second of each row, after the first row's (strictly increasing; missing seconds hold no
    /// trade).
    pub seconds: Vec<u64>,
    /// Trades of row r and stock i at `counts[r * symbols.len() + i]`.
    pub counts: Vec<u32>,
}

impl NasdaqTrace {
    /// Trades of row `row`, one count per stock.
    pub fn row(&self, row: usize) -> &[u32] {
        let n = self.symbols.len();
        &self.counts[row * n..(row + 1) * n]
    }

    /// The trace's length in nanoseconds: up to the end of its last second.
    pub fn span_ns(&self) -> u64 {
        self.seconds.last().map_or(0, |s| (s + 1) * 1_000_000_000)
    }

    /// All trades.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|&c| u64::from(c)).sum()
    }
}

/// Reads a NASDAQ per-second file. Only `t_s` (whole seconds) and the `<SYMBOL>_trades`
/// columns are read; `clock_et`, `trades_total` and `shares_total` may be present or not.
pub fn parse_nasdaq(file: &str, text: &str) -> Result<NasdaqTrace, Vec<TraceError>> {
    let mut problems = Problems::new(file);
    let mut reader = Reader::new(text);
    let empty = || NasdaqTrace { symbols: Vec::new(), seconds: Vec::new(), counts: Vec::new() };
    let Some(header) = table::header(&mut reader, &mut problems, HEADER) else { return problems.finish(empty()) };
    let t_col = header.require(&["t_s"], &mut problems);
    let stocks: Vec<(usize, String)> = (header.names.iter().enumerate())
        .filter_map(|(i, name)| name.strip_suffix(SUFFIX).filter(|s| !s.is_empty()).map(|s| (i, s.to_string())))
        .collect();
    if stocks.is_empty() {
        let message = format!("the header has no `<SYMBOL>{SUFFIX}` column (such as `AAPL{SUFFIX}`)");
        problems.at(header.line, None, "header", message);
    }
    let Some(t_col) = t_col.map(|c| c[0]).filter(|_| !stocks.is_empty()) else { return problems.finish(empty()) };
    let mut trace = NasdaqTrace { symbols: stocks.iter().map(|s| s.1.clone()).collect(), ..empty() };
    let mut previous: Option<u64> = None;
    while let Some(row) = reader.next(&mut problems) {
        let mut cell = |idx: usize, name: &str, max: u64| -> Option<u64> {
            let column = Some(reader.column(&row, idx));
            let text = row.get(idx).unwrap_or("");
            let parsed = match row.get(idx) {
                None => Err(format!("the row has {} fields; `{name}` is missing", row.len())),
                Some("") => Err("is empty".to_string()),
                Some(_) => table::integer(text, max),
            };
            parsed.map_err(|message| problems.at(row.line, column, name, message)).ok()
        };
        let second = cell(t_col, "t_s", u64::MAX / 1_000_000_000 - 1);
        let counts: Vec<Option<u64>> =
            stocks.iter().map(|(idx, symbol)| cell(*idx, &format!("{symbol}{SUFFIX}"), MAX_TRADES_PER_CELL)).collect();
        let Some(second) = second else { continue };
        if let Some(before) = previous.filter(|&before| second <= before) {
            let message =
                format!("second {second} is not after the previous row's ({before}): rows go forward in time");
            problems.at(row.line, Some(reader.column(&row, t_col)), "t_s", message);
            continue;
        }
        previous = Some(second);
        let Some(counts) = counts.into_iter().collect::<Option<Vec<u64>>>() else { continue };
        trace.seconds.push(second);
        trace.counts.extend(counts.into_iter().map(|c| c as u32));
    }
    if problems.is_empty() && trace.total() == 0 {
        let what = if trace.seconds.is_empty() { "no row" } else { "rows but not a single trade" };
        problems.push(TraceError::new(file, format!("the trace is empty: it has {what}")));
    }
    let first = trace.seconds.first().copied().unwrap_or(0);
    trace.seconds.iter_mut().for_each(|s| *s -= first);
    problems.finish(trace)
}
