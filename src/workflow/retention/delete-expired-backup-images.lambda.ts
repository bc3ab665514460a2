import { Logger } from '@aws-lambda-powertools/logger';
import { DeleteSnapshotCommand, DeregisterImageCommand, EC2Client, paginateDescribeImages, paginateDescribeSnapshots } from '@aws-sdk/client-ec2';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import {
  backupRetentionSettingsFrom, ExecutionOutcome, executionArnOf, executionsToCheck, KeptResource, ListedImage, ListedSnapshot,
  planBackupRetention, tagRecord,
} from './expired-backup-images';
import { CLIENT_CONFIG } from '../private/clients';
import { TAGS } from '../private/contracts';
import { awsErrorCode } from '../private/errors';

const logger = new Logger({ serviceName: 'backup-image-retention' });
const ec2 = new EC2Client(CLIENT_CONFIG);
const sfn = new SFNClient(CLIENT_CONFIG);

/** What one run did: ids only. */
export interface BackupRetentionResult {
  readonly examinedImages: number;
  readonly examinedSnapshots: number;
  readonly deregisteredImages: string[];
  readonly deletedSnapshots: string[];
  /** Expired backups that stay, and why (a failed reset's, a protected image, a snapshot in use...). */
  readonly kept: KeptResource[];
  /** Gone by the time of the call (deleted meanwhile by someone else). */
  readonly alreadyGone: string[];
}

/**
 * Deregisters the workflow's backup images of successful resets once they are older than the
 * retention, and deletes their snapshots (expired-backup-images.ts decides which). Runs daily;
 * each run is independent, so what fails is tried again the next day. A run that could not do
 * everything it decided fails at the end (the function's Errors metric shows it), after doing
 * the rest.
 */
export async function handler(_event?: unknown, now: Date = new Date()): Promise<BackupRetentionResult> {
  const settings = backupRetentionSettingsFrom(process.env);
  const ownBackupTags = [
    { Name: `tag:${TAGS.workflow}`, Values: [settings.workflowId] },
    { Name: `tag:${TAGS.role}`, Values: ['backup'] },
  ];

  const images: ListedImage[] = [];
  for await (const page of paginateDescribeImages({ client: ec2 }, { Owners: ['self'], Filters: ownBackupTags })) {
    for (const image of page.Images ?? []) {
      images.push({
        imageId: image.ImageId!,
        name: image.Name,
        state: image.State,
        creationDate: image.CreationDate,
        tags: tagRecord(image.Tags),
        deregistrationProtection: image.DeregistrationProtection,
        snapshotIds: (image.BlockDeviceMappings ?? []).map(m => m.Ebs?.SnapshotId).filter((id): id is string => id !== undefined),
      });
    }
  }
  const snapshots: ListedSnapshot[] = [];
  for await (const page of paginateDescribeSnapshots({ client: ec2 }, { OwnerIds: ['self'], Filters: ownBackupTags })) {
    for (const snapshot of page.Snapshots ?? []) {
      snapshots.push({ snapshotId: snapshot.SnapshotId!, startTime: snapshot.StartTime, tags: tagRecord(snapshot.Tags) });
    }
  }

  const outcomes = new Map<string, ExecutionOutcome>();
  for (const execution of executionsToCheck(images, snapshots, settings, now)) {
    outcomes.set(execution, await outcomeOf(executionArnOf(settings.stateMachineArn, execution)));
  }
  const plan = planBackupRetention(images, snapshots, outcomes, settings, now);

  const deregisteredImages: string[] = [];
  const deletedSnapshots: string[] = [];
  const kept = [...plan.kept];
  const alreadyGone: string[] = [];
  const failed: { id: string; error: string }[] = [];
  for (const imageId of plan.deregisterImages) {
    try {
      await ec2.send(new DeregisterImageCommand({ ImageId: imageId }));
      deregisteredImages.push(imageId);
    } catch (err) {
      if (awsErrorCode(err)?.startsWith('InvalidAMIID.')) alreadyGone.push(imageId);
      else failed.push({ id: imageId, error: describe(err) });
    }
  }
  // The snapshots of an image that failed to deregister are still in use: they wait for the next run.
  const stillRegistered = new Map(images.filter(i => failed.some(f => f.id === i.imageId)).flatMap(i => i.snapshotIds.map(s => [s, i.imageId])));
  for (const snapshotId of plan.deleteSnapshots) {
    if (stillRegistered.has(snapshotId)) {
      kept.push({ id: snapshotId, reason: `used by image ${stillRegistered.get(snapshotId)}, which failed to deregister` });
      continue;
    }
    try {
      await ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }));
      deletedSnapshots.push(snapshotId);
    } catch (err) {
      const code = awsErrorCode(err);
      if (code === 'InvalidSnapshot.NotFound') alreadyGone.push(snapshotId);
      else if (code === 'InvalidSnapshot.InUse') kept.push({ id: snapshotId, reason: 'in use by another registered image' });
      else failed.push({ id: snapshotId, error: describe(err) });
    }
  }

  const result = { examinedImages: images.length, examinedSnapshots: snapshots.length, deregisteredImages, deletedSnapshots, kept, alreadyGone };
  logger.info('Backup image retention applied', { retentionSeconds: settings.retentionSeconds, ...result, failed });
  if (failed.length > 0) {
    throw new BackupRetentionIncompleteError(`Could not delete ${failed.map(f => `${f.id} (${f.error})`).join(', ')}; ` +
      'the next run tries again. Check the function\'s role and the resources named.');
  }
  return result;
}

/** How a reset ended, as DescribeExecution says; UNKNOWN when Step Functions no longer knows it. */
async function outcomeOf(executionArn: string): Promise<ExecutionOutcome> {
  try {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return (out.status ?? 'UNKNOWN') as ExecutionOutcome;
  } catch (err) {
    // Any other error (throttling past the SDK's retries, access denied) fails the run before it deletes anything.
    if (!['ExecutionDoesNotExist', 'InvalidArn'].includes(awsErrorCode(err) ?? '')) throw err;
    logger.warn('Reset execution not found: its backup is kept', { executionArn, error: awsErrorCode(err) });
    return 'UNKNOWN';
  }
}

function describe(err: unknown): string {
  return awsErrorCode(err) ?? (err instanceof Error ? err.message : String(err));
}

/** Raised at the end of a run that could not delete everything it should have. */
export class BackupRetentionIncompleteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupRetentionIncomplete';
  }
}
