/**
 * Reading and writing the journal (journal.ts says what it holds): the SDK calls the steps share.
 */
import { GetItemCommand, UpdateItemCommand, UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { dynamodb } from './clients';
import { isAwsError } from './errors';
import { LockItem, lockKey, unmarshalLockItem } from './journal';

/** The lock item of an instance, read consistently, or undefined when there is none. */
export async function readLockItem(tableName: string, instanceId: string): Promise<LockItem | undefined> {
  const out = await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: lockKey(instanceId), ConsistentRead: true }));
  return unmarshalLockItem(out.Item);
}

/**
 * Sends a journal update (conditioned on the owner). Returns false when the condition failed:
 * the item is gone (its restore finished) or belongs to another execution now.
 */
export async function writeJournal(update: UpdateItemCommandInput): Promise<boolean> {
  try {
    await dynamodb.send(new UpdateItemCommand(update));
    return true;
  } catch (err) {
    if (isAwsError(err, 'ConditionalCheckFailedException')) return false;
    throw err;
  }
}

/** Now, in epoch seconds (what the journal records). */
export function nowEpochSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
