import { DescribeExecutionCommand, DescribeExecutionCommandOutput, GetExecutionHistoryCommand, HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { ProgressTracker } from './core/history';
import type { StepCatalog } from './core/steps';
import type { CliEnvironment } from './environment';
import type { ProgressRenderer } from './progress';

export interface WatchOptions {
  /** Keep watching until the execution ends (false: show what happened so far, once). */
  readonly follow: boolean;
  /** Time between two history reads. */
  readonly pollMs: number;
  /** The steps of the state machine the execution belongs to (default: the reset state machine's). */
  readonly steps?: StepCatalog;
}

export interface WatchResult {
  readonly tracker: ProgressTracker;
  /** Ctrl-C while following: the CLI stopped watching; the execution goes on. */
  readonly detached: boolean;
  /** The execution as DescribeExecution returns it, read after the last history page. */
  readonly execution: DescribeExecutionCommandOutput;
}

/**
 * Follows an execution through its history (GetExecutionHistory, newest first, only the pages
 * not seen yet) until it ends, feeding the renderer. Ctrl-C detaches: the execution is never
 * stopped from here.
 */
export async function watchExecution(
  env: CliEnvironment, sfn: SFNClient, executionArn: string, renderer: ProgressRenderer, options: WatchOptions,
): Promise<WatchResult> {
  const tracker = new ProgressTracker(options.steps);
  const interrupt = new AbortController();
  const removeListener = options.follow ? env.onInterrupt(() => interrupt.abort()) : () => {};
  try {
    for (;;) {
      const events = await newEvents(sfn, executionArn, tracker.lastSeenEventId);
      renderer.update(tracker.apply(events), tracker);
      if (tracker.finished || !options.follow) break;
      await env.sleep(options.pollMs, interrupt.signal);
      if (interrupt.signal.aborted) break;
    }
  } finally {
    removeListener();
    renderer.close();
  }
  const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  return { tracker, detached: interrupt.signal.aborted && !tracker.finished, execution };
}

/** Events newer than `afterId`, oldest first: reads the history backwards and stops at the first page that reaches `afterId`. */
async function newEvents(sfn: SFNClient, executionArn: string, afterId: number): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 500, nextToken }));
    const pageEvents = page.events ?? [];
    events.push(...pageEvents.filter(e => (e.id ?? 0) > afterId));
    if (pageEvents.some(e => (e.id ?? 0) <= afterId)) break;
    nextToken = page.nextToken;
  } while (nextToken);
  return events.sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
}
