import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { SimulatedAccount } from './account';
import { accountHelpers, errorOf, newSimulatedAccount } from './fixture';
import { routeSdkToAccount } from '../sdk-routing';

/**
 * The account itself: routing of the real SDK clients, operations it does not model, the fault
 * and authorization hooks, and the call log.
 */
describe('simulated account', () => {
  let account: SimulatedAccount;
  beforeEach(() => {
    account = newSimulatedAccount();
  });
  const { call, ec2 } = accountHelpers(() => account);

  describe('routing, faults and authorization', () => {
    test('the real SDK client reaches the account; an operation it does not model fails loudly', async () => {
      const unroute = routeSdkToAccount(account);
      try {
        const { instanceId } = account.addInstance();
        const out = await new EC2Client({ region: 'us-east-1' }).send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
        expect(out.Reservations![0].Instances![0].InstanceId).toBe(instanceId);
        expect(() => call('ec2', 'AllocateAddress')).toThrow(/does not implement ec2:AllocateAddress/);
        // An operation table is a plain object: what it inherits is no operation.
        expect(() => call('ssm', 'toString')).toThrow(/does not implement ssm:toString/);
        expect(account.calls.map(c => c.error)).toEqual([undefined, 'Rehearsal.Unrouted', 'Rehearsal.Unrouted']);
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

    test('an authorize hook sees each call with its caller; a denied call does not run and is recorded with the denial', () => {
      // GIVEN a running instance and a hook that denies StopInstances to one state
      const { instanceId } = account.addInstance();
      const seen: string[] = [];
      account.authorize = ({ service, operation, input, context }) => {
        seen.push(`${context.state}:${service}:${operation}:${input.InstanceIds?.join(',')}`);
        return operation === 'StopInstances' && context.state === 'Untrusted'
          ? Object.assign(new Error('You are not authorized to perform this operation.'), { name: 'UnauthorizedOperation' })
          : undefined;
      };
      // WHEN that state stops it, then another state does
      account.context = { execution: 'e1', state: 'Untrusted' };
      const denied = errorOf(() => ec2('StopInstances', { InstanceIds: [instanceId] }));
      const stateAfterDenial = account.instances.get(instanceId)!.state;
      account.context = { execution: 'e1', state: 'Trusted' };
      ec2('StopInstances', { InstanceIds: [instanceId] });
      // THEN the denial is AWS's, nothing changed until the allowed call, and both calls are logged
      expect(denied).toBe('UnauthorizedOperation');
      expect(stateAfterDenial).toBe('running');
      expect(account.instances.get(instanceId)!.state).toBe('stopping');
      expect(seen).toEqual([`Untrusted:ec2:StopInstances:${instanceId}`, `Trusted:ec2:StopInstances:${instanceId}`]);
      expect(account.calls.map(c => [c.context.state, c.error])).toEqual([['Untrusted', 'UnauthorizedOperation'], ['Trusted', undefined]]);
    });

    test('an injected fault is decided before authorization: the authorize hook never sees that call', () => {
      account.fault = () => Object.assign(new Error('Rate exceeded'), { name: 'RequestLimitExceeded' });
      let asked = 0;
      account.authorize = () => {
        asked++;
        return undefined;
      };
      expect(errorOf(() => ec2('DescribeInstances'))).toBe('RequestLimitExceeded');
      expect(asked).toBe(0);
    });
  });
});
