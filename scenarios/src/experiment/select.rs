//! Ragged experiments: `only` restricts a variant to some axis values (a diagnostic run at one
//! point), and a table or plot to some cases; `instead` may give a value several overrides, and
//! an axis's `scenario` another base scenario (a trace's own file).

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use serde::Deserialize;

use super::cases::{Case, text_of};
use super::spec::{Axis, Loaded};
use crate::batch::Failure;

/// `only = { AXIS = [values], variant = [labels] }`: the cases kept (every one when empty).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(transparent)]
pub struct Only(pub BTreeMap<String, Vec<toml::Value>>);

/// One override, or a list of them.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Sets {
    One(String),
    Many(Vec<String>),
}

impl Sets {
    pub fn list(&self) -> Vec<String> {
        match self {
            Sets::One(s) => vec![s.clone()],
            Sets::Many(v) => v.clone(),
        }
    }
}

impl Only {
    fn keeps(&self, key: &str, text: &str) -> bool {
        self.0.get(key).is_none_or(|values| values.iter().any(|v| text_of(v) == text))
    }

    /// Whether a point of the axes (while the cases are made) is kept.
    pub fn admits_point(&self, point: &[(&Axis, toml::Value)]) -> bool {
        point.iter().all(|(axis, v)| self.keeps(&axis.name, &text_of(v)))
    }

    /// Whether a case is kept: its axis values and its variant.
    pub fn admits(&self, case: &Case) -> bool {
        let variant = case.variant.as_deref().unwrap_or("");
        self.keeps("variant", variant) && case.axes.iter().all(|(name, v)| self.keeps(name, v))
    }
}

/// Checks every `only`: its keys name axes (or `variant`, outside variants), its values exist.
pub fn check(loaded: &Loaded) -> Result<(), Failure> {
    let spec = &loaded.spec;
    let mut all: Vec<(String, &Only, bool)> = Vec::new();
    all.extend(spec.variants.iter().map(|v| (format!("variant `{}`", v.label), &v.only, false)));
    all.extend(spec.tables.iter().map(|t| (format!("table `{}`", t.name), &t.only, true)));
    all.extend(spec.plots.iter().map(|p| (format!("plot `{}`", p.name), &p.only, true)));
    for (what, only, variant_ok) in all {
        for (key, values) in &only.0 {
            let known: Vec<String> = if key == "variant" && variant_ok {
                spec.variants.iter().map(|v| v.label.clone()).collect()
            } else if let Some(axis) = spec.axes.iter().find(|a| &a.name == key) {
                axis.values.iter().map(text_of).collect()
            } else {
                let help = format!("`only` keys are axis names ({})", loaded.axis_names().join(", "));
                return Err(loaded.error(key, &format!("{what}: `only.{key}` names no axis"), &help));
            };
            if let Some(v) = values.iter().map(text_of).find(|v| !known.contains(v)) {
                let help = format!("the values of `{key}` are {}", known.join(", "));
                return Err(loaded.error(&v, &format!("{what}: `only.{key}` has no value `{v}`"), &help));
            }
        }
    }
    Ok(())
}

/// The base scenarios with their text: the spec's first, then those axis values name, each once.
pub fn scenarios(loaded: &Loaded) -> Result<Vec<(PathBuf, String)>, Failure> {
    let mut names = vec![&loaded.spec.scenario];
    for axis in &loaded.spec.axes {
        for (value, name) in &axis.scenario {
            if !axis.values.iter().any(|v| &text_of(v) == value) {
                let what = format!("axis `{}`: `scenario` names a file for `{value}`, no value of it", axis.name);
                return Err(loaded.error(value, &what, "key it by one of the axis's values"));
            }
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    let read = |name: &String| {
        let path = loaded.beside(name);
        let src = fs::read_to_string(&path).map_err(|e| Failure::input(format!("{}: {e}", path.display())))?;
        Ok((path, src))
    };
    names.into_iter().map(read).collect()
}
