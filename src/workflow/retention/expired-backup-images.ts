/**
 * Which of the reset workflow's backup images (`<prefix>-Pre-Script-Backup_*`) and their
 * snapshots have outlived their retention and may go. Plain data in, plain data out: the handler
 * lists the images and snapshots, asks Step Functions how each reset ended, and deletes what
 * {@link planBackupRetention} returns.
 *
 * What may be deleted, all of it required:
 * - it carries this workflow's tag and the `backup` role tag (a password-enabled image carries
 *   `password-enabled` and is never touched; IAM enforces the same two tags);
 * - its name (an image's, or a snapshot's `Name` tag) is this workflow's backup image name;
 * - it is older than the retention;
 * - the reset execution named in its tag SUCCEEDED. A failed, aborted or timed-out reset keeps
 *   its backup: it is the way back if the root volume was harmed. An outcome that cannot be read
 *   (the execution's history is gone after Step Functions' 90 days, or the tag is missing) keeps
 *   it too: deleting is the one thing this function must never get wrong.
 */
import { TAGS } from '../private/contracts';
import { sanitizeImageNamePrefix } from '../private/image-names';

/** Environment variables of the function (set by the BackupImageRetention construct). */
export const BACKUP_RETENTION_ENV = {
  retentionSeconds: 'BACKUP_IMAGE_RETENTION_SECONDS',
  stateMachineArn: 'RESET_STATE_MACHINE_ARN',
  workflowId: 'RESET_WORKFLOW_ID',
  imageNamePrefix: 'IMAGE_NAME_PREFIX',
} as const;

/**
 * The longest retention the function can honour. It learns a reset's outcome from Step Functions,
 * which keeps a closed execution's history for 90 days; an image is examined by the first daily
 * run after it expires, so 80 days leaves ten runs (ten days of failed runs) to read the outcome
 * before it is gone and the image is kept for good.
 */
export const MAX_BACKUP_RETENTION_DAYS = 80;
/** The shortest: a day to find out whether the instance is well after its reset. */
export const MIN_BACKUP_RETENTION_DAYS = 1;

/** An image as DescribeImages lists it (the fields the decision reads). */
export interface ListedImage {
  readonly imageId: string;
  readonly name?: string;
  readonly state?: string;
  /** ISO 8601, as DescribeImages returns `CreationDate`. */
  readonly creationDate?: string;
  readonly tags: Record<string, string>;
  /** `disabled`, or `enabled...` when the image is protected from deregistration. */
  readonly deregistrationProtection?: string;
  /** The snapshots of its block device mappings. */
  readonly snapshotIds: string[];
}

/** A snapshot as DescribeSnapshots lists it. */
export interface ListedSnapshot {
  readonly snapshotId: string;
  readonly startTime?: Date;
  readonly tags: Record<string, string>;
}

/** What Step Functions says of a reset execution: its status, or that it cannot say. */
export type ExecutionOutcome = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE' | 'UNKNOWN';

/** The function's settings (from its environment). */
export interface BackupRetentionSettings {
  readonly workflowId: string;
  readonly imageNamePrefix: string;
  readonly retentionSeconds: number;
}

/** A resource kept although it is this workflow's backup, and why. */
export interface KeptResource {
  readonly id: string;
  readonly reason: string;
}

/** What to delete, in order: images first, then snapshots (a registered image's snapshot cannot be deleted). */
export interface BackupRetentionPlan {
  readonly deregisterImages: string[];
  readonly deleteSnapshots: string[];
  /** Expired backups that stay, with the reason (recent ones are not listed). */
  readonly kept: KeptResource[];
}

interface Backup {
  readonly id: string;
  readonly kind: 'image' | 'snapshot';
  readonly name?: string;
  readonly createdAt?: number;
  readonly tags: Record<string, string>;
}

/** True for a name this workflow gives its backup images: `<prefix>-Pre-Script-Backup_...`. */
export function isBackupImageName(name: string | undefined, imageNamePrefix: string): boolean {
  return name !== undefined && name.startsWith(`${sanitizeImageNamePrefix(imageNamePrefix)}-Pre-Script-Backup_`);
}

/** `arn:...:stateMachine:<machine>` and an execution name → `arn:...:execution:<machine>:<name>`. */
export function executionArnOf(stateMachineArn: string, executionName: string): string {
  const match = /^(arn:[^:]+:states:[^:]+:\d{12}):stateMachine:([^:]+)$/.exec(stateMachineArn);
  if (!match) throw new InvalidBackupRetentionSettingsError(`${stateMachineArn} is not a state machine ARN.`);
  return `${match[1]}:execution:${match[2]}:${executionName}`;
}

/** This workflow's backups among what was listed (its tags and its name), images and snapshots alike. */
function ownBackups(images: ListedImage[], snapshots: ListedSnapshot[], s: BackupRetentionSettings): Backup[] {
  const own = (tags: Record<string, string>, name: string | undefined) =>
    tags[TAGS.workflow] === s.workflowId && tags[TAGS.role] === 'backup' && isBackupImageName(name, s.imageNamePrefix);
  const time = (iso: string | undefined) => (iso === undefined || Number.isNaN(Date.parse(iso)) ? undefined : Date.parse(iso));
  return [
    ...images.filter(i => own(i.tags, i.name))
      .map(i => ({ id: i.imageId, kind: 'image' as const, name: i.name, createdAt: time(i.creationDate), tags: i.tags })),
    ...snapshots.filter(sn => own(sn.tags, sn.tags.Name))
      .map(sn => ({ id: sn.snapshotId, kind: 'snapshot' as const, name: sn.tags.Name, createdAt: sn.startTime?.getTime(), tags: sn.tags })),
  ];
}

