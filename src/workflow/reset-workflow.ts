import { ArnFormat, Duration, RemovalPolicy, Stack, Tags, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { RescueVpc } from '../network';
import { BackupImageRetention } from './backup-image-retention';
import { RescueEndpointsMode, rescueServiceNames } from '../network/rescue-endpoints';
import { RESCUE_PASSWORD_PARAMETER_PREFIX } from '../permissions/rescue-password-policy';
import { acknowledgeInlinePolicies, acknowledgeLambdaPlacement, acknowledgeLockTableBackups, acknowledgeNoLambdaDeadLetterQueue, acknowledgeUnscopableReads } from '../private/compliance';
import { eventTargetDeadLetterQueue } from '../private/dead-letter-queue';
import { InvalidPropsError } from '../private/invalid-props';
import { newLogGroup } from '../private/log-group';
import { acknowledgeWildcards, acknowledgeWildcardsOnGrantee } from '../private/nag';
import { EndpointJanitorFunction } from './endpoints/endpoint-janitor-function';
import { ENDPOINT_JANITOR_CONFIG_ENV, ENDPOINT_JANITOR_INTERVAL_MINUTES, EndpointJanitorConfig } from './endpoints/janitor-config';
import { helperInstanceTypesFor, RECONCILER_CONFIG_ENV, RECONCILER_METRIC, ReconcilerConfig, WORKFLOW_CONFIG_ENV, WorkflowConfig } from './private/contracts';
import { endpointJanitorStatements, PolicyContext, readPasswordStatements, reconcilerStatements, StepRoleName, stepStatements, wildcardReason } from './private/policies';
import { buildResetDefinition, buildRestoreDefinition } from './private/state-machine-definition';
import { RECONCILE_INTERVAL_MINUTES } from './private/timeouts';
import { AcquireLockFunction } from './steps/acquire-lock-function';
import { AttachToHelperFunction } from './steps/attach-to-helper-function';
import { CheckCommandFunction } from './steps/check-command-function';
import { CheckHelperReadyFunction } from './steps/check-helper-ready-function';
import { CheckPasswordFunction } from './steps/check-password-function';
import { CreateBackupImageFunction } from './steps/create-backup-image-function';
import { LaunchHelperFunction } from './steps/launch-helper-function';
import { LoadJournalFunction } from './steps/load-journal-function';
import { OpenEndpointsFunction } from './steps/open-endpoints-function';
import { PreflightFunction } from './steps/preflight-function';
import { PrepareTargetFunction } from './steps/prepare-target-function';
import { ReconcileFunction } from './steps/reconcile-function';
import { RestoreFunction } from './steps/restore-function';
import { SendCommandFunction } from './steps/send-command-function';

/**
 * A tag that instances must carry to be reset: the tag `key` with one of the `values`.
 */
export interface TargetTag {
  /** The tag key, e.g. `cdk-ec2-reset-access:allow-reset`. Must not start with `aws:`. */
  readonly key: string;
  /** The values that allow a reset, e.g. `['true']`. At least one. */
  readonly values: string[];
}

/**
 * Options of a [`ResetWorkflow`](#cdk-ec2-reset-access.ResetWorkflow): everything but the network it launches helpers in.
 * [`ResetAccess`](#cdk-ec2-reset-access.ResetAccess) takes these too.
 */
export interface ResetWorkflowOptions {
  /**
   * The tag instances must carry to be reset. The same tag scopes the workflow's IAM permissions
   * on instances, so an untagged instance cannot be stopped, detached or read even if the
   * preflight were bypassed. Mutually exclusive with `allowAnyInstance`.
   *
   * @default - key `cdk-ec2-reset-access:allow-reset`, value `true` ([`ResetWorkflow.DEFAULT_TARGET_TAG_KEY`](#cdk-ec2-reset-access.ResetWorkflow.property.DEFAULT_TARGET_TAG_KEY))
   */
  readonly targetTag?: TargetTag;

  /**
   * Allow resetting any instance of this account and Region, without a tag. The workflow's
   * permissions on instances are then not tag-conditioned. An explicit opt-in because a reset
   * stops the instance and changes how its Administrator password is set.
   *
   * @default false
   */
  readonly allowAnyInstance?: boolean;

  /**
   * Customer managed KMS keys whose encrypted volumes the workflow may handle (the root, and every
   * other attached volume: starting the instance again needs each one's key). EC2 uses them
   * on the workflow's behalf (grants scoped with `kms:ViaService` and `kms:GrantIsForAWSResource`);
   * the keys' policies must let this account's IAM policies grant access (the default key policy does).
   * Roots encrypted with the AWS managed key `alias/aws/ebs` need nothing here.
   *
   * @default - no customer managed key: such roots are refused with `EncryptedRootKeyNotAllowed`, other volumes with `EncryptedVolumeKeyNotAllowed`
   */
  readonly allowedVolumeKeys?: kms.IKey[];

  /**
   * Instance type of the helper. Must be x86_64: helpers run Windows. Not every type is offered in
   * every Availability Zone, and the helper must run in the target's: when this type is not offered
   * there, the preflight falls back, in order, to t3.medium, t3a.medium, m5.large and m6i.large (the
   * first one offered), and refuses with `HelperInstanceTypeNotOffered` when none is. The launch
   * permission allows exactly this type and those fallbacks.
   *
   * @default t3.medium (what AWSSupport-ResetAccess uses)
   */
  readonly helperInstanceType?: ec2.InstanceType;

  /**
   * SSM public parameters of the Windows Server AMIs a helper may use, in order of preference
   * (the launch picks the first whose Windows version differs from the target's). Each must be
   * under `/aws/service/ami-windows-latest/`; the IAM policy allows reading exactly these.
   *
   * @default - Windows Server 2022, 2019 and 2025 English Full Base
   */
  readonly helperImageParameters?: string[];

  /**
   * Prefix of the images the workflow creates: `<prefix>-Pre-Script-Backup_<instance>_<date>`
   * (backup) and `<prefix>-Post-Script-Backup_<instance>_<date>` (password-enabled).
   * Up to 60 characters of those AMI names allow: letters, digits, `()[] ./-'@_`.
   *
   * @default 'ResetAccess'
   */
  readonly imageNamePrefix?: string;

  /**
   * Customer managed key EC2Rescue encrypts the password parameter with (online method). Its key id is
   * passed to `AWSSupport-RunEC2RescueForWindowsTool`; instance roles need `kms:Encrypt` on it
   * (`RescuePasswordPolicy`), and `grantReadPasswords` adds `kms:Decrypt`. Mutually exclusive with `onlineKmsKeyAlias`.
   *
   * @default - `onlineKmsKeyAlias`
   */
  readonly onlineKmsKey?: kms.IKey;

  /**
   * KMS key alias or key id for the online method, when not given as `onlineKmsKey`. The document
   * accepts a key id or an alias of up to 32 characters, not a key ARN.
   *
   * @default 'alias/aws/ssm'
   */
  readonly onlineKmsKeyAlias?: string;

  /**
   * Maximum duration of one reset execution. When it is exceeded (or an operator stops the
   * execution), the restore state machine puts the instance back.
   *
   * @default Duration.hours(2)
   */
  readonly executionTimeout?: Duration;

  /**
   * Retention of the state machines' and functions' log groups.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Customer managed KMS key that encrypts the workflow's data at rest: the log groups of its state
   * machines and functions, and the lock table (`ResetAccess` also uses it for the log groups of the
   * rescue VPC's flow log, the password retention and the notification formatter). For compliance
   * regimes that require customer managed keys (NIST 800-53 SC-28, PCI DSS 3.4, AWS Control Tower
   * CT.CLOUDWATCH.PR.3). CloudWatch Logs uses the key itself, so its key policy must admit
   * `logs.<region>.amazonaws.com` for this account's log groups: the statement is added to a key
   * created in the app (`new kms.Key`); an imported key needs it already (CloudWatch Logs User Guide,
   * "Encrypt log data in CloudWatch Logs using AWS KMS"). The functions that read and write the lock
   * table may only decrypt the table's key, and only through DynamoDB (`kms:ViaService`).
   *
   * @default - log groups encrypted by CloudWatch Logs with keys it manages; the lock table with the
   * AWS managed key `aws/dynamodb`
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * How long the backup image of a SUCCESSFUL reset (`<prefix>-Pre-Script-Backup_<instance>_<date>`)
   * and its snapshots are kept before a daily function deregisters and deletes them. Whole days,
   * from 1 to 80. Backups of failed, aborted or timed-out resets and password-enabled images are
   * never deleted automatically. Each kept image costs its snapshots' storage (up to about $1.50
   * a month for a 30 GiB root in us-east-1). Mutually exclusive with `keepBackupImages`.
   *
   * @default Duration.days(14): two weeks to find out whether the instance is well after its reset
   */
  readonly backupImageRetention?: Duration;

  /**
   * Keep every backup image until you delete it yourself: no retention function is created.
   * Mutually exclusive with `backupImageRetention`.
   *
   * @default false
   */
  readonly keepBackupImages?: boolean;
}

/**
 * Properties of a [`ResetWorkflow`](#cdk-ec2-reset-access.ResetWorkflow).
 */
export interface ResetWorkflowProps extends ResetWorkflowOptions {
  /**
   * The network helper instances are launched in: one of its subnets per Availability Zone (a
   * helper must be in the target's AZ, so a target in an AZ it does not cover is refused with
   * `AzNotCovered`), its helper security group, and read access to the Region's Systems Manager
   * buckets for the helper role. Build it with `existingVpc` to use a VPC of your own.
   */
  readonly rescueVpc: RescueVpc;
}

/**
 * The Lambda functions of a [`ResetWorkflow`](#cdk-ec2-reset-access.ResetWorkflow), one per step.
 */
export interface ResetWorkflowFunctions {
  /** Validates the request and decides the plan; changes nothing. */
  readonly preflight: lambda.IFunction;
  /** Takes the per-instance lock and writes the journal. */
  readonly acquireLock: lambda.IFunction;
  /** DeleteOnTermination=false, Auto Scaling Standby, stop the target. */
  readonly prepareTarget: lambda.IFunction;
  /** Creates the backup image. */
  readonly createBackupImage: lambda.IFunction;
  /** Launches the helper instance. */
  readonly launchHelper: lambda.IFunction;
  /** Polls the helper until it is Online in Systems Manager. */
  readonly checkHelperReady: lambda.IFunction;
  /** Sends the helper commands (install EC2Rescue, the offline fix); may only run them on helpers. */
  readonly sendHelperCommand: lambda.IFunction;
  /** Sends the online reset (AWSSupport-RunEC2RescueForWindowsTool); may only run it on targets. */
  readonly sendOnlineReset: lambda.IFunction;
  /** Polls a Run Command invocation. */
  readonly checkCommand: lambda.IFunction;
  /** Moves the root volume from the target to the helper. */
  readonly attachToHelper: lambda.IFunction;
  /** Puts everything back, one action per call. */
  readonly restore: lambda.IFunction;
  /** Polls GetPasswordData until it is non-empty (returns only whether it is). */
  readonly checkPassword: lambda.IFunction;
  /** Loads an aborted execution's journal (restore state machine). */
  readonly loadJournal: lambda.IFunction;
  /**
   * Takes the reset's lease on the rescue VPC's interface endpoints and creates those missing
   * (only with `RescueEndpoints.onDemand()`).
   */
  readonly openEndpoints?: lambda.IFunction;
}

/** The restore state machine's execution timeout (the reconciler restarts a restore that exceeds it). */
const RESTORE_TIMEOUT = Duration.hours(2);

/** Windows Server images AWS publishes, in the order the helper prefers them. */
const DEFAULT_HELPER_IMAGE_PARAMETERS = [
  '/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base',
  '/aws/service/ami-windows-latest/Windows_Server-2019-English-Full-Base',
  '/aws/service/ami-windows-latest/Windows_Server-2025-English-Full-Base',
];
const HELPER_IMAGE_PARAMETER_PATH = '/aws/service/ami-windows-latest/';

/**
 * The reset workflow: a Step Functions state machine that resets the Administrator password of an
 * EC2 Windows instance the way `AWSSupport-ResetAccess` does (offline, with a helper instance) or
 * with `AWSSupport-RunEC2RescueForWindowsTool` (online), plus a second state machine that puts the
 * instance back when a reset execution is stopped, times out or fails.
 *
 * Start a reset with `{ "instanceId": "i-0123...", "method": "auto" }`; see the README for the
 * input and output contract and the errors.
 */
export class ResetWorkflow extends Construct {
  /** Tag key instances must carry (with value `true`) to be reset, unless `targetTag` or `allowAnyInstance` is given. */
  public static readonly DEFAULT_TARGET_TAG_KEY = 'cdk-ec2-reset-access:allow-reset';

  /**
   * Tag key on the reset state machine whose value is the restore state machine's ARN: how a
   * client that knows only the reset state machine (the operator CLI) finds the restore that
   * follows an aborted, timed-out or failed reset.
   */
  public static readonly RESTORE_STATE_MACHINE_TAG_KEY = 'cdk-ec2-reset-access:restore-state-machine-arn';

  /**
   * IAM path of the step functions' roles. [`ResetTagGuard`](#cdk-ec2-reset-access.ResetTagGuard) exempts roles on this path from its
   * deny on the workflow's tag keys when they tag what they create (helpers, images): the guard's
   * service control policy lives in the management account and cannot name roles CloudFormation
   * names, and a role's path cannot change after it is created.
   */
  public static readonly ROLE_PATH = '/cdk-ec2-reset-access/';

  /** The reset state machine: what operators start. */
  public readonly stateMachine: sfn.StateMachine;
  /** The restore state machine, started by `restoreRule`. */
  public readonly restoreStateMachine: sfn.StateMachine;
  /** Starts the restore state machine when a reset execution is aborted, times out or fails. */
  public readonly restoreRule: events.Rule;
  /** Where `restoreRule` puts events it could not deliver: alarm on its depth. */
  public readonly restoreDeadLetterQueue: sqs.Queue;
  /**
   * Runs every five minutes: starts the restore state machine again for an instance whose restore
   * did not finish (it was stopped, timed out or failed, or its event was lost), up to three
   * times, then gives up and reports it (`metricRestoresAbandoned`).
   */
  public readonly reconciler: lambda.Function;
  /** The schedule that runs `reconciler`. */
  public readonly reconcileSchedule: events.Rule;
  /** The step functions. */
  public readonly functions: ResetWorkflowFunctions;
  /** One item per instance under reset: the lock (I4) and the journal the restore reads. */
  public readonly lockTable: dynamodb.Table;
  /**
   * Role of helper instances (AmazonSSMManagedInstanceCore and the Systems Manager buckets of the
   * Region). Add to it what a custom VPC needs, e.g. access through an S3 endpoint policy.
   */
  public readonly helperRole: iam.Role;
  /** Instance profile of helper instances. */
  public readonly helperInstanceProfile: iam.InstanceProfile;
  /** The value of the `cdk-ec2-reset-access:workflow` tag on helpers and images this workflow creates. */
  public readonly workflowId: string;
  /**
   * Instance types a helper may have, in order of preference: `helperInstanceType`, then the
   * fallbacks the preflight takes when it is not offered in the target's Availability Zone.
   */
  public readonly helperInstanceTypes: string[];
  /** The tag targets must carry, if any (undefined with `allowAnyInstance`). */
  public readonly targetTag?: TargetTag;
  /** Log group of the reset state machine (events without execution data). */
  public readonly logGroup: logs.LogGroup;
  /**
   * Deregisters the backup images of successful resets after `backupImageRetention` (undefined
   * with `keepBackupImages`).
   */
  public readonly backupImageRetention?: BackupImageRetention;
  /**
   * With `RescueEndpoints.onDemand()`: runs every five minutes, releases the endpoint leases of
   * resets that have ended and deletes the interface endpoints once no reset uses them and their
   * grace period has passed. Its errors (a deletion that failed) are worth an alarm.
   */
  public readonly endpointJanitor?: lambda.Function;
  /** The schedule that runs `endpointJanitor`. */
  public readonly endpointJanitorSchedule?: events.Rule;

  private readonly policyContext: PolicyContext;
  private readonly onlineKmsKey?: kms.IKey;
  private readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: ResetWorkflowProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.targetTag = resolveTargetTag(props);
    const helperInstanceType = props.helperInstanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T3, ec2.InstanceSize.MEDIUM);
    if (helperInstanceType.architecture !== ec2.InstanceArchitecture.X86_64) {
      throw new Error(`helperInstanceType ${helperInstanceType} is not x86_64: helpers run Windows Server. Choose an x86_64 type such as t3.medium.`);
    }
    this.helperInstanceTypes = helperInstanceTypesFor(helperInstanceType.toString());
    const helperImageParameters = props.helperImageParameters ?? DEFAULT_HELPER_IMAGE_PARAMETERS;
    validateHelperImageParameters(helperImageParameters);
    const imageNamePrefix = props.imageNamePrefix ?? 'ResetAccess';
    validateImageNamePrefix(imageNamePrefix);
    const executionTimeout = props.executionTimeout ?? Duration.hours(2);
    if (!executionTimeout.isUnresolved() && executionTimeout.toSeconds() < 30 * 60) {
      throw new Error(`executionTimeout is ${executionTimeout.toHumanString()}: an offline reset takes up to 25 minutes and the ` +
        'password check up to 15 more. Give at least 30 minutes (default 2 hours).');
    }
    const onlineKmsKey = resolveOnlineKmsKey(props);
    this.onlineKmsKey = props.onlineKmsKey;
    const subnetsByAz = subnetsByAvailabilityZone(props.rescueVpc.subnets);
    // On-demand endpoints: this workflow creates the rescue VPC's interface endpoints while offline resets need them.
    const endpoints = props.rescueVpc.endpoints;
    const onDemandEndpoints = endpoints.mode === RescueEndpointsMode.ON_DEMAND ? {
      vpcId: props.rescueVpc.vpc.vpcId,
      securityGroupId: props.rescueVpc.endpointSecurityGroup.securityGroupId,
      serviceNames: rescueServiceNames(stack.region),
      gracePeriodSeconds: endpoints.gracePeriod!.toSeconds(),
    } : undefined;
    if (onDemandEndpoints) props.rescueVpc._useOnDemandEndpoints(this);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const encryptionKey = this.encryptionKey = props.encryptionKey;
    const backupImageRetention = resolveBackupImageRetention(props);

    // Unique and stable per construct: the helper tag value the IAM conditions compare with.
    this.workflowId = this.node.addr;

    // ---- Lock and journal.
    this.lockTable = new dynamodb.Table(this, 'LockTable', {
      partitionKey: { name: 'instanceId', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // A KMS key either way (AWS Control Tower CT.DYNAMODB.PR.2): the AWS managed key costs nothing
      // and its use shows in CloudTrail, and callers need no KMS permission for it.
      encryption: encryptionKey ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED,
      encryptionKey,
      // Items live for one reset (at most the execution timeout plus an hour); nothing in the table
      // outlives the state machines it serves, so it goes with them.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledgeLockTableBackups(this.lockTable);

    // ---- Helper role and instance profile.
    this.helperRole = new iam.Role(this, 'HelperRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Helper instances of the EC2 reset workflow: Systems Manager agent and EC2Rescue package download',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    Validations.of(this.helperRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      reason: 'AmazonSSMManagedInstanceCore is what AWSSupport-StartEC2RescueWorkflow gives its helper and what AWS documents as the ' +
        'minimum for a managed node; AWS keeps it in step with the agent\'s channels. A helper that cannot register breaks every ' +
        'offline reset, and it lives only for one reset, in an isolated VPC, running only this workflow\'s commands.',
    });
    props.rescueVpc.grantSsmBucketRead(this.helperRole);
    acknowledgeInlinePolicies(this.helperRole);
    this.helperInstanceProfile = new iam.InstanceProfile(this, 'HelperInstanceProfile', { role: this.helperRole });

    // ---- Step functions, each with a role of its own.
    this.policyContext = {
      partition: stack.partition,
      region: stack.region,
      account: stack.account,
      workflowId: this.workflowId,
      targetTag: this.targetTag,
      allowedVolumeKeyArns: (props.allowedVolumeKeys ?? []).map(key => key.keyArn),
      lockTableArn: this.lockTable.tableArn,
      helperRoleArn: this.helperRole.roleArn,
      helperInstanceProfileArn: this.helperInstanceProfile.instanceProfileArn,
      helperSubnetIds: props.rescueVpc.subnets.map(subnet => subnet.subnetId),
      helperSecurityGroupId: props.rescueVpc.helperSecurityGroup.securityGroupId,
      helperInstanceTypes: this.helperInstanceTypes,
      helperImageParameters,
      ...(onDemandEndpoints ? { onDemandEndpoints } : {}),
    };
    const config: WorkflowConfig = {
      workflowId: this.workflowId,
      lockTableName: this.lockTable.tableName,
      subnetsByAz,
      helperSecurityGroupId: props.rescueVpc.helperSecurityGroup.securityGroupId,
      helperInstanceProfileArn: this.helperInstanceProfile.instanceProfileArn,
      helperInstanceTypes: this.policyContext.helperInstanceTypes,
      helperImageParameters,
      targetTag: this.targetTag ? { key: this.targetTag.key, values: this.targetTag.values } : undefined,
      allowedVolumeKeyArns: this.policyContext.allowedVolumeKeyArns,
      imageNamePrefix,
      onlineKmsKey,
      // A lock outlives its reset and the restore after it: DynamoDB's TTL must not delete the
      // journal of an instance that is not back (the restore and the reconciler push it out further).
      lockTtlSeconds: Math.max(executionTimeout.toSeconds(), RESTORE_TIMEOUT.toSeconds()) + 3600,
      backupImageRetentionDays: backupImageRetention?.toDays(),
      ...(onDemandEndpoints ? { onDemandEndpoints } : {}),
    };
    const environment = {
      [WORKFLOW_CONFIG_ENV]: stack.toJsonString(config),
      POWERTOOLS_SERVICE_NAME: 'reset-workflow',
    };
    const options = (name: StepRoleName, description: string): lambda.FunctionOptions => {
      const role = this.stepRole(name, description);
      const logGroup = newLogGroup(this, `${pascal(name)}Logs`, { retention: logRetention, encryptionKey });
      // A role given to a function gets no log permissions from CDK: only its own log group.
      logGroup.grantWrite(role);
      return this.functionOptions(role, logGroup, environment, description);
    };
    const fns: ResetWorkflowFunctions = {
      preflight: new PreflightFunction(this, 'Preflight', options('preflight', 'Reset workflow: validate the request and plan the reset')),
      acquireLock: new AcquireLockFunction(this, 'AcquireLock', options('acquireLock', 'Reset workflow: take the per-instance lock')),
      prepareTarget: new PrepareTargetFunction(this, 'PrepareTarget', options('prepareTarget', 'Reset workflow: stop the target')),
      createBackupImage: new CreateBackupImageFunction(this, 'CreateBackupImage',
        options('createBackupImage', 'Reset workflow: create the backup image')),
      launchHelper: new LaunchHelperFunction(this, 'LaunchHelper', options('launchHelper', 'Reset workflow: launch the helper instance')),
      checkHelperReady: new CheckHelperReadyFunction(this, 'CheckHelperReady',
        options('checkHelperReady', 'Reset workflow: wait for the helper to be Online in SSM')),
      sendHelperCommand: new SendCommandFunction(this, 'SendHelperCommand',
        options('sendHelperCommand', 'Reset workflow: run commands on helper instances')),
      sendOnlineReset: new SendCommandFunction(this, 'SendOnlineReset',
        options('sendOnlineReset', 'Reset workflow: run the online reset on a target')),
      checkCommand: new CheckCommandFunction(this, 'CheckCommand', options('checkCommand', 'Reset workflow: poll a Run Command invocation')),
      attachToHelper: new AttachToHelperFunction(this, 'AttachToHelper',
        options('attachToHelper', 'Reset workflow: move the root volume to the helper')),
      restore: new RestoreFunction(this, 'Restore', options('restore', 'Reset workflow: put the instance back')),
      checkPassword: new CheckPasswordFunction(this, 'CheckPassword',
        options('checkPassword', 'Reset workflow: wait until a new password exists')),
      loadJournal: new LoadJournalFunction(this, 'LoadJournal', options('loadJournal', 'Reset workflow: load an aborted execution\'s journal')),
      ...(onDemandEndpoints ? {
        openEndpoints: new OpenEndpointsFunction(this, 'OpenEndpoints',
          options('openEndpoints', 'Reset workflow: open the rescue VPC\'s interface endpoints for a reset')),
      } : {}),
    };
    this.functions = fns;
    for (const fn of Object.values(fns) as lambda.IFunction[]) {
      acknowledgeLambdaPlacement(fn);
      acknowledgeNoLambdaDeadLetterQueue(fn, 'invoked synchronously by the reset or restore state machine, whose Retry and Catch ' +
        'handle every error (a failure after the volume moved starts the restore)');
    }

    // ---- State machines.
    this.logGroup = newLogGroup(this, 'ResetStateMachineLogs', { retention: logRetention, encryptionKey });
    this.stateMachine = new sfn.StateMachine(this, 'ResetStateMachine', {
      comment: 'Resets the Administrator password of an EC2 Windows instance (EC2Rescue ResetAccess, online or offline)',
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(buildResetDefinition(new Construct(this, 'ResetStates'), fns)),
      timeout: executionTimeout,
      tracingEnabled: true,
      // ALL events for the audit trail, but never execution data: inputs and outputs stay in the
      // execution history, which IAM guards, and out of CloudWatch Logs (I5).
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    const restoreLogs = newLogGroup(this, 'RestoreStateMachineLogs', { retention: logRetention, encryptionKey });
    this.restoreStateMachine = new sfn.StateMachine(this, 'RestoreStateMachine', {
      comment: 'Puts an instance back after a reset execution was aborted, timed out or failed',
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(buildRestoreDefinition(new Construct(this, 'RestoreStates'), fns)),
      timeout: RESTORE_TIMEOUT,
      tracingEnabled: true,
      logs: { destination: restoreLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    // The restore machine does not refer to the reset machine, so this adds no dependency cycle.
    Tags.of(this.stateMachine).add(ResetWorkflow.RESTORE_STATE_MACHINE_TAG_KEY, this.restoreStateMachine.stateMachineArn, {
      includeResourceTypes: ['AWS::StepFunctions::StateMachine'],
    });
    for (const machine of [this.stateMachine, this.restoreStateMachine]) {
      // The state machine's role, and the role EventBridge starts the restore with.
      acknowledgeInlinePolicies(machine);
      // The journal is loaded only by the restore machine, after an execution of the reset machine ended.
      const invoked = machine === this.stateMachine
        ? (Object.values(fns) as lambda.IFunction[]).filter(fn => fn !== fns.loadJournal)
        : [fns.loadJournal, fns.restore];
      acknowledgeWildcards(machine, { resources: invoked.map((fn: lambda.IFunction) => `${fn.functionArn}:*`) },
        'Step Functions\' Lambda integration grants invoking the function and its versions and aliases (<function ARN>:*); ' +
          'each is a function of this workflow.');
      acknowledgeWildcards(machine, { resources: ['*'] },
        'Log delivery (logs:CreateLogDelivery and related) and X-Ray trace upload (xray:PutTraceSegments, ' +
          'xray:PutTelemetryRecords, xray:GetSampling*) have no resource type in IAM.');
    }

    // ---- Restore on abort, timeout or failure (a Catch never sees the first two).
    this.restoreDeadLetterQueue = eventTargetDeadLetterQueue(this, 'RestoreDeadLetterQueue', 'starts the restore state machine');
    this.restoreRule = new events.Rule(this, 'RestoreRule', {
      description: 'Restores the instance when a reset execution is aborted, times out or fails',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [this.stateMachine.stateMachineArn],
          status: ['ABORTED', 'TIMED_OUT', 'FAILED'],
        },
      },
    });
    this.restoreRule.addTarget(new targets.SfnStateMachine(this.restoreStateMachine, {
      input: events.RuleTargetInput.fromObject({
        executionArn: events.EventField.fromPath('$.detail.executionArn'),
        input: events.EventField.fromPath('$.detail.input'),
      }),
      deadLetterQueue: this.restoreDeadLetterQueue,
      retryAttempts: 20,
      maxEventAge: Duration.hours(6),
    }));

    // ---- The reconciler: nothing left behind, even when a restore itself is stopped, times out or never starts.
    const executionsOf = (machine: sfn.StateMachine) => stack.formatArn({
      service: 'states', resource: 'execution', resourceName: `${machine.stateMachineName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const reconcilerPolicy = reconcilerStatements(this.policyContext, {
      restoreStateMachineArn: this.restoreStateMachine.stateMachineArn,
      resetExecutionsArn: executionsOf(this.stateMachine),
      restoreExecutionsArn: executionsOf(this.restoreStateMachine),
    });
    // It scans the lock table: with a customer managed key, DynamoDB decrypts the table key as the reconciler.
    if (encryptionKey) reconcilerPolicy.push(lockTableKeyStatement(encryptionKey, stack.region));
    const reconcilerRole = new iam.Role(this, 'ReconcilerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Reset workflow: restart unfinished restores',
      inlinePolicies: { Step: new iam.PolicyDocument({ statements: reconcilerPolicy }) },
    });
    acknowledgeInlinePolicies(reconcilerRole);
    if (reconcilerPolicy.some(s => s.resources.includes('*'))) acknowledgeUnscopableReads(reconcilerRole);
    acknowledgeWildcards(reconcilerRole, { resources: [executionsOf(this.stateMachine), executionsOf(this.restoreStateMachine)] },
      wildcardReason(executionsOf(this.stateMachine)));
    acknowledgeWildcards(reconcilerRole, { resources: ['*'] },
      'X-Ray trace upload (xray:PutTraceSegments, xray:PutTelemetryRecords) has no resource type in IAM.');
    const reconcilerLogs = newLogGroup(this, 'ReconcilerLogs', { retention: logRetention, encryptionKey });
    reconcilerLogs.grantWrite(reconcilerRole);
    const reconcilerConfig: ReconcilerConfig = {
      lockTableName: this.lockTable.tableName,
      restoreStateMachineArn: this.restoreStateMachine.stateMachineArn,
      holdSeconds: config.lockTtlSeconds,
      workflowId: this.workflowId,
    };
    this.reconciler = new ReconcileFunction(this, 'Reconciler', {
      ...this.functionOptions(reconcilerRole, reconcilerLogs, {
        [RECONCILER_CONFIG_ENV]: stack.toJsonString(reconcilerConfig),
        POWERTOOLS_SERVICE_NAME: RECONCILER_METRIC.service,
      }, 'Reset workflow: restart unfinished restores (scheduled)'),
      // It runs 8,760 times a month, almost always to read an empty table: the smallest size keeps its idle cost near zero.
      memorySize: 128,
    });
    this.reconcileSchedule = this.runEvery(RECONCILE_INTERVAL_MINUTES, this.reconciler, 'Reconcile',
      'Runs the reset workflow\'s reconciler: restarts restores that did not finish', 'runs the reconciler');

    // ---- On-demand endpoints: closed by the janitor once idle past their grace period (I9).
    if (onDemandEndpoints) {
      const resetExecutions = executionsOf(this.stateMachine);
      const janitorPolicy = endpointJanitorStatements(this.policyContext, resetExecutions);
      // The leases are in the lock table: with a customer managed key, reading them needs it.
      if (encryptionKey) janitorPolicy.push(lockTableKeyStatement(encryptionKey, stack.region));
      const janitorRole = new iam.Role(this, 'EndpointJanitorRole', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: 'Reset workflow: delete the rescue VPC\'s idle interface endpoints',
        inlinePolicies: { Janitor: new iam.PolicyDocument({ statements: janitorPolicy }) },
      });
      acknowledgeInlinePolicies(janitorRole);
      acknowledgeUnscopableReads(janitorRole);
      for (const resource of [resetExecutions, `arn:${stack.partition}:ec2:${stack.region}:${stack.account}:vpc-endpoint/*`]) {
        acknowledgeWildcards(janitorRole, { resources: [resource] }, wildcardReason(resource));
      }
      acknowledgeWildcards(janitorRole, { resources: ['*'] },
        'ec2:DescribeVpcEndpoints has no resource type in IAM (read-only); X-Ray trace upload (xray:PutTraceSegments, ' +
          'xray:PutTelemetryRecords) has none either.');
      const janitorLogs = newLogGroup(this, 'EndpointJanitorLogs', { retention: logRetention, encryptionKey });
      janitorLogs.grantWrite(janitorRole);
      const janitorConfig: EndpointJanitorConfig = {
        ...onDemandEndpoints,
        lockTableName: this.lockTable.tableName,
        workflowId: this.workflowId,
        resetStateMachineArn: this.stateMachine.stateMachineArn,
      };
      this.endpointJanitor = new EndpointJanitorFunction(this, 'EndpointJanitor', {
        ...this.functionOptions(janitorRole, janitorLogs, {
          [ENDPOINT_JANITOR_CONFIG_ENV]: stack.toJsonString(janitorConfig),
          POWERTOOLS_SERVICE_NAME: 'endpoint-janitor',
        }, 'Reset workflow: delete the rescue VPC\'s idle interface endpoints (scheduled)'),
        // It runs 8,760 times a month, almost always to find nothing to do: the smallest size keeps its idle cost near zero.
        memorySize: 128,
      });
      this.endpointJanitorSchedule = this.runEvery(ENDPOINT_JANITOR_INTERVAL_MINUTES, this.endpointJanitor, 'EndpointJanitor',
        'Runs the reset workflow\'s endpoint janitor: deletes the interface endpoints once idle past their grace period',
        'runs the endpoint janitor');
    }

    // ---- Backup images of successful resets go after their retention (I9).
    if (backupImageRetention) {
      this.backupImageRetention = new BackupImageRetention(this, 'BackupImageRetention', {
        stateMachine: this.stateMachine,
        workflowId: this.workflowId,
        imageNamePrefix,
        retention: backupImageRetention,
        logRetention,
        encryptionKey,
      });
    }
  }

  /**
   * A schedule that runs `fn` every `minutes`: retried twice, never with an event older than one period
   * (the next run does the same work), undelivered events kept in a dead-letter queue. `fn` must be
   * idempotent: a failed run is not redriven, the next one repeats it.
   */
  private runEvery(minutes: number, fn: lambda.IFunction, idPrefix: string, description: string, deliveredTo: string): events.Rule {
    acknowledgeLambdaPlacement(fn);
    acknowledgeNoLambdaDeadLetterQueue(fn, 'run by a schedule whose event carries no data: a failed run is repeated by the ' +
      'next one (the function is idempotent), and EventBridge\'s undelivered events go to its dead-letter queue');
    return new events.Rule(this, `${idPrefix}Schedule`, {
      description,
      schedule: events.Schedule.rate(Duration.minutes(minutes)),
      targets: [new targets.LambdaFunction(fn, {
        deadLetterQueue: eventTargetDeadLetterQueue(this, `${idPrefix}DeadLetterQueue`, deliveredTo),
        retryAttempts: 2,
        maxEventAge: Duration.minutes(minutes),
      })],
    });
  }

  /**
   * Journals the reconciler gave up on (their restore was started again three times and did not put
   * the instance back), counted every five minutes while they stay in the lock table. Published only
   * when there is one: alarm on `>= 1` with missing data as not breaching. ResetNotifications does.
   */
  public metricRestoresAbandoned(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: RECONCILER_METRIC.namespace,
      metricName: RECONCILER_METRIC.restoresAbandoned,
      dimensionsMap: { service: RECONCILER_METRIC.service, [RECONCILER_METRIC.dimension]: this.workflowId },
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.minutes(RECONCILE_INTERVAL_MINUTES),
      ...props,
    });
  }

  /**
   * Allows starting resets, and watching and stopping their executions (stopping one runs the
   * restore); and following the restore state machine's executions: finding the reset state
   * machine's restore through its tag (`RESTORE_STATE_MACHINE_TAG_KEY`), listing the restore's
   * executions and reading them.
   */
  public grantStartReset(grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(this);
    const executionsOf = (machine: sfn.StateMachine) => stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${machine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const executions = executionsOf(this.stateMachine);
    const restoreExecutions = executionsOf(this.restoreStateMachine);
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['states:StartExecution', 'states:ListExecutions', 'states:ListTagsForResource'],
      resourceArns: [this.stateMachine.stateMachineArn],
    }).combine(iam.Grant.addToPrincipal({
      grantee,
      actions: ['states:DescribeExecution', 'states:StopExecution', 'states:GetExecutionHistory'],
      resourceArns: [executions],
    })).combine(iam.Grant.addToPrincipal({
      grantee,
      actions: ['states:ListExecutions'],
      resourceArns: [this.restoreStateMachine.stateMachineArn],
    })).combine(iam.Grant.addToPrincipal({
      grantee,
      actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
      resourceArns: [restoreExecutions],
    }));
    acknowledgeWildcardsOnGrantee(grantee, [executions],
      'The wildcard is the execution name: the operator may watch and stop any execution of the reset state machine, and no other.');
    acknowledgeWildcardsOnGrantee(grantee, [restoreExecutions],
      'The wildcard is the execution name: the operator may read (not start or stop) any execution of the restore state machine, ' +
        'to follow the restore after a reset it started was stopped, timed out or failed.');
    return grant;
  }

  /**
   * Allows reading which instances are under reset: `dynamodb:GetItem` on the lock table (one item
   * per instance while a reset or its restore holds it), and `kms:Decrypt` through DynamoDB on
   * `encryptionKey` when the table is encrypted with it. `FleetReset` uses it to wait, after an
   * instance's reset was stopped from outside, until its restore has put the instance back.
   */
  public grantReadLocks(grantee: iam.IGrantable): iam.Grant {
    const grant = this.lockTable.grant(grantee, 'dynamodb:GetItem');
    if (!this.encryptionKey) return grant;
    // The same key statement the workflow's own lock-table readers get.
    const key = lockTableKeyStatement(this.encryptionKey, Stack.of(this).region);
    return grant.combine(iam.Grant.addToPrincipal({
      grantee,
      actions: key.actions,
      resourceArns: key.resources,
      conditions: key.toStatementJson().Condition,
    }));
  }

  /**
   * Allows deleting the online method's password parameters (`/EC2Rescue/Passwords/i-*` of this
   * account and Region), e.g. `password <instance-id> --from-parameter --delete` of the CLI once
   * the password is read. Separate from [`grantReadPasswords`](#cdk-ec2-reset-access.ResetWorkflow.grantReadPasswords): reading a password should not
   * imply deleting it. `PasswordRetention` deletes them anyway after their retention.
   */
  public grantDeletePasswords(grantee: iam.IGrantable): iam.Grant {
    const parameters = this.passwordParametersArn();
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['ssm:DeleteParameter'],
      resourceArns: [parameters],
    });
    acknowledgeWildcardsOnGrantee(grantee, [parameters],
      'The wildcard is the instance id: the password parameter /EC2Rescue/Passwords/i-* of any instance in this account and Region, ' +
        'which EC2Rescue names after the instance it reset; nothing else can be deleted.');
    return grant;
  }

  /**
   * Allows reading the new passwords: the online method's SecureString parameters
   * (`/EC2Rescue/Passwords/i-*`, and `kms:Decrypt` on `onlineKmsKey` when one was given) and
   * `ec2:GetPasswordData` of the instances this workflow may reset (the offline method; decrypt
   * it with the instance's key pair).
   */
  public grantReadPasswords(grantee: iam.IGrantable): iam.Grant {
    const parameters = this.passwordParametersArn();
    const statements = readPasswordStatements(this.policyContext, parameters);
    let grant: iam.Grant | undefined;
    for (const statement of statements) {
      const next = iam.Grant.addToPrincipal({
        grantee,
        actions: statement.actions,
        resourceArns: statement.resources,
        conditions: statement.toStatementJson().Condition,
      });
      grant = grant ? grant.combine(next) : next;
    }
    acknowledgeWildcardsOnGrantee(grantee, statements.flatMap(s => s.resources),
      'The wildcards are instance ids: the password parameter /EC2Rescue/Passwords/i-* of any instance, and GetPasswordData of ' +
        'instances the workflow may reset (the target tag condition applies), in this account and Region.');
    if (this.onlineKmsKey) grant = grant!.combine(this.onlineKmsKey.grantDecrypt(grantee));
    return grant!;
  }

  /** `arn:<partition>:ssm:<region>:<account>:parameter/EC2Rescue/Passwords/i-*` of this stack. */
  private passwordParametersArn(): string {
    return Stack.of(this).formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: `${RESCUE_PASSWORD_PARAMETER_PREFIX.slice(1)}i-*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  private functionOptions(
    role: iam.IRole, logGroup: logs.ILogGroup, environment: Record<string, string>, description: string,
  ): lambda.FunctionOptions {
    return {
      role,
      logGroup,
      environment,
      description,
      timeout: Duration.minutes(1),
      memorySize: 256,
      tracing: lambda.Tracing.ACTIVE,
    };
  }

  private stepRole(name: StepRoleName, description: string): iam.Role {
    const statements = stepStatements(name, this.policyContext);
    if (this.encryptionKey && statements.some(s => s.actions.some(action => action.startsWith('dynamodb:')))) {
      statements.push(lockTableKeyStatement(this.encryptionKey, Stack.of(this).region));
    }
    const role = new iam.Role(this, `${pascal(name)}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description,
      path: ResetWorkflow.ROLE_PATH,
      inlinePolicies: { Step: new iam.PolicyDocument({ statements }) },
    });
    acknowledgeInlinePolicies(role);
    if (statements.some(s => s.resources.includes('*'))) acknowledgeUnscopableReads(role);
    const wildcards = new Map<string, string[]>();
    for (const resource of statements.flatMap(s => s.resources)) {
      if (!resource.includes('*')) continue;
      const reason = wildcardReason(resource);
      wildcards.set(reason, [...(wildcards.get(reason) ?? []), resource]);
    }
    // Lambda's X-Ray tracing adds xray:PutTraceSegments/PutTelemetryRecords on "*".
    const star = wildcardReason('*');
    if (!wildcards.has(star)) wildcards.set(star, ['*']);
    for (const [reason, resources] of wildcards) acknowledgeWildcards(role, { resources: [...new Set(resources)] }, reason);
    return role;
  }
}

/** Acknowledges the wildcards of a grant on the grantee's own policy, when the grantee is a construct. */
/**
 * The customer managed key of the lock table, for a step that reads or writes it: only `kms:Decrypt`,
 * only through DynamoDB. DynamoDB Developer Guide, "DynamoDB encryption at rest usage notes": when a
 * principal accesses an encrypted table, DynamoDB decrypts the table key with a Decrypt request made
 * as that principal (the data keys are then used outside KMS); the table key itself is generated by
 * the DynamoDB service account and the grants by the table's creator (CloudFormation), so readers and
 * writers need no GenerateDataKey, Encrypt or CreateGrant. Not narrowed to the table by its encryption
 * context: the roles may read and write only the lock table anyway (their DynamoDB statements), and
 * IAM's policy simulator used to prove these statements cannot evaluate `kms:EncryptionContext:<key>`.
 */
function lockTableKeyStatement(key: kms.IKey, region: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'DecryptLockTableKeyThroughDynamoDb',
    actions: ['kms:Decrypt'],
    resources: [key.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${region}.amazonaws.com` } },
  });
}

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** EC2's limit on a tag value. */
const MAX_TAG_VALUE_LENGTH = 256;

function resolveTargetTag(props: ResetWorkflowProps): TargetTag | undefined {
  if (props.allowAnyInstance && props.targetTag) {
    throw new Error('Set either targetTag (reset only tagged instances) or allowAnyInstance (reset any instance), not both.');
  }
  if (props.allowAnyInstance) return undefined;
  const tag = props.targetTag ?? { key: ResetWorkflow.DEFAULT_TARGET_TAG_KEY, values: ['true'] };
  if (!Token.isUnresolved(tag.key) && (tag.key.length === 0 || tag.key.length > 128 || tag.key.toLowerCase().startsWith('aws:'))) {
    throw new Error(`targetTag.key "${tag.key}" is not a usable tag key: give 1 to 128 characters not starting with "aws:".`);
  }
  if (tag.values.length === 0) {
    throw new Error('targetTag.values is empty: list the tag values that allow a reset (e.g. ["true"]), or set allowAnyInstance instead.');
  }
  for (const value of tag.values.filter(v => !Token.isUnresolved(v))) {
    if (value.trim() === '') {
      // EC2 accepts an empty tag value, so every instance merely carrying the key would qualify:
      // the IAM condition `aws:ResourceTag/<key>: ""` is a grant nobody means to write.
      throw new InvalidPropsError('TargetTagValueEmpty', `targetTag.values contains ${JSON.stringify(value)}: an empty value would ` +
        `allow resetting every instance tagged "${tag.key}" with no value. List non-empty values (e.g. ["true"]).`);
    }
    if (value.length > MAX_TAG_VALUE_LENGTH) {
      throw new InvalidPropsError('TargetTagValueTooLong', `targetTag.values contains a value of ${value.length} characters; ` +
        `EC2 tag values have at most ${MAX_TAG_VALUE_LENGTH}, so no instance could carry it. Shorten it.`);
    }
  }
  return { key: tag.key, values: [...tag.values] };
}

/** The backup image retention to apply, or undefined when every backup image is kept. */
function resolveBackupImageRetention(props: ResetWorkflowProps): Duration | undefined {
  if (props.keepBackupImages && props.backupImageRetention) {
    throw new Error('Set either backupImageRetention (delete successful resets\' backup images after it) or keepBackupImages (keep them all), not both.');
  }
  if (props.keepBackupImages) return undefined;
  const retention = props.backupImageRetention ?? BackupImageRetention.DEFAULT_RETENTION;
  BackupImageRetention._validateRetention(retention, 'backupImageRetention');
  return retention;
}

function validateHelperImageParameters(parameters: string[]): void {
  if (parameters.length === 0) {
    throw new Error('helperImageParameters is empty: list at least one /aws/service/ami-windows-latest/... parameter.');
  }
  for (const parameter of parameters) {
    const isPublicWindowsImage = parameter.startsWith(HELPER_IMAGE_PARAMETER_PATH) && parameter.length > HELPER_IMAGE_PARAMETER_PATH.length;
    if (Token.isUnresolved(parameter) || !isPublicWindowsImage) {
      throw new Error(`helperImageParameters: "${parameter}" is not an AWS public Windows AMI parameter. Use names under ` +
        `${HELPER_IMAGE_PARAMETER_PATH}, e.g. ${DEFAULT_HELPER_IMAGE_PARAMETERS[0]}.`);
    }
  }
}

/** The longest `imageNamePrefix`: with the longest suffix the workflow appends (59 characters), well within an AMI name's 128. */
const MAX_IMAGE_NAME_PREFIX_LENGTH = 60;

function validateImageNamePrefix(prefix: string): void {
  if (Token.isUnresolved(prefix)) return;
  if (prefix.length === 0) {
    throw new InvalidPropsError('ImageNamePrefixEmpty', 'imageNamePrefix is empty: give the first part of the images\' names, e.g. "ResetAccess".');
  }
  if (prefix.length > MAX_IMAGE_NAME_PREFIX_LENGTH) {
    throw new InvalidPropsError('ImageNamePrefixTooLong', `imageNamePrefix is ${prefix.length} characters long; it may have at most ` +
      `${MAX_IMAGE_NAME_PREFIX_LENGTH}: an AMI name has at most 128, and the workflow appends up to 68 ` +
      '("-Post-Script-Backup_<instance id>_<date and time>"). Shorten it.');
  }
  const invalid = [...new Set(prefix.replace(/[A-Za-z0-9()[\] ./\-'@_]/g, ''))];
  if (invalid.length > 0) {
    throw new InvalidPropsError('ImageNamePrefixInvalidCharacters', `imageNamePrefix "${prefix}" contains ${invalid.map(c => JSON.stringify(c)).join(', ')}, ` +
      'which AMI names do not allow: use letters, digits and ()[] ./-\'@_ only.');
  }
}

function resolveOnlineKmsKey(props: ResetWorkflowProps): string {
  if (props.onlineKmsKey && props.onlineKmsKeyAlias) {
    throw new Error('Set either onlineKmsKey or onlineKmsKeyAlias, not both.');
  }
  if (props.onlineKmsKey) return props.onlineKmsKey.keyId;
  const alias = props.onlineKmsKeyAlias ?? 'alias/aws/ssm';
  if (!Token.isUnresolved(alias)) {
    const isAlias = /^alias\/[a-zA-Z0-9/_-]{1,26}$/.test(alias);
    const isKeyId = /^(mrk-)?[0-9a-f]{32}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(alias);
    if (!isAlias && !isKeyId) {
      throw new Error(`onlineKmsKeyAlias "${alias}" is neither a key id nor an alias of up to 32 characters ` +
        '(AWSSupport-RunEC2RescueForWindowsTool rejects key ARNs): give e.g. "alias/ec2rescue" or a key id.');
    }
  }
  return alias;
}

function subnetsByAvailabilityZone(subnets: ec2.ISubnet[]): Record<string, string> {
  if (subnets.length === 0) {
    throw new Error('The rescue VPC has no subnet: give it one subnet per Availability Zone that targets may live in.');
  }
  const byAz: Record<string, string> = {};
  for (const subnet of subnets) {
    // RescueVpc has already read every subnet's zone, so imported subnets without one were refused there.
    const az = subnet.availabilityZone;
    if (!Token.isUnresolved(az) && byAz[az] !== undefined) {
      throw new Error(`The rescue VPC has two subnets in ${az}: select at most one per Availability Zone (vpcSubnets).`);
    }
    byAz[az] = subnet.subnetId;
  }
  return byAz;
}
