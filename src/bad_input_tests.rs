//! Bad input, generated: the config parser (waivers included) and the snapshot loader get
//! arbitrary text and mutations of the shipped examples. Whatever they get, they return (no
//! panic), and a refusal names the file and a line of it.

use proptest::prelude::*;

use crate::config::{Config, ConfigError};
use crate::snapshot::{Snapshot, SnapshotError};

const EXAMPLE_CONFIG: &str = include_str!("../examples/config.toml");
const EXAMPLE_SNAPSHOT: &str = include_str!("../examples/snapshot.json");

/// One edit of a text, always at character boundaries.
#[derive(Debug, Clone)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    DuplicateLine { line: usize },
    SwapLines { a: usize, b: usize },
    Truncate { at: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1..40usize).prop_map(|(at, len)| Edit::Delete { at, len }),
        (
            any::<usize>(),
            "[\\[\\]{}\"'=,.:#\\\\\n a-z0-9\u{e9}\u{1F600}-]{1,12}"
        )
            .prop_map(|(at, text)| Edit::Insert { at, text }),
        any::<usize>().prop_map(|line| Edit::DuplicateLine { line }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines { a, b }),
        any::<usize>().prop_map(|at| Edit::Truncate { at }),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        match e {
            Edit::Delete { at, len } if !chars.is_empty() => {
                let at = at % chars.len();
                let end = (at + len).min(chars.len());
                chars.drain(at..end);
            }
            Edit::Insert { at, text } => {
                let at = at % (chars.len() + 1);
                chars.splice(at..at, text.chars());
            }
            Edit::Truncate { at } => chars.truncate(at % (chars.len() + 1)),
            Edit::DuplicateLine { .. } | Edit::SwapLines { .. } | Edit::Delete { .. } => {
                let joined: String = chars.iter().collect();
                let mut lines: Vec<&str> = joined.lines().collect();
                if lines.is_empty() {
                    continue;
                }
                match e {
                    Edit::DuplicateLine { line } => {
                        let l = line % lines.len();
                        lines.insert(l, lines[l]);
                    }
                    Edit::SwapLines { a, b } => {
                        let n = lines.len();
                        lines.swap(a % n, b % n);
                    }
                    _ => {}
                }
                chars = lines.join("\n").chars().collect();
            }
        }
    }
    chars.into_iter().collect()
}

/// The file's line count, for "the error names a line of it" (one past the end: an
/// unterminated construct is reported where the file ends).
fn lines_of(text: &str) -> usize {
    text.matches('\n').count() + 1
}

fn assert_config_error_names_file_and_line(
    text: &str,
    err: &ConfigError,
) -> Result<(), TestCaseError> {
    let message = err.to_string();
    prop_assert!(message.starts_with("fuzz.toml:"), "{message}");
    let line = match err {
        ConfigError::Parse { line, .. } | ConfigError::Invalid { line, .. } => *line,
        ConfigError::Read { .. } => return Err(TestCaseError::fail("no file was read")),
    };
    prop_assert!(
        line >= 1 && line <= lines_of(text) + 1,
        "line {line} of {}: {message}",
        lines_of(text)
    );
    prop_assert!(
        message.starts_with(&format!("fuzz.toml:{line}:")),
        "{message}"
    );
    Ok(())
}

fn check_config(text: &str) -> Result<(), TestCaseError> {
    match Config::parse("fuzz.toml", text) {
        Ok(_) => Ok(()),
        Err(e) => assert_config_error_names_file_and_line(text, &e),
    }
}

fn check_snapshot(text: &str) -> Result<(), TestCaseError> {
    match Snapshot::from_json("fuzz.json", text) {
        Ok(_) => Ok(()),
        Err(e) => {
            let message = e.to_string();
            prop_assert!(message.starts_with("fuzz.json"), "{message}");
            if let SnapshotError::Parse { line, .. } = e {
                prop_assert!(line <= lines_of(text) + 1, "line {line}: {message}");
                prop_assert!(
                    message.starts_with(&format!("fuzz.json:{line}:")),
                    "{message}"
                );
            }
            Ok(())
        }
    }
}

/// A TOML value of a waiver field: a string (any text, escaped as TOML does), or another
/// type where a string or date belongs.
fn waiver_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>().prop_map(|s| toml::Value::String(s).to_string()),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z",
        any::<i64>().prop_map(|n| n.to_string()),
        Just("[]".to_string()),
        Just("{ a = 1 }".to_string()),
        Just("true".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn config_arbitrary_text(text in any::<String>()) {
        check_config(&text)?;
    }

    #[test]
    fn config_example_mutated(edits in prop::collection::vec(edit(), 1..6)) {
        check_config(&apply(EXAMPLE_CONFIG, &edits))?;
    }

    #[test]
    fn waivers_any_fields(
        check in waiver_value(),
        resource in waiver_value(),
        reason in waiver_value(),
        expires in waiver_value(),
        drop_field in 0..5usize,
    ) {
        let mut fields = vec![
            format!("check = {check}"),
            format!("resource = {resource}"),
            format!("reason = {reason}"),
            format!("expires = {expires}"),
        ];
        if drop_field < fields.len() {
            fields.remove(drop_field);
        }
        let text = format!("regions = [\"us-east-1\"]\n\n[[waivers]]\n{}\n", fields.join("\n"));
        match Config::parse("fuzz.toml", &text) {
            Ok(config) => {
                // Accepted only whole: every field present and of its type.
                prop_assert_eq!(config.waivers.len(), 1);
                prop_assert_eq!(config.waivers[0].line, 3);
            }
            Err(e) => {
                assert_config_error_names_file_and_line(&text, &e)?;
                // The problem is in the waiver, and the error says where.
                if let ConfigError::Invalid { line, .. } | ConfigError::Parse { line, .. } = e {
                    prop_assert!(line >= 3, "{}", e);
                }
            }
        }
    }

    #[test]
    fn snapshot_arbitrary_text(text in any::<String>()) {
        check_snapshot(&text)?;
    }

    #[test]
    fn snapshot_example_mutated(edits in prop::collection::vec(edit(), 1..6)) {
        check_snapshot(&apply(EXAMPLE_SNAPSHOT, &edits))?;
    }
}

#[test]
fn the_examples_themselves_are_accepted() {
    Config::parse("examples/config.toml", EXAMPLE_CONFIG).unwrap();
    Snapshot::from_json("examples/snapshot.json", EXAMPLE_SNAPSHOT).unwrap();
}
