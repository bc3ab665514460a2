import { AttachVolumeCommand, DetachVolumeCommand } from '@aws-sdk/client-ec2';
import { AttachObservation, nextAttachAction } from '../private/attach-plan';
import { ec2 } from '../private/clients';
import { HelperEvent, PollResult } from '../private/contracts';
import { describeInstance, describeVolume, findOwnImageByName } from '../private/describe';
import { isAwsError } from '../private/errors';
import { stepLogger } from '../private/logger';
import { WAIT_SECONDS } from '../private/observations';

const logger = stepLogger('attach-to-helper');

/**
 * Moves the target's root volume to the helper at `xvdf`, one observed step per call:
 * only once the backup image exists (I3), detach from the stopped target, wait until
 * available, attach to the helper, wait until attached.
 */
export async function handler(event: HelperEvent): Promise<PollResult> {
  const { plan, helper } = event;
  logger.appendKeys({ instanceId: plan.instanceId, executionName: plan.executionName, helperInstanceId: helper.helperInstanceId });
  const [backupImage, volume, target] = await Promise.all([
    findOwnImageByName(plan.backupImageName),
    describeVolume(plan.rootVolumeId),
    describeInstance(plan.instanceId),
  ]);
  const observed: AttachObservation = { backupImage, volume, targetState: target.State?.Name ?? 'unknown' };
  const action = nextAttachAction(observed, plan, helper.helperInstanceId);
  logger.info('Decision', { action: action.kind, volumeState: volume?.state, attachment: volume?.attachment, targetState: observed.targetState });

  try {
    switch (action.kind) {
      case 'detach-from-target':
        await ec2.send(new DetachVolumeCommand({ VolumeId: plan.rootVolumeId, InstanceId: plan.instanceId }));
        return { done: false, waitSeconds: WAIT_SECONDS.short, status: 'detaching the root volume from the target' };
      case 'attach-to-helper':
        await ec2.send(new AttachVolumeCommand({ VolumeId: plan.rootVolumeId, InstanceId: helper.helperInstanceId, Device: action.device }));
        return { done: false, waitSeconds: WAIT_SECONDS.short, status: `attaching the root volume to the helper as ${action.device}` };
      case 'wait':
        return { done: false, waitSeconds: action.waitSeconds, status: `waiting: ${action.reason}` };
      case 'done':
        return { done: true, waitSeconds: 0, status: 'root volume attached to the helper' };
    }
  } catch (err) {
    // Another call got there first (a retry after a timeout): observe again next time.
    if (isAwsError(err, 'IncorrectState', 'VolumeInUse', 'InvalidAttachment.NotFound')) {
      logger.info('Already changing; observing again', { error: (err as Error).name });
      return { done: false, waitSeconds: WAIT_SECONDS.short, status: 'volume already changing' };
    }
    throw err;
  }
}
