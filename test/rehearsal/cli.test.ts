import { generateKeyPairSync } from 'node:crypto';
import { READ_ONLY } from './account';
import { CliRun, RehearsedCli } from './cli-environment';
import { Rehearsal } from './runner';
import { SampleArtifacts, synthesizeSample } from './sample';
import { executionHistory } from './step-functions-api';
import { managedTarget, windowsTarget } from './world';
import { EXIT_CODES } from '../../cli/core/exit-codes';
import { STEP_DEFINITIONS } from '../../cli/core/steps';

/**
 * The operator CLI against the rehearsal: `reset`, `status` and `password` run by an operator,
 * while the sample stack's state machine runs the real handlers against the simulated account.
 */
describe('rehearsal: the operator CLI', () => {
  let sample: SampleArtifacts;
  let r: Rehearsal;
  let cli: RehearsedCli;
  beforeAll(() => {
    sample = synthesizeSample();
  });
  beforeEach(() => {
    r = new Rehearsal(sample);
    cli = new RehearsedCli(r);
  });
  afterEach(() => {
    cli.dispose();
    r.dispose();
  });

  const label = (id: string) => STEP_DEFINITIONS.find(s => s.id === id)!.label;
  // The sample's endpoints are on demand (the default): the helper lane opens them and waits for them.
  const OFFLINE_STEPS = ['preflight', 'lock', 'stop', 'backup', 'open-endpoints', 'launch-helper', 'endpoints-ready', 'helper-ready', 'install', 'attach', 'offline-fix', 'restore', 'password'];
  const throwawayKey = () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    r.account.registerKeyPair('ops-windows', publicKey.export({ type: 'spki', format: 'pem' }).toString());
    cli.files.set('ops-windows.pem', privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  };
  const lines = (run: CliRun) => run.screen.trimEnd().split('\n');

  test('reset, piped: one line per step start and end, in the order the execution ran them, then the outcome and the next steps', async () => {
    // GIVEN
    const target = windowsTarget(r.account);

    // WHEN
    const run = await cli.run(['reset', target.instanceId]);

    // THEN the reset ran in the rehearsal, and the CLI saw it through
    const execution = r.executions.find(e => e.machine === 'reset')!;
    expect(execution.status).toBe('SUCCEEDED');
    expect(run.exitCode).toBe(EXIT_CODES.ok);
    const starts = lines(run).filter(l => / start {2}/.test(l)).map(l => l.replace(/^\[\d\d:\d\d\] start {2}/, ''));
    const ends = lines(run).filter(l => / done {3}/.test(l)).map(l => l.replace(/^\[\d\d:\d\d\] done {3}(.*) \(.*\)$/, '$1'));
    expect(new Set(starts)).toEqual(new Set(OFFLINE_STEPS.map(label)));
    expect(new Set(ends)).toEqual(new Set(OFFLINE_STEPS.map(label)));
    // Steps of the main lane in execution order; the parallel lanes between the lock and the attach.
    const at = (id: string) => starts.indexOf(label(id));
    expect(['preflight', 'lock', 'attach', 'offline-fix', 'restore', 'password'].map(at)).toEqual([0, 1, 9, 10, 11, 12]);
    expect(at('stop')).toBeLessThan(at('backup'));
    expect(at('open-endpoints')).toBeLessThan(at('launch-helper'));
    expect(at('launch-helper')).toBeLessThan(at('endpoints-ready'));
    expect(at('endpoints-ready')).toBeLessThan(at('helper-ready'));
    expect(at('helper-ready')).toBeLessThan(at('install'));
    // The elapsed time is the modelled duration of the execution; the backup image is the one that exists.
    const minutes = Math.floor((execution.end! - execution.start) / 60_000);
    expect(run.stdout).toMatch(new RegExp(`^✔ Reset of ${target.instanceId} succeeded in ${minutes}m \\d\\ds \\(offline\\)\\.`));
    expect(run.stdout).toContain(`Backup image ${execution.output.backupImageId}:`);
    expect(r.account.images.has(execution.output.backupImageId)).toBe(true);
    expect(run.stdout).toContain(`cdk-ec2-reset-access password ${target.instanceId} --key-file <key pair .pem>`);
    // What the poll loops reported reached the operator.
    expect(run.stderr).toContain(`${label('stop')}: target stopped`);
    expect(run.stderr).toContain(`${label('attach')}: root volume attached to the helper`);
  });

  test('reset on a terminal: a ✔ line left by each step, the spinner on the running ones with their elapsed time', async () => {
    const target = windowsTarget(r.account);

    const run = await cli.run(['reset', target.instanceId], { tty: true });

    expect(run.exitCode).toBe(EXIT_CODES.ok);
    const done = lines(run).filter(l => l.startsWith('✔ ') && !l.startsWith('✔ Reset')).map(l => l.replace(/^✔ (.*) \(.*\)$/, '$1'));
    expect(new Set(done)).toEqual(new Set(OFFLINE_STEPS.map(label)));
    expect(run.screen).not.toMatch(/^\[\d\d:\d\d\]/m);
    // Both lanes of the parallel preparation are shown at once while they run (the stop, while the helper lane waits for the endpoints).
    expect(run.spinnerFrames.some(f => f.includes(label('stop')) && f.includes(label('endpoints-ready')))).toBe(true);
  });

  test('password --key-file: GetPasswordData decrypted here with the throwaway key; the key is never sent', async () => {
    // GIVEN an offline reset of an instance launched with the key pair
    throwawayKey();
    const target = windowsTarget(r.account, { keyName: 'ops-windows' });
    expect((await cli.run(['reset', target.instanceId])).exitCode).toBe(EXIT_CODES.ok);

    // WHEN
    const run = await cli.run(['password', target.instanceId, '--key-file', 'ops-windows.pem']);

    // THEN the password Windows generated after the reset, exactly
    expect(run.exitCode).toBe(EXIT_CODES.ok);
    const printed = run.stdout.trim();
    expect(r.account.secrets.has(printed)).toBe(true);
    const data = r.account.instances.get(target.instanceId)!.passwordData;
    expect(r.account.moments.some(m => m.what === `password-data:${target.instanceId}`)).toBe(true);
    expect(data).not.toMatch(/OPAQUE/);
    expect(run.stderr).toContain('Decrypted here with your key; the key was not sent anywhere.');
    expect(JSON.stringify(r.account.calls)).not.toContain('PRIVATE KEY');
  });

  test('password --key-file before the new password exists: PasswordNotAvailable, exit 4', async () => {
    throwawayKey();
    const target = windowsTarget(r.account, { keyName: 'ops-windows', state: 'stopped' });

    const run = await cli.run(['password', target.instanceId, '--key-file', 'ops-windows.pem']);

    expect(run.exitCode).toBe(EXIT_CODES.notFound);
    expect(run.stderr).toContain('PasswordNotAvailable');
  });

  test('online reset, then password --from-parameter --delete: the parameter EC2Rescue wrote, printed once and deleted', async () => {
    const target = managedTarget(r.account);

    const reset = await cli.run(['reset', target.instanceId, '--method', 'online']);
    const name = `/EC2Rescue/Passwords/${target.instanceId}`;
    const value = r.account.parameters.get(name)?.value;
    const run = await cli.run(['password', target.instanceId, '--from-parameter', '--delete']);

    expect(reset.exitCode).toBe(EXIT_CODES.ok);
    expect(reset.stderr).toContain(`start  ${label('online-reset')}`);
    expect(reset.stderr).not.toContain(label('attach'));
    // The instance never left: its restore only releases the lock, and says so.
    expect(reset.stderr).toContain('done   Release the instance\'s lock');
    expect(reset.stderr).not.toContain(label('restore'));
    expect(run.exitCode).toBe(EXIT_CODES.ok);
    expect(run.stdout).toBe(`${value}\n`);
    expect(run.stderr).toContain(`Deleted ${name}.`);
    expect(r.account.parameters.has(name)).toBe(false);
  });

  test('a preflight blocker: the named error and what to do, exit 1, the instance untouched; with the acknowledgement it runs', async () => {
    const target = windowsTarget(r.account, { autoAssignedPublicIp: true });

    const blocked = await cli.run(['reset', target.instanceId]);

    expect(blocked.exitCode).toBe(EXIT_CODES.resetFailed);
    expect(blocked.stdout).toContain('AcknowledgementRequired');
    expect(blocked.stdout).toContain('Nothing was changed.');
    expect(blocked.stdout).toContain('--ack public-ip-release');
    expect(r.account.calls.filter(c => c.operation === 'StopInstances')).toEqual([]);
    expect(r.account.instances.get(target.instanceId)!.state).toBe('running');

    const acknowledged = await cli.run(['reset', target.instanceId, '--ack', 'public-ip-release']);
    expect(acknowledged.exitCode).toBe(EXIT_CODES.ok);
  });

  test('preflight: the plan of the real preflight, nothing changed', async () => {
    const target = windowsTarget(r.account);

    const run = await cli.run(['preflight', target.instanceId]);

    expect(run.exitCode).toBe(EXIT_CODES.ok);
    const root = [...r.account.volumes.values()].find(v => v.attachment?.instanceId === target.instanceId)!;
    expect(run.stdout).toContain(`Plan for ${target.instanceId} (dry run: nothing was changed):`);
    expect(run.stdout).toMatch(new RegExp(`Root volume +${root.volumeId} at /dev/sda1`));
    expect(run.stdout).toMatch(/Availability Zone +us-east-1a \(helper subnet subnet-/);
    expect(r.account.calls.filter(c => !READ_ONLY.test(c.operation))).toEqual([]);
  });

  test('Ctrl-C detaches (exit 130) and the reset goes on; status <arn> replays it and follows it to the end', async () => {
    const target = windowsTarget(r.account);

    const detached = await cli.run(['reset', target.instanceId], { interruptAfterSeconds: 180 });
    const arn = r.executions[0].arn;
    const resumed = await cli.run(['status', arn]);
    const byInstance = await cli.run(['status', target.instanceId, '--no-wait', '--json']);

    expect(detached.exitCode).toBe(EXIT_CODES.detached);
    expect(detached.stdout).toMatch(/^Detached after 3m 0\ds\. The reset goes on in AWS; nothing was stopped\./);
    expect(detached.stdout).toContain(`Resume watching: cdk-ec2-reset-access status ${arn}`);
    expect(detached.stderr).not.toContain(label('password'));
    expect(resumed.exitCode).toBe(EXIT_CODES.ok);
    expect(resumed.stderr).toContain(`start  ${label('preflight')}`);
    expect(resumed.stderr).toContain(`done   ${label('password')}`);
    expect(JSON.parse(byInstance.stdout)).toMatchObject({ executionArn: arn, status: 'SUCCEEDED', output: { passwordStatus: 'available' } });
  });

  test('a reset stopped in the console: the CLI finds the restore EventBridge started, follows it, and says the instance is back', async () => {
    // GIVEN a reset that someone stops while the root volume is on the helper
    const target = windowsTarget(r.account);
    cli.stepFunctions.faultsForNextStart = [{ machine: 'reset', state: 'CheckOfflineFix', kind: 'abort' }];

    // WHEN
    const run = await cli.run(['reset', target.instanceId]);

    // THEN the restore state machine ran in the rehearsal (started by the emulated rule) and the CLI followed it
    const [reset, restore] = r.executions;
    expect(reset.status).toBe('ABORTED');
    expect(restore).toMatchObject({ machine: 'restore', status: 'SUCCEEDED', input: { executionArn: reset.arn } });
    expect(run.exitCode).toBe(EXIT_CODES.resetFailed);
    expect(run.stdout).toContain(`✖ Reset of ${target.instanceId} was stopped after`);
    expect(run.stderr).toMatch(/start {2}Put the instance back \(restore state machine\)/);
    expect(run.stdout).toContain('The instance was put back as it was');
    // What the CLI says is what the account shows: running again, its root volume back, no helper left.
    r.settle();
    const instance = r.account.instances.get(target.instanceId)!;
    expect(instance.state).toBe('running');
    const root = [...r.account.volumes.values()].find(v => v.attachment?.instanceId === target.instanceId);
    expect(root?.attachment?.device).toBe('/dev/sda1');
    expect([...r.account.instances.values()].filter(i => i.isHelper).map(i => i.state)).toEqual([expect.stringMatching(/^(shutting-down|terminated)$/)]);
  });

  test('--json: one document on stdout with the steps and the output, nothing else', async () => {
    const target = windowsTarget(r.account);

    const run = await cli.run(['reset', target.instanceId, '--json']);

    expect(run.stderr).toBe('');
    const document = JSON.parse(run.stdout);
    expect(document).toMatchObject({
      instanceId: target.instanceId,
      status: 'SUCCEEDED',
      output: { method: 'offline', passwordStatus: 'available', backupImageId: expect.stringMatching(/^ami-/) },
    });
    expect(document.steps.map((s: any) => s.id).sort()).toEqual([...OFFLINE_STEPS].sort());
    expect(document.steps.every((s: any) => s.status === 'succeeded')).toBe(true);
  });

  test('the history Step Functions would write: time order, ids from 1, each Lambda event chained to its Task state', async () => {
    const target = windowsTarget(r.account);
    const record = await r.reset({ instanceId: target.instanceId });

    const history = executionHistory(record, sample.reset.definition);

    expect(history.map(e => e.id)).toEqual(history.map((_, i) => i + 1));
    expect(history[0].type).toBe('ExecutionStarted');
    expect(history.at(-1)!.type).toBe('ExecutionSucceeded');
    const times = history.map(e => e.timestamp!.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times.at(-1)).toBe(record.end);
    const byId = new Map(history.map(e => [e.id!, e]));
    const taskOf = (id: number): string | undefined => {
      const event = byId.get(id)!;
      return event.type === 'TaskStateEntered' ? event.stateEnteredEventDetails!.name : taskOf(event.previousEventId!);
    };
    const succeeded = history.filter(e => e.type === 'LambdaFunctionSucceeded');
    // One success per task invocation of the record, each leading back to its own Task.
    expect(succeeded.map(e => taskOf(e.id!))).toEqual(record.spans.filter(s => s.kind === 'task').sort((a, b) => a.end - b.end).map(s => s.state));
    // No secret from the account in any event.
    const text = JSON.stringify(history);
    for (const secret of r.account.secrets) expect(text).not.toContain(secret);
  });
});
