/**
 * EBS volumes: attach, detach and describe, with the attachment's own states in modelled time,
 * and what a termination does to the volumes attached (DeleteOnTermination).
 *
 * Documents quoted, besides those named at each rule with their URL:
 * - [ATTACH] Amazon EBS User Guide, "Attach an Amazon EBS volume to an Amazon EC2 instance"
 *   (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-attaching-volume.html).
 * - [DETACH] Amazon EBS User Guide, "Detach an Amazon EBS volume from an Amazon EC2 instance"
 *   (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-detaching-volume.html); the older EC2 User Guide for
 *   Windows page "Detaching an Amazon EBS volume" said the same of writes in progress.
 * - [DEV] Amazon EC2 User Guide, device names for volumes
 *   (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/device_naming.html).
 * - [DV] EC2 API Reference, DescribeVolumes (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVolumes.html).
 * - [ERR] EC2 API Reference, "Error codes for the Amazon EC2 API" (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
 */
import type { Operations, SimulatedAccount } from './account';
import { matchesFilter } from './ec2-filters';
import type { SimInstance } from './ec2-instances';
import { tagList } from './ec2-tags';
import { ec2Error } from './errors';
import { commandMayWrite } from './ssm-commands';

export interface SimAttachment {
  readonly instanceId: string;
  readonly device: string;
  state: 'attaching' | 'attached' | 'detaching';
  deleteOnTermination: boolean;
  readonly attachTime: number;
  transition: number;
}

export interface VolumeEvent {
  readonly at: number;
  readonly what: string;
  /** At a detach: the attachment's DeleteOnTermination when the detach was requested. */
  readonly deleteOnTermination?: boolean;
  /** At a detach: whether the instance's Windows still had the disk online (EC2Rescue on a helper: ec2rescue.ts). */
  readonly diskOnline?: boolean;
  /** At a detach: the state of the instance it was detached from when the detach was requested. */
  readonly instanceState?: string;
}

export interface SimVolume {
  readonly volumeId: string;
  readonly availabilityZone: string;
  readonly sizeGiB: number;
  readonly encrypted: boolean;
  readonly kmsKeyId?: string;
  /** Marketplace product codes the volume carries. */
  readonly productCodes: string[];
  attachment?: SimAttachment;
  deleted: boolean;
  readonly tags: Record<string, string>;
  /** EC2Launch will set a new random password at the next boot (what the offline fix does). */
  passwordGenerationArmed: boolean;
  /** Bumped whenever the volume's content is changed (the offline fix): snapshots record it. */
  generation: number;
  /**
   * Modelled times the volume was detached (`detach:<instance>`) and attached (`attach:<instance>:<device>`);
   * a detach records the attachment's DeleteOnTermination, whether the disk was online and the state of
   * the instance at that moment (the invariants read them).
   */
  readonly history: VolumeEvent[];
  /** Why its content may be corrupted (a detach or a stop while a command could be writing to it), if it may. */
  possiblyCorrupted?: string;
}

