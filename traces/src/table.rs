//! Reading CSV trace files: records with their line and the column of each field, a header of
//! named columns, and the number formats every trace shares (seconds as exact nanoseconds).

use std::cell::OnceCell;

use crate::error::Problems;

/// One record of the file, with where it starts.
#[derive(Debug)]
pub(crate) struct Row {
    /// 1-based line of the record's first byte.
    pub(crate) line: u64,
    /// Byte offset of the record's first byte.
    start: usize,
    record: csv::StringRecord,
    /// The column of each field, found in one pass over the line on the first `column` call,
    /// so that locating every field of a wide row stays linear in its length.
    columns: OnceCell<Vec<u64>>,
}

impl Row {
    pub(crate) fn get(&self, idx: usize) -> Option<&str> {
        self.record.get(idx)
    }

    pub(crate) fn len(&self) -> usize {
        self.record.len()
    }
}

/// A CSV text read record by record: `#` comments and blank lines skipped, spaces around
/// fields trimmed, rows of any length (the callers check them).
pub(crate) struct Reader<'t> {
    text: &'t str,
    inner: csv::Reader<&'t [u8]>,
}

impl<'t> Reader<'t> {
    pub(crate) fn new(text: &'t str) -> Reader<'t> {
        // Spreadsheet exports often start with a byte-order mark; it is not part of a name.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let inner = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(text.as_bytes());
        Reader { text, inner }
    }

    /// The next well-formed record; a malformed one (bad quoting, invalid UTF-8) is reported
    /// and skipped.
    pub(crate) fn next(&mut self, problems: &mut Problems) -> Option<Row> {
        let mut record = csv::StringRecord::new();
        loop {
            match self.inner.read_record(&mut record) {
                Ok(false) => return None,
                Ok(true) => {
                    let (line, start) = self.locate(record.position());
                    return Some(Row { line, start, record, columns: OnceCell::new() });
                }
                Err(e) => {
                    let (line, _) = self.locate(e.position());
                    problems.at(line, None, "row", format!("malformed CSV: {e}"));
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        return None;
                    }
                }
            }
        }
    }

    /// Line and byte offset of a record. The csv crate places a record at the `\n` that ends
    /// the previous line after a CRLF, one line early: step over line ends first.
    fn locate(&self, position: Option<&csv::Position>) -> (u64, usize) {
        let Some(p) = position else { return (1, 0) };
        let offset = usize::try_from(p.byte()).unwrap_or(usize::MAX).min(self.text.len());
        let rest = &self.text.as_bytes()[offset..];
        let skipped = &rest[..rest.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count()];
        let newlines = skipped.iter().filter(|&&b| b == b'\n').count() as u64;
        (p.line() + newlines, offset + skipped.len())
    }

    /// 1-based column, in characters, where field `idx` of `row` starts (after its leading
    /// spaces), counting commas outside quotes; past the last field, the end of the line.
    pub(crate) fn column(&self, row: &Row, idx: usize) -> u64 {
        let columns = row.columns.get_or_init(|| self.field_columns(row));
        columns.get(idx).or(columns.last()).copied().unwrap_or(1)
    }

    /// The column of each field of `row`, then one past the end of its line.
    fn field_columns(&self, row: &Row) -> Vec<u64> {
        let line = &self.text[row.start..];
        let line = &line[..line.find('\n').unwrap_or(line.len())];
        let line = line.strip_suffix('\r').unwrap_or(line);
        #[cfg(test)]
        SCANNED_BYTES.with(|n| n.set(n.get() + line.len() as u64));
        let mut columns = Vec::with_capacity(row.len() + 1);
        let (mut quoted, mut field_start) = (false, true);
        let mut chars = 0u64;
        for ch in line.chars() {
            chars += 1;
            if field_start {
                if ch == ' ' || ch == '\t' {
                    continue;
                }
                columns.push(chars);
                field_start = false;
            }
            match ch {
                '"' => quoted = !quoted,
                ',' if !quoted => field_start = true,
                _ => {}
            }
        }
        if field_start {
            // An empty last field (`a,`): it starts where the line ends.
            columns.push(chars + 1);
        }
        columns.push(chars + 1);
        columns
    }
}

