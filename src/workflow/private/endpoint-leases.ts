import type { AttributeValue, UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * Leases on the on-demand interface endpoints, kept next to the locks (one item of the lock
 * table per rescue VPC; its key cannot be an instance id):
 *
 * | attribute | meaning |
 * |---|---|
 * | `instanceId` (key) | `endpoints:<vpc id>` |
 * | `leases` (string set) | the reset executions that use the endpoints now (absent when none) |
 * | `lastReleasedAt` (epoch s) | when a lease was last released: the grace period runs from it |
 * | `closingSince` (epoch s) | the janitor is deleting the endpoints (a claim; stale after {@link CLOSING_CLAIM_SECONDS}) |
 *
 * Every write is a conditional UpdateItem, so the one rule holds without a lock of its own: the
 * janitor deletes endpoints only after a claim that succeeds while no lease exists, and a lease
 * is only taken while no (fresh) claim exists. A reset that finds a claim waits and tries again;
 * one that finds the endpoints deleting waits until they are gone and creates new ones.
 * The item has no TTL: it must outlive any lease it records.
 */

/** After this long a claim counts as abandoned (a janitor run lasts at most a minute, its Lambda timeout). */
export const CLOSING_CLAIM_SECONDS = 120;

/** The key of the leases item of a VPC. */
export function leasesKey(vpcId: string): Record<string, AttributeValue> {
  return { instanceId: { S: `endpoints:${vpcId}` } };
}

/** The leases item as the steps read it. */
export interface EndpointLeases {
  readonly leases: readonly string[];
  readonly lastReleasedAt?: number;
  readonly closingSince?: number;
}

export function unmarshalLeases(item: Record<string, AttributeValue> | undefined): EndpointLeases {
  const number = (name: string) => {
    const value = Number(item?.[name]?.N);
    return Number.isFinite(value) ? value : undefined;
  };
  const lastReleasedAt = number('lastReleasedAt');
  const closingSince = number('closingSince');
  return {
    leases: [...(item?.leases?.SS ?? [])].sort(),
    ...(lastReleasedAt !== undefined ? { lastReleasedAt } : {}),
    ...(closingSince !== undefined ? { closingSince } : {}),
  };
}

const n = (value: number): AttributeValue => ({ N: String(Math.floor(value)) });

/** A reset takes its lease (idempotent: a set); refused while the janitor holds a fresh claim. */
export function takeLease(tableName: string, vpcId: string, executionArn: string, nowEpochSeconds: number): UpdateItemCommandInput {
  return {
    TableName: tableName,
    Key: leasesKey(vpcId),
    UpdateExpression: 'ADD leases :me',
    ConditionExpression: 'attribute_not_exists(closingSince) OR closingSince < :stale',
    ExpressionAttributeValues: { ':me': { SS: [executionArn] }, ':stale': n(nowEpochSeconds - CLOSING_CLAIM_SECONDS) },
  };
}

/**
 * A lease is released (by the restore, or by the janitor for a reset that has ended): the grace
 * period starts again. Callers release only a lease they saw in the item; two releases racing
 * (the restore and the janitor) only move `lastReleasedAt` by seconds.
 */
export function releaseLease(tableName: string, vpcId: string, executionArn: string, nowEpochSeconds: number): UpdateItemCommandInput {
  return {
    TableName: tableName,
    Key: leasesKey(vpcId),
    UpdateExpression: 'DELETE leases :me SET lastReleasedAt = :now',
    ExpressionAttributeValues: { ':me': { SS: [executionArn] }, ':now': n(nowEpochSeconds) },
  };
}

/** The janitor's claim before it deletes the endpoints: no lease, no fresh claim. */
export function claimClosing(tableName: string, vpcId: string, nowEpochSeconds: number): UpdateItemCommandInput {
  return {
    TableName: tableName,
    Key: leasesKey(vpcId),
    UpdateExpression: 'SET closingSince = :now',
    // (no lease AND no claim) OR (no lease AND a stale claim), written without parentheses.
    ConditionExpression: 'attribute_not_exists(leases) AND attribute_not_exists(closingSince) OR attribute_not_exists(leases) AND closingSince < :stale',
    ExpressionAttributeValues: { ':now': n(nowEpochSeconds), ':stale': n(nowEpochSeconds - CLOSING_CLAIM_SECONDS) },
  };
}

/** The janitor has asked EC2 to delete the endpoints (or failed to): resets may take leases again. */
export function endClosing(tableName: string, vpcId: string, claimedAt: number): UpdateItemCommandInput {
  return {
    TableName: tableName,
    Key: leasesKey(vpcId),
    UpdateExpression: 'REMOVE closingSince',
    ConditionExpression: 'closingSince = :mine',
    ExpressionAttributeValues: { ':mine': n(claimedAt) },
  };
}
