import { CreateImageCommand } from '@aws-sdk/client-ec2';
import { ec2 } from '../private/clients';
import { workflowConfig } from '../private/config';
import { ERRORS, ImageResult, PlanEvent } from '../private/contracts';
import { findOwnImageByName } from '../private/describe';
import { WorkflowError, isAwsError } from '../private/errors';
import { imageTags } from '../private/image-names';
import { stepLogger } from '../private/logger';

const logger = stepLogger('create-backup-image');

/**
 * Requests the backup image of the stopped target (I3), named from the execution's start
 * time so a retry finds the image it already requested. Not waited for: the snapshots are
 * point-in-time once created.
 */
export async function handler(event: PlanEvent): Promise<ImageResult> {
  const { plan } = event;
  const config = workflowConfig();
  const name = plan.backupImageName;
  logger.appendKeys({ instanceId: plan.instanceId, executionName: plan.executionName });

  const existing = await findOwnImageByName(name);
  if (existing) {
    logger.info('Backup image already requested', { imageId: existing.imageId, state: existing.state });
    return { imageId: existing.imageId, imageName: name };
  }
  const tags = imageTags(name, 'backup', plan, config.workflowId);
  try {
    const out = await ec2.send(new CreateImageCommand({
      InstanceId: plan.instanceId,
      Name: name,
      Description: `Backup of ${plan.instanceId} before its Administrator password reset (${plan.executionName})`.slice(0, 255),
      // The target is stopped by now; never reboot an instance behind its owner's back.
      NoReboot: true,
      TagSpecifications: [{ ResourceType: 'image', Tags: tags }, { ResourceType: 'snapshot', Tags: tags }],
    }));
    logger.info('Backup image requested', { imageId: out.ImageId });
    return { imageId: out.ImageId!, imageName: name };
  } catch (err) {
    if (!isAwsError(err, 'InvalidAMIName.Duplicate')) throw err;
    const again = await findOwnImageByName(name);
    if (again) {
      logger.info('Backup image already requested', { imageId: again.imageId });
      return { imageId: again.imageId, imageName: name };
    }
    throw new WorkflowError(ERRORS.notYet, `The backup image ${name} exists but is not visible yet; retry in a few seconds.`);
  }
}
