import { DynamoDBClient, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient, SFNServiceException, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { RECONCILER_CONFIG_ENV, ReconcilerConfig } from '../../../src/workflow/private/contracts';
import { marshalLockItem } from '../../../src/workflow/private/journal';
import { MAX_RECONCILE_ATTEMPTS, restoreExecutionName } from '../../../src/workflow/private/reconcile-plan';
import { handler as reconcile } from '../../../src/workflow/steps/reconcile.lambda';
import { EXECUTION_ARN, TARGET, captureLogs, offlinePlan } from '../fixtures';

const ddb = mockClient(DynamoDBClient);
const sfn = mockClient(SFNClient);

const CONFIG: ReconcilerConfig = {
  lockTableName: 'ResetLocks',
  restoreStateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:Restore',
  holdSeconds: 3 * 3600,
  workflowId: 'wf-test',
};
const OTHER_TARGET = 'i-0aaaaaaaaaaaaaaaa';
const OTHER_RESET = 'arn:aws:states:eu-west-1:111122223333:execution:Reset:run-2';
const RUNNING_RESTORE = 'arn:aws:states:eu-west-1:111122223333:execution:Restore:from-the-rule';
const now = () => Math.floor(Date.now() / 1000);

function journal(instanceId: string, executionArn: string, extra: Record<string, any> = {}, expiresAt = now() + 3600) {
  return { ...marshalLockItem({ instanceId, executionArn, plan: offlinePlan({ instanceId, executionArn }), expiresAt }), ...extra };
}

function sfnError(name: string): Error {
  return new SFNServiceException({ name, $fault: 'client', $metadata: {}, message: name });
}

describe('reconcile handler', () => {
  let logs: () => string[];
  beforeEach(() => {
    ddb.reset(); sfn.reset();
    process.env[RECONCILER_CONFIG_ENV] = JSON.stringify(CONFIG);
    logs = captureLogs();
    ddb.on(UpdateItemCommand).resolves({});
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:started', startDate: new Date() });
  });
  afterEach(() => jest.restoreAllMocks());

  test('reads every page of the table, starts the restore for an unfinished journal, and leaves one whose reset runs', async () => {
    // GIVEN two pages: a journal whose reset was aborted an hour ago, one whose reset runs
    ddb.on(ScanCommand)
      .resolvesOnce({ Items: [journal(TARGET, EXECUTION_ARN)], LastEvaluatedKey: { instanceId: { S: TARGET } } })
      .resolves({ Items: [journal(OTHER_TARGET, OTHER_RESET)] });
    sfn.on(DescribeExecutionCommand, { executionArn: EXECUTION_ARN }).resolves({ status: 'ABORTED', stopDate: new Date((now() - 3600) * 1000) });
    sfn.on(DescribeExecutionCommand, { executionArn: OTHER_RESET }).resolves({ status: 'RUNNING' });

    // WHEN
    const result = await reconcile();

    // THEN
    expect(ddb).toHaveReceivedCommandWith(ScanCommand, { TableName: 'ResetLocks', ConsistentRead: true, ExclusiveStartKey: { instanceId: { S: TARGET } } });
    expect(result).toEqual({ journals: 2, started: [TARGET], abandoned: [] });
    const name = restoreExecutionName({ instanceId: TARGET, executionArn: EXECUTION_ARN }, 1);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: CONFIG.restoreStateMachineArn,
      name,
      input: JSON.stringify({ executionArn: EXECUTION_ARN, input: JSON.stringify({ instanceId: TARGET }) }),
    });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    // The attempt is counted (optimistically) and the journal held while that restore runs.
    expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, {
      Key: { instanceId: { S: TARGET } },
      ConditionExpression: 'executionArn = :owner AND attribute_not_exists(reconcileAttempts)',
      UpdateExpression: 'SET reconcileAttempts = :attempt, expiresAt = :hold',
    });
  });

  test('a restore the rule started, running but not yet recorded, is found by its input: nothing is started, the journal is held', async () => {
    // GIVEN a journal about to expire
    ddb.on(ScanCommand).resolves({ Items: [journal(TARGET, EXECUTION_ARN, {}, now() + 60)] });
    sfn.on(DescribeExecutionCommand, { executionArn: EXECUTION_ARN }).resolves({ status: 'TIMED_OUT', stopDate: new Date((now() - 3600) * 1000) });
    sfn.on(ListExecutionsCommand).resolves({ executions: [{ executionArn: RUNNING_RESTORE } as never] });
    sfn.on(DescribeExecutionCommand, { executionArn: RUNNING_RESTORE }).resolves({ status: 'RUNNING', input: JSON.stringify({ executionArn: EXECUTION_ARN, input: '{}' }) });

    // WHEN
    const result = await reconcile();

    // THEN
    expect(sfn).toHaveReceivedCommandWith(ListExecutionsCommand, { stateMachineArn: CONFIG.restoreStateMachineArn, statusFilter: 'RUNNING' });
    expect(result.started).toEqual([]);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
    expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, {
      ConditionExpression: 'executionArn = :owner AND attribute_exists(expiresAt)', UpdateExpression: 'SET expiresAt = :hold',
    });
  });

  test('recorded restores are described; an attempt already started and ended (ExecutionAlreadyExists) is counted and not repeated', async () => {
    // GIVEN attempt 1 counted and ended; attempt 2 started by a run that failed before counting it
    const recorded = 'arn:aws:states:eu-west-1:111122223333:execution:Restore:attempt-1';
    ddb.on(ScanCommand).resolves({ Items: [journal(TARGET, EXECUTION_ARN, { reconcileAttempts: { N: '1' }, restoreExecutionArns: { SS: [recorded] } })] });
    sfn.on(DescribeExecutionCommand, { executionArn: EXECUTION_ARN }).resolves({ status: 'ABORTED', stopDate: new Date((now() - 7200) * 1000) });
    sfn.on(DescribeExecutionCommand, { executionArn: recorded }).resolves({ status: 'FAILED' });
    sfn.on(StartExecutionCommand).rejects(sfnError('ExecutionAlreadyExists'));

    // WHEN
    await reconcile();

    // THEN
    const name = restoreExecutionName({ instanceId: TARGET, executionArn: EXECUTION_ARN }, 2);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { name });
    expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, {
      ConditionExpression: 'executionArn = :owner AND reconcileAttempts = :previous',
      ExpressionAttributeValues: expect.objectContaining({ ':attempt': { N: '2' }, ':previous': { N: '1' } }),
    });
  });

  test('after the last attempt it gives up: the journal loses its TTL, and the RestoresAbandoned metric is published', async () => {
    // GIVEN
    ddb.on(ScanCommand).resolves({ Items: [journal(TARGET, EXECUTION_ARN, { reconcileAttempts: { N: String(MAX_RECONCILE_ATTEMPTS) } })] });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'ABORTED', stopDate: new Date((now() - 7200) * 1000) });

    // WHEN
    const result = await reconcile();

    // THEN
    expect(result.abandoned).toEqual([TARGET]);
    expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, { UpdateExpression: 'SET abandonedAt = if_not_exists(abandonedAt, :now) REMOVE expiresAt' });
    const emf = logs().map(line => { try { return JSON.parse(line); } catch { return undefined; } }).find(l => l?._aws);
    expect(emf).toMatchObject({
      // Exactly the dimensions of ResetWorkflow.metricRestoresAbandoned(), or its alarm would watch another metric.
      _aws: { CloudWatchMetrics: [{ Namespace: 'cdk-ec2-reset-access', Dimensions: [['service', 'WorkflowId']], Metrics: [{ Name: 'RestoresAbandoned', Unit: 'Count' }] }] },
      service: 'reset-reconciler',
      WorkflowId: 'wf-test',
      RestoresAbandoned: 1,
    });
  });

  test('nothing to report: no metric is published (a metric never written costs nothing)', async () => {
    ddb.on(ScanCommand).resolves({ Items: [] });
    await expect(reconcile()).resolves.toEqual({ journals: 0, started: [], abandoned: [] });
    expect(logs().some(line => line.includes('"_aws"'))).toBe(false);
  });

  test('a reset execution Step Functions no longer knows counts as ended', async () => {
    ddb.on(ScanCommand).resolves({ Items: [journal(TARGET, EXECUTION_ARN)] });
    sfn.on(DescribeExecutionCommand).rejects(sfnError('ExecutionDoesNotExist'));
    await expect(reconcile()).resolves.toMatchObject({ started: [TARGET] });
  });

  test('without its configuration it fails with a sentence that says what to do', async () => {
    delete process.env[RECONCILER_CONFIG_ENV];
    await expect(reconcile()).rejects.toThrow(/RESET_RECONCILER_CONFIG is missing .* redeploy the ResetWorkflow construct/);
  });
});
