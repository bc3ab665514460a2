import * as iam from 'aws-cdk-lib/aws-iam';
import { TAGS } from './contracts';

/**
 * The IAM statements of the reset workflow, one set per step function, built from plain
 * inputs so a test can inspect them and the template alike.
 *
 * Rules followed throughout:
 * - a mutating EC2 action names the resource types it touches as ARNs of this account and
 *   Region, and every instance it may touch is scoped by a tag condition: targets by the
 *   construct's target tag (when one is configured), helpers by the workflow tag;
 * - `*` appears only for actions that IAM does not scope by resource (Describe*, and a few
 *   reads) — listed in {@link UNSCOPED_READ_ACTIONS} for the cdk-nag acknowledgement;
 * - each step gets only the calls of its row in docs/workflow-design.md.
 */

/** Everything the statements are built from. Strings may be CDK tokens. */
export interface PolicyContext {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  /** Value of the `cdk-ec2-reset-access:workflow` tag on what this workflow creates. */
  readonly workflowId: string;
  /** Tag that targets must carry; absent when any instance may be reset. */
  readonly targetTag?: { readonly key: string; readonly values: string[] };
  /** Customer managed keys whose encrypted root volumes the workflow may handle. */
  readonly allowedVolumeKeyArns: string[];
  readonly lockTableArn: string;
  readonly helperRoleArn: string;
  readonly helperInstanceProfileArn: string;
  readonly helperSubnetIds: string[];
  readonly helperSecurityGroupId: string;
  /** The helper's instance types: the configured one and its fallbacks (RunInstances may use exactly these). */
  readonly helperInstanceTypes: string[];
  /** SSM public parameter names of the helper images (`/aws/service/ami-windows-latest/...`). */
  readonly helperImageParameters: string[];
  /** On-demand endpoints: the rescue VPC whose interface endpoints the workflow creates and deletes; absent otherwise. */
  readonly onDemandEndpoints?: {
    readonly vpcId: string;
    readonly securityGroupId: string;
    /** `com.amazonaws.<region>.ssm`, `...ssmmessages`, `...ec2messages`. */
    readonly serviceNames: string[];
  };
}

/** The step functions that get a role of their own. `sendCommand` exists twice, with different rights. */
export type StepRoleName =
  | 'preflight' | 'acquireLock' | 'prepareTarget' | 'createBackupImage' | 'launchHelper'
  | 'checkHelperReady' | 'sendHelperCommand' | 'sendOnlineReset' | 'checkCommand'
  | 'attachToHelper' | 'restore' | 'checkPassword' | 'loadJournal' | 'openEndpoints';

/** SSM documents run on helper instances (install EC2Rescue, run the offline fix). */
export const HELPER_DOCUMENTS = ['AWS-ConfigureAWSPackage', 'AWS-RunPowerShellScript'] as const;
/** SSM document run on a target for the online method. */
export const ONLINE_RESET_DOCUMENT = 'AWSSupport-RunEC2RescueForWindowsTool';

/** Mutating EC2 actions: the test asserts none of these is allowed on `*` or without a scoping condition. */
export const MUTATING_EC2_ACTIONS = [
  'ec2:StopInstances', 'ec2:StartInstances', 'ec2:ModifyInstanceAttribute', 'ec2:CreateImage',
  'ec2:DetachVolume', 'ec2:AttachVolume', 'ec2:RunInstances', 'ec2:TerminateInstances', 'ec2:CreateTags', 'ec2:DeleteTags',
  'ec2:CreateVpcEndpoint', 'ec2:DeleteVpcEndpoints',
] as const;

/**
 * Writes granted on `*`: ssm:CancelCommand has no resource type in IAM (Service Authorization
 * Reference, Systems Manager), so it cannot be scoped to a helper; the restore cancels only the
 * commands ListCommands shows on a helper of its own execution.
 */
export const UNSCOPED_WRITE_ACTIONS = ['ssm:CancelCommand'] as const;

/**
 * Tags on the target's root volume while a reset has it (prepare-target marks it, the restore
 * unmarks it once it is back): the IAM conditions that let the workflow detach, attach and modify
 * a volume require the workflow tag, so no other volume of the account is within reach.
 */
export const ROOT_VOLUME_MARK_KEYS = [TAGS.workflow, TAGS.execution] as const;