#[cfg(test)]
thread_local! {
    /// Bytes of lines scanned to find columns, for the tests that parsing stays linear.
    pub(crate) static SCANNED_BYTES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The header: column names in order.
#[derive(Debug)]
pub(crate) struct Header {
    pub(crate) names: Vec<String>,
    pub(crate) line: u64,
}

impl Header {
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The index of each required column; a missing one is reported with the columns present.
    pub(crate) fn require(&self, names: &[&str], problems: &mut Problems) -> Option<Vec<usize>> {
        let found: Vec<Option<usize>> = names.iter().map(|n| self.find(n)).collect();
        for (name, idx) in names.iter().zip(&found) {
            if idx.is_none() {
                let message = format!("the header has no column `{name}`; it has: {}", self.names.join(", "));
                problems.at(self.line, None, "header", message);
            }
        }
        found.into_iter().collect()
    }
}

/// The header from the first record, or a problem for an empty file.
pub(crate) fn header(reader: &mut Reader<'_>, problems: &mut Problems, expected: &str) -> Option<Header> {
    let Some(row) = reader.next(problems) else {
        let e = crate::TraceError::new(problems.file(), format!("the file is empty; expected a header `{expected}`"));
        problems.push(e);
        return None;
    };
    let names: Vec<String> = row.record.iter().map(str::to_string).collect();
    let mut seen = std::collections::BTreeSet::new();
    for (i, name) in names.iter().enumerate() {
        if !seen.insert(name.as_str()) {
            let column = reader.column(&row, i);
            problems.at(row.line, Some(column), "header", format!("column `{name}` appears twice in the header"));
        }
    }
    Some(Header { names, line: row.line })
}

/// The largest time a trace may hold, in seconds: what fits in u64 nanoseconds.
const MAX_SECONDS: u64 = u64::MAX / 1_000_000_000;

/// A time in seconds as exact integer nanoseconds: `12`, `12.5`, `1610375400.000123456`
/// (digits beyond the ninth decimal are dropped), or with an exponent (`1.5e3`, rounded to the
/// nanosecond). Never negative.
pub(crate) fn seconds_ns(text: &str) -> Result<u64, String> {
    let text = text.strip_prefix('+').unwrap_or(text);
    if text.starts_with('-') {
        return Err(format!("`{text}` is negative; times are >= 0"));
    }
    if text.contains(['e', 'E']) {
        return match text.parse::<f64>() {
            Ok(s) if s.is_finite() && s >= 0.0 && s <= MAX_SECONDS as f64 => Ok((s * 1e9).round() as u64),
            Ok(_) => Err(format!("`{text}` is out of range (0 to {MAX_SECONDS} s)")),
            Err(_) => Err(format!("`{text}` is not a number of seconds")),
        };
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.len() + fraction.len() == 0 || !digits(whole) || !digits(fraction) {
        return Err(format!("`{text}` is not a number of seconds"));
    }
    let whole_s: u64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| too_large(text))? };
    let nanos =
        fraction.bytes().chain(std::iter::repeat(b'0')).take(9).fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'));
    whole_s.checked_mul(1_000_000_000).and_then(|ns| ns.checked_add(nanos)).ok_or_else(|| too_large(text))
}

fn too_large(text: &str) -> String {
    format!("`{text}` is larger than {MAX_SECONDS} s (is it in milliseconds? times are in seconds)")
}

/// A non-negative integer no larger than `max`.
pub(crate) fn integer(text: &str, max: u64) -> Result<u64, String> {
    if let Ok(v) = text.parse::<u64>() {
        return if v <= max { Ok(v) } else { Err(format!("{v} is too large (at most {max})")) };
    }
    if text.starts_with('-') && text[1..].bytes().all(|b| b.is_ascii_digit()) && text.len() > 1 {
        return Err(format!("{text} is negative; expected an integer >= 0"));
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{text} is too large (at most {max})"));
    }
    Err(format!("`{text}` is not an integer"))
}

/// A finite rate in transactions per second, >= 0.
pub(crate) fn rate_tps(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(r) if (0.0..=MAX_RATE_TPS).contains(&r) => Ok(r),
        Ok(r) if r.is_finite() && r > MAX_RATE_TPS => Err(format!("{text} is above the largest rate, {MAX_RATE_TPS}")),
        Ok(_) => Err(format!("`{text}` must be a finite rate >= 0")),
        Err(_) => Err(format!("`{text}` is not a number")),
    }
}

