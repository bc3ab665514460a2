import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeImagesCommand, DescribeInstanceAttributeCommand, DescribeInstanceTypesCommand, DescribeVolumesCommand, Instance, _InstanceType,
  paginateDescribeInstanceTypeOfferings,
} from '@aws-sdk/client-ec2';
import { GetInstanceProfileCommand, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { DescribeInstanceInformationCommand } from '@aws-sdk/client-ssm';
import { dynamodb, ec2, iam, kms, ssm } from '../private/clients';
import { workflowConfig } from '../private/config';
import { PreflightEvent, ResetPlan, WorkflowConfig } from '../private/contracts';
import { describeAutoScaling, describeAutoScalingGroup, describeInstance } from '../private/describe';
import { sameDevice } from '../private/device-names';
import { isAwsError } from '../private/errors';
import { lockKey, unmarshalLockItem } from '../private/journal';
import { stepLogger } from '../private/logger';
import {
  arnContextOf, instanceProfileNameOf, noInstanceProfile, OnlinePermission, passwordStoreChecks, permissionFromSimulation,
} from '../private/online-permission';
import { planReset, TargetFacts, VolumeEncryption } from '../private/preflight-rules';
import { validateRequest } from '../private/request';

const logger = stepLogger('preflight');

/**
 * DESIGN.md §3 step 1: validates the input, looks at the instance (read-only), and returns
 * the plan, or fails with the first blocker's named error. Changes nothing.
 */
export async function handler(event: PreflightEvent): Promise<ResetPlan> {
  const request = validateRequest(event?.request);
  const config = workflowConfig();
  logger.appendKeys({ instanceId: request.instanceId, executionName: event.executionName });

  const observed = await observeTarget(request.instanceId, config);
  // Only when the online method could run (asked for, or auto) on an instance that is Online in SSM.
  const facts = request.method !== 'offline' && observed.instance && observed.facts.ssm?.pingStatus === 'Online'
    ? { ...observed.facts, onlinePasswordStore: await onlinePasswordStoreOf(observed.instance, config, event.executionArn) }
    : observed.facts;
  const plan = planReset(request, facts, {
    executionArn: event.executionArn,
    executionName: event.executionName,
    startTime: event.startTime,
    nowEpochSeconds: Math.floor(Date.now() / 1000),
  }, config);
  logger.info('Reset planned', { method: plan.method, dryRun: plan.dryRun, originalState: plan.originalState, consequences: plan.consequences });
  return plan;
}

async function observeTarget(instanceId: string, config: WorkflowConfig): Promise<{ facts: TargetFacts; instance?: Instance }> {
  const instance = await describeInstance(instanceId);
  const state = instance.State?.Name ?? 'unknown';
  const availabilityZone = instance.Placement?.AvailabilityZone ?? '';
  const base = {
    instanceId,
    state,
    platform: instance.Platform,
    platformDetails: instance.PlatformDetails,
    rootDeviceType: instance.RootDeviceType ?? 'unknown',
    rootDeviceName: instance.RootDeviceName ?? '',
    instanceLifecycle: instance.InstanceLifecycle,
    productCodes: (instance.ProductCodes ?? []).map(p => ({ id: p.ProductCodeId ?? '', type: p.ProductCodeType ?? '' })),
    availabilityZone,
    tags: Object.fromEntries((instance.Tags ?? []).map(t => [t.Key ?? '', t.Value ?? ''])),
    ...(instance.KeyName ? { keyName: instance.KeyName } : {}),
    autoAssignedPublicIps: autoAssignedPublicIps(instance),
    hasInstanceStore: false,
    helperInstanceTypesOffered: [],
  };
  if (state === 'terminated' || state === 'shutting-down') return { facts: base };

  const [shutdownBehavior, volumes, hasInstanceStore, autoScaling, ssmInfo, image, lock, helperInstanceTypesOffered] = await Promise.all([
    shutdownBehaviorOf(instanceId),
    volumesOf(instance),
    instance.InstanceType ? instanceStoreOf(instance.InstanceType) : Promise.resolve(false),
    autoScalingOf(instanceId),
    ssmRegistrationOf(instanceId),
    instance.ImageId ? imageOf(instance.ImageId) : Promise.resolve(undefined),
    lockOf(config.lockTableName, instanceId),
    offeredInstanceTypes(config.helperInstanceTypes, availabilityZone),
  ]);
  const facts = { ...base, shutdownBehavior, ...volumes, hasInstanceStore, autoScaling, ssm: ssmInfo, image, lock, helperInstanceTypesOffered };
  return { facts, instance };
}

/**
 * Whether the instance's role may store the online method's password: IAM's policy simulator on the
 * role of its instance profile (online-permission.ts says what is asked and why).
 */
async function onlinePasswordStoreOf(instance: Instance, config: WorkflowConfig, executionArn: string): Promise<OnlinePermission> {
  const profileArn = instance.IamInstanceProfile?.Arn;
  if (!profileArn) return noInstanceProfile();
  const profile = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: instanceProfileNameOf(profileArn) }));
  const roleArn = profile.InstanceProfile?.Roles?.[0]?.Arn;
  if (!roleArn) return noInstanceProfile();
  const key = await keyOf(config.onlineKmsKey);
  const checks = passwordStoreChecks(instance.InstanceId ?? '', arnContextOf(executionArn), key?.manager === 'CUSTOMER' ? key.arn : undefined);
  const results = [];
  for (const check of checks) {
    // One action on its own resource per call: the simulator crosses every action with every resource.
    const out = await iam.send(new SimulatePrincipalPolicyCommand({
      PolicySourceArn: roleArn, ActionNames: [check.action], ResourceArns: [check.resource],
    }));
    results.push(...(out.EvaluationResults ?? []));
  }
  const permission = permissionFromSimulation(roleArn, results);
  logger.info('Online password store checked', { roleArn, allowed: permission.allowed });
  return permission;
}

