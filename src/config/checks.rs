//! `[checks.<id>]`: the thresholds of checks. Each check declares its own in its Rego
//! `metadata.thresholds` (name → type, default, bounds), so built-in and users' checks are
//! configured and validated alike; this module validates a config's tables against those
//! declarations once the policies are loaded, and builds `data.config` for the engine.
//!
//! ```rego
//! metadata := {
//!     "id": "app_long_running", ...,
//!     "thresholds": {"max_hours": {"type": "number", "default": 24, "exclusive_minimum": 0}},
//! }
//! ```
//!
//! The tables of a check that declares no thresholds reach `data.config` as written.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::ConfigError;

/// The types a threshold may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThresholdType {
    Number,
    Integer,
    String,
    /// A list of strings.
    Strings,
    Boolean,
}

/// A threshold as a check's `metadata.thresholds.<name>` declares it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdSpec {
    #[serde(rename = "type")]
    pub kind: ThresholdType,
    pub default: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Numbers: inclusive bounds, or an exclusive lower bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive_minimum: Option<f64>,
    /// Lists: how many items at least.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<usize>,
    /// Strings (and each item of a list): a regular expression the value must match, one it
    /// must not match, and what a valid value is (for the message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl ThresholdSpec {
    /// Why `value` is not a valid value of this threshold, or `None`.
    pub fn problem(&self, value: &serde_json::Value) -> Option<String> {
        use serde_json::Value as J;
        match (self.kind, value) {
            (ThresholdType::Number, J::Number(n)) => self.bounds(n.as_f64()?),
            (ThresholdType::Integer, J::Number(n)) if n.is_i64() || n.is_u64() => {
                self.bounds(n.as_f64()?)
            }
            (ThresholdType::Integer, _) => Some(format!("must be an integer, got {value}")),
            (ThresholdType::Number, _) => Some(format!("must be a number, got {value}")),
            (ThresholdType::Boolean, J::Bool(_)) => None,
            (ThresholdType::Boolean, _) => Some(format!("must be true or false, got {value}")),
            (ThresholdType::String, J::String(s)) => self.text(s),
            (ThresholdType::String, _) => Some(format!("must be a string, got {value}")),
            (ThresholdType::Strings, J::Array(items)) => {
                if let Some(min) = self.min_items
                    && items.len() < min
                {
                    return Some(if min == 1 {
                        "must name at least one item".into()
                    } else {
                        format!("must name at least {min} items")
                    });
                }
                items.iter().find_map(|item| match item {
                    J::String(s) => self.text(s),
                    other => Some(format!("must be a list of strings, got {other} in it")),
                })
            }
            (ThresholdType::Strings, _) => Some(format!("must be a list of strings, got {value}")),
        }
    }

    fn bounds(&self, n: f64) -> Option<String> {
        let shown = |x: f64| {
            if x.fract() == 0.0 && x.abs() < 1e15 {
                format!("{}", x as i64)
            } else {
                format!("{x}")
            }
        };
        let ok = n.is_finite()
            && self.minimum.is_none_or(|m| n >= m)
            && self.maximum.is_none_or(|m| n <= m)
            && self.exclusive_minimum.is_none_or(|m| n > m);
        if ok {
            return None;
        }
        let got = shown(n);
        Some(match (self.minimum, self.maximum, self.exclusive_minimum) {
            (Some(lo), Some(hi), _) => {
                format!("must be between {} and {}, got {got}", shown(lo), shown(hi))
            }
            (None, None, Some(0.0)) => format!("must be a positive number, got {got}"),
            (None, Some(hi), Some(m)) => {
                format!(
                    "must be above {} and at most {}, got {got}",
                    shown(m),
                    shown(hi)
                )
            }
            (None, None, Some(m)) => format!("must be above {}, got {got}", shown(m)),
            (Some(lo), None, _) => format!("must be at least {}, got {got}", shown(lo)),
            (None, Some(hi), None) => format!("must be at most {}, got {got}", shown(hi)),
            (None, None, None) => format!("must be a finite number, got {got}"),
        })
    }

    fn text(&self, s: &str) -> Option<String> {
        let matches = |p: &str| regex::Regex::new(p).is_ok_and(|re| re.is_match(s));
        let bad = self.pattern.as_deref().is_some_and(|p| !matches(p))
            || self.not_pattern.as_deref().is_some_and(matches);
        bad.then(|| match &self.hint {
            Some(hint) => format!("{s:?} is not {hint}"),
            None => format!(
                "{s:?} does not match {}",
                self.pattern.as_deref().unwrap_or("the threshold's pattern")
            ),
        })
    }

    /// Why the declaration itself is unusable (a pattern that does not compile, a default
    /// that breaks its own rules), or `None`.
    pub fn declaration_problem(&self) -> Option<String> {
        for p in [&self.pattern, &self.not_pattern].into_iter().flatten() {
            if let Err(e) = regex::Regex::new(p) {
                return Some(format!("pattern {p:?} is not a regular expression: {e}"));
            }
        }
        self.problem(&self.default)
            .map(|p| format!("its own default is invalid: {p}"))
    }
}

