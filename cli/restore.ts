import {
  DescribeExecutionCommand, DescribeExecutionCommandOutput, ListExecutionsCommand, ListTagsForResourceCommand, SFNClient,
} from '@aws-sdk/client-sfn';
import { adviceFor } from './core/advice';
import { toCliError } from './core/errors';
import { formatDuration } from './core/format';
import { awsFlags, shellQuote } from './core/hints';
import { ExecutionStatus, Failure, ProgressTracker, RESTORE_INCOMPLETE } from './core/history';
import { parseJsonObject } from './core/json';
import { RESTORE_STEPS } from './core/steps';
import type { CliEnvironment } from './environment';
import type { ProgressRenderer } from './progress';
import { watchExecution, WatchResult } from './watch';

/**
 * Following the restore state machine, which EventBridge starts when a reset ends ABORTED,
 * TIMED_OUT or FAILED (the restore rule of ResetWorkflow), with the input
 * `{"executionArn": <reset execution ARN>, "input": <reset input>}`.
 */

/**
 * The tag on the reset state machine whose value is the restore state machine's ARN.
 * The same string as `ResetWorkflow.RESTORE_STATE_MACHINE_TAG_KEY` (the CLI bundle does not import
 * the construct library; a test checks that they are equal).
 */
export const RESTORE_STATE_MACHINE_TAG_KEY = 'cdk-ec2-reset-access:restore-state-machine-arn';

/**
 * The names of the restore executions the reconciler starts (`reconcile-<instance>-<reset>-<attempt>`).
 * The same prefix as `restoreExecutionName` of src/workflow/private/reconcile-plan.ts (a test checks it).
 */
export const RECONCILER_RESTORE_PREFIX = 'reconcile-';

/** How long the CLI waits for EventBridge to start the restore after the reset ended. */
export const RESTORE_APPEARS_WITHIN_MS = 3 * 60_000;
/** Restore executions started this long before the reset's stopDate still count (clock skew). */
const START_MARGIN_MS = 60_000;
/** Restore executions listed per look (newest first). */
const LIST_AT_MOST = 100;
/** Candidates described per look, and in all. */
const DESCRIBE_PER_LOOK = 5;
const DESCRIBE_AT_MOST = 20;

/** Why the CLI could not follow the restore. */
export type RestoreNotFollowedReason = 'NoTag' | 'AccessDenied' | 'NotFound' | 'Detached' | 'Error';

export type RestoreReport =
  | { readonly followed: true; readonly stateMachineArn: string; readonly watched: WatchResult }
  | { readonly followed: false; readonly reason: RestoreNotFollowedReason; readonly note: string; readonly stateMachineArn?: string };

/**
 * Whether the restore state machine puts the instance back after this reset: after ABORTED and
 * TIMED_OUT; after FAILED when the reset did not go through its own failure path
 * (`RecordFailure` → `RestoreAfterFailure…`), e.g. a States.Runtime error; and after its own
 * restore gave up (`RestoreIncomplete`: the lock and journal are kept, so the restore state
 * machine, which the rule starts on every FAILED, tries again). Not after a preflight failure
 * (nothing was changed), a failure path that put the instance back, or a dry run.
 */
export function restoreMachineRestores(status: string, tracker: ProgressTracker, dryRun: boolean, failure: Failure | undefined): boolean {
  if (dryRun) return false;
  if (status === 'ABORTED' || status === 'TIMED_OUT') return true;
  if (status !== 'FAILED') return false;
  if (tracker.enteredFailurePath) return failure?.error === RESTORE_INCOMPLETE;
  return adviceFor(failure?.error ?? 'FAILED').instance !== 'nothing';
}

export interface FollowRestoreOptions {
  /** Wait for the restore to appear and follow it while it runs (false: one look, as it is now). */
  readonly follow: boolean;
  readonly pollMs: number;
  readonly json: boolean;
  /** How long to wait for the restore to appear after the reset ended. */
  readonly appearsWithinMs?: number;
  /** The operator's `--profile`, repeated in the AWS CLI commands the CLI suggests. */
  readonly profile?: string;
}

/**
 * Finds the restore of `reset` (through the reset state machine's tag, then the restore state
 * machine's executions whose input names the reset) and follows it with `renderer`. Never throws
 * for what it cannot see (no tag, access denied, not started in time): it says why instead.
 */
