import { ERRORS } from '../../../src/workflow/private/contracts';
import {
  DEFAULT_FLEET_BOUNDS, FleetBounds, FleetPlanInput, FleetTarget, groupBound, helperBound, largestHelperType, MAX_DRY_RUN_TARGETS, planFleet,
  validateFleetSize,
} from '../../../src/workflow/private/fleet-plan';

const AZS = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];

function input(targets: FleetTarget[], overrides: Partial<FleetPlanInput> = {}): FleetPlanInput {
  return { targets, groups: {}, bounds: DEFAULT_FLEET_BOUNDS, helpers: true, helperVcpus: 2, minutesPerReset: 11, ...overrides };
}

function standalone(count: number, azs = AZS): FleetTarget[] {
  return Array.from({ length: count }, (_, i) => ({ instanceId: `i-${String(i).padStart(17, '0')}`, availabilityZone: azs[i % azs.length] }));
}

/** A deterministic pseudo-random generator (Park–Miller), so a failing seed can be replayed. */
function random(seed: number): () => number {
  let state = seed % 2147483647 || 1;
  return () => {
    state = (state * 48271) % 2147483647;
    return (state - 1) / 2147483646;
  };
}

function randomFleet(seed: number): FleetPlanInput {
  const next = random(seed);
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const groupCount = int(0, 5);
  const groups: Record<string, { minSize: number; desiredCapacity: number }> = {};
  for (let g = 0; g < groupCount; g++) {
    const minSize = int(0, 4);
    groups[`asg-${g}`] = { minSize, desiredCapacity: minSize + int(0, 4) };
  }
  const targets: FleetTarget[] = Array.from({ length: int(1, 150) }, (_, i) => {
    const group = groupCount > 0 && next() < 0.4 ? `asg-${int(0, groupCount - 1)}` : undefined;
    return { instanceId: `i-${seed}-${i}`, availabilityZone: AZS[int(0, 2)], ...(group ? { autoScalingGroupName: group } : {}) };
  });
  const bounds: FleetBounds = {
    maxDown: int(1, 60), maxDownPerAz: int(1, 30), maxDownPerGroup: int(1, 3), maxHelpers: int(1, 60), maxTargets: 150,
  };
  const quota = next() < 0.5 ? { limit: int(2, 300), inUse: int(0, 100) } : undefined;
  const helpers = next() < 0.8;
  // Helpers of 1 to 8 vCPUs, or of vCPUs unknown (EC2 described none of the helper types).
  const helperVcpus = next() < 0.1 ? undefined : [1, 2, 4, 8][int(0, 3)];
  return { targets, groups, bounds, helpers, helperVcpus, quota, minutesPerReset: 11 };
}

