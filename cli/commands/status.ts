import { DescribeExecutionCommand, ExecutionListItem, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { CliError, toCliError } from '../core/errors';
import type { AwsClients, CliEnvironment } from '../environment';
import { watchExecution } from '../watch';
import {
  checkInstanceId, CommandResult, createRenderer, executionArnRegion, executionInput, GlobalOptions, reportExecution,
  resetStateMachine, resolveStateMachineArn, withRestore,
} from './shared';

export interface StatusOptions extends GlobalOptions {
  /** Follow a running execution to its end (default), or report it as it is now. */
  readonly wait: boolean;
  readonly pollSeconds: number;
}

/** How many of the latest executions `status <instance-id>` looks through. */
const LOOK_BACK = 100;
/** How many of them it describes when none is named after the instance (started elsewhere than this CLI). */
const DESCRIBE_AT_MOST = 10;

/**
 * `status <execution-arn | instance-id>`: the steps so far and the outcome; follows a running execution.
 * An execution ARN names its Region, and the execution is only there: that Region is used.
 */
export async function statusCommand(env: CliEnvironment, target: string, givenOptions: StatusOptions): Promise<CommandResult> {
  const arnRegion = target.startsWith('arn:') ? executionArnRegion(target) : undefined;
  if (arnRegion && givenOptions.region && givenOptions.region !== arnRegion && !givenOptions.json) {
    env.stderr.write(`The execution is in ${arnRegion} (its ARN says so); --region ${givenOptions.region} is not used.\n`);
  }
  const clients = env.createClients(arnRegion ? { ...givenOptions, region: arnRegion } : givenOptions);
  // The hints it prints repeat the operator's --region, corrected to the ARN's.
  const options = arnRegion && givenOptions.region ? { ...givenOptions, region: arnRegion } : givenOptions;
  try {
    const executionArn = arnRegion ? target : await latestExecutionOf(clients, checkInstanceId(target), options);
    // Fails early with ExecutionNotFound for a wrong ARN.
    const execution = await clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
    const follow = options.wait && execution.status === 'RUNNING';
    if (!options.json) {
      const instanceId = executionInput(execution).instanceId ?? 'an unknown instance';
      env.stderr.write(`Reset of ${instanceId}: ${executionArn}\n`);
      if (follow) env.stderr.write('Ctrl-C stops watching; the reset goes on.\n');
    }
    const pollMs = options.pollSeconds * 1000;
    const watched = await watchExecution(env, clients.sfn, executionArn, createRenderer(env, options.json), { follow, pollMs });
    // The restore of an ended reset is followed while it runs, unless --no-wait.
    return await withRestore(env, clients, options, watched, reportExecution(env, options, watched), { follow: options.wait, pollMs });
  } catch (err) {
    throw toCliError(err);
  }
}

/**
 * The newest reset (not a dry run) of an instance: first by the name this CLI gives executions
 * (`<instance-id>-…`), else by the input of the newest few executions (started from the console
 * or the AWS CLI).
 */
async function latestExecutionOf(clients: AwsClients, instanceId: string, options: GlobalOptions): Promise<string> {
  const stateMachineArn = await resolveStateMachineArn(clients, resetStateMachine(options));
  const listed = await clients.sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: LOOK_BACK }));
  const executions: ExecutionListItem[] = listed.executions ?? [];
  const named = executions.find(e => e.name?.startsWith(`${instanceId}-`) && !e.name.startsWith(`${instanceId}-preflight-`));
  if (named?.executionArn) return named.executionArn;
  for (const item of executions.slice(0, DESCRIBE_AT_MOST)) {
    if (!item.executionArn) continue;
    const input = executionInput(await clients.sfn.send(new DescribeExecutionCommand({ executionArn: item.executionArn })));
    if (input.instanceId === instanceId && !input.dryRun) return item.executionArn;
  }
  throw new CliError('ExecutionNotFound', `No reset of ${instanceId} among the latest ${LOOK_BACK} executions of ${stateMachineArn}.`);
}
