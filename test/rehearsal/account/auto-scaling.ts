/**
 * EC2 Auto Scaling: groups (MinSize, MaxSize, desired capacity, tags), membership, Standby
 * (EnterStandby/ExitStandby with the desired capacity), UpdateAutoScalingGroup's sizes, and the health
 * check that replaces a stopped InService member.
 *
 * Documents quoted:
 * - [HC] Amazon EC2 Auto Scaling User Guide, "Health checks for instances in an Auto Scaling group"
 *   (https://docs.aws.amazon.com/autoscaling/ec2/userguide/healthcheck.html).
 * - [SB] Amazon EC2 Auto Scaling User Guide, "Temporarily remove instances from your Auto Scaling group"
 *   (https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-enter-exit-standby.html).
 * - [ES] Auto Scaling API Reference, EnterStandby (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_EnterStandby.html).
 * - [XS] Auto Scaling API Reference, ExitStandby (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_ExitStandby.html).
 * - [UG] Auto Scaling API Reference, UpdateAutoScalingGroup
 *   (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_UpdateAutoScalingGroup.html).
 * - [DG] Auto Scaling API Reference, DescribeAutoScalingGroups
 *   (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeAutoScalingGroups.html).
 *
 * Not modelled: the replacement instance a group launches when its desired capacity rises ([UG] MinSize
 * above the current size, [ES] a Standby without decrementing the capacity, [HC] an unhealthy member
 * replaced). The sim records the capacity (and a moment `asg-capacity:<group>:<n>` for [UG]), not the launch.
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

/**
 * How long after it is stopped an InService Auto Scaling member is found unhealthy and terminated.
 * [HC]: instances "that are not in the running state are immediately marked as unhealthy", and an unhealthy
 * instance is "almost immediately scheduled for replacement". assumption: 30 s for Auto Scaling's periodic
 * check to see the stop (the guide gives no interval).
 */
export const ASG_UNHEALTHY_REPLACEMENT_SECONDS = 30;

function autoScalingError(code: string, message: string): Error {
  return awsError('autoscaling', code, message);
}

/**
 * The group, or the error Auto Scaling gives for a name it does not know: ValidationError (the Query
 * API's error for a request it refuses, Auto Scaling API Reference, Common Errors). assumption: the
 * message's wording, as the CLI reports it.
 */
function groupOf(account: SimulatedAccount, name: string): SimAsgGroup {
  const group = account.autoScalingGroups.get(name);
  if (!group) throw autoScalingError('ValidationError', `AutoScalingGroup name not found - AutoScalingGroup ${name} not found`);
  return group;
}

/** assumption: an instance outside the group named is refused with ValidationError (wording ours, as above). */
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
 * terminated (`terminate`, the instance lifecycle's). [HC]: "If the instance is in any Amazon EC2 state
 * other than running", `stopped` among them, Auto Scaling "considers the instance to be unhealthy and
 * replaces it"; "When it determines that an InService instance is unhealthy, it terminates that instance
 * and launches a new one". A member in Standby is left alone: [SB] "Amazon EC2 Auto Scaling does not
 * perform health checks on instances that are in a standby state".
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

/**
 * A terminated instance leaves its group. assumption: it is gone from DescribeAutoScalingGroups and
 * DescribeAutoScalingInstances once terminated (AWS lists it as Terminating until then).
 */
export function memberTerminated(account: SimulatedAccount, instance: SimInstance): void {
  const member = account.autoScaling.get(instance.instanceId);
  if (member) member.lifecycleState = 'Terminated';
}

// ------------------------------------------------------------------ operations

export const AUTO_SCALING_OPERATIONS: Operations = {
  DescribeAutoScalingGroups(account, input) {
    const names = (input.AutoScalingGroupNames ?? [...account.autoScalingGroups.keys()]) as string[];
    return {
      // [DG] AutoScalingGroupNames: the groups to describe, all of them when omitted. assumption: a name that
      // does not exist is left out of the answer, not an error (the CLI returns an empty list for one).
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
   * The sizes only (what the workflow changes). [UG] DesiredCapacity "must be greater than or equal to
   * the minimum size of the group and less than or equal to the maximum size of the group"; "If you
   * specify a new value for MinSize without specifying a value for DesiredCapacity, and the new MinSize
   * is larger than the current size of the group, this sets the group's DesiredCapacity to the new MinSize
   * value", and likewise a new MaxSize below the current size lowers it to MaxSize: the group launches or
   * terminates instances. A MinSize above MaxSize is refused (ValidationError; assumption: the wording).
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
    // [ES] ShouldDecrementDesiredCapacity "Required: Yes"; a request without it fails validation.
    if (input.ShouldDecrementDesiredCapacity === undefined) throw autoScalingError('ValidationError', 'ShouldDecrementDesiredCapacity is required.');
    const group = groupOf(account, input.AutoScalingGroupName);
    const ids = input.InstanceIds as string[];
    // [ES] "If you choose to decrement the desired capacity ..., the instances can enter standby as long as the
    // desired capacity ... after the instances are placed into standby is equal to or greater than the minimum
    // capacity of the group." assumption: the refusal is a ValidationError worded as the CLI reports it.
    if (input.ShouldDecrementDesiredCapacity && group.desiredCapacity - ids.length < group.minSize) {
      throw autoScalingError('ValidationError', `AutoScalingGroup ${group.name} has min-size=${group.minSize}, max-size=${group.maxSize}, and desired-size=${group.desiredCapacity}. To place into standby ${ids.length} instances, please update the AutoScalingGroup sizes appropriately.`);
    }
    const activities = ids.map(id => {
      const member = memberOf(account, id, input.AutoScalingGroupName);
      // [SB] "You can put an instance that is in the InService state into the Standby state"; assumption: another
      // state is refused with ValidationError. It passes through EnteringStandby to Standby after `enterStandby`.
      if (member.lifecycleState !== 'InService') throw autoScalingError('ValidationError', `The instance ${id} is not in InService.`);
      member.lifecycleState = 'EnteringStandby';
      // [ES] ShouldDecrementDesiredCapacity: decrement "the desired capacity ... by the number of instances moved
      // to Standby mode"; without it the group launches replacements (not modelled, see the header).
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
      // [SB] only an instance on standby is returned to service; assumption: another state is a ValidationError.
      if (member.lifecycleState !== 'Standby') throw autoScalingError('ValidationError', `The instance ${id} is not in Standby.`);
      // [SB] it goes Standby → Pending → InService (the guide's standby lifecycle; the CLI example's activity is
      // PreInService at first), InService after `exitStandby`.
      member.lifecycleState = 'Pending';
      // [XS] "After you put the instances back in service, the desired capacity is incremented." assumption: never
      // above MaxSize in the sim's uses (the workflow decremented it on the way in), so no MaxSize check here.
      group.desiredCapacity += 1;
      account.after('exitStandby', () => { if (member.lifecycleState === 'Pending') member.lifecycleState = 'InService'; });
      return { ActivityId: randomHex(8), AutoScalingGroupName: member.groupName, StatusCode: 'InProgress' };
    });
    return { Activities: activities };
  },
};
