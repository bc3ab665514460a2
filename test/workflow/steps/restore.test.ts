import {
  AutoScalingClient, DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand, ExitStandbyCommand, UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  AttachVolumeCommand, CreateImageCommand, DescribeImagesCommand, DescribeInstancesCommand, DescribeVolumesCommand, DetachVolumeCommand, EC2Client,
  ModifyInstanceAttributeCommand, StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CancelCommandCommand, ListCommandsCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { commandComment } from '../../../src/workflow/private/commands';
import { ResetPlan } from '../../../src/workflow/private/contracts';
import { marshalLockItem } from '../../../src/workflow/private/journal';
import { STOP_BOUNDS } from '../../../src/workflow/private/timeouts';
import { handler as restore } from '../../../src/workflow/steps/restore.lambda';
import { CONFIG, EXECUTION_ARN, HELPER, ROOT_VOLUME, TARGET, awsError, captureLogs, offlinePlan, useConfig } from '../fixtures';

const ec2 = mockClient(EC2Client);
const asg = mockClient(AutoScalingClient);
const ddb = mockClient(DynamoDBClient);
const ssm = mockClient(SSMClient);

interface State {
  volume: { State: string; Attachments: { InstanceId: string; Device: string; State: string }[] };
  targetState: string;
  dot?: boolean;
  helperState?: string;
  lifecycle?: string;
  image?: boolean;
  /** Commands on the helper, as ListCommands returns them (two pages when more than one). */
  commands?: { CommandId: string; Status: string; Comment?: string }[];
  /** Journal moments (epoch s). */
  moments?: Record<string, number>;
}

function given(s: State) {
  ddb.on(GetItemCommand).resolves({
    Item: {
      ...marshalLockItem({ instanceId: TARGET, executionArn: EXECUTION_ARN, plan: offlinePlan(), expiresAt: 2_000_000_000 }),
      ...Object.fromEntries(Object.entries(s.moments ?? {}).map(([k, v]) => [k, { N: String(v) }])),
    },
  });
  ddb.on(UpdateItemCommand).resolves({});
  const commands = s.commands ?? [];
  ssm.on(ListCommandsCommand).callsFake(input => input.NextToken
    ? { Commands: commands.slice(1) }
    : { Commands: commands.slice(0, 1), ...(commands.length > 1 ? { NextToken: 'page-2' } : {}) });
  const targetMappings = s.volume.Attachments.some(a => a.InstanceId === TARGET)
    ? [{ DeviceName: '/dev/sda1', Ebs: { VolumeId: ROOT_VOLUME, DeleteOnTermination: s.dot } }] : [];
  // The target by id; the helpers by their tags.
  ec2.on(DescribeInstancesCommand).callsFake(input => input.Filters
    ? { Reservations: s.helperState ? [{ Instances: [{ InstanceId: HELPER, State: { Name: s.helperState } }] }] : [] }
    : { Reservations: [{ Instances: [{ InstanceId: TARGET, State: { Name: s.targetState }, BlockDeviceMappings: targetMappings }] }] });
  ec2.on(DescribeVolumesCommand).resolves({ Volumes: [{ VolumeId: ROOT_VOLUME, ...s.volume } as never] });
  ec2.on(DescribeImagesCommand).resolves({ Images: s.image ? [{ ImageId: 'ami-post', Name: offlinePlan().passwordEnabledImageName, State: 'pending' }] : [] });
  ec2.on(CreateImageCommand).resolves({ ImageId: 'ami-post' });
  asg.on(DescribeAutoScalingInstancesCommand).resolves({
    AutoScalingInstances: s.lifecycle ? [{ AutoScalingGroupName: 'web-asg', LifecycleState: s.lifecycle } as never] : [],
  });
  ddb.on(DeleteItemCommand).resolves({});
}

const onHelper = { State: 'in-use', Attachments: [{ InstanceId: HELPER, Device: 'xvdf', State: 'attached' }] };
const FIX = commandComment('offline-password-fix', offlinePlan());
const detached = { State: 'available', Attachments: [] };
const onTarget = (state = 'attached') => ({ State: 'in-use', Attachments: [{ InstanceId: TARGET, Device: '/dev/sda1', State: state }] });
/** The mutating calls, in the order they were made (sinon numbers every call). */
const mutations = () => [...ec2.calls(), ...asg.calls(), ...ddb.calls(), ...ssm.calls()]
  .sort((a, b) => (a as unknown as { callId: number }).callId - (b as unknown as { callId: number }).callId)
  .map(c => c.args[0].constructor.name.replace(/Command$/, ''))
  .filter(name => !/^(Describe|Get|List)/.test(name));

describe('restore handler converges from every intermediate state', () => {
  beforeEach(() => {
    ec2.reset(); asg.reset(); ddb.reset(); ssm.reset();
    useConfig();
    captureLogs();
  });
  afterEach(() => jest.restoreAllMocks());

  test.each<[string, State, ResetPlan, boolean, string[], boolean]>([
    ['volume attached to a running helper → stop the helper first (journaled)', { volume: onHelper, targetState: 'stopped', helperState: 'running' }, offlinePlan(), false, ['StopInstances', 'UpdateItem'], false],
    ['volume attached to the helper, the fix still running → cancel it, then stop the helper', { volume: onHelper, targetState: 'stopped', helperState: 'running', commands: [{ CommandId: 'c-install', Status: 'Success' }, { CommandId: 'c-fix', Status: 'InProgress', Comment: FIX }] }, offlinePlan(), false, ['CancelCommand', 'StopInstances', 'UpdateItem'], false],
    ['volume attached to the stopped helper → detach it from the helper', { volume: onHelper, targetState: 'stopped', helperState: 'stopped' }, offlinePlan(), false, ['DetachVolume'], false],
    ['volume detaching → wait', { volume: { State: 'in-use', Attachments: [{ InstanceId: HELPER, Device: 'xvdf', State: 'detaching' }] }, targetState: 'stopped', helperState: 'running' }, offlinePlan(), false, [], false],
    ['volume detached, helper still running → terminate the helper, reattach at the original device', { volume: detached, targetState: 'stopped', helperState: 'running' }, offlinePlan(), false, ['TerminateInstances', 'AttachVolume'], false],
    ['reattaching → wait', { volume: onTarget('attaching'), targetState: 'stopped', helperState: 'terminated' }, offlinePlan(), false, [], false],
    ['reattached, stopped → DeleteOnTermination, then start', { volume: onTarget(), targetState: 'stopped', dot: false, helperState: 'terminated' }, offlinePlan(), false, ['ModifyInstanceAttribute', 'StartInstances'], false],
    ['reattached, success, password-enabled AMI → DeleteOnTermination, image, start', { volume: onTarget(), targetState: 'stopped', dot: false, helperState: 'terminated' }, offlinePlan({ passwordEnabledAmi: true }), true, ['ModifyInstanceAttribute', 'CreateImage', 'StartInstances'], false],
    ['running, ASG in Standby → exit Standby', { volume: onTarget(), targetState: 'running', dot: true, helperState: 'terminated', lifecycle: 'Standby' }, offlinePlan({ manageStandby: true, autoScalingGroupName: 'web-asg' }), false, ['ExitStandby'], false],
    ['running, InService, helper running → terminate helper, release lock: done', { volume: onTarget(), targetState: 'running', dot: true, helperState: 'running', lifecycle: 'InService' }, offlinePlan({ manageStandby: true, autoScalingGroupName: 'web-asg' }), false, ['TerminateInstances', 'DeleteItem'], true],
    ['helper already terminated → release lock: done', { volume: onTarget(), targetState: 'running', dot: true, helperState: 'terminated' }, offlinePlan(), false, ['DeleteItem'], true],
    ['failure before the stop finished (stopping, journaled) → wait', { volume: onTarget(), targetState: 'stopping', dot: false, moments: { targetStopRequestedAt: Math.floor(Date.now() / 1000) - 30 } }, offlinePlan(), false, ['ModifyInstanceAttribute'], false],
    ['a stopping target whose stop nobody journaled → journal it (StopInstances changes nothing on a stopping instance)', { volume: onTarget(), targetState: 'stopping', dot: true }, offlinePlan(), false, ['StopInstances', 'UpdateItem'], false],
    ['originally stopped, all back → release lock: done', { volume: onTarget(), targetState: 'stopped', dot: true, helperState: 'terminated' }, offlinePlan({ originalState: 'stopped' }), false, ['DeleteItem'], true],
  ])('%s', async (_, state, plan, succeeded, expectedMutations, done) => {
    // GIVEN
    given(state);

    // WHEN
    const result = await restore({ plan, succeeded });

    // THEN
    expect(mutations()).toEqual(expectedMutations);
    expect(result.done).toBe(done);
  });

  test('the calls carry the right arguments', async () => {
    // GIVEN
    given({ volume: onTarget(), targetState: 'stopped', dot: false, helperState: 'terminated' });

    // WHEN
    const result = await restore({ plan: offlinePlan({ passwordEnabledAmi: true, rootDeleteOnTermination: true }), succeeded: true });

    // THEN
    expect(ec2).toHaveReceivedCommandWith(ModifyInstanceAttributeCommand, {
      InstanceId: TARGET, BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { DeleteOnTermination: true } }],
    });
    expect(ec2).toHaveReceivedCommandWith(CreateImageCommand, {
      InstanceId: TARGET,
      Name: offlinePlan().passwordEnabledImageName,
      NoReboot: true,
      TagSpecifications: [
        { ResourceType: 'image', Tags: expect.arrayContaining([{ Key: 'cdk-ec2-reset-access:role', Value: 'password-enabled' }]) },
        expect.objectContaining({ ResourceType: 'snapshot' }),
      ],
    });
    expect(ec2).toHaveReceivedCommandWith(StartInstancesCommand, { InstanceIds: [TARGET] });
    expect(result).toMatchObject({ done: false, passwordEnabledImageId: 'ami-post' });
  });

  test('detach and attach name the helper and the original root device', async () => {
    given({ volume: onHelper, targetState: 'stopped', helperState: 'stopped' });
    await restore({ plan: offlinePlan(), succeeded: false });
    expect(ec2).toHaveReceivedCommandWith(DetachVolumeCommand, { VolumeId: ROOT_VOLUME, InstanceId: HELPER });

    ec2.reset();
    given({ volume: detached, targetState: 'stopped', helperState: 'running' });
    await restore({ plan: offlinePlan(), succeeded: false });
    expect(ec2).toHaveReceivedCommandWith(AttachVolumeCommand, { VolumeId: ROOT_VOLUME, InstanceId: TARGET, Device: '/dev/sda1' });
  });

  test('the helper\'s commands are read over every page, and those running are cancelled on the helper', async () => {
    // GIVEN the running fix on the second page
    given({ volume: onHelper, targetState: 'stopped', helperState: 'running', commands: [{ CommandId: 'c-install', Status: 'Success' }, { CommandId: 'c-fix', Status: 'InProgress', Comment: FIX }] });

    // WHEN
    await restore({ plan: offlinePlan(), succeeded: false });

    // THEN
    expect(ssm).toHaveReceivedCommandTimes(ListCommandsCommand, 2);
    expect(ssm).toHaveReceivedCommandWith(ListCommandsCommand, { InstanceId: HELPER, NextToken: 'page-2' });
    expect(ssm).toHaveReceivedCommandWith(CancelCommandCommand, { CommandId: 'c-fix', InstanceIds: [HELPER] });
    expect(ssm).toHaveReceivedCommandTimes(CancelCommandCommand, 1);
  });

  test('after a successful fix the helper is stopped without its OS shutdown, and that is journaled', async () => {
    // GIVEN
    given({ volume: onHelper, targetState: 'stopped', helperState: 'running', commands: [{ CommandId: 'c-fix', Status: 'Success', Comment: FIX }] });

    // WHEN
    const result = await restore({ plan: offlinePlan(), succeeded: true });

    // THEN
    expect(ec2).toHaveReceivedCommandWith(StopInstancesCommand, { InstanceIds: [HELPER], SkipOsShutdown: true });
    expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, {
      ConditionExpression: 'executionArn = :owner',
      ExpressionAttributeNames: { '#m0': 'helperStopRequestedAt', '#m1': 'helperStopSkippedOsShutdownAt' },
    });
    expect(result).toMatchObject({ done: false, waitSeconds: 5 });
  });

  test('a stop without the OS shutdown that EC2 refuses falls back to a normal stop', async () => {
    // GIVEN
    given({ volume: onHelper, targetState: 'stopped', helperState: 'running', commands: [{ CommandId: 'c-fix', Status: 'Success', Comment: FIX }] });
    ec2.on(StopInstancesCommand, { InstanceIds: [HELPER], SkipOsShutdown: true }).rejects(awsError('UnsupportedOperation'));

    // WHEN
    await restore({ plan: offlinePlan(), succeeded: true });

    // THEN
    expect(ec2).toHaveReceivedCommandWith(StopInstancesCommand, { InstanceIds: [HELPER] });
    expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, { ExpressionAttributeNames: { '#m0': 'helperStopRequestedAt' } });
  });

  test('a helper whose stop hung past its bound is force-stopped', async () => {
    given({ volume: onHelper, targetState: 'stopped', helperState: 'stopping', moments: { helperStopRequestedAt: Math.floor(Date.now() / 1000) - STOP_BOUNDS.helper.gracefulSeconds } });
    await restore({ plan: offlinePlan(), succeeded: false });
    expect(ec2).toHaveReceivedCommandWith(StopInstancesCommand, { InstanceIds: [HELPER], Force: true });
    expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, { ExpressionAttributeNames: { '#m0': 'helperForceStopRequestedAt' } });
  });

  test('a target whose stop hung past its bound is force-stopped before anything else', async () => {
    given({ volume: onTarget(), targetState: 'stopping', dot: true, moments: { targetStopRequestedAt: Math.floor(Date.now() / 1000) - STOP_BOUNDS.target.gracefulSeconds } });
    await restore({ plan: offlinePlan(), succeeded: false });
    expect(ec2).toHaveReceivedCommandWith(StopInstancesCommand, { InstanceIds: [TARGET], Force: true });
    expect(mutations()).toEqual(['StopInstances', 'UpdateItem']);
  });

  test('exit Standby and terminate name the group and the helpers; the lock delete is conditioned on this execution', async () => {
    // GIVEN
    given({ volume: onTarget(), targetState: 'running', dot: true, helperState: 'running', lifecycle: 'InService' });

    // WHEN
    await restore({ plan: offlinePlan({ manageStandby: true, autoScalingGroupName: 'web-asg' }), succeeded: false });

    // THEN
    expect(ec2).toHaveReceivedCommandWith(TerminateInstancesCommand, { InstanceIds: [HELPER] });
    expect(ddb).toHaveReceivedCommandWith(DeleteItemCommand, {
      TableName: 'ResetLocks',
      Key: { instanceId: { S: TARGET } },
      ConditionExpression: 'executionArn = :me',
      ExpressionAttributeValues: { ':me': { S: EXECUTION_ARN } },
    });

    asg.reset();
    given({ volume: onTarget(), targetState: 'running', dot: true, helperState: 'terminated', lifecycle: 'Standby' });
    await restore({ plan: offlinePlan({ manageStandby: true, autoScalingGroupName: 'web-asg' }), succeeded: false });
    expect(asg).toHaveReceivedCommandWith(ExitStandbyCommand, { AutoScalingGroupName: 'web-asg', InstanceIds: [TARGET] });
  });

  test('a lock already gone (ConditionalCheckFailed) is fine', async () => {
    // GIVEN
    given({ volume: onTarget(), targetState: 'running', dot: true });
    ddb.on(DeleteItemCommand).rejects(new ConditionalCheckFailedException({ message: 'gone', $metadata: {} }));

    // WHEN / THEN
    await expect(restore({ plan: offlinePlan(), succeeded: true })).resolves.toMatchObject({ done: true, status: 'restored' });
  });

  test('a start racing another (IncorrectInstanceState) observes again', async () => {
    given({ volume: onTarget(), targetState: 'stopped', dot: true });
    ec2.on(StartInstancesCommand).rejects(awsError('IncorrectInstanceState'));
    await expect(restore({ plan: offlinePlan(), succeeded: false })).resolves.toMatchObject({ done: false });
  });

  test('the password-enabled image already requested is not requested again, and its id is returned', async () => {
    given({ volume: onTarget(), targetState: 'stopped', dot: true, image: true });
    const result = await restore({ plan: offlinePlan({ passwordEnabledAmi: true }), succeeded: true });
    expect(ec2).toHaveReceivedCommandTimes(CreateImageCommand, 0);
    expect(result).toMatchObject({ passwordEnabledImageId: 'ami-post' });
  });

  test('an online plan only releases the lock: volumes are not even described', async () => {
    // GIVEN
    given({ volume: onTarget(), targetState: 'running', dot: true });

    // WHEN
    const result = await restore({ plan: offlinePlan({ method: 'online', rootVolumeId: '' }), succeeded: true });

    // THEN
    expect(result.done).toBe(true);
    expect(ec2).toHaveReceivedCommandTimes(DescribeVolumesCommand, 0);
    expect(mutations()).toEqual(['DeleteItem']);
  });
});

