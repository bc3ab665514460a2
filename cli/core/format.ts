import { Advice, adviceFor } from './advice';
import { awsFlags, cliCommand, Connection } from './hints';
import type { ExecutionStatus, Failure, StepProgress } from './history';
import type { ResetPlan } from '../../src/workflow/private/contracts';

/** `4s`, `2m 05s`, `1h 02m`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** Elapsed time as a clock since the execution started: `03:07`, `1:02:09`. */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mmss = `${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}

/** One line per step event, for logs and pipes: `[03:07] done   Stop the instance (2m 10s)`. */
export function plainStepLine(kind: 'started' | 'detail' | 'ended', step: StepProgress, executionStart: Date, detail?: string): string {
  const at = kind === 'ended' ? step.endedAt ?? step.startedAt : kind === 'started' ? step.startedAt : undefined;
  const clock = at ? `[${formatClock(at.getTime() - executionStart.getTime())}]` : '       ';
  if (kind === 'started') return `${clock} start  ${step.label}`;
  if (kind === 'detail') return `${clock}        ${step.label}: ${detail ?? step.detail}`;
  const took = formatDuration((step.endedAt ?? step.startedAt).getTime() - step.startedAt.getTime());
  const word = { succeeded: 'done  ', failed: 'FAILED', stopped: 'halted', running: 'done  ' }[step.status];
  return `${clock} ${word} ${step.label} (${took})${step.error ? `: ${step.error}` : ''}`;
}

/** The line a spinner shows: the running steps, their details and their elapsed time. */
export function spinnerText(running: readonly StepProgress[], now: Date): string {
  return running.map(step => {
    const detail = step.detail ? ` — ${step.detail}` : '';
    return `${step.label}${detail} (${formatDuration(now.getTime() - step.startedAt.getTime())})`;
  }).join('  ·  ');
}

/** The line a finished step leaves on a terminal. */
export function finishedStepText(step: StepProgress): string {
  const took = formatDuration((step.endedAt ?? step.startedAt).getTime() - step.startedAt.getTime());
  return `${step.label} (${took})${step.error ? `: ${step.error}` : ''}`;
}

/** The reset's success output (`ResetSucceeded`), never a password. */
export interface ResetOutput {
  readonly instanceId: string;
  readonly method: 'online' | 'offline';
  readonly backupImageId?: string;
  readonly passwordEnabledImageId?: string;
  readonly passwordParameterName?: string;
  readonly passwordStatus: 'available' | 'generated-at-next-start' | 'stored-in-parameter' | 'no-key-pair';
}

/** What the operator does next after a successful reset, as shell-ready lines (with the operator's `--region`/`--profile`). */
export function nextSteps(output: ResetOutput, connection: Connection = {}): string[] {
  const id = output.instanceId;
  const lines: string[] = [];
  switch (output.passwordStatus) {
    case 'available':
      lines.push(`Get the new password:  ${cliCommand(connection, `password ${id} --key-file <key pair .pem>`)}`);
      break;
    case 'generated-at-next-start':
      lines.push('The instance was stopped before the reset and is left stopped; Windows generates the new password when it next starts.');
      lines.push(`Start it:              aws ec2 start-instances --instance-ids ${id}${awsFlags(connection)}`);
      lines.push(`Then get the password: ${cliCommand(connection, `password ${id} --key-file <key pair .pem> --wait`)}`);
      break;
    case 'no-key-pair':
      lines.push('The instance has no key pair, so its password cannot be read with GetPasswordData; the workflow did not wait for it.');
      lines.push(`Launch ${output.passwordEnabledImageId ?? 'the password-enabled image'} with a new key pair, then: ${cliCommand(connection, 'password <new instance> --key-file <new key .pem> --wait')}`);
      break;
    case 'stored-in-parameter':
      lines.push(`Get the new password:  ${cliCommand(connection, `password ${id} --from-parameter --delete`)}`);
      lines.push(`(It is in ${output.passwordParameterName ?? `/EC2Rescue/Passwords/${id}`}; --delete removes it once read.)`);
      break;
  }
  lines.push('Log in and set a password of your own.');
  if (output.passwordEnabledImageId && output.passwordStatus !== 'no-key-pair') {
    lines.push(`Lost the key pair? Launch ${output.passwordEnabledImageId} with a new key pair: its password is generated at launch.`);
  }
  if (output.backupImageId) {
    lines.push(`Backup image ${output.backupImageId}: deregister it and its snapshots once you have logged in.`);
  }
  return lines;
}

/** What the instance looks like after a failure, in one sentence. */
export function instanceAfterFailure(advice: Advice): string {
  switch (advice.instance) {
    case 'nothing':
      return 'Nothing was changed.';
    case 'restored':
      return 'The instance was put back as it was (the restore ran before the execution ended).';
    case 'check':
      return 'The instance may not be as it was: check it before anything else.';
    default:
      return '';
  }
}

/**
 * The lines that explain a failed execution: error, cause, meaning, state of the instance, what to do.
 * `byRestoreMachine`: the restore state machine (not the reset's own failure path) puts the instance
 * back, as after ABORTED, TIMED_OUT and a failure outside the failure path (e.g. States.Runtime).
 */
export function failureLines(status: ExecutionStatus, failure: Failure | undefined, byRestoreMachine = status === 'ABORTED' || status === 'TIMED_OUT'): string[] {
  const name = failure?.error ?? status;
  const advice = adviceFor(name);
  const instance = byRestoreMachine
    ? 'The restore state machine puts the instance back (EventBridge starts it when a reset ends this way).'
    : instanceAfterFailure(advice);
  return [
    `${name}: ${advice.meaning}`,
    ...(failure?.cause && failure.cause !== advice.meaning ? [`Cause: ${failure.cause}`] : []),
    ...(instance ? [instance] : []),
    `What to do: ${advice.action}`,
  ];
}

/** A dry run's plan, as a readable table. */
export function planLines(plan: ResetPlan): string[] {
  const rows: [string, string][] = [['Method', plan.method]];
  if (plan.method === 'online') {
    rows.push(['Instance', 'keeps running; EC2Rescue (AWSSupport-RunEC2RescueForWindowsTool, ResetAccess) sets a random password']);
    rows.push(['Password', `stored as a SecureString parameter /EC2Rescue/Passwords/${plan.instanceId}`]);
  } else {
    rows.push(['Instance', plan.originalState === 'running'
      ? 'running: stopped for the reset, started again afterwards'
      : 'stopped: stays stopped; the password is generated when you next start it']);
    rows.push(['Availability Zone', `${plan.availabilityZone} (helper subnet ${plan.helperSubnetId})`]);
    rows.push(['Root volume', `${plan.rootVolumeId} at ${plan.rootDeviceName} (DeleteOnTermination ${plan.rootDeleteOnTermination}, ` +
      'set to false during the reset and restored)']);
    rows.push(['Auto Scaling', plan.autoScalingGroupName
      ? `${plan.autoScalingGroupName}: ${plan.manageStandby ? 'put into Standby and back' : 'already in Standby, left there'}` +
        (plan.minSizeLowering ? `; MinSize ${plan.minSizeLowering.from} lowered to ${plan.minSizeLowering.to} and raised back` : '')
      : 'not a member']);
    rows.push(['Key pair', plan.keyName ?? 'none: GetPasswordData cannot return the password; use the password-enabled image']);
    if (plan.helperInstanceType) rows.push(['Helper', `${plan.helperInstanceType} in ${plan.availabilityZone}`]);
    rows.push(['Backup image', plan.backupImageName]);
    rows.push(['Password-enabled image', plan.passwordEnabledAmi ? plan.passwordEnabledImageName : 'not requested (--password-enabled-ami)']);
    if (plan.targetWindowsVersion) rows.push(['Windows version', plan.targetWindowsVersion]);
  }
  const width = Math.max(...rows.map(([key]) => key.length));
  const lines = rows.map(([key, value]) => `  ${key.padEnd(width)}  ${value}`);
  if (plan.consequences.length > 0) {
    lines.push('  Consequences:');
    lines.push(...plan.consequences.map(c => `    - ${c}`));
  }
  return lines;
}