/**
 * The only instance attribute the workflow changes (ModifyInstanceAttribute's BlockDeviceMappings,
 * for DeleteOnTermination). Every other attribute (userData, instanceType, ...) is denied explicitly:
 * with userData and a start, changing one would run code as SYSTEM on the instance.
 */
export const MODIFIED_INSTANCE_ATTRIBUTES = ['BlockDeviceMappings', 'blockDeviceMapping'] as const;

/**
 * Reads granted on `*`: the Describe actions IAM cannot scope to a resource, plus
 * DescribeInstanceAttribute and GetCommandInvocation, which run before a step knows (or need not
 * know) whether the instance is a target. None returns a secret.
 */
export const UNSCOPED_READ_ACTIONS = [
  'ec2:DescribeInstances', 'ec2:DescribeVolumes', 'ec2:DescribeImages', 'ec2:DescribeInstanceAttribute', 'ec2:DescribeInstanceTypes',
  'ec2:DescribeInstanceTypeOfferings', 'ec2:DescribeVpcEndpoints', 'autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeAutoScalingGroups',
  'ssm:DescribeInstanceInformation', 'ssm:GetCommandInvocation', 'ssm:ListCommands',
] as const;

const TARGET = 'target';
const HELPER = 'helper';

class Arns {
  constructor(private readonly c: PolicyContext) {}
  ec2(resource: string): string {
    return `arn:${this.c.partition}:ec2:${this.c.region}:${this.c.account}:${resource}`;
  }
  /** Images and snapshots have no account in their ARN. */
  ec2Public(resource: string): string {
    return `arn:${this.c.partition}:ec2:${this.c.region}::${resource}`;
  }
  get instances(): string { return this.ec2('instance/*'); }
  get volumes(): string { return this.ec2('volume/*'); }
  get images(): string { return this.ec2Public('image/*'); }
  get snapshots(): string { return this.ec2Public('snapshot/*'); }
  /** KMS keys of this account and Region (an EBS default key `aws/ebs` is one of them). */
  get keys(): string { return `arn:${this.c.partition}:kms:${this.c.region}:${this.c.account}:key/*`; }
  awsDocument(name: string): string {
    return `arn:${this.c.partition}:ssm:${this.c.region}::document/${name}`;
  }
  publicParameter(name: string): string {
    return `arn:${this.c.partition}:ssm:${this.c.region}::parameter${name}`;
  }
  iam(resource: string): string {
    return `arn:${this.c.partition}:iam::${this.c.account}:${resource}`;
  }
  get autoScalingGroups(): string {
    return `arn:${this.c.partition}:autoscaling:${this.c.region}:${this.c.account}:autoScalingGroup:*:autoScalingGroupName/*`;
  }
}

/** Condition that scopes an action to target instances (or nothing, when any instance may be reset). */
function targetCondition(c: PolicyContext, keyPrefix = 'aws:ResourceTag/'): Record<string, any> | undefined {
  return c.targetTag ? { StringEquals: { [`${keyPrefix}${c.targetTag.key}`]: c.targetTag.values } } : undefined;
}

/** Condition that scopes an action to helpers (and their volumes) of this workflow. */
function helperCondition(c: PolicyContext, keyPrefix = 'aws:ResourceTag/'): Record<string, any> {
  return { StringEquals: { [`${keyPrefix}${TAGS.workflow}`]: c.workflowId } };
}

/** Condition that scopes an action to volumes marked by this workflow (helpers' volumes, and target roots under reset). */
function markedVolumeCondition(c: PolicyContext): Record<string, any> {
  return { StringEquals: { [`aws:ResourceTag/${TAGS.workflow}`]: c.workflowId } };
}

function statement(sid: string, actions: string[], resources: string[], conditions?: Record<string, any>): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid, actions, resources, conditions });
}

/**
 * The root volume's DeleteOnTermination, changed through ModifyInstanceAttribute's
 * BlockDeviceMappings: allowed on target instances and on the marked root volume (the mapping names
 * it), every other attribute denied. EC2 User Guide, "ec2:Attribute condition key": the key filters by
 * the attribute a request changes but "can't be used with complex objects that contain multiple
 * properties" such as a block device mapping, so the allow cannot name the attribute; the deny names
 * what is not it, and only when EC2 reports one (Null: a request that reports none is our own).
 */
