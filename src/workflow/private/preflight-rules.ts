import { ERRORS, ResetPlan, WorkflowConfig } from './contracts';
import { PreflightError } from './errors';
import { chooseHelperInstanceType } from './helper-launch';
import { backupImageName, passwordEnabledImageName, windowsVersionOf } from './image-names';
import { OnlinePermission } from './online-permission';
import { ValidRequest } from './request';
import { offlineStopConsequences } from './stop-escalation';

/** What the preflight step observed about the target, as plain data (no SDK types). */
export interface TargetFacts {
  readonly instanceId: string;
  /** EC2 state name: pending, running, stopping, stopped, shutting-down, terminated. */
  readonly state: string;
  /** `Platform` (`windows` for Windows instances). */
  readonly platform?: string;
  /** `PlatformDetails`, e.g. `Windows`, `Windows with SQL Server Standard`. */
  readonly platformDetails?: string;
  readonly rootDeviceType: string;
  readonly rootDeviceName: string;
  /** `spot`, `scheduled`, `capacity-block`, or absent for On-Demand. */
  readonly instanceLifecycle?: string;
  readonly productCodes: ReadonlyArray<{ readonly id: string; readonly type: string }>;
  readonly availabilityZone: string;
  readonly tags: Readonly<Record<string, string>>;
  /** `InstanceInitiatedShutdownBehavior`: `stop` or `terminate`. */
  readonly shutdownBehavior?: string;
  /** The EBS volume at the root device, when there is one. */
  readonly rootVolume?: VolumeEncryption & {
    readonly deleteOnTermination: boolean;
  };
  /** The other EBS volumes attached to the instance (starting it needs each one's key). */
  readonly dataVolumes?: ReadonlyArray<VolumeEncryption & { readonly deviceName: string }>;
  /** `KeyName`: the key pair the instance was launched with, if any. */
  readonly keyName?: string;
  /** Which of the configured helper instance types are offered in the instance's AZ. */
  readonly helperInstanceTypesOffered: readonly string[];
  /** Whether the instance type has instance-store volumes (their data is lost on stop). */
  readonly hasInstanceStore: boolean;
  /** Auto-assigned (Amazon-owned) public IPv4 addresses a stop releases; Elastic IPs are not listed. */
  readonly autoAssignedPublicIps: readonly string[];
  /** Auto Scaling membership, if any, and the group's size and tags when it could be described. */
  readonly autoScaling?: {
    readonly groupName: string;
    readonly lifecycleState: string;
    readonly group?: AutoScalingGroupFacts;
  };
  /** Systems Manager registration, if any. */
  readonly ssm?: { readonly pingStatus: string; readonly platformType?: string };
  /** Name and description of the AMI the instance was launched from, when it still exists. */
  readonly image?: { readonly name?: string; readonly description?: string };
  /** The lock item for this instance, if one exists. */
  readonly lock?: { readonly executionArn: string; readonly expiresAtEpochSeconds: number };
  /**
   * Whether the instance's role may store the online method's password (IAM's policy simulator,
   * online-permission.ts); observed only when the online method could run. Absent: not asked.
   */
  readonly onlinePasswordStore?: OnlinePermission;
}

/** An EBS volume's encryption, as DescribeVolumes and DescribeKey tell it. */
export interface VolumeEncryption {
  readonly volumeId: string;
  readonly encrypted: boolean;
  readonly kmsKeyId?: string;
  /** `AWS` or `CUSTOMER` when the key's manager is known; absent when it could not be looked up. */
  readonly kmsKeyManager?: string;
}

/** What DescribeAutoScalingGroups says of the instance's group. */
export interface AutoScalingGroupFacts {
  readonly minSize: number;
  readonly maxSize: number;
  readonly desiredCapacity: number;
  readonly tags: Readonly<Record<string, string>>;
}

/** What the state machine knows of the execution. */
export interface ExecutionFacts {
  readonly executionArn: string;
  readonly executionName: string;
  readonly startTime: string;
  /** Now, in epoch seconds (for lock expiry). */
  readonly nowEpochSeconds: number;
}

function blocker(name: typeof ERRORS[keyof typeof ERRORS], message: string): PreflightError {
  return new PreflightError(name, message);
}

