import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand } from '@aws-sdk/client-ssm';
import { ec2, ssm } from '../private/clients';
import { ERRORS, HelperEvent, PollResult } from '../private/contracts';
import { WorkflowError } from '../private/errors';
import { stepLogger } from '../private/logger';

const logger = stepLogger('check-helper-ready');

/** How long a helper may take from launch to `Online` in Systems Manager. */
export const HELPER_READY_DEADLINE_SECONDS = 20 * 60;

/** Polls until the helper is running and its SSM agent is `Online`; bounded by its launch time. */
export async function handler(event: HelperEvent): Promise<PollResult> {
  const { plan, helper } = event;
  logger.appendKeys({ instanceId: plan.instanceId, executionName: plan.executionName, helperInstanceId: helper.helperInstanceId });
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [helper.helperInstanceId] }));
  const instance = out.Reservations?.flatMap(r => r.Instances ?? [])[0];
  const state = instance?.State?.Name ?? 'missing';
  if (state !== 'pending' && state !== 'running') {
    throw new WorkflowError(ERRORS.helperNotReady, `The helper ${helper.helperInstanceId} is ${state}; check its state reason (${instance?.StateReason?.Message ?? 'none'}) and retry the reset.`);
  }
  const launched = instance?.LaunchTime ? new Date(instance.LaunchTime).getTime() : Date.now();
  const late = Date.now() - launched > HELPER_READY_DEADLINE_SECONDS * 1000;

  let ping = 'not registered';
  if (state === 'running') {
    const info = await ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [helper.helperInstanceId] }] }));
    ping = info.InstanceInformationList?.find(i => i.InstanceId === helper.helperInstanceId)?.PingStatus ?? ping;
    if (ping === 'Online') {
      logger.info('Helper ready');
      return { done: true, waitSeconds: 0, status: 'helper Online in Systems Manager' };
    }
  }
  if (late) {
    throw new WorkflowError(ERRORS.helperNotReady, `The helper ${helper.helperInstanceId} did not come Online in Systems Manager within ${HELPER_READY_DEADLINE_SECONDS / 60} minutes (${state}, ${ping}); check that the rescue subnets reach the ssm, ssmmessages and ec2messages endpoints.`);
  }
  logger.info('Helper not ready yet', { state, ping });
  return { done: false, waitSeconds: 15, status: `helper ${state}, SSM ${ping}` };
}
