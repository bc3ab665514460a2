import { WorkflowError } from '../../../src/workflow/private/errors';
import {
  MIN_SIZE_RECORD_ATTRIBUTE, MinSizeObservation, minSizeRecordOf, minSizeRecordUpdate, minSizeRestoreNote, mustLowerMinSize, nextMinSizeRestoreAction,
} from '../../../src/workflow/private/min-size';
import { nextPrepareAction } from '../../../src/workflow/private/prepare-target-plan';
import { nextRestoreAction, RestoreObservation } from '../../../src/workflow/private/restore-plan';
import { EXECUTION_ARN, OTHER_EXECUTION_ARN, TARGET, offlinePlan } from '../fixtures';

/** A single-instance group (MinSize 1, desired 1) whose MinSize the workflow lowers to 0 for the reset. */
const PLAN = offlinePlan({ manageStandby: true, autoScalingGroupName: 'web-asg', minSizeLowering: { from: 1, to: 0 } });
const RECORD = { groupName: 'web-asg', from: 1, to: 0 };

describe('MinSize: before EnterStandby (prepare-target)', () => {
  test.each<[string, { minSize: number; desiredCapacity: number } | undefined, boolean]>([
    ['at its minimum as the preflight saw it → lower it', { minSize: 1, desiredCapacity: 1 }, true],
    ['already lowered (a retried pass) → not again', { minSize: 0, desiredCapacity: 1 }, false],
    ['room below the desired capacity (someone scaled out) → not needed', { minSize: 1, desiredCapacity: 3 }, false],
    ['group not described → nothing to decide', undefined, false],
  ])('%s', (_, group, expected) => {
    expect(mustLowerMinSize(group, PLAN)).toBe(expected);
  });

  test('a plan without the lowering never lowers', () => {
    expect(mustLowerMinSize({ minSize: 1, desiredCapacity: 1 }, offlinePlan({ manageStandby: true }))).toBe(false);
  });

  test('a MinSize changed since the preflight, still too high, stops with AutoScalingGroupAtMinimum instead of guessing', () => {
    expect(() => mustLowerMinSize({ minSize: 2, desiredCapacity: 2 }, PLAN)).toThrow(WorkflowError);
    expect(() => mustLowerMinSize({ minSize: 2, desiredCapacity: 2 }, PLAN)).toThrow(/MinSize of the Auto Scaling group web-asg is 2.*not the 1 the preflight saw/);
  });

  test('nextPrepareAction lowers MinSize before EnterStandby, then enters Standby', () => {
    const observed = { rootVolumeMarked: true, state: 'running', rootDeleteOnTermination: true, autoScalingLifecycleState: 'InService', nowEpochSeconds: 0 };
    expect(nextPrepareAction({ ...observed, autoScalingGroup: { minSize: 1, desiredCapacity: 1 } }, PLAN)).toEqual({ kind: 'lower-min-size', to: 0 });
    expect(nextPrepareAction({ ...observed, autoScalingGroup: { minSize: 0, desiredCapacity: 1 } }, PLAN)).toEqual({ kind: 'enter-standby' });
  });
});

