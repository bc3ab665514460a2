import { constants, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { SimulatedAccount } from './account';
import { accountHelpers, errorOf, newSimulatedAccount } from './fixture';
import { LATENCY } from '../latencies';

/**
 * EC2 instances: the lifecycle in modelled time, RunInstances and the password data EC2Launch posts.
 */
describe('simulated account: EC2 instances', () => {
  let account: SimulatedAccount;
  beforeEach(() => {
    account = newSimulatedAccount();
  });
  const { ec2, ssm, stateOf, rootOf, stopFully } = accountHelpers(() => account);

  describe('stops that hang', () => {
    test('a stop that hangs stays stopping; Force stops it after forcedStop', () => {
      const instance = account.addInstance();
      instance.stopHangs = true;
      ec2('StopInstances', { InstanceIds: [instance.instanceId] });
      account.advance(3600);
      expect(stateOf(instance.instanceId)).toBe('stopping');
      ec2('StopInstances', { InstanceIds: [instance.instanceId], Force: true });
      account.advance(LATENCY.forcedStop.seconds - 1);
      expect(stateOf(instance.instanceId)).toBe('stopping');
      account.advance(1);
      expect(stateOf(instance.instanceId)).toBe('stopped');
    });

    test('Force on a running instance first stops it normally: a stop that does not hang ends as usual', () => {
      const { instanceId } = account.addInstance();
      ec2('StopInstances', { InstanceIds: [instanceId], Force: true });
      expect(stateOf(instanceId)).toBe('stopping');
      account.advance(Math.min(LATENCY.windowsStop.seconds, LATENCY.forcedStop.seconds));
      expect(stateOf(instanceId)).toBe('stopped');
    });

    test('a stop without the OS shutdown takes seconds, even when the guest would hang', () => {
      const instance = account.addInstance();
      instance.stopHangs = true;
      ec2('StopInstances', { InstanceIds: [instance.instanceId], SkipOsShutdown: true });
      account.advance(LATENCY.stopWithoutOsShutdown.seconds);
      expect(stateOf(instance.instanceId)).toBe('stopped');
    });
  });

  describe('instances', () => {
    test('a stop takes the modelled Windows shutdown: running → stopping → stopped', () => {
      const { instanceId } = account.addInstance();
      ec2('StopInstances', { InstanceIds: [instanceId] });
      expect(stateOf(instanceId)).toBe('stopping');
      account.advance(LATENCY.windowsStop.seconds - 1);
      expect(stateOf(instanceId)).toBe('stopping');
      account.advance(1);
      expect(stateOf(instanceId)).toBe('stopped');
    });

    test('a start goes pending → running after the modelled time', () => {
      const { instanceId } = account.addInstance({ state: 'stopped' });
      ec2('StartInstances', { InstanceIds: [instanceId] });
      expect(stateOf(instanceId)).toBe('pending');
      account.advance(LATENCY.instancePendingToRunning.seconds);
      expect(stateOf(instanceId)).toBe('running');
    });

    test('StopInstances on a pending instance and StartInstances on a stopping one fail with IncorrectInstanceState', () => {
      const a = account.addInstance({ state: 'stopped' });
      ec2('StartInstances', { InstanceIds: [a.instanceId] });
      expect(errorOf(() => ec2('StopInstances', { InstanceIds: [a.instanceId] }))).toBe('IncorrectInstanceState');
      const b = account.addInstance();
      ec2('StopInstances', { InstanceIds: [b.instanceId] });
      expect(errorOf(() => ec2('StartInstances', { InstanceIds: [b.instanceId] }))).toBe('IncorrectInstanceState');
    });

    test('stopping a stopped instance and starting a running one change nothing (EC2 is idempotent there)', () => {
      const a = account.addInstance({ state: 'stopped' });
      const b = account.addInstance();
      expect(ec2('StopInstances', { InstanceIds: [a.instanceId] }).StoppingInstances[0].CurrentState.Name).toBe('stopped');
      expect(ec2('StartInstances', { InstanceIds: [b.instanceId] }).StartingInstances[0].CurrentState.Name).toBe('running');
    });

    test('an instance-store-backed instance cannot be stopped (UnsupportedOperation)', () => {
      const { instanceId } = account.addInstance({ rootDeviceType: 'instance-store' });
      expect(errorOf(() => ec2('StopInstances', { InstanceIds: [instanceId] }))).toBe('UnsupportedOperation');
    });

    test('a stopped instance starts only with a volume attached at its root device', () => {
      const { instanceId } = account.addInstance({ state: 'stopped' });
      ec2('DetachVolume', { VolumeId: rootOf(instanceId).volumeId });
      account.advance(LATENCY.volumeDetach.seconds);
      expect(errorOf(() => ec2('StartInstances', { InstanceIds: [instanceId] }))).toBe('InvalidInstanceID');
    });

    test('a stop releases an auto-assigned public IPv4 address and keeps an Elastic IP', () => {
      const auto = account.addInstance({ autoAssignedPublicIp: true });
      const elastic = account.addInstance({ elasticIp: true });
      stopFully(auto.instanceId);
      stopFully(elastic.instanceId);
      expect(account.instances.get(auto.instanceId)!.publicIp).toBeUndefined();
      expect(account.instances.get(elastic.instanceId)!.publicIp?.owner).toBe('elastic');
    });

    test('termination deletes volumes whose DeleteOnTermination is true and keeps the others, detached', () => {
      const keep = account.addInstance({ deleteOnTermination: false });
      const drop = account.addInstance({ deleteOnTermination: true });
      const kept = rootOf(keep.instanceId);
      const dropped = rootOf(drop.instanceId);
      ec2('TerminateInstances', { InstanceIds: [keep.instanceId, drop.instanceId] });
      expect(stateOf(keep.instanceId)).toBe('shutting-down');
      account.advance(LATENCY.shuttingDownToTerminated.seconds);
      expect(stateOf(keep.instanceId)).toBe('terminated');
      expect(kept.deleted).toBe(false);
      expect(kept.attachment).toBeUndefined();
      expect(dropped.deleted).toBe(true);
      expect(errorOf(() => ec2('DescribeVolumes', { VolumeIds: [dropped.volumeId] }))).toBe('InvalidVolume.NotFound');
    });

    test('unknown ids fail with EC2\'s NotFound codes', () => {
      expect(errorOf(() => ec2('DescribeInstances', { InstanceIds: ['i-0123456789abcdef0'] }))).toBe('InvalidInstanceID.NotFound');
      expect(errorOf(() => ec2('DescribeVolumes', { VolumeIds: ['vol-0123456789abcdef0'] }))).toBe('InvalidVolume.NotFound');
      expect(errorOf(() => ec2('DescribeImages', { ImageIds: ['ami-0123456789abcdef0'] }))).toBe('InvalidAMIID.NotFound');
    });

    test('DescribeInstances filters by tag, instance state and tag key', () => {
      const a = account.addInstance({ tags: { team: 'red' } });
      account.addInstance({ tags: { team: 'blue' } });
      const ids = (filters: any[]) => ec2('DescribeInstances', { Filters: filters }).Reservations.map((r: any) => r.Instances[0].InstanceId);
      expect(ids([{ Name: 'tag:team', Values: ['red'] }])).toEqual([a.instanceId]);
      expect(ids([{ Name: 'tag:team', Values: ['red'] }, { Name: 'instance-state-name', Values: ['stopped'] }])).toEqual([]);
      expect(ids([{ Name: 'tag-key', Values: ['team'] }])).toHaveLength(2);
      expect(errorOf(() => ids([{ Name: 'no-such-filter', Values: ['x'] }]))).toBe('InvalidParameterValue');
    });

    test('ModifyInstanceAttribute changes DeleteOnTermination while running, and only for a mapped device', () => {
      const { instanceId } = account.addInstance({ deleteOnTermination: true });
      ec2('ModifyInstanceAttribute', { InstanceId: instanceId, BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { DeleteOnTermination: false } }] });
      expect(rootOf(instanceId).attachment!.deleteOnTermination).toBe(false);
      expect(errorOf(() => ec2('ModifyInstanceAttribute', {
        InstanceId: instanceId, BlockDeviceMappings: [{ DeviceName: 'xvdz', Ebs: { DeleteOnTermination: false } }],
      }))).toBe('InvalidInstanceAttributeValue');
    });
  });

  describe('RunInstances', () => {
    const launch = (over: any = {}) => ec2('RunInstances', {
      ImageId: 'ami-0a2019aaaaaaaaaaa',
      InstanceType: 't3.medium',
      MinCount: 1,
      MaxCount: 1,
      ClientToken: 'token-1',
      NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: 'subnet-a', Groups: ['sg-helper'], AssociatePublicIpAddress: false }],
      IamInstanceProfile: { Arn: 'arn:aws:iam::123456789012:instance-profile/helper' },
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'role', Value: 'helper' }] }],
      ...over,
    }).Instances[0];

    test('the same ClientToken and parameters return the same instance; other parameters fail (IdempotentParameterMismatch)', () => {
      const first = launch();
      expect(launch().InstanceId).toBe(first.InstanceId);
      expect(errorOf(() => launch({ InstanceType: 't3.large' }))).toBe('IdempotentParameterMismatch');
      expect(launch({ ClientToken: 'token-2' }).InstanceId).not.toBe(first.InstanceId);
    });

    test('the subnet, security group and instance profile must exist', () => {
      expect(errorOf(() => launch({ ClientToken: 'a', NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: 'subnet-x', Groups: ['sg-helper'] }] }))).toBe('InvalidSubnetID.NotFound');
      expect(errorOf(() => launch({ ClientToken: 'b', NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: 'subnet-a', Groups: ['sg-x'] }] }))).toBe('InvalidGroup.NotFound');
      expect(errorOf(() => launch({ ClientToken: 'c', IamInstanceProfile: { Arn: 'arn:aws:iam::123456789012:instance-profile/x' } }))).toBe('InvalidParameterValue');
    });

    test('DescribeInstanceTypeOfferings by AZ lists the types offered there; RunInstances of a type not offered in the subnet\'s AZ fails (Unsupported)', () => {
      // GIVEN us-east-1a offers t3a.medium but not t3.medium
      account.instanceTypeOfferings.set('us-east-1a', new Set(['t3a.medium', 'm5.large']));
      const offered = (types: string[]) => ec2('DescribeInstanceTypeOfferings', {
        LocationType: 'availability-zone', Filters: [{ Name: 'location', Values: ['us-east-1a'] }, { Name: 'instance-type', Values: types }],
      }).InstanceTypeOfferings.map((o: any) => o.InstanceType);

      // THEN
      expect(offered(['t3.medium', 't3a.medium', 'm6i.large'])).toEqual(['t3a.medium']);
      expect(errorOf(() => launch())).toBe('Unsupported');
      expect(launch({ InstanceType: 't3a.medium' }).InstanceType).toBe('t3a.medium');
    });

    test('DescribeInstanceTypes: each type\'s default vCPUs; the instance-type filter leaves out what the Region lacks, InstanceTypes refuses it', () => {
      const vcpus = (input: Record<string, unknown>) => Object.fromEntries(ec2('DescribeInstanceTypes', input).InstanceTypes
        .map((t: any) => [t.InstanceType, t.VCpuInfo.DefaultVCpus]));

      expect(vcpus({ Filters: [{ Name: 'instance-type', Values: ['t3.xlarge', 't3.medium', 'x9.huge'] }] })).toEqual({ 't3.medium': 2, 't3.xlarge': 4 });
      expect(vcpus({ InstanceTypes: ['t3a.medium', 'm5.large', 'm6i.large'] })).toEqual({ 't3a.medium': 2, 'm5.large': 2, 'm6i.large': 2 });
      expect(errorOf(() => ec2('DescribeInstanceTypes', { InstanceTypes: ['t3.medium', 'x9.huge'] }))).toBe('InvalidInstanceType');
    });

    test('DescribeInstances gives each instance its type\'s default CPU options', () => {
      const { instanceId } = account.addInstance({ instanceType: 't3.xlarge' });
      const described = ec2('DescribeInstances', { InstanceIds: [instanceId] }).Reservations[0].Instances[0];
      expect(described.CpuOptions).toEqual({ CoreCount: 2, ThreadsPerCore: 2 });
    });

    test('a Windows helper with an instance profile registers Online in SSM some time after it runs', () => {
      const { InstanceId } = launch();
      const ping = () => ssm('DescribeInstanceInformation', { Filters: [{ Key: 'InstanceIds', Values: [InstanceId] }] }).InstanceInformationList;
      account.advance(LATENCY.instancePendingToRunning.seconds);
      expect(stateOf(InstanceId)).toBe('running');
      expect(ping()).toEqual([]);
      account.advance(LATENCY.windowsBootToSsmOnline.seconds);
      expect(ping()).toEqual([expect.objectContaining({ PingStatus: 'Online', PlatformType: 'Windows' })]);
      ec2('StopInstances', { InstanceIds: [InstanceId] });
      expect(ping()[0].PingStatus).toBe('ConnectionLost');
    });
  });

  describe('starting with an encrypted volume', () => {
    test('a volume whose customer managed key the caller may not use: StartInstances is accepted, the instance goes back to stopped', () => {
      // GIVEN a stopped instance whose data volume uses a customer key, and a caller not allowed it
      const key = account.addCustomerKey();
      const instance = account.addInstance({ state: 'stopped' });
      const data = account.addVolume({ kmsKeyId: key.arn });
      data.attachment = { instanceId: instance.instanceId, device: 'xvdb', state: 'attached', deleteOnTermination: false, attachTime: 0, transition: 0 };
      account.customerKeyAllowed = () => false;
      account.context = { execution: 'reset-001', state: 'Restore' };

      // WHEN
      ec2('StartInstances', { InstanceIds: [instance.instanceId] });
      expect(stateOf(instance.instanceId)).toBe('pending');
      account.advance(LATENCY.instancePendingToRunning.seconds);

      // THEN
      expect(stateOf(instance.instanceId)).toBe('stopped');
      expect(ec2('DescribeInstances', { InstanceIds: [instance.instanceId] }).Reservations[0].Instances[0].StateReason.Message).toMatch(/^Client.InternalError/);

      // WHEN the key is allowed (or it is the AWS managed key), the same start works
      account.customerKeyAllowed = arn => arn === key.arn;
      ec2('StartInstances', { InstanceIds: [instance.instanceId] });
      account.advance(LATENCY.instancePendingToRunning.seconds);
      expect(stateOf(instance.instanceId)).toBe('running');
    });
  });

  describe('password data', () => {
    test('appears some time after a boot that follows the offline fix, as an opaque blob, and only then', () => {
      const { instanceId } = account.addInstance({ state: 'stopped', keyName: 'ops-key' });
      const password = () => ec2('GetPasswordData', { InstanceId: instanceId }).PasswordData;
      // A plain boot: nothing new.
      ec2('StartInstances', { InstanceIds: [instanceId] });
      account.advance(LATENCY.instancePendingToRunning.seconds + LATENCY.passwordAfterBoot.seconds + 60);
      expect(password()).toBe('');
      stopFully(instanceId);
      // The fix, then a boot.
      rootOf(instanceId).passwordGenerationArmed = true;
      ec2('StartInstances', { InstanceIds: [instanceId] });
      account.advance(LATENCY.instancePendingToRunning.seconds + LATENCY.passwordAfterBoot.seconds - 1);
      expect(password()).toBe('');
      account.advance(1);
      expect(password()).toMatch(/^REHEARSAL-OPAQUE-BLOB\//);
      expect(account.secrets.has(password())).toBe(true);
      expect(rootOf(instanceId).passwordGenerationArmed).toBe(false);
    });

    test('with a registered key pair: a random password encrypted with its public key (RSA PKCS#1 v1.5), as EC2Launch posts it', () => {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      account.registerKeyPair('throwaway', publicKey.export({ type: 'spki', format: 'pem' }).toString());
      const { instanceId } = account.addInstance({ keyName: 'throwaway' });
      const blob = ec2('GetPasswordData', { InstanceId: instanceId }).PasswordData as string;
      expect(blob).not.toMatch(/REHEARSAL-OPAQUE/);
      // Node 20 refuses PKCS#1 v1.5 in privateDecrypt: raw RSA, then the padding by hand (what the CLI does).
      const padded = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, Buffer.from(blob, 'base64'));
      expect(padded.subarray(0, 2)).toEqual(Buffer.from([0, 2]));
      const password = padded.subarray(padded.indexOf(0, 2) + 1).toString('utf8');
      expect(password).toMatch(/^[\w-]{32}$/);
      expect(account.secrets.has(password)).toBe(true);
      expect(ec2('DescribeInstances', { InstanceIds: [instanceId] }).Reservations[0].Instances[0].KeyName).toBe('throwaway');
    });

    test('without a key pair there is never password data, not even after the offline fix ("Cannot retrieve Windows password")', () => {
      const { instanceId } = account.addInstance();
      expect(ec2('GetPasswordData', { InstanceId: instanceId }).PasswordData).toBe('');
      stopFully(instanceId);
      rootOf(instanceId).passwordGenerationArmed = true;
      ec2('StartInstances', { InstanceIds: [instanceId] });
      account.advance(LATENCY.instancePendingToRunning.seconds + LATENCY.passwordAfterBoot.seconds + 3600);
      expect(ec2('GetPasswordData', { InstanceId: instanceId }).PasswordData).toBe('');
    });

    test('stale data outlives a stop and a start; LaunchTime moves to the start, so the stale Timestamp is older', () => {
      const { instanceId } = account.addInstance({ keyName: 'ops-key' });
      const before = ec2('GetPasswordData', { InstanceId: instanceId });
      expect(before.PasswordData).not.toBe('');
      stopFully(instanceId);
      ec2('StartInstances', { InstanceIds: [instanceId] });
      account.advance(LATENCY.instancePendingToRunning.seconds);
      const after = ec2('GetPasswordData', { InstanceId: instanceId });
      const launchTime = ec2('DescribeInstances', { InstanceIds: [instanceId] }).Reservations[0].Instances[0].LaunchTime as Date;
      expect(after.PasswordData).toBe(before.PasswordData);
      expect((after.Timestamp as Date).getTime()).toBeLessThan(launchTime.getTime());
    });
  });
});
