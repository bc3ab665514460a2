import { GetCommandInvocationCommand, ListCommandsCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { commandComment } from '../../../src/workflow/private/commands';
import { handler as checkCommand } from '../../../src/workflow/steps/check-command.lambda';
import { handler as sendCommand } from '../../../src/workflow/steps/send-command.lambda';
import { HELPER, TARGET, awsError, captureLogs, offlinePlan, useConfig } from '../fixtures';

const ssm = mockClient(SSMClient);
const plan = offlinePlan();

describe('send-command handler', () => {
  let logs: () => string[];
  beforeEach(() => {
    ssm.reset();
    useConfig();
    logs = captureLogs();
    ssm.on(ListCommandsCommand).resolves({ Commands: [] });
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
  });
  afterEach(() => jest.restoreAllMocks());

  test('install-ec2rescue: AWS-ConfigureAWSPackage on the helper, with a comment naming the execution', async () => {
    // WHEN
    const result = await sendCommand({ plan, command: 'install-ec2rescue', targetInstanceId: HELPER });

    // THEN
    expect(result).toEqual({ commandId: 'cmd-1', instanceId: HELPER });
    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      InstanceIds: [HELPER],
      DocumentName: 'AWS-ConfigureAWSPackage',
      Parameters: { action: ['Install'], name: ['AWSSupport-EC2Rescue'], version: ['latest'] },
      TimeoutSeconds: 600,
      Comment: commandComment('install-ec2rescue', plan),
    });
    expect(commandComment('install-ec2rescue', plan)).toContain('run-1');
  });

  test('offline-password-fix: the .ps1 through AWS-RunPowerShellScript', async () => {
    // WHEN
    await sendCommand({ plan, command: 'offline-password-fix', targetInstanceId: HELPER });

    // THEN
    const input = ssm.commandCalls(SendCommandCommand)[0].args[0].input;
    expect(input.DocumentName).toBe('AWS-RunPowerShellScript');
    expect(input.Parameters?.commands[0]).toContain('Invoke-EC2RescueEnablePasswordGeneration -BlockDeviceName $Device');
    // The script is not logged.
    expect(logs().join('')).not.toContain('Invoke-EC2RescueEnablePasswordGeneration');
  });

  test('online-reset: EC2Rescue ResetAccess with the configured key, on the target', async () => {
    // WHEN
    await sendCommand({ plan, command: 'online-reset', targetInstanceId: TARGET });

    // THEN
    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      InstanceIds: [TARGET], DocumentName: 'AWSSupport-RunEC2RescueForWindowsTool', Parameters: { Command: ['ResetAccess'], Parameters: ['alias/aws/ssm'] },
    });
  });

  test('a command already sent by this execution is returned, not sent again', async () => {
    // GIVEN
    ssm.on(ListCommandsCommand, { InstanceId: HELPER }).resolves({
      Commands: [
        { CommandId: 'cmd-other', Comment: 'install-ec2rescue 00000000 run-0' },
        { CommandId: 'cmd-0', Comment: commandComment('install-ec2rescue', plan), Status: 'InProgress' },
      ],
    });

    // WHEN
    const result = await sendCommand({ plan, command: 'install-ec2rescue', targetInstanceId: HELPER });

    // THEN
    expect(result).toEqual({ commandId: 'cmd-0', instanceId: HELPER });
    expect(ssm).toHaveReceivedCommandWith(ListCommandsCommand, { InstanceId: HELPER, Filters: [{ key: 'DocumentName', value: 'AWS-ConfigureAWSPackage' }] });
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 0);
  });

  test('a command already sent is found on a later page of ListCommands, not sent again', async () => {
    // GIVEN other commands of the same document fill the first page
    const others = Array.from({ length: 50 }, (_, n) => ({ CommandId: `cmd-other-${n}`, Comment: 'install-ec2rescue 00000000 run-0' }));
    ssm.on(ListCommandsCommand, { InstanceId: HELPER, NextToken: undefined }).resolves({ Commands: others, NextToken: 'page-2' });
    ssm.on(ListCommandsCommand, { InstanceId: HELPER, NextToken: 'page-2' }).resolves({
      Commands: [{ CommandId: 'cmd-0', Comment: commandComment('install-ec2rescue', plan), Status: 'Success' }],
    });

    // WHEN
    const result = await sendCommand({ plan, command: 'install-ec2rescue', targetInstanceId: HELPER });

    // THEN
    expect(result).toEqual({ commandId: 'cmd-0', instanceId: HELPER });
    expect(ssm).toHaveReceivedCommandTimes(ListCommandsCommand, 2);
    expect(ssm).toHaveReceivedCommandWith(ListCommandsCommand, { MaxResults: 50, NextToken: 'page-2' });
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 0);
  });

  test('every page is read before a command is sent', async () => {
    // GIVEN two pages, neither with this execution's command
    ssm.on(ListCommandsCommand, { InstanceId: HELPER, NextToken: undefined }).resolves({ Commands: [{ CommandId: 'cmd-a', Comment: 'other' }], NextToken: 'page-2' });
    ssm.on(ListCommandsCommand, { InstanceId: HELPER, NextToken: 'page-2' }).resolves({ Commands: [{ CommandId: 'cmd-b', Comment: 'other' }] });

    // WHEN
    await sendCommand({ plan, command: 'install-ec2rescue', targetInstanceId: HELPER });

    // THEN
    expect(ssm).toHaveReceivedCommandTimes(ListCommandsCommand, 2);
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
  });

  test('helper commands are never sent to the target, the online reset never to another instance', async () => {
    await expect(sendCommand({ plan, command: 'offline-password-fix', targetInstanceId: TARGET })).rejects.toMatchObject({ name: 'InvalidInput' });
    await expect(sendCommand({ plan, command: 'online-reset', targetInstanceId: HELPER })).rejects.toMatchObject({ name: 'InvalidInput' });
    await expect(sendCommand({ plan, command: 'rm -rf' as never, targetInstanceId: HELPER })).rejects.toMatchObject({ name: 'InvalidInput' });
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 0);
  });
});

