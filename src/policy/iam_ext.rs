//! IAM's wildcard matching registered in the Rego engine as
//! `iam.action_matches(pattern, action)` (case-insensitive, as IAM compares action names) and
//! `iam.resource_matches(pattern, resource)` (case-sensitive).
//!
//! It lives in Rust because Rego's `glob.match` treats `.` as a separator by default and a
//! pattern-to-regex translation in Rego would compile a regex per statement; the statement
//! logic that uses it (Allow/NotAction/Condition) stays in `policies/lib/iam.rego`.

use regorus::{Engine, Value};

use crate::vocab::glob_match;

/// Registers `iam.action_matches` and `iam.resource_matches` on an engine.
pub fn register(engine: &mut Engine) -> anyhow::Result<()> {
    engine.add_extension(
        "iam.action_matches".into(),
        2,
        Box::new(|args: Vec<Value>| matcher(&args, true)),
    )?;
    engine.add_extension(
        "iam.resource_matches".into(),
        2,
        Box::new(|args: Vec<Value>| matcher(&args, false)),
    )?;
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
