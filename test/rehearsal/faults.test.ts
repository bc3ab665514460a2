import { ACCESS_DENIED_CODES } from './account';
import { baselineOf, describeExecutions, invariantViolations, leftBehindViolations, TargetBaseline } from './invariants';
import { ExecutionRecord, Fault, MachineKind, Rehearsal } from './runner';
import { SampleArtifacts, synthesizeSample, taskStatesOf } from './sample';
import { managedTarget, windowsTarget } from './world';
import { ERRORS } from '../../src/workflow/private/contracts';
import { takeLease } from '../../src/workflow/private/endpoint-leases';

/**
 * Fault injection generated from the synthesized definitions: for every Task state of both state
 * machines, (a) a throttle that clears, (b) a hard failure, (c) an abort and (d) a timeout while in
 * that state. Each run reaches the state from a base scenario that visits it (found by running
 * the bases), and ends with the invariants checked. A restore that does not finish (stopped, timed
 * out, failed), and a restore whose EventBridge event is lost, are left to the reconciler, which
 * must converge every time (I8).
 */

// Synthesized at collection time, once for the file: the cases are generated from the definitions.
const sample: SampleArtifacts = synthesizeSample();
const KINDS: Fault['kind'][] = ['throttle', 'hard', 'abort', 'timeout'];
const TASKS: Array<[MachineKind, string]> = [
  ...taskStatesOf(sample.reset.definition).map(s => ['reset', s] as [MachineKind, string]),
  ...taskStatesOf(sample.restore.definition).map(s => ['restore', s] as [MachineKind, string]),
];
const CASES = TASKS.flatMap(([machine, state]) => KINDS.map(kind => ({ machine, state, kind }) as Fault));

interface Base {
  /** Builds the world and returns the reset's input and the target. */
  readonly build: (r: Rehearsal) => { input: unknown; instanceId: string };
  /** Faults the base itself needs (the abort that makes the restore machine run with a journal). */
  readonly faults: Fault[];
  readonly status: ExecutionRecord['status'];
  readonly error?: string;
}

/** The bases' targets have their roots at each of WINDOWS_ROOT_DEVICE_NAMES (world.ts), so no fault run assumes one. */
const BASES: Record<string, Base> = {
  'offline reset of a running Auto Scaling member with an encrypted root': {
    build: r => {
      const t = windowsTarget(r.account, { autoScalingGroup: 'web', encrypted: true, rootDeviceName: 'xvda' });
      return { input: { instanceId: t.instanceId, method: 'offline', acknowledge: ['auto-scaling-standby'] }, instanceId: t.instanceId };
    },
    faults: [],
    status: 'SUCCEEDED',
  },
  'online reset': {
    build: r => {
      const t = managedTarget(r.account);
      return { input: { instanceId: t.instanceId, method: 'online' }, instanceId: t.instanceId };
    },
    faults: [],
    status: 'SUCCEEDED',
  },
  'offline reset aborted while the volume is on the helper': {
    build: r => {
      const t = windowsTarget(r.account, { rootDeviceName: '/dev/xvda' });
      return { input: { instanceId: t.instanceId }, instanceId: t.instanceId };
    },
    faults: [{ machine: 'reset', state: 'SendOfflineFix', kind: 'abort' }],
    status: 'ABORTED',
  },
  'offline reset whose fix fails on the helper': {
    build: r => {
      r.account.failingDocuments.set('AWS-RunPowerShellScript', 'Offline password fix failed: the disk xvdf could not be brought online.');
      const t = windowsTarget(r.account);
      return { input: { instanceId: t.instanceId }, instanceId: t.instanceId };
    },
    faults: [],
    status: 'FAILED',
    error: ERRORS.commandFailed,
  },
};

const ACCESS_DENIED = new Set(Object.values(ACCESS_DENIED_CODES));
/**
 * Long enough after the last execution for a lease the janitor releases (a reset whose restore did
 * not) to pass the sample's 15-minute grace period, the janitor's next tick and the deletion.
 */
