/**
 * Step Functions as a function in the account uses it: DescribeExecution of the rehearsal's
 * executions (the backup image retention asks how a reset ended; the reconciler, whether a reset or
 * a restore still runs), ListExecutions and StartExecution (the reconciler finds running restores
 * and starts one). The rehearsal runner registers each execution it starts and lets the account
 * start one (`startExecution`); what a caller sees depends on the account's clock: RUNNING until
 * the execution has ended, its status after, and nothing once Step Functions has stopped keeping it.
 *
 * (The operator CLI's Step Functions client is served separately, at the observer's time, by
 * ../step-functions-api.ts.)
 *
 * Documents quoted:
 * - [QUOTAS] Step Functions Developer Guide, "Step Functions service quotas" (Standard workflows,
 *   https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
 * - [DE] Step Functions API Reference, DescribeExecution (https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html).
 *   [LE] ListExecutions (.../API_ListExecutions.html). [SE] StartExecution (.../API_StartExecution.html).
 */
import { createHash } from 'node:crypto';
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
  /** Its input, as given (DescribeExecution returns it as a JSON string). */
  readonly input?: unknown;
  /** What it returned, once it SUCCEEDED (DescribeExecution returns it as a JSON string). */
  readonly output?: unknown;
  /** Its error name and cause, once it FAILED. */
  readonly error?: string;
  readonly cause?: string;
}

/** What the account asks the runner to start (StartExecution). */
export interface StartExecutionRequest {
  readonly stateMachineArn: string;
  readonly name: string;
  readonly input: unknown;
}

/** [LE] maxResults: "If no value is specified, the default is 100" (at most 1,000). */
const LIST_EXECUTIONS_PAGE = 100;

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
  // assumption: an execution the runner starts later in modelled time does not exist yet at `now`.
  if (!execution || execution.start > now || forgotten) {
    // [DE] ExecutionDoesNotExist: "The specified execution does not exist."
    throw awsError('states', 'ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
  }
  return execution;
}

/** The status a caller sees at the account's now: RUNNING until the execution has ended. */
function statusAt(account: SimulatedAccount, execution: SimExecution): SimExecution['status'] {
  return execution.status !== 'RUNNING' && execution.end !== undefined && execution.end <= account.now() ? execution.status : 'RUNNING';
}

/** A version-4-shaped UUID, the same for the same state machine and count. */
function generatedName(stateMachineArn: string, count: number): string {
  const hex = createHash('sha256').update(`${stateMachineArn}#${count}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export const STEP_FUNCTIONS_OPERATIONS: Operations = {
  DescribeExecution(account, input) {
    // [DE] executionArn: "The Amazon Resource Name (ARN) of the execution to describe."; a string
    // that is not one is InvalidArn ([DE] Errors: "The provided Amazon Resource Name (ARN) is not valid.").
    if (typeof input.executionArn !== 'string' || !/^arn:aws[\w-]*:states:[^:]+:\d{12}:execution:[^:]+:[^:]+$/.test(input.executionArn)) {
      throw awsError('states', 'InvalidArn', `Invalid Arn: '${input.executionArn}'`);
    }
    const execution = visibleExecution(account, input.executionArn);
    const status = statusAt(account, execution);
    return {
      executionArn: execution.arn,
      stateMachineArn: execution.stateMachineArn,
      name: execution.name,
      status,
      startDate: new Date(execution.start),
      ...(execution.input !== undefined ? { input: JSON.stringify(execution.input) } : {}),
      ...(status !== 'RUNNING' ? { stopDate: new Date(execution.end!) } : {}),
      // [DE] output: "The JSON output data of the execution"; "This field is set only if the execution
      // succeeds. If the execution fails, this field is null." error, cause: "The error string if the
      // state machine execution failed" and "The cause string if the state machine execution failed".
      ...(status === 'SUCCEEDED' && execution.output !== undefined ? { output: JSON.stringify(execution.output) } : {}),
      ...(status === 'FAILED' && execution.error !== undefined ? { error: execution.error } : {}),
      ...(status === 'FAILED' && execution.cause !== undefined ? { cause: execution.cause } : {}),
    };
  },

  /**
   * [LE] "Lists all executions of a state machine or a Map Run"; "Results are sorted by time, with
   * the most recent execution first"; `statusFilter` keeps those "whose status matches the filter";
   * pages of `maxResults` with a `nextToken`.
   */
  ListExecutions(account, input) {
    const all = [...account.executions.values()]
      .filter(e => e.stateMachineArn === input.stateMachineArn && e.start <= account.now())
      .map(e => ({ execution: e, status: statusAt(account, e) }))
      .filter(e => !input.statusFilter || e.status === input.statusFilter)
      .sort((a, b) => b.execution.start - a.execution.start);
    const offset = Number(input.nextToken ?? 0);
    const size = Math.min(input.maxResults || LIST_EXECUTIONS_PAGE, 1000);
    return {
      executions: all.slice(offset, offset + size).map(({ execution, status }) => ({
        executionArn: execution.arn,
        stateMachineArn: execution.stateMachineArn,
        name: execution.name,
        status,
        startDate: new Date(execution.start),
        ...(status !== 'RUNNING' ? { stopDate: new Date(execution.end!) } : {}),
      })),
      ...(offset + size < all.length ? { nextToken: String(offset + size) } : {}),
    };
  },

  /**
   * [SE] "When you make multiple StartExecution calls with the same name, the new execution doesn't
   * run": "When the original execution is open and the execution input from the new call is
   * identical, the Success message is returned"; "When the original execution is open and the
   * execution input from the new call is different, the ExecutionAlreadyExists message is returned";
   * "When the original execution is closed, the ExecutionAlreadyExists message is returned regardless
   * of input". Only the state machines the rehearsal runs can be started (StateMachineDoesNotExist).
   */
  StartExecution(account, input) {
    const body = JSON.parse(input.input ?? '{}');
    // [SE] name: "If you don't provide a name for the execution, Step Functions automatically generates a
    // universally unique identifier (UUID) as the execution name" (here derived from a count, to stay reproducible).
    const name: string = input.name ?? generatedName(input.stateMachineArn, account.executions.size);
    const same = [...account.executions.values()].find(e => e.stateMachineArn === input.stateMachineArn && e.name === name);
    if (same) {
      if (statusAt(account, same) === 'RUNNING' && JSON.stringify(same.input) === JSON.stringify(body)) {
        return { executionArn: same.arn, startDate: new Date(same.start) };
      }
      throw awsError('states', 'ExecutionAlreadyExists', `Execution Already Exists: '${same.arn}'`);
    }
    const started = account.startExecution?.({ stateMachineArn: input.stateMachineArn, name, input: body });
    if (!started) throw awsError('states', 'StateMachineDoesNotExist', `State Machine Does Not Exist: '${input.stateMachineArn}'`);
    return { executionArn: started.arn, startDate: new Date(started.start) };
  },
};