function rootMappingStatements(c: PolicyContext, sidPrefix: string): iam.PolicyStatement[] {
  const a = new Arns(c);
  return [
    statement(`${sidPrefix}RootMappingOnTargets`, ['ec2:ModifyInstanceAttribute'], [a.instances], targetCondition(c)),
    statement(`${sidPrefix}RootMappingOfMarkedVolumes`, ['ec2:ModifyInstanceAttribute'], [a.volumes], markedVolumeCondition(c)),
    new iam.PolicyStatement({
      sid: `${sidPrefix}NoOtherInstanceAttribute`,
      effect: iam.Effect.DENY,
      actions: ['ec2:ModifyInstanceAttribute'],
      resources: [a.instances],
      conditions: {
        Null: { 'ec2:Attribute': 'false' },
        StringNotEqualsIgnoreCase: { 'ec2:Attribute': [...MODIFIED_INSTANCE_ATTRIBUTES] },
      },
    }),
  ];
}

function reads(sid: string, actions: Array<typeof UNSCOPED_READ_ACTIONS[number]>): iam.PolicyStatement {
  return statement(sid, actions, ['*']);
}

/**
 * UpdateAutoScalingGroup that can change nothing but MinSize, on groups carrying the target tag: it
 * lowers a group at its minimum size by one for the reset (prepare-target) and raises it back (restore).
 * The Service Authorization Reference gives request keys for each setting the call can change; every
 * one but autoscaling:MinSize must be absent (Null), and MinSize must be given. No key carries the
 * request's DesiredCapacity; the workflow never sends one.
 */
function minSizeStatement(c: PolicyContext): iam.PolicyStatement {
  const a = new Arns(c);
  const absent = [
    'autoscaling:MaxSize', 'autoscaling:LaunchConfigurationName', 'autoscaling:LaunchTemplateVersionSpecified',
    'autoscaling:VPCZoneIdentifiers', 'autoscaling:ImageId', 'autoscaling:InstanceTypes', 'autoscaling:TargetCapacityTypes',
    'autoscaling:CapacityReservationIds', 'autoscaling:CapacityReservationResourceGroupArns',
  ];
  return statement('ChangeOnlyMinSize', ['autoscaling:UpdateAutoScalingGroup'], [a.autoScalingGroups], {
    ...targetCondition(c),
    Null: { 'autoscaling:MinSize': 'false', ...Object.fromEntries(absent.map(key => [key, 'true'])) },
  });
}

/**
 * The KMS rights EC2 needs on the caller's behalf when it attaches an encrypted volume (AttachVolume,
 * and StartInstances, which attaches the instance's volumes): KMS Developer Guide, "How Amazon EBS
 * uses AWS KMS": EC2 creates a grant for the volume (CreateGrant) and decrypts its data key (Decrypt).
 * Only for the allowed customer managed keys; AWS managed keys (aws/ebs) allow this in their own policy.
 */
function volumeKeyStatements(c: PolicyContext): iam.PolicyStatement[] {
  if (c.allowedVolumeKeyArns.length === 0) return [];
  const viaEc2 = { 'kms:ViaService': `ec2.${c.region}.amazonaws.com` };
  return [
    statement('DecryptAllowedVolumeKeysThroughEc2', ['kms:Decrypt'], c.allowedVolumeKeyArns, { StringEquals: viaEc2 }),
    statement('GrantAllowedVolumeKeysToEc2', ['kms:CreateGrant'], c.allowedVolumeKeyArns,
      { StringEquals: viaEc2, Bool: { 'kms:GrantIsForAWSResource': 'true' } }),
  ];
}

/**
 * Moving the root volume: detach from `from`, attach to `to` (instances scoped by their tags), and
 * only volumes this workflow marked: DetachVolume's instance is optional (SAR), so the volume side
 * is what closes a detach that names no instance.
 */
function volumeMoveStatements(c: PolicyContext, from: typeof TARGET | typeof HELPER, to: typeof TARGET | typeof HELPER): iam.PolicyStatement[] {
  const a = new Arns(c);
  const scope = (who: typeof TARGET | typeof HELPER) => (who === TARGET ? targetCondition(c) : helperCondition(c));
  const name = (who: typeof TARGET | typeof HELPER) => (who === TARGET ? 'Targets' : 'Helpers');
  return [
    statement(`DetachFrom${name(from)}`, ['ec2:DetachVolume'], [a.instances], scope(from)),
    statement(`AttachTo${name(to)}`, ['ec2:AttachVolume'], [a.instances], scope(to)),
    statement('MoveMarkedVolumes', ['ec2:DetachVolume', 'ec2:AttachVolume'], [a.volumes], markedVolumeCondition(c)),
  ];
}

