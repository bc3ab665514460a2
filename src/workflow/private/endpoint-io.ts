import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeVpcEndpointsCommand, type DescribeVpcEndpointsCommandInput, type Filter } from '@aws-sdk/client-ec2';
import { dynamodb, ec2 } from './clients';
import { TAGS } from './contracts';
import { EndpointLeases, leasesKey, releaseLease, unmarshalLeases } from './endpoint-leases';
import type { EndpointObservation } from './endpoint-plan';

/**
 * The calls the on-demand endpoints make (the open step, the restore and the janitor share
 * them): reading the VPC's endpoints and the leases item, and releasing a lease.
 */

/**
 * The interface endpoints of the rescue VPC, every page: for `serviceNames` (any owner, to find
 * one that would conflict with ours), or, without them, only those this workflow tagged.
 */
export async function describeEndpoints(vpcId: string, workflowId: string, serviceNames?: readonly string[]): Promise<EndpointObservation[]> {
  const filters: Filter[] = [{ Name: 'vpc-id', Values: [vpcId] }];
  if (serviceNames) filters.push({ Name: 'service-name', Values: [...serviceNames] });
  else filters.push({ Name: `tag:${TAGS.workflow}`, Values: [workflowId] });
  const endpoints: EndpointObservation[] = [];
  let token: string | undefined;
  do {
    const input: DescribeVpcEndpointsCommandInput = { Filters: filters, ...(token ? { NextToken: token } : {}) };
    const page = await ec2.send(new DescribeVpcEndpointsCommand(input));
    for (const e of page.VpcEndpoints ?? []) {
      if (!e.VpcEndpointId || !e.ServiceName) continue;
      endpoints.push({
        endpointId: e.VpcEndpointId,
        serviceName: e.ServiceName,
        state: String(e.State ?? 'unknown').toLowerCase(),
        ours: (e.Tags ?? []).some(t => t.Key === TAGS.workflow && t.Value === workflowId),
        privateDnsEnabled: e.PrivateDnsEnabled === true,
        createdAt: e.CreationTimestamp ? Math.floor(new Date(e.CreationTimestamp).getTime() / 1000) : 0,
      });
    }
    token = page.NextToken;
  } while (token);
  return endpoints;
}

/** The leases item of the VPC, read consistently (a lease just taken must be seen). */
export async function readLeases(tableName: string, vpcId: string): Promise<EndpointLeases> {
  const out = await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: leasesKey(vpcId), ConsistentRead: true }));
  return unmarshalLeases(out.Item);
}

/** Releases one reset's lease (the grace period starts again). */
export async function releaseEndpointLease(tableName: string, vpcId: string, executionArn: string): Promise<void> {
  await dynamodb.send(new UpdateItemCommand(releaseLease(tableName, vpcId, executionArn, Math.floor(Date.now() / 1000))));
}
