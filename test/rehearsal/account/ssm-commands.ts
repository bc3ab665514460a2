/**
 * Systems Manager's agent and Run Command: when an instance's agent is Online, which instances
 * take commands, how a command moves Pending → InProgress → Success/Failed/TimedOut, and what the
 * documents the workflow sends do on the simulated instance (install EC2Rescue, the offline
 * password fix on an attached volume, the online ResetAccess that writes a parameter).
 *
 * Documents quoted (Systems Manager API Reference, https://docs.aws.amazon.com/systems-manager/latest/APIReference/;
 * Systems Manager User Guide, https://docs.aws.amazon.com/systems-manager/latest/userguide/):
 * - [SC] SendCommand (API_SendCommand.html). [CC] CancelCommand (API_CancelCommand.html). [LC] ListCommands
 *   (API_ListCommands.html). [GCI] GetCommandInvocation (API_GetCommandInvocation.html). [DII]
 *   DescribeInstanceInformation (API_DescribeInstanceInformation.html).
 * - [STATUS] User Guide, "Understanding command statuses" (monitor-commands.html). [CANCEL] "Canceling a command"
 *   (cancel-run-command.html). [AVAIL] "Troubleshooting managed node availability"
 *   (fleet-manager-troubleshooting-managed-nodes.html). [S3] minimum S3 bucket permissions for SSM Agent
 *   (ssm-agent-minimum-s3-permissions.html).
 * - [FLOW] shared/reference/aws-reset-access-flow.md (AWS's AWSSupport-ResetAccess runbook and documents, as read).
 */
import { randomBytes } from 'node:crypto';
import type { Operations, SimulatedAccount } from './account';
import type { SimInstance } from './ec2-instances';
import { reachesSystemsManager, s3GatewayAllows } from './ec2-vpc-endpoints';
import { helperHost } from './ec2rescue';
import { ssmError } from './errors';
import { randomHex } from './ids';
import { parsePowerShell, runPowerShell } from './powershell';
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

/**
 * The documents Run Command knows in this account, and what they need. assumption: only the three the
 * workflow sends exist here (a real account has many more; an unknown name is SendCommand's InvalidDocument,
 * "The specified SSM document doesn't exist", Systems Manager API Reference, SendCommand).
 */
const DOCUMENTS = ['AWS-ConfigureAWSPackage', 'AWS-RunPowerShellScript', 'AWSSupport-RunEC2RescueForWindowsTool'];
// ([SC] InvalidDocument is the reference's error for that.)
/**
 * AWSSupport-RunEC2RescueForWindowsTool's `Parameters` for ResetAccess: a key id or an alias of up to 32
 * characters. Source: the document's parameter pattern as published (shared/reference/aws-reset-access-flow.md,
 * "the document's pattern accepts a key id or an alias of up to 32 characters, not a key ARN").
 */
