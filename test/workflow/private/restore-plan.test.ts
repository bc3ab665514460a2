import { commandComment } from '../../../src/workflow/private/commands';
import { ResetPlan } from '../../../src/workflow/private/contracts';
import { JournalMoment } from '../../../src/workflow/private/journal';
import { CommandObservation, RestoreAction, RestoreObservation, nextRestoreAction } from '../../../src/workflow/private/restore-plan';
import { STOP_BOUNDS } from '../../../src/workflow/private/timeouts';
import { HELPER, TARGET, offlinePlan } from '../fixtures';

const PLAN = offlinePlan({ originalState: 'running', rootDeleteOnTermination: true, rootDeviceName: '/dev/sda1' });
const NOW = 1_800_000_000;

function observed(overrides: Partial<RestoreObservation> = {}): RestoreObservation {
  return {
    volume: { state: 'in-use', attachment: { instanceId: TARGET, device: '/dev/sda1', state: 'attached' } },
    target: { state: 'running', rootDeleteOnTermination: true },
    helpers: [],
    lockReleased: false,
    moments: {},
    nowEpochSeconds: NOW,
    ...overrides,
  };
}

const onHelper = (state = 'attached') => ({ state: 'in-use', attachment: { instanceId: HELPER, device: 'xvdf', state } });
const onTarget = (state = 'attached', device = '/dev/sda1') => ({ state: 'in-use', attachment: { instanceId: TARGET, device, state } });
const available = { state: 'available' };
const helperRunning = [{ instanceId: HELPER, state: 'running', commands: [] }];
const helperStopped = [{ instanceId: HELPER, state: 'stopped', commands: [] }];
const FIX_COMMENT = commandComment('offline-password-fix', PLAN);
const fix = (status: string): CommandObservation => ({ commandId: 'cmd-fix', status, comment: FIX_COMMENT });
const install = (status: string): CommandObservation => ({ commandId: 'cmd-install', status, comment: commandComment('install-ec2rescue', PLAN) });
/** Helpers gone and lock released: what is left once an unrecoverable restore has cleaned up. */
const CLEANED_UP = { helpers: [], lockReleased: true };

