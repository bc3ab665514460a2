import {
  AutoScalingClient, DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand, EnterStandbyCommand, UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateImageCommand, CreateTagsCommand, DescribeImagesCommand, DescribeInstancesCommand, DescribeVolumesCommand, EC2Client, Instance,
  ModifyInstanceAttributeCommand, StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { marshalLockItem } from '../../../src/workflow/private/journal';
import { STOP_BOUNDS } from '../../../src/workflow/private/timeouts';
import { handler as createBackupImage } from '../../../src/workflow/steps/create-backup-image.lambda';
import { handler as prepareTarget } from '../../../src/workflow/steps/prepare-target.lambda';
import { CONFIG, EXECUTION_ARN, OTHER_EXECUTION_ARN, ROOT_VOLUME, TARGET, awsError, captureLogs, offlinePlan, useConfig } from '../fixtures';

const ec2 = mockClient(EC2Client);
const asg = mockClient(AutoScalingClient);
const ddb = mockClient(DynamoDBClient);

/** The journal as the lock table holds it, with the given moments (epoch s). */
function givenJournal(moments: Record<string, number> = {}, owner = EXECUTION_ARN) {
  ddb.on(GetItemCommand).resolves({
    Item: {
      ...marshalLockItem({ instanceId: TARGET, executionArn: owner, plan: offlinePlan(), expiresAt: 2_000_000_000 }),
      ...Object.fromEntries(Object.entries(moments).map(([k, v]) => [k, { N: String(v) }])),
    },
  });
  ddb.on(UpdateItemCommand).resolves({});
}
const now = () => Math.floor(Date.now() / 1000);

function target(state: string, deleteOnTermination: boolean): Instance {
  return {
    InstanceId: TARGET,
    State: { Name: state as never },
    RootDeviceName: '/dev/sda1',
    BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { VolumeId: ROOT_VOLUME, DeleteOnTermination: deleteOnTermination } }],
  };
}
/** The target, its root volume marked by this workflow unless `marked` is false. */
const givenTarget = (state: string, dot: boolean, marked = true) => {
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [target(state, dot)] }] });
  ec2.on(DescribeVolumesCommand).resolves({
    Volumes: [{
      VolumeId: ROOT_VOLUME, State: 'in-use', Tags: marked ? [{ Key: 'cdk-ec2-reset-access:workflow', Value: CONFIG.workflowId }] : [],
    }],
  });
};

