import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateVpcEndpointCommand, DeleteVpcEndpointsCommand, DescribeVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as janitor } from '../../../src/workflow/endpoints/endpoint-janitor.lambda';
import { ENDPOINT_JANITOR_CONFIG_ENV } from '../../../src/workflow/endpoints/janitor-config';
import { handler as openEndpoints } from '../../../src/workflow/steps/open-endpoints.lambda';
import { CONFIG, EXECUTION_ARN, OTHER_EXECUTION_ARN, awsError, captureLogs, offlinePlan, useConfig } from '../fixtures';

const ec2 = mockClient(EC2Client);
const ddb = mockClient(DynamoDBClient);
const sfn = mockClient(SFNClient);

const SERVICES = ['com.amazonaws.eu-west-1.ssm', 'com.amazonaws.eu-west-1.ssmmessages', 'com.amazonaws.eu-west-1.ec2messages'];
const ENDPOINTS = { vpcId: 'vpc-1', securityGroupId: 'sg-endpoints', serviceNames: SERVICES, gracePeriodSeconds: 900 };
const NOW = Date.parse('2026-11-28T09:00:00Z');
const KEY = { instanceId: { S: 'endpoints:vpc-1' } };

function vpcEndpoint(service: string, state: string, o: { ours?: boolean; id?: string; createdAt?: number } = {}) {
  return {
    VpcEndpointId: o.id ?? `vpce-${service.split('.').pop()}`,
    ServiceName: service,
    State: state,
    PrivateDnsEnabled: true,
    CreationTimestamp: new Date(o.createdAt ?? NOW - 3600_000),
    Tags: o.ours === false ? [] : [{ Key: 'cdk-ec2-reset-access:workflow', Value: CONFIG.workflowId }],
  } as never;
}

beforeEach(() => {
  ec2.reset(); ddb.reset(); sfn.reset();
  captureLogs();
  jest.useFakeTimers({ now: NOW, doNotFake: ['setTimeout', 'setImmediate', 'nextTick'] });
});
afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

describe('open-endpoints handler', () => {
  beforeEach(() => useConfig({ ...CONFIG, onDemandEndpoints: ENDPOINTS }));

  test('takes the lease, then creates the three endpoints with private DNS in the reset\'s subnet, tagged, with a ClientToken', async () => {
    // GIVEN no endpoint
    ddb.on(UpdateItemCommand).resolves({});
    ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [] });
    ec2.on(CreateVpcEndpointCommand).callsFake(input => ({ VpcEndpoint: { VpcEndpointId: `vpce-${input.ServiceName.split('.').pop()}` } }));

    // WHEN
    const result = await openEndpoints({ plan: offlinePlan() });

    // THEN
    expect(result).toEqual({ done: false, waitSeconds: 10, status: expect.stringContaining('requested') });
    expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, { Key: KEY, UpdateExpression: 'ADD leases :me', ExpressionAttributeValues: expect.objectContaining({ ':me': { SS: [EXECUTION_ARN] } }) });
    expect(ec2).toHaveReceivedCommandWith(DescribeVpcEndpointsCommand, {
      Filters: [{ Name: 'vpc-id', Values: ['vpc-1'] }, { Name: 'service-name', Values: SERVICES }],
    });
    expect(ec2).toHaveReceivedCommandTimes(CreateVpcEndpointCommand, 3);
    const creates = ec2.commandCalls(CreateVpcEndpointCommand).map(c => c.args[0].input);
    expect(creates.map(c => c.ServiceName)).toEqual(SERVICES);
    for (const create of creates) {
      expect(create).toMatchObject({
        VpcEndpointType: 'Interface',
        VpcId: 'vpc-1',
        SubnetIds: ['subnet-aaaa'],
        SecurityGroupIds: ['sg-endpoints'],
        PrivateDnsEnabled: true,
        TagSpecifications: [{
          ResourceType: 'vpc-endpoint',
          Tags: expect.arrayContaining([
            { Key: 'cdk-ec2-reset-access:workflow', Value: CONFIG.workflowId }, { Key: 'cdk-ec2-reset-access:role', Value: 'endpoint' },
          ]),
        }],
      });
      expect(create.ClientToken).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(new Set(creates.map(c => c.ClientToken)).size).toBe(3);
  });

  test('a retry sends the same ClientTokens (EC2 returns the endpoints it already made)', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [] });
    ec2.on(CreateVpcEndpointCommand).resolves({ VpcEndpoint: { VpcEndpointId: 'vpce-1' } });
    await openEndpoints({ plan: offlinePlan() });
    const first = ec2.commandCalls(CreateVpcEndpointCommand).map(c => c.args[0].input.ClientToken);
    ec2.resetHistory();
    await openEndpoints({ plan: offlinePlan() });
    expect(ec2.commandCalls(CreateVpcEndpointCommand).map(c => c.args[0].input.ClientToken)).toEqual(first);
  });

  test('reuses the available endpoints another reset opened: done, nothing created', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: SERVICES.map(s => vpcEndpoint(s, 'available')) });

    expect(await openEndpoints({ plan: offlinePlan() })).toEqual({ done: true, waitSeconds: 0, status: 'interface endpoints available' });
    expect(ec2).not.toHaveReceivedCommand(CreateVpcEndpointCommand);
  });

  test('while the janitor is deleting the endpoints, fails with NotYet (the state machine retries)', async () => {
    ddb.on(UpdateItemCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    await expect(openEndpoints({ plan: offlinePlan() })).rejects.toMatchObject({ name: 'NotYet' });
    expect(ec2).not.toHaveReceivedCommand(CreateVpcEndpointCommand);
  });

  test('the quota of endpoints per VPC fails the reset with EndpointsUnavailable and what to do', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [] });
    ec2.on(CreateVpcEndpointCommand).rejects(awsError('VpcEndpointLimitExceeded', 'The maximum number of VPC endpoints has been reached.'));
    await expect(openEndpoints({ plan: offlinePlan() })).rejects.toMatchObject({
      name: 'EndpointsUnavailable', message: expect.stringMatching(/quota of interface endpoints.*L-29B6F2EB/),
    });
  });

  test('a concurrent reset\'s endpoint for the same service (private DNS conflict) is waited for, not an error', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [] });
    ec2.on(CreateVpcEndpointCommand).rejects(awsError('InvalidParameter',
      'private-dns-enabled cannot be set because there is already a conflicting DNS domain for ssm.eu-west-1.amazonaws.com in the VPC vpc-1'));
    expect(await openEndpoints({ plan: offlinePlan() })).toMatchObject({ done: false });
  });

  test('deletes a failed endpoint of ours (its replacement comes once it is gone)', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [vpcEndpoint(SERVICES[0], 'failed'), ...SERVICES.slice(1).map(s => vpcEndpoint(s, 'available'))] });
    ec2.on(DeleteVpcEndpointsCommand).resolves({ Unsuccessful: [] });
    expect(await openEndpoints({ plan: offlinePlan() })).toMatchObject({ done: false });
    expect(ec2).toHaveReceivedCommandWith(DeleteVpcEndpointsCommand, { VpcEndpointIds: ['vpce-ssm'] });
    expect(ec2).not.toHaveReceivedCommand(CreateVpcEndpointCommand);
  });
});

