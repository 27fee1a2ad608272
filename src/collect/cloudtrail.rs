//! CloudTrail `LookupEvents`: the SageMaker control-plane calls of one account and region in
//! a time window, with who made them, paced at AWS's quota of 2 requests a second per account
//! and region (`pace`) and bounded by a page budget per scan.
//!
//! LookupEvents takes a single attribute, and the event-source listing
//! (`EventSource=sagemaker.amazonaws.com`) returns every read-only call too: Studio's UI polls
//! Describe/List all day, and a scan's own reads land there. So a window is read through the
//! listing while it is short (at most [`LISTING_PAGES`] pages: never more calls than the
//! per-name lookups' minimum), and the rest of a busy window through one lookup per event
//! name that is used ([`EVENT_NAMES`]), down from the oldest event the listing reached.
//! <https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html>

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Ctx, ts};
use crate::snapshot::{ControlPlaneEvent, EventSpan};

pub const EVENT_SOURCE: &str = "sagemaker.amazonaws.com";

/// Actions the CloudTrail collector calls (see `permissions`).
pub(crate) const ACTIONS: &[&str] = &["cloudtrail:LookupEvents"];

/// The SageMaker calls that are used: those that change a domain, user profile, space, app,
/// notebook instance or lifecycle configuration (attribution, `changes`), and Studio sign-ins.
/// Names from the SageMaker API reference
/// (<https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_Operations.html>).
pub const EVENT_NAMES: &[&str] = &[
    "CreateDomain",
    "UpdateDomain",
    "DeleteDomain",
    "CreateUserProfile",
    "UpdateUserProfile",
    "DeleteUserProfile",
    "CreateSpace",
    "UpdateSpace",
    "DeleteSpace",
    "CreateApp",
    "DeleteApp",
    "CreateNotebookInstance",
    "UpdateNotebookInstance",
    "DeleteNotebookInstance",
    "StartNotebookInstance",
    "StopNotebookInstance",
    "CreateNotebookInstanceLifecycleConfig",
    "UpdateNotebookInstanceLifecycleConfig",
    "DeleteNotebookInstanceLifecycleConfig",
    "CreateStudioLifecycleConfig",
    "DeleteStudioLifecycleConfig",
    "CreatePresignedDomainUrl",
];

/// Pages of the event-source listing read before a window counts as busy: as many as the
/// per-name lookups need at least (one each), so the listing never costs more calls than
/// switching would have.
pub const LISTING_PAGES: u32 = EVENT_NAMES.len() as u32;

/// What to read in one account and region: the window since its last complete read, then
/// the part of an earlier window a page budget left unread.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub since: DateTime<Utc>,
    pub unread: Option<EventSpan>,
}

/// What [`collect_events`] read.
#[derive(Debug, Default)]
pub struct Read {
    pub events: Vec<ControlPlaneEvent>,
    /// The part of the window left unread because the page budget ran out (events at or
    /// before `until`, after `from`); `None` when everything was read.
    pub unread: Option<EventSpan>,
    /// A LookupEvents call failed (recorded as a collection error of the region).
    pub failed: bool,
}

/// The window's events, newest first, within `max_pages` LookupEvents calls: the new part of
/// the window first (what findings are attributed to now), then the backlog. A failure is a
/// collection error of the region and yields the pages read so far.
pub async fn collect_events(
    ctx: &Ctx,
    client: &aws_sdk_cloudtrail::Client,
    region: &str,
    window: Window,
    max_pages: u32,
) -> Read {
    let mut reader = Reader {
        ctx,
        client,
        region,
        pages_left: max_pages,
        out: Read::default(),
        seen: Default::default(),
    };
    let unread = match reader.span(window.since, None, true).await {
        // Budget spent on the new part: the backlog stays, joined to what was left of it.
        Some(cut) => Some(EventSpan {
            from: window
                .unread
                .map_or(window.since, |u| u.from.min(window.since)),
            until: cut,
        }),
        None if reader.out.failed => None,
        None => match window.unread {
            // A backlog exists because its window was busy: straight to the names.
            Some(gap) => reader
                .span(gap.from, Some(gap.until), false)
                .await
                .map(|cut| EventSpan {
                    from: gap.from,
                    until: cut,
                }),
            None => None,
        },
    };
    let mut out = reader.out;
    out.unread = if out.failed { None } else { unread };
    out
}

struct Reader<'a> {
    ctx: &'a Ctx,
    client: &'a aws_sdk_cloudtrail::Client,
    region: &'a str,
    pages_left: u32,
    out: Read,
    /// Ids of the events kept: lookups overlap (the per-name ones start at the second the
    /// listing reached; a backlog's edge), and CloudTrail may return an event twice.
    seen: std::collections::HashSet<String>,
}

