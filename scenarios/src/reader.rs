//! The scenario reader's toolkit: a TOML tree whose values remember where they came from (the
//! file's bytes or a `--set`), the context that collects every diagnostic, and the typed reading of
//! a field (bounds, defaults, suggestions for typos). It knows no scenario section: `parse` and the
//! protocol modules (`protocols/*`, each reading its own section) build on it.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The latest virtual time a scenario may mention (about 115 days): far below what the engine's
/// nanosecond clock holds (about 584 years), so sums of times cannot overflow it.
pub(crate) const MAX_TIME_S: f64 = 1e7;
pub(crate) const MAX_TIME_MS: f64 = MAX_TIME_S * 1e3;
/// 1 Tbit/s: faster than any real link, and small enough that bits per second fit in a u64.
pub(crate) const MAX_MBPS: f64 = 1e6;

/// One problem found in a scenario, located as precisely as possible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The scenario file, as given.
    pub file: String,
    /// 1-based line of the faulty value (or key); None when it came from `--set` or is absent.
    pub line: Option<usize>,
    /// 1-based column, in characters.
    pub column: Option<usize>,
    /// Dotted path of the field, e.g. `replicas.regions[2]`.
    pub field: Option<String>,
    pub message: String,
    pub help: Option<String>,
    /// The `--set` key the faulty value came from; such a value has no line.
    pub set: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if let Some(key) = &self.set {
            write!(f, ": --set {key}")?;
        }
        if let Some(field) = self.field.as_ref().filter(|field| self.set.as_ref() != Some(*field)) {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Every problem of one scenario, in file order (those without a line last).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}\n")?;
        }
        let count = self.0.len();
        let file = self.0.first().map_or("the scenario", |d| d.file.as_str());
        write!(f, "{count} problem{} in {file}", if count == 1 { "" } else { "s" })
    }
}

impl std::error::Error for Diagnostics {}

// ---------------------------------------------------------------------------------------------
// The tree: TOML values that remember where they came from
// ---------------------------------------------------------------------------------------------

/// Where a value came from, which decides how a diagnostic points at it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Origin {
    /// A byte range of the scenario text.
    File(Range<usize>),
    /// The `--set` override with this key.
    Set(String),
    /// A default or `--seed`: nothing to point at.
    Implicit,
}

#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) at: Origin,
    pub(crate) value: Value,
    /// The text of a `--set` value, so that a string field takes `--set name=2024` as "2024".
    pub(crate) raw: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) enum Value {
    Str(String),
    /// None when the integer does not even fit an i128.
    Int(Option<i128>),
    /// As written: may be NaN or infinite.
    Float(f64),
    Bool(bool),
    Datetime,
    Array(Vec<Node>),
    Table(Table),
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Table(pub(crate) BTreeMap<String, Entry>);

#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// Where the key is written: unknown fields are reported there.
    pub(crate) key_at: Origin,
    pub(crate) node: Node,
}

pub(crate) fn origin(span: Range<usize>, set_key: Option<&str>) -> Origin {
    match set_key {
        Some(key) => Origin::Set(key.to_string()),
        None => Origin::File(span),
    }
}

pub(crate) fn convert(value: &Spanned<DeValue<'_>>, set_key: Option<&str>) -> Node {
    let converted = match value.get_ref() {
        DeValue::String(s) => Value::Str(s.to_string()),
        DeValue::Integer(i) => Value::Int(i128::from_str_radix(i.as_str(), i.radix()).ok()),
        DeValue::Float(x) => Value::Float(x.as_str().parse().unwrap_or(f64::NAN)),
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(_) => Value::Datetime,
        DeValue::Array(items) => Value::Array(items.iter().map(|item| convert(item, set_key)).collect()),
        DeValue::Table(table) => Value::Table(convert_table(table, set_key)),
    };
    Node { at: origin(value.span(), set_key), value: converted, raw: None }
}

pub(crate) fn convert_table(table: &DeTable<'_>, set_key: Option<&str>) -> Table {
    let entries = table.iter().map(|(key, value)| {
        let entry = Entry { key_at: origin(key.span(), set_key), node: convert(value, set_key) };
        (key.get_ref().to_string(), entry)
    });
    Table(entries.collect())
}

