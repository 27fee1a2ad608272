//! A result's evidence, kept as compact JSON text.
//!
//! Evidence is written once (by the check) and read when a report is rendered. Held as a
//! `serde_json::Value`, a one-key object costs a B-tree node of ~700 bytes; a large account's
//! 100,000 results spent ~70 MB on it. Keys keep the order they were written in (a check's
//! evidence comes sorted from the engine; serde_json preserves order in this build), so the
//! report is the same bytes as before; equality is that of the JSON values, as it was.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Interner, Shared};

/// Shared text: most results of a large account carry one of a few evidences (80,000 of
/// 104,000 carry `{}`), which [`Evidence::shared`] keeps once.
#[derive(Clone)]
pub struct Evidence(Shared);

impl Evidence {
    /// `{}`: what a result without evidence carries (one allocation for all of them).
    pub fn empty() -> Self {
        static EMPTY: std::sync::OnceLock<Shared> = std::sync::OnceLock::new();
        Self(EMPTY.get_or_init(|| Shared::from("{}")).clone())
    }

    /// The same evidence, its text shared with every other equal text `words` handed out.
    pub fn shared(self, words: &mut Interner) -> Self {
        Self(words.get(&self.0))
    }

    /// The JSON of any serialisable value (an engine value, a `serde_json::Value`); `null`
    /// becomes `{}`.
    pub fn of<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Self> {
        let text = serde_json::to_string(value)?;
        Ok(if text == "null" {
            Self::empty()
        } else {
            Self(Shared::from(text))
        })
    }

    /// The evidence as a JSON value (parsed on each call: for rendering and tests).
    pub fn value(&self) -> serde_json::Value {
        // Only ever built from serialised JSON, so it always parses.
        serde_json::from_str(&self.0).unwrap_or(serde_json::Value::Null)
    }

    /// The compact JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<serde_json::Value> for Evidence {
    fn from(value: serde_json::Value) -> Self {
        // Serialising a serde_json::Value cannot fail.
        Self::of(&value).unwrap_or_else(|_| Self::empty())
    }
}

impl PartialEq for Evidence {
    /// Equal JSON values (key order aside), like the `serde_json::Value` it replaces.
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0 || self.value() == other.value()
    }
}

impl Eq for Evidence {}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Evidence({})", self.0)
    }
}

impl Serialize for Evidence {
    /// As the JSON value it holds, so a pretty-printed report indents it like the rest.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Most results carry no evidence: an empty object needs no parse.
        if &*self.0 == "{}" {
            use serde::ser::SerializeMap;
            return serializer.serialize_map(Some(0))?.end();
        }
        let value: serde_json::Value =
            serde_json::from_str(&self.0).map_err(serde::ser::Error::custom)?;
        value.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Evidence {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Ok(Self::from(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_evidence_serialises_as_an_empty_object() {
        let empty = serde_json::json!({ "evidence": Evidence::empty(), "n": 1 });
        let expected = serde_json::json!({ "evidence": {}, "n": 1 });
        assert_eq!(empty, expected);
        assert_eq!(
            serde_json::to_string_pretty(&serde_json::json!([Evidence::empty()])).unwrap(),
            serde_json::to_string_pretty(&serde_json::json!([{}])).unwrap()
        );
        #[derive(serde::Serialize)]
        struct Row {
            evidence: Evidence,
        }
        assert_eq!(
            serde_json::to_string_pretty(&Row {
                evidence: Evidence::empty()
            })
            .unwrap(),
            "{\n  \"evidence\": {}\n}"
        );
    }

    #[test]
    fn it_round_trips_in_its_order_and_compares_as_json() {
        let evidence = Evidence::from(serde_json::json!({"b": [1, 2.5, "x"], "a": {"c": null}}));
        assert_eq!(evidence.as_str(), r#"{"b":[1,2.5,"x"],"a":{"c":null}}"#);
        let pretty =
            serde_json::to_string_pretty(&serde_json::json!({ "evidence": evidence })).unwrap();
        assert!(
            pretty.contains("\"evidence\": {\n    \"b\": [\n      1,"),
            "{pretty}"
        );
        let back: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        let back: Evidence = serde_json::from_value(back["evidence"].clone()).unwrap();
        assert_eq!(back.as_str(), evidence.as_str());
        let reordered: Evidence =
            serde_json::from_str(r#"{"a":{"c":null},"b":[1,2.5,"x"]}"#).unwrap();
        assert_eq!(reordered, evidence);
        assert_ne!(
            Evidence::from(serde_json::json!({"a": 1})),
            Evidence::from(serde_json::json!({"a": 2}))
        );
        assert_eq!(evidence.value()["b"][1], serde_json::json!(2.5));
    }

    #[test]
    fn null_is_the_empty_object() {
        assert_eq!(Evidence::from(serde_json::Value::Null), Evidence::empty());
        assert_eq!(Evidence::empty().to_string(), "{}");
    }
}
