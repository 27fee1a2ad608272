//! `regions` (and `--region`): the regions to scan, or `all` of those enabled in each
//! account. One type, parsed the same from the config file and the command line.

/// Which regions a scan covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Regions {
    /// These (without repeats, in the order given); none named: the default chain's region.
    Named(Vec<String>),
    /// Every region enabled in each account (EC2 `DescribeRegions`).
    All,
}

impl Default for Regions {
    fn default() -> Self {
        Self::Named(Vec::new())
    }
}

impl Regions {
    /// Reads region names or `all`; on a bad entry, its index and the problem.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Self, (usize, String)> {
        let mut out: Vec<String> = Vec::new();
        for (i, name) in names.iter().map(AsRef::as_ref).enumerate() {
            if name == "all" {
                if names.len() > 1 {
                    return Err((
                        i,
                        "\"all\" stands alone: it means every region enabled in each account"
                            .into(),
                    ));
                }
                return Ok(Self::All);
            }
            if !is_region_name(name) {
                return Err((
                    i,
                    format!("{name:?} is not an AWS region name (like \"us-east-1\")"),
                ));
            }
            // One scan reads one partition: its credentials belong to one (CHECKS.md).
            if let Some(first) = out.first() {
                let (a, b) = (
                    crate::vocab::partition_of_region(first),
                    crate::vocab::partition_of_region(name),
                );
                if a != b {
                    return Err((
                        i,
                        format!(
                            "{name:?} is in partition {b}, {first:?} in {a}: one scan reads one partition (its credentials belong to one); scan each partition with its own config"
                        ),
                    ));
                }
            }
            // A region named twice is scanned once.
            if !out.iter().any(|r| r == name) {
                out.push(name.to_string());
            }
        }
        Ok(Self::Named(out))
    }

    /// The regions named (none for `All`).
    pub fn names(&self) -> &[String] {
        match self {
            Self::Named(names) => names,
            Self::All => &[],
        }
    }

    pub fn is_all(&self) -> bool {
        matches!(self, Self::All)
    }
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`, `us-iso-east-1`.
pub fn is_region_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_of_two_partitions_are_refused() {
        assert!(Regions::parse(&["cn-north-1", "cn-northwest-1"]).is_ok());
        let (i, problem) = Regions::parse(&["us-east-1", "eu-west-1", "cn-north-1"]).unwrap_err();
        assert_eq!(i, 2);
        assert!(problem.contains("partition aws-cn"), "{problem}");
        assert!(Regions::parse(&["us-gov-west-1", "us-east-1"]).is_err());
    }
}