const PAST_GRACE_SECONDS = 35 * 60;
const stats = { runs: 0, executions: 0, faults: 0, violations: 0 };
/** Runs where a restore did not finish, or never started (its event lost): the reconciler's work. */
const reconciler = { runs: 0, restoreAborted: 0, restoreTimedOut: 0, restoreFailed: 0, eventLost: 0, converged: 0 };
/** A restore rule pattern no event matches: the EventBridge event is lost. */
const EVENT_LOST = { source: ['rehearsal.never'] };

/** Whether the reconciler put the instance back: a restore it started succeeded, and no journal is left. */
function reconcilerConverged(r: Rehearsal, instanceId: string): boolean {
  const started = r.executions.filter(e => e.machine === 'restore' && e.name.startsWith('reconcile-'));
  const journalLeft = [...r.account.tables.values()].some(items => items.has(JSON.stringify({ instanceId: { S: instanceId } })));
  return started.some(e => e.status === 'SUCCEEDED') && !journalLeft;
}

describe('rehearsal: faults injected in every Task state', () => {
  /** The first base scenario that visits each `<machine>:<state>`. */
  const baseOf = new Map<string, string>();
  let r: Rehearsal;
  afterEach(() => r?.dispose());

  beforeAll(async () => {
    for (const [name, base] of Object.entries(BASES)) {
      const rehearsal = new Rehearsal(sample);
      try {
        const { input } = base.build(rehearsal);
        await rehearsal.reset(input, { faults: base.faults });
        for (const e of rehearsal.executions) for (const state of e.visited) if (!baseOf.has(`${e.machine}:${state}`)) baseOf.set(`${e.machine}:${state}`, name);
      } finally {
        rehearsal.dispose();
      }
    }
  });

  afterAll(() => {
    process.stdout.write(`Rehearsal faults: ${TASKS.length} Task states, ${stats.faults} faults injected, ${stats.runs} runs ` +
      `(${stats.executions} executions), ${stats.violations} invariant violations\n`);
    const pct = reconciler.runs === 0 ? 0 : (100 * reconciler.converged) / reconciler.runs;
    process.stdout.write(`Reconciler: ${reconciler.runs} runs left to it (restore aborted ${reconciler.restoreAborted}, timed out ` +
      `${reconciler.restoreTimedOut}, failed ${reconciler.restoreFailed}; restore event lost ${reconciler.eventLost}), converged in ` +
      `${reconciler.converged} (${pct.toFixed(0)}%)\n`);
  });

  test('the definitions have Task states, and every one is reached by a base scenario', () => {
    expect(TASKS.length).toBeGreaterThanOrEqual(18);
    expect(TASKS.filter(([machine, state]) => !baseOf.has(`${machine}:${state}`))).toEqual([]);
  });

  test.each(CASES.map(c => [`${c.machine}:${c.state}`, c.kind, c] as const))('%s, %s', async (_, kind, fault) => {
    // GIVEN the base scenario that reaches the state
    const baseName = baseOf.get(`${fault.machine}:${fault.state}`)!;
    const base = BASES[baseName];
    r = new Rehearsal(sample);
    const { input, instanceId } = base.build(r);
    const baseline: TargetBaseline = baselineOf(r.account, instanceId);

    // WHEN the fault is injected
    const run = await r.reset(input, { faults: [...base.faults, fault] });
    stats.runs++;
    stats.faults++;

    // THEN it fired, and the outcome is the one the fault calls for
    const faulted = fault.machine === 'reset' ? run : run.restoreRun;
    const problems: string[] = [];
    const check = (ok: boolean, what: string) => { if (!ok) problems.push(what); };
    check(faulted?.fired.includes(fault) ?? false, `the fault did not fire (base: ${baseName})`);

    if (fault.machine === 'reset') {
      switch (kind) {
        case 'throttle':
          check(run.status === base.status && run.error === base.error, `a throttle that clears changed the outcome from ${base.status} ${base.error ?? ''}`);
          break;
        case 'hard':
          check(run.status === 'FAILED' && ACCESS_DENIED.has(run.error!), 'a hard failure did not fail the reset with the service\'s error name');
          if (!['Preflight', 'RestoreAfterFailure'].includes(fault.state)) {
            // The Catch leads the failure through the restore inside the execution; the rule's restore finds nothing left.
            check(run.visited.includes('RestoreAfterFailure'), 'the failure did not go through RestoreAfterFailure (a Catch is missing)');
            check(JSON.stringify(run.restoreRun?.visited) === '["LoadJournal"]', 'the rule\'s restore found work left by the failure path');
          }
          break;
        case 'abort':
        case 'timeout':
          check(run.status === (kind === 'abort' ? 'ABORTED' : 'TIMED_OUT'), `the reset ended ${run.status}`);
          check(run.restoreRun?.status === 'SUCCEEDED', `no restore ran after ${run.status} (the restore rule must match it)`);
          break;
      }
    } else if (kind === 'throttle') {
      check(run.restoreRun?.status === 'SUCCEEDED', 'a throttle that clears failed the restore');
    } else {
      // The restore failed, was stopped or timed out: its journal stays, and the reconciler starts the restore again.
      check(run.restoreRun?.status === { hard: 'FAILED', abort: 'ABORTED', timeout: 'TIMED_OUT' }[kind], `the restore ended ${run.restoreRun?.status}`);
      reconciler.runs++;
      if (kind === 'abort') reconciler.restoreAborted++;
      if (kind === 'timeout') reconciler.restoreTimedOut++;
      if (kind === 'hard') reconciler.restoreFailed++;
      const converged = reconcilerConverged(r, instanceId);
      if (converged) reconciler.converged++;
      check(converged, 'the reconciler did not put the instance back');
    }

    // THEN the invariants hold, and once the endpoints' grace period has passed nothing is left behind
    stats.executions += r.executions.length;
    const violations = invariantViolations(r, baseline);
    await r.idle(PAST_GRACE_SECONDS);
    violations.push(...leftBehindViolations(r));
    stats.violations += violations.length;
    expect({ executions: describeExecutions(r), problems, violations }).toEqual({ executions: describeExecutions(r), problems: [], violations: [] });
  });

  // The reset stopped or timed out in each of its Tasks (its own restore loop included), and the
  // EventBridge event that starts the restore lost: only the reconciler can put the instance back.
  const EVENT_LOST_CASES = TASKS.filter(([machine, state]) => machine === 'reset' && state !== 'Preflight')
    .flatMap(([, state]) => (['abort', 'timeout'] as const).map(kind => ({ machine: 'reset', state, kind }) as Fault));

  test.each(EVENT_LOST_CASES.map(c => [c.state, c.kind, c] as const))('reset:%s, %s, restore event lost', async (_, _kind, fault) => {
    // GIVEN the base scenario that reaches the state, and a restore rule that never fires
    const baseName = baseOf.get(`reset:${fault.state}`)!;
    const base = BASES[baseName];
    r = new Rehearsal(sample, { restoreRulePattern: EVENT_LOST });
    const { input, instanceId } = base.build(r);
    const baseline: TargetBaseline = baselineOf(r.account, instanceId);

    // WHEN
    const run = await r.reset(input, { faults: [...base.faults, fault] });
    stats.runs++;
    stats.faults++;

    // THEN no restore from the rule; whenever the reset left its journal, the reconciler's restore put everything back
    const problems: string[] = [];
    if (!run.fired.includes(fault)) problems.push(`the fault did not fire (base: ${baseName})`);
    if (run.restoreRun) problems.push('the restore rule fired');
    const leftToReconciler = r.executions.some(e => e.name.startsWith('reconcile-'))
      || [...r.account.tables.values()].some(items => items.has(JSON.stringify({ instanceId: { S: instanceId } })));
    if (leftToReconciler) {
      reconciler.runs++;
      reconciler.eventLost++;
      if (reconcilerConverged(r, instanceId)) reconciler.converged++;
      else problems.push('the reconciler did not put the instance back');
    }
    stats.executions += r.executions.length;
    const violations = invariantViolations(r, baseline);
    stats.violations += violations.length;
    expect({ executions: describeExecutions(r), problems, violations }).toEqual({ executions: describeExecutions(r), problems: [], violations: [] });
  });
});

