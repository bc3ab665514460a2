import { ResetPlan } from '../../../src/workflow/private/contracts';
import { RestoreAction, RestoreObservation, nextRestoreAction } from '../../../src/workflow/private/restore-plan';
import { HELPER, TARGET, offlinePlan } from '../fixtures';

const PLAN = offlinePlan({ originalState: 'running', rootDeleteOnTermination: true, rootDeviceName: '/dev/sda1' });

function observed(overrides: Partial<RestoreObservation> = {}): RestoreObservation {
  return {
    volume: { state: 'in-use', attachment: { instanceId: TARGET, device: '/dev/sda1', state: 'attached' } },
    target: { state: 'running', rootDeleteOnTermination: true },
    helpers: [],
    lockReleased: false,
    ...overrides,
  };
}

const onHelper = (state = 'attached') => ({ state: 'in-use', attachment: { instanceId: HELPER, device: 'xvdf', state } });
const onTarget = (state = 'attached', device = '/dev/sda1') => ({ state: 'in-use', attachment: { instanceId: TARGET, device, state } });
const available = { state: 'available' };
const helperRunning = [{ instanceId: HELPER, state: 'running' }];
/** Helpers gone and lock released: what is left once an unrecoverable restore has cleaned up. */
const CLEANED_UP = { helpers: [], lockReleased: true };

