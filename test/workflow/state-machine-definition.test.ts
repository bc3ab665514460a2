import validator from 'asl-validator';
import { Stack } from 'aws-cdk-lib';
import { workflowStack } from './workflow-fixture';
import { ERRORS } from '../../src/workflow/private/contracts';
import { POLL_BOUNDS, STATE_PATHS, TRANSIENT_ERRORS } from '../../src/workflow/private/state-machine-definition';
import { COMMAND_POLL_SECONDS, commandDeadlineSeconds } from '../../src/workflow/private/timeouts';
import { stateMachineDefinition } from '../helpers/asl';

type States = Record<string, any>;

/** Every state of a definition, including those inside Parallel branches, with the name of the Parallel it is in. */
function allStates(states: States, parallel?: string): Array<[string, any, string | undefined]> {
  return Object.entries(states).flatMap(([name, state]) => [
    [name, state, parallel] as [string, any, string | undefined],
    ...(state.Branches ?? []).flatMap((branch: any) => allStates(branch.States, name)),
  ]);
}

/** The states a state transitions to in normal flow (not Catch). */
function successors(state: any): string[] {
  return [
    ...(state.Next ? [state.Next] : []),
    ...(state.Choices ?? []).map((choice: any) => choice.Next),
    ...(state.Default ? [state.Default] : []),
  ];
}

/** States reachable from `start` (normal flow and Catch), never entering `blocked`. */
function reachable(states: States, start: string, blocked: Set<string> = new Set()): Set<string> {
  const seen = new Set<string>();
  const queue = [start];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (seen.has(name) || blocked.has(name)) continue;
    seen.add(name);
    const state = states[name];
    queue.push(...successors(state), ...(state.Catch ?? []).map((c: any) => c.Next));
  }
  return seen;
}