/// One lookup's progress: where it is (its next page's token) and the oldest event it has
/// returned.
struct Lookup {
    key: LookupKey,
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
    /// `None` before the first page; then the token of the next one, `Some(None)` when the
    /// lookup is complete.
    next: Option<Option<String>>,
    oldest: Option<DateTime<Utc>>,
}

impl Lookup {
    fn new(key: LookupKey, from: DateTime<Utc>, until: Option<DateTime<Utc>>) -> Self {
        Self {
            key,
            from,
            until,
            next: None,
            oldest: None,
        }
    }

    fn done(&self) -> bool {
        matches!(self.next, Some(None))
    }
}

impl Reader<'_> {
    /// The next page of a lookup that is not done, at AWS's pace, counted against the
    /// budget. `Err(())` when the call failed (recorded, and `out.failed` set).
    async fn page(&mut self, lookup: &mut Lookup) -> Result<(), ()> {
        use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
        let token = lookup.next.clone().flatten();
        let (key, value) = match lookup.key {
            LookupKey::Source => (LookupAttributeKey::EventSource, EVENT_SOURCE),
            LookupKey::Name(name) => (LookupAttributeKey::EventName, name),
        };
        let attribute = LookupAttribute::builder()
            .attribute_key(key)
            .attribute_value(value)
            .build()
            .ok();
        // Whole seconds, widened (StartTime down, EndTime up): a boundary event is read twice
        // rather than never; ids dedupe.
        let secs = aws_smithy_types::DateTime::from_secs;
        let up = |t: DateTime<Utc>| secs(t.timestamp() + i64::from(t.timestamp_subsec_nanos() > 0));
        let request = self
            .client
            .lookup_events()
            .set_lookup_attributes(attribute.map(|a| vec![a]))
            .start_time(secs(lookup.from.timestamp()))
            .set_end_time(lookup.until.map(up))
            .max_results(50)
            .set_next_token(token);
        self.pages_left = self.pages_left.saturating_sub(1);
        // AWS allows 2 LookupEvents a second per account and region: wait for a slot.
        super::pace::lookup_events()
            .ready(&self.ctx.account_id, self.region)
            .await;
        match self.ctx.call(request.send()).await {
            Ok(page) => {
                for event in page.events() {
                    let time = ts(event.event_time());
                    lookup.oldest = match (lookup.oldest, time) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    // EventName lookups span every service (`CreateApp` is Amplify's too),
                    // and reads are never used: neither is kept.
                    if event.event_source() != Some(EVENT_SOURCE)
                        || event.read_only() == Some("true")
                    {
                        continue;
                    }
                    if let Some(e) = convert(self.ctx, self.region, event)
                        && self.seen.insert(e.event_id.clone())
                    {
                        self.out.events.push(e);
                    }
                }
                lookup.next = Some(page.next_token().map(str::to_string));
                Ok(())
            }
            Err(err) => {
                self.ctx
                    .record(self.region, "cloudtrail", "LookupEvents", None, &err);
                self.out.failed = true;
                Err(())
            }
        }
    }

    /// Reads the events after `from` (and at or before `until`, `None`: now), through the
    /// listing first when `listing_first`. Returns `None` when all were read (or a call
    /// failed: `out.failed`), or the time down to which they were read when the budget ran
    /// out: the events at or before it are unread.
    async fn span(
        &mut self,
        from: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
        listing_first: bool,
    ) -> Option<DateTime<Utc>> {
        let top = until.unwrap_or_else(Utc::now);
        let mut listing = Lookup::new(LookupKey::Source, from, until);
        let listing_pages = if listing_first { LISTING_PAGES } else { 0 };
        for _ in 0..listing_pages {
            if listing.done() {
                return None;
            }
            if self.pages_left == 0 {
                return Some(listing.oldest.unwrap_or(top));
            }
            self.page(&mut listing).await.ok()?;
        }
        if listing.done() {
            return None;
        }
        // A busy window: the rest through the names that are used, every one down from the
        // oldest event the listing reached (that second again: ids dedupe), a page each in
        // turn so that a budget running out leaves them all read down to about one time.
        let end = listing.oldest.unwrap_or(top);
        let mut lookups: Vec<Lookup> = EVENT_NAMES
            .iter()
            .map(|name| Lookup::new(LookupKey::Name(name), from, Some(end)))
            .collect();
        while !lookups.is_empty() {
            for i in 0..lookups.len() {
                if self.pages_left == 0 {
                    // Unread at and below the newest point a lookup still had to go from.
                    return lookups
                        .iter()
                        .filter(|l| !l.done())
                        .map(|l| l.oldest.unwrap_or(end))
                        .max();
                }
                if !lookups[i].done() {
                    self.page(&mut lookups[i]).await.ok()?;
                }
            }
            lookups.retain(|l| !l.done());
        }
        None
    }
}

#[derive(Clone, Copy)]
enum LookupKey {
    Source,
    Name(&'static str),
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
