/**
 * A fleet reset in the rehearsal (issue 14): the fleet planner's waves, each instance one real
 * execution of the reset state machine (as FleetReset's `startExecution.sync:2` runs it), a wave
 * starting once the previous one has ended, against a simulated account that enforces EC2's request
 * rate limits and the On-Demand vCPU quota. Each child's end is turned into the instance's outcome
 * by the fleet's own `outcomeOf`, as the fleet-summary step does.
 *
 * What it does not run is the fleet state machine itself: aws-local-stepfunctions has no Distributed
 * Map and no `states:startExecution.sync:2`; the state machine's shape is checked by
 * test/workflow/fleet-reset.test.ts, and this driver follows it (waves in order, every child of a
 * wave at once, a failed child caught as its outcome).
 */
import { Ec2LimitsOptions, Ec2LimitsRecord, enforceEc2Limits, MUTATING_BUCKET, NON_MUTATING_BUCKET } from './account/ec2-limits';
import { ExecutionRecord, Fault, Rehearsal } from './runner';
import { windowsTarget } from './world';
import { ResetRequest } from '../../src/workflow/private/contracts';
import { FleetInstanceOutcome, FleetIteration, outcomeOf } from '../../src/workflow/private/fleet-outcome';
import {
  DEFAULT_FLEET_BOUNDS, FleetBounds, FleetPlan, FleetTarget, MODELLED_RESET_MINUTES, planFleet, standardOnDemandVcpus,
} from '../../src/workflow/private/fleet-plan';

export interface FleetRehearsalOptions {
  readonly instanceIds: string[];
  /** The children's shared request fields. */
  readonly request: Omit<ResetRequest, 'instanceId'>;
  readonly bounds?: FleetBounds;
  /** The account's Running On-Demand Standard instances quota, in vCPUs (enforced at RunInstances). */
  readonly vcpuQuota: number;
  /** Faults for some instances' executions. */
  readonly faults?: ReadonlyMap<string, Fault[]>;
  /** Smaller EC2 token buckets than EC2's (to see throttling absorbed at a small scale). */
  readonly buckets?: Ec2LimitsOptions['buckets'];
}

export interface FleetRehearsal {
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
  /** Each wave's length: from its start until its last reset execution ended (restores they triggered not counted). */
  readonly waveSeconds: number[];
}

export async function rehearseFleet(r: Rehearsal, o: FleetRehearsalOptions): Promise<FleetRehearsal> {
  const limits = enforceEc2Limits(r.account, { vcpuQuota: o.vcpuQuota, buckets: o.buckets });
  const start = r.clock.now();
  const targets: FleetTarget[] = o.instanceIds.map(id => {
    const instance = r.account.instances.get(id)!;
    const group = r.account.autoScaling.get(id)?.groupName;
    return { instanceId: id, availabilityZone: instance.availabilityZone, ...(group ? { autoScalingGroupName: group } : {}) };
  });
  const groups = Object.fromEntries([...r.account.autoScalingGroups.values()]
    .map(g => [g.name, { minSize: g.minSize, desiredCapacity: g.desiredCapacity }]));
  const running = [...r.account.instances.values()].filter(i => i.state === 'running' || i.state === 'pending')
    .map(i => ({ instanceType: i.instanceType, coreCount: 1, threadsPerCore: 2 }));
  const plan = planFleet({
    targets,
    groups,
    bounds: o.bounds ?? DEFAULT_FLEET_BOUNDS,
    helpers: o.request.method !== 'online',
    helperVcpus: 2,
    quota: { limit: o.vcpuQuota, inUse: standardOnDemandVcpus(running) },
    minutesPerReset: MODELLED_RESET_MINUTES,
  });

  const records = new Map<string, ExecutionRecord>();
  const waveSeconds: number[] = [];
  let at = start;
  for (const wave of plan.waves) {
    const started = wave.instanceIds.map(id => {
      const record = r.start('reset', { instanceId: id, ...o.request }, { at, faults: o.faults?.get(id) });
      records.set(id, record);
      return record;
    });
    // The wave's Distributed Map ends when its children's executions have ended (startExecution.sync:2);
    // a restore the restore machine runs for an aborted child goes on beside the next wave.
    await r.ended(started);
    const end = Math.max(...started.map(rec => rec.end ?? rec.start));
    waveSeconds.push((end - at) / 1000);
    at = end;
  }
  await r.finished();

  const outcomes = o.instanceIds.map(id => outcomeOf(iterationOf(id, o.request, records.get(id)!)));
  const passwords = r.account.moments.filter(m => m.what.startsWith('password-data:') && o.instanceIds.includes(m.what.slice('password-data:'.length)));
  return {
    plan,
    outcomes,
    records,
    lastPasswordSeconds: (Math.max(start, ...passwords.map(m => m.at)) - start) / 1000,
    endSeconds: (Math.max(at, ...r.executions.map(endOf)) - start) / 1000,
    peakHelpers: peakHelpers(r),
    peakEc2PerSecond: peakPerSecond(r),
    limits,
    retries: r.executions.flatMap(e => e.spans).filter(s => s.kind === 'retry').length,
    waveSeconds,
  };
}

/** When an execution and the restore it triggered ended. */
function endOf(record: ExecutionRecord): number {
  return Math.max(record.end ?? record.start, record.restoreRun ? endOf(record.restoreRun) : 0);
}

/** What FleetReset's Map iteration holds after the child: its output, or the Catch's `failure` with DescribeExecution as the cause. */
function iterationOf(instanceId: string, request: FleetRehearsalOptions['request'], record: ExecutionRecord): FleetIteration {
  const base = { instanceId, ...request };
  if (record.status === 'SUCCEEDED') return { ...base, child: { executionArn: record.arn, status: record.status, output: record.output } };
  return {
    ...base,
    failure: {
      Error: 'States.TaskFailed',
      Cause: JSON.stringify({ ExecutionArn: record.arn, Status: record.status, Error: record.error, Cause: record.cause }),
    },
  };
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
