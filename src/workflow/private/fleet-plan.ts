import { ERRORS } from './contracts';
import { WorkflowError } from './errors';

/**
 * The fleet planner (issue 14): which instances of a fleet reset go down together.
 *
 * A fleet reset runs one child execution of the reset state machine per instance, so each instance
 * keeps its own lock, journal, preflight, restore, abort/timeout and reconciler. This module only
 * decides the order: it packs the targets into waves that never take more instances down at once
 * than the platform team's bounds allow (overall, per Availability Zone, per Auto Scaling group,
 * like a rolling update's max unavailable) and never launch more helpers than the account's
 * On-Demand vCPU quota has room for. Waves run one after the other; the instances of a wave run at
 * the same time. Pure: the fleet-plan step reads the account and calls {@link planFleet}.
 */

/** One instance of the fleet, as DescribeInstances reports it. */
export interface FleetTarget {
  readonly instanceId: string;
  readonly availabilityZone: string;
  /** The Auto Scaling group it belongs to (its `aws:autoscaling:groupName` tag), if any. */
  readonly autoScalingGroupName?: string;
}

/** An Auto Scaling group's size, as DescribeAutoScalingGroups reports it. */
export interface FleetGroupSize {
  readonly minSize: number;
  readonly desiredCapacity: number;
}

/** What the platform team allows (the FleetReset construct's props, with their defaults applied). */
export interface FleetBounds {
  /** At most this many targets down at once, overall. */
  readonly maxDown: number;
  /** At most this many targets down at once in one Availability Zone. */
  readonly maxDownPerAz: number;
  /**
   * At most this many members of one Auto Scaling group down at once, and never more than the group's
   * desired capacity minus its MinSize (so every group keeps at least MinSize instances InService).
   */
  readonly maxDownPerGroup: number;
  /** At most this many helper instances at once (offline resets launch one helper each). */
  readonly maxHelpers: number;
  /** At most this many targets in one fleet reset. */
  readonly maxTargets: number;
}

/** The account's Running On-Demand Standard instances quota (Service Quotas L-1216C47A) and its use. */
export interface VcpuQuota {
  /** The quota, in vCPUs. */
  readonly limit: number;
  /** vCPUs of the On-Demand standard instances running now. */
  readonly inUse: number;
}

export interface FleetPlanInput {
  readonly targets: readonly FleetTarget[];
  /** Size of every group a target belongs to, by name. */
  readonly groups: Readonly<Record<string, FleetGroupSize>>;
  readonly bounds: FleetBounds;
  /** Whether each reset may launch a helper (false only when the caller asked for `online`). */
  readonly helpers: boolean;
  /**
   * vCPUs of one helper: the largest of the helper instance types the workflow may launch (see
   * {@link largestHelperType}), or FleetReset's `helperVcpus` override. Absent when neither is known
   * (no helper type exists in the Region): then only `bounds.maxHelpers` applies.
   */
  readonly helperVcpus?: number;
  /** Where `helperVcpus` came from, recorded in the plan. */
  readonly helperVcpusSource?: HelperVcpusSource;
  /** Absent when the quota could not be read: then only `bounds.maxHelpers` applies. */
  readonly quota?: VcpuQuota;
  /** Modelled minutes of one reset, for the expected time. */
  readonly minutesPerReset: number;
}

export interface FleetWave {
  readonly instanceIds: string[];
}

/** What the fleet reset will do; returned by a dry run and recorded in the execution's output. */
export interface FleetPlan {
  readonly waves: FleetWave[];
  /** The bound on targets down at once that applied: `maxDown`, or the helper bound when lower. */
  readonly maxDownAtOnce: number;
  /**
   * Helpers at once: `min(maxHelpers, floor((quota - in use) / helper vCPUs))` when the quota is
   * known; 0 when no reset needs a helper.
   */
  readonly helperBound: number;
  /** Where the helper bound came from. */
  readonly helperBoundReason: string;
  /** vCPUs of one helper the quota bound counted (absent when no helper is launched or it was unknown). */
  readonly helperVcpus?: number;
  /** Where `helperVcpus` came from: EC2's DescribeInstanceTypes, or FleetReset's `helperVcpus` prop. */
  readonly helperVcpusSource?: HelperVcpusSource;
  /** Members of each group allowed down at once. */
  readonly perGroupBound: Record<string, number>;
  /** Waves times the modelled time of one reset. */
  readonly expectedMinutes: number;
}

