/**
 * The Step Functions API over a rehearsal, for the clients that start and watch executions (the
 * operator CLI). `StartExecution` runs the reset in the rehearsal to its end in modelled time,
 * with the restore the EventBridge rule starts after it; the reading calls then answer as Step
 * Functions would at the observer's time, `now`, which the client moves forward as it waits. The
 * client thus sees the execution unfold step by step, and everything it sees was done by the real
 * handlers against the simulated account.
 */
import { HistoryEvent, HistoryEventType, SFNClient, SFNServiceException } from '@aws-sdk/client-sfn';
import { ExecutionRecord, Fault, Rehearsal } from './runner';
import { FakeResolver, statesOf } from './sample';

/** What a `GetExecutionHistory` page holds at most when the caller asks for more (the service's limit). */
const MAX_HISTORY_PAGE = 1000;

export class RehearsedStepFunctions {
  /** The observer's time (ms since the epoch): reads see what had happened by then. */
  public now: number;
  /** Faults for the next execution StartExecution starts (see Rehearsal.start), e.g. to abort it. */
  public faultsForNextStart: Fault[] = [];

  constructor(private readonly rehearsal: Rehearsal) {
    this.now = rehearsal.clock.now();
  }

  /**
   * Puts the stack's SSM parameters (e.g. the state machine ARN `ResetAccess` publishes) into the
   * simulated account, where the operator's SSM client reads them.
   */
  public publishStackParameters(): void {
    for (const parameter of stackParameters(this.rehearsal)) this.rehearsal.account.parameters.set(parameter.name, parameter);
  }

  /**
   * Serves every command of this one client from here, at the observer's time. Per client, not
   * per class: the SFNClient class is routed to the simulated account, for the functions that read
   * executions from inside it (account/step-functions.ts).
   */
  public serve(client: SFNClient): SFNClient {
    const send = async (command: { constructor: { name: string }; input: any }) => {
      const operation = command.constructor.name.replace(/Command$/, '');
      return this.call(operation, command.input);
    };
    Object.defineProperty(client, 'send', { value: send });
    return client;
  }

  /** One Step Functions API call; an operation not modelled here fails loudly. */
  public async call(operation: string, input: any): Promise<any> {
    switch (operation) {
      case 'StartExecution': return this.startExecution(input);
      case 'DescribeExecution': return this.describeExecution(input);
      case 'GetExecutionHistory': return this.getExecutionHistory(input);
      case 'ListExecutions': return this.listExecutions(input);
      case 'ListTagsForResource': return this.listTagsForResource(input);
      default: throw new Error(`The rehearsed Step Functions API does not model ${operation}.`);
    }
  }

