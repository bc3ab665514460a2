import { ConditionalCheckFailedException, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { dynamodb } from '../private/clients';
import { workflowConfig } from '../private/config';
import { ERRORS, LockResult, PlanEvent } from '../private/contracts';
import { WorkflowError, isAwsError } from '../private/errors';
import { ACQUIRE_CONDITION, marshalLockItem, unmarshalLockItem } from '../private/journal';
import { stepLogger } from '../private/logger';

const logger = stepLogger('acquire-lock');

/**
 * Takes the per-instance lock (I4) and stores the plan beside it as the execution's journal.
 * A retry by the same execution converges; a lock held by another execution fails with
 * `ResetInProgress`; an abandoned (expired) lock is taken over.
 */
export async function handler(event: PlanEvent): Promise<LockResult> {
  const { plan } = event;
  const config = workflowConfig();
  logger.appendKeys({ instanceId: plan.instanceId, executionName: plan.executionName });
  const now = Math.floor(Date.now() / 1000);
  const expiresAt = now + config.lockTtlSeconds;
  try {
    await dynamodb.send(new PutItemCommand({
      TableName: config.lockTableName,
      Item: marshalLockItem({ instanceId: plan.instanceId, executionArn: plan.executionArn, plan, expiresAt }),
      ConditionExpression: ACQUIRE_CONDITION,
      ExpressionAttributeValues: { ':me': { S: plan.executionArn }, ':now': { N: String(now) } },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }));
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException || isAwsError(err, 'ConditionalCheckFailedException')) {
      const holder = unmarshalLockItem((err as ConditionalCheckFailedException).Item)?.executionArn ?? 'another execution';
      logger.warn('Lock held by another execution', { holder });
      throw new WorkflowError(ERRORS.resetInProgress, `Another reset of ${plan.instanceId} is running (${holder}); wait for it to finish, or stop it, before starting a new one.`);
    }
    throw err;
  }
  logger.info('Lock acquired', { expiresAt });
  return { expiresAt: new Date(expiresAt * 1000).toISOString() };
}
