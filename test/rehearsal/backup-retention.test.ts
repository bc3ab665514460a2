import { Rehearsal } from './runner';
import { SampleArtifacts, synthesizeSample } from './sample';
import { windowsTarget } from './world';
import { TAGS } from '../../src/workflow/private/contracts';
import type { BackupRetentionResult } from '../../src/workflow/retention/delete-expired-backup-images.lambda';
import { BACKUP_RETENTION_ENV } from '../../src/workflow/retention/expired-backup-images';

const DAY = 86400;

/**
 * The sample stack's backup image retention, run against the simulated account after real resets:
 * what goes is exactly the backup images (and snapshots) of the resets that succeeded, and only
 * once they are older than the retention.
 */
describe('rehearsal: backup image retention', () => {
  let sample: SampleArtifacts;
  let r: Rehearsal;
  beforeAll(() => {
    sample = synthesizeSample();
  });
  afterEach(() => r?.dispose());

  /** The sample stack's retention function, with the environment the stack gives it. */
  function retentionFunction(): { run: () => Promise<BackupRetentionResult>; retentionDays: number } {
    const fn = [...sample.functions.values()].find(f => f.handlerFile.endsWith('delete-expired-backup-images.lambda.ts'));
    if (!fn) throw new Error('The sample stack has no backup image retention function');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handler } = require('../../src/workflow/retention/delete-expired-backup-images.lambda');
    return {
      run: () => {
        Object.assign(process.env, fn.environment);
        return handler({});
      },
      retentionDays: Number(fn.environment[BACKUP_RETENTION_ENV.retentionSeconds]) / DAY,
    };
  }

  test('after a successful, a failed, an aborted and a password-enabled reset: only the successful resets\' backups go, after the retention', async () => {
    // GIVEN four offline resets, one after the other.
    r = new Rehearsal(sample);
    const ok = await r.reset({ instanceId: windowsTarget(r.account).instanceId, method: 'offline' });
    r.account.failingDocuments.set('AWS-RunPowerShellScript', 'Offline password fix failed: the disk xvdf could not be brought online.');
    const failed = await r.reset({ instanceId: windowsTarget(r.account).instanceId, method: 'offline' });
    r.account.failingDocuments.clear();
    const aborted = await r.reset({ instanceId: windowsTarget(r.account).instanceId, method: 'offline' },
      { faults: [{ machine: 'reset', state: 'SendOfflineFix', kind: 'abort' }] });
    const enabled = await r.reset({ instanceId: windowsTarget(r.account).instanceId, method: 'offline', passwordEnabledAmi: true });
    expect([ok.status, failed.status, aborted.status, enabled.status]).toEqual(['SUCCEEDED', 'FAILED', 'ABORTED', 'SUCCEEDED']);
    r.settle();

    const images = () => new Set(r.account.images.keys());
    const snapshots = () => new Set(r.account.snapshots.keys());
    const backupOf = (execution: string) => [...r.account.images.values()]
      .find(i => i.tags[TAGS.execution] === execution && i.tags[TAGS.role] === 'backup')!;
    const [okBackup, failedBackup, abortedBackup, enabledBackup] = [ok, failed, aborted, enabled].map(e => backupOf(e.name));
    const passwordEnabled = r.account.images.get(enabled.output.passwordEnabledImageId)!;
    expect([okBackup, failedBackup, abortedBackup, enabledBackup, passwordEnabled].every(i => i !== undefined)).toBe(true);
    const before = { images: images(), snapshots: snapshots() };
    const retention = retentionFunction();
    expect(retention.retentionDays).toBe(14);

    // WHEN the daily function runs one day before the retention ends
    r.account.advance((retention.retentionDays - 1) * DAY);
    const early = await retention.run();

    // THEN nothing goes
    expect({ deregistered: early.deregisteredImages, deleted: early.deletedSnapshots }).toEqual({ deregistered: [], deleted: [] });
    expect({ images: images(), snapshots: snapshots() }).toEqual(before);

    // WHEN it runs two days later, past the retention
    r.account.advance(2 * DAY);
    const late = await retention.run();

    // THEN exactly the two successful resets' backup images and their snapshots are gone
    const gone = [okBackup, enabledBackup];
    expect(new Set(late.deregisteredImages)).toEqual(new Set(gone.map(i => i.imageId)));
    expect(new Set(late.deletedSnapshots)).toEqual(new Set(gone.flatMap(i => i.snapshotIds)));
    expect(images()).toEqual(new Set([...before.images].filter(id => !gone.some(i => i.imageId === id))));
    expect(snapshots()).toEqual(new Set([...before.snapshots].filter(id => !gone.some(i => i.snapshotIds.includes(id)))));
    // ... and the failed and aborted resets' backups, and the password-enabled image, stay, with the reason.
    expect(late.kept).toEqual(expect.arrayContaining([
      { id: failedBackup.imageId, reason: `reset ${failed.name} is FAILED, not SUCCEEDED` },
      { id: abortedBackup.imageId, reason: `reset ${aborted.name} is ABORTED, not SUCCEEDED` },
    ]));
    expect(r.account.images.has(passwordEnabled.imageId) && passwordEnabled.snapshotIds.every(s => r.account.snapshots.has(s))).toBe(true);

    // WHEN it runs again, and long after Step Functions has forgotten the executions
    const again = await retention.run();
    r.account.advance(100 * DAY);
    const forgotten = await retention.run();

    // THEN nothing more goes: an outcome that cannot be read keeps the image
    expect([...again.deregisteredImages, ...again.deletedSnapshots, ...forgotten.deregisteredImages, ...forgotten.deletedSnapshots]).toEqual([]);
    expect(forgotten.kept).toEqual(expect.arrayContaining([
      { id: failedBackup.imageId, reason: `the outcome of reset ${failed.name} cannot be read (Step Functions keeps it 90 days)` },
    ]));
    expect(r.account.images.has(failedBackup.imageId) && r.account.images.has(abortedBackup.imageId)).toBe(true);
    // Every DescribeExecution of the retention named one of this workflow's reset executions (the reconciler reads restores too).
    const asked = r.account.calls.filter(c => c.operation === 'DescribeExecution' && c.context.execution !== 'reconciler').map(c => c.input.executionArn);
    expect(new Set(asked)).toEqual(new Set([ok, failed, aborted, enabled].map(e => e.arn)));
  });
});
