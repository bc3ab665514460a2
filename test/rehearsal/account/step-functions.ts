/**
 * Step Functions as a function in the account reads it: DescribeExecution of the rehearsal's
 * executions (the backup image retention asks how a reset ended). The rehearsal runner registers
 * each execution it starts; what a caller sees depends on the account's clock: RUNNING until the
 * execution has ended, its status after, and nothing once Step Functions has stopped keeping it.
 *
 * (The operator CLI's Step Functions client is served separately, at the observer's time, by
 * ../step-functions-api.ts.)
 *
 * Documents quoted:
 * - [QUOTAS] Step Functions Developer Guide, "Step Functions service quotas" (Standard workflows).
 * - [DE] Step Functions API Reference, DescribeExecution.
 */
import type { Operations, SimulatedAccount } from './account';
import { awsError } from './errors';

/** An execution as the runner records it (ExecutionRecord has these fields). */
export interface SimExecution {
  readonly arn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  /** Epoch milliseconds. */
  readonly start: number;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  /** Epoch milliseconds, once it has ended. */
  readonly end?: number;
}

/**
 * [QUOTAS] "Maximum execution history retention time: 90 days. After this time, you can no longer
 * retrieve or view the execution history." Counted from the execution's end (assumption: the
 * history of a running execution is kept while it runs, so the 90 days start when it closes).
 */
export const EXECUTION_HISTORY_RETENTION_DAYS = 90;

function visibleExecution(account: SimulatedAccount, executionArn: string): SimExecution {
  const execution = account.executions.get(executionArn);
  const now = account.now();
  const forgotten = execution?.end !== undefined && execution.status !== 'RUNNING'
    && now > execution.end + EXECUTION_HISTORY_RETENTION_DAYS * 86400_000;
  if (!execution || execution.start > now || forgotten) {
    // [DE] ExecutionDoesNotExist: "The specified execution does not exist."
    throw awsError('states', 'ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
  }
  return execution;
}

export const STEP_FUNCTIONS_OPERATIONS: Operations = {
  DescribeExecution(account, input) {
    // [DE] executionArn: "The Amazon Resource Name (ARN) of the execution to describe."; a string
    // that is not one is InvalidArn.
    if (typeof input.executionArn !== 'string' || !/^arn:aws[\w-]*:states:[^:]+:\d{12}:execution:[^:]+:[^:]+$/.test(input.executionArn)) {
      throw awsError('states', 'InvalidArn', `Invalid Arn: '${input.executionArn}'`);
    }
    const execution = visibleExecution(account, input.executionArn);
    const ended = execution.status !== 'RUNNING' && execution.end !== undefined && execution.end <= account.now();
    return {
      executionArn: execution.arn,
      stateMachineArn: execution.stateMachineArn,
      name: execution.name,
      status: ended ? execution.status : 'RUNNING',
      startDate: new Date(execution.start),
      ...(ended ? { stopDate: new Date(execution.end!) } : {}),
    };
  },
};
