import { SimulatedAccount } from './account';
import { accountHelpers, errorOf, newSimulatedAccount } from './fixture';

/**
 * KMS: AWS managed and customer managed keys, found by id, ARN or alias.
 */
describe('simulated account: KMS', () => {
  let account: SimulatedAccount;
  beforeEach(() => {
    account = newSimulatedAccount();
  });
  const { call } = accountHelpers(() => account);

  describe('KMS', () => {
    test('DescribeKey tells AWS managed keys (by alias or ARN) from customer keys; unknown keys fail (NotFoundException)', () => {
      const customer = account.addCustomerKey();
      expect(call('kms', 'DescribeKey', { KeyId: 'alias/aws/ebs' }).KeyMetadata.KeyManager).toBe('AWS');
      expect(call('kms', 'DescribeKey', { KeyId: customer.arn }).KeyMetadata.KeyManager).toBe('CUSTOMER');
      expect(errorOf(() => call('kms', 'DescribeKey', { KeyId: 'alias/nope' }))).toBe('NotFoundException');
    });
  });
});