describe('nextRestoreAction, one state at a time', () => {
  test.each<[string, Partial<RestoreObservation>, RestoreAction['kind'] | RegExp]>([
    ['volume attached to a running helper → stop the helper first', { volume: onHelper(), target: { state: 'stopped' }, helpers: helperRunning }, 'stop-helper'],
    ['volume attached to the stopped helper → detach it', { volume: onHelper(), target: { state: 'stopped' }, helpers: helperStopped }, 'detach-from-helper'],
    ['volume attaching to the helper → wait', { volume: onHelper('attaching'), target: { state: 'stopped' }, helpers: helperRunning }, /attaching on the helper/],
    ['volume detaching from the helper → wait', { volume: onHelper('detaching'), target: { state: 'stopped' }, helpers: helperRunning }, /detaching on the helper/],
    ['volume detached (available), target stopped → attach to the target', { volume: available, target: { state: 'stopped' } }, 'attach-to-target'],
    ['volume available, target still stopping → wait', { volume: available, target: { state: 'stopping' }, moments: { targetStopRequestedAt: NOW - 10 } }, /target is stopping/],
    ['volume creating-like state → wait', { volume: { state: 'creating' }, target: { state: 'stopped' } }, /root volume is creating/],
    ['volume detaching from the target (failure mid-detach) → wait', { volume: onTarget('detaching'), target: { state: 'stopped' } }, /detaching on the target/],
    ['volume reattaching to the target → wait', { volume: onTarget('attaching'), target: { state: 'stopped' } }, /attaching on the target/],
    ['reattached, mapping not visible yet → wait', { volume: onTarget(), target: { state: 'stopped' } }, /not visible/],
    ['reattached, DeleteOnTermination still false → restore it', { volume: onTarget(), target: { state: 'stopped', rootDeleteOnTermination: false } }, 'restore-delete-on-termination'],
    ['reattached, DeleteOnTermination as it was, still marked → unmark it', { volume: onTarget(), target: { state: 'stopped', rootDeleteOnTermination: true }, rootVolumeMarked: true }, 'unmark-root-volume'],
    ['marked but still on the helper → off the stopped helper first (the mark stays until the volume is back)', { volume: onHelper(), target: { state: 'stopped' }, helpers: helperStopped, rootVolumeMarked: true }, 'detach-from-helper'],
    ['reattached, DeleteOnTermination still false, marked → restore it before unmarking', { volume: onTarget(), target: { state: 'stopped', rootDeleteOnTermination: false }, rootVolumeMarked: true }, 'restore-delete-on-termination'],
    ['reattached, stopped, originally running → start', { volume: onTarget(), target: { state: 'stopped', rootDeleteOnTermination: true } }, 'start-target'],
    ['starting → wait', { target: { state: 'pending', rootDeleteOnTermination: true } }, /target is pending/],
    ['still stopping (failure before the detach) → wait, then start', { target: { state: 'stopping', rootDeleteOnTermination: true }, moments: { targetStopRequestedAt: NOW - 10 } }, /target is stopping/],
    ['running, helper alive → terminate it', { helpers: helperRunning }, 'terminate-helpers'],
    ['volume off the helpers (available), helper alive → terminate it before the attach', { volume: available, target: { state: 'stopped' }, helpers: helperRunning }, 'terminate-helpers'],
    ['running, helper already terminated → release the lock', { helpers: [{ instanceId: HELPER, state: 'terminated' }] }, 'release-lock'],
    ['running, helper shutting down → release the lock', { helpers: [{ instanceId: HELPER, state: 'shutting-down' }] }, 'release-lock'],
    ['everything back, lock released → done', { lockReleased: true }, 'done'],
  ])('%s', (_, overrides, expected) => {
    // WHEN
    const action = nextRestoreAction(observed(overrides), PLAN, false);

    // THEN
    if (expected instanceof RegExp) {
      expect(action).toMatchObject({ kind: 'wait', reason: expect.stringMatching(expected) });
    } else {
      expect(action.kind).toBe(expected);
    }
  });

  test('the detach names the helper and the attach the original device', () => {
    expect(nextRestoreAction(observed({ volume: onHelper(), target: { state: 'stopped' }, helpers: helperStopped }), PLAN, false))
      .toEqual({ kind: 'detach-from-helper', helperInstanceId: HELPER });
    expect(nextRestoreAction(observed({ volume: available, target: { state: 'stopped' } }), offlinePlan({ rootDeviceName: 'xvda' }), false))
      .toEqual({ kind: 'attach-to-target', device: 'xvda' });
  });

  test('DeleteOnTermination goes back to the original value, false as well as true', () => {
    const plan = offlinePlan({ rootDeleteOnTermination: false });
    expect(nextRestoreAction(observed({ target: { state: 'running', rootDeleteOnTermination: true } }), plan, false))
      .toEqual({ kind: 'restore-delete-on-termination', value: false });
  });

  test('/dev/ prefixes do not matter when comparing devices', () => {
    expect(nextRestoreAction(observed({ volume: onTarget('attached', 'sda1') }), PLAN, false).kind).toBe('release-lock');
  });

  test('an originally stopped target is not started', () => {
    const plan = offlinePlan({ originalState: 'stopped' });
    expect(nextRestoreAction(observed({ target: { state: 'stopped', rootDeleteOnTermination: true } }), plan, false).kind).toBe('release-lock');
  });

  describe('the root volume leaves a helper only once nothing can write to it (I7)', () => {
    const withHelper = (state: string, commands: CommandObservation[], moments: Partial<Record<JournalMoment, number>> = {}) =>
      observed({ volume: onHelper(), target: { state: 'stopped' }, helpers: [{ instanceId: HELPER, state, commands }], moments });
    const helperBound = STOP_BOUNDS.helper.gracefulSeconds;

    test('commands still Pending or InProgress are cancelled first, whatever the helper\'s state', () => {
      for (const state of ['running', 'stopping', 'stopped']) {
        expect(nextRestoreAction(withHelper(state, [install('Success'), fix('InProgress'), { commandId: 'cmd-3', status: 'Pending' }]), PLAN, false))
          .toEqual({ kind: 'cancel-commands', helperInstanceId: HELPER, commandIds: ['cmd-fix', 'cmd-3'] });
      }
    });

    test('a command being cancelled is not cancelled again; the helper is stopped normally (the disk may be online)', () => {
      expect(nextRestoreAction(withHelper('running', [fix('Cancelling')]), PLAN, false))
        .toEqual({ kind: 'stop-helper', helperInstanceId: HELPER, mode: 'graceful' });
    });

    test.each(['Failed', 'TimedOut', 'Cancelled'])('after a fix that ended %s the helper is stopped normally', status => {
      expect(nextRestoreAction(withHelper('running', [fix(status)]), PLAN, false)).toMatchObject({ kind: 'stop-helper', mode: 'graceful' });
    });

    test('after the fix succeeded (the script set the disk offline) the helper is stopped without the OS shutdown', () => {
      expect(nextRestoreAction(withHelper('running', [install('Success'), fix('Success')]), PLAN, true))
        .toEqual({ kind: 'stop-helper', helperInstanceId: HELPER, mode: 'skip-os-shutdown' });
      // Only this reset's fix counts: another command's success says nothing about the disk.
      expect(nextRestoreAction(withHelper('running', [{ ...fix('Success'), comment: 'something else' }]), PLAN, true))
        .toMatchObject({ mode: 'graceful' });
    });

    test('a stopping helper is waited for, and forced once its bound has passed', () => {
      expect(nextRestoreAction(withHelper('stopping', [], { helperStopRequestedAt: NOW - helperBound + 1 }), PLAN, false)).toMatchObject({ kind: 'wait' });
      expect(nextRestoreAction(withHelper('stopping', [], { helperStopRequestedAt: NOW - helperBound }), PLAN, false))
        .toEqual({ kind: 'stop-helper', helperInstanceId: HELPER, mode: 'force' });
      expect(nextRestoreAction(withHelper('stopping', [], { helperStopRequestedAt: NOW - helperBound - 60, helperForceStopRequestedAt: NOW - 60 }), PLAN, false))
        .toMatchObject({ kind: 'wait', reason: expect.stringMatching(/forced stop 60 s ago/) });
    });

    test('a pending helper is waited for; a helper shutting down gives the volume back when terminated', () => {
      expect(nextRestoreAction(withHelper('pending', []), PLAN, false)).toMatchObject({ kind: 'wait' });
      expect(nextRestoreAction(withHelper('shutting-down', []), PLAN, false)).toMatchObject({ kind: 'wait', reason: expect.stringMatching(/comes off when it is terminated/) });
    });

    test('only a stopped helper gives the volume back', () => {
      for (const state of ['pending', 'running', 'stopping', 'shutting-down']) {
        expect(nextRestoreAction(withHelper(state, []), PLAN, false).kind).not.toBe('detach-from-helper');
      }
      expect(nextRestoreAction(withHelper('stopped', [fix('Cancelling')]), PLAN, false).kind).toBe('detach-from-helper');
    });
  });

  describe('a target stop the reset left hanging', () => {
    const targetBound = STOP_BOUNDS.target.gracefulSeconds;
    const stopping = (moments: Partial<Record<JournalMoment, number>>, volume: RestoreObservation['volume'] = onTarget()) =>
      observed({ volume, target: { state: 'stopping', rootDeleteOnTermination: false }, moments });

    test('is waited for within its bound, then forced, then waited for', () => {
      expect(nextRestoreAction(stopping({ targetStopRequestedAt: NOW - 10 }), PLAN, false)).toMatchObject({ kind: 'restore-delete-on-termination' });
      const kept = (m: Partial<Record<JournalMoment, number>>) => observed({ target: { state: 'stopping', rootDeleteOnTermination: true }, moments: m });
      expect(nextRestoreAction(kept({ targetStopRequestedAt: NOW - 10 }), PLAN, false)).toMatchObject({ kind: 'wait' });
      expect(nextRestoreAction(kept({ targetStopRequestedAt: NOW - targetBound }), PLAN, false)).toEqual({ kind: 'stop-target', force: true });
      expect(nextRestoreAction(kept({ targetStopRequestedAt: NOW - targetBound, targetForceStopRequestedAt: NOW - 5 }), PLAN, false)).toMatchObject({ kind: 'wait' });
    });

    test('also before the volume can come back to it', () => {
      expect(nextRestoreAction(stopping({ targetStopRequestedAt: NOW - targetBound }, available), PLAN, false)).toEqual({ kind: 'stop-target', force: true });
    });

    test('a stop nobody journaled is journaled first (asked again), so its bound can be measured', () => {
      expect(nextRestoreAction(observed({ target: { state: 'stopping', rootDeleteOnTermination: true } }), PLAN, false)).toEqual({ kind: 'stop-target', force: false });
    });
  });

  describe('password-enabled image', () => {
    const plan = offlinePlan({ passwordEnabledAmi: true });
    const stopped = observed({ target: { state: 'stopped', rootDeleteOnTermination: true } });

    test('after a success, while stopped, it is requested before the start', () => {
      expect(nextRestoreAction(stopped, plan, true).kind).toBe('create-password-enabled-image');
    });

    test('once it exists the target is started', () => {
      expect(nextRestoreAction({ ...stopped, passwordEnabledImage: { imageId: 'ami-1', state: 'pending' } }, plan, true).kind).toBe('start-target');
    });

    test('after a failure it is not made', () => {
      expect(nextRestoreAction(stopped, plan, false).kind).toBe('start-target');
    });

    test('without passwordEnabledAmi it is not made', () => {
      expect(nextRestoreAction(stopped, offlinePlan({ passwordEnabledAmi: false }), true).kind).toBe('start-target');
    });

    test('it is made only once the volume is back and DeleteOnTermination restored', () => {
      expect(nextRestoreAction({ ...stopped, volume: available }, plan, true).kind).toBe('attach-to-target');
      expect(nextRestoreAction({ ...stopped, target: { state: 'stopped', rootDeleteOnTermination: false } }, plan, true).kind).toBe('restore-delete-on-termination');
    });
  });

  describe('Auto Scaling Standby', () => {
    const plan = offlinePlan({ manageStandby: true, autoScalingGroupName: 'web-asg' });

    test('in Standby and running → exit Standby', () => {
      expect(nextRestoreAction(observed({ autoScalingLifecycleState: 'Standby' }), plan, false).kind).toBe('exit-standby');
    });

    test('in Standby but stopped → start first', () => {
      expect(nextRestoreAction(observed({ autoScalingLifecycleState: 'Standby', target: { state: 'stopped', rootDeleteOnTermination: true } }), plan, false).kind).toBe('start-target');
    });

    test.each(['EnteringStandby', 'Pending', 'Pending:Wait'])('%s → wait', lifecycle => {
      expect(nextRestoreAction(observed({ autoScalingLifecycleState: lifecycle }), plan, false)).toMatchObject({ kind: 'wait' });
    });

    test('InService (failure before EnterStandby, or already back) → go on', () => {
      expect(nextRestoreAction(observed({ autoScalingLifecycleState: 'InService' }), plan, false).kind).toBe('release-lock');
    });

    test('Standby not managed by the workflow (already in Standby before) is left alone', () => {
      expect(nextRestoreAction(observed({ autoScalingLifecycleState: 'Standby' }), offlinePlan({ manageStandby: false }), false).kind).toBe('release-lock');
    });
  });

  describe('online plans', () => {
    const plan = offlinePlan({ method: 'online', rootVolumeId: '', helperSubnetId: '' });

    test('only the lock is released: the volume is not even observed', () => {
      const online = (lockReleased: boolean) => ({ target: { state: 'running' }, helpers: [], lockReleased, moments: {}, nowEpochSeconds: NOW });
      expect(nextRestoreAction(online(false), plan, true).kind).toBe('release-lock');
      expect(nextRestoreAction(online(true), plan, true).kind).toBe('done');
    });
  });

  describe('what an operator must look at', () => {
    test('the volume gone fails with VolumeNotFound naming the backup image', () => {
      expect(() => nextRestoreAction(observed({ ...CLEANED_UP, volume: undefined }), PLAN, false)).toThrow(expect.objectContaining({
        name: 'VolumeNotFound', message: expect.stringContaining(PLAN.backupImageName),
      }));
    });

    test('the volume on an instance that is not a helper of this reset fails with VolumeAttachedElsewhere', () => {
      const stranger = { state: 'in-use', attachment: { instanceId: 'i-0aaaaaaaaaaaaaaaa', device: 'xvdg', state: 'attached' } };
      expect(() => nextRestoreAction(observed({ ...CLEANED_UP, volume: stranger }), PLAN, false)).toThrow(expect.objectContaining({ name: 'VolumeAttachedElsewhere' }));
    });

    test('the volume on the target at another device fails with VolumeAttachedElsewhere', () => {
      expect(() => nextRestoreAction(observed({ ...CLEANED_UP, volume: onTarget('attached', 'xvdf') }), PLAN, false)).toThrow(/at xvdf instead of \/dev\/sda1/);
    });

    test('a terminated target fails with InstanceStateUnsupported naming the backup image', () => {
      expect(() => nextRestoreAction(observed({ ...CLEANED_UP, volume: available, target: { state: 'terminated' } }), PLAN, false)).toThrow(expect.objectContaining({
        name: 'InstanceStateUnsupported', message: expect.stringContaining(PLAN.backupImageName),
      }));
    });

    test('a target that cannot be put back still gets its helpers terminated and its lock released before the error', () => {
      // GIVEN the target was terminated while its root volume sat on a running helper
      const gone = { target: { state: 'terminated' }, volume: onHelper() };

      // WHEN / THEN: helpers first (I2), then the lock (I4), then the error
      expect(nextRestoreAction(observed({ ...gone, helpers: helperRunning }), PLAN, false))
        .toEqual({ kind: 'terminate-helpers', instanceIds: [HELPER] });
      expect(nextRestoreAction(observed({ ...gone, helpers: [{ instanceId: HELPER, state: 'terminated' }] }), PLAN, false))
        .toEqual({ kind: 'release-lock' });
      expect(() => nextRestoreAction(observed({ ...gone, helpers: [{ instanceId: HELPER, state: 'terminated' }], lockReleased: true }), PLAN, false))
        .toThrow(expect.objectContaining({ name: 'InstanceStateUnsupported' }));
    });
  });
});

