import { AutoScalingClient, DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeImagesCommand, DescribeInstanceAttributeCommand, DescribeInstancesCommand, DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand, DescribeVolumesCommand, EC2Client, Instance,
} from '@aws-sdk/client-ec2';
import { GetInstanceProfileCommand, IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { marshalLockItem } from '../../../src/workflow/private/journal';
import { handler } from '../../../src/workflow/steps/preflight.lambda';
import { CONFIG, EXECUTION_ARN, OTHER_EXECUTION_ARN, ROOT_VOLUME, TARGET, awsError, captureLogs, offlinePlan, useConfig } from '../fixtures';

const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
const asg = mockClient(AutoScalingClient);
const ddb = mockClient(DynamoDBClient);
const kms = mockClient(KMSClient);
const iam = mockClient(IAMClient);

const EVENT = { executionArn: EXECUTION_ARN, executionName: 'run-1', startTime: '2026-11-28T09:00:00.000Z' };

function instance(overrides: Partial<Instance> = {}): Instance {
  return {
    InstanceId: TARGET,
    State: { Name: 'running' },
    Platform: 'windows' as never, // what EC2 actually returns (the SDK's enum says "Windows")
    PlatformDetails: 'Windows',
    RootDeviceType: 'ebs',
    RootDeviceName: '/dev/sda1',
    InstanceType: 't3.large',
    ImageId: 'ami-target',
    KeyName: 'ops-key',
    Placement: { AvailabilityZone: 'eu-west-1a' },
    BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { VolumeId: ROOT_VOLUME, DeleteOnTermination: true } }],
    NetworkInterfaces: [{ Association: { IpOwnerId: '111122223333', PublicIp: '198.51.100.7' } }],
    ...overrides,
  };
}

function givenInstance(i: Instance = instance()) {
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [i] }] });
  ec2.on(DescribeInstanceAttributeCommand).resolves({ InstanceInitiatedShutdownBehavior: { Value: 'stop' } });
  ec2.on(DescribeVolumesCommand).resolves({ Volumes: [{ VolumeId: ROOT_VOLUME, Encrypted: false }] });
  ec2.on(DescribeInstanceTypesCommand).resolves({ InstanceTypes: [{ InstanceType: 't3.large', InstanceStorageSupported: false }] });
  ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-target', Name: 'Windows_Server-2019-English-Full-Base-2026.01.01' }] });
  ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
  asg.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [] });
  asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
  ddb.on(GetItemCommand).resolves({});
  kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'customer-key', KeyManager: 'CUSTOMER' } });
  ec2.on(DescribeInstanceTypeOfferingsCommand).resolves({ InstanceTypeOfferings: [{ InstanceType: 't3.medium', LocationType: 'availability-zone', Location: 'eu-west-1a' }] });
}

const DATA_VOLUME = 'vol-0fedcba9876543210';
const FOREIGN_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/foreign-data-key';

function givenAutoScalingGroup(group: { MinSize: number; DesiredCapacity: number; tagged: boolean }) {
  asg.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [{ AutoScalingGroupName: 'web-asg', LifecycleState: 'InService' } as never] });
  asg.on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: ['web-asg'] }).resolves({
    AutoScalingGroups: [{
      AutoScalingGroupName: 'web-asg',
      MinSize: group.MinSize,
      MaxSize: 4,
      DesiredCapacity: group.DesiredCapacity,
      Tags: group.tagged ? [{ Key: 'cdk-ec2-reset-access:allow-reset', Value: 'true', ResourceId: 'web-asg', ResourceType: 'auto-scaling-group' }] : [],
    } as never],
  });
}

