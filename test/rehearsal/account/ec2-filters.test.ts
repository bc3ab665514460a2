import { SimulatedAccount } from './account';
import { wildcard } from './ec2-filters';
import { accountHelpers, errorOf, newSimulatedAccount } from './fixture';

/**
 * EC2's Describe* filters: wildcards and escapes as the EC2 User Guide describes them ("List and
 * filter using the CLI and API"), OR within a filter, AND across filters, unknown names refused.
 */
describe('simulated account: EC2 filters', () => {
  let account: SimulatedAccount;
  beforeEach(() => {
    account = newSimulatedAccount();
  });
  const { ec2 } = accountHelpers(() => account);

  test('* matches zero or more characters and ? zero or one (the User Guide\'s prod / prods / production example)', () => {
    expect(['prod', 'prods', 'production'].filter(v => wildcard('prod*', v))).toEqual(['prod', 'prods', 'production']);
    expect(['prod', 'prods', 'production'].filter(v => wildcard('prod?', v))).toEqual(['prod', 'prods']);
  });

  test('a backslash makes a wildcard character literal: \\*amazon\\?\\\\ matches only *amazon?\\', () => {
    expect(wildcard('\\*amazon\\?\\\\', '*amazon?\\')).toBe(true);
    expect(wildcard('\\*amazon\\?\\\\', 'xamazon\\')).toBe(false);
    expect(wildcard('\\*amazon\\?\\\\', '*amazonx\\')).toBe(false);
  });

  test('values are case sensitive; other regular-expression characters are literal', () => {
    expect(wildcard('Web', 'web')).toBe(false);
    expect(wildcard('a.b', 'axb')).toBe(false);
    expect(wildcard('a.b', 'a.b')).toBe(true);
  });

  test('values of one filter are ORed, filters are ANDed; a tag filter needs the tag; an unknown name is InvalidParameterValue', () => {
    const web = account.addInstance({ tags: { team: 'web' } });
    const db = account.addInstance({ tags: { team: 'db' } });
    account.addInstance();
    const ids = (filters: any[]) => ec2('DescribeInstances', { Filters: filters }).Reservations.map((r: any) => r.Instances[0].InstanceId).sort();
    expect(ids([{ Name: 'tag:team', Values: ['web', 'db'] }])).toEqual([web.instanceId, db.instanceId].sort());
    expect(ids([{ Name: 'tag:team', Values: ['web', 'db'] }, { Name: 'instance-id', Values: [db.instanceId] }])).toEqual([db.instanceId]);
    expect(ids([{ Name: 'tag:team', Values: ['*'] }])).toEqual([web.instanceId, db.instanceId].sort());
    expect(errorOf(() => ec2('DescribeInstances', { Filters: [{ Name: 'public-ip', Values: ['1.2.3.4'] }] }))).toBe('InvalidParameterValue');
  });
});
