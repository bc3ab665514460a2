/**
 * AMIs and EBS snapshots: CreateImage (a point-in-time snapshot of every attached volume),
 * CreateSnapshot, DescribeImages, and the limit of pending snapshots per volume.
 */
import type { Operations, SimulatedAccount } from './account';
import { matchesFilter } from './ec2-filters';
import { requestedTags, tagList } from './ec2-tags';
import type { SimVolume } from './ec2-volumes';
import { ec2Error } from './errors';

export interface SimSnapshot {
  readonly snapshotId: string;
  readonly volumeId: string;
  readonly startTime: number;
  /** The volume's generation at the snapshot's start (point-in-time). */
  readonly generation: number;
  state: 'pending' | 'completed';
  readonly tags: Record<string, string>;
}

export interface SimImage {
  readonly imageId: string;
  readonly name: string;
  readonly description?: string;
  readonly ownerId: string;
  /** `amazon` for images Amazon publishes (EC2's ec2:Owner condition key and DescribeImages' ImageOwnerAlias). */
  readonly ownerAlias?: 'amazon';
  readonly isPublic: boolean;
  state: 'pending' | 'available' | 'failed';
  readonly rootDeviceName: string;
  readonly creationTime: number;
  readonly snapshotIds: string[];
  readonly sourceInstanceId?: string;
  readonly tags: Record<string, string>;
  readonly platformDetails: string;
}

const AMI_NAME = /^[A-Za-z0-9()[\] ./\-'@_]{3,128}$/;
/** EC2's limit of pending snapshots per volume. */
export const MAX_PENDING_SNAPSHOTS_PER_VOLUME = 5;

function refuseAtPendingSnapshotLimit(account: SimulatedAccount, volume: SimVolume): void {
  const pending = [...account.snapshots.values()].filter(s => s.volumeId === volume.volumeId && s.state === 'pending').length;
  if (pending >= MAX_PENDING_SNAPSHOTS_PER_VOLUME) {
    throw ec2Error('ConcurrentSnapshotLimitExceeded', `Maximum number of pending snapshots (${MAX_PENDING_SNAPSHOTS_PER_VOLUME}) reached for volume ${volume.volumeId}`);
  }
}

function startSnapshot(account: SimulatedAccount, volume: SimVolume, tags: Record<string, string>): string {
  const snapshot: SimSnapshot = {
    snapshotId: account.newId('snap'), volumeId: volume.volumeId, startTime: account.now(), generation: volume.generation, state: 'pending', tags,
  };
  account.snapshots.set(snapshot.snapshotId, snapshot);
  account.after('snapshotCompletion', () => { snapshot.state = 'completed'; });
  return snapshot.snapshotId;
}

export const EC2_IMAGE_OPERATIONS: Operations = {
  DescribeImages(account, input) {
    let images: SimImage[];
    if (input.ImageIds?.length) {
      images = (input.ImageIds as string[]).map(id => {
        const image = account.images.get(id);
        if (!image) throw ec2Error('InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);
        return image;
      });
    } else {
      images = [...account.images.values()];
    }
    if (input.Owners?.length) {
      images = images.filter(i => (input.Owners as string[]).some(o => (o === 'self' ? i.ownerId === account.accountId : i.ownerId === o)));
    }
    for (const filter of input.Filters ?? []) {
      images = images.filter(i => matchesFilter(filter, { 'name': [i.name], 'state': [i.state], 'image-id': [i.imageId] }, i.tags));
    }
    return {
      Images: images.map(i => ({
        ImageId: i.imageId,
        Name: i.name,
        ...(i.description ? { Description: i.description } : {}),
        OwnerId: i.ownerId,
        Public: i.isPublic,
        State: i.state,
        RootDeviceName: i.rootDeviceName,
        RootDeviceType: 'ebs',
        CreationDate: new Date(i.creationTime).toISOString(),
        PlatformDetails: i.platformDetails,
        BlockDeviceMappings: i.snapshotIds.map(s => ({ DeviceName: i.rootDeviceName, Ebs: { SnapshotId: s } })),
        Tags: tagList(i.tags),
      })),
    };
  },

  CreateImage(account, input) {
    const instance = account.instance(input.InstanceId);
    if (!['running', 'stopped'].includes(instance.state)) {
      throw ec2Error('IncorrectInstanceState', `The instance '${instance.instanceId}' is not in a state from which it can be imaged.`);
    }
    if (typeof input.Name !== 'string' || !AMI_NAME.test(input.Name)) {
      throw ec2Error('InvalidAMIName.Malformed', 'AMI names must be between 3 and 128 characters long, and may contain letters, numbers, \'(\', \')\', \'.\', \'-\', \'/\' and \'_\'');
    }
    if ([...account.images.values()].some(i => i.ownerId === account.accountId && i.name === input.Name)) {
      throw ec2Error('InvalidAMIName.Duplicate', `AMI name ${input.Name} is already in use by AMI ${[...account.images.values()].find(i => i.name === input.Name)!.imageId}`);
    }
    const volumes = [...account.volumes.values()].filter(v => !v.deleted && v.attachment?.instanceId === instance.instanceId);
    volumes.forEach(v => refuseAtPendingSnapshotLimit(account, v));
    const snapshotIds = volumes.map(v => startSnapshot(account, v, requestedTags(input, 'snapshot')));
    const image: SimImage = {
      imageId: account.newId('ami'),
      name: input.Name,
      description: input.Description,
      ownerId: account.accountId,
      isPublic: false,
      state: 'pending',
      rootDeviceName: instance.rootDeviceName,
      creationTime: account.now(),
      snapshotIds,
      sourceInstanceId: instance.instanceId,
      tags: requestedTags(input, 'image'),
      platformDetails: instance.platformDetails,
    };
    account.images.set(image.imageId, image);
    account.moment(`image-requested:${image.name}`);
    account.after('snapshotCompletion', () => {
      if (image.state === 'pending') image.state = 'available';
    });
    if (instance.state === 'running' && !input.NoReboot) {
      instance.rebootedByCreateImage = true;
    }
    return { ImageId: image.imageId };
  },

  /** CreateSnapshot, to exercise the pending-snapshot limit directly. */
  CreateSnapshot(account, input) {
    const volume = account.volume(input.VolumeId);
    refuseAtPendingSnapshotLimit(account, volume);
    return { SnapshotId: startSnapshot(account, volume, {}), State: 'pending' };
  },
};
