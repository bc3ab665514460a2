/**
 * VPC endpoints (AWS PrivateLink) as far as a rescue VPC uses them: interface endpoints for the
 * Systems Manager services, created and deleted in modelled time, and the S3 gateway endpoint
 * with its policy; plus the two questions the rest of the account asks about a helper's network:
 * can it reach Systems Manager (`reachesSystemsManager`, the SSM Agent's registration in
 * ssm-commands.ts), and may it read an object of an S3 bucket (`s3GatewayAllows`, the
 * Distributor package AWS-ConfigureAWSPackage downloads).
 *
 * Documents quoted:
 * - [QUOTAS] AWS PrivateLink Guide, "AWS PrivateLink quotas" (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-limits-endpoints.html).
 * - [IFACE] AWS PrivateLink Guide, "Access an AWS service using an interface VPC endpoint"
 *   (https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html).
 * - [POLICY] AWS PrivateLink Guide, "Control access to VPC endpoints using endpoint policies"
 *   (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html).
 * - [SSMVPC] Systems Manager User Guide, "Improve the security of EC2 instances by using VPC endpoints for Systems
 *   Manager" (https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-create-vpc.html).
 * - [CVE], [DVE], [DLVE] EC2 API Reference, CreateVpcEndpoint, DescribeVpcEndpoints, DeleteVpcEndpoints
 *   (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpcEndpoint.html, ..._DescribeVpcEndpoints.html,
 *   ..._DeleteVpcEndpoints.html). [ERR] "Error codes for the Amazon EC2 API" (.../APIReference/errors-overview.html).
 */
import type { Operations, SimulatedAccount } from './account';
import { matchesFilter } from './ec2-filters';
import { requestedTags, tagList } from './ec2-tags';
import { ec2Error } from './errors';

export interface SimVpcEndpoint {
  readonly vpcEndpointId: string;
  readonly vpcId: string;
  readonly serviceName: string;
  readonly type: 'Interface' | 'Gateway';
  /** Lower case, as the API returns it: pending | available | deleting | deleted. */
  state: string;
  readonly privateDnsEnabled: boolean;
  readonly subnetIds: string[];
  readonly securityGroupIds: string[];
  readonly routeTableIds: string[];
  /** A gateway endpoint's policy (an IAM policy document), parsed. */
  readonly policy?: any;
  readonly tags: Record<string, string>;
  readonly createdAt: number;
  readonly clientToken?: string;
  readonly fingerprint?: string;
  /** When the endpoint was asked to be deleted (for the bench's ENI-hours and the invariants). */
  deleteRequestedAt?: number;
}

/**
 * A subnet of the account: its zone, its VPC, and whether it has a route out of the VPC (assumption, below:
 * the sim does not model route tables, only this answer of theirs).
 */
export interface SimSubnet {
  readonly availabilityZone: string;
  readonly vpcId?: string;
  /**
   * Whether the subnet's route table sends traffic anywhere outside the VPC (an internet or NAT
   * gateway, peering, a transit gateway). The rescue subnets have only the local route; a
   * subnet the account does not know is a workload subnet, assumed to reach AWS's public endpoints.
   */
  readonly routesOutOfVpc?: boolean;
}

/**
 * [QUOTAS] "Interface and Gateway Load Balancer endpoints per VPC: 50 (adjustable)". A test may lower it
 * (`account.interfaceEndpointQuota`).
 */
export const INTERFACE_ENDPOINTS_PER_VPC = 50;

/**
 * The services whose endpoints a helper's SSM Agent needs ([SSMVPC]: ssm, ssmmessages and ec2messages). assumption: all three, although agents from 3.3.40.0 no longer use ec2messages
 * (shared/reference/aws-reset-access-flow.md, "A helper with no internet"): the helper image's agent
 * version is not pinned, so the stricter rule.
 */
export const SSM_AGENT_SERVICES = ['ssm', 'ssmmessages', 'ec2messages'] as const;

/** [DVE] State values pending | available | deleting | deleted (among others); a `deleted` endpoint no longer exists or bills. */
const NOT_BILLING = ['deleted'];

function ec2ServiceName(account: SimulatedAccount, service: string): string {
  return `com.amazonaws.${account.region}.${service}`;
}

