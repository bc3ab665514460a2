import { helperInstanceTypesFor } from '../../../src/workflow/private/contracts';
import { chooseHelperInstanceType, helperClientToken, helperRunInstancesInput } from '../../../src/workflow/private/helper-launch';
import { CONFIG, TARGET, offlinePlan } from '../fixtures';

describe('helperRunInstancesInput', () => {
  const input = helperRunInstancesInput(offlinePlan(), CONFIG, 'ami-helper', '/dev/sda1');

  test('launches one helper in the rescue subnet of the target\'s AZ, without a public IP', () => {
    expect(input).toMatchObject({
      ImageId: 'ami-helper',
      InstanceType: 't3.medium',
      MinCount: 1,
      MaxCount: 1,
      NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: 'subnet-aaaa', Groups: ['sg-helper'], AssociatePublicIpAddress: false, DeleteOnTermination: true }],
      IamInstanceProfile: { Arn: CONFIG.helperInstanceProfileArn },
      InstanceInitiatedShutdownBehavior: 'terminate',
    });
    // SubnetId/SecurityGroupIds may not be combined with NetworkInterfaces.
    expect(input).not.toHaveProperty('SubnetId');
    expect(input).not.toHaveProperty('SecurityGroupIds');
  });

  test('requires IMDSv2 and encrypts the root volume with the AWS managed EBS key, not the account default', () => {
    expect(input.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpEndpoint: 'enabled' });
    expect(input.BlockDeviceMappings).toEqual([{
      DeviceName: '/dev/sda1', Ebs: { Encrypted: true, KmsKeyId: 'alias/aws/ebs', DeleteOnTermination: true, VolumeType: 'gp3' },
    }]);
  });

  test('tags the instance and its volumes as this execution\'s helper', () => {
    const tags = [
      { Key: 'Name', Value: `reset-access-helper-${TARGET}` },
      { Key: 'cdk-ec2-reset-access:workflow', Value: 'wf-test' },
      { Key: 'cdk-ec2-reset-access:role', Value: 'helper' },
      { Key: 'cdk-ec2-reset-access:target', Value: TARGET },
      { Key: 'cdk-ec2-reset-access:execution', Value: 'run-1' },
    ];
    expect(input.TagSpecifications).toEqual([{ ResourceType: 'instance', Tags: tags }, { ResourceType: 'volume', Tags: tags }]);
  });

  test('the ClientToken is stable per execution, at most 64 characters', () => {
    const token = helperClientToken(offlinePlan(), CONFIG);
    expect(input.ClientToken).toBe(token);
    expect(token.length).toBeLessThanOrEqual(64);
    expect(helperClientToken(offlinePlan({ executionArn: 'arn:other' }), CONFIG)).not.toBe(token);
  });
});

describe('helper instance types', () => {
  test('the configured type first, then the documented x86_64 fallbacks, each once', () => {
    expect(helperInstanceTypesFor('t3.medium')).toEqual(['t3.medium', 't3a.medium', 'm5.large', 'm6i.large']);
    expect(helperInstanceTypesFor('c6i.large')).toEqual(['c6i.large', 't3.medium', 't3a.medium', 'm5.large', 'm6i.large']);
    expect(helperInstanceTypesFor('m5.large')).toEqual(['m5.large', 't3.medium', 't3a.medium', 'm6i.large']);
  });

  test('the first preferred type that is offered, in the order of preference', () => {
    expect(chooseHelperInstanceType(['t3.medium', 't3a.medium', 'm5.large'], ['m5.large', 't3a.medium'])).toBe('t3a.medium');
    expect(chooseHelperInstanceType(['t3.medium'], ['m5.large'])).toBeUndefined();
  });

  test('RunInstances uses the type the preflight chose', () => {
    expect(helperRunInstancesInput(offlinePlan({ helperInstanceType: 'm6i.large' }), CONFIG, 'ami-helper', '/dev/sda1').InstanceType).toBe('m6i.large');
  });
});