describe('rehearsal: faults of the on-demand interface endpoints', () => {
  let r: Rehearsal;
  afterEach(() => r?.dispose());

  test('creating them fails (the VPC\'s quota of endpoints is reached): the reset fails with EndpointsUnavailable, all is put back, nothing left', async () => {
    // GIVEN a rescue VPC that can hold no more interface endpoint
    r = new Rehearsal(sample);
    r.account.interfaceEndpointQuota = 0;
    const target = windowsTarget(r.account);
    const baseline = baselineOf(r.account, target.instanceId);

    // WHEN
    const run = await r.reset({ instanceId: target.instanceId, method: 'offline' });

    // THEN the failure names the quota, the instance is as it was and, after the grace period, nothing is left
    expect({ status: run.status, error: run.error }).toEqual({ status: 'FAILED', error: 'EndpointsUnavailable' });
    expect(run.cause).toMatch(/quota of interface endpoints/);
    expect(invariantViolations(r, baseline)).toEqual([]);
    await r.idle(PAST_GRACE_SECONDS);
    expect(leftBehindViolations(r)).toEqual([]);
  });

  test('deleting them fails: the janitor reports it and deletes them at its next run; nothing left', async () => {
    // GIVEN a successful reset, and EC2 failing the next three endpoint deletions (the janitor's first attempt)
    r = new Rehearsal(sample);
    const target = windowsTarget(r.account);
    expect((await r.reset({ instanceId: target.instanceId })).status).toBe('SUCCEEDED');
    r.account.vpcEndpointDeletionFailures = 3;

    // WHEN the grace period passes
    await r.idle(PAST_GRACE_SECONDS);

    // THEN one janitor run failed, naming the endpoints, and a later one deleted them
    const failed = r.janitorRuns.filter(j => j.error);
    expect(failed).toHaveLength(1);
    expect(failed[0].error).toMatch(/Deleting the idle interface endpoints failed for vpce-\w+: InternalError/);
    expect(r.janitorRuns.some(j => j.result?.deleted?.length === 3)).toBe(true);
    expect(leftBehindViolations(r)).toEqual([]);
  });

  test('a lease its restore did not release (it stopped between the helper\'s termination and the release): the janitor releases it once the reset has ended', async () => {
    // GIVEN a reset that ended, whose lease is still recorded
    r = new Rehearsal(sample);
    const target = windowsTarget(r.account);
    const run = await r.reset({ instanceId: target.instanceId });
    const vpcId = r.config().onDemandEndpoints.vpcId;
    r.account.call('dynamodb', 'UpdateItem', takeLease(sample.world.tables[0], vpcId, run.arn, r.clock.now() / 1000));
    expect(leftBehindViolations(r)).toEqual([...Array(3).fill(expect.stringMatching(/^I9: the interface endpoint/)), expect.stringMatching(/still records endpoint leases of .*reset-001/)]);

    // WHEN time passes
    await r.idle(PAST_GRACE_SECONDS);

    // THEN the janitor released it (Step Functions says the reset has ended), then deleted the endpoints after the grace period
    expect(r.janitorRuns.some(j => j.result?.released?.includes(run.arn))).toBe(true);
    expect(leftBehindViolations(r)).toEqual([]);
  });
});
