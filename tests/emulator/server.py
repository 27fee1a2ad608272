"""moto's server, plus what sagemaker-auditor's tests need and moto 5.2 lacks.

Nothing in moto's installed files is edited: methods are registered on moto's SageMaker and
CloudTrail backend and response classes at import time, then moto's own server starts.

Added or corrected, as AWS behaves:
- SageMaker user profiles, spaces and apps: Create/Describe/List/Update/Delete (apps stay
  listed as `Deleted`), `UpdateDomain`, `CreatePresignedDomainUrl`.
- `CreateDomain` gives the domain a real-looking id (`d-` + 12 characters) and, like AWS,
  creates the home EFS (tagged `ManagedByAmazonSageMakerResource` = domain ARN, one mount
  target per subnet) and the two NFS security groups that reference each other.
  `DeleteDomain` refuses while profiles or spaces remain and honours
  `RetentionPolicy.HomeEfsFileSystem` (default `Retain`: EFS and groups outlive the domain).
- CloudTrail `LookupEvents` over the SageMaker control-plane calls made here, with the
  caller's ARN, source IP and user agent; read-only calls (Describe*, List*) are recorded too,
  with `readOnly: true`, as CloudTrail records every management event
  (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/view-cloudtrail-events.html). As CloudTrail does, a call that fails is recorded
  too, with its `errorCode` and `errorMessage`; a role session assumed with `SourceIdentity`
  carries `userIdentity.sessionContext.sourceIdentity`, and one assumed with an IAM Identity
  Center `ProvidedContexts` entry carries `userIdentity.onBehalfOf` (the emulator takes the
  context assertion as the Identity Center user id: it cannot verify a real one).
- `UpdateDomain` refuses an `AppNetworkAccessType` outside AWS's enum (ValidationException).
- STS `AssumeRole` judged as AWS does: the role must exist in the target account and its
  trust policy must allow the caller (its account root, its ARN or `*`) with the external id
  its `sts:ExternalId` condition asks for; otherwise `AccessDenied`. (moto grants any role.)

- `DescribeApp` of a running app answers `LastHealthCheckTimestamp` = `LastUserActivityTimestamp`
  = the latest health check (now): on AWS the health checks refresh the activity timestamp,
  so it says nothing about users (CHECKS.md v2, `app_long_running`).
- Studio lifecycle configurations (Create/Describe/List/Delete) and
  `ListNotebookInstanceLifecycleConfigs`, which moto lacks; `UpdateDomain` keeps
  `ExecutionRoleIdentityConfig` and `DockerSettings` of `DomainSettingsForUpdate`.
- ARNs in the partition of the region (`arn:aws-cn:` in `cn-*`) for what this file creates and
  for EC2 security groups (moto writes `arn:aws:` there).
- EFS `SizeInBytes` with `ValueInIA` and `ValueInArchive` (moto has no Archive class).
- Every SageMaker and CloudTrail request and response is checked against botocore's service
  model (the reference for field names and enums): a request outside it answers
  ValidationException, a response outside it 500, each naming the misfit.

- Security Hub `BatchImportFindings` as AWS judges it (moto takes anything): refused with
  `InvalidAccessException` unless Security Hub is enabled in the account and region
  (`EnableSecurityHub`); a finding is rejected (`FailedFindings`) unless its `AwsAccountId` is
  the caller's account and its `ProductArn` the caller's default product in the called region
  ("the identifier of the account that you are calling BatchImportFindings from needs to be
  the same as the AwsAccountId attribute for the finding",
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html); an
  update keeps what the customer owns (`Note`, `UserDefinedFields`, `VerificationState`,
  `Workflow`: "BatchImportFindings cannot be used to update" them) and the top-level
  `Severity`/`Types` follow `FindingProviderFields`. Requests and responses are checked
  against botocore's model like SageMaker's. Test knob: a finding whose resource id contains
  `emulator-reject-import` is rejected with `InvalidInput`, as AWS rejects a finding it
  cannot take while taking the rest of the batch.

- S3 object requests a bucket policy denies answer AWS's `AccessDenied` error document (moto
  enforces the deny with an empty 403, which no SDK can tell from other 403s); `PutObject`
  with SSE-KMS and a key that does not exist in the account and region answers 400
  `KMS.NotFoundException` instead of storing the object (moto stores it).

States AWS reaches on its own (a failed app, a month of running) are set by tags with the
`emulator:` prefix on the create call; they are consumed, not stored as tags:
`emulator:status`, `emulator:failure-reason`, `emulator:creation-time` (ISO 8601),
`emulator:home-efs-size-bytes`, `emulator:home-efs-ia-bytes` and
`emulator:home-efs-archive-bytes` (on a domain: bytes of its home EFS in Standard, IA and
Archive). CloudTrail's side, on CreateDomain: `emulator:cloudtrail-time` (ISO 8601: when the
CreateDomain event is recorded) and `emulator:cloudtrail-reads`, `emulator:cloudtrail-denied-creates`,
`emulator:cloudtrail-amplify-apps` (that many read-only DescribeDomain events, failed CreateDomain
calls, or Amplify `CreateApp` events, one a second back from now, each kind older than the
one before).

Usage: python server.py [moto server arguments, e.g. -H 127.0.0.1 -p 5000]
"""

import datetime as _dt
import json
import random
import string
import sys
import urllib.parse
import uuid

from moto.cloudtrail.models import CloudTrailBackend, cloudtrail_backends
from moto.cloudtrail.responses import CloudTrailResponse
from moto.core.responses import ActionResult, EmptyResult
from moto.ec2.models import ec2_backends
from moto.ec2.models.security_groups import SecurityGroup as _Ec2SecurityGroup
from moto.efs.models import efs_backends
from moto.sagemaker.exceptions import (
    ResourceInUseException,
    ResourceNotFound,
    ValidationError,
)
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse
from moto.efs.models import FileSystem
from moto.iam.models import iam_backends
from moto.utilities.utils import get_partition
from moto.sts.exceptions import STSClientError
from moto.sts.responses import TokenResponse as STSResponse

CONTROL_PREFIX = "emulator:"
FAILED = ("Failed", "Update_Failed", "Delete_Failed")


def _now():
    return _dt.datetime.now(_dt.timezone.utc)


def _parse_time(value):
    t = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=_dt.timezone.utc)


def _split_tags(tags):
    """Separates emulator controls from real tags."""
    controls, real = {}, []
    for tag in tags or []:
        if tag.get("Key", "").startswith(CONTROL_PREFIX):
            controls[tag["Key"][len(CONTROL_PREFIX):]] = tag.get("Value", "")
        else:
            real.append(tag)
    return controls, real


