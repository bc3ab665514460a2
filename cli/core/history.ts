import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { parseJsonObject } from './json';
import { Lane, RESET_STEPS, StepCatalog } from './steps';

/**
 * Turns a Step Functions execution history into the steps an operator follows: which started,
 * which ended and how, what the step last reported. Plain data in, plain data out: no clock, no
 * I/O. Feed it events in any batches (each event is applied once, in id order).
 */

export type StepStatus = 'running' | 'succeeded' | 'failed' | 'stopped';
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface StepProgress {
  readonly id: string;
  readonly label: string;
  readonly lane: Lane;
  status: StepStatus;
  readonly startedAt: Date;
  endedAt?: Date;
  /** What the step last reported (its poll status, e.g. `stopping the target`); never a secret (I5). */
  detail?: string;
  /** The error that ended it, when it failed. */
  error?: string;
}

export type ProgressChange =
  | { readonly kind: 'started'; readonly step: StepProgress }
  | { readonly kind: 'detail'; readonly step: StepProgress; readonly detail: string }
  | { readonly kind: 'ended'; readonly step: StepProgress }
  | { readonly kind: 'finished'; readonly status: ExecutionStatus };

export interface Failure {
  readonly error: string;
  readonly cause?: string;
}

/** The error of a restore loop that did not converge (WORKFLOW_ERRORS.restoreIncomplete). */
export const RESTORE_INCOMPLETE = 'RestoreIncomplete';

/** The step whose task returns the plan (and with it the method). */
const PREFLIGHT_STEP = 'preflight';

export class ProgressTracker {
  public startedAt?: Date;
  public status: ExecutionStatus = 'RUNNING';
  public endedAt?: Date;
  /** The failure the reset is restoring after (from `RecordFailure`), or the execution's own. */
  public failure?: Failure;
  public readonly steps: StepProgress[] = [];
  private lastEventId = 0;
  private readonly events = new Map<number, HistoryEvent>();
  private latestError?: { event: HistoryEvent; failure: Failure };
  private method?: 'online' | 'offline';

  /** @param catalog the steps of the state machine followed (default: the reset's) */
  constructor(private readonly catalog: StepCatalog = RESET_STEPS) {}

  /** Whether the execution entered the reset's own failure path (`RecordFailure`, `RestoreAfterFailure…`). */
  public get enteredFailurePath(): boolean {
    return this.steps.some(step => this.catalog.isFailurePath(step.id));
  }

  /** The id of the newest event applied: fetch only newer ones. */
  public get lastSeenEventId(): number {
    return this.lastEventId;
  }

  public get finished(): boolean {
    return this.status !== 'RUNNING';
  }

  /** Applies events not seen yet, in id order, and returns what changed. */
  public apply(events: readonly HistoryEvent[]): ProgressChange[] {
    const changes: ProgressChange[] = [];
    const fresh = events.filter(e => (e.id ?? 0) > this.lastEventId).sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
    for (const event of fresh) {
      this.events.set(event.id ?? 0, event);
      this.lastEventId = Math.max(this.lastEventId, event.id ?? 0);
      changes.push(...this.applyOne(event));
    }
    return changes;
  }

  private applyOne(event: HistoryEvent): ProgressChange[] {
    const at = event.timestamp ?? new Date(0);
    const type = event.type ?? '';
    if (type === 'ExecutionStarted') {
      this.startedAt = at;
      return [];
    }
    if (type === 'LambdaFunctionSucceeded' || type === 'TaskSucceeded') {
      // A retried error (NotYet, throttling) that then succeeded is not the failure.
      this.latestError = undefined;
      const output = type === 'LambdaFunctionSucceeded' ? event.lambdaFunctionSucceededEventDetails?.output : event.taskSucceededEventDetails?.output;
      this.learnMethod(event, output);
      return this.reported(event, output);
    }
    const failure = failureOf(event);
    if (failure) this.latestError = { event, failure };
    if (type.endsWith('StateEntered')) return this.entered(event.stateEnteredEventDetails?.name ?? '', event, at);
    if (type.endsWith('StateExited')) return this.exited(event.stateExitedEventDetails?.name ?? '', at);
    const end = executionEnd(event);
    if (end) return this.finish(end.status, at, end.failure ?? (end.status === 'SUCCEEDED' ? undefined : this.failure));
    return [];
  }

  private entered(stateName: string, event: HistoryEvent, at: Date): ProgressChange[] {
    const definition = this.catalog.stepOf(stateName);
    if (!definition) return [];
    const changes: ProgressChange[] = [];
    if (definition.isFailurePath && !this.failure) {
      this.failure = recordedFailure(event.stateEnteredEventDetails?.input) ?? this.latestError?.failure;
      const failedStep = this.latestError ? this.stepOfEvent(this.latestError.event) : undefined;
      for (const step of this.open()) {
        const failed = failedStep === step.id || (!failedStep && step.lane === 'main');
        changes.push(this.end(step, failed ? 'failed' : 'stopped', at, failed ? this.failure?.error : undefined));
      }
    }
    if (this.steps.some(step => step.id === definition.id)) return changes;
    // A step ends the previous one of its lane; the parallel lanes start after the main lane's step
    // and end before the main lane's next one.
    for (const step of this.open()) {
      if (step.lane === definition.lane || definition.lane === 'main' || step.lane === 'main') changes.push(this.end(step, 'succeeded', at));
    }
    const label = (this.method === 'online' ? definition.onlineLabel : undefined) ?? definition.label;
    const step: StepProgress = { id: definition.id, label, lane: definition.lane, status: 'running', startedAt: at };
    this.steps.push(step);
    changes.push({ kind: 'started', step });
    return changes;
  }

