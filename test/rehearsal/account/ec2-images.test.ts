import { SimulatedAccount } from './account';
import { MAX_PENDING_SNAPSHOTS_PER_VOLUME } from './ec2-images';
import { accountHelpers, errorOf, newSimulatedAccount } from './fixture';
import { LATENCY } from '../latencies';

/**
 * AMIs and snapshots: CreateImage, point-in-time snapshots, the pending-snapshot limit.
 */
describe('simulated account: images and snapshots', () => {
  let account: SimulatedAccount;
  beforeEach(() => {
    account = newSimulatedAccount();
  });
  const { ec2, rootOf } = accountHelpers(() => account);

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

    test('the pending image lists its snapshots at once, started at CreateImage; it is available when they complete', () => {
      const { instanceId } = account.addInstance({ state: 'stopped' });
      const requestedAt = account.now();
      const { ImageId } = ec2('CreateImage', { InstanceId: instanceId, Name: 'backup-4', NoReboot: true });
      const [image] = ec2('DescribeImages', { ImageIds: [ImageId] }).Images;
      expect(image).toMatchObject({ State: 'pending', BlockDeviceMappings: [{ Ebs: { SnapshotId: expect.stringMatching(/^snap-/) } }] });
      const snapshot = account.snapshots.get(image.BlockDeviceMappings[0].Ebs.SnapshotId)!;
      expect(snapshot).toMatchObject({ state: 'pending', startTime: requestedAt, volumeId: rootOf(instanceId).volumeId });
      account.advance(LATENCY.snapshotCompletion.seconds - 1);
      expect(ec2('DescribeImages', { ImageIds: [ImageId] }).Images[0].State).toBe('pending');
      account.advance(1);
      expect({ snapshot: snapshot.state, image: ec2('DescribeImages', { ImageIds: [ImageId] }).Images[0].State }).toEqual({ snapshot: 'completed', image: 'available' });
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

    test('a snapshot deleted while pending still counts against the pending limit until it completes', () => {
      const { instanceId } = account.addInstance({ state: 'stopped' });
      const volumeId = rootOf(instanceId).volumeId;
      const ids = Array.from({ length: MAX_PENDING_SNAPSHOTS_PER_VOLUME }, () => ec2('CreateSnapshot', { VolumeId: volumeId }).SnapshotId);
      ec2('DeleteSnapshot', { SnapshotId: ids[0] });
      expect(errorOf(() => ec2('DescribeSnapshots', { SnapshotIds: [ids[0]] }))).toBe('InvalidSnapshot.NotFound');
      expect(errorOf(() => ec2('CreateSnapshot', { VolumeId: volumeId }))).toBe('ConcurrentSnapshotLimitExceeded');
      account.advance(LATENCY.snapshotCompletion.seconds);
      expect(ec2('CreateSnapshot', { VolumeId: volumeId }).State).toBe('pending');
    });

    test('only images of this account are listed for Owners self', () => {
      expect(ec2('DescribeImages', { Owners: ['self'] }).Images).toEqual([]);
      expect(ec2('DescribeImages', { Owners: ['801119661308'] }).Images).toHaveLength(3);
    });
  });

  describe('removing images and snapshots', () => {
    /** A backup-like image of a stopped instance, its snapshots tagged as CreateImage's TagSpecifications ask. */
    const imaged = (name: string) => {
      const { instanceId } = account.addInstance({ state: 'stopped' });
      const tags = [{ Key: 'role', Value: 'backup' }];
      const { ImageId } = ec2('CreateImage', {
        InstanceId: instanceId,
        Name: name,
        NoReboot: true,
        TagSpecifications: [{ ResourceType: 'image', Tags: tags }, { ResourceType: 'snapshot', Tags: tags }],
      });
      return { imageId: ImageId as string, snapshotId: account.images.get(ImageId)!.snapshotIds[0] };
    };

    test('DescribeSnapshots lists the account\'s snapshots with their tags, start time and state, filtered by tag', () => {
      // GIVEN
      const { snapshotId } = imaged('backup-4');
      account.addInstance();

      // WHEN
      const listed = ec2('DescribeSnapshots', { OwnerIds: ['self'], Filters: [{ Name: 'tag:role', Values: ['backup'] }] }).Snapshots;

      // THEN
      expect(listed).toEqual([expect.objectContaining({
        SnapshotId: snapshotId, State: 'pending', StartTime: new Date(account.now()), VolumeSize: 30, Tags: [{ Key: 'role', Value: 'backup' }],
      })]);
      expect(ec2('DescribeSnapshots', { OwnerIds: ['self'], Filters: [{ Name: 'tag:role', Values: ['other'] }] }).Snapshots).toEqual([]);
      expect(errorOf(() => ec2('DescribeSnapshots', { SnapshotIds: ['snap-0000000000000000'] }))).toBe('InvalidSnapshot.NotFound');
    });

    test('a snapshot a registered image uses cannot be deleted (InvalidSnapshot.InUse)', () => {
      // GIVEN
      const { snapshotId } = imaged('backup-5');
      account.advance(LATENCY.snapshotCompletion.seconds);

      // WHEN / THEN
      expect(errorOf(() => ec2('DeleteSnapshot', { SnapshotId: snapshotId }))).toBe('InvalidSnapshot.InUse');
      expect(account.snapshots.has(snapshotId)).toBe(true);
    });

    test('deregistering an image leaves its snapshots; they can be deleted after, once', () => {
      // GIVEN
      const { imageId, snapshotId } = imaged('backup-6');

      // WHEN
      ec2('DeregisterImage', { ImageId: imageId });

      // THEN: the image is gone, its snapshot is not.
      expect(errorOf(() => ec2('DescribeImages', { ImageIds: [imageId] }))).toBe('InvalidAMIID.NotFound');
      expect(ec2('DescribeSnapshots', { SnapshotIds: [snapshotId] }).Snapshots).toHaveLength(1);
      expect(errorOf(() => ec2('DeregisterImage', { ImageId: imageId }))).toBe('InvalidAMIID.NotFound');
      // WHEN the snapshot is deleted (still pending: allowed)
      ec2('DeleteSnapshot', { SnapshotId: snapshotId });
      // THEN
      expect(account.snapshots.has(snapshotId)).toBe(false);
      expect(errorOf(() => ec2('DeleteSnapshot', { SnapshotId: snapshotId }))).toBe('InvalidSnapshot.NotFound');
    });

    test('only the owner deregisters an image (AuthFailure for Amazon\'s public images)', () => {
      expect(errorOf(() => ec2('DeregisterImage', { ImageId: 'ami-0a2022aaaaaaaaaaa' }))).toBe('AuthFailure');
      expect(account.images.has('ami-0a2022aaaaaaaaaaa')).toBe(true);
    });
  });
});