/// The largest rate a curve may hold (as a scenario's `rate_tps`).
pub(crate) const MAX_RATE_TPS: f64 = 1e7;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_exact_nanoseconds() {
        assert_eq!(seconds_ns("12"), Ok(12_000_000_000));
        assert_eq!(seconds_ns("0.5"), Ok(500_000_000));
        assert_eq!(seconds_ns(".25"), Ok(250_000_000));
        assert_eq!(seconds_ns("1610375400.000123456789"), Ok(1_610_375_400_000_123_456));
        assert_eq!(seconds_ns("1.5e3"), Ok(1_500_000_000_000));
        assert!(seconds_ns("-1").unwrap_err().contains("negative"));
        assert!(seconds_ns("1610375400000000").unwrap_err().contains("milliseconds"));
        assert!(seconds_ns("abc").is_err() && seconds_ns("").is_err() && seconds_ns(".").is_err());
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_header() {
        let mut problems = Problems::new("t.csv");
        let mut reader = Reader::new("\u{feff}t_s,rate_tps\n0,1\n");
        let header = header(&mut reader, &mut problems, "t_s,rate_tps").unwrap();
        assert_eq!(header.find("t_s"), Some(0));
        assert_eq!(reader.next(&mut problems).unwrap().line, 2);
    }

    #[test]
    fn integers_say_what_is_wrong() {
        assert_eq!(integer("42", 100), Ok(42));
        assert!(integer("101", 100).unwrap_err().contains("too large"));
        assert!(integer("-3", 100).unwrap_err().contains("negative"));
        assert!(integer("2.5", 100).unwrap_err().contains("not an integer"));
        assert!(integer("99999999999999999999999", u64::MAX).unwrap_err().contains("too large"));
    }

    fn columns_of(line: &str) -> Vec<u64> {
        let mut problems = Problems::new("t.csv");
        let mut reader = Reader::new(line);
        let row = reader.next(&mut problems).unwrap();
        (0..row.len() + 2).map(|idx| reader.column(&row, idx)).collect()
    }

    /// The column of field `idx` found by scanning the line from its start, as before the
    /// columns were cached: the reference the one-pass version must agree with.
    fn column_by_scan(line: &str, idx: usize) -> u64 {
        let line = line.trim_end_matches(['\r', '\n']);
        let (mut field, mut quoted, mut at) = (0, false, line.len());
        for (i, ch) in line.char_indices() {
            if field == idx {
                at = i;
                break;
            }
            match ch {
                '"' => quoted = !quoted,
                ',' if !quoted => field += 1,
                _ => {}
            }
        }
        if field < idx {
            at = line.len();
        }
        let blanks = line[at..].chars().take_while(|c| *c == ' ' || *c == '\t').count();
        (line[..at].chars().count() + blanks + 1) as u64
    }

    #[test]
    fn columns_count_characters_and_skip_leading_blanks() {
        // Fields at 1, 5 (after two blanks), 7 (quoted, a comma inside), an empty last field
        // at the end of the line; past the fields, the end of the line.
        assert_eq!(columns_of("a,  b,\"x,y\","), vec![1, 5, 7, 13, 13, 13]);
        for line in ["a,  b,\"x,y\",", "é,ü\r\n", "a,,\tb", " x , y ,z  ", "1,\"\"\"q\"\"\",3", "a, \t"] {
            let expected: Vec<u64> = (0..columns_of(line).len()).map(|idx| column_by_scan(line, idx)).collect();
            assert_eq!(columns_of(line), expected, "{line:?}");
        }
    }

    #[test]
    fn locating_every_field_of_a_wide_row_is_linear() {
        let n = 20_000;
        let line: String = (0..n).map(|i| format!("x{i}")).collect::<Vec<_>>().join(",");
        let text = format!("{line}\n{line}\n");
        let mut problems = Problems::new("t.csv");
        let mut reader = Reader::new(&text);
        SCANNED_BYTES.with(|b| b.set(0));
        while let Some(row) = reader.next(&mut problems) {
            for idx in (0..n).rev() {
                reader.column(&row, idx);
            }
        }
        // Each line is scanned once, not once per field (which would be n times its length).
        let scanned = SCANNED_BYTES.with(|b| b.get());
        assert!(scanned <= text.len() as u64, "scanned {scanned} bytes of a {}-byte text", text.len());
    }
}
