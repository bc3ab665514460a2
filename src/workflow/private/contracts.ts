/**
 * The contract between the ResetWorkflow construct (which builds the state machine and
 * configures the Lambda functions) and the step handlers (`../steps/*.lambda.ts`).
 *
 * Everything here is plain data: the state machine passes these shapes between states
 * with JSONPath, the construct serializes `WorkflowConfig` into one environment
 * variable, and the handlers parse it. Nothing secret is ever part of these shapes (I5):
 * no password, encrypted or not, and no password data.
 */

/** Environment variable that carries the JSON-encoded {@link WorkflowConfig} to every step. */
export const WORKFLOW_CONFIG_ENV = 'RESET_WORKFLOW_CONFIG';

/** Tag keys the workflow writes and its IAM policies are conditioned on. */
export const TAGS = {
  /**
   * On helper instances and their volumes, and on a target's root volume while a reset holds it
   * (volume-mark.ts): the workflow id (`WorkflowConfig.workflowId`).
   */
  workflow: 'cdk-ec2-reset-access:workflow',
  /**
   * On helper instances: `helper`. On backup and password-enabled images: `backup` / `password-enabled`.
   * On on-demand interface endpoints: `endpoint`.
   */
  role: 'cdk-ec2-reset-access:role',
  /** The instance being reset, on everything created for it. */
  target: 'cdk-ec2-reset-access:target',
  /** The execution name, on everything created by that execution. */
  execution: 'cdk-ec2-reset-access:execution',
} as const;

/**
 * Helper instance types to fall back to, in order, when the configured type is not offered in the
 * target's Availability Zone (not every type is offered in every AZ: DescribeInstanceTypeOfferings).
 * All x86_64 (helpers run Windows Server), EBS-only, 2 vCPUs, 4–8 GiB: `t3.medium` is what
 * AWSSupport-ResetAccess uses, `t3a.medium` the same size on AMD, `m5.large` and `m6i.large` two
 * generations of general purpose types that most AZs offer. RunInstances' IAM condition on
 * `ec2:InstanceType` allows exactly the configured type and these.
 */
export const HELPER_INSTANCE_TYPE_FALLBACKS: readonly string[] = ['t3.medium', 't3a.medium', 'm5.large', 'm6i.large'];

/** The configured type first, then the fallbacks (each once). */
export function helperInstanceTypesFor(configured: string): string[] {
  return [...new Set([configured, ...HELPER_INSTANCE_TYPE_FALLBACKS])];
}

/** Deploy-time configuration, identical for every step of one workflow. */
export interface WorkflowConfig {
  /** Unique per ResetWorkflow construct; the value of the `TAGS.workflow` tag on what it creates. */
  readonly workflowId: string;
  /** DynamoDB table holding one lock item per instance under reset (partition key `instanceId`). */
  readonly lockTableName: string;
  /** Helper subnet per Availability Zone name. A target in an AZ not listed is refused with `AzNotCovered`. */
  readonly subnetsByAz: Record<string, string>;
  readonly helperSecurityGroupId: string;
  /** ARN of the helper's instance profile (RunInstances IamInstanceProfile.Arn). */
  readonly helperInstanceProfileArn: string;
  /**
   * Instance types a helper may have, in order of preference: the configured type first, then the
   * documented x86_64 fallbacks (`HELPER_INSTANCE_TYPE_FALLBACKS`). The preflight picks the first one
   * offered in the target's Availability Zone (DescribeInstanceTypeOfferings); none offered is
   * `HelperInstanceTypeNotOffered`. RunInstances' IAM condition allows exactly these.
   */
  readonly helperInstanceTypes: string[];
  /**
   * SSM public parameters of Windows Server AMIs the helper may use, in order of preference,
   * e.g. `/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base`. The launch step
   * picks the first whose Windows version differs from the target's where that is known (disk
   * signature collisions between identical images are what EC2Rescue's signature fix is about).
   */
  readonly helperImageParameters: string[];
  /**
   * Which instances may be reset: all of these tags must be present with one of the listed values.
   * Absent: any instance in the account and Region.
   */
  readonly targetTag?: { readonly key: string; readonly values: string[] };
  /**
   * Customer managed KMS keys (ARNs) whose encrypted volumes the workflow may handle. A root
   * encrypted with any other customer key is refused with `EncryptedRootKeyNotAllowed`, another
   * attached volume with `EncryptedVolumeKeyNotAllowed` (starting the instance needs every one of
   * its volumes' keys); AWS managed keys (`alias/aws/ebs`) are always usable.
   */
  readonly allowedVolumeKeyArns: string[];
  /** Prefix of image names: `<prefix>-Pre-Script-Backup_<instance>_<date>`. */
  readonly imageNamePrefix: string;
  /** KMS key id or alias for the online method (AWSSupport-RunEC2RescueForWindowsTool `Parameters`). */
  readonly onlineKmsKey: string;
  /** How long a lock may be held before it is considered abandoned (the execution timeout plus a margin). */
  readonly lockTtlSeconds: number;
  /**
   * Days after which a successful reset's backup image is deleted (BackupImageRetention); absent
   * when backup images are kept until someone deletes them. Only the plan's wording reads it.
   */
  readonly backupImageRetentionDays?: number;
  /**
   * The interface endpoints the workflow creates while offline resets need them
   * (`RescueEndpoints.onDemand()`); absent when they are always on or the VPC's own.
   */
  readonly onDemandEndpoints?: OnDemandEndpointsConfig;
}

