/**
 * What the notification formatter publishes for a Step Functions status change of the reset or
 * the restore state machine: plain functions over the event's `detail`, no SDK.
 *
 * EventBridge cannot parse `detail.input` (a JSON string), and the instance id and the method
 * are in there (and, once the reset succeeded, the method it used in `detail.output`): so a small
 * function reads them, picks an allow-list of fields, and publishes. Nothing else of the input or
 * output is copied, and neither ever holds a password (I5).
 */

/** Environment variables of the formatter. */
export const NOTIFICATION_ENV = {
  topicArn: 'NOTIFICATION_TOPIC_ARN',
  resetStateMachineArn: 'RESET_STATE_MACHINE_ARN',
  restoreStateMachineArn: 'RESTORE_STATE_MACHINE_ARN',
} as const;

/** `detail` of a "Step Functions Execution Status Change" event (the fields read here). */
export interface ExecutionStatusChange {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: string;
  readonly startDate?: number | null;
  readonly stopDate?: number | null;
  readonly input?: string | null;
  readonly output?: string | null;
  readonly error?: string | null;
  readonly cause?: string | null;
}

/** The message body (JSON) subscribers receive. */
export interface ResetNotification {
  /** `reset`, or `restore` (the restore state machine, after a reset was stopped, timed out or failed). */
  readonly kind: 'reset' | 'restore';
  readonly instanceId: string;
  /** The method the reset used (`online`/`offline`) once known, else the one asked for (`auto` by default). */
  readonly method: string;
  /** `STARTED`, `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `ABORTED`. */
  readonly status: string;
  readonly executionArn: string;
  readonly executionName: string;
  /** For a restore: the reset execution it restores after. */
  readonly resetExecutionArn?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly passwordStatus?: string;
  readonly backupImageId?: string;
  readonly passwordEnabledImageId?: string;
  /** What the operator does next, in one sentence. */
  readonly next: string;
}

export interface Publication {
  readonly subject: string;
  readonly message: ResetNotification;
}

/** SNS subjects are at most 100 characters. */
const SUBJECT_LIMIT = 100;
const CAUSE_LIMIT = 600;
const BIN = 'cdk-ec2-reset-access';

/**
 * The notification for a status change, or `undefined` when there is nothing to tell: a dry run
 * (a plan, not a reset), a restore that found nothing to restore, a restore starting (its end is
 * what matters), or a state machine that is not one of the two.
 */
export function notificationFor(detail: ExecutionStatusChange, machines: { reset: string; restore: string }): Publication | undefined {
  if (detail.stateMachineArn === machines.reset) return resetNotification(detail);
  if (detail.stateMachineArn === machines.restore) return restoreNotification(detail);
  return undefined;
}

function resetNotification(detail: ExecutionStatusChange): Publication | undefined {
  const input = parseObject(detail.input);
  if (input.dryRun === true) return undefined;
  const output = detail.status === 'SUCCEEDED' ? parseObject(detail.output) : {};
  const instanceId = text(input.instanceId) ?? 'unknown instance';
  const method = text(output.method) ?? text(input.method) ?? 'auto';
  const status = detail.status === 'RUNNING' ? 'STARTED' : detail.status;
  const base = {
    kind: 'reset' as const,
    instanceId,
    method,
    status,
    executionArn: detail.executionArn,
    executionName: detail.name,
  };
  switch (status) {
    case 'STARTED':
      return publication(`Reset of ${instanceId} started (${method})`, { ...base, next: `Follow it: ${BIN} status ${detail.executionArn}` });
    case 'SUCCEEDED':
      return publication(`Reset of ${instanceId} succeeded (${method})`, {
        ...base,
        ...pick(output, ['passwordStatus', 'backupImageId', 'passwordEnabledImageId']),
        next: nextAfterSuccess(instanceId, text(output.passwordStatus)),
      });
    default:
      return publication(`Reset of ${instanceId} ${status.replace('_', ' ')}`, {
        ...base,
        ...failure(detail),
        next: status === 'FAILED'
          ? `See what failed and what to do: ${BIN} status ${detail.executionArn}`
          : 'The restore state machine puts the instance back; a notification follows when it has.',
      });
  }
}

function restoreNotification(detail: ExecutionStatusChange): Publication | undefined {
  if (detail.status === 'RUNNING') return undefined;
  const input = parseObject(detail.input);
  const resetInput = parseObject(text(input.input));
  const output = detail.status === 'SUCCEEDED' ? parseObject(detail.output) : {};
  // `NothingToRestore`: the reset's own restore had already put everything back (a plain FAILED).
  const journal = output.journal && typeof output.journal === 'object' ? output.journal as Record<string, unknown> : {};
  if (detail.status === 'SUCCEEDED' && journal.found !== true) return undefined;
  const instanceId = text(resetInput.instanceId) ?? 'unknown instance';
  const base = {
    kind: 'restore' as const,
    instanceId,
    method: text(resetInput.method) ?? 'auto',
    status: detail.status,
    executionArn: detail.executionArn,
    executionName: detail.name,
    resetExecutionArn: text(input.executionArn),
  };
  if (detail.status === 'SUCCEEDED') {
    return publication(`Instance ${instanceId} put back after its reset ended`, {
      ...base, next: `The instance is as it was before the reset; reset it again when ready: ${BIN} reset ${instanceId}`,
    });
  }
  return publication(`ACTION NEEDED: restore of ${instanceId} ${detail.status.replace('_', ' ')}`, {
    ...base,
    ...failure(detail),
    next: 'Check the instance by hand: root volume attached at its original device, DeleteOnTermination, state, Auto Scaling ' +
      'Standby; terminate any instance tagged cdk-ec2-reset-access:execution with the reset\'s execution name.',
  });
}

function publication(subject: string, message: ResetNotification): Publication {
  const prefixed = `[cdk-ec2-reset-access] ${subject}`;
  return { subject: prefixed.length > SUBJECT_LIMIT ? `${prefixed.slice(0, SUBJECT_LIMIT - 1)}…` : prefixed, message };
}

function failure(detail: ExecutionStatusChange): { error?: string; cause?: string } {
  return {
    ...(detail.error ? { error: detail.error } : {}),
    ...(detail.cause ? { cause: detail.cause.length > CAUSE_LIMIT ? `${detail.cause.slice(0, CAUSE_LIMIT - 1)}…` : detail.cause } : {}),
  };
}

function pick(source: Record<string, unknown>, keys: string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const key of keys) {
    const value = text(source[key]);
    if (value !== undefined) picked[key] = value;
  }
  return picked;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function parseObject(json: string | null | undefined): Record<string, unknown> {
  if (!json) return {};
  try {
    const value: unknown = JSON.parse(json);
    return value && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : {};
  } catch {
    return {};
  }
}

/** What the operator does after a success, by where the password is. */
function nextAfterSuccess(instanceId: string, passwordStatus: string | undefined): string {
  switch (passwordStatus) {
    case 'stored-in-parameter':
      return `Get the password: ${BIN} password ${instanceId} --from-parameter --delete`;
    case 'no-key-pair':
      return 'The instance has no key pair: launch the password-enabled image with a new key pair to sign in.';
    default:
      return `Get the password: ${BIN} password ${instanceId} --key-file <key pair .pem>`;
  }
}
