import { AutoScalingClient, DescribeAutoScalingInstancesCommand, ExitStandbyCommand } from '@aws-sdk/client-auto-scaling';
import { ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  AttachVolumeCommand, CreateImageCommand, DescribeImagesCommand, DescribeInstancesCommand, DescribeVolumesCommand, DetachVolumeCommand, EC2Client,
  ModifyInstanceAttributeCommand, StartInstancesCommand, TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { ResetPlan } from '../../../src/workflow/private/contracts';
import { handler as restore } from '../../../src/workflow/steps/restore.lambda';
import { CONFIG, EXECUTION_ARN, HELPER, ROOT_VOLUME, TARGET, awsError, captureLogs, offlinePlan, useConfig } from '../fixtures';

const ec2 = mockClient(EC2Client);
const asg = mockClient(AutoScalingClient);
const ddb = mockClient(DynamoDBClient);

interface State {
  volume: { State: string; Attachments: { InstanceId: string; Device: string; State: string }[] };
  targetState: string;
  dot?: boolean;
  helperState?: string;
  lifecycle?: string;
  image?: boolean;
}

function given(s: State) {
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
const detached = { State: 'available', Attachments: [] };
const onTarget = (state = 'attached') => ({ State: 'in-use', Attachments: [{ InstanceId: TARGET, Device: '/dev/sda1', State: state }] });
const mutations = () => [...ec2.calls(), ...asg.calls(), ...ddb.calls()]
  .map(c => c.args[0].constructor.name.replace(/Command$/, ''))
  .filter(name => !/^Describe/.test(name));

describe('restore handler converges from every intermediate state', () => {
  beforeEach(() => {
    ec2.reset(); asg.reset(); ddb.reset();
    useConfig();
    captureLogs();
  });
  afterEach(() => jest.restoreAllMocks());

  test.each<[string, State, ResetPlan, boolean, string[], boolean]>([
    ['volume attached to the helper → detach it from the helper', { volume: onHelper, targetState: 'stopped', helperState: 'running' }, offlinePlan(), false, ['DetachVolume'], false],
    ['volume detaching → wait', { volume: { State: 'in-use', Attachments: [{ InstanceId: HELPER, Device: 'xvdf', State: 'detaching' }] }, targetState: 'stopped', helperState: 'running' }, offlinePlan(), false, [], false],
    ['volume detached → reattach at the original device', { volume: detached, targetState: 'stopped', helperState: 'running' }, offlinePlan(), false, ['AttachVolume'], false],
    ['reattaching → wait', { volume: onTarget('attaching'), targetState: 'stopped', helperState: 'running' }, offlinePlan(), false, [], false],
    ['reattached, stopped → DeleteOnTermination, then start', { volume: onTarget(), targetState: 'stopped', dot: false, helperState: 'running' }, offlinePlan(), false, ['ModifyInstanceAttribute', 'StartInstances'], false],
    ['reattached, success, password-enabled AMI → DeleteOnTermination, image, start', { volume: onTarget(), targetState: 'stopped', dot: false, helperState: 'running' }, offlinePlan({ passwordEnabledAmi: true }), true, ['ModifyInstanceAttribute', 'CreateImage', 'StartInstances'], false],
    ['running, ASG in Standby → exit Standby', { volume: onTarget(), targetState: 'running', dot: true, helperState: 'running', lifecycle: 'Standby' }, offlinePlan({ manageStandby: true, autoScalingGroupName: 'web-asg' }), false, ['ExitStandby'], false],
    ['running, InService, helper running → terminate helper, release lock: done', { volume: onTarget(), targetState: 'running', dot: true, helperState: 'running', lifecycle: 'InService' }, offlinePlan({ manageStandby: true, autoScalingGroupName: 'web-asg' }), false, ['TerminateInstances', 'DeleteItem'], true],
    ['helper already terminated → release lock: done', { volume: onTarget(), targetState: 'running', dot: true, helperState: 'terminated' }, offlinePlan(), false, ['DeleteItem'], true],
    ['failure before the stop finished (stopping) → wait', { volume: onTarget(), targetState: 'stopping', dot: false }, offlinePlan(), false, ['ModifyInstanceAttribute'], false],
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
    given({ volume: onTarget(), targetState: 'stopped', dot: false, helperState: 'running' });

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
    given({ volume: onHelper, targetState: 'stopped', helperState: 'running' });
    await restore({ plan: offlinePlan(), succeeded: false });
    expect(ec2).toHaveReceivedCommandWith(DetachVolumeCommand, { VolumeId: ROOT_VOLUME, InstanceId: HELPER });

    ec2.reset();
    given({ volume: detached, targetState: 'stopped', helperState: 'running' });
    await restore({ plan: offlinePlan(), succeeded: false });
    expect(ec2).toHaveReceivedCommandWith(AttachVolumeCommand, { VolumeId: ROOT_VOLUME, InstanceId: TARGET, Device: '/dev/sda1' });
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
    given({ volume: onTarget(), targetState: 'running', dot: true, helperState: 'running', lifecycle: 'Standby' });
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
