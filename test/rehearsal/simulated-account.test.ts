import { constants, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { VirtualClock } from './clock';
import { LATENCY } from './latencies';
import { routeSdkToAccount } from './sdk-routing';
import { evaluateCondition, MAX_PENDING_SNAPSHOTS_PER_VOLUME, offlineFixDevice, Service, SimulatedAccount } from './simulated-account';
import { OFFLINE_PASSWORD_FIX_SCRIPT } from '../../src/workflow/private/offline-script';

/**
 * The simulated account is a test double; these tests keep it honest: each rule it enforces,
 * and each transition it models, has a test of its own.
 */
describe('simulated account', () => {
  let account: SimulatedAccount;
  const call = (service: Service, operation: string, input: any = {}) => account.call(service, operation, input);
  const ec2 = (operation: string, input: any = {}) => call('ec2', operation, input);
  const ssm = (operation: string, input: any = {}) => call('ssm', operation, input);
  const asg = (operation: string, input: any = {}) => call('autoscaling', operation, input);
  const ddb = (operation: string, input: any = {}) => call('dynamodb', operation, input);
  const errorOf = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      return (err as Error).name;
    }
    return 'no error';
  };
  const stateOf = (id: string) => ec2('DescribeInstances', { InstanceIds: [id] }).Reservations[0].Instances[0].State.Name;
  const rootOf = (id: string) => account.volumeAt(id, account.instances.get(id)!.rootDeviceName)!;
  const stopFully = (id: string) => {
    ec2('StopInstances', { InstanceIds: [id] });
    account.advance(LATENCY.windowsStop.seconds);
  };

  beforeEach(() => {
    account = new SimulatedAccount(new VirtualClock());
    account.subnets.set('subnet-a', { availabilityZone: 'us-east-1a' });
    account.securityGroups.add('sg-helper');
    account.instanceProfiles.add('arn:aws:iam::123456789012:instance-profile/helper');
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

  describe('volumes', () => {
    test('a root volume detaches only from a stopped instance (IncorrectState)', () => {
      const { instanceId } = account.addInstance();
      const root = rootOf(instanceId);
      expect(errorOf(() => ec2('DetachVolume', { VolumeId: root.volumeId }))).toBe('IncorrectState');
      stopFully(instanceId);
      expect(ec2('DetachVolume', { VolumeId: root.volumeId }).State).toBe('detaching');
    });

    test('a data volume detaches from a running instance: detaching → available', () => {
      const { instanceId } = account.addInstance();
      const data = account.addVolume();
      ec2('AttachVolume', { VolumeId: data.volumeId, InstanceId: instanceId, Device: 'xvdf' });
      account.advance(LATENCY.volumeAttach.seconds);
      ec2('DetachVolume', { VolumeId: data.volumeId });
      expect(ec2('DescribeVolumes', { VolumeIds: [data.volumeId] }).Volumes[0].Attachments[0].State).toBe('detaching');
      account.advance(LATENCY.volumeDetach.seconds);
      expect(ec2('DescribeVolumes', { VolumeIds: [data.volumeId] }).Volumes[0]).toMatchObject({ State: 'available', Attachments: [] });
    });

    test('DetachVolume of an available volume, a busy one or from the wrong instance fails', () => {
      const { instanceId } = account.addInstance({ state: 'stopped' });
      const other = account.addInstance();
      const root = rootOf(instanceId);
      expect(errorOf(() => ec2('DetachVolume', { VolumeId: root.volumeId, InstanceId: other.instanceId }))).toBe('InvalidAttachment.NotFound');
      ec2('DetachVolume', { VolumeId: root.volumeId });
      expect(errorOf(() => ec2('DetachVolume', { VolumeId: root.volumeId }))).toBe('IncorrectState');
      account.advance(LATENCY.volumeDetach.seconds);
      expect(errorOf(() => ec2('DetachVolume', { VolumeId: root.volumeId }))).toBe('IncorrectState');
    });

    test('a volume attaches only to an instance in its own AZ (InvalidVolume.ZoneMismatch)', () => {
      const { instanceId } = account.addInstance({ availabilityZone: 'us-east-1b' });
      const volume = account.addVolume({ availabilityZone: 'us-east-1a' });
      expect(errorOf(() => ec2('AttachVolume', { VolumeId: volume.volumeId, InstanceId: instanceId, Device: 'xvdf' }))).toBe('InvalidVolume.ZoneMismatch');
    });

    test('a volume attaches only at a free device name (InvalidParameterValue)', () => {
      const { instanceId } = account.addInstance();
      const a = account.addVolume();
      const b = account.addVolume();
      ec2('AttachVolume', { VolumeId: a.volumeId, InstanceId: instanceId, Device: 'xvdf' });
      expect(errorOf(() => ec2('AttachVolume', { VolumeId: b.volumeId, InstanceId: instanceId, Device: '/dev/xvdf' }))).toBe('InvalidParameterValue');
    });

    test('a volume in use cannot be attached again (VolumeInUse)', () => {
      const { instanceId } = account.addInstance();
      const other = account.addInstance();
      expect(errorOf(() => ec2('AttachVolume', { VolumeId: rootOf(instanceId).volumeId, InstanceId: other.instanceId, Device: 'xvdf' }))).toBe('VolumeInUse');
    });

    test('a volume with a Marketplace product code attaches only to a stopped instance', () => {
      const running = account.addInstance();
      const stopped = account.addInstance({ state: 'stopped' });
      const volume = account.addVolume({ productCodes: ['abcdefghijklmnopqrstuvwxy'] });
      expect(errorOf(() => ec2('AttachVolume', { VolumeId: volume.volumeId, InstanceId: running.instanceId, Device: 'xvdf' }))).toBe('IncorrectState');
      expect(ec2('AttachVolume', { VolumeId: volume.volumeId, InstanceId: stopped.instanceId, Device: 'xvdf' }).State).toBe('attaching');
    });

    test('an attach goes attaching → attached and gets DeleteOnTermination false, as EC2 gives attached volumes', () => {
      const { instanceId } = account.addInstance();
      const volume = account.addVolume();
      ec2('AttachVolume', { VolumeId: volume.volumeId, InstanceId: instanceId, Device: 'xvdf' });
      expect(volume.attachment).toMatchObject({ state: 'attaching', deleteOnTermination: false });
      account.advance(LATENCY.volumeAttach.seconds);
      expect(volume.attachment!.state).toBe('attached');
    });

    test('only a running or stopped instance takes an attachment', () => {
      const { instanceId } = account.addInstance();
      ec2('StopInstances', { InstanceIds: [instanceId] });
      const volume = account.addVolume();
      expect(errorOf(() => ec2('AttachVolume', { VolumeId: volume.volumeId, InstanceId: instanceId, Device: 'xvdf' }))).toBe('IncorrectState');
    });
  });

  describe('images and snapshots', () => {
    test('CreateImage: pending, available once its snapshots complete; names are unique (InvalidAMIName.Duplicate)', () => {
      const { instanceId } = account.addInstance({ state: 'stopped' });
      const { ImageId } = ec2('CreateImage', { InstanceId: instanceId, Name: 'backup-1', NoReboot: true });
      const image = () => ec2('DescribeImages', { Owners: ['self'], Filters: [{ Name: 'name', Values: ['backup-1'] }] }).Images;
      expect(image()).toEqual([expect.objectContaining({ ImageId, State: 'pending' })]);
      account.advance(LATENCY.snapshotCompletion.seconds);
      expect(image()[0].State).toBe('available');
      expect(errorOf(() => ec2('CreateImage', { InstanceId: instanceId, Name: 'backup-1' }))).toBe('InvalidAMIName.Duplicate');
      expect(errorOf(() => ec2('CreateImage', { InstanceId: instanceId, Name: 'no*stars' }))).toBe('InvalidAMIName.Malformed');
    });

    test('a snapshot is point-in-time: a change to the volume after CreateImage is not in it', () => {
      const { instanceId } = account.addInstance({ state: 'stopped' });
      const root = rootOf(instanceId);
      const { ImageId } = ec2('CreateImage', { InstanceId: instanceId, Name: 'backup-2', NoReboot: true });
      root.generation++;
      const snapshotId = account.images.get(ImageId)!.snapshotIds[0];
      expect(account.snapshots.get(snapshotId)!.generation).toBe(root.generation - 1);
    });

    test(`at most ${MAX_PENDING_SNAPSHOTS_PER_VOLUME} pending snapshots per volume (ConcurrentSnapshotLimitExceeded)`, () => {
      const { instanceId } = account.addInstance({ state: 'stopped' });
      const volumeId = rootOf(instanceId).volumeId;
      for (let i = 0; i < MAX_PENDING_SNAPSHOTS_PER_VOLUME; i++) ec2('CreateSnapshot', { VolumeId: volumeId });
      expect(errorOf(() => ec2('CreateSnapshot', { VolumeId: volumeId }))).toBe('ConcurrentSnapshotLimitExceeded');
      expect(errorOf(() => ec2('CreateImage', { InstanceId: instanceId, Name: 'backup-3' }))).toBe('ConcurrentSnapshotLimitExceeded');
      account.advance(LATENCY.snapshotCompletion.seconds);
      expect(ec2('CreateSnapshot', { VolumeId: volumeId }).State).toBe('pending');
    });

    test('only images of this account are listed for Owners self', () => {
      expect(ec2('DescribeImages', { Owners: ['self'] }).Images).toEqual([]);
      expect(ec2('DescribeImages', { Owners: ['801119661308'] }).Images).toHaveLength(3);
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

  describe('password data', () => {
    test('appears some time after a boot that follows the offline fix, as an opaque blob, and only then', () => {
      const { instanceId } = account.addInstance({ state: 'stopped' });
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

    test('stale data outlives a stop and a start; LaunchTime moves to the start, so the stale Timestamp is older', () => {
      const { instanceId } = account.addInstance();
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

  describe('Run Command', () => {
    const helper = () => {
      const instance = account.addInstance({ ssmAgent: true, isHelper: true, state: 'stopped' });
      ec2('StartInstances', { InstanceIds: [instance.instanceId] });
      account.advance(LATENCY.instancePendingToRunning.seconds + LATENCY.windowsBootToSsmOnline.seconds);
      return instance;
    };
    const send = (instanceId: string, DocumentName: string, Parameters: any) =>
      ssm('SendCommand', { InstanceIds: [instanceId], DocumentName, Parameters, Comment: 'test' }).Command.CommandId as string;
    const invocation = (CommandId: string, InstanceId: string) => ssm('GetCommandInvocation', { CommandId, InstanceId });
    const install = { action: ['Install'], name: ['AWSSupport-EC2Rescue'], version: ['latest'] };

    test('only registered instances take commands (InvalidInstanceId); unknown documents fail (InvalidDocument)', () => {
      const { instanceId } = account.addInstance();
      expect(errorOf(() => send(instanceId, 'AWS-ConfigureAWSPackage', install))).toBe('InvalidInstanceId');
      const h = helper();
      expect(errorOf(() => send(h.instanceId, 'AWS-Nope', {}))).toBe('InvalidDocument');
    });

    test('an invocation is invisible right after SendCommand, then Pending → InProgress → Success', () => {
      const h = helper();
      const id = send(h.instanceId, 'AWS-ConfigureAWSPackage', install);
      expect(errorOf(() => invocation(id, h.instanceId))).toBe('InvocationDoesNotExist');
      account.advance(1);
      expect(invocation(id, h.instanceId).Status).toBe('Pending');
      account.advance(LATENCY.commandDelivery.seconds);
      expect(invocation(id, h.instanceId).Status).toBe('InProgress');
      account.advance(LATENCY.installEc2Rescue.seconds);
      expect(invocation(id, h.instanceId).Status).toBe('Success');
      expect(account.instances.get(h.instanceId)!.ec2RescueInstalled).toBe(true);
      expect(ssm('ListCommands', { InstanceId: h.instanceId, Filters: [{ key: 'DocumentName', value: 'AWS-ConfigureAWSPackage' }] }).Commands)
        .toEqual([expect.objectContaining({ CommandId: id, Comment: 'test', Status: 'Success' })]);
    });

    test('the offline fix needs EC2Rescue and the volume attached at the device it names, and arms password generation', () => {
      const h = helper();
      const volume = account.addVolume();
      const fix = { commands: [OFFLINE_PASSWORD_FIX_SCRIPT] };
      const run = () => {
        const id = send(h.instanceId, 'AWS-RunPowerShellScript', fix);
        account.advance(LATENCY.commandDelivery.seconds + LATENCY.offlinePasswordFix.seconds);
        return invocation(id, h.instanceId);
      };
      expect(run()).toMatchObject({ Status: 'Failed', StandardErrorContent: expect.stringMatching(/EC2Rescue is not installed/) });
      send(h.instanceId, 'AWS-ConfigureAWSPackage', install);
      account.advance(LATENCY.commandDelivery.seconds + LATENCY.installEc2Rescue.seconds);
      expect(run()).toMatchObject({ Status: 'Failed', StandardErrorContent: expect.stringMatching(/no offline disk at xvdf/) });
      ec2('AttachVolume', { VolumeId: volume.volumeId, InstanceId: h.instanceId, Device: 'xvdf' });
      account.advance(LATENCY.volumeAttach.seconds);
      expect(run().Status).toBe('Success');
      expect(volume).toMatchObject({ passwordGenerationArmed: true, generation: 2 });
    });

    test('the offline fix\'s device is read from the script the workflow sends', () => {
      expect(offlineFixDevice(OFFLINE_PASSWORD_FIX_SCRIPT)).toBe('xvdf');
      expect(offlineFixDevice('Invoke-EC2RescueEnablePasswordGeneration -BlockDeviceName "xvdg"')).toBe('xvdg');
      expect(offlineFixDevice('Get-Disk')).toBeUndefined();
    });

    test('the online ResetAccess writes /EC2Rescue/Passwords/<id> as a SecureString; the key must be an id or short alias', () => {
      const { instanceId } = account.addInstance({ ssmAgent: true });
      expect(errorOf(() => send(instanceId, 'AWSSupport-RunEC2RescueForWindowsTool', {
        Command: ['ResetAccess'], Parameters: ['arn:aws:kms:us-east-1:123456789012:key/0b0b0b0b-1111-2222-3333-444444444444'],
      }))).toBe('InvalidParameters');
      const id = send(instanceId, 'AWSSupport-RunEC2RescueForWindowsTool', { Command: ['ResetAccess'], Parameters: ['alias/aws/ssm'] });
      account.advance(LATENCY.commandDelivery.seconds + LATENCY.onlineResetAccess.seconds);
      expect(invocation(id, instanceId).Status).toBe('Success');
      const parameter = account.parameters.get(`/EC2Rescue/Passwords/${instanceId}`)!;
      expect(parameter).toMatchObject({ type: 'SecureString', keyId: 'alias/aws/ssm' });
      expect(account.secrets.has(parameter.value)).toBe(true);
      // Deleted once read (the CLI's --delete); a second delete finds nothing.
      ssm('DeleteParameter', { Name: `/EC2Rescue/Passwords/${instanceId}` });
      expect(account.parameters.has(`/EC2Rescue/Passwords/${instanceId}`)).toBe(false);
      expect(errorOf(() => ssm('DeleteParameter', { Name: `/EC2Rescue/Passwords/${instanceId}` }))).toBe('ParameterNotFound');
    });

    test('a command to an instance that is not Online stays Pending, then times out', () => {
      const { instanceId } = account.addInstance({ ssmAgent: true });
      stopFully(instanceId);
      const id = ssm('SendCommand', { InstanceIds: [instanceId], DocumentName: 'AWS-ConfigureAWSPackage', Parameters: install, TimeoutSeconds: 60 }).Command.CommandId;
      account.advance(30);
      expect(invocation(id, instanceId).Status).toBe('Pending');
      account.advance(60);
      expect(invocation(id, instanceId).Status).toBe('TimedOut');
    });

    test('parameters are listed by prefix, a page at a time, and deleted', () => {
      for (let i = 0; i < 60; i++) {
        account.parameters.set(`/EC2Rescue/Passwords/i-${String(i).padStart(8, '0')}`, { name: `/EC2Rescue/Passwords/i-${String(i).padStart(8, '0')}`, value: 'x', type: 'SecureString', lastModified: 0, version: 1 });
      }
      const first = ssm('DescribeParameters', { ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: ['/EC2Rescue/Passwords/'] }] });
      expect(first.Parameters).toHaveLength(50);
      const second = ssm('DescribeParameters', { ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: ['/EC2Rescue/Passwords/'] }], NextToken: first.NextToken });
      expect(second.Parameters).toHaveLength(10);
      expect(ssm('DeleteParameters', { Names: ['/EC2Rescue/Passwords/i-00000000', '/nope'] })).toEqual({ DeletedParameters: ['/EC2Rescue/Passwords/i-00000000'], InvalidParameters: ['/nope'] });
    });
  });

  describe('Auto Scaling', () => {
    test('EnterStandby only from InService, decrementing the desired capacity; ExitStandby only from Standby, incrementing it', () => {
      const { instanceId } = account.addInstance({ autoScalingGroup: 'web' });
      expect(errorOf(() => asg('ExitStandby', { AutoScalingGroupName: 'web', InstanceIds: [instanceId] }))).toBe('ValidationError');
      asg('EnterStandby', { AutoScalingGroupName: 'web', InstanceIds: [instanceId], ShouldDecrementDesiredCapacity: true });
      expect(account.desiredCapacity.get('web')).toBe(0);
      expect(errorOf(() => asg('EnterStandby', { AutoScalingGroupName: 'web', InstanceIds: [instanceId], ShouldDecrementDesiredCapacity: true }))).toBe('ValidationError');
      account.advance(LATENCY.enterStandby.seconds);
      const lifecycle = () => asg('DescribeAutoScalingInstances', { InstanceIds: [instanceId] }).AutoScalingInstances[0].LifecycleState;
      expect(lifecycle()).toBe('Standby');
      asg('ExitStandby', { AutoScalingGroupName: 'web', InstanceIds: [instanceId] });
      expect(lifecycle()).toBe('Pending');
      account.advance(LATENCY.exitStandby.seconds);
      expect(lifecycle()).toBe('InService');
      expect(account.desiredCapacity.get('web')).toBe(1);
    });

    test('a stopped InService member fails its health check and is replaced (terminated); in Standby it is kept', () => {
      const inService = account.addInstance({ autoScalingGroup: 'web' });
      const standby = account.addInstance({ autoScalingGroup: 'web', autoScalingLifecycle: 'Standby' });
      stopFully(inService.instanceId);
      stopFully(standby.instanceId);
      account.advance(120);
      expect(stateOf(inService.instanceId)).toBe('terminated');
      expect(stateOf(standby.instanceId)).toBe('stopped');
    });
  });

  describe('DynamoDB', () => {
    const table = 'locks';
    const item = (owner: string, expiresAt: number) => ({ instanceId: { S: 'i-1' }, executionArn: { S: owner }, expiresAt: { N: String(expiresAt) } });
    const put = (owner: string, now: number) => ddb('PutItem', {
      TableName: table,
      Item: item(owner, now + 100),
      ConditionExpression: 'attribute_not_exists(instanceId) OR executionArn = :me OR expiresAt < :now',
      ExpressionAttributeValues: { ':me': { S: owner }, ':now': { N: String(now) } },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    beforeEach(() => account.addTable(table));

    test('a conditional put takes a free lock, lets its owner retake it, refuses another owner with the old item, takes an expired one', () => {
      put('a', 1000);
      put('a', 1001);
      let refused: any;
      try {
        put('b', 1002);
      } catch (err) {
        refused = err;
      }
      expect(refused).toMatchObject({ name: 'ConditionalCheckFailedException', Item: item('a', 1101) });
      put('b', 2000);
      expect(ddb('GetItem', { TableName: table, Key: { instanceId: { S: 'i-1' } } }).Item.executionArn).toEqual({ S: 'b' });
    });

    test('a conditional delete removes only its owner\'s item; unknown tables fail (ResourceNotFoundException)', () => {
      put('a', 1000);
      const del = (owner: string) => ddb('DeleteItem', {
        TableName: table, Key: { instanceId: { S: 'i-1' } }, ConditionExpression: 'executionArn = :me', ExpressionAttributeValues: { ':me': { S: owner } },
      });
      expect(errorOf(() => del('b'))).toBe('ConditionalCheckFailedException');
      del('a');
      expect(ddb('GetItem', { TableName: table, Key: { instanceId: { S: 'i-1' } } }).Item).toBeUndefined();
      expect(errorOf(() => del('a'))).toBe('ConditionalCheckFailedException');
      expect(errorOf(() => ddb('GetItem', { TableName: 'nope', Key: {} }))).toBe('ResourceNotFoundException');
    });

    test('condition expressions: OR of ANDs, comparisons on numbers and strings', () => {
      const it = { a: { S: 'x' }, n: { N: '5' } };
      expect(evaluateCondition('a = :x AND n < :six', it, { ':x': { S: 'x' }, ':six': { N: '6' } })).toBe(true);
      expect(evaluateCondition('attribute_exists(z) OR n > :six', it, { ':six': { N: '6' } })).toBe(false);
      expect(() => evaluateCondition('begins_with(a, :x)', it, {})).toThrow(/cannot evaluate/);
    });
  });

  describe('KMS', () => {
    test('DescribeKey tells AWS managed keys (by alias or ARN) from customer keys; unknown keys fail (NotFoundException)', () => {
      const customer = account.addCustomerKey();
      expect(call('kms', 'DescribeKey', { KeyId: 'alias/aws/ebs' }).KeyMetadata.KeyManager).toBe('AWS');
      expect(call('kms', 'DescribeKey', { KeyId: customer.arn }).KeyMetadata.KeyManager).toBe('CUSTOMER');
      expect(errorOf(() => call('kms', 'DescribeKey', { KeyId: 'alias/nope' }))).toBe('NotFoundException');
    });
  });

  describe('routing and faults', () => {
    test('the real SDK client reaches the account; an operation it does not model fails loudly', async () => {
      const unroute = routeSdkToAccount(account);
      try {
        const { instanceId } = account.addInstance();
        const out = await new EC2Client({ region: 'us-east-1' }).send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
        expect(out.Reservations![0].Instances![0].InstanceId).toBe(instanceId);
        expect(() => call('ec2', 'AllocateAddress')).toThrow(/does not implement ec2:AllocateAddress/);
      } finally {
        unroute();
      }
    });

    test('a fault hook fails the calls it chooses, and every call is recorded with its caller', () => {
      account.fault = ({ operation }) => (operation === 'DescribeVolumes' ? Object.assign(new Error('Rate exceeded'), { name: 'RequestLimitExceeded' }) : undefined);
      account.context = { execution: 'e1', state: 'S' };
      expect(errorOf(() => ec2('DescribeVolumes'))).toBe('RequestLimitExceeded');
      ec2('DescribeInstances');
      expect(account.calls.map(c => [c.operation, c.error, c.context.state])).toEqual([['DescribeVolumes', 'RequestLimitExceeded', 'S'], ['DescribeInstances', undefined, 'S']]);
      expect(account.mutations()).toEqual([]);
    });
  });
});
