import type { OnDemandEndpointsConfig } from '../private/contracts';

/** Environment variable carrying the janitor's JSON configuration. */
export const ENDPOINT_JANITOR_CONFIG_ENV = 'ENDPOINT_JANITOR_CONFIG';

/** How often the janitor runs (its EventBridge schedule): endpoints outlive their grace period by at most this. */
export const ENDPOINT_JANITOR_INTERVAL_MINUTES = 5;

/** What the janitor needs to know, set by ResetWorkflow. */
export interface EndpointJanitorConfig extends OnDemandEndpointsConfig {
  readonly lockTableName: string;
  readonly workflowId: string;
  /** The reset state machine: a lease is held only while its execution runs. */
  readonly resetStateMachineArn: string;
}

export function endpointJanitorConfig(env: NodeJS.ProcessEnv = process.env): EndpointJanitorConfig {
  const raw = env[ENDPOINT_JANITOR_CONFIG_ENV];
  let parsed: Partial<EndpointJanitorConfig> | undefined;
  try {
    parsed = raw ? JSON.parse(raw) : undefined;
  } catch {
    parsed = undefined;
  }
  const missing = (['lockTableName', 'workflowId', 'resetStateMachineArn', 'vpcId', 'securityGroupId'] as const)
    .filter(k => typeof parsed?.[k] !== 'string' || parsed[k] === '');
  if (!parsed || missing.length > 0 || !Array.isArray(parsed.serviceNames) || typeof parsed.gracePeriodSeconds !== 'number') {
    throw new Error(`${ENDPOINT_JANITOR_CONFIG_ENV} is missing or incomplete${missing.length ? ` (${missing.join(', ')})` : ''}: ` +
      'redeploy the ResetWorkflow construct, which sets it.');
  }
  return parsed as EndpointJanitorConfig;
}
