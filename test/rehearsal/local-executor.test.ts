import type * as Als from 'aws-local-stepfunctions' with { 'resolution-mode': 'import' };
import { forLocalExecutor } from './runner';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const als = require('aws-local-stepfunctions') as typeof Als;

/*
 * What the rehearsal changes in a definition before aws-local-stepfunctions runs it: each change keeps
 * the definition's meaning in Amazon States Language and works around what the executor lacks.
 */

const choice = (rule: Record<string, unknown>) => ({
  StartAt: 'Decide',
  States: {
    Decide: { Type: 'Choice', Choices: [{ ...rule, Next: 'Matched' }], Default: 'Other' },
    Matched: { Type: 'Pass', Result: 'matched', End: true },
    Other: { Type: 'Pass', Result: 'other', End: true },
  },
});

async function run(definition: any, input: any): Promise<unknown> {
  const machine = new als.StateMachine(forLocalExecutor(definition), { validationOptions: { noValidate: true } });
  return machine.run(input).result;
}

describe('forLocalExecutor', () => {
  test('a false type test matches when the value is absent (the executor alone never matches it)', async () => {
    const absent = choice({ Variable: '$.lock.Item.executionArn', IsPresent: false });
    expect(await run(absent, { lock: {} })).toBe('matched');
    expect(await run(absent, { lock: { Item: { executionArn: 'arn' } } })).toBe('other');
    expect(forLocalExecutor(absent).States.Decide.Choices).toEqual([{ Next: 'Matched', Not: { Variable: '$.lock.Item.executionArn', IsPresent: true } }]);
    // Nested in And/Or/Not too; true tests unchanged.
    const nested = choice({ And: [{ Variable: '$.a', IsNull: false }, { Variable: '$.b', IsPresent: true }] });
    expect(forLocalExecutor(nested).States.Decide.Choices[0].And).toEqual([{ Not: { Variable: '$.a', IsNull: true } }, { Variable: '$.b', IsPresent: true }]);
  });

  test('a Distributed Map runs as the executor\'s Map: same items, iteration input, results and MaxConcurrency', async () => {
    const definition = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemsPath: '$.items',
          MaxConcurrency: 2,
          Label: 'Each',
          ItemProcessor: {
            ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
            StartAt: 'Double',
            States: { Double: { Type: 'Pass', Parameters: { 'value.$': 'States.MathAdd($.n, $.n)' }, End: true } },
          },
          End: true,
        },
      },
    };
    expect(await run(definition, { items: [{ n: 1 }, { n: 2 }, { n: 3 }] })).toEqual([{ value: 2 }, { value: 4 }, { value: 6 }]);
    const local = forLocalExecutor(definition).States.Each;
    expect(local).toMatchObject({ MaxConcurrency: 2 });
    expect(local).not.toHaveProperty('Label');
    expect(local.ItemProcessor).not.toHaveProperty('ProcessorConfig');
  });

  test('a startExecution.sync task gets Step Functions\' long task timeout instead of the executor\'s 60 seconds', () => {
    const definition = {
      StartAt: 'Child',
      States: { Child: { Type: 'Task', Resource: 'arn:aws:states:::states:startExecution.sync:2', Parameters: { StateMachineArn: 'arn' }, End: true } },
    };
    expect(forLocalExecutor(definition).States.Child.TimeoutSeconds).toBe(2_000_000);
  });

  test('"ResultPath": "$" is dropped (the same as leaving it out); nested Parameters paths resolve', async () => {
    const definition = {
      StartAt: 'Shape',
      States: { Shape: { Type: 'Pass', Parameters: { Key: { 'id.$': '$.instanceId' } }, ResultPath: '$', End: true } },
    };
    expect(forLocalExecutor(definition).States.Shape).not.toHaveProperty('ResultPath');
    expect(await run(definition, { instanceId: 'i-1' })).toEqual({ Key: { id: 'i-1' } });
  });
});