/**
 * A small model of EC2 and Run Command for the restore: it applies the actions and lets time pass,
 * the way AWS does (a root volume attaches only to a stopped instance, detaching and attaching
 * take a tick, start and stop take a tick, a hung stop completes only when forced, a cancelled
 * command ends a tick later), and refuses what would break an invariant (I7: the volume leaves a
 * helper only when it is stopped and nothing runs on it).
 */
interface ModelHelper { instanceId: string; state: string; commands: CommandObservation[]; stopHangs?: boolean; skipped?: boolean }
interface World {
  volume: { at?: { instanceId: string; device: string; state: string }; state: string };
  target: { state: string; dotWhenAttached: boolean; stopHangs?: boolean };
  lifecycle?: string;
  helpers: ModelHelper[];
  image?: { imageId: string; state: string };
  lockReleased: boolean;
  moments: Partial<Record<JournalMoment, number>>;
  now: number;
}

function observe(w: World): RestoreObservation {
  return {
    volume: { state: w.volume.state, ...(w.volume.at ? { attachment: { ...w.volume.at } } : {}) },
    target: { state: w.target.state, ...(w.volume.at?.instanceId === TARGET && w.volume.at.state === 'attached' ? { rootDeleteOnTermination: w.target.dotWhenAttached } : {}) },
    ...(w.image ? { passwordEnabledImage: w.image } : {}),
    ...(w.lifecycle ? { autoScalingLifecycleState: w.lifecycle } : {}),
    helpers: w.helpers.map(h => ({ instanceId: h.instanceId, state: h.state, ...(['shutting-down', 'terminated'].includes(h.state) ? {} : { commands: h.commands.map(c => ({ ...c })) }) })),
    lockReleased: w.lockReleased,
    moments: { ...w.moments },
    nowEpochSeconds: w.now,
  };
}

