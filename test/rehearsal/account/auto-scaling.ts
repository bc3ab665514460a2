/**
 * EC2 Auto Scaling: groups (MinSize, MaxSize, desired capacity, tags), membership, Standby
 * (EnterStandby/ExitStandby with the desired capacity), UpdateAutoScalingGroup's sizes, and the health
 * check that replaces a stopped InService member.
 */
import type { Operations, SimulatedAccount } from './account';
import type { SimInstance } from './ec2-instances';
import { awsError } from './errors';
import { randomHex } from './ids';

export interface SimAsgMember {
  readonly groupName: string;
  lifecycleState: 'InService' | 'EnteringStandby' | 'Standby' | 'Pending' | 'Terminating' | 'Terminated';
  healthStatus: 'HEALTHY' | 'UNHEALTHY';
}

export interface SimAsgGroup {
  readonly name: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  readonly tags: Record<string, string>;
}

/** How long after it is stopped an InService Auto Scaling member is found unhealthy and terminated (assumption). */
export const ASG_UNHEALTHY_REPLACEMENT_SECONDS = 30;

function autoScalingError(code: string, message: string): Error {
  return awsError('autoscaling', code, message);
}

/** The group, or the error Auto Scaling gives for a name it does not know. */
function groupOf(account: SimulatedAccount, name: string): SimAsgGroup {
  const group = account.autoScalingGroups.get(name);
  if (!group) throw autoScalingError('ValidationError', `AutoScalingGroup name not found - AutoScalingGroup ${name} not found`);
  return group;
}

function memberOf(account: SimulatedAccount, instanceId: string, groupName: string): SimAsgMember {
  const member = account.autoScaling.get(instanceId);
  if (!member || member.groupName !== groupName) {
    throw autoScalingError('ValidationError', `The instance ${instanceId} is not part of Auto Scaling group ${groupName}.`);
  }
  return member;
}

// ------------------------------------------------------------------ following the instance's lifecycle (ec2-instances.ts)

/**
 * A stopped InService member fails its EC2 health check and is replaced: marked unhealthy and
 * terminated (`terminate`, the instance lifecycle's). A member in Standby is left alone.
 */
export function replaceWhenStoppedInService(account: SimulatedAccount, instance: SimInstance, terminate: () => void): void {
  const member = account.autoScaling.get(instance.instanceId);
  if (member?.lifecycleState !== 'InService') return;
  account.after(ASG_UNHEALTHY_REPLACEMENT_SECONDS, () => {
    if (instance.state !== 'stopped' || member.lifecycleState !== 'InService') return;
    member.healthStatus = 'UNHEALTHY';
    member.lifecycleState = 'Terminating';
    terminate();
  });
}

/** A terminated instance leaves its group. */
export function memberTerminated(account: SimulatedAccount, instance: SimInstance): void {
  const member = account.autoScaling.get(instance.instanceId);
  if (member) member.lifecycleState = 'Terminated';
}

// ------------------------------------------------------------------ operations

