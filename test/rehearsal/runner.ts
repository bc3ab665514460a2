/**
 * Runs the synthesized state machines with aws-local-stepfunctions against the simulated account:
 * every Task goes to its real handler module (src/**\/<name>.lambda.ts), whose SDK clients the
 * account serves; Wait states, retries and tasks take modelled time; the EventBridge restore rule
 * is emulated from its synthesized pattern and input transformer, and the reconciler's schedule
 * runs its real handler every five modelled minutes (its Step Functions calls served by the
 * account, which starts executions here).
 */
import '../setup/promise-with-resolvers';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type * as Als from 'aws-local-stepfunctions' with { 'resolution-mode': 'import' };
import { ACCESS_DENIED_CODES, awsError, Service, SimulatedAccount, THROTTLING_CODES } from './account';
import { IamAuthorization } from './account/iam';
import { loadPowerShellParser } from './account/powershell';
import { installVirtualDate, REHEARSAL_EPOCH, Scheduler, ThreadStopped, VirtualClock } from './clock';
import { LATENCY } from './latencies';
import { REPO_ROOT, SampleArtifacts, statesOf } from './sample';
import { routeSdkToAccount } from './sdk-routing';
import { ENDPOINT_JANITOR_INTERVAL_MINUTES } from '../../src/workflow/endpoints/janitor-config';
import { RECONCILE_INTERVAL_MINUTES } from '../../src/workflow/private/timeouts';

// ESM with a CommonJS export: types from the ESM build, the module from require().
// eslint-disable-next-line @typescript-eslint/no-require-imports
const als = require('aws-local-stepfunctions') as typeof Als;

export type MachineKind = 'reset' | 'restore' | 'fleet';
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

/** A fault injected into one Task state of one state machine (the first execution of it that enters the state). */
export interface Fault {
  readonly machine: MachineKind;
  readonly state: string;
  /**
   * throttle: the first call to each service made in the state is throttled, then it clears.
   * hard: every call made in the state fails with the service's access-denied error.
   * abort: the execution is stopped once the state's first invocation has run.
   * timeout: the state's first invocation hangs until the execution's TimeoutSeconds elapse.
   */
  readonly kind: 'throttle' | 'hard' | 'abort' | 'timeout';
}

/** One bar of a timeline: a task invocation, a Wait, or a retry interval, in modelled time. */
export interface Span {
  readonly execution: string;
  readonly state: string;
  readonly kind: 'task' | 'wait' | 'retry';
  readonly thread: string;
  readonly start: number;
  readonly end: number;
  readonly error?: string;
  /** A task invocation's error message (what Step Functions records as the cause). */
  readonly cause?: string;
  /** What a task invocation returned (JSON), when it succeeded. */
  readonly result?: unknown;
}

export interface ExecutionRecord {
  readonly machine: MachineKind;
  readonly name: string;
  readonly arn: string;
  readonly stateMachineArn: string;
  readonly input: any;
  readonly start: number;
  status: ExecutionStatus;
  end?: number;
  output?: any;
  error?: string;
  cause?: string;
  /** Every event the executor emitted (state inputs and outputs included). */
  readonly events: any[];
  /**
   * When each of `events` happened in modelled time (same index). The executor's own timestamps
   * read the shared clock, which is not the time of the branch an event belongs to.
   */
  readonly eventTimes: number[];
  readonly spans: Span[];
  /** Task states entered, in order. */
  readonly visited: string[];
  /** The restore execution the EventBridge rule started for this one, if any. */
  restoreRun?: ExecutionRecord;
  /** The execution whose task started this one (a fleet's child reset), by ARN. */
  parent?: string;
  /** Faults given to this execution, and those that actually fired. */
  readonly faults: Fault[];
  readonly fired: Fault[];
}

export interface RehearsalOptions {
  /** Changes the workflow configuration the functions get (e.g. an allowed KMS key the sample does not configure). */
  readonly configOverride?: (config: any) => any;
  /** The EventBridge restore rule's pattern, as synthesized unless replaced (to prove it matters). */
  readonly restoreRulePattern?: any;
  /** Whether the reconciler runs on its schedule (to prove what it adds, turn it off). @default true */
  readonly reconciler?: boolean;
}

/** One scheduled run of the reconciler, in modelled time. */
export interface ReconcilerRun {
  readonly at: number;
  readonly result?: { journals: number; started: string[]; abandoned: string[] };
  readonly error?: string;
}

/** The longest the reconciler's schedule is emulated after it started (a guard against a rehearsal that never settles). */
const RECONCILER_HORIZON_MS = 48 * 3600_000;

interface HandlerEntry {
  readonly handler: (event: unknown) => Promise<unknown>;
  readonly environment: Record<string, string>;
  readonly logicalId: string;
}

interface LiveExecution {
  readonly record: ExecutionRecord;
  readonly definition: any;
  readonly deadline: number;
  readonly threads: Set<string>;
  handle?: { abort: () => void; result: Promise<unknown>; eventLogs: AsyncGenerator<any> };
  done: Promise<void>;
  /** Resolves once the execution has a final status (before the restore rule's execution that `done` also waits for). */
  readonly ended: Promise<void>;
  readonly markEnded: () => void;
  /**
   * Where a Map's iterations have got to in modelled time (the latest end of an iteration so far):
   * the next iteration of a one-at-a-time Map, and the states after the Map, start there.
   */
  cursor?: number;
  /** When an operator stops it (StopExecution), in modelled time; see stopAt. */
  stopAt?: number;
  readonly faults: Fault[];
  readonly firedFaults: Set<Fault>;
  readonly throttled: Set<string>;
}

