//! Reading an input file as text at the boundary: regular files only, a size cap per kind of
//! file checked before reading and again while reading, and UTF-8 decoded here so that a bad
//! byte is reported with its line and offset. Every file byzsim reads goes through `read_text`.

use std::fmt;
use std::io::Read;
use std::path::Path;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// The kinds of file byzsim reads, each with its own size cap (documented in
/// docs/scenarios.md, "Input files").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// A scenario TOML file: a few KiB in practice.
    Scenario,
    /// `[network] matrix_file`: at most 1,024 regions, so a few MiB at most.
    Matrix,
    /// `[cpu] profile_file`: five fields.
    CostProfile,
    /// A per-transaction CSV: a chain's export can hold millions of rows.
    Transactions,
    /// A rate series (`t_s,rate_tps`).
    Rates,
    /// NASDAQ per-second trade counts: a trading day of thousands of stocks.
    Nasdaq,
    /// The Diablo benchmark's rate-curves file.
    Diablo,
    /// A sweep shard file, written by `byzsim sweep --shard` and read by `byzsim merge`.
    Shard,
    /// The measured points of `byzsim calibrate --fit`: a few rows.
    FitPoints,
}

impl InputKind {
    /// The largest file of this kind byzsim reads, in bytes.
    pub fn cap_bytes(self) -> u64 {
        match self {
            InputKind::Scenario => MIB,
            InputKind::Matrix => 16 * MIB,
            InputKind::CostProfile | InputKind::FitPoints => 64 * KIB,
            InputKind::Transactions => GIB,
            InputKind::Rates | InputKind::Diablo => 64 * MIB,
            InputKind::Nasdaq | InputKind::Shard => 256 * MIB,
        }
    }

    /// The cap in words: `1 MiB`, `64 KiB`.
    pub fn cap_text(self) -> String {
        size(self.cap_bytes())
    }

    /// How messages name a file of this kind.
    pub fn what(self) -> &'static str {
        match self {
            InputKind::Scenario => "scenario file",
            InputKind::Matrix => "matrix file",
            InputKind::CostProfile => "profile file",
            InputKind::Transactions | InputKind::Rates | InputKind::Nasdaq | InputKind::Diablo => "trace file",
            InputKind::Shard => "shard file",
            InputKind::FitPoints => "points file",
        }
    }
}

/// Why an input file could not be read as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// The file as given.
    pub file: String,
    /// 1-based line of the first byte that is not UTF-8; None for other problems.
    pub line: Option<u64>,
    /// What is wrong, naming the kind of file.
    pub message: String,
    pub help: Option<String>,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputError {}

