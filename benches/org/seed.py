"""Seeds the emulator with an organisation for scripts/bench-org: a scanner account and N
member accounts, each with the scanner role and, in each region, the seeded problems of a
typical account: a public domain with profiles, a space and apps (one failed, one idle), and
the home EFS and NFS groups of a deleted domain left behind.

Usage: python seed.py ENDPOINT_URL SCANNER_ACCOUNT N REGION [REGION...]
Prints the config.toml of the scan on stdout.
"""

import datetime
import json
import sys

import boto3

ROLE = "SageMakerAuditorReadOnly"


def client(url, service, region, account=None, key=("bench", "bench")):
    c = boto3.client(
        service,
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
    )
    if account:
        c.meta.events.register(
            "before-sign.*.*",
            lambda request, **kw: request.headers.__setitem__("x-moto-account-id", account),
        )
    return c


def seed_region(url, account, region, key):
    sm = client(url, "sagemaker", region, key=key)
    ec2 = client(url, "ec2", region, key=key)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]][:2]
    role = f"arn:aws:iam::{account}:role/service-role/execution"
    week_ago = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=7)).isoformat()

    domain = sm.create_domain(
        DomainName="research", AuthMode="IAM", VpcId=vpc, SubnetIds=subnets,
        DefaultUserSettings={"ExecutionRole": role},
    )["DomainArn"].rsplit("/", 1)[1]
    for user in ("alice", "bob", "carol"):
        sm.create_user_profile(DomainId=domain, UserProfileName=user)
        sm.create_app(DomainId=domain, UserProfileName=user, AppType="JupyterServer", AppName="default",
                      ResourceSpec={"InstanceType": "system"})
    sm.create_app(DomainId=domain, UserProfileName="alice", AppType="KernelGateway", AppName="gpu",
                  ResourceSpec={"InstanceType": "ml.g5.xlarge"},
                  Tags=[{"Key": "emulator:last-user-activity", "Value": week_ago}])
    sm.create_app(DomainId=domain, UserProfileName="bob", AppType="KernelGateway", AppName="broken",
                  ResourceSpec={"InstanceType": "ml.t3.medium"},
                  Tags=[{"Key": "emulator:status", "Value": "Failed"}])
    sm.create_space(DomainId=domain, SpaceName="team",
                    OwnershipSettings={"OwnerUserProfileName": "alice"},
                    SpaceSharingSettings={"SharingType": "Shared"},
                    SpaceSettings={"AppType": "JupyterLab"})

    # A domain deleted the usual way: its home EFS and NFS groups stay behind.
    old = sm.create_domain(
        DomainName="old", AuthMode="IAM", VpcId=vpc, SubnetIds=subnets,
        DefaultUserSettings={"ExecutionRole": role},
        Tags=[{"Key": "emulator:home-efs-size-bytes", "Value": str(5 * 1024**3)}],
    )["DomainArn"].rsplit("/", 1)[1]
    sm.delete_domain(DomainId=old)


def main():
    url, scanner, n, regions = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{scanner}:root"}, "Action": "sts:AssumeRole"}]})
    sagemaker_trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    members = []
    for i in range(n):
        account = f"{700000000000 + i:012d}"
        iam = client(url, "iam", regions[0], account)
        iam.create_user(UserName="seeder")
        k = iam.create_access_key(UserName="seeder")["AccessKey"]
        key = (k["AccessKeyId"], k["SecretAccessKey"])
        iam = client(url, "iam", regions[0], key=key)
        iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=trust)
        iam.create_role(RoleName="execution", Path="/service-role/", AssumeRolePolicyDocument=sagemaker_trust)
        iam.put_role_policy(RoleName="execution", PolicyName="s3", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        for region in regions:
            seed_region(url, account, region, key)
        members.append(account)
    print(f"regions = {json.dumps(regions)}")
    print("concurrency = 32\naccount_concurrency = 8\nmax_attempts = 3")
    print("[cloudtrail]\nenabled = true")
    for account in members:
        print(f'[[accounts]]\nid = "{account}"\nrole_name = "{ROLE}"')


if __name__ == "__main__":
    main()
