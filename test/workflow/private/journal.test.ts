import {
  abandonJournal, countReconcileAttempt, holdJournal, marshalLockItem, recordMoments, takeForRestore, unmarshalLockItem,
} from '../../../src/workflow/private/journal';
import { newSimulatedAccount } from '../../rehearsal/account/fixture';
import { EXECUTION_ARN, OTHER_EXECUTION_ARN, TARGET, offlinePlan } from '../fixtures';

/**
 * The journal's writes, applied with DynamoDB's semantics as the simulated account models them
 * (test/rehearsal/account/dynamodb.ts): what each update leaves in the item, read back.
 */
describe('journal updates', () => {
  const TABLE = 'ResetLocks';
  const plan = offlinePlan();
  const account = newSimulatedAccount();
  const ddb = (operation: string, input: any) => account.call('dynamodb', operation, input);
  const read = () => unmarshalLockItem(ddb('GetItem', { TableName: TABLE, Key: { instanceId: { S: TARGET } } }).Item);
  const failed = (fn: () => unknown) => {
    try {
      fn();
      return 'no error';
    } catch (err) {
      return (err as Error).name;
    }
  };

  beforeEach(() => {
    account.tables.clear();
    account.addTable(TABLE);
    ddb('PutItem', { TableName: TABLE, Item: marshalLockItem({ instanceId: TARGET, executionArn: EXECUTION_ARN, plan, expiresAt: 2_000_000_000 }) });
  });

  test('a moment is recorded once: a second write keeps the first time', () => {
    ddb('UpdateItem', recordMoments(TABLE, plan, ['helperStopRequestedAt', 'helperStopSkippedOsShutdownAt'], 1000));
    ddb('UpdateItem', recordMoments(TABLE, plan, ['helperStopRequestedAt'], 2000));
    ddb('UpdateItem', recordMoments(TABLE, plan, ['helperForceStopRequestedAt'], 3000.7));
    expect(read()!.journal.moments).toEqual({ helperStopRequestedAt: 1000, helperStopSkippedOsShutdownAt: 1000, helperForceStopRequestedAt: 3000 });
  });

  test('every update is conditioned on the owner: another execution\'s item, or none, is not touched (nor created)', () => {
    const foreign = { ...plan, executionArn: OTHER_EXECUTION_ARN };
    for (const update of [
      recordMoments(TABLE, foreign, ['targetStopRequestedAt'], 1), takeForRestore(TABLE, foreign, 'arn:r', 1, 10),
      countReconcileAttempt(TABLE, foreign, 1, 1, 10), holdJournal(TABLE, foreign, 1, 10), abandonJournal(TABLE, foreign, 1),
    ]) {
      expect(failed(() => ddb('UpdateItem', update))).toBe('ConditionalCheckFailedException');
    }
    expect(read()!.journal).toEqual({ moments: {}, restoreExecutionArns: [], reconcileAttempts: 0 });
    ddb('DeleteItem', { TableName: TABLE, Key: { instanceId: { S: TARGET } } });
    expect(failed(() => ddb('UpdateItem', recordMoments(TABLE, plan, ['targetStopRequestedAt'], 1)))).toBe('ConditionalCheckFailedException');
    expect(read()).toBeUndefined();
  });

  test('a restore takes the journal: recorded among its restores, held, a give-up lifted', () => {
    ddb('UpdateItem', abandonJournal(TABLE, plan, 500));
    expect(read()).toMatchObject({ expiresAt: Number.POSITIVE_INFINITY, journal: { abandonedAt: 500 } });
    ddb('UpdateItem', takeForRestore(TABLE, plan, 'arn:restore-1', 1000, 7200));
    ddb('UpdateItem', takeForRestore(TABLE, plan, 'arn:restore-2', 1100, 7200));
    ddb('UpdateItem', takeForRestore(TABLE, plan, 'arn:restore-1', 1200, 7200));
    expect(read()).toMatchObject({ expiresAt: 1200 + 7200, journal: { restoreExecutionArns: ['arn:restore-1', 'arn:restore-2'] } });
    expect(read()!.journal.abandonedAt).toBeUndefined();
  });

  test('reconcile attempts are counted once each, by whichever run of the reconciler gets there first', () => {
    ddb('UpdateItem', countReconcileAttempt(TABLE, plan, 1, 1000, 7200));
    // A second run that read the item before the first counted it tries attempt 1 again: refused.
    expect(failed(() => ddb('UpdateItem', countReconcileAttempt(TABLE, plan, 1, 1000, 7200)))).toBe('ConditionalCheckFailedException');
    // Attempt 3 before attempt 2: refused.
    expect(failed(() => ddb('UpdateItem', countReconcileAttempt(TABLE, plan, 3, 1000, 7200)))).toBe('ConditionalCheckFailedException');
    ddb('UpdateItem', countReconcileAttempt(TABLE, plan, 2, 2000, 7200));
    expect(read()).toMatchObject({ expiresAt: 2000 + 7200, journal: { reconcileAttempts: 2 } });
  });

  test('holding pushes the TTL out, but never brings back the TTL of a journal given up on', () => {
    ddb('UpdateItem', holdJournal(TABLE, plan, 1000, 7200));
    expect(read()!.expiresAt).toBe(8200);
    ddb('UpdateItem', abandonJournal(TABLE, plan, 9000));
    expect(failed(() => ddb('UpdateItem', holdJournal(TABLE, plan, 9100, 7200)))).toBe('ConditionalCheckFailedException');
    expect(read()).toMatchObject({ expiresAt: Number.POSITIVE_INFINITY, journal: { abandonedAt: 9000 } });
  });

  test('a journal given up on is never taken over as abandoned by a new reset (no TTL: the lock stays held)', () => {
    ddb('UpdateItem', abandonJournal(TABLE, plan, 9000));
    const acquire = (now: number) => ddb('PutItem', {
      TableName: TABLE,
      Item: marshalLockItem({ instanceId: TARGET, executionArn: OTHER_EXECUTION_ARN, plan, expiresAt: now + 3600 }),
      ConditionExpression: 'attribute_not_exists(instanceId) OR executionArn = :me OR expiresAt < :now',
      ExpressionAttributeValues: { ':me': { S: OTHER_EXECUTION_ARN }, ':now': { N: String(now) } },
    });
    expect(failed(() => acquire(4_000_000_000))).toBe('ConditionalCheckFailedException');
  });
});