def _paginate(items, token, max_results, default=10):
    limit = int(max_results or default)
    if limit < 1 or limit > 100:
        raise ValidationError(f"MaxResults must be between 1 and 100, got {limit}")
    start = int(token or 0)
    page = items[start:start + limit]
    nxt = str(start + limit) if start + limit < len(items) else None
    return page, nxt


def _arn(backend, kind, path):
    partition = get_partition(backend.region_name)
    return f"arn:{partition}:sagemaker:{backend.region_name}:{backend.account_id}:{kind}/{path}"


# --- state -------------------------------------------------------------------------------

_original_sm_init = SageMakerModelBackend.__init__


def _sm_init(self, region_name, account_id):
    _original_sm_init(self, region_name, account_id)
    self.user_profiles = {}  # (domain_id, name) -> dict
    self.spaces = {}  # (domain_id, name) -> dict
    self.apps = {}  # (domain_id, owner, app_type, name) -> dict


SageMakerModelBackend.__init__ = _sm_init

_original_ct_init = CloudTrailBackend.__init__


def _ct_init(self, region_name, account_id):
    _original_ct_init(self, region_name, account_id)
    self.recorded_events = []


CloudTrailBackend.__init__ = _ct_init


def _domain(backend, domain_id):
    domain = backend.domains.get(domain_id)
    if domain is None:
        raise ResourceNotFound(f"Domain {domain_id} does not exist")
    return domain


# --- CloudTrail recording ------------------------------------------------------------------


# Role sessions' identity as STS was told at AssumeRole: access key id -> (source identity,
# Identity Center user id). CloudTrail writes both into every event of the session.
_SESSIONS = {}
IDENTITY_CENTER_PROVIDER = "arn:aws:iam::aws:contextProvider/IdentityCenter"


def _actor(account_id, access_key):
    try:
        from moto.sts.models import sts_backends

        for role in sts_backends[account_id]["global"].assumed_roles:
            if role.access_key_id == access_key:
                return "AssumedRole", role.arn
    except Exception:
        pass
    try:
        for partition in ("aws", "aws-cn"):
            user = iam_backends[account_id][partition].get_user_from_access_key_id(access_key)
            if user is not None:
                return "IAMUser", user.arn
    except Exception:
        pass
    return "Root", f"arn:aws:iam::{account_id}:root"


def _request_parameters(response, extra):
    """The call's scalar parameters in camelCase, as CloudTrail's `requestParameters`."""
    try:
        body = json.loads(response.body or "{}")
    except (TypeError, ValueError):
        body = {}
    params = {
        k[:1].lower() + k[1:]: v
        for k, v in (body.items() if isinstance(body, dict) else [])
        if isinstance(v, (str, int, float, bool))
    }
    params.update(extra or {})
    return params


def _record(response, event_name, resource_type, resource_name, request=None, error=None,
            read_only=False, when=None, source="sagemaker.amazonaws.com"):
    request = _request_parameters(response, request)
    account, region = response.current_account, response.region
    access_key = response.get_access_key()
    kind, arn = _actor(account, access_key)
    when = when or _now()
    source_ip = response.headers.get("X-Forwarded-For", "127.0.0.1").split(",")[0].strip()
    user_agent = response.headers.get("User-Agent", "")
    event_id = str(uuid.uuid4())
    identity = {"type": kind, "arn": arn, "accountId": account, "accessKeyId": access_key}
    source_identity, on_behalf_of = _SESSIONS.get(access_key, (None, None))
    if source_identity:
        identity["sessionContext"] = {"sourceIdentity": source_identity}
    if on_behalf_of:
        identity["onBehalfOf"] = {
            "userId": on_behalf_of,
            "identityStoreArn": f"arn:aws:identitystore::{account}:identitystore/d-emulator",
        }
    detail = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": source,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
        "requestParameters": request or {},
        "eventID": event_id,
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "recipientAccountId": account,
    }
    if error is not None:
        detail["errorCode"], detail["errorMessage"] = error
    recorded = cloudtrail_backends[account][region].recorded_events
    recorded.append(
        {
            "_seq": len(recorded),
            "EventId": event_id,
            "EventName": event_name,
            "ReadOnly": "true" if read_only else "false",
            "AccessKeyId": access_key,
            "EventTime": when,
            "EventSource": source,
            "Username": arn.rsplit("/", 1)[-1],
            "Resources": [{"ResourceType": resource_type, "ResourceName": resource_name}]
            if resource_name
            else [],
            "CloudTrailEvent": json.dumps(detail),
        }
    )


def _record_noise(response, domain, controls):
    """CloudTrail events an account gathers on its own, asked for by the `cloudtrail-*`
    controls of CreateDomain, one a second back from now, each kind older than the one
    before: Studio's polling (read-only `DescribeDomain`), a denied automation (failed
    `CreateDomain`), another service's calls of a SageMaker event name (Amplify's
    `CreateApp`)."""
    kinds = (
        ("cloudtrail-reads", dict(event_name="DescribeDomain", read_only=True)),
        ("cloudtrail-denied-creates", dict(event_name="CreateDomain",
                                           error=("AccessDeniedException", "not authorized"))),
        ("cloudtrail-amplify-apps", dict(event_name="CreateApp", source="amplify.amazonaws.com")),
    )
    at = _now()
    for key, how in kinds:
        for _ in range(int(controls.get(key, 0))):
            at -= _dt.timedelta(seconds=1)
            _record(response, resource_type="AWS::SageMaker::Domain", resource_name=domain.arn,
                    request={"domainId": domain.id}, when=at, **how)


def _record_failure(response, event_name, resource_type, domain_id, code, message):
    """Records a SageMaker call that failed, naming its domain when it names a live one."""
    domain = response.sagemaker_backend.domains.get(domain_id) if domain_id else None
    _record(response, event_name, resource_type, domain.arn if domain else None,
            {"domainId": domain_id} if domain_id else None, error=(code, message))


def _recorded_failures(event_name, resource_type):
    """Records a SageMaker call that raised (as CloudTrail records failed calls: same event,
    plus errorCode and errorMessage), then lets the error through."""

    def wrap(handler):
        def call(self):
            try:
                return handler(self)
            except Exception as e:
                code = getattr(e, "error_type", None) or getattr(e, "code", None) or type(e).__name__
                message = getattr(e, "message", None) or str(e)
                _record_failure(self, event_name, resource_type, self._get_param("DomainId"), code, message)
                raise

        return call

    return wrap


