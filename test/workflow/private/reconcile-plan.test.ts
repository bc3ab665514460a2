import { EMPTY_JOURNAL, Journal, LockItem } from '../../../src/workflow/private/journal';
import {
  MAX_RECONCILE_ATTEMPTS, RECONCILE_GRACE_SECONDS, ReconcileObservation, reconcileJournal, restoreExecutionName, restoreMachineInput,
} from '../../../src/workflow/private/reconcile-plan';
import { EXECUTION_ARN, TARGET, offlinePlan } from '../fixtures';

const NOW = 1_800_000_000;
const RESTORE = 'arn:aws:states:eu-west-1:111122223333:execution:Restore:abc';

function item(journal: Partial<Journal> = {}, o: Partial<LockItem> = {}): LockItem {
  return {
    instanceId: TARGET, executionArn: EXECUTION_ARN, plan: offlinePlan(), expiresAt: NOW + 3600, journal: { ...EMPTY_JOURNAL, ...journal }, ...o,
  };
}

function observation(o: Partial<ReconcileObservation> = {}): ReconcileObservation {
  return { item: item(), resetStatus: 'ABORTED', resetStoppedAt: NOW - 3600, restores: [], nowEpochSeconds: NOW, ...o };
}

describe('reconcileJournal', () => {
  test.each(['RUNNING', 'PENDING_REDRIVE'])('a reset that is %s restores itself: leave it, without holding its TTL', status => {
    expect(reconcileJournal(observation({ resetStatus: status }))).toEqual({ kind: 'leave', reason: expect.stringMatching(/reset execution is running/), hold: false });
  });

  test('a restore running (recorded, or found by its input) is left to finish, with the journal held', () => {
    expect(reconcileJournal(observation({ restores: [{ executionArn: RESTORE, status: 'RUNNING' }] })))
      .toEqual({ kind: 'leave', reason: 'a restore is running (abc)', hold: true });
  });

  test.each(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'GONE'])('a journal left after a reset that ended %s, with no restore, is restored (attempt 1)', status => {
    expect(reconcileJournal(observation({ resetStatus: status }))).toEqual({ kind: 'start-restore', attempt: 1, name: restoreExecutionName(item(), 1) });
  });

  test('the restore the rule starts gets a grace period after the reset ends; a failed one does not need it', () => {
    const justEnded = observation({ resetStoppedAt: NOW - RECONCILE_GRACE_SECONDS + 1 });
    expect(reconcileJournal(justEnded)).toMatchObject({ kind: 'leave', hold: true });
    expect(reconcileJournal({ ...justEnded, resetStoppedAt: NOW - RECONCILE_GRACE_SECONDS })).toMatchObject({ kind: 'start-restore' });
    expect(reconcileJournal({ ...justEnded, restores: [{ executionArn: RESTORE, status: 'FAILED' }] })).toMatchObject({ kind: 'start-restore' });
  });

  test('attempts are counted in the journal; after the last one it gives up', () => {
    expect(reconcileJournal(observation({ item: item({ reconcileAttempts: 1 }), restores: [{ executionArn: RESTORE, status: 'ABORTED' }] })))
      .toEqual({ kind: 'start-restore', attempt: 2, name: restoreExecutionName(item(), 2) });
    expect(reconcileJournal(observation({ item: item({ reconcileAttempts: MAX_RECONCILE_ATTEMPTS }) })))
      .toEqual({ kind: 'abandon', reason: `${MAX_RECONCILE_ATTEMPTS} restores started by the reconciler did not put the instance back` });
  });

  test('a journal it gave up on is reported again (the metric stays up while it is there), unless a restore runs for it', () => {
    const given = item({ reconcileAttempts: MAX_RECONCILE_ATTEMPTS, abandonedAt: NOW - 60 });
    expect(reconcileJournal(observation({ item: given }))).toEqual({ kind: 'abandoned' });
    expect(reconcileJournal(observation({ item: given, restores: [{ executionArn: RESTORE, status: 'RUNNING' }] }))).toMatchObject({ kind: 'leave' });
  });

  test('a journal whose plan is unreadable cannot be restored: it is given up at once', () => {
    const { plan: _, ...withoutPlan } = item();
    expect(reconcileJournal(observation({ item: withoutPlan }))).toMatchObject({ kind: 'abandon', reason: expect.stringMatching(/unreadable/) });
  });
});

describe('the restore the reconciler starts', () => {
  test('has one name per reset and attempt, stable across retries, valid for Step Functions', () => {
    const name = restoreExecutionName(item(), 1);
    expect(name).toBe(restoreExecutionName(item(), 1));
    expect(name).not.toBe(restoreExecutionName(item(), 2));
    expect(name).not.toBe(restoreExecutionName(item({}, { executionArn: `${EXECUTION_ARN}-other` }), 1));
    expect(name).toMatch(new RegExp(`^reconcile-${TARGET}-[0-9a-f]{12}-1$`));
    expect(name.length).toBeLessThanOrEqual(80);
  });

  test('gets the input the restore rule would give it', () => {
    expect(restoreMachineInput(item())).toEqual({ executionArn: EXECUTION_ARN, input: JSON.stringify({ instanceId: TARGET }) });
  });
});
