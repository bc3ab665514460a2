import { ERRORS, ResetPlan } from './contracts';
import { sameDevice } from './device-names';
import { WorkflowError } from './errors';
import { VolumeObservation, WAIT_SECONDS } from './observations';

/** What one restore pass observes. */
export interface RestoreObservation {
  /** The root volume; absent when it does not exist (or, for the online method, is not observed). */
  readonly volume?: VolumeObservation;
  readonly target: {
    /** EC2 state name. */
    readonly state: string;
    /** DeleteOnTermination of the root device's mapping, when the root volume is attached. */
    readonly rootDeleteOnTermination?: boolean;
  };
  /** The password-enabled image found by its name, if any. */
  readonly passwordEnabledImage?: { readonly imageId: string; readonly state: string };
  /** Auto Scaling lifecycle state, when the instance is in a group. */
  readonly autoScalingLifecycleState?: string;
  /** Helper instances tagged with this execution, with their EC2 state. */
  readonly helpers: ReadonlyArray<{ readonly instanceId: string; readonly state: string }>;
  /** Whether this pass has already deleted the lock item (the delete is conditional and idempotent). */
  readonly lockReleased: boolean;
  /** Whether the root volume still carries the workflow's mark (volume-mark.ts). */
  readonly rootVolumeMarked?: boolean;
  /** Whether this execution still holds a lease on the rescue VPC's on-demand endpoints. */
  readonly endpointLeaseHeld?: boolean;
}

export type RestoreAction =
  | { readonly kind: 'detach-from-helper'; readonly helperInstanceId: string }
  | { readonly kind: 'attach-to-target'; readonly device: string }
  | { readonly kind: 'restore-delete-on-termination'; readonly value: boolean }
  | { readonly kind: 'unmark-root-volume' }
  | { readonly kind: 'create-password-enabled-image' }
  | { readonly kind: 'start-target' }
  | { readonly kind: 'exit-standby' }
  | { readonly kind: 'terminate-helpers'; readonly instanceIds: string[] }
  /** This execution's lease on the on-demand endpoints released (they close after their grace period). */
  | { readonly kind: 'release-endpoint-lease' }
  | { readonly kind: 'release-lock' }
  | { readonly kind: 'wait'; readonly reason: string; readonly waitSeconds: number }
  | { readonly kind: 'done' };

/** Actions that complete at once: the restore step may take the next decision in the same pass. */
export const IMMEDIATE_RESTORE_ACTIONS: ReadonlyArray<RestoreAction['kind']> = ['restore-delete-on-termination', 'unmark-root-volume', 'terminate-helpers', 'release-endpoint-lease', 'release-lock'];

const GONE = ['shutting-down', 'terminated'];
const AUTO_SCALING_SETTLING = ['EnteringStandby', 'Pending', 'Pending:Wait', 'Pending:Proceed'];

/**
 * The next restore action (docs/workflow-design.md, "Restore"): from any state a reset can
 * leave behind — volume on the helper, detaching, available, reattaching, instance stopped
 * or running, Auto Scaling in Standby, helpers alive — one step towards:
 * root attached to the target at its original device → DeleteOnTermination as it was →
 * password-enabled image (only after a success, while the target is stopped) → original
 * mark removed → state → back InService → helpers terminated → lock released → done.
 */
export function nextRestoreAction(observed: RestoreObservation, plan: ResetPlan, succeeded: boolean): RestoreAction {
  // The online method never stops the instance nor touches its volume: only the lock is left.
  let unrecoverable: WorkflowError | undefined;
  if (plan.method === 'offline') {
    try {
      const next = nextOfflineRestoreAction(observed, plan, succeeded);
      if (next) return next;
    } catch (err) {
      // The target cannot be put back (terminated, volume gone or held elsewhere). Nothing billable
      // may stay behind all the same (I2): the helpers go and the lock is released before the error
      // is raised. A volume on a helper survives its termination (attached volumes are not deleted).
      if (!(err instanceof WorkflowError)) throw err;
      unrecoverable = err;
    }
  }

  // 6. No helper left running (I2).
  const alive = observed.helpers.filter(h => !GONE.includes(h.state)).map(h => h.instanceId);
  if (alive.length > 0) return { kind: 'terminate-helpers', instanceIds: alive };

  // 6b. The endpoint lease released once no helper is left (I9; the janitor closes them after the grace period).
  if (observed.endpointLeaseHeld) return { kind: 'release-endpoint-lease' };

  // 7. The lock released (I4).
  if (!observed.lockReleased) return { kind: 'release-lock' };
  if (unrecoverable) throw unrecoverable;
  return { kind: 'done' };
}

