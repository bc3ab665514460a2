/**
 * A fleet reset in the rehearsal (issue 14): FleetReset's state machine, run by the rehearsal's
 * executor like the reset machine — its plan step (the real fleet-plan handler, reading the
 * simulated account), its Distributed Maps over the waves (one at a time) and over each wave's
 * instances (all at once), each instance's `startExecution.sync:2` of the reset state machine (a real
 * child execution, started through the account as the fleet machine's role), the Catch that turns a
 * child's failure into its outcome, and the summary step — against a simulated account that
 * enforces EC2's request rate limits and the On-Demand vCPU quota.
 */
import { Ec2LimitsOptions, Ec2LimitsRecord, enforceEc2Limits, MUTATING_BUCKET, NON_MUTATING_BUCKET } from './account/ec2-limits';
import { ExecutionRecord, Fault, Rehearsal } from './runner';
import { windowsTarget } from './world';
import type { SampleStackProps } from '../../sample/sample-stack';
import { ResetRequest } from '../../src/workflow/private/contracts';
import { FleetInstanceOutcome, FleetSummary } from '../../src/workflow/private/fleet-outcome';
import { FleetPlan } from '../../src/workflow/private/fleet-plan';

/** The sample stack as the fleet scenarios deploy it: a rescue VPC in three zones (the fleet spans three). */
export const FLEET_SAMPLE: SampleStackProps = { rescueAvailabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'] };

export interface FleetRehearsalOptions {
  readonly instanceIds: string[];
  /** The children's shared request fields. */
  readonly request: Omit<ResetRequest, 'instanceId'>;
  /** The account's Running On-Demand Standard instances quota, in vCPUs (enforced at RunInstances). */
  readonly vcpuQuota: number;
  /** Faults for some instances' executions. */
  readonly faults?: ReadonlyMap<string, Fault[]>;
  /** Smaller EC2 token buckets than EC2's (to see throttling absorbed at a small scale). */
  readonly buckets?: Ec2LimitsOptions['buckets'];
}

export interface FleetRehearsal {
  /** The fleet execution (its output is the summary). */
  readonly fleet: ExecutionRecord;
  readonly summary: FleetSummary;
  readonly plan: FleetPlan;
  readonly outcomes: FleetInstanceOutcome[];
  /** Each instance's reset execution. */
  readonly records: Map<string, ExecutionRecord>;
  /** Seconds from the fleet's start to the last new password (GetPasswordData non-empty). */
  readonly lastPasswordSeconds: number;
  /** Seconds from the fleet's start until every execution (restores included) had ended. */
  readonly endSeconds: number;
  /** The most helper instances running or pending at once. */
  readonly peakHelpers: number;
  /** The most calls of one EC2 action within one second, mutating and not. */
  readonly peakEc2PerSecond: { mutating: number; nonMutating: number };
  readonly limits: Ec2LimitsRecord;
  /** Retries the state machines made (every retried task, throttles included). */
  readonly retries: number;
  /** Where the throttled EC2 calls went (see throttleAccounting). */
  readonly throttles: ThrottleAccounting;
  /** Each wave's length: from its first child's start until its last child's end (restores they triggered not counted). */
  readonly waveSeconds: number[];
}

export async function rehearseFleet(r: Rehearsal, o: FleetRehearsalOptions): Promise<FleetRehearsal> {
  const limits = enforceEc2Limits(r.account, { vcpuQuota: o.vcpuQuota, buckets: o.buckets });
  for (const [id, faults] of o.faults ?? []) r.instanceFaults.set(id, faults);
  const fleet = await r.fleet({ targets: o.instanceIds, ...o.request });
  if (fleet.status !== 'SUCCEEDED') throw new Error(`The fleet execution ended ${fleet.status}: ${fleet.error} ${fleet.cause}`);
  const summary = fleet.output as FleetSummary;
  const records = new Map(r.childrenOf(fleet).map(child => [child.input.instanceId as string, child]));
  const waveSeconds = summary.plan.waves.map(wave => {
    const children = wave.instanceIds.map(id => records.get(id)).filter((c): c is ExecutionRecord => c !== undefined);
    return (Math.max(...children.map(c => c.end ?? c.start)) - Math.min(...children.map(c => c.start))) / 1000;
  });
  const passwords = r.account.moments.filter(m => m.what.startsWith('password-data:') && o.instanceIds.includes(m.what.slice('password-data:'.length)));
  return {
    fleet,
    summary,
    plan: summary.plan,
    outcomes: summary.instances,
    records,
    lastPasswordSeconds: (Math.max(fleet.start, ...passwords.map(m => m.at)) - fleet.start) / 1000,
    endSeconds: (Math.max(...r.executions.map(endOf)) - fleet.start) / 1000,
    peakHelpers: peakHelpers(r),
    peakEc2PerSecond: peakPerSecond(r),
    limits,
    retries: r.executions.flatMap(e => e.spans).filter(s => s.kind === 'retry').length,
    throttles: throttleAccounting(r),
    waveSeconds,
  };
}

/**
 * What became of the EC2 calls EC2 throttled (RequestLimitExceeded). The rehearsal routes the SDK's
 * `send` straight to the account, so the SDK's own retries are not modelled: a throttle fails the
 * call in the handler, which either handles it itself (e.g. a readiness check that reads it as
 * "not yet") or fails its task invocation; a failed invocation is retried by the state's Retry, or,
 * once the retries are spent, ends in the execution's Catch.
 */
export interface ThrottleAccounting {
  readonly throttledCalls: number;
  /** Task invocations that failed with RequestLimitExceeded. */
  readonly invocationsFailed: number;
  /** ... of which the state's Retry ran again. */
  readonly retriedByStateMachine: number;
  /** ... of which no retry followed (retries spent: the execution's Catch took over). */
  readonly notRetried: number;
  /** Throttled calls that did not fail their invocation: the handler that made them handled them. */
  readonly handledInHandler: number;
}

export function throttleAccounting(r: Rehearsal): ThrottleAccounting {
  const THROTTLED = 'RequestLimitExceeded';
  const throttledCalls = r.account.calls.filter(c => c.service === 'ec2' && c.error === THROTTLED).length;
  let invocationsFailed = 0;
  let retriedByStateMachine = 0;
  for (const execution of r.executions) {
    const spans = execution.spans;
    spans.forEach((span, i) => {
      if (span.kind !== 'task' || span.error !== THROTTLED) return;
      invocationsFailed++;
      // The retry of this invocation is the next span of the same state on the same thread.
      const next = spans.slice(i + 1).find(n => n.thread === span.thread);
      if (next?.kind === 'retry' && next.state === span.state) retriedByStateMachine++;
    });
  }
  return {
    throttledCalls,
    invocationsFailed,
    retriedByStateMachine,
    notRetried: invocationsFailed - retriedByStateMachine,
    handledInHandler: throttledCalls - invocationsFailed,
  };
}

/** When an execution and the restore it triggered ended. */
function endOf(record: ExecutionRecord): number {
  return Math.max(record.end ?? record.start, record.restoreRun ? endOf(record.restoreRun) : 0);
}

/** The most helpers alive (launched, not yet terminated) at once, from the account's successful calls. */
function peakHelpers(r: Rehearsal): number {
  const helperIds = new Set([...r.account.instances.values()].filter(i => i.isHelper).map(i => i.instanceId));
  const changes: Array<[number, number]> = [];
  for (const call of r.account.calls) {
    if (call.service !== 'ec2' || call.error) continue;
    if (call.operation === 'RunInstances') changes.push([call.at, call.input?.MinCount ?? 1]);
    if (call.operation === 'TerminateInstances') {
      changes.push([call.at, -(call.input?.InstanceIds ?? []).filter((id: string) => helperIds.has(id)).length]);
    }
  }
  let alive = 0;
  let peak = 0;
  for (const [, delta] of changes.sort((a, b) => a[0] - b[0] || a[1] - b[1])) {
    alive += delta;
    peak = Math.max(peak, alive);
  }
  return peak;
}

/** The most calls of one EC2 action that EC2 accepted within one modelled second (throttled calls are counted apart). */
function peakPerSecond(r: Rehearsal): { mutating: number; nonMutating: number } {
  const counts = new Map<string, number>();
  for (const call of r.account.calls) {
    if (call.service !== 'ec2' || call.error === 'RequestLimitExceeded') continue;
    const key = `${call.operation}@${Math.floor(call.at / 1000)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  let mutating = 0;
  let nonMutating = 0;
  for (const [key, n] of counts) {
    if (/^(Describe|Get|List)/.test(key)) nonMutating = Math.max(nonMutating, n);
    else mutating = Math.max(mutating, n);
  }
  return { mutating, nonMutating };
}

/** The limits the peaks are printed next to. */
export const EC2_RATE_LIMITS = { mutating: MUTATING_BUCKET, nonMutating: NON_MUTATING_BUCKET } as const;

/** An Auto Scaling group of the fleet: its members, and MinSize (equal to the members: at its minimum). */
export interface FleetGroup {
  readonly name: string;
  readonly members: number;
  readonly minSize: number;
}

/**
 * The fleet of the scale scenario: `count` offline-reset Windows targets spread over the sample's
 * three AZs, the first of them members of `groups` (tagged for reset, as the README asks).
 */
export function fleetTargets(r: Rehearsal, count: number, groups: readonly FleetGroup[]): string[] {
  const azs = [...new Set(r.sample.world.subnets.map(s => s.availabilityZone))].sort();
  const memberships = groups.flatMap(g => Array<string>(g.members).fill(g.name));
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const group = memberships[i];
    ids.push(windowsTarget(r.account, { availabilityZone: azs[i % azs.length], ...(group ? { autoScalingGroup: group } : {}) }).instanceId);
  }
  for (const g of groups) r.account.autoScalingGroups.get(g.name)!.minSize = g.minSize;
  return ids;
}

/**
 * The most data, per instance, any state of a fleet execution handled: the largest state input or
 * output divided by the instances, or, for the states that hold every iteration (the Waves result, the
 * summary step's input), twice the largest iteration (every instance as large as the largest one,
 * and the fleet plan's share). Times the number of instances it must stay within Step Functions'
 * 256 KiB limit on a state's data (Step Functions Developer Guide, "Step Functions service quotas":
 * "Maximum input or output size for a task, state, or execution: 256 KiB of data as a UTF-8 encoded string").
 */
export function fleetBytesPerInstance(fleet: ExecutionRecord, instances: number): number {
  const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
  const states = fleet.events.filter((e: any) => e.state?.output !== undefined).map((e: any) => bytes(e.state.output));
  const waves = fleet.events.find((e: any) => e.type === 'StateExited' && e.state?.name === 'Waves')?.state.output;
  const iterations = ((waves?.waves ?? []) as unknown[][]).flat().map(bytes);
  return Math.max(Math.max(...states) / instances, 2 * Math.max(0, ...iterations));
}

/** Step Functions' limit on a state's input or output (see fleetBytesPerInstance). */
export const STATE_DATA_LIMIT_BYTES = 256 * 1024;