/// How a diagnostic names the kind of a value that had the wrong type.
pub(crate) fn found(value: &Value) -> &'static str {
    match value {
        Value::Str(_) => "a string",
        Value::Int(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Bool(_) => "a boolean",
        Value::Datetime => "a date-time",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

// ---------------------------------------------------------------------------------------------
// Field declarations (each section declares its fields with `table!`)
// ---------------------------------------------------------------------------------------------

/// What a field holds.
#[derive(Clone, Copy, Debug)]
pub enum Ty {
    /// An integer in [lo, hi].
    Integer(i128, i128),
    /// A finite number within the bounds.
    Number(Bounds),
    Boolean,
    /// Any string (checked by its reader: a file name, a preset, ...).
    Text,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// A list of distinct names, each one of these (empty: checked by the reader).
    Names(&'static [&'static str]),
    Strings,
    Ints,
    Numbers,
    /// `[[0, 1], [2, 3]]`.
    IntGroups,
    /// `[first, last]`.
    Views,
    /// `{ kind = "...", params }` or "none".
    Jitter,
    /// "critical", "all" or a list of message kinds.
    Targets,
}

/// A field's value when it is absent.
#[derive(Clone, Copy, Debug)]
pub enum Dflt {
    /// It must be given; the text is an example value for the help line.
    Required(&'static str),
    /// None: the text says what that means (docs).
    Absent(&'static str),
    /// Computed from other fields by the reader: the text says how (docs).
    Computed(&'static str),
    Int(i128),
    Num(f64),
    Bool(bool),
    Str(&'static str),
}

/// One field of a section.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub(crate) key: &'static str,
    pub(crate) ty: Ty,
    pub(crate) default: Dflt,
    /// The docs' "allowed" column: `{bounds}` stands for the type's bounds; empty means just them.
    pub(crate) allowed: &'static str,
    /// The docs' "meaning" column.
    pub(crate) doc: &'static str,
}

impl Field {
    /// The field's number bounds.
    pub(crate) fn bounds(&self) -> Bounds {
        match self.ty {
            Ty::Number(bounds) => bounds,
            _ => panic!("`{}` is not a number field", self.key),
        }
    }

    /// The field's integer range.
    pub(crate) fn range(&self) -> (i128, i128) {
        match self.ty {
            Ty::Integer(lo, hi) => (lo, hi),
            _ => panic!("`{}` is not an integer field", self.key),
        }
    }

    /// The names a `OneOf` field takes.
    pub(crate) fn names(&self) -> &'static [&'static str] {
        match self.ty {
            Ty::OneOf(names) | Ty::Names(names) => names,
            _ => panic!("`{}` is not a field of names", self.key),
        }
    }

    /// The declared name of `value`, one of `values` (listed in the order of the names, as
    /// `Ctx::pick` takes them): the writer's way back from a value to its word.
    pub(crate) fn name_of<T: PartialEq>(&self, values: &[T], value: T) -> &'static str {
        let names = self.names();
        assert_eq!(names.len(), values.len(), "`{}`: one value per declared name", self.key);
        let at = values.iter().position(|v| *v == value).expect("every value has a name");
        names[at]
    }
}

/// The fields of one TOML table (or of each entry of a list of tables).
#[derive(Clone, Copy, Debug)]
pub struct FieldTable {
    /// Dotted path, "" at the top level.
    pub(crate) path: &'static str,
    /// The name in the docs' markers (`<!-- fields:NAME -->`).
    pub(crate) name: &'static str,
    /// `[[path]]`: a list of tables.
    pub(crate) list: bool,
    pub(crate) fields: &'static [Field],
}

/// Declares one table's fields as constants named by their keys, and the table.
macro_rules! table {
    ($module:ident, $path:literal, $name:literal, list = $list:literal,
     { $( $key:ident : $ty:expr, $default:expr, $allowed:literal, $doc:literal; )* }) => {
        #[allow(non_upper_case_globals)]
        pub(crate) mod $module {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use $crate::reader::{Dflt::*, Field, FieldTable, Ty::*};
            $(
                pub(crate) const $key: Field =
                    Field { key: $crate::reader::bare_key(stringify!($key)), ty: $ty, default: $default, allowed: $allowed, doc: $doc };
            )*
            pub(crate) const TABLE: FieldTable =
                FieldTable { path: $path, name: $name, list: $list, fields: &[$($key),*] };
        }
    };
}

pub(crate) use table;

/// A declared key as written in a scenario: `r#loop` declares `loop`.
pub(crate) const fn bare_key(key: &'static str) -> &'static str {
    match key.as_bytes() {
        [b'r', b'#', ..] => key.split_at(2).1,
        _ => key,
    }
}

// ---------------------------------------------------------------------------------------------
// Diagnostics collection
// ---------------------------------------------------------------------------------------------

pub struct Ctx<'s> {
    pub(crate) file: String,
    pub(crate) src: &'s str,
    /// Byte offset at which each line starts.
    pub(crate) line_starts: Vec<usize>,
    pub(crate) diags: Vec<Diagnostic>,
    /// The files read so far (matrix, profile, trace).
    pub(crate) inputs: Vec<PathBuf>,
}

impl<'s> Ctx<'s> {
    pub(crate) fn new(path: &Path, src: &'s str) -> Self {
        let line_starts = std::iter::once(0).chain(src.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Ctx { file: path.display().to_string(), src, line_starts, diags: Vec::new(), inputs: Vec::new() }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(crate) fn locate(&self, offset: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&start| start <= offset).max(1);
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let column = self.src.get(start..offset).map_or(1, |text| text.chars().count() + 1);
        (line, column)
    }

    pub(crate) fn report(
        &mut self,
        at: &Origin,
        field: Option<&str>,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        let (line, column, set) = match at {
            Origin::File(span) => {
                let (line, column) = self.locate(span.start);
                (Some(line), Some(column), None)
            }
            Origin::Set(key) => (None, None, Some(key.clone())),
            Origin::Implicit => (None, None, None),
        };
        self.diags.push(Diagnostic {
            file: self.file.clone(),
            line,
            column,
            field: field.map(str::to_string),
            message: message.into(),
            help,
            set,
        });
    }

    /// Reports a problem with a node and yields None, the value of a field that failed.
    pub(crate) fn bad<T>(
        &mut self,
        node: &Node,
        field: &str,
        message: impl Into<String>,
        help: Option<String>,
    ) -> Option<T> {
        self.report(&node.at, Some(field), message, help);
        None
    }

    pub(crate) fn fail<T>(&mut self, val: &Val<T>, message: impl Into<String>, help: Option<String>) {
        self.report(&val.at, Some(&val.field), message, help);
    }

    pub(crate) fn syntax_error(&mut self, e: &toml::de::Error) {
        let at = e.span().map_or(Origin::Implicit, Origin::File);
        self.report(&at, None, format!("invalid TOML: {}", e.message().trim_end()), None);
    }

    pub(crate) fn finish(mut self) -> Diagnostics {
        self.diags.sort_by_key(|d| (d.line.is_none(), d.line, d.column));
        Diagnostics(self.diags)
    }
}

// ---------------------------------------------------------------------------------------------
// Typed reading of fields
// ---------------------------------------------------------------------------------------------

/// A checked value, where it came from, and its field name, kept for checks across fields.
#[derive(Clone, Debug)]
pub(crate) struct Val<T> {
    pub(crate) v: T,
    pub(crate) at: Origin,
    pub(crate) field: String,
}

/// What to do when a field is absent.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Missing<T> {
    Default(T),
    /// Report it; the text is an example value for the help line.
    Required(&'static str),
}

/// A table being read.
pub struct Section<'t> {
    /// Dotted path, "" at the top level.
    pub(crate) path: String,
    /// Where to point a "missing field" diagnostic.
    pub(crate) at: Origin,
    pub(crate) table: Option<&'t Table>,
    /// The table had the wrong type (already reported): its fields are not also "missing".
    pub(crate) broken: bool,
}

impl<'t> Section<'t> {
    pub(crate) fn root(table: &'t Table) -> Self {
        Section { path: String::new(), at: Origin::Implicit, table: Some(table), broken: false }
    }

    pub(crate) fn field(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_string() } else { format!("{}.{key}", self.path) }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&'t Node> {
        self.table?.0.get(key).map(|entry| &entry.node)
    }

    /// "under [replicas]", for help lines.
    pub(crate) fn place(&self) -> String {
        match self.path.as_str() {
            "" => "at the top level".to_string(),
            path if path.ends_with(']') => format!("in {path}"),
            path => format!("under [{path}]"),
        }
    }
}

/// An interval of allowed numbers.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    pub(crate) lo: f64,
    pub(crate) lo_inclusive: bool,
    /// Infinite: no upper bound.
    pub(crate) hi: f64,
    pub(crate) hi_inclusive: bool,
}

