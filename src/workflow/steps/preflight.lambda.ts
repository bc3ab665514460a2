import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeImagesCommand, DescribeInstanceAttributeCommand, DescribeInstanceTypesCommand, DescribeVolumesCommand, Instance, _InstanceType } from '@aws-sdk/client-ec2';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { DescribeInstanceInformationCommand } from '@aws-sdk/client-ssm';
import { dynamodb, ec2, kms, ssm } from '../private/clients';
import { workflowConfig } from '../private/config';
import { PreflightEvent, ResetPlan } from '../private/contracts';
import { describeAutoScaling, describeInstance } from '../private/describe';
import { sameDevice } from '../private/device-names';
import { isAwsError } from '../private/errors';
import { lockKey, unmarshalLockItem } from '../private/journal';
import { stepLogger } from '../private/logger';
import { planReset, TargetFacts } from '../private/preflight-rules';
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

  const facts = await observeTarget(request.instanceId, config.lockTableName);
  const plan = planReset(request, facts, {
    executionArn: event.executionArn,
    executionName: event.executionName,
    startTime: event.startTime,
    nowEpochSeconds: Math.floor(Date.now() / 1000),
  }, config);
  logger.info('Reset planned', { method: plan.method, dryRun: plan.dryRun, originalState: plan.originalState, consequences: plan.consequences });
  return plan;
}

async function observeTarget(instanceId: string, lockTableName: string): Promise<TargetFacts> {
  const instance = await describeInstance(instanceId);
  const state = instance.State?.Name ?? 'unknown';
  const base = {
    instanceId,
    state,
    platform: instance.Platform,
    platformDetails: instance.PlatformDetails,
    rootDeviceType: instance.RootDeviceType ?? 'unknown',
    rootDeviceName: instance.RootDeviceName ?? '',
    instanceLifecycle: instance.InstanceLifecycle,
    productCodes: (instance.ProductCodes ?? []).map(p => ({ id: p.ProductCodeId ?? '', type: p.ProductCodeType ?? '' })),
    availabilityZone: instance.Placement?.AvailabilityZone ?? '',
    tags: Object.fromEntries((instance.Tags ?? []).map(t => [t.Key ?? '', t.Value ?? ''])),
    autoAssignedPublicIps: autoAssignedPublicIps(instance),
    hasInstanceStore: false,
  };
  if (state === 'terminated' || state === 'shutting-down') return base;

  const rootMapping = instance.BlockDeviceMappings?.find(m => sameDevice(m.DeviceName, instance.RootDeviceName));
  const [shutdownBehavior, rootVolume, hasInstanceStore, autoScaling, ssmInfo, image, lock] = await Promise.all([
    shutdownBehaviorOf(instanceId),
    rootMapping?.Ebs?.VolumeId ? rootVolumeOf(rootMapping.Ebs.VolumeId, rootMapping.Ebs.DeleteOnTermination ?? false) : Promise.resolve(undefined),
    instance.InstanceType ? instanceStoreOf(instance.InstanceType) : Promise.resolve(false),
    describeAutoScaling(instanceId),
    ssmRegistrationOf(instanceId),
    instance.ImageId ? imageOf(instance.ImageId) : Promise.resolve(undefined),
    lockOf(lockTableName, instanceId),
  ]);
  return { ...base, shutdownBehavior, rootVolume, hasInstanceStore, autoScaling, ssm: ssmInfo, image, lock };
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

async function rootVolumeOf(volumeId: string, deleteOnTermination: boolean): Promise<TargetFacts['rootVolume']> {
  const out = await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }));
  const volume = out.Volumes?.[0];
  const kmsKeyManager = volume?.Encrypted && volume.KmsKeyId ? await keyManagerOf(volume.KmsKeyId) : undefined;
  return {
    volumeId,
    deleteOnTermination,
    encrypted: volume?.Encrypted ?? false,
    ...(volume?.KmsKeyId ? { kmsKeyId: volume.KmsKeyId } : {}),
    ...(kmsKeyManager ? { kmsKeyManager } : {}),
  };
}

/**
 * `AWS` for AWS managed keys (aws/ebs), which EC2 may always use on the caller's behalf;
 * `CUSTOMER` for customer managed keys, which must be among the allowed ones. A key whose
 * policy does not let this account describe it is treated as unknown, so only an explicit
 * allow-list entry admits it.
 */
async function keyManagerOf(keyId: string): Promise<string | undefined> {
  try {
    const out = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    return out.KeyMetadata?.KeyManager;
  } catch (err) {
    if (isAwsError(err, 'AccessDeniedException', 'NotFoundException', 'KMSInvalidStateException')) {
      logger.warn('Could not describe the root volume key; it must be an allowed key', { keyId, error: (err as Error).name });
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