  private async startExecution(input: { stateMachineArn: string; name?: string; input?: string }): Promise<any> {
    if (input.stateMachineArn !== this.rehearsal.sample.reset.arn) {
      throw sfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${input.stateMachineArn}'`);
    }
    const name = input.name ?? `rehearsed-${this.rehearsal.executions.length + 1}`;
    const existing = this.rehearsal.executions.find(e => e.name === name);
    if (existing) throw sfnError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.arn}'`);
    const faults = this.faultsForNextStart;
    this.faultsForNextStart = [];
    const record = this.rehearsal.start('reset', JSON.parse(input.input ?? '{}'), { name, faults, at: Math.max(this.now, this.rehearsal.clock.now()) });
    // The rehearsal's clock may be ahead of the observer (the reconciler's schedule ran after the
    // last execution): the observer's call returns when the execution has started.
    this.now = Math.max(this.now, record.start);
    // Runs it (and the restore the rule starts) to the end; reads then reveal it over the observer's time.
    await this.rehearsal.finished();
    return { executionArn: record.arn, startDate: new Date(record.start) };
  }

  private describeExecution(input: { executionArn: string }): any {
    const record = this.visibleExecution(input.executionArn);
    const ended = record.end !== undefined && record.end <= this.now && record.status !== 'RUNNING';
    return {
      executionArn: record.arn,
      stateMachineArn: this.machineOf(record).arn,
      name: record.name,
      status: ended ? record.status : 'RUNNING',
      startDate: new Date(record.start),
      input: JSON.stringify(record.input),
      ...(ended ? { stopDate: new Date(record.end!) } : {}),
      ...(ended && record.output !== undefined ? { output: JSON.stringify(record.output) } : {}),
      ...(ended && record.error ? { error: record.error, cause: record.cause } : {}),
    };
  }

  private getExecutionHistory(input: { executionArn: string; reverseOrder?: boolean; maxResults?: number; nextToken?: string }): any {
    const record = this.visibleExecution(input.executionArn);
    const visible = executionHistory(record, this.machineOf(record).definition).filter(e => e.timestamp!.getTime() <= this.now);
    const ordered = input.reverseOrder ? [...visible].reverse() : visible;
    const offset = Number(input.nextToken ?? 0);
    const size = Math.min(input.maxResults || MAX_HISTORY_PAGE, MAX_HISTORY_PAGE);
    return {
      events: ordered.slice(offset, offset + size),
      ...(offset + size < ordered.length ? { nextToken: String(offset + size) } : {}),
    };
  }

  private listExecutions(input: { stateMachineArn: string; maxResults?: number; statusFilter?: string }): any {
    const machine = [this.rehearsal.sample.reset, this.rehearsal.sample.restore].find(m => m.arn === input.stateMachineArn);
    if (!machine) throw sfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${input.stateMachineArn}'`);
    const executions = this.rehearsal.executions
      .filter(e => this.machineOf(e) === machine && e.start <= this.now)
      .map(e => ({ record: e, status: this.describeExecution({ executionArn: e.arn }).status as string }))
      .filter(e => !input.statusFilter || e.status === input.statusFilter)
      .sort((a, b) => b.record.start - a.record.start)
      .slice(0, input.maxResults || 100);
    return {
      executions: executions.map(({ record, status }) => ({
        executionArn: record.arn,
        stateMachineArn: machine.arn,
        name: record.name,
        status,
        startDate: new Date(record.start),
        ...(status !== 'RUNNING' ? { stopDate: new Date(record.end!) } : {}),
      })),
    };
  }

  /** The state machine's tags, as the synthesized template gives them (resolved to the fake account). */
  private listTagsForResource(input: { resourceArn: string }): any {
    const machine = [this.rehearsal.sample.reset, this.rehearsal.sample.restore].find(m => m.arn === input.resourceArn);
    if (!machine) throw sfnError('ResourceNotFound', `Resource not found: '${input.resourceArn}'`);
    const resources = this.rehearsal.sample.template.Resources;
    const resolver = new FakeResolver(this.rehearsal.sample.stackName, resources);
    const tags: Array<{ Key: string; Value: unknown }> = resources[machine.logicalId].Properties.Tags ?? [];
    return { tags: tags.map(tag => ({ key: tag.Key, value: resolver.resolve(tag.Value) })) };
  }

  private visibleExecution(executionArn: string): ExecutionRecord {
    const record = this.rehearsal.executions.find(e => e.arn === executionArn);
    if (!record || record.start > this.now) throw sfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return record;
  }

  private machineOf(record: ExecutionRecord) {
    return record.machine === 'reset' ? this.rehearsal.sample.reset : this.rehearsal.sample.restore;
  }
}

/** `HistoryEvent` types by ASL state type (`TaskStateEntered`, `ChoiceStateExited`, ...). */
const STATE_EVENT_PREFIX: Record<string, string> = {
  Task: 'Task', Pass: 'Pass', Choice: 'Choice', Wait: 'Wait', Parallel: 'Parallel', Map: 'Map', Succeed: 'Succeed', Fail: 'Fail',
};

interface PendingEvent {
  readonly at: number;
  readonly thread: string;
  readonly event: Omit<HistoryEvent, 'id' | 'previousEventId' | 'timestamp'>;
}

/**
 * A finished rehearsal execution as Step Functions records its history: state entries and exits
 * (with their input and output), each Lambda invocation of a Task as scheduled, started and
 * succeeded (with what the handler returned) or failed (with its error and message), and the
 * execution's start and end; in time order, ids from 1, each event's `previousEventId` the event
 * before it in its branch.
 */
