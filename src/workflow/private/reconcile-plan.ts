import { createHash } from 'node:crypto';
import { LockItem } from './journal';

/**
 * The reconciler's decisions (I8: nothing left behind, ever). A journal item that remains once its
 * reset execution has ended and no restore execution runs for it is unfinished: every restore
 * deletes the item as its last action. Such a journal gets the restore state machine started for
 * it again, a bounded number of times; then the reconciler gives up and says so (a metric, an alarm).
 */

/** Restores the reconciler starts for one journal before it gives up. */
export const MAX_RECONCILE_ATTEMPTS = 3;

/**
 * How long after the reset ended the reconciler leaves the journal to the restore the
 * EventBridge rule starts (delivered in seconds normally; its execution records itself in the
 * journal at its first state). Two schedule periods.
 */
export const RECONCILE_GRACE_SECONDS = 600;

/** What the reconciler observed of one journal. */
export interface ReconcileObservation {
  readonly item: LockItem;
  /**
   * Status of the reset execution (DescribeExecution): RUNNING, SUCCEEDED, FAILED, TIMED_OUT,
   * ABORTED, PENDING_REDRIVE; `GONE` when Step Functions no longer knows it.
   */
  readonly resetStatus: string;
  /** When the reset execution stopped (epoch s), if it did. */
  readonly resetStoppedAt?: number;
  /**
   * The restore executions for this journal: those it recorded (load-journal) and those running
   * with this reset in their input (not yet recorded), with their status.
   */
  readonly restores: ReadonlyArray<{ readonly executionArn: string; readonly status: string }>;
  readonly nowEpochSeconds: number;
}

export type ReconcileDecision =
  /** Nothing to do now (the reset runs, a restore runs, or the rule's restore may still come). */
  | { readonly kind: 'leave'; readonly reason: string; readonly hold: boolean }
  /** Start the restore state machine for it: attempt `attempt`, with a name that is the same for every retry of that attempt. */
  | { readonly kind: 'start-restore'; readonly attempt: number; readonly name: string }
  /** Give up: keep the journal for an operator (no TTL) and report it. */
  | { readonly kind: 'abandon'; readonly reason: string }
  /** Given up earlier, still there: report it. */
  | { readonly kind: 'abandoned' };

/**
 * The next thing to do for one journal. `hold` says the journal must be held longer (its TTL
 * pushed out): its reset has ended, so only a restore can release it, and DynamoDB must not
 * delete it first.
 */
export function reconcileJournal(o: ReconcileObservation): ReconcileDecision {
  const running = o.restores.filter(r => r.status === 'RUNNING');
  if (o.resetStatus === 'RUNNING' || o.resetStatus === 'PENDING_REDRIVE') {
    return { kind: 'leave', reason: 'its reset execution is running', hold: false };
  }
  if (running.length > 0) {
    return { kind: 'leave', reason: `a restore is running (${running.map(r => r.executionArn.split(':').pop()).join(', ')})`, hold: true };
  }
  if (o.item.journal.abandonedAt !== undefined) return { kind: 'abandoned' };
  if (!o.item.plan) return { kind: 'abandon', reason: 'its plan is unreadable, so no restore can use it' };
  if (o.restores.length === 0 && o.resetStoppedAt !== undefined && o.nowEpochSeconds - o.resetStoppedAt < RECONCILE_GRACE_SECONDS) {
    return { kind: 'leave', reason: 'its reset ended moments ago; the restore rule starts a restore', hold: true };
  }
  const attempts = o.item.journal.reconcileAttempts;
  if (attempts >= MAX_RECONCILE_ATTEMPTS) {
    return { kind: 'abandon', reason: `${attempts} restores started by the reconciler did not put the instance back` };
  }
  return { kind: 'start-restore', attempt: attempts + 1, name: restoreExecutionName(o.item, attempts + 1) };
}

/**
 * The name of the reconciler's restore attempt `attempt` for a journal: the same on every retry
 * (Step Functions' StartExecution is idempotent for a running execution of the same name and
 * input, and refuses a closed one with ExecutionAlreadyExists), unique per reset and attempt.
 * At most 80 characters of letters, digits, `-` and `_`, as execution names must be.
 */
export function restoreExecutionName(item: Pick<LockItem, 'instanceId' | 'executionArn'>, attempt: number): string {
  const reset = createHash('sha256').update(item.executionArn).digest('hex').slice(0, 12);
  return `reconcile-${item.instanceId}-${reset}-${attempt}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 80);
}

/** The restore state machine's input for a journal (what the EventBridge rule would give it). */
export function restoreMachineInput(item: Pick<LockItem, 'instanceId' | 'executionArn'>): { executionArn: string; input: string } {
  return { executionArn: item.executionArn, input: JSON.stringify({ instanceId: item.instanceId }) };
}
