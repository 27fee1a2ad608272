//! Compliance mappings: `policies/compliance/*.yaml` maps checks to the controls of
//! frameworks (AWS Config managed rules, AWS Foundational Security Best Practices, CIS) where
//! they correspond. Each finding carries the controls of its check.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlRef {
    pub framework: String,
    pub control: String,
    pub title: String,
    /// `equivalent` (the control fails exactly when the check does) or `related` (the
    /// control covers the same risk on a neighbouring resource or more broadly).
    pub relation: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrameworkFile {
    framework: String,
    title: String,
    controls: Vec<Control>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Control {
    id: String,
    title: String,
    relation: Relation,
    checks: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Relation {
    Equivalent,
    Related,
}

#[derive(Debug, Clone, Default)]
pub struct Compliance {
    by_check: BTreeMap<String, Vec<ControlRef>>,
    /// `framework id -> title`.
    pub frameworks: BTreeMap<String, String>,
}

impl Compliance {
    /// The mappings compiled into the binary.
    pub fn builtin() -> Result<Self, String> {
        let mut out = Self::default();
        for (rel, text) in crate::policy::BUILTIN {
            if rel.starts_with("compliance/") && rel.ends_with(".yaml") {
                out.add(&format!("policies/{rel}"), text)?;
            }
        }
        Ok(out)
    }

    fn add(&mut self, origin: &str, text: &str) -> Result<(), String> {
        let file: FrameworkFile =
            yaml_serde::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
        self.frameworks
            .insert(file.framework.clone(), file.title.clone());
        for control in file.controls {
            for check in &control.checks {
                self.by_check
                    .entry(check.clone())
                    .or_default()
                    .push(ControlRef {
                        framework: file.framework.clone(),
                        control: control.id.clone(),
                        title: control.title.clone(),
                        relation: match control.relation {
                            Relation::Equivalent => "equivalent",
                            Relation::Related => "related",
                        }
                        .into(),
                    });
            }
        }
        Ok(())
    }

    pub fn controls_for(&self, check_id: &str) -> Vec<ControlRef> {
        self.by_check.get(check_id).cloned().unwrap_or_default()
    }

    /// Every check id the mappings name.
    pub fn check_ids(&self) -> impl Iterator<Item = &str> {
        self.by_check.keys().map(String::as_str)
    }
}
