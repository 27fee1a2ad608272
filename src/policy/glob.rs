//! IAM's wildcard matching (`*` any run of characters, `?` one character), registered in the
//! Rego engine as `iam.action_matches(pattern, action)` (case-insensitive, as IAM compares
//! action names) and `iam.resource_matches(pattern, resource)` (case-sensitive).
//!
//! It lives in Rust because Rego's `glob.match` treats `.` as a separator by default and a
//! pattern-to-regex translation in Rego would compile a regex per statement; the statement
//! logic that uses it (Allow/NotAction/Condition) stays in `policies/lib/iam.rego`.

use regorus::{Engine, Value};

/// True when `pattern` matches all of `text`. Iterative, with one backtrack point: linear in
/// practice, no recursion on adversarial patterns.
pub fn glob_match(pattern: &str, text: &str, case_insensitive: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| {
        if case_insensitive {
            a.to_lowercase().eq(b.to_lowercase())
        } else {
            a == b
        }
    };
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && eq(p[pi], t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

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

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn iam_wildcards() {
        let cases = [
            ("*", "*", true),
            ("*", "iam:PassRole", true),
            ("iam:*", "iam:PassRole", true),
            ("iam:Pass*", "iam:PassRole", true),
            ("iam:P?ssRole", "iam:PassRole", true),
            ("iam:*Role", "iam:PassRole", true),
            ("iam:Get*", "iam:PassRole", false),
            ("s3:*", "*", false),
            ("iam:PassRole", "iam:PassRole2", false),
            ("iam:PassRole?", "iam:PassRole", false),
            ("*:*", "s3:GetObject", true),
            ("s3:*Object", "s3:GetObject", true),
            ("arn:aws:s3:::*", "arn:aws:s3:::*/*", true),
            ("arn:aws:s3:::my-bucket/*", "arn:aws:s3:::*/*", false),
            ("arn:*:s3:::*", "arn:aws:s3:::*", true),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("", "", true),
            ("", "x", false),
            ("**", "", true),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                glob_match(pattern, text, false),
                expected,
                "{pattern} vs {text}"
            );
        }
    }

    #[test]
    fn action_names_compare_case_insensitively_resources_do_not() {
        assert!(glob_match("IAM:passrole", "iam:PassRole", true));
        assert!(glob_match("S3:Get*", "s3:GetObject", true));
        assert!(!glob_match(
            "arn:aws:s3:::Bucket/*",
            "arn:aws:s3:::bucket/x",
            false
        ));
    }
}