/** Deploy-time configuration of on-demand interface endpoints (docs/workflow-design.md, "On-demand endpoints"). */
export interface OnDemandEndpointsConfig {
  /** The rescue VPC: one endpoint per service in it, shared by every reset. */
  readonly vpcId: string;
  /** The endpoints' security group (RescueVpc.endpointSecurityGroup, permanent). */
  readonly securityGroupId: string;
  /** `com.amazonaws.<region>.ssm`, `...ssmmessages`, `...ec2messages`. */
  readonly serviceNames: string[];
  /** How long the endpoints stay once the last lease is released. */
  readonly gracePeriodSeconds: number;
}

/** Environment variable that carries the JSON-encoded {@link ReconcilerConfig} to the reconciler. */
export const RECONCILER_CONFIG_ENV = 'RESET_RECONCILER_CONFIG';

/** Deploy-time configuration of the reconciler (the scheduled function that finishes unfinished restores). */
export interface ReconcilerConfig {
  /** The lock table, whose items are the journals. */
  readonly lockTableName: string;
  /** The restore state machine it starts. */
  readonly restoreStateMachineArn: string;
  /** How long a journal is held (its TTL pushed out) while a restore runs for it: at least a restore's timeout. */
  readonly holdSeconds: number;
  /** The workflow's id: the dimension of its metric. */
  readonly workflowId: string;
}

/**
 * The reconciler's CloudWatch metric (embedded metric format): journals it gave up on, still in the
 * table. Its dimensions are `service` (Powertools always adds it) and `WorkflowId`.
 */
export const RECONCILER_METRIC = {
  namespace: 'cdk-ec2-reset-access',
  service: 'reset-reconciler',
  restoresAbandoned: 'RestoresAbandoned',
  dimension: 'WorkflowId',
} as const;

/** Reset methods a caller may ask for. */
export type RequestedMethod = 'auto' | 'online' | 'offline';

/** Things a reset may lose, which need the caller's explicit acknowledgement. */
export type Acknowledgement =
  /** The instance has an auto-assigned public IPv4 address that stopping releases. */
  | 'public-ip-release'
  /** The instance has instance-store volumes whose data stopping erases. */
  | 'instance-store-data-loss'
  /** The instance is in an Auto Scaling group: it is put into Standby and back. */
  | 'auto-scaling-standby'
  /**
   * Its Auto Scaling group is at its minimum size, so Standby with the capacity decremented is refused:
   * the group's MinSize is lowered by one for the reset and raised back afterwards.
   */
  | 'auto-scaling-min-size';

/** Execution input, as the caller gives it (validated by the preflight step). */
export interface ResetRequest {
  readonly instanceId: string;
  readonly method?: RequestedMethod;
  readonly passwordEnabledAmi?: boolean;
  readonly acknowledge?: Acknowledgement[];
  readonly dryRun?: boolean;
}

/** Event of the preflight step: the request plus what the state machine knows of the execution. */
export interface PreflightEvent {
  readonly request: ResetRequest;
  /** `$$.Execution.Id` */
  readonly executionArn: string;
  /** `$$.Execution.Name` */
  readonly executionName: string;
  /** `$$.Execution.StartTime`, ISO 8601; image names use its date so retries name the same image. */
  readonly startTime: string;
}

