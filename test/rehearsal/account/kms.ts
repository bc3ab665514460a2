/**
 * KMS keys as the preflight sees them: AWS managed or customer managed, found by id, ARN or alias.
 */
import type { Operations, SimulatedAccount } from './account';
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

/**
 * Whether the workflow may have EC2 use the key on its behalf (starting an instance with a volume
 * encrypted with it). AWS managed keys (`aws/ebs`) are usable by every principal of the account (KMS
 * guide, AWS managed keys: their key policy allows any principal in the account through the service);
 * a customer managed key only when the caller is allowed it. Until the account evaluates IAM, that is
 * modelled by `customerKeyAllowed` (the rehearsal answers it from the workflow's allowed volume keys);
 * calls outside an execution are the account owner's, who may use every key.
 */
export function mayUseKey(account: SimulatedAccount, keyId: string): boolean {
  const key = account.keys.find(k => k.keyId === keyId || k.arn === keyId || k.aliases.includes(keyId));
  if (!key || key.manager === 'AWS') return true;
  if (!account.context.execution || !account.customerKeyAllowed) return true;
  return account.customerKeyAllowed(key.arn);
}