/** The statements of one step's role. */
export function stepStatements(step: StepRoleName, c: PolicyContext): iam.PolicyStatement[] {
  const a = new Arns(c);
  const table = (sid: string, actions: string[]) => statement(sid, actions, [c.lockTableArn]);
  switch (step) {
    case 'preflight':
      return [
        reads('Observe', ['ec2:DescribeInstances', 'ec2:DescribeVolumes', 'ec2:DescribeImages', 'ec2:DescribeInstanceAttribute',
          'ec2:DescribeInstanceTypes', 'ec2:DescribeInstanceTypeOfferings', 'autoscaling:DescribeAutoScalingInstances',
          'autoscaling:DescribeAutoScalingGroups', 'ssm:DescribeInstanceInformation']),
        table('ReadLock', ['dynamodb:GetItem']),
        // Which manager (AWS or customer) owns each attached volume's key: AWS managed keys are always usable.
        statement('DescribeVolumeKeys', ['kms:DescribeKey'], [a.keys, ...c.allowedVolumeKeyArns]),
        // Whether the instance's role may store the online method's password (IAM's policy simulator).
        statement('ReadInstanceProfiles', ['iam:GetInstanceProfile'], [a.iam('instance-profile/*')]),
        statement('SimulateInstanceRoles', ['iam:SimulatePrincipalPolicy'], [a.iam('role/*')]),
      ];
    case 'acquireLock':
      return [table('TakeLock', ['dynamodb:PutItem'])];
    case 'prepareTarget':
      return [
        reads('Observe', ['ec2:DescribeInstances', 'ec2:DescribeVolumes', 'autoscaling:DescribeAutoScalingInstances',
          'autoscaling:DescribeAutoScalingGroups']),
        // Marks the target's root volume with this workflow and execution, before anything changes.
        statement('MarkRootVolume', ['ec2:CreateTags'], [a.volumes], {
          'StringEquals': { [`aws:RequestTag/${TAGS.workflow}`]: c.workflowId },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [...ROOT_VOLUME_MARK_KEYS] },
        }),
        ...rootMappingStatements(c, 'Keep'),
        statement('StopTargets', ['ec2:StopInstances'], [a.instances], targetCondition(c)),
        statement('EnterStandby', ['autoscaling:EnterStandby'], [a.autoScalingGroups], targetCondition(c)),
        minSizeStatement(c),
        // The journal: the group's MinSize lowered, when the stop was requested, and forced (conditional on the owner).
        table('Journal', ['dynamodb:GetItem', 'dynamodb:UpdateItem']),
      ];
    case 'createBackupImage':
      return [
        reads('Observe', ['ec2:DescribeImages']),
        ...createImageStatements(c),
      ];
    case 'launchHelper':
      return [
        // DescribeInstances: a retried launch finds the helper it already started instead of starting another.
        reads('Observe', ['ec2:DescribeImages', 'ec2:DescribeInstances']),
        statement('ResolveHelperImage', ['ssm:GetParameter'], c.helperImageParameters.map(p => a.publicParameter(p))),
        ...runInstancesStatements(c),
        statement('TagHelpersOnLaunch', ['ec2:CreateTags'], [a.instances, a.volumes],
          { StringEquals: { 'ec2:CreateAction': 'RunInstances', [`aws:RequestTag/${TAGS.workflow}`]: c.workflowId } }),
        statement('PassHelperRole', ['iam:PassRole'], [c.helperRoleArn], { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } }),
      ];
    case 'checkHelperReady':
      return [reads('Observe', ['ec2:DescribeInstances', 'ssm:DescribeInstanceInformation'])];
    case 'sendHelperCommand':
      return [
        // ListCommands: a retried send finds the command it already sent.
        reads('Observe', ['ssm:ListCommands']),
        statement('HelperDocuments', ['ssm:SendCommand'], HELPER_DOCUMENTS.map(d => a.awsDocument(d))),
        // SSM evaluates instance tags with the ssm:resourceTag key (AWS's documented example for Run Command).
        statement('OnHelpers', ['ssm:SendCommand'], [a.instances], helperCondition(c, 'ssm:resourceTag/')),
      ];
    case 'sendOnlineReset': {
      const onTargets = targetCondition(c, 'ssm:resourceTag/');
      return [
        reads('Observe', ['ssm:ListCommands']),
        statement('OnlineResetDocument', ['ssm:SendCommand'], [a.awsDocument(ONLINE_RESET_DOCUMENT)]),
        statement('OnTargets', ['ssm:SendCommand'], [a.instances], onTargets),
      ];
    }
    case 'checkCommand':
      return [reads('Observe', ['ssm:GetCommandInvocation'])];
    case 'attachToHelper':
      return [
        reads('Observe', ['ec2:DescribeInstances', 'ec2:DescribeImages', 'ec2:DescribeVolumes']),
        ...volumeMoveStatements(c, TARGET, HELPER),
        ...volumeKeyStatements(c),
      ];
    case 'restore':
      return [
        reads('Observe', ['ec2:DescribeInstances', 'ec2:DescribeVolumes', 'ec2:DescribeImages', 'autoscaling:DescribeAutoScalingInstances',
          'autoscaling:DescribeAutoScalingGroups', 'ssm:ListCommands']),
        // Before the root leaves a helper: its commands cancelled (see UNSCOPED_WRITE_ACTIONS), the helper stopped.
        statement('CancelHelperCommands', [...UNSCOPED_WRITE_ACTIONS], ['*']),
        statement('StopHelpers', ['ec2:StopInstances'], [a.instances], helperCondition(c)),
        ...volumeMoveStatements(c, HELPER, TARGET),
        ...rootMappingStatements(c, 'Restore'),
        // Removes the mark once the volume is back and its DeleteOnTermination restored.
        statement('UnmarkRootVolume', ['ec2:DeleteTags'], [a.volumes], {
          'StringEquals': { [`aws:ResourceTag/${TAGS.workflow}`]: c.workflowId },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [...ROOT_VOLUME_MARK_KEYS] },
        }),
        // A target whose stop the reset left hanging is forced (StopInstances Force) before it can start again.
        statement('ForceStopTargets', ['ec2:StopInstances'], [a.instances], targetCondition(c)),
        statement('StartTargets', ['ec2:StartInstances'], [a.instances], targetCondition(c)),
        ...createImageStatements(c),
        statement('TerminateHelpers', ['ec2:TerminateInstances'], [a.instances], helperCondition(c)),
        statement('ExitStandby', ['autoscaling:ExitStandby'], [a.autoScalingGroups], targetCondition(c)),
        minSizeStatement(c),
        // The journal (a lowered MinSize, stops requested and forced), the execution's lease on the on-demand
        // endpoints (read and released, when they are on demand) and, last, the lock released (conditional on the owner).
        table('JournalAndLock', ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']),
        ...volumeKeyStatements(c),
      ];
    case 'checkPassword':
      // Only whether the password data is non-empty is returned; the data itself never leaves the function (I5).
      return [
        reads('Observe', ['ec2:DescribeInstances']),
        statement('ReadPasswordData', ['ec2:GetPasswordData'], [a.instances], targetCondition(c)),
      ];
    case 'loadJournal':
      // Reads the journal; records the restore execution in it and holds its TTL (conditional on the owner).
      return [table('TakeJournal', ['dynamodb:GetItem', 'dynamodb:UpdateItem'])];
    case 'openEndpoints':
      return openEndpointsStatements(c);
  }
}