def lookup_events(self):
    all_events = cloudtrail_backends[self.current_account][self.region].recorded_events
    events = list(all_events)
    attributes = self._get_param("LookupAttributes") or []
    for attr in attributes:
        key, value = attr.get("AttributeKey"), attr.get("AttributeValue")
        field = {
            "EventName": lambda e: [e["EventName"]],
            "EventSource": lambda e: [e["EventSource"]],
            "EventId": lambda e: [e["EventId"]],
            "Username": lambda e: [e["Username"]],
            "AccessKeyId": lambda e: [e["AccessKeyId"]],
            "ReadOnly": lambda e: [e["ReadOnly"]],
            "ResourceName": lambda e: [r["ResourceName"] for r in e["Resources"]],
            "ResourceType": lambda e: [r["ResourceType"] for r in e["Resources"]],
        }.get(key)
        if field is None:
            raise ValidationError(f"Unsupported lookup attribute {key}")
        events = [e for e in events if value in field(e)]
    start, end = self._get_param("StartTime"), self._get_param("EndTime")

    def as_time(v):
        if isinstance(v, (int, float)):
            return _dt.datetime.fromtimestamp(v, _dt.timezone.utc)
        return _parse_time(str(v))

    if start is not None:
        events = [e for e in events if e["EventTime"] >= as_time(start)]
    if end is not None:
        events = [e for e in events if e["EventTime"] <= as_time(end)]
    # A listing's pages stay put while calls go on: its token remembers what was recorded
    # when the first page was asked for (as CloudTrail's tokens do), so events recorded
    # meanwhile (the scanner's own reads) neither shift nor repeat its later pages.
    token = self._get_param("NextToken")
    seen, offset = (int(x) for x in token.split(":")) if token else (len(all_events), 0)
    events = [e for e in events if e["_seq"] < seen]
    events.sort(key=lambda e: e["EventTime"], reverse=True)
    limit = int(self._get_param("MaxResults") or 50)
    page = events[offset:offset + limit]
    body = {
        "Events": [
            {k: v for k, v in dict(e, EventTime=e["EventTime"].timestamp()).items() if k != "_seq"}
            for e in page
        ],
    }
    if offset + limit < len(events):
        body["NextToken"] = f"{seen}:{offset + limit}"
    return json.dumps(body)


CloudTrailResponse.lookup_events = lookup_events


# --- domains -------------------------------------------------------------------------------

_original_create_domain = SageMakerResponse.create_domain
_original_delete_domain = SageMakerResponse.delete_domain


def _random_domain_id():
    return "d-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=12))


def _create_home_storage(backend, domain, controls):
    """What AWS creates with a domain: home EFS, mount targets, two NFS groups."""
    efs = efs_backends[backend.account_id][backend.region_name]
    fs = efs.create_file_system(
        creation_token=f"{domain.id}-{uuid.uuid4().hex[:8]}",
        performance_mode="generalPurpose",
        encrypted=bool(domain.kms_key_id),
        kms_key_id=domain.kms_key_id,
        throughput_mode="bursting",
        provisioned_throughput_in_mibps=None,
        availability_zone_name=None,
        backup=False,
        tags=[{"Key": "ManagedByAmazonSageMakerResource", "Value": domain.arn}],
    )
    fs.encrypted = bool(domain.kms_key_id)
    fs._size_value = int(controls.get("home-efs-size-bytes", "6144"))
    fs._size_ia = int(controls.get("home-efs-ia-bytes", "0"))
    fs._size_archive = int(controls.get("home-efs-archive-bytes", "0"))
    domain.home_efs_file_system_id = fs.file_system_id

    ec2 = ec2_backends[backend.account_id][backend.region_name]
    vpc_id = domain.vpc_id
    if not vpc_id or vpc_id not in ec2.vpcs:
        return
    inbound = ec2.create_security_group(
        f"security-group-for-inbound-nfs-{domain.id}",
        f"[DO NOT DELETE] Security Group that allows inbound NFS traffic for SageMaker Notebooks Domain [{domain.id}]",
        vpc_id=vpc_id,
        tags={"ManagedByAmazonSageMakerResource": domain.arn},
    )
    outbound = ec2.create_security_group(
        f"security-group-for-outbound-nfs-{domain.id}",
        f"[DO NOT DELETE] Security Group that allows outbound NFS traffic for SageMaker Notebooks Domain [{domain.id}]",
        vpc_id=vpc_id,
        tags={"ManagedByAmazonSageMakerResource": domain.arn},
    )
    ec2.authorize_security_group_ingress(
        inbound.id, "tcp", "2049", "2049", [], source_groups=[{"GroupId": outbound.id}]
    )
    ec2.authorize_security_group_egress(
        outbound.id, "tcp", "2049", "2049", [], source_groups=[{"GroupId": inbound.id}]
    )
    for subnet_id in domain.subnet_ids or []:
        try:
            efs.create_mount_target(fs.file_system_id, subnet_id, security_groups=[inbound.id])
        except Exception:
            pass  # one mount target per AZ; a second subnet in the same AZ is skipped


def create_domain(self):
    name = self._get_param("DomainName")
    if any(d.domain_name == name for d in self.sagemaker_backend.domains.values()):
        raise ResourceInUseException(f"Domain with name {name} already exists")
    controls, real_tags = _split_tags(self._get_param("Tags"))
    result = _original_create_domain(self)
    backend = self.sagemaker_backend
    domain = backend.domains.pop(f"d-{name}")
    domain.id = _random_domain_id()
    domain.arn = _arn(backend, "domain", domain.id)
    domain.tags = real_tags
    domain.security_group_id_for_domain_boundary = None
    domain.single_sign_on_managed_application_arn = None
    domain.single_sign_on_managed_application_instance_id = None
    domain.url = f"https://{domain.id}.studio.{backend.region_name}.sagemaker.aws"
    domain.status = controls.get("status", "InService")
    domain.failure_reason = controls.get("failure-reason", "")
    backend.domains[domain.id] = domain
    _create_home_storage(backend, domain, controls)
    recorded_at = _parse_time(controls["cloudtrail-time"]) if "cloudtrail-time" in controls else None
    _record(self, "CreateDomain", "AWS::SageMaker::Domain", domain.arn, {"domainName": name},
            when=recorded_at)
    _record_noise(self, domain, controls)
    del result
    return ActionResult({"DomainArn": domain.arn, "DomainId": domain.id, "Url": domain.url})


def describe_domain(self):
    # moto answers ValidationException for an unknown domain; AWS answers ResourceNotFound.
    return ActionResult(_domain(self.sagemaker_backend, self._get_param("DomainId")).describe())


