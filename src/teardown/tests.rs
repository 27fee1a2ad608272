//! The plan's order and commands, from hand-made snapshots.

use super::*;
use crate::snapshot::{
    AccountSnapshot, CollectionError, ErrorKind, RegionSnapshot, Space, UserProfile,
};

const IN: &str = "sg-0inbound";
const OUT: &str = "sg-0outbound";

fn nfs_rule(group: &str) -> SecurityGroupRule {
    SecurityGroupRule {
        ip_protocol: "tcp".into(),
        from_port: Some(2049),
        to_port: Some(2049),
        ipv4_ranges: vec![],
        ipv6_ranges: vec![],
        referenced_group_ids: vec![group.into()],
        prefix_list_ids: vec![],
    }
}

fn group(
    id: &str,
    name: &str,
    ingress: Vec<SecurityGroupRule>,
    egress: Vec<SecurityGroupRule>,
) -> SecurityGroup {
    SecurityGroup {
        group_id: id.into(),
        group_name: name.into(),
        vpc_id: Some("vpc-1".into()),
        arn: format!("arn:aws:ec2:us-east-1:123456789012:security-group/{id}"),
        ingress,
        egress,
        ..Default::default()
    }
}

fn groups() -> Vec<SecurityGroup> {
    vec![
        // The domain's app group is not one of its NFS groups: never deleted.
        group("sg-0app", "studio-apps", vec![], vec![]),
        group(
            OUT,
            "security-group-for-outbound-nfs-d-1",
            vec![],
            vec![nfs_rule(IN)],
        ),
        group(
            IN,
            "security-group-for-inbound-nfs-d-1",
            vec![nfs_rule(OUT)],
            vec![],
        ),
        // Another domain's pair stays.
        group(
            "sg-0other",
            "security-group-for-inbound-nfs-d-2",
            vec![],
            vec![],
        ),
    ]
}

fn app(owner_kind: &str, owner: &str, app_type: &str, name: &str, status: &str) -> App {
    App {
        name: name.into(),
        app_type: app_type.into(),
        domain_id: "d-1".into(),
        user_profile_name: (owner_kind == "user_profile").then(|| owner.into()),
        space_name: (owner_kind == "space").then(|| owner.into()),
        status: status.into(),
        ..Default::default()
    }
}

fn profile(name: &str) -> UserProfile {
    UserProfile {
        name: name.into(),
        domain_id: "d-1".into(),
        status: "InService".into(),
        ..Default::default()
    }
}

fn file_system(id: &str, tag: &str) -> EfsFileSystem {
    EfsFileSystem {
        file_system_id: id.into(),
        arn: format!("arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/{id}"),
        size_in_bytes: 6144,
        life_cycle_state: "available".into(),
        number_of_mount_targets: 2,
        tags: [(
            crate::snapshot::ownership::EFS_DOMAIN_TAG.to_string(),
            tag.to_string(),
        )]
        .into(),
        mount_target_ids: vec!["fsmt-a".into(), "fsmt-b".into()],
        ..Default::default()
    }
}