/**
 * What the preflight decided: everything later steps and the restore need. Stored in the lock
 * item as the execution's journal, so a restore started by EventBridge after an abort or a
 * timeout knows what to put back.
 */
export interface ResetPlan {
  readonly instanceId: string;
  readonly method: 'online' | 'offline';
  readonly dryRun: boolean;
  readonly executionArn: string;
  readonly executionName: string;
  readonly availabilityZone: string;
  /** Helper subnet in the target's AZ (offline only; empty string for online). */
  readonly helperSubnetId: string;
  /** `running` or `stopped`: the state the restore returns the instance to. */
  readonly originalState: 'running' | 'stopped';
  readonly rootDeviceName: string;
  readonly rootVolumeId: string;
  /** DeleteOnTermination of the root before the reset, restored afterwards. */
  readonly rootDeleteOnTermination: boolean;
  /** Auto Scaling group the instance belongs to, if any. */
  readonly autoScalingGroupName?: string;
  /** True when the workflow must put the instance into Standby (and so take it out again). */
  readonly manageStandby: boolean;
  /**
   * Set when the Auto Scaling group is at its minimum size and the caller acknowledged
   * `auto-scaling-min-size`: prepare-target lowers MinSize `from` → `to` before EnterStandby (and
   * journals it), the restore raises it back to `from` after ExitStandby if it is still `to`.
   */
  readonly minSizeLowering?: { readonly from: number; readonly to: number };
  /**
   * The instance's key pair, when it was launched with one. Without it GetPasswordData never returns
   * a password, so the workflow does not wait for one (`passwordStatus: no-key-pair`).
   */
  readonly keyName?: string;
  /** The helper's instance type, offered in the target's AZ (offline only; empty string for online). */
  readonly helperInstanceType: string;
  readonly passwordEnabledAmi: boolean;
  readonly backupImageName: string;
  readonly passwordEnabledImageName: string;
  /** Windows version of the target's AMI when known (e.g. `2022`), to pick a different helper image. */
  readonly targetWindowsVersion?: string;
  /** Human-readable consequences, for dry runs and for the output: what is stopped, what is lost. */
  readonly consequences: string[];
}

/** Most steps take the plan and return a small result that the state machine stores beside it. */
export interface PlanEvent {
  readonly plan: ResetPlan;
}

/** Result of the steps that poll: the state machine waits `waitSeconds` and calls again until `done`. */
export interface PollResult {
  readonly done: boolean;
  /** Suggested wait before the next poll. */
  readonly waitSeconds: number;
  /** Short description of what was observed or done, for the execution history (never a secret). */
  readonly status: string;
}

/** Result of taking the per-instance lock (I4); a lock held by another execution fails with `ResetInProgress`. */
export interface LockResult {
  /** ISO 8601 time after which the lock counts as abandoned. */
  readonly expiresAt: string;
}

/** Result of the helper launch. */
export interface HelperResult {
  readonly helperInstanceId: string;
  readonly helperImageId: string;
}

/** Event of the steps that act on the helper. */
export interface HelperEvent extends PlanEvent {
  readonly helper: HelperResult;
}

/** Commands the workflow sends, mapped to SSM documents by the send-command step (an allow-list). */
export type WorkflowCommand = 'install-ec2rescue' | 'offline-password-fix' | 'online-reset';

export interface SendCommandEvent extends PlanEvent {
  readonly command: WorkflowCommand;
  /** Instance to run it on: the helper for install/offline fix, the target for the online reset. */
  readonly targetInstanceId: string;
}

export interface CommandResult {
  readonly commandId: string;
  readonly instanceId: string;
}

export interface CheckCommandEvent extends PlanEvent {
  readonly command: CommandResult;
}

/** Result of the backup image step (the image is not waited for: its snapshot is point-in-time once created). */
export interface ImageResult {
  readonly imageId: string;
  readonly imageName: string;
}

/** Event of the restore step; `helper` is absent when the failure came before the launch. */
export interface RestoreEvent extends PlanEvent {
  /** Whether this restore follows a success (then the optional password-enabled AMI is made). */
  readonly succeeded: boolean;
}

/** Result of one restore pass. */
export interface RestoreResult extends PollResult {
  /** Set once the password-enabled image has been requested. */
  readonly passwordEnabledImageId?: string;
}

