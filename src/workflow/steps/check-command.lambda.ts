import { GetCommandInvocationCommand } from '@aws-sdk/client-ssm';
import { ssm } from '../private/clients';
import { COMMAND_FAILED_STATES, sanitizeExcerpt } from '../private/commands';
import { CheckCommandEvent, ERRORS, PollResult } from '../private/contracts';
import { WorkflowError, isAwsError } from '../private/errors';
import { stepLogger } from '../private/logger';
import { COMMAND_POLL_SECONDS } from '../private/timeouts';

const logger = stepLogger('check-command');

/**
 * Polls a command invocation. Success is done; Failed, Cancelled or TimedOut fail with
 * `CommandFailed` and a short, sanitized excerpt of the error output. Standard output is
 * never read into the result or the logs: the online reset's could describe the password.
 */
export async function handler(event: CheckCommandEvent): Promise<PollResult> {
  const { plan, command } = event;
  logger.appendKeys({
    instanceId: plan.instanceId, executionName: plan.executionName, commandId: command.commandId, commandInstanceId: command.instanceId,
  });
  let invocation;
  try {
    invocation = await ssm.send(new GetCommandInvocationCommand({ CommandId: command.commandId, InstanceId: command.instanceId }));
  } catch (err) {
    // Right after SendCommand the invocation may not exist yet.
    if (isAwsError(err, 'InvocationDoesNotExist')) {
      return { done: false, waitSeconds: COMMAND_POLL_SECONDS.undelivered, status: 'command not yet delivered' };
    }
    throw err;
  }
  const status = invocation.Status ?? 'Pending';
  logger.info('Command status', { status, statusDetails: invocation.StatusDetails, responseCode: invocation.ResponseCode });
  if (status === 'Success') {
    return { done: true, waitSeconds: 0, status: 'command succeeded' };
  }
  if (COMMAND_FAILED_STATES.includes(status)) {
    const excerpt = sanitizeExcerpt(invocation.StandardErrorContent);
    throw new WorkflowError(ERRORS.commandFailed,
      `Run Command ${command.commandId} (${invocation.DocumentName ?? 'document'}) ended ${status}${invocation.StatusDetails && invocation.StatusDetails !== status ? ` (${invocation.StatusDetails})` : ''} on ${command.instanceId}` +
      `${excerpt ? `: ${excerpt}` : ''}; see the command's output in Systems Manager Run Command history.`);
  }
  return { done: false, waitSeconds: COMMAND_POLL_SECONDS.running, status: `command ${status}` };
}
