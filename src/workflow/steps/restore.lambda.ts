import { ExitStandbyCommand } from '@aws-sdk/client-auto-scaling';
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import {
  AttachVolumeCommand, CreateImageCommand, DeleteTagsCommand, DetachVolumeCommand, ModifyInstanceAttributeCommand,
  StartInstancesCommand, TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { autoScaling, dynamodb, ec2 } from '../private/clients';
import { workflowConfig } from '../private/config';
import { ResetPlan, RestoreEvent, RestoreResult, WorkflowConfig } from '../private/contracts';
import { deleteOnTerminationAt, describeAutoScaling, describeInstance, describeVolume, findHelpers, findOwnImageByName } from '../private/describe';
import { readLeases, releaseEndpointLease } from '../private/endpoint-io';
import { isAwsError } from '../private/errors';
import { imageTags } from '../private/image-names';
import { RELEASE_CONDITION, lockKey } from '../private/journal';
import { stepLogger } from '../private/logger';
import { WAIT_SECONDS } from '../private/observations';
import { IMMEDIATE_RESTORE_ACTIONS, RestoreAction, RestoreObservation, nextRestoreAction } from '../private/restore-plan';
import { isMarked, rootVolumeMark } from '../private/volume-mark';

const logger = stepLogger('restore');

/** Errors that mean "another call is already doing this": observe again on the next pass. */
const ALREADY_CHANGING = ['IncorrectState', 'IncorrectInstanceState', 'VolumeInUse', 'InvalidAttachment.NotFound'];

/**
 * Puts everything back (I1, I2, I4), from whatever state the reset left: observes, then does
 * the next missing thing (see `nextRestoreAction`). Actions that complete at once are
 * chained in the same call; after one that takes time, the state machine waits and calls
 * again, until `done`.
 */
export async function handler(event: RestoreEvent): Promise<RestoreResult> {
  const { plan, succeeded } = event;
  const config = workflowConfig();
  logger.appendKeys({ instanceId: plan.instanceId, executionName: plan.executionName, succeeded });
  let observed = await observe(plan, config, succeeded);

  for (let pass = 0; pass < 10; pass++) {
    const action = nextRestoreAction(observed, plan, succeeded);
    logger.info('Decision', { action: action.kind, targetState: observed.target.state, attachment: observed.volume?.attachment, lifecycle: observed.autoScalingLifecycleState });
    const imageId = observed.passwordEnabledImage?.imageId ? { passwordEnabledImageId: observed.passwordEnabledImage.imageId } : {};
    if (action.kind === 'done') {
      return { done: true, waitSeconds: 0, status: 'restored', ...imageId };
    }
    if (action.kind === 'wait') {
      return { done: false, waitSeconds: action.waitSeconds, status: `waiting: ${action.reason}`, ...imageId };
    }
    let status: string;
    try {
      if (action.kind === 'create-password-enabled-image') {
        const image = await createPasswordEnabledImage(plan, config);
        observed = { ...observed, passwordEnabledImage: image };
        logger.info('Password-enabled image requested', { imageId: image.imageId });
        continue;
      }
      status = await perform(action, plan, config);
    } catch (err) {
      if (!isAwsError(err, ...ALREADY_CHANGING)) throw err;
      logger.info('Already changing; observing again', { error: (err as Error).name });
      return { done: false, waitSeconds: WAIT_SECONDS.short, status: `${action.kind}: already changing`, ...imageId };
    }
    if (!IMMEDIATE_RESTORE_ACTIONS.includes(action.kind)) {
      return { done: false, waitSeconds: action.kind === 'start-target' ? WAIT_SECONDS.instance : WAIT_SECONDS.short, status, ...imageId };
    }
    observed = afterImmediate(action, observed);
  }
  return { done: false, waitSeconds: WAIT_SECONDS.short, status: 'still restoring' };
}

async function observe(plan: ResetPlan, config: WorkflowConfig, succeeded: boolean): Promise<RestoreObservation> {
  const offline = plan.method === 'offline';
  const [instance, volume, image, autoScalingMember, helpers, leases] = await Promise.all([
    describeInstance(plan.instanceId),
    offline ? describeVolume(plan.rootVolumeId) : Promise.resolve(undefined),
    offline && succeeded && plan.passwordEnabledAmi ? findOwnImageByName(plan.passwordEnabledImageName) : Promise.resolve(undefined),
    offline && plan.manageStandby ? describeAutoScaling(plan.instanceId) : Promise.resolve(undefined),
    findHelpers(config.workflowId, plan.executionName),
    // Whether this execution holds a lease on the on-demand endpoints.
    offline && config.onDemandEndpoints ? readLeases(config.lockTableName, config.onDemandEndpoints.vpcId) : Promise.resolve(undefined),
  ]);
  return {
    volume,
    target: { state: instance.State?.Name ?? 'unknown', rootDeleteOnTermination: deleteOnTerminationAt(instance, plan.rootDeviceName) },
    ...(image ? { passwordEnabledImage: image } : {}),
    ...(autoScalingMember ? { autoScalingLifecycleState: autoScalingMember.lifecycleState } : {}),
    helpers,
    lockReleased: false,
    rootVolumeMarked: isMarked(volume?.tags, config),
    ...(leases ? { endpointLeaseHeld: leases.leases.includes(plan.executionArn) } : {}),
  };
}

/** Performs one action; returns a short status. */
async function perform(action: RestoreAction, plan: ResetPlan, config: WorkflowConfig): Promise<string> {
  switch (action.kind) {
    case 'detach-from-helper':
      await ec2.send(new DetachVolumeCommand({ VolumeId: plan.rootVolumeId, InstanceId: action.helperInstanceId }));
      return 'detaching the root volume from the helper';
    case 'attach-to-target':
      await ec2.send(new AttachVolumeCommand({ VolumeId: plan.rootVolumeId, InstanceId: plan.instanceId, Device: action.device }));
      return `attaching the root volume to the target at ${action.device}`;
    case 'restore-delete-on-termination':
      await ec2.send(new ModifyInstanceAttributeCommand({
        InstanceId: plan.instanceId,
        BlockDeviceMappings: [{ DeviceName: plan.rootDeviceName, Ebs: { DeleteOnTermination: action.value } }],
      }));
      return `DeleteOnTermination restored to ${action.value}`;
    case 'unmark-root-volume':
      // Only the mark's keys: the volume's other tags are its owner's.
      await ec2.send(new DeleteTagsCommand({ Resources: [plan.rootVolumeId], Tags: rootVolumeMark(plan, config).map(t => ({ Key: t.Key })) }));
      return 'root volume unmarked';
    case 'start-target':
      await ec2.send(new StartInstancesCommand({ InstanceIds: [plan.instanceId] }));
      return 'starting the target';
    case 'exit-standby':
      await autoScaling.send(new ExitStandbyCommand({ AutoScalingGroupName: plan.autoScalingGroupName, InstanceIds: [plan.instanceId] }));
      return 'leaving Standby';
    case 'terminate-helpers':
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: action.instanceIds }));
      return `terminating ${action.instanceIds.join(', ')}`;
    case 'release-endpoint-lease':
      await releaseEndpointLease(config.lockTableName, config.onDemandEndpoints!.vpcId, plan.executionArn);
      return 'endpoint lease released';
    case 'release-lock':
      try {
        await dynamodb.send(new DeleteItemCommand({
          TableName: config.lockTableName,
          Key: lockKey(plan.instanceId),
          ConditionExpression: RELEASE_CONDITION,
          ExpressionAttributeValues: { ':me': { S: plan.executionArn } },
        }));
      } catch (err) {
        // Already released (or taken over after expiry): nothing of ours is left to delete.
        if (!isAwsError(err, 'ConditionalCheckFailedException')) throw err;
      }
      return 'lock released';
    default:
      return action.kind;
  }
}

