import { commandComment } from './commands';
import { ERRORS, ResetPlan } from './contracts';
import { sameDevice } from './device-names';
import { WorkflowError } from './errors';
import { JournalMoment } from './journal';
import { MinSizeObservation, minSizeAfterUnrecoverable, nextMinSizeRestoreAction, unrecoverableMinSizeNote } from './min-size';
import { VolumeObservation, WAIT_SECONDS } from './observations';
import { nextStopStep, StopMode } from './stop-escalation';
import { STOP_BOUNDS } from './timeouts';

/** A Run Command command on a helper (ListCommands on the helper, every page). */
export interface CommandObservation {
  readonly commandId: string;
  /** Pending | InProgress | Success | Cancelled | Failed | TimedOut | Cancelling */
  readonly status: string;
  readonly comment?: string;
}

/** A helper instance tagged with this execution. */
export interface HelperObservation {
  readonly instanceId: string;
  /** EC2 state name. */
  readonly state: string;
  /** Its commands, when observed (helpers that are gone are not asked). */
  readonly commands?: ReadonlyArray<CommandObservation>;
}

/** What one restore pass observes (with, from MinSizeObservation, the Auto Scaling group's size and the journal's MinSize record). */
export interface RestoreObservation extends MinSizeObservation {
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
  /** Helper instances tagged with this execution, with their EC2 state and commands. */
  readonly helpers: ReadonlyArray<HelperObservation>;
  /** Whether this pass has already deleted the lock item (the delete is conditional and idempotent). */
  readonly lockReleased: boolean;
  /** What the journal recorded of the stops (epoch s). */
  readonly moments: Partial<Record<JournalMoment, number>>;
  /** Now, epoch s: stops are escalated once their bounds have passed. */
  readonly nowEpochSeconds: number;
  /** Whether the root volume still carries the workflow's mark (volume-mark.ts). */
  readonly rootVolumeMarked?: boolean;
  /** Whether this execution still holds a lease on the rescue VPC's on-demand endpoints. */
  readonly endpointLeaseHeld?: boolean;
}

export type RestoreAction =
  /** CancelCommand for the helper's Pending and InProgress commands (nothing else can be cancelled). */
  | { readonly kind: 'cancel-commands'; readonly helperInstanceId: string; readonly commandIds: string[] }
  /** StopInstances on the helper that holds the root volume (journaled). */
  | { readonly kind: 'stop-helper'; readonly helperInstanceId: string; readonly mode: StopMode }
  /** StopInstances on a target whose stop hangs (journaled; forced after its bound). */
  | { readonly kind: 'stop-target'; readonly force: boolean }
  | { readonly kind: 'detach-from-helper'; readonly helperInstanceId: string }
  | { readonly kind: 'attach-to-target'; readonly device: string }
  | { readonly kind: 'restore-delete-on-termination'; readonly value: boolean }
  | { readonly kind: 'unmark-root-volume' }
  | { readonly kind: 'create-password-enabled-image' }
  | { readonly kind: 'start-target' }
  | { readonly kind: 'exit-standby' }
  | { readonly kind: 'restore-min-size'; readonly groupName: string; readonly value: number }
  | { readonly kind: 'terminate-helpers'; readonly instanceIds: string[] }
  /** This execution's lease on the on-demand endpoints released (they close after their grace period). */
  | { readonly kind: 'release-endpoint-lease' }
  | { readonly kind: 'release-lock' }
  | { readonly kind: 'wait'; readonly reason: string; readonly waitSeconds: number }
  | { readonly kind: 'done' };

/** Actions that complete at once: the restore step may take the next decision in the same pass. */
export const IMMEDIATE_RESTORE_ACTIONS: ReadonlyArray<RestoreAction['kind']> = [
  'cancel-commands', 'restore-delete-on-termination', 'unmark-root-volume', 'restore-min-size', 'terminate-helpers',
  'release-endpoint-lease', 'release-lock',
];

/**
 * The journal moments of a stop action: when the stop was asked for (what its bound is
 * measured from), and how.
 */
