import { createHash } from 'node:crypto';
import type { RunInstancesCommandInput } from '@aws-sdk/client-ec2';
import { ResetPlan, TAGS, WorkflowConfig } from './contracts';

/** The first type, in order of preference, that is offered in the AZ; undefined when none is. */
export function chooseHelperInstanceType(preferred: readonly string[], offered: readonly string[]): string | undefined {
  return preferred.find(type => offered.includes(type));
}

/**
 * RunInstances' idempotency token for this execution's helper (at most 64 ASCII
 * characters): a retried launch returns the instance the first call started.
 */
export function helperClientToken(plan: Pick<ResetPlan, 'executionArn'>, config: Pick<WorkflowConfig, 'workflowId'>): string {
  return `helper-${createHash('sha256').update(`${config.workflowId}\n${plan.executionArn}`).digest('hex').slice(0, 48)}`;
}

/**
 * The key of the helper's root volume: the AWS managed key for EBS, named explicitly. Without a
 * KmsKeyId, EC2 encrypts with the account's default EBS key (ModifyEbsDefaultKmsKeyId: "If you change
 * the default KMS key to a symmetric customer managed KMS key, it is used instead of the AWS managed KMS
 * key"); the launch role has no right on such a key, and the helper would be terminated at launch
 * (Client.InternalError). EbsBlockDevice's KmsKeyId takes a "key ID, key alias, key ARN, or alias ARN"
 * (EC2 API Reference), and the policy of an AWS managed key is kept by its service, which lets the
 * account's principals use it through EC2 (KMS Developer Guide, "Permissions for AWS services in key
 * policies"). The helper's root holds nothing of the target's, so the AWS managed key is enough.
 */
export const HELPER_ROOT_KMS_KEY = 'alias/aws/ebs';

/** The tags of the helper instance and its volumes. */
export function helperTags(plan: ResetPlan, config: WorkflowConfig): { Key: string; Value: string }[] {
  return [
    { Key: 'Name', Value: `reset-access-helper-${plan.instanceId}` },
    { Key: TAGS.workflow, Value: config.workflowId },
    { Key: TAGS.role, Value: 'helper' },
    { Key: TAGS.target, Value: plan.instanceId },
    { Key: TAGS.execution, Value: plan.executionName },
  ];
}

/**
 * The helper's RunInstances request: in the rescue subnet of the target's AZ, with the
 * helper security group and instance profile, no public IP, IMDSv2 required, a root encrypted
 * with the AWS managed EBS key (whatever the account's default key is), terminated (not stopped) if it shuts itself down, tagged as this execution's helper.
 */
export function helperRunInstancesInput(
  plan: ResetPlan, config: WorkflowConfig, imageId: string, imageRootDeviceName: string,
): RunInstancesCommandInput {
  const tags = helperTags(plan, config);
  return {
    ImageId: imageId,
    // Chosen by the preflight among the types offered in the target's AZ.
    InstanceType: (plan.helperInstanceType || config.helperInstanceTypes[0]) as RunInstancesCommandInput['InstanceType'],
    MinCount: 1,
    MaxCount: 1,
    ClientToken: helperClientToken(plan, config),
    // SubnetId/SecurityGroupIds cannot be combined with NetworkInterfaces: the interface carries them.
    NetworkInterfaces: [{
      DeviceIndex: 0,
      SubnetId: plan.helperSubnetId,
      Groups: [config.helperSecurityGroupId],
      AssociatePublicIpAddress: false,
      DeleteOnTermination: true,
    }],
    IamInstanceProfile: { Arn: config.helperInstanceProfileArn },
    MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 },
    BlockDeviceMappings: [{
      DeviceName: imageRootDeviceName,
      Ebs: { Encrypted: true, KmsKeyId: HELPER_ROOT_KMS_KEY, DeleteOnTermination: true, VolumeType: 'gp3' },
    }],
    InstanceInitiatedShutdownBehavior: 'terminate',
    TagSpecifications: [
      { ResourceType: 'instance', Tags: tags },
      { ResourceType: 'volume', Tags: tags },
    ],
  };
}
