/**
 * Read-only lookups shared by the steps. They turn SDK responses into the plain
 * observations the decision functions take; they decide nothing.
 */
import { DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeImagesCommand, DescribeInstancesCommand, DescribeVolumesCommand, Instance } from '@aws-sdk/client-ec2';
import { autoScaling, ec2 } from './clients';
import { ERRORS, TAGS } from './contracts';
import { sameDevice } from './device-names';
import { WorkflowError, isAwsError } from './errors';
import { VolumeObservation } from './observations';

/** The instance, or a named error when it does not exist. */
export async function describeInstance(instanceId: string): Promise<Instance> {
  try {
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const instance = out.Reservations?.flatMap(r => r.Instances ?? [])[0];
    if (instance) return instance;
  } catch (err) {
    if (!isAwsError(err, 'InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed')) throw err;
  }
  throw new WorkflowError(ERRORS.instanceNotFound, `Instance ${instanceId} was not found in this account and Region; check the instance id and the Region of the workflow.`);
}

/** DeleteOnTermination of the volume mapped at `deviceName`, when one is mapped. */
export function deleteOnTerminationAt(instance: Instance, deviceName: string): boolean | undefined {
  const mapping = instance.BlockDeviceMappings?.find(m => sameDevice(m.DeviceName, deviceName));
  return mapping?.Ebs?.DeleteOnTermination;
}

/** The volume and its current attachment, or undefined when it does not exist. */
export async function describeVolume(volumeId: string): Promise<VolumeObservation | undefined> {
  try {
    const out = await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }));
    const volume = out.Volumes?.[0];
    if (!volume) return undefined;
    const attachment = volume.Attachments?.find(a => a.State !== 'detached');
    return {
      state: volume.State ?? 'unknown',
      ...(attachment ? { attachment: { instanceId: attachment.InstanceId ?? '', device: attachment.Device ?? '', state: attachment.State ?? 'unknown' } } : {}),
      tags: Object.fromEntries((volume.Tags ?? []).map(t => [t.Key ?? '', t.Value ?? ''])),
    };
  } catch (err) {
    if (isAwsError(err, 'InvalidVolume.NotFound')) return undefined;
    throw err;
  }
}

/** An image of this account with exactly this name, if any. */
export async function findOwnImageByName(name: string): Promise<{ imageId: string; state: string } | undefined> {
  const out = await ec2.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [name] }] }));
  const image = out.Images?.find(i => i.Name === name && i.ImageId);
  return image ? { imageId: image.ImageId!, state: image.State ?? 'unknown' } : undefined;
}

/** The helper instances this execution launched (by their tags), in any state. */
export async function findHelpers(workflowId: string, executionName: string): Promise<{ instanceId: string; state: string; imageId: string }[]> {
  const out = await ec2.send(new DescribeInstancesCommand({
    Filters: [
      { Name: `tag:${TAGS.workflow}`, Values: [workflowId] },
      { Name: `tag:${TAGS.role}`, Values: ['helper'] },
      { Name: `tag:${TAGS.execution}`, Values: [executionName] },
    ],
  }));
  return (out.Reservations ?? []).flatMap(r => r.Instances ?? []).map(i => ({
    instanceId: i.InstanceId ?? '',
    state: i.State?.Name ?? 'unknown',
    imageId: i.ImageId ?? '',
  }));
}

/** The instance's Auto Scaling group and lifecycle state, if it is in one. */
export async function describeAutoScaling(instanceId: string): Promise<{ groupName: string; lifecycleState: string } | undefined> {
  const out = await autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }));
  const member = out.AutoScalingInstances?.[0];
  return member?.AutoScalingGroupName ? { groupName: member.AutoScalingGroupName, lifecycleState: member.LifecycleState ?? 'unknown' } : undefined;
}

/** The group's size and tags (what EnterStandby's capacity rule and its IAM tag condition depend on), if it exists. */
export async function describeAutoScalingGroup(groupName: string): Promise<{
  minSize: number; maxSize: number; desiredCapacity: number; tags: Record<string, string>;
} | undefined> {
  const out = await autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }));
  const group = out.AutoScalingGroups?.find(g => g.AutoScalingGroupName === groupName);
  if (!group) return undefined;
  return {
    minSize: group.MinSize ?? 0,
    maxSize: group.MaxSize ?? 0,
    desiredCapacity: group.DesiredCapacity ?? 0,
    tags: Object.fromEntries((group.Tags ?? []).map(t => [t.Key ?? '', t.Value ?? ''])),
  };
}