/**
 * DESIGN.md §3 step 1: decides whether and how the instance can be reset, and returns the
 * plan; throws a {@link PreflightError} naming the first blocker. Changes nothing.
 */
export function planReset(request: ValidRequest, target: TargetFacts, execution: ExecutionFacts, config: WorkflowConfig): ResetPlan {
  const id = target.instanceId;

  // Checks every method needs.
  if (target.state === 'terminated' || target.state === 'shutting-down') {
    throw blocker(ERRORS.instanceStateUnsupported, `Instance ${id} is ${target.state} and cannot be reset; check the instance id.`);
  }
  if (!isWindows(target)) {
    throw blocker(ERRORS.notWindows, `Instance ${id} is not a Windows instance (platform ${target.platformDetails ?? target.platform ?? 'Linux/UNIX'}); this workflow resets Windows Administrator passwords only.`);
  }
  if (config.targetTag && !config.targetTag.values.includes(target.tags[config.targetTag.key] ?? '')) {
    const { key, values } = config.targetTag;
    throw blocker(ERRORS.targetNotAllowed, `Instance ${id} may not be reset by this workflow: tag it ${key}=${values.length === 1 ? values[0] : `one of ${values.join(', ')}`}, or use a workflow whose target selector includes it.`);
  }
  if (target.lock && target.lock.executionArn !== execution.executionArn && target.lock.expiresAtEpochSeconds >= execution.nowEpochSeconds) {
    throw blocker(ERRORS.resetInProgress, target.lock.expiresAtEpochSeconds === Number.POSITIVE_INFINITY
      ? `The restore after an earlier reset of ${id} (${target.lock.executionArn}) did not finish and the reconciler gave up: put the instance back by hand (docs/operating.md), then delete its item from the lock table.`
      : `Another reset of ${id} is running (${target.lock.executionArn}); wait for it to finish, or stop it, before starting a new one.`);
  }
  if (target.state === 'pending' || target.state === 'stopping') {
    throw blocker(ERRORS.instanceStateUnsupported, `Instance ${id} is ${target.state}; retry in a minute, once it is running or stopped.`);
  }
  if (target.state !== 'running' && target.state !== 'stopped') {
    throw blocker(ERRORS.instanceStateUnsupported, `Instance ${id} is ${target.state}; start it, or wait until it is running or stopped, and retry.`);
  }

  const online = isManagedOnline(target);
  const { method, fallback } = chooseMethod(request, target, online);
  if (method === 'online') {
    return buildPlan(request, target, execution, config, {
      method,
      helperSubnetId: '',
      helperInstanceType: '',
      manageStandby: false,
      consequences: [
        `EC2Rescue runs on the running instance ${id} through Run Command (AWSSupport-RunEC2RescueForWindowsTool ResetAccess); the instance is not stopped.`,
        `It sets a new random Administrator password and stores it, encrypted with ${config.onlineKmsKey}, in the SSM parameter /EC2Rescue/Passwords/${id}; read it from there and change it after signing in.`,
      ],
    });
  }

  // Offline: the instance is stopped and its root volume moved to a helper and back.
  const consequences: string[] = fallback ? [fallback] : [];
  if (target.rootDeviceType !== 'ebs' || !target.rootVolume) {
    throw blocker(ERRORS.rootNotEbs, `Instance ${id} has an instance-store root device, which cannot be detached; only the online method (an SSM-managed, running instance) can reset it.`);
  }
  if (target.instanceLifecycle === 'spot') {
    throw blocker(ERRORS.spotInstance, `Instance ${id} is a Spot Instance, which may not be stopped and started safely; make the instance SSM-managed and use the online method.`);
  }
  const marketplace = target.productCodes.filter(p => p.type === 'marketplace');
  if (marketplace.length > 0) {
    throw blocker(ERRORS.marketplaceProductCode, `Instance ${id} carries the AWS Marketplace product code ${marketplace.map(p => p.id).join(', ')}, whose volume can only attach to its own instance; use the online method instead.`);
  }
  if (target.shutdownBehavior !== 'stop') {
    throw blocker(ERRORS.shutdownBehaviorTerminate, `Instance ${id} terminates when shut down (InstanceInitiatedShutdownBehavior=${target.shutdownBehavior ?? 'unknown'}); set it to stop (aws ec2 modify-instance-attribute --instance-id ${id} --instance-initiated-shutdown-behavior stop) and retry.`);
  }
  if (!target.keyName && !request.passwordEnabledAmi) {
    throw blocker(ERRORS.noKeyPair, `Instance ${id} was launched without a key pair, so Windows cannot post a password that GetPasswordData returns ("Cannot retrieve Windows password"); set passwordEnabledAmi to get an image to launch with a new key pair, or make the instance SSM-managed and use the online method.`);
  }
  const root = target.rootVolume;
  if (!keyAllowed(root, config)) {
    throw blocker(ERRORS.encryptedRootKeyNotAllowed, `The root volume ${root.volumeId} of ${id} is encrypted with the KMS key ${root.kmsKeyId}, which this workflow may not use; add that key ARN to the ResetWorkflow's allowed volume keys and redeploy.`);
  }
  // Starting the instance again needs every attached volume's key, not only the root's.
  const blocked = (target.dataVolumes ?? []).filter(v => !keyAllowed(v, config));
  if (blocked.length > 0) {
    const list = blocked.map(v => `${v.volumeId} (${v.deviceName}, key ${v.kmsKeyId})`).join(', ');
    throw blocker(ERRORS.encryptedVolumeKeyNotAllowed, `Instance ${id} has volumes encrypted with KMS keys this workflow may not use, so it could not be started again: ${list}; add those key ARNs to the ResetWorkflow's allowed volume keys and redeploy, or detach those volumes first.`);
  }
  const helperSubnetId = config.subnetsByAz[target.availabilityZone];
  if (!helperSubnetId) {
    throw blocker(ERRORS.azNotCovered, `Instance ${id} is in ${target.availabilityZone}, where the rescue VPC has no helper subnet; add a subnet in ${target.availabilityZone} to the rescue VPC (or its availability zones) and redeploy.`);
  }
  const helperInstanceType = chooseHelperInstanceType(config.helperInstanceTypes, target.helperInstanceTypesOffered);
  if (!helperInstanceType) {
    throw blocker(ERRORS.helperInstanceTypeNotOffered, `None of the helper instance types ${config.helperInstanceTypes.join(', ')} is offered in ${target.availabilityZone}, where the helper must run (the target's AZ); set the ResetWorkflow's helperInstanceType to a type offered there (aws ec2 describe-instance-type-offerings --location-type availability-zone --filters Name=location,Values=${target.availabilityZone}) and redeploy.`);
  }
  if (helperInstanceType !== config.helperInstanceTypes[0]) {
    consequences.push(`The helper is a ${helperInstanceType}: ${config.helperInstanceTypes[0]} is not offered in ${target.availabilityZone}.`);
  }
  const { manageStandby, minSizeLowering } = planStandby(request, target, config, consequences);
  const missing: string[] = [];
  if (target.autoAssignedPublicIps.length > 0) {
    if (request.acknowledge.includes('public-ip-release')) {
      consequences.push(`Its auto-assigned public IPv4 address ${target.autoAssignedPublicIps.join(', ')} is released by the stop; it gets a different one when it starts.`);
    } else {
      missing.push(`"public-ip-release" (its public IPv4 address ${target.autoAssignedPublicIps.join(', ')} changes)`);
    }
  }
  if (target.hasInstanceStore) {
    if (request.acknowledge.includes('instance-store-data-loss')) {
      consequences.push('The data on its instance-store volumes is erased by the stop.');
    } else {
      missing.push('"instance-store-data-loss" (the data on its instance-store volumes is erased)');
    }
  }
  if (missing.length > 0) {
    throw blocker(ERRORS.acknowledgementRequired, `Stopping ${id} loses something: add ${missing.join(' and ')} to acknowledge, or use the online method.`);
  }

  const backupName = backupImageName(config.imageNamePrefix, id, execution.startTime);
  const postName = passwordEnabledImageName(config.imageNamePrefix, id, execution.startTime);
  consequences.unshift(
    target.state === 'running'
      ? `Instance ${id} is stopped, its root volume ${root.volumeId} is attached to a helper instance where EC2Rescue enables password generation, then reattached, and the instance is started again; a new password is generated at boot and read with GetPasswordData and the instance's key pair.`
      : `Instance ${id} stays stopped; its root volume ${root.volumeId} is attached to a helper instance where EC2Rescue enables password generation, then reattached; a new password is generated at its next start.`,
    config.backupImageRetentionDays === undefined
      ? `A backup image ${backupName} is created before the volume is touched; it is kept, so deregister it (and delete its snapshots) when you no longer need it.`
      : `A backup image ${backupName} is created before the volume is touched; if the reset succeeds it is deregistered (and its snapshots deleted) ${config.backupImageRetentionDays} days later, otherwise it is kept until you delete it.`,
    // AWS's EC2Launch v2 guide: resetting the password this way makes EC2Launch v2 run every task whose frequency is `once` again.
    'If the instance runs EC2Launch v2, its next boot runs every task set to run once again, not only the password (EC2Launch v2 resets the password that way): user data and scripts configured to run once run a second time.',
  );
  consequences.push(...offlineStopConsequences(id, target.state === 'running'));
  if (!target.keyName) {
    consequences.push(`Instance ${id} has no key pair, so GetPasswordData will not return its new password and the workflow does not wait for it; launch the password-enabled image with a new key pair to sign in.`);
  }
  if (request.passwordEnabledAmi) {
    consequences.push(`A password-enabled image ${postName} is created after the fix; launch it with a new key pair if the key pair is lost.`);
  }
  return buildPlan(request, target, execution, config, {
    method, helperSubnetId, helperInstanceType, manageStandby, consequences, ...(minSizeLowering ? { minSizeLowering } : {}),
  });
}

