/**
 * What one offline reset costs beyond the idle stack, from a rehearsed reset (what the simulated
 * account shows it used) and the price tables of idle-cost.ts:
 * - `resetUsageOf` measures the usage: helper running time, its volume, the backup image's
 *   snapshots and how long they are kept, state transitions, Lambda invocations, logs, DynamoDB;
 * - `resetChargesOf` prices it (plain arithmetic, tested in test/build-tools/reset-cost.test.ts).
 *
 * Interface endpoint hours have their own line, `interfaceEndpointEniHours`: with on-demand
 * endpoints (the default), the endpoints this reset created, from their creation to their
 * deletion by the janitor after the grace period, each started hour billed in full; zero while
 * the rescue VPC's endpoints are always on (they are in the idle cost).
 */
import { HOURS_PER_MONTH, RESET_PRICES_US_EAST_1, STACK_PRICES_US_EAST_1 } from './idle-cost';
import { TAGS } from '../src/workflow/private/contracts';
import { BACKUP_RETENTION_ENV } from '../src/workflow/retention/expired-backup-images';
import type { SimulatedAccount } from '../test/rehearsal/account';
import type { ExecutionRecord } from '../test/rehearsal/runner';
import { SampleArtifacts, statesOf } from '../test/rehearsal/sample';

const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;

/** What one reset used. Every field is measured from a rehearsal, except where it says otherwise. */
export interface ResetUsage {
  /** Seconds the helper was in the `running` state (EC2 bills running time only). */
  readonly helperRunningSeconds: number;
  /** How many times it entered `running` (each start is billed at least a minute). */
  readonly helperStarts: number;
  /** GiB × seconds of the helper's EBS volumes, from launch to termination. */
  readonly helperVolumeGibSeconds: number;
  /**
   * GiB of the backup image's snapshots: the provisioned size, an upper bound (a first snapshot
   * stores only the blocks written; a volume with earlier snapshots, only the blocks changed since).
   */
  readonly backupSnapshotGiB: number;
  /**
   * Days the backup image is kept after a successful reset: the retention plus up to one day until
   * the daily run; undefined when backup images are kept until deleted by hand.
   */
  readonly backupKeptDays?: number;
  /** State transitions of the reset execution and of its restore, if one ran (Step Functions bills each). */
  readonly stateTransitions: number;
  readonly lambdaInvocations: number;
  /** Modelled durations (the latency table) × memory. */
  readonly lambdaGbSeconds: number;
  /** Bytes written to CloudWatch Logs: the handlers' lines, Lambda's own lines, the state machine's events. */
  readonly logBytes: number;
  readonly dynamodbWrites: number;
  readonly dynamodbReads: number;
  /**
   * Interface endpoint ENI-hours billed for this reset: for each endpoint it
   * created, its ENIs (one per subnet) × the hours from its creation to its deletion (the grace
   * period included), every started hour counted in full ("Each partial VPC endpoint-hour consumed
   * is billed as a full hour", AWS PrivateLink pricing). Zero while the endpoints are always on:
   * their hours are in the idle cost.
   */
  readonly interfaceEndpointEniHours: number;
  /** Minutes the longest-lived of those endpoints existed (0 when none was created). */
  readonly interfaceEndpointOpenMinutes?: number;
}

/** One line of a reset's cost. */
export interface ResetCharge {
  readonly resource: string;
  readonly detail: string;
  readonly usd: number;
}

/**
 * Assumptions for what the simulated account does not record: Lambda's own log lines (START, END,
 * REPORT) per invocation, and one state machine log event (level ALL, no execution data) per
 * history event.
 */
export const LOG_ASSUMPTIONS = { lambdaPlatformBytesPerInvocation: 350, stateMachineBytesPerEvent: 300 } as const;