/// The text of the file at `path`: refused (without reading) when it is not a regular file or
/// is larger than `kind`'s cap, and refused when it is not UTF-8. Reads at most cap + 1 bytes,
/// so a file that grows while read cannot make it read more.
pub fn read_text(path: &Path, kind: InputKind) -> Result<String, InputError> {
    let fail = |message: String, help: Option<String>| InputError {
        file: path.display().to_string(),
        line: None,
        message,
        help,
    };
    let what = kind.what();
    let cap_bytes = kind.cap_bytes();
    // Checked on the path before opening: opening a FIFO for reading waits for a writer.
    let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read the {what}: {e}"), None))?;
    check_regular(&meta, what).map_err(|m| fail(m, Some(regular_help())))?;
    check_size(meta.len(), kind).map_err(|m| fail(m, Some(size_help())))?;
    let file = std::fs::File::open(path).map_err(|e| fail(format!("cannot read the {what}: {e}"), None))?;
    // The path may have been replaced between the two looks: check what was opened.
    let opened = file.metadata().map_err(|e| fail(format!("cannot read the {what}: {e}"), None))?;
    check_regular(&opened, what).map_err(|m| fail(m, Some(regular_help())))?;
    let expected = usize::try_from(opened.len().min(cap_bytes)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(expected.saturating_add(1));
    file.take(cap_bytes + 1).read_to_end(&mut bytes).map_err(|e| fail(format!("cannot read the {what}: {e}"), None))?;
    check_size(bytes.len() as u64, kind).map_err(|m| fail(format!("{m} (it grew while being read)"), None))?;
    decode(bytes, what).map_err(|(line, message)| InputError {
        line: Some(line),
        ..fail(message, Some("save the file as UTF-8 text (most editors offer it under \"Save as\")".into()))
    })
}

/// A message when `meta` is not a regular file (symbolic links are followed).
fn check_regular(meta: &std::fs::Metadata, what: &str) -> Result<(), String> {
    let kind = file_type_name(&meta.file_type());
    match kind {
        None => Ok(()),
        Some(kind) => Err(format!("the {what} is {kind}, not a regular file")),
    }
}

/// What a file that is not regular is, in words; None for a regular file.
fn file_type_name(t: &std::fs::FileType) -> Option<&'static str> {
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if t.is_char_device() {
            return Some("a character device");
        }
        if t.is_block_device() {
            return Some("a block device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

fn regular_help() -> String {
    "byzsim reads its inputs from regular files only: save the data to a file and name that".to_string()
}

/// A message when `size_bytes` is over `kind`'s cap.
fn check_size(size_bytes: u64, kind: InputKind) -> Result<(), String> {
    let cap_bytes = kind.cap_bytes();
    if size_bytes <= cap_bytes {
        return Ok(());
    }
    Err(format!("the {} is larger than {} ({} bytes), the most byzsim reads", kind.what(), size(cap_bytes), cap_bytes))
}

fn size_help() -> String {
    "the size caps of input files are listed in docs/scenarios.md (\"Input files\"); a trace can be cut \
     to the window you replay"
        .to_string()
}

/// `64 KiB`, `16 MiB`, `2 GiB`: a cap in the largest unit that divides it.
fn size(bytes: u64) -> String {
    for (unit, name) in [(GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")] {
        if bytes >= unit && bytes.is_multiple_of(unit) {
            return format!("{} {name}", bytes / unit);
        }
    }
    format!("{bytes} bytes")
}

/// The bytes as a String, or the line (1-based) and a message naming the first bad byte's
/// offset (0-based, from the start of the file).
fn decode(bytes: Vec<u8>, what: &str) -> Result<String, (u64, String)> {
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let message = format!(
            "the {what} is not UTF-8 text: line {line}, byte offset {offset} (from 0, the start of the file) \
             holds 0x{:02x}",
            bytes[offset]
        );
        (line, message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_byte_is_placed_by_line_and_offset() {
        let (line, message) = decode(b"a,b\n1,2\n3,\xff\n".to_vec(), "trace file").unwrap_err();
        assert_eq!(line, 3);
        assert!(message.contains("line 3, byte offset 10") && message.contains("0xff"), "{message}");
        // A truncated multi-byte character at the very end is placed at its first byte.
        let (line, message) = decode(b"ok\n\xc3".to_vec(), "trace file").unwrap_err();
        assert_eq!(line, 2);
        assert!(message.contains("byte offset 3"), "{message}");
        assert_eq!(decode("é\n".as_bytes().to_vec(), "trace file"), Ok("é\n".to_string()));
    }

    #[test]
    fn sizes_are_checked_against_the_cap() {
        let cap = InputKind::Scenario.cap_bytes();
        assert!(check_size(cap, InputKind::Scenario).is_ok());
        let message = check_size(cap + 1, InputKind::Scenario).unwrap_err();
        assert!(message.contains("larger than 1 MiB"), "{message}");
        assert_eq!(size(2 * GIB), "2 GiB");
        assert_eq!(size(GIB + MIB), "1025 MiB");
        assert_eq!(size(64 * KIB), "64 KiB");
        assert_eq!(size(1000), "1000 bytes");
    }
}
