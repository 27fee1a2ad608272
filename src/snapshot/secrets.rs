//! Secrets in lifecycle-configuration scripts: found and redacted when the script is
//! collected, so no snapshot, report or history file ever holds one. The check
//! `lifecycle_config_secret` reads where they were (`SecretMatch`), never what they were.
//!
//! What counts, as CHECKS.md defines it: an AWS access key id (`AKIA`/`ASIA` and 16 upper-case
//! letters or digits, the format IAM documents for access key ids), an
//! `aws_secret_access_key` assignment of a 40-character value (the shape of a secret access
//! key), and a PEM `-----BEGIN … PRIVATE KEY-----` block.

use std::sync::LazyLock;

use regex::Regex;

use super::SecretMatch;

struct Pattern {
    kind: &'static str,
    regex: Regex,
}

/// A constant pattern, compiled (the unit tests compile every one: an error is a bug).
#[allow(clippy::expect_used)]
fn compiled(re: &str) -> Regex {
    Regex::new(re).expect("built-in secret pattern")
}

static PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    let pattern = |kind, re: &str| Pattern {
        kind,
        regex: compiled(re),
    };
    vec![
        pattern("aws_access_key_id", r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
        // `aws_secret_access_key = x`, `AWS_SECRET_ACCESS_KEY="x"`, `export …=x`, YAML's `: x`.
        // Only the value is redacted, so the line still says what was assigned.
        pattern(
            "aws_secret_access_key",
            r#"(?i:aws_secret_access_key)["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        ),
    ]
});

static PEM_BEGIN: LazyLock<Regex> =
    LazyLock::new(|| compiled(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"));
static PEM_END: LazyLock<Regex> =
    LazyLock::new(|| compiled(r"-----END [A-Z0-9 ]*PRIVATE KEY-----"));

/// The script with every secret replaced by `<redacted:KIND>`, and where each was (1-based
/// lines; a private key block is reported at its BEGIN line and redacted whole).
pub fn redact(script: &str) -> (String, Vec<SecretMatch>) {
    let mut found = Vec::new();
    let mut out = Vec::new();
    let mut in_key = false;
    for (i, line) in script.split('\n').enumerate() {
        let number = i + 1;
        if in_key {
            if PEM_END.is_match(line) {
                in_key = false;
            }
            continue;
        }
        if let Some(begin) = PEM_BEGIN.find(line) {
            found.push(SecretMatch {
                line: number,
                kind: "private_key".into(),
            });
            out.push(format!("{}<redacted:private_key>", &line[..begin.start()]));
            in_key = !PEM_END.is_match(&line[begin.end()..]);
            continue;
        }
        let mut text = line.to_string();
        for p in PATTERNS.iter() {
            let mut hit = false;
            text = p
                .regex
                .replace_all(&text, |c: &regex::Captures| {
                    hit = true;
                    let whole = c.get(0).map_or("", |m| m.as_str());
                    match c.get(1) {
                        // Keep what surrounds the value (the name, `=`, the closing quote).
                        Some(value) => {
                            let start = value.start() - c.get(0).map_or(0, |m| m.start());
                            format!(
                                "{}<redacted:{}>{}",
                                &whole[..start],
                                p.kind,
                                &whole[start + value.len()..]
                            )
                        }
                        None => format!("<redacted:{}>", p.kind),
                    }
                })
                .into_owned();
            if hit {
                found.push(SecretMatch {
                    line: number,
                    kind: p.kind.into(),
                });
            }
        }
        out.push(text);
    }
    (out.join("\n"), found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(script: &str) -> Vec<(usize, String)> {
        redact(script)
            .1
            .into_iter()
            .map(|m| (m.line, m.kind))
            .collect()
    }

    #[test]
    fn finds_each_kind_at_its_line_and_keeps_none_of_it() {
        let key_id = "AKIAIOSFODNN7EXAMPLE";
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let script = format!(
            "#!/bin/bash\nset -eu\nexport AWS_ACCESS_KEY_ID={key_id}\n\
             export AWS_SECRET_ACCESS_KEY=\"{secret}\"\ncat > k.pem <<EOF\n\
             -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\nEOF\n"
        );
        let (text, found) = redact(&script);
        assert_eq!(
            found
                .iter()
                .map(|m| (m.line, m.kind.as_str()))
                .collect::<Vec<_>>(),
            [
                (3, "aws_access_key_id"),
                (4, "aws_secret_access_key"),
                (6, "private_key")
            ]
        );
        assert!(!text.contains(key_id) && !text.contains(secret), "{text}");
        assert!(!text.contains("MIIEowIBAAKCAQEA"), "{text}");
        assert!(
            text.contains("export AWS_SECRET_ACCESS_KEY=\"<redacted:aws_secret_access_key>\""),
            "{text}"
        );
        // Everything else is kept, line for line.
        assert_eq!(text.lines().count(), script.lines().count() - 2);
        assert!(text.starts_with("#!/bin/bash\nset -eu\n"));
    }

    #[test]
    fn temporary_keys_and_config_file_syntax_count() {
        assert_eq!(
            kinds("key=ASIAY34FZKBOKMUTVV7A"),
            [(1, "aws_access_key_id".into())]
        );
        assert_eq!(
            kinds("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            [(1, "aws_secret_access_key".into())]
        );
    }

    #[test]
    fn look_alikes_are_not_secrets() {
        // Too short, lower case, a longer word, a variable reference, a public key.
        for clean in [
            "AKIA1234",
            "akiaiosfodnn7example",
            "XAKIAIOSFODNN7EXAMPLEX",
            "export AWS_SECRET_ACCESS_KEY=$(aws secretsmanager get-secret-value --secret-id x)",
            "AWS_SECRET_ACCESS_KEY=${SECRET}",
            "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYTOOLONG",
            "-----BEGIN PUBLIC KEY-----",
            "pip install boto3",
        ] {
            assert_eq!(kinds(clean), [], "{clean}");
            assert_eq!(redact(clean).0, clean);
        }
    }

    #[test]
    fn an_unterminated_key_block_is_redacted_to_the_end() {
        let (text, found) = redact("a\n-----BEGIN PRIVATE KEY-----\nsecret\nmore");
        assert_eq!(found.len(), 1);
        assert_eq!(text, "a\n<redacted:private_key>");
    }
}