describe('preflight handler', () => {
  beforeEach(() => {
    ec2.reset(); ssm.reset(); asg.reset(); ddb.reset(); kms.reset(); iam.reset();
    useConfig();
    captureLogs();
  });
  afterEach(() => jest.restoreAllMocks());

  test('returns the offline plan of an eligible instance, from what it described', async () => {
    // GIVEN
    givenInstance();

    // WHEN
    const plan = await handler({ ...EVENT, request: { instanceId: TARGET, passwordEnabledAmi: true } });

    // THEN
    expect(plan).toMatchObject({
      instanceId: TARGET,
      method: 'offline',
      originalState: 'running',
      helperSubnetId: 'subnet-aaaa',
      rootVolumeId: ROOT_VOLUME,
      rootDeleteOnTermination: true,
      targetWindowsVersion: '2019',
      passwordEnabledAmi: true,
    });
    expect(ec2).toHaveReceivedCommandWith(DescribeInstanceAttributeCommand, { InstanceId: TARGET, Attribute: 'instanceInitiatedShutdownBehavior' });
    expect(ec2).toHaveReceivedCommandWith(DescribeInstanceTypesCommand, { InstanceTypes: ['t3.large'] });
    expect(ddb).toHaveReceivedCommandWith(GetItemCommand, { TableName: 'ResetLocks', Key: { instanceId: { S: TARGET } }, ConsistentRead: true });
  });

  test('an invalid input fails with InvalidInput before any AWS call', async () => {
    // WHEN
    const result = handler({ ...EVENT, request: { instanceId: 'i-nope' } });

    // THEN
    await expect(result).rejects.toMatchObject({ name: 'InvalidInput' });
    expect(ec2.calls()).toHaveLength(0);
    expect(ddb.calls()).toHaveLength(0);
  });

  test('an unknown instance fails with InstanceNotFound', async () => {
    // GIVEN
    ec2.on(DescribeInstancesCommand).rejects(awsError('InvalidInstanceID.NotFound'));

    // WHEN / THEN
    await expect(handler({ ...EVENT, request: { instanceId: TARGET } })).rejects.toMatchObject({
      name: 'InstanceNotFound', message: expect.stringMatching(/check the instance id and the Region/),
    });
  });

  test('an Amazon-owned public IPv4 needs public-ip-release; an Elastic IP does not', async () => {
    // GIVEN
    givenInstance(instance({
      NetworkInterfaces: [
        { Association: { IpOwnerId: 'amazon', PublicIp: '203.0.113.10' }, PrivateIpAddresses: [{ Association: { IpOwnerId: 'amazon', PublicIp: '203.0.113.10' } }] },
        { Association: { IpOwnerId: '111122223333', PublicIp: '198.51.100.7' } },
      ],
    }));

    // WHEN / THEN
    await expect(handler({ ...EVENT, request: { instanceId: TARGET } })).rejects.toMatchObject({
      name: 'AcknowledgementRequired', message: expect.stringMatching(/203\.0\.113\.10 changes/),
    });
    await expect(handler({ ...EVENT, request: { instanceId: TARGET, acknowledge: ['public-ip-release'] } })).resolves.toMatchObject({ method: 'offline' });
  });

  test('an instance type with instance storage needs instance-store-data-loss', async () => {
    // GIVEN
    givenInstance();
    ec2.on(DescribeInstanceTypesCommand).resolves({ InstanceTypes: [{ InstanceStorageSupported: true }] });

    // WHEN / THEN
    await expect(handler({ ...EVENT, request: { instanceId: TARGET } })).rejects.toMatchObject({ name: 'AcknowledgementRequired' });
  });

  test('the shutdown behaviour is read from the instance attribute', async () => {
    // GIVEN
    givenInstance();
    ec2.on(DescribeInstanceAttributeCommand).resolves({ InstanceInitiatedShutdownBehavior: { Value: 'terminate' } });

    // WHEN / THEN
    await expect(handler({ ...EVENT, request: { instanceId: TARGET } })).rejects.toMatchObject({ name: 'ShutdownBehaviorTerminate' });
  });

  test('a root encrypted with a key that is not allowed is refused, naming the key', async () => {
    // GIVEN
    givenInstance();
    const key = 'arn:aws:kms:eu-west-1:111122223333:key/other';
    ec2.on(DescribeVolumesCommand).resolves({ Volumes: [{ VolumeId: ROOT_VOLUME, Encrypted: true, KmsKeyId: key }] });

    // WHEN / THEN
    await expect(handler({ ...EVENT, request: { instanceId: TARGET } })).rejects.toMatchObject({ name: 'EncryptedRootKeyNotAllowed', message: expect.stringContaining(key) });
  });

  test('a root encrypted with the AWS managed key (aws/ebs) is accepted: DescribeKey says AWS manages it', async () => {
    // GIVEN
    givenInstance();
    const key = 'arn:aws:kms:eu-west-1:111122223333:key/aws-ebs-default';
    ec2.on(DescribeVolumesCommand).resolves({ Volumes: [{ VolumeId: ROOT_VOLUME, Encrypted: true, KmsKeyId: key }] });
    kms.on(DescribeKeyCommand, { KeyId: key }).resolves({ KeyMetadata: { KeyId: 'aws-ebs-default', KeyManager: 'AWS' } });

    // WHEN
    const plan = await handler({ ...EVENT, request: { instanceId: TARGET, acknowledge: ['public-ip-release'] } });

    // THEN
    expect(plan.method).toBe('offline');
    expect(kms).toHaveReceivedCommandWith(DescribeKeyCommand, { KeyId: key });
  });

  test('a customer key that cannot be described is refused unless it is allowed', async () => {
    // GIVEN
    givenInstance();
    const key = 'arn:aws:kms:eu-west-1:444455556666:key/foreign';
    ec2.on(DescribeVolumesCommand).resolves({ Volumes: [{ VolumeId: ROOT_VOLUME, Encrypted: true, KmsKeyId: key }] });
    kms.on(DescribeKeyCommand).rejects(awsError('AccessDeniedException'));

    // WHEN / THEN
    await expect(handler({ ...EVENT, request: { instanceId: TARGET, acknowledge: ['public-ip-release'] } }))
      .rejects.toMatchObject({ name: 'EncryptedRootKeyNotAllowed', message: expect.stringContaining(key) });
  });

  test('an Auto Scaling member in Standby is found through DescribeAutoScalingInstances', async () => {
    // GIVEN
    givenInstance();
    asg.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [{ AutoScalingGroupName: 'web-asg', LifecycleState: 'Standby' } as never] });

    // WHEN
    const plan = await handler({ ...EVENT, request: { instanceId: TARGET } });

    // THEN
    expect(plan).toMatchObject({ autoScalingGroupName: 'web-asg', manageStandby: false });
  });

  describe('an SSM-managed Online Windows instance with auto', () => {
    const PROFILE = 'arn:aws:iam::111122223333:instance-profile/windows/AppProfile';
    const ROLE = 'arn:aws:iam::111122223333:role/AppRole';
    const givenOnline = (decision: string) => {
      givenInstance(instance({ IamInstanceProfile: { Arn: PROFILE } }));
      ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: TARGET, PingStatus: 'Online', PlatformType: 'Windows' }] });
      kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', Arn: 'arn:aws:kms:eu-west-1:111122223333:key/k', KeyManager: 'AWS' } });
      iam.on(GetInstanceProfileCommand).resolves({ InstanceProfile: { Roles: [{ Arn: ROLE }] } as never });
      iam.on(SimulatePrincipalPolicyCommand).resolves({ EvaluationResults: [{ EvalActionName: 'ssm:PutParameter', EvalDecision: decision as never }] });
    };

    test('is reset online when its role may store the password (IAM\'s policy simulator on the instance profile\'s role)', async () => {
      // GIVEN
      givenOnline('allowed');

      // WHEN
      const plan = await handler({ ...EVENT, request: { instanceId: TARGET, method: 'auto' } });

      // THEN
      expect(plan.method).toBe('online');
      expect(ssm).toHaveReceivedCommandWith(DescribeInstanceInformationCommand, { Filters: [{ Key: 'InstanceIds', Values: [TARGET] }] });
      expect(iam).toHaveReceivedCommandWith(GetInstanceProfileCommand, { InstanceProfileName: 'AppProfile' });
      const [account, region] = [EXECUTION_ARN.split(':')[4], EXECUTION_ARN.split(':')[3]];
      expect(iam).toHaveReceivedCommandWith(SimulatePrincipalPolicyCommand, {
        PolicySourceArn: ROLE, ActionNames: ['ssm:PutParameter'], ResourceArns: [`arn:aws:ssm:${region}:${account}:parameter/EC2Rescue/Passwords/${TARGET}`],
      });
    });

    test('falls back to offline when it may not, and the plan says why', async () => {
      // GIVEN
      givenOnline('implicitDeny');

      // WHEN
      const plan = await handler({ ...EVENT, request: { instanceId: TARGET, method: 'auto' } });

      // THEN
      expect(plan.method).toBe('offline');
      expect(plan.consequences.join(' ')).toMatch(/Method auto chose offline .*AppRole may not store .*RescuePasswordPolicy/);
    });

    test('asks about the online key too when it is a customer managed key', async () => {
      // GIVEN
      givenOnline('allowed');
      kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', Arn: 'arn:aws:kms:eu-west-1:111122223333:key/k', KeyManager: 'CUSTOMER' } });

      // WHEN
      await handler({ ...EVENT, request: { instanceId: TARGET, method: 'online' } });

      // THEN
      expect(iam).toHaveReceivedCommandWith(SimulatePrincipalPolicyCommand, { ActionNames: ['kms:Encrypt'], ResourceArns: ['arn:aws:kms:eu-west-1:111122223333:key/k'] });
    });

    test('offline asked for: IAM is not asked', async () => {
      givenOnline('allowed');
      await handler({ ...EVENT, request: { instanceId: TARGET, method: 'offline' } });
      expect(iam).not.toHaveReceivedCommand(SimulatePrincipalPolicyCommand);
    });
  });

  test('a live lock of another execution fails with ResetInProgress', async () => {
    // GIVEN
    givenInstance();
    ddb.on(GetItemCommand).resolves({
      Item: marshalLockItem({
        instanceId: TARGET, executionArn: OTHER_EXECUTION_ARN, plan: offlinePlan(), expiresAt: Math.floor(Date.now() / 1000) + 600,
      }),
    });

    // WHEN / THEN
    await expect(handler({ ...EVENT, request: { instanceId: TARGET } })).rejects.toMatchObject({ name: 'ResetInProgress' });
  });

  test('a deregistered launch image leaves the Windows version unknown instead of failing', async () => {
    // GIVEN
    givenInstance();
    ec2.on(DescribeImagesCommand).rejects(awsError('InvalidAMIID.NotFound'));

    // WHEN
    const plan = await handler({ ...EVENT, request: { instanceId: TARGET } });

    // THEN
    expect(plan).not.toHaveProperty('targetWindowsVersion');
  });

  test('a terminated instance fails without further lookups', async () => {
    // GIVEN
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance({ State: { Name: 'terminated' } })] }] });

    // WHEN / THEN
    await expect(handler({ ...EVENT, request: { instanceId: TARGET } })).rejects.toMatchObject({ name: 'InstanceStateUnsupported' });
    expect(ec2).toHaveReceivedCommandTimes(DescribeVolumesCommand, 0);
  });

  test('the helper type is the first of the configured list offered in the target\'s AZ (DescribeInstanceTypeOfferings by AZ)', async () => {
    // GIVEN t3.medium is not offered in eu-west-1a, t3a.medium is
    givenInstance();
    ec2.on(DescribeInstanceTypeOfferingsCommand).resolves({ InstanceTypeOfferings: [{ InstanceType: 'm5.large' }, { InstanceType: 't3a.medium' }] });

    // WHEN
    const plan = await handler({ ...EVENT, request: { instanceId: TARGET } });

    // THEN
    expect(plan.helperInstanceType).toBe('t3a.medium');
    expect(plan.consequences).toContainEqual(expect.stringMatching(/helper is a t3a\.medium: t3\.medium is not offered in eu-west-1a/));
    expect(ec2).toHaveReceivedCommandWith(DescribeInstanceTypeOfferingsCommand, {
      LocationType: 'availability-zone',
      Filters: [{ Name: 'location', Values: ['eu-west-1a'] }, { Name: 'instance-type', Values: ['t3.medium', 't3a.medium', 'm5.large', 'm6i.large'] }],
    });
  });

  test('no helper type offered in the AZ fails with HelperInstanceTypeNotOffered, naming the AZ', async () => {
    // GIVEN
    givenInstance();
    ec2.on(DescribeInstanceTypeOfferingsCommand).resolves({ InstanceTypeOfferings: [] });

    // WHEN / THEN
    await expect(handler({ ...EVENT, request: { instanceId: TARGET } })).rejects.toMatchObject({
      name: 'HelperInstanceTypeNotOffered', message: expect.stringMatching(/offered in eu-west-1a/),
    });
  });

  test('an instance without a key pair is refused offline (NoKeyPair) unless a password-enabled image is asked for', async () => {
    // GIVEN
    givenInstance(instance({ KeyName: undefined }));

    // WHEN / THEN
    await expect(handler({ ...EVENT, request: { instanceId: TARGET, method: 'offline' } })).rejects.toMatchObject({ name: 'NoKeyPair' });
    const plan = await handler({ ...EVENT, request: { instanceId: TARGET, method: 'offline', passwordEnabledAmi: true } });
    expect(plan).not.toHaveProperty('keyName');
    expect(plan.consequences).toContainEqual(expect.stringMatching(/has no key pair, so GetPasswordData will not return its new password/));
  });

  test('every attached volume\'s key is checked: a data volume with a key the workflow may not use is refused', async () => {
    // GIVEN a root encrypted with aws/ebs and a data volume with a foreign customer key
    givenInstance(instance({
      BlockDeviceMappings: [
        { DeviceName: '/dev/sda1', Ebs: { VolumeId: ROOT_VOLUME, DeleteOnTermination: true } },
        { DeviceName: 'xvdb', Ebs: { VolumeId: DATA_VOLUME, DeleteOnTermination: false } },
      ],
    }));
    const awsKey = 'arn:aws:kms:eu-west-1:111122223333:key/aws-ebs-default';
    ec2.on(DescribeVolumesCommand).resolves({
      Volumes: [
        { VolumeId: ROOT_VOLUME, Encrypted: true, KmsKeyId: awsKey },
        { VolumeId: DATA_VOLUME, Encrypted: true, KmsKeyId: FOREIGN_KEY },
      ],
    });
    kms.on(DescribeKeyCommand, { KeyId: awsKey }).resolves({ KeyMetadata: { KeyId: 'aws-ebs-default', KeyManager: 'AWS' } });

    // WHEN / THEN
    await expect(handler({ ...EVENT, request: { instanceId: TARGET } })).rejects.toMatchObject({
      name: 'EncryptedVolumeKeyNotAllowed', message: expect.stringContaining(`${DATA_VOLUME} (xvdb, key ${FOREIGN_KEY})`),
    });
    expect(ec2).toHaveReceivedCommandWith(DescribeVolumesCommand, { VolumeIds: [ROOT_VOLUME, DATA_VOLUME] });
    expect(kms).toHaveReceivedCommandWith(DescribeKeyCommand, { KeyId: FOREIGN_KEY });
  });

  test('an Auto Scaling group without the target tag is refused with AutoScalingGroupNotAllowed', async () => {
    // GIVEN a workflow that resets tagged instances only
    useConfig({ ...CONFIG, targetTag: { key: 'cdk-ec2-reset-access:allow-reset', values: ['true'] } });
    givenInstance(instance({ Tags: [{ Key: 'cdk-ec2-reset-access:allow-reset', Value: 'true' }] }));
    givenAutoScalingGroup({ MinSize: 0, DesiredCapacity: 2, tagged: false });

    // WHEN / THEN
    await expect(handler({ ...EVENT, request: { instanceId: TARGET, acknowledge: ['auto-scaling-standby'] } })).rejects.toMatchObject({
      name: 'AutoScalingGroupNotAllowed', message: expect.stringMatching(/web-asg, which lacks the tag cdk-ec2-reset-access:allow-reset=true/),
    });
    expect(asg).toHaveReceivedCommandWith(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: ['web-asg'] });
  });

  test('a group at its minimum size needs auto-scaling-min-size; with it the plan lowers MinSize by one', async () => {
    // GIVEN a single-instance group
    givenInstance();
    givenAutoScalingGroup({ MinSize: 1, DesiredCapacity: 1, tagged: true });

    // WHEN / THEN
    await expect(handler({ ...EVENT, request: { instanceId: TARGET, acknowledge: ['auto-scaling-standby'] } })).rejects.toMatchObject({
      name: 'AutoScalingGroupAtMinimum', message: expect.stringMatching(/add "auto-scaling-min-size" to acknowledge/),
    });
    const plan = await handler({ ...EVENT, request: { instanceId: TARGET, acknowledge: ['auto-scaling-standby', 'auto-scaling-min-size'] } });
    expect(plan).toMatchObject({ manageStandby: true, autoScalingGroupName: 'web-asg', minSizeLowering: { from: 1, to: 0 } });
  });

  test('a dry run returns the plan with dryRun set and changes nothing', async () => {
    // GIVEN
    givenInstance();

    // WHEN
    const plan = await handler({ ...EVENT, request: { instanceId: TARGET, dryRun: true } });

    // THEN
    expect(plan.dryRun).toBe(true);
    const sent = [...ec2.calls(), ...ssm.calls(), ...asg.calls(), ...ddb.calls()].map(c => c.args[0].constructor.name);
    expect(sent.every(name => /^(Describe|Get)/.test(name))).toBe(true);
  });
});
