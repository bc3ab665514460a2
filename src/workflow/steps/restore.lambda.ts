import { ExitStandbyCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { DeleteItemCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  AttachVolumeCommand, CreateImageCommand, DeleteTagsCommand, DetachVolumeCommand, ModifyInstanceAttributeCommand,
  StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CancelCommandCommand, ListCommandsCommand } from '@aws-sdk/client-ssm';
import { autoScaling, dynamodb, ec2, ssm } from '../private/clients';
import { workflowConfig } from '../private/config';
import { ResetPlan, RestoreEvent, RestoreResult, WorkflowConfig } from '../private/contracts';
import {
  deleteOnTerminationAt, describeAutoScaling, describeAutoScalingGroup, describeInstance, describeVolume, findHelpers, findOwnImageByName,
} from '../private/describe';
import { readLeases, releaseEndpointLease } from '../private/endpoint-io';
import { isAwsError } from '../private/errors';
import { imageTags } from '../private/image-names';
import { RELEASE_CONDITION, lockKey, recordMoments, unmarshalLockItem } from '../private/journal';
import { nowEpochSeconds, writeJournal } from '../private/journal-io';
import { stepLogger } from '../private/logger';
import { minSizeRecordOf, minSizeRestoreNote } from '../private/min-size';
import { WAIT_SECONDS } from '../private/observations';
import {
  CommandObservation, HelperObservation, IMMEDIATE_RESTORE_ACTIONS, RestoreAction, RestoreObservation, nextRestoreAction, stopMoments,
} from '../private/restore-plan';
import { StopMode } from '../private/stop-escalation';
import { isMarked, rootVolumeMark } from '../private/volume-mark';

const logger = stepLogger('restore');

/** Errors that mean "another call is already doing this": observe again on the next pass. */
const ALREADY_CHANGING = ['IncorrectState', 'IncorrectInstanceState', 'VolumeInUse', 'InvalidAttachment.NotFound'];

/**
 * Puts everything back (I1, I2, I4, I7), from whatever state the reset left: observes, then does
 * the next missing thing (see `nextRestoreAction`). Actions that complete at once are
 * chained in the same call; after one that takes time, the state machine waits and calls
 * again, until `done`. Stops are journaled, so any restore (this one again, the restore state
 * machine's, the reconciler's) measures their bounds from the first request.
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
      const note = minSizeRestoreNote(observed);
      return { done: true, waitSeconds: 0, status: note ? `restored; ${note}` : 'restored', ...imageId };
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
      return { done: false, waitSeconds: waitAfter(action), status, ...imageId };
    }
    observed = afterImmediate(action, observed);
  }
  return { done: false, waitSeconds: WAIT_SECONDS.short, status: 'still restoring' };
}

async function observe(plan: ResetPlan, config: WorkflowConfig, succeeded: boolean): Promise<RestoreObservation> {
  const offline = plan.method === 'offline';
  const [instance, volume, image, autoScalingMember, helpers, lockItem, group, leases] = await Promise.all([
    describeInstance(plan.instanceId),
    offline ? describeVolume(plan.rootVolumeId) : Promise.resolve(undefined),
    offline && succeeded && plan.passwordEnabledAmi ? findOwnImageByName(plan.passwordEnabledImageName) : Promise.resolve(undefined),
    offline && plan.manageStandby ? describeAutoScaling(plan.instanceId) : Promise.resolve(undefined),
    findHelpers(config.workflowId, plan.executionName),
    // The journal: read whole, since the MinSize record is beside the lock's own attributes (min-size.ts).
    dynamodb.send(new GetItemCommand({ TableName: config.lockTableName, Key: lockKey(plan.instanceId), ConsistentRead: true })).then(out => out.Item),
    offline && plan.minSizeLowering && plan.autoScalingGroupName ? describeAutoScalingGroup(plan.autoScalingGroupName) : Promise.resolve(undefined),
    // Whether this execution holds a lease on the on-demand endpoints.
    offline && config.onDemandEndpoints ? readLeases(config.lockTableName, config.onDemandEndpoints.vpcId) : Promise.resolve(undefined),
  ]);
  const lock = unmarshalLockItem(lockItem);
  const minSizeRecord = offline ? minSizeRecordOf(lockItem, plan) : undefined;
  return {
    volume,
    target: { state: instance.State?.Name ?? 'unknown', rootDeleteOnTermination: deleteOnTerminationAt(instance, plan.rootDeviceName) },
    ...(image ? { passwordEnabledImage: image } : {}),
    ...(autoScalingMember ? { autoScalingLifecycleState: autoScalingMember.lifecycleState } : {}),
    ...(minSizeRecord ? { minSizeRecord } : {}),
    ...(group ? { autoScalingGroup: { minSize: group.minSize, desiredCapacity: group.desiredCapacity } } : {}),
    helpers: await Promise.all(helpers.map(observeHelper)),
    lockReleased: false,
    moments: lock?.executionArn === plan.executionArn ? lock.journal.moments : {},
    nowEpochSeconds: nowEpochSeconds(),
    rootVolumeMarked: isMarked(volume?.tags, config),
    ...(leases ? { endpointLeaseHeld: leases.leases.includes(plan.executionArn) } : {}),
  };
}

/** A helper and, unless it is gone, its commands: ListCommands on it, every page. */
async function observeHelper(helper: { instanceId: string; state: string }): Promise<HelperObservation> {
  if (['shutting-down', 'terminated'].includes(helper.state)) return { instanceId: helper.instanceId, state: helper.state };
  const commands: CommandObservation[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ssm.send(new ListCommandsCommand({ InstanceId: helper.instanceId, ...(nextToken ? { NextToken: nextToken } : {}) }));
    for (const c of page.Commands ?? []) {
      if (c.CommandId) commands.push({ commandId: c.CommandId, status: c.Status ?? 'Pending', ...(c.Comment ? { comment: c.Comment } : {}) });
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return { instanceId: helper.instanceId, state: helper.state, commands };
}

/** How long to wait after an action that takes time. */
function waitAfter(action: RestoreAction): number {
  switch (action.kind) {
    case 'start-target':
    case 'stop-target':
      return WAIT_SECONDS.instance;
    case 'stop-helper':
      // Without the OS shutdown a stop takes seconds; with it, a Windows shutdown.
      return action.mode === 'skip-os-shutdown' ? WAIT_SECONDS.short : WAIT_SECONDS.instance;
    default:
      return WAIT_SECONDS.short;
  }
}

/** Performs one action; returns a short status. */
async function perform(action: RestoreAction, plan: ResetPlan, config: WorkflowConfig): Promise<string> {
  switch (action.kind) {
    case 'cancel-commands':
      for (const commandId of action.commandIds) {
        try {
          await ssm.send(new CancelCommandCommand({ CommandId: commandId, InstanceIds: [action.helperInstanceId] }));
        } catch (err) {
          // The command ended meanwhile, or the helper is shutting down: nothing is left to cancel.
          if (!isAwsError(err, 'InvalidCommandId', 'InvalidInstanceId')) throw err;
        }
      }
      return `cancelling ${action.commandIds.join(', ')} on ${action.helperInstanceId}`;
    case 'stop-helper': {
      const mode = await stopInstance(action.helperInstanceId, action.mode);
      await journal(config, plan, stopMoments({ ...action, mode }));
      return `stopping the helper ${action.helperInstanceId} (${mode})`;
    }
    case 'stop-target':
      await stopInstance(plan.instanceId, action.force ? 'force' : 'graceful');
      await journal(config, plan, stopMoments(action));
      return action.force ? 'force-stopping the target (its stop hung)' : 'stopping the target';
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
    case 'restore-min-size':
      await autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: action.groupName, MinSize: action.value }));
      return `MinSize of ${action.groupName} raised back to ${action.value}`;
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

/**
 * StopInstances in the given mode. A stop without the OS shutdown that EC2 refuses for this
 * instance (the parameter is recent) falls back to a normal stop; returns the mode used.
 */
async function stopInstance(instanceId: string, mode: StopMode): Promise<StopMode> {
  const flags = mode === 'force' ? { Force: true } : mode === 'skip-os-shutdown' ? { SkipOsShutdown: true } : {};
  try {
    await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId], ...flags }));
    return mode;
  } catch (err) {
    if (mode !== 'skip-os-shutdown' || !isAwsError(err, 'UnsupportedOperation', 'InvalidParameterValue', 'InvalidParameterCombination')) throw err;
    logger.warn('A stop without the OS shutdown was refused; stopping normally', { instanceId, error: (err as Error).name });
    await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
    return 'graceful';
  }
}

/** Journals moments; a journal that is gone (released, or taken over) does not stop the restore. */
async function journal(config: WorkflowConfig, plan: ResetPlan, moments: ReturnType<typeof stopMoments>): Promise<void> {
  if (!await writeJournal(recordMoments(config.lockTableName, plan, moments, nowEpochSeconds()))) {
    logger.warn('The journal is not this execution\'s any more; the stop is not journaled', { moments });
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
    case 'cancel-commands':
      return {
        ...observed,
        helpers: observed.helpers.map(h => h.instanceId !== action.helperInstanceId ? h : {
          ...h, commands: (h.commands ?? []).map(c => action.commandIds.includes(c.commandId) ? { ...c, status: 'Cancelling' } : c),
        }),
      };
    case 'restore-delete-on-termination':
      return { ...observed, target: { ...observed.target, rootDeleteOnTermination: action.value } };
    case 'restore-min-size':
      return { ...observed, autoScalingGroup: { ...observed.autoScalingGroup!, minSize: action.value } };
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