/** A volume the workflow may have EC2 use: unencrypted, or with an AWS managed key, or an allowed customer key. */
function keyAllowed(volume: VolumeEncryption, config: WorkflowConfig): boolean {
  if (!volume.encrypted || !volume.kmsKeyId) return true;
  return config.allowedVolumeKeyArns.includes(volume.kmsKeyId) || volume.kmsKeyManager === 'AWS';
}

/**
 * Auto Scaling: whether the workflow puts the instance into Standby, and whether it must lower the
 * group's MinSize for that. EnterStandby and ExitStandby are authorized on the group's tags (so an
 * untagged group is refused here, before anything changes), and EnterStandby with the desired
 * capacity decremented is refused when the capacity would drop below MinSize (EnterStandby's API
 * reference), which is every single-instance group.
 */
function planStandby(
  request: ValidRequest, target: TargetFacts, config: WorkflowConfig, consequences: string[],
): { manageStandby: boolean; minSizeLowering?: { from: number; to: number } } {
  if (!target.autoScaling) return { manageStandby: false };
  const id = target.instanceId;
  const { groupName, lifecycleState, group } = target.autoScaling;
  if (lifecycleState === 'Standby') {
    consequences.push(`Instance ${id} is already in Standby in the Auto Scaling group ${groupName}; it stays in Standby.`);
    return { manageStandby: false };
  }
  if (lifecycleState !== 'InService') {
    throw blocker(ERRORS.autoScalingMember, `Instance ${id} is ${lifecycleState} in the Auto Scaling group ${groupName}; retry once it is InService or in Standby.`);
  }
  if (config.targetTag && !config.targetTag.values.includes(group?.tags[config.targetTag.key] ?? '')) {
    const { key, values } = config.targetTag;
    throw blocker(ERRORS.autoScalingGroupNotAllowed, `Instance ${id} is in the Auto Scaling group ${groupName}, which lacks the tag ${key}=${values[0]} that lets this workflow put its instances into Standby and back; tag the group (aws autoscaling create-or-update-tags --tags ResourceId=${groupName},ResourceType=auto-scaling-group,Key=${key},Value=${values[0]},PropagateAtLaunch=false), or put the instance into Standby yourself.`);
  }
  if (!request.acknowledge.includes('auto-scaling-standby')) {
    throw blocker(ERRORS.autoScalingMember, `Instance ${id} is in the Auto Scaling group ${groupName}, which would replace it when stopped; add "auto-scaling-standby" to acknowledge so it is put into Standby and back, or put it into Standby yourself.`);
  }
  consequences.push(`Instance ${id} is put into Standby in the Auto Scaling group ${groupName} (its desired capacity drops by one) and returned to InService afterwards.`);
  if (!group || group.desiredCapacity - 1 >= group.minSize) return { manageStandby: true };

  const from = group.minSize;
  const to = group.desiredCapacity - 1;
  if (!request.acknowledge.includes('auto-scaling-min-size')) {
    throw blocker(ERRORS.autoScalingGroupAtMinimum, `The Auto Scaling group ${groupName} of ${id} is at its minimum size (MinSize ${from}, desired capacity ${group.desiredCapacity}), so Standby with the capacity decremented is refused; add "auto-scaling-min-size" to acknowledge so the workflow lowers MinSize to ${to} for the reset and raises it back afterwards, or lower MinSize yourself, or put the instance into Standby yourself.`);
  }
  consequences.push(`The MinSize of ${groupName} is lowered from ${from} to ${to} for the reset (journaled) and raised back to ${from} after the instance is InService again, unless someone changes it meanwhile.`);
  return { manageStandby: true, minSizeLowering: { from, to } };
}

