/**
 * KMS keys as the preflight sees them: AWS managed or customer managed, found by id, ARN or alias,
 * each with its key policy (what IAM evaluates as the key's resource policy, iam.ts).
 *
 * Documents quoted:
 * - [DK] KMS API Reference, DescribeKey (https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html).
 * - [DEF] KMS Developer Guide, "Default key policy" (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
 * - [AMK] KMS Developer Guide, "AWS KMS concepts", AWS managed keys
 *   (https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key).
 */
import type { Operations, SimulatedAccount } from './account';
import { awsError } from './errors';

export interface SimKey {
  readonly keyId: string;
  readonly arn: string;
  readonly manager: 'AWS' | 'CUSTOMER';
  readonly aliases: string[];
  /** A key policy a scenario sets; absent: the AWS managed key's policy, or the default key policy (keyPolicyOf). */
  readonly policy?: { Version: string; Statement: any[] };
  /** A customer managed key whose key policy lets the account's principals use it through EC2 (see ebs-encryption.ts). */
  readonly usableThroughEc2?: boolean;
}

/**
 * The key an identifier names. [DK] KeyId: "To specify a KMS key, use its key ID, key ARN, alias name, or
 * alias ARN. When using an alias name, prefix it with "alias/"" (so `alias/aws/ebs`, or
 * `arn:aws:kms:<region>:<account>:alias/aws/ebs`). assumption: the AWS managed keys of the simulated account
 * exist already (AWS creates one the first time its service needs it; [DK] "If you specify a predefined AWS
 * alias ..., KMS associates the alias with an AWS managed key").
 */
export function findKeyOrUndefined(account: SimulatedAccount, id: string): SimKey | undefined {
  const alias = id.match(/^arn:aws[\w-]*:kms:[^:]+:\d{12}:(alias\/.+)$/)?.[1];
  return account.keys.find(k => k.keyId === id || k.arn === id || k.aliases.includes(id) || (alias !== undefined && k.aliases.includes(alias)));
}

/**
 * The key's policy.
 * - Customer managed keys: [DEF]: the policy a key gets when none is given allows the account
 *   (`arn:aws:iam::<account>:root`) every KMS action, which "allows the account to use IAM policies to allow
 *   access to the KMS key": the caller's identity policy decides.
 * - AWS managed keys: [AMK] the AWS service that uses the key creates and manages it, its key policy
 *   included, which customers cannot change; the policy lets the account's principals use the key only through
 *   that service. The statements below are those aws/ebs carries (GetKeyPolicy shows them: every principal of
 *   the account through ec2.<region>.amazonaws.com, kms:CallerAccount and kms:ViaService, and the account
 *   reading its metadata); assumption: aws/ssm's has the same shape with ssm.<region>.amazonaws.com.
 */
export function keyPolicyOf(account: SimulatedAccount, key: SimKey): { name: string; document: { Version: string; Statement: any[] } } {
  const root = `arn:aws:iam::${account.accountId}:root`;
  if (key.policy) return { name: `key-policy/${key.keyId}`, document: key.policy };
  if (key.manager === 'CUSTOMER') {
    return {
      name: `default-key-policy/${key.keyId}`,
      document: { Version: '2012-10-17', Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: root }, Action: 'kms:*', Resource: '*' }] },
    };
  }
  const service = key.aliases.includes('alias/aws/ssm') ? 'ssm' : 'ec2';
  return {
    name: `aws-managed-key-policy/${key.keyId}`,
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'Allow access through the service for all principals in the account that are authorized to use it',
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:CreateGrant', 'kms:DescribeKey'],
          Resource: '*',
          Condition: { StringEquals: { 'kms:CallerAccount': account.accountId, 'kms:ViaService': `${service}.${account.region}.amazonaws.com` } },
        },
        { Sid: 'Allow direct access to key metadata to the account', Effect: 'Allow', Principal: { AWS: root }, Action: ['kms:Describe*', 'kms:Get*', 'kms:List*', 'kms:RevokeGrant'], Resource: '*' },
      ],
    },
  };
}

export const KMS_OPERATIONS: Operations = {
  /**
   * [DK] The key's metadata; NotFoundException "The request was rejected because the specified entity or resource
   * could not be found". assumption: every key of the sim is Enabled (the workflow does not disable keys).
   */
  DescribeKey(account, input) {
    const id = input.KeyId as string;
    const key = findKeyOrUndefined(account, id);
    if (!key) throw awsError('kms', 'NotFoundException', `Key '${id}' does not exist`);
    return { KeyMetadata: { KeyId: key.keyId, Arn: key.arn, KeyManager: key.manager, KeyState: 'Enabled', Enabled: true } };
  },
};

/**
 * Whether the workflow may have EC2 use the key on its behalf (starting an instance with a volume
 * encrypted with it). AWS managed keys (`aws/ebs`) are usable by every principal of the account ([AMK], and
 * keyPolicyOf: their key policy allows any principal of the account through the service);
 * a customer managed key only when the caller is allowed it, which `customerKeyAllowed` answers.
 * The rehearsal leaves it unset: there IAM decides at the call (iam/requests.ts, kmsOnBehalf, denies
 * the StartInstances itself); this rule models what AWS does when the call is accepted (the start
 * fails at boot), for a caller whose KMS rights the account does not evaluate. Calls outside an
 * execution are the account owner's, who may use every key.
 */
export function mayUseKey(account: SimulatedAccount, keyId: string): boolean {
  const key = findKeyOrUndefined(account, keyId);
  if (!key || key.manager === 'AWS') return true;
  if (!account.context.execution || !account.customerKeyAllowed) return true;
  return account.customerKeyAllowed(key.arn);
}
