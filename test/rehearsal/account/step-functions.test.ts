import { SimulatedAccount } from './account';
import { accountHelpers, errorOf, newSimulatedAccount } from './fixture';
import { EXECUTION_HISTORY_RETENTION_DAYS, SimExecution } from './step-functions';

/**
 * DescribeExecution as a function inside the account sees the rehearsal's executions.
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
});