/** Defaults that keep services up: half a fleet of 100 at most (the most one fleet reset takes), a quarter per AZ, one per Auto Scaling group. */
export const DEFAULT_FLEET_BOUNDS: FleetBounds = {
  maxDown: 50,
  maxDownPerAz: 25,
  maxDownPerGroup: 1,
  maxHelpers: 50,
  maxTargets: 100,
};

/**
 * The most instances one fleet execution takes (FleetReset refuses a larger maxTargets): its data,
 * every instance's outcome included, must stay within Step Functions' 256 KiB per state; the
 * rehearsal measures the bytes per instance of a reset and checks this many fit.
 */
export const MAX_FLEET_TARGETS = 100;

/**
 * The most instances one dry run takes: each instance's dry-run plan (its consequences, names and
 * ids: about 2.4 KB) is in the fleet's data, which Step Functions caps at 256 KiB per state; the
 * rehearsal measures the bytes per instance of a dry run and checks this many fit.
 */
export const MAX_DRY_RUN_TARGETS = 50;

/**
 * Modelled minutes of one offline reset from its start to its new password, as the rehearsal measures it
 * on its latency table (`npx projen bench`: 10.9 minutes), rounded up: the plan's expected time per wave.
 */
export const MODELLED_RESET_MINUTES = 11;

/**
 * Members of a group allowed down at once: the prop, but no more than the group can lose and keep
 * MinSize InService. A group already at its minimum gets 1: its only way through is the child's
 * `auto-scaling-min-size` (MinSize lowered by one, raised back), which two resets at once in the same
 * group would race on; without that acknowledgement the child refuses with AutoScalingGroupAtMinimum
 * and nothing changes.
 */
export function groupBound(size: FleetGroupSize, maxDownPerGroup: number): number {
  const spare = size.desiredCapacity - size.minSize;
  return Math.max(1, Math.min(maxDownPerGroup, spare));
}

/**
 * Where the vCPUs of one helper came from: `ec2`, the largest DefaultVCpus DescribeInstanceTypes
 * reports among the helper types; `prop`, FleetReset's `helperVcpus` override.
 */
export type HelperVcpusSource = 'ec2' | 'prop';

/** An instance type's default vCPUs, as DescribeInstanceTypes reports them (VCpuInfo.DefaultVCpus). */
export interface InstanceTypeVcpus {
  readonly instanceType: string;
  readonly defaultVcpus: number;
}

/**
 * The helper size the vCPU quota must have room for: the largest of the types the workflow may
 * launch. Which type a reset launches is decided later, per Availability Zone (the first offered,
 * contracts.ts `helperInstanceTypesFor`), so a fallback type launching must fit the quota too.
 * A type the Region does not have is not in `types` (it can never be offered, so never launched);
 * undefined when none is.
 */
export function largestHelperType(types: readonly InstanceTypeVcpus[]): InstanceTypeVcpus | undefined {
  return types.reduce<InstanceTypeVcpus | undefined>((largest, t) => (!largest || t.defaultVcpus > largest.defaultVcpus ? t : largest), undefined);
}

