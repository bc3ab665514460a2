import { ERRORS, ResetPlan } from './contracts';
import { HELPER_DEVICE, sameDevice } from './device-names';
import { WorkflowError } from './errors';
import { VolumeObservation, WAIT_SECONDS } from './observations';

/** What attach-to-helper observes. */
export interface AttachObservation {
  /** The backup image found by its name, if any (I3: it must exist before the volume is touched). */
  readonly backupImage?: { readonly imageId: string; readonly state: string };
  /** The root volume; absent when it does not exist. */
  readonly volume?: VolumeObservation;
  /** EC2 state name of the target. */
  readonly targetState: string;
}

export type AttachAction =
  | { readonly kind: 'detach-from-target' }
  | { readonly kind: 'attach-to-helper'; readonly device: string }
  | { readonly kind: 'wait'; readonly reason: string; readonly waitSeconds: number }
  | { readonly kind: 'done' };

const FAILED_IMAGE_STATES = ['failed', 'invalid', 'error', 'deregistered', 'disabled'];

/**
 * The next thing to do to move the root volume to the helper: (backup image exists) →
 * detach from the stopped target → wait `available` → attach to the helper at `xvdf` →
 * wait attached. Already attached to the helper at `xvdf` is done; attached to the helper
 * at another device, or to any other instance, is an error an operator must look at.
 */
export function nextAttachAction(observed: AttachObservation, plan: ResetPlan, helperInstanceId: string): AttachAction {
  const image = observed.backupImage;
  if (!image) {
    return { kind: 'wait', reason: `the backup image ${plan.backupImageName} is not visible yet`, waitSeconds: WAIT_SECONDS.short };
  }
  if (FAILED_IMAGE_STATES.includes(image.state)) {
    throw new WorkflowError(ERRORS.backupImageFailed, `The backup image ${image.imageId} (${plan.backupImageName}) is ${image.state}, so the root volume was not touched; check the image's state reason and retry the reset.`);
  }
  const volume = observed.volume;
  if (!volume) {
    throw new WorkflowError(ERRORS.volumeNotFound, `The root volume ${plan.rootVolumeId} of ${plan.instanceId} no longer exists; restore the instance from the backup image ${image.imageId}.`);
  }
  const attachment = volume.attachment;
  if (!attachment || attachment.state === 'detached') {
    if (volume.state === 'available') return { kind: 'attach-to-helper', device: HELPER_DEVICE };
    return { kind: 'wait', reason: `the root volume is ${volume.state}`, waitSeconds: WAIT_SECONDS.short };
  }
  if (attachment.instanceId === plan.instanceId) {
    if (attachment.state !== 'attached') {
      return { kind: 'wait', reason: `the root volume is ${attachment.state} on the target`, waitSeconds: WAIT_SECONDS.short };
    }
    if (observed.targetState !== 'stopped') {
      return { kind: 'wait', reason: `the target is ${observed.targetState}; its root volume detaches only when it is stopped`, waitSeconds: WAIT_SECONDS.instance };
    }
    return { kind: 'detach-from-target' };
  }
  if (attachment.instanceId === helperInstanceId) {
    if (!sameDevice(attachment.device, HELPER_DEVICE)) {
      throw new WorkflowError(ERRORS.volumeAttachedElsewhere, `The root volume ${plan.rootVolumeId} is attached to the helper ${helperInstanceId} at ${attachment.device} instead of ${HELPER_DEVICE}; the restore puts it back on ${plan.instanceId}.`);
    }
    if (attachment.state === 'attached') return { kind: 'done' };
    return { kind: 'wait', reason: `the root volume is ${attachment.state} on the helper`, waitSeconds: WAIT_SECONDS.short };
  }
  throw new WorkflowError(ERRORS.volumeAttachedElsewhere, `The root volume ${plan.rootVolumeId} of ${plan.instanceId} is attached to ${attachment.instanceId}, which is neither the target nor this reset's helper; detach it from there, then rerun the restore.`);
}
