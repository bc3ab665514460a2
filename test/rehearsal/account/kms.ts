/**
 * KMS keys as the preflight sees them: AWS managed or customer managed, found by id, ARN or alias.
 */
import type { Operations } from './account';
import { awsError } from './errors';

export interface SimKey {
  readonly keyId: string;
  readonly arn: string;
  readonly manager: 'AWS' | 'CUSTOMER';
  readonly aliases: string[];
  /** A customer managed key whose key policy lets the account's principals use it through EC2 (see ebs-encryption.ts). */
  readonly usableThroughEc2?: boolean;
}

export const KMS_OPERATIONS: Operations = {
  DescribeKey(account, input) {
    const id = input.KeyId as string;
    const key = account.keys.find(k => k.keyId === id || k.arn === id || k.aliases.includes(id));
    if (!key) throw awsError('kms', 'NotFoundException', `Key '${id}' does not exist`);
    return { KeyMetadata: { KeyId: key.keyId, Arn: key.arn, KeyManager: key.manager, KeyState: 'Enabled', Enabled: true } };
  },
};
