/**
 * EC2 Auto Scaling: group membership, Standby (EnterStandby/ExitStandby with the desired
 * capacity), and the health check that replaces a stopped InService member.
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

/** How long after it is stopped an InService Auto Scaling member is found unhealthy and terminated (assumption). */
export const ASG_UNHEALTHY_REPLACEMENT_SECONDS = 30;

function autoScalingError(code: string, message: string): Error {
  return awsError('autoscaling', code, message);
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
    const activities = (input.InstanceIds as string[]).map(id => {
      const member = memberOf(account, id, input.AutoScalingGroupName);
      if (member.lifecycleState !== 'InService') throw autoScalingError('ValidationError', `The instance ${id} is not in InService.`);
      member.lifecycleState = 'EnteringStandby';
      if (input.ShouldDecrementDesiredCapacity) {
        account.desiredCapacity.set(member.groupName, (account.desiredCapacity.get(member.groupName) ?? 1) - 1);
      }
      account.after('enterStandby', () => { if (member.lifecycleState === 'EnteringStandby') member.lifecycleState = 'Standby'; });
      return { ActivityId: randomHex(8), AutoScalingGroupName: member.groupName, StatusCode: 'InProgress' };
    });
    return { Activities: activities };
  },

  ExitStandby(account, input) {
    const activities = (input.InstanceIds as string[]).map(id => {
      const member = memberOf(account, id, input.AutoScalingGroupName);
      if (member.lifecycleState !== 'Standby') throw autoScalingError('ValidationError', `The instance ${id} is not in Standby.`);
      member.lifecycleState = 'Pending';
      account.desiredCapacity.set(member.groupName, (account.desiredCapacity.get(member.groupName) ?? 0) + 1);
      account.after('exitStandby', () => { if (member.lifecycleState === 'Pending') member.lifecycleState = 'InService'; });
      return { ActivityId: randomHex(8), AutoScalingGroupName: member.groupName, StatusCode: 'InProgress' };
    });
    return { Activities: activities };
  },
};