export function stopMoments(action: Extract<RestoreAction, { kind: 'stop-helper' | 'stop-target' }>): JournalMoment[] {
  if (action.kind === 'stop-target') return action.force ? ['targetForceStopRequestedAt'] : ['targetStopRequestedAt'];
  switch (action.mode) {
    case 'force': return ['helperForceStopRequestedAt'];
    case 'skip-os-shutdown': return ['helperStopRequestedAt', 'helperStopSkippedOsShutdownAt'];
    default: return ['helperStopRequestedAt'];
  }
}

/**
 * Commands that may still write: "You can attempt to cancel a command as long as the service
 * shows that it's in either a Pending or Executing state" (Systems Manager User Guide, Canceling
 * a command). `Cancelling` is not over yet either, but cannot be cancelled again.
 */
const CANCELLABLE = ['Pending', 'InProgress'];

const GONE = ['shutting-down', 'terminated'];
const AUTO_SCALING_SETTLING = ['EnteringStandby', 'Pending', 'Pending:Wait', 'Pending:Proceed'];

/**
 * The next restore action (docs/workflow-design.md, "Restore"): from any state a reset can
 * leave behind — volume on the helper with a command running on it, detaching, available,
 * reattaching, instance stopped, stopping (even hung) or running, Auto Scaling in Standby,
 * helpers alive — one step towards:
 * the helper's commands cancelled and the helper stopped (I7) → the root detached from it →
 * helpers terminated → root attached to the target at its original device → DeleteOnTermination
 * as it was → the root volume's mark removed → password-enabled image (only after a success,
 * while the target is stopped) → original state → back InService → MinSize as it was (when the
 * workflow lowered it) → endpoint lease released → lock released → done.
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

  // No helper left running (I2), also when the target cannot be put back.
  const alive = observed.helpers.filter(h => !GONE.includes(h.state)).map(h => h.instanceId);
  if (alive.length > 0) return { kind: 'terminate-helpers', instanceIds: alive };

  // The endpoint lease released once no helper is left (I9; the janitor closes them after the grace period).
  if (observed.endpointLeaseHeld) return { kind: 'release-endpoint-lease' };

  // Nor a group left at the MinSize the workflow lowered: raised back before the lock (which holds its record) goes.
  if (unrecoverable) {
    const minSize = minSizeAfterUnrecoverable(observed, plan);
    if (minSize && !observed.lockReleased) return minSize;
  }

  // The lock released (I4).
  if (!observed.lockReleased) return { kind: 'release-lock' };
  if (unrecoverable) {
    const note = unrecoverableMinSizeNote(observed, plan);
    throw note ? new WorkflowError(unrecoverable.name, `${unrecoverable.message} ${note}`) : unrecoverable;
  }
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
  // Once the root is off the helpers they have no use left: terminated at once, so a restore that
  // fails later (at the start, say) leaves no helper behind (I2).
  const alive = observed.helpers.filter(h => !GONE.includes(h.state)).map(h => h.instanceId);
  if ((!attachment || attachment.instanceId === plan.instanceId) && alive.length > 0) {
    return { kind: 'terminate-helpers', instanceIds: alive };
  }
  if (!attachment) {
    if (volume.state !== 'available') {
      return wait(`the root volume is ${volume.state}`, WAIT_SECONDS.short);
    }
    if (observed.target.state === 'stopping') return targetStopping(observed);
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
    if (attachment.state !== 'attached') return wait(`the root volume is ${attachment.state} on the helper`, WAIT_SECONDS.short);
    return offHelper(helper, observed, plan);
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

  // 4. The original state (a stop the reset left hanging is escalated first: a stopping instance cannot start).
  if (observed.target.state === 'stopping') return targetStopping(observed);
  if (plan.originalState === 'running') {
    switch (observed.target.state) {
      case 'stopped':
        return { kind: 'start-target' };
      case 'pending':
        return wait(`the target is ${observed.target.state}`, WAIT_SECONDS.instance);
      case 'running':
        break;
      default:
        throw new WorkflowError(ERRORS.instanceStateUnsupported, `Instance ${plan.instanceId} is ${observed.target.state} and cannot be returned to running; check who changed it.`);
    }
  }

  // 5. Back InService.
  if (plan.manageStandby) {
    const lifecycle = observed.autoScalingLifecycleState;
    if (lifecycle === 'Standby') return { kind: 'exit-standby' };
    if (lifecycle && AUTO_SCALING_SETTLING.includes(lifecycle)) {
      return wait(`the instance is ${lifecycle} in its Auto Scaling group`, WAIT_SECONDS.short);
    }
  }

  // ---- 5b. (issue 11, item 2) The group's MinSize back, once the instance is out of Standby: min-size.ts decides.
  const minSize = nextMinSizeRestoreAction(observed, plan);
  if (minSize) return minSize;
  // ---- end of 5b.
  return undefined;
}

/**
 * The root volume is attached to a helper: it leaves it only once nothing can write to it (I7).
 * "You can reattach a volume that you detached (without unmounting it), but ... the data on the
 * volume might be out of sync if there were writes to the volume in progress when it was
 * detached" (EC2 User Guide for Windows, Detaching an Amazon EBS volume). So: the helper's
 * running commands are cancelled, the helper is stopped, and only a stopped helper gives the
 * volume back, on every path (AWS's runbook, step 19: "stop the helper (force if needed), detach").
 *
 * How the helper is stopped: normally (Windows flushes its file systems), forced once that has
 * hung for STOP_BOUNDS.helper.gracefulSeconds. After a successful offline fix it is stopped
 * without the OS shutdown (`SkipOsShutdown`), which "might result in data loss or corruption
 * (for example, memory contents not flushed to disk or loss of in-flight IOs)" (StopInstances) —
 * of file systems that are mounted. The fix's script exits 0 only after it has set the disk
 * offline again (offline-script.ts), and an offline disk has no file system mounted: the EBS
 * guide's own precondition for detaching it from a running instance. What the skipped shutdown
 * can lose is the helper's own disk, which is terminated next.
 */
