import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Acknowledgement, RequestedMethod, ResetRequest } from '../../src/workflow/private/contracts';
import { CliError, toCliError } from '../core/errors';
import { EXIT_CODES } from '../core/exit-codes';
import { resumeCommand } from '../core/hints';
import type { CliEnvironment } from '../environment';
import { watchExecution } from '../watch';
import {
  checkInstanceId, CommandResult, createRenderer, executionName, GlobalOptions, reportExecution, resetStateMachine, resolveStateMachineArn,
  withRestore, writeLines,
} from './shared';

export interface ResetOptions extends GlobalOptions {
  readonly method: RequestedMethod;
  readonly passwordEnabledAmi?: boolean;
  readonly ack?: Acknowledgement[];
  readonly dryRun?: boolean;
  /** Start and return at once (the execution ARN), without watching. */
  readonly wait: boolean;
  readonly pollSeconds: number;
}

/** The request fields the options ask for (a single reset's and a fleet's), only those set. */
export function requestedOptions(options: ResetOptions): Omit<ResetRequest, 'instanceId'> {
  return {
    method: options.method,
    ...(options.passwordEnabledAmi ? { passwordEnabledAmi: true } : {}),
    ...(options.ack && options.ack.length > 0 ? { acknowledge: [...new Set(options.ack)] } : {}),
    ...(options.dryRun ? { dryRun: true } : {}),
  };
}

/**
 * `reset <instance-id>`: starts the reset state machine and follows it to the end (or, with
 * `--dry-run` and for `preflight`, to its plan).
 */
export async function resetCommand(env: CliEnvironment, instanceIdArg: string, options: ResetOptions): Promise<CommandResult> {
  const instanceId = checkInstanceId(instanceIdArg);
  const clients = env.createClients(options);
  const stateMachineArn = await resolveStateMachineArn(clients, resetStateMachine(options));
  const request: ResetRequest = { instanceId, ...requestedOptions(options) };
  const name = executionName(instanceId, env.now(), env.randomSuffix(), options.dryRun === true);
  let executionArn: string;
  try {
    const started = await clients.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(request) }));
    executionArn = started.executionArn ?? '';
  } catch (err) {
    throw toCliError(err);
  }
  if (!executionArn) throw new CliError('Unexpected', 'StartExecution returned no execution ARN.');

  if (!options.json) {
    const what = options.dryRun ? `Preflight of ${instanceId} (dry run, changes nothing)` : `Reset of ${instanceId} (method ${options.method})`;
    env.stderr.write(`${what} started: ${executionArn}\n`);
    if (options.wait && !options.dryRun) env.stderr.write('Ctrl-C stops watching; the reset goes on.\n');
  }
  if (!options.wait) {
    if (!options.json) writeLines(env, [executionArn, `Watch it:  ${resumeCommand(options, executionArn)}`]);
    return { exitCode: EXIT_CODES.ok, document: { executionArn, executionName: name, instanceId, status: 'RUNNING', request } };
  }
  try {
    const pollMs = options.pollSeconds * 1000;
    const watched = await watchExecution(env, clients.sfn, executionArn, createRenderer(env, options.json), { follow: true, pollMs });
    return await withRestore(env, clients, options, watched, reportExecution(env, options, watched), { follow: true, pollMs });
  } catch (err) {
    throw toCliError(err);
  }
}