/** Public IPv4 addresses owned by Amazon (auto-assigned): a stop releases them. Elastic IPs stay. */
export function autoAssignedPublicIps(instance: Instance): string[] {
  const ips = new Set<string>();
  for (const eni of instance.NetworkInterfaces ?? []) {
    for (const address of eni.PrivateIpAddresses ?? []) {
      if (address.Association?.IpOwnerId === 'amazon' && address.Association.PublicIp) ips.add(address.Association.PublicIp);
    }
    if (eni.Association?.IpOwnerId === 'amazon' && eni.Association.PublicIp) ips.add(eni.Association.PublicIp);
  }
  return [...ips];
}

async function shutdownBehaviorOf(instanceId: string): Promise<string | undefined> {
  const out = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'instanceInitiatedShutdownBehavior' }));
  return out.InstanceInitiatedShutdownBehavior?.Value;
}

/**
 * The root volume and every other attached EBS volume with its encryption key and the key's
 * manager (starting the instance again needs each key), in one DescribeVolumes call.
 */
async function volumesOf(instance: Instance): Promise<Pick<TargetFacts, 'rootVolume' | 'dataVolumes'>> {
  const mappings = (instance.BlockDeviceMappings ?? []).filter(m => m.Ebs?.VolumeId);
  if (mappings.length === 0) return { dataVolumes: [] };
  const out = await ec2.send(new DescribeVolumesCommand({ VolumeIds: mappings.map(m => m.Ebs!.VolumeId!) }));
  const keys = [...new Set((out.Volumes ?? []).filter(v => v.Encrypted && v.KmsKeyId).map(v => v.KmsKeyId!))];
  const managers = new Map(await Promise.all(keys.map(async key => [key, await keyManagerOf(key)] as const)));
  const encryption = (volumeId: string): VolumeEncryption => {
    const volume = out.Volumes?.find(v => v.VolumeId === volumeId);
    const manager = volume?.KmsKeyId ? managers.get(volume.KmsKeyId) : undefined;
    return {
      volumeId,
      encrypted: volume?.Encrypted ?? false,
      ...(volume?.KmsKeyId ? { kmsKeyId: volume.KmsKeyId } : {}),
      ...(manager ? { kmsKeyManager: manager } : {}),
    };
  };
  const root = mappings.find(m => sameDevice(m.DeviceName, instance.RootDeviceName));
  return {
    ...(root ? { rootVolume: { ...encryption(root.Ebs!.VolumeId!), deleteOnTermination: root.Ebs!.DeleteOnTermination ?? false } } : {}),
    dataVolumes: mappings.filter(m => m !== root).map(m => ({ ...encryption(m.Ebs!.VolumeId!), deviceName: m.DeviceName ?? '' })),
  };
}