NETWORK_ACCESS_TYPES = ("PublicInternetOnly", "VpcOnly")


def update_domain(self):
    backend = self.sagemaker_backend
    domain = _domain(backend, self._get_param("DomainId"))
    access = self._get_param("AppNetworkAccessType")
    if access is not None and access not in NETWORK_ACCESS_TYPES:
        raise ValidationError(
            f"Value '{access}' at 'appNetworkAccessType' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(NETWORK_ACCESS_TYPES)}]"
        )
    if self._get_param("DefaultUserSettings") is not None:
        domain.default_user_settings = self._get_param("DefaultUserSettings")
    if self._get_param("DefaultSpaceSettings") is not None:
        domain.default_space_settings = self._get_param("DefaultSpaceSettings")
    if self._get_param("AppNetworkAccessType") is not None:
        domain.app_network_access_type = self._get_param("AppNetworkAccessType")
    if self._get_param("SubnetIds") is not None:
        domain.subnet_ids = self._get_param("SubnetIds")
    update = self._get_param("DomainSettingsForUpdate")
    if update:
        settings = dict(domain.domain_settings or {})
        if "SecurityGroupIds" in update:
            settings["SecurityGroupIds"] = update["SecurityGroupIds"]
        if "RStudioServerProDomainSettingsForUpdate" in update:
            settings["RStudioServerProDomainSettings"] = update["RStudioServerProDomainSettingsForUpdate"]
        for key in ("ExecutionRoleIdentityConfig", "DockerSettings"):
            if key in update:
                settings[key] = update[key]
        domain.domain_settings = settings
    domain.last_modified_time = _now()
    _record(self, "UpdateDomain", "AWS::SageMaker::Domain", domain.arn, {"domainId": domain.id})
    return ActionResult({"DomainArn": domain.arn})


def delete_domain(self):
    backend = self.sagemaker_backend
    domain_id = self._get_param("DomainId")
    domain = _domain(backend, domain_id)
    if any(k[0] == domain_id for k in backend.user_profiles) or any(
        k[0] == domain_id for k in backend.spaces
    ):
        raise ResourceInUseException(
            f"Domain {domain_id} still has user profiles or spaces; delete them first"
        )
    retention = (self._get_param("RetentionPolicy") or {}).get("HomeEfsFileSystem", "Retain")
    if retention == "Delete" and domain.home_efs_file_system_id:
        efs = efs_backends[backend.account_id][backend.region_name]
        fs_id = domain.home_efs_file_system_id
        for mt_id in [m for m, t in efs.mount_targets_by_id.items() if t.file_system_id == fs_id]:
            efs.delete_mount_target(mt_id)
        if fs_id in efs.file_systems_by_id:
            efs.delete_file_system(fs_id)
    backend.apps = {k: v for k, v in backend.apps.items() if k[0] != domain_id}
    del backend.domains[domain_id]
    _record(self, "DeleteDomain", "AWS::SageMaker::Domain", domain.arn, {"domainId": domain_id})
    return EmptyResult()


def create_presigned_domain_url(self):
    backend = self.sagemaker_backend
    domain = _domain(backend, self._get_param("DomainId"))
    profile = self._get_param("UserProfileName")
    _profile(backend, domain.id, profile)
    _record(
        self,
        "CreatePresignedDomainUrl",
        "AWS::SageMaker::UserProfile",
        _arn(backend, "user-profile", f"{domain.id}/{profile}"),
        {"domainId": domain.id, "userProfileName": profile},
    )
    return ActionResult({"AuthorizedUrl": f"{domain.url}/auth?token={uuid.uuid4().hex}"})


# --- user profiles ---------------------------------------------------------------------------


def _profile(backend, domain_id, name):
    profile = backend.user_profiles.get((domain_id, name))
    if profile is None:
        raise ResourceNotFound(f"User profile {name} does not exist in domain {domain_id}")
    return profile


def create_user_profile(self):
    backend = self.sagemaker_backend
    domain = _domain(backend, self._get_param("DomainId"))
    name = self._get_param("UserProfileName")
    if (domain.id, name) in backend.user_profiles:
        raise ResourceInUseException(f"User profile {name} already exists")
    controls, tags = _split_tags(self._get_param("Tags"))
    created = _parse_time(controls["creation-time"]) if "creation-time" in controls else _now()
    arn = _arn(backend, "user-profile", f"{domain.id}/{name}")
    backend.user_profiles[(domain.id, name)] = {
        "DomainId": domain.id,
        "UserProfileArn": arn,
        "UserProfileName": name,
        "HomeEfsFileSystemUid": str(200000 + len(backend.user_profiles)),
        "Status": controls.get("status", "InService"),
        "LastModifiedTime": created,
        "CreationTime": created,
        "FailureReason": controls.get("failure-reason"),
        "SingleSignOnUserIdentifier": self._get_param("SingleSignOnUserIdentifier"),
        "SingleSignOnUserValue": self._get_param("SingleSignOnUserValue"),
        "UserSettings": self._get_param("UserSettings"),
        "_tags": tags,
    }
    _record(self, "CreateUserProfile", "AWS::SageMaker::UserProfile", arn,
            {"domainId": domain.id, "userProfileName": name})
    return ActionResult({"UserProfileArn": arn})


def _public(record):
    return {k: v for k, v in record.items() if not k.startswith("_") and v is not None}


def describe_user_profile(self):
    backend = self.sagemaker_backend
    profile = _profile(backend, self._get_param("DomainId"), self._get_param("UserProfileName"))
    return ActionResult(_public(profile))


def list_user_profiles(self):
    backend = self.sagemaker_backend
    domain_id = self._get_param("DomainIdEquals")
    contains = self._get_param("UserProfileNameContains")
    items = [
        p for (d, n), p in sorted(backend.user_profiles.items())
        if (not domain_id or d == domain_id) and (not contains or contains in n)
    ]
    page, nxt = _paginate(items, self._get_param("NextToken"), self._get_param("MaxResults"))
    summaries = [
        {k: p[k] for k in ("DomainId", "UserProfileName", "Status", "CreationTime", "LastModifiedTime")}
        for p in page
    ]
    return ActionResult({"UserProfiles": summaries, "NextToken": nxt})