function buildPlan(
  request: ValidRequest, target: TargetFacts, execution: ExecutionFacts, config: WorkflowConfig,
  decided: {
    method: 'online' | 'offline';
    helperSubnetId: string;
    helperInstanceType: string;
    manageStandby: boolean;
    minSizeLowering?: { from: number; to: number };
    consequences: string[];
  },
): ResetPlan {
  const id = target.instanceId;
  const targetWindowsVersion = windowsVersionOf(target.image?.name, target.image?.description);
  return {
    instanceId: id,
    method: decided.method,
    dryRun: request.dryRun,
    executionArn: execution.executionArn,
    executionName: execution.executionName,
    availabilityZone: target.availabilityZone,
    helperSubnetId: decided.helperSubnetId,
    originalState: target.state as 'running' | 'stopped',
    rootDeviceName: target.rootDeviceName,
    rootVolumeId: target.rootVolume?.volumeId ?? '',
    rootDeleteOnTermination: target.rootVolume?.deleteOnTermination ?? false,
    ...(target.autoScaling ? { autoScalingGroupName: target.autoScaling.groupName } : {}),
    manageStandby: decided.manageStandby,
    ...(decided.minSizeLowering ? { minSizeLowering: decided.minSizeLowering } : {}),
    ...(target.keyName ? { keyName: target.keyName } : {}),
    helperInstanceType: decided.helperInstanceType,
    passwordEnabledAmi: decided.method === 'offline' && request.passwordEnabledAmi,
    backupImageName: backupImageName(config.imageNamePrefix, id, execution.startTime),
    passwordEnabledImageName: passwordEnabledImageName(config.imageNamePrefix, id, execution.startTime),
    ...(targetWindowsVersion ? { targetWindowsVersion } : {}),
    consequences: decided.consequences,
  };
}

