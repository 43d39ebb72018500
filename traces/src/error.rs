//! `TraceError`: one problem of a trace file (or of a replay's options), located by file, line
//! and column (or by the option it concerns), with a message and, where it helps, a fix.

use std::fmt;

/// Most problems listed for one file; the rest are counted in one last error.
pub const MAX_PROBLEMS: usize = 10;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError {
    /// The trace file as given, or `preset "<name>"` for a built-in curve.
    pub file: String,
    /// 1-based line; None for a problem of the whole file or of an option.
    pub line: Option<u32>,
    /// 1-based column, in characters, of the offending field.
    pub column: Option<u32>,
    /// The CSV column (`amount`) or the replay option (`workload_id`, `start_s`) at fault.
    pub field: Option<String>,
    pub message: String,
    pub help: Option<String>,
}

impl TraceError {
    pub fn new(file: &str, message: impl Into<String>) -> TraceError {
        TraceError {
            file: file.to_string(),
            line: None,
            column: None,
            field: None,
            message: message.into(),
            help: None,
        }
    }

    /// At a 1-based line and column (saturated to u32: no trace has 4 billion lines).
    pub fn at(mut self, line: u64, column: Option<u64>) -> TraceError {
        let clip = |x: u64| u32::try_from(x).unwrap_or(u32::MAX);
        self.line = Some(clip(line));
        self.column = column.map(clip);
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> TraceError {
        self.field = Some(field.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> TraceError {
        self.help = Some(help.into());
        self
    }

    /// `trace.csv, line 5, column 12 (amount)`: where the problem is, for a message that
    /// already names the scenario field.
    pub fn place(&self) -> String {
        let mut place = self.file.clone();
        if let Some(line) = self.line {
            place.push_str(&format!(", line {line}"));
            if let Some(column) = self.column {
                place.push_str(&format!(", column {column}"));
            }
        }
        if let Some(field) = &self.field {
            place.push_str(&format!(" ({field})"));
        }
        place
    }
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TraceError {}

/// Collects the problems of one file, keeping the first `MAX_PROBLEMS` and counting the rest.
#[derive(Debug)]
pub(crate) struct Problems {
    file: String,
    kept: Vec<TraceError>,
    dropped: usize,
}

impl Problems {
    pub(crate) fn new(file: &str) -> Problems {
        Problems { file: file.to_string(), kept: Vec::new(), dropped: 0 }
    }

    pub(crate) fn file(&self) -> &str {
        &self.file
    }

    pub(crate) fn push(&mut self, e: TraceError) {
        if self.kept.len() < MAX_PROBLEMS {
            self.kept.push(e);
        } else {
            self.dropped += 1;
        }
    }

    /// A problem at `line`, `column`, in the CSV column `field`.
    pub(crate) fn at(&mut self, line: u64, column: Option<u64>, field: &str, message: impl Into<String>) {
        let e = TraceError::new(&self.file, message).at(line, column).field(field);
        self.push(e);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// The problems found, the last one counting those not kept; Ok(value) when none.
    pub(crate) fn finish<T>(mut self, value: T) -> Result<T, Vec<TraceError>> {
        if self.kept.is_empty() {
            return Ok(value);
        }
        if self.dropped > 0 {
            let message = format!("{} more problem(s) not shown", self.dropped);
            self.kept.push(TraceError::new(&self.file, message));
        }
        Err(self.kept)
    }
}