const RESET_ACCESS_KMS_PATTERN = /^(alias\/[a-zA-Z0-9/_-]{1,26}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
/**
 * ListCommands' page size when MaxResults is not given. assumption: the reference gives only the range
 * (1 to 50), not the default; a page smaller than the maximum makes a reader that ignores NextToken fail sooner.
 */
export const LIST_COMMANDS_DEFAULT_PAGE_SIZE = 10;
/**
 * How long after SendCommand the invocation is visible to GetCommandInvocation. assumption: half a second; [GCI]
 * InvocationDoesNotExist "The command ID and managed node ID you specified didn't match any invocations", which
 * callers meet right after SendCommand (eventual consistency) and must retry.
 */
export const INVOCATION_VISIBLE_AFTER_SECONDS = 0.5;

// ------------------------------------------------------------------ the agent (follows the instance's lifecycle, ec2-instances.ts)

/**
 * An instance whose agent runs with a usable role registers Online some time after it is running,
 * if it reaches the Systems Manager endpoints. assumption: the agent starts with Windows and
 * registers once it reaches the ssm endpoints; the delay is the modelled `windowsBootToSsmOnline`
 * (latencies.ts, AWS's runbook waits up to 600 s for Online). The network rule is
 * ec2-vpc-endpoints.ts `reachesSystemsManager`: in the rescue VPC, whose subnets have no route out,
 * only the ssm, ssmmessages and ec2messages interface endpoints (available, private DNS) lead
 * there; until they do, the agent tries again every `ssmAgentRetry` (assumption: "SSM Agent ...
 * requires ... connectivity to the Systems Manager endpoints" and keeps retrying; the node is not
 * Online meanwhile: [AVAIL]).
 */
export function agentRegistersAfterBoot(account: SimulatedAccount, instance: SimInstance): void {
  if (!instance.ssmAgent) return;
  const t = instance.transition;
  const register = () => {
    if (instance.transition !== t) return;
    if (!reachesSystemsManager(account, instance.subnetId)) {
      account.after('ssmAgentRetry', register);
      return;
    }
    instance.ssmRegistered = true;
    instance.pingStatus = 'Online';
    account.moment(`ssm-online:${instance.instanceId}`);
  };
  account.after('windowsBootToSsmOnline', register);
}

/**
 * The S3 bucket AWS-ConfigureAWSPackage downloads Distributor packages from in a Region:
 * `<region>-birdwatcher-prod`, `aws-ssm-distributor-file-<region>` in af-south-1 and eu-south-1
 * ([S3]: `<region>-birdwatcher-prod` "Provides access to the distribution service ... used to run the document
 * AWS-ConfigureAWSPackage", in all Regions except those it names, which use `aws-ssm-distributor-file-<region>`;
 * [FLOW], "A helper with no internet"). Written here
 * from the guide, not taken from the construct's list, so the rule does not repeat its belief.
 */
export function distributorBucket(region: string): string {
  return ['af-south-1', 'eu-south-1'].includes(region) ? `aws-ssm-distributor-file-${region}` : `${region}-birdwatcher-prod`;
}

/**
 * An instance that stops or shuts down loses its agent's connection at once. assumption: Systems Manager marks
 * the node ConnectionLost when its agent stops reporting (DescribeInstanceInformation's PingStatus values are
 * Online | ConnectionLost | Inactive); the real mark comes after some minutes, earlier here, which only makes a
 * command sent to a stopping instance wait (Pending) rather than be accepted.
 */
export function agentLosesConnection(instance: SimInstance): void {
  if (instance.pingStatus) instance.pingStatus = 'ConnectionLost';
}

// ------------------------------------------------------------------ Run Command

/**
 * The parameters each document requires (SendCommand's InvalidParameters: "You must specify values for all
 * required parameters in the Amazon Web Services Systems Manager document (SSM document)"): AWS-ConfigureAWSPackage's
 * `action` (Install | Uninstall) and `name` (Systems Manager User Guide, "Install or update packages"),
 * AWS-RunPowerShellScript's `commands`, AWSSupport-RunEC2RescueForWindowsTool's `Command` (ResetAccess | CollectLogs |
 * FixAll, shared/reference/aws-reset-access-flow.md).
 */
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
    // SendCommand, TimeoutSeconds: "If this time is reached and the command hasn't already started running, it
    // won't run." (Systems Manager API Reference.) assumption: until then delivery is retried every 5 s while the
    // node is not Online (the agent polls for commands; Run Command shows the invocation Pending meanwhile).
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
      // assumption: a command whose instance stops or terminates while it runs ends Failed (the agent that ran it
      // is gone; Run Command reports no success for it).
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
      // assumption: the only Distributor package of the simulated Region is AWSSupport-EC2Rescue (the one the
      // workflow installs; AWS's runbook installs the same, shared/reference/aws-reset-access-flow.md step 16).
      if (p.name[0] !== 'AWSSupport-EC2Rescue') return fail(`Package ${p.name[0]} is not available in the simulated Region.`);
      // The package is downloaded from the Region's Distributor bucket: through the S3 gateway endpoint in the rescue VPC,
      // whose policy must allow it (ec2-vpc-endpoints.ts s3GatewayAllows). assumption: the object key below; only the bucket matters to the policy.
      if (!s3GatewayAllows(account, instance.subnetId, distributorBucket(account.region), `${p.name[0]}/manifest.json`)) {
        return fail(`Failed to download manifest - failed to retrieve package document: AccessDenied on s3://${distributorBucket(account.region)} (the VPC's S3 endpoint policy does not allow it).`);
      }
      instance.ec2RescueInstalled = p.action[0] === 'Install';
      break;
    case 'AWS-RunPowerShellScript': {
      // The script's own control flow runs (powershell.ts) on the helper as modelled (ec2rescue.ts): what it
      // prints is the invocation's output, its exit code decides Success or Failed (AWS-RunPowerShellScript
      // reports a non-zero exit code as a failed command).
      const run = runPowerShell(parsedScript(p.commands.join('\n')), helperHost(account, instance));
      command.stdout = run.stdout;
      command.stderr = run.stderr;
      if (run.exitCode !== 0) {
        command.status = 'Failed';
        command.responseCode = run.exitCode;
        return;
      }
      break;
    }
    case 'AWSSupport-RunEC2RescueForWindowsTool': {
      // [FLOW]: ResetAccess sets a new random password and saves it as the SecureString parameter
      // /EC2Rescue/Passwords/<instance id>, encrypted with the key `Parameters` names (alias/aws/ssm by default).
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

/** Parsed scripts by their text (a command's script is parsed once, however often it runs). */
const PARSED = new Map<string, ReturnType<typeof parsePowerShell>>();

function parsedScript(script: string): ReturnType<typeof parsePowerShell> {
  let program = PARSED.get(script);
  if (!program) {
    program = parsePowerShell(script);
    PARSED.set(script, program);
  }
  return program;
}

export const SSM_COMMAND_OPERATIONS: Operations = {
  /**
   * [DII] The managed nodes registered with Systems Manager, with their PingStatus (Online | ConnectionLost |
   * Inactive) and PlatformType; filter key InstanceIds. assumption: a terminated node is no longer listed
   * (AWS lists it as Inactive for a while; the workflow treats both as "not Online").
   */
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
    // assumption (a limit of the simulator, not of AWS, which takes up to 50 ids): one instance per command.
    if (ids?.length !== 1) throw ssmError('InvalidInstanceId', 'The simulated account runs commands on exactly one instance.');
    const instance = account.instances.get(ids[0]);
    // SendCommand's InvalidInstanceId: "SSM Agent isn't registered with the SSM endpoint ... The managed node isn't
    // in a valid state. Valid states are: Running, Pending, Stopped, and Stopping. Invalid states are:
    // Shutting-down and Terminated." (Systems Manager API Reference, SendCommand, Errors.)
    if (!instance || !instance.ssmRegistered || ['shutting-down', 'terminated'].includes(instance.state)) {
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
    // [CC] InvalidCommandId: "The specified command ID isn't valid. Verify the ID and try again."
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

  ListCommands(account, input) {
    // Systems Manager API Reference, ListCommands (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_ListCommands.html):
    // MaxResults "Valid Range: Minimum value of 1. Maximum value of 50."; "The call also returns a token
    // that you can specify in a subsequent call to get the next set of results."
    const pageSize = input.MaxResults ?? LIST_COMMANDS_DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 50) {
      throw ssmError('ValidationException', `1 validation error detected: Value '${pageSize}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50`);
    }
    let list = account.commands.filter(c => !input.InstanceId || c.instanceId === input.InstanceId);
    if (input.CommandId) list = list.filter(c => c.commandId === input.CommandId);
    for (const filter of input.Filters ?? []) {
      if (filter.key === 'DocumentName') list = list.filter(c => c.documentName === filter.value);
      else throw ssmError('InvalidFilterKey', `The simulated account filters commands by DocumentName only, not ${filter.key}.`);
    }
    // assumption: the newest command first (what the console and the CLI show); the reference names no order,
    // and newest-first puts an execution's earlier command furthest from the first page.
    list = [...list].reverse();
    const start = input.NextToken ? Number(Buffer.from(input.NextToken, 'base64url').toString().replace(/^after:/, '')) : 0;
    if (input.NextToken && !Number.isInteger(start)) throw ssmError('InvalidNextToken', 'The specified token is not valid.');
    const page = list.slice(start, start + pageSize);
    const more = start + pageSize < list.length;
    return {
      Commands: page.map(c => ({
        CommandId: c.commandId,
        DocumentName: c.documentName,
        Comment: c.comment,
        Status: c.status,
        InstanceIds: [c.instanceId],
        RequestedDateTime: new Date(c.requestedAt),
      })),
      ...(more ? { NextToken: Buffer.from(`after:${start + pageSize}`).toString('base64url') } : {}),
    };
  },

  /**
   * [GCI] the invocation's Status and StatusDetails ([STATUS]: a TimedOut command is "Delivery Timed Out" when the
   * command "wasn't delivered to the managed node before the delivery timeout expired", "Execution Timed Out" when
   * it started and did not finish in time; assumption: the API spells them DeliveryTimedOut and ExecutionTimedOut,
   * as the SDK's ListCommands text does; the workflow only logs them), ResponseCode ([GCI]: -1 when the command
   * "hasn't started running on the managed node, or it wasn't received by the node") and its output.
   */
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