/** Steps 1 to 5, or undefined when they all hold. */
function nextOfflineRestoreAction(observed: RestoreObservation, plan: ResetPlan, succeeded: boolean): RestoreAction | undefined {
  if (GONE.includes(observed.target.state)) {
    throw new WorkflowError(ERRORS.instanceStateUnsupported, `Instance ${plan.instanceId} is ${observed.target.state}, so its root volume ${plan.rootVolumeId} cannot be put back; the backup image ${plan.backupImageName} holds its data.`);
  }
  // 1. The root volume back on the target at its original device (I1).
  const volume = observed.volume;
  if (!volume) {
    throw new WorkflowError(ERRORS.volumeNotFound, `The root volume ${plan.rootVolumeId} of ${plan.instanceId} no longer exists; restore the instance from the backup image ${plan.backupImageName}.`);
  }
  const attachment = volume.attachment && volume.attachment.state !== 'detached' ? volume.attachment : undefined;
  if (!attachment) {
    if (volume.state !== 'available') {
      return wait(`the root volume is ${volume.state}`, WAIT_SECONDS.short);
    }
    if (observed.target.state !== 'stopped') {
      return wait(`the target is ${observed.target.state}; its root volume attaches only when it is stopped`, WAIT_SECONDS.instance);
    }
    return { kind: 'attach-to-target', device: plan.rootDeviceName };
  }
  if (attachment.instanceId !== plan.instanceId) {
    const helper = observed.helpers.find(h => h.instanceId === attachment.instanceId);
    if (!helper) {
      throw new WorkflowError(ERRORS.volumeAttachedElsewhere, `The root volume ${plan.rootVolumeId} of ${plan.instanceId} is attached to ${attachment.instanceId}, which is not a helper of this reset; detach it from there, then rerun the restore.`);
    }
    if (attachment.state === 'attached') return { kind: 'detach-from-helper', helperInstanceId: attachment.instanceId };
    return wait(`the root volume is ${attachment.state} on the helper`, WAIT_SECONDS.short);
  }
  if (!sameDevice(attachment.device, plan.rootDeviceName)) {
    throw new WorkflowError(ERRORS.volumeAttachedElsewhere, `The root volume ${plan.rootVolumeId} is attached to ${plan.instanceId} at ${attachment.device} instead of ${plan.rootDeviceName}; detach it and attach it at ${plan.rootDeviceName}, then rerun the restore.`);
  }
  if (attachment.state !== 'attached') {
    return wait(`the root volume is ${attachment.state} on the target`, WAIT_SECONDS.short);
  }

  // 2. DeleteOnTermination as it was.
  if (observed.target.rootDeleteOnTermination === undefined) {
    return wait('the root device mapping is not visible on the target yet', WAIT_SECONDS.short);
  }
  if (observed.target.rootDeleteOnTermination !== plan.rootDeleteOnTermination) {
    return { kind: 'restore-delete-on-termination', value: plan.rootDeleteOnTermination };
  }
  // The volume is back and nothing more moves or modifies it: the mark goes (the workflow's rights on it with it).
  if (observed.rootVolumeMarked) return { kind: 'unmark-root-volume' };

  // 3. The password-enabled image, only after a success and only while the target is stopped.
  if (succeeded && plan.passwordEnabledAmi && plan.method === 'offline' && !observed.passwordEnabledImage && observed.target.state === 'stopped') {
    return { kind: 'create-password-enabled-image' };
  }

  // 4. The original state.
  if (plan.originalState === 'running') {
    switch (observed.target.state) {
      case 'stopped':
        return { kind: 'start-target' };
      case 'pending':
      case 'stopping':
        return wait(`the target is ${observed.target.state}`, WAIT_SECONDS.instance);
      case 'running':
        break;
      default:
        throw new WorkflowError(ERRORS.instanceStateUnsupported, `Instance ${plan.instanceId} is ${observed.target.state} and cannot be returned to running; check who changed it.`);
    }
  } else if (observed.target.state === 'stopping') {
    return wait('the target is stopping', WAIT_SECONDS.instance);
  }

  // 5. Back InService.
  if (plan.manageStandby) {
    const lifecycle = observed.autoScalingLifecycleState;
    if (lifecycle === 'Standby') return { kind: 'exit-standby' };
    if (lifecycle && AUTO_SCALING_SETTLING.includes(lifecycle)) {
      return wait(`the instance is ${lifecycle} in its Auto Scaling group`, WAIT_SECONDS.short);
    }
  }
  return undefined;
}

function wait(reason: string, waitSeconds: number): RestoreAction {
  return { kind: 'wait', reason, waitSeconds };
}