function offHelper(helper: HelperObservation, observed: RestoreObservation, plan: ResetPlan): RestoreAction {
  const commands = helper.commands ?? [];
  const running = commands.filter(c => CANCELLABLE.includes(c.status)).map(c => c.commandId);
  if (running.length > 0) return { kind: 'cancel-commands', helperInstanceId: helper.instanceId, commandIds: running };
  if (helper.state === 'stopped') return { kind: 'detach-from-helper', helperInstanceId: helper.instanceId };

  const fix = commandComment('offline-password-fix', plan);
  const diskOffline = commands.some(c => c.comment === fix && c.status === 'Success');
  const { helperStopRequestedAt, helperForceStopRequestedAt } = observed.moments;
  if (helper.state === 'running' && diskOffline && helperStopRequestedAt === undefined) {
    return { kind: 'stop-helper', helperInstanceId: helper.instanceId, mode: 'skip-os-shutdown' };
  }
  const step = nextStopStep(
    { state: helper.state, requestedAt: helperStopRequestedAt, forcedAt: helperForceStopRequestedAt },
    STOP_BOUNDS.helper, observed.nowEpochSeconds, `the helper ${helper.instanceId}`,
  );
  switch (step.kind) {
    case 'stop':
      return { kind: 'stop-helper', helperInstanceId: helper.instanceId, mode: step.mode };
    case 'wait':
      return step;
    case 'gone':
      return wait(`the helper ${helper.instanceId} is ${helper.state}; the root volume comes off when it is terminated`, WAIT_SECONDS.instance);
    default:
      return { kind: 'detach-from-helper', helperInstanceId: helper.instanceId };
  }
}

/** The target is stopping (the reset stopped it, or left its stop hanging): forced after its bound, then waited for. */
function targetStopping(observed: RestoreObservation): RestoreAction {
  const step = nextStopStep(
    { state: 'stopping', requestedAt: observed.moments.targetStopRequestedAt, forcedAt: observed.moments.targetForceStopRequestedAt },
    STOP_BOUNDS.target, observed.nowEpochSeconds, 'the target',
  );
  return step.kind === 'stop' ? { kind: 'stop-target', force: step.mode === 'force' } : wait('the target is stopping', WAIT_SECONDS.instance);
}

function wait(reason: string, waitSeconds: number): RestoreAction {
  return { kind: 'wait', reason, waitSeconds };
}