impl Bounds {
    pub(crate) const fn at_least(lo: f64) -> Self {
        Bounds { lo, lo_inclusive: true, hi: f64::INFINITY, hi_inclusive: true }
    }
    pub(crate) const fn above(lo: f64) -> Self {
        Bounds { lo, lo_inclusive: false, hi: f64::INFINITY, hi_inclusive: true }
    }
    pub(crate) const fn at_most(self, hi: f64) -> Self {
        Bounds { hi, hi_inclusive: true, ..self }
    }
    pub(crate) const fn below(self, hi: f64) -> Self {
        Bounds { hi, hi_inclusive: false, ..self }
    }
    pub(crate) fn contains(&self, x: f64) -> bool {
        let above_lo = if self.lo_inclusive { x >= self.lo } else { x > self.lo };
        let below_hi = if self.hi_inclusive { x <= self.hi } else { x < self.hi };
        above_lo && below_hi
    }
}

impl fmt::Display for Bounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", if self.lo_inclusive { ">=" } else { ">" }, self.lo)?;
        if self.hi.is_finite() {
            write!(f, " and {} {}", if self.hi_inclusive { "<=" } else { "<" }, self.hi)?;
        }
        Ok(())
    }
}

pub(crate) const TIME_S: Bounds = Bounds::at_least(0.0).at_most(MAX_TIME_S);
pub(crate) const POSITIVE_TIME_S: Bounds = Bounds::above(0.0).at_most(MAX_TIME_S);
pub(crate) const TIME_MS: Bounds = Bounds::at_least(0.0).at_most(MAX_TIME_MS);
/// Timeouts are whole nanoseconds in the engine and must not round to zero: at least 1 µs.
pub(crate) const TIMEOUT_MS: Bounds = Bounds::at_least(0.001).at_most(MAX_TIME_MS);
pub(crate) const TIMEOUT_S: Bounds = Bounds::at_least(0.000_001).at_most(MAX_TIME_S);
pub(crate) const MBPS: Bounds = Bounds::at_least(0.0).at_most(MAX_MBPS);
pub(crate) const NON_NEGATIVE: Bounds = Bounds::at_least(0.0);