function check(condition: boolean, rule: string): void {
  if (!condition) throw new Error(`EC2 rule broken: ${rule}`);
}

const WRITING = ['Pending', 'InProgress', 'Cancelling'];

function record(w: World, ...moments: JournalMoment[]): void {
  for (const m of moments) w.moments[m] ??= w.now;
}

function apply(w: World, action: RestoreAction): void {
  const helper = (id: string) => w.helpers.find(h => h.instanceId === id)!;
  switch (action.kind) {
    case 'cancel-commands':
      for (const c of helper(action.helperInstanceId).commands) {
        if (action.commandIds.includes(c.commandId)) {
          check(['Pending', 'InProgress'].includes(c.status), 'only Pending and InProgress commands can be cancelled');
          (c as { status: string }).status = 'Cancelling';
        }
      }
      break;
    case 'stop-helper': {
      const h = helper(action.helperInstanceId);
      if (action.mode === 'skip-os-shutdown') {
        check(h.commands.some(c => c.comment === FIX_COMMENT && c.status === 'Success') && !h.commands.some(c => WRITING.includes(c.status)),
          'a helper is stopped without its OS shutdown only once the fix has set the disk offline and nothing runs');
        h.skipped = true;
        record(w, 'helperStopRequestedAt', 'helperStopSkippedOsShutdownAt');
      } else {
        record(w, action.mode === 'force' ? 'helperForceStopRequestedAt' : 'helperStopRequestedAt');
      }
      if (h.state === 'running') h.state = 'stopping';
      break;
    }
    case 'stop-target':
      record(w, action.force ? 'targetForceStopRequestedAt' : 'targetStopRequestedAt');
      break;
    case 'detach-from-helper': {
      const h = helper(action.helperInstanceId);
      check(w.volume.at?.instanceId === action.helperInstanceId, 'detach from the helper it is on');
      check(h.state === 'stopped', 'I7: the volume leaves a helper only when it is stopped');
      w.volume.at!.state = 'detaching';
      break;
    }
    case 'attach-to-target':
      check(w.volume.state === 'available' && w.target.state === 'stopped', 'a root volume attaches only when available, to a stopped instance');
      w.volume = { state: 'in-use', at: { instanceId: TARGET, device: action.device, state: 'attaching' } };
      break;
    case 'restore-delete-on-termination':
      w.target.dotWhenAttached = action.value;
      break;
    case 'create-password-enabled-image':
      check(w.target.state === 'stopped', 'the password-enabled image is made of a stopped target');
      w.image = { imageId: 'ami-post', state: 'pending' };
      break;
    case 'start-target':
      check(w.volume.at?.instanceId === TARGET && w.volume.at.state === 'attached', 'an instance starts only with its root volume');
      w.target.state = 'pending';
      break;
    case 'exit-standby':
      // Never while the instance is on its way up or down: running, or stopped as it was.
      check(['running', 'stopped'].includes(w.target.state), 'Standby is left by a settled instance');
      w.lifecycle = 'Pending';
      break;
    case 'terminate-helpers':
      check(w.volume.at?.instanceId !== HELPER, 'a helper is terminated only once the root volume is off it');
      for (const h of w.helpers) if (action.instanceIds.includes(h.instanceId)) h.state = 'shutting-down';
      break;
    case 'release-lock':
      w.lockReleased = true;
      break;
    default:
      break;
  }
}

