import { ERRORS, ResetPlan } from './contracts';
import { WorkflowError } from './errors';
import { GroupSize, mustLowerMinSize } from './min-size';
import { WAIT_SECONDS } from './observations';
import { nextStopStep } from './stop-escalation';
import { STOP_BOUNDS } from './timeouts';

/** What prepare-target observes of the target. */
export interface PrepareObservation {
  /** EC2 state name of the target. */
  readonly state: string;
  /** DeleteOnTermination of the root volume's attachment, when it is attached. */
  readonly rootDeleteOnTermination?: boolean;
  /** Auto Scaling lifecycle state, when the instance is in a group. */
  readonly autoScalingLifecycleState?: string;
  /** When the workflow asked for the stop, and when it forced it (the journal, epoch s). */
  readonly stopRequestedAt?: number;
  readonly forceStopRequestedAt?: number;
  /** Now, epoch s: a stop is forced once its bound has passed. */
  readonly nowEpochSeconds: number;
  /** Whether the root volume carries this workflow's mark (volume-mark.ts). */
  readonly rootVolumeMarked: boolean;
  /** The group's MinSize and desired capacity, observed when the plan lowers MinSize. */
  readonly autoScalingGroup?: GroupSize;
}

export type PrepareAction =
  | { readonly kind: 'mark-root-volume' }
  | { readonly kind: 'lower-min-size'; readonly to: number }
  | { readonly kind: 'enter-standby' }
  | { readonly kind: 'keep-root-volume' }
  /** StopInstances, graceful first; `Force: true` once the stop has hung past its bound (both journaled). */
  | { readonly kind: 'stop'; readonly force: boolean }
  | { readonly kind: 'wait'; readonly reason: string; readonly waitSeconds: number }
  | { readonly kind: 'done' };

/**
 * The next thing to do to take the target offline: mark the root volume (the workflow's IAM
 * permissions on volumes require the mark, volume-mark.ts), the group's MinSize lowered (when the
 * plan says so), Standby (when the workflow manages it),
 * root `DeleteOnTermination=false`, stop (forced once the stop has hung for
 * `STOP_BOUNDS.target.gracefulSeconds`, see stop-escalation.ts); done once it is stopped. An
 * instance already in Standby, already keeping its root, or already stopped converges without acting.
 */
export function nextPrepareAction(observed: PrepareObservation, plan: ResetPlan): PrepareAction {
  if (!observed.rootVolumeMarked) return { kind: 'mark-root-volume' };
  if (plan.manageStandby) {
    switch (observed.autoScalingLifecycleState) {
      case 'InService':
        // A group at its minimum refuses EnterStandby: MinSize first, when the caller acknowledged it.
        if (mustLowerMinSize(observed.autoScalingGroup, plan)) return { kind: 'lower-min-size', to: plan.minSizeLowering!.to };
        return { kind: 'enter-standby' };
      case 'Standby':
      case undefined:
        break;
      default:
        return { kind: 'wait', reason: `the instance is ${observed.autoScalingLifecycleState} in its Auto Scaling group`, waitSeconds: WAIT_SECONDS.short };
    }
  }
  if (observed.rootDeleteOnTermination === true) {
    return { kind: 'keep-root-volume' };
  }
  const step = nextStopStep(
    { state: observed.state, requestedAt: observed.stopRequestedAt, forcedAt: observed.forceStopRequestedAt },
    STOP_BOUNDS.target, observed.nowEpochSeconds, 'the instance',
  );
  switch (step.kind) {
    case 'stopped':
      return { kind: 'done' };
    case 'stop':
      return { kind: 'stop', force: step.mode === 'force' };
    case 'wait':
      return step;
    default:
      throw new WorkflowError(ERRORS.instanceStateUnsupported, `Instance ${plan.instanceId} is ${observed.state} and cannot be taken offline; check who changed it.`);
  }
}
