/**
 * IAM in the simulated account: every call a Lambda step makes is authorized as that function's
 * role, with the role's policies as the sample stack synthesizes them, by a real evaluator
 * (iam-simulate, ../iam/evaluate.ts) over the requests AWS authorizes for the call
 * (../iam/requests.ts). A denied call fails with the service's own error shape, so the workflow's
 * error handling meets what a real account would answer. Calls the test itself makes (building a
 * world, reading it) have no caller and are not authorized.
 *
 * Also the IAM operations the workflow calls: GetInstanceProfile and SimulatePrincipalPolicy (the
 * preflight asks whether an instance's role may store the online method's password).
 *
 * Documents quoted:
 * - [ARN] IAM User Guide, "IAM identifiers" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html).
 * - [DENIED] IAM User Guide, "Troubleshoot access denied error messages"
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
 * - [EC2ERR] EC2 API Reference, "Error codes for the Amazon EC2 API" (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
 * - [GIP] IAM API Reference, GetInstanceProfile (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetInstanceProfile.html).
 * - [SPP] IAM API Reference, SimulatePrincipalPolicy (https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html).
 */
import type { Operations, ServiceCall, SimulatedAccount } from './account';
import { awsError } from './errors';
import { Decision, evaluate, NamedPolicy } from '../iam/evaluate';
import { Request, requestsFor } from '../iam/requests';

/** A role as IAM holds it: its ARN and the identity policies attached to it. */
export interface SimRole {
  readonly arn: string;
  readonly name: string;
  /** Logical id in the sample template (how the tests name it). */
  readonly logicalId: string;
  readonly policies: NamedPolicy[];
  /** Names of its inline policies (what this library writes; the removal check deletes their statements one by one). */
  readonly inlinePolicyNames?: readonly string[];
}

/** Roles, instance profiles, and which function runs as which role. */
export class IamState {
  public readonly roles = new Map<string, SimRole>();
  /** Instance profile ARN → role ARN. */
  public readonly instanceProfileRoles = new Map<string, string>();
  /** Lambda function logical id → role ARN. */
  public readonly functionRoles = new Map<string, string>();

  public addRole(role: SimRole): SimRole {
    this.roles.set(role.arn, role);
    return role;
  }

  public roleOfFunction(functionLogicalId: string): SimRole {
    const arn = this.functionRoles.get(functionLogicalId);
    const role = arn ? this.roles.get(arn) : undefined;
    if (!role) throw new Error(`IAM: the function ${functionLogicalId} has no role in the simulated account (sample template not loaded?).`);
    return role;
  }
}

/** One request of an authorized call, with IAM's decision. */
export interface AuthorizedRequest {
  readonly request: Request;
  readonly decision: Decision;
}

/** One call as IAM saw it. */
export interface AuthorizationRecord {
  readonly at: number;
  readonly function: string;
  readonly role: string;
  readonly execution?: string;
  readonly state?: string;
  readonly call: string;
  readonly requests: AuthorizedRequest[];
  readonly denied: boolean;
}

/**
 * The STS session ARN a Lambda function's calls are made as: [ARN] an assumed-role session is
 * `arn:aws:sts::<account>:assumed-role/<role-name>/<role-session-name>`. assumption: Lambda names the session
 * after the function (what CloudTrail shows for a function's calls); no policy here tests the session name.
 */
export function sessionArn(account: SimulatedAccount, role: SimRole, sessionName: string): string {
  return `arn:aws:sts::${account.accountId}:assumed-role/${role.name}/${sessionName}`;
}

/**
 * The authorize hook: every call made by a function (the call's context names it) is authorized
 * as the function's role; the records say what was asked and decided.
 */
export class IamAuthorization {
  public readonly records: AuthorizationRecord[] = [];
  /**
   * Calls the request table or the reference could not authorize (no entry, a context key AWS does not
   * evaluate): each fails its call like any error, which a workflow's Catch may turn into an ordinary
   * failed execution, so they are kept here for the scenarios to fail on.
   */
  public readonly mistakes: string[] = [];

  constructor(private readonly account: SimulatedAccount) {}

  /** Calls without a caller (the test itself) are answered at once; a function's call asynchronously. */
  public readonly hook = (call: ServiceCall): Promise<Error | undefined> | undefined => {
    const fn = call.context.function;
    if (!fn) return undefined;
    return this.authorize(call, fn).catch((err: Error) => {
      this.mistakes.push(`${fn} ${call.service}:${call.operation}: ${err.message}`);
      throw err;
    });
  };

  private async authorize(call: ServiceCall, fn: string): Promise<Error | undefined> {
    const role = this.account.iam.roleOfFunction(fn);
    const requests = requestsFor(this.account, call.service, call.operation, call.input);
    const principal = { arn: sessionArn(this.account, role, fn), accountId: this.account.accountId, identityPolicies: role.policies };
    const decided: AuthorizedRequest[] = [];
    for (const request of requests) {
      decided.push({ request, decision: await evaluate(principal, request, request.resourcePolicy) });
    }
    const firstDenied = decided.find(d => d.decision !== 'Allowed');
    this.records.push({
      at: this.account.now(),
      function: fn,
      role: role.logicalId,
      ...(call.context.execution ? { execution: call.context.execution } : {}),
      ...(call.context.state ? { state: call.context.state } : {}),
      call: `${call.service}:${call.operation}`,
      requests: decided,
      denied: firstDenied !== undefined,
    });
    return firstDenied ? denial(call, principal.arn, firstDenied) : undefined;
  }

