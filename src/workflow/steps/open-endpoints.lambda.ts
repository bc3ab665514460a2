import { createHash } from 'node:crypto';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateVpcEndpointCommand, DeleteVpcEndpointsCommand } from '@aws-sdk/client-ec2';
import { dynamodb, ec2 } from '../private/clients';
import { workflowConfig } from '../private/config';
import { ERRORS, OnDemandEndpointsConfig, PlanEvent, PollResult, ResetPlan, TAGS, WorkflowConfig } from '../private/contracts';
import { describeEndpoints } from '../private/endpoint-io';
import { takeLease } from '../private/endpoint-leases';
import { nextEndpointStep } from '../private/endpoint-plan';
import { WorkflowError, isAwsError } from '../private/errors';
import { stepLogger } from '../private/logger';

const logger = stepLogger('open-endpoints');

/** Seconds between two polls while the endpoints are pending. */
export const ENDPOINT_POLL_SECONDS = 10;

/**
 * Opens the network an offline reset's helper needs (`RescueEndpoints.onDemand()`): takes this
 * execution's lease on the rescue VPC's endpoints, then creates the `ssm`, `ssmmessages` and
 * `ec2messages` endpoints that are missing, in the helper's subnet, and reports whether all are
 * available. Called once before the helper is launched (not waited for) and then polled.
 * Idempotent: the lease is a set, each create carries a ClientToken of this execution and
 * service, and endpoints are found by their tags first.
 */
export async function handler(event: PlanEvent): Promise<PollResult> {
  const { plan } = event;
  const config = workflowConfig();
  const endpoints = config.onDemandEndpoints;
  if (!endpoints) {
    throw new Error('open-endpoints runs only with on-demand endpoints (RescueEndpoints.onDemand()); redeploy the ResetWorkflow construct.');
  }
  logger.appendKeys({ instanceId: plan.instanceId, executionName: plan.executionName });

  try {
    await dynamodb.send(new UpdateItemCommand(takeLease(config.lockTableName, endpoints.vpcId, plan.executionArn, Math.floor(Date.now() / 1000))));
  } catch (err) {
    if (!isAwsError(err, 'ConditionalCheckFailedException')) throw err;
    // The janitor is deleting the endpoints this moment: the state machine retries (NotYet), then the endpoints are made anew.
    throw new WorkflowError(ERRORS.notYet, 'The idle endpoints are being deleted; taking the lease again shortly.');
  }

  const observed = await describeEndpoints(endpoints.vpcId, config.workflowId, endpoints.serviceNames);
  const step = nextEndpointStep(endpoints.serviceNames, observed);
  if (step.delete.length > 0) {
    logger.warn('Deleting broken endpoints', { endpointIds: step.delete });
    await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: step.delete }));
  }
  const created: string[] = [];
  for (const serviceName of step.create) {
    const id = await createEndpoint(serviceName, plan, config, endpoints);
    if (id) created.push(id);
  }
  if (step.ready) {
    logger.info('Endpoints available');
    return { done: true, waitSeconds: 0, status: 'interface endpoints available' };
  }
  logger.info('Endpoints not available yet', { waitingFor: step.waitingFor, created });
  return { done: false, waitSeconds: ENDPOINT_POLL_SECONDS, status: `endpoints: ${step.waitingFor.join(', ')}` };
}

/** Creates one endpoint; undefined when another reset's endpoint for the service got there first. */
async function createEndpoint(
  serviceName: string, plan: ResetPlan, config: WorkflowConfig, endpoints: OnDemandEndpointsConfig,
): Promise<string | undefined> {
  const service = serviceName.split('.').pop()!;
  try {
    const out = await ec2.send(new CreateVpcEndpointCommand({
      VpcEndpointType: 'Interface',
      VpcId: endpoints.vpcId,
      ServiceName: serviceName,
      // Only the Availability Zone of this reset; a later reset in another zone reaches them across zones.
      SubnetIds: [plan.helperSubnetId],
      SecurityGroupIds: [endpoints.securityGroupId],
      PrivateDnsEnabled: true,
      // The same token on every retry of this execution for this service: a retried create returns the same endpoint.
      ClientToken: createHash('sha256').update(`${plan.executionArn}|${serviceName}`).digest('hex').slice(0, 64),
      TagSpecifications: [{
        ResourceType: 'vpc-endpoint',
        Tags: [
          { Key: TAGS.workflow, Value: config.workflowId },
          { Key: TAGS.role, Value: 'endpoint' },
          { Key: TAGS.execution, Value: plan.executionName },
          { Key: 'Name', Value: `reset-access-${service}` },
        ],
      }],
    }));
    logger.info('Endpoint requested', { serviceName, endpointId: out.VpcEndpoint?.VpcEndpointId });
    return out.VpcEndpoint?.VpcEndpointId;
  } catch (err) {
    if (isAwsError(err, 'VpcEndpointLimitExceeded')) {
      throw new WorkflowError(ERRORS.endpointsUnavailable, `The rescue VPC ${endpoints.vpcId} has reached its quota of interface endpoints ` +
        `(${(err as Error).message}); nothing was changed on the instance. Delete unused endpoints in that VPC, or request a higher ` +
        '"Interface and Gateway Load Balancer endpoints per VPC" quota (Service Quotas, L-29B6F2EB), then reset again.');
    }
    // A concurrent reset created the endpoint for this service (or one is still being deleted): the next poll finds it.
    if (isAwsError(err, 'InvalidParameter') && /conflicting DNS domain/i.test((err as Error).message)) {
      logger.info('Endpoint for the service exists already', { serviceName });
      return undefined;
    }
    throw err;
  }
}
