//! NASDAQ per-second trade counts (the Diablo benchmark's raw data, aggregated): a row per
//! second, a `<SYMBOL>_trades` column per stock. Each trade becomes one transfer touching that
//! stock's account, a real hot account; see `replay` for how they are spread in time.

use crate::error::{Problems, TraceError};
use crate::table::{self, Reader};

/// Most trades of one stock in one second (the busiest real second holds 34,762 in all).
pub const MAX_TRADES_PER_CELL: u64 = 10_000_000;

/// Most stock columns a file may have: more than every stock listed in the US (about 6,000 on
/// NASDAQ and NYSE together). Checked on the header, before any row is read.
pub const MAX_STOCKS: usize = 20_000;

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
    let stocks: Vec<(usize, &str)> = (header.names.iter().enumerate())
        .filter_map(|(i, name)| name.strip_suffix(SUFFIX).filter(|s| !s.is_empty()).map(|s| (i, s)))
        .collect();
    if stocks.is_empty() {
        let message = format!("the header has no `<SYMBOL>{SUFFIX}` column (such as `AAPL{SUFFIX}`)");
        problems.at(header.line, None, "header", message);
    }
    if stocks.len() > MAX_STOCKS {
        let message = format!("the header has {} stock columns; at most {MAX_STOCKS} are read", stocks.len());
        problems.push(
            TraceError::new(file, message)
                .at(header.line, None)
                .field("header")
                .help("keep the stocks you replay: each stock is an account of the run"),
        );
        return problems.finish(empty());
    }
    let Some(t_col) = t_col.map(|c| c[0]).filter(|_| !stocks.is_empty()) else { return problems.finish(empty()) };
    let mut trace = NasdaqTrace { symbols: stocks.iter().map(|s| s.1.to_string()).collect(), ..empty() };
    let mut previous: Option<u64> = None;
    let mut counts: Vec<u32> = Vec::with_capacity(stocks.len());
    while let Some(row) = reader.next(&mut problems) {
        // The field's name is its header's; its column is only looked up for a problem.
        let mut cell = |idx: usize, max: u64| -> Option<u64> {
            let parsed = match row.get(idx) {
                None => Err(format!("the row has {} fields; `{}` is missing", row.len(), header.names[idx])),
                Some("") => Err("is empty".to_string()),
                Some(text) => table::integer(text, max),
            };
            let fail = |message| problems.at(row.line, Some(reader.column(&row, idx)), &header.names[idx], message);
            parsed.map_err(fail).ok()
        };
        let second = cell(t_col, u64::MAX / 1_000_000_000 - 1);
        counts.clear();
        let mut complete = true;
        for &(idx, _) in &stocks {
            match cell(idx, MAX_TRADES_PER_CELL) {
                Some(c) => counts.push(c as u32),
                None => complete = false,
            }
        }
        let Some(second) = second else { continue };
        if let Some(before) = previous.filter(|&before| second <= before) {
            let message =
                format!("second {second} is not after the previous row's ({before}): rows go forward in time");
            problems.at(row.line, Some(reader.column(&row, t_col)), "t_s", message);
            continue;
        }
        previous = Some(second);
        if complete {
            trace.seconds.push(second);
            trace.counts.extend_from_slice(&counts);
        }
    }
    if problems.is_empty() && trace.total() == 0 {
        let what = if trace.seconds.is_empty() { "no row" } else { "rows but not a single trade" };
        problems.push(TraceError::new(file, format!("the trace is empty: it has {what}")));
    }
    let first = trace.seconds.first().copied().unwrap_or(0);
    trace.seconds.iter_mut().for_each(|s| *s -= first);
    problems.finish(trace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wide(n_stocks: usize, cell: &str) -> String {
        let header: Vec<String> = (0..n_stocks).map(|i| format!("S{i}_trades")).collect();
        let row = vec![cell; n_stocks].join(",");
        format!("t_s,{}\n0,{row}\n1,{row}\n", header.join(","))
    }

    #[test]
    fn a_wide_file_is_read_in_one_pass_per_line() {
        let text = wide(MAX_STOCKS, "1");
        crate::table::SCANNED_BYTES.with(|b| b.set(0));
        let trace = parse_nasdaq("wide.csv", &text).unwrap();
        assert_eq!((trace.symbols.len(), trace.total()), (MAX_STOCKS, 2 * MAX_STOCKS as u64));
        // A valid row needs no column at all.
        assert_eq!(crate::table::SCANNED_BYTES.with(|b| b.get()), 0);
        // Every cell bad: each line is still scanned once to place the problems.
        let text = wide(MAX_STOCKS, "x");
        crate::table::SCANNED_BYTES.with(|b| b.set(0));
        let errors = parse_nasdaq("wide.csv", &text).unwrap_err();
        assert!(errors[0].message.contains("not an integer"), "{}", errors[0]);
        assert_eq!(errors[1].column, Some(5), "`x` of S1_trades, after `0,x,`");
        assert!(crate::table::SCANNED_BYTES.with(|b| b.get()) <= text.len() as u64);
    }

    #[test]
    fn too_many_stocks_are_refused_at_the_header() {
        let errors = parse_nasdaq("wide.csv", &wide(MAX_STOCKS + 1, "x")).unwrap_err();
        assert_eq!(errors.len(), 1, "no row is read: {errors:?}");
        assert!(errors[0].message.contains("20001 stock columns; at most 20000"), "{}", errors[0]);
        assert_eq!(errors[0].line, Some(1));
    }
}