/** A minute passes. */
function tick(w: World): void {
  w.now += 60;
  if (w.volume.at?.state === 'detaching') w.volume = { state: 'available' };
  else if (w.volume.at?.state === 'attaching') w.volume.at.state = 'attached';
  if (w.target.state === 'pending') w.target.state = 'running';
  if (w.target.state === 'stopping' && (!w.target.stopHangs || w.moments.targetForceStopRequestedAt !== undefined)) w.target.state = 'stopped';
  if (w.lifecycle === 'EnteringStandby') w.lifecycle = 'Standby';
  if (w.lifecycle === 'Pending') w.lifecycle = 'InService';
  for (const h of w.helpers) {
    if (h.state === 'shutting-down') h.state = 'terminated';
    if (h.state === 'stopping' && (!h.stopHangs || h.skipped || w.moments.helperForceStopRequestedAt !== undefined)) h.state = 'stopped';
    for (const c of h.commands) if (c.status === 'Cancelling') (c as { status: string }).status = 'Cancelled';
  }
}

function restore(w: World, plan: ResetPlan, succeeded: boolean): { actions: string[] } {
  const actions: string[] = [];
  for (let i = 0; i < 200; i++) {
    const action = nextRestoreAction(observe(w), plan, succeeded);
    if (action.kind === 'done') return { actions };
    if (action.kind === 'wait') {
      tick(w);
      continue;
    }
    actions.push(action.kind === 'stop-helper' ? `stop-helper:${action.mode}` : action.kind);
    apply(w, action);
  }
  throw new Error(`no convergence: ${actions.join(' → ')}`);
}

