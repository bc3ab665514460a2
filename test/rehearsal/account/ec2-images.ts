/**
 * AMIs and EBS snapshots: CreateImage (a point-in-time snapshot of every attached volume),
 * CreateSnapshot, DescribeImages, DescribeSnapshots, the limit of pending snapshots per volume,
 * and their removal: DeregisterImage (which leaves the snapshots) and DeleteSnapshot (refused
 * while a registered image uses the snapshot).
 *
 * Documents quoted:
 * - [CI] EC2 API Reference, CreateImage (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateImage.html).
 * - [SNAP] EBS User Guide, "Create Amazon EBS snapshots" (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-creating-snapshot.html).
 * - [DI] EC2 API Reference, DeregisterImage (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeregisterImage.html);
 *   EC2 User Guide, "Deregister an Amazon EC2 AMI" (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/deregister-ami.html).
 * - [DS] EC2 API Reference, DeleteSnapshot (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSnapshot.html).
 * - [DIM] EC2 API Reference, DescribeImages (.../APIReference/API_DescribeImages.html); [DSN] DescribeSnapshots
 *   (.../APIReference/API_DescribeSnapshots.html).
 * - [ERR] EC2 API Reference, "Error codes for the Amazon EC2 API" (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
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

/**
 * EC2 API Reference, CreateImage (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateImage.html),
 * Name: "Constraints: 3-128 alphanumeric characters, parentheses (()), square brackets ([]), spaces ( ), periods
 * (.), slashes (/), dashes (-), single quotes ('), at-signs (@), or underscores(_)".
 */
