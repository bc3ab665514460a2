import { GetPasswordDataCommand } from '@aws-sdk/client-ec2';
import { ec2 } from '../private/clients';
import { PlanEvent, PollResult } from '../private/contracts';
import { stepLogger } from '../private/logger';

const logger = stepLogger('check-password');

/**
 * Whether the target has generated its new (encrypted) password: GetPasswordData is
 * non-empty. Only that boolean leaves this function: the password data itself is never
 * returned nor logged (I5).
 */
export async function handler(event: PlanEvent): Promise<PollResult> {
  const { plan } = event;
  logger.appendKeys({ instanceId: plan.instanceId, executionName: plan.executionName });
  const out = await ec2.send(new GetPasswordDataCommand({ InstanceId: plan.instanceId }));
  const generated = (out.PasswordData ?? '').trim().length > 0;
  logger.info('Password data checked', { generated });
  return generated
    ? { done: true, waitSeconds: 0, status: 'a new password was generated' }
    : { done: false, waitSeconds: 30, status: 'waiting for Windows to generate the password' };
}
