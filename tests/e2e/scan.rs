//! End-to-end: seed the reference account, scan it through the real SDK, check every fact
//! the checks need arrived, and that the scan made exactly the calls it needs.

use std::collections::BTreeMap;

use sagemaker_auditor::collect::{AwsClients, permissions};
use sagemaker_auditor::snapshot::{BindingKind, Domain, RoleState, Snapshot};

use crate::reference::{
    self, ADMIN, FULL_ACCESS, LEAKED_KEY_ID, ORPHAN_ARCHIVE_BYTES, ORPHAN_BYTES, ORPHAN_IA_BYTES,
    OTHER_ACCOUNT,
};
use crate::util::{self, REGION};

const ACCOUNT: &str = "123456789012";

fn domain<'a>(s: &'a Snapshot, id: &str) -> &'a Domain {
    s.accounts[0].regions[0]
        .domains
        .iter()
        .find(|d| d.domain_id == id)
        .unwrap_or_else(|| panic!("domain {id} missing"))
}

fn calls(s: &Snapshot) -> BTreeMap<String, u64> {
    assert!(
        s.api_calls.iter().all(|c| c.outcome == "success"),
        "{:?}",
        s.api_calls
    );
    util::call_counts(s)
        .into_iter()
        .map(|(k, (calls, _))| (k, calls))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_of_reference_account_captures_every_seeded_fact() {
    let account = util::account(ACCOUNT).await;
    let seeded = reference::seed(&account).await;
    let clients = AwsClients::new(account.sdk.clone());
    let s = util::scan(&clients, &[REGION]).await;

    assert_eq!(
        s.collection_errors,
        vec![],
        "a clean account collects without errors"
    );
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        s.save(&util::repo_root().join("examples/snapshot.json"))
            .expect("write the example snapshot");
    }
    assert_eq!(s.accounts.len(), 1);
    let acct = &s.accounts[0];
    assert_eq!(
        (acct.account_id.as_str(), acct.partition.as_str()),
        (ACCOUNT, "aws")
    );
    let region = &acct.regions[0];
    assert_eq!(region.region, REGION);

    // Domains: the deleted one is gone, four remain with their settings.
    let mut ids: Vec<&str> = region
        .domains
        .iter()
        .map(|d| d.domain_id.as_str())
        .collect();
    ids.sort_unstable();
    let mut expected = vec![
        seeded.public_domain.as_str(),
        seeded.private_domain.as_str(),
        seeded.leaky_domain.as_str(),
        seeded.nat_domain.as_str(),
    ];
    expected.sort_unstable();
    assert_eq!(ids, expected);
    for d in &region.domains {
        assert!(
            d.described && d.domain_id.starts_with("d-") && d.domain_id.len() == 14,
            "{d:?}"
        );
        assert_eq!(
            d.arn,
            format!(
                "arn:aws:sagemaker:{REGION}:{ACCOUNT}:domain/{}",
                d.domain_id
            )
        );
        assert!(
            d.home_efs_file_system_id
                .as_deref()
                .is_some_and(|f| f.starts_with("fs-"))
        );
    }

    let public = domain(&s, &seeded.public_domain);
    assert_eq!(
        public.app_network_access_type.as_deref(),
        Some("PublicInternetOnly")
    );
    assert_eq!(public.kms_key_id, None);
    assert_eq!(public.status, "InService");
    assert_eq!(
        public
            .default_user_settings
            .as_ref()
            .and_then(|u| u.execution_role.as_deref()),
        Some(format!("arn:aws:iam::{ACCOUNT}:role/service-role/sm-full-access").as_str())
    );

    // v2 settings: sharing without a key, a Canvas role.
    let public_settings = public.default_user_settings.as_ref().expect("defaults");
    assert_eq!(
        (
            public_settings.notebook_output_sharing.as_deref(),
            public_settings.notebook_output_s3_path.as_deref(),
            public_settings.notebook_output_kms_key_id.as_deref()
        ),
        (Some("Allowed"), Some("s3://team-notebooks/shared/"), None)
    );
    assert_eq!(
        public_settings
            .app_roles
            .iter()
            .map(|r| (r.kind, r.setting.as_str(), r.role_arn.rsplit('/').next()))
            .collect::<Vec<_>>(),
        [(
            BindingKind::Canvas,
            "CanvasAppSettings.GenerativeAiSettings.AmazonBedrockRoleArn",
            Some("sm-canvas")
        )]
    );

    let private = domain(&s, &seeded.private_domain);
    fn enabled(
        i: &Option<sagemaker_auditor::snapshot::IdleSettings>,
    ) -> Option<(Option<&str>, Option<i32>)> {
        i.as_ref()
            .map(|i| (i.lifecycle_management.as_deref(), i.idle_timeout_in_minutes))
    }
    let private_settings = private.default_user_settings.as_ref().expect("defaults");
    assert_eq!(
        enabled(&private_settings.jupyter_lab_idle),
        Some((Some("ENABLED"), Some(60)))
    );
    assert_eq!(
        enabled(&private_settings.code_editor_idle),
        Some((Some("ENABLED"), Some(60)))
    );
    assert_eq!(
        enabled(
            &private
                .default_space_settings
                .as_ref()
                .expect("space defaults")
                .jupyter_lab_idle
        ),
        Some((Some("ENABLED"), Some(60)))
    );
    assert_eq!(
        private.execution_role_identity_config.as_deref(),
        Some("USER_PROFILE_NAME")
    );
    assert!(private_settings.notebook_output_kms_key_id.is_some());
    assert_eq!(private.app_network_access_type.as_deref(), Some("VpcOnly"));
    assert_eq!(private.vpc_id.as_deref(), Some(seeded.private_vpc.as_str()));
    assert_eq!(private.subnet_ids.len(), 2);
    assert!(
        private
            .kms_key_id
            .as_deref()
            .is_some_and(|k| k.starts_with("arn:aws:kms:"))
    );
    assert!(
        private
            .default_space_settings
            .as_ref()
            .and_then(|d| d.execution_role.as_deref())
            .is_some_and(|r| r.ends_with("/sm-passrole"))
    );
    assert!(
        private
            .rstudio_domain_execution_role_arn
            .as_deref()
            .is_some_and(|r| r.ends_with("/sm-s3-wildcard"))
    );

    let leaky = domain(&s, &seeded.leaky_domain);
    assert_eq!(
        (
            leaky.docker_access.as_deref(),
            leaky.docker_vpc_only_trusted_accounts.clone()
        ),
        (Some("ENABLED"), vec![OTHER_ACCOUNT.to_string()])
    );
    assert_eq!(leaky.execution_role_identity_config, None);
    assert_eq!(leaky.app_network_access_type.as_deref(), Some("VpcOnly"));
    assert_eq!(leaky.status, "Update_Failed");
    assert_eq!(
        leaky.failure_reason.as_deref(),
        Some("Subnet capacity exhausted")
    );
    assert_eq!(
        leaky.subnet_ids,
        vec![
            seeded.leaky_public_subnet.clone(),
            seeded.leaky_private_subnet.clone()
        ]
    );
    assert_eq!(
        leaky
            .default_user_settings
            .as_ref()
            .map(|u| u.security_groups.clone()),
        Some(vec![seeded.open_group.clone()])
    );

    // User profiles: five, overrides and inheritance kept apart.
    let profiles: BTreeMap<&str, _> = region
        .domains
        .iter()
        .flat_map(|d| d.user_profiles.iter())
        .map(|p| (p.name.as_str(), p))
        .collect();
    assert_eq!(
        profiles.keys().copied().collect::<Vec<_>>(),
        ["alice", "bob", "carol", "dave", "erin"]
    );
    assert!(profiles.values().all(|p| p.described));
    assert_eq!(
        profiles["alice"].user_settings, None,
        "alice sets nothing and inherits the domain default"
    );
    assert_eq!(
        profiles["alice"].arn,
        format!(
            "arn:aws:sagemaker:{REGION}:{ACCOUNT}:user-profile/{}/alice",
            seeded.public_domain
        )
    );
    assert!(
        profiles["dave"]
            .user_settings
            .as_ref()
            .and_then(|u| u.execution_role.as_deref())
            .is_some_and(|r| r.ends_with("/sm-does-not-exist"))
    );
    let carol = profiles["carol"]
        .user_settings
        .as_ref()
        .expect("carol's settings");
    assert_eq!(
        enabled(&carol.code_editor_idle),
        Some((Some("DISABLED"), Some(60)))
    );
    assert_eq!(
        carol
            .app_roles
            .iter()
            .map(|r| (r.kind, r.setting.as_str(), r.role_arn.rsplit('/').next()))
            .collect::<Vec<_>>(),
        [(
            BindingKind::Emr,
            "JupyterLabAppSettings.EmrSettings.AssumableRoleArns",
            Some("sm-emr-gone")
        )]
    );
    assert_eq!(profiles["erin"].status, "Update_Failed");
    assert_eq!(
        profiles["erin"].failure_reason.as_deref(),
        Some("Role not assumable")
    );
    assert_eq!(
        profiles["erin"]
            .user_settings
            .as_ref()
            .map(|u| u.security_groups.clone()),
        Some(vec![seeded.open_group.clone()])
    );

    // Spaces: two, each described (RemoteAccess and custom file systems are only there).
    let spaces: BTreeMap<&str, _> = region
        .domains
        .iter()
        .flat_map(|d| d.spaces.iter())
        .map(|p| (p.name.as_str(), p))
        .collect();
    assert_eq!(spaces.len(), 2);
    assert_eq!(spaces["team-space"].sharing_type.as_deref(), Some("Shared"));
    assert_eq!(
        spaces["team-space"].owner_user_profile_name.as_deref(),
        Some("carol")
    );
    assert_eq!(spaces["team-space"].app_type.as_deref(), Some("JupyterLab"));
    assert!(spaces.values().all(|s| s.described));
    assert_eq!(
        spaces["team-space"].remote_access.as_deref(),
        Some("ENABLED")
    );
    assert_eq!(
        spaces["team-space"].custom_file_systems,
        [sagemaker_auditor::snapshot::CustomFileSystem {
            kind: "efs".into(),
            id: "fs-0team0shared0001".into()
        }]
    );
    assert_eq!(spaces["broken-space"].remote_access, None);
    assert_eq!(spaces["broken-space"].status, "Failed");
    assert_eq!(
        spaces["broken-space"].failure_reason.as_deref(),
        Some("EFS mount failed")
    );

    // Apps: six, with what app_long_running and app_failed read (ListApps has it all; only a
    // failed app is described, for its FailureReason).
    let apps: Vec<_> = region.domains.iter().flat_map(|d| d.apps.iter()).collect();
    assert_eq!(apps.len(), 6);
    let app = |owner: &str, app_type: &str| {
        *apps
            .iter()
            .find(|a| {
                a.user_profile_name.as_deref().or(a.space_name.as_deref()) == Some(owner)
                    && a.app_type == app_type
            })
            .unwrap_or_else(|| panic!("app {owner}/{app_type} missing"))
    };
    let free = app("alice", "JupyterServer");
    assert_eq!(
        (
            free.status.as_str(),
            free.instance_type.as_deref(),
            free.described
        ),
        ("InService", Some("system"), false)
    );
    let idle = app("alice", "KernelGateway");
    assert_eq!(idle.instance_type.as_deref(), Some("ml.t3.medium"));
    assert!(!idle.described);
    assert_eq!(
        idle.creation_time.map(|t| t.to_rfc3339()),
        Some("2026-01-01T00:00:00+00:00".into())
    );
    assert_eq!(
        idle.arn,
        format!(
            "arn:aws:sagemaker:{REGION}:{ACCOUNT}:app/{}/alice/kernelgateway/datascience-1",
            seeded.public_domain
        )
    );
    let failed = app("carol", "JupyterLab");
    assert_eq!(
        (failed.status.as_str(), failed.failure_reason.as_deref()),
        ("Failed", Some("Image pull failed"))
    );
    let space_app = app("team-space", "JupyterLab");
    assert_eq!(
        (
            space_app.status.as_str(),
            space_app.instance_type.as_deref()
        ),
        ("InService", Some("ml.m5.large"))
    );
    assert!(!space_app.described);
    assert!(failed.described);
    assert_eq!(app("bob", "JupyterServer").status, "Deleted");
    let five_days_old = app("dave", "CodeEditor");
    let age = chrono::Utc::now() - five_days_old.creation_time.expect("creation time");
    assert!(
        (age - chrono::Duration::days(5)).num_minutes().abs() < 60,
        "{age}"
    );

    // Network: the public route, the main-table fallback, the endpoints, the open group.
    let net = &region.network;
    let public_rt = net
        .route_tables
        .iter()
        .find(|t| t.route_table_id == seeded.leaky_public_route_table)
        .expect("public route table");
    assert_eq!(
        public_rt.subnet_ids,
        vec![seeded.leaky_public_subnet.clone()]
    );
    assert!(!public_rt.main);
    assert!(
        public_rt
            .routes
            .iter()
            .any(|r| r.destination_cidr_block.as_deref() == Some("0.0.0.0/0")
                && r.gateway_id.as_deref() == Some(seeded.leaky_igw.as_str())
                && r.state.as_deref() == Some("active"))
    );
    for vpc in [&seeded.private_vpc, &seeded.leaky_vpc] {
        let mains: Vec<_> = net
            .route_tables
            .iter()
            .filter(|t| &t.vpc_id == vpc && t.main)
            .collect();
        assert_eq!(mains.len(), 1, "one main table for {vpc}");
        assert!(mains[0].routes.iter().all(|r| {
            r.gateway_id
                .as_deref()
                .is_none_or(|g| !g.starts_with("igw-"))
        }));
    }
    assert!(
        net.subnets
            .iter()
            .any(|s| s.subnet_id == seeded.leaky_private_subnet && s.vpc_id == seeded.leaky_vpc)
    );
    let endpoints = |vpc: &str| -> BTreeMap<String, (Option<String>, Option<String>, bool)> {
        net.vpc_endpoints
            .iter()
            .filter(|e| e.vpc_id == vpc)
            .map(|e| {
                (
                    e.service_name
                        .trim_start_matches(&format!("com.amazonaws.{REGION}."))
                        .to_string(),
                    (
                        e.endpoint_type.clone(),
                        e.state.clone(),
                        e.private_dns_enabled,
                    ),
                )
            })
            .collect()
    };
    let private_endpoints = endpoints(&seeded.private_vpc);
    assert_eq!(
        private_endpoints
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["s3", "sagemaker.api", "sagemaker.runtime", "sts"]
    );
    // The endpoints' route tables and groups, and those groups' rules, are read.
    for e in net
        .vpc_endpoints
        .iter()
        .filter(|e| e.vpc_id == seeded.private_vpc)
    {
        match e.endpoint_type.as_deref() {
            Some("Gateway") => assert_eq!(e.route_table_ids.len(), 1, "{e:?}"),
            _ => {
                assert_eq!(e.security_group_ids.len(), 1, "{e:?}");
                let group = net
                    .security_groups
                    .iter()
                    .find(|g| g.group_id == e.security_group_ids[0])
                    .expect("the endpoint's group is collected");
                assert_eq!(group.ingress[0].from_port, Some(443));
            }
        }
    }
    let leaky_s3 = net
        .vpc_endpoints
        .iter()
        .find(|e| e.vpc_endpoint_id == seeded.leaky_s3_gateway)
        .expect("leaky s3 gateway");
    assert!(leaky_s3.route_table_ids.is_empty());
    // The NAT domain's subnet routes 0.0.0.0/0 to the NAT gateway.
    assert!(net.route_tables.iter().any(|t| t.routes.iter().any(|r| {
        r.destination_cidr_block.as_deref() == Some("0.0.0.0/0")
            && r.nat_gateway_id.as_deref() == Some(seeded.nat_gateway.as_str())
    })));
    assert_eq!(private_endpoints["s3"].0.as_deref(), Some("Gateway"));
    assert_eq!(
        private_endpoints["sts"],
        (Some("Interface".into()), Some("available".into()), true)
    );
    let leaky_endpoints = endpoints(&seeded.leaky_vpc);
    assert_eq!(leaky_endpoints.len(), 3);
    assert!(!leaky_endpoints["sagemaker.api"].2, "private DNS off");
    let open = net
        .security_groups
        .iter()
        .find(|g| g.group_id == seeded.open_group)
        .expect("open group collected");
    assert!(
        open.ingress
            .iter()
            .any(|r| r.ipv4_ranges == ["0.0.0.0/0"] && r.from_port == Some(8888))
    );
    assert_eq!(
        open.arn,
        format!(
            "arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{}",
            open.group_id
        )
    );

    // Storage: every domain's home EFS, the orphan's size; both NFS groups of every domain.
    assert_eq!(region.efs_file_systems.len(), 5);
    let orphan = region
        .efs_file_systems
        .iter()
        .find(|f| {
            f.tags
                .get("ManagedByAmazonSageMakerResource")
                .is_some_and(|v| v.ends_with(&format!("domain/{}", seeded.gone_domain)))
        })
        .expect("orphaned home EFS");
    assert_eq!(
        orphan.size_in_bytes,
        ORPHAN_BYTES + ORPHAN_IA_BYTES + ORPHAN_ARCHIVE_BYTES
    );
    assert_eq!(
        (
            orphan.size_in_standard_bytes,
            orphan.size_in_ia_bytes,
            orphan.size_in_archive_bytes
        ),
        (
            Some(ORPHAN_BYTES),
            Some(ORPHAN_IA_BYTES),
            Some(ORPHAN_ARCHIVE_BYTES)
        )
    );
    assert_eq!(orphan.number_of_mount_targets, 2);
    // Its owner is decided once, in the snapshot, and its mount targets are listed.
    assert_eq!(
        orphan.domain_id.as_deref(),
        Some(seeded.gone_domain.as_str())
    );
    assert_eq!(orphan.mount_target_ids.len(), 2);
    assert!(
        orphan
            .mount_target_ids
            .iter()
            .all(|m| m.starts_with("fsmt-"))
    );
    assert!(orphan.creation_time.is_some());
    assert!(orphan.arn.starts_with(&format!(
        "arn:aws:elasticfilesystem:{REGION}:{ACCOUNT}:file-system/fs-"
    )));
    for d in [
        &seeded.public_domain,
        &seeded.private_domain,
        &seeded.leaky_domain,
        &seeded.nat_domain,
        &seeded.gone_domain,
    ] {
        for dir in ["inbound", "outbound"] {
            let name = format!("security-group-for-{dir}-nfs-{d}");
            assert!(
                net.security_groups
                    .iter()
                    .any(|g| g.group_name == name && g.domain_id.as_deref() == Some(d.as_str())),
                "{name} collected, owned by {d}"
            );
        }
    }
    let inbound = net
        .security_groups
        .iter()
        .find(|g| g.group_name == format!("security-group-for-inbound-nfs-{}", seeded.gone_domain))
        .expect("inbound");
    assert_eq!(inbound.ingress[0].from_port, Some(2049));
    assert_eq!(
        inbound.ingress[0].referenced_group_ids.len(),
        1,
        "references its outbound twin"
    );

    // Execution roles: the effective set with bindings, states and documents.
    let roles: BTreeMap<&str, _> = acct
        .execution_roles
        .iter()
        .map(|r| (r.arn.rsplit('/').next().unwrap_or_default(), r))
        .collect();
    assert_eq!(
        roles.keys().copied().collect::<Vec<_>>(),
        [
            "rstudio",
            "sm-admin",
            "sm-admin-bounded",
            "sm-canvas",
            "sm-does-not-exist",
            "sm-emr-gone",
            "sm-full-access",
            "sm-notebook",
            "sm-passrole",
            "sm-passrole-denied",
            "sm-s3-wildcard",
            "sm-scoped",
            "sm-trust-anyone",
            "sm-trust-other-account"
        ],
        "the unrelated roles are not in the snapshot"
    );
    assert_eq!(roles["sm-does-not-exist"].state, RoleState::Missing);
    assert_eq!(roles["sm-emr-gone"].state, RoleState::Missing);
    assert_eq!(
        roles["sm-emr-gone"].bindings[0].setting.as_deref(),
        Some("JupyterLabAppSettings.EmrSettings.AssumableRoleArns")
    );
    assert_eq!(roles["sm-canvas"].bindings[0].kind, BindingKind::Canvas);
    let notebook = &roles["sm-notebook"].bindings[0];
    assert_eq!(
        (
            notebook.kind,
            notebook.domain_id.as_deref(),
            notebook.notebook_instance_name.as_deref()
        ),
        (BindingKind::NotebookInstance, None, Some("nb-open"))
    );
    // The boundary is read with the role, and its document like an attached policy's.
    let bounded = roles["sm-admin-bounded"].role.as_ref().expect("bounded");
    assert_eq!(
        bounded.permissions_boundary_arn.as_deref(),
        Some(seeded.boundary_policy.as_str())
    );
    assert!(s.managed_policies.contains_key(&seeded.boundary_policy));

    // Notebook instances and lifecycle configurations, scripts decoded with secrets redacted.
    let notebooks: BTreeMap<&str, _> = region
        .notebook_instances
        .iter()
        .map(|n| (n.name.as_str(), n))
        .collect();
    assert_eq!(notebooks.len(), 2);
    let open_nb = notebooks["nb-open"];
    assert!(open_nb.described);
    assert_eq!(
        (
            open_nb.direct_internet_access.as_deref(),
            open_nb.root_access.as_deref(),
            open_nb.subnet_id.as_deref(),
            open_nb.kms_key_id.as_deref()
        ),
        (Some("Enabled"), Some("Enabled"), None, None)
    );
    let locked = notebooks["nb-locked"];
    assert_eq!(
        (
            locked.direct_internet_access.as_deref(),
            locked.root_access.as_deref(),
            locked.lifecycle_config_name.as_deref()
        ),
        (Some("Disabled"), Some("Disabled"), Some("nb-setup"))
    );
    assert!(locked.subnet_id.is_some() && locked.kms_key_id.is_some());
    let configs: BTreeMap<&str, _> = region
        .lifecycle_configs
        .iter()
        .map(|c| (c.name.as_str(), c))
        .collect();
    let studio = configs["install-tools"];
    assert_eq!(
        studio.kind,
        sagemaker_auditor::snapshot::LifecycleConfigKind::StudioLifecycleConfig
    );
    assert_eq!(studio.scripts.len(), 1);
    let text = studio.scripts[0].text.as_deref().expect("decoded");
    assert!(text.contains("export AWS_ACCESS_KEY_ID=<redacted:aws_access_key_id>"));
    assert_eq!(
        studio.scripts[0]
            .secrets
            .iter()
            .map(|m| (m.line, m.kind.as_str()))
            .collect::<Vec<_>>(),
        [(3, "aws_access_key_id")]
    );
    // No trace of the key anywhere in what a scan keeps.
    assert!(!serde_json::to_string(&s).unwrap().contains(LEAKED_KEY_ID));
    let nb_setup = configs["nb-setup"];
    assert_eq!(nb_setup.scripts[0].hook, "on_start");
    assert!(nb_setup.scripts[0].secrets.is_empty());
    assert_eq!(roles["rstudio"].state, RoleState::CrossAccount);
    assert!(roles["rstudio"].arn.contains(OTHER_ACCOUNT));
    let full = roles["sm-full-access"];
    assert_eq!(full.state, RoleState::Found);
    let users: Vec<(BindingKind, Option<&str>, bool)> = full
        .bindings
        .iter()
        .map(|b| (b.kind, b.user_profile_name.as_deref(), b.inherited))
        .collect();
    assert_eq!(
        users,
        [
            (BindingKind::DomainDefault, None, false),
            (BindingKind::UserProfile, Some("alice"), true),
            (BindingKind::UserProfile, Some("bob"), true)
        ]
    );
    let full_role = full.role.as_ref().expect("role details");
    assert_eq!(full_role.path, "/service-role/");
    assert_eq!(
        full_role
            .attached_policies
            .iter()
            .map(|p| p.arn.as_str())
            .collect::<Vec<_>>(),
        [FULL_ACCESS]
    );
    assert_eq!(
        full_role.assume_role_policy["Statement"][0]["Principal"]["Service"],
        "sagemaker.amazonaws.com"
    );
    assert_eq!(
        roles["sm-admin"]
            .role
            .as_ref()
            .map(|r| r.attached_policies[0].arn.as_str()),
        Some(ADMIN)
    );
    let pass = roles["sm-passrole"].role.as_ref().expect("passrole");
    assert_eq!(
        pass.inline_policies[0].document["Statement"][0]["Action"],
        "iam:PassRole"
    );
    assert_eq!(
        roles["sm-passrole"].bindings[0].kind,
        BindingKind::SpaceDefault
    );
    assert_eq!(
        roles["sm-s3-wildcard"].bindings[0].kind,
        BindingKind::RStudioDomain
    );
    assert_eq!(
        roles["sm-trust-anyone"]
            .role
            .as_ref()
            .map(|r| r.assume_role_policy["Statement"][0]["Principal"]["AWS"].clone()),
        Some("*".into())
    );
    assert_eq!(
        roles["sm-scoped"]
            .bindings
            .iter()
            .map(|b| (b.kind, b.domain_id.as_deref()))
            .collect::<Vec<_>>(),
        [
            (BindingKind::NotebookInstance, None),
            (
                BindingKind::DomainDefault,
                Some(seeded.private_domain.as_str())
            )
        ],
        "the deleted domain's binding is gone; the private domain's and nb-locked's remain"
    );

    // Managed policy documents: AWS managed ones once, the customer one from the listing.
    let mut wanted = vec![
        ADMIN,
        FULL_ACCESS,
        seeded.scoped_policy.as_str(),
        seeded.boundary_policy.as_str(),
    ];
    wanted.sort_unstable();
    assert_eq!(
        s.managed_policies
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        wanted
    );
    let fa = &s.managed_policies[FULL_ACCESS];
    assert!(fa.aws_managed);
    assert!(
        fa.document["Statement"]
            .as_array()
            .is_some_and(|a| a.len() > 3),
        "the real AmazonSageMakerFullAccess document"
    );
    let scoped = &s.managed_policies[&seeded.scoped_policy];
    assert!(!scoped.aws_managed);
    assert_eq!(
        scoped.document["Statement"][1]["Condition"]["StringEquals"]["iam:PassedToService"],
        "sagemaker.amazonaws.com"
    );

    // Calls: exactly the minimum this inventory needs, and nothing undeclared.
    let expected: BTreeMap<String, u64> = [
        ("sts:GetCallerIdentity", 1),
        ("sagemaker:ListDomains", 1),
        ("sagemaker:DescribeDomain", 4),
        ("sagemaker:ListUserProfiles", 1),
        ("sagemaker:DescribeUserProfile", 5),
        ("sagemaker:ListSpaces", 1),
        // Every space: RemoteAccess and custom file systems are only there.
        ("sagemaker:DescribeSpace", 2),
        ("sagemaker:ListApps", 1),
        // The failed app alone (v1 also described the three billed InService apps, for an
        // activity timestamp that only follows health checks).
        ("sagemaker:DescribeApp", 1),
        ("sagemaker:ListNotebookInstances", 1),
        ("sagemaker:DescribeNotebookInstance", 2),
        ("sagemaker:ListStudioLifecycleConfigs", 1),
        ("sagemaker:DescribeStudioLifecycleConfig", 1),
        ("sagemaker:ListNotebookInstanceLifecycleConfigs", 1),
        ("sagemaker:DescribeNotebookInstanceLifecycleConfig", 1),
        ("ec2:DescribeSubnets", 1),
        ("ec2:DescribeRouteTables", 1),
        ("ec2:DescribeVpcEndpoints", 1),
        // The domains' and endpoints' groups in one call, the NFS groups by name in another.
        ("ec2:DescribeSecurityGroups", 2),
        ("efs:DescribeFileSystems", 1),
        // The home EFS of the four domains and of the deleted one: their mount target ids
        // are in the snapshot for the teardown plan.
        ("efs:DescribeMountTargets", 5),
        ("iam:GetAccountAuthorizationDetails", 1),
        // AdministratorAccess, AmazonSageMakerFullAccess; the boundary is a customer policy,
        // already in the authorization details.
        ("iam:GetPolicy", 2),
        ("iam:GetPolicyVersion", 2),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(calls(&s), expected);
    let declared = permissions::required_actions();
    for c in &s.api_calls {
        let action = permissions::action_of(&c.service, &c.operation);
        assert!(
            declared.contains(action.as_str()),
            "{action} is called but not declared"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regions_are_scanned_together_and_global_services_once() {
    let account = util::account("000000000008").await;
    let mut domains = Vec::new();
    for region in [REGION, "eu-west-1"] {
        let regional = account.in_region(region);
        let f = crate::fixtures::Fixture::new(&regional);
        let (vpc, subnets) = f.default_vpc().await;
        domains.push(
            f.domain(crate::fixtures::DomainSpec {
                name: "same-name-in-each-region",
                vpc_id: &vpc,
                subnet_ids: subnets,
                default_role: Some(f.role_arn("service-role/shared")),
                ..Default::default()
            })
            .await,
        );
    }
    crate::fixtures::Fixture::new(&account)
        .role("shared", crate::fixtures::sagemaker_trust(), &[], &[])
        .await;

    let clients = AwsClients::new(account.sdk.clone());
    let s = util::scan(&clients, &[REGION, "eu-west-1"]).await;
    assert_eq!(s.collection_errors, vec![]);
    let regions = &s.accounts[0].regions;
    assert_eq!(
        regions
            .iter()
            .map(|r| r.region.as_str())
            .collect::<Vec<_>>(),
        [REGION, "eu-west-1"]
    );
    for (region, domain) in regions.iter().zip(&domains) {
        assert_eq!(region.domains.len(), 1);
        assert_eq!(&region.domains[0].domain_id, domain);
        assert!(
            region.domains[0]
                .arn
                .contains(&format!(":{}:", region.region))
        );
        assert_eq!(region.efs_file_systems.len(), 1, "each region's own EFS");
    }
    let role = &s.accounts[0].execution_roles;
    assert_eq!(role.len(), 1);
    assert_eq!(role[0].state, RoleState::Found);
    let bound_regions: Vec<&str> = role[0].bindings.iter().map(|b| b.region.as_str()).collect();
    assert_eq!(
        bound_regions,
        ["eu-west-1", REGION],
        "one binding per region's domain"
    );
    let c = calls(&s);
    assert_eq!(c["sagemaker:ListDomains"], 2, "once per region");
    assert_eq!(c["efs:DescribeFileSystems"], 2);
    assert_eq!(c["sts:GetCallerIdentity"], 1, "once per account");
    assert_eq!(
        c["iam:GetAccountAuthorizationDetails"], 1,
        "IAM is global: once per account"
    );
}