/** Helpers the quota has room for, and why. */
export function helperBound(input: Pick<FleetPlanInput, 'bounds' | 'helperVcpus' | 'quota' | 'helpers'>): { bound: number; reason: string } {
  if (!input.helpers) return { bound: 0, reason: 'the online method launches no helper' };
  if (!input.quota) {
    return { bound: input.bounds.maxHelpers, reason: `maxHelpers ${input.bounds.maxHelpers} (the vCPU quota could not be read)` };
  }
  if (input.helperVcpus === undefined) {
    return {
      bound: input.bounds.maxHelpers,
      reason: `maxHelpers ${input.bounds.maxHelpers} (EC2 describes none of the helper instance types in this Region, so their vCPUs are unknown)`,
    };
  }
  const headroom = Math.max(0, input.quota.limit - input.quota.inUse);
  const byQuota = Math.floor(headroom / input.helperVcpus);
  if (byQuota < input.bounds.maxHelpers) {
    return {
      bound: byQuota,
      reason: `On-Demand Standard vCPU quota ${input.quota.limit}, ${input.quota.inUse} in use: room for ${byQuota} helpers of ${input.helperVcpus} vCPUs`,
    };
  }
  return { bound: input.bounds.maxHelpers, reason: `maxHelpers ${input.bounds.maxHelpers} (the vCPU quota has room for ${byQuota})` };
}

/**
 * Checks the selection and the bounds before anything is read or started. `selection` says what was
 * asked for (`tag <key>=<values>`), so that an empty one names the selector that matched nothing.
 */
export function validateFleetSize(count: number, bounds: FleetBounds, selection?: string, dryRun = false): void {
  if (count === 0) {
    throw new WorkflowError(ERRORS.fleetSelectionEmpty,
      `The fleet reset selected no instance${selection ? ` (${selection} matched none that is not terminated)` : ''}: ` +
      'give instance ids, or a tag selector that matches at least one instance that is not terminated.');
  }
  if (count > bounds.maxTargets) {
    throw new WorkflowError(ERRORS.fleetTooManyTargets,
      `The fleet reset selected ${count} instances, more than the ${bounds.maxTargets} one execution may reset: ` +
      'narrow the selection (more tag values or fewer ids) and start several fleet resets, or raise maxTargets.');
  }
  if (dryRun && count > MAX_DRY_RUN_TARGETS) {
    throw new WorkflowError(ERRORS.fleetTooManyTargets,
      `The fleet dry run selected ${count} instances, more than the ${MAX_DRY_RUN_TARGETS} one dry run may plan (its output holds ` +
      'every instance\'s plan, within Step Functions\' 256 KiB): dry-run the selection in parts (fewer ids or tag values each), ' +
      'or start the reset itself, which takes up to maxTargets.');
  }
}

/**
 * Packs the targets into waves. Deterministic: targets are taken by group, the AZs taking turns within it, and
 * each goes into the first wave that still has room for it on every bound (first fit), so the members of a
 * group spread over consecutive waves and ungrouped instances fill what is left.
 */
