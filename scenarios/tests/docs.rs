//! The documentation stays true: the full example of docs/scenarios.md parses, its reference
//! tables are the ones the field declarations make (`cargo xtask docs` rewrites them), every
//! declared field has a row there, and every shipped scenario uses only keys the JSON Schema
//! (`byzsim schema`) declares.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn docs() -> String {
    std::fs::read_to_string(root().join("docs/scenarios.md")).expect("docs/scenarios.md exists")
}

fn schema() -> Json {
    serde_json::from_str(&scenarios::parse::schema_json()).expect("the schema is JSON")
}

#[test]
fn the_documented_example_parses() {
    let text = docs();
    let start = text.find("```toml\n").expect("a toml example") + "```toml\n".len();
    let len = text[start..].find("```").expect("closed block");
    let example = &text[start..start + len];
    let s = scenarios::parse::load_str(Path::new("docs-example.toml"), example, &[], None)
        .unwrap_or_else(|d| panic!("the documented example does not parse:\n{d}"));
    assert_eq!(s.cpu.profile.name, "blst-x86-2core");
}

/// The first line that differs between the docs and what the declarations make, if any.
fn first_difference(text: &str) -> Option<String> {
    let filled = scenarios::parse::fill_docs(text).expect("every marker is known and closed");
    let line = text.lines().zip(filled.lines()).position(|(a, b)| a != b);
    let line = line.or((text.lines().count() != filled.lines().count()).then(|| text.lines().count()))?;
    let docs = text.lines().nth(line).unwrap_or("(end of file)");
    let declared = filled.lines().nth(line).unwrap_or("(end of file)");
    Some(format!("docs/scenarios.md line {}:\n  docs:     {docs}\n  declared: {declared}", line + 1))
}

#[test]
fn the_reference_tables_are_the_declarations() {
    if let Some(difference) = first_difference(&docs()) {
        panic!("{difference}\nrun `cargo xtask docs` to rewrite the tables from parse/fields.rs");
    }
}

#[test]
fn an_edited_table_is_caught() {
    let text = docs();
    let edited = text.replacen("| `batch_size` | integer | `400` |", "| `batch_size` | integer | `500` |", 1);
    assert_ne!(edited, text, "the planted edit applies");
    let difference = first_difference(&edited).expect("a hand edit of a generated table is caught");
    assert!(difference.contains("`500`") && difference.contains("`400`"), "{difference}");
}

/// `(table, key)` for every field the schema declares, nested tables included.
fn declared_keys(schema: &Json, path: &str, out: &mut Vec<(String, String)>) {
    let Some(properties) = schema["properties"].as_object() else { return };
    for (key, inner) in properties {
        let inner =
            if inner["type"] == "array" && inner["items"]["type"] == "object" { &inner["items"] } else { inner };
        let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
        if inner["type"] == "object" && inner["additionalProperties"] == false {
            declared_keys(inner, &child, out);
        } else {
            out.push((path.to_string(), key.clone()));
        }
    }
}

#[test]
fn every_declared_field_has_a_row_in_the_reference() {
    let text = docs();
    let mut keys = Vec::new();
    declared_keys(&schema(), "", &mut keys);
    assert!(keys.len() >= 120, "the schema declares every field, found {}", keys.len());
    for (table, key) in &keys {
        assert!(text.contains(&format!("| `{key}` |")), "docs/scenarios.md lacks the field {table} {key}");
    }
    eprintln!("{} fields checked", keys.len());
}

/// Keys of `value` (a TOML table) that `schema` does not declare, as dotted paths.
fn undeclared(value: &toml::Value, schema: &Json, path: &str, out: &mut Vec<String>) {
    match value {
        toml::Value::Table(table) if schema["type"] == "object" => {
            for (key, inner) in table {
                let at = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                match schema["properties"].get(key) {
                    Some(field) => undeclared(inner, field, &at, out),
                    None if schema["additionalProperties"] == false => out.push(at),
                    None => {}
                }
            }
        }
        toml::Value::Array(items) if schema["type"] == "array" => {
            for (i, item) in items.iter().enumerate() {
                undeclared(item, &schema["items"], &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn shipped_scenarios() -> Vec<PathBuf> {
    let mut files = vec![root().join("scenarios/quickstart.toml")];
    for dir in ["scenarios/examples", "scenarios/figures"] {
        let entries = std::fs::read_dir(root().join(dir)).expect("the folder exists");
        let mut found: Vec<PathBuf> = entries.map(|e| e.expect("an entry").path()).collect();
        found.retain(|p| p.extension().is_some_and(|e| e == "toml"));
        found.sort();
        files.extend(found);
    }
    files
}

#[test]
fn every_shipped_scenario_uses_only_keys_the_schema_declares() {
    let schema = schema();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let files = shipped_scenarios();
    assert!(files.len() > 20, "the shipped scenarios are found");
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable");
        let value: toml::Value = toml::from_str(&text).expect("TOML");
        let mut keys = Vec::new();
        undeclared(&value, &schema, "", &mut keys);
        assert!(keys.is_empty(), "{}: keys the schema does not declare: {keys:?}", file.display());
    }
}

#[test]
fn the_schema_check_catches_an_undeclared_key() {
    let value: toml::Value = toml::from_str("duration_s = 5\n[hotstuff]\nbatchsize = 4\n").expect("TOML");
    let mut keys = Vec::new();
    undeclared(&value, &schema(), "", &mut keys);
    assert_eq!(keys, ["hotstuff.batchsize"]);
}