  private exited(stateName: string, at: Date): ProgressChange[] {
    const definition = this.catalog.stepOf(stateName);
    if (!definition || definition.endState !== stateName) return [];
    const step = this.steps.find(s => s.id === definition.id && s.status === 'running');
    // A state that failed (its error not followed by a success) has not ended its step well: the failure path will say.
    if (!step || (this.latestError && this.stepOfEvent(this.latestError.event) === step.id)) return [];
    return [this.end(step, 'succeeded', at)];
  }

  /** The method the reset runs, from the preflight's plan (`auto` is decided there). */
  private learnMethod(event: HistoryEvent, output: string | undefined): void {
    if (this.stepOfEvent(event) !== PREFLIGHT_STEP) return;
    const method = parseJsonObject(output)?.method;
    if (method === 'online' || method === 'offline') this.method = method;
  }

  private reported(event: HistoryEvent, output: string | undefined): ProgressChange[] {
    const status = parseJsonObject(output)?.status;
    const stepId = this.stepOfEvent(event);
    const step = this.steps.find(s => s.id === stepId && s.status === 'running');
    if (!step || typeof status !== 'string' || status === step.detail) return [];
    step.detail = status;
    return [{ kind: 'detail', step, detail: status }];
  }

  private finish(status: ExecutionStatus, at: Date, failure: Failure | undefined): ProgressChange[] {
    this.status = status;
    this.endedAt = at;
    if (failure) this.failure = failure;
    const changes: ProgressChange[] = [];
    for (const step of this.open()) {
      if (status === 'SUCCEEDED') changes.push(this.end(step, 'succeeded', at));
      // The restore after a failure reaches the final Fail state only once it has converged.
      else if (status === 'FAILED' && this.catalog.isFailurePath(step.id) && failure?.error !== RESTORE_INCOMPLETE) changes.push(this.end(step, 'succeeded', at));
      else if (status === 'FAILED') changes.push(this.end(step, 'failed', at, failure?.error));
      else changes.push(this.end(step, 'stopped', at));
    }
    changes.push({ kind: 'finished', status });
    return changes;
  }

  private open(): StepProgress[] {
    return this.steps.filter(step => step.status === 'running');
  }

  private end(step: StepProgress, status: StepStatus, at: Date, error?: string): ProgressChange {
    step.status = status;
    step.endedAt = at;
    if (error) step.error = error;
    return { kind: 'ended', step };
  }

  /**
   * The step of the state an event happened in: follow `previousEventId` back to the entry of a
   * state that belongs to a step (a Fail state of a poll loop leads back to its loop).
   */
  private stepOfEvent(event: HistoryEvent): string | undefined {
    let current: HistoryEvent | undefined = event;
    for (let hops = 0; current && hops < 50; hops++) {
      const name = current.stateEnteredEventDetails?.name;
      const step = name !== undefined ? this.catalog.stepOf(name) : undefined;
      if (step) return step.id;
      current = current.previousEventId ? this.events.get(current.previousEventId) : undefined;
    }
    return undefined;
  }
}

function failureOf(event: HistoryEvent): Failure | undefined {
  const details = event.lambdaFunctionFailedEventDetails ?? event.taskFailedEventDetails ?? event.lambdaFunctionTimedOutEventDetails ??
    event.taskTimedOutEventDetails ?? event.activityFailedEventDetails;
  if (details?.error) return { error: details.error, cause: details.cause };
  // A Fail state's error is in its definition only; the Catch that routes to the restore records it.
  if (event.type === 'FailStateEntered') return { error: event.stateEnteredEventDetails?.name ?? 'Fail' };
  return undefined;
}

function executionEnd(event: HistoryEvent): { status: ExecutionStatus; failure?: Failure } | undefined {
  switch (event.type) {
    case 'ExecutionSucceeded':
      return { status: 'SUCCEEDED' };
    case 'ExecutionFailed': {
      const d = event.executionFailedEventDetails;
      return { status: 'FAILED', failure: d?.error ? { error: d.error, cause: d.cause } : undefined };
    }
    case 'ExecutionTimedOut':
      return { status: 'TIMED_OUT', failure: { error: 'TIMED_OUT', cause: event.executionTimedOutEventDetails?.cause } };
    case 'ExecutionAborted':
      return { status: 'ABORTED', failure: { error: 'ABORTED', cause: event.executionAbortedEventDetails?.cause } };
    default:
      return undefined;
  }
}

/** `RecordFailure`'s input holds the caught failure at `$.failure` as `{ Error, Cause }`. */
function recordedFailure(input: string | undefined): Failure | undefined {
  const failure = parseJsonObject(input)?.failure;
  if (failure && typeof failure === 'object' && typeof (failure as { Error?: unknown }).Error === 'string') {
    const { Error: error, Cause: cause } = failure as { Error: string; Cause?: unknown };
    return { error, cause: typeof cause === 'string' ? cause : undefined };
  }
  return undefined;
}