const POWERTOOLS_LINE = /^\s*\{.*"(level|service)":/;

/**
 * One rehearsal: a virtual clock, a simulated account, the SDK routed to it, `Date` reading the
 * clock and the handlers' log lines captured. Call `dispose()` when done.
 */
export class Rehearsal {
  public readonly clock = new VirtualClock();
  public readonly account = new SimulatedAccount(this.clock);
  public readonly scheduler = new Scheduler(this.clock);
  public readonly executions: ExecutionRecord[] = [];
  /** Endpoint janitor runs so far: when, and what each returned or threw. */
  public readonly janitorRuns: { at: number; result?: any; error?: string }[] = [];
  /** Structured log lines the handlers wrote. */
  public readonly logs: string[] = [];
  /** Every scheduled run of the reconciler. */
  public readonly reconcilerRuns: ReconcilerRun[] = [];
  /** IAM's decision on every call a function made (account/iam.ts). */
  public readonly iam = new IamAuthorization(this.account);
  /**
   * Faults for the first reset execution of an instance, by instance id: the fleet machine starts
   * its children itself (StartExecution), so they cannot be handed to `start`.
   */
  public readonly instanceFaults = new Map<string, Fault[]>();

  private readonly live = new Map<string, LiveExecution>();
  private readonly handlers = new Map<string, HandlerEntry>();
  /** The endpoint janitor's threads started by {@link janitorAlongside}. */
  private readonly janitorThreads: Promise<void>[] = [];
  private readonly undo: Array<() => void> = [];
  private counter = 0;
  private pendingFaults: Fault[] = [];
  /** The reconciler's schedule while it runs (it ends once nothing runs and no journal is unfinished). */
  private reconcilerSchedule?: Promise<void>;

  constructor(public readonly sample: SampleArtifacts, private readonly options: RehearsalOptions = {}) {
    this.undo.push(installVirtualDate(this.clock));
    this.undo.push(routeSdkToAccount(this.account));
    this.undo.push(this.captureLogs());
    for (const subnet of sample.world.subnets) {
      this.account.subnets.set(subnet.id, { availabilityZone: subnet.availabilityZone, vpcId: subnet.vpcId, routesOutOfVpc: subnet.routesOutOfVpc });
    }
    for (const vpc of sample.world.vpcs) this.account.vpcs.add(vpc);
    // The endpoints CloudFormation created with the stack, available.
    for (const e of sample.world.endpoints) {
      const id = `vpce-${createHash('sha256').update(e.logicalId).digest('hex').slice(0, 17)}`;
      this.account.vpcEndpoints.set(id, {
        vpcEndpointId: id,
        vpcId: e.vpcId,
        serviceName: e.serviceName,
        type: e.type,
        state: 'available',
        privateDnsEnabled: e.privateDnsEnabled,
        subnetIds: e.subnetIds,
        securityGroupIds: e.securityGroupIds,
        routeTableIds: e.routeTableIds,
        tags: {},
        createdAt: this.clock.now(),
        ...(e.policy ? { policy: e.policy } : {}),
      });
    }
    for (const group of sample.world.securityGroups) this.account.securityGroups.add(group);
    for (const arn of sample.world.instanceProfileArns) this.account.instanceProfiles.add(arn);
    for (const key of sample.world.keys) this.account.addCustomerKey(key);
    for (const table of sample.world.tables) {
      this.account.addTable(table, { ttlAttribute: sample.world.ttlAttributes[table], kmsKeyArn: sample.world.tableKeys[table] });
    }
    for (const role of sample.iam.roles) this.account.iam.addRole(role);
    for (const [profile, role] of sample.iam.instanceProfileRoles) this.account.iam.instanceProfileRoles.set(profile, role);
    for (const [fn, role] of sample.iam.functionRoles) this.account.iam.functionRoles.set(fn, role);
    // A state machine's service integrations call AWS as its role (the fleet's StartExecution of each child).
    for (const [machine, role] of sample.iam.stateMachineRoles) this.account.iam.functionRoles.set(machine, role);
    this.account.fault = call => this.injectedFault(call);
    this.account.authorize = this.iam.hook;
    this.scheduler.guards.push((thread, at) => this.checkDeadline(thread, at));
    // StartExecution from inside the account (the reconciler starting a restore), at the account's time.
    this.account.startExecution = ({ stateMachineArn, name, input }) => {
      const machine = (['reset', 'restore', 'fleet'] as const).find(m => this.artifactOf(m).arn === stateMachineArn);
      return machine ? this.start(machine, input, { name, at: this.clock.now() }) : undefined;
    };
  }

  public dispose(): void {
    while (this.undo.length > 0) this.undo.pop()!();
  }

  /** The workflow configuration the step functions run with. */
  public config(): any {
    const fn = [...this.sample.functions.values()].find(f => f.environment.RESET_WORKFLOW_CONFIG);
    if (!fn) throw new Error('No function of the sample stack carries RESET_WORKFLOW_CONFIG');
    return JSON.parse(this.environmentOf(fn.logicalId).RESET_WORKFLOW_CONFIG);
  }

  /**
   * Starts a reset, runs it to its end, emulates the restore rule (and runs the restore execution it
   * starts), and returns the reset's record.
   */
  public async reset(input: unknown, o: { name?: string; faults?: Fault[]; atSeconds?: number; at?: number } = {}): Promise<ExecutionRecord> {
    const record = this.start('reset', input, o);
    await this.live.get(record.name)!.done;
    await this.scheduler.idle();
    // What the reconciler starts after it (when a restore did not finish) belongs to the reset's outcome.
    await this.finished();
    return record;
  }

  /**
   * Runs a fleet reset (FleetReset's state machine, issue 14) to its end: its plan step, both
   * Distributed Maps, each instance's child reset execution (and the restores and reconciler runs
   * they lead to), and its summary. Returns the fleet execution's record.
   */
  public async fleet(input: unknown, o: { name?: string; at?: number } = {}): Promise<ExecutionRecord> {
    const record = this.start('fleet', input, o);
    await this.finished();
    return record;
  }

  /** The reset executions a fleet execution started, in the order it started them. */
  public childrenOf(fleet: ExecutionRecord): ExecutionRecord[] {
    return this.executions.filter(e => e.machine === 'reset' && e.parent === fleet.arn);
  }

  private artifactOf(machine: MachineKind) {
    return machine === 'reset' ? this.sample.reset : machine === 'restore' ? this.sample.restore : this.sample.fleet;
  }

  /**
   * Resolves once these executions have ended, while everything else (their restores, the reconciler)
   * goes on in modelled time: what a caller waiting on them sees, e.g. a fleet's wave (test/rehearsal/fleet.ts).
   */
  public async ended(records: readonly ExecutionRecord[]): Promise<void> {
    await Promise.all(records.map(record => this.live.get(record.name)?.done));
  }

  /** Resolves once every execution started so far (and the restores they triggered) has ended, and the reconciler has settled. */
  public async finished(): Promise<void> {
    for (;;) {
      const pending = [...this.live.values()].map(l => l.done);
      const schedule = this.reconcilerSchedule;
      await Promise.all(pending);
      await schedule;
      await this.scheduler.idle();
      await Promise.all(this.janitorThreads);
      if (this.live.size === pending.length && this.reconcilerSchedule === schedule) return;
    }
  }

  /** Starts an execution; resolves its record at once (see `reset` to wait for it). */
  public start(machine: MachineKind, input: unknown, o: { name?: string; atSeconds?: number; at?: number; faults?: Fault[] } = {}): ExecutionRecord {
    this.pendingFaults.push(...(o.faults ?? []));
    const artifact = this.artifactOf(machine);
    const name = o.name ?? `${machine}-${String(++this.counter).padStart(3, '0')}`;
    const machineName = artifact.arn.split(':').pop();
    const arn = `arn:aws:states:${this.account.region}:${this.account.accountId}:execution:${machineName}:${name}`;
    const start = o.at ?? (this.clock.now() + (o.atSeconds ?? 0) * 1000);
    const instanceId = (input as { instanceId?: unknown } | undefined)?.instanceId;
    const forInstance = machine === 'reset' && typeof instanceId === 'string' ? this.instanceFaults.get(instanceId) ?? [] : [];
    if (forInstance.length > 0) this.instanceFaults.delete(instanceId as string);
    const faults = [...this.pendingFaults.filter(f => f.machine === machine), ...forInstance.filter(f => f.machine === machine)];
    const record: ExecutionRecord = {
      machine, name, arn, stateMachineArn: artifact.arn, input, start, status: 'RUNNING', events: [], eventTimes: [], spans: [], visited: [], faults, fired: [],
    };
    const definition = artifact.definition;
    let markEnded = () => {};
    const ended = new Promise<void>(resolve => { markEnded = resolve; });
    const live: LiveExecution = {
      record,
      definition,
      deadline: start + (definition.TimeoutSeconds ?? 365 * 86400) * 1000,
      threads: new Set(),
      done: Promise.resolve(),
      ended,
      markEnded,
      // Faults go to the first execution of their machine started after they were given.
      faults,
      firedFaults: new Set(),
      throttled: new Set(),
    };
    this.pendingFaults = this.pendingFaults.filter(f => f.machine !== machine);
    this.executions.push(record);
    // What DescribeExecution answers from inside the account (the record is the same object, so it follows the run).
    this.account.executions.set(arn, record);
    this.live.set(name, live);
    live.done = this.run(live);
    if (this.options.reconciler !== false && !this.reconcilerSchedule) {
      // After the parser the execution loads first: no turn is granted to the schedule while it loads.
      this.reconcilerSchedule = loadPowerShellParser().then(() => this.runReconcilerSchedule(start)).finally(() => {
        this.reconcilerSchedule = undefined;
      });
    }
    return record;
  }

  /**
   * EventBridge's rate schedule for the reconciler: a run every RECONCILE_INTERVAL_MINUTES of
   * modelled time (on the minute marks counted from the rehearsal's epoch), each its real handler
   * on a thread of its own, in time order with the executions. It ends once no execution runs and
   * no journal is left unfinished (every item gone, or given up).
   */
  private async runReconcilerSchedule(from: number): Promise<void> {
    const fn = [...this.sample.functions.values()].find(f => f.handlerFile.endsWith('/reconcile.lambda.ts'));
    if (!fn) throw new Error('The sample stack has no reconciler function (src/**/reconcile.lambda.ts)');
    const handler = this.handlerFor('Reconcile', { Type: 'Task', Resource: `arn:aws:lambda:${this.account.region}:${this.account.accountId}:function:${fn.logicalId}` });
    const period = RECONCILE_INTERVAL_MINUTES * 60_000;
    const thread = 'reconciler#schedule';
    let at = REHEARSAL_EPOCH + Math.ceil((from - REHEARSAL_EPOCH + 1) / period) * period;
    while (at - from <= RECONCILER_HORIZON_MS) {
      this.scheduler.start(thread, at);
      await this.scheduler.turn(thread);
      const callsBefore = this.account.calls.length;
      Object.assign(process.env, handler.environment);
      this.account.context = { execution: 'reconciler', state: 'Reconcile', function: handler.logicalId };
      try {
        const result = await handler.handler({}) as ReconcilerRun['result'];
        this.reconcilerRuns.push({ at, result });
      } catch (err) {
        this.reconcilerRuns.push({ at, error: `${(err as Error).name}: ${(err as Error).message}` });
      } finally {
        this.account.context = {};
      }
      this.scheduler.finish(thread, LATENCY.lambdaInvoke.seconds + (this.account.calls.length - callsBefore) * LATENCY.apiCall.seconds);
      if (!this.executions.some(e => e.status === 'RUNNING') && !this.unfinishedJournals()) break;
      at += period;
    }
    this.scheduler.stop(thread);
  }

  /**
   * Whether a journal (lock item) is left that neither an execution holds nor the reconciler gave up on.
   * The endpoint leases item (`endpoints:<vpc id>`, no executionArn) is no journal: it stays for good.
   */
  private unfinishedJournals(): boolean {
    this.account.settle();
    const unfinished = (item: Record<string, any>) => item.executionArn !== undefined && item.abandonedAt === undefined;
    return [...this.account.tables.values()].some(items => [...items.values()].some(unfinished));
  }

  private async run(live: LiveExecution): Promise<void> {
    const { record, definition } = live;
    // The simulated helper runs AWS-RunPowerShellScript's script with the PowerShell parser (WebAssembly, loaded once).
    await loadPowerShellParser();
    const main = this.thread(record.name, 'main');
    // The execution starts at its modelled start time, in order with everything else.
    const starter = this.thread(record.name, 'start');
    this.scheduler.start(starter, record.start);
    await this.scheduler.turn(starter);
    this.scheduler.finish(starter, 0);
    this.scheduler.start(main, record.start);
    live.threads.add(main);

    const branchOf = new Map(statesOf(definition).map(s => [s.name, s.branch]));
    const stateOf = new Map(statesOf(definition).map(s => [s.name, s.state]));
    const taskHandlers: Record<string, (input: any) => Promise<any>> = {};
    const waitOverrides: Record<string, number> = {};
    const retryOverrides: Record<string, number> = {};
    for (const { name, state, branch } of statesOf(definition)) {
      if (state.Type === 'Wait') waitOverrides[name] = 0;
      if (state.Retry) retryOverrides[name] = 0;
      if (state.Type === 'Task') {
        taskHandlers[name] = isStartExecutionSync(state) ? this.childExecutionHandler(live, name, state)
          : isDynamoGetItem(state) ? this.dynamoGetItemHandler(live, name)
            : this.taskHandler(live, name, state, branch);
      }
    }

    const machine = new als.StateMachine(localDefinition(definition), { validationOptions: { noValidate: true } });
    const handle = machine.run(structuredClone(record.input), {
      overrides: { taskResourceLocalHandlers: taskHandlers, waitTimeOverrides: waitOverrides, retryIntervalOverrides: retryOverrides },
      context: { Execution: { Id: record.arn, Name: record.name, RoleArn: 'arn:aws:iam::123456789012:role/rehearsal' } },
      noThrowOnAbort: true,
    });
    live.handle = handle;

    const consumed = (async () => {
      for await (const event of handle.eventLogs) {
        const thread = this.threadOfEvent(record, event, branchOf);
        const before = thread === undefined ? this.clock.now() : this.scheduler.timeOf(thread);
        record.events.push(event);
        this.onEvent(live, event, branchOf, stateOf);
        // Entering takes the branch's time before a Wait or Parallel moves it; every other event, after.
        const after = thread === undefined ? this.clock.now() : this.scheduler.timeOf(thread);
        record.eventTimes.push(event.type === 'ExecutionStarted' ? record.start : event.type === 'StateEntered' ? before : after);
      }
    })();
    try {
      await handle.result;
    } catch {
      // The outcome is read from the events (ExecutionFailed carries Error and Cause).
    }
    await consumed;
    if (record.status === 'RUNNING') {
      const end = record.events.find(e => ['ExecutionSucceeded', 'ExecutionFailed'].includes(e.type));
      if (end?.type === 'ExecutionSucceeded') {
        record.status = 'SUCCEEDED';
        record.output = end.output;
      } else if (end?.type === 'ExecutionFailed') {
        record.status = 'FAILED';
        record.error = end.Error;
        record.cause = typeof end.Cause === 'string' ? end.Cause : JSON.stringify(end.Cause);
      } else {
        throw new Error(`Execution ${record.name} ended without a status`);
      }
      record.end = Math.max(...[...live.threads].map(t => this.scheduler.timeOf(t)));
    }
    this.scheduler.stop(...live.threads);
    live.markEnded();
    if (record.machine === 'reset') await this.emulateRestoreRule(record);
  }

  private thread(execution: string, branch: string): string {
    return `${execution}#${branch}`;
  }

  /**
   * The scheduler thread of an event's state (a branch's start belongs to its Parallel's thread);
   * none for a state inside a Map's iterations (each iteration's thread is its task's own, see
   * childExecutionHandler).
   */
  private threadOfEvent(record: ExecutionRecord, event: any, branchOf: Map<string, string>): string | undefined {
    const name: string | undefined = event.state?.name ?? event.parentState?.name;
    const branch = name === undefined ? undefined : branchOf.get(name) ?? 'main';
    return branch === undefined || isIterationBranch(branch) ? undefined : this.thread(record.name, branch);
  }

  private onEvent(live: LiveExecution, event: any, branchOf: Map<string, string>, stateOf: Map<string, any>): void {
    const name: string | undefined = event.state?.name;
    if (!name) return;
    const branchName = branchOf.get(name) ?? 'main';
    const state = stateOf.get(name);
    // Inside a Map's iterations, time passes on the iteration's own thread (see iterationThread).
    if (isIterationBranch(branchName)) {
      this.onIterationEvent(live, name, state, event);
      return;
    }
    const thread = this.thread(live.record.name, branchName);
    switch (event.type) {
      case 'StateEntered':
        if (state.Type === 'Wait') {
          const seconds = waitSeconds(state, event.state.input);
          const start = this.scheduler.timeOf(thread);
          this.scheduler.advance(thread, seconds);
          live.record.spans.push({ execution: live.record.name, state: name, kind: 'wait', thread, start, end: start + seconds * 1000 });
        }
        if (state.Type === 'Parallel') {
          (state.Branches as any[]).forEach((_, i) => {
            const branch = this.thread(live.record.name, `${name}.${i}`);
            this.scheduler.start(branch, this.scheduler.timeOf(thread));
            live.threads.add(branch);
          });
        }
        break;
      case 'StateRetried': {
        const seconds = retryIntervalSeconds(event.retry.retrier, event.retry.attempt);
        const start = this.scheduler.timeOf(thread);
        this.scheduler.advance(thread, seconds);
        live.record.spans.push({ execution: live.record.name, state: name, kind: 'retry', thread, start, end: start + seconds * 1000 });
        break;
      }
      case 'StateExited':
      case 'StateFailed':
      case 'StateCaught':
        if (state.Type === 'Parallel') {
          const branches = (state.Branches as any[]).map((_, i) => this.thread(live.record.name, `${name}.${i}`));
          this.scheduler.setTime(thread, Math.max(...branches.map(b => this.scheduler.timeOf(b))));
          this.scheduler.stop(...branches);
        }
        break;
    }
  }

  private environmentOf(logicalId: string): Record<string, string> {
    const fn = this.sample.functions.get(logicalId)!;
    const environment = { ...fn.environment };
    if (environment.RESET_WORKFLOW_CONFIG && this.options.configOverride) {
      environment.RESET_WORKFLOW_CONFIG = JSON.stringify(this.options.configOverride(JSON.parse(environment.RESET_WORKFLOW_CONFIG)));
    }
    return environment;
  }

  /** The handler module of a Task's function; a Task that does not invoke one of the stack's functions fails loudly. */
  public handlerFor(stateName: string, state: any): HandlerEntry {
    const match = typeof state.Resource === 'string' ? state.Resource.match(/^arn:aws:lambda:[^:]+:\d+:function:([A-Za-z0-9]+)$/) : null;
    const fn = match ? this.sample.functions.get(match[1]) : undefined;
    if (!fn) {
      throw new Error(`Task ${stateName} (Resource ${state.Resource}) is not routed to a handler of the sample stack: ` +
        'the rehearsal only runs Lambda tasks whose function has a src/**/<name>.lambda.ts handler.');
    }
    return this.handlerOf(fn.logicalId);
  }

  /** The handler module and environment of a function of the sample stack, by logical id. */
  private handlerOf(logicalId: string): HandlerEntry {
    const fn = this.sample.functions.get(logicalId);
    if (!fn) throw new Error(`The sample stack has no function ${logicalId} with a handler in src/.`);
    let entry = this.handlers.get(fn.logicalId);
    if (!entry) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(path.join(REPO_ROOT, fn.handlerFile));
      if (typeof mod.handler !== 'function') throw new Error(`${fn.handlerFile} exports no handler`);
      entry = { handler: mod.handler, environment: this.environmentOf(fn.logicalId), logicalId: fn.logicalId };
      this.handlers.set(fn.logicalId, entry);
    }
    return entry;
  }

  /**
   * Makes one SDK call as a function of the sample stack (its role), outside its handler: a request
   * its code never builds, to show what IAM answers (e.g. RunInstances with a public IP).
   */
  public async callAs(fn: string, service: Service, operation: string, input: unknown,
    context: { execution: string; state: string } = { execution: 'direct', state: fn }): Promise<unknown> {
    this.account.context = { ...context, function: this.callerId(fn) };
    try {
      return await this.account.callAsync(service, operation, input);
    } finally {
      this.account.context = {};
    }
  }

  /** A caller's logical id: a state machine's (its role makes its service integrations' calls), else a function's. */
  private callerId(caller: string): string {
    return this.sample.iam.stateMachineRoles.has(caller) ? caller : this.functionId(caller);
  }

  /** A function's logical id from its id or the start of it after the construct path (`PrepareTarget`). */
  private functionId(fn: string): string {
    const logicalId = [...this.sample.functions.keys()].find(id => id === fn || id.replace(/^ResetAccess(Workflow)?/, '').startsWith(fn));
    if (!logicalId) throw new Error(`No function ${fn} in the sample stack.`);
    return logicalId;
  }

  /**
   * Invokes a function of the sample stack directly, as Lambda would (its environment, its role),
   * outside any execution: what a caller who bypasses the state machine could make it do.
   * `fn` is the function's logical id or the start of it after the construct path
   * (e.g. `PrepareTarget` for `ResetAccessWorkflowPrepareTarget...`).
   */
  public async invoke(fn: string, event: unknown): Promise<unknown> {
    const logicalId = this.functionId(fn);
    const { handler, environment } = this.handlerOf(logicalId);
    Object.assign(process.env, environment);
    this.account.context = { execution: 'direct', state: fn, function: logicalId };
    try {
      return await handler(structuredClone(event));
    } finally {
      this.account.context = {};
    }
  }

  private taskHandler(live: LiveExecution, name: string, state: any, branch: string): (input: any) => Promise<any> {
    const { handler, environment, logicalId } = this.handlerFor(name, state);
    const thread = this.thread(live.record.name, branch);
    return async (input: any) => {
      // After a Map, the next state starts once its last iteration has ended.
      if (live.cursor !== undefined) this.scheduler.setTime(thread, live.cursor);
      await this.scheduler.turn(thread);
      const start = this.clock.now();
      live.record.visited.push(name);
      const callsBefore = this.account.calls.length;
      Object.assign(process.env, environment);
      this.account.context = { execution: live.record.name, state: name, function: logicalId };
      let result: unknown;
      let error: Error | undefined;
      try {
        result = await handler(structuredClone(input));
      } catch (err) {
        error = err as Error;
      } finally {
        this.account.context = {};
      }
      const calls = this.account.calls.length - callsBefore;
      const seconds = LATENCY.lambdaInvoke.seconds + calls * LATENCY.apiCall.seconds;
      live.record.spans.push({
        execution: live.record.name,
        state: name,
        kind: 'task',
        thread,
        start,
        end: start + seconds * 1000,
        ...(error ? { error: error.name, cause: error.message } : { result: result === undefined ? null : JSON.parse(JSON.stringify(result)) }),
      });
      this.scheduler.finish(thread, seconds);

      const fault = live.faults.find(f => f.state === name && (f.kind === 'abort' || f.kind === 'timeout') && !live.firedFaults.has(f));
      if (fault) {
        this.fire(live, fault);
        if (fault.kind === 'abort') {
          this.abort(live, 'ABORTED');
        } else {
          // The invocation never returns: the execution times out (see checkDeadline).
          this.scheduler.setTime(thread, live.deadline);
          await this.scheduler.turn(thread);
        }
        throw new ThreadStopped(thread);
      }
      if (error) {
        // What Lambda reports to Step Functions: the error's name and its message.
        const reported = new Error(error.message);
        reported.name = error.name;
        throw reported;
      }
      return result === undefined ? null : JSON.parse(JSON.stringify(result));
    };
  }

  /**
   * `states:startExecution.sync:2` (FleetReset's ResetInstance, one per instance): what Step Functions
   * does for the task, as the state machine's role, through the account, so that IAM authorizes each
   * call against the synthesized role and the account starts the child here:
   * 1. StartExecution of the child with the task's `Input` (Step Functions Developer Guide, "Start a
   *    new AWS Step Functions state machine from a running execution": the `.sync` pattern starts the
   *    execution and waits for it to complete);
   * 2. the child runs on its own threads; the iteration waits for its end (not for the restore the
   *    EventBridge rule starts after it: that is another execution);
   * 3. DescribeExecution of the child, whose response is the task's result (Step Functions Developer
   *    Guide, "Using TestState API": a mock for `startExecution.sync:2` "must match the
   *    DescribeExecution response schema"), its fields in PascalCase and, for `:2`, `Output` as JSON
   *    rather than a string (same page of the `.sync:2` integration);
   * 4. a child that did not succeed fails the task with `States.TaskFailed` (Developer Guide, "Error
   *    names": "A Task state failed during the execution") and that response, as JSON, as its cause.
   * assumption: Step Functions learns of the child's end within the EventBridge delivery latency.
   * Each iteration is a thread of its own: it starts where the Map's previous iterations got to
   * (`cursor`), so the waves of a one-at-a-time Map follow each other in modelled time.
   */
  private childExecutionHandler(live: LiveExecution, name: string, state: any): (input: any) => Promise<any> {
    const caller = this.artifactOf(live.record.machine).logicalId;
    const outputAsJson = state.Resource.endsWith('.sync:2');
    return async (input: any) => {
      const thread = this.iterationThread(live, input?.Input?.instanceId);
      await this.scheduler.turn(thread);
      live.record.visited.push(name);
      const start = this.clock.now();
      const span = (end: number, outcome: Pick<Span, 'error' | 'cause' | 'result'>) => live.record.spans.push({
        execution: live.record.name, state: name, kind: 'task', thread, start, end, ...outcome,
      });
      let started: { executionArn: string };
      try {
        started = await this.callAs(caller, 'states', 'StartExecution', {
          stateMachineArn: input.StateMachineArn,
          input: JSON.stringify(input.Input ?? {}),
          ...(input.Name !== undefined ? { name: input.Name } : {}),
        }, { execution: live.record.name, state: name }) as { executionArn: string };
      } catch (err) {
        this.scheduler.finish(thread, LATENCY.apiCall.seconds);
        const reported = new Error((err as Error).message);
        // How the optimized integration names a Step Functions API error (the fleet's Retry lists these).
        reported.name = `StepFunctions.${(err as Error).name}`;
        span(start + LATENCY.apiCall.seconds * 1000, { error: reported.name, cause: reported.message });
        throw reported;
      }
      this.scheduler.finish(thread, LATENCY.apiCall.seconds);
      const child = [...this.live.values()].find(l => l.record.arn === started.executionArn)!;
      child.record.parent = live.record.arn;
      await child.ended;
      this.scheduler.setTime(thread, (child.record.end ?? this.clock.now()) + LATENCY.eventBridgeDelivery.seconds * 1000);
      await this.scheduler.turn(thread);
      const described = await this.callAs(caller, 'states', 'DescribeExecution', { executionArn: started.executionArn },
        { execution: live.record.name, state: name }) as Record<string, any>;
      this.scheduler.finish(thread, LATENCY.apiCall.seconds);
      live.cursor = Math.max(live.cursor ?? 0, this.scheduler.timeOf(thread));
      const result = syncResult(described, outputAsJson);
      if (described.status === 'SUCCEEDED') {
        span(this.scheduler.timeOf(thread), { result });
        return result;
      }
      const failed = new Error(JSON.stringify(result));
      failed.name = 'States.TaskFailed';
      span(this.scheduler.timeOf(thread), { error: failed.name, cause: failed.message });
      throw failed;
    };
  }

  /**
   * `dynamodb:getItem`, the optimized DynamoDB integration (the fleet's ReadLock): GetItem as the
   * state machine's role, through the account; the task's result is GetItem's response (Step
   * Functions Developer Guide, "Call DynamoDB with Step Functions": the optimized integration calls
   * the API with the task's arguments and returns its response). An error fails the task with
   * `DynamoDB.<error name>` (same page, the integration's error names).
   */
  private dynamoGetItemHandler(live: LiveExecution, name: string): (input: any) => Promise<any> {
    const caller = this.artifactOf(live.record.machine).logicalId;
    return async (input: any) => {
      const thread = this.iterationThread(live, input?.Key?.instanceId?.S);
      await this.scheduler.turn(thread);
      live.record.visited.push(name);
      const start = this.clock.now();
      try {
        const result = await this.callAs(caller, 'dynamodb', 'GetItem', input, { execution: live.record.name, state: name });
        live.record.spans.push({ execution: live.record.name, state: name, kind: 'task', thread, start, end: start + LATENCY.apiCall.seconds * 1000, result });
        return result;
      } catch (err) {
        const reported = new Error((err as Error).message);
        reported.name = `DynamoDB.${(err as Error).name}`;
        live.record.spans.push({ execution: live.record.name, state: name, kind: 'task', thread, start, end: start + LATENCY.apiCall.seconds * 1000, error: reported.name, cause: reported.message });
        throw reported;
      } finally {
        this.scheduler.finish(thread, LATENCY.apiCall.seconds);
        live.cursor = Math.max(live.cursor ?? 0, this.scheduler.timeOf(thread));
      }
    };
  }

  /**
   * The thread of one iteration of the fleet's Maps, by the instance it is for (every task of an
   * iteration carries its instance id): created by the iteration's first task, where the Map's
   * previous iterations got to (`cursor`), so the waves of a one-at-a-time Map follow each other.
   */
  private iterationThread(live: LiveExecution, instanceId: unknown): string {
    if (typeof instanceId !== 'string') throw new Error(`${live.record.name}: a task inside a Map iteration carries no instance id`);
    const thread = this.thread(live.record.name, `iteration[${instanceId}]`);
    if (!live.threads.has(thread)) {
      this.scheduler.start(thread, live.cursor ?? this.scheduler.timeOf(this.thread(live.record.name, 'main')));
      live.threads.add(thread);
    }
    return thread;
  }

  /** A Wait or a task's retry inside a Map iteration takes its time on the iteration's thread. */
  private onIterationEvent(live: LiveExecution, name: string, state: any, event: any): void {
    const isWait = event.type === 'StateEntered' && state.Type === 'Wait';
    if (!isWait && event.type !== 'StateRetried') return;
    const thread = this.iterationThread(live, event.state?.input?.instanceId);
    const seconds = isWait ? waitSeconds(state, event.state.input) : retryIntervalSeconds(event.retry.retrier, event.retry.attempt);
    const start = this.scheduler.timeOf(thread);
    this.scheduler.advance(thread, seconds);
    live.cursor = Math.max(live.cursor ?? 0, this.scheduler.timeOf(thread));
    live.record.spans.push({ execution: live.record.name, state: name, kind: isWait ? 'wait' : 'retry', thread, start, end: start + seconds * 1000 });
  }

  private fire(live: LiveExecution, fault: Fault): void {
    if (live.firedFaults.has(fault)) return;
    live.firedFaults.add(fault);
    live.record.fired.push(fault);
  }

  private abort(live: LiveExecution, status: 'ABORTED' | 'TIMED_OUT', at?: number): void {
    if (live.record.status !== 'RUNNING') return;
    live.record.status = status;
    live.record.end = at ?? (status === 'TIMED_OUT' ? Math.max(this.clock.now(), live.deadline) : this.clock.now());
    if (status === 'TIMED_OUT') this.clock.set(live.record.end);
    this.scheduler.stop(...live.threads);
    live.handle?.abort();
    // assumption: when a parent stops while a `.sync` task waits on its child, Step Functions stops the
    // child (the reason CDK grants the parent's role states:StopExecution on the child's executions); the
    // pages of the Developer Guide read for this do not say it in so many words.
    for (const child of this.live.values()) {
      if (child.record.parent === live.record.arn) this.abort(child, 'ABORTED', live.record.end);
    }
  }

  /**
   * Stops an execution at a moment of modelled time, as an operator's StopExecution does (ABORTED):
   * the first turn any of its threads, or of its children's, is due at or after `atMs` is refused
   * and the execution stopped then (as a timeout is, see checkDeadline). Its restore follows as
   * after any abort; a fleet's running children are stopped with it.
   */
  public stopAt(record: ExecutionRecord, atMs: number): void {
    const live = this.live.get(record.name);
    if (!live) throw new Error(`No execution ${record.name} to stop`);
    live.stopAt = atMs;
  }

  /** Execution timeouts in modelled time: a thread due at or after its execution's deadline times the execution out. */
  private checkDeadline(thread: string, at: number): boolean {
    const live = this.live.get(thread.split('#')[0]);
    if (!live) return true;
    const parent = live.record.parent === undefined ? undefined : [...this.live.values()].find(l => l.record.arn === live.record.parent);
    const stopped = [live, parent].find(l => l?.stopAt !== undefined && l.record.status === 'RUNNING' && at >= l.stopAt);
    if (stopped) {
      this.abort(stopped, 'ABORTED', stopped.stopAt);
      return false;
    }
    if (at < live.deadline) return true;
    this.abort(live, 'TIMED_OUT');
    return false;
  }

  private injectedFault(call: { service: string; operation: string; context: { execution?: string; state?: string } }): Error | undefined {
    const live = call.context.execution ? this.live.get(call.context.execution) : undefined;
    if (!live) return undefined;
    for (const fault of live.faults) {
      if (fault.state !== call.context.state) continue;
      if (fault.kind === 'hard') {
        this.fire(live, fault);
        return this.awsError(call.service, 'hard', call.operation);
      }
      if (fault.kind === 'throttle') {
        const key = `${fault.state}:${call.service}`;
        if (!live.throttled.has(key)) {
          live.throttled.add(key);
          this.fire(live, fault);
          return this.awsError(call.service, 'throttle', call.operation);
        }
      }
    }
    return undefined;
  }

  private awsError(service: string, kind: 'throttle' | 'hard', operation: string): Error {
    const s = service as Service;
    return kind === 'throttle'
      ? awsError(s, THROTTLING_CODES[s], 'Rate exceeded')
      : awsError(s, ACCESS_DENIED_CODES[s], `You are not authorized to perform ${service}:${operation} (injected hard failure).`);
  }

  /** EventBridge: the rule's pattern against the Step Functions status-change event, then its input transformer. */
  private async emulateRestoreRule(record: ExecutionRecord): Promise<void> {
    const event = {
      'version': '0',
      'source': 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      'account': this.account.accountId,
      'region': this.account.region,
      'detail': {
        executionArn: record.arn,
        stateMachineArn: this.sample.reset.arn,
        name: record.name,
        status: record.status,
        input: JSON.stringify(record.input),
        output: record.output === undefined ? null : JSON.stringify(record.output),
      },
    };
    const pattern = this.options.restoreRulePattern ?? this.sample.restoreRule.eventPattern;
    if (!matchesPattern(pattern, event)) return;
    const input = transformInput(this.sample.restoreRule.inputPathsMap, this.sample.restoreRule.inputTemplate, event);
    // EventBridge names the executions it starts with a UUID: a stable one here, derived from the reset.
    const restore = this.start('restore', input, { name: uuidOf(record.arn), at: (record.end ?? this.clock.now()) + LATENCY.eventBridgeDelivery.seconds * 1000 });
    record.restoreRun = restore;
    await this.live.get(restore.name)!.done;
  }

  /** Runs the restore state machine by hand (an operator rerunning it), as the rule would have. */
  public async rerunRestore(of: ExecutionRecord): Promise<ExecutionRecord> {
    const input = transformInput(this.sample.restoreRule.inputPathsMap, this.sample.restoreRule.inputTemplate, {
      detail: { executionArn: of.arn, input: JSON.stringify(of.input) },
    });
    const restore = this.start('restore', input, { at: Math.max(this.clock.now(), ...this.executions.map(e => e.end ?? 0)) + 60_000 });
    await this.live.get(restore.name)!.done;
    await this.scheduler.idle();
    return restore;
  }

  // ---------------------------------------------------------------- the endpoint janitor (scheduled)

  /** Whether the sample stack has an endpoint janitor (on-demand endpoints). */
  public get hasJanitor(): boolean {
    return this.janitorFunction() !== undefined;
  }

  private janitorFunction() {
    return [...this.sample.functions.values()].find(f => f.handlerFile.endsWith('endpoint-janitor.lambda.ts'));
  }

  /** Runs the endpoint janitor once, now, as its schedule does (its SDK calls served by the account). */
  public async runJanitor(): Promise<void> {
    const fn = this.janitorFunction();
    if (!fn) throw new Error('The sample stack has no endpoint janitor (its rescue VPC does not use on-demand endpoints).');
    const entry = this.handlerOf(fn.logicalId);
    this.account.settle();
    Object.assign(process.env, entry.environment);
    // Authorized as the janitor's role, like every call a function of the stack makes.
    this.account.context = { execution: 'endpoint-janitor', state: 'EndpointJanitor', function: fn.logicalId };
    const at = this.clock.now();
    try {
      this.janitorRuns.push({ at, result: await entry.handler({}) });
    } catch (err) {
      this.janitorRuns.push({ at, error: (err as Error).message });
    } finally {
      this.account.context = {};
    }
  }

  /**
   * Lets `seconds` of modelled time pass after every execution has ended, the janitor running at
   * each tick of its `rate(5 minutes)` schedule (assumption: ticks on whole five minutes of the clock).
   */
  public async idle(seconds: number): Promise<void> {
    await this.finished();
    const start = Math.max(this.clock.now(), ...this.executions.map(e => e.end ?? 0));
    const end = start + seconds * 1000;
    const period = ENDPOINT_JANITOR_INTERVAL_MINUTES * 60_000;
    for (let tick = Math.floor(start / period) * period + period; tick <= end; tick += period) {
      this.clock.set(tick);
      if (this.hasJanitor) await this.runJanitor();
    }
    this.clock.set(end);
    this.account.settle();
  }

  /**
   * Runs the janitor on its schedule alongside the executions, from now until `untilMs` of modelled
   * time: a thread of its own that the scheduler interleaves with the executions' threads in
   * modelled-time order (the ticks as in {@link idle}). Await {@link finished} afterwards.
   */
  public janitorAlongside(untilMs: number): void {
    const thread = `endpoint-janitor-${this.counter++}`;
    const period = ENDPOINT_JANITOR_INTERVAL_MINUTES * 60_000;
    const first = Math.floor(this.clock.now() / period) * period + period;
    this.scheduler.start(thread, first);
    const loop = async () => {
      for (let tick = first; tick <= untilMs; tick += period) {
        this.scheduler.setTime(thread, tick);
        await this.scheduler.turn(thread);
        try {
          await this.runJanitor();
        } finally {
          this.scheduler.finish(thread, 0);
        }
      }
    };
    this.janitorThreads.push(loop());
  }

  /** Brings the account to the end of every execution (for checks). */
  public settle(extraSeconds = 0): void {
    const end = Math.max(this.clock.now(), ...this.executions.map(e => e.end ?? 0));
    this.clock.set(end + extraSeconds * 1000);
    this.account.settle();
  }

  private captureLogs(): () => void {
    const streams = [process.stdout, process.stderr];
    const originals = streams.map(s => s.write);
    streams.forEach((stream, i) => {
      stream.write = ((chunk: any, ...rest: any[]) => {
        const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        if (POWERTOOLS_LINE.test(text)) {
          this.logs.push(text);
          const callback = rest.find(r => typeof r === 'function');
          if (callback) callback();
          return true;
        }
        return originals[i].call(stream, chunk, ...rest);
      }) as typeof stream.write;
    });
    return () => streams.forEach((stream, i) => { stream.write = originals[i]; });
  }
}

