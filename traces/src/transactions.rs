//! Per-transaction CSV traces: one row per transaction, as exported from a chain's
//! transactions table (`timestamp_s, sender, receiver, amount[, size_bytes]`).
//!
//! Rows may come in any order: they are sorted by time (stably, so rows with the same timestamp
//! keep their file order), because exports are often ordered by block and index, or newest
//! first. Times are shifted so that the earliest row is at 0. Senders and receivers are free
//! strings (addresses), mapped to dense account ids in order of first appearance in time order.

use std::collections::BTreeMap;

use crate::error::{Problems, TraceError};
use crate::table::{self, Reader};

/// Largest `size_bytes` (as a scenario's `tx_size_bytes`).
pub const MAX_SIZE_BYTES: u64 = 1_048_576;

const HEADER: &str = "timestamp_s,sender,receiver,amount[,size_bytes]";
const COLUMNS: [&str; 4] = ["timestamp_s", "sender", "receiver", "amount"];

/// One transaction of the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxRow {
    /// Nanoseconds after the earliest row.
    pub at_ns: u64,
    pub sender: u32,
    pub receiver: u32,
    pub amount: u64,
    /// None when the file has no `size_bytes` column.
    pub size_bytes: Option<u32>,
}

/// A parsed per-transaction trace.
#[derive(Clone, Debug, PartialEq)]
pub struct TxTrace {
    /// In time order.
    pub rows: Vec<TxRow>,
    /// Distinct senders and receivers; account ids are 0..n_accounts.
    pub n_accounts: u32,
    /// The file's rows were not in time order and have been sorted.
    pub resorted: bool,
}

impl TxTrace {
    /// Time of the last row, in nanoseconds after the first.
    pub fn span_ns(&self) -> u64 {
        self.rows.last().map_or(0, |r| r.at_ns)
    }
}

/// Reads a per-transaction trace; `file` names it in errors. Every problem found (up to
/// `MAX_PROBLEMS`) is returned.
pub fn parse_transactions(file: &str, text: &str) -> Result<TxTrace, Vec<TraceError>> {
    let mut problems = Problems::new(file);
    let mut reader = Reader::new(text);
    let Some(header) = table::header(&mut reader, &mut problems, HEADER) else { return problems.finish(empty()) };
    let Some(cols) = header.require(&COLUMNS, &mut problems) else { return problems.finish(empty()) };
    let size_col = header.find("size_bytes");
    let width = cols.iter().chain(&size_col).max().map_or(0, |m| m + 1);
    let mut ids: BTreeMap<String, u32> = BTreeMap::new();
    let mut rows: Vec<(u64, u32, u32, u64, Option<u32>)> = Vec::new();
    while let Some(row) = reader.next(&mut problems) {
        if row.len() < width {
            let message = format!("the row has {} fields; the header has {}", row.len(), header.names.len());
            problems.at(row.line, Some(reader.column(&row, row.len())), "row", message);
            continue;
        }
        let mut cell = |name: &str, idx: usize| -> Option<&str> {
            let text = row.get(idx).unwrap_or("");
            if text.is_empty() {
                problems.at(row.line, Some(reader.column(&row, idx)), name, "is empty");
                return None;
            }
            Some(text)
        };
        let at = cell(COLUMNS[0], cols[0]);
        let sender = cell(COLUMNS[1], cols[1]).map(str::to_string);
        let receiver = cell(COLUMNS[2], cols[2]).map(str::to_string);
        let amount = cell(COLUMNS[3], cols[3]);
        let size = size_col.map(|idx| cell("size_bytes", idx));
        let mut number = |name: &str, idx: usize, parsed: Result<u64, String>, help: Option<&str>| match parsed {
            Ok(v) => Some(v),
            Err(message) => {
                let mut e = TraceError::new(file, message).at(row.line, Some(reader.column(&row, idx))).field(name);
                // The hint about units only helps a number too large for 64 bits.
                e.help = help.filter(|_| e.message.contains("too large")).map(str::to_string);
                problems.push(e);
                None
            }
        };
        let at = at.and_then(|t| number(COLUMNS[0], cols[0], table::seconds_ns(t), None));
        let amount_help =
            Some("amounts are integers that fit in 64 bits: export them in a coarser unit (gwei, not wei)");
        let amount = amount.and_then(|a| number(COLUMNS[3], cols[3], table::integer(a, u64::MAX), amount_help));
        let size = match (size, size_col) {
            (Some(Some(s)), Some(idx)) => number("size_bytes", idx, table::integer(s, MAX_SIZE_BYTES), None).map(Some),
            (Some(None), _) => None,
            _ => Some(None),
        };
        let (Some(at), Some(sender), Some(receiver), Some(amount), Some(size)) = (at, sender, receiver, amount, size)
        else {
            continue;
        };
        let mut id = |name: String| {
            let next = ids.len() as u32;
            *ids.entry(name).or_insert(next)
        };
        let (sender, receiver) = (id(sender), id(receiver));
        rows.push((at, sender, receiver, amount, size.map(|s| s as u32)));
    }
    if !problems.is_empty() {
        return problems.finish(empty());
    }
    if rows.is_empty() {
        problems.push(
            TraceError::new(file, "the trace has no transaction: only a header")
                .help(format!("add one row per transaction under the header `{HEADER}`")),
        );
        return problems.finish(empty());
    }
    problems.finish(in_time_order(rows, ids.len()))
}

fn empty() -> TxTrace {
    TxTrace { rows: Vec::new(), n_accounts: 0, resorted: false }
}

/// Sorts the rows by time (stably), shifts time to start at 0, and renumbers the accounts in
/// order of first appearance in that order.
fn in_time_order(mut rows: Vec<(u64, u32, u32, u64, Option<u32>)>, n_accounts: usize) -> TxTrace {
    let resorted = rows.windows(2).any(|w| w[1].0 < w[0].0);
    if resorted {
        rows.sort_by_key(|r| r.0);
    }
    let first_ns = rows.first().map_or(0, |r| r.0);
    let mut renumber = vec![u32::MAX; n_accounts];
    let mut next = 0u32;
    let mut id = |old: u32| {
        let slot = &mut renumber[old as usize];
        if *slot == u32::MAX {
            *slot = next;
            next += 1;
        }
        *slot
    };
    let rows = rows
        .into_iter()
        .map(|(at, s, r, amount, size_bytes)| TxRow {
            at_ns: at - first_ns,
            sender: id(s),
            receiver: id(r),
            amount,
            size_bytes,
        })
        .collect();
    TxTrace { rows, n_accounts: next, resorted }
}