export function planFleet(input: FleetPlanInput): FleetPlan {
  validateFleetSize(input.targets.length, input.bounds);
  const ids = input.targets.map(t => t.instanceId);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) {
    throw new WorkflowError(ERRORS.invalidInput, `Instance ${duplicate} is selected twice: give each instance once.`);
  }
  for (const bound of ['maxDown', 'maxDownPerAz', 'maxDownPerGroup', 'maxTargets'] as const) {
    if (!Number.isInteger(input.bounds[bound]) || input.bounds[bound] < 1) {
      throw new WorkflowError(ERRORS.invalidInput, `The fleet bound ${bound} is ${input.bounds[bound]}: set it to a whole number of at least 1.`);
    }
  }
  const helpers = helperBound(input);
  if (input.helpers && helpers.bound < 1) {
    throw new WorkflowError(ERRORS.fleetHelperQuotaExhausted,
      `No helper can be launched: ${helpers.reason}. Ask for a higher Running On-Demand Standard instances quota ` +
      '(Service Quotas L-1216C47A), stop other instances, or use the online method.');
  }
  const maxDownAtOnce = input.helpers ? Math.min(input.bounds.maxDown, helpers.bound) : input.bounds.maxDown;

  const perGroupBound: Record<string, number> = {};
  for (const target of input.targets) {
    const name = target.autoScalingGroupName;
    if (name === undefined || name in perGroupBound) continue;
    const size = input.groups[name];
    // A group DescribeAutoScalingGroups did not return (deleted meanwhile): one at a time, the child's preflight decides.
    perGroupBound[name] = size ? groupBound(size, input.bounds.maxDownPerGroup) : 1;
  }

  // Within a group (and among ungrouped instances) the AZs take turns, so that a wave full on
  // `maxDown` holds each AZ's share rather than all of the first AZ.
  const groupKey = (t: FleetTarget) => t.autoScalingGroupName ?? '\uffff';
  const rank = new Map<string, number>();
  const seen = new Map<string, number>();
  for (const t of [...input.targets].sort((a, b) => compare(a.instanceId, b.instanceId))) {
    const bucket = `${groupKey(t)}\u0000${t.availabilityZone}`;
    rank.set(t.instanceId, seen.get(bucket) ?? 0);
    seen.set(bucket, (seen.get(bucket) ?? 0) + 1);
  }
  const ordered = [...input.targets].sort((a, b) =>
    compare(groupKey(a), groupKey(b))
    || rank.get(a.instanceId)! - rank.get(b.instanceId)!
    || compare(a.availabilityZone, b.availabilityZone));
  const waves: { ids: string[]; perAz: Map<string, number>; perGroup: Map<string, number> }[] = [];
  for (const target of ordered) {
    const group = target.autoScalingGroupName;
    let wave = waves.find(w =>
      w.ids.length < maxDownAtOnce
      && (w.perAz.get(target.availabilityZone) ?? 0) < input.bounds.maxDownPerAz
      && (group === undefined || (w.perGroup.get(group) ?? 0) < perGroupBound[group]));
    if (!wave) {
      wave = { ids: [], perAz: new Map(), perGroup: new Map() };
      waves.push(wave);
    }
    wave.ids.push(target.instanceId);
    wave.perAz.set(target.availabilityZone, (wave.perAz.get(target.availabilityZone) ?? 0) + 1);
    if (group !== undefined) wave.perGroup.set(group, (wave.perGroup.get(group) ?? 0) + 1);
  }
  return {
    waves: waves.map(w => ({ instanceIds: w.ids })),
    maxDownAtOnce,
    helperBound: helpers.bound,
    helperBoundReason: helpers.reason,
    ...(input.helpers && input.helperVcpus !== undefined ? { helperVcpus: input.helperVcpus } : {}),
    ...(input.helpers && input.helperVcpusSource !== undefined ? { helperVcpusSource: input.helperVcpusSource } : {}),
    perGroupBound,
    expectedMinutes: waves.length * input.minutesPerReset,
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Service Quotas' code of "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", in vCPUs. */
export const STANDARD_ON_DEMAND_VCPU_QUOTA_CODE = 'L-1216C47A';

/** A running instance, for the quota's use: its type, whether it is Spot, and its CPU options. */
export interface RunningInstance {
  readonly instanceType: string;
  /** `spot`, `scheduled`, `capacity-block`; absent for On-Demand. */
  readonly lifecycle?: string;
  readonly coreCount: number;
  readonly threadsPerCore: number;
}

/**
 * vCPUs the standard On-Demand quota counts: running On-Demand instances of the families it covers
 * (A, C, D, H, I, M, R, T, Z; EC2 User Guide, "On-Demand Instance quotas"), vCPUs being cores times
 * threads per core. Families with a quota of their own that share a first letter (Inf, Trn, HPC, Mac)
 * are left out.
 */
export function standardOnDemandVcpus(instances: readonly RunningInstance[]): number {
  return instances
    .filter(i => i.lifecycle === undefined && /^(?!inf|trn|hpc|mac)[acdhimrtz]/.test(i.instanceType))
    .reduce((sum, i) => sum + i.coreCount * i.threadsPerCore, 0);
}
