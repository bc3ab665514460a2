import { nextPrepareAction, PrepareObservation } from '../../../src/workflow/private/prepare-target-plan';
import { STOP_BOUNDS } from '../../../src/workflow/private/timeouts';
import { offlinePlan } from '../fixtures';

const NOW = 1_800_000_000;
/** An observation now, of a target whose root volume is already marked (unless it says otherwise). */
const at = (o: Omit<PrepareObservation, 'nowEpochSeconds' | 'rootVolumeMarked'> & { rootVolumeMarked?: boolean }): PrepareObservation =>
  ({ rootVolumeMarked: true, ...o, nowEpochSeconds: NOW });

describe('nextPrepareAction', () => {
  const plan = offlinePlan();
  const standbyPlan = offlinePlan({ manageStandby: true, autoScalingGroupName: 'web-asg' });

  test.each<[string, PrepareObservation, ReturnType<typeof nextPrepareAction>['kind']]>([
    ['running, DeleteOnTermination true → keep the root volume first', at({ state: 'running', rootDeleteOnTermination: true }), 'keep-root-volume'],
    ['running, root kept → stop', at({ state: 'running', rootDeleteOnTermination: false }), 'stop'],
    ['stopping, stop journaled → wait', at({ state: 'stopping', rootDeleteOnTermination: false, stopRequestedAt: NOW - 30 }), 'wait'],
    ['pending → wait, then stop', at({ state: 'pending', rootDeleteOnTermination: false }), 'wait'],
    ['stopped → done', at({ state: 'stopped', rootDeleteOnTermination: false }), 'done'],
    ['already stopped, root still deleted on termination → keep it, then done', at({ state: 'stopped', rootDeleteOnTermination: true }), 'keep-root-volume'],
  ])('%s', (_, observed, kind) => {
    expect(nextPrepareAction(observed, plan).kind).toBe(kind);
  });

  test('the root volume is marked before anything changes (the workflow may touch only marked volumes)', () => {
    // GIVEN a target whose root is not marked yet, in a group, deleting its root on termination
    const observed = at({ rootVolumeMarked: false, state: 'running', rootDeleteOnTermination: true, autoScalingLifecycleState: 'InService' });
    // THEN marking comes first, and then Standby
    expect(nextPrepareAction(observed, standbyPlan).kind).toBe('mark-root-volume');
    expect(nextPrepareAction({ ...observed, rootVolumeMarked: true }, standbyPlan).kind).toBe('enter-standby');
  });

  test('an instance in an Auto Scaling group enters Standby before anything else', () => {
    expect(nextPrepareAction(at({ state: 'running', rootDeleteOnTermination: true, autoScalingLifecycleState: 'InService' }), standbyPlan).kind).toBe('enter-standby');
  });

  test('entering Standby → wait', () => {
    expect(nextPrepareAction(at({ state: 'running', rootDeleteOnTermination: true, autoScalingLifecycleState: 'EnteringStandby' }), standbyPlan))
      .toMatchObject({ kind: 'wait', reason: expect.stringMatching(/EnteringStandby/) });
  });

  test('already in Standby → go on', () => {
    expect(nextPrepareAction(at({ state: 'running', rootDeleteOnTermination: false, autoScalingLifecycleState: 'Standby' }), standbyPlan).kind).toBe('stop');
  });

  test('Standby is not managed when the plan says so (instance already in Standby before)', () => {
    expect(nextPrepareAction(at({ state: 'running', rootDeleteOnTermination: false, autoScalingLifecycleState: 'InService' }), plan).kind).toBe('stop');
  });

  test.each(['terminated', 'shutting-down'])('a %s target fails with InstanceStateUnsupported', state => {
    expect(() => nextPrepareAction(at({ state, rootDeleteOnTermination: false }), plan)).toThrow(expect.objectContaining({ name: 'InstanceStateUnsupported' }));
  });

  describe('a stop that hangs', () => {
    const bound = STOP_BOUNDS.target.gracefulSeconds;
    const stopping = (requestedAgo: number, forcedAgo?: number) => at({
      state: 'stopping',
      rootDeleteOnTermination: false,
      stopRequestedAt: NOW - requestedAgo,
      ...(forcedAgo === undefined ? {} : { forceStopRequestedAt: NOW - forcedAgo }),
    });

    test('the first stop is a normal one', () => {
      expect(nextPrepareAction(at({ state: 'running', rootDeleteOnTermination: false }), plan)).toEqual({ kind: 'stop', force: false });
    });

    test('within its bound the stop is waited for', () => {
      expect(nextPrepareAction(stopping(bound - 1), plan)).toMatchObject({ kind: 'wait', reason: expect.stringMatching(/forced after 900 s/) });
    });

    test('once the bound has passed it is forced, once', () => {
      expect(nextPrepareAction(stopping(bound), plan)).toEqual({ kind: 'stop', force: true });
      expect(nextPrepareAction(stopping(bound + 60, 30), plan)).toMatchObject({ kind: 'wait', reason: expect.stringMatching(/forced stop 30 s ago/) });
    });

    test('a stop someone else asked for (not journaled) is journaled by asking again, not forced', () => {
      expect(nextPrepareAction(at({ state: 'stopping', rootDeleteOnTermination: false }), plan)).toEqual({ kind: 'stop', force: false });
    });

    test('an instance still running after its stop was asked for is asked again, and forced after the bound', () => {
      expect(nextPrepareAction(at({ state: 'running', rootDeleteOnTermination: false, stopRequestedAt: NOW - 20 }), plan)).toEqual({ kind: 'stop', force: false });
      expect(nextPrepareAction(at({ state: 'running', rootDeleteOnTermination: false, stopRequestedAt: NOW - bound }), plan)).toEqual({ kind: 'stop', force: true });
    });
  });

  test('converges from every start: a loop of decisions ends stopped with the root kept, even when the stop hangs', () => {
    for (const state of ['running', 'pending', 'stopping', 'stopped']) {
      for (const dot of [true, false]) {
        for (const lifecycle of ['InService', 'EnteringStandby', 'Standby']) {
          for (const hangs of [false, true]) {
            // GIVEN
            const o: { -readonly [K in keyof PrepareObservation]: PrepareObservation[K] } = {
              rootVolumeMarked: true, state, rootDeleteOnTermination: dot, autoScalingLifecycleState: lifecycle, nowEpochSeconds: NOW,
            };
            let forced = false;
            // WHEN (each wait lasts a minute)
            for (let i = 0; i < 100; i++) {
              const action = nextPrepareAction(o, standbyPlan);
              if (action.kind === 'done') break;
              if (action.kind === 'enter-standby') o.autoScalingLifecycleState = 'EnteringStandby';
              if (action.kind === 'keep-root-volume') o.rootDeleteOnTermination = false;
              if (action.kind === 'stop') {
                if (o.state === 'running') o.state = 'stopping';
                if (action.force) {
                  o.forceStopRequestedAt ??= o.nowEpochSeconds;
                  forced = true;
                } else {
                  o.stopRequestedAt ??= o.nowEpochSeconds;
                }
              }
              if (action.kind === 'wait') {
                o.nowEpochSeconds += 60;
                if (o.state === 'pending') o.state = 'running';
                else if (o.state === 'stopping' && (!hangs || o.forceStopRequestedAt !== undefined)) o.state = 'stopped';
                if (o.autoScalingLifecycleState === 'EnteringStandby') o.autoScalingLifecycleState = 'Standby';
              }
            }
            // THEN
            expect({ state: o.state, dot: o.rootDeleteOnTermination, lifecycle: o.autoScalingLifecycleState })
              .toEqual({ state: 'stopped', dot: false, lifecycle: 'Standby' });
            // Forced only when it hung, and only after the bound.
            if (forced) expect(o.forceStopRequestedAt! - o.stopRequestedAt!).toBeGreaterThanOrEqual(STOP_BOUNDS.target.gracefulSeconds);
            if (!hangs) expect(forced).toBe(false);
          }
        }
      }
    }
  });
});