  /** The denied calls (the rehearsal expects none unless a scenario asks for one). */
  public denials(): AuthorizationRecord[] {
    return this.records.filter(r => r.denied);
  }
}

/**
 * The error AWS answers a denied call with.
 * - EC2: `UnauthorizedOperation` ([EC2ERR]: "You are not authorized to perform this operation"), with an
 *   encoded authorization failure message that sts:DecodeAuthorizationMessage decodes (STS API Reference,
 *   DecodeAuthorizationMessage, https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html).
 *   assumption: the sim's encoding is base64 JSON of its own (only a human decodes the real one).
 * - Systems Manager, DynamoDB, KMS, Step Functions (JSON APIs): `AccessDeniedException` (each service's
 *   API reference, Common Errors). Auto Scaling and IAM (Query APIs): `AccessDenied` (assumption: the code
 *   the CLI reports for them). The message is IAM's
 *   sentence ([DENIED]): "User: <arn> is not authorized to perform: <action> on resource: <arn> because
 *   no identity-based policy allows the <action> action", or "... with an explicit deny in an
 *   identity-based policy".
 */
function denial(call: ServiceCall, principal: string, denied: AuthorizedRequest): Error {
  const { action, resource } = denied.request;
  const because = denied.decision === 'ExplicitlyDenied'
    ? 'with an explicit deny in an identity-based policy'
    : `because no identity-based policy allows the ${action} action`;
  const sentence = `User: ${principal} is not authorized to perform: ${action} on resource: ${resource} ${because}`;
  switch (call.service) {
    case 'ec2': {
      const encoded = Buffer.from(JSON.stringify({ allowed: false, explicitDeny: denied.decision === 'ExplicitlyDenied', context: { action, resource, principal } })).toString('base64');
      return awsError('ec2', 'UnauthorizedOperation', `You are not authorized to perform this operation. ${sentence}. Encoded authorization failure message: ${encoded}`);
    }
    case 'autoscaling':
    case 'iam':
      return awsError(call.service, 'AccessDenied', sentence);
    default:
      return awsError(call.service, 'AccessDeniedException', sentence);
  }
}

function iamError(code: string, message: string): Error {
  return awsError('iam', code, message);
}

export const IAM_OPERATIONS: Operations = {
  /**
   * [GIP] the profile and its role; NoSuchEntity "The request was rejected because it referenced a resource
   * entity that does not exist." [ARN] a profile's ARN may carry a path before its name.
   */
  GetInstanceProfile(account, input) {
    // The name is the ARN's last segment (an ARN may carry a path: instance-profile/<path>/<name>).
    const arn = [...account.iam.instanceProfileRoles.keys()].find(a => a.split('/').pop() === input.InstanceProfileName);
    if (!arn) throw iamError('NoSuchEntity', `Instance Profile ${input.InstanceProfileName} cannot be found.`);
    const role = account.iam.roles.get(account.iam.instanceProfileRoles.get(arn)!)!;
    return { InstanceProfile: { InstanceProfileName: input.InstanceProfileName, Arn: arn, Roles: [{ RoleName: role.name, Arn: role.arn }] } };
  },

  /**
   * [SPP] evaluates the policies attached to the principal
   * (PolicySourceArn) for each action and resource; EvalDecision is `allowed`, `explicitDeny` or
   * `implicitDeny`. Resource policies take part only when given (ResourcePolicy), so a key policy does
   * not: the identity policy alone answers (what RescuePasswordPolicy must grant).
   */
  async SimulatePrincipalPolicy(account, input) {
    const role = account.iam.roles.get(input.PolicySourceArn);
    if (!role) throw iamError('NoSuchEntity', `The role with ARN ${input.PolicySourceArn} cannot be found.`);
    const principal = { arn: role.arn, accountId: account.accountId, identityPolicies: role.policies };
    const context = Object.fromEntries(((input.ContextEntries ?? []) as any[])
      .map(e => [e.ContextKeyName, e.ContextKeyValues.length === 1 ? e.ContextKeyValues[0] : e.ContextKeyValues]));
    const results = [];
    for (const action of input.ActionNames as string[]) {
      for (const resource of (input.ResourceArns ?? ['*']) as string[]) {
        const decision = await evaluate(principal, { action, resource, context });
        results.push({ EvalActionName: action, EvalResourceName: resource, EvalDecision: EVAL_DECISIONS[decision] });
      }
    }
    return { EvaluationResults: results, IsTruncated: false };
  },
};

const EVAL_DECISIONS: Record<Decision, string> = { Allowed: 'allowed', ExplicitlyDenied: 'explicitDeny', ImplicitlyDenied: 'implicitDeny' };