const validated = new WeakMap<object, any>();

/**
 * The definition for the executor, validated by it once (its validation costs a second per run,
 * so later runs skip it).
 */
function localDefinition(definition: any): any {
  let local = validated.get(definition);
  if (!local) {
    local = forLocalExecutor(definition);
    new als.StateMachine(local, { validationOptions: { checkArn: false } });
    validated.set(definition, local);
  }
  return local;
}

/**
 * The definition as aws-local-stepfunctions 3 needs it, with the same meaning in ASL:
 * - `"ResultPath": "$"` (the result replaces the input, which is also the default) is dropped,
 *   because the executor writes the result under a key named `$` instead;
 * - a Distributed Map runs as the executor's Map: same items (`ItemsPath`), same iteration input,
 *   same result array, same `MaxConcurrency` (it has no map runs, which this definition does not
 *   use: no ItemReader, ResultWriter or tolerated failures);
 * - a `startExecution.sync` task gets an explicit timeout: Step Functions gives a Task without
 *   `TimeoutSeconds` 99999999 seconds (Amazon States Language, Task state), the executor 60 real
 *   seconds, less than a wave of child executions takes to rehearse. (Modelled time is bounded by
 *   the executions' own TimeoutSeconds, see checkDeadline.)
 */
export function forLocalExecutor(definition: any): any {
  // A JSON copy, not structuredClone: under jest, structuredClone makes objects of another realm, which
  // the executor's plain-object check rejects, leaving nested `"<key>.$"` paths of Parameters unresolved.
  const copy = JSON.parse(JSON.stringify(definition));
  const visit = (states: Record<string, any>) => {
    for (const state of Object.values(states)) {
      if (state.ResultPath === '$') delete state.ResultPath;
      for (const branch of state.Branches ?? []) visit(branch.States);
      const processor = state.ItemProcessor ?? state.Iterator;
      if (processor) {
        delete processor.ProcessorConfig;
        delete state.Label;
        visit(processor.States);
      }
      if (state.Type === 'Choice') {
        state.Choices = (state.Choices as any[]).map(rewriteNegatedTypeTests);
      }
      if (state.Type === 'Task' && isStartExecutionSync(state) && state.TimeoutSeconds === undefined) {
        // Node's timers hold at most 2^31 - 1 ms (about 24.8 days).
        state.TimeoutSeconds = 2_000_000;
      }
    }
  };
  visit(copy.States);
  return copy;
}