describe('MinSize: the journal record', () => {
  test('is written with SET on this execution\'s lock item only', () => {
    expect(minSizeRecordUpdate('Locks', PLAN)).toEqual({
      TableName: 'Locks',
      Key: { instanceId: { S: TARGET } },
      UpdateExpression: 'SET #record = :record',
      ConditionExpression: 'executionArn = :owner',
      ExpressionAttributeNames: { '#record': MIN_SIZE_RECORD_ATTRIBUTE },
      ExpressionAttributeValues: { ':record': { S: JSON.stringify(RECORD) }, ':owner': { S: EXECUTION_ARN } },
    });
  });

  test('is read back only from this execution\'s item, and only when well formed', () => {
    const item = (executionArn: string, text?: string) => ({
      instanceId: { S: TARGET }, executionArn: { S: executionArn }, ...(text ? { [MIN_SIZE_RECORD_ATTRIBUTE]: { S: text } } : {}),
    });
    expect(minSizeRecordOf(item(EXECUTION_ARN, JSON.stringify(RECORD)), PLAN)).toEqual(RECORD);
    expect(minSizeRecordOf(item(OTHER_EXECUTION_ARN, JSON.stringify(RECORD)), PLAN)).toBeUndefined();
    expect(minSizeRecordOf(item(EXECUTION_ARN), PLAN)).toBeUndefined();
    expect(minSizeRecordOf(item(EXECUTION_ARN, '{not json'), PLAN)).toBeUndefined();
    expect(minSizeRecordOf(item(EXECUTION_ARN, '{"from":"1"}'), PLAN)).toBeUndefined();
    expect(minSizeRecordOf(undefined, PLAN)).toBeUndefined();
  });
});

