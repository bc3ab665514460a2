import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { dynamodb } from '../private/clients';
import { workflowConfig } from '../private/config';
import { LoadJournalEvent, LoadJournalResult } from '../private/contracts';
import { lockKey, unmarshalLockItem } from '../private/journal';
import { stepLogger } from '../private/logger';
import { INSTANCE_ID_PATTERN } from '../private/request';

const logger = stepLogger('load-journal');

/**
 * For the restore state machine (after an abort or a timeout): the plan the aborted
 * execution stored with its lock, only when the lock still belongs to that execution.
 * Not found means the execution never took the lock (it changed nothing) or its restore
 * already finished.
 */
export async function handler(event: LoadJournalEvent): Promise<LoadJournalResult> {
  const instanceId = instanceIdOf(event.input);
  logger.appendKeys({ executionArn: event.executionArn, ...(instanceId ? { instanceId } : {}) });
  if (!instanceId) {
    logger.info('No instance id in the execution input: nothing to restore');
    return { found: false };
  }
  const config = workflowConfig();
  const out = await dynamodb.send(new GetItemCommand({ TableName: config.lockTableName, Key: lockKey(instanceId), ConsistentRead: true }));
  const item = unmarshalLockItem(out.Item);
  if (!item?.plan || item.executionArn !== event.executionArn) {
    logger.info('No journal of this execution', { lockHeldByAnother: item !== undefined && item.executionArn !== event.executionArn });
    return { found: false };
  }
  logger.info('Journal loaded', { method: item.plan.method });
  return { found: true, plan: item.plan };
}

function instanceIdOf(input: string | undefined): string | undefined {
  try {
    const parsed = JSON.parse(input ?? '');
    const id = parsed?.instanceId ?? parsed?.request?.instanceId;
    return typeof id === 'string' && INSTANCE_ID_PATTERN.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}