/** The helper as the reset may leave it: its state, its commands, whether its stop hangs. */
const HELPER_VARIANTS: Record<string, () => ModelHelper | undefined> = {
  'none': () => undefined,
  'running': () => ({ instanceId: HELPER, state: 'running', commands: [install('Success')] }),
  'running, fix in progress': () => ({ instanceId: HELPER, state: 'running', commands: [install('Success'), fix('InProgress')] }),
  'running, fix succeeded': () => ({ instanceId: HELPER, state: 'running', commands: [install('Success'), fix('Success')] }),
  'running, fix pending, stop hangs': () => ({ instanceId: HELPER, state: 'running', commands: [install('Success'), fix('Pending')], stopHangs: true }),
  'stopped': () => ({ instanceId: HELPER, state: 'stopped', commands: [install('Success'), fix('Failed')] }),
  'terminated': () => ({ instanceId: HELPER, state: 'terminated', commands: [] }),
};

describe('nextRestoreAction converges from every state a reset can leave behind', () => {
  const volumePositions: [string, World['volume'], string[]][] = [
    ['on the helper', { state: 'in-use', at: { instanceId: HELPER, device: 'xvdf', state: 'attached' } }, ['stopped']],
    ['attaching to the helper', { state: 'in-use', at: { instanceId: HELPER, device: 'xvdf', state: 'attaching' } }, ['stopped']],
    ['detaching from the helper', { state: 'in-use', at: { instanceId: HELPER, device: 'xvdf', state: 'detaching' } }, ['stopped']],
    ['detached', { state: 'available' }, ['stopped', 'stopping']],
    ['detaching from the target', { state: 'in-use', at: { instanceId: TARGET, device: '/dev/sda1', state: 'detaching' } }, ['stopped']],
    ['reattaching', { state: 'in-use', at: { instanceId: TARGET, device: '/dev/sda1', state: 'attaching' } }, ['stopped']],
    ['on the target', { state: 'in-use', at: { instanceId: TARGET, device: '/dev/sda1', state: 'attached' } }, ['stopped', 'stopping', 'running', 'pending']],
  ];
  interface Case { volume: World['volume']; targetState: string; targetHangs: boolean; dot: boolean; lifecycle?: string; helper: string; succeeded: boolean; originallyRunning: boolean }
  const cases: Case[] = [];
  for (const [, volume, targetStates] of volumePositions) {
    for (const targetState of targetStates) {
      for (const targetHangs of targetState === 'stopping' ? [false, true] : [false]) {
        for (const dot of [true, false]) {
          for (const lifecycle of [undefined, 'InService', 'EnteringStandby', 'Standby']) {
            for (const helper of Object.keys(HELPER_VARIANTS)) {
              for (const succeeded of [true, false]) {
                for (const originallyRunning of [true, false]) {
                  const onAHelper = volume.at?.instanceId === HELPER;
                  // The volume is attached only to a helper that exists and is not gone; a volume mid-move is on a running one.
                  if (onAHelper && (helper === 'none' || helper === 'terminated')) continue;
                  if (onAHelper && volume.at!.state !== 'attached' && helper !== 'running') continue;
                  // An originally stopped target is never started by the reset.
                  if (!originallyRunning && (targetState === 'running' || targetState === 'pending')) continue;
                  cases.push({ volume, targetState, targetHangs, dot, lifecycle, helper, succeeded, originallyRunning });
                }
              }
            }
          }
        }
      }
    }
  }

  test(`${cases.length} starting states end restored, the volume never leaving a helper that is not stopped`, () => {
    for (const c of cases) {
      // GIVEN
      const manageStandby = c.lifecycle !== undefined;
      const plan = offlinePlan({
        originalState: c.originallyRunning ? 'running' : 'stopped',
        rootDeleteOnTermination: true,
        manageStandby,
        passwordEnabledAmi: true,
        ...(manageStandby ? { autoScalingGroupName: 'web-asg' } : {}),
      });
      const helper = HELPER_VARIANTS[c.helper]();
      const world: World = {
        volume: JSON.parse(JSON.stringify(c.volume)),
        target: { state: c.targetState, dotWhenAttached: c.dot, stopHangs: c.targetHangs },
        ...(c.lifecycle ? { lifecycle: c.lifecycle } : {}),
        helpers: helper ? [helper] : [],
        lockReleased: false,
        moments: c.targetState === 'stopping' ? { targetStopRequestedAt: NOW - 60 } : {},
        now: NOW,
      };

      // WHEN (apply() throws if a rule is broken)
      restore(world, plan, c.succeeded);

      // THEN (I1, I2, I4)
      expect(world.volume.at).toEqual({ instanceId: TARGET, device: '/dev/sda1', state: 'attached' });
      expect(world.target.dotWhenAttached).toBe(true);
      if (c.originallyRunning) expect(world.target.state).toBe('running');
      else expect(world.target.state).not.toBe('running');
      if (manageStandby) expect(world.lifecycle).toBe('InService');
      expect(world.helpers.every(h => ['shutting-down', 'terminated'].includes(h.state))).toBe(true);
      expect(world.lockReleased).toBe(true);
      if (c.succeeded && (c.targetState === 'stopped' || c.targetState === 'stopping' || c.volume.at?.instanceId !== TARGET || c.volume.at?.state !== 'attached')) {
        expect(world.image).toBeDefined();
      }
      if (!c.succeeded) expect(world.image).toBeUndefined();
      // A hung stop is forced only after its bound.
      const { targetStopRequestedAt, targetForceStopRequestedAt, helperStopRequestedAt, helperForceStopRequestedAt } = world.moments;
      if (targetForceStopRequestedAt !== undefined) {
        expect(targetForceStopRequestedAt - targetStopRequestedAt!).toBeGreaterThanOrEqual(STOP_BOUNDS.target.gracefulSeconds);
      }
      if (helperForceStopRequestedAt !== undefined) {
        expect(helperForceStopRequestedAt - helperStopRequestedAt!).toBeGreaterThanOrEqual(STOP_BOUNDS.helper.gracefulSeconds);
      }
    }
  });

  test('the order from the helper after a success is: stop it (no OS shutdown), detach, terminate, attach, DeleteOnTermination, image, start, exit Standby, release', () => {
    // GIVEN
    const plan = offlinePlan({ manageStandby: true, autoScalingGroupName: 'web-asg', passwordEnabledAmi: true });
    const world: World = {
      volume: { state: 'in-use', at: { instanceId: HELPER, device: 'xvdf', state: 'attached' } },
      target: { state: 'stopped', dotWhenAttached: false },
      lifecycle: 'Standby',
      helpers: [{ instanceId: HELPER, state: 'running', commands: [install('Success'), fix('Success')] }],
      lockReleased: false,
      moments: {},
      now: NOW,
    };

    // WHEN
    const { actions } = restore(world, plan, true);

    // THEN
    expect(actions).toEqual([
      'stop-helper:skip-os-shutdown', 'detach-from-helper', 'terminate-helpers', 'attach-to-target', 'restore-delete-on-termination',
      'create-password-enabled-image', 'start-target', 'exit-standby', 'release-lock',
    ]);
  });

  test('after an abort while the fix runs: cancel it, stop the helper normally (forced once its stop hangs), then detach', () => {
    // GIVEN
    const world: World = {
      volume: { state: 'in-use', at: { instanceId: HELPER, device: 'xvdf', state: 'attached' } },
      target: { state: 'stopped', dotWhenAttached: false },
      helpers: [{ instanceId: HELPER, state: 'running', commands: [install('Success'), fix('InProgress')], stopHangs: true }],
      lockReleased: false,
      moments: {},
      now: NOW,
    };

    // WHEN
    const { actions } = restore(world, PLAN, false);

    // THEN
    expect(actions.slice(0, 4)).toEqual(['cancel-commands', 'stop-helper:graceful', 'stop-helper:force', 'detach-from-helper']);
    expect(world.moments.helperForceStopRequestedAt! - world.moments.helperStopRequestedAt!).toBe(STOP_BOUNDS.helper.gracefulSeconds);
  });

  test('a second restore after a finished one does nothing but confirm', () => {
    const world: World = {
      volume: { state: 'in-use', at: { instanceId: TARGET, device: '/dev/sda1', state: 'attached' } },
      target: { state: 'running', dotWhenAttached: true },
      helpers: [{ instanceId: HELPER, state: 'terminated', commands: [] }],
      lockReleased: false,
      moments: {},
      now: NOW,
    };
    expect(restore(world, PLAN, true).actions).toEqual(['release-lock']);
  });
});

describe('nextRestoreAction with on-demand endpoints', () => {
  test('releases the endpoint lease once no helper is left, before the lock', () => {
    // GIVEN this execution still holds its lease
    const holding = { endpointLeaseHeld: true };

    // THEN helpers first, then the lease, then the lock
    expect(nextRestoreAction(observed({ ...holding, helpers: helperRunning }), PLAN, true).kind).toBe('terminate-helpers');
    expect(nextRestoreAction(observed(holding), PLAN, true).kind).toBe('release-endpoint-lease');
    expect(nextRestoreAction(observed({ endpointLeaseHeld: false }), PLAN, true).kind).toBe('release-lock');
  });

  test('releases it also when the target cannot be put back, before the error', () => {
    const gone = observed({ target: { state: 'terminated' }, endpointLeaseHeld: true });
    expect(nextRestoreAction(gone, PLAN, false).kind).toBe('release-endpoint-lease');
    expect(() => nextRestoreAction({ ...gone, endpointLeaseHeld: false, lockReleased: true }, PLAN, false)).toThrow(/terminated/);
  });
});