/// What a number field holds, from the unit at the end of its name.
pub(crate) fn number_kind(key: &str) -> &'static str {
    if key.ends_with("_ms") {
        "a number of milliseconds"
    } else if key.ends_with("_s") {
        "a number of seconds"
    } else if key.ends_with("_mbps") {
        "a number of Mbit/s"
    } else if key.ends_with("_tps") {
        "a number of transactions per second"
    } else {
        "a number"
    }
}

pub(crate) fn quoted_list(names: &[&str]) -> String {
    names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
}

impl Ctx<'_> {
    /// The subtable `key` of `parent`; reports it if it is something else.
    pub(crate) fn section<'t>(&mut self, parent: &Section<'t>, key: &str) -> Section<'t> {
        let path = parent.field(key);
        match parent.get(key) {
            None => Section { path, at: Origin::Implicit, table: None, broken: parent.broken },
            Some(Node { value: Value::Table(table), at, .. }) => {
                Section { path, at: at.clone(), table: Some(table), broken: false }
            }
            Some(node) => {
                let message = format!("expected a table, found {}", found(&node.value));
                self.report(&node.at, Some(&path), message, Some(format!("write it as a [{path}] section")));
                Section { path, at: node.at.clone(), table: None, broken: true }
            }
        }
    }

    /// Reports every key of a section without child tables that `table` does not declare.
    pub(crate) fn leaf_keys(&mut self, sec: &Section<'_>, table: &FieldTable) {
        let known: Vec<&str> = table.fields.iter().map(|f| f.key).collect();
        self.known_keys(sec, &known);
    }

    /// Reports every key of the section that is not in `known`, with the closest known one.
    pub(crate) fn known_keys(&mut self, sec: &Section<'_>, known: &[&str]) {
        let Some(table) = sec.table else { return };
        for (key, entry) in &table.0 {
            if known.contains(&key.as_str()) {
                continue;
            }
            let message = with_suggestion(format!("unknown field `{key}`"), key, known);
            let help = format!("the fields {} are: {}", sec.place(), known.join(", "));
            self.report(&entry.key_at, Some(&sec.field(key)), message, Some(help));
        }
    }

    pub(crate) fn missing(&mut self, sec: &Section<'_>, key: &str, example: &str) {
        if sec.broken {
            return;
        }
        let field = sec.field(key);
        let help = format!("add `{key} = {example}` {}", sec.place());
        self.report(&sec.at, Some(&field), format!("missing required field `{field}`"), Some(help));
    }

    /// The node of `key`, or (as the error) the field's outcome when it is absent: its default,
    /// or None after reporting it missing.
    pub(crate) fn lookup<'t, T>(
        &mut self,
        sec: &Section<'t>,
        key: &str,
        missing: Missing<T>,
    ) -> Result<&'t Node, Option<Val<T>>> {
        if let Some(node) = sec.get(key) {
            return Ok(node);
        }
        Err(match missing {
            Missing::Default(v) => Some(Val { v, at: Origin::Implicit, field: sec.field(key) }),
            Missing::Required(example) => {
                self.missing(sec, key, example);
                None
            }
        })
    }

    pub(crate) fn float(
        &mut self,
        sec: &Section<'_>,
        key: &str,
        missing: Missing<f64>,
        bounds: Bounds,
    ) -> Option<Val<f64>> {
        let node = match self.lookup(sec, key, missing) {
            Ok(node) => node,
            Err(outcome) => return outcome,
        };
        let field = sec.field(key);
        let v = self.node_f64(node, &field, number_kind(key), bounds)?;
        Some(Val { v, at: node.at.clone(), field })
    }

    /// An optional number: Some(None) when absent, None when invalid.
    pub(crate) fn opt_float(&mut self, sec: &Section<'_>, key: &str, bounds: Bounds) -> Option<Option<Val<f64>>> {
        match sec.get(key) {
            None => Some(None),
            Some(_) => self.float(sec, key, Missing::Required(""), bounds).map(Some),
        }
    }

    pub(crate) fn node_f64(&mut self, node: &Node, field: &str, expected: &str, bounds: Bounds) -> Option<f64> {
        let v = match &node.value {
            Value::Float(x) => *x,
            Value::Int(Some(i)) => *i as f64,
            Value::Int(None) => {
                return self.bad(node, field, format!("must be {bounds}; this integer is too large"), None);
            }
            other => return self.bad(node, field, format!("expected {expected}, found {}", found(other)), None),
        };
        if !v.is_finite() {
            return self.bad(node, field, format!("must be a finite number, found {v}"), None);
        }
        if !bounds.contains(v) {
            return self.bad(node, field, format!("must be {bounds}, found {v}"), None);
        }
        Some(v)
    }

    pub(crate) fn int<T: TryFrom<i128>>(
        &mut self,
        sec: &Section<'_>,
        key: &str,
        missing: Missing<T>,
        range: (i128, i128),
    ) -> Option<Val<T>> {
        let node = match self.lookup(sec, key, missing) {
            Ok(node) => node,
            Err(outcome) => return outcome,
        };
        let field = sec.field(key);
        let i = self.node_int(node, &field, range)?;
        match T::try_from(i) {
            Ok(v) => Some(Val { v, at: node.at.clone(), field }),
            Err(_) => self.bad(node, &field, format!("{i} is out of range"), None),
        }
    }

    pub(crate) fn node_int(&mut self, node: &Node, field: &str, (lo, hi): (i128, i128)) -> Option<i128> {
        let range = format!("an integer from {lo} to {hi}");
        match &node.value {
            Value::Int(Some(i)) if (lo..=hi).contains(i) => Some(*i),
            Value::Int(Some(i)) => self.bad(node, field, format!("must be {range}, found {i}"), None),
            Value::Int(None) => self.bad(node, field, format!("must be {range}; this one is far too large"), None),
            Value::Float(x) => {
                let help = (x.fract() == 0.0).then(|| "write it without a decimal point".to_string());
                self.bad(node, field, format!("expected {range}, found a float ({x})"), help)
            }
            other => self.bad(node, field, format!("expected {range}, found {}", found(other)), None),
        }
    }

    pub(crate) fn string(&mut self, sec: &Section<'_>, key: &str, missing: Missing<&str>) -> Option<Val<String>> {
        let missing = match missing {
            Missing::Default(v) => Missing::Default(v.to_string()),
            Missing::Required(example) => Missing::Required(example),
        };
        let node = match self.lookup(sec, key, missing) {
            Ok(node) => node,
            Err(outcome) => return outcome,
        };
        let field = sec.field(key);
        let v = self.node_str(node, &field, "a string")?.to_string();
        Some(Val { v, at: node.at.clone(), field })
    }

    pub(crate) fn node_str<'n>(&mut self, node: &'n Node, field: &str, expected: &str) -> Option<&'n str> {
        match (&node.value, &node.raw) {
            (Value::Str(s), _) => Some(s),
            // A --set value that happened to parse as another TOML type: take the text itself.
            (_, Some(raw)) => Some(raw),
            (other, None) => self.bad(node, field, format!("expected {expected}, found {}", found(other)), None),
        }
    }

    /// A string field with a fixed set of values.
    pub(crate) fn choice<T: Copy>(
        &mut self,
        sec: &Section<'_>,
        key: &str,
        missing: Missing<T>,
        options: &[(&str, T)],
    ) -> Option<Val<T>> {
        let node = match self.lookup(sec, key, missing) {
            Ok(node) => node,
            Err(outcome) => return outcome,
        };
        let field = sec.field(key);
        let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
        let list = quoted_list(&names);
        let s = self.node_str(node, &field, &format!("one of {list}"))?;
        if let Some(&(_, v)) = options.iter().find(|(name, _)| *name == s) {
            return Some(Val { v, at: node.at.clone(), field });
        }
        let message = with_suggestion(format!("unknown value \"{s}\""), s, &names);
        self.bad(node, &field, message, Some(format!("`{key}` is one of {list}")))
    }

    pub(crate) fn boolean(&mut self, sec: &Section<'_>, key: &str, default: bool) -> Option<Val<bool>> {
        let node = match self.lookup(sec, key, Missing::Default(default)) {
            Ok(node) => node,
            Err(outcome) => return outcome,
        };
        let field = sec.field(key);
        match node.value {
            Value::Bool(v) => Some(Val { v, at: node.at.clone(), field }),
            ref other => self.bad(node, &field, format!("expected true or false, found {}", found(other)), None),
        }
    }

    /// The entries of a list of tables (`[[faults.crashes]]`), none when absent; false with them
    /// when the field or one of its entries is something else (reported).
    pub(crate) fn table_list<'t>(&mut self, sec: &Section<'t>, key: &str) -> (Vec<Section<'t>>, bool) {
        let field = sec.field(key);
        let Some(node) = sec.get(key) else { return (Vec::new(), true) };
        let Value::Array(items) = &node.value else {
            let message = format!("expected a list of tables, found {}", found(&node.value));
            self.report(&node.at, Some(&field), message, Some(format!("write each entry as a [[{field}]] section")));
            return (Vec::new(), false);
        };
        let mut entries = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = format!("{field}[{i}]");
            match &item.value {
                Value::Table(table) => {
                    entries.push(Section { path, at: item.at.clone(), table: Some(table), broken: false });
                }
                other => self.report(&item.at, Some(&path), format!("expected a table, found {}", found(other)), None),
            }
        }
        let all_tables = entries.len() == items.len();
        (entries, all_tables)
    }
}

