import { WorkflowCommand } from './contracts';
import { WAIT_SECONDS } from './observations';

/**
 * Every time bound of the workflow, in one place, derived from the bounds AWS itself enforces:
 * a poll loop of the state machine must outlast what it waits for, or the workflow would move
 * on (and detach a volume) while a command may still write to it.
 */

/**
 * Run Command's delivery timeout (SendCommand `TimeoutSeconds`): "If this time is reached and
 * the command hasn't already started running, it won't run" (SSM API reference, SendCommand).
 */
export const COMMAND_DELIVERY_TIMEOUT_SECONDS = 600;

/**
 * How long each command may run on the instance before Run Command ends it (Execution Timed Out).
 * - offline-password-fix: the `executionTimeout` the workflow gives AWS-RunPowerShellScript.
 * - install-ec2rescue and online-reset: their documents take no execution timeout parameter.
 *   Assumption: the SSM Agent's plugin default applies, 3600 s (amazon-ssm-agent's
 *   `defaultExecutionTimeoutInSeconds`); AWS documents no other bound for them.
 */
export const COMMAND_EXECUTION_TIMEOUT_SECONDS: Readonly<Record<WorkflowCommand, number>> = {
  'install-ec2rescue': 3600,
  'offline-password-fix': 1200,
  'online-reset': 3600,
};

/** What check-command waits between two polls: before the invocation exists, and while it runs. */
export const COMMAND_POLL_SECONDS = { undelivered: 5, running: 10 } as const;

/** The longest a command can stay unfinished before Run Command itself ends it: delivery, then execution. */
export function commandDeadlineSeconds(command: WorkflowCommand): number {
  return COMMAND_DELIVERY_TIMEOUT_SECONDS + COMMAND_EXECUTION_TIMEOUT_SECONDS[command];
}

/** How long a stop gets before it is escalated, and how long the escalated stop gets. */
export interface StopBound {
  /** From the first StopInstances until StopInstances `Force: true`. */
  readonly gracefulSeconds: number;
  /** From the forced stop until the instance must be stopped. */
  readonly forcedSeconds: number;
}

/**
 * - target: a Windows shutdown that installs updates can take long, and a forced stop risks the
 *   file system ("This option is not recommended for Windows instances", StopInstances `Force`),
 *   so it gets 15 minutes (what the workflow allowed before it forced anything).
 * - helper: a fresh helper applies no updates; 5 minutes is several times its shutdown.
 * - forced: "If, after 10 minutes, the instance has not stopped, post a request for help"
 *   (EC2 User Guide, Troubleshoot stopping your instance, after a forced stop).
 */
export const STOP_BOUNDS = {
  target: { gracefulSeconds: 900, forcedSeconds: 600 },
  helper: { gracefulSeconds: 300, forcedSeconds: 600 },
} as const satisfies Record<string, StopBound>;

/** Polls that cover `seconds` when every poll waits at least `minWaitSeconds`, plus one. */
export function pollsCovering(seconds: number, minWaitSeconds: number): number {
  return Math.ceil(seconds / minWaitSeconds) + 1;
}

/** Margin for the steps of a restore that take seconds each (detach, attach, start, Standby). */
const RESTORE_STEPS_SECONDS = 600;

/**
 * Bounds of the poll loops (number of polls; the steps say how long to wait between two). Each
 * counts the shortest wait its step may return, so the loop lasts at least as long as what it
 * waits for: a command until Run Command has ended it, a stop until the forced stop's bound.
 */
export const POLL_BOUNDS = {
  targetStopped: pollsCovering(STOP_BOUNDS.target.gracefulSeconds + STOP_BOUNDS.target.forcedSeconds, WAIT_SECONDS.short),
  helperReady: 60,
  install: pollsCovering(commandDeadlineSeconds('install-ec2rescue'), COMMAND_POLL_SECONDS.undelivered),
  offlineFix: pollsCovering(commandDeadlineSeconds('offline-password-fix'), COMMAND_POLL_SECONDS.undelivered),
  onlineReset: pollsCovering(commandDeadlineSeconds('online-reset'), COMMAND_POLL_SECONDS.undelivered),
  attach: 40,
  restore: pollsCovering(
    STOP_BOUNDS.target.gracefulSeconds + STOP_BOUNDS.target.forcedSeconds
      + STOP_BOUNDS.helper.gracefulSeconds + STOP_BOUNDS.helper.forcedSeconds + RESTORE_STEPS_SECONDS,
    WAIT_SECONDS.short),
  password: 90,
} as const;

/** How often the reconciler runs (its EventBridge schedule; the constructs read it, so it lives here with the other bounds). */
export const RECONCILE_INTERVAL_MINUTES = 5;
