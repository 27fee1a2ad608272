//! The plan's order and commands, from hand-made remains.

use super::*;
use crate::collect::teardown::{AppRemains, FileSystemRemains, LiveDomain, NamedRemains};

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

fn groups() -> Vec<GroupRemains> {
    vec![
        GroupRemains {
            group_id: IN.into(),
            group_name: "security-group-for-inbound-nfs-d-1".into(),
            vpc_id: Some("vpc-1".into()),
            ingress: vec![nfs_rule(OUT)],
            egress: vec![],
        },
        GroupRemains {
            group_id: OUT.into(),
            group_name: "security-group-for-outbound-nfs-d-1".into(),
            vpc_id: Some("vpc-1".into()),
            ingress: vec![],
            egress: vec![nfs_rule(IN)],
        },
    ]
}

fn app(
    owner_kind: &'static str,
    owner: &str,
    app_type: &str,
    name: &str,
    status: &str,
) -> AppRemains {
    AppRemains {
        app_type: app_type.into(),
        name: name.into(),
        owner_kind,
        owner: owner.into(),
        status: status.into(),
    }
}

fn named(name: &str) -> NamedRemains {
    NamedRemains {
        name: name.into(),
        status: "InService".into(),
    }
}

fn file_system() -> FileSystemRemains {
    FileSystemRemains {
        file_system_id: "fs-1".into(),
        arn: "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1".into(),
        size_in_bytes: 6144,
        life_cycle_state: "available".into(),
        mount_target_ids: vec!["fsmt-a".into(), "fsmt-b".into()],
    }
}

fn live() -> DomainRemains {
    DomainRemains {
        account_id: "123456789012".into(),
        partition: "aws".into(),
        region: "us-east-1".into(),
        domain_id: "d-1".into(),
        domain: Some(LiveDomain {
            arn: "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1".into(),
            name: "research".into(),
            status: "InService".into(),
            home_efs_file_system_id: Some("fs-1".into()),
        }),
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
        spaces: vec![named("team")],
        user_profiles: vec![named("alice"), named("bob")],
        file_systems: vec![file_system()],
        security_groups: groups(),
        errors: vec![],
    }
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
    let plan = plan(&live());
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
    r.domain = None;
    r.apps.clear();
    r.spaces.clear();
    r.user_profiles.clear();
    let plan = plan(&r);
    assert!(plan.steps.iter().all(|s| s.command[1] != "sagemaker"));
    assert_eq!(position(&plan, "delete-mount-target"), 0);
    assert!(position(&plan, "delete-file-system") < position(&plan, "revoke-security-group"));
    assert_eq!(plan.steps.len(), 8);
    assert!(plan.to_text().contains("no longer exists"));
    let json: serde_json::Value = serde_json::from_str(&plan.to_json()).unwrap();
    assert!(json["domain"].is_null());
    assert_eq!(json["steps"][0]["kind"], "delete");

    r.file_systems.clear();
    r.security_groups.clear();
    let nothing = super::plan(&r);
    assert!(nothing.steps.is_empty());
    assert!(nothing.to_text().starts_with("Nothing is left"));
}

#[test]
fn arguments_are_quoted_for_the_shell() {
    assert_eq!(shell_quote("d-1"), "d-1");
    assert_eq!(shell_quote("a b"), "'a b'");
    assert_eq!(shell_quote("it's"), r"'it'\''s'");
    assert_eq!(shell_quote(""), "''");
}
