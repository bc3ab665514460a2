import { SimulatedAccount } from './account';
import { accountHelpers, errorOf, newSimulatedAccount } from './fixture';
import { EXECUTION_HISTORY_RETENTION_DAYS, SimExecution } from './step-functions';

/**
 * DescribeExecution, ListExecutions and StartExecution as a function inside the account sees the
 * rehearsal's executions.
 */
describe('simulated account: Step Functions executions', () => {
  let account: SimulatedAccount;
  beforeEach(() => {
    account = newSimulatedAccount();
  });
  const { call } = accountHelpers(() => account);
  const machine = 'arn:aws:states:us-east-1:123456789012:stateMachine:Reset';
  const arn = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:Reset:${name}`;
  const describe = (name: string) => call('states', 'DescribeExecution', { executionArn: arn(name) });
  /** An execution that started now and ends after `seconds` with `status`. */
  const execution = (name: string, status: SimExecution['status'], seconds: number): SimExecution => {
    const record = { arn: arn(name), stateMachineArn: machine, name, start: account.now(), status, end: account.now() + seconds * 1000 };
    account.executions.set(record.arn, record);
    return record;
  };

  test('RUNNING until the execution has ended, then its status and stop date', () => {
    // GIVEN
    const run = execution('run-1', 'SUCCEEDED', 600);

    // THEN
    expect(describe('run-1')).toEqual({ executionArn: run.arn, stateMachineArn: machine, name: 'run-1', status: 'RUNNING', startDate: new Date(run.start) });
    account.advance(600);
    expect(describe('run-1')).toMatchObject({ status: 'SUCCEEDED', stopDate: new Date(run.end!) });
  });

  test(`an execution is forgotten ${EXECUTION_HISTORY_RETENTION_DAYS} days after it ended (ExecutionDoesNotExist)`, () => {
    // GIVEN
    execution('run-2', 'FAILED', 60);

    // WHEN / THEN
    account.advance(60 + EXECUTION_HISTORY_RETENTION_DAYS * 86400);
    expect(describe('run-2').status).toBe('FAILED');
    account.advance(1);
    expect(errorOf(() => describe('run-2'))).toBe('ExecutionDoesNotExist');
  });

  test('an unknown execution does not exist; a string that is not an execution ARN is InvalidArn', () => {
    expect(errorOf(() => describe('never-started'))).toBe('ExecutionDoesNotExist');
    expect(errorOf(() => call('states', 'DescribeExecution', { executionArn: machine }))).toBe('InvalidArn');
  });

  test('ListExecutions: newest first, filtered by status as seen now, in pages', () => {
    // GIVEN
    execution('a', 'FAILED', 60);
    account.advance(1);
    execution('b', 'SUCCEEDED', 600);
    account.advance(1);
    execution('c', 'SUCCEEDED', 600);
    account.advance(100);
    const list = (input: any) => call('states', 'ListExecutions', { stateMachineArn: machine, ...input });

    // THEN
    expect(list({}).executions.map((e: any) => [e.name, e.status])).toEqual([['c', 'RUNNING'], ['b', 'RUNNING'], ['a', 'FAILED']]);
    expect(list({ statusFilter: 'RUNNING' }).executions.map((e: any) => e.name)).toEqual(['c', 'b']);
    const first = list({ maxResults: 2 });
    expect(first.executions.map((e: any) => e.name)).toEqual(['c', 'b']);
    expect(list({ maxResults: 2, nextToken: first.nextToken })).toEqual({ executions: [expect.objectContaining({ name: 'a' })] });
  });

  test('StartExecution: through the runner; the same name and input while open returns it, anything else is ExecutionAlreadyExists', () => {
    // GIVEN a runner that starts executions lasting 10 minutes
    account.startExecution = ({ stateMachineArn, name, input }) => {
      const record = { arn: arn(name), stateMachineArn, name, start: account.now(), status: 'SUCCEEDED' as const, end: account.now() + 600_000, input };
      account.executions.set(record.arn, record);
      return record;
    };
    const start = (name: string, input: unknown) => call('states', 'StartExecution', { stateMachineArn: machine, name, input: JSON.stringify(input) });

    // WHEN / THEN
    const first = start('restore-1', { executionArn: 'x' });
    expect(first.executionArn).toBe(arn('restore-1'));
    expect(describe('restore-1').input).toBe(JSON.stringify({ executionArn: 'x' }));
    expect(start('restore-1', { executionArn: 'x' })).toEqual(first);
    expect(errorOf(() => start('restore-1', { executionArn: 'y' }))).toBe('ExecutionAlreadyExists');
    account.advance(600);
    expect(errorOf(() => start('restore-1', { executionArn: 'x' }))).toBe('ExecutionAlreadyExists');
    account.startExecution = undefined;
    expect(errorOf(() => start('other', {}))).toBe('StateMachineDoesNotExist');
  });
});
