import {
  DescribeExecutionCommand, ListExecutionsCommand, ListTagsForResourceCommand, SFNClient, StartExecutionCommand, StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { EXECUTION_ARN, FakeEnvironment, fakeEnvironment, serveExecution, STATE_MACHINE_ARN } from './fake-env';
import { HistoryBuilder, INSTANCE_ID, PLAN } from './history-fixture';
import { RECONCILER_RESTORE_PREFIX, RESTORE_STATE_MACHINE_TAG_KEY } from '../../cli/restore';
import { restoreExecutionName } from '../../src/workflow/private/reconcile-plan';
import { ResetWorkflow } from '../../src/workflow/reset-workflow';

const sfn = mockClient(SFNClient);
const ssm = mockClient(SSMClient);
const awsError = (name: string, message: string) => Object.assign(new Error(message), { name, $metadata: {} });

const RESTORE_MACHINE_ARN = 'arn:aws:states:eu-west-1:111122223333:stateMachine:RestoreStateMachine5678';
const RESTORE_ARN = 'arn:aws:states:eu-west-1:111122223333:execution:RestoreStateMachine5678:0f1e2d3c-aaaa-bbbb-cccc-444455556666';
const OTHER_RESTORE_ARN = 'arn:aws:states:eu-west-1:111122223333:execution:RestoreStateMachine5678:11111111-2222-3333-4444-555555555555';
const RESET_INPUT = { instanceId: INSTANCE_ID, method: 'auto' };
const RESTORE_INPUT = { executionArn: EXECUTION_ARN, input: JSON.stringify(RESET_INPUT) };
const RESTORE_INCOMPLETE_CAUSE = 'The restore did not converge within its bound. Check the instance.';

/** A reset that took the lock, then ended as `end` says. */
function resetEndingWith(end: (h: HistoryBuilder) => HistoryBuilder): HistoryBuilder {
  const h = new HistoryBuilder().started(RESET_INPUT).task('Preflight', { output: { ...PLAN, dryRun: false } }).task('AcquireLock')
    .pollLoop('PrepareTarget', ['stopping the target'], { branch: 'target' });
  return end(h);
}

/** The restore state machine's execution, as it records it. */
function restoreHistory(start: Date, outcome: 'restored' | 'incomplete'): HistoryBuilder {
  const h = new HistoryBuilder(start).started(RESTORE_INPUT)
    .task('LoadJournal', { seconds: 1, output: { found: true, plan: PLAN } })
    .state('Choice', 'JournalFound?')
    .state('Pass', 'UseJournalPlan');
  if (outcome === 'restored') {
    return h.pollLoop('Restore', ['waiting: volume detaching', 'restored'], { waitSeconds: 60 }).state('Succeed', 'Restored').succeeded({});
  }
  return h.pollLoop('Restore', ['waiting: volume detaching', 'still detaching'], { waitSeconds: 60 })
    .state('Fail', 'RestoreIncomplete').failed('RestoreIncomplete', RESTORE_INCOMPLETE_CAUSE);
}

/** The restore machine lists nothing until `appearsAt` (EventBridge's delivery), then the restore (after another reset's). */
function listRestoresFrom(env: FakeEnvironment, appearsAt: Date) {
  sfn.on(ListExecutionsCommand, { stateMachineArn: RESTORE_MACHINE_ARN }).callsFake(() => ({
    executions: env.now() < appearsAt ? [] : [
      { executionArn: RESTORE_ARN, stateMachineArn: RESTORE_MACHINE_ARN, name: 'r', status: 'RUNNING', startDate: appearsAt },
      // Another reset's restore, started just before: described, and passed over.
      { executionArn: OTHER_RESTORE_ARN, stateMachineArn: RESTORE_MACHINE_ARN, name: 'o', status: 'RUNNING', startDate: new Date(appearsAt.getTime() - 1000) },
    ],
  }));
  sfn.on(DescribeExecutionCommand, { executionArn: OTHER_RESTORE_ARN }).resolves({
    executionArn: OTHER_RESTORE_ARN,
    status: 'RUNNING',
    input: JSON.stringify({ executionArn: `${EXECUTION_ARN}-other`, input: '{}' }),
  });
}

function serveRestore(h: HistoryBuilder, outcome: 'restored' | 'incomplete', batch?: number) {
  return serveExecution(sfn, h.events, {
    executionArn: RESTORE_ARN,
    stateMachineArn: RESTORE_MACHINE_ARN,
    input: RESTORE_INPUT,
    batch,
    status: outcome === 'restored' ? 'SUCCEEDED' : 'FAILED',
    output: outcome === 'restored' ? { executionArn: EXECUTION_ARN, journal: { found: true, plan: PLAN } } : undefined,
    ...(outcome === 'incomplete' ? { error: 'RestoreIncomplete', cause: RESTORE_INCOMPLETE_CAUSE } : {}),
  });
}

const aborted = () => resetEndingWith(h => h.aborted());

beforeEach(() => {
  sfn.reset();
  ssm.reset();
  ssm.on(GetParameterCommand).resolves({ Parameter: { Value: STATE_MACHINE_ARN } });
  sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN, startDate: new Date() });
  sfn.on(ListTagsForResourceCommand, { resourceArn: STATE_MACHINE_ARN })
    .resolves({ tags: [{ key: 'team', value: 'ops' }, { key: RESTORE_STATE_MACHINE_TAG_KEY, value: RESTORE_MACHINE_ARN }] });
});