describe('prepare-target handler', () => {
  beforeEach(() => {
    ec2.reset(); asg.reset(); ddb.reset();
    useConfig();
    captureLogs();
    givenJournal();
  });
  afterEach(() => jest.restoreAllMocks());

  test('a group at its minimum, acknowledged: journals the lowering, lowers MinSize by one, then enters Standby, in one call', async () => {
    // GIVEN a single-instance group
    givenTarget('running', true);
    asg.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [{ AutoScalingGroupName: 'web-asg', LifecycleState: 'InService' } as never] });
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [{ AutoScalingGroupName: 'web-asg', MinSize: 1, MaxSize: 1, DesiredCapacity: 1 } as never] });
    const plan = offlinePlan({ manageStandby: true, autoScalingGroupName: 'web-asg', minSizeLowering: { from: 1, to: 0 } });

    // WHEN
    const result = await prepareTarget({ plan });

    // THEN: the record first (conditional on this execution's lock), then MinSize (nothing else), then Standby.
    expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, {
      TableName: 'ResetLocks',
      Key: { instanceId: { S: TARGET } },
      ConditionExpression: 'executionArn = :owner',
      ExpressionAttributeValues: { ':record': { S: JSON.stringify({ groupName: 'web-asg', from: 1, to: 0 }) }, ':owner': { S: EXECUTION_ARN } },
    });
    expect(asg).toHaveReceivedCommandWith(UpdateAutoScalingGroupCommand, { AutoScalingGroupName: 'web-asg', MinSize: 0 });
    expect(asg.commandCalls(UpdateAutoScalingGroupCommand)[0].args[0].input).toEqual({ AutoScalingGroupName: 'web-asg', MinSize: 0 });
    expect(asg).toHaveReceivedCommandWith(EnterStandbyCommand, { AutoScalingGroupName: 'web-asg', InstanceIds: [TARGET], ShouldDecrementDesiredCapacity: true });
    const order = [...ddb.calls(), ...asg.calls()].map(c => c.args[0].constructor.name).filter(n => !n.startsWith('Describe') && n !== 'GetItemCommand');
    expect(order).toEqual(['UpdateItemCommand', 'UpdateAutoScalingGroupCommand', 'EnterStandbyCommand']);
    expect(result).toMatchObject({ done: false, status: 'entering Standby' });
  });

  test('a retried pass after MinSize was lowered goes straight to Standby', async () => {
    // GIVEN
    givenTarget('running', true);
    asg.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [{ AutoScalingGroupName: 'web-asg', LifecycleState: 'InService' } as never] });
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [{ AutoScalingGroupName: 'web-asg', MinSize: 0, MaxSize: 1, DesiredCapacity: 1 } as never] });

    // WHEN
    await prepareTarget({ plan: offlinePlan({ manageStandby: true, autoScalingGroupName: 'web-asg', minSizeLowering: { from: 1, to: 0 } }) });

    // THEN
    expect(asg).toHaveReceivedCommandTimes(UpdateAutoScalingGroupCommand, 0);
    expect(ddb).toHaveReceivedCommandTimes(UpdateItemCommand, 0);
    expect(asg).toHaveReceivedCommandTimes(EnterStandbyCommand, 1);
  });

  test('a running target: marks its root volume, keeps it, then stops the target, in one call', async () => {
    // GIVEN a root volume not marked yet
    givenTarget('running', true, false);

    // WHEN
    const result = await prepareTarget({ plan: offlinePlan() });

    // THEN the mark comes first, with the workflow's id and the execution
    expect(ec2).toHaveReceivedCommandWith(CreateTagsCommand, {
      Resources: [ROOT_VOLUME],
      Tags: [{ Key: 'cdk-ec2-reset-access:workflow', Value: CONFIG.workflowId }, { Key: 'cdk-ec2-reset-access:execution', Value: 'run-1' }],
    });
    expect(ec2).toHaveReceivedNthSpecificCommandWith(1, ModifyInstanceAttributeCommand, {
      InstanceId: TARGET, BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { DeleteOnTermination: false } }],
    });
    expect(ec2).toHaveReceivedCommandWith(StopInstancesCommand, { InstanceIds: [TARGET] });
    expect(ec2.commandCalls(StopInstancesCommand)[0].args[0].input.Force).toBeUndefined();
    expect(result).toEqual({ done: false, waitSeconds: 15, status: 'stopping the target' });
    // The stop is journaled (first write wins), conditioned on this execution owning the lock.
    expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, {
      TableName: 'ResetLocks',
      Key: { instanceId: { S: TARGET } },
      ConditionExpression: 'executionArn = :owner',
      UpdateExpression: 'SET #m0 = if_not_exists(#m0, :at)',
      ExpressionAttributeNames: { '#m0': 'targetStopRequestedAt' },
    });
  });

  test('already stopped, root kept: done without any change', async () => {
    // GIVEN
    givenTarget('stopped', false);

    // WHEN
    const result = await prepareTarget({ plan: offlinePlan({ originalState: 'stopped' }) });

    // THEN
    expect(result.done).toBe(true);
    expect(ec2).toHaveReceivedCommandTimes(StopInstancesCommand, 0);
    expect(ec2).toHaveReceivedCommandTimes(ModifyInstanceAttributeCommand, 0);
  });

  test('stopping, within its bound: waits', async () => {
    givenTarget('stopping', false);
    givenJournal({ targetStopRequestedAt: now() - 60 });
    await expect(prepareTarget({ plan: offlinePlan() })).resolves.toMatchObject({ done: false, status: expect.stringMatching(/^waiting: the instance is stopping/) });
    expect(ec2).toHaveReceivedCommandTimes(StopInstancesCommand, 0);
  });

  test('a stop that hung past its bound is forced, and the forced stop journaled', async () => {
    // GIVEN
    givenTarget('stopping', false);
    givenJournal({ targetStopRequestedAt: now() - STOP_BOUNDS.target.gracefulSeconds });

    // WHEN
    const result = await prepareTarget({ plan: offlinePlan() });

    // THEN
    expect(ec2).toHaveReceivedCommandWith(StopInstancesCommand, { InstanceIds: [TARGET], Force: true });
    expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, { ExpressionAttributeNames: { '#m0': 'targetForceStopRequestedAt' } });
    expect(result).toMatchObject({ done: false, status: 'force-stopping the target (its stop hung)' });
  });

  test('a lock that is no longer this execution\'s: its moments are not read, and its stop is not journaled (ResetInProgress)', async () => {
    // GIVEN another execution's journal, which says the stop was forced long ago
    givenTarget('running', false);
    givenJournal({ targetStopRequestedAt: 1, targetForceStopRequestedAt: 2 }, OTHER_EXECUTION_ARN);
    ddb.on(UpdateItemCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));

    // WHEN / THEN: a normal stop (not forced on another execution's word), then the named error
    await expect(prepareTarget({ plan: offlinePlan() })).rejects.toMatchObject({ name: 'ResetInProgress' });
    expect(ec2).toHaveReceivedCommandWith(StopInstancesCommand, { InstanceIds: [TARGET] });
    expect(ec2.commandCalls(StopInstancesCommand)[0].args[0].input.Force).toBeUndefined();
  });

  test('an Auto Scaling member goes into Standby first, decrementing the desired capacity', async () => {
    // GIVEN
    givenTarget('running', true);
    asg.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [{ AutoScalingGroupName: 'web-asg', LifecycleState: 'InService' } as never] });

    // WHEN
    const result = await prepareTarget({ plan: offlinePlan({ manageStandby: true, autoScalingGroupName: 'web-asg' }) });

    // THEN
    expect(asg).toHaveReceivedCommandWith(EnterStandbyCommand, { AutoScalingGroupName: 'web-asg', InstanceIds: [TARGET], ShouldDecrementDesiredCapacity: true });
    expect(ec2).toHaveReceivedCommandTimes(StopInstancesCommand, 0);
    expect(result.done).toBe(false);
  });

  test('already in Standby: no second EnterStandby', async () => {
    // GIVEN
    givenTarget('stopped', false);
    asg.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [{ AutoScalingGroupName: 'web-asg', LifecycleState: 'Standby' } as never] });

    // WHEN
    const result = await prepareTarget({ plan: offlinePlan({ manageStandby: true, autoScalingGroupName: 'web-asg' }) });

    // THEN
    expect(asg).toHaveReceivedCommandTimes(EnterStandbyCommand, 0);
    expect(result.done).toBe(true);
  });
});

