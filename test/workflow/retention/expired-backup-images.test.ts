import { TAGS } from '../../../src/workflow/private/contracts';
import {
  BACKUP_RETENTION_ENV, backupRetentionSettingsFrom, ExecutionOutcome, executionArnOf, executionsToCheck, isBackupImageName, ListedImage,
  ListedSnapshot, planBackupRetention,
} from '../../../src/workflow/retention/expired-backup-images';

const NOW = new Date('2026-05-01T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86400_000);
const SETTINGS = { workflowId: 'c8workflow', imageNamePrefix: 'ResetAccess', retentionSeconds: 14 * 86400 };

/** The tags CreateImage gives a backup image and its snapshots (image-names.ts imageTags). */
function backupTags(execution: string, o: { workflow?: string; role?: string; name?: string } = {}): Record<string, string> {
  return {
    Name: o.name ?? `ResetAccess-Pre-Script-Backup_i-0123456789abcdef0_${execution}`,
    [TAGS.workflow]: o.workflow ?? SETTINGS.workflowId,
    [TAGS.role]: o.role ?? 'backup',
    [TAGS.target]: 'i-0123456789abcdef0',
    [TAGS.execution]: execution,
  };
}

/** A backup image made `age` days ago by `execution`, with one snapshot of the same age. */
function backup(execution: string, age: number, o: Parameters<typeof backupTags>[1] & { state?: string; protection?: string } = {}) {
  const tags = backupTags(execution, o);
  const image: ListedImage = {
    imageId: `ami-${execution}`,
    name: tags.Name,
    state: o.state ?? 'available',
    creationDate: daysAgo(age).toISOString(),
    tags,
    deregistrationProtection: o.protection,
    snapshotIds: [`snap-${execution}`],
  };
  const snapshot: ListedSnapshot = { snapshotId: `snap-${execution}`, startTime: daysAgo(age), tags };
  return { image, snapshot };
}

function plan(backups: ReturnType<typeof backup>[], outcomes: Record<string, ExecutionOutcome>) {
  return planBackupRetention(backups.map(b => b.image), backups.map(b => b.snapshot), new Map(Object.entries(outcomes)), SETTINGS, NOW);
}

describe('planBackupRetention', () => {
  test('deletes the image and snapshots of a successful reset older than the retention, and nothing recent', () => {
    // GIVEN
    const backups = [backup('old-ok', 15), backup('recent-ok', 13)];

    // WHEN
    const result = plan(backups, { 'old-ok': 'SUCCEEDED', 'recent-ok': 'SUCCEEDED' });

    // THEN
    expect(result).toEqual({ deregisterImages: ['ami-old-ok'], deleteSnapshots: ['snap-old-ok'], kept: [] });
  });

  test.each<ExecutionOutcome>(['FAILED', 'ABORTED', 'TIMED_OUT', 'RUNNING', 'PENDING_REDRIVE', 'UNKNOWN'])(
    'keeps the backup of a reset that is %s', outcome => {
      // WHEN
      const result = plan([backup('run', 40)], { run: outcome });

      // THEN
      expect(result.deregisterImages).toEqual([]);
      expect(result.deleteSnapshots).toEqual([]);
      expect(result.kept.map(k => k.id)).toEqual(['ami-run', 'snap-run']);
      expect(result.kept[0].reason).toMatch(outcome === 'UNKNOWN' ? /cannot be read/ : new RegExp(`is ${outcome}, not SUCCEEDED`));
    });

  test('an execution missing from the outcomes counts as unknown: kept', () => {
    expect(plan([backup('unasked', 40)], {}).kept.map(k => k.id)).toEqual(['ami-unasked', 'snap-unasked']);
  });

  test('never touches what is not this workflow\'s backup: other workflows, password-enabled images, other names, no execution tag', () => {
    // GIVEN: all expired, all of successful resets, as if the listing's tag filter had let them through.
    const noExecutionTag = backup('untagged', 40);
    delete noExecutionTag.image.tags[TAGS.execution];
    const backups = [
      backup('other-workflow', 40, { workflow: 'someone-else' }),
      backup('post-script', 40, { role: 'password-enabled', name: 'ResetAccess-Post-Script-Backup_i-0123456789abcdef0_x' }),
      backup('renamed', 40, { name: 'golden-image-2026' }),
      backup('prefix', 40, { name: 'Other-Pre-Script-Backup_i-0123456789abcdef0_x' }),
      noExecutionTag,
    ];

    // WHEN
    const result = planBackupRetention(backups.map(b => b.image), backups.map(b => b.snapshot).slice(0, 4),
      new Map(backups.map(b => [b.image.imageId.slice(4), 'SUCCEEDED' as const])), SETTINGS, NOW);

    // THEN
    expect(result.deregisterImages).toEqual([]);
    expect(result.deleteSnapshots).toEqual([]);
    expect(result.kept).toEqual([{ id: 'ami-untagged', reason: expect.stringMatching(/no cdk-ec2-reset-access:execution tag/) }]);
  });

  test('a pending or protected image stays, and so does the snapshot it uses', () => {
    // GIVEN
    const backups = [backup('pending', 20, { state: 'pending' }), backup('protected', 20, { protection: 'enabled-with-cooldown' }), backup('plain', 20, { protection: 'disabled' })];

    // WHEN
    const result = plan(backups, { pending: 'SUCCEEDED', protected: 'SUCCEEDED', plain: 'SUCCEEDED' });

    // THEN
    expect(result.deregisterImages).toEqual(['ami-plain']);
    expect(result.deleteSnapshots).toEqual(['snap-plain']);
    expect(result.kept).toEqual([
      { id: 'ami-pending', reason: 'the image is still pending' },
      { id: 'ami-protected', reason: 'deregistration protection is enabled-with-cooldown' },
      { id: 'snap-pending', reason: 'used by image ami-pending, which stays' },
      { id: 'snap-protected', reason: 'used by image ami-protected, which stays' },
    ]);
  });

  test('a snapshot whose image is already gone is deleted on its own', () => {
    // GIVEN: an earlier run deregistered the image but could not delete the snapshot.
    const { snapshot } = backup('leftover', 30);

    // WHEN
    const result = planBackupRetention([], [snapshot], new Map([['leftover', 'SUCCEEDED']]), SETTINGS, NOW);

    // THEN
    expect(result).toEqual({ deregisterImages: [], deleteSnapshots: ['snap-leftover'], kept: [] });
  });

  test('an image of unknown age is kept', () => {
    const old = backup('undated', 40);
    const undated = { ...old.image, creationDate: undefined };
    expect(planBackupRetention([undated], [], new Map([['undated', 'SUCCEEDED']]), SETTINGS, NOW).deregisterImages).toEqual([]);
  });
});

describe('executionsToCheck', () => {
  test('names each execution of an expired backup once, and none of a recent or foreign one', () => {
    // GIVEN
    const backups = [backup('a', 20), backup('b', 15), backup('recent', 2), backup('foreign', 30, { workflow: 'other' })];

    // WHEN
    const names = executionsToCheck(backups.map(b => b.image), backups.map(b => b.snapshot), SETTINGS, NOW);

    // THEN
    expect(names).toEqual(['a', 'b']);
  });
});

describe('names and settings', () => {
  test('the execution ARN is the state machine\'s, with execution and the name', () => {
    expect(executionArnOf('arn:aws:states:us-east-1:123456789012:stateMachine:Reset', 'run-1'))
      .toBe('arn:aws:states:us-east-1:123456789012:execution:Reset:run-1');
    expect(() => executionArnOf('arn:aws:lambda:us-east-1:123456789012:function:Reset', 'run-1')).toThrow(/not a state machine ARN/);
  });

  test('a backup image name starts with the sanitized prefix and -Pre-Script-Backup_', () => {
    expect(isBackupImageName('Team*Reset-Pre-Script-Backup_i-0123_2026', 'Team*Reset')).toBe(false);
    expect(isBackupImageName('Team-Reset-Pre-Script-Backup_i-0123_2026', 'Team*Reset')).toBe(true);
    expect(isBackupImageName('Team-Reset-Post-Script-Backup_i-0123_2026', 'Team*Reset')).toBe(false);
    expect(isBackupImageName(undefined, 'Team')).toBe(false);
  });

  test('settings come from the environment; a retention outside 1 to 80 days is refused', () => {
    const env = {
      [BACKUP_RETENTION_ENV.retentionSeconds]: String(14 * 86400),
      [BACKUP_RETENTION_ENV.stateMachineArn]: 'arn:aws:states:us-east-1:123456789012:stateMachine:Reset',
      [BACKUP_RETENTION_ENV.workflowId]: 'c8workflow',
      [BACKUP_RETENTION_ENV.imageNamePrefix]: 'ResetAccess',
    };
    expect(backupRetentionSettingsFrom(env)).toEqual({
      retentionSeconds: 14 * 86400, stateMachineArn: env[BACKUP_RETENTION_ENV.stateMachineArn], workflowId: 'c8workflow', imageNamePrefix: 'ResetAccess',
    });
    expect(() => backupRetentionSettingsFrom({ ...env, [BACKUP_RETENTION_ENV.retentionSeconds]: String(81 * 86400) })).toThrow(/between 1 and 80 days/);
    expect(() => backupRetentionSettingsFrom({ ...env, [BACKUP_RETENTION_ENV.retentionSeconds]: '3600' })).toThrow(/between 1 and 80 days/);
    expect(() => backupRetentionSettingsFrom({ ...env, [BACKUP_RETENTION_ENV.workflowId]: '' })).toThrow(/RESET_WORKFLOW_ID is missing/);
  });
});