describe('endpoint-janitor handler', () => {
  beforeEach(() => {
    process.env[ENDPOINT_JANITOR_CONFIG_ENV] = JSON.stringify({
      ...ENDPOINTS, lockTableName: 'ResetLocks', workflowId: CONFIG.workflowId, resetStateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:Reset',
    });
  });

  const open = () => ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: SERVICES.map(s => vpcEndpoint(s, 'available')) });

  test('releases the lease of a reset that has ended and keeps the endpoints for the grace period', async () => {
    ddb.on(GetItemCommand).resolves({ Item: { ...KEY, leases: { SS: [EXECUTION_ARN, OTHER_EXECUTION_ARN] } } });
    ddb.on(UpdateItemCommand).resolves({});
    sfn.on(DescribeExecutionCommand, { executionArn: EXECUTION_ARN }).resolves({ status: 'SUCCEEDED' } as never);
    sfn.on(DescribeExecutionCommand, { executionArn: OTHER_EXECUTION_ARN }).resolves({ status: 'RUNNING' } as never);
    open();

    const result = await janitor();

    expect(result).toMatchObject({ released: [EXECUTION_ARN], deleted: [] });
    expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, { UpdateExpression: 'DELETE leases :me SET lastReleasedAt = :now', ExpressionAttributeValues: expect.objectContaining({ ':me': { SS: [EXECUTION_ARN] } }) });
    expect(ec2).not.toHaveReceivedCommand(DeleteVpcEndpointsCommand);
    // Only this workflow's endpoints are looked at.
    expect(ec2).toHaveReceivedCommandWith(DescribeVpcEndpointsCommand, {
      Filters: [{ Name: 'vpc-id', Values: ['vpc-1'] }, { Name: 'tag:cdk-ec2-reset-access:workflow', Values: [CONFIG.workflowId] }],
    });
  });

  test('claims the item, deletes idle endpoints past the grace period, and ends its claim', async () => {
    ddb.on(GetItemCommand).resolves({ Item: { ...KEY, lastReleasedAt: { N: String(NOW / 1000 - 901) } } });
    ddb.on(UpdateItemCommand).resolves({});
    ec2.on(DeleteVpcEndpointsCommand).resolves({ Unsuccessful: [] });
    open();

    const result = await janitor();

    expect(result.deleted).toEqual(['vpce-ssm', 'vpce-ssmmessages', 'vpce-ec2messages']);
    const updates = ddb.commandCalls(UpdateItemCommand).map(c => c.args[0].input.UpdateExpression);
    expect(updates).toEqual(['SET closingSince = :now', 'REMOVE closingSince']);
  });

  test('leaves the endpoints when a reset took a lease between its read and its claim', async () => {
    ddb.on(GetItemCommand).resolves({ Item: { ...KEY, lastReleasedAt: { N: '1' } } });
    ddb.on(UpdateItemCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    open();

    expect(await janitor()).toMatchObject({ deleted: [], reason: 'a reset took a lease' });
    expect(ec2).not.toHaveReceivedCommand(DeleteVpcEndpointsCommand);
  });

  test('a deletion that fails ends the claim and fails the run, naming the endpoint (the next run tries again)', async () => {
    ddb.on(GetItemCommand).resolves({ Item: { ...KEY, lastReleasedAt: { N: '1' } } });
    ddb.on(UpdateItemCommand).resolves({});
    ec2.on(DeleteVpcEndpointsCommand).resolves({ Unsuccessful: [{ ResourceId: 'vpce-ssm', Error: { Code: 'InvalidVpcEndpoint.NotFound', Message: 'x' } }] });
    open();

    await expect(janitor()).rejects.toThrow(/vpce-ssm: InvalidVpcEndpoint.NotFound/);
    expect(ddb.commandCalls(UpdateItemCommand).map(c => c.args[0].input.UpdateExpression)).toEqual(['SET closingSince = :now', 'REMOVE closingSince']);
  });
});