/**
 * `{ "Variable": v, "IsPresent": false }` (and IsNull, IsNumeric, IsString, IsBoolean, IsTimestamp
 * false) as `{ "Not": { "Variable": v, "<test>": true } }`: the same rule in ASL, but the executor
 * (aws-local-stepfunctions 3.0.0) evaluates a false type test as never matching.
 */
function rewriteNegatedTypeTests(rule: any): any {
  if (rule.And) return { ...rule, And: rule.And.map(rewriteNegatedTypeTests) };
  if (rule.Or) return { ...rule, Or: rule.Or.map(rewriteNegatedTypeTests) };
  if (rule.Not) return { ...rule, Not: rewriteNegatedTypeTests(rule.Not) };
  const test = ['IsPresent', 'IsNull', 'IsNumeric', 'IsString', 'IsBoolean', 'IsTimestamp'].find(t => rule[t] === false);
  if (!test) return rule;
  const { Next, Variable } = rule;
  return { ...(Next !== undefined ? { Next } : {}), Not: { Variable, [test]: true } };
}

/** A Task that starts a state machine's execution and waits for it (`.sync`, `.sync:2`). */
function isStartExecutionSync(state: any): boolean {
  return typeof state.Resource === 'string' && /^arn:aws[\w-]*:states:::states:startExecution\.sync(:2)?$/.test(state.Resource);
}