describe('following the restore', () => {
  test('uses the tag key ResetWorkflow puts on the reset state machine', () => {
    expect(RESTORE_STATE_MACHINE_TAG_KEY).toBe(ResetWorkflow.RESTORE_STATE_MACHINE_TAG_KEY);
  });

  test('knows the restores the reconciler starts by the prefix of their names', () => {
    expect(restoreExecutionName({ instanceId: INSTANCE_ID, executionArn: EXECUTION_ARN }, 1).startsWith(RECONCILER_RESTORE_PREFIX)).toBe(true);
  });

  test('an aborted reset: waits for the restore EventBridge starts, follows it and says the instance was put back (not a terminal)', async () => {
    // GIVEN
    const env = fakeEnvironment();
    const reset = aborted();
    serveExecution(sfn, reset.events, { input: RESET_INPUT, status: 'ABORTED' });
    const appearsAt = new Date(reset.now.getTime() + 40_000);
    listRestoresFrom(env, appearsAt);
    serveRestore(restoreHistory(appearsAt, 'restored'), 'restored', 6);

    // WHEN
    const code = await env.run('reset', INSTANCE_ID);

    // THEN
    expect(code).toBe(1);
    expect(sfn).toHaveReceivedCommandWith(ListTagsForResourceCommand, { resourceArn: STATE_MACHINE_ARN });
    expect(sfn.commandCalls(ListExecutionsCommand, { stateMachineArn: RESTORE_MACHINE_ARN }).length).toBeGreaterThan(1);
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: OTHER_RESTORE_ARN });
    expect(env.err.text).toContain('Waiting for the restore state machine');
    expect(env.err.text).toContain(`Restore (restore state machine, started by EventBridge): ${RESTORE_ARN}`);
    expect(env.err.text).toContain('Ctrl-C stops watching; the restore goes on.');
    expect(env.err.text).toMatch(/^\[00:00\] start  Read what the reset changed \(restore state machine\)$/m);
    expect(env.err.text).toMatch(/^ +Put the instance back \(restore state machine\): waiting: volume detaching$/m);
    expect(env.err.text).toMatch(/^\[\d\d:\d\d\] done   Put the instance back \(restore state machine\) \(1m \d\ds\)$/m);
    expect(env.out.text).toContain(`✖ Reset of ${INSTANCE_ID} was stopped after`);
    expect(env.out.text).toContain('The restore state machine puts the instance back');
    expect(env.out.text).toMatch(/^✔ The instance was put back as it was \(restore state machine, 1m \d\ds\)\.$/m);
    // The reset's failure first, then the restore's outcome.
    expect(env.out.text.indexOf('was stopped after')).toBeLessThan(env.out.text.indexOf('put back as it was'));
    expect(sfn).toHaveReceivedCommandTimes(StopExecutionCommand, 0);
  });

  test('a timed-out reset whose restore does not converge: the spinner marks it, and the advice gives the rerun command (terminal)', async () => {
    // GIVEN
    const env = fakeEnvironment({ tty: true });
    const reset = resetEndingWith(h => h.wait(7200).task('CheckOfflineFix', { seconds: 0, output: {} }));
    reset.events.push({ id: reset.events.length + 1, previousEventId: reset.events.length, timestamp: reset.now, type: 'ExecutionTimedOut', executionTimedOutEventDetails: {} });
    serveExecution(sfn, reset.events, { input: RESET_INPUT, status: 'TIMED_OUT' });
    listRestoresFrom(env, new Date(reset.now.getTime() + 5_000));
    serveRestore(restoreHistory(new Date(reset.now.getTime() + 5_000), 'incomplete'), 'incomplete');

    // WHEN
    const code = await env.run('reset', INSTANCE_ID);

    // THEN
    expect(code).toBe(1);
    expect(env.spinner.frames).toContain('✔ Read what the reset changed (restore state machine) (1s)');
    expect(env.spinner.frames.some(f => /^✖ Put the instance back \(restore state machine\) \(.*\): RestoreIncomplete$/.test(f))).toBe(true);
    expect(env.out.text).toContain(`✖ Reset of ${INSTANCE_ID} timed out after 2h 00m.`);
    const restoreLines = env.out.text.slice(env.out.text.indexOf('✖ The restore')).split('\n');
    expect(restoreLines[0]).toMatch(/^✖ The restore failed after \d+m \d\ds: the instance may not be as it was\.$/);
    expect(restoreLines.slice(1, 3)).toEqual([
      '  RestoreIncomplete: The restore did not converge: the instance may not be as it was.',
      `  Cause: ${RESTORE_INCOMPLETE_CAUSE}`,
    ]);
    expect(restoreLines[3]).toMatch(/^ {2}What to do: Check the instance by hand: root volume attached at its original device/);
    expect(restoreLines.slice(4)).toEqual([
      '  The reconciler starts the restore again within minutes (three times at most). If it gives up (the RestoreAbandoned',
      '  alarm), run it again yourself with the same input:',
      `    aws stepfunctions start-execution --region eu-west-1 --state-machine-arn ${RESTORE_MACHINE_ARN} --input '${JSON.stringify(RESTORE_INPUT)}'`,
      '',
    ]);
  });

  test('a reset FAILED outside its failure path (States.Runtime): the restore state machine\'s restore is followed', async () => {
    // GIVEN
    const env = fakeEnvironment();
    const cause = 'An error occurred while executing the state \'MethodChoice\'. Invalid path \'$.plan.method\'';
    const reset = resetEndingWith(h => h.failed('States.Runtime', cause));
    serveExecution(sfn, reset.events, { input: RESET_INPUT, status: 'FAILED', error: 'States.Runtime', cause });
    listRestoresFrom(env, reset.now);
    serveRestore(restoreHistory(reset.now, 'restored'), 'restored');

    // WHEN
    const code = await env.run('reset', INSTANCE_ID);

    // THEN
    expect(code).toBe(1);
    expect(env.out.text).toContain(`✖ Reset of ${INSTANCE_ID} failed after`);
    expect(env.out.text).toContain('States.Runtime: The state machine met a runtime error.');
    expect(env.out.text).toContain('The restore state machine puts the instance back');
    expect(env.out.text).not.toContain('the restore ran before the execution ended');
    expect(env.out.text).toContain('✔ The instance was put back as it was (restore state machine');
  });

  test('a reset that failed through its own failure path restored in-machine: the restore state machine is not looked for', async () => {
    // GIVEN
    const env = fakeEnvironment();
    const reset = resetEndingWith(h => h.task('SendOfflineFix', { error: 'CommandFailed', cause: 'EC2Rescue exited 1' })
      .state('Pass', 'RecordFailure', { input: { failure: { Error: 'CommandFailed', Cause: 'EC2Rescue exited 1' } } })
      .pollLoop('RestoreAfterFailure', ['restored'])
      .failed('CommandFailed', 'EC2Rescue exited 1'));
    serveExecution(sfn, reset.events, { input: RESET_INPUT, status: 'FAILED', error: 'CommandFailed', cause: 'EC2Rescue exited 1' });

    // WHEN
    const code = await env.run('reset', INSTANCE_ID, '--json');

    // THEN
    expect(code).toBe(1);
    expect(sfn).toHaveReceivedCommandTimes(ListTagsForResourceCommand, 0);
    expect(sfn).toHaveReceivedCommandTimes(ListExecutionsCommand, 0);
    expect(JSON.parse(env.out.text).restore).toBeUndefined();
  });

  test('a reset whose own restore gave up (RestoreIncomplete): the restore state machine tries again, and is followed', async () => {
    // GIVEN the failure path ran, did not converge, and kept the lock (so the restore state machine finds the journal)
    const env = fakeEnvironment();
    const reset = resetEndingWith(h => h.task('SendOfflineFix', { error: 'CommandFailed', cause: 'EC2Rescue exited 1' })
      .state('Pass', 'RecordFailure', { input: { failure: { Error: 'CommandFailed', Cause: 'EC2Rescue exited 1' } } })
      .pollLoop('RestoreAfterFailure', ['waiting: volume detaching', 'still detaching'])
      .state('Fail', 'RestoreIncompleteAfterFailure')
      .failed('RestoreIncomplete', RESTORE_INCOMPLETE_CAUSE));
    serveExecution(sfn, reset.events, { input: RESET_INPUT, status: 'FAILED', error: 'RestoreIncomplete', cause: RESTORE_INCOMPLETE_CAUSE });
    listRestoresFrom(env, reset.now);
    serveRestore(restoreHistory(reset.now, 'restored'), 'restored');

    // WHEN
    const code = await env.run('reset', INSTANCE_ID, '--json');

    // THEN
    expect(code).toBe(1);
    expect(JSON.parse(env.out.text)).toMatchObject({
      error: { name: 'RestoreIncomplete' },
      restore: { executionArn: RESTORE_ARN, status: 'SUCCEEDED' },
    });
  });

  test('a preflight failure changed nothing: the restore state machine is not looked for', async () => {
    // GIVEN
    const env = fakeEnvironment();
    const h = new HistoryBuilder().started(RESET_INPUT).task('Preflight', { error: 'NotWindows', cause: 'Linux' }).failed('NotWindows', 'Linux');
    serveExecution(sfn, h.events, { input: RESET_INPUT, status: 'FAILED', error: 'NotWindows', cause: 'Linux' });

    // WHEN / THEN
    expect(await env.run('reset', INSTANCE_ID)).toBe(1);
    expect(sfn).toHaveReceivedCommandTimes(ListTagsForResourceCommand, 0);
  });

  test('no tag (a stack of an older version): the usual sentence plus why it cannot follow, exit 1', async () => {
    // GIVEN
    const env = fakeEnvironment();
    sfn.on(ListTagsForResourceCommand, { resourceArn: STATE_MACHINE_ARN }).resolves({ tags: [{ key: 'team', value: 'ops' }] });
    serveExecution(sfn, aborted().events, { input: RESET_INPUT, status: 'ABORTED' });

    // WHEN
    const code = await env.run('reset', INSTANCE_ID);

    // THEN
    expect(code).toBe(1);
    expect(env.out.text).toContain('The restore state machine puts the instance back (EventBridge starts it when a reset ends this way).');
    expect(env.out.text).toContain(`Could not follow the restore: The reset state machine has no ${RESTORE_STATE_MACHINE_TAG_KEY} tag`);
    expect(env.out.text).toContain('update the stack');
    expect(sfn).toHaveReceivedCommandTimes(ListExecutionsCommand, 0);
  });

  test('AccessDenied on ListTagsForResource: a note naming the grant, exit 1', async () => {
    // GIVEN
    const env = fakeEnvironment();
    sfn.on(ListTagsForResourceCommand).rejects(awsError('AccessDeniedException', 'User is not authorized to perform: states:ListTagsForResource'));
    serveExecution(sfn, aborted().events, { input: RESET_INPUT, status: 'ABORTED' });

    // WHEN
    const code = await env.run('reset', INSTANCE_ID, '--json');

    // THEN
    expect(code).toBe(1);
    const document = JSON.parse(env.out.text);
    expect(document.status).toBe('ABORTED');
    expect(document.restore).toEqual({
      status: 'UNKNOWN',
      reason: 'AccessDenied',
      note: expect.stringMatching(/^Could not read the reset state machine's tags \(states:ListTagsForResource\): User is not authorized.*grantStartReset/),
    });
  });

  test('AccessDenied on the restore state machine\'s executions: a note, exit 1', async () => {
    // GIVEN
    const env = fakeEnvironment();
    sfn.on(ListExecutionsCommand).rejects(awsError('AccessDeniedException', 'not authorized to perform: states:ListExecutions'));
    serveExecution(sfn, aborted().events, { input: RESET_INPUT, status: 'ABORTED' });

    // WHEN
    const code = await env.run('reset', INSTANCE_ID);

    // THEN
    expect(code).toBe(1);
    expect(env.out.text).toMatch(/Could not follow the restore: Could not find the restore .*not authorized.*grantStartReset/);
  });

  test('a restore that never appears: waits for the bound, then says how to check by hand', async () => {
    // GIVEN
    const env = fakeEnvironment();
    const reset = aborted();
    serveExecution(sfn, reset.events, { input: RESET_INPUT, status: 'ABORTED' });
    sfn.on(ListExecutionsCommand, { stateMachineArn: RESTORE_MACHINE_ARN }).resolves({ executions: [] });

    // WHEN
    const code = await env.run('reset', INSTANCE_ID);

    // THEN
    expect(code).toBe(1);
    expect(env.now().getTime() - reset.now.getTime()).toBeGreaterThanOrEqual(3 * 60_000);
    expect(env.now().getTime() - reset.now.getTime()).toBeLessThan(4 * 60_000);
    expect(env.out.text).toContain('Could not follow the restore: No execution of the restore state machine names this reset within 3m 00s of the reset\'s end.');
    expect(env.out.text).toContain(`aws stepfunctions list-executions --region eu-west-1 --state-machine-arn ${RESTORE_MACHINE_ARN}`);
    expect(env.out.text).toContain('dead-letter queue');
  });

  test('--json: the reset\'s document with a restore field, nothing on stderr', async () => {
    // GIVEN
    const env = fakeEnvironment({ tty: true });
    const reset = resetEndingWith(h => h.wait(7200));
    reset.events.push({ id: reset.events.length + 1, previousEventId: reset.events.length, timestamp: reset.now, type: 'ExecutionTimedOut', executionTimedOutEventDetails: {} });
    serveExecution(sfn, reset.events, { input: RESET_INPUT, status: 'TIMED_OUT' });
    listRestoresFrom(env, reset.now);
    const restore = restoreHistory(reset.now, 'incomplete');
    serveRestore(restore, 'incomplete');

    // WHEN
    const code = await env.run('reset', INSTANCE_ID, '--json');

    // THEN
    expect(code).toBe(1);
    expect(env.err.text).toBe('');
    expect(env.spinner.frames).toEqual([]);
    const document = JSON.parse(env.out.text);
    expect(document).toMatchObject({ executionArn: EXECUTION_ARN, status: 'TIMED_OUT', error: { name: 'TIMED_OUT' } });
    expect(document.restore).toEqual({
      executionArn: RESTORE_ARN,
      stateMachineArn: RESTORE_MACHINE_ARN,
      status: 'FAILED',
      startedAt: restore.events[0].timestamp!.toISOString(),
      stoppedAt: restore.events.at(-1)!.timestamp!.toISOString(),
      error: 'RestoreIncomplete',
      cause: RESTORE_INCOMPLETE_CAUSE,
      rerun: `aws stepfunctions start-execution --region eu-west-1 --state-machine-arn ${RESTORE_MACHINE_ARN} --input '${JSON.stringify(RESTORE_INPUT)}'`,
    });
  });

  test('--json after a restore that put the instance back', async () => {
    // GIVEN
    const env = fakeEnvironment();
    const reset = aborted();
    serveExecution(sfn, reset.events, { input: RESET_INPUT, status: 'ABORTED' });
    listRestoresFrom(env, reset.now);
    serveRestore(restoreHistory(reset.now, 'restored'), 'restored');

    // WHEN
    await env.run('reset', INSTANCE_ID, '--json');

    // THEN
    expect(JSON.parse(env.out.text).restore).toEqual({
      executionArn: RESTORE_ARN, stateMachineArn: RESTORE_MACHINE_ARN, status: 'SUCCEEDED', startedAt: expect.any(String), stoppedAt: expect.any(String),
    });
  });

  test('a restore that found nothing to put back says so', async () => {
    // GIVEN
    const env = fakeEnvironment();
    const reset = aborted();
    serveExecution(sfn, reset.events, { input: RESET_INPUT, status: 'ABORTED' });
    listRestoresFrom(env, reset.now);
    const h = new HistoryBuilder(reset.now).started(RESTORE_INPUT).task('LoadJournal', { output: { found: false } })
      .state('Choice', 'JournalFound?').state('Succeed', 'NothingToRestore').succeeded({});
    serveExecution(sfn, h.events, {
      executionArn: RESTORE_ARN,
      stateMachineArn: RESTORE_MACHINE_ARN,
      input: RESTORE_INPUT,
      status: 'SUCCEEDED',
      output: { ...RESTORE_INPUT, journal: { found: false } },
    });

    // WHEN
    await env.run('reset', INSTANCE_ID);

    // THEN
    expect(env.out.text).toContain('✔ Nothing to put back (restore state machine');
  });

  test('Ctrl-C while following the restore detaches from it; the exit code stays the reset\'s', async () => {
    // GIVEN
    const env = fakeEnvironment();
    const reset = aborted();
    serveExecution(sfn, reset.events, { input: RESET_INPUT, status: 'ABORTED' });
    // Already listed at the first look: the first sleep is the restore's.
    listRestoresFrom(env, env.now());
    serveRestore(restoreHistory(reset.now, 'restored'), 'restored', 3);
    env.onSleep = () => env.interrupt();

    // WHEN
    const code = await env.run('reset', INSTANCE_ID);

    // THEN
    expect(code).toBe(1);
    expect(env.out.text).toContain('Detached from the restore after');
    expect(env.out.text).toContain(`Watch it:  cdk-ec2-reset-access status ${EXECUTION_ARN}`);
    expect(sfn).toHaveReceivedCommandTimes(StopExecutionCommand, 0);
  });

  test('Ctrl-C while waiting for the restore to appear stops waiting and says how to check', async () => {
    // GIVEN
    const env = fakeEnvironment();
    serveExecution(sfn, aborted().events, { input: RESET_INPUT, status: 'ABORTED' });
    sfn.on(ListExecutionsCommand, { stateMachineArn: RESTORE_MACHINE_ARN }).resolves({ executions: [] });
    env.onSleep = () => env.interrupt();

    // WHEN
    const code = await env.run('reset', INSTANCE_ID, '--json');

    // THEN
    expect(code).toBe(1);
    expect(JSON.parse(env.out.text).restore).toMatchObject({ status: 'UNKNOWN', reason: 'Detached', note: expect.stringContaining('list-executions') });
    expect(sfn).toHaveReceivedCommandTimes(ListExecutionsCommand, 1);
  });
});