describe('create-backup-image handler', () => {
  const plan = offlinePlan();

  beforeEach(() => {
    ec2.reset();
    useConfig();
    captureLogs();
  });
  afterEach(() => jest.restoreAllMocks());

  test('requests the image of the stopped target, tagged, without rebooting', async () => {
    // GIVEN
    ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    ec2.on(CreateImageCommand).resolves({ ImageId: 'ami-backup' });

    // WHEN
    const result = await createBackupImage({ plan });

    // THEN
    expect(result).toEqual({ imageId: 'ami-backup', imageName: plan.backupImageName });
    expect(ec2).toHaveReceivedCommandWith(DescribeImagesCommand, { Owners: ['self'], Filters: [{ Name: 'name', Values: [plan.backupImageName] }] });
    expect(ec2).toHaveReceivedCommandWith(CreateImageCommand, {
      InstanceId: TARGET,
      Name: plan.backupImageName,
      NoReboot: true,
      TagSpecifications: [
        { ResourceType: 'image', Tags: expect.arrayContaining([{ Key: 'cdk-ec2-reset-access:role', Value: 'backup' }, { Key: 'cdk-ec2-reset-access:execution', Value: 'run-1' }]) },
        { ResourceType: 'snapshot', Tags: expect.arrayContaining([{ Key: 'cdk-ec2-reset-access:target', Value: TARGET }]) },
      ],
    });
  });

  test('an image already requested is returned, not created again', async () => {
    // GIVEN
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-backup', Name: plan.backupImageName, State: 'pending' }] });

    // WHEN
    const result = await createBackupImage({ plan });

    // THEN
    expect(result.imageId).toBe('ami-backup');
    expect(ec2).toHaveReceivedCommandTimes(CreateImageCommand, 0);
  });

  test('InvalidAMIName.Duplicate (a racing retry) finds the image by name', async () => {
    // GIVEN
    ec2.on(DescribeImagesCommand)
      .resolvesOnce({ Images: [] })
      .resolves({ Images: [{ ImageId: 'ami-backup', Name: plan.backupImageName, State: 'pending' }] });
    ec2.on(CreateImageCommand).rejects(awsError('InvalidAMIName.Duplicate'));

    // WHEN / THEN
    await expect(createBackupImage({ plan })).resolves.toEqual({ imageId: 'ami-backup', imageName: plan.backupImageName });
  });

  test('a duplicate not visible yet fails with NotYet, for the state machine to retry', async () => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    ec2.on(CreateImageCommand).rejects(awsError('InvalidAMIName.Duplicate'));
    await expect(createBackupImage({ plan })).rejects.toMatchObject({ name: 'NotYet' });
  });
});
