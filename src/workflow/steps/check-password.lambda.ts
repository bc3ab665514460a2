import { GetPasswordDataCommand } from '@aws-sdk/client-ec2';
import { ec2 } from '../private/clients';
import { PlanEvent, PollResult } from '../private/contracts';
import { describeInstance } from '../private/describe';
import { stepLogger } from '../private/logger';

const logger = stepLogger('check-password');

/**
 * Whether the target has generated its new (encrypted) password since it was started again.
 * GetPasswordData may still hold the data of an earlier boot, so non-empty data counts only
 * when it was updated at or after the instance's current LaunchTime (EC2 sets LaunchTime
 * anew at every start). Only that boolean leaves this function: the password data itself is
 * never returned nor logged (I5).
 */
export async function handler(event: PlanEvent): Promise<PollResult> {
  const { plan } = event;
  logger.appendKeys({ instanceId: plan.instanceId, executionName: plan.executionName });
  const [out, instance] = await Promise.all([
    ec2.send(new GetPasswordDataCommand({ InstanceId: plan.instanceId })),
    describeInstance(plan.instanceId),
  ]);
  const present = (out.PasswordData ?? '').trim().length > 0;
  const current = isCurrent(out.Timestamp, instance.LaunchTime);
  logger.info('Password data checked', { present, current, launchTime: instance.LaunchTime?.toISOString() });
  return present && current
    ? { done: true, waitSeconds: 0, status: 'a new password was generated' }
    : { done: false, waitSeconds: 30, status: present ? 'waiting for Windows to replace the password of an earlier boot' : 'waiting for Windows to generate the password' };
}

/** Data updated at or after the current boot. Without either time, it cannot be told apart from stale data. */
export function isCurrent(updated: Date | undefined, launched: Date | undefined): boolean {
  return updated !== undefined && launched !== undefined && updated.getTime() >= launched.getTime();
}
