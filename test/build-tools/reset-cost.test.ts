import { HOURS_PER_MONTH, RESET_PRICES_US_EAST_1, STACK_PRICES_US_EAST_1 } from '../../build-tools/idle-cost';
import { rehearseReset } from '../../build-tools/rehearse';
import { resetChargesOf, ResetUsage, resetUsageOf } from '../../build-tools/reset-cost';
import { synthesizeSample } from '../rehearsal/sample';

const P = RESET_PRICES_US_EAST_1;
const USAGE: ResetUsage = {
  helperRunningSeconds: 600,
  helperStarts: 1,
  helperVolumeGibSeconds: 30 * 720,
  backupSnapshotGiB: 30,
  backupKeptDays: 15,
  stateTransitions: 200,
  lambdaInvocations: 50,
  lambdaGbSeconds: 10,
  logBytes: 200_000,
  dynamodbWrites: 2,
  dynamodbReads: 1,
  interfaceEndpointEniHours: 0,
};

describe('reset-cost: the arithmetic', () => {
  const usd = (usage: ResetUsage, resource: string) => resetChargesOf(usage).find(c => c.resource.startsWith(resource))!.usd;

  test('each line is its usage times its price', () => {
    expect(usd(USAGE, 'helper t3.medium')).toBeCloseTo(600 / 3600 * 0.06, 9);
    expect(usd(USAGE, 'helper CPU credits')).toBeCloseTo(600 / 3600 * 2 * 0.8 * P.t3SurplusVcpuHour, 9);
    expect(usd(USAGE, 'helper root volume')).toBeCloseTo(30 * 720 / 3600 / HOURS_PER_MONTH * P.gp3GbMonth, 12);
    expect(usd(USAGE, 'backup image snapshots')).toBeCloseTo(30 * (15 / (HOURS_PER_MONTH / 24)) * 0.05, 9);
    expect(usd(USAGE, 'Step Functions')).toBeCloseTo(200 * 0.025 / 1000, 12);
    expect(usd(USAGE, 'Lambda')).toBeCloseTo(50 * STACK_PRICES_US_EAST_1.lambdaRequest + 10 * STACK_PRICES_US_EAST_1.lambdaGbSecond, 12);
    expect(usd(USAGE, 'CloudWatch Logs')).toBeCloseTo(200_000 / 1e9 * 0.5, 12);
    expect(usd(USAGE, 'DynamoDB')).toBeCloseTo(2 * P.dynamodbWrite + P.dynamodbRead, 15);
    expect(usd(USAGE, 'interface endpoints')).toBe(0);
  });

  test('a 30 GiB backup kept 14 days (plus a day) costs about $0.74; kept until deleted, $1.50 a month', () => {
    expect(usd(USAGE, 'backup image snapshots')).toBeCloseTo(0.74, 2);
    expect(usd({ ...USAGE, backupKeptDays: undefined }, 'backup image snapshots')).toBeCloseTo(1.5, 9);
  });

  test('a short helper is billed a minute per start; endpoint hours are priced per ENI-hour', () => {
    expect(usd({ ...USAGE, helperRunningSeconds: 20, helperStarts: 2 }, 'helper t3.medium')).toBeCloseTo(120 / 3600 * 0.06, 9);
    expect(usd({ ...USAGE, interfaceEndpointEniHours: 3 }, 'interface endpoints')).toBeCloseTo(3 * 0.01, 9);
  });
});

describe('reset-cost: the usage of a rehearsed offline reset', () => {
  test('one helper start, its running time and volume, the backup\'s 30 GiB kept 15 days, the transitions and invocations', async () => {
    // GIVEN
    const sample = synthesizeSample();
    const offline = await rehearseReset(sample, 'offline');

    // WHEN
    const usage = resetUsageOf(offline.rehearsal, offline.record, sample);

    // THEN
    const execution = ((offline.record.end ?? 0) - offline.record.start) / 1000;
    expect(usage.helperStarts).toBe(1);
    expect(usage.helperRunningSeconds).toBeGreaterThan(180);
    expect(usage.helperRunningSeconds).toBeLessThan(execution);
    expect(usage.helperVolumeGibSeconds / 30).toBeGreaterThan(usage.helperRunningSeconds);
    expect(usage).toMatchObject({ backupSnapshotGiB: 30, backupKeptDays: 15 });
    // On-demand endpoints: three, one ENI each (the reset's zone), open for the reset and the 15-minute grace period: one started hour each.
    expect(usage.interfaceEndpointEniHours).toBe(3);
    expect(usage.interfaceEndpointOpenMinutes).toBeGreaterThan(15 + execution / 60 / 2);
    expect(usage.interfaceEndpointOpenMinutes).toBeLessThan(60);
    expect(usage.stateTransitions).toBeGreaterThan(offline.record.visited.length);
    expect(usage.lambdaInvocations).toBe(offline.record.spans.filter(s => s.kind === 'task').length);
    expect(usage.dynamodbWrites).toBeGreaterThanOrEqual(2);
    // A synthesis and a whole rehearsed reset: a minute alone, longer on a loaded 2-core CI machine.
  }, 300_000);
});