/** What the rehearsal of one reset used (`account` and `logs` of its rehearsal, after the run). */
export function resetUsageOf(
  rehearsal: { readonly account: SimulatedAccount; readonly logs: readonly string[] },
  record: ExecutionRecord,
  sample: SampleArtifacts,
  prices = RESET_PRICES_US_EAST_1,
): ResetUsage {
  const { account } = rehearsal;
  const executions = [record, ...(record.restoreRun ? [record.restoreRun] : [])];
  const helpers = [...account.instances.values()].filter(i => i.isHelper && i.tags[TAGS.execution] === record.name);
  if (helpers.length > 1) throw new Error(`Execution ${record.name} launched ${helpers.length} helpers; one is expected.`);
  if (helpers.some(h => h.instanceType !== prices.helperInstanceType)) {
    throw new Error(`The price table knows ${prices.helperInstanceType} helpers only; the rehearsal launched ${helpers.map(h => h.instanceType).join(', ')}.`);
  }

  let helperRunningSeconds = 0;
  let helperStarts = 0;
  let helperVolumeGibSeconds = 0;
  for (const helper of helpers) {
    const changes = account.moments.filter(m => m.what.startsWith(`${helper.instanceId}:`)).map(m => ({ at: m.at, state: m.what.split(':')[1] }));
    changes.forEach((change, i) => {
      if (change.state !== 'running') return;
      helperStarts++;
      const until = changes[i + 1]?.at ?? account.now();
      helperRunningSeconds += (until - change.at) / 1000;
    });
    // Its volumes exist from the launch to the termination (DeleteOnTermination).
    const launched = changes[0]?.at ?? account.now();
    const terminated = changes.find(c => c.state === 'terminated')?.at ?? account.now();
    const volumes = [...account.volumes.values()].filter(v => v.tags[TAGS.role] === 'helper' && v.tags[TAGS.execution] === record.name);
    helperVolumeGibSeconds += volumes.reduce((sum, v) => sum + v.sizeGiB, 0) * (terminated - launched) / 1000;
  }

  const backup = [...account.images.values()].find(i => i.tags[TAGS.execution] === record.name && i.tags[TAGS.role] === 'backup');
  const backupSnapshotGiB = (backup?.snapshotIds ?? [])
    .map(id => account.snapshots.get(id))
    .reduce((sum, snapshot) => sum + (snapshot ? account.volumes.get(snapshot.volumeId)?.sizeGiB ?? 0 : 0), 0);
  const retention = [...sample.functions.values()].find(f => f.handlerFile.endsWith('delete-expired-backup-images.lambda.ts'));
  const backupKeptDays = retention ? Number(retention.environment[BACKUP_RETENTION_ENV.retentionSeconds]) / 86400 + 1 : undefined;

  const stateTransitions = executions.reduce((sum, e) => sum + e.events.filter(ev => ['StateEntered', 'StateRetried'].includes(ev.type)).length, 0);
  const invocations = executions.flatMap(e => e.spans.filter(s => s.kind === 'task'));
  const functionOfState = new Map([sample.reset, sample.restore].flatMap(m => statesOf(m.definition))
    .map(({ name, state }) => [name, String(state.Resource ?? '').split(':').pop() ?? '']));
  const memoryOf = (state: string): number => sample.template.Resources[functionOfState.get(state) ?? '']?.Properties?.MemorySize ?? 128;
  const lambdaGbSeconds = invocations.reduce((sum, s) => sum + ((s.end - s.start) / 1000) * (memoryOf(s.state) / 1024), 0);
  const historyEvents = executions.reduce((sum, e) => sum + e.events.length, 0);
  const logBytes = rehearsal.logs.reduce((sum, line) => sum + Buffer.byteLength(line), 0)
    + invocations.length * LOG_ASSUMPTIONS.lambdaPlatformBytesPerInvocation
    + historyEvents * LOG_ASSUMPTIONS.stateMachineBytesPerEvent;
  const dynamodb = account.calls.filter(c => c.service === 'dynamodb' && !c.error);
  // On-demand endpoints: the ones this reset created, until the janitor deleted them (or now).
  const endpoints = [...account.vpcEndpoints.values()].filter(e => e.tags[TAGS.role] === 'endpoint' && e.tags[TAGS.execution] === record.name);
  const openMs = endpoints.map(e => (e.deleteRequestedAt ?? account.now()) - e.createdAt);

  return {
    helperRunningSeconds,
    helperStarts,
    helperVolumeGibSeconds,
    backupSnapshotGiB,
    backupKeptDays,
    stateTransitions,
    lambdaInvocations: invocations.length,
    lambdaGbSeconds,
    logBytes,
    dynamodbWrites: dynamodb.filter(c => /^(Put|Update|Delete)Item$/.test(c.operation)).length,
    dynamodbReads: dynamodb.filter(c => /^(Get)Item$/.test(c.operation)).length,
    interfaceEndpointEniHours: endpoints.reduce((sum, e, i) => sum + e.subnetIds.length * Math.ceil(openMs[i] / 3_600_000), 0),
    interfaceEndpointOpenMinutes: openMs.length > 0 ? Math.max(...openMs) / 60_000 : 0,
  };
}

