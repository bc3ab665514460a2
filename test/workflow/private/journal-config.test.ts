import { parseWorkflowConfig, workflowConfig } from '../../../src/workflow/private/config';
import { EMPTY_JOURNAL, marshalLockItem, unmarshalLockItem } from '../../../src/workflow/private/journal';
import { CONFIG, EXECUTION_ARN, TARGET, offlinePlan } from '../fixtures';

describe('lock item', () => {
  test('round-trips the plan', () => {
    // GIVEN
    const plan = offlinePlan();

    // WHEN
    const item = marshalLockItem({ instanceId: TARGET, executionArn: EXECUTION_ARN, plan, expiresAt: 1800000000 });

    // THEN
    expect(item).toEqual({
      instanceId: { S: TARGET }, executionArn: { S: EXECUTION_ARN }, plan: { S: JSON.stringify(plan) }, expiresAt: { N: '1800000000' },
    });
    expect(unmarshalLockItem(item)).toEqual({ instanceId: TARGET, executionArn: EXECUTION_ARN, plan, expiresAt: 1800000000, journal: EMPTY_JOURNAL });
  });

  test('an absent or foreign item is no lock', () => {
    expect(unmarshalLockItem(undefined)).toBeUndefined();
    expect(unmarshalLockItem({ instanceId: { S: TARGET } })).toBeUndefined();
  });

  test('an unreadable plan still identifies the holder', () => {
    expect(unmarshalLockItem({ instanceId: { S: TARGET }, executionArn: { S: EXECUTION_ARN }, plan: { S: '{' }, expiresAt: { N: '1' } }))
      .toEqual({ instanceId: TARGET, executionArn: EXECUTION_ARN, expiresAt: 1, journal: EMPTY_JOURNAL });
  });
});

describe('workflow config', () => {
  test('parses the environment variable', () => {
    expect(workflowConfig({ RESET_WORKFLOW_CONFIG: JSON.stringify(CONFIG) })).toEqual(CONFIG);
  });

  test('a missing variable says how to fix it', () => {
    expect(() => workflowConfig({})).toThrow(/RESET_WORKFLOW_CONFIG is missing: deploy this function through the ResetWorkflow construct/);
  });

  test('invalid JSON is refused', () => {
    expect(() => parseWorkflowConfig('{')).toThrow(/not valid JSON/);
  });

  test('missing or mistyped fields are all named', () => {
    const { lockTableName: _, ...rest } = CONFIG;
    expect(() => parseWorkflowConfig(JSON.stringify({ ...rest, lockTtlSeconds: '3600', targetTag: { key: 'k' } })))
      .toThrow(/lacks or mistypes lockTableName \(a non-empty string\), lockTtlSeconds \(a positive number\), targetTag/);
  });
});
