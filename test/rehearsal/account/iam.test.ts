import { SimulatedAccount } from './account';
import { newSimulatedAccount } from './fixture';
import { IamAuthorization } from './iam';

/**
 * IAM in the simulated account: calls authorized as the calling function's role, AWS's error shape
 * per service when denied, and the IAM operations the preflight uses.
 */
describe('simulated account: IAM', () => {
  let account: SimulatedAccount;
  let iam: IamAuthorization;
  const roleArn = 'arn:aws:iam::123456789012:role/Step';
  const profileArn = 'arn:aws:iam::123456789012:instance-profile/path/AppProfile';
  const allow = (Action: string[], Resource: string) => ({ Effect: 'Allow', Action, Resource });
  beforeEach(() => {
    account = newSimulatedAccount();
    iam = new IamAuthorization(account);
    account.authorize = iam.hook;
    account.iam.addRole({
      arn: roleArn,
      name: 'Step',
      logicalId: 'StepRole',
      policies: [{
        name: 'Step',
        document: {
          Version: '2012-10-17',
          Statement: [
            allow(['ec2:DescribeInstances', 'ssm:ListCommands', 'autoscaling:DescribeAutoScalingInstances'], '*'),
            allow(['ssm:PutParameter'], 'arn:aws:ssm:us-east-1:123456789012:parameter/EC2Rescue/Passwords/i-*'),
          ],
        },
      }],
    });
    account.iam.functionRoles.set('Fn', roleArn);
    account.iam.instanceProfileRoles.set(profileArn, roleArn);
  });
  const asFunction = () => { account.context = { execution: 'e', state: 'S', function: 'Fn' }; };
  const errorOf = async (p: Promise<unknown>) => p.then(() => 'no error', (err: Error) => `${err.name}: ${err.message}`);

  test('a function\'s call is authorized as its role; the test\'s own calls are not authorized', async () => {
    // WHEN
    account.call('ec2', 'StopInstances', { InstanceIds: [account.addInstance().instanceId] });
    asFunction();
    await account.callAsync('ec2', 'DescribeInstances', {});

    // THEN only the function's call was evaluated, and allowed
    expect(iam.records.map(r => [r.call, r.role, r.denied])).toEqual([['ec2:DescribeInstances', 'StepRole', false]]);
  });

  test.each([
    ['ec2', 'StopInstances', { InstanceIds: ['i-0123456789abcdef0'] }, /^UnauthorizedOperation: You are not authorized to perform this operation\. User: arn:aws:sts::123456789012:assumed-role\/Step\/Fn is not authorized to perform: ec2:StopInstances on resource: arn:aws:ec2:us-east-1:123456789012:instance\/i-0123456789abcdef0 because no identity-based policy allows the ec2:StopInstances action\. Encoded authorization failure message: [A-Za-z0-9+/=]+$/],
    ['ssm', 'SendCommand', { InstanceIds: ['i-0123456789abcdef0'], DocumentName: 'AWS-RunPowerShellScript' }, /^AccessDeniedException: User: .* is not authorized to perform: ssm:SendCommand on resource: arn:aws:ssm:us-east-1::document\/AWS-RunPowerShellScript/],
    ['autoscaling', 'EnterStandby', { AutoScalingGroupName: 'web', InstanceIds: ['i-1'], ShouldDecrementDesiredCapacity: true }, /^AccessDenied: User: .* autoscaling:EnterStandby on resource: arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:[0-9a-f-]+:autoScalingGroupName\/web/],
    ['dynamodb', 'GetItem', { TableName: 'locks', Key: {} }, /^AccessDeniedException: .*dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table\/locks/],
  ] as const)('a denied %s:%s fails with the service\'s own error, and does not run', async (service, operation, input, error) => {
    // GIVEN
    asFunction();
    const before = account.calls.length;

    // WHEN
    const outcome = await errorOf(account.callAsync(service, operation, input));

    // THEN
    expect(outcome).toMatch(error);
    expect(account.calls.slice(before).map(c => c.error)).toEqual([outcome.split(':')[0]]);
    expect(iam.denials()).toHaveLength(1);
  });

  test('an explicit deny says so', async () => {
    // GIVEN a role that allows and denies the same call
    account.iam.roles.get(roleArn)!.policies.push({ name: 'Deny', document: { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'ec2:DescribeInstances', Resource: '*' }] } });
    asFunction();

    // THEN
    expect(await errorOf(account.callAsync('ec2', 'DescribeInstances', {}))).toMatch(/with an explicit deny in an identity-based policy/);
  });

  test('GetInstanceProfile finds a profile by its name (path left out), with its role; NoSuchEntity otherwise', () => {
    expect(account.call('iam', 'GetInstanceProfile', { InstanceProfileName: 'AppProfile' }).InstanceProfile)
      .toEqual({ InstanceProfileName: 'AppProfile', Arn: profileArn, Roles: [{ RoleName: 'Step', Arn: roleArn }] });
    expect(() => account.call('iam', 'GetInstanceProfile', { InstanceProfileName: 'Other' })).toThrow(expect.objectContaining({ name: 'NoSuchEntity' }));
  });

  test('SimulatePrincipalPolicy evaluates the role\'s policies for each action and resource', async () => {
    // WHEN
    const out = await account.callAsync('iam', 'SimulatePrincipalPolicy', {
      PolicySourceArn: roleArn,
      ActionNames: ['ssm:PutParameter'],
      ResourceArns: ['arn:aws:ssm:us-east-1:123456789012:parameter/EC2Rescue/Passwords/i-0abc', 'arn:aws:ssm:us-east-1:123456789012:parameter/other'],
    });

    // THEN
    expect(out.EvaluationResults.map((r: any) => r.EvalDecision)).toEqual(['allowed', 'implicitDeny']);
    await expect(account.callAsync('iam', 'SimulatePrincipalPolicy', { PolicySourceArn: 'arn:aws:iam::123456789012:role/None', ActionNames: ['s3:GetObject'] }))
      .rejects.toMatchObject({ name: 'NoSuchEntity' });
    // A failed asynchronous operation is recorded with its error.
    expect(account.calls[account.calls.length - 1].error).toBe('NoSuchEntity');
  });

  test('the synchronous call() refuses a hook that answers asynchronously', () => {
    asFunction();
    expect(() => account.call('ec2', 'DescribeInstances', {})).toThrow(/through callAsync/);
  });

  test('a call the request table cannot authorize fails, and is kept as a mistake for the scenario to fail on', async () => {
    // GIVEN an operation the request table does not map
    asFunction();

    // WHEN
    const error = await errorOf(account.callAsync('ec2', 'CreateSnapshot', { VolumeId: 'vol-0123456789abcdef0' }));

    // THEN the call failed (a Catch could hide that), and the mistake is on record
    expect(error).toMatch(/no request table entry for ec2:CreateSnapshot/);
    expect(iam.mistakes).toEqual([expect.stringMatching(/^Fn ec2:CreateSnapshot: IAM: no request table entry/)]);
  });

  test('a table encrypted with a customer managed key: DynamoDB decrypts its key as the caller, through DynamoDB', async () => {
    // GIVEN a lock table on a customer key, and a role that may read the table but not use the key
    const key = account.addCustomerKey();
    account.addTable('locks', { kmsKeyArn: key.arn });
    account.iam.addRole({
      arn: 'arn:aws:iam::123456789012:role/Reader',
      name: 'Reader',
      logicalId: 'ReaderRole',
      policies: [{ name: 'Step', document: { Version: '2012-10-17', Statement: [allow(['dynamodb:GetItem'], 'arn:aws:dynamodb:us-east-1:123456789012:table/locks')] } }],
    });
    account.iam.functionRoles.set('Fn', 'arn:aws:iam::123456789012:role/Reader');
    asFunction();

    // WHEN
    const error = await errorOf(account.callAsync('dynamodb', 'GetItem', { TableName: 'locks', Key: {} }));

    // THEN the table was allowed, the key was not
    expect(error).toMatch(/^AccessDeniedException: .* is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:123456789012:key\//);
    expect(iam.records[0].requests.map(r => [r.request.action, r.request.context['kms:ViaService'], r.decision])).toEqual([
      ['dynamodb:GetItem', undefined, 'Allowed'],
      ['kms:Decrypt', 'dynamodb.us-east-1.amazonaws.com', 'ImplicitlyDenied'],
    ]);
  });
});
