import {
  arnContextOf, instanceProfileNameOf, noInstanceProfile, passwordStoreChecks, permissionFromSimulation,
} from '../../../src/workflow/private/online-permission';

describe('online permission (what the preflight asks IAM\'s policy simulator)', () => {
  const where = arnContextOf('arn:aws:states:eu-west-1:111122223333:execution:Reset:run-1');

  test('the execution ARN gives partition, Region and account', () => {
    expect(where).toEqual({ partition: 'aws', region: 'eu-west-1', account: '111122223333' });
  });

  test('PutParameter on the instance\'s own password parameter; Encrypt only with a customer managed key', () => {
    expect(passwordStoreChecks('i-0abc', where)).toEqual([
      { action: 'ssm:PutParameter', resource: 'arn:aws:ssm:eu-west-1:111122223333:parameter/EC2Rescue/Passwords/i-0abc' },
    ]);
    const key = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(passwordStoreChecks('i-0abc', where, key).map(c => c.action)).toEqual(['ssm:PutParameter', 'kms:Encrypt']);
  });

  test('an instance profile ARN with a path gives its name', () => {
    expect(instanceProfileNameOf('arn:aws:iam::111122223333:instance-profile/windows/AppProfile')).toBe('AppProfile');
  });

  test('allowed only when every result is allowed; otherwise the reason names each denial and RescuePasswordPolicy', () => {
    const put = { EvalActionName: 'ssm:PutParameter', EvalResourceName: 'p', EvalDecision: 'allowed' };
    expect(permissionFromSimulation('arn:role', [put])).toEqual({ allowed: true });
    const denied = permissionFromSimulation('arn:role', [put, { EvalActionName: 'kms:Encrypt', EvalResourceName: 'k', EvalDecision: 'explicitDeny' }]);
    expect(denied.allowed).toBe(false);
    expect(denied.reason).toMatch(/arn:role may not store .*kms:Encrypt on k \(explicitDeny\).*RescuePasswordPolicy/);
    expect(permissionFromSimulation('arn:role', []).allowed).toBe(false);
    expect(noInstanceProfile().reason).toMatch(/no instance profile.*RescuePasswordPolicy/);
  });
});