describe('status of an ended reset', () => {
  test('an aborted reset whose restore runs: shows the reset, then follows the restore', async () => {
    // GIVEN
    const env = fakeEnvironment({ start: new Date('2026-05-01T03:30:00Z') });
    const reset = aborted();
    serveExecution(sfn, reset.events, { input: RESET_INPUT, status: 'ABORTED' });
    listRestoresFrom(env, reset.now);
    serveRestore(restoreHistory(reset.now, 'restored'), 'restored', 5);

    // WHEN
    const code = await env.run('status', EXECUTION_ARN);

    // THEN
    expect(code).toBe(1);
    expect(env.err.text).toContain(`Restore (restore state machine, started by EventBridge): ${RESTORE_ARN}`);
    expect(env.out.text).toContain(`✖ Reset of ${INSTANCE_ID} was stopped after`);
    expect(env.out.text).toContain('✔ The instance was put back as it was (restore state machine');
  });

  test('--no-wait shows the restore as it is now, without following it', async () => {
    // GIVEN
    const env = fakeEnvironment({ start: new Date('2026-05-01T03:30:00Z') });
    const reset = aborted();
    serveExecution(sfn, reset.events, { input: RESET_INPUT, status: 'ABORTED' });
    listRestoresFrom(env, reset.now);
    serveRestore(restoreHistory(reset.now, 'restored'), 'restored', 5);

    // WHEN
    const code = await env.run('status', EXECUTION_ARN, '--no-wait', '--json');

    // THEN
    expect(code).toBe(1);
    expect(JSON.parse(env.out.text).restore).toMatchObject({ executionArn: RESTORE_ARN, status: 'RUNNING' });
    expect(env.now()).toEqual(new Date('2026-05-01T03:30:00Z'));
  });

  test('a reset that ended long ago and has no restore: one look, no waiting', async () => {
    // GIVEN
    const env = fakeEnvironment({ start: new Date('2026-05-02T09:00:00Z') });
    serveExecution(sfn, aborted().events, { input: RESET_INPUT, status: 'ABORTED' });
    sfn.on(ListExecutionsCommand, { stateMachineArn: RESTORE_MACHINE_ARN }).resolves({ executions: [] });

    // WHEN
    const code = await env.run('status', EXECUTION_ARN);

    // THEN
    expect(code).toBe(1);
    expect(sfn).toHaveReceivedCommandTimes(ListExecutionsCommand, 1);
    expect(env.out.text).toContain('Could not follow the restore: No execution of the restore state machine names this reset');
  });
});
