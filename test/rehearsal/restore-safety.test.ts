import { ApiCall, awsError } from './account';
import { baselineOf, expectInvariantsHold, invariantViolations, TargetBaseline } from './invariants';
import { LATENCY } from './latencies';
import { Rehearsal, RehearsalOptions } from './runner';
import { SampleArtifacts, synthesizeSample } from './sample';
import { windowsTarget } from './world';
import { ERRORS } from '../../src/workflow/private/contracts';
import { MAX_RECONCILE_ATTEMPTS, RECONCILE_GRACE_SECONDS } from '../../src/workflow/private/reconcile-plan';
import { COMMAND_EXECUTION_TIMEOUT_SECONDS, RECONCILE_INTERVAL_MINUTES, STOP_BOUNDS } from '../../src/workflow/private/timeouts';

/**
 * Issue 11, items 1 and 5, and the reconciler, rehearsed: the root volume never leaves a helper
 * that may still write to it (I7), stops that hang are forced after their bound, and an instance
 * is put back even when the restore itself does not finish or never starts (I8).
 */
describe('rehearsal: restore safety', () => {
  let sample: SampleArtifacts;
  let r: Rehearsal;
  beforeAll(() => {
    sample = synthesizeSample();
  });
  afterEach(() => r?.dispose());

  const rehearse = (options?: RehearsalOptions) => (r = new Rehearsal(sample, options));
  const seconds = (ms: number) => ms / 1000;
  const expectInvariants = (base: TargetBaseline, o: { expectFixed?: boolean } = {}) => expectInvariantsHold(r, base, o);
  const calls = (operation: string, on?: string): ApiCall[] => r.account.calls.filter(c => !c.error && c.operation === operation
    && (on === undefined || c.input.InstanceIds?.includes(on) || c.input.InstanceId === on));
  const helperOf = () => [...r.account.instances.values()].find(i => i.isHelper)!;
  const fixCommand = () => r.account.commands.find(c => c.documentName === 'AWS-RunPowerShellScript')!;

  describe('the root volume leaves a helper only once nothing can write to it (I7)', () => {
    test('after a successful fix: the helper is stopped without its OS shutdown, then the volume detached', async () => {
      // GIVEN
      rehearse();
      const target = windowsTarget(r.account);
      const base = baselineOf(r.account, target.instanceId);

      // WHEN
      const run = await r.reset({ instanceId: target.instanceId });

      // THEN
      expect(run.status).toBe('SUCCEEDED');
      const helper = helperOf().instanceId;
      const [stop] = calls('StopInstances', helper);
      const [detach] = calls('DetachVolume', helper);
      expect(stop.input).toEqual({ InstanceIds: [helper], SkipOsShutdown: true });
      expect(fixCommand().status).toBe('Success');
      expect(stop.at).toBeLessThan(detach.at);
      expectInvariants(base, { expectFixed: true });
    });

    test('a fix that hangs: the workflow outlasts Run Command\'s own timeout, then stops the helper normally before the detach', async () => {
      // GIVEN EC2Rescue never returns
      rehearse();
      r.account.hangingDocuments.add('AWS-RunPowerShellScript');
      const target = windowsTarget(r.account);
      const base = baselineOf(r.account, target.instanceId);

      // WHEN
      const run = await r.reset({ instanceId: target.instanceId });

      // THEN the reset fails with Run Command's verdict, not its own impatience
      expect({ status: run.status, error: run.error }).toEqual({ status: 'FAILED', error: ERRORS.commandFailed });
      expect(run.cause).toMatch(/ended TimedOut \(ExecutionTimedOut\)/);
      const fix = fixCommand();
      expect(fix.status).toBe('TimedOut');
      const helper = helperOf().instanceId;
      const [stop] = calls('StopInstances', helper);
      const [detach] = calls('DetachVolume', helper);
      // The restore began only after Run Command ended the command (its execution timeout after delivery).
      expect(seconds(stop.at - fix.requestedAt)).toBeGreaterThanOrEqual(COMMAND_EXECUTION_TIMEOUT_SECONDS['offline-password-fix']);
      expect(stop.input).toEqual({ InstanceIds: [helper] });
      expect(stop.at).toBeLessThan(detach.at);
      expectInvariants(base);
    });

    test('a reset stopped while the fix runs: the restore cancels the command, stops the helper, and only then detaches', async () => {
      // GIVEN
      rehearse();
      r.account.hangingDocuments.add('AWS-RunPowerShellScript');
      const target = windowsTarget(r.account);
      const base = baselineOf(r.account, target.instanceId);

      // WHEN stopped at the first poll of the fix
      const run = await r.reset({ instanceId: target.instanceId }, { faults: [{ machine: 'reset', state: 'CheckOfflineFix', kind: 'abort' }] });

      // THEN
      expect(run.status).toBe('ABORTED');
      expect(run.restoreRun?.status).toBe('SUCCEEDED');
      const fix = fixCommand();
      const helper = helperOf().instanceId;
      const [cancel] = calls('CancelCommand').filter(c => c.input.CommandId === fix.commandId);
      const [stop] = calls('StopInstances', helper);
      const [detach] = calls('DetachVolume', helper);
      expect(cancel.context.execution).toBe(run.restoreRun!.name);
      expect(cancel.at).toBeLessThanOrEqual(stop.at);
      expect(stop.at).toBeLessThan(detach.at);
      expect(fix.status).toBe('Cancelled');
      expectInvariants(base);
    });

    test('a helper whose stop hangs is force-stopped after its bound, then the volume detached', async () => {
      // GIVEN the fix fails, and the helper's shutdown hangs
      rehearse();
      r.account.failingDocuments.set('AWS-RunPowerShellScript', 'Offline password fix failed: the disk xvdf could not be brought online.');
      r.account.helperStopsHang = true;
      const target = windowsTarget(r.account);
      const base = baselineOf(r.account, target.instanceId);

      // WHEN
      const run = await r.reset({ instanceId: target.instanceId });

      // THEN
      expect(run.error).toBe(ERRORS.commandFailed);
      const helper = helperOf().instanceId;
      const [normal, forced] = calls('StopInstances', helper);
      const [detach] = calls('DetachVolume', helper);
      expect(normal.input).toEqual({ InstanceIds: [helper] });
      expect(forced.input).toEqual({ InstanceIds: [helper], Force: true });
      expect(seconds(forced.at - normal.at)).toBeGreaterThanOrEqual(STOP_BOUNDS.helper.gracefulSeconds);
      expect(seconds(detach.at - forced.at)).toBeGreaterThanOrEqual(LATENCY.forcedStop.seconds);
      expectInvariants(base);
    });
  });

  describe('a target stop that hangs (item 5)', () => {
    test('is forced after its bound, both stops journaled; the reset goes on and succeeds', async () => {
      // GIVEN a target whose Windows shutdown never ends
      rehearse();
      const target = windowsTarget(r.account);
      target.stopHangs = true;
      const base = baselineOf(r.account, target.instanceId);

      // WHEN
      const run = await r.reset({ instanceId: target.instanceId });

      // THEN
      expect(run.status).toBe('SUCCEEDED');
      const [normal, forced] = calls('StopInstances', target.instanceId);
      expect(normal.input).toEqual({ InstanceIds: [target.instanceId] });
      expect(forced.input).toEqual({ InstanceIds: [target.instanceId], Force: true });
      expect(seconds(forced.at - normal.at)).toBeGreaterThanOrEqual(STOP_BOUNDS.target.gracefulSeconds);
      const journaled = calls('UpdateItem').filter(c => c.context.execution === run.name).map(c => Object.values(c.input.ExpressionAttributeNames ?? {})).flat();
      expect(journaled).toEqual(expect.arrayContaining(['targetStopRequestedAt', 'targetForceStopRequestedAt']));
      expectInvariants(base, { expectFixed: true });
    });

    test('the plan says so before anything happens (dry run)', async () => {
      rehearse();
      const target = windowsTarget(r.account);
      const run = await r.reset({ instanceId: target.instanceId, dryRun: true });
      expect(run.output.consequences).toEqual(expect.arrayContaining([
        expect.stringMatching(/has not stopped 15 minutes after the stop request, it is force-stopped/),
        expect.stringMatching(/the helper's Run Command commands are cancelled and the helper is stopped/),
      ]));
    });
  });

  describe('nothing left behind, ever: the reconciler (I8)', () => {
    test('the restore\'s event is lost: the reconciler starts the restore once its grace has passed, and the instance is back', async () => {
      // GIVEN a restore rule that never fires
      rehearse({ restoreRulePattern: { source: ['rehearsal.never'] } });
      const target = windowsTarget(r.account);
      const base = baselineOf(r.account, target.instanceId);

      // WHEN the reset is stopped while the volume is on the helper
      const run = await r.reset({ instanceId: target.instanceId }, { faults: [{ machine: 'reset', state: 'SendOfflineFix', kind: 'abort' }] });

      // THEN
      expect(run.restoreRun).toBeUndefined();
      const restores = r.executions.filter(e => e.machine === 'restore');
      expect(restores.map(e => [e.name.replace(/-[0-9a-f]{12}-/, '-<reset>-'), e.status])).toEqual([[`reconcile-${target.instanceId}-<reset>-1`, 'SUCCEEDED']]);
      const delay = seconds(restores[0].start - run.end!);
      expect(delay).toBeGreaterThanOrEqual(RECONCILE_GRACE_SECONDS);
      expect(delay).toBeLessThan(RECONCILE_GRACE_SECONDS + RECONCILE_INTERVAL_MINUTES * 60 + 1);
      expectInvariants(base);
    });

    test('a restore that times out is left to run until it ends (the journal held meanwhile), then restarted', async () => {
      // GIVEN
      rehearse();
      const target = windowsTarget(r.account);
      const base = baselineOf(r.account, target.instanceId);

      // WHEN the reset is stopped, and the restore's first Restore task hangs until the restore times out
      const run = await r.reset({ instanceId: target.instanceId }, {
        faults: [{ machine: 'reset', state: 'SendOfflineFix', kind: 'abort' }, { machine: 'restore', state: 'Restore', kind: 'timeout' }],
      });

      // THEN the reconciler did not start a second restore while the first ran, and its own converged
      const restores = r.executions.filter(e => e.machine === 'restore');
      expect(restores.map(e => e.status)).toEqual(['TIMED_OUT', 'SUCCEEDED']);
      expect(restores[1].start).toBeGreaterThanOrEqual(run.restoreRun!.end!);
      expect(r.reconcilerRuns.filter(x => x.at < run.restoreRun!.end!).length).toBeGreaterThan(20);
      expectInvariants(base);
    });

    test('restores that keep failing: the reconciler tries a bounded number of times, gives up, says so, and keeps the journal for an operator', async () => {
      // GIVEN an instance the workflow may stop but not start again (its role lost StartInstances on it)
      rehearse();
      const target = windowsTarget(r.account);
      const base = baselineOf(r.account, target.instanceId);
      r.account.authorize = call => call.operation === 'StartInstances' && call.input.InstanceIds?.includes(target.instanceId)
        ? awsError('ec2', 'UnauthorizedOperation', 'You are not authorized to perform this operation.') : undefined;

      // WHEN
      const run = await r.reset({ instanceId: target.instanceId });

      // THEN: the reset's restore, the rule's, then the reconciler's attempts, all failed
      expect(run.status).toBe('FAILED');
      const attempts = r.executions.filter(e => e.name.startsWith('reconcile-'));
      expect(attempts.map(e => e.status)).toEqual(Array(MAX_RECONCILE_ATTEMPTS).fill('FAILED'));
      const item = r.account.tables.get(sample.world.tables[0])!.get(JSON.stringify({ instanceId: { S: target.instanceId } }))!;
      expect(item).toMatchObject({
        executionArn: { S: run.arn }, abandonedAt: { N: expect.any(String) }, reconcileAttempts: { N: String(MAX_RECONCILE_ATTEMPTS) },
      });
      expect(item.expiresAt).toBeUndefined();
      const metric = r.logs.map(line => JSON.parse(line)).find(line => line._aws);
      expect(metric).toMatchObject({ RestoresAbandoned: 1, service: 'reset-reconciler' });
      // What is left is what the invariants say, and nothing else: the target stopped (its volume back, no helper left),
      // the journal kept (so the lock is held), and the give-up.
      expect(invariantViolations(r, base)).toEqual([
        'I1: the target is stopped, was running',
        expect.stringMatching(new RegExp(`^I4: the lock item of ${target.instanceId} .* is still held by ${run.arn}$`)),
        `I8: the reconciler gave up on ${target.instanceId} (its journal stays in ${sample.world.tables[0]} for an operator)`,
      ]);

      // WHEN someone tries a new reset of it
      r.account.authorize = undefined;
      const again = await r.reset({ instanceId: target.instanceId });

      // THEN it is refused with what to do
      expect({ status: again.status, error: again.error }).toEqual({ status: 'FAILED', error: ERRORS.resetInProgress });
      expect(again.cause).toMatch(/reconciler gave up: put the instance back by hand/);
    });
  });

  describe('the checks have teeth (I7: invariants.test.ts)', () => {
    test('a journal DynamoDB\'s TTL deleted, and a reconciler run that failed, are I8 violations', async () => {
      // GIVEN a finished reset, its lock item expired by TTL, and a failed run of the reconciler recorded
      rehearse();
      const target = windowsTarget(r.account);
      const base = baselineOf(r.account, target.instanceId);
      await r.reset({ instanceId: target.instanceId });
      expect(invariantViolations(r, base)).toEqual([]);
      const table = sample.world.tables[0];
      r.account.call('dynamodb', 'PutItem', { TableName: table, Item: { instanceId: { S: target.instanceId }, executionArn: { S: 'x' }, expiresAt: { N: String(Math.floor(r.clock.now() / 1000)) } } });
      r.account.advance(2);
      r.reconcilerRuns.push({ at: r.clock.now(), error: 'AccessDeniedException: not authorized' });

      // THEN
      expect(invariantViolations(r, base)).toEqual([
        expect.stringMatching(new RegExp(`^I8: DynamoDB's TTL deleted the journal of ${target.instanceId}`)),
        expect.stringMatching(/^I8: the reconciler failed at .*: AccessDeniedException/),
      ]);
    });
  });
});
