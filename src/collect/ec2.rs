//! EC2: the network plumbing of the VPCs that domains use, and SageMaker's NFS groups.
//!
//! Calls per region, each filtered server-side: `DescribeSubnets`, `DescribeRouteTables` and
//! `DescribeVpcEndpoints` on the domains' VPC ids (skipped when no domain has a VPC),
//! `DescribeSecurityGroups` on the group ids that domains, profiles and the VPC endpoints
//! reference (after `DescribeVpcEndpoints`, which names the endpoints' groups), and
//! `DescribeSecurityGroups` on the two NFS name patterns (always: orphans outlive domains).
//! Internet gateways need no call of their own: a route's target id (`igw-…`) and state say
//! whether it leads to an attached internet gateway.

use std::collections::BTreeSet;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{self as ec2, Filter};

use super::{Ctx, opt, tags_map};
use crate::snapshot::{
    Domain, Network, Route, RouteTable, SecurityGroup, SecurityGroupRule, Subnet, VpcEndpoint,
};

const SERVICE: &str = "ec2";
/// The EC2 actions this collector calls.
pub(crate) const ACTIONS: &[&str] = &[
    "ec2:DescribeSubnets",
    "ec2:DescribeRouteTables",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeSecurityGroups",
];
/// Names SageMaker gives the NFS groups it creates for a domain's home EFS.
pub const NFS_GROUP_PATTERNS: [&str; 2] = [
    "security-group-for-inbound-nfs-*",
    "security-group-for-outbound-nfs-*",
];

pub(super) fn filter(name: &str, values: impl IntoIterator<Item = String>) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.into_iter().collect()))
        .build()
}

/// Every security group id a domain's apps can run with.
pub(crate) fn referenced_security_groups(domains: &[Domain]) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for d in domains {
        ids.extend(d.security_group_id_for_domain_boundary.iter().cloned());
        ids.extend(d.domain_security_group_ids.iter().cloned());
        if let Some(s) = &d.default_user_settings {
            ids.extend(s.security_groups.iter().cloned());
        }
        if let Some(s) = &d.default_space_settings {
            ids.extend(s.security_groups.iter().cloned());
        }
        for p in &d.user_profiles {
            if let Some(s) = &p.user_settings {
                ids.extend(s.security_groups.iter().cloned());
            }
        }
    }
    ids.retain(|id| !id.is_empty());
    ids
}

pub(super) async fn collect_network(
    ctx: &Ctx,
    client: &Client,
    region: &str,
    domains: &[Domain],
) -> Network {
    let vpc_ids: BTreeSet<String> = domains.iter().filter_map(|d| d.vpc_id.clone()).collect();
    let group_ids = referenced_security_groups(domains);
    let has_vpcs = !vpc_ids.is_empty();

    let (subnets, route_tables, (vpc_endpoints, referenced), nfs) = tokio::join!(
        async {
            if has_vpcs {
                subnets(ctx, client, region, &vpc_ids).await
            } else {
                Vec::new()
            }
        },
        async {
            if has_vpcs {
                route_tables(ctx, client, region, &vpc_ids).await
            } else {
                Vec::new()
            }
        },
        // The endpoints' groups decide whether they admit 443: read in the same call as the
        // domains' groups, once the endpoints are known.
        async {
            let endpoints = if has_vpcs {
                vpc_endpoints(ctx, client, region, &vpc_ids).await
            } else {
                Vec::new()
            };
            let mut ids = group_ids.clone();
            ids.extend(
                endpoints
                    .iter()
                    .flat_map(|e| e.security_group_ids.iter().cloned()),
            );
            let groups = if ids.is_empty() {
                Vec::new()
            } else {
                security_groups(ctx, client, region, filter("group-id", ids)).await
            };
            (endpoints, groups)
        },
        security_groups(
            ctx,
            client,
            region,
            filter("group-name", NFS_GROUP_PATTERNS.map(String::from)),
        ),
    );

    let mut security_groups = referenced;
    for group in nfs {
        if !security_groups.iter().any(|g| g.group_id == group.group_id) {
            security_groups.push(group);
        }
    }
    security_groups.sort_by(|a, b| a.group_id.cmp(&b.group_id));
    Network {
        subnets,
        route_tables,
        vpc_endpoints,
        security_groups,
    }
}

async fn subnets(
    ctx: &Ctx,
    client: &Client,
    region: &str,
    vpc_ids: &BTreeSet<String>,
) -> Vec<Subnet> {
    let listed = ctx
        .call(
            client
                .describe_subnets()
                .filters(filter("vpc-id", vpc_ids.iter().cloned()))
                .max_results(1000)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>(),
        )
        .await;
    let mut out: Vec<Subnet> = match listed {
        Ok(subnets) => subnets
            .iter()
            .filter_map(|s| {
                Some(Subnet {
                    subnet_id: s.subnet_id()?.to_string(),
                    vpc_id: s.vpc_id()?.to_string(),
                    cidr_block: opt(s.cidr_block()),
                    availability_zone: opt(s.availability_zone()),
                    map_public_ip_on_launch: s.map_public_ip_on_launch().unwrap_or(false),
                })
            })
            .collect(),
        Err(err) => {
            ctx.record(region, SERVICE, "DescribeSubnets", None, &err);
            Vec::new()
        }
    };
    out.sort_by(|a, b| a.subnet_id.cmp(&b.subnet_id));
    out
}