/**
 * On-demand endpoints: creating the interface endpoints of the rescue VPC (Service Authorization
 * Reference, Amazon EC2, CreateVpcEndpoint: the `vpc-endpoint` and `vpc` resource types are
 * required, `subnet` and `security-group` are authorized when given; its dependent actions are
 * ec2:CreateTags and route53:AssociateVPCWithHostedZone, which private DNS uses to associate the
 * service's private hosted zone with the VPC) and deleting broken ones; the lease beside the locks.
 */
function openEndpointsStatements(c: PolicyContext): iam.PolicyStatement[] {
  const e = c.onDemandEndpoints;
  if (!e) throw new Error('openEndpoints statements need onDemandEndpoints');
  const a = new Arns(c);
  const ofService = { 'ec2:VpceServiceName': e.serviceNames };
  return [
    reads('Observe', ['ec2:DescribeVpcEndpoints']),
    statement('TakeEndpointLease', ['dynamodb:UpdateItem'], [c.lockTableArn]),
    // The new endpoint: tagged as this workflow's, and only for the three services.
    statement('CreateTaggedEndpoints', ['ec2:CreateVpcEndpoint'], [a.ec2('vpc-endpoint/*')], {
      StringEquals: { [`aws:RequestTag/${TAGS.workflow}`]: c.workflowId, ...ofService },
    }),
    // ...in the rescue VPC, its subnets and the endpoints' security group only.
    statement('CreateEndpointsInRescueVpc', ['ec2:CreateVpcEndpoint'], [
      a.ec2(`vpc/${e.vpcId}`), ...c.helperSubnetIds.map(id => a.ec2(`subnet/${id}`)), a.ec2(`security-group/${e.securityGroupId}`),
    ]),
    statement('TagEndpointsOnCreate', ['ec2:CreateTags'], [a.ec2('vpc-endpoint/*')], {
      StringEquals: { 'ec2:CreateAction': 'CreateVpcEndpoint', [`aws:RequestTag/${TAGS.workflow}`]: c.workflowId },
    }),
    // Private DNS: the service's (AWS-owned) private hosted zone associated with the rescue VPC only
    // (Route 53 Developer Guide, "Using IAM policy conditions": route53:VPCs is `VPCId=<id>,VPCRegion=<region>`).
    statement('AssociatePrivateDnsWithRescueVpc', ['route53:AssociateVPCWithHostedZone'], [`arn:${c.partition}:route53:::hostedzone/*`], {
      StringEquals: { 'route53:VPCs': `VPCId=${e.vpcId},VPCRegion=${c.region}` },
    }),
    ...deleteEndpointsStatements(c),
  ];
}

