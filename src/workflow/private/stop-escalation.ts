import { WAIT_SECONDS } from './observations';
import { STOP_BOUNDS, StopBound } from './timeouts';

/**
 * A stop that hangs, escalated: a normal stop first (Windows shuts down and flushes its file
 * systems), then, once its bound is over, StopInstances with `Force: true`. EC2's reference says
 * what that costs: "The instance will first attempt a graceful shutdown ... If the graceful
 * shutdown fails to complete within the timeout period, the instance shuts down forcibly without
 * flushing the file system caches and metadata. ... This option is not recommended for Windows
 * instances" (StopInstances, `Force`), which is why it is the last resort, after a bound, and
 * journaled. AWS's runbook does the same ("stop the target; if that fails, force-stop").
 */

/** How a stop is requested. */
export type StopMode =
  /** StopInstances: a graceful OS shutdown. */
  | 'graceful'
  /** StopInstances `Force: true`: for a stop that hangs. */
  | 'force'
  /** StopInstances `SkipOsShutdown: true`: no OS shutdown at all (only when nothing of value is left unflushed, see restore-plan.ts). */
  | 'skip-os-shutdown';

/** What is known of one instance's stop. */
export interface StopProgress {
  /** EC2 state name. */
  readonly state: string;
  /** When the workflow first asked for the stop (journal, epoch s). */
  readonly requestedAt?: number;
  /** When it forced the stop (journal, epoch s). */
  readonly forcedAt?: number;
}

export type StopStep =
  | { readonly kind: 'stop'; readonly mode: StopMode }
  | { readonly kind: 'wait'; readonly reason: string; readonly waitSeconds: number }
  | { readonly kind: 'stopped' }
  /** Terminated or shutting down: there is nothing to stop. */
  | { readonly kind: 'gone' };

/**
 * The next step of a stop, from the instance's state and the journal: request it (again, while it
 * still runs: StopInstances is idempotent), wait, or force it once `bound.gracefulSeconds` have
 * passed since the first request. A stop the workflow did not request (someone else's) is requested
 * too, which journals when the wait began. After the forced stop only waiting is left: the caller's
 * own bound ends that.
 */
export function nextStopStep(p: StopProgress, bound: StopBound, nowEpochSeconds: number, who: string): StopStep {
  const overdue = p.requestedAt !== undefined && nowEpochSeconds - p.requestedAt >= bound.gracefulSeconds;
  switch (p.state) {
    case 'stopped':
      return { kind: 'stopped' };
    case 'shutting-down':
    case 'terminated':
      return { kind: 'gone' };
    case 'pending':
      return { kind: 'wait', reason: `${who} is pending; it can be stopped once it runs`, waitSeconds: WAIT_SECONDS.instance };
    case 'running':
    case 'stopping':
      if (p.requestedAt === undefined) return { kind: 'stop', mode: 'graceful' };
      if (overdue && p.forcedAt === undefined) return { kind: 'stop', mode: 'force' };
      if (p.state === 'running' && p.forcedAt === undefined) return { kind: 'stop', mode: 'graceful' };
      return {
        kind: 'wait',
        reason: p.forcedAt === undefined
          ? `${who} is stopping (forced after ${bound.gracefulSeconds} s)`
          : `${who} is stopping after a forced stop ${Math.max(0, Math.round(nowEpochSeconds - p.forcedAt))} s ago`,
        waitSeconds: WAIT_SECONDS.instance,
      };
    default:
      return { kind: 'wait', reason: `${who} is ${p.state}`, waitSeconds: WAIT_SECONDS.instance };
  }
}

/** What the stops of an offline reset may cost, in the plan's consequences (a dry run shows them). */
export function offlineStopConsequences(instanceId: string, running: boolean): string[] {
  const minutes = (seconds: number) => `${Math.round(seconds / 60)} minutes`;
  return [
    ...(running ? [
      `If ${instanceId} has not stopped ${minutes(STOP_BOUNDS.target.gracefulSeconds)} after the stop request, it is force-stopped ` +
      '(StopInstances Force): Windows then may not flush its file systems (EC2 advises against it for Windows), and the backup image is taken after it.',
    ] : []),
    'Before the root volume leaves the helper, the helper\'s Run Command commands are cancelled and the helper is stopped (force-stopped ' +
    `after ${minutes(STOP_BOUNDS.helper.gracefulSeconds)} if its stop hangs); after a successful fix, which sets the disk offline, it is stopped without its OS shutdown.`,
  ];
}