export function executionHistory(record: ExecutionRecord, definition: any): HistoryEvent[] {
  const branchOf = new Map(statesOf(definition).map(s => [s.name, s.branch]));
  const invocations = new Map<string, typeof record.spans>();
  for (const span of record.spans.filter(s => s.kind === 'task')) {
    invocations.set(span.state, [...(invocations.get(span.state) ?? []), span]);
  }
  const nextInvocation = (state: string) => invocations.get(state)?.shift();
  const pending: PendingEvent[] = [{
    at: record.start,
    thread: 'main',
    event: { type: 'ExecutionStarted', executionStartedEventDetails: { input: JSON.stringify(record.input), roleArn: 'arn:aws:iam::123456789012:role/rehearsal' } },
  }];
  const lambdaEvents = (thread: string, state: string) => {
    const invocation = nextInvocation(state);
    if (!invocation) return;
    pending.push({ at: invocation.start, thread, event: { type: 'LambdaFunctionScheduled', lambdaFunctionScheduledEventDetails: { resource: state } } });
    pending.push({ at: invocation.start, thread, event: { type: 'LambdaFunctionStarted' } });
    pending.push(invocation.error
      ? { at: invocation.end, thread, event: { type: 'LambdaFunctionFailed', lambdaFunctionFailedEventDetails: { error: invocation.error, cause: invocation.cause } } }
      : { at: invocation.end, thread, event: { type: 'LambdaFunctionSucceeded', lambdaFunctionSucceededEventDetails: { output: JSON.stringify(invocation.result) } } });
  };

  record.events.forEach((event, index) => {
    const at = record.eventTimes[index];
    const name: string | undefined = event.state?.name;
    if (name === undefined) return;
    const thread = branchOf.get(name) ?? 'main';
    const prefix = STATE_EVENT_PREFIX[event.state.type];
    if (!prefix) throw new Error(`No history event type for a ${event.state.type} state (${name})`);
    switch (event.type) {
      case 'StateEntered':
        pending.push({ at, thread, event: { type: `${prefix}StateEntered` as HistoryEventType, stateEnteredEventDetails: { name, input: JSON.stringify(event.state.input) } } });
        if (prefix === 'Task') lambdaEvents(thread, name);
        break;
      case 'StateRetried':
        // The next attempt of the Task, after the retry interval.
        lambdaEvents(thread, name);
        break;
      case 'StateExited':
      case 'StateCaught':
        pending.push({ at, thread, event: { type: `${prefix}StateExited` as HistoryEventType, stateExitedEventDetails: { name, output: JSON.stringify(event.state.output ?? null) } } });
        break;
    }
  });

  const end = record.end ?? record.start;
  switch (record.status) {
    case 'SUCCEEDED':
      pending.push({ at: end, thread: 'main', event: { type: 'ExecutionSucceeded', executionSucceededEventDetails: { output: JSON.stringify(record.output) } } });
      break;
    case 'FAILED':
      pending.push({ at: end, thread: 'main', event: { type: 'ExecutionFailed', executionFailedEventDetails: { error: record.error, cause: record.cause } } });
      break;
    case 'ABORTED':
      pending.push({ at: end, thread: 'main', event: { type: 'ExecutionAborted', executionAbortedEventDetails: {} } });
      break;
    case 'TIMED_OUT':
      pending.push({ at: end, thread: 'main', event: { type: 'ExecutionTimedOut', executionTimedOutEventDetails: {} } });
      break;
  }

  // Time order (stable: events of one branch keep their order); ids and branch chains follow.
  const ordered = pending.map((p, i) => ({ ...p, i })).sort((a, b) => a.at - b.at || a.i - b.i);
  const lastOfThread = new Map<string, number>();
  return ordered.map(({ at, thread, event }, i) => {
    const id = i + 1;
    // A branch's first event follows the event before it on the main lane (its Parallel's entry).
    const previousEventId = lastOfThread.get(thread) ?? lastOfThread.get('main') ?? 0;
    lastOfThread.set(thread, id);
    return { ...event, id, previousEventId, timestamp: new Date(at) } as HistoryEvent;
  });
}

/** The `AWS::SSM::Parameter`s of the sample stack, as CloudFormation would have created them. */
function stackParameters(rehearsal: Rehearsal) {
  const resources = rehearsal.sample.template.Resources as Record<string, any>;
  const resolver = new FakeResolver(rehearsal.sample.stackName, resources);
  return Object.values(resources).filter(r => r.Type === 'AWS::SSM::Parameter').map(r => ({
    name: resolver.resolve(r.Properties.Name),
    value: resolver.resolve(r.Properties.Value),
    type: 'String' as const,
    lastModified: rehearsal.clock.now(),
    version: 1,
  }));
}

function sfnError(code: string, message: string): Error {
  return new SFNServiceException({ name: code, $fault: 'client', $metadata: { httpStatusCode: 400 }, message });
}