fn route(r: &ec2::Route) -> Route {
    Route {
        destination_cidr_block: opt(r.destination_cidr_block()),
        destination_ipv6_cidr_block: opt(r.destination_ipv6_cidr_block()),
        destination_prefix_list_id: opt(r.destination_prefix_list_id()),
        gateway_id: opt(r.gateway_id()),
        nat_gateway_id: opt(r.nat_gateway_id()),
        egress_only_internet_gateway_id: opt(r.egress_only_internet_gateway_id()),
        transit_gateway_id: opt(r.transit_gateway_id()),
        vpc_peering_connection_id: opt(r.vpc_peering_connection_id()),
        network_interface_id: opt(r.network_interface_id()),
        state: r.state().map(|s| s.as_str().to_ascii_lowercase()),
    }
}

async fn route_tables(
    ctx: &Ctx,
    client: &Client,
    region: &str,
    vpc_ids: &BTreeSet<String>,
) -> Vec<RouteTable> {
    let listed = ctx
        .call(
            client
                .describe_route_tables()
                .filters(filter("vpc-id", vpc_ids.iter().cloned()))
                .max_results(100)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>(),
        )
        .await;
    let mut out: Vec<RouteTable> = match listed {
        Ok(tables) => tables
            .iter()
            .filter_map(|t| {
                let associations = t.associations();
                Some(RouteTable {
                    route_table_id: t.route_table_id()?.to_string(),
                    vpc_id: t.vpc_id()?.to_string(),
                    main: associations.iter().any(|a| a.main().unwrap_or(false)),
                    subnet_ids: associations
                        .iter()
                        .filter_map(|a| opt(a.subnet_id()))
                        .collect(),
                    routes: t.routes().iter().map(route).collect(),
                })
            })
            .collect(),
        Err(err) => {
            ctx.record(region, SERVICE, "DescribeRouteTables", None, &err);
            Vec::new()
        }
    };
    out.sort_by(|a, b| a.route_table_id.cmp(&b.route_table_id));
    out
}

async fn vpc_endpoints(
    ctx: &Ctx,
    client: &Client,
    region: &str,
    vpc_ids: &BTreeSet<String>,
) -> Vec<VpcEndpoint> {
    let listed = ctx
        .call(
            client
                .describe_vpc_endpoints()
                .filters(filter("vpc-id", vpc_ids.iter().cloned()))
                .max_results(1000)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>(),
        )
        .await;
    let mut out: Vec<VpcEndpoint> = match listed {
        Ok(endpoints) => endpoints
            .iter()
            .filter_map(|e| {
                Some(VpcEndpoint {
                    vpc_endpoint_id: e.vpc_endpoint_id()?.to_string(),
                    vpc_id: e.vpc_id()?.to_string(),
                    service_name: e.service_name()?.to_string(),
                    endpoint_type: e.vpc_endpoint_type().map(|t| t.as_str().to_string()),
                    // The API answers `available`; the SDK enum models `Available`.
                    state: e.state().map(|s| s.as_str().to_ascii_lowercase()),
                    private_dns_enabled: e.private_dns_enabled().unwrap_or(false),
                    subnet_ids: e.subnet_ids().to_vec(),
                    route_table_ids: e.route_table_ids().to_vec(),
                    security_group_ids: e
                        .groups()
                        .iter()
                        .filter_map(|g| opt(g.group_id()))
                        .collect(),
                })
            })
            .collect(),
        Err(err) => {
            ctx.record(region, SERVICE, "DescribeVpcEndpoints", None, &err);
            Vec::new()
        }
    };
    out.sort_by(|a, b| a.vpc_endpoint_id.cmp(&b.vpc_endpoint_id));
    out
}

fn rule(p: &ec2::IpPermission) -> SecurityGroupRule {
    SecurityGroupRule {
        ip_protocol: p.ip_protocol().unwrap_or("-1").to_string(),
        from_port: p.from_port(),
        to_port: p.to_port(),
        ipv4_ranges: p
            .ip_ranges()
            .iter()
            .filter_map(|r| opt(r.cidr_ip()))
            .collect(),
        ipv6_ranges: p
            .ipv6_ranges()
            .iter()
            .filter_map(|r| opt(r.cidr_ipv6()))
            .collect(),
        referenced_group_ids: p
            .user_id_group_pairs()
            .iter()
            .filter_map(|g| opt(g.group_id()))
            .collect(),
        prefix_list_ids: p
            .prefix_list_ids()
            .iter()
            .filter_map(|g| opt(g.prefix_list_id()))
            .collect(),
    }
}

pub(super) async fn security_groups(
    ctx: &Ctx,
    client: &Client,
    region: &str,
    filter: Filter,
) -> Vec<SecurityGroup> {
    let listed = ctx
        .call(
            client
                .describe_security_groups()
                .filters(filter)
                .max_results(1000)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>(),
        )
        .await;
    match listed {
        Ok(groups) => groups
            .iter()
            .filter_map(|g| {
                let group_id = g.group_id()?.to_string();
                Some(SecurityGroup {
                    arn: opt(g.security_group_arn()).unwrap_or_else(|| {
                        crate::vocab::Arn::build(
                            &ctx.partition,
                            "ec2",
                            region,
                            &ctx.account_id,
                            &format!("security-group/{group_id}"),
                        )
                    }),
                    group_name: g.group_name().unwrap_or_default().to_string(),
                    vpc_id: opt(g.vpc_id()),
                    description: opt(g.description()),
                    ingress: g.ip_permissions().iter().map(rule).collect(),
                    egress: g.ip_permissions_egress().iter().map(rule).collect(),
                    tags: tags_map(
                        g.tags()
                            .iter()
                            .filter_map(|t| Some((t.key()?, t.value().unwrap_or_default()))),
                    ),
                    domain_id: None,
                    group_id,
                })
            })
            .collect(),
        Err(err) => {
            ctx.record(region, SERVICE, "DescribeSecurityGroups", None, &err);
            Vec::new()
        }
    }
}