/** A Task of the optimized DynamoDB GetItem integration. */
function isDynamoGetItem(state: any): boolean {
  return typeof state.Resource === 'string' && /^arn:aws[\w-]*:states:::dynamodb:getItem$/.test(state.Resource);
}

/** A branch inside a Map's item processor (statesOf names it `<map>[]`). */
function isIterationBranch(branch: string): boolean {
  return branch.includes('[]');
}

/** A Retrier's interval before `attempt`: IntervalSeconds × BackoffRate^(attempt−1), at most MaxDelaySeconds; FULL jitter waits half on average. */
function retryIntervalSeconds(retrier: any, attempt: number): number {
  const interval = Math.min((retrier.IntervalSeconds ?? 1) * Math.pow(retrier.BackoffRate ?? 2, attempt - 1), retrier.MaxDelaySeconds ?? Infinity);
  return retrier.JitterStrategy === 'FULL' ? interval / 2 : interval;
}

/**
 * The `.sync` task's result: DescribeExecution's response with its fields in PascalCase and dates
 * in epoch milliseconds; for `.sync:2`, `Input` and `Output` as JSON values rather than strings.
 */
function syncResult(described: Record<string, any>, asJson: boolean): Record<string, unknown> {
  const json = (text: unknown) => (asJson && typeof text === 'string' ? JSON.parse(text) : text);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(described)) {
    if (value === undefined) continue;
    const pascal = key.charAt(0).toUpperCase() + key.slice(1);
    out[pascal] = value instanceof Date ? value.getTime() : key === 'input' || key === 'output' ? json(value) : value;
  }
  return out;
}

