import { Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as organizations from 'aws-cdk-lib/aws-organizations';
import { Construct } from 'constructs';
import { acknowledgeDenyListBoundary } from '../private/compliance';
import { InvalidPropsError } from '../private/invalid-props';
import { acknowledgeWildcards } from '../private/nag';
import { TAGS } from '../workflow/private/contracts';
import { ResetWorkflow } from '../workflow/reset-workflow';

/**
 * A service control policy made by [`ResetTagGuard`](#cdk-ec2-reset-access.ResetTagGuard).
 */
export interface ResetTagGuardServiceControlPolicyOptions {
  /**
   * Roots (`r-…`), organizational units (`ou-…`) or accounts (12 digits) to attach the policy to.
   *
   * @default - attached to nothing: attach it with AWS Organizations
   */
  readonly targetIds?: string[];

  /**
   * Name of the policy in AWS Organizations.
   *
   * @default 'cdk-ec2-reset-access-tag-guard'
   */
  readonly name?: string;
}

/**
 * Properties of a [`ResetTagGuard`](#cdk-ec2-reset-access.ResetTagGuard).
 */
export interface ResetTagGuardProps {
  /**
   * Who decides which instances may be reset: ARN patterns (IAM's `ArnLike`: `*` and `?` match) of
   * the IAM roles and users that may still add, change and remove the guarded tags, e.g.
   * `arn:aws:iam::*:role/BreakGlassAdmin`. IAM compares `aws:PrincipalArn`, which for a role session
   * is the role's ARN (with its path), not the session's. Include the roles that set these tags by
   * automation: deployment roles that launch tagged instances, AWS Backup's restore role when it
   * restores tagged instances. An empty list leaves tagging to nobody but the workflow itself,
   * when it creates helpers and images.
   */
  readonly taggingPrincipalArns: string[];

  /**
   * Tag keys that bring an instance into a workflow's reach: the `targetTag.key` of every
   * `ResetWorkflow` (or `ResetAccess`) the guard protects. Compared without regard to case, as
   * IAM compares the tag key of `aws:ResourceTag/<key>` in the workflow's own policies.
   *
   * @default - `ResetWorkflow.DEFAULT_TARGET_TAG_KEY` (`cdk-ec2-reset-access:allow-reset`)
   */
  readonly targetTagKeys?: string[];

  /**
   * Also make the statements an AWS Organizations service control policy. CloudFormation creates
   * organization policies only in the organization's management account (or a member account
   * delegated to manage policies): deploy this construct in a stack there, not beside the workflow.
   * The management account itself and service-linked roles are never restricted by SCPs.
   *
   * @default - no service control policy
   */
  readonly serviceControlPolicy?: ResetTagGuardServiceControlPolicyOptions;

  /**
   * Also make a customer managed policy to use as permissions boundary: it allows everything but
   * the guarded tagging, so a boundary it is the only one of changes nothing else. Attach it with
   * `iam.PermissionsBoundary.of(scope).apply(guard.permissionsBoundary)` to the roles and users of
   * an account without AWS Organizations. Principals without the boundary are not restricted.
   *
   * @default false
   */
  readonly permissionsBoundary?: boolean;
}

/**
 * Guards the tags that decide what the reset workflow may touch.
 *
 * Tags are authorization here: the workflow's roles may stop, detach, image and reset the password
 * of any instance tagged `cdk-ec2-reset-access:allow-reset=true` (or the configured `targetTag`),
 * and treat as their own helper any instance tagged with the workflow's id. Whoever may set those
 * tags brings an instance into reach. This construct makes the statements that deny adding,
 * changing and removing those tags except to named principals:
 *
 * - `ec2:CreateTags` and `ec2:DeleteTags` (also tag-on-create, as in `RunInstances` with tag
 *   specifications), `autoscaling:CreateOrUpdateTags`, `autoscaling:DeleteTags` and
 *   `autoscaling:CreateAutoScalingGroup` (a group's tags propagate to the instances it launches),
 *   when `aws:TagKeys` holds a target tag key or a key of the workflow (`cdk-ec2-reset-access:*`);
 * - except for `taggingPrincipalArns`, and for the workflow's own roles (IAM path
 *   `ResetWorkflow.ROLE_PATH`) only while they create a resource (`ec2:CreateAction` present).
 *
 * The statements are `policyDocument`; optionally a service control policy (deploy it in the
 * management account) and a managed policy to use as permissions boundary. See the README's
 * security section for what a guard cannot cover.
 *
 * @example
 * import * as iam from 'aws-cdk-lib/aws-iam';
 * import { ResetTagGuard } from 'cdk-ec2-reset-access';
 *
 * // In a stack of the organization's management account: only the break-glass role may decide which
 * // instances the reset workflow may touch, in every account of the organizational unit.
 * new ResetTagGuard(this, 'ResetTagGuard', {
 *   taggingPrincipalArns: ['arn:aws:iam::*:role/BreakGlassAdmin'],
 *   serviceControlPolicy: { targetIds: ['ou-abcd-11112222'] },
 * });
 *
 * // Without AWS Organizations: the same statements as a permissions boundary of a developer role.
 * const guard = new ResetTagGuard(this, 'BoundaryGuard', {
 *   taggingPrincipalArns: ['arn:aws:iam::111122223333:role/BreakGlassAdmin'],
 *   permissionsBoundary: true,
 * });
 * const developers = new iam.Role(this, 'Developers', { assumedBy: new iam.AccountRootPrincipal() });
 * iam.PermissionsBoundary.of(developers).apply(guard.permissionsBoundary!);
 */
export class ResetTagGuard extends Construct {
  /** The largest service control policy AWS Organizations accepts, in characters without white space. */
  public static readonly SERVICE_CONTROL_POLICY_MAX_SIZE = 5120;

  /** The deny statements, to use as they are or to merge into a policy of your own. */
  public readonly policyDocument: iam.PolicyDocument;
  /** The service control policy, when `serviceControlPolicy` is given. */
  public readonly serviceControlPolicy?: organizations.CfnPolicy;
  /** The permissions boundary, when `permissionsBoundary` is true. */
  public readonly permissionsBoundary?: iam.ManagedPolicy;
  /** The exact tag keys guarded (compared without regard to case): target tag keys and the workflow's keys. */
  public readonly guardedTagKeys: string[];

  constructor(scope: Construct, id: string, props: ResetTagGuardProps) {
    super(scope, id);
    const targetTagKeys = props.targetTagKeys ?? [ResetWorkflow.DEFAULT_TARGET_TAG_KEY];
    validateProps(props, targetTagKeys);
    this.guardedTagKeys = [...new Set([...targetTagKeys, ...Object.values(TAGS)])];
    const statements = guardStatements({
      guardedTagKeys: this.guardedTagKeys,
      targetTagKeys,
      taggingPrincipalArns: props.taggingPrincipalArns,
    });
    this.policyDocument = new iam.PolicyDocument({ statements });

    if (props.serviceControlPolicy) {
      const options = props.serviceControlPolicy;
      this.serviceControlPolicy = new organizations.CfnPolicy(this, 'ServiceControlPolicy', {
        type: 'SERVICE_CONTROL_POLICY',
        name: options.name ?? 'cdk-ec2-reset-access-tag-guard',
        description: 'Only named principals may set or remove the tags that decide which instances cdk-ec2-reset-access may reset',
        content: this.policyDocument,
        targetIds: options.targetIds,
      });
      this.node.addValidation({ validate: () => this.validateServiceControlPolicySize() });
    }
    if (props.permissionsBoundary) {
      this.permissionsBoundary = new iam.ManagedPolicy(this, 'PermissionsBoundary', {
        description: 'Permissions boundary: everything but setting or removing the tags that decide what cdk-ec2-reset-access may reset',
        statements: [
          new iam.PolicyStatement({ sid: 'AllowWhatOtherPoliciesAllow', actions: ['*'], resources: ['*'] }),
          ...statements,
        ],
      });
      acknowledgeWildcards(this.permissionsBoundary, { actions: ['*'], resources: ['*'] },
        'A permissions boundary grants nothing by itself; its Allow of everything leaves the principal\'s identity policies in ' +
          'charge, and its deny statements take the guarded tagging away.');
      acknowledgeDenyListBoundary(this.permissionsBoundary);
    }
  }

  /** Organizations refuses a service control policy over 5,120 characters (white space excluded). */
  private validateServiceControlPolicySize(): string[] {
    const content = Stack.of(this).resolve(this.policyDocument.toJSON());
    const size = JSON.stringify(content).length;
    if (size <= ResetTagGuard.SERVICE_CONTROL_POLICY_MAX_SIZE) return [];
    return [`The service control policy has ${size} characters; AWS Organizations accepts at most ` +
      `${ResetTagGuard.SERVICE_CONTROL_POLICY_MAX_SIZE}. Shorten taggingPrincipalArns (use wildcards, e.g. one pattern per role name ` +
      'across accounts) or targetTagKeys.'];
  }
}

/** Actions that add or remove tags on what the workflow's conditions read: instances, their volumes and images, Auto Scaling groups. */
const TAGGING_ACTIONS = [
  'ec2:CreateTags', 'ec2:DeleteTags',
  'autoscaling:CreateOrUpdateTags', 'autoscaling:DeleteTags', 'autoscaling:CreateAutoScalingGroup',
];
/** Every tag key of the workflow starts with this (contracts.ts TAGS, ResetWorkflow's own keys). */
const WORKFLOW_TAG_KEY_PATTERN = 'cdk-ec2-reset-access:*';

interface GuardInputs {
  readonly guardedTagKeys: string[];
  readonly targetTagKeys: string[];
  readonly taggingPrincipalArns: string[];
}

/**
 * The guard's deny statements.
 *
 * IAM compares the tag key of `aws:ResourceTag/<key>` without regard to case (IAM User Guide,
 * global condition keys: "aws:ResourceTag/TagKey1" matches a tag named TagKey1 or tagkey1), so the
 * workflow's `aws:ResourceTag/cdk-ec2-reset-access:allow-reset` condition also matches a tag
 * `CDK-EC2-Reset-Access:Allow-Reset`. `aws:TagKeys` values are compared as the operator says:
 * `StringEqualsIgnoreCase` for the exact keys, and a case-sensitive `StringLike` prefix for keys
 * the workflow may add later (IAM has no case-insensitive pattern operator).
 */
function guardStatements(c: GuardInputs): iam.PolicyStatement[] {
  // Any partition and account: a service control policy applies across the organization's accounts.
  const workflowRoles = `arn:*:iam::*:role${ResetWorkflow.ROLE_PATH}*`;
  const exempt = [...c.taggingPrincipalArns, workflowRoles];
  const deny = (sid: string, conditions: Record<string, Record<string, unknown>>) => new iam.PolicyStatement({
    sid, effect: iam.Effect.DENY, actions: TAGGING_ACTIONS, resources: ['*'], conditions,
  });
  return [
    deny('DenyResetTagChanges', {
      'ForAnyValue:StringEqualsIgnoreCase': { 'aws:TagKeys': c.guardedTagKeys },
      'ArnNotLike': { 'aws:PrincipalArn': exempt },
    }),
    deny('DenyResetTagPrefixChanges', {
      'ForAnyValue:StringLike': { 'aws:TagKeys': [WORKFLOW_TAG_KEY_PATTERN] },
      'ArnNotLike': { 'aws:PrincipalArn': exempt },
    }),
    // The workflow's roles tag only what they create (helpers at RunInstances, images at CreateImage).
    deny('DenyResetTagChangesByWorkflowOutsideCreate', {
      'ForAnyValue:StringLike': { 'aws:TagKeys': [WORKFLOW_TAG_KEY_PATTERN, ...c.targetTagKeys] },
      'ArnLike': { 'aws:PrincipalArn': workflowRoles },
      'Null': { 'ec2:CreateAction': 'true' },
    }),
  ];
}

function validateProps(props: ResetTagGuardProps, targetTagKeys: string[]): void {
  for (const arn of props.taggingPrincipalArns) {
    if (!Token.isUnresolved(arn) && !/^arn:[^:]*:(iam|sts)::[^:]*:.+/.test(arn)) {
      throw new InvalidPropsError('TaggingPrincipalArnInvalid', `ResetTagGuard: taggingPrincipalArns "${arn}" is not an IAM principal ARN pattern: give e.g. ` +
        '"arn:aws:iam::*:role/BreakGlassAdmin" (role or user ARNs, * and ? allowed).');
    }
  }
  if (targetTagKeys.length === 0) {
    throw new InvalidPropsError('TargetTagKeysEmpty', 'ResetTagGuard: targetTagKeys is empty: list the targetTag.key of the workflows to guard ' +
      `(default ${ResetWorkflow.DEFAULT_TARGET_TAG_KEY}).`);
  }
  for (const key of targetTagKeys) {
    if (!Token.isUnresolved(key) && (key.length === 0 || key.length > 128 || key.toLowerCase().startsWith('aws:'))) {
      throw new InvalidPropsError('TargetTagKeyInvalid', `ResetTagGuard: targetTagKeys "${key}" is not a usable tag key: give 1 to 128 characters not starting with "aws:".`);
    }
  }
}