describe('planFleet', () => {
  test('100 standalone instances over 3 AZs with the default bounds: 2 waves of 50, expected 22 minutes', () => {
    // WHEN
    const plan = planFleet(input(standalone(100)));

    // THEN
    expect(plan.waves.map(w => w.instanceIds.length)).toEqual([50, 50]);
    expect(plan.maxDownAtOnce).toBe(50);
    expect(plan.expectedMinutes).toBe(22);
  });

  test('the per-AZ bound holds when one AZ holds most of the fleet', () => {
    // GIVEN 60 instances in one AZ, 10 in another; at most 25 per AZ at once
    const targets = [...standalone(60, ['eu-west-1a']), ...standalone(10, ['eu-west-1b']).map(t => ({ ...t, instanceId: `${t.instanceId}b` }))];

    // WHEN
    const plan = planFleet(input(targets));

    // THEN three waves: 25+10, 25, 10 of eu-west-1a
    expect(plan.waves.map(w => w.instanceIds.length)).toEqual([35, 25, 10]);
  });

  test('members of an Auto Scaling group go one per wave by default, so the group keeps MinSize InService', () => {
    // GIVEN a group of 4 with MinSize 2 and 3 other instances
    const members = ['i-a1', 'i-a2', 'i-a3', 'i-a4'].map(instanceId => ({ instanceId, availabilityZone: AZS[0], autoScalingGroupName: 'web' }));
    const plan = planFleet(input([...members, ...standalone(3)], { groups: { web: { minSize: 2, desiredCapacity: 4 } } }));

    // THEN
    expect(plan.perGroupBound).toEqual({ web: 1 });
    expect(plan.waves.map(w => w.instanceIds.filter(id => id.startsWith('i-a')).length)).toEqual([1, 1, 1, 1]);
    expect(plan.waves[0].instanceIds).toHaveLength(4);
  });

  test('maxDownPerGroup above 1 is capped by desired capacity minus MinSize', () => {
    expect(groupBound({ minSize: 2, desiredCapacity: 5 }, 10)).toBe(3);
    expect(groupBound({ minSize: 2, desiredCapacity: 5 }, 2)).toBe(2);
    // At its minimum: one at a time (the child lowers MinSize by one with auto-scaling-min-size, or refuses).
    expect(groupBound({ minSize: 3, desiredCapacity: 3 }, 5)).toBe(1);
  });

  test('the helper bound comes from the vCPU quota headroom when it is below maxHelpers', () => {
    // GIVEN a quota of 64 vCPUs with 40 in use: room for 12 helpers of 2 vCPUs
    const plan = planFleet(input(standalone(30), { quota: { limit: 64, inUse: 40 } }));

    // THEN
    expect(plan.helperBound).toBe(12);
    expect(plan.helperBoundReason).toContain('quota 64, 40 in use');
    expect(plan.waves.map(w => w.instanceIds.length)).toEqual([12, 12, 6]);
  });

  test('the online method needs no helper, so the quota does not bound it', () => {
    const plan = planFleet(input(standalone(80), { helpers: false, quota: { limit: 4, inUse: 4 } }));
    expect(plan.helperBound).toBe(0);
    expect(plan.maxDownAtOnce).toBe(50);
  });

  test('a helper of 4 vCPUs halves the helper bound of 2-vCPU helpers for the same quota headroom', () => {
    // GIVEN 64 vCPUs of quota, 6 in use: 58 vCPUs of room
    const quota = { limit: 64, inUse: 6 };

    // WHEN the helpers are t3.medium (2 vCPUs), then t3.xlarge (4 vCPUs) as EC2 reports them
    const small = planFleet(input(standalone(60), { quota, helperVcpus: 2, helperVcpusSource: 'ec2' }));
    const large = planFleet(input(standalone(60), { quota, helperVcpus: 4, helperVcpusSource: 'ec2' }));

    // THEN 29 helpers of 2, 14 of 4 (58 / 4, rounded down), fewer targets down at once, and the plan says which size it counted and why
    expect([small.helperBound, large.helperBound]).toEqual([29, 14]);
    expect([small.maxDownAtOnce, large.maxDownAtOnce]).toEqual([29, 14]);
    expect(large.waves).toHaveLength(5);
    expect(large).toMatchObject({
      helperVcpus: 4,
      helperVcpusSource: 'ec2',
      helperBoundReason: 'On-Demand Standard vCPU quota 64, 6 in use: room for 14 helpers of 4 vCPUs',
    });
  });

  test('the plan records the helper vCPUs only when resets launch helpers', () => {
    const plan = planFleet(input(standalone(3), { helpers: false, helperVcpus: 2, helperVcpusSource: 'prop' }));
    expect(plan).not.toHaveProperty('helperVcpus');
    expect(plan).not.toHaveProperty('helperVcpusSource');
  });

  test('helper vCPUs unknown (EC2 describes none of the helper types): maxHelpers applies and the reason says so', () => {
    expect(helperBound({ bounds: { ...DEFAULT_FLEET_BOUNDS, maxHelpers: 7 }, helpers: true, quota: { limit: 8, inUse: 0 } })).toEqual({
      bound: 7,
      reason: 'maxHelpers 7 (EC2 describes none of the helper instance types in this Region, so their vCPUs are unknown)',
    });
  });

  test('a dry run takes at most MAX_DRY_RUN_TARGETS instances (its output holds every plan); an empty selection names its selector', () => {
    expect(() => validateFleetSize(MAX_DRY_RUN_TARGETS, DEFAULT_FLEET_BOUNDS, 'ids', true)).not.toThrow();
    expect(() => validateFleetSize(MAX_DRY_RUN_TARGETS + 1, DEFAULT_FLEET_BOUNDS, 'ids', false)).not.toThrow();
    expect(() => validateFleetSize(MAX_DRY_RUN_TARGETS + 1, DEFAULT_FLEET_BOUNDS, 'ids', true)).toThrow(expect.objectContaining({
      name: ERRORS.fleetTooManyTargets, message: expect.stringMatching(/dry run selected 51 instances, more than the 50 .*dry-run the selection in parts/),
    }));
    expect(() => validateFleetSize(0, DEFAULT_FLEET_BOUNDS, 'tag keyPair=leaked')).toThrow(expect.objectContaining({
      name: ERRORS.fleetSelectionEmpty, message: expect.stringMatching(/\(tag keyPair=leaked matched none that is not terminated\)/),
    }));
  });

  test('without a readable quota, maxHelpers applies and the reason says so', () => {
    expect(helperBound({ bounds: { ...DEFAULT_FLEET_BOUNDS, maxHelpers: 7 }, helperVcpus: 2, helpers: true }))
      .toEqual({ bound: 7, reason: 'maxHelpers 7 (the vCPU quota could not be read)' });
  });

  test.each([
    ['an empty selection', [] as FleetTarget[], {}, ERRORS.fleetSelectionEmpty, /selected no instance/],
    ['more targets than maxTargets', standalone(101), {}, ERRORS.fleetTooManyTargets, /101 instances, more than the 100/],
    ['no room for one helper', standalone(3), { quota: { limit: 32, inUse: 31 } }, ERRORS.fleetHelperQuotaExhausted, /room for 0 helpers/],
    ['an instance given twice', [...standalone(2), standalone(1)[0]], {}, ERRORS.invalidInput, /selected twice/],
    ['a bound of 0', standalone(2), { bounds: { ...DEFAULT_FLEET_BOUNDS, maxDownPerAz: 0 } }, ERRORS.invalidInput, /maxDownPerAz is 0/],
  ])('%s is a named error that says what to change', (_, targets, overrides, name, message) => {
    expect(() => planFleet(input(targets, overrides as Partial<FleetPlanInput>)))
      .toThrow(expect.objectContaining({ name, message: expect.stringMatching(message) }));
  });

  describe('on 300 random fleets', () => {
    const seeds = Array.from({ length: 300 }, (_, i) => i + 1);

    test.each(seeds)('seed %i: every target once, every bound held in every wave, no wave could have taken a later target', seed => {
      // GIVEN
      const fleet = randomFleet(seed);
      let plan;
      try {
        plan = planFleet(fleet);
      } catch (err) {
        // Only an exhausted quota may refuse these fleets.
        expect((err as Error).name).toBe(ERRORS.fleetHelperQuotaExhausted);
        expect(fleet.helpers).toBe(true);
        return;
      }
      const byId = new Map(fleet.targets.map(t => [t.instanceId, t]));

      // THEN every target exactly once
      const planned = plan.waves.flatMap(w => w.instanceIds);
      expect([...planned].sort()).toEqual(fleet.targets.map(t => t.instanceId).sort());

      const headroom = fleet.quota && fleet.helperVcpus !== undefined
        ? Math.floor(Math.max(0, fleet.quota.limit - fleet.quota.inUse) / fleet.helperVcpus) : Infinity;
      expect(plan.helperBound).toBe(fleet.helpers ? Math.min(fleet.bounds.maxHelpers, headroom) : 0);
      const count = (ids: string[], key: (t: FleetTarget) => string | undefined) => {
        const counts = new Map<string, number>();
        for (const id of ids) {
          const k = key(byId.get(id)!);
          if (k !== undefined) counts.set(k, (counts.get(k) ?? 0) + 1);
        }
        return counts;
      };
      const fits = (wave: string[], target: FleetTarget) =>
        wave.length < plan.maxDownAtOnce
        && (count(wave, t => t.availabilityZone).get(target.availabilityZone) ?? 0) < fleet.bounds.maxDownPerAz
        && (target.autoScalingGroupName === undefined
          || (count(wave, t => t.autoScalingGroupName).get(target.autoScalingGroupName) ?? 0) < plan.perGroupBound[target.autoScalingGroupName]);

      for (const [w, wave] of plan.waves.entries()) {
        expect(wave.instanceIds.length).toBeGreaterThan(0);
        // overall, and never more helpers than the bound
        expect(wave.instanceIds.length).toBeLessThanOrEqual(Math.min(fleet.bounds.maxDown, fleet.helpers ? plan.helperBound : Infinity));
        for (const n of count(wave.instanceIds, t => t.availabilityZone).values()) expect(n).toBeLessThanOrEqual(fleet.bounds.maxDownPerAz);
        for (const [group, n] of count(wave.instanceIds, t => t.autoScalingGroupName)) {
          const size = fleet.groups[group];
          expect(n).toBeLessThanOrEqual(fleet.bounds.maxDownPerGroup);
          // The group keeps MinSize InService, or loses one only when it is at its minimum (the child's acknowledged lowering).
          expect(n).toBeLessThanOrEqual(Math.max(1, size.desiredCapacity - size.minSize));
        }
        // First fit: no target of a later wave fits into this one (waves only grow, so it did not fit when it was placed either).
        for (const later of plan.waves.slice(w + 1).flatMap(l => l.instanceIds)) {
          expect(fits(wave.instanceIds, byId.get(later)!)).toBe(false);
        }
      }
      expect(plan.expectedMinutes).toBe(plan.waves.length * fleet.minutesPerReset);
      // Deterministic: the same fleet in another order gives the same plan.
      expect(planFleet({ ...fleet, targets: [...fleet.targets].reverse() })).toEqual(plan);
    });
  });
});

describe('largestHelperType', () => {
  test('the quota must have room for the largest type the workflow may launch, a fallback included', () => {
    expect(largestHelperType([
      { instanceType: 't3.medium', defaultVcpus: 2 },
      { instanceType: 'm5.xlarge', defaultVcpus: 4 },
      { instanceType: 'm5.large', defaultVcpus: 2 },
    ])).toEqual({ instanceType: 'm5.xlarge', defaultVcpus: 4 });
  });

  test('of types of the same size, the first (the preferred one)', () => {
    expect(largestHelperType([{ instanceType: 't3.medium', defaultVcpus: 2 }, { instanceType: 'm6i.large', defaultVcpus: 2 }]))
      .toEqual({ instanceType: 't3.medium', defaultVcpus: 2 });
  });

  test('none described: undefined', () => {
    expect(largestHelperType([])).toBeUndefined();
  });
});
