import { AutoScalingClient, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateImageCommand, DescribeImagesCommand, DescribeInstanceAttributeCommand, DescribeInstancesCommand, DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  DescribeVolumesCommand, EC2Client, GetPasswordDataCommand, RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand, GetCommandInvocationCommand, GetParameterCommand, ListCommandsCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { marshalLockItem } from '../../../src/workflow/private/journal';
import * as acquireLock from '../../../src/workflow/steps/acquire-lock.lambda';
import * as attachToHelper from '../../../src/workflow/steps/attach-to-helper.lambda';
import * as checkCommand from '../../../src/workflow/steps/check-command.lambda';
import * as checkHelperReady from '../../../src/workflow/steps/check-helper-ready.lambda';
import * as checkPassword from '../../../src/workflow/steps/check-password.lambda';
import * as createBackupImage from '../../../src/workflow/steps/create-backup-image.lambda';
import * as launchHelper from '../../../src/workflow/steps/launch-helper.lambda';
import * as loadJournal from '../../../src/workflow/steps/load-journal.lambda';
import * as preflight from '../../../src/workflow/steps/preflight.lambda';
import * as prepareTarget from '../../../src/workflow/steps/prepare-target.lambda';
import * as restore from '../../../src/workflow/steps/restore.lambda';
import * as sendCommand from '../../../src/workflow/steps/send-command.lambda';
import { EXECUTION_ARN, HELPER, ROOT_VOLUME, TARGET, captureLogs, offlinePlan, useConfig } from '../fixtures';

const PASSWORD_DATA = 'c2VjcmV0LWVuY3J5cHRlZC1wYXNzd29yZC1ibG9i';
const PLAINTEXT = 'Pl@inT3xt-Admin-Pass';

const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
const asg = mockClient(AutoScalingClient);
const ddb = mockClient(DynamoDBClient);

/** Every key of a value, at any depth. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)]);
  return [];
}

describe('I5: no password, plaintext or encrypted, leaves any step', () => {
  let logs: () => string[];
  beforeEach(() => {
    ec2.reset(); ssm.reset(); asg.reset(); ddb.reset();
    useConfig();
    logs = captureLogs();
    const plan = offlinePlan({ passwordEnabledAmi: true });
    const target = {
      InstanceId: TARGET,
      State: { Name: 'stopped' as const },
      Platform: 'windows' as const,
      PlatformDetails: 'Windows',
      RootDeviceType: 'ebs' as const,
      RootDeviceName: '/dev/sda1',
      InstanceType: 't3.large' as const,
      ImageId: 'ami-target',
      KeyName: 'ops-key',
      Placement: { AvailabilityZone: 'eu-west-1a' },
      BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { VolumeId: ROOT_VOLUME, DeleteOnTermination: false } }],
      LaunchTime: new Date(),
    };
    ec2.on(DescribeInstancesCommand).callsFake(input => input.Filters
      ? { Reservations: [{ Instances: [{ InstanceId: HELPER, State: { Name: 'running' }, ImageId: 'ami-2019', LaunchTime: new Date() }] }] }
      : { Reservations: [{ Instances: [input.InstanceIds?.[0] === HELPER ? { InstanceId: HELPER, State: { Name: 'running' }, LaunchTime: new Date() } : target] }] });
    ec2.on(DescribeInstanceAttributeCommand).resolves({ InstanceInitiatedShutdownBehavior: { Value: 'stop' } });
    ec2.on(DescribeInstanceTypesCommand).resolves({ InstanceTypes: [{ InstanceStorageSupported: false }] });
    ec2.on(DescribeInstanceTypeOfferingsCommand).resolves({ InstanceTypeOfferings: [{ InstanceType: 't3.medium' }] });
    ec2.on(DescribeVolumesCommand).resolves({ Volumes: [{ VolumeId: ROOT_VOLUME, State: 'in-use', Attachments: [{ InstanceId: TARGET, Device: '/dev/sda1', State: 'attached' }] }] });
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-backup', Name: plan.backupImageName, State: 'pending', RootDeviceName: '/dev/sda1' }] });
    ec2.on(CreateImageCommand).resolves({ ImageId: 'ami-post' });
    ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: HELPER }] });
    ec2.on(GetPasswordDataCommand).resolves({ InstanceId: TARGET, PasswordData: PASSWORD_DATA, Timestamp: new Date() });
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: HELPER, PingStatus: 'Online', PlatformType: 'Windows' }] });
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'ami-2019' } });
    ssm.on(ListCommandsCommand).resolves({ Commands: [] });
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    ssm.on(GetCommandInvocationCommand).resolves({ Status: 'Success', StandardOutputContent: `Password: ${PLAINTEXT}` });
    asg.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [] });
    ddb.on(GetItemCommand).resolves({ Item: marshalLockItem({ instanceId: TARGET, executionArn: EXECUTION_ARN, plan, expiresAt: 1 }) });
    ddb.on(PutItemCommand).resolves({});
    ddb.on(DeleteItemCommand).resolves({});
  });
  afterEach(() => jest.restoreAllMocks());

  test('no step returns a Password or PasswordData key, or the password data, and none logs it', async () => {
    // GIVEN
    const plan = offlinePlan({ passwordEnabledAmi: true });
    const helper = { helperInstanceId: HELPER, helperImageId: 'ami-2019' };

    // WHEN
    const results = await Promise.all([
      preflight.handler({ request: { instanceId: TARGET, method: 'offline' }, executionArn: EXECUTION_ARN, executionName: 'run-1', startTime: '2026-11-28T09:00:00Z' }),
      acquireLock.handler({ plan }),
      prepareTarget.handler({ plan }),
      createBackupImage.handler({ plan }),
      launchHelper.handler({ plan }),
      checkHelperReady.handler({ plan, helper }),
      sendCommand.handler({ plan, command: 'online-reset', targetInstanceId: TARGET }),
      checkCommand.handler({ plan, command: { commandId: 'cmd-1', instanceId: TARGET } }),
      attachToHelper.handler({ plan, helper }),
      restore.handler({ plan, succeeded: true }),
      checkPassword.handler({ plan }),
      loadJournal.handler({ executionArn: EXECUTION_ARN, input: JSON.stringify({ instanceId: TARGET }), restoreExecutionArn: `${EXECUTION_ARN}-restore` }),
    ]);

    // THEN
    expect(results).toHaveLength(12);
    for (const result of results) {
      expect(keysOf(result).filter(k => /^(password|passworddata|plaintext|decrypted.*)$/i.test(k))).toEqual([]);
      const text = JSON.stringify(result);
      expect(text).not.toContain(PASSWORD_DATA);
      expect(text).not.toContain(PLAINTEXT);
    }
    const logged = logs().join('');
    expect(logged).not.toContain(PASSWORD_DATA);
    expect(logged).not.toContain(PLAINTEXT);
    expect(logged).not.toMatch(/"PasswordData"/);
    expect(logged.length).toBeGreaterThan(0);
  });
});
