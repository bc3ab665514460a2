import { SimulatedAccount } from './account';
import { accountHelpers, newSimulatedAccount } from './fixture';
import { LATENCY } from '../latencies';

/**
 * EBS encryption of launched volumes: encryption by default, the account's default key, and a launch
 * whose key EC2 cannot use on the caller's behalf.
 */
describe('simulated account: EBS encryption', () => {
  let account: SimulatedAccount;
  beforeEach(() => {
    account = newSimulatedAccount();
  });
  const { ec2, stateOf, rootOf } = accountHelpers(() => account);
  const launch = (ebs?: Record<string, unknown>) => ec2('RunInstances', {
    ImageId: 'ami-0a2019aaaaaaaaaaa',
    InstanceType: 't3.medium',
    MinCount: 1,
    MaxCount: 1,
    NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: 'subnet-a', Groups: ['sg-helper'] }],
    ...(ebs ? { BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: ebs }] } : {}),
  }).Instances[0].InstanceId as string;
  const bootTime = LATENCY.instancePendingToRunning.seconds + LATENCY.shuttingDownToTerminated.seconds;
  const customerDefaultKey = (usableThroughEc2 = false) => {
    const key = account.addCustomerKey({ aliases: ['alias/ebs-default'], usableThroughEc2 });
    account.ebsEncryption.encryptByDefault = true;
    account.ebsEncryption.defaultKmsKeyId = 'alias/ebs-default';
    return key;
  };

  test('by default: encryption by default off, the default key is the AWS managed key (answered as its ARN)', () => {
    expect(ec2('GetEbsEncryptionByDefault')).toMatchObject({ EbsEncryptionByDefault: false });
    expect(ec2('GetEbsDefaultKmsKeyId')).toEqual({ KmsKeyId: account.keys.find(k => k.aliases.includes('alias/aws/ebs'))!.arn });
    const plain = launch();
    expect(rootOf(plain)).toMatchObject({ encrypted: false });
  });

  test('Encrypted without a key uses the default key; encryption by default encrypts every new volume', () => {
    const key = customerDefaultKey(true);
    expect(ec2('GetEbsDefaultKmsKeyId')).toEqual({ KmsKeyId: key.arn });
    expect(rootOf(launch({ Encrypted: true }))).toMatchObject({ encrypted: true, kmsKeyId: key.arn });
    expect(rootOf(launch())).toMatchObject({ encrypted: true, kmsKeyId: key.arn });
  });

  test('a default customer key EC2 cannot use for the caller: pending, then terminated with Client.InternalError', () => {
    // GIVEN
    customerDefaultKey(false);

    // WHEN
    const id = launch({ Encrypted: true });
    expect(stateOf(id)).toBe('pending');
    account.advance(bootTime);

    // THEN
    const instance = ec2('DescribeInstances', { InstanceIds: [id] }).Reservations[0].Instances[0];
    expect(instance.State.Name).toBe('terminated');
    expect(instance.StateReason).toEqual({ Code: 'Client.InternalError', Message: 'Client.InternalError: Client error on launch' });
  });

  test.each([['the alias', 'alias/aws/ebs'], ['the alias ARN', 'arn:aws:kms:us-east-1:123456789012:alias/aws/ebs']])(
    'the AWS managed key named by %s always works, whatever the default key', (_, keyId) => {
      customerDefaultKey(false);
      const id = launch({ Encrypted: true, KmsKeyId: keyId });
      account.advance(bootTime);
      expect(stateOf(id)).toBe('running');
      expect(rootOf(id).kmsKeyId).toBe(account.keys.find(k => k.aliases.includes('alias/aws/ebs'))!.arn);
    });

  test('a key that does not exist: the launch appears to succeed, then the instance is terminated', () => {
    const id = launch({ Encrypted: true, KmsKeyId: 'alias/no-such-key' });
    account.advance(bootTime);
    expect(stateOf(id)).toBe('terminated');
  });
});
