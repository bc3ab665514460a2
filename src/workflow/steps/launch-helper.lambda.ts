import { DescribeImagesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { ec2, ssm } from '../private/clients';
import { workflowConfig } from '../private/config';
import { ERRORS, HelperResult, PlanEvent } from '../private/contracts';
import { findHelpers } from '../private/describe';
import { WorkflowError } from '../private/errors';
import { chooseHelperImageParameter } from '../private/helper-image';
import { helperRunInstancesInput } from '../private/helper-launch';
import { stepLogger } from '../private/logger';

const logger = stepLogger('launch-helper');
const LIVE = ['pending', 'running'];

/**
 * Launches this execution's helper instance, or returns the one it already launched
 * (found by its tags; RunInstances' ClientToken also makes a retried launch converge).
 */
export async function handler(event: PlanEvent): Promise<HelperResult> {
  const { plan } = event;
  const config = workflowConfig();
  logger.appendKeys({ instanceId: plan.instanceId, executionName: plan.executionName });

  const helpers = await findHelpers(config.workflowId, plan.executionName);
  const live = helpers.find(h => LIVE.includes(h.state));
  if (live) {
    logger.info('Helper already launched', { helperInstanceId: live.instanceId, state: live.state });
    return { helperInstanceId: live.instanceId, helperImageId: live.imageId };
  }
  if (helpers.length > 0) {
    // The ClientToken would return the same, no longer usable, instance.
    throw new WorkflowError(ERRORS.helperNotReady, `The helper ${helpers[0].instanceId} of this reset is ${helpers[0].state}; start a new reset.`);
  }

  const parameter = chooseHelperImageParameter(config.helperImageParameters, plan.targetWindowsVersion);
  const imageId = (await ssm.send(new GetParameterCommand({ Name: parameter }))).Parameter?.Value;
  if (!imageId) throw new Error(`The SSM parameter ${parameter} has no value; check the helper image parameters of the workflow.`);
  const image = (await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images?.[0];
  const rootDevice = image?.RootDeviceName ?? '/dev/sda1';

  const out = await ec2.send(new RunInstancesCommand(helperRunInstancesInput(plan, config, imageId, rootDevice)));
  const helperInstanceId = out.Instances?.[0]?.InstanceId;
  if (!helperInstanceId) throw new Error('RunInstances returned no instance.');
  logger.info('Helper launched', { helperInstanceId, imageId, parameter });
  return { helperInstanceId, helperImageId: imageId };
}
