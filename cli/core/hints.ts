/**
 * The commands the CLI suggests (resume watching, run the planned reset, get the password, run
 * the restore again) must work when pasted: they carry the `--region` and `--profile` the operator
 * used, and, for commands that look up the state machine, its parameter or ARN when not the default.
 */

/** The name of the command, as operators type it. */
export const BIN = 'cdk-ec2-reset-access';

/** Where ResetAccess publishes the state machine's ARN (`DEFAULT_STATE_MACHINE_ARN_PARAMETER`). */
export const DEFAULT_STATE_MACHINE_PARAMETER = '/cdk-ec2-reset-access/state-machine-arn';

/** Where FleetReset publishes the fleet state machine's ARN (`DEFAULT_FLEET_STATE_MACHINE_ARN_PARAMETER`). */
export const DEFAULT_FLEET_STATE_MACHINE_PARAMETER = '/cdk-ec2-reset-access/fleet-state-machine-arn';

/** What the operator gave on the command line to reach AWS and the workflow. */
export interface Connection {
  readonly region?: string;
  readonly profile?: string;
  readonly stateMachineArn?: string;
  readonly stateMachineParameter?: string;
}

/** `'…'` for a POSIX shell, only when the text needs it. */
export function shellQuote(text: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, '\'\\\'\'')}'`;
}

/** ` --region <r> --profile <p>`, with what was given: the same flags for this CLI and the AWS CLI. */
export function awsFlags(connection: Connection): string {
  return [
    connection.region ? ` --region ${shellQuote(connection.region)}` : '',
    connection.profile ? ` --profile ${shellQuote(connection.profile)}` : '',
  ].join('');
}

/** The state machine flags of a command that finds the workflow itself (`reset`, `status <instance-id>`). */
function stateMachineFlags(connection: Connection): string {
  if (connection.stateMachineArn) return ` --state-machine-arn ${shellQuote(connection.stateMachineArn)}`;
  const parameter = connection.stateMachineParameter;
  return parameter && parameter !== DEFAULT_STATE_MACHINE_PARAMETER ? ` --state-machine-parameter ${shellQuote(parameter)}` : '';
}

/** `cdk-ec2-reset-access <args> --region … --profile …`. `findsWorkflow`: also the state machine flags. */
export function cliCommand(connection: Connection, args: string, options: { findsWorkflow?: boolean } = {}): string {
  return `${BIN} ${args}${awsFlags(connection)}${options.findsWorkflow ? stateMachineFlags(connection) : ''}`;
}

/** `status <execution-arn>`: the ARN names the Region and the execution, so only the profile and Region are repeated. */
export function resumeCommand(connection: Connection, executionArn: string): string {
  return cliCommand(connection, `status ${executionArn}`);
}
