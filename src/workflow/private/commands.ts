import { createHash } from 'node:crypto';
import { ERRORS, ResetPlan, WorkflowCommand, WorkflowConfig } from './contracts';
import { WorkflowError } from './errors';
import { COMMAND_EXECUTION_TIMEOUT_SECONDS } from './timeouts';

/** An SSM document and its parameters, as SendCommand takes them. */
export interface CommandSpec {
  readonly documentName: string;
  readonly parameters: Record<string, string[]>;
  /** Whether it runs on the helper (true) or on the target (false). */
  readonly onHelper: boolean;
}

export const EC2RESCUE_PACKAGE = 'AWSSupport-EC2Rescue';

/**
 * The allow-list of what the workflow runs through Run Command. Nothing else can be sent:
 * the step maps a {@link WorkflowCommand} to a fixed document with fixed parameters.
 */
export function commandSpec(command: WorkflowCommand, config: WorkflowConfig, offlineScript: string): CommandSpec {
  switch (command) {
    case 'install-ec2rescue':
      return {
        documentName: 'AWS-ConfigureAWSPackage',
        parameters: { action: ['Install'], name: [EC2RESCUE_PACKAGE], version: ['latest'] },
        onHelper: true,
      };
    case 'offline-password-fix':
      return {
        documentName: 'AWS-RunPowerShellScript',
        parameters: { commands: [offlineScript], executionTimeout: [String(COMMAND_EXECUTION_TIMEOUT_SECONDS['offline-password-fix'])] },
        onHelper: true,
      };
    case 'online-reset':
      return {
        documentName: 'AWSSupport-RunEC2RescueForWindowsTool',
        parameters: { Command: ['ResetAccess'], Parameters: [config.onlineKmsKey] },
        onHelper: false,
      };
    default:
      throw new WorkflowError(ERRORS.invalidInput, `Unknown workflow command ${JSON.stringify(command)}; use install-ec2rescue, offline-password-fix or online-reset.`);
  }
}

/**
 * The Run Command comment that names the execution (at most 100 characters). It also
 * identifies a command already sent by this execution, so a retried send finds it instead
 * of sending a second one.
 */
export function commandComment(command: WorkflowCommand, plan: Pick<ResetPlan, 'executionArn' | 'executionName'>): string {
  const hash = createHash('sha256').update(plan.executionArn).digest('hex').slice(0, 8);
  return `${command} ${hash} ${plan.executionName}`.slice(0, 100);
}

/** The states after which a command invocation will not change any more. */
export const COMMAND_FAILED_STATES = ['Failed', 'Cancelled', 'TimedOut', 'Cancelling'];

/**
 * A short excerpt of a command's error output that is safe to show in the execution
 * history: at most `max` characters, control characters removed, anything that looks
 * like a password or a secret assignment redacted. Standard output is never used.
 */
export function sanitizeExcerpt(text: string | undefined, max = 500): string {
  if (!text) return '';
  const cleaned = text
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ')
    .replace(/\b(password|passwd|pwd|secret|token|key)(\s*[:=]\s*|\s+is\s+)\S+/gi, '$1$2[redacted]')
    .replace(/\s+/g, ' ')
    .trim();
  return cleaned.length > max ? `${cleaned.slice(0, max - 3)}...` : cleaned;
}
