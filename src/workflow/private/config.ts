import { RECONCILER_CONFIG_ENV, ReconcilerConfig, WORKFLOW_CONFIG_ENV, WorkflowConfig } from './contracts';

let cache: { raw: string; config: WorkflowConfig } | undefined;

/**
 * The workflow's deploy-time configuration, parsed once per container from the
 * `RESET_WORKFLOW_CONFIG` environment variable (re-parsed only if the variable changes).
 */
export function workflowConfig(env: NodeJS.ProcessEnv = process.env): WorkflowConfig {
  const raw = env[WORKFLOW_CONFIG_ENV];
  if (!raw) {
    throw new Error(`The environment variable ${WORKFLOW_CONFIG_ENV} is missing: deploy this function through the ResetWorkflow construct, which sets it.`);
  }
  if (cache?.raw === raw) return cache.config;
  const config = parseWorkflowConfig(raw);
  cache = { raw, config };
  return config;
}

/** Parses and checks a JSON-encoded {@link WorkflowConfig}. */
export function parseWorkflowConfig(raw: string): WorkflowConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`${WORKFLOW_CONFIG_ENV} is not valid JSON: redeploy the ResetWorkflow construct.`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`${WORKFLOW_CONFIG_ENV} must be a JSON object: redeploy the ResetWorkflow construct.`);
  }
  const c = parsed as Record<string, unknown>;
  const problems: string[] = [];
  const str = (k: string) => { if (typeof c[k] !== 'string' || c[k] === '') problems.push(`${k} (a non-empty string)`); };
  const strArray = (k: string) => {
    if (!Array.isArray(c[k]) || !(c[k] as unknown[]).every(v => typeof v === 'string')) problems.push(`${k} (an array of strings)`);
  };
  for (const k of ['workflowId', 'lockTableName', 'helperSecurityGroupId', 'helperInstanceProfileArn', 'imageNamePrefix', 'onlineKmsKey']) str(k);
  strArray('helperImageParameters');
  strArray('helperInstanceTypes');
  if (Array.isArray(c.helperInstanceTypes) && c.helperInstanceTypes.length === 0) problems.push('helperInstanceTypes (at least one type)');
  strArray('allowedVolumeKeyArns');
  if (typeof c.lockTtlSeconds !== 'number' || !(c.lockTtlSeconds > 0)) problems.push('lockTtlSeconds (a positive number)');
  const subnets = c.subnetsByAz;
  if (!subnets || typeof subnets !== 'object' || Array.isArray(subnets) || !Object.values(subnets).every(v => typeof v === 'string')) {
    problems.push('subnetsByAz (an object of AZ name to subnet id)');
  }
  if (c.targetTag !== undefined) {
    const t = c.targetTag as Record<string, unknown> | null;
    if (!t || typeof t.key !== 'string' || !Array.isArray(t.values) || !t.values.every(v => typeof v === 'string')) {
      problems.push('targetTag ({ key: string, values: string[] })');
    }
  }
  if (c.onDemandEndpoints !== undefined) {
    const e = c.onDemandEndpoints as Record<string, unknown> | null;
    if (!e || typeof e.vpcId !== 'string' || typeof e.securityGroupId !== 'string' || !Array.isArray(e.serviceNames)
      || !e.serviceNames.every(v => typeof v === 'string') || typeof e.gracePeriodSeconds !== 'number') {
      problems.push('onDemandEndpoints ({ vpcId, securityGroupId, serviceNames, gracePeriodSeconds })');
    }
  }
  if (problems.length > 0) {
    throw new Error(`${WORKFLOW_CONFIG_ENV} lacks or mistypes ${problems.join(', ')}: redeploy the ResetWorkflow construct.`);
  }
  return c as unknown as WorkflowConfig;
}

/** The reconciler's configuration, from `RESET_RECONCILER_CONFIG` (set by the ResetWorkflow construct). */
export function reconcilerConfig(env: NodeJS.ProcessEnv = process.env): ReconcilerConfig {
  const raw = env[RECONCILER_CONFIG_ENV];
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = raw ? JSON.parse(raw) : undefined;
  } catch {
    parsed = undefined;
  }
  const ok = parsed !== undefined && typeof parsed === 'object'
    && ['lockTableName', 'restoreStateMachineArn', 'workflowId'].every(k => typeof parsed![k] === 'string' && parsed![k] !== '')
    && typeof parsed.holdSeconds === 'number' && parsed.holdSeconds > 0;
  if (!ok) {
    throw new Error(`${RECONCILER_CONFIG_ENV} is missing or lacks lockTableName, restoreStateMachineArn, workflowId or holdSeconds: redeploy the ResetWorkflow construct.`);
  }
  return parsed as unknown as ReconcilerConfig;
}
