import { READ_ONLY, SimInstance } from './account';
import { CUSTOMER_KEY_ARN, CUSTOMER_KEY_ID } from './iam/coverage';
import { baselineOf, changesMade, expectInvariantsHold, invariantViolations, TargetBaseline } from './invariants';
import { LATENCY } from './latencies';
import { Rehearsal, RehearsalOptions } from './runner';
import { SampleArtifacts, statesOf, synthesizeSample, taskStatesOf } from './sample';
import { ALLOW_RESET, attachDataVolume, managedTarget, ssmOnlyInstanceProfile, windowsTarget, WINDOWS_ROOT_DEVICE_NAMES } from './world';
import { ERRORS } from '../../src/workflow/private/contracts';

/**
 * The sample stack's state machines, run end to end against the simulated account: the
 * scenarios of issue 5, each followed by the invariants (DESIGN.md §3).
 */
describe('rehearsal: scenarios', () => {
  let sample: SampleArtifacts;
  let r: Rehearsal;
  // Synthesized once: every scenario reads the same template.
  beforeAll(() => {
    sample = synthesizeSample();
  });
  afterEach(() => r?.dispose());

  const rehearse = (options?: RehearsalOptions) => (r = new Rehearsal(sample, options));
  let withCustomerKey: SampleArtifacts | undefined;
  /** The sample deployed with `allowedVolumeKeyArns` naming one customer managed key (synthesized once, when first needed). */
  const customerKeySample = () => (withCustomerKey ??= synthesizeSample({ allowedVolumeKeyArns: [CUSTOMER_KEY_ARN] }));
  const minutes = (ms: number) => ms / 60_000;
  const expectInvariants = (base: TargetBaseline, o: { expectFixed?: boolean; lockOwner?: string } = {}) => expectInvariantsHold(r, base, o);

  test('every Task of both state machines is routed to a handler module of the sample stack', () => {
    // GIVEN
    rehearse();
    const tasks = [sample.reset, sample.restore].flatMap(m => statesOf(m.definition).filter(s => s.state.Type === 'Task'));

    // THEN: none left un-routed, and the restore rule targets the restore machine.
    expect(tasks.length).toBe(taskStatesOf(sample.reset.definition).length + taskStatesOf(sample.restore.definition).length);
    expect(tasks.length).toBeGreaterThanOrEqual(18);
    for (const { name, state } of tasks) expect(() => r.handlerFor(name, state)).not.toThrow();
    expect(() => r.handlerFor('Bogus', { Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:ec2:stopInstances' })).toThrow(/not routed/);
    expect(sample.restoreRule.targetArn).toBe(sample.restore.arn);
    // The handlers get the configuration the stack gives them, resolved to the fake account.
    expect(r.config()).toMatchObject({ lockTableName: sample.world.tables[0], subnetsByAz: { 'us-east-1a': expect.stringMatching(/^subnet-/) } });
  });

  test.each(WINDOWS_ROOT_DEVICE_NAMES)('offline reset of a running target with its root at %s: stopped, fixed on a helper, started; a new password exists; nothing left behind', async rootDeviceName => {
    // GIVEN
    rehearse();
    const target = windowsTarget(r.account, { rootDeviceName });
    const base = baselineOf(r.account, target.instanceId);

    // WHEN
    const run = await r.reset({ instanceId: target.instanceId, method: 'offline' });

    // THEN
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toEqual({ instanceId: target.instanceId, method: 'offline', backupImageId: expect.stringMatching(/^ami-/), passwordStatus: 'available' });
    expect(run.restoreRun).toBeUndefined();
    expectInvariants(base, { expectFixed: true });
    expect(r.account.moments.some(m => m.what === `password-data:${target.instanceId}`)).toBe(true);
    // The helper ran another Windows version than the target (disk signatures), in the target's AZ, in the rescue subnet.
    const helper = [...r.account.instances.values()].find(i => i.isHelper)!;
    expect(helper).toMatchObject({ imageId: 'ami-0a2019aaaaaaaaaaa', availabilityZone: target.availabilityZone, subnetId: r.config().subnetsByAz['us-east-1a'] });
    // AWS says up to 25 minutes; the modelled run is well within.
    expect(minutes(run.end! - run.start)).toBeLessThan(25);
  });

  test.each(WINDOWS_ROOT_DEVICE_NAMES)('offline reset of a stopped target with its root at %s: stays stopped; the password is generated at its next start', async rootDeviceName => {
    // GIVEN
    rehearse();
    const target = windowsTarget(r.account, { state: 'stopped', rootDeviceName });
    const base = baselineOf(r.account, target.instanceId);

    // WHEN
    const run = await r.reset({ instanceId: target.instanceId });

    // THEN
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ method: 'offline', passwordStatus: 'generated-at-next-start' });
    expect(r.account.calls.some(c => c.operation === 'StartInstances')).toBe(false);
    expectInvariants(base, { expectFixed: true });
    // WHEN the owner starts it
    r.account.call('ec2', 'StartInstances', { InstanceIds: [target.instanceId] });
    r.account.advance(LATENCY.instancePendingToRunning.seconds + LATENCY.passwordAfterBoot.seconds);
    // THEN
    expect(r.account.call('ec2', 'GetPasswordData', { InstanceId: target.instanceId }).PasswordData).not.toBe('');
  });

  test('online reset: EC2Rescue writes the password parameter; nothing is stopped and no helper is launched', async () => {
    // GIVEN
    rehearse();
    const target = managedTarget(r.account);
    const base = baselineOf(r.account, target.instanceId);

    // WHEN
    const run = await r.reset({ instanceId: target.instanceId, method: 'online' });

    // THEN
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toEqual({
      instanceId: target.instanceId, method: 'online', passwordParameterName: `/EC2Rescue/Passwords/${target.instanceId}`, passwordStatus: 'stored-in-parameter',
    });
    expect(r.account.parameters.get(`/EC2Rescue/Passwords/${target.instanceId}`)?.type).toBe('SecureString');
    expect(changesMade(r).filter(c => /Stop|Run|Detach|Attach|CreateImage/.test(c))).toEqual([]);
    expectInvariants(base);
  });

  test('the retention function deletes the online password parameter once it is older than the retention', async () => {
    // GIVEN an online reset
    rehearse();
    const target = managedTarget(r.account);
    await r.reset({ instanceId: target.instanceId, method: 'online' });
    const retention = [...sample.functions.values()].find(f => f.handlerFile.endsWith('delete-expired-passwords.lambda.ts'))!;
    Object.assign(process.env, retention.environment);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handler } = require('../../src/workflow/retention/delete-expired-passwords.lambda');
    const name = `/EC2Rescue/Passwords/${target.instanceId}`;

    // WHEN the hourly rule runs within the retention, then after it
    r.account.advance(3600);
    const early = await handler({});
    r.account.advance(Number(retention.environment.RETENTION_SECONDS ?? 86400));
    const late = await handler({});

    // THEN
    expect(early.deleted).toEqual([]);
    expect(late.deleted).toEqual([name]);
    expect(r.account.parameters.has(name)).toBe(false);
  });

  test.each([
    ['online when the instance is SSM-managed and Online', true, 'online'],
    ['offline when it is not SSM-managed', false, 'offline'],
  ])('auto chooses %s', async (_, managed, method) => {
    // GIVEN
    rehearse();
    const target = managed ? managedTarget(r.account) : windowsTarget(r.account);
    const base = baselineOf(r.account, target.instanceId);

    // WHEN
    const run = await r.reset({ instanceId: target.instanceId, method: 'auto' });

    // THEN
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output.method).toBe(method);
    expectInvariants(base, { expectFixed: method === 'offline' });
  });

  test('auto falls back to offline when the instance\'s role may not store the password, and says why in the plan', async () => {
    // GIVEN an SSM-managed, Online instance whose role lacks RescuePasswordPolicy
    rehearse();
    const target = managedTarget(r.account, { instanceProfileArn: ssmOnlyInstanceProfile(r.account) });
    const base = baselineOf(r.account, target.instanceId);

    // WHEN a dry run, then the reset
    const plan = await r.reset({ instanceId: target.instanceId, method: 'auto', dryRun: true });
    const run = await r.reset({ instanceId: target.instanceId, method: 'auto' });

    // THEN the plan names the reason and the policy to attach; the reset ran offline
    expect(plan.output).toMatchObject({
      method: 'offline',
      consequences: expect.arrayContaining([
        expect.stringMatching(/^Method auto chose offline .*SsmOnlyInstanceRole may not store the password .*ssm:PutParameter on .*\/EC2Rescue\/Passwords\/i-.*RescuePasswordPolicy/),
      ]),
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output.method).toBe('offline');
    expect(r.account.calls.filter(c => c.operation === 'SimulatePrincipalPolicy').map(c => c.input.ActionNames)).toEqual([['ssm:PutParameter'], ['ssm:PutParameter']]);
    expectInvariants(base, { expectFixed: true });
  });

  test('a send retried after its Lambda timed out finds the command past the first page of ListCommands, and does not send it again', async () => {
    // GIVEN a managed target on which another tool runs EC2Rescue often, and a send whose Lambda times out
    // just after SendCommand returned (Step Functions retries Sandbox.Timedout)
    rehearse();
    const target = managedTarget(r.account);
    const base = baselineOf(r.account, target.instanceId);
    const callAsync = r.account.callAsync.bind(r.account);
    let timedOut = false;
    r.account.callAsync = async (service, operation, input) => {
      const out = await callAsync(service, operation, input);
      if (operation === 'SendCommand' && !timedOut) {
        timedOut = true;
        // The other tool's commands are not the function's calls.
        const caller = r.account.context;
        r.account.context = {};
        for (let n = 0; n < 60; n++) {
          r.account.call('ssm', 'SendCommand', {
            InstanceIds: [target.instanceId], DocumentName: 'AWSSupport-RunEC2RescueForWindowsTool', Parameters: { Command: ['CollectLogs'] }, Comment: `log collection ${n}`,
          });
        }
        r.account.context = caller;
        throw Object.assign(new Error('Task timed out after 30.00 seconds'), { name: 'Sandbox.Timedout' });
      }
      return out;
    };

    // WHEN
    const run = await r.reset({ instanceId: target.instanceId, method: 'online' });

    // THEN one ResetAccess command, found again on the retry
    expect(run.status).toBe('SUCCEEDED');
    expect(run.spans.filter(s => s.state === 'SendOnlineReset' && s.kind === 'task').map(s => s.error ?? 'ok')).toEqual(['Sandbox.Timedout', 'ok']);
    expect(r.account.commands.filter(c => c.parameters.Command?.[0] === 'ResetAccess')).toHaveLength(1);
    expectInvariants(base);
  });

  test('a dry run returns the plan and changes nothing', async () => {
    // GIVEN
    rehearse();
    const target = windowsTarget(r.account, { autoAssignedPublicIp: true });

    // WHEN
    const run = await r.reset({ instanceId: target.instanceId, dryRun: true, acknowledge: ['public-ip-release'] });

    // THEN
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ instanceId: target.instanceId, method: 'offline', dryRun: true, consequences: expect.arrayContaining([expect.stringMatching(/public IPv4/)]) });
    expect(changesMade(r)).toEqual([]);
  });

  const PREFLIGHT_ERRORS = Object.values(ERRORS).slice(0, Object.values(ERRORS).indexOf(ERRORS.notManagedOnline) + 1);
  const BLOCKERS: Array<[string, (r: Rehearsal) => unknown]> = [
    [ERRORS.invalidInput, () => ({ instanceId: 'not-an-instance' })],
    [ERRORS.instanceNotFound, () => ({ instanceId: 'i-0123456789abcdef0' })],
    [ERRORS.notWindows, x => ({ instanceId: windowsTarget(x.account, { platform: 'linux' }).instanceId })],
    [ERRORS.rootNotEbs, x => ({ instanceId: windowsTarget(x.account, { rootDeviceType: 'instance-store' }).instanceId })],
    [ERRORS.spotInstance, x => ({ instanceId: windowsTarget(x.account, { spot: true }).instanceId })],
    [ERRORS.marketplaceProductCode, x => ({ instanceId: windowsTarget(x.account, { marketplaceProductCode: 'abcdefghijklmnopqrstuvwxy' }).instanceId })],
    [ERRORS.shutdownBehaviorTerminate, x => ({ instanceId: windowsTarget(x.account, { shutdownBehavior: 'terminate' }).instanceId })],
    [ERRORS.autoScalingMember, x => ({ instanceId: windowsTarget(x.account, { autoScalingGroup: 'web' }).instanceId })],
    [ERRORS.acknowledgementRequired, x => ({ instanceId: windowsTarget(x.account, { autoAssignedPublicIp: true }).instanceId })],
    [`${ERRORS.acknowledgementRequired} (instance store)`, x => ({ instanceId: windowsTarget(x.account, { instanceType: 'm5d.large' }).instanceId })],
    [ERRORS.encryptedRootKeyNotAllowed, x => ({ instanceId: windowsTarget(x.account, { kmsKeyId: x.account.addCustomerKey().arn }).instanceId })],
    // Issue 11 item 8: on main the reset went on and the restore could never start the instance again.
    [ERRORS.encryptedVolumeKeyNotAllowed, x => {
      const target = windowsTarget(x.account);
      attachDataVolume(x.account, target, { device: 'xvdb', kmsKeyId: x.account.addCustomerKey().arn });
      return { instanceId: target.instanceId };
    }],
    // Issue 11 item 3: EnterStandby/ExitStandby are authorized on the group's tags.
    [ERRORS.autoScalingGroupNotAllowed, x => {
      x.account.addAutoScalingGroup({ name: 'untagged' });
      return { instanceId: windowsTarget(x.account, { autoScalingGroup: 'untagged' }).instanceId, acknowledge: ['auto-scaling-standby'] };
    }],
    // Issue 11 item 2: a single-instance group refuses EnterStandby with the capacity decremented.
    [ERRORS.autoScalingGroupAtMinimum, x => {
      x.account.addAutoScalingGroup({ name: 'single', minSize: 1, maxSize: 1, tags: { ...ALLOW_RESET } });
      return { instanceId: windowsTarget(x.account, { autoScalingGroup: 'single' }).instanceId, acknowledge: ['auto-scaling-standby'] };
    }],
    // Issue 11 item 4: without a key pair GetPasswordData never returns a password.
    [ERRORS.noKeyPair, x => ({ instanceId: windowsTarget(x.account, { keyName: undefined }).instanceId, method: 'offline' })],
    // Issue 11 item 9: no helper type offered in the target's AZ.
    [ERRORS.helperInstanceTypeNotOffered, x => {
      x.account.instanceTypeOfferings.set('us-east-1a', new Set());
      return { instanceId: windowsTarget(x.account).instanceId };
    }],
    [ERRORS.targetNotAllowed, x => ({ instanceId: windowsTarget(x.account, { tags: { 'cdk-ec2-reset-access:allow-reset': 'false' } }).instanceId })],
    [ERRORS.azNotCovered, x => ({ instanceId: windowsTarget(x.account, { availabilityZone: 'us-east-1c' }).instanceId })],
    [ERRORS.resetInProgress, x => {
      const target = windowsTarget(x.account);
      x.account.call('dynamodb', 'PutItem', {
        TableName: sample.world.tables[0],
        Item: { instanceId: { S: target.instanceId }, executionArn: { S: 'arn:aws:states:us-east-1:123456789012:execution:other:run' }, expiresAt: { N: String(Math.floor(x.clock.now() / 1000) + 3600) } },
      });
      return { instanceId: target.instanceId };
    }],
    [ERRORS.instanceStateUnsupported, x => {
      const target = windowsTarget(x.account);
      x.account.call('ec2', 'TerminateInstances', { InstanceIds: [target.instanceId] });
      return { instanceId: target.instanceId };
    }],
    [`${ERRORS.instanceStateUnsupported} (pending)`, x => {
      const target = windowsTarget(x.account, { state: 'stopped' });
      x.account.call('ec2', 'StartInstances', { InstanceIds: [target.instanceId] });
      return { instanceId: target.instanceId };
    }],
    [ERRORS.instanceRoleCannotStorePassword, x => ({
      instanceId: managedTarget(x.account, { instanceProfileArn: ssmOnlyInstanceProfile(x.account) }).instanceId, method: 'online',
    })],
    [ERRORS.notManagedOnline, x => ({ instanceId: windowsTarget(x.account).instanceId, method: 'online' })],
  ];

  test('every preflight error of the contract has a blocker scenario', () => {
    expect(new Set(BLOCKERS.map(([name]) => name.split(' ')[0]))).toEqual(new Set(PREFLIGHT_ERRORS));
  });

  test.each(BLOCKERS)('preflight blocker %s: the execution fails with it and nothing is changed', async (name, build) => {
    // GIVEN
    rehearse();
    const input = build(r);
    const before = r.account.calls.length;

    // WHEN
    const run = await r.reset(input);

    // THEN
    expect({ status: run.status, error: run.error }).toEqual({ status: 'FAILED', error: name.split(' ')[0] });
    expect(run.cause).toMatch(/\w+.*\./);
    expect(run.visited).toEqual(['Preflight']);
    // (The reconciler may act on the lock item planted for ResetInProgress: it is not the reset's doing.)
    expect(r.account.calls.slice(before).filter(c => c.context.execution !== 'reconciler' && !READ_ONLY.test(c.operation))).toEqual([]);
    // The restore rule fires on FAILED; the restore finds no journal of this execution.
    expect(run.restoreRun?.status).toBe('SUCCEEDED');
    expect(run.restoreRun?.visited).toEqual(['LoadJournal']);
  });

  test.each([
    ['an AWS managed key', false, 'SUCCEEDED'],
    ['a customer managed key the workflow is allowed to use', true, 'SUCCEEDED'],
  ])('offline reset of a root encrypted with %s', async (_, customer, status) => {
    // GIVEN the sample deployed with that key allowed (its roles get the key's grants), the key with its default policy
    r = new Rehearsal(customer ? customerKeySample() : sample);
    const keyArn = customer ? r.account.addCustomerKey({ keyId: CUSTOMER_KEY_ID }).arn : r.account.keys[0].arn;
    const target = windowsTarget(r.account, { kmsKeyId: keyArn });
    const base = baselineOf(r.account, target.instanceId);

    // WHEN
    const run = await r.reset({ instanceId: target.instanceId, method: 'offline' });

    // THEN
    expect(run.status).toBe(status);
    expectInvariants(base, { expectFixed: true });
    expect(r.account.calls.some(c => c.operation === 'DescribeKey' && c.input.KeyId === keyArn)).toBe(true);
  });

  test('an account whose default EBS key is a customer managed key: the helper is launched with the AWS managed key and the reset succeeds', async () => {
    // GIVEN encryption by default with a customer managed key the workflow's launch role cannot use
    rehearse();
    const key = r.account.addCustomerKey({ aliases: ['alias/org-ebs-default'] });
    Object.assign(r.account.ebsEncryption, { encryptByDefault: true, defaultKmsKeyId: key.arn });
    const target = windowsTarget(r.account);
    const base = baselineOf(r.account, target.instanceId);

    // WHEN
    const run = await r.reset({ instanceId: target.instanceId, method: 'offline' });

    // THEN the helper ran (it was not terminated at launch by Client.InternalError), with its root on aws/ebs
    expect({ status: run.status, error: run.error }).toEqual({ status: 'SUCCEEDED', error: undefined });
    const helper = [...r.account.instances.values()].find(i => i.isHelper)!;
    expect(helper.stateReason).toBeUndefined();
    const helperRoot = [...r.account.volumes.values()].find(v => v.tags['cdk-ec2-reset-access:role'] === 'helper')!;
    expect(helperRoot.kmsKeyId).toBe(r.account.keys.find(k => k.aliases.includes('alias/aws/ebs'))!.arn);
    expectInvariants(base, { expectFixed: true });
  });

  test('Auto Scaling member with the acknowledgement: Standby while stopped, back InService, capacity as it was', async () => {
    // GIVEN
    rehearse();
    const target = windowsTarget(r.account, { autoScalingGroup: 'web' });
    const base = baselineOf(r.account, target.instanceId);

    // WHEN
    const run = await r.reset({ instanceId: target.instanceId, acknowledge: ['auto-scaling-standby'] });

    // THEN
    expect(run.status).toBe('SUCCEEDED');
    const calls = r.account.calls.filter(c => !c.error).map(c => c.operation);
    expect(calls.indexOf('EnterStandby')).toBeLessThan(calls.indexOf('StopInstances'));
    expect(calls.indexOf('ExitStandby')).toBeGreaterThan(calls.indexOf('StartInstances'));
    expectInvariants(base, { expectFixed: true });
  });

  test.each(WINDOWS_ROOT_DEVICE_NAMES)('password-enabled AMI requested (root at %s): made from the fixed volume while the target is stopped, and returned', async rootDeviceName => {
    // GIVEN
    rehearse();
    const target = windowsTarget(r.account, { rootDeviceName });
    const base = baselineOf(r.account, target.instanceId);

    // WHEN
    const run = await r.reset({ instanceId: target.instanceId, passwordEnabledAmi: true });

    // THEN
    expect(run.status).toBe('SUCCEEDED');
    const image = r.account.images.get(run.output.passwordEnabledImageId)!;
    expect(image.name).toMatch(/-Post-Script-Backup_/);
    expect(image.tags['cdk-ec2-reset-access:role']).toBe('password-enabled');
    expect(r.account.snapshots.get(image.snapshotIds[0])!.generation).toBe(base.generation! + 1);
    const stopped = r.account.moments.filter(m => m.what === `${target.instanceId}:stopped`).pop()!;
    const started = r.account.moments.filter(m => m.what === `${target.instanceId}:pending`).pop()!;
    expect(image.creationTime).toBeGreaterThanOrEqual(stopped.at);
    expect(image.creationTime).toBeLessThanOrEqual(started.at);
    expectInvariants(base, { expectFixed: true });
  });

  test.each([
    ['at the preflight (the lock is already taken)', 3, 'Preflight'],
    ['at the lock (both passed the preflight)', 0.5, 'AcquireLock'],
  ])('two concurrent resets of one instance: the second is refused %s, the first is unaffected', async (_, delay, refusedIn) => {
    // GIVEN
    rehearse();
    const target = windowsTarget(r.account);
    const base = baselineOf(r.account, target.instanceId);

    // WHEN
    const first = r.start('reset', { instanceId: target.instanceId }, { name: 'first' });
    const second = r.start('reset', { instanceId: target.instanceId }, { name: 'second', atSeconds: delay });
    await r.finished();

    // THEN
    expect({ first: first.status, second: second.status, error: second.error }).toEqual({ first: 'SUCCEEDED', second: 'FAILED', error: ERRORS.resetInProgress });
    expect(second.visited[second.visited.length - 1]).toBe(refusedIn);
    expect(second.restoreRun?.visited).toEqual(['LoadJournal']);
    const byRefused = r.account.calls.filter(c => [second.name, second.restoreRun!.name].includes(c.context.execution ?? '') && !c.error);
    expect(byRefused.filter(c => !READ_ONLY.test(c.operation))).toEqual([]);
    expectInvariants(base, { expectFixed: true });
  });

  describe.each(WINDOWS_ROOT_DEVICE_NAMES)('the restore paths put a root at %s back where it was', rootDeviceName => {
    test('after an abort while the volume is on the helper (the restore state machine)', async () => {
      // GIVEN
      rehearse();
      const target = windowsTarget(r.account, { rootDeviceName });
      const base = baselineOf(r.account, target.instanceId);

      // WHEN
      const run = await r.reset({ instanceId: target.instanceId }, { faults: [{ machine: 'reset', state: 'SendOfflineFix', kind: 'abort' }] });

      // THEN
      expect({ reset: run.status, restore: run.restoreRun?.status }).toEqual({ reset: 'ABORTED', restore: 'SUCCEEDED' });
      expect(r.account.volumes.get(base.rootVolumeId!)!.attachment?.device).toBe(rootDeviceName);
      expectInvariants(base);
    });

    test('after the fix failed on the helper (the reset\'s own restore)', async () => {
      // GIVEN EC2Rescue fails half-way through bringing the disk online
      rehearse();
      r.account.ec2Rescue = { bringOnlineFailsMidway: true };
      const target = windowsTarget(r.account, { rootDeviceName });
      const base = baselineOf(r.account, target.instanceId);

      // WHEN
      const run = await r.reset({ instanceId: target.instanceId });

      // THEN
      expect({ status: run.status, error: run.error }).toEqual({ status: 'FAILED', error: ERRORS.commandFailed });
      expect(r.account.volumes.get(base.rootVolumeId!)!.attachment?.device).toBe(rootDeviceName);
      expectInvariants(base);
    });
  });

  describe('the offline script runs on the helper (its control flow, interpreted): EC2Rescue as it may behave', () => {
    test('EC2RescueCmd.exe writes warnings to stderr: the fix is judged by exit codes and the reset succeeds', async () => {
      // GIVEN
      rehearse();
      r.account.ec2Rescue = { stderrLines: ['WARNING: the disk signature of xvdf collides with the system disk.'] };
      const target = windowsTarget(r.account);
      const base = baselineOf(r.account, target.instanceId);

      // WHEN
      const run = await r.reset({ instanceId: target.instanceId });

      // THEN
      expect(run.status).toBe('SUCCEEDED');
      expectInvariants(base, { expectFixed: true });
    });

    test.each<[string, Partial<import('./account/ec2rescue').Ec2RescueBehaviour>]>([
      ['fails half-way through bringing the disk online', { bringOnlineFailsMidway: true, stderrLines: ['WARNING: slow disk'] }],
      ['cannot enable password generation', { enablePasswordGenerationError: 'Cannot load the offline registry hive.' }],
    ])('EC2Rescue %s: the reset fails with CommandFailed, the disk was offline when the root left the helper, all put back', async (_, behaviour) => {
      // GIVEN
      rehearse();
      r.account.ec2Rescue = behaviour;
      const target = windowsTarget(r.account, { rootDeviceName: 'xvda' });
      const base = baselineOf(r.account, target.instanceId);

      // WHEN
      const run = await r.reset({ instanceId: target.instanceId });

      // THEN
      expect({ status: run.status, error: run.error }).toEqual({ status: 'FAILED', error: ERRORS.commandFailed });
      expect(run.cause).toMatch(/Offline password fix failed: /);
      const leftHelper = r.account.volumes.get(base.rootVolumeId!)!.history.filter(h => h.what.startsWith('detach:') && h.what !== `detach:${target.instanceId}`);
      expect(leftHelper.map(h => h.diskOnline)).toEqual([false]);
      expectInvariants(base);
    });
  });

  test('the modelled offline reset overlaps the target\'s stop with the helper\'s boot', async () => {
    // GIVEN
    rehearse();
    const target: SimInstance = windowsTarget(r.account);

    // WHEN
    const run = await r.reset({ instanceId: target.instanceId });

    // THEN: the target stopped before the helper was Online, and the fix ran only after both.
    const at = (what: string) => r.account.moments.find(m => m.what.startsWith(what))!.at;
    expect(at(`${target.instanceId}:stopped`)).toBeLessThan(at('ssm-online:'));
    expect(at('offline-fix:')).toBeGreaterThan(at('ssm-online:'));
    expect(run.status).toBe('SUCCEEDED');
  });

  describe('the checks have teeth', () => {
    test('without ABORTED in the restore rule (and no reconciler), an abort leaves the root volume on the helper, and the invariants say so', async () => {
      // GIVEN a rule that only matches FAILED
      const pattern = structuredClone(sample.restoreRule.eventPattern);
      pattern.detail.status = ['FAILED'];
      rehearse({ restoreRulePattern: pattern, reconciler: false });
      const target = windowsTarget(r.account);
      const base = baselineOf(r.account, target.instanceId);

      // WHEN the reset is stopped while the volume is on the helper
      const run = await r.reset({ instanceId: target.instanceId }, { faults: [{ machine: 'reset', state: 'SendOfflineFix', kind: 'abort' }] });

      // THEN
      expect(run.status).toBe('ABORTED');
      expect(run.restoreRun).toBeUndefined();
      expect(invariantViolations(r, base)).toEqual(expect.arrayContaining([
        expect.stringMatching(/^I1: the root volume is attached to i-/),
        expect.stringMatching(/^I2: the helper/),
        expect.stringMatching(/^I4: the lock item/),
      ]));
    });

    test('a password blob in a state output or a log line is an I5 violation', async () => {
      // GIVEN a finished reset
      rehearse();
      const target = windowsTarget(r.account);
      const base = baselineOf(r.account, target.instanceId);
      const run = await r.reset({ instanceId: target.instanceId });
      expect(invariantViolations(r, base)).toEqual([]);
      const blob = r.account.call('ec2', 'GetPasswordData', { InstanceId: target.instanceId }).PasswordData;

      // WHEN a step had returned it, or logged it
      run.events.push({ type: 'StateExited', state: { name: 'CheckPassword', output: { PasswordData: blob } } });
      r.logs.push(JSON.stringify({ level: 'INFO', message: 'Password data checked', data: blob }));

      // THEN
      expect(invariantViolations(r, base)).toEqual([
        `I5: a password blob or parameter value appears in execution ${run.name}`,
        `I5: a PasswordData field appears in execution ${run.name}`,
        'I5: a password blob or parameter value appears in Lambda logs',
      ]);
    });
  });
});
