//! IAM's wildcard matching (`*` any run of characters, `?` one character): the policy engine's
//! `iam.action_matches`/`iam.resource_matches`, waiver resource globs and the history's ERROR
//! patterns (`.../app/*`).

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