/// Reading a declared field (`fields.rs`): its key, bounds and default come from the declaration.
impl Ctx<'_> {
    pub(crate) fn num(&mut self, sec: &Section<'_>, f: &Field) -> Option<Val<f64>> {
        let missing = match f.default {
            Dflt::Num(x) => Missing::Default(x),
            Dflt::Required(example) => Missing::Required(example),
            _ => panic!("`{}` has no number default", f.key),
        };
        self.float(sec, f.key, missing, f.bounds())
    }

    /// A number field whose default the reader computes.
    pub(crate) fn num_or(&mut self, sec: &Section<'_>, f: &Field, default: f64) -> Option<Val<f64>> {
        self.float(sec, f.key, Missing::Default(default), f.bounds())
    }

    /// An optional number: Some(None) when absent, None when invalid.
    pub(crate) fn opt_num(&mut self, sec: &Section<'_>, f: &Field) -> Option<Option<Val<f64>>> {
        self.opt_float(sec, f.key, f.bounds())
    }

    pub(crate) fn whole<T: TryFrom<i128>>(&mut self, sec: &Section<'_>, f: &Field) -> Option<Val<T>> {
        let missing = match f.default {
            Dflt::Int(i) => Missing::Default(T::try_from(i).ok().expect("the default fits its type")),
            Dflt::Required(example) => Missing::Required(example),
            _ => panic!("`{}` has no integer default", f.key),
        };
        self.int(sec, f.key, missing, f.range())
    }

    /// An integer field whose default the reader computes.
    pub(crate) fn whole_or<T: TryFrom<i128>>(&mut self, sec: &Section<'_>, f: &Field, default: T) -> Option<Val<T>> {
        self.int(sec, f.key, Missing::Default(default), f.range())
    }

    pub(crate) fn flag(&mut self, sec: &Section<'_>, f: &Field) -> Option<Val<bool>> {
        let Dflt::Bool(default) = f.default else { panic!("`{}` has no boolean default", f.key) };
        self.boolean(sec, f.key, default)
    }

    pub(crate) fn text(&mut self, sec: &Section<'_>, f: &Field) -> Option<Val<String>> {
        let missing = match f.default {
            Dflt::Str(s) => Missing::Default(s),
            Dflt::Required(example) => Missing::Required(example),
            _ => panic!("`{}` has no string default", f.key),
        };
        self.string(sec, f.key, missing)
    }

    /// A field of names: `values` in the declaration's order of names.
    pub(crate) fn pick<T: Copy>(&mut self, sec: &Section<'_>, f: &Field, values: &[T]) -> Option<Val<T>> {
        let missing = match f.default {
            Dflt::Str(name) => Missing::Default(values[f.names().iter().position(|n| *n == name).expect("a name")]),
            Dflt::Required(example) => Missing::Required(example),
            _ => panic!("`{}` has no default name", f.key),
        };
        self.pick_with(sec, f, missing, values)
    }

    /// A field of names whose default the reader computes.
    pub(crate) fn pick_or<T: Copy>(
        &mut self,
        sec: &Section<'_>,
        f: &Field,
        default: T,
        values: &[T],
    ) -> Option<Val<T>> {
        self.pick_with(sec, f, Missing::Default(default), values)
    }

    pub(crate) fn pick_with<T: Copy>(
        &mut self,
        sec: &Section<'_>,
        f: &Field,
        missing: Missing<T>,
        values: &[T],
    ) -> Option<Val<T>> {
        let names = f.names();
        assert_eq!(names.len(), values.len(), "`{}`: one value per declared name", f.key);
        let options: Vec<(&str, T)> = names.iter().copied().zip(values.iter().copied()).collect();
        self.choice(sec, f.key, missing, &options)
    }
}

/// Levenshtein distance, in characters, ignoring case.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(0)
}

/// The candidate closest to `word` if it is close enough to be a likely typo, or else one that
/// `word` begins (`rate` for `rate_tps`).
pub(crate) fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let (best, distance) = candidates.iter().map(|c| (*c, edit_distance(word, c))).min_by_key(|(_, d)| *d)?;
    let length = word.chars().count();
    if distance <= (length / 3).max(1) {
        return Some(best);
    }
    let word = word.to_lowercase();
    candidates.iter().copied().find(|c| length >= 3 && c.to_lowercase().starts_with(&word))
}

pub(crate) fn with_suggestion(message: String, word: &str, candidates: &[&str]) -> String {
    match closest(word, candidates) {
        Some(best) => format!("{message}; did you mean `{best}`?"),
        None => message,
    }
}
