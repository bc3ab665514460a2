import { ProgressTracker } from '../../../cli/core/history';
import { RESTORE_STEPS } from '../../../cli/core/steps';
import { HistoryBuilder, INSTANCE_ID, offlineSuccess, PLAN } from '../history-fixture';

const summary = (tracker: ProgressTracker) => tracker.steps.map(s => `${s.id}:${s.status}`);

describe('ProgressTracker', () => {
  test('follows an offline reset step by step, the parallel lanes included', () => {
    // GIVEN
    const history = offlineSuccess();
    const tracker = new ProgressTracker();

    // WHEN
    const changes = tracker.apply(history.events);

    // THEN
    expect(summary(tracker)).toEqual([
      'preflight:succeeded', 'lock:succeeded', 'stop:succeeded', 'launch-helper:succeeded', 'backup:succeeded',
      'helper-ready:succeeded', 'install:succeeded', 'attach:succeeded', 'offline-fix:succeeded', 'restore:succeeded',
      'password:succeeded',
    ]);
    expect(tracker.status).toBe('SUCCEEDED');
    expect(tracker.startedAt).toEqual(new Date('2026-05-01T03:15:00Z'));
    expect(changes.at(-1)).toEqual({ kind: 'finished', status: 'SUCCEEDED' });
    // The stop ends when its lane's next step starts, not when the other lane moves.
    const stop = tracker.steps.find(s => s.id === 'stop')!;
    const backup = tracker.steps.find(s => s.id === 'backup')!;
    expect(stop.endedAt).toEqual(backup.startedAt);
    expect(stop.endedAt!.getTime() - stop.startedAt.getTime()).toBe(63_000);
    // The last step of a parallel lane ends when its state exits, not when the other lane is done.
    expect(backup.endedAt!.getTime() - backup.startedAt.getTime()).toBe(1_000);
  });

  test('an online reset (auto, decided by the preflight) releases the lock instead of putting back an instance that never left', () => {
    // GIVEN
    const history = new HistoryBuilder().started({ instanceId: INSTANCE_ID, method: 'auto' })
      .task('Preflight', { output: { ...PLAN, method: 'online', dryRun: false } })
      .task('AcquireLock')
      .task('SendOnlineReset')
      .pollLoop('CheckOnlineReset', ['command succeeded'])
      .pollLoop('RestoreAfterSuccess', ['restored']);
    const offline = new ProgressTracker();
    const online = new ProgressTracker();

    // WHEN
    online.apply(history.events);
    offline.apply(offlineSuccess().events);

    // THEN
    expect(online.steps.map(s => s.label)).toEqual([
      'Preflight checks', 'Take the instance\'s lock', 'Reset the password (EC2Rescue, online)', 'Release the instance\'s lock',
    ]);
    expect(offline.steps.find(s => s.id === 'restore')!.label).toBe('Put the instance back');
  });

  test('reports each step\'s poll status once, as it changes', () => {
    // GIVEN
    const tracker = new ProgressTracker();

    // WHEN
    const details = tracker.apply(offlineSuccess().events).filter(c => c.kind === 'detail').map(c => c.kind === 'detail' && c.step.id);

    // THEN
    expect(details.filter(id => id === 'stop')).toHaveLength(2);
    expect(tracker.steps.find(s => s.id === 'password')!.detail).toBe('a new password was generated');
  });

  test('applies each event once, whatever the batches', () => {
    // GIVEN
    const events = offlineSuccess().events;
    const once = new ProgressTracker();
    const inBatches = new ProgressTracker();
    once.apply(events);

    // WHEN: overlapping, out-of-order batches, as pages of a reversed history come
    for (let end = 10; end < events.length + 10; end += 10) inBatches.apply(events.slice(Math.max(0, end - 15), end).reverse());

    // THEN
    expect(inBatches.steps).toEqual(once.steps);
    expect(inBatches.lastSeenEventId).toBe(events.length);
  });

  test('a failure during the reset marks the failing step, halts the other lane, then shows the restore', () => {
    // GIVEN: the helper never comes online; the Parallel's Catch records it and restores
    const h = new HistoryBuilder();
    h.started({ instanceId: INSTANCE_ID }).state('Pass', 'ReadRequest').task('Preflight', { output: PLAN }).task('AcquireLock')
      .enterParallel('Prepare')
      .pollLoop('PrepareTarget', ['stopping the target'], { branch: 'target' })
      .task('LaunchHelper', { branch: 'helper' })
      .state('Pass', 'CheckHelperReadyStart', { branch: 'helper' })
      .task('CheckHelperReady', { branch: 'helper', output: { done: false, status: 'helper running, SSM none' } })
      .state('Fail', 'HelperNotReadyInTime', { branch: 'helper' })
      .state('Pass', 'RecordFailure', { input: { failure: { Error: 'HelperNotReady', Cause: 'The helper did not come Online.' } } })
      .pollLoop('RestoreAfterFailure', ['restored'])
      .failed('HelperNotReady', 'The helper did not come Online.');
    const tracker = new ProgressTracker();

    // WHEN
    tracker.apply(h.events);

    // THEN
    expect(summary(tracker)).toEqual([
      'preflight:succeeded', 'lock:succeeded', 'stop:stopped', 'launch-helper:succeeded', 'helper-ready:failed', 'restore-after-failure:succeeded',
    ]);
    expect(tracker.steps.find(s => s.id === 'helper-ready')!.error).toBe('HelperNotReady');
    expect(tracker.failure).toEqual({ error: 'HelperNotReady', cause: 'The helper did not come Online.' });
    expect(tracker.status).toBe('FAILED');
  });

  test('a retried error that then succeeds is not the failure', () => {
    // GIVEN: AttachToHelper throws NotYet once, succeeds on retry; the offline fix then fails
    const h = new HistoryBuilder();
    h.started({ instanceId: INSTANCE_ID }).task('Preflight', { output: PLAN }).task('AcquireLock')
      .task('AttachToHelper', { error: 'NotYet', cause: 'volume busy' })
      .task('AttachToHelper', { output: { done: true, status: 'root volume attached to the helper' } })
      .task('SendOfflineFix', { error: 'CommandFailed', cause: 'exit 1' })
      .state('Pass', 'RecordFailure', { input: { failure: { Error: 'CommandFailed', Cause: 'exit 1' } } })
      .pollLoop('RestoreAfterFailure', ['restored'])
      .failed('CommandFailed', 'exit 1');
    const tracker = new ProgressTracker();

    // WHEN
    tracker.apply(h.events);

    // THEN
    expect(summary(tracker)).toEqual(['preflight:succeeded', 'lock:succeeded', 'attach:succeeded', 'offline-fix:failed', 'restore-after-failure:succeeded']);
  });

  test('a preflight blocker fails the preflight step with its name', () => {
    // GIVEN
    const h = new HistoryBuilder();
    h.started({ instanceId: INSTANCE_ID }).state('Pass', 'ReadRequest')
      .task('Preflight', { error: 'InstanceNotFound', cause: 'No instance i-0123456789abcdef0.' })
      .failed('InstanceNotFound', 'No instance i-0123456789abcdef0.');
    const tracker = new ProgressTracker();

    // WHEN
    tracker.apply(h.events);

    // THEN
    expect(summary(tracker)).toEqual(['preflight:failed']);
    expect(tracker.steps[0].error).toBe('InstanceNotFound');
    expect(tracker.failure).toEqual({ error: 'InstanceNotFound', cause: 'No instance i-0123456789abcdef0.' });
  });

  test('an aborted execution halts its running steps', () => {
    // GIVEN
    const h = new HistoryBuilder();
    h.started({ instanceId: INSTANCE_ID }).task('Preflight', { output: PLAN }).task('AcquireLock')
      .pollLoop('AttachToHelper', ['detaching the root volume from the target', 'x']).aborted();
    const tracker = new ProgressTracker();

    // WHEN
    tracker.apply(h.events);

    // THEN
    expect(tracker.status).toBe('ABORTED');
    expect(tracker.steps.at(-1)).toMatchObject({ id: 'attach', status: 'stopped' });
    expect(tracker.failure?.error).toBe('ABORTED');
  });

  test('follows the restore state machine with its own steps, and marks a restore that does not converge', () => {
    // GIVEN
    const tracker = new ProgressTracker(RESTORE_STEPS);
    const history = new HistoryBuilder().started({ executionArn: 'arn', input: '{}' }).task('LoadJournal', { output: { found: true, plan: PLAN } })
      .state('Choice', 'JournalFound?').state('Pass', 'UseJournalPlan').pollLoop('Restore', ['waiting', 'still waiting'])
      .state('Fail', 'RestoreIncomplete').failed('RestoreIncomplete', 'did not converge');

    // WHEN
    tracker.apply(history.events);

    // THEN
    expect(summary(tracker)).toEqual(['restore-journal:succeeded', 'restore-machine:failed']);
    expect(tracker.steps[1].error).toBe('RestoreIncomplete');
    expect(tracker.enteredFailurePath).toBe(false);
  });

  test('knows whether a reset went through its own failure path', () => {
    // GIVEN
    const tracker = new ProgressTracker();

    // WHEN
    tracker.apply(new HistoryBuilder().started({ instanceId: INSTANCE_ID }).task('Preflight', { output: PLAN })
      .task('SendOfflineFix', { error: 'CommandFailed' }).state('Pass', 'RecordFailure').events);

    // THEN
    expect(tracker.enteredFailurePath).toBe(true);
  });
});
