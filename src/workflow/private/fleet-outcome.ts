import { ERRORS, ResetRequest } from './contracts';
import { FleetPlanResult } from './fleet-request';

/**
 * Each instance's outcome in a fleet reset, from what its child execution of the reset machine
 * returned (issue 14). The fleet machine runs each child with `states:startExecution.sync:2`: a
 * child that succeeds gives its output; one that fails, is aborted or times out makes the task fail
 * with `States.TaskFailed` and, as the cause, the child's DescribeExecution response as JSON (with
 * its `Error`, `Cause` and `Status`), which the Catch keeps. Pure: the fleet-summary step calls it.
 */

/**
 * - `succeeded`: the reset ended with a new password (or `no-key-pair`; see the child's output).
 * - `planned`: a dry run's child returned its plan; nothing changed.
 * - `refused`: the child's preflight refused it with a named error; nothing changed.
 * - `failed`: the reset failed after it had started to change the instance; the child's own restore
 *   put it back before the child failed, or, when the child was aborted or timed out, the restore
 *   machine (started by EventBridge) does, and the reconciler finishes what that leaves.
 * - `not-started`: the child could not be started (the fleet's role or Step Functions refused).
 */
export type FleetOutcomeKind = 'succeeded' | 'planned' | 'refused' | 'failed' | 'not-started';

export interface FleetInstanceOutcome {
  readonly instanceId: string;
  /** Its Availability Zone, as the plan resolved it. */
  readonly availabilityZone?: string;
  readonly outcome: FleetOutcomeKind;
  /** The child execution, when it started. */
  readonly executionArn?: string;
  /** The child's error name (one of the reset's named errors) and its sentence. */
  readonly error?: string;
  readonly cause?: string;
  /** The child's output when it succeeded: `passwordStatus`, image ids, or a dry run's plan. Never a secret (I5). */
  readonly output?: unknown;
  /**
   * True when the fleet went on while a reset still held the instance's lock (its restore had not
   * finished within the wait, or the reconciler gave up on it), or the lock could not be read: check
   * the instance before resetting it again.
   */
  readonly restorePending?: boolean;
}

/** One iteration's result as the fleet machine leaves it: the child's request, then `child` or `failure`. */
export interface FleetIteration extends ResetRequest {
  readonly child?: { readonly executionArn: string; readonly status: string; readonly output?: unknown };
  readonly failure?: { readonly Error?: string; readonly Cause?: string };
  /** After a failure: the wait for the instance's lock to go (fleet-definition.ts, awaitRelease). */
  readonly release?: FleetLockWait;
}

/** The last read of the instance's lock item (DynamoDB GetItem's response), how many polls, or the read's error. */
export interface FleetLockWait {
  readonly polls: number;
  readonly lock?: { readonly Item?: { readonly executionArn?: unknown } };
  readonly readError?: unknown;
}

/** Errors of the child's preflight: it failed before changing anything. */
const REFUSALS: ReadonlySet<string> = new Set(Object.values(ERRORS).slice(0, Object.values(ERRORS).indexOf(ERRORS.notManagedOnline) + 1));

export function outcomeOf(iteration: FleetIteration): FleetInstanceOutcome {
  const instanceId = iteration.instanceId;
  if (iteration.child) {
    return {
      instanceId,
      outcome: iteration.dryRun ? 'planned' : 'succeeded',
      executionArn: iteration.child.executionArn,
      output: iteration.child.output,
    };
  }
  const failure = iteration.failure ?? {};
  const child = parseChild(failure.Cause);
  const pending = restorePending(iteration.release);
  if (!child) {
    return { instanceId, outcome: 'not-started', error: failure.Error ?? 'Unknown', cause: failure.Cause ?? '', ...pending };
  }
  const error = child.Error ?? child.Status ?? 'Unknown';
  const stoppedFromOutside = child.Status === 'ABORTED' || child.Status === 'TIMED_OUT';
  return {
    instanceId,
    outcome: !stoppedFromOutside && REFUSALS.has(error) ? 'refused' : 'failed',
    executionArn: child.ExecutionArn,
    error,
    cause: child.Cause ?? (!stoppedFromOutside ? '' : pending.restorePending
      ? `The reset execution was ${child.Status}; the restore state machine had not put the instance back when the fleet went on: check it before resetting it again.`
      : `The reset execution was ${child.Status}; the restore state machine put the instance back before the fleet went on.`),
    ...pending,
  };
}

/** Whether the fleet went on before the instance's lock was gone (or without knowing). */
function restorePending(release: FleetIteration['release']): { restorePending?: true } {
  // A lock item stays after its release (without an owner): held means it still names an execution.
  return release && (release.readError !== undefined || release.lock?.Item?.executionArn !== undefined) ? { restorePending: true } : {};
}

function parseChild(cause: string | undefined): { ExecutionArn?: string; Status?: string; Error?: string; Cause?: string } | undefined {
  if (!cause) return undefined;
  try {
    const parsed = JSON.parse(cause);
    return parsed && typeof parsed === 'object' && typeof parsed.ExecutionArn === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The fleet execution's output: the plan as decided, each instance's outcome, and counts. */
export interface FleetSummary {
  readonly selection: string;
  readonly dryRun: boolean;
  readonly plan: FleetPlanResult['plan'];
  readonly instances: FleetInstanceOutcome[];
  readonly counts: Record<FleetOutcomeKind, number>;
}

export function summarizeFleet(plan: FleetPlanResult, iterations: readonly FleetIteration[]): FleetSummary {
  const zones = new Map(plan.targets.map(t => [t.instanceId, t.availabilityZone]));
  const instances = iterations.map(i => {
    const { instanceId, ...rest } = outcomeOf(i);
    const availabilityZone = zones.get(instanceId);
    return availabilityZone ? { instanceId, availabilityZone, ...rest } : { instanceId, ...rest };
  });
  const counts: Record<FleetOutcomeKind, number> = { 'succeeded': 0, 'planned': 0, 'refused': 0, 'failed': 0, 'not-started': 0 };
  for (const i of instances) counts[i.outcome]++;
  return { selection: plan.selection, dryRun: plan.dryRun, plan: plan.plan, instances, counts };
}
