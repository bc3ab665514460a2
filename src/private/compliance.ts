import { Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';

/**
 * Acknowledgements for the compliance checks platform teams run over CDK apps besides cdk-nag's
 * AwsSolutions pack (which `./nag.ts` serves): cdk-nag's NIST 800-53 rev 5, HIPAA Security,
 * PCI DSS 3.2.1 and Serverless packs, and AWS Control Tower's proactive controls as run by
 * `@cdklabs/cdk-validator-cfnguard`.
 *
 * What was cheap to fix is fixed where the resource is made (encrypted lock table, dead-letter
 * queue of the notification formatter, flow-log retention, KMS grant restriction, an optional
 * customer managed key for logs and the lock table). What remains is acknowledged here, one
 * function per kind of finding, with the reason a reviewer reads in the validation report. Each
 * is applied to the resource it is about, or to the small construct that owns it (a role and its
 * default policy, a state machine and its roles), never to a whole workflow: a finding on a
 * resource added later is reported, not silently covered.
 */

/** Rule-id prefixes of the cdk-nag packs, as they appear in finding ids (`NIST.800.53.R5-LambdaDLQ`). */
const NIST = 'NIST.800.53.R5';
const HIPAA = 'HIPAA.Security';
const PCI = 'PCI.DSS.321';
const SERVERLESS = 'Serverless';
/** The policy-validation plugin name of `@cdklabs/cdk-validator-cfnguard`: the namespace of its rule names. */
const CFN_GUARD = 'cdk-validator-cfnguard';

function acknowledge(scope: IConstruct, ids: string[], reason: string): void {
  Validations.of(scope).acknowledge(...ids.map(id => ({ id, reason })));
}

function inPacks(rule: string, packs: string[]): string[] {
  return packs.map(pack => `${pack}-${rule}`);
}

function controlTower(rule: string): string {
  return `${CFN_GUARD}::${rule}`;
}

/**
 * IAMNoInlinePolicy (NIST, HIPAA, PCI) on a role and its CDK-made default policy. Every policy of
 * this library belongs to exactly one role, created with it.
 */
export function acknowledgeInlinePolicies(role: IConstruct): void {
  acknowledge(role, inPacks('IAMNoInlinePolicy', [NIST, HIPAA, PCI]),
    'Each policy belongs to exactly one role, is created and deleted with it, and grants only what that role\'s ' +
      'function or service needs. A customer managed policy would add an object that anyone allowed ' +
      'iam:AttachRolePolicy could attach to another principal, and nothing is shared between roles.');
}

const LAMBDA_OUTSIDE_VPC = 'The function only calls AWS APIs (EC2, Systems Manager, DynamoDB, SNS, CloudWatch Logs, X-Ray) and reaches no ' +
  'private network resource. In a VPC it would need interface endpoints for each of those services in every AZ ' +
  'around the clock (or a NAT gateway), adding cost and failure modes to a break-glass tool without protecting ' +
  'any traffic: calls are TLS-encrypted and authorized by IAM either way.';

/**
 * The Lambda findings every function of this library shares: outside a VPC (NIST, HIPAA, PCI,
 * Control Tower CT.LAMBDA.PR.3) and without reserved concurrency (NIST, HIPAA).
 */
export function acknowledgeLambdaPlacement(fn: IConstruct): void {
  acknowledge(fn, [...inPacks('LambdaInsideVPC', [NIST, HIPAA, PCI]), controlTower('lambda_inside_vpc_check')], LAMBDA_OUTSIDE_VPC);
  acknowledge(fn, inPacks('LambdaConcurrency', [NIST, HIPAA]),
    'Reserved concurrency is taken from the account\'s unreserved pool, which Lambda keeps at 100 or more: in accounts ' +
      'with a low concurrency quota (new accounts may have 10) any reservation makes the deployment fail. Invocations ' +
      'are few (one reset at a time per instance, a schedule, status events) and every caller retries throttles: ' +
      'Step Functions on Lambda.TooManyRequestsException, EventBridge and Lambda\'s asynchronous invocation on their own.');
}

/**
 * LambdaDLQ (NIST, HIPAA, Serverless) for a function whose failures are handled by its caller:
 * `handledBy` says how, e.g. "invoked synchronously by the reset state machine, whose Retry and
 * Catch handle every error".
 */
export function acknowledgeNoLambdaDeadLetterQueue(fn: IConstruct, handledBy: string): void {
  acknowledge(fn, inPacks('LambdaDLQ', [NIST, HIPAA, SERVERLESS]),
    `A dead-letter queue only receives failed asynchronous invocations; this function is ${handledBy}.`);
}

/**
 * CloudWatchLogGroupEncrypted (NIST, HIPAA, PCI) and Control Tower CT.CLOUDWATCH.PR.3, for a log
 * group created without the optional customer managed key.
 */
export function acknowledgeServiceManagedLogEncryption(logGroup: IConstruct): void {
  acknowledge(logGroup, [...inPacks('CloudWatchLogGroupEncrypted', [NIST, HIPAA, PCI]), controlTower('cloudwatch_log_group_encrypted_check')],
    'CloudWatch Logs encrypts every log group at rest with keys it manages. These logs hold events, step results and ' +
      'network flow records, never a password or password data (state machines log without execution data). A customer managed key is one ' +
      'property away (encryptionKey) for regimes that require one; it is not the default because its key policy must ' +
      'admit the CloudWatch Logs service and it costs a monthly fee.');
}

/** Serverless-SQSRedrivePolicy and Control Tower CT.SQS.PR.1, for a queue that is itself a dead-letter queue. */
export function acknowledgeDeadLetterQueueHasNoRedrive(queue: IConstruct, deadLetterOf: string): void {
  acknowledge(queue, [`${SERVERLESS}-SQSRedrivePolicy`, controlTower('sqs_dlq_check')],
    `This queue is itself the dead-letter queue of ${deadLetterOf}: nothing consumes it automatically, an alarm ` +
      'watches its depth, and messages are kept 14 days for an operator to read.');
}

/** DynamoDBInBackupPlan (NIST, HIPAA) for the lock table. */
export function acknowledgeLockTableBackups(table: IConstruct): void {
  acknowledge(table, inPacks('DynamoDBInBackupPlan', [NIST, HIPAA]),
    'The table holds one lock item per reset in progress, expiring with the reset (TTL); point-in-time recovery is on ' +
      'for the 35 days AWS keeps it. A backup plan would keep copies of locks that are meaningless once the reset ended.');
}

/**
 * Serverless-LambdaStarPermissions, for a function role whose inline policy allows read actions on
 * `Resource: "*"` (the rule flags nothing else here: no action wildcard is used). Call it only for
 * such a role: the compliance test fails on an acknowledgement that covers no finding.
 */
export function acknowledgeUnscopableReads(role: IConstruct): void {
  acknowledge(role, [`${SERVERLESS}-LambdaStarPermissions`],
    'Resource "*" is given only to read actions for which IAM has no resource-level permission (EC2 Describe*, ' +
      'autoscaling:DescribeAutoScalingInstances, ssm:DescribeInstanceInformation, ssm:ListCommands, ssm:GetCommandInvocation, ' +
      'ssm:DescribeParameters: the Service Authorization Reference lists no resource type for them), each named by an ' +
      'AwsSolutions-IAM5 acknowledgement of this role. Every change is scoped by ARN, tag or request conditions.');
}

/** Serverless-EventBusDLQ for a scheduled rule whose target repeats the same work at the next run. */
export function acknowledgeScheduleWithoutDeadLetterQueue(rule: IConstruct): void {
  acknowledge(rule, [`${SERVERLESS}-EventBusDLQ`],
    'A scheduled event carries no data: an undelivered one would hold nothing to replay, and the next scheduled run ' +
      'does the same work (the function is idempotent). EventBridge retries delivery meanwhile.');
}

/**
 * The findings on a custom-resource handler (CDK's `AwsCustomResource` singleton and
 * custom-resource providers, this library's Session Manager preferences function): it runs only
 * while CloudFormation deploys the stack, which waits for its answer.
 *
 * CDK's `CustomResourceProvider` writes its function as a plain `CfnResource`, which cdk-nag's
 * Lambda rules (they test for `CfnFunction`) skip: only Control Tower's template checks see it,
 * so only theirs is acknowledged there. Default memory is acknowledged only where it is the default.
 */
export function acknowledgeDeployTimeHandler(handler: IConstruct): void {
  const fn = handler.node.findAll().find((c): c is lambda.CfnFunction => c instanceof lambda.CfnFunction);
  if (!fn) {
    acknowledge(handler, [controlTower('lambda_inside_vpc_check')], LAMBDA_OUTSIDE_VPC);
    return;
  }
  const deployTime = 'A custom-resource handler that runs only while CloudFormation deploys the stack: each call is recorded as a ' +
    'stack event and in the function\'s log group';
  acknowledge(handler, [`${SERVERLESS}-LambdaTracing`], `${deployTime}; a trace would add nothing to them.`);
  if (fn.memorySize === undefined) {
    acknowledge(handler, [`${SERVERLESS}-LambdaDefaultMemorySize`], `${deployTime}, and it handles one small request, for which the default memory is ample.`);
  }
  acknowledgeNoLambdaDeadLetterQueue(handler, 'a custom-resource handler: CloudFormation waits for its answer and fails the ' +
    'deployment (rolling it back) when none comes');
  acknowledgeLambdaPlacement(handler);
}

/**
 * The findings on a permissions boundary that allows `*` beside its deny statements (cdk-nag's
 * admin and full-access rules in NIST, HIPAA and PCI; Control Tower's checks of the same on managed
 * policies): a boundary grants nothing by itself, it caps what identity policies grant.
 */
export function acknowledgeDenyListBoundary(policy: IConstruct): void {
  const reason = 'A permissions boundary grants nothing by itself: it caps what the principal\'s identity policies grant. Its ' +
    'Allow of everything leaves those policies in charge, and its deny statements take the guarded tagging away from ' +
    'every principal it bounds. It is attached as a boundary, never as an identity policy.';
  acknowledge(policy, [
    ...inPacks('IAMPolicyNoStatementsWithAdminAccess', [NIST, HIPAA, PCI]),
    ...inPacks('IAMPolicyNoStatementsWithFullAccess', [NIST, HIPAA, PCI]),
    controlTower('iam_managed_policy_no_statements_with_admin_access_check'),
    controlTower('iam_managed_policy_no_statements_with_full_access_check'),
  ], reason);
}
