import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { marshalLockItem } from '../../../src/workflow/private/journal';
import { handler as acquireLock } from '../../../src/workflow/steps/acquire-lock.lambda';
import { handler as loadJournal } from '../../../src/workflow/steps/load-journal.lambda';
import { EXECUTION_ARN, OTHER_EXECUTION_ARN, TARGET, captureLogs, offlinePlan, useConfig } from '../fixtures';

const ddb = mockClient(DynamoDBClient);

describe('acquire-lock handler', () => {
  beforeEach(() => {
    ddb.reset();
    useConfig();
    captureLogs();
    jest.useFakeTimers({ now: Date.parse('2026-11-28T09:00:00Z'), doNotFake: ['setTimeout', 'setImmediate', 'nextTick'] });
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  test('puts the lock item with the plan, conditioned on no lock, its own, or an expired one', async () => {
    // GIVEN
    ddb.on(PutItemCommand).resolves({});
    const plan = offlinePlan();

    // WHEN
    const result = await acquireLock({ plan });

    // THEN
    const now = Date.parse('2026-11-28T09:00:00Z') / 1000;
    expect(ddb).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: 'ResetLocks',
      Item: marshalLockItem({ instanceId: TARGET, executionArn: EXECUTION_ARN, plan, expiresAt: now + 3 * 3600 }),
      ConditionExpression: 'attribute_not_exists(instanceId) OR executionArn = :me OR expiresAt < :now',
      ExpressionAttributeValues: { ':me': { S: EXECUTION_ARN }, ':now': { N: String(now) } },
    });
    expect(result).toEqual({ expiresAt: '2026-11-28T12:00:00.000Z' });
  });

  test('a lock held by another execution fails with ResetInProgress naming it', async () => {
    // GIVEN
    ddb.on(PutItemCommand).rejects(new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: {},
      Item: marshalLockItem({ instanceId: TARGET, executionArn: OTHER_EXECUTION_ARN, expiresAt: 1 }),
    }));

    // WHEN / THEN
    await expect(acquireLock({ plan: offlinePlan() })).rejects.toMatchObject({
      name: 'ResetInProgress', message: expect.stringContaining(OTHER_EXECUTION_ARN),
    });
  });

  test('a retried acquire by the same execution converges (the condition admits its own lock)', async () => {
    // GIVEN: DynamoDB accepts, as it does when executionArn = :me
    ddb.on(PutItemCommand).resolves({});

    // WHEN
    await acquireLock({ plan: offlinePlan() });
    await acquireLock({ plan: offlinePlan() });

    // THEN
    expect(ddb).toHaveReceivedCommandTimes(PutItemCommand, 2);
  });
});

const RESTORE_ARN = 'arn:aws:states:eu-west-1:111122223333:execution:Restore:0b6c2c1e-1111-4222-a333-444455556666';
const eventFor = (instanceId: string) => ({ executionArn: EXECUTION_ARN, input: JSON.stringify({ instanceId }), restoreExecutionArn: RESTORE_ARN });

describe('load-journal handler', () => {
  beforeEach(() => {
    ddb.reset();
    useConfig();
    captureLogs();
  });
  afterEach(() => jest.restoreAllMocks());

  test('returns the plan of the aborted execution, and takes the journal: its restore recorded, its TTL pushed out', async () => {
    // GIVEN
    const plan = offlinePlan();
    ddb.on(GetItemCommand, { TableName: 'ResetLocks', Key: { instanceId: { S: TARGET } } })
      .resolves({ Item: marshalLockItem({ instanceId: TARGET, executionArn: EXECUTION_ARN, plan, expiresAt: 1 }) });
    ddb.on(UpdateItemCommand).resolves({});
    const now = Math.floor(Date.now() / 1000);

    // WHEN
    const result = await loadJournal(eventFor(TARGET));

    // THEN
    expect(result).toEqual({ found: true, plan });
    expect(ddb).toHaveReceivedCommandWith(GetItemCommand, { ConsistentRead: true });
    const update = ddb.commandCalls(UpdateItemCommand)[0].args[0].input;
    expect(update).toMatchObject({
      TableName: 'ResetLocks',
      Key: { instanceId: { S: TARGET } },
      ConditionExpression: 'executionArn = :owner',
      UpdateExpression: 'SET expiresAt = :hold ADD restoreExecutionArns :restore REMOVE abandonedAt',
      ExpressionAttributeValues: { ':owner': { S: EXECUTION_ARN }, ':restore': { SS: [RESTORE_ARN] } },
    });
    // Held for the configured TTL from now (CONFIG.lockTtlSeconds = 3 h).
    expect(Number(update.ExpressionAttributeValues![':hold'].N) - now).toBeGreaterThanOrEqual(3 * 3600 - 1);
  });

  test('a journal released between the read and the update is not found', async () => {
    // GIVEN
    const item = marshalLockItem({ instanceId: TARGET, executionArn: EXECUTION_ARN, plan: offlinePlan(), expiresAt: 1 });
    ddb.on(GetItemCommand).resolves({ Item: item });
    ddb.on(UpdateItemCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));

    // WHEN / THEN
    await expect(loadJournal(eventFor(TARGET)))
      .resolves.toEqual({ found: false });
  });

  test('a lock of another execution is not this execution\'s journal', async () => {
    // GIVEN
    const foreign = marshalLockItem({ instanceId: TARGET, executionArn: OTHER_EXECUTION_ARN, plan: offlinePlan(), expiresAt: 1 });
    ddb.on(GetItemCommand).resolves({ Item: foreign });

    // WHEN / THEN
    await expect(loadJournal(eventFor(TARGET))).resolves.toEqual({ found: false });
  });

  test('no lock item: not found', async () => {
    ddb.on(GetItemCommand).resolves({});
    await expect(loadJournal(eventFor(TARGET))).resolves.toEqual({ found: false });
  });

  test('an input without a valid instance id: not found, no lookup', async () => {
    await expect(loadJournal({ executionArn: EXECUTION_ARN, input: '{"instanceId":"nope"}', restoreExecutionArn: RESTORE_ARN })).resolves.toEqual({ found: false });
    await expect(loadJournal({ executionArn: EXECUTION_ARN, input: 'not json', restoreExecutionArn: RESTORE_ARN })).resolves.toEqual({ found: false });
    expect(ddb.calls()).toHaveLength(0);
  });
});