function isExpired(backup: Backup, now: Date, retentionSeconds: number): boolean {
  return backup.createdAt !== undefined && backup.createdAt < now.getTime() - retentionSeconds * 1000;
}

/**
 * The execution names whose outcome decides something: those of this workflow's expired backups.
 * The handler asks Step Functions about each (one call per execution, not per resource).
 */
export function executionsToCheck(images: ListedImage[], snapshots: ListedSnapshot[], s: BackupRetentionSettings, now: Date): string[] {
  const names = ownBackups(images, snapshots, s)
    .filter(b => isExpired(b, now, s.retentionSeconds))
    .map(b => b.tags[TAGS.execution])
    .filter((name): name is string => name !== undefined && name !== '');
  return [...new Set(names)].sort();
}

/**
 * What to delete: this workflow's backup images and snapshots older than the retention whose
 * reset SUCCEEDED (see the module comment). An image that is still being created, or protected
 * from deregistration, stays; a snapshot that a remaining image uses stays (EC2 refuses to delete
 * it), and goes on a later run once the image is gone.
 */
export function planBackupRetention(
  images: ListedImage[], snapshots: ListedSnapshot[], outcomes: ReadonlyMap<string, ExecutionOutcome>,
  s: BackupRetentionSettings, now: Date,
): BackupRetentionPlan {
  const kept: KeptResource[] = [];
  const removable = new Set<string>();
  for (const backup of ownBackups(images, snapshots, s)) {
    if (!isExpired(backup, now, s.retentionSeconds)) continue;
    const execution = backup.tags[TAGS.execution];
    const outcome = execution ? outcomes.get(execution) ?? 'UNKNOWN' : 'UNKNOWN';
    if (!execution) {
      kept.push({ id: backup.id, reason: `no ${TAGS.execution} tag: the reset's outcome is unknown` });
    } else if (outcome === 'UNKNOWN') {
      kept.push({ id: backup.id, reason: `the outcome of reset ${execution} cannot be read (Step Functions keeps it 90 days)` });
    } else if (outcome !== 'SUCCEEDED') {
      kept.push({ id: backup.id, reason: `reset ${execution} is ${outcome}, not SUCCEEDED` });
    } else {
      removable.add(backup.id);
    }
  }

  const deregisterImages: string[] = [];
  for (const image of images.filter(i => removable.has(i.imageId))) {
    if (image.state === 'pending') {
      kept.push({ id: image.imageId, reason: 'the image is still pending' });
    } else if (image.deregistrationProtection !== undefined && image.deregistrationProtection !== 'disabled') {
      kept.push({ id: image.imageId, reason: `deregistration protection is ${image.deregistrationProtection}` });
    } else {
      deregisterImages.push(image.imageId);
    }
  }
  // A snapshot an image that stays still uses cannot be deleted. (An image of someone else's made
  // from one of these snapshots is not listed: EC2 refuses that delete, and the handler keeps it.)
  const usedBy = new Map<string, string>();
  for (const image of images.filter(i => !deregisterImages.includes(i.imageId))) {
    for (const snapshotId of image.snapshotIds) usedBy.set(snapshotId, image.imageId);
  }
  const deleteSnapshots: string[] = [];
  for (const snapshot of snapshots.filter(sn => removable.has(sn.snapshotId))) {
    const user = usedBy.get(snapshot.snapshotId);
    if (user) kept.push({ id: snapshot.snapshotId, reason: `used by image ${user}, which stays` });
    else deleteSnapshots.push(snapshot.snapshotId);
  }
  return { deregisterImages, deleteSnapshots, kept };
}

/** The settings from the environment; a missing or invalid value is a deployment error, and nothing is deleted. */
export function backupRetentionSettingsFrom(env: NodeJS.ProcessEnv): BackupRetentionSettings & { stateMachineArn: string } {
  const value = (name: string) => {
    const v = env[name];
    if (!v) throw new InvalidBackupRetentionSettingsError(`${name} is missing: deploy this function through the BackupImageRetention construct.`);
    return v;
  };
  const retentionSeconds = Number(value(BACKUP_RETENTION_ENV.retentionSeconds));
  const inRange = retentionSeconds >= MIN_BACKUP_RETENTION_DAYS * 86400 && retentionSeconds <= MAX_BACKUP_RETENTION_DAYS * 86400;
  if (!Number.isInteger(retentionSeconds) || !inRange) {
    throw new InvalidBackupRetentionSettingsError(`${BACKUP_RETENTION_ENV.retentionSeconds} must be a whole number of seconds between ` +
      `${MIN_BACKUP_RETENTION_DAYS} and ${MAX_BACKUP_RETENTION_DAYS} days, got ${JSON.stringify(env[BACKUP_RETENTION_ENV.retentionSeconds])}.`);
  }
  const stateMachineArn = value(BACKUP_RETENTION_ENV.stateMachineArn);
  executionArnOf(stateMachineArn, 'check');
  return {
    retentionSeconds,
    stateMachineArn,
    workflowId: value(BACKUP_RETENTION_ENV.workflowId),
    imageNamePrefix: value(BACKUP_RETENTION_ENV.imageNamePrefix),
  };
}

/** EC2's `Tags` list as a record. */
export function tagRecord(tags: ReadonlyArray<{ Key?: string; Value?: string }> | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).filter(t => t.Key !== undefined).map(t => [t.Key as string, t.Value ?? '']));
}

export class InvalidBackupRetentionSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidBackupRetentionSettings';
  }
}
