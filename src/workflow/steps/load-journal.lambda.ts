import { workflowConfig } from '../private/config';
import { LoadJournalEvent, LoadJournalResult } from '../private/contracts';
import { takeForRestore } from '../private/journal';
import { nowEpochSeconds, readLockItem, writeJournal } from '../private/journal-io';
import { stepLogger } from '../private/logger';
import { INSTANCE_ID_PATTERN } from '../private/request';

const logger = stepLogger('load-journal');

/**
 * For the restore state machine (after an abort, a timeout or a failure, or started by the
 * reconciler): the plan the reset execution stored with its lock, only when the lock still
 * belongs to that execution. Not found means the execution never took the lock (it changed
 * nothing) or its restore already finished. A found journal is taken: this restore's ARN is
 * recorded in it (the reconciler then knows a restore runs) and its TTL is pushed out, so
 * DynamoDB cannot delete it while the instance is not back.
 */
export async function handler(event: LoadJournalEvent): Promise<LoadJournalResult> {
  const instanceId = instanceIdOf(event.input);
  logger.appendKeys({ executionArn: event.executionArn, ...(instanceId ? { instanceId } : {}) });
  if (!instanceId) {
    logger.info('No instance id in the execution input: nothing to restore');
    return { found: false };
  }
  const config = workflowConfig();
  const item = await readLockItem(config.lockTableName, instanceId);
  if (!item?.plan || item.executionArn !== event.executionArn) {
    logger.info('No journal of this execution', { lockHeldByAnother: item !== undefined && item.executionArn !== event.executionArn });
    return { found: false };
  }
  if (!await writeJournal(takeForRestore(config.lockTableName, item.plan, event.restoreExecutionArn, nowEpochSeconds(), config.lockTtlSeconds))) {
    logger.info('The journal was released meanwhile');
    return { found: false };
  }
  logger.info('Journal loaded', { method: item.plan.method, restoreExecutionArn: event.restoreExecutionArn });
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
