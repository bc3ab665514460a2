import { DescribeImagesCommand, DescribeInstancesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand, GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { helperClientToken } from '../../../src/workflow/private/helper-launch';
import { handler as checkHelperReady } from '../../../src/workflow/steps/check-helper-ready.lambda';
import { handler as launchHelper } from '../../../src/workflow/steps/launch-helper.lambda';
import { CONFIG, HELPER, captureLogs, offlinePlan, useConfig } from '../fixtures';

const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
const P2019 = '/aws/service/ami-windows-latest/Windows_Server-2019-English-Full-Base';

describe('launch-helper handler', () => {
  beforeEach(() => {
    ec2.reset(); ssm.reset();
    useConfig();
    captureLogs();
  });
  afterEach(() => jest.restoreAllMocks());

  test('launches a helper from the public parameter of another Windows version than the target\'s', async () => {
    // GIVEN: the target runs 2022, so the 2019 parameter is chosen
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    ssm.on(GetParameterCommand, { Name: P2019 }).resolves({ Parameter: { Value: 'ami-2019' } });
    ec2.on(DescribeImagesCommand, { ImageIds: ['ami-2019'] }).resolves({ Images: [{ ImageId: 'ami-2019', RootDeviceName: '/dev/sda1' }] });
    ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: HELPER }] });
    const plan = offlinePlan({ targetWindowsVersion: '2022' });

    // WHEN
    const result = await launchHelper({ plan });

    // THEN
    expect(result).toEqual({ helperInstanceId: HELPER, helperImageId: 'ami-2019' });
    expect(ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: [
        { Name: 'tag:cdk-ec2-reset-access:workflow', Values: ['wf-test'] },
        { Name: 'tag:cdk-ec2-reset-access:role', Values: ['helper'] },
        { Name: 'tag:cdk-ec2-reset-access:execution', Values: ['run-1'] },
      ],
    });
    expect(ec2).toHaveReceivedCommandWith(RunInstancesCommand, {
      ImageId: 'ami-2019',
      ClientToken: helperClientToken(plan, CONFIG),
      NetworkInterfaces: [expect.objectContaining({ SubnetId: 'subnet-aaaa', AssociatePublicIpAddress: false })],
      MetadataOptions: expect.objectContaining({ HttpTokens: 'required' }),
      BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: expect.objectContaining({ Encrypted: true }) }],
      InstanceInitiatedShutdownBehavior: 'terminate',
    });
  });

  test('a helper already launched by this execution is returned, not launched again', async () => {
    // GIVEN
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: HELPER, ImageId: 'ami-2019', State: { Name: 'running' } }] }] });

    // WHEN
    const result = await launchHelper({ plan: offlinePlan() });

    // THEN
    expect(result).toEqual({ helperInstanceId: HELPER, helperImageId: 'ami-2019' });
    expect(ec2).toHaveReceivedCommandTimes(RunInstancesCommand, 0);
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 0);
  });

  test('a helper of this execution already terminated fails with HelperNotReady (its token cannot launch another)', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: HELPER, State: { Name: 'terminated' } }] }] });
    await expect(launchHelper({ plan: offlinePlan() })).rejects.toMatchObject({ name: 'HelperNotReady' });
    expect(ec2).toHaveReceivedCommandTimes(RunInstancesCommand, 0);
  });
});

describe('check-helper-ready handler', () => {
  const event = { plan: offlinePlan(), helper: { helperInstanceId: HELPER, helperImageId: 'ami-2019' } };
  const givenHelper = (state: string, launchedMinutesAgo = 2) => ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [{
      Instances: [{ InstanceId: HELPER, State: { Name: state as never }, LaunchTime: new Date(Date.now() - launchedMinutesAgo * 60_000) }],
    }],
  });

  beforeEach(() => {
    ec2.reset(); ssm.reset();
    useConfig();
    captureLogs();
  });
  afterEach(() => jest.restoreAllMocks());

  test('running and Online in SSM: done', async () => {
    givenHelper('running');
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: HELPER, PingStatus: 'Online' }] });
    await expect(checkHelperReady(event)).resolves.toMatchObject({ done: true });
  });

  test('pending: not done, SSM not asked', async () => {
    givenHelper('pending');
    await expect(checkHelperReady(event)).resolves.toMatchObject({ done: false, status: 'helper pending, SSM not registered' });
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 0);
  });

  test('running but not registered yet: not done', async () => {
    givenHelper('running');
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    await expect(checkHelperReady(event)).resolves.toMatchObject({ done: false });
  });

  test('not Online 20 minutes after launch fails with HelperNotReady and what to check', async () => {
    givenHelper('running', 21);
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: HELPER, PingStatus: 'ConnectionLost' }] });
    await expect(checkHelperReady(event)).rejects.toMatchObject({ name: 'HelperNotReady', message: expect.stringMatching(/ssm, ssmmessages and ec2messages endpoints/) });
  });

  test('a terminated helper fails with HelperNotReady', async () => {
    givenHelper('terminated');
    await expect(checkHelperReady(event)).rejects.toMatchObject({ name: 'HelperNotReady' });
  });
});
