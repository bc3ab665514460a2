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
