import { SimulatedAccount } from './account';
import { accountHelpers, errorOf, newSimulatedAccount } from './fixture';

/**
 * Parameter Store: listing by prefix, a page at a time, and deleting.
 */
describe('simulated account: Parameter Store', () => {
  let account: SimulatedAccount;
  beforeEach(() => {
    account = newSimulatedAccount();
  });
  const { ssm } = accountHelpers(() => account);

  describe('parameters', () => {
    test('parameters are listed by prefix, a page at a time, and deleted', () => {
      for (let i = 0; i < 60; i++) {
        account.parameters.set(`/EC2Rescue/Passwords/i-${String(i).padStart(8, '0')}`, { name: `/EC2Rescue/Passwords/i-${String(i).padStart(8, '0')}`, value: 'x', type: 'SecureString', lastModified: 0, version: 1 });
      }
      const first = ssm('DescribeParameters', { ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: ['/EC2Rescue/Passwords/'] }] });
      expect(first.Parameters).toHaveLength(50);
      const second = ssm('DescribeParameters', { ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: ['/EC2Rescue/Passwords/'] }], NextToken: first.NextToken });
      expect(second.Parameters).toHaveLength(10);
      expect(ssm('DeleteParameters', { Names: ['/EC2Rescue/Passwords/i-00000000', '/nope'] })).toEqual({ DeletedParameters: ['/EC2Rescue/Passwords/i-00000000'], InvalidParameters: ['/nope'] });
    });

    test('DescribeParameters takes MaxResults from 1 to 50, DeleteParameters at most 10 names (ValidationException beyond)', () => {
      const names = Array.from({ length: 11 }, (_, i) => `/EC2Rescue/Passwords/i-${String(i).padStart(8, '0')}`);
      for (const name of names) account.parameters.set(name, { name, value: 'x', type: 'SecureString', lastModified: 0, version: 1 });
      expect(errorOf(() => ssm('DescribeParameters', { MaxResults: 51 }))).toBe('ValidationException');
      expect(ssm('DescribeParameters', { MaxResults: 5 }).Parameters).toHaveLength(5);
      expect(errorOf(() => ssm('DeleteParameters', { Names: names }))).toBe('ValidationException');
      expect(account.parameters.size).toBe(11);
      expect(ssm('DeleteParameters', { Names: names.slice(0, 10) }).DeletedParameters).toHaveLength(10);
    });
  });
});