/** On-demand endpoints: deleting this workflow's endpoints (tag-scoped; the tag is only set by a create in the rescue VPC). */
function deleteEndpointsStatements(c: PolicyContext): iam.PolicyStatement[] {
  const a = new Arns(c);
  return [statement('DeleteOwnEndpoints', ['ec2:DeleteVpcEndpoints'], [a.ec2('vpc-endpoint/*')], {
    StringEquals: { [`aws:ResourceTag/${TAGS.workflow}`]: c.workflowId, 'ec2:VpceServiceName': c.onDemandEndpoints!.serviceNames },
  })];
}

/**
 * On-demand endpoints: the janitor's role. It reads the leases and the endpoints, asks Step
 * Functions whether each leasing reset still runs, releases the leases of those that ended,
 * claims the leases item and deletes the endpoints once idle past the grace period.
 */
export function endpointJanitorStatements(c: PolicyContext, resetExecutionsArn: string): iam.PolicyStatement[] {
  return [
    reads('Observe', ['ec2:DescribeVpcEndpoints']),
    statement('Leases', ['dynamodb:GetItem', 'dynamodb:UpdateItem'], [c.lockTableArn]),
    statement('ResetExecutionStatus', ['states:DescribeExecution'], [resetExecutionsArn]),
    ...deleteEndpointsStatements(c),
  ];
}

/** The state machines the reconciler follows and starts (ARNs; strings may be CDK tokens). */
export interface ReconcilerMachines {
  /** The restore state machine: listed and started. */
  readonly restoreStateMachineArn: string;
  /** `arn:...:execution:<reset machine name>:*` and the same for the restore machine: described. */
  readonly resetExecutionsArn: string;
  readonly restoreExecutionsArn: string;
}

/**
 * The reconciler's role: read and update the journals of the lock table (never delete them: only
 * a restore releases a lock), read both machines' executions, list and start the restore machine.
 */
export function reconcilerStatements(c: PolicyContext, m: ReconcilerMachines): iam.PolicyStatement[] {
  return [
    statement('ReadJournals', ['dynamodb:Scan'], [c.lockTableArn]),
    statement('HoldJournals', ['dynamodb:UpdateItem'], [c.lockTableArn]),
    statement('FollowExecutions', ['states:DescribeExecution'], [m.resetExecutionsArn, m.restoreExecutionsArn]),
    statement('StartRestores', ['states:ListExecutions', 'states:StartExecution'], [m.restoreStateMachineArn]),
  ];
}

