import { ResetPlan, TAGS } from './contracts';

/**
 * Names of the images the workflow creates, the way AWSSupport-StartEC2RescueWorkflow names
 * them: `<prefix>-Pre-Script-Backup_<instance>_<date>` and `<prefix>-Post-Script-Backup_<instance>_<date>`.
 * The date is the execution's start time, so a retried step derives the same name and finds
 * the image it already created.
 */

/** AMI names: 3 to 128 characters, letters, digits and `( ) [ ] space . / - ' @ _`. */
export const AMI_NAME_PATTERN = /^[A-Za-z0-9()[\] ./\-'@_]{3,128}$/;
const AMI_NAME_MAX = 128;

/** `yyyy-mm-dd-hh-mm-ss` in UTC. */
export function imageDateStamp(startTime: string): string {
  const date = new Date(startTime);
  if (Number.isNaN(date.getTime())) {
    throw new Error(`startTime ${JSON.stringify(startTime)} is not an ISO 8601 time.`);
  }
  return date.toISOString().slice(0, 19).replace(/[T:]/g, '-');
}

/** The prefix with every character an AMI name may not hold replaced by `-`. */
export function sanitizeImageNamePrefix(prefix: string): string {
  return prefix.replace(/[^A-Za-z0-9()[\] ./\-'@_]/g, '-');
}

function imageName(prefix: string, kind: string, instanceId: string, startTime: string): string {
  const suffix = `-${kind}_${instanceId}_${imageDateStamp(startTime)}`;
  const cleanPrefix = sanitizeImageNamePrefix(prefix).slice(0, AMI_NAME_MAX - suffix.length);
  return `${cleanPrefix}${suffix}`;
}

/** Name of the backup image taken before the root volume is modified (I3). */
export function backupImageName(prefix: string, instanceId: string, startTime: string): string {
  return imageName(prefix, 'Pre-Script-Backup', instanceId, startTime);
}

/** Name of the optional password-enabled image, made after the fix (for a lost key pair). */
export function passwordEnabledImageName(prefix: string, instanceId: string, startTime: string): string {
  return imageName(prefix, 'Post-Script-Backup', instanceId, startTime);
}

/**
 * The Windows Server version an AMI's name or description states (`Windows_Server-2022-…`,
 * `Microsoft Windows Server 2019 …`), if any.
 */
export function windowsVersionOf(...texts: (string | undefined)[]): string | undefined {
  for (const text of texts) {
    const match = text?.match(/Windows[_ ]Server[-_ ](20\d\d)/i);
    if (match) return match[1];
  }
  return undefined;
}

/**
 * Tags of an image the workflow creates (and of its snapshots): found again by name and tag,
 * and attributable to the instance and execution it was made for.
 */
export function imageTags(name: string, role: 'backup' | 'password-enabled', plan: ResetPlan, workflowId: string): Tag[] {
  return [
    { Key: 'Name', Value: name },
    { Key: TAGS.workflow, Value: workflowId },
    { Key: TAGS.role, Value: role },
    { Key: TAGS.target, Value: plan.instanceId },
    { Key: TAGS.execution, Value: plan.executionName },
  ];
}

/** An EC2 tag, as CreateImage's TagSpecifications take it. */
export interface Tag {
  readonly Key: string;
  readonly Value: string;
}
