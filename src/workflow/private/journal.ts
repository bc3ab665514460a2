import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ResetPlan } from './contracts';

/**
 * The lock item (I4), which is also the execution's journal: one item per instance under
 * reset, `{ instanceId (PK), executionArn, plan (the ResetPlan as a JSON string), expiresAt (TTL, epoch s) }`.
 */
export interface LockItem {
  readonly instanceId: string;
  readonly executionArn: string;
  /** Absent only when the stored plan is unreadable. */
  readonly plan?: ResetPlan;
  readonly expiresAt: number;
}

/** Condition of the put: no lock, or this execution's own lock (a retry), or an abandoned one. */
export const ACQUIRE_CONDITION = 'attribute_not_exists(instanceId) OR executionArn = :me OR expiresAt < :now';
/** Condition of the delete: only this execution's own lock. */
export const RELEASE_CONDITION = 'executionArn = :me';

export function lockKey(instanceId: string): Record<string, AttributeValue> {
  return { instanceId: { S: instanceId } };
}

export function marshalLockItem(item: LockItem): Record<string, AttributeValue> {
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
  const expiresAt = Number(item?.expiresAt?.N);
  if (!instanceId || !executionArn || !Number.isFinite(expiresAt)) return undefined;
  let plan: ResetPlan | undefined;
  try {
    plan = item?.plan?.S ? JSON.parse(item.plan.S) as ResetPlan : undefined;
  } catch {
    plan = undefined;
  }
  return { instanceId, executionArn, ...(plan ? { plan } : {}), expiresAt };
}