/** A version-4-shaped UUID derived from `seed` (the same seed, the same UUID). */
function uuidOf(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function waitSeconds(state: any, input: any): number {
  if (typeof state.Seconds === 'number') return state.Seconds;
  if (typeof state.SecondsPath === 'string') {
    const value = jsonPath(state.SecondsPath, input);
    if (typeof value !== 'number') throw new Error(`Wait SecondsPath ${state.SecondsPath} is not a number: ${JSON.stringify(value)}`);
    return value;
  }
  throw new Error(`The rehearsal models Seconds and SecondsPath waits only: ${JSON.stringify(state)}`);
}

/** `$.a.b` paths (what the definitions use). */
export function jsonPath(p: string, input: any): any {
  if (p === '$') return input;
  return p.replace(/^\$\.?/, '').split('.').reduce((value, key) => (value == null ? undefined : value[key]), input);
}

/** EventBridge pattern matching: arrays of literals, nested objects. */
export function matchesPattern(pattern: any, event: any): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = event?.[key];
    if (Array.isArray(expected)) return expected.some(e => e === actual);
    if (expected && typeof expected === 'object') return matchesPattern(expected, actual);
    return expected === actual;
  });
}

/** EventBridge's input transformer: `<name>` placeholders filled with JSON values from `InputPathsMap`. */
export function transformInput(paths: Record<string, string>, template: string, event: any): any {
  const text = template.replace(/<([\w.-]+)>/g, (_, name: string) => {
    if (!(name in paths)) throw new Error(`Input template placeholder <${name}> is not in InputPathsMap`);
    const value = jsonPath(paths[name], event);
    return JSON.stringify(value ?? null);
  });
  return JSON.parse(text);
}
