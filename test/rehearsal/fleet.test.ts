import { enforceEc2Limits } from './account/ec2-limits';
import { FLEET_SAMPLE, fleetBytesPerInstance, fleetTargets, rehearseFleet, FleetRehearsal, STATE_DATA_LIMIT_BYTES } from './fleet';
import { baselineOf, changesMade, expectInvariantsHold } from './invariants';
import { Fault, Rehearsal } from './runner';
import { synthesizeSample } from './sample';
import { windowsTarget } from './world';
import { ERRORS } from '../../src/workflow/private/contracts';
import { FleetSummary } from '../../src/workflow/private/fleet-outcome';
import { MAX_DRY_RUN_TARGETS, MAX_FLEET_TARGETS } from '../../src/workflow/private/fleet-plan';

/*
 * FleetReset's state machine, executed by the rehearsal (test/rehearsal/fleet.ts): its plan step,
 * its Distributed Maps, one child reset execution per instance, its Catch and its summary.
 *
 * A fleet reset at a small scale (the 100-instance run is `npx projen bench`): 12 instances over
 * three AZs, four Auto Scaling groups of two (two groups at their minimum), faults in three
 * instances' resets (a helper that never gets ready, the offline fix failing on the helper
 * mid-batch, an execution aborted while the volume is on its helper), a vCPU quota that leaves
 * room for 4 helpers, and EC2 token buckets small enough to throttle.
 */

const sample = synthesizeSample(FLEET_SAMPLE);
const GROUPS = [
  { name: 'web', members: 2, minSize: 0 },
  { name: 'api', members: 2, minSize: 2 },
  { name: 'jobs', members: 2, minSize: 1 },
  { name: 'edge', members: 2, minSize: 2 },
];