/** The charges of one reset's usage, line by line. */
export function resetChargesOf(u: ResetUsage, prices = RESET_PRICES_US_EAST_1, stackPrices = STACK_PRICES_US_EAST_1): ResetCharge[] {
  const minutes = (seconds: number) => `${(seconds / 60).toFixed(1)} min`;
  const billedHelperSeconds = Math.max(u.helperRunningSeconds, u.helperStarts * prices.helperMinimumSeconds);
  // T3 Unlimited: CPU above the baseline is charged; at worst the helper runs flat out all the time.
  const surplusVcpuHours = (billedHelperSeconds / 3600) * prices.t3MediumVcpus * (1 - prices.t3MediumBaseline);
  const snapshotMonths = (u.backupKeptDays ?? DAYS_PER_MONTH) / DAYS_PER_MONTH;
  return [
    {
      resource: `helper ${prices.helperInstanceType} Windows`,
      detail: `${minutes(u.helperRunningSeconds)} running, ${u.helperStarts} start(s), per second with a 1-minute minimum`,
      usd: (billedHelperSeconds / 3600) * prices.helperHour,
    },
    {
      resource: 'helper CPU credits above the T3 baseline (worst case)',
      detail: `at most ${surplusVcpuHours.toFixed(3)} vCPU-hours, if the helper ran at 100 % throughout`,
      usd: surplusVcpuHours * prices.t3SurplusVcpuHour,
    },
    {
      resource: 'helper root volume (gp3)',
      detail: `${(u.helperVolumeGibSeconds / 3600).toFixed(1)} GiB-hours`,
      usd: (u.helperVolumeGibSeconds / 3600 / HOURS_PER_MONTH) * prices.gp3GbMonth,
    },
    {
      resource: 'interface endpoints opened for the reset (on demand)',
      detail: u.interfaceEndpointEniHours === 0
        ? '0 ENI-hours: always-on endpoints are in the idle cost'
        : `${u.interfaceEndpointEniHours} ENI-hours: open ${(u.interfaceEndpointOpenMinutes ?? 0).toFixed(0)} min with the grace period, ` +
          'every started hour billed in full; a second reset within the grace period reuses them',
      usd: u.interfaceEndpointEniHours * prices.interfaceEndpointEniHour,
    },
    {
      resource: 'backup image snapshots',
      detail: u.backupKeptDays === undefined
        ? `at most ${u.backupSnapshotGiB} GiB, per month until you delete the image`
        : `at most ${u.backupSnapshotGiB} GiB for ${u.backupKeptDays} days (the retention, plus up to a day until the daily run)`,
      usd: u.backupSnapshotGiB * snapshotMonths * prices.snapshotGbMonth,
    },
    {
      resource: 'Step Functions state transitions',
      detail: `${u.stateTransitions} transitions`,
      usd: u.stateTransitions * prices.stateTransition,
    },
    {
      resource: 'Lambda',
      detail: `${u.lambdaInvocations} invocations, ${u.lambdaGbSeconds.toFixed(1)} GB-seconds (modelled durations)`,
      usd: u.lambdaInvocations * stackPrices.lambdaRequest + u.lambdaGbSeconds * stackPrices.lambdaGbSecond,
    },
    {
      resource: 'CloudWatch Logs ingestion',
      detail: `${(u.logBytes / 1024).toFixed(0)} KiB`,
      usd: (u.logBytes / 1e9) * stackPrices.logIngestionGb,
    },
    {
      resource: 'DynamoDB lock and journal',
      detail: `${u.dynamodbWrites} writes, ${u.dynamodbReads} reads`,
      usd: u.dynamodbWrites * prices.dynamodbWrite + u.dynamodbReads * prices.dynamodbRead,
    },
  ];
}
