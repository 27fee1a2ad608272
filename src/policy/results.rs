//! A check's `results` value, read straight from the engine's values.
//!
//! Reading them through JSON text (`to_json_str`, then serde) cost 10–15 % of the evaluation
//! of a large account and a transient copy of every result as text; the fields are read here
//! instead, with the same rules: every result is an object with exactly the known fields,
//! `resource_arn`, `status` (PASS, FAIL or ERROR) and `message` required, the optional ones
//! strings or null. Evidence is converted by its own `Serialize` (the same JSON as before).

use regorus::Value;

use super::ResultStatus;
use crate::vocab::Evidence;

/// One result as the check wrote it, before the defaults (resource type, account, region,
/// domain from the ARN) are applied.
#[derive(Debug, PartialEq)]
pub(super) struct RawResult {
    pub resource_arn: String,
    pub status: ResultStatus,
    pub message: String,
    pub evidence: Evidence,
    pub resource_type: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub domain_id: Option<String>,
}

/// The results of a set (the built-in checks' form), an object keyed by resource ARN, or an
/// array; anything else, or any malformed result, is an error naming what is wrong.
pub(super) fn read(results: &Value) -> Result<Vec<RawResult>, String> {
    let read_all = |items: &mut dyn Iterator<Item = &Value>| -> Result<Vec<RawResult>, String> {
        items.map(result).collect()
    };
    match results {
        Value::Set(set) => read_all(&mut set.iter()),
        Value::Object(map) => read_all(&mut map.values()),
        Value::Array(array) => read_all(&mut array.iter()),
        other => Err(format!("`results` is {}", kind(other))),
    }
}

fn result(value: &Value) -> Result<RawResult, String> {
    let Value::Object(fields) = value else {
        return Err(format!("a result is {}, not an object", kind(value)));
    };
    let mut resource_arn = None;
    let mut status = None;
    let mut message = None;
    let mut evidence = Evidence::empty();
    let (mut resource_type, mut account_id, mut region, mut domain_id) = (None, None, None, None);
    for (key, field) in fields.iter() {
        let Value::String(key) = key else {
            return Err(format!("a result has a key that is {}", kind(key)));
        };
        let name: &str = key;
        match name {
            "resource_arn" => resource_arn = Some(string(name, field)?),
            "status" => {
                status = Some(match string(name, field)?.as_str() {
                    "PASS" => ResultStatus::Pass,
                    "FAIL" => ResultStatus::Fail,
                    "ERROR" => ResultStatus::Error,
                    other => {
                        return Err(format!(
                            "`status` is \"{other}\", expected PASS, FAIL or ERROR"
                        ));
                    }
                })
            }
            "message" => message = Some(string(name, field)?),
            "evidence" => {
                evidence =
                    Evidence::of(field).map_err(|e| format!("`evidence` is not JSON: {e}"))?;
            }
            "resource_type" => resource_type = optional_string(name, field)?,
            "account_id" => account_id = optional_string(name, field)?,
            "region" => region = optional_string(name, field)?,
            "domain_id" => domain_id = optional_string(name, field)?,
            other => {
                return Err(format!(
                    "unknown field `{other}` (a result has resource_arn, status, message, evidence, resource_type, account_id, region, domain_id)"
                ));
            }
        }
    }
    let missing = |field: &str| format!("a result has no `{field}`");
    Ok(RawResult {
        resource_arn: resource_arn.ok_or_else(|| missing("resource_arn"))?,
        status: status.ok_or_else(|| missing("status"))?,
        message: message.ok_or_else(|| missing("message"))?,
        evidence,
        resource_type,
        account_id,
        region,
        domain_id,
    })
}

fn string(name: &str, value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.to_string()),
        other => Err(format!("`{name}` is {}, not a string", kind(other))),
    }
}

fn optional_string(name: &str, value: &Value) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        other => string(name, other).map(Some),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Set(_) => "a set",
        Value::Object(_) => "an object",
        Value::Undefined => "undefined",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(json: &str) -> Value {
        Value::from_json_str(json).unwrap()
    }

    /// Evidence reads as the JSON text path read it: numbers (integers, floats, large
    /// integers), nested arrays and objects, sets as arrays.
    #[test]
    fn evidence_is_the_json_it_was_before() {
        let mut evidence = value(
            r#"{"hours": 36, "ratio": 0.25, "big": 123456789012345678, "neg": -3, "nested": {"a": [1, "x", null, true]}, "empty": {}}"#,
        );
        let set = Value::from(std::collections::BTreeSet::from([
            Value::from("b"),
            Value::from("a"),
        ]));
        evidence
            .as_object_mut()
            .unwrap()
            .insert(Value::from("set"), set);
        let via_text: serde_json::Value =
            serde_json::from_str(&evidence.to_json_str().unwrap()).unwrap();
        let direct = Evidence::of(&evidence).unwrap();
        // The same text, keys in the same order: the report's bytes do not change.
        assert_eq!(direct.as_str(), serde_json::to_string(&via_text).unwrap());
        assert_eq!(direct.value()["set"], serde_json::json!(["a", "b"]));
        assert_eq!(
            direct.value()["big"],
            serde_json::json!(123456789012345678u64)
        );
    }

    #[test]
    fn a_complete_result_reads_every_field() {
        let results = value(
            r#"[{"resource_arn": "arn:x", "status": "FAIL", "message": "m", "evidence": {"k": 1}, "resource_type": "app", "account_id": "111122223333", "region": null, "domain_id": "d-1"}]"#,
        );
        let read = read(&results).unwrap();
        assert_eq!(
            read,
            vec![RawResult {
                resource_arn: "arn:x".into(),
                status: ResultStatus::Fail,
                message: "m".into(),
                evidence: serde_json::json!({"k": 1}).into(),
                resource_type: Some("app".into()),
                account_id: Some("111122223333".into()),
                region: None,
                domain_id: Some("d-1".into()),
            }]
        );
    }

    #[test]
    fn malformed_results_say_what_is_wrong() {
        let cases = [
            (
                r#"[{"resource_arn": "a", "status": "PASSED", "message": "m"}]"#,
                "`status` is \"PASSED\", expected PASS, FAIL or ERROR",
            ),
            (
                r#"[{"resource_arn": "a", "status": "PASS"}]"#,
                "a result has no `message`",
            ),
            (
                r#"[{"status": "PASS", "message": "m"}]"#,
                "a result has no `resource_arn`",
            ),
            (
                r#"[{"resource_arn": "a", "message": "m"}]"#,
                "a result has no `status`",
            ),
            (
                r#"[{"resource_arn": 7, "status": "PASS", "message": "m"}]"#,
                "`resource_arn` is a number, not a string",
            ),
            (
                r#"[{"resource_arn": "a", "status": "PASS", "message": "m", "severity": "high"}]"#,
                "unknown field `severity`",
            ),
            (
                r#"[{"resource_arn": "a", "status": "PASS", "message": "m", "region": 1}]"#,
                "`region` is a number, not a string",
            ),
            (r#"["arn:x"]"#, "a result is a string, not an object"),
            (r#""PASS""#, "`results` is a string"),
        ];
        for (json, want) in cases {
            let err = read(&value(json)).unwrap_err();
            assert!(err.contains(want), "{json}: {err}");
        }
    }
}