describe('a fleet reset of 12 instances', () => {
  let r: Rehearsal;
  let ids: string[];
  let run: FleetRehearsal;
  let baselines: ReturnType<typeof baselineOf>[];

  beforeAll(async () => {
    r = new Rehearsal(sample);
    ids = fleetTargets(r, 12, GROUPS);
    baselines = ids.map(id => baselineOf(r.account, id));
    const faults = new Map<string, Fault[]>([
      // A member of 'web', in the first wave (one member of a group per wave): a wave follows it.
      [ids[0], [{ machine: 'reset', state: 'SendOfflineFix', kind: 'abort' }]],
      [ids[9], [{ machine: 'reset', state: 'CheckHelperReady', kind: 'hard' }]],
      [ids[10], [{ machine: 'reset', state: 'CheckOfflineFix', kind: 'hard' }]],
    ]);
    run = await rehearseFleet(r, {
      instanceIds: ids,
      request: { method: 'offline', acknowledge: ['auto-scaling-standby', 'auto-scaling-min-size'] },
      // 12 targets running use 24 vCPUs: 8 more leave room for 4 helpers of 2 vCPUs.
      vcpuQuota: 32,
      faults,
      buckets: { mutating: { capacity: 3, refillPerSecond: 1 }, nonMutating: { capacity: 8, refillPerSecond: 4 } },
    });
  }, 600_000);

  afterAll(() => r.dispose());

  test('the plan keeps to the helper bound the quota leaves, one member per group at a time', () => {
    expect(run.plan.helperBound).toBe(4);
    expect(run.plan.waves.every(w => w.instanceIds.length <= 4)).toBe(true);
    expect(run.plan.perGroupBound).toEqual({ web: 1, api: 1, jobs: 1, edge: 1 });
  });

  test('every instance keeps the invariants of a single reset', () => {
    for (const base of baselines) expectInvariantsHold(r, base);
  });

  test('each instance has its outcome; the faulted ones fail and are put back, the others succeed', () => {
    const outcome = Object.fromEntries(run.outcomes.map(o => [o.instanceId, o.outcome]));
    const faulted = [ids[0], ids[9], ids[10]];
    expect(ids.filter(id => !faulted.includes(id)).map(id => outcome[id])).toEqual(Array(9).fill('succeeded'));
    expect(faulted.map(id => outcome[id])).toEqual(['failed', 'failed', 'failed']);
    expect(run.outcomes.find(o => o.instanceId === ids[0])!.error).toBe('ABORTED');
    expect(run.outcomes.every(o => o.error !== ERRORS.acknowledgementRequired)).toBe(true);
  });

  test('helpers never exceed the bound, and the quota never refused a launch', () => {
    expect(run.peakHelpers).toBeGreaterThan(1);
    expect(run.peakHelpers).toBeLessThanOrEqual(run.plan.helperBound);
    expect(run.limits.vcpuRefusals).toBe(0);
  });

  test('members of one group never were under reset at the same time', () => {
    for (const group of GROUPS) {
      const spans = ids.filter(id => r.account.autoScaling.get(id)?.groupName === group.name)
        .map(id => run.records.get(id)!).map(rec => [rec.start, rec.restoreRun?.end ?? rec.end ?? rec.start]);
      expect(spans).toHaveLength(2);
      const [[aStart, aEnd], [bStart, bEnd]] = spans.sort((x, y) => x[0] - y[0]);
      expect({ group: group.name, overlap: bStart < aEnd && aStart < bEnd }).toEqual({ group: group.name, overlap: false });
    }
  });

  test('the fleet machine planned, started one child reset per instance, and summarized their outcomes', () => {
    expect(run.fleet.status).toBe('SUCCEEDED');
    expect(run.fleet.visited.filter(s => !['ResetInstance', 'ReadLock'].includes(s))).toEqual(['PlanFleet', 'Summarize']);
    expect(run.fleet.visited.filter(s => s === 'ResetInstance')).toHaveLength(12);
    expect([...run.records.keys()].sort()).toEqual([...ids].sort());
    expect([...run.records.values()].every(child => child.parent === run.fleet.arn)).toBe(true);
    expect(run.summary.counts).toEqual({ 'succeeded': 9, 'planned': 0, 'refused': 0, 'failed': 3, 'not-started': 0 });
    expect(run.summary.selection).toBe('ids');
  });

  test('a wave starts only once every child of the previous wave has ended', () => {
    const waves = run.plan.waves.map(w => w.instanceIds.map(id => run.records.get(id)!));
    expect(waves.length).toBeGreaterThan(1);
    for (let i = 1; i < waves.length; i++) {
      const previousEnd = Math.max(...waves[i - 1].map(c => c.end!));
      expect(Math.min(...waves[i].map(c => c.start))).toBeGreaterThanOrEqual(previousEnd);
    }
  });

  test('an aborted instance is back (its restore ended) before the next wave starts: the fleet never has more down than its bounds', () => {
    const aborted = run.records.get(ids[0])!;
    expect(aborted.status).toBe('ABORTED');
    expect(aborted.restoreRun?.status).toBe('SUCCEEDED');
    const wave = run.plan.waves.findIndex(w => w.instanceIds.includes(ids[0]));
    const next = run.plan.waves[wave + 1];
    expect(next).toBeDefined();
    const nextStart = Math.min(...next.instanceIds.map(id => run.records.get(id)!.start));
    expect(nextStart).toBeGreaterThanOrEqual(aborted.restoreRun!.end!);
    expect(run.outcomes.find(o => o.instanceId === ids[0])).not.toHaveProperty('restorePending');
    // Its iteration read the lock until the restore released it, and ended within a poll (30 s) of that.
    const reads = run.fleet.spans.filter(span => span.state === 'ReadLock' && span.thread.endsWith(`iteration[${ids[0]}]`));
    expect(reads.length).toBeGreaterThan(3);
    expect(reads[reads.length - 1].end - aborted.restoreRun!.end!).toBeGreaterThanOrEqual(0);
    expect(reads[reads.length - 1].end - aborted.restoreRun!.end!).toBeLessThan(31_000);
  });

  test('each child was started and followed as the fleet machine\'s role, and IAM allowed it', () => {
    const role = r.account.iam.roleOfFunction(sample.fleet.logicalId).logicalId;
    const calls = r.iam.records.filter(rec => rec.role === role);
    expect(calls.filter(c => c.call === 'states:StartExecution')).toHaveLength(12);
    expect(calls.filter(c => c.call === 'states:DescribeExecution')).toHaveLength(12);
    expect(calls.filter(c => c.call === 'dynamodb:GetItem').length).toBeGreaterThanOrEqual(3);
    expect(calls.filter(c => c.denied)).toEqual([]);
    expect(r.iam.mistakes).toEqual([]);
  });

  test('a reset of as many instances as one fleet may take keeps every state\'s data within Step Functions\' 256 KiB', () => {
    const perInstance = fleetBytesPerInstance(run.fleet, ids.length);
    process.stdout.write(`fleet reset: ${Math.round(perInstance)} bytes per instance at most: ${MAX_FLEET_TARGETS} instances ${Math.round(perInstance * MAX_FLEET_TARGETS / 1024)} KiB of 256\n`);
    expect(perInstance * MAX_FLEET_TARGETS).toBeLessThan(STATE_DATA_LIMIT_BYTES);
  });

  test('throttled EC2 calls were absorbed by counted retries', () => {
    expect(run.limits.throttled).toBeGreaterThan(0);
    expect(run.retries).toBeGreaterThanOrEqual(1);
  });
});