def update_user_profile(self):
    backend = self.sagemaker_backend
    profile = _profile(backend, self._get_param("DomainId"), self._get_param("UserProfileName"))
    if self._get_param("UserSettings") is not None:
        profile["UserSettings"] = self._get_param("UserSettings")
    profile["LastModifiedTime"] = _now()
    _record(self, "UpdateUserProfile", "AWS::SageMaker::UserProfile", profile["UserProfileArn"],
            {"domainId": profile["DomainId"], "userProfileName": profile["UserProfileName"]})
    return ActionResult({"UserProfileArn": profile["UserProfileArn"]})


def _live_apps(backend, domain_id, owner):
    return [a for k, a in backend.apps.items() if k[0] == domain_id and k[1] == owner
            and a["Status"] not in ("Deleted", "Failed")]


def delete_user_profile(self):
    backend = self.sagemaker_backend
    domain_id, name = self._get_param("DomainId"), self._get_param("UserProfileName")
    profile = _profile(backend, domain_id, name)
    if _live_apps(backend, domain_id, name):
        raise ResourceInUseException(f"User profile {name} still has apps; delete them first")
    if any(s.get("OwnershipSettings", {}).get("OwnerUserProfileName") == name
           for (d, _), s in backend.spaces.items() if d == domain_id):
        raise ResourceInUseException(f"User profile {name} still owns spaces; delete them first")
    del backend.user_profiles[(domain_id, name)]
    backend.apps = {k: v for k, v in backend.apps.items() if not (k[0] == domain_id and k[1] == name)}
    _record(self, "DeleteUserProfile", "AWS::SageMaker::UserProfile", profile["UserProfileArn"],
            {"domainId": domain_id, "userProfileName": name})
    return EmptyResult()


# --- spaces --------------------------------------------------------------------------------


def _space(backend, domain_id, name):
    space = backend.spaces.get((domain_id, name))
    if space is None:
        raise ResourceNotFound(f"Space {name} does not exist in domain {domain_id}")
    return space


def create_space(self):
    backend = self.sagemaker_backend
    domain = _domain(backend, self._get_param("DomainId"))
    name = self._get_param("SpaceName")
    if (domain.id, name) in backend.spaces:
        raise ResourceInUseException(f"Space {name} already exists")
    controls, tags = _split_tags(self._get_param("Tags"))
    owner = (self._get_param("OwnershipSettings") or {}).get("OwnerUserProfileName")
    if owner is not None:
        _profile(backend, domain.id, owner)
    created = _now()
    arn = _arn(backend, "space", f"{domain.id}/{name}")
    backend.spaces[(domain.id, name)] = {
        "DomainId": domain.id,
        "SpaceArn": arn,
        "SpaceName": name,
        "HomeEfsFileSystemUid": str(300000 + len(backend.spaces)),
        "Status": controls.get("status", "InService"),
        "LastModifiedTime": created,
        "CreationTime": created,
        "FailureReason": controls.get("failure-reason"),
        "SpaceSettings": self._get_param("SpaceSettings"),
        "OwnershipSettings": self._get_param("OwnershipSettings"),
        "SpaceSharingSettings": self._get_param("SpaceSharingSettings"),
        "SpaceDisplayName": self._get_param("SpaceDisplayName"),
        "Url": f"{domain.url}/spaces/{name}",
        "_tags": tags,
    }
    _record(self, "CreateSpace", "AWS::SageMaker::Space", arn, {"domainId": domain.id, "spaceName": name})
    return ActionResult({"SpaceArn": arn})


def describe_space(self):
    space = _space(self.sagemaker_backend, self._get_param("DomainId"), self._get_param("SpaceName"))
    return ActionResult(_public(space))


def list_spaces(self):
    backend = self.sagemaker_backend
    domain_id = self._get_param("DomainIdEquals")
    contains = self._get_param("SpaceNameContains")
    items = [
        s for (d, n), s in sorted(backend.spaces.items())
        if (not domain_id or d == domain_id) and (not contains or contains in n)
    ]
    page, nxt = _paginate(items, self._get_param("NextToken"), self._get_param("MaxResults"))
    summaries = []
    for s in page:
        summary = {k: s[k] for k in ("DomainId", "SpaceName", "Status", "CreationTime", "LastModifiedTime")}
        if s.get("SpaceDisplayName"):
            summary["SpaceDisplayName"] = s["SpaceDisplayName"]
        if (s.get("SpaceSettings") or {}).get("AppType"):
            summary["SpaceSettingsSummary"] = {"AppType": s["SpaceSettings"]["AppType"]}
        if s.get("SpaceSharingSettings"):
            summary["SpaceSharingSettingsSummary"] = s["SpaceSharingSettings"]
        if s.get("OwnershipSettings"):
            summary["OwnershipSettingsSummary"] = s["OwnershipSettings"]
        summaries.append(summary)
    return ActionResult({"Spaces": summaries, "NextToken": nxt})


def delete_space(self):
    backend = self.sagemaker_backend
    domain_id, name = self._get_param("DomainId"), self._get_param("SpaceName")
    space = _space(backend, domain_id, name)
    if _live_apps(backend, domain_id, name):
        raise ResourceInUseException(f"Space {name} still has apps; delete them first")
    del backend.spaces[(domain_id, name)]
    _record(self, "DeleteSpace", "AWS::SageMaker::Space", space["SpaceArn"], {"domainId": domain_id, "spaceName": name})
    return EmptyResult()


# --- apps ----------------------------------------------------------------------------------


def _owner(self):
    profile, space = self._get_param("UserProfileName"), self._get_param("SpaceName")
    if bool(profile) == bool(space):
        raise ValidationError("Exactly one of UserProfileName and SpaceName is required")
    return profile, space


def _app(backend, domain_id, owner, app_type, name):
    app = backend.apps.get((domain_id, owner, app_type, name))
    if app is None:
        raise ResourceNotFound(f"App {app_type}/{name} does not exist")
    return app


def create_app(self):
    backend = self.sagemaker_backend
    domain = _domain(backend, self._get_param("DomainId"))
    profile, space = _owner(self)
    if profile:
        _profile(backend, domain.id, profile)
    else:
        _space(backend, domain.id, space)
    owner = profile or space
    app_type, name = self._get_param("AppType"), self._get_param("AppName")
    key = (domain.id, owner, app_type, name)
    if key in backend.apps and backend.apps[key]["Status"] != "Deleted":
        raise ResourceInUseException(f"App {app_type}/{name} already exists")
    controls, tags = _split_tags(self._get_param("Tags"))
    created = _parse_time(controls["creation-time"]) if "creation-time" in controls else _now()
    arn = _arn(backend, "app", f"{domain.id}/{owner}/{app_type.lower()}/{name}")
    app = {
        "AppArn": arn,
        "AppType": app_type,
        "AppName": name,
        "DomainId": domain.id,
        "UserProfileName": profile,
        "SpaceName": space,
        "Status": controls.get("status", "InService"),
        "CreationTime": created,
        "FailureReason": controls.get("failure-reason"),
        "ResourceSpec": self._get_param("ResourceSpec") or {"InstanceType": "system"},
        "_tags": tags,
    }
    backend.apps[key] = app
    _record(self, "CreateApp", "AWS::SageMaker::App", arn, {"domainId": domain.id, "appName": name})
    return ActionResult({"AppArn": arn})