describe('reset state machine definition', () => {
  let stack: Stack;
  let definition: Record<string, any>;
  let states: States;

  // The definition is only read: synthesize it once.
  beforeAll(() => {
    stack = workflowStack().stack;
    definition = stateMachineDefinition(stack, 'WorkflowResetStateMachine');
    states = definition.States;
  });

  test('is valid Amazon States Language', () => {
    // WHEN
    const result = validator(structuredClone(definition)); // it annotates what it is given

    // THEN
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  test('uses JSONPath only: no JSONata, no variables', () => {
    // THEN
    const json = JSON.stringify(definition);
    expect(json).not.toMatch(/JSONata|"Assign"|"Arguments"|"Output"|\{%/);
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
  });

  test('invokes each function directly by ARN with an explicit payload', () => {
    // THEN
    const tasks = allStates(states).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(10);
    for (const [name, task] of tasks) {
      expect({ name, resource: task.Resource }).toEqual({ name, resource: expect.stringMatching(/^arn:aws:lambda:us-east-1:123456789012:function:/) });
      expect({ name, parameters: typeof task.Parameters }).toEqual({ name, parameters: 'object' });
      expect({ name, hasResultPath: typeof task.ResultPath }).toEqual({ name, hasResultPath: 'string' });
    }
  });

  test('every Task retries Lambda service errors and throttling, with full jitter, and never the named preflight errors', () => {
    // THEN
    for (const [name, task] of allStates(states).filter(([, s]) => s.Type === 'Task')) {
      const retries = task.Retry as any[];
      const transient = retries.find(r => r.ErrorEquals.includes('Lambda.ServiceException'));
      expect({ name, transient }).toEqual({
        name,
        transient: { ErrorEquals: TRANSIENT_ERRORS, IntervalSeconds: 2, BackoffRate: 2, MaxAttempts: 6, JitterStrategy: 'FULL' },
      });
      const retried = retries.flatMap(r => r.ErrorEquals);
      for (const named of [ERRORS.invalidInput, ERRORS.notWindows, ERRORS.targetNotAllowed, ERRORS.resetInProgress]) {
        expect({ name, retried: retried.includes(named) }).toEqual({ name, retried: false });
      }
    }
  });

  test('every Task and Parallel after AcquireLock catches States.ALL into RecordFailure, except the failure restore itself', () => {
    // GIVEN
    const afterLock = reachable(states, 'AcquireLock');
    const failureRestore = [...afterLock].filter(name => name.startsWith('RestoreAfterFailure'));

    // THEN
    const guarded = [...afterLock]
      .filter(name => ['Task', 'Parallel'].includes(states[name].Type))
      .filter(name => !failureRestore.includes(name));
    expect(guarded).toEqual(expect.arrayContaining(['AcquireLock', 'Prepare', 'AttachToHelper', 'SendOfflineFix', 'CheckOfflineFix',
      'SendOnlineReset', 'CheckOnlineReset', 'RestoreAfterSuccess', 'CheckPassword']));
    for (const name of guarded) {
      const catchAll = (states[name].Catch ?? []).find((c: any) => c.ErrorEquals.includes('States.ALL'));
      expect({ name, catchAll }).toEqual({ name, catchAll: { ErrorEquals: ['States.ALL'], ResultPath: STATE_PATHS.failure, Next: 'RecordFailure' } });
    }
  });

  test('RecordFailure leads to the restore (succeeded=false) and only then to ResetFailed, which fails with the recorded error', () => {
    // THEN
    expect(states.RecordFailure.Next).toBe('RestoreAfterFailureStart');
    expect(states.RestoreAfterFailure.Parameters).toEqual({ 'plan.$': '$.plan', 'succeeded': false });
    expect(reachable(states, 'RecordFailure', new Set(['RestoreAfterFailure'])).has('ResetFailed')).toBe(false);
    expect(states.ResetFailed).toEqual({ Type: 'Fail', ErrorPath: '$.failure.Error', CausePath: '$.failure.Cause' });
  });

  test('after AcquireLock, no path reaches a terminal state without a restore — except a lock held by another execution', () => {
    // GIVEN
    const afterLock = reachable(states, 'AcquireLock');
    const terminals = [...afterLock].filter(name => ['Succeed', 'Fail'].includes(states[name].Type));

    // THEN: with both restore tasks removed from the graph, only LockHeld stays reachable.
    const withoutRestore = reachable(states, 'AcquireLock', new Set(['RestoreAfterSuccess', 'RestoreAfterFailure']));
    expect(terminals.filter(name => withoutRestore.has(name))).toEqual(['LockHeld']);
    expect(states.AcquireLock.Catch[0]).toEqual({ ErrorEquals: [ERRORS.resetInProgress], ResultPath: '$.failure', Next: 'LockHeld' });
    // A success goes through the restore that succeeded=true.
    expect(reachable(states, 'AcquireLock', new Set(['RestoreAfterSuccess'])).has('ResetSucceeded')).toBe(false);
    expect(states.RestoreAfterSuccess.Parameters).toEqual({ 'plan.$': '$.plan', 'succeeded': true });
  });

  test('a poll loop that exceeds its bound records a named error and goes to the restore', () => {
    // THEN
    const bounded = {
      'AttachToHelperDone?': ['VolumeNotAttachedInTime', 'VolumeNotAttached', POLL_BOUNDS.attach],
      'CheckOfflineFixDone?': ['OfflineFixNotFinished', ERRORS.commandFailed, POLL_BOUNDS.offlineFix],
      'CheckOnlineResetDone?': ['OnlineResetNotFinished', ERRORS.commandFailed, POLL_BOUNDS.onlineReset],
      'CheckPasswordDone?': ['PasswordNotGeneratedInTime', ERRORS.passwordNotGenerated, POLL_BOUNDS.password],
    } as const;
    for (const [choice, [pass, error, bound]] of Object.entries(bounded)) {
      expect(states[choice].Choices).toEqual([
        { Variable: expect.stringMatching(/\.done$/), BooleanEquals: true, Next: expect.any(String) },
        { Variable: '$.loop.count', NumericGreaterThanEquals: bound, Next: pass },
      ]);
      expect(states[pass]).toEqual({ Type: 'Pass', Result: { Error: error, Cause: expect.any(String) }, ResultPath: '$.failure', Next: 'RecordFailure' });
    }
  });

  test('a command is polled longer than Run Command may take to end it (delivery timeout plus execution timeout)', () => {
    // GIVEN the shortest wait check-command asks for
    const shortest = Math.min(...Object.values(COMMAND_POLL_SECONDS));
    const loops = { 'CheckOfflineFixDone?': 'offline-password-fix', 'CheckOnlineResetDone?': 'online-reset', 'CheckInstallDone?': 'install-ec2rescue' } as const;

    // THEN: even at the shortest wait, the bound outlasts the command's own timeouts (1,800 s for the offline fix)
    expect(commandDeadlineSeconds('offline-password-fix')).toBe(600 + 1200);
    for (const [choice, command] of Object.entries(loops)) {
      const bound = allStates(states).find(([name]) => name === choice)![1].Choices[1].NumericGreaterThanEquals;
      expect({ choice, covers: bound * shortest > commandDeadlineSeconds(command) }).toEqual({ choice, covers: true });
    }
  });

  test('poll loops wait the seconds the step suggests and count their polls', () => {
    // THEN
    expect(states.AttachToHelperWait).toEqual({ Type: 'Wait', SecondsPath: '$.poll.waitSeconds', Next: 'AttachToHelperCount' });
    expect(states.AttachToHelperCount).toEqual({
      Type: 'Pass', Parameters: { 'count.$': 'States.MathAdd($.loop.count, 1)' }, ResultPath: '$.loop', Next: 'AttachToHelper',
    });
    expect(states.AttachToHelperStart).toEqual({ Type: 'Pass', Result: { count: 0 }, ResultPath: '$.loop', Next: 'AttachToHelper' });
  });

  test('prepares the target and the helper in parallel and keeps the state layout', () => {
    // THEN
    const prepare = states.Prepare;
    expect(prepare.Type).toBe('Parallel');
    expect(prepare.Branches.map((b: any) => b.StartAt)).toEqual(['PrepareTargetStart', 'LaunchHelper']);
    expect(prepare.ResultSelector).toEqual({
      'request.$': '$[0].request', 'plan.$': '$[0].plan', 'lock.$': '$[0].lock', 'backupImage.$': '$[0].backupImage', 'helper.$': '$[1].helper',
    });
    const [target, helper] = prepare.Branches;
    expect(Object.keys(target.States)).toEqual(expect.arrayContaining(['PrepareTarget', 'CreateBackupImage']));
    expect(Object.keys(helper.States)).toEqual(expect.arrayContaining(['LaunchHelper', 'CheckHelperReady', 'SendInstallEc2Rescue', 'CheckInstall']));
    expect(helper.States.SendInstallEc2Rescue.Parameters).toEqual({
      'plan.$': '$.plan', 'command': 'install-ec2rescue', 'targetInstanceId.$': '$.helper.helperInstanceId',
    });
    expect(helper.States.HelperNotReadyInTime).toEqual({ Type: 'Fail', Error: ERRORS.helperNotReady, Cause: expect.any(String) });
  });

  test('builds the preflight event from the input and the execution context', () => {
    // THEN
    expect(definition.StartAt).toBe('ReadRequest');
    expect(states.ReadRequest.Parameters).toEqual({ 'request.$': '$' });
    expect(states.Preflight.Parameters).toEqual({
      'request.$': '$.request',
      'executionArn.$': '$$.Execution.Id',
      'executionName.$': '$$.Execution.Name',
      'startTime.$': '$$.Execution.StartTime',
    });
    expect(states.Preflight.ResultPath).toBe('$.plan');
    expect(states.Preflight.Catch).toBeUndefined();
  });

  test('a dry run succeeds with the plan before taking the lock', () => {
    // THEN
    expect(states['DryRun?'].Choices).toEqual([{ Variable: '$.plan.dryRun', BooleanEquals: true, Next: 'DryRunPlan' }]);
    expect(states['DryRun?'].Default).toBe('AcquireLock');
    expect(states.DryRunPlan).toEqual({ Type: 'Succeed', OutputPath: '$.plan' });
  });

  test('the success output follows the contract and checks the password only when the target was running and has a key pair', () => {
    // THEN
    expect(states.ResetSucceeded).toEqual({ Type: 'Succeed', OutputPath: '$.output' });
    expect(states['PasswordCheckNeeded?'].Choices).toEqual([
      { Variable: '$.plan.method', StringEquals: 'online', Next: 'OnlineOutput' },
      // No key pair: GetPasswordData never returns a password, so nothing is waited for.
      { Not: { Variable: '$.plan.keyName', IsPresent: true }, Next: 'PasswordWithoutKeyPair' },
      { Variable: '$.plan.originalState', StringEquals: 'running', Next: 'CheckPasswordStart' },
    ]);
    expect(states.PasswordWithoutKeyPair).toMatchObject({ Type: 'Pass', Result: 'no-key-pair', ResultPath: '$.passwordStatus', Next: 'OfflineOutput' });
    expect(states.OfflineOutput.Parameters).toEqual({
      'instanceId.$': '$.plan.instanceId', 'method.$': '$.plan.method', 'backupImageId.$': '$.backupImage.imageId', 'passwordStatus.$': '$.passwordStatus',
    });
    expect(states.OnlineOutput.Parameters).toEqual({
      'instanceId.$': '$.plan.instanceId',
      'method.$': '$.plan.method',
      'passwordParameterName.$': 'States.Format(\'/EC2Rescue/Passwords/{}\', $.plan.instanceId)',
      'passwordStatus': 'stored-in-parameter',
    });
  });

  test('no state carries a password or password data (I5)', () => {
    // GIVEN: every field name and path that moves data between states (static Result literals and
    // error causes are constants and cannot carry a secret).
    const references = (value: unknown): string[] => {
      if (typeof value === 'string') return [value];
      if (!value || typeof value !== 'object') return [];
      return Object.entries(value as Record<string, unknown>).flatMap(([key, v]) =>
        [key, ...(key.endsWith('.$') ? [String(v)] : references(typeof v === 'object' ? v : undefined))]);
    };
    const shaping = allStates(states).flatMap(([name, s]) =>
      ['Parameters', 'ResultSelector', 'OutputPath', 'InputPath', 'ResultPath'].filter(k => s[k] !== undefined)
        .map(k => [name, k, references(s[k])] as const));
    const words = (value: string[]): string[] => value.join(' ').split(/[^A-Za-z-]+/).filter(Boolean);

    // THEN: only the documented, non-secret names mention passwords.
    const allowed = ['passwordStatus', 'passwordParameterName', 'passwordEnabledImageId', 'Passwords', 'offline-password-fix'];
    for (const [name, field, value] of shaping) {
      const mentions = words(value).filter(w => /password/i.test(w) && !allowed.includes(w));
      expect({ name, field, mentions }).toEqual({ name, field, mentions: [] });
    }
    // Task results land only at the documented paths; nothing is spread over the state.
    const resultPaths = new Set<string>([STATE_PATHS.plan, STATE_PATHS.lock, STATE_PATHS.helper, STATE_PATHS.backupImage,
      STATE_PATHS.command, STATE_PATHS.poll, STATE_PATHS.restore]);
    for (const [name, task] of allStates(states).filter(([, s]) => s.Type === 'Task')) {
      expect({ name, resultPath: resultPaths.has(task.ResultPath) }).toEqual({ name, resultPath: true });
    }
  });

  test('CheckPassword gets only the plan and keeps only a poll result', () => {
    expect(states.CheckPassword.Parameters).toEqual({ 'plan.$': '$.plan' });
    expect(states.CheckPassword.ResultPath).toBe('$.poll');
    expect(states.CheckPassword.ResultSelector).toBeUndefined();
  });

  test('carries the execution timeout', () => {
    expect(definition.TimeoutSeconds).toBe(7200);
  });
});

describe('restore state machine definition', () => {
  let definition: Record<string, any>;
  let states: States;

  beforeAll(() => {
    definition = stateMachineDefinition(workflowStack().stack, 'WorkflowRestoreStateMachine');
    states = definition.States;
  });

  test('is valid Amazon States Language', () => {
    const result = validator(structuredClone(definition)); // it annotates what it is given
    expect(result.errors).toEqual([]);
  });

  test('loads the journal of the ended execution, then runs the same restore loop', () => {
    // THEN
    expect(definition.StartAt).toBe('LoadJournal');
    // The restore records its own execution in the journal (the reconciler then knows a restore runs).
    expect(states.LoadJournal.Parameters).toEqual({ 'executionArn.$': '$.executionArn', 'input.$': '$.input', 'restoreExecutionArn.$': '$$.Execution.Id' });
    expect(states.LoadJournal.ResultPath).toBe('$.journal');
    expect(states['JournalFound?'].Choices).toEqual([{ Variable: '$.journal.found', BooleanEquals: true, Next: 'UseJournalPlan' }]);
    expect(states['JournalFound?'].Default).toBe('NothingToRestore');
    expect(states.UseJournalPlan).toEqual({ Type: 'Pass', InputPath: '$.journal.plan', ResultPath: '$.plan', Next: 'RestoreStart' });
    expect(states.Restore.Parameters).toEqual({ 'plan.$': '$.plan', 'succeeded': false });
    expect(states['RestoreDone?'].Choices[0]).toEqual({ Variable: '$.restore.done', BooleanEquals: true, Next: 'Restored' });
  });

  test('the restore loop is the same fragment as in the reset machine', () => {
    // GIVEN
    const reset = stateMachineDefinition(workflowStack().stack, 'WorkflowResetStateMachine').States;
    const strip = (name: string, prefix: string) => JSON.parse(JSON.stringify(reset[name]).split('RestoreAfterFailure').join(prefix));

    // THEN
    for (const suffix of ['', 'Start', 'Wait', 'Count']) {
      expect(states[`Restore${suffix}`]).toEqual(strip(`RestoreAfterFailure${suffix}`, 'Restore'));
    }
    expect(states.Restore.Resource).toBe(reset.RestoreAfterFailure.Resource);
  });

  test('retries the restore on any error, slowly, after the transient retries', () => {
    expect(states.Restore.Retry.at(-1)).toEqual({
      ErrorEquals: ['States.ALL'], IntervalSeconds: 15, BackoffRate: 2, MaxAttempts: 4, JitterStrategy: 'FULL',
    });
  });
});
