import { EnterStandbyCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { CreateTagsCommand, ModifyInstanceAttributeCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { autoScaling, ec2 } from '../private/clients';
import { workflowConfig } from '../private/config';
import { ERRORS, PlanEvent, PollResult } from '../private/contracts';
import { deleteOnTerminationAt, describeAutoScaling, describeAutoScalingGroup, describeInstance, describeVolume } from '../private/describe';
import { WorkflowError } from '../private/errors';
import { recordMoments } from '../private/journal';
import { nowEpochSeconds, readLockItem, writeJournal } from '../private/journal-io';
import { stepLogger } from '../private/logger';
import { minSizeRecordUpdate } from '../private/min-size';
import { WAIT_SECONDS } from '../private/observations';
import { PrepareObservation, nextPrepareAction } from '../private/prepare-target-plan';
import { isMarked, rootVolumeMark } from '../private/volume-mark';

const logger = stepLogger('prepare-target');

/**
 * Takes the target offline, one observed step at a time: its root volume marked (volume-mark.ts),
 * the Auto Scaling group's MinSize lowered (when the plan says so, journaled first), Standby (when the workflow manages it), root DeleteOnTermination=false (so a termination while the root is on the
 * helper cannot delete it), stop, forced once it has hung past its bound. Both stop requests
 * are journaled (the bound is measured from the first). Polled until the target is stopped.
 */
export async function handler(event: PlanEvent): Promise<PollResult> {
  const { plan } = event;
  const config = workflowConfig();
  logger.appendKeys({ instanceId: plan.instanceId, executionName: plan.executionName });
  const [instance, volume, lock] = await Promise.all([
    describeInstance(plan.instanceId), describeVolume(plan.rootVolumeId), readLockItem(config.lockTableName, plan.instanceId),
  ]);
  const moments = lock?.executionArn === plan.executionArn ? lock.journal.moments : {};
  let observed: PrepareObservation = {
    rootVolumeMarked: isMarked(volume?.tags, config),
    state: instance.State?.Name ?? 'unknown',
    rootDeleteOnTermination: deleteOnTerminationAt(instance, plan.rootDeviceName),
    ...(plan.manageStandby ? { autoScalingLifecycleState: (await describeAutoScaling(plan.instanceId))?.lifecycleState } : {}),
    ...(plan.minSizeLowering && plan.autoScalingGroupName ? { autoScalingGroup: await describeAutoScalingGroup(plan.autoScalingGroupName) } : {}),
    stopRequestedAt: moments.targetStopRequestedAt,
    forceStopRequestedAt: moments.targetForceStopRequestedAt,
    nowEpochSeconds: nowEpochSeconds(),
  };

  for (;;) {
    const action = nextPrepareAction(observed, plan);
    logger.info('Decision', { action: action.kind, state: observed.state, lifecycle: observed.autoScalingLifecycleState, ...(action.kind === 'stop' ? { force: action.force } : {}) });
    switch (action.kind) {
      case 'mark-root-volume':
        await ec2.send(new CreateTagsCommand({ Resources: [plan.rootVolumeId], Tags: rootVolumeMark(plan, config) }));
        observed = { ...observed, rootVolumeMarked: true };
        continue;
      case 'lower-min-size':
        // Journaled first (the restore raises MinSize back only if this execution recorded lowering it).
        if (!await writeJournal(minSizeRecordUpdate(config.lockTableName, plan))) {
          throw new WorkflowError(ERRORS.resetInProgress,
            `The lock of ${plan.instanceId} no longer belongs to this execution, so lowering the MinSize of ${plan.autoScalingGroupName} cannot be journaled; check which execution holds it before starting another reset.`);
        }
        await autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: plan.autoScalingGroupName, MinSize: action.to }));
        logger.info('MinSize lowered', { group: plan.autoScalingGroupName, from: plan.minSizeLowering?.from, to: action.to });
        observed = { ...observed, autoScalingGroup: { ...observed.autoScalingGroup!, minSize: action.to } };
        continue;
      case 'enter-standby':
        await autoScaling.send(new EnterStandbyCommand({
          AutoScalingGroupName: plan.autoScalingGroupName,
          InstanceIds: [plan.instanceId],
          // Otherwise the group launches a replacement for the instance in Standby.
          ShouldDecrementDesiredCapacity: true,
        }));
        return { done: false, waitSeconds: WAIT_SECONDS.short, status: 'entering Standby' };
      case 'keep-root-volume':
        await ec2.send(new ModifyInstanceAttributeCommand({
          InstanceId: plan.instanceId,
          BlockDeviceMappings: [{ DeviceName: plan.rootDeviceName, Ebs: { DeleteOnTermination: false } }],
        }));
        observed = { ...observed, rootDeleteOnTermination: false };
        continue;
      case 'stop': {
        await ec2.send(new StopInstancesCommand({ InstanceIds: [plan.instanceId], ...(action.force ? { Force: true } : {}) }));
        const moment = action.force ? 'targetForceStopRequestedAt' : 'targetStopRequestedAt';
        if (!await writeJournal(recordMoments(config.lockTableName, plan, [moment], observed.nowEpochSeconds))) {
          throw new WorkflowError(ERRORS.resetInProgress,
            `The lock of ${plan.instanceId} no longer belongs to this execution, so its stop cannot be journaled; check which execution holds it before starting another reset.`);
        }
        return { done: false, waitSeconds: WAIT_SECONDS.instance, status: action.force ? 'force-stopping the target (its stop hung)' : 'stopping the target' };
      }
      case 'wait':
        return { done: false, waitSeconds: action.waitSeconds, status: `waiting: ${action.reason}` };
      case 'done':
        return { done: true, waitSeconds: 0, status: 'target stopped' };
    }
  }
}
