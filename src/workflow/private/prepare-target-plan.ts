import { ERRORS, ResetPlan } from './contracts';
import { WorkflowError } from './errors';
import { WAIT_SECONDS } from './observations';

/** What prepare-target observes of the target. */
export interface PrepareObservation {
  /** EC2 state name of the target. */
  readonly state: string;
  /** DeleteOnTermination of the root volume's attachment, when it is attached. */
  readonly rootDeleteOnTermination?: boolean;
  /** Auto Scaling lifecycle state, when the instance is in a group. */
  readonly autoScalingLifecycleState?: string;
  /** Whether the root volume carries this workflow's mark (volume-mark.ts). */
  readonly rootVolumeMarked: boolean;
}

export type PrepareAction =
  | { readonly kind: 'mark-root-volume' }
  | { readonly kind: 'enter-standby' }
  | { readonly kind: 'keep-root-volume' }
  | { readonly kind: 'stop' }
  | { readonly kind: 'wait'; readonly reason: string; readonly waitSeconds: number }
  | { readonly kind: 'done' };

/**
 * The next thing to do to take the target offline: mark the root volume (the workflow's IAM
 * permissions on volumes require the mark, volume-mark.ts), Standby (when the workflow manages it),
 * root `DeleteOnTermination=false`, stop; done once it is stopped. An instance already in
 * Standby, already keeping its root, or already stopped converges without acting.
 */
export function nextPrepareAction(observed: PrepareObservation, plan: ResetPlan): PrepareAction {
  if (!observed.rootVolumeMarked) return { kind: 'mark-root-volume' };
  if (plan.manageStandby) {
    switch (observed.autoScalingLifecycleState) {
      case 'InService':
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
  switch (observed.state) {
    case 'running':
      return { kind: 'stop' };
    case 'pending':
    case 'stopping':
      return { kind: 'wait', reason: `the instance is ${observed.state}`, waitSeconds: WAIT_SECONDS.instance };
    case 'stopped':
      return { kind: 'done' };
    default:
      throw new WorkflowError(ERRORS.instanceStateUnsupported, `Instance ${plan.instanceId} is ${observed.state} and cannot be taken offline; check who changed it.`);
  }
}