function isWindows(target: TargetFacts): boolean {
  return target.platform?.toLowerCase() === 'windows' || /^windows/i.test(target.platformDetails ?? '');
}

/** SSM-managed, its agent `Online` and reporting Windows: the online method can run. */
function isManagedOnline(target: TargetFacts): boolean {
  return target.state === 'running' && target.ssm?.pingStatus === 'Online' && target.ssm.platformType === 'Windows';
}

/**
 * The method, and why `auto` fell back to offline for an instance the online method could have run
 * on (its role may not store the password). `online` on such an instance is refused.
 */
function chooseMethod(request: ValidRequest, target: TargetFacts, online: boolean): { method: 'online' | 'offline'; fallback?: string } {
  const store = target.onlinePasswordStore;
  switch (request.method) {
    case 'online':
      if (!online) {
        const why = target.state !== 'running'
          ? `is ${target.state}`
          : target.ssm ? `is ${target.ssm.pingStatus} in Systems Manager` : 'is not managed by Systems Manager';
        throw blocker(ERRORS.notManagedOnline, `Instance ${target.instanceId} ${why}, so the online method cannot run; start it and make its SSM agent Online, or use method offline.`);
      }
      if (store && !store.allowed) {
        throw blocker(ERRORS.instanceRoleCannotStorePassword, `Instance ${target.instanceId} cannot be reset online: ${store.reason}, or use method offline.`);
      }
      return { method: 'online' };
    case 'offline':
      return { method: 'offline' };
    default:
      if (online && store && !store.allowed) {
        return { method: 'offline', fallback: `Method auto chose offline although ${target.instanceId} is managed by Systems Manager: ${store.reason} to let the online method run.` };
      }
      return { method: online ? 'online' : 'offline' };
  }
}
