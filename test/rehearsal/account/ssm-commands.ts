/**
 * Systems Manager's agent and Run Command: when an instance's agent is Online, which instances
 * take commands, how a command moves Pending → InProgress → Success/Failed/TimedOut, and what the
 * documents the workflow sends do on the simulated instance (install EC2Rescue, the offline
 * password fix on an attached volume, the online ResetAccess that writes a parameter).
 */
import { randomBytes } from 'node:crypto';
import type { Operations, SimulatedAccount } from './account';
import type { SimInstance } from './ec2-instances';
import { ssmError } from './errors';
import { randomHex } from './ids';
import { LatencyName } from '../latencies';

export interface SimCommand {
  readonly commandId: string;
  readonly instanceId: string;
  readonly documentName: string;
  readonly parameters: Record<string, string[]>;
  readonly comment?: string;
  readonly requestedAt: number;
  status: 'Pending' | 'InProgress' | 'Success' | 'Failed' | 'TimedOut' | 'Cancelling' | 'Cancelled';
  stdout: string;
  stderr: string;
  responseCode: number;
  /** Set when Run Command ended it at its execution timeout (else a TimedOut is a delivery timeout). */
  executionTimedOut?: boolean;
}

/** The documents Run Command knows in this account, and what they need. */
const DOCUMENTS = ['AWS-ConfigureAWSPackage', 'AWS-RunPowerShellScript', 'AWSSupport-RunEC2RescueForWindowsTool'];
/** AWSSupport-RunEC2RescueForWindowsTool's `Parameters` for ResetAccess: a key id or an alias of up to 32 characters. */
const RESET_ACCESS_KMS_PATTERN = /^(alias\/[a-zA-Z0-9/_-]{1,26}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
/** How long after SendCommand the invocation is visible to GetCommandInvocation (assumption). */
export const INVOCATION_VISIBLE_AFTER_SECONDS = 0.5;

// ------------------------------------------------------------------ the agent (follows the instance's lifecycle, ec2-instances.ts)

/** An instance whose agent runs with a usable role registers Online some time after it is running. */
export function agentRegistersAfterBoot(account: SimulatedAccount, instance: SimInstance): void {
  if (!instance.ssmAgent) return;
  const t = instance.transition;
  account.after('windowsBootToSsmOnline', () => {
    if (instance.transition !== t) return;
    instance.ssmRegistered = true;
    instance.pingStatus = 'Online';
    account.moment(`ssm-online:${instance.instanceId}`);
  });
}

/** An instance that stops or shuts down loses its agent's connection at once. */
export function agentLosesConnection(instance: SimInstance): void {
  if (instance.pingStatus) instance.pingStatus = 'ConnectionLost';
}

// ------------------------------------------------------------------ Run Command

function validateCommandParameters(document: string, p: Record<string, string[]>): void {
  const bad = (why: string) => ssmError('InvalidParameters', `${document}: ${why}`);
  switch (document) {
    case 'AWS-ConfigureAWSPackage':
      if (!['Install', 'Uninstall'].includes(p.action?.[0])) throw bad('action must be Install or Uninstall');
      if (!p.name?.[0]) throw bad('name is required');
      break;
    case 'AWS-RunPowerShellScript':
      if (!p.commands?.length) throw bad('commands is required');
      break;
    case 'AWSSupport-RunEC2RescueForWindowsTool':
      if (!['ResetAccess', 'CollectLogs', 'FixAll'].includes(p.Command?.[0])) throw bad('Command must be ResetAccess, CollectLogs or FixAll');
      if (p.Command[0] === 'ResetAccess' && p.Parameters?.[0] !== undefined && !RESET_ACCESS_KMS_PATTERN.test(p.Parameters[0])) {
        throw bad(`Parameters "${p.Parameters[0]}" fails the pattern (a key id or an alias of up to 32 characters)`);
      }
      break;
  }
}

function runCommand(account: SimulatedAccount, command: SimCommand, instance: SimInstance, deliveryTimeoutSeconds: number): void {
  const fail = (stderr: string) => {
    command.status = 'Failed';
    command.stderr = stderr;
    command.responseCode = 1;
  };
  const deliver = () => {
    if (command.status !== 'Pending') return;
    if (instance.state !== 'running' || instance.pingStatus !== 'Online') {
      if (account.now() - command.requestedAt >= deliveryTimeoutSeconds * 1000) {
        command.status = 'TimedOut';
        return;
      }
      account.after(5, deliver);
      return;
    }
    command.status = 'InProgress';
    const duration: LatencyName = command.documentName === 'AWS-ConfigureAWSPackage'
      ? 'installEc2Rescue'
      : command.documentName === 'AWS-RunPowerShellScript' ? 'offlinePasswordFix' : 'onlineResetAccess';
    const transition = instance.transition;
    if (account.hangingDocuments.has(command.documentName)) {
      // "Execution Timed Out: Command execution started on the managed node, but the execution
      // wasn't complete before the execution timeout expired" (SSM API reference, CommandInvocation
      // StatusDetails). The document's `executionTimeout`, or assumption: the agent's default, 3600 s.
      account.after(Number(command.parameters.executionTimeout?.[0] ?? 3600), () => {
        if (command.status !== 'InProgress') return;
        command.status = 'TimedOut';
        command.executionTimedOut = true;
      });
      return;
    }
    account.after(duration, () => {
      // Cancelled meanwhile: the agent ended the process (see CancelCommand).
      if (command.status !== 'InProgress') return;
      if (instance.transition !== transition) return fail('The instance stopped while the command ran.');
      completeCommand(account, command, instance, fail);
    });
  };
  account.after('commandDelivery', deliver);
}

/** What each document does on the simulated instance when it runs to its end. */
function completeCommand(account: SimulatedAccount, command: SimCommand, instance: SimInstance, fail: (stderr: string) => void): void {
  const p = command.parameters;
  const failure = account.failingDocuments.get(command.documentName);
  if (failure) return fail(failure);
  switch (command.documentName) {
    case 'AWS-ConfigureAWSPackage':
      if (p.name[0] !== 'AWSSupport-EC2Rescue') return fail(`Package ${p.name[0]} is not available in the simulated Region.`);
      instance.ec2RescueInstalled = p.action[0] === 'Install';
      break;
    case 'AWS-RunPowerShellScript': {
      const script = p.commands.join('\n');
      const device = offlineFixDevice(script);
      if (!device) return fail('The simulated helper only runs the offline password fix (Invoke-EC2RescueEnablePasswordGeneration -BlockDeviceName <device>).');
      if (!instance.ec2RescueInstalled) return fail('EC2Rescue is not installed: the EC2Rescue module and EC2RescueCmd.exe were not found.');
      const volume = account.volumeAt(instance.instanceId, device);
      if (!volume || volume.attachment!.state !== 'attached') return fail(`EC2RescueCmd.exe: no offline disk at ${device}.`);
      volume.passwordGenerationArmed = true;
      volume.generation++;
      account.moment(`offline-fix:${volume.volumeId}`);
      break;
    }
    case 'AWSSupport-RunEC2RescueForWindowsTool': {
      if (p.Command[0] !== 'ResetAccess') break;
      const name = `/EC2Rescue/Passwords/${instance.instanceId}`;
      const value = `REHEARSAL-OPAQUE-PARAMETER-VALUE/${randomBytes(12).toString('base64')}`;
      account.secrets.add(value);
      const previous = account.parameters.get(name);
      account.parameters.set(name, {
        name, value, type: 'SecureString', keyId: p.Parameters?.[0] ?? 'alias/aws/ssm', lastModified: account.now(), version: (previous?.version ?? 0) + 1,
      });
      command.stdout = `The new password was saved to ${name}.`;
      account.moment(`password-parameter:${instance.instanceId}`);
      break;
    }
  }
  command.status = 'Success';
  command.responseCode = 0;
}

/**
 * Whether a command may be writing on the instance: one that runs, or whose cancellation has not
 * ended it yet ("There is no guarantee that the command will be terminated and the underlying
 * process stopped", CancelCommand).
 */
export function commandMayWrite(account: SimulatedAccount, instanceId: string): boolean {
  return account.commands.some(c => c.instanceId === instanceId && (c.status === 'InProgress' || c.status === 'Cancelling'));
}

/** ListCommands' page size when the caller gives no MaxResults, and its maximum ("Maximum value of 50", SSM API reference). */
const LIST_COMMANDS_PAGE = 50;

/**
 * The device the offline password fix runs EC2Rescue on: the `-BlockDeviceName` argument of
 * `Invoke-EC2RescueEnablePasswordGeneration`, a literal or a `$Variable = '<value>'` of the script.
 */
export function offlineFixDevice(script: string): string | undefined {
  const call = script.match(/Invoke-EC2RescueEnablePasswordGeneration\s+-BlockDeviceName\s+(\$\w+|['"]?[\w/]+['"]?)/);
  if (!call) return undefined;
  const argument = call[1];
  if (!argument.startsWith('$')) return argument.replace(/['"]/g, '');
  const assignment = script.match(new RegExp(`\\${argument}\\s*=\\s*['"]([\\w/]+)['"]`));
  return assignment?.[1];
}

export const SSM_COMMAND_OPERATIONS: Operations = {
  DescribeInstanceInformation(account, input) {
    const ids = ((input.Filters ?? []) as any[]).find(f => f.Key === 'InstanceIds')?.Values as string[] | undefined;
    const registered = [...account.instances.values()].filter(i => i.ssmRegistered && i.state !== 'terminated' && (!ids || ids.includes(i.instanceId)));
    return {
      InstanceInformationList: registered.map(i => ({
        InstanceId: i.instanceId,
        PingStatus: i.pingStatus ?? 'ConnectionLost',
        PlatformType: i.platform === 'windows' ? 'Windows' : 'Linux',
      })),
    };
  },

  SendCommand(account, input) {
    if (!DOCUMENTS.includes(input.DocumentName)) throw ssmError('InvalidDocument', `Document ${input.DocumentName} does not exist in the simulated account.`);
    const ids = input.InstanceIds as string[];
    if (ids?.length !== 1) throw ssmError('InvalidInstanceId', 'The simulated account runs commands on exactly one instance.');
    const instance = account.instances.get(ids[0]);
    if (!instance || !instance.ssmRegistered || instance.state === 'terminated') {
      throw ssmError('InvalidInstanceId', 'Instances [[' + ids[0] + ']] not in a valid state for account ' + account.accountId);
    }
    const parameters = (input.Parameters ?? {}) as Record<string, string[]>;
    validateCommandParameters(input.DocumentName, parameters);
    const command: SimCommand = {
      commandId: `${randomHex(4)}-${randomHex(2)}-${randomHex(2)}-${randomHex(2)}-${randomHex(6)}`,
      instanceId: instance.instanceId,
      documentName: input.DocumentName,
      parameters,
      comment: input.Comment,
      requestedAt: account.now(),
      status: 'Pending',
      stdout: '',
      stderr: '',
      responseCode: -1,
    };
    account.commands.push(command);
    runCommand(account, command, instance, input.TimeoutSeconds ?? 3600);
    return { Command: { CommandId: command.commandId, DocumentName: command.documentName, Comment: command.comment, Status: 'Pending' } };
  },

  /**
   * "You can attempt to cancel a command as long as the service shows that it's in either a
   * Pending or Executing state. However, even if a command is still in one of these states, we
   * can't guarantee that the command will be canceled" (Systems Manager User Guide, Canceling a
   * command); `InvalidInstanceId` when "The managed node isn't in a valid state. Valid states are:
   * Running, Pending, Stopped, and Stopping" (CancelCommand). A cancelled command is Cancelling
   * until the agent ends it, then Cancelled, "a terminal state" (Understanding command statuses).
   * Assumption: on a command that is already over, the call succeeds and changes nothing.
   */
  CancelCommand(account, input) {
    const matching = account.commands.filter(c => c.commandId === input.CommandId);
    if (matching.length === 0) throw ssmError('InvalidCommandId', 'The specified command ID isn\'t valid. Verify the ID and try again.');
    for (const id of input.InstanceIds ?? []) {
      const instance = account.instances.get(id);
      if (!instance || ['shutting-down', 'terminated'].includes(instance.state)) {
        throw ssmError('InvalidInstanceId', `The managed node ${id} isn't in a valid state for CancelCommand.`);
      }
    }
    for (const command of matching.filter(c => !input.InstanceIds?.length || input.InstanceIds.includes(c.instanceId))) {
      if (command.status !== 'Pending' && command.status !== 'InProgress') continue;
      command.status = 'Cancelling';
      account.after('commandCancel', () => {
        if (command.status === 'Cancelling') command.status = 'Cancelled';
      });
    }
    return {};
  },

  /** Pages of at most MaxResults (default and maximum 50), then a NextToken for the next page. */
  ListCommands(account, input) {
    let list = account.commands.filter(c => !input.InstanceId || c.instanceId === input.InstanceId);
    if (input.CommandId) list = list.filter(c => c.commandId === input.CommandId);
    for (const filter of input.Filters ?? []) {
      if (filter.key === 'DocumentName') list = list.filter(c => c.documentName === filter.value);
      else throw ssmError('InvalidFilterKey', `The simulated account filters commands by DocumentName only, not ${filter.key}.`);
    }
    const offset = Number(input.NextToken ?? 0);
    const size = Math.min(input.MaxResults ?? LIST_COMMANDS_PAGE, LIST_COMMANDS_PAGE);
    const page = list.slice(offset, offset + size);
    return {
      ...(offset + size < list.length ? { NextToken: String(offset + size) } : {}),
      Commands: page.map(c => ({
        CommandId: c.commandId,
        DocumentName: c.documentName,
        Comment: c.comment,
        Status: c.status,
        InstanceIds: [c.instanceId],
        RequestedDateTime: new Date(c.requestedAt),
      })),
    };
  },

  GetCommandInvocation(account, input) {
    const command = account.commands.find(c => c.commandId === input.CommandId && c.instanceId === input.InstanceId);
    if (!command || account.now() - command.requestedAt < INVOCATION_VISIBLE_AFTER_SECONDS * 1000) {
      throw ssmError('InvocationDoesNotExist', 'An error occurred (InvocationDoesNotExist)');
    }
    return {
      CommandId: command.commandId,
      InstanceId: command.instanceId,
      DocumentName: command.documentName,
      Status: command.status,
      StatusDetails: command.status === 'TimedOut' ? (command.executionTimedOut ? 'ExecutionTimedOut' : 'DeliveryTimedOut') : command.status,
      ResponseCode: command.responseCode,
      StandardOutputContent: command.stdout,
      StandardErrorContent: command.stderr,
    };
  },
};
