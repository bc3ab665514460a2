import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, ExecutionStatus, ListExecutionsCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { dynamodb, sfn } from '../private/clients';
import { reconcilerConfig } from '../private/config';
import { RECONCILER_METRIC, ReconcilerConfig } from '../private/contracts';
import { isAwsError } from '../private/errors';
import { LockItem, abandonJournal, countReconcileAttempt, holdJournal, unmarshalLockItem } from '../private/journal';
import { nowEpochSeconds, writeJournal } from '../private/journal-io';
import { stepLogger } from '../private/logger';
import { ReconcileDecision, reconcileJournal, restoreMachineInput } from '../private/reconcile-plan';

const logger = stepLogger('reconcile');
const metrics = new Metrics({ namespace: RECONCILER_METRIC.namespace, serviceName: RECONCILER_METRIC.service });

/** What one run of the reconciler did, for its log and its tests. */
export interface ReconcileResult {
  readonly journals: number;
  readonly started: string[];
  readonly abandoned: string[];
}

/**
 * Runs every few minutes (EventBridge schedule): finds journals whose reset has ended and for
 * which no restore runs (an unfinished restore: it was stopped, timed out, failed, or its event
 * was lost), and starts the restore state machine for them (see reconcile-plan.ts), holding
 * their TTL meanwhile; gives up after a few attempts and reports it (metric RestoresAbandoned).
 */
export async function handler(): Promise<ReconcileResult> {
  const config = reconcilerConfig();
  const now = nowEpochSeconds();
  const [items, runningRestores] = await Promise.all([scanJournals(config.lockTableName), runningRestoresByReset(config.restoreStateMachineArn)]);
  const started: string[] = [];
  const abandoned: string[] = [];

  for (const item of items) {
    const decision = reconcileJournal({
      item,
      ...(await resetStatus(item.executionArn)),
      restores: await restoresOf(item, runningRestores.get(item.executionArn) ?? []),
      nowEpochSeconds: now,
    });
    logger.info('Journal', { instanceId: item.instanceId, executionArn: item.executionArn, decision: decision.kind, ...('reason' in decision ? { reason: decision.reason } : {}) });
    if (await act(decision, item, config, now)) started.push(item.instanceId);
    if (decision.kind === 'abandon' || decision.kind === 'abandoned') abandoned.push(item.instanceId);
  }

  // Published only when there is something to report: a metric that is never written costs nothing.
  if (abandoned.length > 0) {
    metrics.addDimension(RECONCILER_METRIC.dimension, config.workflowId);
    metrics.addMetric(RECONCILER_METRIC.restoresAbandoned, MetricUnit.Count, abandoned.length);
    metrics.publishStoredMetrics();
    logger.error('Restores abandoned: put these instances back by hand, then delete their journal items', { instanceIds: abandoned });
  }
  return { journals: items.length, started, abandoned };
}

/** Does what the decision says; returns whether a restore was started. */
async function act(decision: ReconcileDecision, item: LockItem, config: ReconcilerConfig, now: number): Promise<boolean> {
  switch (decision.kind) {
    case 'leave':
      // A journal whose reset has ended is released only by a restore: keep DynamoDB's TTL from deleting it first.
      if (decision.hold && item.expiresAt - now < config.holdSeconds / 2) {
        await writeJournal(holdJournal(config.lockTableName, item, now, config.holdSeconds));
      }
      return false;
    case 'start-restore': {
      try {
        await sfn.send(new StartExecutionCommand({
          stateMachineArn: config.restoreStateMachineArn,
          name: decision.name,
          input: JSON.stringify(restoreMachineInput(item)),
        }));
      } catch (err) {
        // This attempt was started before (a run that failed before counting it) and has ended: count it, and go on next time.
        if (!isAwsError(err, 'ExecutionAlreadyExists')) throw err;
        logger.info('Restore attempt already made', { name: decision.name });
      }
      await writeJournal(countReconcileAttempt(config.lockTableName, item, decision.attempt, now, config.holdSeconds));
      logger.warn('Restore started', { instanceId: item.instanceId, name: decision.name, attempt: decision.attempt });
      return true;
    }
    case 'abandon':
      await writeJournal(abandonJournal(config.lockTableName, item, now));
      return false;
    default:
      return false;
  }
}

/** Every journal item, every page, read consistently. */
async function scanJournals(tableName: string): Promise<LockItem[]> {
  const items: LockItem[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
    for (const raw of page.Items ?? []) {
      const item = unmarshalLockItem(raw);
      if (item) items.push(item);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/**
 * Running restore executions by the reset execution in their input: a restore the rule started
 * records itself in the journal at its first state, and may not have done so yet.
 */
async function runningRestoresByReset(restoreStateMachineArn: string): Promise<Map<string, string[]>> {
  const byReset = new Map<string, string[]>();
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListExecutionsCommand({
      stateMachineArn: restoreStateMachineArn, statusFilter: ExecutionStatus.RUNNING, ...(nextToken ? { nextToken } : {}),
    }));
    for (const execution of page.executions ?? []) {
      if (!execution.executionArn) continue;
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }));
      const reset = resetOf(described.input);
      if (reset) byReset.set(reset, [...(byReset.get(reset) ?? []), execution.executionArn]);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return byReset;
}

function resetOf(input: string | undefined): string | undefined {
  try {
    const arn = JSON.parse(input ?? '').executionArn;
    return typeof arn === 'string' ? arn : undefined;
  } catch {
    return undefined;
  }
}

/** The reset execution's status and end, or GONE when Step Functions no longer knows it. */
async function resetStatus(executionArn: string): Promise<{ resetStatus: string; resetStoppedAt?: number }> {
  try {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return { resetStatus: out.status ?? 'RUNNING', ...(out.stopDate ? { resetStoppedAt: Math.floor(out.stopDate.getTime() / 1000) } : {}) };
  } catch (err) {
    if (isAwsError(err, 'ExecutionDoesNotExist')) return { resetStatus: 'GONE' };
    throw err;
  }
}

/** The journal's restores with their status: those it recorded, and the running ones not recorded yet. */
async function restoresOf(item: LockItem, running: string[]): Promise<{ executionArn: string; status: string }[]> {
  const recorded = await Promise.all(item.journal.restoreExecutionArns.filter(arn => !running.includes(arn)).map(async executionArn => {
    try {
      const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return { executionArn, status: out.status ?? 'RUNNING' };
    } catch (err) {
      if (isAwsError(err, 'ExecutionDoesNotExist')) return { executionArn, status: 'GONE' };
      throw err;
    }
  }));
  return [...running.map(executionArn => ({ executionArn, status: 'RUNNING' })), ...recorded];
}