/**
 * The fleet-plan step's role (FleetReset): read-only. It resolves the targets and the running
 * instances' vCPUs (DescribeInstances), the groups' sizes (DescribeAutoScalingGroups), the helper
 * instance types' vCPUs (DescribeInstanceTypes, only when FleetReset's `helperVcpus` does not give
 * them: `readsHelperTypes`), and the one quota that bounds helpers: GetServiceQuota takes the
 * quota's ARN as its resource (`arn:<partition>:servicequotas:<region>:<account>:<service>/<quota code>`,
 * Service Authorization Reference, Service Quotas, resource type `quota`).
 */
export function fleetPlanStatements(
  c: Pick<PolicyContext, 'partition' | 'region' | 'account'>, quotaCode: string, readsHelperTypes: boolean,
): iam.PolicyStatement[] {
  return [
    reads('ObserveFleet', ['ec2:DescribeInstances', 'autoscaling:DescribeAutoScalingGroups', ...(readsHelperTypes ? ['ec2:DescribeInstanceTypes' as const] : [])]),
    statement('ReadVcpuQuota', ['servicequotas:GetServiceQuota'], [`arn:${c.partition}:servicequotas:${c.region}:${c.account}:ec2/${quotaCode}`]),
  ];
}

/** CreateImage of a target (backup and password-enabled images) and the tags on what it creates. */
function createImageStatements(c: PolicyContext): iam.PolicyStatement[] {
  const a = new Arns(c);
  const taggedAsOurs = { [`aws:RequestTag/${TAGS.workflow}`]: c.workflowId };
  return [
    statement('ImageTargets', ['ec2:CreateImage'], [a.instances], targetCondition(c)),
    // The new image and its snapshots, tagged as this workflow's: CreateImage is only allowed from a
    // target instance (above), so these can only be images of targets.
    statement('CreateImages', ['ec2:CreateImage'], [a.images, a.snapshots], { StringEquals: taggedAsOurs }),
    statement('TagImagesOnCreate', ['ec2:CreateTags'], [a.images, a.snapshots], { StringEquals: { 'ec2:CreateAction': 'CreateImage', ...taggedAsOurs } }),
  ];
}

/** RunInstances, resource by resource (each resource type of the call is authorized separately). */
function runInstancesStatements(c: PolicyContext): iam.PolicyStatement[] {
  const a = new Arns(c);
  const run = ['ec2:RunInstances'];
  return [
    statement('LaunchHelperInstance', run, [a.instances], {
      StringEquals: {
        [`aws:RequestTag/${TAGS.workflow}`]: c.workflowId,
        // The configured type and its documented fallbacks, exactly (the preflight picks one offered in the AZ).
        'ec2:InstanceType': c.helperInstanceTypes,
        'ec2:InstanceProfile': c.helperInstanceProfileArn,
        'ec2:MetadataHttpTokens': 'required',
      },
    }),
    // The public parameters resolve to Amazon's public Windows images, which AWS replaces every month:
    // their ids cannot be known at deploy time (see wildcardReason), their owner and visibility can.
    statement('LaunchFromAmazonImages', run, [a.images], { StringEquals: { 'ec2:Owner': 'amazon' }, Bool: { 'ec2:Public': 'true' } }),
    statement('LaunchInHelperSubnets', run, c.helperSubnetIds.map(id => a.ec2(`subnet/${id}`))),
    statement('LaunchWithHelperSecurityGroup', run, [a.ec2(`security-group/${c.helperSecurityGroupId}`)]),
    // Created by the launch itself (they cannot be tagged beforehand): encrypted volumes, and an
    // interface in the subnets above without a public IP address.
    statement('LaunchEncryptedVolumes', run, [a.volumes], {
      Bool: { 'ec2:Encrypted': 'true' }, StringEquals: { [`aws:RequestTag/${TAGS.workflow}`]: c.workflowId },
    }),
    statement('LaunchPrivateInterfaces', run, [a.ec2('network-interface/*')], { Bool: { 'ec2:AssociatePublicIpAddress': 'false' } }),
  ];
}

/** Statements for operators who may read reset passwords (see ResetWorkflow.grantReadPasswords). */
export function readPasswordStatements(c: PolicyContext, passwordParameterArnPattern: string): iam.PolicyStatement[] {
  const a = new Arns(c);
  return [
    statement('ReadRescuePasswordParameters', ['ssm:GetParameter'], [passwordParameterArnPattern]),
    statement('ReadTargetPasswordData', ['ec2:GetPasswordData'], [a.instances], targetCondition(c)),
  ];
}

/**
 * Why a wildcard resource of these statements is acceptable, for the cdk-nag acknowledgement
 * (one reason per kind of resource, matched on how the ARN ends).
 */
