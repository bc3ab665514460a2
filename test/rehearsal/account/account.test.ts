import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { SimulatedAccount } from './account';
import { accountHelpers, errorOf, newSimulatedAccount } from './fixture';
import { routeSdkToAccount } from '../sdk-routing';

/**
 * The account itself: routing of the real SDK clients, operations it does not model, the fault
 * hook and the call log.
 */
describe('simulated account', () => {
  let account: SimulatedAccount;
  beforeEach(() => {
    account = newSimulatedAccount();
  });
  const { call, ec2 } = accountHelpers(() => account);

  describe('routing and faults', () => {
    test('the real SDK client reaches the account; an operation it does not model fails loudly', async () => {
      const unroute = routeSdkToAccount(account);
      try {
        const { instanceId } = account.addInstance();
        const out = await new EC2Client({ region: 'us-east-1' }).send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
        expect(out.Reservations![0].Instances![0].InstanceId).toBe(instanceId);
        expect(() => call('ec2', 'AllocateAddress')).toThrow(/does not implement ec2:AllocateAddress/);
      } finally {
        unroute();
      }
    });

    test('a fault hook fails the calls it chooses, and every call is recorded with its caller', () => {
      account.fault = ({ operation }) => (operation === 'DescribeVolumes' ? Object.assign(new Error('Rate exceeded'), { name: 'RequestLimitExceeded' }) : undefined);
      account.context = { execution: 'e1', state: 'S' };
      expect(errorOf(() => ec2('DescribeVolumes'))).toBe('RequestLimitExceeded');
      ec2('DescribeInstances');
      expect(account.calls.map(c => [c.operation, c.error, c.context.state])).toEqual([['DescribeVolumes', 'RequestLimitExceeded', 'S'], ['DescribeInstances', undefined, 'S']]);
      expect(account.mutations()).toEqual([]);
    });
  });
});
