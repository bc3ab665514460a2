import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteVpcEndpointsCommand } from '@aws-sdk/client-ec2';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { endpointJanitorConfig } from './janitor-config';
import { CLIENT_CONFIG, dynamodb, ec2 } from '../private/clients';
import { describeEndpoints, readLeases, releaseEndpointLease } from '../private/endpoint-io';
import { claimClosing, endClosing } from '../private/endpoint-leases';
import { planEndpointJanitor } from '../private/endpoint-plan';
import { isAwsError } from '../private/errors';
import { stepLogger } from '../private/logger';

const logger = stepLogger('endpoint-janitor');
const sfn = new SFNClient(CLIENT_CONFIG);

/** What one run did. */
export interface EndpointJanitorResult {
  readonly released: string[];
  readonly deleted: string[];
  readonly reason: string;
}

/**
 * Runs every few minutes: releases the endpoint leases of resets that have ended (the restore
 * releases them; this covers a restore that failed, was stopped or never ran), and deletes the
 * on-demand endpoints once no reset holds a lease and the grace period has passed. A failed
 * deletion is reported (the function fails) and tried again at the next run.
 */
export async function handler(): Promise<EndpointJanitorResult> {
  const config = endpointJanitorConfig();
  const now = Math.floor(Date.now() / 1000);
  const [leases, endpoints] = await Promise.all([
    readLeases(config.lockTableName, config.vpcId),
    describeEndpoints(config.vpcId, config.workflowId),
  ]);
  const executionStatus: Record<string, string> = {};
  for (const arn of leases.leases) executionStatus[arn] = await statusOf(arn);

  const plan = planEndpointJanitor({ leases, executionStatus, endpoints, nowEpochSeconds: now, gracePeriodSeconds: config.gracePeriodSeconds });
  logger.info('Decision', { leases: leases.leases.length, endpoints: endpoints.map(e => `${e.endpointId}:${e.state}`), release: plan.release, close: plan.close, reason: plan.reason });
  for (const arn of plan.release) await releaseEndpointLease(config.lockTableName, config.vpcId, arn);
  if (plan.close.length === 0) return { released: plan.release, deleted: [], reason: plan.reason };

  try {
    await dynamodb.send(new UpdateItemCommand(claimClosing(config.lockTableName, config.vpcId, now)));
  } catch (err) {
    if (!isAwsError(err, 'ConditionalCheckFailedException')) throw err;
    logger.info('A reset took a lease meanwhile: the endpoints stay');
    return { released: plan.release, deleted: [], reason: 'a reset took a lease' };
  }
  let failed: string[] = [];
  try {
    const out = await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: plan.close }));
    failed = (out.Unsuccessful ?? []).map(u => `${u.ResourceId}: ${u.Error?.Code} ${u.Error?.Message}`);
  } finally {
    await dynamodb.send(new UpdateItemCommand(endClosing(config.lockTableName, config.vpcId, now)));
  }
  if (failed.length > 0) {
    throw new Error(`Deleting the idle interface endpoints failed for ${failed.join('; ')}; the next run tries again. ` +
      'If it keeps failing, delete them in the VPC console (they are tagged cdk-ec2-reset-access:role=endpoint).');
  }
  logger.info('Idle endpoints deleted', { endpointIds: plan.close });
  return { released: plan.release, deleted: plan.close, reason: plan.reason };
}

/** The reset execution's status; GONE when Step Functions no longer knows it. */
async function statusOf(executionArn: string): Promise<string> {
  try {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return out.status ?? 'RUNNING';
  } catch (err) {
    if (isAwsError(err, 'ExecutionDoesNotExist')) return 'GONE';
    throw err;
  }
}