describe('a fleet reset selected by tag, as a dry run', () => {
  let r: Rehearsal;
  let tagged: string[];
  let fleet: Awaited<ReturnType<Rehearsal['fleet']>>;

  beforeAll(async () => {
    r = new Rehearsal(sample);
    enforceEc2Limits(r.account, { vcpuQuota: 256 });
    tagged = ['us-east-1a', 'us-east-1b', 'us-east-1c'].map(az => windowsTarget(r.account, { availabilityZone: az, tags: { keyPair: 'leaked-2026' } }).instanceId);
    // Refused by their own preflights: a member of an Auto Scaling group without the acknowledgement
    // that puts it into Standby, and an instance in a zone the rescue VPC does not cover.
    tagged.push(windowsTarget(r.account, { tags: { keyPair: 'leaked-2026' }, autoScalingGroup: 'api' }).instanceId);
    tagged.push(windowsTarget(r.account, { availabilityZone: 'us-east-1d', tags: { keyPair: 'leaked-2026' } }).instanceId);
    windowsTarget(r.account, { tags: { keyPair: 'other' } });
    fleet = await r.fleet({ targets: { tagKey: 'keyPair', tagValues: ['leaked-2026'] }, method: 'offline', dryRun: true });
  }, 300_000);

  afterAll(() => r.dispose());

  test('the selector is resolved at start and recorded; only the tagged instances are planned', () => {
    const summary = fleet.output as FleetSummary;
    expect(fleet.status).toBe('SUCCEEDED');
    expect(summary.selection).toBe('tag keyPair=leaked-2026');
    expect(summary.dryRun).toBe(true);
    expect(summary.instances.map(i => i.instanceId).sort()).toEqual([...tagged].sort());
    expect(summary.plan.waves.flatMap(w => w.instanceIds).sort()).toEqual([...tagged].sort());
    expect(summary.plan.expectedMinutes).toBeGreaterThan(0);
  });

  test('each instance gets its dry-run plan, or its preflight\'s named refusal', () => {
    const summary = fleet.output as FleetSummary;
    const byId = new Map(summary.instances.map(i => [i.instanceId, i]));
    for (const id of tagged.slice(0, 3)) {
      expect(byId.get(id)).toMatchObject({ outcome: 'planned', output: { instanceId: id, method: 'offline', dryRun: true } });
    }
    expect(byId.get(tagged[3])).toMatchObject({ outcome: 'refused', error: ERRORS.autoScalingMember, cause: expect.stringMatching(/auto-scaling-standby/) });
    expect(byId.get(tagged[4])).toMatchObject({ outcome: 'refused', error: ERRORS.azNotCovered, cause: expect.stringMatching(/us-east-1d/) });
    expect(summary.counts).toMatchObject({ planned: 3, refused: 2 });
  });

  test('a dry run of as many instances as one may take keeps every state\'s data within Step Functions\' 256 KiB', () => {
    // A planned instance carries its whole dry-run plan: a dry run takes fewer instances than a reset.
    const perInstance = fleetBytesPerInstance(fleet, tagged.length);
    process.stdout.write(`fleet dry run: ${Math.round(perInstance)} bytes per instance at most: ${MAX_DRY_RUN_TARGETS} instances ${Math.round(perInstance * MAX_DRY_RUN_TARGETS / 1024)} KiB of 256\n`);
    expect(perInstance * MAX_DRY_RUN_TARGETS).toBeLessThan(STATE_DATA_LIMIT_BYTES);
  });

  test('nothing changed (but the start of each instance\'s dry-run execution)', () => {
    expect(changesMade(r).filter(change => change !== 'states:StartExecution')).toEqual([]);
    expect(changesMade(r).filter(change => change === 'states:StartExecution')).toHaveLength(tagged.length);
  });
});

describe('a fleet reset whose selector matches nothing', () => {
  test('fails with FleetSelectionEmpty before starting any reset', async () => {
    const r = new Rehearsal(sample);
    try {
      windowsTarget(r.account, { tags: { keyPair: 'other' } });
      const fleet = await r.fleet({ targets: { tagKey: 'keyPair', tagValues: ['leaked-2026'] }, method: 'offline' });
      expect({ status: fleet.status, error: fleet.error }).toEqual({ status: 'FAILED', error: ERRORS.fleetSelectionEmpty });
      expect(fleet.cause).toMatch(/keyPair/);
      expect(r.childrenOf(fleet)).toEqual([]);
    } finally {
      r.dispose();
    }
  }, 120_000);
});

describe('a fleet reset its operator stops in the middle of a wave', () => {
  let r: Rehearsal;
  let ids: string[];
  let baselines: ReturnType<typeof baselineOf>[];
  let fleet: Awaited<ReturnType<Rehearsal['fleet']>>;

  beforeAll(async () => {
    r = new Rehearsal(sample);
    enforceEc2Limits(r.account, { vcpuQuota: 256 });
    ids = fleetTargets(r, 4, []);
    baselines = ids.map(id => baselineOf(r.account, id));
    fleet = r.start('fleet', { targets: ids, method: 'offline' });
    // Six minutes in: every target is stopped, its root volume on its helper or on its way there.
    r.stopAt(fleet, fleet.start + 6 * 60_000);
    await r.finished();
  }, 300_000);

  afterAll(() => r.dispose());

  test('the fleet and every running child are stopped, and each child\'s restore puts its instance back', () => {
    expect(fleet.status).toBe('ABORTED');
    expect(fleet.end! - fleet.start).toBe(6 * 60_000);
    const children = r.childrenOf(fleet);
    expect(children.map(c => c.status)).toEqual(['ABORTED', 'ABORTED', 'ABORTED', 'ABORTED']);
    expect(children.map(c => c.restoreRun?.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
  });

  test('every instance keeps the invariants of a single reset: nothing is left stopped, detached or running', () => {
    for (const base of baselines) expectInvariantsHold(r, base);
  });
});