export function wildcardReason(resource: string): string {
  if (resource === '*') {
    return 'Reads that IAM does not scope by resource or that run before the preflight knows whether an instance is a target (' +
      `${UNSCOPED_READ_ACTIONS.join(', ')}), ${UNSCOPED_WRITE_ACTIONS.join(', ')}, which has no resource type in IAM (the restore cancels only ` +
      'commands it lists on a helper of its execution), and X-Ray trace upload (xray:PutTraceSegments, xray:PutTelemetryRecords), which has no resource type.';
  }
  if (resource.includes(':execution:')) {
    return 'Executions of this workflow\'s two state machines (the wildcard is the execution name): the reconciler reads whether a reset or ' +
      'restore execution has ended and starts only the restore state machine; the endpoint janitor reads whether a reset that holds a ' +
      'lease on the endpoints still runs.';
  }
  if (resource.endsWith(':vpc-endpoint/*')) {
    return 'Interface endpoints of the rescue VPC that do not exist yet (their ids are made by the create) or that this workflow ' +
      'created: CreateVpcEndpoint only with the workflow tag in the request, for the ssm, ssmmessages and ec2messages services, ' +
      'in the rescue VPC, subnets and security group named in the same policy; DeleteVpcEndpoints only of endpoints carrying ' +
      'the workflow tag; tags only at creation.';
  }
  if (resource.endsWith(':hostedzone/*')) {
    return 'The private hosted zone of an AWS service (owned by AWS, its id unknown beforehand) that private DNS associates with ' +
      'the VPC when an interface endpoint is created; the route53:VPCs condition allows the rescue VPC only.';
  }
  if (resource.endsWith(':instance/*')) {
    return 'Instances of this account and Region, always narrowed by a tag condition: targets by the target tag (unless the ' +
      'construct was given allowAnyInstance), helpers by the cdk-ec2-reset-access:workflow tag of this workflow, new helpers by ' +
      'that tag in the request plus instance type, instance profile and IMDSv2.';
  }
  if (resource.endsWith(':volume/*')) {
    return 'Volumes this workflow marked with its cdk-ec2-reset-access:workflow tag (helper volumes, and a target\'s root volume while ' +
      'a reset holds it: detach, attach, DeleteOnTermination, unmark); the mark itself is only written with that tag and the execution ' +
      'tag, and every attach and detach also names a tag-scoped instance. RunInstances creates the helper\'s own encrypted, tagged volumes.';
  }
  if (resource.endsWith(':network-interface/*')) {
    return 'The helper\'s network interface is created by RunInstances, without a public IP (condition), in the helper subnets and ' +
      'security group named in the same policy.';
  }
  if (resource.endsWith(':image/*')) {
    return 'Images: RunInstances only from public images Amazon owns (ec2:Owner amazon, ec2:Public): the helper image is whatever AWS\'s ' +
      'public parameters name today, and AWS replaces those images monthly, so ec2:ImageID cannot be fixed at deploy time. CreateImage ' +
      'only of tag-scoped target instances (the instance is authorized separately), tagged with this workflow; tags only at creation.';
  }
  if (resource.endsWith(':snapshot/*')) {
    return 'Snapshots created by CreateImage of a tag-scoped target instance; tags only at creation (ec2:CreateAction).';
  }
  if (resource.endsWith(':instance-profile/*') || resource.endsWith(':role/*')) {
    return 'Read-only: the preflight reads the instance profile of the instance being reset and asks IAM\'s policy simulator whether ' +
      'its role may store the online method\'s password (iam:SimulatePrincipalPolicy changes nothing); the profile is known only at run time.';
  }
  if (resource.endsWith(':key/*')) {
    return 'kms:DescribeKey (read-only metadata) on the keys of this account and Region: the preflight reads which manager owns ' +
      'the key of a root volume before anything is changed; the key is not known before the instance is.';
  }
  if (resource.includes(':autoScalingGroup:')) {
    return 'Auto Scaling groups of this account and Region, narrowed by the target tag (tag the group as well as its instances); ' +
      'only EnterStandby/ExitStandby, and UpdateAutoScalingGroup that changes MinSize and nothing else (Null conditions), ' +
      'for targets the caller acknowledged.';
  }
  throw new Error(`No reason recorded for the wildcard resource ${resource}`);
}