/** The endpoints of a VPC that still exist (not `deleted`). */
export function liveEndpointsOf(account: SimulatedAccount, vpcId: string): SimVpcEndpoint[] {
  return [...account.vpcEndpoints.values()].filter(e => e.vpcId === vpcId && !NOT_BILLING.includes(e.state));
}

/**
 * Whether an instance reaches the Systems Manager endpoints: through its subnet's route out of
 * the VPC, or through an available interface endpoint with private DNS for each of
 * {@link SSM_AGENT_SERVICES} in its VPC. [IFACE] "If you enable private DNS for the endpoint, you can make
 * requests to the service using its default DNS name" (DNS hostnames); without it (and with no route out)
 * the agent's requests to ssm.<region>.amazonaws.com go nowhere. assumption: an endpoint in
 * another Availability Zone of the VPC serves the instance (the private DNS name resolves to its
 * ENIs, and routing inside a VPC crosses zones).
 */
export function reachesSystemsManager(account: SimulatedAccount, subnetId: string): boolean {
  const subnet = account.subnets.get(subnetId);
  if (!subnet || subnet.routesOutOfVpc || !subnet.vpcId) return true;
  const endpoints = liveEndpointsOf(account, subnet.vpcId);
  return SSM_AGENT_SERVICES.every(service => endpoints.some(e =>
    e.type === 'Interface' && e.serviceName === ec2ServiceName(account, service) && e.state === 'available' && e.privateDnsEnabled));
}

/**
 * Whether an instance in `subnetId` may GetObject `s3://<bucket>/<key>` through its VPC: a subnet
 * with a route out of the VPC reaches S3 (assumption: workload subnets do); a rescue subnet only
 * through an available S3 gateway endpoint of its VPC whose policy allows the object. "The
 * endpoint policy ... controls access to the service from the VPC" and "the default policy allows
 * full access" ([POLICY]);
 * gateway endpoints serve buckets of their own Region only (shared/reference/aws-reset-access-flow.md).
 * The policy is evaluated for Allow statements with Principal `*`, the action and the object ARN
 * (wildcards `*` and `?`, as IAM matches them: IAM User Guide, "IAM JSON policy elements: Resource",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html, a `?` standing
 * for exactly one character); an explicit Deny wins (IAM's policy evaluation logic). assumption: Principal `*`
 * statements only, since the caller on the helper is its instance role and the workflow's policy names none.
 */
export function s3GatewayAllows(account: SimulatedAccount, subnetId: string, bucket: string, key: string): boolean {
  const subnet = account.subnets.get(subnetId);
  if (!subnet || subnet.routesOutOfVpc || !subnet.vpcId) return true;
  const gateway = liveEndpointsOf(account, subnet.vpcId)
    .find(e => e.type === 'Gateway' && e.serviceName === ec2ServiceName(account, 's3') && e.state === 'available');
  if (!gateway) return false;
  if (!gateway.policy) return true;
  const resource = `arn:aws:s3:::${bucket}/${key}`;
  const statements = ([] as any[]).concat(gateway.policy.Statement ?? []);
  const applies = (s: any) => {
    const principal = s.Principal === '*' || s.Principal?.AWS === '*' || (Array.isArray(s.Principal?.AWS) && s.Principal.AWS.includes('*'));
    const actions = ([] as string[]).concat(s.Action ?? []);
    const resources = ([] as string[]).concat(s.Resource ?? []);
    return principal && actions.some(a => glob(a.toLowerCase(), 's3:getobject')) && resources.some(r => glob(r, resource));
  };
  if (statements.some(s => s.Effect === 'Deny' && applies(s))) return false;
  return statements.some(s => s.Effect === 'Allow' && applies(s));
}

function glob(pattern: string, value: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return regex.test(value);
}

function endpointJson(e: SimVpcEndpoint) {
  return {
    VpcEndpointId: e.vpcEndpointId,
    VpcEndpointType: e.type,
    VpcId: e.vpcId,
    ServiceName: e.serviceName,
    State: e.state,
    PrivateDnsEnabled: e.privateDnsEnabled,
    SubnetIds: [...e.subnetIds],
    RouteTableIds: [...e.routeTableIds],
    Groups: e.securityGroupIds.map(GroupId => ({ GroupId })),
    ...(e.policy ? { PolicyDocument: JSON.stringify(e.policy) } : {}),
    Tags: tagList(e.tags),
    CreationTimestamp: new Date(e.createdAt),
  };
}

