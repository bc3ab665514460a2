/**
 * EBS encryption of new volumes: the account's encryption by default and its default KMS key
 * (GetEbsEncryptionByDefault, GetEbsDefaultKmsKeyId), which key a volume launched by RunInstances
 * gets, and whether EC2 can use that key on the caller's behalf (a launch whose key it cannot use
 * ends with the instance terminated at launch).
 */
import type { Operations, SimulatedAccount } from './account';
import { findKeyOrUndefined, type SimKey } from './kms';

/** The account's EBS encryption settings in this Region. */
export interface EbsEncryptionSettings {
  /** EncryptionByDefault: every new volume is encrypted. */
  encryptByDefault: boolean;
  /** The default key (id, ARN or alias) for encryption by default and for `Encrypted: true` without `KmsKeyId`. */
  defaultKmsKeyId: string;
}

/** What a new volume gets: encrypted or not, with which key (absent: the key named does not exist). */
export interface NewVolumeEncryption {
  readonly encrypted: boolean;
  readonly key?: SimKey;
  /** The key as it was named (for messages). */
  readonly keyName?: string;
}

// EC2 API Reference, ModifyEbsDefaultKmsKeyId (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyEbsDefaultKmsKeyId.html):
// "AWS creates a unique AWS managed KMS key in each Region for use with encryption by default. If you
// change the default KMS key to a symmetric customer managed KMS key, it is used instead of the AWS
// managed KMS key." Until then the default is the AWS managed key, alias/aws/ebs.
export const AWS_MANAGED_EBS_KEY_ALIAS = 'alias/aws/ebs';

/**
 * The encryption of a volume RunInstances creates from a block device mapping's `Ebs`.
 * EC2 API Reference, EbsBlockDevice (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EbsBlockDevice.html):
 * KmsKeyId is the "Identifier (key ID, key alias, key ARN, or alias ARN) of the customer managed KMS
 * key to use for EBS encryption", supported "on BlockDeviceMapping objects called by ... RunInstances";
 * without it an encrypted volume gets the account's default key. With encryption by default on, the
 * volume is encrypted whatever the mapping says (Amazon EBS User Guide, "Enable Amazon EBS encryption by default",
 * https://docs.aws.amazon.com/ebs/latest/userguide/encryption-by-default.html).
 */
export function newVolumeEncryption(account: SimulatedAccount, ebs: { Encrypted?: boolean; KmsKeyId?: string } | undefined): NewVolumeEncryption {
  const settings = account.ebsEncryption;
  const encrypted = ebs?.Encrypted === true || settings.encryptByDefault;
  if (!encrypted) return { encrypted: false };
  const keyName = ebs?.KmsKeyId ?? settings.defaultKmsKeyId;
  return { encrypted: true, key: findKeyOrUndefined(account, keyName), keyName };
}

/**
 * Whether EC2 can use the key for the caller's new volume (create the grant, generate the data key).
 * - AWS managed keys: KMS Developer Guide, "Permissions for AWS services in key policies"
 *   (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-services.html): "When a service uses
 *   AWS owned keys or AWS managed keys, the service establishes and maintains the key policies for these
 *   KMS keys." The policy of aws/ebs lets every principal of the account use it through EC2.
 * - Customer managed keys: the same guide, "you set and maintain the key policy. That key policy must allow
 *   the service the minimum permissions that it requires". assumption: the account does not evaluate IAM
 *   here (issue 12 adds it), so a customer key is usable through EC2 only when the test says its policy
 *   allows the account's principals (`usableThroughEc2`); the workflow's launch role has no KMS statement
 *   (src/workflow/private/policies.ts, launchHelper), so it can never use one that is not.
 */
export function ec2CanUseKey(key: SimKey | undefined): boolean {
  if (!key) return false;
  return key.manager === 'AWS' || key.usableThroughEc2 === true;
}

/**
 * How a launch whose volume key EC2 cannot use ends: pending, then shutting-down, then terminated.
 * AWS Knowledge Center, "When I start my instance with encrypted volumes attached, the instance immediately
 * stops with the error 'client error on launch'" (https://aws.amazon.com/premiumsupport/knowledge-center/encrypted-volumes-stops-immediately/)
 * shows the terminated instance's StateReason `Client.InternalError: Client error on launch`; its companion
 * "Why can't my IAM user or role with full Amazon EC2 permissions start an EC2 instance?"
 * (https://repost.aws/knowledge-center/kms-iam-ec2-permission) says this error "might mean that you encrypted
 * the root volume or additional attached volumes. You don't have permission to access the AWS KMS key".
 * EC2 API Reference, StateReason (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StateReason.html): "Client.InternalError: A client error caused the instance to terminate during
 * launch." ModifyEbsDefaultKmsKeyId's reference adds: "If you delete or disable the customer managed KMS key that you
 * specified for use with encryption by default, your instances will fail to launch."
 */
export const LAUNCH_FAILURE_KMS = { code: 'Client.InternalError', message: 'Client.InternalError: Client error on launch' } as const;

export const EBS_ENCRYPTION_OPERATIONS: Operations = {
  // EC2 API Reference, GetEbsEncryptionByDefault (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetEbsEncryptionByDefault.html):
  // "Describes whether EBS encryption by default is enabled for your account in the current Region."
  // assumption: SseType `sse-ebs` (the reference's value for EBS-managed encryption; nothing here reads it).
  GetEbsEncryptionByDefault(account) {
    return { EbsEncryptionByDefault: account.ebsEncryption.encryptByDefault, SseType: 'sse-ebs' };
  },

  // EC2 API Reference, GetEbsDefaultKmsKeyId (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetEbsDefaultKmsKeyId.html):
  // "Describes the default KMS key for EBS encryption by default for your account in this Region."
  // assumption: it answers the key's ARN (an alias resolved to its key), as the CLI shows it.
  GetEbsDefaultKmsKeyId(account) {
    const key = findKeyOrUndefined(account, account.ebsEncryption.defaultKmsKeyId);
    return { KmsKeyId: key?.arn ?? account.ebsEncryption.defaultKmsKeyId };
  },
};
