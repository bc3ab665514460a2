import { AttachObservation, nextAttachAction } from '../../../src/workflow/private/attach-plan';
import { HELPER, TARGET, offlinePlan } from '../fixtures';

describe('nextAttachAction', () => {
  const plan = offlinePlan();
  const image = { imageId: 'ami-backup', state: 'pending' };
  const onTarget = (state = 'attached') => ({ state: 'in-use', attachment: { instanceId: TARGET, device: '/dev/sda1', state } });
  const onHelper = (state = 'attached', device = 'xvdf') => ({ state: 'in-use', attachment: { instanceId: HELPER, device, state } });
  const decide = (o: Partial<AttachObservation>) => nextAttachAction({ backupImage: image, volume: onTarget(), targetState: 'stopped', ...o }, plan, HELPER);

  test('I3: without the backup image nothing is detached', () => {
    expect(decide({ backupImage: undefined })).toMatchObject({ kind: 'wait', reason: expect.stringContaining(plan.backupImageName) });
  });

  test.each(['failed', 'invalid', 'deregistered'])('a %s backup image fails with BackupImageFailed before the volume is touched', state => {
    expect(() => decide({ backupImage: { imageId: 'ami-backup', state } })).toThrow(expect.objectContaining({ name: 'BackupImageFailed' }));
  });

  test('a pending backup image is enough (its snapshot is point-in-time)', () => {
    expect(decide({}).kind).toBe('detach-from-target');
  });

  test('the root is detached only from a stopped target', () => {
    expect(decide({ targetState: 'stopping' })).toMatchObject({ kind: 'wait', reason: expect.stringMatching(/only when it is stopped/) });
    expect(decide({ targetState: 'running' }).kind).toBe('wait');
  });

  test('detaching → wait', () => {
    expect(decide({ volume: onTarget('detaching') }).kind).toBe('wait');
  });

  test('already detached (available) → attach to the helper at xvdf', () => {
    expect(decide({ volume: { state: 'available' } })).toEqual({ kind: 'attach-to-helper', device: 'xvdf' });
  });

  test('attaching to the helper → wait', () => {
    expect(decide({ volume: onHelper('attaching') }).kind).toBe('wait');
  });

  test('already attached to the helper at xvdf → done', () => {
    expect(decide({ volume: onHelper() }).kind).toBe('done');
    expect(decide({ volume: onHelper('attached', '/dev/xvdf') }).kind).toBe('done');
  });

  test('attached to the helper at another device fails with VolumeAttachedElsewhere', () => {
    expect(() => decide({ volume: onHelper('attached', 'xvdg') })).toThrow(expect.objectContaining({ name: 'VolumeAttachedElsewhere', message: expect.stringMatching(/at xvdg instead of xvdf/) }));
  });

  test('attached to another instance fails with VolumeAttachedElsewhere', () => {
    const stranger = { state: 'in-use', attachment: { instanceId: 'i-0aaaaaaaaaaaaaaaa', device: 'xvdf', state: 'attached' } };
    expect(() => decide({ volume: stranger })).toThrow(expect.objectContaining({ name: 'VolumeAttachedElsewhere' }));
  });

  test('a missing volume fails with VolumeNotFound', () => {
    expect(() => decide({ volume: undefined })).toThrow(expect.objectContaining({ name: 'VolumeNotFound' }));
  });
});