/** Requests the password-enabled image of the stopped target (or finds the one already requested). */
async function createPasswordEnabledImage(plan: ResetPlan, config: WorkflowConfig): Promise<{ imageId: string; state: string }> {
  const tags = imageTags(plan.passwordEnabledImageName, 'password-enabled', plan, config.workflowId);
  try {
    const out = await ec2.send(new CreateImageCommand({
      InstanceId: plan.instanceId,
      Name: plan.passwordEnabledImageName,
      Description: `Password-enabled image of ${plan.instanceId}: launch it with a new key pair (${plan.executionName})`.slice(0, 255),
      NoReboot: true,
      TagSpecifications: [{ ResourceType: 'image', Tags: tags }, { ResourceType: 'snapshot', Tags: tags }],
    }));
    return { imageId: out.ImageId ?? '', state: 'pending' };
  } catch (err) {
    if (!isAwsError(err, 'InvalidAMIName.Duplicate')) throw err;
    return (await findOwnImageByName(plan.passwordEnabledImageName)) ?? { imageId: '', state: 'pending' };
  }
}

/** The observation after an action that completes at once, without asking EC2 again. */
function afterImmediate(action: RestoreAction, observed: RestoreObservation): RestoreObservation {
  switch (action.kind) {
    case 'restore-delete-on-termination':
      return { ...observed, target: { ...observed.target, rootDeleteOnTermination: action.value } };
    case 'unmark-root-volume':
      return { ...observed, rootVolumeMarked: false };
    case 'terminate-helpers':
      return { ...observed, helpers: observed.helpers.map(h => action.instanceIds.includes(h.instanceId) ? { ...h, state: 'shutting-down' } : h) };
    case 'release-endpoint-lease':
      return { ...observed, endpointLeaseHeld: false };
    case 'release-lock':
      return { ...observed, lockReleased: true };
    default:
      return observed;
  }
}
