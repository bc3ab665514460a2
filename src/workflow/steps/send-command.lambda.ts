import { ListCommandsCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import { ssm } from '../private/clients';
import { commandComment, commandSpec } from '../private/commands';
import { workflowConfig } from '../private/config';
import { CommandResult, ERRORS, SendCommandEvent } from '../private/contracts';
import { WorkflowError } from '../private/errors';
import { stepLogger } from '../private/logger';
import { OFFLINE_PASSWORD_FIX_SCRIPT } from '../private/offline-script';
import { COMMAND_DELIVERY_TIMEOUT_SECONDS } from '../private/timeouts';

const logger = stepLogger('send-command');

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

  const previous = await ssm.send(new ListCommandsCommand({
    InstanceId: targetInstanceId,
    Filters: [{ key: 'DocumentName', value: spec.documentName }],
  }));
  const sent = previous.Commands?.find(c => c.Comment === comment && c.CommandId);
  if (sent) {
    logger.info('Command already sent', { commandId: sent.CommandId, status: sent.Status });
    return { commandId: sent.CommandId!, instanceId: targetInstanceId };
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
