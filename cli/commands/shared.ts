import { DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import type { ResetPlan } from '../../src/workflow/private/contracts';
import { adviceFor } from '../core/advice';
import { CliError, toCliError } from '../core/errors';
import { EXIT_CODES, ExitCode } from '../core/exit-codes';
import { failureLines, formatDuration, nextSteps, planLines, ResetOutput } from '../core/format';
import { cliCommand, Connection, resumeCommand } from '../core/hints';
import type { ExecutionStatus, ProgressTracker } from '../core/history';
import { parseJsonObject } from '../core/json';
import type { AwsClients, CliEnvironment, OutputStream } from '../environment';
import { PlainRenderer, ProgressRenderer, SilentRenderer, TerminalRenderer } from '../progress';
import { followRestore, restoreMachineRestores, restoreOutcome } from '../restore';
import type { WatchResult } from '../watch';

/** Options every command takes. */
export interface GlobalOptions extends Connection {
  readonly stateMachineParameter: string;
  readonly json: boolean;
}

/** What a command ends with: its exit code and, for `--json`, its one document. */
export interface CommandResult {
  readonly exitCode: ExitCode;
  readonly document: Record<string, unknown>;
}

const INSTANCE_ID = /^i-([0-9a-f]{8}|[0-9a-f]{17})$/;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):\d{12}:execution:[^:]+:[^:]+$/;

export function checkInstanceId(value: string): string {
  if (!INSTANCE_ID.test(value)) {
    throw new CliError('InvalidArguments', `"${value}" is not an instance id (i- followed by 8 or 17 hexadecimal digits).`);
  }
  return value;
}

/**
 * The Region of an execution ARN (`arn:<partition>:states:<region>:<account>:execution:<state machine>:<name>`);
 * anything else that starts like an ARN is an invalid argument that says what an execution ARN looks like.
 */
export function executionArnRegion(value: string): string {
  const match = EXECUTION_ARN.exec(value);
  if (!match) {
    const kind = /^arn:[^:]*:states:[^:]*:[^:]*:stateMachine:/.test(value) ? ' (that is a state machine\'s ARN)' : '';
    throw new CliError('InvalidArguments', `"${value}" is not an execution ARN${kind}: give ` +
      'arn:aws:states:<region>:<account>:execution:<state machine>:<execution name>, or an instance id for its latest reset.');
  }
  return match[1];
}