const AMI_NAME = /^[A-Za-z0-9()[\] ./\-'@_]{3,128}$/;
/**
 * EC2's limit of pending snapshots per volume. Amazon EBS User Guide, "Create Amazon EBS snapshots" (2016
 * edition, https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ebs-creating-snapshot.html): "There is a limit of 5
 * pending snapshots for a single volume. If you receive a ConcurrentSnapshotLimitExceeded error ... wait for one or
 * more of the pending snapshots to complete".
 */
export const MAX_PENDING_SNAPSHOTS_PER_VOLUME = 5;

/**
 * Snapshots deleted while pending, per account: gone from the account's view, still counted against their volume's
 * pending limit until they complete. EBS User Guide, "Delete an Amazon EBS snapshot"
 * (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-deleting-snapshot.html): a snapshot still in progress may be
 * deleted, but "the snapshot must complete before the deletion takes effect", and meanwhile a new one may fail with
 * ConcurrentSnapshotLimitExceeded; the Knowledge Center (https://repost.aws/knowledge-center/ebs-snapshot-stuck)
 * counts the pending snapshots "including any deleted while in progress".
 */
const deletedWhilePending = new WeakMap<SimulatedAccount, SimSnapshot[]>();

function refuseAtPendingSnapshotLimit(account: SimulatedAccount, volume: SimVolume): void {
  const ghosts = (deletedWhilePending.get(account) ?? []).filter(s => s.state === 'pending');
  deletedWhilePending.set(account, ghosts);
  const pending = [...account.snapshots.values(), ...ghosts].filter(s => s.volumeId === volume.volumeId && s.state === 'pending').length;
  if (pending >= MAX_PENDING_SNAPSHOTS_PER_VOLUME) {
    throw ec2Error('ConcurrentSnapshotLimitExceeded', `Maximum number of pending snapshots (${MAX_PENDING_SNAPSHOTS_PER_VOLUME}) reached for volume ${volume.volumeId}`);
  }
}

/**
 * A snapshot is point-in-time at its request: Amazon EBS User Guide, "Create Amazon EBS snapshots"
 * (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-creating-snapshot.html): "Snapshot creation is
 * asynchronous. The snapshot is created immediately, but it remains in the pending state until all of data has
 * been transferred to Amazon S3"; "You can continue to use the volume during this time without impacting the
 * snapshot. The snapshot includes only the data that was written to the volume at the time the snapshot was
 * requested." So it records the volume's content generation now, and completes later.
 */
function startSnapshot(account: SimulatedAccount, volume: SimVolume, tags: Record<string, string>, onCompleted?: () => void): string {
  const snapshot: SimSnapshot = {
    snapshotId: account.newId('snap'), volumeId: volume.volumeId, startTime: account.now(), generation: volume.generation, state: 'pending', tags,
  };
  account.snapshots.set(snapshot.snapshotId, snapshot);
  account.after('snapshotCompletion', () => {
    snapshot.state = 'completed';
    onCompleted?.();
  });
  return snapshot.snapshotId;
}

export const EC2_IMAGE_OPERATIONS: Operations = {
  /**
   * [DIM] the images named, or all the caller may see; Owners `self` (the caller's account) or account ids;
   * filters `name`, `state`, `image-id`, `tag:<key>` (ec2-filters.ts). An unknown id is [ERR] InvalidAMIID.NotFound.
   * assumption: every image here is EBS-backed and maps one snapshot a volume (what CreateImage makes here).
   */
  DescribeImages(account, input) {
    let images: SimImage[];
    if (input.ImageIds?.length) {
      images = (input.ImageIds as string[]).map(id => {
        const image = account.images.get(id);
        // [ERR] InvalidAMIID.NotFound: "The specified AMI doesn't exist." (a deregistered one included)
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
    // CreateImage: "Creates an Amazon EBS-backed AMI from an Amazon EBS-backed instance that is either running
    // or stopped." Other states are refused with IncorrectInstanceState (EC2 API Reference, "Error codes").
    if (!['running', 'stopped'].includes(instance.state)) {
      throw ec2Error('IncorrectInstanceState', `The instance '${instance.instanceId}' is not in a state from which it can be imaged.`);
    }
    if (typeof input.Name !== 'string' || !AMI_NAME.test(input.Name)) {
      throw ec2Error('InvalidAMIName.Malformed', 'AMI names must be between 3 and 128 characters long, and may contain letters, numbers, \'(\', \')\', \'.\', \'-\', \'/\' and \'_\'');
    }
    // EC2 API Reference, "Error codes": InvalidAMIName.Duplicate when the name is already used by another AMI of
    // the account in the Region.
    if ([...account.images.values()].some(i => i.ownerId === account.accountId && i.name === input.Name)) {
      throw ec2Error('InvalidAMIName.Duplicate', `AMI name ${input.Name} is already in use by AMI ${[...account.images.values()].find(i => i.name === input.Name)!.imageId}`);
    }
    const volumes = [...account.volumes.values()].filter(v => !v.deleted && v.attachment?.instanceId === instance.instanceId);
    volumes.forEach(v => refuseAtPendingSnapshotLimit(account, v));
    // The image exists at once, `pending`, and lists its snapshots; it becomes `available` when they have all
    // completed. AWS Knowledge Center, "Why is my AMI or EBS snapshot creation slow or stuck in the Pending
    // state?" (https://repost.aws/knowledge-center/ebs-snapshot-ec2-ami-creation-slow): "During Amazon EBS-backed
    // AMI creation, the AMI moves from the Pending to Available state after the snapshot is complete."
    let pendingSnapshots = volumes.length;
    const snapshotCompleted = () => {
      pendingSnapshots--;
      if (pendingSnapshots === 0 && image.state === 'pending') image.state = 'available';
    };
    const snapshotIds = volumes.map(v => startSnapshot(account, v, requestedTags(input, 'snapshot'), snapshotCompleted));
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
    if (volumes.length === 0) account.after('snapshotCompletion', () => { if (image.state === 'pending') image.state = 'available'; });
    // CreateImage, NoReboot: "By default, when Amazon EC2 creates the new AMI, it reboots the instance so that it
    // can take snapshots of the attached volumes while data is at rest". (The reboot itself is only recorded.)
    if (instance.state === 'running' && !input.NoReboot) {
      instance.rebootedByCreateImage = true;
    }
    return { ImageId: image.imageId };
  },

  /**
   * CreateSnapshot (EC2 API Reference, API_CreateSnapshot.html): a pending snapshot of the volume ([SNAP]), at most
   * MAX_PENDING_SNAPSHOTS_PER_VOLUME pending a volume. The workflow does not call it; tests reach the limit with it.
   */
  CreateSnapshot(account, input) {
    const volume = account.volume(input.VolumeId);
    refuseAtPendingSnapshotLimit(account, volume);
    return { SnapshotId: startSnapshot(account, volume, {}), State: 'pending' };
  },

  DescribeSnapshots(account, input) {
    let snapshots: SimSnapshot[];
    if (input.SnapshotIds?.length) {
      snapshots = (input.SnapshotIds as string[]).map(id => snapshotOf(account, id));
    } else {
      snapshots = [...account.snapshots.values()];
    }
    // [DSN] OwnerIds: `self` or account ids. Every snapshot here is the account's own (assumption: no shared or
    // public snapshots are modelled), so `self` or the account id lists them all and another owner none.
    if (input.OwnerIds?.length && !(input.OwnerIds as string[]).some(o => o === 'self' || o === account.accountId)) snapshots = [];
    for (const filter of input.Filters ?? []) {
      snapshots = snapshots.filter(sn => matchesFilter(filter, { 'snapshot-id': [sn.snapshotId], 'volume-id': [sn.volumeId], 'status': [sn.state] }, sn.tags));
    }
    return {
      Snapshots: snapshots.map(sn => ({
        SnapshotId: sn.snapshotId,
        VolumeId: sn.volumeId,
        VolumeSize: account.volumes.get(sn.volumeId)?.sizeGiB,
        State: sn.state,
        StartTime: new Date(sn.startTime),
        OwnerId: account.accountId,
        Tags: tagList(sn.tags),
      })),
    };
  },

  DeregisterImage(account, input) {
    const image = account.images.get(input.ImageId);
    if (!image) throw ec2Error('InvalidAMIID.NotFound', `The image id '[${input.ImageId}]' does not exist`);
    // [ERR] AuthFailure: "trying to use an AMI for which you do not have permissions"; only the
    // owner deregisters an image (assumption: the code EC2 returns for another account's image).
    if (image.ownerId !== account.accountId) throw ec2Error('AuthFailure', `Not authorized for image:${image.imageId}`);
    // [DI] DeleteAssociatedSnapshots deletes the snapshots too, with rules of its own (a snapshot
    // of several images stays); the workflow does not use it, so it is not modelled.
    if (input.DeleteAssociatedSnapshots) throw new Error('The simulated account does not model DeregisterImage DeleteAssociatedSnapshots.');
    // [DI] "By default, deregistering an AMI also has no effect on any snapshots that were created
    // during the AMI creation process": the image goes, its snapshots stay (and keep costing).
    account.images.delete(image.imageId);
    account.moment(`image-deregistered:${image.name}`);
    return { Return: true };
  },

  DeleteSnapshot(account, input) {
    const snapshot = snapshotOf(account, input.SnapshotId);
    // [DS] "You cannot delete a snapshot of the root device of an EBS volume used by a registered
    // AMI. You must first deregister the AMI before you can delete the snapshot." [ERR]
    // InvalidSnapshot.InUse: the snapshot is in use. (Any snapshot an image maps, not only the root's:
    // assumption, the stricter reading; the workflow's images map only the root.)
    const user = [...account.images.values()].find(i => i.snapshotIds.includes(snapshot.snapshotId));
    if (user) throw ec2Error('InvalidSnapshot.InUse', `The snapshot ${snapshot.snapshotId} is currently in use by ${user.imageId}`);
    // A pending snapshot may be deleted: "You can delete EBS snapshots while they're in progress"
    // (AWS Knowledge Center, https://repost.aws/knowledge-center/ebs-snapshot-stuck); it counts against the
    // pending limit until it completes (deletedWhilePending; its completion timer still runs).
    if (snapshot.state === 'pending') deletedWhilePending.set(account, [...(deletedWhilePending.get(account) ?? []), snapshot]);
    account.snapshots.delete(snapshot.snapshotId);
    account.moment(`snapshot-deleted:${snapshot.snapshotId}`);
    return {};
  },
};

function snapshotOf(account: SimulatedAccount, snapshotId: string): SimSnapshot {
  const snapshot = account.snapshots.get(snapshotId);
  // [ERR] InvalidSnapshot.NotFound: "The specified snapshot does not exist."
  if (!snapshot) throw ec2Error('InvalidSnapshot.NotFound', `The snapshot '${snapshotId}' does not exist.`);
  return snapshot;
}
