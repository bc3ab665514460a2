import { referenceProblems } from './reference';
import { REQUEST_TABLE, requestsFor } from './requests';
import type { Service, SimulatedAccount } from '../account';
import { newSimulatedAccount } from '../account/fixture';

/**
 * Every entry of the request table, given a call the workflow makes, names the resource types the
 * Service Authorization Reference lists for its action (every required one), with ARNs of those types.
 */
describe('IAM request table against the Service Authorization Reference', () => {
  let account: SimulatedAccount;
  let target: string;
  let helper: string;
  let volume: string;
  beforeEach(() => {
    account = newSimulatedAccount();
    account.iam.instanceProfileRoles.set('arn:aws:iam::123456789012:instance-profile/helper', 'arn:aws:iam::123456789012:role/helper');
    const t = account.addInstance({ tags: { 'cdk-ec2-reset-access:allow-reset': 'true' }, encrypted: true });
    target = t.instanceId;
    helper = account.addInstance({ isHelper: true }).instanceId;
    volume = account.volumeAt(target, t.rootDeviceName)!.volumeId;
  });

  /** One call per entry, as the workflow makes it. */
  const CALLS: Record<string, () => any> = {
    'ec2:DescribeInstances': () => ({ InstanceIds: [target] }),
    'ec2:DescribeVolumes': () => ({ VolumeIds: [volume] }),
    'ec2:DescribeImages': () => ({ Owners: ['self'] }),
    'ec2:DescribeInstanceAttribute': () => ({ InstanceId: target, Attribute: 'instanceInitiatedShutdownBehavior' }),
    'ec2:DescribeInstanceTypes': () => ({ InstanceTypes: ['m5.large'] }),
    'ec2:DescribeInstanceTypeOfferings': () => ({}),
    'ec2:GetEbsDefaultKmsKeyId': () => ({}),
    'ec2:GetEbsEncryptionByDefault': () => ({}),
    'ec2:DescribeSnapshots': () => ({ OwnerIds: ['self'] }),
    'ec2:DeregisterImage': () => ({ ImageId: 'ami-0a2019aaaaaaaaaaa' }),
    'ec2:DeleteSnapshot': () => ({ SnapshotId: 'snap-0123456789abcdef0' }),
    'states:DescribeExecution': () => ({ executionArn: 'arn:aws:states:us-east-1:123456789012:execution:Reset:run-1' }),
    'states:ListExecutions': () => ({ stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Reset' }),
    'states:StartExecution': () => ({ stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Restore' }),
    'servicequotas:GetServiceQuota': () => ({ ServiceCode: 'ec2', QuotaCode: 'L-1216C47A' }),
    'ec2:ModifyInstanceAttribute': () => ({ InstanceId: target, BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { DeleteOnTermination: false } }] }),
    'ec2:StopInstances': () => ({ InstanceIds: [target] }),
    'ec2:StartInstances': () => ({ InstanceIds: [target] }),
    'ec2:TerminateInstances': () => ({ InstanceIds: [helper] }),
    'ec2:GetPasswordData': () => ({ InstanceId: target }),
    'ec2:CreateImage': () => ({ InstanceId: target, Name: 'x-backup', TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'a', Value: 'b' }] }, { ResourceType: 'snapshot', Tags: [{ Key: 'a', Value: 'b' }] }] }),
    'ec2:RunInstances': () => ({
      ImageId: 'ami-0a2019aaaaaaaaaaa',
      InstanceType: 't3.medium',
      MinCount: 1,
      MaxCount: 1,
      NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: 'subnet-a', Groups: ['sg-helper'], AssociatePublicIpAddress: false }],
      IamInstanceProfile: { Arn: 'arn:aws:iam::123456789012:instance-profile/helper' },
      MetadataOptions: { HttpTokens: 'required' },
      BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { Encrypted: true } }],
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'a', Value: 'b' }] }, { ResourceType: 'volume', Tags: [{ Key: 'a', Value: 'b' }] }],
    }),
    'ec2:AttachVolume': () => ({ VolumeId: volume, InstanceId: helper, Device: 'xvdf' }),
    'ec2:DetachVolume': () => ({ VolumeId: volume, InstanceId: target }),
    'ec2:CreateTags': () => ({ Resources: [volume], Tags: [{ Key: 'a', Value: 'b' }] }),
    'ec2:DeleteTags': () => ({ Resources: [volume], Tags: [{ Key: 'a' }] }),
    'ec2:DescribeVpcEndpoints': () => ({ Filters: [{ Name: 'vpc-id', Values: ['vpc-rescue'] }] }),
    'ec2:CreateVpcEndpoint': () => ({
      VpcEndpointType: 'Interface',
      VpcId: 'vpc-rescue',
      ServiceName: 'com.amazonaws.us-east-1.ssm',
      SubnetIds: ['subnet-a'],
      SecurityGroupIds: ['sg-endpoints'],
      PrivateDnsEnabled: true,
      TagSpecifications: [{ ResourceType: 'vpc-endpoint', Tags: [{ Key: 'a', Value: 'b' }] }],
    }),
    'ec2:DeleteVpcEndpoints': () => ({ VpcEndpointIds: ['vpce-0123456789abcdef0'] }),
    'ssm:DescribeInstanceInformation': () => ({}),
    'ssm:ListCommands': () => ({ InstanceId: helper }),
    'ssm:GetCommandInvocation': () => ({ CommandId: 'c', InstanceId: helper }),
    'ssm:CancelCommand': () => ({ CommandId: 'c' }),
    'ssm:DescribeParameters': () => ({}),
    'ssm:SendCommand': () => ({ InstanceIds: [helper], DocumentName: 'AWS-RunPowerShellScript' }),
    'ssm:GetParameter': () => ({ Name: '/EC2Rescue/Passwords/i-0123' }),
    'ssm:DeleteParameter': () => ({ Name: '/EC2Rescue/Passwords/i-0123' }),
    'ssm:DeleteParameters': () => ({ Names: ['/EC2Rescue/Passwords/i-0123'] }),
    'autoscaling:DescribeAutoScalingInstances': () => ({ InstanceIds: [target] }),
    'autoscaling:DescribeAutoScalingGroups': () => ({ AutoScalingGroupNames: ['web'] }),
    'autoscaling:EnterStandby': () => ({ AutoScalingGroupName: 'web', InstanceIds: [target], ShouldDecrementDesiredCapacity: true }),
    'autoscaling:ExitStandby': () => ({ AutoScalingGroupName: 'web', InstanceIds: [target] }),
    'autoscaling:UpdateAutoScalingGroup': () => ({ AutoScalingGroupName: 'web', MinSize: 0 }),
    'dynamodb:GetItem': () => ({ TableName: 'locks' }),
    'dynamodb:PutItem': () => ({ TableName: 'locks' }),
    'dynamodb:DeleteItem': () => ({ TableName: 'locks' }),
    'dynamodb:UpdateItem': () => ({ TableName: 'locks' }),
    'dynamodb:Scan': () => ({ TableName: 'locks' }),
    'kms:DescribeKey': () => ({ KeyId: 'alias/aws/ebs' }),
    'iam:GetInstanceProfile': () => ({ InstanceProfileName: 'helper' }),
    'iam:SimulatePrincipalPolicy': () => ({ PolicySourceArn: 'arn:aws:iam::123456789012:role/helper', ActionNames: ['ssm:PutParameter'] }),
  };
  const ENTRIES = Object.entries(REQUEST_TABLE).flatMap(([service, table]) => Object.keys(table).map(op => `${service}:${op}`));

  test('every entry of the table has a call here', () => {
    expect(ENTRIES.filter(e => !CALLS[e])).toEqual([]);
  });

  test.each(ENTRIES)('%s names every resource type the reference requires, with ARNs of its types', async entry => {
    // GIVEN the requests of the call
    const [service, operation] = entry.split(':');
    const requests = requestsFor(account, service as Service, operation, CALLS[entry]());
    // THEN
    expect(requests.length).toBeGreaterThan(0);
    expect(await referenceProblems(requests)).toEqual([]);
  });

  test('the check has teeth: an entry that omits a required resource type, or names one of another type, fails', async () => {
    // GIVEN RunInstances' requests without the subnet, and CreateImage's with a volume ARN instead of the snapshot
    const run = requestsFor(account, 'ec2', 'RunInstances', CALLS['ec2:RunInstances']()).filter(r => !r.resource.includes(':subnet/'));
    const image = requestsFor(account, 'ec2', 'CreateImage', CALLS['ec2:CreateImage']())
      .map(r => (r.resource.includes(':snapshot/') && r.action === 'ec2:CreateImage' ? { ...r, resource: r.resource.replace(/::snapshot\/.*/, ':123456789012:volume/vol-1') } : r));

    // THEN
    expect(await referenceProblems(run)).toEqual(['ec2:RunInstances omits its required resource type subnet']);
    expect(await referenceProblems(image)).toEqual([
      'ec2:CreateImage on arn:aws:ec2:us-east-1:123456789012:volume/vol-1: no resource type of the action has this ARN',
      'ec2:CreateImage omits its required resource type snapshot',
    ]);
  });

  test('an operation without an entry fails loudly, naming where to map it', () => {
    expect(() => requestsFor(account, 'ec2', 'CreateSnapshot', {})).toThrow(/no request table entry for ec2:CreateSnapshot.*test\/rehearsal\/iam\/requests\.ts/);
  });
});
