import { fleetTargets, rehearseFleet, FleetRehearsal } from './fleet';
import { baselineOf, expectInvariantsHold } from './invariants';
import { Fault, Rehearsal } from './runner';
import { synthesizeSample } from './sample';
import { ERRORS } from '../../src/workflow/private/contracts';

/*
 * A fleet reset at a small scale (the 100-instance run is `npx projen bench`): 12 instances over
 * three AZs, four Auto Scaling groups of two (two groups at their minimum), faults in three
 * instances' resets (a helper that never gets ready, the offline fix failing on the helper
 * mid-batch, an execution aborted while the volume is on its helper), a vCPU quota that leaves
 * room for 4 helpers, and EC2 token buckets small enough to throttle.
 */

const sample = synthesizeSample();
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
      [ids[9], [{ machine: 'reset', state: 'CheckHelperReady', kind: 'hard' }]],
      [ids[10], [{ machine: 'reset', state: 'CheckOfflineFix', kind: 'hard' }]],
      [ids[11], [{ machine: 'reset', state: 'SendOfflineFix', kind: 'abort' }]],
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
    expect(ids.slice(0, 9).map(id => outcome[id])).toEqual(Array(9).fill('succeeded'));
    expect(ids.slice(9).map(id => outcome[id])).toEqual(['failed', 'failed', 'failed']);
    expect(run.outcomes.find(o => o.instanceId === ids[11])!.error).toBe('ABORTED');
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

  test('throttled EC2 calls were absorbed by counted retries', () => {
    expect(run.limits.throttled).toBeGreaterThan(0);
    expect(run.retries).toBeGreaterThanOrEqual(1);
  });
});