export const AUTO_SCALING_OPERATIONS: Operations = {
  DescribeAutoScalingGroups(account, input) {
    const names = (input.AutoScalingGroupNames ?? [...account.autoScalingGroups.keys()]) as string[];
    return {
      // A name that does not exist is left out, not an error (DescribeAutoScalingGroups filters by name).
      AutoScalingGroups: names.flatMap(name => {
        const group = account.autoScalingGroups.get(name);
        if (!group) return [];
        const members = [...account.autoScaling.entries()].filter(([, m]) => m.groupName === name && m.lifecycleState !== 'Terminated');
        return [{
          AutoScalingGroupName: name,
          MinSize: group.minSize,
          MaxSize: group.maxSize,
          DesiredCapacity: group.desiredCapacity,
          Tags: Object.entries(group.tags).map(([Key, Value]) => ({
            ResourceId: name, ResourceType: 'auto-scaling-group', Key, Value, PropagateAtLaunch: false,
          })),
          Instances: members.map(([id, m]) => ({ InstanceId: id, LifecycleState: m.lifecycleState, HealthStatus: m.healthStatus })),
        }];
      }),
    };
  },

  /**
   * The sizes only (what the workflow changes). API reference, UpdateAutoScalingGroup: the desired
   * capacity must lie between MinSize and MaxSize, and a new MinSize above the current size without a
   * DesiredCapacity makes Auto Scaling set the desired capacity to it (implicitly, SetDesiredCapacity):
   * the group launches instances.
   */
  UpdateAutoScalingGroup(account, input) {
    const group = groupOf(account, input.AutoScalingGroupName);
    const minSize: number = input.MinSize ?? group.minSize;
    const maxSize: number = input.MaxSize ?? group.maxSize;
    if (minSize > maxSize) throw autoScalingError('ValidationError', `Max bound, ${maxSize}, must be greater than or equal to min bound, ${minSize}`);
    let desired: number = input.DesiredCapacity ?? group.desiredCapacity;
    if (input.DesiredCapacity !== undefined && (desired < minSize || desired > maxSize)) {
      throw autoScalingError('ValidationError', `Desired capacity:${desired} must be between the specified min size:${minSize} and max size:${maxSize}`);
    }
    if (input.DesiredCapacity === undefined) desired = Math.min(Math.max(desired, minSize), maxSize);
    if (desired !== group.desiredCapacity) account.moment(`asg-capacity:${group.name}:${desired}`);
    Object.assign(group, { minSize, maxSize, desiredCapacity: desired });
    return {};
  },

  DescribeAutoScalingInstances(account, input) {
    const ids = (input.InstanceIds ?? [...account.autoScaling.keys()]) as string[];
    return {
      AutoScalingInstances: ids.flatMap(id => {
        const member = account.autoScaling.get(id);
        return member && member.lifecycleState !== 'Terminated'
          ? [{ InstanceId: id, AutoScalingGroupName: member.groupName, LifecycleState: member.lifecycleState, HealthStatus: member.healthStatus }]
          : [];
      }),
    };
  },

  EnterStandby(account, input) {
    if (input.ShouldDecrementDesiredCapacity === undefined) throw autoScalingError('ValidationError', 'ShouldDecrementDesiredCapacity is required.');
    const group = groupOf(account, input.AutoScalingGroupName);
    const ids = input.InstanceIds as string[];
    // API reference, EnterStandby: with the desired capacity decremented, instances enter standby only
    // as long as the desired capacity afterwards is equal to or greater than the group's minimum.
    if (input.ShouldDecrementDesiredCapacity && group.desiredCapacity - ids.length < group.minSize) {
      throw autoScalingError('ValidationError', `AutoScalingGroup ${group.name} has min-size=${group.minSize}, max-size=${group.maxSize}, and desired-size=${group.desiredCapacity}. To place into standby ${ids.length} instances, please update the AutoScalingGroup sizes appropriately.`);
    }
    const activities = ids.map(id => {
      const member = memberOf(account, id, input.AutoScalingGroupName);
      if (member.lifecycleState !== 'InService') throw autoScalingError('ValidationError', `The instance ${id} is not in InService.`);
      member.lifecycleState = 'EnteringStandby';
      if (input.ShouldDecrementDesiredCapacity) group.desiredCapacity -= 1;
      account.after('enterStandby', () => { if (member.lifecycleState === 'EnteringStandby') member.lifecycleState = 'Standby'; });
      return { ActivityId: randomHex(8), AutoScalingGroupName: member.groupName, StatusCode: 'InProgress' };
    });
    return { Activities: activities };
  },

  ExitStandby(account, input) {
    const group = groupOf(account, input.AutoScalingGroupName);
    const activities = (input.InstanceIds as string[]).map(id => {
      const member = memberOf(account, id, input.AutoScalingGroupName);
      if (member.lifecycleState !== 'Standby') throw autoScalingError('ValidationError', `The instance ${id} is not in Standby.`);
      member.lifecycleState = 'Pending';
      // API reference, ExitStandby: after the instances are put back in service, the desired capacity is incremented.
      group.desiredCapacity += 1;
      account.after('exitStandby', () => { if (member.lifecycleState === 'Pending') member.lifecycleState = 'InService'; });
      return { ActivityId: randomHex(8), AutoScalingGroupName: member.groupName, StatusCode: 'InProgress' };
    });
    return { Activities: activities };
  },
};
