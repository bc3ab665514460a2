import { paginateListCommands, SendCommandCommand } from '@aws-sdk/client-ssm';
import { ssm } from '../private/clients';
import { commandComment, commandSpec } from '../private/commands';
import { workflowConfig } from '../private/config';
import { CommandResult, ERRORS, SendCommandEvent } from '../private/contracts';
import { WorkflowError } from '../private/errors';
import { stepLogger } from '../private/logger';
import { OFFLINE_PASSWORD_FIX_SCRIPT } from '../private/offline-script';
import { COMMAND_DELIVERY_TIMEOUT_SECONDS } from '../private/timeouts';

const logger = stepLogger('send-command');

/** ListCommands' largest page (API reference: MaxResults "Maximum value of 50"). */
export const LIST_COMMANDS_PAGE_SIZE = 50;

/**
 * Sends one of the workflow's commands (an allow-list mapped to fixed SSM documents), or
 * returns the one this execution already sent (found by its comment), so a retry does
 * not run it twice.
 */
export async function handler(event: SendCommandEvent): Promise<CommandResult> {
  const { plan, command, targetInstanceId } = event;
  const config = workflowConfig();
  logger.appendKeys({ instanceId: plan.instanceId, executionName: plan.executionName, command, targetInstanceId });
  const spec = commandSpec(command, config, OFFLINE_PASSWORD_FIX_SCRIPT);
  if (spec.onHelper === (targetInstanceId === plan.instanceId)) {
    throw new WorkflowError(ERRORS.invalidInput, spec.onHelper
      ? `The ${command} command runs on the helper, not on the target ${plan.instanceId}; pass the helper's instance id.`
      : `The ${command} command runs on the target ${plan.instanceId}; pass its instance id, not ${targetInstanceId}.`);
  }
  const comment = commandComment(command, plan);

  const sent = await findSentCommand(targetInstanceId, spec.documentName, comment);
  if (sent) {
    logger.info('Command already sent', { commandId: sent.commandId, status: sent.status });
    return { commandId: sent.commandId, instanceId: targetInstanceId };
  }

  const out = await ssm.send(new SendCommandCommand({
    InstanceIds: [targetInstanceId],
    DocumentName: spec.documentName,
    Parameters: spec.parameters,
    TimeoutSeconds: COMMAND_DELIVERY_TIMEOUT_SECONDS,
    Comment: comment,
  }));
  const commandId = out.Command?.CommandId;
  if (!commandId) throw new Error('SendCommand returned no command id.');
  logger.info('Command sent', { commandId, documentName: spec.documentName });
  return { commandId, instanceId: targetInstanceId };
}

/**
 * The command this execution already sent (found by its comment), reading every page of
 * ListCommands until it is found: an instance with many commands of the same document (a
 * helper reused by retries, a target managed by other tools) may list it past the first page.
 */
async function findSentCommand(
  instanceId: string, documentName: string, comment: string,
): Promise<{ commandId: string; status?: string } | undefined> {
  const pages = paginateListCommands({ client: ssm, pageSize: LIST_COMMANDS_PAGE_SIZE }, {
    InstanceId: instanceId,
    Filters: [{ key: 'DocumentName', value: documentName }],
  });
  for await (const page of pages) {
    const sent = page.Commands?.find(c => c.Comment === comment && c.CommandId);
    if (sent) return { commandId: sent.CommandId!, status: sent.Status };
  }
  return undefined;
}
