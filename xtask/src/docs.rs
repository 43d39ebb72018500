//! `cargo xtask docs`: the reference tables of docs/scenarios.md, made from the scenario
//! field declarations (`scenarios::parse::fill_docs`); the prose around them is left alone.

use std::path::Path;

/// Rewrites docs/scenarios.md's tables when they differ from the declarations; `check` only
/// reports that they do.
pub fn scenarios(check: bool) -> Result<(), String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/scenarios.md");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let filled = scenarios::parse::fill_docs(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if filled == text {
        eprintln!("docs/scenarios.md: the field tables match the declarations");
        return Ok(());
    }
    if check {
        return Err("docs/scenarios.md: the field tables differ from the declarations: run `cargo xtask docs`".into());
    }
    std::fs::write(&path, filled).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("docs/scenarios.md: field tables rewritten from the declarations");
    Ok(())
}
