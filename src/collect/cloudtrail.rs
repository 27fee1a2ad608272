//! CloudTrail `LookupEvents`: the SageMaker control-plane calls of one account and region in
//! a time window, with who made them. One listing per account and region (event source
//! `sagemaker.amazonaws.com`; LookupEvents takes a single attribute), paced at AWS's quota
//! of 2 requests a second per account and region (`pace`).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Ctx, ts};
use crate::snapshot::ControlPlaneEvent;

pub const EVENT_SOURCE: &str = "sagemaker.amazonaws.com";

/// Actions the CloudTrail collector calls (see `permissions`).
pub(crate) const ACTIONS: &[&str] = &["cloudtrail:LookupEvents"];

/// Events newer than `since`, newest first. A failure is a collection error of the region
/// and yields the pages read so far.
pub async fn collect_events(
    ctx: &Ctx,
    client: &aws_sdk_cloudtrail::Client,
    region: &str,
    since: DateTime<Utc>,
) -> Vec<ControlPlaneEvent> {
    use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
    let attribute = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::EventSource)
        .attribute_value(EVENT_SOURCE)
        .build();
    let Ok(attribute) = attribute else {
        return Vec::new();
    };
    let start = aws_smithy_types::DateTime::from_secs(since.timestamp());
    let mut pages = client
        .lookup_events()
        .lookup_attributes(attribute)
        .start_time(start)
        .max_results(50)
        .into_paginator()
        .send();
    let mut events = Vec::new();
    loop {
        // AWS allows 2 LookupEvents a second per account and region: wait for a slot.
        super::pace::lookup_events()
            .ready(&ctx.account_id, region)
            .await;
        let page = match ctx.call(pages.next()).await {
            None => break,
            Some(Ok(page)) => page,
            Some(Err(err)) => {
                ctx.record(region, "cloudtrail", "LookupEvents", None, &err);
                break;
            }
        };
        for event in page.events() {
            if let Some(e) = convert(ctx, region, event) {
                events.push(e);
            }
        }
    }
    events
}

fn convert(
    ctx: &Ctx,
    region: &str,
    event: &aws_sdk_cloudtrail::types::Event,
) -> Option<ControlPlaneEvent> {
    let detail: Value = event
        .cloud_trail_event()
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or(Value::Null);
    let text = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_string);
    let request = &detail["requestParameters"];
    let mut resources: Vec<String> = event
        .resources()
        .iter()
        .filter_map(|r| r.resource_name())
        .filter(|name| name.starts_with("arn:"))
        .map(str::to_string)
        .collect();
    let scope = ArnScope {
        partition: &ctx.partition,
        region,
        account: &ctx.account_id,
    };
    resources.extend(scope.named_by(request));
    for key in ["domainArn", "userProfileArn", "spaceArn", "appArn"] {
        if let Some(arn) = text(&detail["responseElements"][key]) {
            resources.push(arn);
        }
    }
    resources.sort();
    resources.dedup();
    Some(ControlPlaneEvent {
        event_id: event.event_id()?.to_string(),
        account_id: ctx.account_id.clone(),
        region: region.to_string(),
        event_time: ts(event.event_time())?,
        event_name: event.event_name()?.to_string(),
        resources,
        domain_id: text(&request["domainId"]),
        actor_arn: text(&detail["userIdentity"]["arn"]),
        actor_type: text(&detail["userIdentity"]["type"]),
        source_ip: text(&detail["sourceIPAddress"]),
        user_agent: text(&detail["userAgent"]),
        read_only: event.read_only() == Some("true"),
        error_code: text(&detail["errorCode"]),
        source_identity: text(&detail["userIdentity"]["sessionContext"]["sourceIdentity"]),
        on_behalf_of: text(&detail["userIdentity"]["onBehalfOf"]["userId"]),
    })
}

/// Builds SageMaker ARNs from the names a request carries.
struct ArnScope<'a> {
    partition: &'a str,
    region: &'a str,
    account: &'a str,
}

impl ArnScope<'_> {
    fn arn(&self, path: &str) -> String {
        crate::vocab::Arn::sagemaker(self.partition, self.region, self.account, path)
    }

    /// The resource a SageMaker request names: an app (domain, owner, type, name), else a
    /// user profile or a space, else the domain.
    fn named_by(&self, request: &Value) -> Option<String> {
        let get = |key: &str| request[key].as_str().filter(|s| !s.is_empty());
        let domain = get("domainId")?;
        let owner = get("userProfileName").or_else(|| get("spaceName"));
        if get("appName").is_some() || get("appType").is_some() {
            // An app call: its ARN, or nothing rather than a guess at its domain.
            let (owner, app_type, app) = (owner?, get("appType")?, get("appName")?);
            let kind = app_type.to_ascii_lowercase();
            return Some(self.arn(&format!("app/{domain}/{owner}/{kind}/{app}")));
        }
        if let Some(profile) = get("userProfileName") {
            return Some(self.arn(&format!("user-profile/{domain}/{profile}")));
        }
        if let Some(space) = get("spaceName") {
            return Some(self.arn(&format!("space/{domain}/{space}")));
        }
        Some(self.arn(&format!("domain/{domain}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_parameters_name_the_resource() {
        let s = ArnScope {
            partition: "aws",
            region: "eu-west-1",
            account: "123456789012",
        };
        let arn = |v: Value| s.named_by(&v);
        assert_eq!(
            arn(json!({"domainId": "d-1", "userProfileName": "alice", "appType": "JupyterLab", "appName": "default"})).as_deref(),
            Some("arn:aws:sagemaker:eu-west-1:123456789012:app/d-1/alice/jupyterlab/default")
        );
        assert_eq!(
            arn(json!({"domainId": "d-1", "spaceName": "team", "appType": "CodeEditor", "appName": "x"})).as_deref(),
            Some("arn:aws:sagemaker:eu-west-1:123456789012:app/d-1/team/codeeditor/x")
        );
        assert_eq!(
            arn(json!({"domainId": "d-1", "userProfileName": "alice"})).as_deref(),
            Some("arn:aws:sagemaker:eu-west-1:123456789012:user-profile/d-1/alice")
        );
        assert_eq!(
            arn(json!({"domainId": "d-1", "spaceName": "team"})).as_deref(),
            Some("arn:aws:sagemaker:eu-west-1:123456789012:space/d-1/team")
        );
        assert_eq!(
            arn(json!({"domainId": "d-1"})).as_deref(),
            Some("arn:aws:sagemaker:eu-west-1:123456789012:domain/d-1")
        );
        assert_eq!(arn(json!({"domainName": "new"})), None);
        // An app call without its owner names no resource (not its domain).
        assert_eq!(arn(json!({"domainId": "d-1", "appName": "default"})), None);
        assert_eq!(arn(Value::Null), None);
    }
}