/**
 * Input of the restore state machine, from EventBridge when a reset execution is aborted, times
 * out or fails (`detail.executionArn`, `detail.input`), or from the reconciler (the same shape).
 */
export interface RestoreMachineInput {
  /** The reset execution to put back after. */
  readonly executionArn: string;
  /** Its input, as a JSON string (EventBridge's `detail.input`). */
  readonly input: string;
}

/** Event of load-journal: the restore state machine's input and its own execution. */
export interface LoadJournalEvent extends RestoreMachineInput {
  /** `$$.Execution.Id` of the restore execution, recorded in the journal. */
  readonly restoreExecutionArn: string;
}

/** Result of loading the journal: the plan to restore, or nothing when the execution never took the lock. */
export interface LoadJournalResult {
  readonly found: boolean;
  readonly plan?: ResetPlan;
}

/**
 * Error names the steps throw. The state machine's Retry and Catch match these, and the
 * execution fails with one of them as its `error`, so callers can act on it.
 */
export const ERRORS = {
  // Input and preflight: nothing was changed.
  invalidInput: 'InvalidInput',
  instanceNotFound: 'InstanceNotFound',
  notWindows: 'NotWindows',
  rootNotEbs: 'RootNotEbs',
  spotInstance: 'SpotInstance',
  marketplaceProductCode: 'MarketplaceProductCode',
  shutdownBehaviorTerminate: 'ShutdownBehaviorTerminate',
  autoScalingMember: 'AutoScalingMember',
  acknowledgementRequired: 'AcknowledgementRequired',
  encryptedRootKeyNotAllowed: 'EncryptedRootKeyNotAllowed',
  /** Another attached volume is encrypted with a key the workflow may not use (starting the instance needs it). */
  encryptedVolumeKeyNotAllowed: 'EncryptedVolumeKeyNotAllowed',
  /** The Auto Scaling group lacks the target tag that EnterStandby/ExitStandby are authorized on. */
  autoScalingGroupNotAllowed: 'AutoScalingGroupNotAllowed',
  /** The Auto Scaling group is at its minimum size and `auto-scaling-min-size` was not acknowledged. */
  autoScalingGroupAtMinimum: 'AutoScalingGroupAtMinimum',
  /** Offline reset of an instance without a key pair: GetPasswordData would never return a password. */
  noKeyPair: 'NoKeyPair',
  /** None of the helper's instance types is offered in the target's Availability Zone. */
  helperInstanceTypeNotOffered: 'HelperInstanceTypeNotOffered',
  targetNotAllowed: 'TargetNotAllowed',
  azNotCovered: 'AzNotCovered',
  resetInProgress: 'ResetInProgress',
  instanceStateUnsupported: 'InstanceStateUnsupported',
  /** The online method was asked for, but the instance's role may not store the password (RescuePasswordPolicy). */
  instanceRoleCannotStorePassword: 'InstanceRoleCannotStorePassword',
  notManagedOnline: 'NotManagedOnline',
  // Fleet input (FleetReset): nothing was started.
  /** The fleet's ids or tag selector matched no instance that is not terminated. */
  fleetSelectionEmpty: 'FleetSelectionEmpty',
  /** More targets than one fleet execution may reset (FleetReset's maxTargets). */
  fleetTooManyTargets: 'FleetTooManyTargets',
  /** The account's On-Demand vCPU quota has no room for a single helper. */
  fleetHelperQuotaExhausted: 'FleetHelperQuotaExhausted',
  // During the reset: the restore path runs.
  helperNotReady: 'HelperNotReady',
  commandFailed: 'CommandFailed',
  passwordNotGenerated: 'PasswordNotGenerated',
  /** The backup image failed, so the root volume is not touched (I3). */
  backupImageFailed: 'BackupImageFailed',
  /** The root volume is attached somewhere the workflow did not put it; an operator must look. */
  volumeAttachedElsewhere: 'VolumeAttachedElsewhere',
  /** The root volume no longer exists. */
  volumeNotFound: 'VolumeNotFound',
  /** The on-demand interface endpoints could not be created (quota, a conflicting endpoint, a failed endpoint). */
  endpointsUnavailable: 'EndpointsUnavailable',
  // Transient: retried by the state machine.
  notYet: 'NotYet',
} as const;

export type ErrorName = typeof ERRORS[keyof typeof ERRORS];