describe('nextRestoreAction, one state at a time', () => {
  test.each<[string, Partial<RestoreObservation>, RestoreAction['kind'] | RegExp]>([
    ['volume attached to the helper → detach it', { volume: onHelper(), target: { state: 'stopped' }, helpers: helperRunning }, 'detach-from-helper'],
    ['volume attaching to the helper → wait', { volume: onHelper('attaching'), target: { state: 'stopped' }, helpers: helperRunning }, /attaching on the helper/],
    ['volume detaching from the helper → wait', { volume: onHelper('detaching'), target: { state: 'stopped' }, helpers: helperRunning }, /detaching on the helper/],
    ['volume detached (available), target stopped → attach to the target', { volume: available, target: { state: 'stopped' } }, 'attach-to-target'],
    ['volume available, target still stopping → wait', { volume: available, target: { state: 'stopping' } }, /attaches only when it is stopped/],
    ['volume creating-like state → wait', { volume: { state: 'creating' }, target: { state: 'stopped' } }, /root volume is creating/],
    ['volume detaching from the target (failure mid-detach) → wait', { volume: onTarget('detaching'), target: { state: 'stopped' } }, /detaching on the target/],
    ['volume reattaching to the target → wait', { volume: onTarget('attaching'), target: { state: 'stopped' } }, /attaching on the target/],
    ['reattached, mapping not visible yet → wait', { volume: onTarget(), target: { state: 'stopped' } }, /not visible/],
    ['reattached, DeleteOnTermination still false → restore it', { volume: onTarget(), target: { state: 'stopped', rootDeleteOnTermination: false } }, 'restore-delete-on-termination'],
    ['reattached, DeleteOnTermination as it was, still marked → unmark it', { volume: onTarget(), target: { state: 'stopped', rootDeleteOnTermination: true }, rootVolumeMarked: true }, 'unmark-root-volume'],
    ['marked but still on the helper → detach first (the mark stays until the volume is back)', { volume: onHelper(), target: { state: 'stopped' }, helpers: helperRunning, rootVolumeMarked: true }, 'detach-from-helper'],
    ['reattached, DeleteOnTermination still false, marked → restore it before unmarking', { volume: onTarget(), target: { state: 'stopped', rootDeleteOnTermination: false }, rootVolumeMarked: true }, 'restore-delete-on-termination'],
    ['reattached, stopped, originally running → start', { volume: onTarget(), target: { state: 'stopped', rootDeleteOnTermination: true } }, 'start-target'],
    ['starting → wait', { target: { state: 'pending', rootDeleteOnTermination: true } }, /target is pending/],
    ['still stopping (failure before the detach) → wait, then start', { target: { state: 'stopping', rootDeleteOnTermination: true } }, /target is stopping/],
    ['running, helper alive → terminate it', { helpers: helperRunning }, 'terminate-helpers'],
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
    expect(nextRestoreAction(observed({ volume: onHelper(), target: { state: 'stopped' }, helpers: helperRunning }), PLAN, false))
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
      expect(nextRestoreAction({ target: { state: 'running' }, helpers: [], lockReleased: false }, plan, true).kind).toBe('release-lock');
      expect(nextRestoreAction({ target: { state: 'running' }, helpers: [], lockReleased: true }, plan, true).kind).toBe('done');
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
 * A small model of EC2 for the restore: it applies the actions and lets time pass, the way
 * EC2 does (a root volume attaches only to a stopped instance, detaching and attaching take a
 * tick, start and stop take a tick, Standby transitions take a tick).
 */
interface World {
  volume: { at?: { instanceId: string; device: string; state: string }; state: string };
  target: { state: string; dot?: boolean; dotWhenAttached: boolean };
  lifecycle?: string;
  helpers: { instanceId: string; state: string }[];
  image?: { imageId: string; state: string };
  lockReleased: boolean;
}

function observe(w: World): RestoreObservation {
  return {
    volume: { state: w.volume.state, ...(w.volume.at ? { attachment: { ...w.volume.at } } : {}) },
    target: { state: w.target.state, ...(w.volume.at?.instanceId === TARGET && w.volume.at.state === 'attached' ? { rootDeleteOnTermination: w.target.dotWhenAttached } : {}) },
    ...(w.image ? { passwordEnabledImage: w.image } : {}),
    ...(w.lifecycle ? { autoScalingLifecycleState: w.lifecycle } : {}),
    helpers: w.helpers.map(h => ({ ...h })),
    lockReleased: w.lockReleased,
  };
}

function check(condition: boolean, rule: string): void {
  if (!condition) throw new Error(`EC2 rule broken: ${rule}`);
}

function apply(w: World, action: RestoreAction): void {
  switch (action.kind) {
    case 'detach-from-helper':
      check(w.volume.at?.instanceId === action.helperInstanceId, 'detach from the helper it is on');
      w.volume.at!.state = 'detaching';
      break;
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

function tick(w: World): void {
  if (w.volume.at?.state === 'detaching') w.volume = { state: 'available' };
  else if (w.volume.at?.state === 'attaching') w.volume.at.state = 'attached';
  if (w.target.state === 'pending') w.target.state = 'running';
  if (w.target.state === 'stopping') w.target.state = 'stopped';
  if (w.lifecycle === 'EnteringStandby') w.lifecycle = 'Standby';
  if (w.lifecycle === 'Pending') w.lifecycle = 'InService';
  for (const h of w.helpers) if (h.state === 'shutting-down') h.state = 'terminated';
}

function restore(w: World, plan: ResetPlan, succeeded: boolean): { actions: string[] } {
  const actions: string[] = [];
  for (let i = 0; i < 50; i++) {
    const action = nextRestoreAction(observe(w), plan, succeeded);
    if (action.kind === 'done') return { actions };
    if (action.kind === 'wait') {
      tick(w);
      continue;
    }
    actions.push(action.kind);
    apply(w, action);
  }
  throw new Error(`no convergence: ${actions.join(' → ')}`);
}

describe('nextRestoreAction converges from every state a reset can leave behind', () => {
  const volumePositions: [string, World['volume'], string[]][] = [
    ['on the helper', { state: 'in-use', at: { instanceId: HELPER, device: 'xvdf', state: 'attached' } }, ['stopped']],
    ['attaching to the helper', { state: 'in-use', at: { instanceId: HELPER, device: 'xvdf', state: 'attaching' } }, ['stopped']],
    ['detaching from the helper', { state: 'in-use', at: { instanceId: HELPER, device: 'xvdf', state: 'detaching' } }, ['stopped']],
    ['detached', { state: 'available' }, ['stopped']],
    ['detaching from the target', { state: 'in-use', at: { instanceId: TARGET, device: '/dev/sda1', state: 'detaching' } }, ['stopped']],
    ['reattaching', { state: 'in-use', at: { instanceId: TARGET, device: '/dev/sda1', state: 'attaching' } }, ['stopped']],
    ['on the target', { state: 'in-use', at: { instanceId: TARGET, device: '/dev/sda1', state: 'attached' } }, ['stopped', 'stopping', 'running', 'pending']],
  ];
  const cases: [string, World['volume'], string, boolean, string | undefined, string, boolean, boolean, boolean][] = [];
  for (const [where, volume, targetStates] of volumePositions) {
    for (const targetState of targetStates) {
      for (const dot of [true, false]) {
        for (const lifecycle of [undefined, 'InService', 'EnteringStandby', 'Standby']) {
          for (const helper of ['none', 'running', 'terminated']) {
            for (const succeeded of [true, false]) {
              for (const originalState of ['running', 'stopped']) {
                if (helper !== 'running' && volume.at?.instanceId === HELPER) continue;
                // An originally stopped target is never started by the reset.
                if (originalState === 'stopped' && (targetState === 'running' || targetState === 'pending')) continue;
                cases.push([where, volume, targetState, dot, lifecycle, helper, succeeded, originalState === 'running', lifecycle !== undefined]);
              }
            }
          }
        }
      }
    }
  }

  test(`${cases.length} starting states end restored`, () => {
    for (const [, volume, targetState, dot, lifecycle, helper, succeeded, originallyRunning, manageStandby] of cases) {
      // GIVEN
      const plan = offlinePlan({
        originalState: originallyRunning ? 'running' : 'stopped',
        rootDeleteOnTermination: true,
        manageStandby,
        passwordEnabledAmi: true,
        ...(manageStandby ? { autoScalingGroupName: 'web-asg' } : {}),
      });
      const world: World = {
        volume: JSON.parse(JSON.stringify(volume)),
        target: { state: targetState, dotWhenAttached: dot },
        ...(lifecycle ? { lifecycle } : {}),
        helpers: helper === 'none' ? [] : [{ instanceId: HELPER, state: helper }],
        lockReleased: false,
      };

      // WHEN
      restore(world, plan, succeeded);

      // THEN (I1, I2, I4)
      expect(world.volume.at).toEqual({ instanceId: TARGET, device: '/dev/sda1', state: 'attached' });
      expect(world.target.dotWhenAttached).toBe(true);
      if (originallyRunning) expect(world.target.state).toBe('running');
      else expect(world.target.state).not.toBe('running');
      if (manageStandby) expect(world.lifecycle).toBe('InService');
      expect(world.helpers.every(h => ['shutting-down', 'terminated'].includes(h.state))).toBe(true);
      expect(world.lockReleased).toBe(true);
      if (succeeded && (targetState === 'stopped' || targetState === 'stopping' || volume.at?.instanceId !== TARGET || volume.at?.state !== 'attached')) {
        expect(world.image).toBeDefined();
      }
      if (!succeeded) expect(world.image).toBeUndefined();
    }
  });

  test('the order from the helper is: detach, attach, DeleteOnTermination, image, start, exit Standby, terminate, release', () => {
    // GIVEN
    const plan = offlinePlan({ manageStandby: true, autoScalingGroupName: 'web-asg', passwordEnabledAmi: true });
    const world: World = {
      volume: { state: 'in-use', at: { instanceId: HELPER, device: 'xvdf', state: 'attached' } },
      target: { state: 'stopped', dotWhenAttached: false },
      lifecycle: 'Standby',
      helpers: [{ instanceId: HELPER, state: 'running' }],
      lockReleased: false,
    };

    // WHEN
    const { actions } = restore(world, plan, true);

    // THEN
    expect(actions).toEqual([
      'detach-from-helper', 'attach-to-target', 'restore-delete-on-termination', 'create-password-enabled-image',
      'start-target', 'exit-standby', 'terminate-helpers', 'release-lock',
    ]);
  });

  test('a second restore after a finished one does nothing but confirm', () => {
    const world: World = {
      volume: { state: 'in-use', at: { instanceId: TARGET, device: '/dev/sda1', state: 'attached' } },
      target: { state: 'running', dotWhenAttached: true },
      helpers: [{ instanceId: HELPER, state: 'terminated' }],
      lockReleased: false,
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