/** Membership, and the group's MinSize, MaxSize, DesiredCapacity and tags (EnterStandby's checks). */
async function autoScalingOf(instanceId: string): Promise<TargetFacts['autoScaling']> {
  const member = await describeAutoScaling(instanceId);
  if (!member) return undefined;
  const group = await describeAutoScalingGroup(member.groupName);
  return { ...member, ...(group ? { group } : {}) };
}

/**
 * Which of the helper's instance types are offered in the AZ (DescribeInstanceTypeOfferings with
 * LocationType availability-zone; a type not offered there fails RunInstances with Unsupported).
 */
async function offeredInstanceTypes(types: string[], availabilityZone: string): Promise<string[]> {
  const offered: string[] = [];
  const pages = paginateDescribeInstanceTypeOfferings({ client: ec2 }, {
    LocationType: 'availability-zone',
    Filters: [{ Name: 'location', Values: [availabilityZone] }, { Name: 'instance-type', Values: types }],
  });
  for await (const page of pages) {
    for (const offering of page.InstanceTypeOfferings ?? []) if (offering.InstanceType) offered.push(offering.InstanceType);
  }
  return offered;
}

/**
 * `AWS` for AWS managed keys (aws/ebs), which EC2 may always use on the caller's behalf;
 * `CUSTOMER` for customer managed keys, which must be among the allowed ones. A key whose
 * policy does not let this account describe it is treated as unknown, so only an explicit
 * allow-list entry admits it.
 */
async function keyManagerOf(keyId: string): Promise<string | undefined> {
  return (await keyOf(keyId))?.manager;
}

/** The key's manager and ARN, or undefined when it cannot be described. */
async function keyOf(keyId: string): Promise<{ manager?: string; arn?: string } | undefined> {
  try {
    const out = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    return { manager: out.KeyMetadata?.KeyManager, arn: out.KeyMetadata?.Arn };
  } catch (err) {
    if (isAwsError(err, 'AccessDeniedException', 'NotFoundException', 'KMSInvalidStateException')) {
      logger.warn('Could not describe a KMS key; a volume encrypted with it must use an allowed key', { keyId, error: (err as Error).name });
      return undefined;
    }
    throw err;
  }
}

async function instanceStoreOf(instanceType: _InstanceType): Promise<boolean> {
  const out = await ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: [instanceType] }));
  return out.InstanceTypes?.[0]?.InstanceStorageSupported ?? false;
}

async function ssmRegistrationOf(instanceId: string): Promise<TargetFacts['ssm']> {
  const out = await ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] }));
  const info = out.InstanceInformationList?.find(i => i.InstanceId === instanceId);
  return info ? { pingStatus: info.PingStatus ?? 'unknown', ...(info.PlatformType ? { platformType: info.PlatformType } : {}) } : undefined;
}

async function imageOf(imageId: string): Promise<TargetFacts['image']> {
  try {
    const out = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
    const image = out.Images?.[0];
    return image ? { name: image.Name, description: image.Description } : undefined;
  } catch (err) {
    // A deregistered or no longer shared AMI: the Windows version is then unknown.
    if (isAwsError(err, 'InvalidAMIID.NotFound', 'InvalidAMIID.Unavailable', 'InvalidAMIID.Malformed')) return undefined;
    throw err;
  }
}

async function lockOf(tableName: string, instanceId: string): Promise<TargetFacts['lock']> {
  const out = await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: lockKey(instanceId), ConsistentRead: true }));
  const item = unmarshalLockItem(out.Item);
  return item ? { executionArn: item.executionArn, expiresAtEpochSeconds: item.expiresAt } : undefined;
}