/** Whether two device names are the same attachment point (`/dev/xvdf` and `xvdf` are; assumption: EC2 reads both as one name, [DEV]). */
export function sameDevice(a: string, b: string): boolean {
  return a.replace(/^\/dev\//, '') === b.replace(/^\/dev\//, '');
}

/**
 * At termination, volumes whose DeleteOnTermination is true are deleted; the others are
 * detached and kept (called by the instance lifecycle, ec2-instances.ts).
 * Amazon EC2 User Guide, "Preserve data when an instance is terminated"
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/preserving-volumes-on-termination.html): with
 * DeleteOnTermination `true` "The volume is deleted when the instance is terminated", with `false` "The volume
 * is preserved"; a root volume attached at launch defaults to Delete.
 */
export function releaseVolumesOfTerminated(account: SimulatedAccount, instance: SimInstance): void {
  for (const volume of account.volumes.values()) {
    if (volume.attachment?.instanceId !== instance.instanceId) continue;
    const deleteIt = volume.attachment.deleteOnTermination;
    volume.attachment = undefined;
    if (deleteIt) {
      volume.deleted = true;
      account.moment(`volume-deleted:${volume.volumeId}`);
    }
  }
}

/**
 * Volumes an instance may have been writing to when it stopped without flushing (a forced stop, or
 * one without the OS shutdown, whose risk ec2-instances.ts `stop` quotes): those other than its own
 * root, while a command ran on it (assumption: only a command writes to them, the root being the
 * running Windows' own). Called by the instance lifecycle (ec2-instances.ts).
 */
export function markUnflushedVolumes(account: SimulatedAccount, instance: SimInstance, how: string): void {
  if (!commandMayWrite(account, instance.instanceId)) return;
  for (const volume of account.volumes.values()) {
    const a = volume.attachment;
    if (!volume.deleted && a?.instanceId === instance.instanceId && !sameDevice(a.device, instance.rootDeviceName)) {
      volume.possiblyCorrupted ??= `${instance.instanceId} stopped by ${how} while a command could write to ${a.device}`;
    }
  }
}

/**
 * A volume as [DV] returns it: State `in-use` when attached, `available` when not; each attachment with its
 * own State (attaching | attached | detaching) and DeleteOnTermination.
 */
function volumeJson(v: SimVolume): any {
  return {
    VolumeId: v.volumeId,
    AvailabilityZone: v.availabilityZone,
    Size: v.sizeGiB,
    State: v.attachment ? 'in-use' : 'available',
    Encrypted: v.encrypted,
    ...(v.kmsKeyId ? { KmsKeyId: v.kmsKeyId } : {}),
    Attachments: v.attachment ? [{
      VolumeId: v.volumeId,
      InstanceId: v.attachment.instanceId,
      Device: v.attachment.device,
      State: v.attachment.state,
      DeleteOnTermination: v.attachment.deleteOnTermination,
      AttachTime: new Date(v.attachment.attachTime),
    }] : [],
    Tags: tagList(v.tags),
  };
}

export const EC2_VOLUME_OPERATIONS: Operations = {
  /**
   * [DV] the volumes named, or all; filters `attachment.instance-id`, `attachment.device`, `volume-id`, `tag:<key>`
   * (ec2-filters.ts). assumption: a deleted volume is not listed (AWS shows it `deleting` briefly).
   */
  DescribeVolumes(account, input) {
    let volumes = input.VolumeIds?.length
      ? (input.VolumeIds as string[]).map(id => account.volume(id))
      : [...account.volumes.values()].filter(v => !v.deleted);
    for (const filter of input.Filters ?? []) {
      volumes = volumes.filter(v => matchesFilter(filter, {
        'attachment.instance-id': v.attachment ? [v.attachment.instanceId] : [],
        'attachment.device': v.attachment ? [v.attachment.device] : [],
        'volume-id': [v.volumeId],
      }, v.tags));
    }
    return { Volumes: volumes.map(v => volumeJson(v)) };
  },

  DetachVolume(account, input) {
    const volume = account.volume(input.VolumeId);
    const attachment = volume.attachment;
    // EC2 API Reference, DetachVolume (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DetachVolume.html):
    // only an attached volume can be detached; EC2 answers a volume in the wrong state for the request with
    // IncorrectState ([ERR]).
    if (!attachment) throw ec2Error('IncorrectState', `Volume '${volume.volumeId}' is in the 'available' state.`);
    // [ERR] InvalidAttachment.NotFound when the volume is not attached to the InstanceId given.
    if (input.InstanceId && input.InstanceId !== attachment.instanceId) {
      throw ec2Error('InvalidAttachment.NotFound', `The volume '${volume.volumeId}' is not attached to instance '${input.InstanceId}'`);
    }
    // assumption: an attachment still attaching or already detaching refuses another detach (IncorrectState),
    // as a volume in a transition refuses attach and detach in the console.
    if (attachment.state !== 'attached') throw ec2Error('IncorrectState', `Volume '${volume.volumeId}' is in the '${attachment.state}' state.`);
    const instance = account.instance(attachment.instanceId);
    // DetachVolume: "If an Amazon EBS volume is the root device of an instance, it can't be detached while the
    // instance is running. To detach the root volume, stop the instance first." Force is the forced detach
    // ("Forces detachment if the previous detachment attempt did not occur cleanly").
    if (sameDevice(attachment.device, instance.rootDeviceName) && instance.state !== 'stopped' && !input.Force) {
      throw ec2Error('IncorrectState', `Unable to detach root volume '${volume.volumeId}' from instance '${instance.instanceId}'`);
    }
    // "You can reattach a volume that you detached (without unmounting it), but ... the data on the
    // volume might be out of sync if there were writes to the volume in progress when it was
    // detached" ([DETACH]). Assumption: writes are
    // in progress while a Run Command command runs on the instance (or is being cancelled) and the
    // instance is not stopped. Force "can lead to data loss or a corrupted file system ... The
    // instance won't have an opportunity to flush file system caches" (DetachVolume, Force).
    if (instance.state !== 'stopped' && commandMayWrite(account, instance.instanceId)) {
      volume.possiblyCorrupted ??= `detached from ${instance.instanceId} (${instance.state}) while a command could write to it`;
    }
    if (instance.state !== 'stopped' && input.Force) {
      volume.possiblyCorrupted ??= `force-detached from ${instance.instanceId} (${instance.state})`;
    }
    attachment.state = 'detaching';
    const t = ++attachment.transition;
    volume.history.push({
      at: account.now(),
      what: `detach:${attachment.instanceId}`,
      deleteOnTermination: attachment.deleteOnTermination,
      diskOnline: account.onlineDisks.has(volume.volumeId),
      instanceState: instance.state,
    });
    // The disk leaves the instance's Windows with the volume (online or not, it is gone from there).
    account.onlineDisks.delete(volume.volumeId);
    account.after('volumeDetach', () => {
      if (volume.attachment !== attachment || attachment.transition !== t) return;
      volume.attachment = undefined;
    });
    return { VolumeId: volume.volumeId, InstanceId: attachment.instanceId, Device: attachment.device, State: 'detaching' };
  },

  AttachVolume(account, input) {
    const volume = account.volume(input.VolumeId);
    const instance = account.instance(input.InstanceId);
    // EC2 API Reference, AttachVolume (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AttachVolume.html),
    // and [ERR]: VolumeInUse for a volume already attached to an instance.
    if (volume.attachment) {
      throw ec2Error('VolumeInUse', `${volume.volumeId} is already attached to an instance`);
    }
    // [ATTACH]: the volume and the instance must be in the same Availability Zone.
    if (instance.availabilityZone !== volume.availabilityZone) {
      throw ec2Error('InvalidVolume.ZoneMismatch', `The volume '${volume.volumeId}' is not in the same availability zone as instance '${instance.instanceId}'`);
    }
    // [ATTACH]: the instance must be `running` or `stopped`.
    if (!['running', 'stopped'].includes(instance.state)) {
      throw ec2Error('IncorrectState', `Instance '${instance.instanceId}' is not 'running' or 'stopped'.`);
    }
    // assumption: a device name that already holds a volume is refused with InvalidParameterValue (the message
    // EC2 gives for an attachment point in use); [DEV]: each volume needs its own name.
    if (account.volumeAt(instance.instanceId, input.Device)) {
      throw ec2Error('InvalidParameterValue', `Invalid value '${input.Device}' for unixDevice. Attachment point ${input.Device} is already in use`);
    }
    // AttachVolume: "If a volume has an AWS Marketplace product code: The volume can be attached only to a
    // stopped instance."
    if (volume.productCodes.length > 0 && instance.state !== 'stopped') {
      throw ec2Error('IncorrectState', `Volume '${volume.volumeId}' has a Marketplace product code and can only be attached to a stopped instance.`);
    }
    // Amazon EC2 User Guide, "Preserve data when an instance is terminated": its table of defaults gives
    // "Preserve" for a root volume and for a data volume attached "After launch" (DeleteOnTermination false),
    // so an attachment made here starts with false, whatever the device.
    const attachment: SimAttachment = {
      instanceId: instance.instanceId, device: input.Device, state: 'attaching', deleteOnTermination: false, attachTime: account.now(), transition: 0,
    };
    volume.attachment = attachment;
    volume.history.push({ at: account.now(), what: `attach:${instance.instanceId}:${input.Device}` });
    account.after('volumeAttach', () => {
      if (volume.attachment === attachment && attachment.state === 'attaching') attachment.state = 'attached';
    });
    return { VolumeId: volume.volumeId, InstanceId: instance.instanceId, Device: input.Device, State: 'attaching' };
  },
};