describe('restore handler with on-demand endpoints', () => {
  beforeEach(() => {
    ec2.reset(); asg.reset(); ddb.reset();
    useConfig({ ...CONFIG, onDemandEndpoints: { vpcId: 'vpc-1', securityGroupId: 'sg-endpoints', serviceNames: ['com.amazonaws.eu-west-1.ssm'], gracePeriodSeconds: 900 } });
    captureLogs();
    jest.useFakeTimers({ now: Date.parse('2026-11-28T09:00:00Z'), doNotFake: ['setTimeout', 'setImmediate', 'nextTick'] });
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  test('releases this execution\'s lease on the endpoints before the lock, in the same pass', async () => {
    // GIVEN everything back but the lease and the lock
    given({ volume: onTarget(), targetState: 'running', dot: true, helperState: 'terminated' });
    ddb.on(GetItemCommand).resolves({ Item: { instanceId: { S: 'endpoints:vpc-1' }, leases: { SS: [EXECUTION_ARN, 'arn:other'] } } });
    ddb.on(UpdateItemCommand).resolves({});

    // WHEN
    const result = await restore({ plan: offlinePlan(), succeeded: true });

    // THEN
    expect(result.done).toBe(true);
    expect(ddb).toHaveReceivedCommandWith(GetItemCommand, { TableName: 'ResetLocks', Key: { instanceId: { S: 'endpoints:vpc-1' } }, ConsistentRead: true });
    expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, {
      Key: { instanceId: { S: 'endpoints:vpc-1' } },
      UpdateExpression: 'DELETE leases :me SET lastReleasedAt = :now',
      ExpressionAttributeValues: { ':me': { SS: [EXECUTION_ARN] }, ':now': { N: String(Date.parse('2026-11-28T09:00:00Z') / 1000) } },
    });
    expect(mutations().filter(name => name !== 'GetItem')).toEqual(['UpdateItem', 'DeleteItem']);
  });

  test('releases nothing when the lease is gone already (the janitor released it)', async () => {
    given({ volume: onTarget(), targetState: 'running', dot: true, helperState: 'terminated' });
    ddb.on(GetItemCommand).resolves({ Item: { instanceId: { S: 'endpoints:vpc-1' }, leases: { SS: ['arn:other'] } } });

    await restore({ plan: offlinePlan(), succeeded: true });

    expect(mutations().filter(name => name !== 'GetItem')).toEqual(['DeleteItem']);
  });
});

describe('restore handler: the Auto Scaling group\'s MinSize (issue 11, item 2)', () => {
  const PLAN = offlinePlan({ manageStandby: true, autoScalingGroupName: 'web-asg', minSizeLowering: { from: 1, to: 0 } });
  const RECORD = { groupName: 'web-asg', from: 1, to: 0 };

  beforeEach(() => {
    ec2.reset(); asg.reset(); ddb.reset();
    useConfig();
    captureLogs();
    given({ volume: onTarget(), targetState: 'running', dot: true, helperState: 'terminated', lifecycle: 'InService' });
    ddb.on(GetItemCommand).resolves({
      Item: { instanceId: { S: TARGET }, executionArn: { S: EXECUTION_ARN }, minSizeLowered: { S: JSON.stringify(RECORD) } },
    });
  });
  afterEach(() => jest.restoreAllMocks());

  const givenGroup = (minSize: number, desiredCapacity: number) =>
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [{ AutoScalingGroupName: 'web-asg', MinSize: minSize, MaxSize: 1, DesiredCapacity: desiredCapacity } as never] });

  test('InService again, MinSize still what the workflow set: raised back, then the lock released, in one pass', async () => {
    // GIVEN
    givenGroup(0, 1);

    // WHEN
    const result = await restore({ plan: PLAN, succeeded: true });

    // THEN
    expect(ddb).toHaveReceivedCommandWith(GetItemCommand, { TableName: 'ResetLocks', Key: { instanceId: { S: TARGET } }, ConsistentRead: true });
    expect(asg.commandCalls(UpdateAutoScalingGroupCommand).map(c => c.args[0].input)).toEqual([{ AutoScalingGroupName: 'web-asg', MinSize: 1 }]);
    expect(mutations().filter(name => name !== 'GetItem')).toEqual(['UpdateAutoScalingGroup', 'DeleteItem']);
    expect(result).toEqual({ done: true, waitSeconds: 0, status: 'restored' });
  });

  test('MinSize changed by someone meanwhile: left as it is, and the status says so', async () => {
    // GIVEN
    givenGroup(3, 3);

    // WHEN
    const result = await restore({ plan: PLAN, succeeded: true });

    // THEN
    expect(asg).toHaveReceivedCommandTimes(UpdateAutoScalingGroupCommand, 0);
    expect(result).toMatchObject({ done: true, status: expect.stringMatching(/^restored; the MinSize of web-asg is 3, not the 0 the workflow set, so it was left as it is/) });
  });

  test('no journal record (the reset failed before lowering it): MinSize is not touched', async () => {
    // GIVEN
    givenGroup(1, 1);
    ddb.on(GetItemCommand).resolves({ Item: { instanceId: { S: TARGET }, executionArn: { S: EXECUTION_ARN } } });

    // WHEN
    const result = await restore({ plan: PLAN, succeeded: false });

    // THEN
    expect(asg).toHaveReceivedCommandTimes(UpdateAutoScalingGroupCommand, 0);
    expect(result).toEqual({ done: true, waitSeconds: 0, status: 'restored' });
  });

  test('a plan without a MinSize lowering does not read the group (the journal is read once, for its stops)', async () => {
    // WHEN
    await restore({ plan: offlinePlan({ manageStandby: true, autoScalingGroupName: 'web-asg' }), succeeded: true });

    // THEN
    expect(asg).toHaveReceivedCommandTimes(DescribeAutoScalingGroupsCommand, 0);
    expect(ddb).toHaveReceivedCommandTimes(GetItemCommand, 1);
  });
});
