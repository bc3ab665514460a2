import { EC2_INSTANCE_OPERATIONS } from './account/ec2-instances';
import { CUSTOMER_KEY_ARN, CUSTOMER_KEY_ID } from './iam/coverage';
import { baselineOf, changesMade, expectInvariantsHold, invariantViolations, TargetBaseline } from './invariants';
import { Rehearsal, RehearsalOptions } from './runner';
import { SampleArtifacts, synthesizeSample } from './sample';
import { ALLOW_RESET, attachDataVolume, managedTarget, windowsTarget } from './world';
import { ERRORS, TAGS } from '../../src/workflow/private/contracts';

/**
 * Issue 11, part B: what a real account refuses or does that the preflight used to ignore, rehearsed
 * end to end. Each scenario here failed on the main branch before this change (the preflight blockers
 * of the same items are in scenarios.test.ts's blocker table).
 */
describe('rehearsal: what the preflight must know of a real account', () => {
  let sample: SampleArtifacts;
  let r: Rehearsal;
  beforeAll(() => {
    sample = synthesizeSample();
  });
  afterEach(() => r?.dispose());

  const rehearse = (options?: RehearsalOptions) => (r = new Rehearsal(sample, options));
  const expectInvariants = (base: TargetBaseline, o: { expectFixed?: boolean } = {}) => expectInvariantsHold(r, base, o);
  const operations = () => r.account.calls.filter(c => !c.error).map(c => `${c.operation}${c.operation === 'UpdateAutoScalingGroup' ? `:${c.input.MinSize}` : ''}`);

  describe('item 2: an Auto Scaling group at its minimum size', () => {
    /** A single-instance group (MinSize 1, MaxSize 1, desired 1), tagged for reset: EnterStandby alone is refused. */
    const singleInstanceGroup = () => {
      r.account.addAutoScalingGroup({ name: 'single', minSize: 1, maxSize: 1, tags: { ...ALLOW_RESET } });
      return windowsTarget(r.account, { autoScalingGroup: 'single' });
    };
    const ACK = ['auto-scaling-standby', 'auto-scaling-min-size'];

    test('acknowledged: MinSize lowered (journaled) before Standby, raised back after ExitStandby; capacity and MinSize as they were', async () => {
      // GIVEN
      rehearse();
      const target = singleInstanceGroup();
      const base = baselineOf(r.account, target.instanceId);

      // WHEN
      const run = await r.reset({ instanceId: target.instanceId, acknowledge: ACK });

      // THEN
      expect(run.status).toBe('SUCCEEDED');
      const ops = operations();
      expect(ops.indexOf('UpdateItem')).toBeLessThan(ops.indexOf('UpdateAutoScalingGroup:0'));
      expect(ops.indexOf('UpdateAutoScalingGroup:0')).toBeLessThan(ops.indexOf('EnterStandby'));
      expect(ops.indexOf('EnterStandby')).toBeLessThan(ops.indexOf('StopInstances'));
      expect(ops.indexOf('ExitStandby')).toBeLessThan(ops.indexOf('UpdateAutoScalingGroup:1'));
      expect(ops.filter(o => o.startsWith('UpdateAutoScalingGroup'))).toEqual(['UpdateAutoScalingGroup:0', 'UpdateAutoScalingGroup:1']);
      expect(r.account.moments.filter(m => m.what.startsWith('asg-capacity:'))).toEqual([]);
      expect(run.output.passwordStatus).toBe('available');
      expectInvariants(base, { expectFixed: true });
    });

    test('acknowledged, then the reset is stopped while the volume is on the helper: the restore state machine raises MinSize back too', async () => {
      // GIVEN
      rehearse();
      const target = singleInstanceGroup();
      const base = baselineOf(r.account, target.instanceId);

      // WHEN
      const run = await r.reset({ instanceId: target.instanceId, acknowledge: ACK }, { faults: [{ machine: 'reset', state: 'SendOfflineFix', kind: 'abort' }] });

      // THEN
      expect({ reset: run.status, restore: run.restoreRun?.status }).toEqual({ reset: 'ABORTED', restore: 'SUCCEEDED' });
      expect(r.account.calls.some(c => c.operation === 'UpdateAutoScalingGroup' && c.input.MinSize === 1 && c.context.execution === run.restoreRun!.name)).toBe(true);
      expectInvariants(base);
    });

    test('MinSize changed by someone while the reset ran: the restore leaves it and says so in its status', async () => {
      // GIVEN a group of two at its minimum; someone sets MinSize to 0 while the fix runs
      rehearse();
      r.account.addAutoScalingGroup({ name: 'pair', minSize: 2, maxSize: 3, tags: { ...ALLOW_RESET } });
      windowsTarget(r.account, { autoScalingGroup: 'pair' });
      const target = windowsTarget(r.account, { autoScalingGroup: 'pair' });
      const injected = r.account.fault;
      r.account.fault = call => {
        if (call.operation === 'SendCommand' && call.input.DocumentName === 'AWS-RunPowerShellScript') r.account.autoScalingGroups.get('pair')!.minSize = 0;
        return injected?.(call);
      };

      // WHEN
      const run = await r.reset({ instanceId: target.instanceId, acknowledge: ACK });

      // THEN
      expect(run.status).toBe('SUCCEEDED');
      expect(r.account.calls.filter(c => c.operation === 'UpdateAutoScalingGroup').map(c => c.input.MinSize)).toEqual([1]);
      expect(r.account.autoScalingGroups.get('pair')).toMatchObject({ minSize: 0, desiredCapacity: 2 });
      const restored = run.events.filter(e => e.type === 'StateExited' && e.state?.name === 'RestoreAfterSuccess').pop();
      expect(restored.state.output.restore.status).toMatch(/^restored; the MinSize of pair is 0, not the 1 the workflow set, so it was left as it is/);
    });
  });

  describe('item 2: a target that cannot be put back still gets its group\'s MinSize back', () => {
    test('the target is terminated while its root is on the helper: MinSize raised back before the lock goes, and the error says so', async () => {
      // GIVEN a single-instance group at its minimum, acknowledged; someone terminates the target while the fix runs
      rehearse();
      r.account.addAutoScalingGroup({ name: 'single', minSize: 1, maxSize: 1, tags: { ...ALLOW_RESET } });
      const target = windowsTarget(r.account, { autoScalingGroup: 'single' });
      const injected = r.account.fault;
      let terminated = false;
      r.account.fault = call => {
        if (!terminated && call.operation === 'SendCommand' && call.input.DocumentName === 'AWS-RunPowerShellScript') {
          terminated = true;
          // Someone else's call (not the workflow's, so not authorized against its roles).
          EC2_INSTANCE_OPERATIONS.TerminateInstances(r.account, { InstanceIds: [target.instanceId] });
        }
        return injected?.(call);
      };

      // WHEN
      const run = await r.reset({ instanceId: target.instanceId, acknowledge: ['auto-scaling-standby', 'auto-scaling-min-size'] });

      // THEN the reset fails with the named error, which says MinSize is back
      expect({ status: run.status, error: run.error }).toEqual({ status: 'FAILED', error: ERRORS.instanceStateUnsupported });
      expect(run.cause).toMatch(/is terminated, so its root volume .* cannot be put back.*MinSize of the Auto Scaling group single is 1, as before the reset/);
      // AND the group's MinSize is back (lowered once, raised once), with the replacement it asks for
      expect(r.account.calls.filter(c => c.operation === 'UpdateAutoScalingGroup' && !c.error).map(c => c.input.MinSize)).toEqual([0, 1]);
      expect(r.account.autoScalingGroups.get('single')).toMatchObject({ minSize: 1, desiredCapacity: 1 });
      // AND nothing else is left: no helper running, the lock and the endpoint lease released (the endpoints'
      // item stays, recording when its last lease went)
      expect([...r.account.instances.values()].filter(i => i.tags[TAGS.workflow] && !['shutting-down', 'terminated'].includes(i.state))).toEqual([]);
      const items = [...(r.account.tables.get(sample.world.tables[0])?.values() ?? [])];
      expect(items.filter(item => !item.instanceId?.S?.startsWith('endpoints:'))).toEqual([]);
      expect(items.filter(item => item.leases?.SS?.length)).toEqual([]);
    });
  });

  describe('item 4: an instance launched without a key pair', () => {
    test('offline with passwordEnabledAmi: no wait for GetPasswordData, the output says why, the password-enabled image is made', async () => {
      // GIVEN
      rehearse();
      const target = windowsTarget(r.account, { keyName: undefined });
      const base = baselineOf(r.account, target.instanceId);

      // WHEN
      const run = await r.reset({ instanceId: target.instanceId, method: 'offline', passwordEnabledAmi: true });

      // THEN
      expect({ status: run.status, error: run.error, cause: run.cause }).toEqual({ status: 'SUCCEEDED', error: undefined, cause: undefined });
      expect(run.output).toMatchObject({ method: 'offline', passwordStatus: 'no-key-pair', passwordEnabledImageId: expect.stringMatching(/^ami-/) });
      expect(r.account.calls.filter(c => c.operation === 'GetPasswordData')).toEqual([]);
      expect(run.visited).not.toContain('CheckPassword');
      expectInvariants(base, { expectFixed: true });
    });

    test('online still works: the password goes to Parameter Store', async () => {
      // GIVEN
      rehearse();
      const target = managedTarget(r.account, { keyName: undefined });

      // WHEN
      const run = await r.reset({ instanceId: target.instanceId, method: 'auto' });

      // THEN
      expect(run.status).toBe('SUCCEEDED');
      expect(run.output).toMatchObject({ method: 'online', passwordStatus: 'stored-in-parameter' });
    });
  });

  describe('item 8: other encrypted volumes of the target', () => {
    test('a data volume with a customer key the workflow may use: the reset succeeds and the instance starts again', async () => {
      // GIVEN a sample built with the key in allowedVolumeKeys (its roles get the key's statements)
      r = new Rehearsal(synthesizeSample({ allowedVolumeKeyArns: [CUSTOMER_KEY_ARN] }));
      const keyArn = r.account.addCustomerKey({ keyId: CUSTOMER_KEY_ID }).arn;
      const target = windowsTarget(r.account);
      attachDataVolume(r.account, target, { device: 'xvdb', kmsKeyId: keyArn });
      const base = baselineOf(r.account, target.instanceId);

      // WHEN
      const run = await r.reset({ instanceId: target.instanceId, method: 'offline' });

      // THEN
      expect(run.status).toBe('SUCCEEDED');
      expect(r.account.calls.some(c => c.operation === 'DescribeKey' && c.input.KeyId === keyArn)).toBe(true);
      expectInvariants(base, { expectFixed: true });
    });
  });

  describe('item 9: the helper instance type offered in the target\'s AZ', () => {
    test('t3.medium not offered in the target\'s AZ: the helper is the first fallback offered, and the reset succeeds', async () => {
      // GIVEN
      rehearse();
      r.account.instanceTypeOfferings.set('us-east-1a', new Set(['t3a.medium', 'm5.large', 'm5d.large']));
      const target = windowsTarget(r.account);
      const base = baselineOf(r.account, target.instanceId);

      // WHEN
      const run = await r.reset({ instanceId: target.instanceId, method: 'offline' });

      // THEN
      expect(run.status).toBe('SUCCEEDED');
      const helper = [...r.account.instances.values()].find(i => i.isHelper)!;
      expect(helper).toMatchObject({ instanceType: 't3a.medium', availabilityZone: 'us-east-1a' });
      expect(r.account.calls.filter(c => c.operation === 'RunInstances').map(c => c.error ?? 'ok')).toEqual(['ok']);
      expectInvariants(base, { expectFixed: true });
    });
  });

  describe('item 11: EC2Launch v2 re-runs "run once" tasks', () => {
    test('the dry run\'s consequences say so', async () => {
      // GIVEN
      rehearse();
      const target = windowsTarget(r.account);

      // WHEN
      const run = await r.reset({ instanceId: target.instanceId, method: 'offline', dryRun: true });

      // THEN
      expect(run.output.consequences).toContainEqual(expect.stringMatching(/EC2Launch v2, its next boot runs every task set to run once again/));
      expect(changesMade(r)).toEqual([]);
    });
  });

  describe('the checks have teeth', () => {
    test('a MinSize that is not back as it was is a Standby violation', async () => {
      // GIVEN a finished reset of a single-instance group
      rehearse();
      r.account.addAutoScalingGroup({ name: 'single', minSize: 1, maxSize: 1, tags: { ...ALLOW_RESET } });
      const target = windowsTarget(r.account, { autoScalingGroup: 'single' });
      const base = baselineOf(r.account, target.instanceId);
      await r.reset({ instanceId: target.instanceId, acknowledge: ['auto-scaling-standby', 'auto-scaling-min-size'] });
      expect(invariantViolations(r, base)).toEqual([]);

      // WHEN MinSize had been left lowered
      r.account.autoScalingGroups.get('single')!.minSize = 0;

      // THEN
      expect(invariantViolations(r, base)).toEqual(['Standby: the MinSize of single is 0, was 1']);
    });
  });
});