export async function followRestore(
  env: CliEnvironment, sfn: SFNClient, reset: DescribeExecutionCommandOutput, renderer: ProgressRenderer, options: FollowRestoreOptions,
): Promise<RestoreReport> {
  const resetArn = reset.executionArn ?? '';
  let stateMachineArn: string | undefined;
  try {
    const tags = await sfn.send(new ListTagsForResourceCommand({ resourceArn: reset.stateMachineArn }));
    stateMachineArn = tags.tags?.find(tag => tag.key === RESTORE_STATE_MACHINE_TAG_KEY)?.value;
  } catch (err) {
    return notFollowed(err, 'read the reset state machine\'s tags (states:ListTagsForResource)');
  }
  if (!stateMachineArn) {
    return {
      followed: false,
      reason: 'NoTag',
      note: `The reset state machine has no ${RESTORE_STATE_MACHINE_TAG_KEY} tag (a stack deployed with an older version of ` +
        'cdk-ec2-reset-access): update the stack to let this CLI follow the restore; until then check the restore state machine ' +
        'in the Step Functions console.',
    };
  }

  const interrupt = new AbortController();
  const removeListener = options.follow ? env.onInterrupt(() => interrupt.abort()) : () => {};
  let restoreArn: string | undefined;
  try {
    if (!options.json && options.follow) {
      env.stderr.write('Waiting for the restore state machine, which EventBridge starts within seconds to a minute (Ctrl-C stops waiting)…\n');
    }
    const stopped = reset.stopDate ?? env.now();
    const notBefore = new Date(stopped.getTime() - START_MARGIN_MS);
    // Counted from the reset's end: `status` on a reset that ended long ago looks once.
    const deadline = stopped.getTime() + (options.appearsWithinMs ?? RESTORE_APPEARS_WITHIN_MS);
    const described = new Set<string>();
    for (;;) {
      restoreArn = await findRestore(sfn, stateMachineArn, resetArn, notBefore, described);
      if (restoreArn || !options.follow || env.now().getTime() >= deadline) break;
      await env.sleep(options.pollMs, interrupt.signal);
      if (interrupt.signal.aborted) {
        return {
          followed: false,
          reason: 'Detached',
          stateMachineArn,
          note: `Stopped waiting for the restore. ${howToCheck(stateMachineArn, resetArn, options.profile)}`,
        };
      }
    }
  } catch (err) {
    return notFollowed(err, 'find the restore (states:ListExecutions, states:DescribeExecution on the restore state machine)', stateMachineArn);
  } finally {
    removeListener();
  }
  if (!restoreArn) {
    const waited = options.follow ? ` within ${formatDuration(options.appearsWithinMs ?? RESTORE_APPEARS_WITHIN_MS)} of the reset's end` : '';
    return {
      followed: false,
      reason: 'NotFound',
      stateMachineArn,
      note: `No execution of the restore state machine names this reset${waited}. ${howToCheck(stateMachineArn, resetArn, options.profile)}`,
    };
  }

  try {
    const current = await sfn.send(new DescribeExecutionCommand({ executionArn: restoreArn }));
    const follow = options.follow && current.status === 'RUNNING';
    if (!options.json) {
      const by = (restoreArn.split(':').pop() ?? '').startsWith(RECONCILER_RESTORE_PREFIX) ? 'the reconciler' : 'EventBridge';
      env.stderr.write(`Restore (restore state machine, started by ${by}): ${restoreArn}\n`);
      if (follow) env.stderr.write('Ctrl-C stops watching; the restore goes on.\n');
    }
    const watched = await watchExecution(env, sfn, restoreArn, renderer, { follow, pollMs: options.pollMs, steps: RESTORE_STEPS });
    return { followed: true, stateMachineArn, watched };
  } catch (err) {
    return notFollowed(err, `follow the restore ${restoreArn} (states:GetExecutionHistory)`, stateMachineArn);
  }
}

/** The restore state machine's newest executions whose input names the reset (a handful described per look). */
async function findRestore(
  sfn: SFNClient, stateMachineArn: string, resetArn: string, notBefore: Date, described: Set<string>,
): Promise<string | undefined> {
  const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: LIST_AT_MOST }));
  // The restore starts after the reset ended: the oldest executions since then first.
  const candidates = (listed.executions ?? [])
    .filter(e => e.executionArn && !described.has(e.executionArn) && (!e.startDate || e.startDate.getTime() >= notBefore.getTime()))
    .sort((a, b) => (a.startDate?.getTime() ?? 0) - (b.startDate?.getTime() ?? 0))
    .slice(0, Math.min(DESCRIBE_PER_LOOK, DESCRIBE_AT_MOST - described.size));
  for (const candidate of candidates) {
    const executionArn = candidate.executionArn!;
    described.add(executionArn);
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (restoreInput(execution).executionArn === resetArn) return executionArn;
  }
  return undefined;
}

/** The restore's input: `{ executionArn, input }` as the restore rule gives it. */
function restoreInput(execution: DescribeExecutionCommandOutput): { executionArn?: unknown } {
  return parseJsonObject(execution.input) ?? {};
}