def describe_app(self):
    profile, space = _owner(self)
    app = _app(self.sagemaker_backend, self._get_param("DomainId"), profile or space,
               self._get_param("AppType"), self._get_param("AppName"))
    out = _public(app)
    if app["Status"] == "InService":
        # SageMaker health-checks a running app every few minutes, and the check refreshes
        # its activity timestamp: both are the latest check, whoever used the app.
        checked = _now()
        out["LastHealthCheckTimestamp"] = checked
        out["LastUserActivityTimestamp"] = checked
    return ActionResult(out)


# --- EFS storage classes ---------------------------------------------------------------------


def _efs_size_in_bytes(self):
    standard = self._size_value
    ia = getattr(self, "_size_ia", 0)
    archive = getattr(self, "_size_archive", 0)
    return {
        "Value": standard + ia + archive,
        "ValueInStandard": standard,
        "ValueInIA": ia,
        "ValueInArchive": archive,
        "Timestamp": _now().timestamp(),
    }


FileSystem.size_in_bytes = property(_efs_size_in_bytes)


# --- EC2 security group ARNs in the region's partition (moto writes arn:aws: everywhere) ---------

_original_sg_init = _Ec2SecurityGroup.__init__


def _sg_init(self, ec2_backend, group_id, *args, **kwargs):
    _original_sg_init(self, ec2_backend, group_id, *args, **kwargs)
    partition = get_partition(ec2_backend.region_name)
    self.arn = f"arn:{partition}:ec2:{ec2_backend.region_name}:{ec2_backend.account_id}:security-group/{group_id}"


_Ec2SecurityGroup.__init__ = _sg_init


# --- lifecycle configurations ------------------------------------------------------------------


STUDIO_APP_TYPES = ("JupyterServer", "JupyterLab", "CodeEditor", "KernelGateway")


def create_studio_lifecycle_config(self):
    backend = self.sagemaker_backend
    configs = backend.__dict__.setdefault("studio_lifecycle_configs", {})
    name = self._get_param("StudioLifecycleConfigName")
    if name in configs:
        raise ResourceInUseException(f"Studio lifecycle config {name} already exists")
    app_type = self._get_param("StudioLifecycleConfigAppType")
    if app_type not in STUDIO_APP_TYPES:
        raise ValidationError(f"Value '{app_type}' at 'studioLifecycleConfigAppType' failed to satisfy constraint")
    created = _now()
    arn = _arn(backend, "studio-lifecycle-config", name)
    configs[name] = {
        "StudioLifecycleConfigArn": arn,
        "StudioLifecycleConfigName": name,
        "CreationTime": created,
        "LastModifiedTime": created,
        "StudioLifecycleConfigContent": self._get_param("StudioLifecycleConfigContent"),
        "StudioLifecycleConfigAppType": app_type,
    }
    return ActionResult({"StudioLifecycleConfigArn": arn})


def _studio_config(backend, name):
    config = backend.__dict__.get("studio_lifecycle_configs", {}).get(name)
    if config is None:
        raise ResourceNotFound(f"Studio lifecycle config {name} does not exist")
    return config


def describe_studio_lifecycle_config(self):
    return ActionResult(_public(_studio_config(self.sagemaker_backend, self._get_param("StudioLifecycleConfigName"))))


def list_studio_lifecycle_configs(self):
    configs = self.sagemaker_backend.__dict__.get("studio_lifecycle_configs", {})
    items = [configs[n] for n in sorted(configs)]
    page, nxt = _paginate(items, self._get_param("NextToken"), self._get_param("MaxResults"))
    fields = ("StudioLifecycleConfigArn", "StudioLifecycleConfigName", "CreationTime",
              "LastModifiedTime", "StudioLifecycleConfigAppType")
    return ActionResult({"StudioLifecycleConfigs": [{k: c[k] for k in fields} for c in page],
                         "NextToken": nxt})


def delete_studio_lifecycle_config(self):
    backend = self.sagemaker_backend
    name = self._get_param("StudioLifecycleConfigName")
    _studio_config(backend, name)
    del backend.studio_lifecycle_configs[name]
    return EmptyResult()


def list_notebook_instance_lifecycle_configs(self):
    backend = self.sagemaker_backend
    configs = backend.notebook_instance_lifecycle_configurations
    items = [configs[n] for n in sorted(configs)]
    page, nxt = _paginate(items, self._get_param("NextToken"), self._get_param("MaxResults"))
    summaries = [{
        "NotebookInstanceLifecycleConfigName": c.notebook_instance_lifecycle_config_name,
        "NotebookInstanceLifecycleConfigArn": c.arn,
        "CreationTime": c.creation_time,
        "LastModifiedTime": c.last_modified_time,
    } for c in page]
    return ActionResult({"NotebookInstanceLifecycleConfigs": summaries, "NextToken": nxt})


def list_apps(self):
    backend = self.sagemaker_backend
    domain_id = self._get_param("DomainIdEquals")
    profile = self._get_param("UserProfileNameEquals")
    space = self._get_param("SpaceNameEquals")
    items = [
        a for _, a in sorted(backend.apps.items())
        if (not domain_id or a["DomainId"] == domain_id)
        and (not profile or a["UserProfileName"] == profile)
        and (not space or a["SpaceName"] == space)
    ]
    page, nxt = _paginate(items, self._get_param("NextToken"), self._get_param("MaxResults"))
    fields = ("DomainId", "UserProfileName", "SpaceName", "AppType", "AppName", "Status",
              "CreationTime", "ResourceSpec")
    summaries = [{k: a[k] for k in fields if a.get(k) is not None} for a in page]
    return ActionResult({"Apps": summaries, "NextToken": nxt})


def delete_app(self):
    backend = self.sagemaker_backend
    profile, space = _owner(self)
    app = _app(backend, self._get_param("DomainId"), profile or space,
               self._get_param("AppType"), self._get_param("AppName"))
    if app["Status"] == "Deleted":
        raise ResourceNotFound(f"App {app['AppName']} is already deleted")
    app["Status"] = "Deleted"
    _record(self, "DeleteApp", "AWS::SageMaker::App", app["AppArn"],
            {"domainId": app["DomainId"], "appName": app["AppName"]})
    return EmptyResult()