/** A page of DescribeVpcEndpoints. assumption: 25 endpoints a page ([DVE] gives MaxResults 5–1000 and no default). */
export const DESCRIBE_VPC_ENDPOINTS_PAGE_SIZE = 25;

export const EC2_VPC_ENDPOINT_OPERATIONS: Operations = {
  /**
   * [CVE]. Rules enforced:
   * - the VPC, its subnets and the security groups must exist (InvalidVpcId.NotFound,
   *   InvalidSubnetId.NotFound, InvalidGroup.NotFound: [ERR]);
   * - [QUOTAS] "Interface and Gateway Load Balancer endpoints per VPC: 50", beyond it
   *   VpcEndpointLimitExceeded, "You've reached the limit on the number of VPC endpoints that you can
   *   create" ([ERR]);
   * - one interface endpoint with private DNS per service per VPC: private DNS associates a private
   *   hosted zone for the service's default DNS name with the VPC (CreateVpcEndpoint,
   *   PrivateDnsEnabled), and a VPC cannot hold two for one name; EC2 answers InvalidParameter
   *   "private-dns-enabled cannot be set because there is already a conflicting DNS domain for
   *   <name> in the VPC <vpc>" (the error as CloudFormation and the SDKs report it). assumption: an
   *   endpoint that is `deleting` still holds the name until it is `deleted` (reported by users who
   *   recreate an endpoint right after deleting one);
   * - ClientToken: "Unique, case-sensitive identifier that you provide to ensure the idempotency of
   *   the request" ([CVE]); the same token with other parameters is IdempotentParameterMismatch (EC2
   *   Developer Guide, "Ensuring idempotency in Amazon EC2 API requests",
   *   https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html);
   * - a new interface endpoint is `pending`, then `available` after `vpcEndpointPendingToAvailable`
   *   (latencies.ts); tags from TagSpecifications (`vpc-endpoint`). [CVE] VpcEndpointType defaults to Gateway;
   *   the sim creates interface endpoints only (the gateway endpoint comes from the template) and refuses
   *   the rest rather than pretend. assumption: PrivateDnsEnabled defaults to true (the console's default for an
   *   AWS service; [CVE]'s text in the SDK names no default).
   */
  CreateVpcEndpoint(account, input) {
    const fingerprint = JSON.stringify({ ...input, ClientToken: undefined });
    if (input.ClientToken) {
      const earlier = [...account.vpcEndpoints.values()].find(e => e.clientToken === input.ClientToken);
      if (earlier) {
        if (earlier.fingerprint !== fingerprint) throw ec2Error('IdempotentParameterMismatch', `The client token ${input.ClientToken} was used with different parameters.`);
        return { VpcEndpoint: endpointJson(earlier), ClientToken: input.ClientToken };
      }
    }
    if (!account.vpcs.has(input.VpcId)) throw ec2Error('InvalidVpcId.NotFound', `The vpc ID '${input.VpcId}' does not exist`);
    const type = input.VpcEndpointType ?? 'Gateway';
    if (type !== 'Interface') throw ec2Error('InvalidParameter', 'The simulated account creates interface endpoints only; gateway endpoints come from the template.');
    const subnetIds: string[] = input.SubnetIds ?? [];
    for (const id of subnetIds) {
      if (account.subnets.get(id)?.vpcId !== input.VpcId) throw ec2Error('InvalidSubnetId.NotFound', `The subnet ID '${id}' does not exist in ${input.VpcId}`);
    }
    for (const group of input.SecurityGroupIds ?? []) {
      if (!account.securityGroups.has(group)) throw ec2Error('InvalidGroup.NotFound', `The security group '${group}' does not exist`);
    }
    const live = liveEndpointsOf(account, input.VpcId);
    if (live.filter(e => e.type === 'Interface').length >= account.interfaceEndpointQuota) {
      throw ec2Error('VpcEndpointLimitExceeded', 'The maximum number of VPC endpoints has been reached.');
    }
    const privateDns = input.PrivateDnsEnabled ?? true;
    if (privateDns && live.some(e => e.type === 'Interface' && e.serviceName === input.ServiceName && e.privateDnsEnabled)) {
      const name = `${String(input.ServiceName).split('.').pop()}.${account.region}.amazonaws.com`;
      throw ec2Error('InvalidParameter', `private-dns-enabled cannot be set because there is already a conflicting DNS domain for ${name} in the VPC ${input.VpcId}`);
    }
    const endpoint: SimVpcEndpoint = {
      vpcEndpointId: account.newId('vpce'),
      vpcId: input.VpcId,
      serviceName: input.ServiceName,
      type: 'Interface',
      state: 'pending',
      privateDnsEnabled: privateDns,
      subnetIds,
      securityGroupIds: input.SecurityGroupIds ?? [],
      routeTableIds: [],
      tags: requestedTags(input, 'vpc-endpoint'),
      createdAt: account.now(),
      ...(input.ClientToken ? { clientToken: input.ClientToken, fingerprint } : {}),
    };
    account.vpcEndpoints.set(endpoint.vpcEndpointId, endpoint);
    account.moment(`vpc-endpoint-created:${endpoint.vpcEndpointId}`);
    account.after('vpcEndpointPendingToAvailable', () => {
      if (endpoint.state !== 'pending') return;
      endpoint.state = 'available';
      account.moment(`vpc-endpoint-available:${endpoint.vpcEndpointId}`);
    });
    return { VpcEndpoint: endpointJson(endpoint), ClientToken: input.ClientToken };
  },

  /**
   * [DVE]: filters `vpc-id`, `service-name`, `vpc-endpoint-id`,
   * `vpc-endpoint-state`, `vpc-endpoint-type`, `tag:<key>`; MaxResults and NextToken. assumption: a
   * deleted endpoint stays visible in state `deleted` (as other EC2 resources stay visible for a
   * while after their deletion).
   */
  DescribeVpcEndpoints(account, input) {
    let list = [...account.vpcEndpoints.values()];
    if (input.VpcEndpointIds?.length) list = list.filter(e => input.VpcEndpointIds.includes(e.vpcEndpointId));
    for (const filter of input.Filters ?? []) {
      list = list.filter(e => matchesFilter(filter, {
        'vpc-id': [e.vpcId],
        'service-name': [e.serviceName],
        'vpc-endpoint-id': [e.vpcEndpointId],
        'vpc-endpoint-state': [e.state],
        'vpc-endpoint-type': [e.type],
      }, e.tags));
    }
    const size = Math.min(input.MaxResults ?? DESCRIBE_VPC_ENDPOINTS_PAGE_SIZE, DESCRIBE_VPC_ENDPOINTS_PAGE_SIZE);
    const start = input.NextToken ? Number(Buffer.from(input.NextToken, 'base64url').toString()) : 0;
    const page = list.slice(start, start + size);
    return {
      VpcEndpoints: page.map(endpointJson),
      ...(start + size < list.length ? { NextToken: Buffer.from(String(start + size)).toString('base64url') } : {}),
    };
  },

  /**
   * [DLVE]: endpoints that could not be deleted are listed in
   * `Unsuccessful` (the call itself succeeds); an unknown id is InvalidVpcEndpoint.NotFound there.
   * The endpoint is `deleting`, then `deleted` after `vpcEndpointDeletion` (latencies.ts); deleting
   * one that is deleting or deleted changes nothing (assumption). `account.vpcEndpointDeletionFailures`
   * makes the next deletions fail with InternalError (a fault for the rehearsal; assumption: EC2
   * reports a per-endpoint failure this way).
   */
  DeleteVpcEndpoints(account, input) {
    const unsuccessful: any[] = [];
    for (const id of input.VpcEndpointIds ?? []) {
      const endpoint = account.vpcEndpoints.get(id);
      if (!endpoint) {
        unsuccessful.push({ ResourceId: id, Error: { Code: 'InvalidVpcEndpoint.NotFound', Message: `The VPC endpoint '${id}' does not exist` } });
        continue;
      }
      if (account.vpcEndpointDeletionFailures > 0) {
        account.vpcEndpointDeletionFailures--;
        unsuccessful.push({ ResourceId: id, Error: { Code: 'InternalError', Message: 'An internal error has occurred' } });
        continue;
      }
      if (['deleting', 'deleted'].includes(endpoint.state)) continue;
      endpoint.state = 'deleting';
      endpoint.deleteRequestedAt = account.now();
      account.moment(`vpc-endpoint-deleting:${id}`);
      account.after('vpcEndpointDeletion', () => {
        endpoint.state = 'deleted';
        account.moment(`vpc-endpoint-deleted:${id}`);
      });
    }
    return { Unsuccessful: unsuccessful };
  },
};
