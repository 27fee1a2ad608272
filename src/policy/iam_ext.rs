//! IAM's wildcard matching registered in the Rego engine:
//! - `iam.action_matches(pattern, action)` (case-insensitive, as IAM compares action names)
//!   and `iam.resource_matches(pattern, resource)` (case-sensitive);
//! - `iam.action_matches_any(patterns, actions)` and `iam.resource_matches_any(patterns,
//!   resources)`: whether some pattern matches some of the texts. `patterns` is a policy
//!   element as written (`Action`, `NotAction`, `Resource`, `NotResource`: one string or an
//!   array of them), `actions`/`resources` a string or an array or set of them. One call
//!   instead of a Rego loop calling the single matcher per pattern: each call of a function
//!   costs the interpreter more than the matching does (measured on 2,019 roles:
//!   `execution_role_s3_wildcard` 306 → 250 ms).
//!
//! It lives in Rust because Rego's `glob.match` treats `.` as a separator by default and a
//! pattern-to-regex translation in Rego would compile a regex per statement; the statement
//! logic that uses it (Allow/NotAction/Condition) stays in `policies/lib/iam.rego`.

use regorus::{Engine, Value};

use crate::vocab::glob_match;

/// Registers the `iam.*` matchers on an engine.
pub fn register(engine: &mut Engine) -> anyhow::Result<()> {
    // (name, one pattern against one text or any against any, case-insensitive)
    let matchers = [
        ("iam.action_matches", false, true),
        ("iam.resource_matches", false, false),
        ("iam.action_matches_any", true, true),
        ("iam.resource_matches_any", true, false),
    ];
    for (name, any, case_insensitive) in matchers {
        engine.add_extension(
            name.into(),
            2,
            Box::new(move |args: Vec<Value>| match any {
                true => any_matcher(&args, case_insensitive),
                false => matcher(&args, case_insensitive),
            }),
        )?;
    }
    Ok(())
}

fn matcher(args: &[Value], case_insensitive: bool) -> anyhow::Result<Value> {
    match args {
        [Value::String(pattern), Value::String(text)] => {
            Ok(Value::from(glob_match(pattern, text, case_insensitive)))
        }
        // A non-string Action/Resource (malformed document) matches nothing.
        [_, _] => Ok(Value::from(false)),
        _ => anyhow::bail!("expects 2 arguments"),
    }
}

fn any_matcher(args: &[Value], case_insensitive: bool) -> anyhow::Result<Value> {
    let [patterns, texts] = args else {
        anyhow::bail!("expects 2 arguments");
    };
    // As IAM reads a policy element: one value or an array of values. Anything that is not
    // a string (a malformed document, a set) matches nothing, as in `iam.action_matches`.
    let patterns: &[Value] = match patterns {
        Value::Array(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    let texts: Vec<&str> = match texts {
        Value::String(text) => vec![text],
        Value::Array(items) => items.iter().filter_map(text).collect(),
        Value::Set(items) => items.iter().filter_map(text).collect(),
        _ => Vec::new(),
    };
    Ok(Value::from(patterns.iter().filter_map(text).any(
        |pattern| {
            texts
                .iter()
                .any(|t| glob_match(pattern, t, case_insensitive))
        },
    )))
}

fn text(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::any_matcher;
    use regorus::Value;

    fn any(patterns: &str, texts: &str, case_insensitive: bool) -> bool {
        let args = [
            Value::from_json_str(patterns).unwrap(),
            Value::from_json_str(texts).unwrap(),
        ];
        any_matcher(&args, case_insensitive).unwrap() == Value::from(true)
    }

    #[test]
    fn any_pattern_against_any_text() {
        // One pattern or a list of them, against one text or a list of them.
        assert!(any(r#""s3:*""#, r#""s3:GetObject""#, true));
        assert!(any(r#"["ec2:*", "S3:get*"]"#, r#""s3:GetObject""#, true));
        assert!(!any(r#"["ec2:*", "s3:Put*"]"#, r#""s3:GetObject""#, true));
        assert!(any(
            r#""arn:aws:s3:::*""#,
            r#"["*", "arn:aws:s3:::*"]"#,
            false
        ));
        assert!(!any(
            r#""arn:aws:s3:::team-5/*""#,
            r#"["*", "arn:aws:s3:::*", "arn:aws:s3:::*/*"]"#,
            false
        ));
        // Resources are case-sensitive, actions are not.
        assert!(!any(r#""ARN:aws:s3:::*""#, r#""arn:aws:s3:::x""#, false));
        // Malformed elements match nothing: a number, an object, a set of patterns, an
        // empty list; non-string texts are skipped.
        assert!(!any("5", r#""s3:GetObject""#, true));
        assert!(!any(r#"{"a": "*"}"#, r#""s3:GetObject""#, true));
        assert!(!any("[]", r#""s3:GetObject""#, true));
        assert!(!any(r#"["*"]"#, "[5, null]", true));
        assert!(any(r#"[5, "*"]"#, r#"[null, "x"]"#, true));
    }
}