for _fn in (
    create_domain, describe_domain, update_domain, delete_domain, create_presigned_domain_url,
    create_user_profile, describe_user_profile, list_user_profiles, update_user_profile,
    delete_user_profile, create_space, describe_space, list_spaces, delete_space,
    create_app, describe_app, list_apps, delete_app,
    create_studio_lifecycle_config, describe_studio_lifecycle_config,
    list_studio_lifecycle_configs, delete_studio_lifecycle_config,
    list_notebook_instance_lifecycle_configs,
):
    setattr(SageMakerResponse, _fn.__name__, _fn)

# The control-plane changes CloudTrail records, failed ones included.
_RECORDED_CALLS = (
    ("create_domain", "CreateDomain", "AWS::SageMaker::Domain"),
    ("update_domain", "UpdateDomain", "AWS::SageMaker::Domain"),
    ("delete_domain", "DeleteDomain", "AWS::SageMaker::Domain"),
    ("create_presigned_domain_url", "CreatePresignedDomainUrl", "AWS::SageMaker::UserProfile"),
    ("create_user_profile", "CreateUserProfile", "AWS::SageMaker::UserProfile"),
    ("update_user_profile", "UpdateUserProfile", "AWS::SageMaker::UserProfile"),
    ("delete_user_profile", "DeleteUserProfile", "AWS::SageMaker::UserProfile"),
    ("create_space", "CreateSpace", "AWS::SageMaker::Space"),
    ("delete_space", "DeleteSpace", "AWS::SageMaker::Space"),
    ("create_app", "CreateApp", "AWS::SageMaker::App"),
    ("delete_app", "DeleteApp", "AWS::SageMaker::App"),
)
for _name, _event, _type in _RECORDED_CALLS:
    setattr(SageMakerResponse, _name, _recorded_failures(_event, _type)(getattr(SageMakerResponse, _name)))
_RECORDED_EVENTS = {event: kind for _, event, kind in _RECORDED_CALLS}


# --- requests and responses checked against botocore's service models ----------------------------
#
# botocore's models are AWS's own description of each operation: every SageMaker and CloudTrail
# request a test sends, and every response this emulator returns, must fit them (member names,
# types, enum values, required members of requests). A request that does not fit answers
# ValidationException (400) as AWS does; a response that does not fit answers 500 naming the
# misfit, so the test that caused it fails instead of the emulator drifting from AWS.

import botocore.session as _botocore_session

_MODELS = {}


def _model(service):
    if service not in _MODELS:
        _MODELS[service] = _botocore_session.get_session().get_service_model(service)
    return _MODELS[service]