function notFollowed(err: unknown, what: string, stateMachineArn?: string): RestoreReport {
  const error = toCliError(err);
  const denied = error.name === 'AccessDenied';
  const grant = denied ? ' The role lacks it: ResetAccess.grantStartReset gives it (redeploy the stack with this version).' : '';
  return {
    followed: false,
    reason: denied ? 'AccessDenied' : 'Error',
    ...(stateMachineArn ? { stateMachineArn } : {}),
    note: `Could not ${what}: ${error.message}.${grant} Check the restore state machine in the Step Functions console.`,
  };
}

function howToCheck(stateMachineArn: string, resetArn: string, profile: string | undefined): string {
  return `Check by hand: aws stepfunctions list-executions${inRegionOf(stateMachineArn, profile)} --state-machine-arn ${stateMachineArn} ` +
    `(the restore's input names ${resetArn}); if none, look at the restore rule's dead-letter queue.`;
}

/** `--region` of the ARN (where the state machine is) and the operator's `--profile`. */
function inRegionOf(arn: string, profile: string | undefined): string {
  return awsFlags({ region: arn.split(':')[3] ?? '', profile });
}

/** The command that runs the restore again with the same input. */
export function rerunCommand(stateMachineArn: string, input: string, profile?: string): string {
  return `aws stepfunctions start-execution${inRegionOf(stateMachineArn, profile)} --state-machine-arn ${stateMachineArn} --input ${shellQuote(input)}`;
}

/** What the operator reads about the restore (stdout), and the `restore` field of the `--json` document. */
export function restoreOutcome(
  report: RestoreReport, resume: string, now: Date, profile?: string,
): { lines: string[]; document: Record<string, unknown> } {
  if (!report.followed) {
    return {
      lines: [`Could not follow the restore: ${report.note}`],
      document: { status: 'UNKNOWN', reason: report.reason, note: report.note, ...(report.stateMachineArn ? { stateMachineArn: report.stateMachineArn } : {}) },
    };
  }
  const { execution, tracker, detached } = report.watched;
  const executionArn = execution.executionArn ?? '';
  const status = (execution.status ?? tracker.status) as ExecutionStatus;
  const started = execution.startDate ?? tracker.startedAt;
  const stopped = execution.stopDate ?? tracker.endedAt;
  const elapsed = started ? formatDuration((stopped ?? now).getTime() - started.getTime()) : '?';
  const base = {
    executionArn,
    stateMachineArn: report.stateMachineArn,
    status,
    ...(started ? { startedAt: started.toISOString() } : {}),
    ...(stopped ? { stoppedAt: stopped.toISOString() } : {}),
  };

  if (detached || status === 'RUNNING') {
    const first = detached ? `Detached from the restore after ${elapsed}; it goes on in AWS.` : `The restore is running (${elapsed} so far).`;
    return { lines: [first, `Watch it:  ${resume}`], document: { ...base, status: 'RUNNING', ...(detached ? { detached: true } : {}) } };
  }
  if (status === 'SUCCEEDED') {
    const nothing = journalFound(execution.output) === false;
    return {
      lines: [nothing
        ? `✔ Nothing to put back (restore state machine, ${elapsed}): the reset had not changed the instance, or had already put it back.`
        : `✔ The instance was put back as it was (restore state machine, ${elapsed}).`],
      document: { ...base, ...(nothing ? { nothingToRestore: true } : {}) },
    };
  }

  const failure = execution.error ? { error: execution.error, cause: execution.cause } : tracker.failure ?? { error: status };
  const verb = { FAILED: 'failed', TIMED_OUT: 'timed out', ABORTED: 'was stopped' }[status as string] ?? status.toLowerCase();
  const advice = status === 'FAILED' ? adviceFor(failure.error) : undefined;
  const rerun = rerunCommand(report.stateMachineArn, execution.input ?? '{}', profile);
  return {
    lines: [
      `✖ The restore ${verb} after ${elapsed}: the instance may not be as it was.`,
      `  ${failure.error}: ${advice?.meaning ?? `The restore execution ${verb}.`}`,
      ...(failure.cause && failure.cause !== advice?.meaning ? [`  Cause: ${failure.cause}`] : []),
      ...(advice && advice.instance !== 'none' ? [`  What to do: ${advice.action}`] : ['  What to do: look at the restore execution in the Step Functions console.']),
      '  The reconciler starts the restore again within minutes (three times at most). If it gives up (the RestoreAbandoned',
      '  alarm), run it again yourself with the same input:',
      `    ${rerun}`,
    ],
    document: { ...base, error: failure.error, ...(failure.cause ? { cause: failure.cause } : {}), rerun },
  };
}

/** The restore's output keeps the journal it read: `found: false` means there was nothing to put back. */
function journalFound(output: string | undefined): boolean | undefined {
  const found = (parseJsonObject(output)?.journal as { found?: unknown } | undefined)?.found;
  return typeof found === 'boolean' ? found : undefined;
}
