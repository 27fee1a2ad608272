//! Amazon Resource Names: `arn:<partition>:<service>:<region>:<account>:<resource>`, in every
//! partition (`aws`, `aws-cn`, `aws-us-gov`). Parsed as borrowed views (a scan splits a
//! hundred thousand of them) and formatted through `Display`.

use std::fmt;

/// The fields of an ARN, borrowed from its text (or from the parts it is built of).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    /// Empty for global services (IAM, STS, S3 buckets).
    pub region: &'a str,
    /// Empty for resources no account owns (S3 buckets, AWS managed policies: `aws`).
    pub account: &'a str,
    /// Everything after the fifth colon (`domain/d-1`, `role/path/name`, may hold colons).
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// `None` unless `text` is `arn:` followed by five `:`-separated fields.
    pub fn parse(text: &'a str) -> Option<Self> {
        let mut fields = text.splitn(6, ':');
        if fields.next() != Some("arn") {
            return None;
        }
        Some(Self {
            partition: fields.next()?,
            service: fields.next()?,
            region: fields.next()?,
            account: fields.next()?,
            resource: fields.next()?,
        })
    }

    /// The domain id of a SageMaker domain, user profile, space or app ARN
    /// (`domain/d-x`, `user-profile/d-x/name`, `space/d-x/name`, `app/d-x/owner/type/name`).
    pub fn sagemaker_domain_id(&self) -> Option<&'a str> {
        if self.service != "sagemaker" {
            return None;
        }
        let mut path = self.resource.split('/');
        match path.next()? {
            "domain" | "user-profile" | "space" | "app" => {
                path.next().filter(|id| id.starts_with("d-"))
            }
            _ => None,
        }
    }

    /// `arn:<partition>:<service>:<region>:<account>:<resource>`.
    pub fn build(
        partition: &str,
        service: &str,
        region: &str,
        account: &str,
        resource: &str,
    ) -> String {
        Arn {
            partition,
            service,
            region,
            account,
            resource,
        }
        .to_string()
    }

    /// `arn:<partition>:sagemaker:<region>:<account>:<resource>`.
    pub fn sagemaker(partition: &str, region: &str, account: &str, resource: &str) -> String {
        Self::build(partition, "sagemaker", region, account, resource)
    }

    /// The ARN of a SageMaker domain.
    pub fn sagemaker_domain(
        partition: &str,
        region: &str,
        account: &str,
        domain_id: &str,
    ) -> String {
        Self::sagemaker(partition, region, account, &format!("domain/{domain_id}"))
    }

    /// The ARN of an IAM role (IAM ARNs have no region).
    pub fn iam_role(partition: &str, account: &str, name: &str) -> String {
        Self::build(partition, "iam", "", account, &format!("role/{name}"))
    }

    /// The pattern covering every resource of an account in every partition, service and
    /// region (`arn:*:*:*:<account>:*`): the ERROR result of an account that could not be read.
    pub fn account_wide(account: &str) -> String {
        format!("arn:*:*:*:{account}:*")
    }
}

impl fmt::Display for Arn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

/// The partition a region belongs to: `aws-cn` for `cn-*`, `aws-us-gov` for `us-gov-*`,
/// `aws-iso`/`aws-iso-b` for the isolated regions, `aws` otherwise.
pub fn partition_of_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else {
        "aws"
    }
}

/// The region IAM and STS are called in for a partition: IAM is global within a partition
/// and signs in `us-east-1` (aws), `cn-north-1` (aws-cn), `us-gov-west-1` (aws-us-gov)
/// (https://docs.aws.amazon.com/general/latest/gr/iam-service.html).
pub fn global_region_of(partition: &str) -> &'static str {
    match partition {
        "aws-cn" => "cn-north-1",
        "aws-us-gov" => "us-gov-west-1",
        "aws-iso" => "us-iso-east-1",
        "aws-iso-b" => "us-isob-east-1",
        _ => "us-east-1",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_partition_and_keeps_colons_in_the_resource() {
        let a = Arn::parse("arn:aws-cn:sagemaker:cn-north-1:123456789012:domain/d-1").unwrap();
        assert_eq!(
            (a.partition, a.service, a.region, a.account, a.resource),
            (
                "aws-cn",
                "sagemaker",
                "cn-north-1",
                "123456789012",
                "domain/d-1"
            )
        );
        assert_eq!(a.sagemaker_domain_id(), Some("d-1"));
        let r = Arn::parse("arn:aws-us-gov:iam::123456789012:role/x").unwrap();
        assert_eq!((r.region, r.resource), ("", "role/x"));
        assert_eq!(r.sagemaker_domain_id(), None);
        let odd = Arn::parse("arn:aws:logs:us-east-1:1:log-group:/a:b").unwrap();
        assert_eq!(odd.resource, "log-group:/a:b");
        assert_eq!(odd.to_string(), "arn:aws:logs:us-east-1:1:log-group:/a:b");
        assert_eq!(Arn::parse("arn:aws:iam"), None);
        assert_eq!(Arn::parse("role/x"), None);
    }

    #[test]
    fn domain_ids_of_the_domain_graph_only() {
        fn id(s: &str) -> Option<&str> {
            Arn::parse(s).and_then(|a| a.sagemaker_domain_id())
        }
        assert_eq!(
            id("arn:aws:sagemaker:r:1:app/d-1/alice/jupyterlab/default"),
            Some("d-1")
        );
        assert_eq!(
            id("arn:aws:sagemaker:r:1:user-profile/d-1/alice"),
            Some("d-1")
        );
        assert_eq!(id("arn:aws:sagemaker:r:1:space/d-1/team"), Some("d-1"));
        assert_eq!(id("arn:aws:sagemaker:r:1:notebook-instance/nb"), None);
        assert_eq!(id("arn:aws:sagemaker:r:1:domain/x"), None);
    }

    #[test]
    fn regions_belong_to_their_partition_and_its_iam_region() {
        for (region, partition, global) in [
            ("us-east-2", "aws", "us-east-1"),
            ("eu-west-1", "aws", "us-east-1"),
            ("cn-north-1", "aws-cn", "cn-north-1"),
            ("cn-northwest-1", "aws-cn", "cn-north-1"),
            ("us-gov-east-1", "aws-us-gov", "us-gov-west-1"),
            ("us-iso-east-1", "aws-iso", "us-iso-east-1"),
        ] {
            assert_eq!(partition_of_region(region), partition, "{region}");
            assert_eq!(global_region_of(partition), global, "{partition}");
        }
    }

    #[test]
    fn builds_in_the_partition_given() {
        assert_eq!(
            Arn::sagemaker_domain("aws-cn", "cn-north-1", "1", "d-1"),
            "arn:aws-cn:sagemaker:cn-north-1:1:domain/d-1"
        );
        assert_eq!(
            Arn::iam_role("aws-us-gov", "1", "r"),
            "arn:aws-us-gov:iam::1:role/r"
        );
    }
}