/// Account 123456789012 in us-east-1 with domain d-1 (apps, a space, two profiles, its home
/// EFS and NFS pair), another domain's EFS and group beside it; owners assigned as at
/// collection.
fn live() -> Snapshot {
    let domain = Domain {
        domain_id: "d-1".into(),
        arn: "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1".into(),
        name: "research".into(),
        status: "InService".into(),
        home_efs_file_system_id: Some("fs-1".into()),
        apps: vec![
            app(
                "user_profile",
                "alice",
                "JupyterServer",
                "default",
                "InService",
            ),
            app("user_profile", "alice", "KernelGateway", "broken", "Failed"),
            app("space", "team", "JupyterLab", "default", "InService"),
            app("user_profile", "bob", "JupyterServer", "default", "Deleted"),
        ],
        spaces: vec![Space {
            name: "team".into(),
            domain_id: "d-1".into(),
            status: "InService".into(),
            ..Default::default()
        }],
        user_profiles: vec![profile("bob"), profile("alice")],
        ..Default::default()
    };
    let mut region = RegionSnapshot {
        region: "us-east-1".into(),
        domains: vec![domain],
        efs_file_systems: vec![
            file_system(
                "fs-1",
                "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1",
            ),
            file_system(
                "fs-2",
                "arn:aws:sagemaker:us-east-1:123456789012:domain/d-2",
            ),
        ],
        ..Default::default()
    };
    region.network.security_groups = groups();
    crate::snapshot::ownership::assign(&mut region);
    Snapshot {
        accounts: vec![AccountSnapshot {
            account_id: "123456789012".into(),
            partition: "aws".into(),
            regions: vec![region],
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn region(s: &mut Snapshot) -> &mut RegionSnapshot {
    &mut s.accounts[0].regions[0]
}

fn position(plan: &Plan, needle: &str) -> usize {
    plan.steps
        .iter()
        .position(|s| {
            s.command_line()
                .replace(" --region us-east-1", "")
                .contains(needle)
        })
        .unwrap_or_else(|| panic!("no step runs {needle:?}:\n{}", plan.to_text()))
}

#[test]
fn a_live_domain_is_taken_down_in_dependency_order() {
    let plan = plan(&live(), "d-1", None, None).unwrap();
    let order = [
        "delete-app --domain-id d-1 --user-profile-name alice --app-type JupyterServer --app-name default",
        "delete-app --domain-id d-1 --space-name team --app-type JupyterLab",
        "list-apps",
        "delete-space --domain-id d-1 --space-name team",
        "delete-user-profile --domain-id d-1 --user-profile-name alice",
        "delete-user-profile --domain-id d-1 --user-profile-name bob",
        "list-spaces",
        "list-user-profiles",
        "delete-domain --domain-id d-1 --retention-policy HomeEfsFileSystem=Retain",
        "describe-domain",
        "delete-mount-target --mount-target-id fsmt-a",
        "delete-mount-target --mount-target-id fsmt-b",
        "describe-mount-targets",
        "delete-file-system --file-system-id fs-1",
        &format!("revoke-security-group-ingress --group-id {IN}"),
        &format!("revoke-security-group-egress --group-id {OUT}"),
        &format!("delete-security-group --group-id {IN}"),
        &format!("delete-security-group --group-id {OUT}"),
    ];
    let positions: Vec<usize> = order.iter().map(|n| position(&plan, n)).collect();
    assert_eq!(
        positions,
        (0..order.len()).collect::<Vec<_>>(),
        "{}",
        plan.to_text()
    );
    // Every step is a real command in the domain's region, numbered from 1.
    for (i, s) in plan.steps.iter().enumerate() {
        assert_eq!(s.number, i + 1);
        assert_eq!(&s.command[..2], ["aws", s.command[1].as_str()]);
        assert_eq!(
            &s.command[2..5],
            [s.command[2].as_str(), "--region", "us-east-1"]
        );
    }
    // The failed app is a blocker, not a step; the deleted one is neither.
    assert_eq!(plan.blockers.len(), 1);
    assert!(plan.blockers[0].resource.contains("broken"));
    assert!(!plan.to_text().contains("--app-name broken"));
    assert_eq!(
        plan.steps
            .iter()
            .filter(|s| s.command_line().contains("delete-app"))
            .count(),
        2
    );
    // The revoke names exactly the other group's rule, quoted for the shell.
    let revoke = &plan.steps[position(&plan, "revoke-security-group-ingress")];
    assert!(
        revoke.command_line().ends_with(&format!(
            r#"--ip-permissions '[{{"IpProtocol":"tcp","FromPort":2049,"ToPort":2049,"UserIdGroupPairs":[{{"GroupId":"{OUT}"}}]}}]'"#
        )),
        "{}",
        revoke.command_line()
    );
}

#[test]
fn an_already_deleted_domain_gets_its_leftovers_cleaned() {
    let mut r = live();
    region(&mut r).domains.clear();
    let plan = plan(&r, "d-1", None, None).unwrap();
    assert!(plan.steps.iter().all(|s| s.command[1] != "sagemaker"));
    assert_eq!(position(&plan, "delete-mount-target"), 0);
    assert!(position(&plan, "delete-file-system") < position(&plan, "revoke-security-group"));
    assert_eq!(plan.steps.len(), 8);
    assert!(plan.to_text().contains("no longer exists"));
    let json: serde_json::Value = serde_json::from_str(&plan.to_json()).unwrap();
    assert!(json["domain"].is_null());
    assert_eq!(json["steps"][0]["kind"], "delete");

    region(&mut r).efs_file_systems.clear();
    region(&mut r).network.security_groups.clear();
    let nothing = super::plan(&r, "d-1", None, None).unwrap();
    assert!(nothing.steps.is_empty());
    assert!(nothing.to_text().starts_with("Nothing is left"));
}

#[test]
fn custom_file_systems_of_spaces_are_listed_as_left_in_place() {
    let mut s = live();
    let team = &mut region(&mut s).domains[0].spaces[0];
    team.custom_file_systems = vec![
        crate::snapshot::CustomFileSystem {
            kind: "efs".into(),
            id: "fs-shared".into(),
        },
        crate::snapshot::CustomFileSystem {
            kind: "s3".into(),
            id: "s3://team-data/".into(),
        },
    ];
    let plan = plan(&s, "d-1", None, None).unwrap();
    assert_eq!(
        plan.left_in_place
            .iter()
            .map(|l| (l.kind.as_str(), l.id.as_str(), l.spaces.clone()))
            .collect::<Vec<_>>(),
        [
            ("efs", "fs-shared", vec!["team".to_string()]),
            ("s3", "s3://team-data/", vec!["team".to_string()])
        ]
    );
    let text = plan.to_text();
    assert!(text.contains("Left in place"), "{text}");
    assert!(
        text.contains("efs fs-shared (mounted by space(s) team)"),
        "{text}"
    );
    // Nothing deletes them.
    assert!(
        !text.contains("delete-file-system --file-system-id fs-shared"),
        "{text}"
    );
    assert!(live_plan_has_nothing_left_in_place());
}

fn live_plan_has_nothing_left_in_place() -> bool {
    plan(&live(), "d-1", None, None)
        .unwrap()
        .left_in_place
        .is_empty()
}

#[test]
fn arguments_are_quoted_for_the_shell() {
    assert_eq!(shell_quote("d-1"), "d-1");
    assert_eq!(shell_quote("a b"), "'a b'");
    assert_eq!(shell_quote("it's"), r"'it'\''s'");
    assert_eq!(shell_quote(""), "''");
}

/// A call of the plan's services that failed in the domain's region: no plan (exit 1), since
/// half a picture could leave things behind; a failure elsewhere or of IAM does not matter.
#[test]
fn a_plan_from_an_incomplete_scope_is_refused() {
    let mut s = live();
    let error = |service: &str, region: &str| CollectionError {
        account_id: "123456789012".into(),
        region: region.into(),
        service: service.into(),
        operation: "List".into(),
        error: ErrorKind::AccessDenied,
        error_code: None,
        message: "denied".into(),
        resource: None,
    };
    s.collection_errors = vec![error("iam", "global"), error("efs", "eu-west-1")];
    assert!(plan(&s, "d-1", None, None).is_ok());
    s.collection_errors.push(error("ec2", "us-east-1"));
    let refused = plan(&s, "d-1", None, None).unwrap_err();
    assert!(matches!(refused, PlanError::Incomplete { .. }), "{refused}");
    assert!(refused.to_string().contains("ec2"), "{refused}");
}

/// Where the snapshot does not say where to look, the plan asks instead of guessing.
#[test]
fn a_domain_found_nowhere_in_a_many_region_snapshot_needs_its_region() {
    let mut s = live();
    let mut other = s.accounts[0].regions[0].clone();
    other.region = "eu-west-1".into();
    other.domains.clear();
    other.efs_file_systems.clear();
    other.network.security_groups.clear();
    s.accounts[0].regions.push(other);
    assert!(matches!(
        plan(&s, "d-9", None, None),
        Err(PlanError::Ambiguous(_))
    ));
    let nothing = plan(&s, "d-9", Some("eu-west-1"), None).unwrap();
    assert!(nothing.steps.is_empty());
    assert_eq!(nothing.region, "eu-west-1");
    assert_eq!(plan(&s, "d-1", None, None).unwrap().region, "us-east-1");
    assert!(matches!(
        plan(&s, "d-1", Some("ap-south-1"), None),
        Err(PlanError::Ambiguous(_))
    ));
}

/// The bundled example snapshot (the emulated reference account): a live domain's plan from
/// the file alone, and a deleted domain's leftovers.
#[test]
fn plans_from_the_example_snapshot() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/snapshot.json");
    let s = Snapshot::load(&path).unwrap();
    let region = &s.accounts[0].regions[0];
    let domain = region
        .domains
        .iter()
        .find(|d| !d.apps.is_empty())
        .expect("a domain with apps");
    let p = plan(&s, &domain.domain_id, None, None).unwrap();
    assert_eq!(p.domain.as_ref().unwrap().name, domain.name);
    assert!(p.steps.iter().any(|s| s.command[2] == "delete-domain"));
    let orphan = region
        .efs_file_systems
        .iter()
        .filter_map(|fs| fs.domain_id.as_deref())
        .find(|id| !region.domains.iter().any(|d| d.domain_id == *id))
        .expect("an orphaned home EFS");
    let leftovers = plan(&s, orphan, None, None).unwrap();
    assert!(leftovers.domain.is_none());
    assert!(
        leftovers
            .steps
            .iter()
            .any(|s| s.command[2] == "delete-file-system"),
        "{}",
        leftovers.to_text()
    );
}