/// One `[checks.<id>]` table as written: each value with its line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckTable {
    pub line: usize,
    pub values: BTreeMap<String, (serde_json::Value, usize)>,
}

/// Second reading of `[checks]`: every table by id, each key with its span.
#[derive(Debug, Default, Deserialize)]
struct RawCheckTables {
    checks: Option<BTreeMap<String, Spanned<RawTable>>>,
}

/// One `[checks.<id>]` table: each key's value with its span.
type RawTable = BTreeMap<String, Spanned<toml::Value>>;

/// The laxest reading, for the line of an entry that is not a table.
#[derive(Debug, Default, Deserialize)]
struct RawCheckEntries {
    checks: Option<BTreeMap<String, Spanned<toml::Value>>>,
}

/// Reads the `[checks.<id>]` tables of a config file whose first reading succeeded.
pub(super) fn read_tables(
    path: &str,
    text: &str,
) -> Result<BTreeMap<String, CheckTable>, ConfigError> {
    let line = |offset: usize| super::line_col(text, offset).0;
    let entries: RawCheckEntries = toml::from_str(text).unwrap_or_default();
    for (id, value) in entries.checks.iter().flatten() {
        if !value.get_ref().is_table() {
            return Err(ConfigError::Invalid {
                path: path.to_string(),
                line: line(value.span().start),
                key: format!("checks.{id}"),
                problem: "must be a table of the check's thresholds".into(),
            });
        }
    }
    // Every entry is a table: this reading cannot fail where the first one succeeded.
    let spans: RawCheckTables = toml::from_str(text).unwrap_or_default();
    let mut tables = BTreeMap::new();
    for (id, table) in spans.checks.unwrap_or_default() {
        let mut values = BTreeMap::new();
        for (key, value) in table.get_ref() {
            let json = serde_json::to_value(value.get_ref()).map_err(|e| ConfigError::Invalid {
                path: path.to_string(),
                line: line(value.span().start),
                key: format!("checks.{id}.{key}"),
                problem: e.to_string(),
            })?;
            values.insert(key.clone(), (json, line(value.span().start)));
        }
        tables.insert(
            id,
            CheckTable {
                line: line(table.span().start),
                values,
            },
        );
    }
    Ok(tables)
}

/// The defaults of every declared threshold: `data.config` of a config without tables.
pub fn defaults(declared: &BTreeMap<String, BTreeMap<String, ThresholdSpec>>) -> serde_json::Value {
    let mut data = serde_json::Map::new();
    for (id, specs) in declared.iter().filter(|(_, s)| !s.is_empty()) {
        let values = specs
            .iter()
            .map(|(name, spec)| (name.clone(), spec.default.clone()))
            .collect();
        data.insert(id.clone(), serde_json::Value::Object(values));
    }
    serde_json::Value::Object(data)
}

/// `data.config`: every declared threshold at its configured value or its default; the
/// tables of checks that declare none as written. A table of an unknown check, an
/// undeclared threshold or an invalid value is an error naming file, line and key.
pub(super) fn resolve(
    path: &str,
    tables: &BTreeMap<String, CheckTable>,
    declared: &BTreeMap<String, BTreeMap<String, ThresholdSpec>>,
    known: &dyn Fn(&str) -> bool,
) -> Result<serde_json::Value, ConfigError> {
    let invalid = |line: usize, key: String, problem: String| ConfigError::Invalid {
        path: path.to_string(),
        line,
        key,
        problem,
    };
    let mut data = match defaults(declared) {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    for (id, table) in tables {
        if !known(id) {
            let problem = crate::vocab::unknown_check_problem(id);
            return Err(invalid(table.line, format!("checks.{id}"), problem));
        }
        let specs = declared.get(id).filter(|s| !s.is_empty());
        let Some(specs) = specs else {
            let written = table
                .values
                .iter()
                .map(|(k, (v, _))| (k.clone(), v.clone()));
            data.insert(id.clone(), serde_json::Value::Object(written.collect()));
            continue;
        };
        let entry = data
            .entry(id.clone())
            .or_insert_with(|| serde_json::Value::Object(Default::default()));
        for (key, (value, line)) in &table.values {
            let Some(spec) = specs.get(key) else {
                let names: Vec<&str> = specs.keys().map(String::as_str).collect();
                let problem = format!(
                    "{id} has no threshold {key:?} (it has: {})",
                    names.join(", ")
                );
                return Err(invalid(*line, format!("checks.{id}.{key}"), problem));
            };
            if let Some(problem) = spec.problem(value) {
                return Err(invalid(*line, format!("checks.{id}.{key}"), problem));
            }
            entry[key] = value.clone();
        }
    }
    Ok(serde_json::Value::Object(data))
}