def _misfits(shape, value, path, request, out):
    if value is None:
        return
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            out.append(f"{path}: {shape.name} must be an object")
            return
        for key, item in value.items():
            member = shape.members.get(key)
            if member is None:
                out.append(f"{path}.{key}: {shape.name} has no member {key}")
            else:
                _misfits(member, item, f"{path}.{key}", request, out)
        if request:
            for key in shape.required_members:
                if key not in value:
                    out.append(f"{path}.{key}: required by {shape.name}")
    elif kind == "list":
        if not isinstance(value, list):
            out.append(f"{path}: {shape.name} must be a list")
            return
        for i, item in enumerate(value):
            _misfits(shape.member, item, f"{path}[{i}]", request, out)
    elif kind == "map":
        if not isinstance(value, dict):
            out.append(f"{path}: {shape.name} must be a map")
            return
        for key, item in value.items():
            _misfits(shape.value, item, f"{path}.{key}", request, out)
    elif kind == "string":
        if not isinstance(value, str):
            out.append(f"{path}: {shape.name} must be a string, got {value!r}")
        elif shape.enum and value not in shape.enum:
            out.append(f"{path}: {value!r} is not one of {shape.name} {shape.enum}")
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            out.append(f"{path}: {shape.name} must be an integer, got {value!r}")
    elif kind in ("float", "double"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            out.append(f"{path}: {shape.name} must be a number, got {value!r}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            out.append(f"{path}: {shape.name} must be a boolean, got {value!r}")
    elif kind == "timestamp":
        if not isinstance(value, (int, float, str)):
            out.append(f"{path}: {shape.name} must be a timestamp, got {value!r}")


def _checked(service, original):
    def call_action(self):
        operation = self._get_action()
        try:
            op = _model(service).operation_model(operation)
        except Exception:
            op = None
        problems = []
        if op is not None and op.input_shape is not None:
            try:
                body = json.loads(self.body or "{}")
            except ValueError:
                body = None
            if isinstance(body, dict):
                _misfits(op.input_shape, body, f"{operation} request", True, problems)
        if problems:
            # AWS validates requests against the same model and answers ValidationException;
            # CloudTrail records the failed call like any other.
            message = "; ".join(problems)
            print(f"emulator: request outside the model: {message}", file=sys.stderr, flush=True)
            if service == "sagemaker" and operation in _RECORDED_EVENTS:
                domain_id = body.get("DomainId") if isinstance(body, dict) else None
                _record_failure(self, operation, _RECORDED_EVENTS[operation], domain_id,
                                "ValidationException", message)
            return 400, {"status": 400}, json.dumps({"__type": "ValidationException", "message": message})
        status, headers, body = original(self)
        if op is not None and op.output_shape is not None and int(status) < 300 and body:
            try:
                _misfits(op.output_shape, json.loads(body), f"{operation} response", False, problems)
            except ValueError:
                pass
        if problems:
            message = "; ".join(problems)
            print(f"emulator: shape misfit: {message}", file=sys.stderr, flush=True)
            return 500, {"status": 500}, json.dumps({"__type": "EmulatorShapeMisfit", "message": message})
        if service == "sagemaker" and int(status) < 300 and operation.startswith(("Describe", "List")):
            # CloudTrail records read-only management calls too (readOnly: true), so the
            # event-source listing holds every Describe and List, the scanner's own included.
            _record(self, operation, None, None, read_only=True)
        return status, headers, body
    return call_action


SageMakerResponse.call_action = _checked("sagemaker", SageMakerResponse.call_action)
CloudTrailResponse.call_action = _checked("cloudtrail", CloudTrailResponse.call_action)


# --- Security Hub BatchImportFindings ---------------------------------------------------------

from moto.securityhub.models import Finding as _HubFinding
from moto.securityhub.responses import SecurityHubResponse

# Customer-owned: a provider's BatchImportFindings update leaves them as they are.
_HUB_CUSTOMER_FIELDS = ("Note", "UserDefinedFields", "VerificationState", "Workflow")


def batch_import_findings(self):
    backend = self.securityhub_backend
    account, region = self.current_account, self.region
    if not backend.enabled:
        return 401, {"status": 401, "x-amzn-errortype": "InvalidAccessException"}, json.dumps({
            "__type": "InvalidAccessException",
            "Code": "InvalidAccessException",
            "Message": f"Account {account} is not subscribed to AWS Security Hub",
        })
    body = json.loads(self.body or "{}")
    partition = get_partition(region)
    product = f"arn:{partition}:securityhub:{region}:{account}:product/{account}/default"
    failed = []
    success = 0
    by_id = {f.id: f for f in backend.findings}
    for data in body.get("Findings", []):
        fid = data.get("Id", "")
        problem = None
        if data.get("AwsAccountId") != account:
            problem = ("AccessDeniedException",
                       f"AwsAccountId {data.get('AwsAccountId')} is not the calling account {account}")
        elif data.get("ProductArn") != product:
            problem = ("InvalidInput", f"ProductArn {data.get('ProductArn')} is not {product}")
        elif any("emulator-reject-import" in r.get("Id", "") for r in data.get("Resources", [])):
            problem = ("InvalidInput", "rejected by the emulator's test knob")
        if problem:
            failed.append({"Id": fid, "ErrorCode": problem[0], "ErrorMessage": problem[1]})
            continue
        provider = data.get("FindingProviderFields", {})
        for key in ("Severity", "Types"):
            if key in provider:
                data[key] = provider[key]
        existing = by_id.get(fid)
        if existing is None:
            finding = _HubFinding(fid, data)
            backend.findings.append(finding)
            by_id[fid] = finding
        else:
            kept = {k: existing.data[k] for k in _HUB_CUSTOMER_FIELDS if k in existing.data}
            existing.data.update(data)
            existing.data.update(kept)
        success += 1
    return json.dumps({"FailedCount": len(failed), "FailedFindings": failed, "SuccessCount": success})


SecurityHubResponse.batch_import_findings = batch_import_findings
SecurityHubResponse.call_action = _checked("securityhub", SecurityHubResponse.call_action)


# --- S3: AccessDenied of bucket policies, SSE-KMS keys that do not exist ----------------------

from moto.kms.models import kms_backends
from moto.s3.responses import S3Response

_original_s3_put_object = S3Response.put_object


def _s3_error(status, code, message):
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>' + code + "</Code><Message>"
            + message + "</Message><RequestId>emulator</RequestId></Error>")
    return status, {"status": status, "Content-Type": "application/xml"}, body


def s3_put_object(self):
    try:
        bucket = self.backend.get_bucket(self.bucket_name)
    except Exception:
        return _original_s3_put_object(self)
    kms_key = self.headers.get("x-amz-server-side-encryption-aws-kms-key-id")
    if self.headers.get("x-amz-server-side-encryption") == "aws:kms" and kms_key:
        kms = kms_backends[self.current_account][self.region]
        try:
            known = kms.any_id_to_key_id(kms_key) in kms.keys
        except Exception:
            known = False
        if not known:
            return _s3_error(400, "KMS.NotFoundException", f"Key '{kms_key}' does not exist")
    return _original_s3_put_object(self)


S3Response.put_object = s3_put_object

_original_key_response = S3Response._key_response


def _key_response(self, request, full_url):
    # moto enforces a bucket policy's deny on object requests but answers an empty 403; AWS
    # answers the AccessDenied error document, whose code SDKs read.
    response = _original_key_response(self, request, full_url)
    if isinstance(response, tuple) and len(response) == 3 and response[0] == 403 and not response[2]:
        return _s3_error(403, "AccessDenied", "Access Denied")
    return response


S3Response._key_response = _key_response


# --- STS AssumeRole --------------------------------------------------------------------------

_original_assume_role = STSResponse.assume_role


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _trusts(document, caller_account, caller_arn, external_id):
    """Whether a trust policy lets the caller assume the role (Allow statements only)."""
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    for statement in _as_list(document.get("Statement", [])):
        if statement.get("Effect") != "Allow":
            continue
        actions = _as_list(statement.get("Action", []))
        if not any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
            continue
        principal = statement.get("Principal", {})
        principals = _as_list(principal.get("AWS", [])) if isinstance(principal, dict) else [principal]
        allowed = {"*", caller_account, f"arn:aws:iam::{caller_account}:root", caller_arn}
        if not any(p in allowed for p in principals):
            continue
        wanted = statement.get("Condition", {}).get("StringEquals", {}).get("sts:ExternalId")
        if wanted is not None and external_id not in _as_list(wanted):
            continue
        return True
    return False


def assume_role(self):
    role_arn = self._get_param("RoleArn") or ""
    parts = role_arn.split(":")
    caller_account = self.current_account
    _, caller_arn = _actor(caller_account, self.get_access_key())
    denied = STSClientError(
        "AccessDenied",
        f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
    )
    if len(parts) != 6 or not parts[5].startswith("role/"):
        raise denied
    name = parts[5].rsplit("/", 1)[-1]
    role = next((r for r in iam_backends[parts[4]]["aws"].roles.values() if r.name == name), None)
    if role is None or not _trusts(
        role.assume_role_policy_document, caller_account, caller_arn, self._get_param("ExternalId")
    ):
        raise denied
    result = _original_assume_role(self)
    source_identity = self._get_param("SourceIdentity")
    # Parsed by moto from the query (a list of {ProviderArn, ContextAssertion}).
    contexts = self._get_param("ProvidedContexts") or []
    if isinstance(contexts, dict):
        contexts = contexts.get("member", [])
    on_behalf_of = next(
        (c.get("ContextAssertion") for c in contexts
         if isinstance(c, dict) and c.get("ProviderArn") == IDENTITY_CENTER_PROVIDER),
        None,
    )
    if source_identity or on_behalf_of:
        from moto.sts.models import sts_backends

        session = sts_backends[parts[4]]["global"].assumed_roles[-1]
        _SESSIONS[session.access_key_id] = (source_identity, on_behalf_of)
    return result


STSResponse.assume_role = assume_role


def _exit_with_parent():
    """Test harnesses start one emulator per test binary; it must not outlive them."""
    import os
    import threading
    import time

    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


if __name__ == "__main__":
    from moto.server import main

    _exit_with_parent()
    main(sys.argv[1:])
