import { nextPrepareAction, PrepareObservation } from '../../../src/workflow/private/prepare-target-plan';
import { offlinePlan } from '../fixtures';

describe('nextPrepareAction', () => {
  const plan = offlinePlan();
  const standbyPlan = offlinePlan({ manageStandby: true, autoScalingGroupName: 'web-asg' });

  test.each<[string, PrepareObservation, ReturnType<typeof nextPrepareAction>['kind']]>([
    ['running, DeleteOnTermination true → keep the root volume first', { rootVolumeMarked: true, state: 'running', rootDeleteOnTermination: true }, 'keep-root-volume'],
    ['running, root kept → stop', { rootVolumeMarked: true, state: 'running', rootDeleteOnTermination: false }, 'stop'],
    ['stopping → wait', { rootVolumeMarked: true, state: 'stopping', rootDeleteOnTermination: false }, 'wait'],
    ['pending → wait, then stop', { rootVolumeMarked: true, state: 'pending', rootDeleteOnTermination: false }, 'wait'],
    ['stopped → done', { rootVolumeMarked: true, state: 'stopped', rootDeleteOnTermination: false }, 'done'],
    ['already stopped, root still deleted on termination → keep it, then done', { rootVolumeMarked: true, state: 'stopped', rootDeleteOnTermination: true }, 'keep-root-volume'],
  ])('%s', (_, observed, kind) => {
    expect(nextPrepareAction(observed, plan).kind).toBe(kind);
  });

  test('the root volume is marked before anything changes (the workflow may touch only marked volumes)', () => {
    // GIVEN a target whose root is not marked yet, in a group, deleting its root on termination
    const observed = { rootVolumeMarked: false, state: 'running', rootDeleteOnTermination: true, autoScalingLifecycleState: 'InService' };
    // THEN marking comes first, and then Standby
    expect(nextPrepareAction(observed, standbyPlan).kind).toBe('mark-root-volume');
    expect(nextPrepareAction({ ...observed, rootVolumeMarked: true }, standbyPlan).kind).toBe('enter-standby');
  });

  test('an instance in an Auto Scaling group enters Standby before anything else', () => {
    expect(nextPrepareAction({ rootVolumeMarked: true, state: 'running', rootDeleteOnTermination: true, autoScalingLifecycleState: 'InService' }, standbyPlan).kind).toBe('enter-standby');
  });

  test('entering Standby → wait', () => {
    expect(nextPrepareAction({ rootVolumeMarked: true, state: 'running', rootDeleteOnTermination: true, autoScalingLifecycleState: 'EnteringStandby' }, standbyPlan))
      .toMatchObject({ kind: 'wait', reason: expect.stringMatching(/EnteringStandby/) });
  });

  test('already in Standby → go on', () => {
    expect(nextPrepareAction({ rootVolumeMarked: true, state: 'running', rootDeleteOnTermination: false, autoScalingLifecycleState: 'Standby' }, standbyPlan).kind).toBe('stop');
  });

  test('Standby is not managed when the plan says so (instance already in Standby before)', () => {
    expect(nextPrepareAction({ rootVolumeMarked: true, state: 'running', rootDeleteOnTermination: false, autoScalingLifecycleState: 'InService' }, plan).kind).toBe('stop');
  });

  test.each(['terminated', 'shutting-down'])('a %s target fails with InstanceStateUnsupported', state => {
    expect(() => nextPrepareAction({ rootVolumeMarked: true, state, rootDeleteOnTermination: false }, plan)).toThrow(expect.objectContaining({ name: 'InstanceStateUnsupported' }));
  });

  test('converges from every start: a loop of decisions ends stopped with the root kept', () => {
    for (const state of ['running', 'pending', 'stopping', 'stopped']) {
      for (const dot of [true, false]) {
        for (const lifecycle of ['InService', 'EnteringStandby', 'Standby']) {
          // GIVEN
          const o = { rootVolumeMarked: true, state, rootDeleteOnTermination: dot, autoScalingLifecycleState: lifecycle };
          // WHEN
          for (let i = 0; i < 20; i++) {
            const action = nextPrepareAction(o, standbyPlan);
            if (action.kind === 'done') break;
            if (action.kind === 'enter-standby') o.autoScalingLifecycleState = 'EnteringStandby';
            if (action.kind === 'keep-root-volume') o.rootDeleteOnTermination = false;
            if (action.kind === 'stop') o.state = 'stopping';
            if (action.kind === 'wait') {
              o.state = { pending: 'running', stopping: 'stopped' }[o.state] ?? o.state;
              if (o.autoScalingLifecycleState === 'EnteringStandby') o.autoScalingLifecycleState = 'Standby';
            }
          }
          // THEN
          expect(o).toEqual({ rootVolumeMarked: true, state: 'stopped', rootDeleteOnTermination: false, autoScalingLifecycleState: 'Standby' });
        }
      }
    }
  });
});
