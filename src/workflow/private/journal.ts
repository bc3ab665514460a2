import type { AttributeValue, UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { ResetPlan } from './contracts';

/**
 * The lock item (I4), which is also the execution's journal: one item per instance under reset.
 * Beside the lock it records what the workflow did that must be bounded or undone, so whichever
 * restore runs (the reset's own, the restore state machine, or one the reconciler starts) knows it.
 *
 * | attribute | written by | meaning |
 * |---|---|---|
 * | `instanceId` (key), `executionArn`, `plan` | acquire-lock | the owner (the reset execution) and its plan |
 * | `expiresAt` (TTL, epoch s) | acquire-lock; load-journal and the reconciler extend it | until when the owner counts as alive; absent once the reconciler gave up (kept for an operator) |
 * | `targetStopRequestedAt`, `targetForceStopRequestedAt` | prepare-target, restore | the target's stop and its escalation |
 * | `helperStopRequestedAt`, `helperForceStopRequestedAt`, `helperStopSkippedOsShutdownAt` | restore | the helper's stop before the detach |
 * | `restoreExecutionArns` (string set) | load-journal | restore executions that took this journal |
 * | `reconcileAttempts` | reconciler | restores the reconciler started |
 * | `abandonedAt` | reconciler | when it gave up |
 *
 * Every write after the lock is an UpdateItem conditioned on the owner (`executionArn = :owner`)
 * that touches only its own attributes, so writers never overwrite each other. To record
 * something new, add its attribute here (a moment to {@link JOURNAL_MOMENTS}, anything else to
 * {@link Journal} and {@link unmarshalLockItem}) and write it with such an update.
 */

/** Moments the journal records, each written once (the first write wins), in epoch seconds. */
export const JOURNAL_MOMENTS = [
  'targetStopRequestedAt',
  'targetForceStopRequestedAt',
  'helperStopRequestedAt',
  'helperForceStopRequestedAt',
  'helperStopSkippedOsShutdownAt',
] as const;
export type JournalMoment = typeof JOURNAL_MOMENTS[number];

/** What the workflow journaled beside the lock. */
export interface Journal {
  readonly moments: Partial<Record<JournalMoment, number>>;
  /** Restore executions that loaded this journal (their ARNs). */
  readonly restoreExecutionArns: readonly string[];
  /** Restores the reconciler started for it. */
  readonly reconcileAttempts: number;
  /** When the reconciler gave up on it (epoch s). */
  readonly abandonedAt?: number;
}

export const EMPTY_JOURNAL: Journal = { moments: {}, restoreExecutionArns: [], reconcileAttempts: 0 };

export interface LockItem {
  readonly instanceId: string;
  readonly executionArn: string;
  /** Absent only when the stored plan is unreadable. */
  readonly plan?: ResetPlan;
  /**
   * TTL (epoch s): after it the lock counts as abandoned and DynamoDB may delete the item.
   * `Infinity` when the item has none: the reconciler gave up, so the item stays until an operator deletes it.
   */
  readonly expiresAt: number;
  readonly journal: Journal;
}

/** Condition of the put: no lock, or this execution's own lock (a retry), or an abandoned one. */
export const ACQUIRE_CONDITION = 'attribute_not_exists(instanceId) OR executionArn = :me OR expiresAt < :now';
/** Condition of the delete: only this execution's own lock. */
export const RELEASE_CONDITION = 'executionArn = :me';
/** Condition of every journal update: the item exists and belongs to the reset execution. */
export const OWNER_CONDITION = 'executionArn = :owner';

export function lockKey(instanceId: string): Record<string, AttributeValue> {
  return { instanceId: { S: instanceId } };
}

/** The item acquire-lock puts: the lock and the plan; the journal's other attributes are written later. */
export function marshalLockItem(item: Pick<LockItem, 'instanceId' | 'executionArn' | 'plan' | 'expiresAt'>): Record<string, AttributeValue> {
  return {
    instanceId: { S: item.instanceId },
    executionArn: { S: item.executionArn },
    ...(item.plan ? { plan: { S: JSON.stringify(item.plan) } } : {}),
    expiresAt: { N: String(item.expiresAt) },
  };
}

/** The lock item, or undefined when the item is absent or not one the workflow wrote. */
export function unmarshalLockItem(item: Record<string, AttributeValue> | undefined): LockItem | undefined {
  const instanceId = item?.instanceId?.S;
  const executionArn = item?.executionArn?.S;
  if (!item || !instanceId || !executionArn) return undefined;
  const expiresAt = item.expiresAt?.N === undefined ? Number.POSITIVE_INFINITY : Number(item.expiresAt.N);
  if (Number.isNaN(expiresAt)) return undefined;
  let plan: ResetPlan | undefined;
  try {
    plan = item.plan?.S ? JSON.parse(item.plan.S) as ResetPlan : undefined;
  } catch {
    plan = undefined;
  }
  return { instanceId, executionArn, ...(plan ? { plan } : {}), expiresAt, journal: journalOf(item) };
}

function journalOf(item: Record<string, AttributeValue>): Journal {
  const number = (name: string) => {
    const value = Number(item[name]?.N);
    return Number.isFinite(value) ? value : undefined;
  };
  const moments: Partial<Record<JournalMoment, number>> = {};
  for (const moment of JOURNAL_MOMENTS) {
    const at = number(moment);
    if (at !== undefined) moments[moment] = at;
  }
  const abandonedAt = number('abandonedAt');
  return {
    moments,
    restoreExecutionArns: [...(item.restoreExecutionArns?.SS ?? [])].sort(),
    reconcileAttempts: number('reconcileAttempts') ?? 0,
    ...(abandonedAt !== undefined ? { abandonedAt } : {}),
  };
}

/** What every journal update shares: the table, the key, the owner condition. */
function ownedUpdate(tableName: string, instanceId: string, owner: string): Pick<UpdateItemCommandInput, 'TableName' | 'Key' | 'ConditionExpression'> & {
  ExpressionAttributeValues: Record<string, AttributeValue>;
} {
  return { TableName: tableName, Key: lockKey(instanceId), ConditionExpression: OWNER_CONDITION, ExpressionAttributeValues: { ':owner': { S: owner } } };
}

/**
 * Records moments once each: a second write (a retried step, a second restore) keeps the first
 * time, which is what bounds are measured from.
 */
export function recordMoments(
  tableName: string, plan: Pick<ResetPlan, 'instanceId' | 'executionArn'>, moments: readonly JournalMoment[], atEpochSeconds: number,
): UpdateItemCommandInput {
  const base = ownedUpdate(tableName, plan.instanceId, plan.executionArn);
  return {
    ...base,
    UpdateExpression: `SET ${moments.map((_, i) => `#m${i} = if_not_exists(#m${i}, :at)`).join(', ')}`,
    ExpressionAttributeNames: Object.fromEntries(moments.map((moment, i) => [`#m${i}`, moment])),
    ExpressionAttributeValues: { ...base.ExpressionAttributeValues, ':at': { N: String(Math.floor(atEpochSeconds)) } },
  };
}

/**
 * A restore execution takes the journal: its ARN joins `restoreExecutionArns` (so the reconciler
 * knows a restore is running), the item is held for `holdSeconds` more (DynamoDB's TTL must not
 * delete the journal of an instance that is not back), and a give-up is lifted: someone is trying again.
 */
export function takeForRestore(
  tableName: string, plan: Pick<ResetPlan, 'instanceId' | 'executionArn'>, restoreExecutionArn: string, nowEpochSeconds: number, holdSeconds: number,
): UpdateItemCommandInput {
  const base = ownedUpdate(tableName, plan.instanceId, plan.executionArn);
  return {
    ...base,
    UpdateExpression: 'SET expiresAt = :hold ADD restoreExecutionArns :restore REMOVE abandonedAt',
    ExpressionAttributeValues: {
      ...base.ExpressionAttributeValues,
      ':hold': { N: String(Math.floor(nowEpochSeconds + holdSeconds)) },
      ':restore': { SS: [restoreExecutionArn] },
    },
  };
}

/**
 * The reconciler's attempt `attempt` (1, 2, ...): counted only if no other run of the reconciler
 * counted it first (optimistic: the previous count must still be there), and the item held for
 * `holdSeconds` more while that restore runs.
 */
export function countReconcileAttempt(
  tableName: string, item: Pick<LockItem, 'instanceId' | 'executionArn'>, attempt: number, nowEpochSeconds: number, holdSeconds: number,
): UpdateItemCommandInput {
  const base = ownedUpdate(tableName, item.instanceId, item.executionArn);
  return {
    ...base,
    ConditionExpression: attempt === 1
      ? `${OWNER_CONDITION} AND attribute_not_exists(reconcileAttempts)`
      : `${OWNER_CONDITION} AND reconcileAttempts = :previous`,
    UpdateExpression: 'SET reconcileAttempts = :attempt, expiresAt = :hold',
    ExpressionAttributeValues: {
      ...base.ExpressionAttributeValues,
      ':attempt': { N: String(attempt) },
      ':hold': { N: String(Math.floor(nowEpochSeconds + holdSeconds)) },
      ...(attempt === 1 ? {} : { ':previous': { N: String(attempt - 1) } }),
    },
  };
}

/** Holds a journal for `holdSeconds` more (a restore is running for it): TTL must not delete it meanwhile. */
export function holdJournal(tableName: string, item: Pick<LockItem, 'instanceId' | 'executionArn'>, nowEpochSeconds: number, holdSeconds: number): UpdateItemCommandInput {
  const base = ownedUpdate(tableName, item.instanceId, item.executionArn);
  return {
    ...base,
    ConditionExpression: `${OWNER_CONDITION} AND attribute_exists(expiresAt)`,
    UpdateExpression: 'SET expiresAt = :hold',
    ExpressionAttributeValues: { ...base.ExpressionAttributeValues, ':hold': { N: String(Math.floor(nowEpochSeconds + holdSeconds)) } },
  };
}

/**
 * The reconciler gives up: the item loses its TTL (DynamoDB never deletes it, and acquire-lock
 * never takes it over as abandoned, so no new reset starts on an instance that is not back)
 * and records when. An operator puts the instance back and deletes the item.
 */
export function abandonJournal(tableName: string, item: Pick<LockItem, 'instanceId' | 'executionArn'>, nowEpochSeconds: number): UpdateItemCommandInput {
  const base = ownedUpdate(tableName, item.instanceId, item.executionArn);
  return {
    ...base,
    UpdateExpression: 'SET abandonedAt = if_not_exists(abandonedAt, :now) REMOVE expiresAt',
    ExpressionAttributeValues: { ...base.ExpressionAttributeValues, ':now': { N: String(Math.floor(nowEpochSeconds)) } },
  };
}
