import { SimulatedAccount } from './account';
import { accountHelpers, errorOf, newSimulatedAccount } from './fixture';
import { LATENCY } from '../latencies';

/**
 * EBS volumes: attach and detach rules, the attachment's states, DeleteOnTermination.
 */
describe('simulated account: EBS volumes', () => {
  let account: SimulatedAccount;
  beforeEach(() => {
    account = newSimulatedAccount();
  });
  const { ec2, rootOf, stopFully } = accountHelpers(() => account);

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

    describe('writes in progress (I7)', () => {
      /** A running helper with a volume at xvdf and a command running on it. */
      const busyHelper = () => {
        const helper = account.addInstance({ ssmAgent: true, isHelper: true, state: 'stopped' });
        ec2('StartInstances', { InstanceIds: [helper.instanceId] });
        account.advance(LATENCY.instancePendingToRunning.seconds + LATENCY.windowsBootToSsmOnline.seconds);
        const volume = account.addVolume();
        ec2('AttachVolume', { VolumeId: volume.volumeId, InstanceId: helper.instanceId, Device: 'xvdf' });
        account.advance(LATENCY.volumeAttach.seconds);
        account.hangingDocuments.add('AWS-RunPowerShellScript');
        const commandId = account.call('ssm', 'SendCommand', { InstanceIds: [helper.instanceId], DocumentName: 'AWS-RunPowerShellScript', Parameters: { commands: ['x'] } }).Command.CommandId;
        account.advance(LATENCY.commandDelivery.seconds);
        return { helper, volume, commandId };
      };

      test('a volume detached from a running instance while a command runs there is possibly corrupted, and the history says the instance was running', () => {
        const { helper, volume } = busyHelper();
        ec2('DetachVolume', { VolumeId: volume.volumeId });
        expect(volume.possiblyCorrupted).toMatch(/while a command could write to it/);
        expect(volume.history.at(-1)).toMatchObject({ what: `detach:${helper.instanceId}`, instanceState: 'running' });
      });

      test('cancelling is not enough: until Cancelled, the command may still write', () => {
        const { volume, commandId } = busyHelper();
        account.call('ssm', 'CancelCommand', { CommandId: commandId });
        ec2('DetachVolume', { VolumeId: volume.volumeId });
        expect(volume.possiblyCorrupted).toBeDefined();
      });

      test('from a stopped instance the detach is clean, whatever the command\'s state', () => {
        const { helper, volume } = busyHelper();
        stopFully(helper.instanceId);
        ec2('DetachVolume', { VolumeId: volume.volumeId });
        expect(volume.possiblyCorrupted).toBeUndefined();
        expect(volume.history.at(-1)).toMatchObject({ instanceState: 'stopped' });
      });

      test('a forced detach from a running instance is possibly corrupted even without a command', () => {
        const { instanceId } = account.addInstance();
        const volume = account.addVolume();
        ec2('AttachVolume', { VolumeId: volume.volumeId, InstanceId: instanceId, Device: 'xvdg' });
        account.advance(LATENCY.volumeAttach.seconds);
        ec2('DetachVolume', { VolumeId: volume.volumeId, Force: true });
        expect(volume.possiblyCorrupted).toMatch(/force-detached/);
      });

      test('a stop without the OS shutdown while a command runs leaves the attached volume possibly corrupted; a normal stop does not', () => {
        const skipped = busyHelper();
        ec2('StopInstances', { InstanceIds: [skipped.helper.instanceId], SkipOsShutdown: true });
        account.advance(LATENCY.stopWithoutOsShutdown.seconds);
        expect(skipped.volume.possiblyCorrupted).toMatch(/without the OS shutdown/);

        const graceful = busyHelper();
        stopFully(graceful.helper.instanceId);
        expect(graceful.volume.possiblyCorrupted).toBeUndefined();
      });
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
});