/** `i-0123456789abcdef0-20260501T031500Z-k3v9` (a dry run: `…-preflight-…`); what `status <instance-id>` looks for. */
export function executionName(instanceId: string, now: Date, suffix: string, dryRun: boolean): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${instanceId}-${dryRun ? 'preflight-' : ''}${stamp}-${suffix}`;
}

/**
 * A state machine the CLI finds: by the ARN given on the command line, else through the SSM
 * parameter its construct writes (ResetAccess: the reset machine; FleetReset: the fleet machine).
 */
export interface StateMachineLookup {
  /** Given on the command line (`--state-machine-arn`, `--fleet-state-machine-arn`): used as is. */
  readonly arn?: string;
  /** The SSM parameter that holds the ARN otherwise. */
  readonly parameter: string;
  /** The error when the parameter is missing or empty; its advice names the options that fix it. */
  readonly notFound: 'StateMachineNotFound' | 'FleetStateMachineNotFound';
}

/** The reset state machine: `--state-machine-arn`, else `--state-machine-parameter`. */
export function resetStateMachine(options: GlobalOptions): StateMachineLookup {
  return { arn: options.stateMachineArn, parameter: options.stateMachineParameter, notFound: 'StateMachineNotFound' };
}

/** The state machine's ARN: the one given, else the value of its SSM parameter. */
export async function resolveStateMachineArn(clients: AwsClients, lookup: StateMachineLookup): Promise<string> {
  if (lookup.arn) return lookup.arn;
  try {
    const result = await clients.ssm.send(new GetParameterCommand({ Name: lookup.parameter }));
    const arn = result.Parameter?.Value;
    if (!arn) throw new CliError(lookup.notFound, `The parameter ${lookup.parameter} is empty.`);
    return arn;
  } catch (err) {
    if ((err as { name?: string }).name === 'ParameterNotFound') {
      throw new CliError(lookup.notFound, `There is no parameter ${lookup.parameter} in this account and Region.`);
    }
    throw toCliError(err);
  }
}

/**
 * Whether progress may be redrawn in place on `stream`. A redraw moves the cursor back over the
 * lines it wrote, counted at the terminal's width: on a terminal of unknown width (columns 0, e.g.
 * an unsized pty) that count is unbounded, so such terminals get plain lines, as pipes and files do.
 */
export function canRedraw(stream: OutputStream): boolean {
  return stream.isTTY === true && (stream.columns ?? 0) > 0;
}

export function createRenderer(env: CliEnvironment, json: boolean): ProgressRenderer {
  if (json) return new SilentRenderer();
  if (canRedraw(env.stderr)) return new TerminalRenderer(env.createSpinner(env.stderr), () => env.now());
  return new PlainRenderer(env.stderr);
}

export function writeLines(env: CliEnvironment, lines: readonly string[]): void {
  for (const line of lines) env.stdout.write(`${line}\n`);
}

/** The execution's input, as the caller gave it. */
export function executionInput(execution: DescribeExecutionCommandOutput): { instanceId?: string; dryRun?: boolean } {
  return (parseJsonObject(execution.input) ?? {}) as { instanceId?: string; dryRun?: boolean };
}

function stepsDocument(tracker: ProgressTracker) {
  return tracker.steps.map(step => ({
    id: step.id,
    label: step.label,
    status: step.status,
    startedAt: step.startedAt.toISOString(),
    ...(step.endedAt ? { endedAt: step.endedAt.toISOString(), seconds: Math.round((step.endedAt.getTime() - step.startedAt.getTime()) / 1000) } : {}),
    ...(step.detail ? { detail: step.detail } : {}),
    ...(step.error ? { error: step.error } : {}),
  }));
}

/**
 * Reports a watched execution: on stdout the outcome and the next step (or the error, what it
 * means and what to do), or the `--json` document; returns the exit code.
 */
export function reportExecution(env: CliEnvironment, options: GlobalOptions, watched: WatchResult): CommandResult {
  const { execution, tracker } = watched;
  const executionArn = execution.executionArn ?? '';
  const status = (execution.status ?? tracker.status) as ExecutionStatus | 'PENDING_REDRIVE';
  const input = executionInput(execution);
  const instanceId = input.instanceId ?? '(unknown instance)';
  const started = execution.startDate ?? tracker.startedAt;
  const stopped = execution.stopDate ?? tracker.endedAt;
  const elapsed = started ? formatDuration((stopped ?? env.now()).getTime() - started.getTime()) : '?';
  const resume = resumeCommand(options, executionArn);
  const base = {
    executionArn,
    executionName: execution.name,
    instanceId: input.instanceId,
    dryRun: input.dryRun === true,
    status,
    startedAt: started?.toISOString(),
    ...(stopped ? { stoppedAt: stopped.toISOString() } : {}),
    steps: stepsDocument(tracker),
  };

  if (watched.detached || status === 'RUNNING') {
    const lines = watched.detached
      ? [`Detached after ${elapsed}. The reset goes on in AWS; nothing was stopped.`, `Resume watching: ${resume}`]
      : [`Still running after ${elapsed}.`, `Watch it:  ${resume}`];
    if (!options.json) writeLines(env, lines);
    return {
      exitCode: watched.detached ? EXIT_CODES.detached : EXIT_CODES.ok,
      document: { ...base, status: 'RUNNING', detached: watched.detached, resume },
    };
  }

  if (status === 'SUCCEEDED') {
    const output: unknown = JSON.parse(execution.output ?? '{}');
    if (input.dryRun) {
      const plan = output as ResetPlan;
      if (!options.json) {
        writeLines(env, [`Plan for ${instanceId} (dry run: nothing was changed):`, ...planLines(plan), '',
          `Run it:  ${cliCommand(options, `reset ${instanceId} --method ${plan.method}${plan.passwordEnabledAmi ? ' --password-enabled-ami' : ''}`,
            { findsWorkflow: true })}`]);
      }
      return { exitCode: EXIT_CODES.ok, document: { ...base, plan } };
    }
    const result = output as ResetOutput;
    const next = nextSteps(result, options);
    if (!options.json) writeLines(env, [`✔ Reset of ${instanceId} succeeded in ${elapsed} (${result.method}).`, 'Next:', ...next.map(l => `  ${l}`)]);
    return { exitCode: EXIT_CODES.ok, document: { ...base, output: result, next } };
  }

  const failure = execution.error ? { error: execution.error, cause: execution.cause } : tracker.failure ?? { error: status };
  const advice = adviceFor(failure.error);
  const what = input.dryRun ? 'Preflight' : 'Reset';
  if (!options.json) {
    const verb = { FAILED: 'failed', TIMED_OUT: 'timed out', ABORTED: 'was stopped' }[status as string] ?? status.toLowerCase();
    const byRestoreMachine = restoreMachineRestores(status, tracker, input.dryRun === true, failure);
    writeLines(env, [`✖ ${what} of ${instanceId} ${verb} after ${elapsed}.`,
      ...failureLines(status as ExecutionStatus, failure, byRestoreMachine).map(l => `  ${l}`)]);
  }
  return {
    exitCode: EXIT_CODES.resetFailed,
    document: {
      ...base,
      error: { name: failure.error, cause: failure.cause, meaning: advice.meaning, action: advice.action, instance: advice.instance },
    },
  };
}

/**
 * After a reset the restore state machine puts back (ABORTED, TIMED_OUT, or FAILED outside the
 * failure path): finds that restore, follows it (`follow`) and adds its outcome to the report and
 * to the `--json` document (`restore`). The exit code stays the reset's.
 */
export async function withRestore(
  env: CliEnvironment, clients: AwsClients, options: GlobalOptions, watched: WatchResult, result: CommandResult,
  watch: { follow: boolean; pollMs: number },
): Promise<CommandResult> {
  const { execution, tracker } = watched;
  const status = execution.status ?? tracker.status;
  const failure = execution.error ? { error: execution.error, cause: execution.cause } : tracker.failure;
  if (watched.detached || !restoreMachineRestores(status, tracker, executionInput(execution).dryRun === true, failure)) return result;
  const report = await followRestore(env, clients.sfn, execution, createRenderer(env, options.json),
    { follow: watch.follow, pollMs: watch.pollMs, json: options.json, profile: options.profile });
  const outcome = restoreOutcome(report, resumeCommand(options, execution.executionArn ?? ''), env.now(), options.profile);
  if (!options.json) writeLines(env, outcome.lines);
  return { ...result, document: { ...result.document, restore: outcome.document } };
}