describe('check-command handler', () => {
  const event = { plan, command: { commandId: 'cmd-1', instanceId: TARGET } };
  let logs: () => string[];
  beforeEach(() => {
    ssm.reset();
    useConfig();
    logs = captureLogs();
  });
  afterEach(() => jest.restoreAllMocks());

  test('InvocationDoesNotExist right after the send: not done', async () => {
    ssm.on(GetCommandInvocationCommand).rejects(awsError('InvocationDoesNotExist'));
    await expect(checkCommand(event)).resolves.toEqual({ done: false, waitSeconds: 5, status: 'command not yet delivered' });
  });

  test.each(['Pending', 'InProgress', 'Delayed'])('%s: not done', async status => {
    ssm.on(GetCommandInvocationCommand).resolves({ Status: status as never });
    await expect(checkCommand(event)).resolves.toMatchObject({ done: false, status: `command ${status}` });
  });

  test('Success: done', async () => {
    ssm.on(GetCommandInvocationCommand, { CommandId: 'cmd-1', InstanceId: TARGET }).resolves({ Status: 'Success', StandardOutputContent: 'Password: S3cret!' });
    await expect(checkCommand(event)).resolves.toEqual({ done: true, waitSeconds: 0, status: 'command succeeded' });
    expect(logs().join('')).not.toContain('S3cret');
  });

  test.each(['Failed', 'Cancelled', 'TimedOut'])('%s: CommandFailed with the status and a short sanitized excerpt, never the standard output', async status => {
    // GIVEN
    ssm.on(GetCommandInvocationCommand).resolves({
      Status: status as never,
      StatusDetails: status,
      DocumentName: 'AWSSupport-RunEC2RescueForWindowsTool',
      StandardOutputContent: 'The new password is S3cret!',
      StandardErrorContent: `Access denied\r\n${'x'.repeat(2000)}`,
    });

    // WHEN
    const error = (await checkCommand(event).catch((e: unknown) => e)) as Error;

    // THEN
    expect(error).toMatchObject({ name: 'CommandFailed' });
    expect(error.message).toContain(`ended ${status} on ${TARGET}: Access denied x`);
    expect(error.message).not.toContain('S3cret');
    expect(error.message.length).toBeLessThan(700);
    expect(logs().join('')).not.toContain('S3cret');
  });
});