describe('MinSize: after ExitStandby (restore)', () => {
  const back = (o: Partial<MinSizeObservation> = {}): MinSizeObservation => ({
    minSizeRecord: RECORD, autoScalingGroup: { minSize: 0, desiredCapacity: 1 }, autoScalingLifecycleState: 'InService', ...o,
  });

  test.each<[string, MinSizeObservation, boolean]>([
    ['lowered by this execution, instance InService, capacity back → raise it', back(), true],
    ['no journal record (the reset failed before lowering it) → leave it', back({ minSizeRecord: undefined }), false],
    ['instance still in Standby → not yet (ExitStandby gives the capacity back first)', back({ autoScalingLifecycleState: 'Standby' }), false],
    ['already raised back → nothing', back({ autoScalingGroup: { minSize: 1, desiredCapacity: 1 } }), false],
    ['changed by someone meanwhile → leave it', back({ autoScalingGroup: { minSize: 3, desiredCapacity: 3 } }), false],
    ['desired capacity below the original MinSize → raising would launch instances: leave it', back({ autoScalingGroup: { minSize: 0, desiredCapacity: 0 } }), false],
    ['group gone → nothing', back({ autoScalingGroup: undefined }), false],
  ])('%s', (_, observed, raise) => {
    expect(nextMinSizeRestoreAction(observed, PLAN)).toEqual(raise ? { kind: 'restore-min-size', groupName: 'web-asg', value: 1 } : undefined);
  });

  test('the note says why MinSize was left as it is, and nothing when it is back or was never lowered', () => {
    expect(minSizeRestoreNote(back({ autoScalingGroup: { minSize: 3, desiredCapacity: 3 } })))
      .toMatch(/MinSize of web-asg is 3, not the 0 the workflow set, so it was left as it is \(it was 1 before the reset\)/);
    expect(minSizeRestoreNote(back({ autoScalingGroup: { minSize: 0, desiredCapacity: 0 } }))).toMatch(/left at 0: its desired capacity is 0.*raise it yourself/);
    expect(minSizeRestoreNote(back({ autoScalingGroup: { minSize: 1, desiredCapacity: 1 } }))).toBeUndefined();
    expect(minSizeRestoreNote(back({ minSizeRecord: undefined }))).toBeUndefined();
  });

  test('nextRestoreAction raises MinSize after ExitStandby and before the helpers and the lock', () => {
    // GIVEN everything else back, the instance InService again
    const observed = (o: Partial<RestoreObservation>): RestoreObservation => ({
      volume: { state: 'in-use', attachment: { instanceId: TARGET, device: '/dev/sda1', state: 'attached' } },
      target: { state: 'running', rootDeleteOnTermination: true },
      helpers: [{ instanceId: 'i-0fedcba9876543210', state: 'terminated' }],
      lockReleased: false,
      moments: {},
      nowEpochSeconds: 0,
      minSizeRecord: RECORD,
      autoScalingGroup: { minSize: 0, desiredCapacity: 0 },
      ...o,
    });

    // THEN: in Standby → ExitStandby first; InService with the capacity back → MinSize; then the lock.
    expect(nextRestoreAction(observed({ autoScalingLifecycleState: 'Standby' }), PLAN, true).kind).toBe('exit-standby');
    expect(nextRestoreAction(observed({ autoScalingLifecycleState: 'InService', autoScalingGroup: { minSize: 0, desiredCapacity: 1 } }), PLAN, true))
      .toEqual({ kind: 'restore-min-size', groupName: 'web-asg', value: 1 });
    expect(nextRestoreAction(observed({ autoScalingLifecycleState: 'InService', autoScalingGroup: { minSize: 1, desiredCapacity: 1 } }), PLAN, true).kind)
      .toBe('release-lock');
  });

  test.each([
    ['terminated', { target: { state: 'terminated' } }, 'InstanceStateUnsupported'],
    ['whose root volume is gone', { volume: undefined }, 'VolumeNotFound'],
  ])('a target %s: MinSize is raised back anyway, before the lock goes, and the error says so', (_, lost, errorName) => {
    // GIVEN a target that cannot be put back, its group at the lowered MinSize with no capacity (the instance left it)
    const observed = (o: Partial<RestoreObservation>): RestoreObservation => ({
      volume: { state: 'available' },
      target: { state: 'stopped' },
      helpers: [{ instanceId: 'i-0fedcba9876543210', state: 'running' }],
      lockReleased: false,
      moments: {},
      nowEpochSeconds: 0,
      minSizeRecord: RECORD,
      autoScalingGroup: { minSize: 0, desiredCapacity: 0 },
      ...lost,
      ...o,
    });

    // THEN the helper goes, then MinSize is raised (whatever the desired capacity), then the lock is released
    expect(nextRestoreAction(observed({}), PLAN, false).kind).toBe('terminate-helpers');
    const helperGone = { helpers: [{ instanceId: 'i-0fedcba9876543210', state: 'shutting-down' }] };
    expect(nextRestoreAction(observed(helperGone), PLAN, false)).toEqual({ kind: 'restore-min-size', groupName: 'web-asg', value: 1 });
    expect(nextRestoreAction(observed({ ...helperGone, autoScalingGroup: { minSize: 1, desiredCapacity: 1 } }), PLAN, false).kind).toBe('release-lock');
    // AND the error names what was lost and that MinSize is back
    const thrown = (() => {
      try {
        nextRestoreAction(observed({ ...helperGone, autoScalingGroup: { minSize: 1, desiredCapacity: 1 }, lockReleased: true }), PLAN, false);
      } catch (err) {
        return err as WorkflowError;
      }
      return undefined;
    })();
    expect(thrown?.name).toBe(errorName);
    // (a retry of the failed restore, after the lock and its record are gone, still says it)
    const retried = observed({ ...helperGone, autoScalingGroup: { minSize: 1, desiredCapacity: 1 }, lockReleased: true, minSizeRecord: undefined });
    expect(() => nextRestoreAction(retried, PLAN, false)).toThrow(/web-asg is 1, as before the reset/);
    expect(thrown?.message).toMatch(/MinSize of the Auto Scaling group web-asg is 1, as before the reset; the group launches an instance if it has fewer/);
  });

  test('a target that cannot be put back leaves a MinSize someone else changed as it is, and says so', () => {
    const observed: RestoreObservation = {
      target: { state: 'terminated' },
      helpers: [],
      lockReleased: false,
      moments: {},
      nowEpochSeconds: 0,
      minSizeRecord: RECORD,
      autoScalingGroup: { minSize: 3, desiredCapacity: 3 },
    };
    expect(nextRestoreAction(observed, PLAN, false).kind).toBe('release-lock');
    expect(() => nextRestoreAction({ ...observed, lockReleased: true }, PLAN, false)).toThrow(/MinSize of the Auto Scaling group web-asg is 3, not the 1 it was before the reset \(someone changed it, so the workflow left it\)/);
  });
});
