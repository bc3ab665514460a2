import {
  DescribeExecutionCommand, DescribeExecutionCommandOutput, ExecutionListItem, GetExecutionHistoryCommand, paginateListExecutions, SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { FleetSummary } from '../../src/workflow/private/fleet-outcome';
import type { FleetRequest } from '../../src/workflow/private/fleet-request';
import { CliError, toCliError } from '../core/errors';
import { EXIT_CODES } from '../core/exit-codes';
import { fleetSummaryLines, FleetRow, fleetRowLine } from '../core/fleet-table';
import { parseJsonObject } from '../core/json';
import type { CliEnvironment } from '../environment';
import { requestedOptions, ResetOptions } from './reset';
import { checkInstanceId, CommandResult, resolveStateMachineArn, writeLines } from './shared';

/** A single reset's options, with the fleet machine and the tag selector. */
export interface FleetOptions extends ResetOptions {
  readonly fleetStateMachineArn: string;
  readonly tag?: string;
}

/** `--tag key=value[,value...]` as the fleet's tag selector. */
export function tagSelector(text: string): { tagKey: string; tagValues: string[] } {
  const at = text.indexOf('=');
  const values = at > 0 ? text.slice(at + 1).split(',').filter(v => v.length > 0) : [];
  if (at <= 0 || values.length === 0) {
    throw new CliError('InvalidArguments', `"${text}" is not a tag selector: give --tag key=value (several values: key=a,b).`);
  }
  return { tagKey: text.slice(0, at), tagValues: values };
}

/**
 * `fleet <instance-id...> | --tag key=value`: starts a FleetReset execution and follows it: one line
 * each time an instance's reset moves to another step or ends (instance, AZ, step, outcome), then the
 * outcome of every instance and the counts.
 */
export async function fleetCommand(env: CliEnvironment, ids: string[], options: FleetOptions): Promise<CommandResult> {
  if ((ids.length > 0) === (options.tag !== undefined)) {
    throw new CliError('InvalidArguments', 'Give instance ids or --tag key=value, one of the two.');
  }
  const targets = options.tag !== undefined ? tagSelector(options.tag) : [...new Set(ids.map(checkInstanceId))];
  const request: FleetRequest = { targets, ...requestedOptions(options) };
  const clients = env.createClients(options);
  const stamp = env.now().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  let executionArn: string;
  try {
    const started = await clients.sfn.send(new StartExecutionCommand({
      stateMachineArn: options.fleetStateMachineArn, name: `fleet-${options.dryRun ? 'plan-' : ''}${stamp}-${env.randomSuffix()}`, input: JSON.stringify(request),
    }));
    executionArn = started.executionArn ?? '';
  } catch (err) {
    throw toCliError(err);
  }
  if (!executionArn) throw new CliError('Unexpected', 'StartExecution returned no execution ARN.');
  if (!options.json) env.stderr.write(`Fleet reset started: ${executionArn}\n`);
  if (!options.wait) {
    if (!options.json) writeLines(env, [executionArn]);
    return { exitCode: EXIT_CODES.ok, document: { executionArn, status: 'RUNNING', request } };
  }

  try {
    const resetMachineArn = await resolveStateMachineArn(clients, options);
    const execution = await followFleet(env, clients.sfn, executionArn, resetMachineArn, options);
    return report(env, options, executionArn, execution);
  } catch (err) {
    throw toCliError(err);
  }
}

/** Polls the fleet until it ends, printing each instance's step changes (its children: executions of the reset machine). */
async function followFleet(
  env: CliEnvironment, sfn: SFNClient, executionArn: string, resetMachineArn: string, options: FleetOptions,
): Promise<DescribeExecutionCommandOutput> {
  const children = new Map<string, { instanceId: string; shown: string }>();
  let zones: Record<string, string> = {};
  for (;;) {
    const fleet = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (Object.keys(zones).length === 0) zones = await plannedZones(sfn, executionArn);
    for (const child of await childrenOf(sfn, resetMachineArn, fleet.startDate)) {
      const known = children.get(child.executionArn!) ?? { instanceId: await instanceOf(sfn, child.executionArn!), shown: '' };
      const step = child.status === 'RUNNING' ? await currentStep(sfn, child.executionArn!) : child.status ?? '';
      if (step !== known.shown && !options.json) {
        env.stderr.write(`${fleetRowLine({ instanceId: known.instanceId, availabilityZone: zones[known.instanceId] ?? '', step, outcome: '' })}\n`);
      }
      children.set(child.executionArn!, { ...known, shown: step });
    }
    if (fleet.status !== 'RUNNING') return fleet;
    await env.sleep(options.pollSeconds * 1000);
  }
}

/** Each instance's AZ, from the PlanFleet step's result once it is in the history. */
async function plannedZones(sfn: SFNClient, executionArn: string): Promise<Record<string, string>> {
  const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 20 }));
  for (const event of history.events ?? []) {
    type Planned = { targets?: Array<{ instanceId: string; availabilityZone: string }> };
    const output = parseJsonObject(event.taskSucceededEventDetails?.output) as Planned | undefined;
    if (output?.targets) return Object.fromEntries(output.targets.map(t => [t.instanceId, t.availabilityZone]));
  }
  return {};
}

async function childrenOf(sfn: SFNClient, resetMachineArn: string, since: Date | undefined): Promise<ExecutionListItem[]> {
  const out: ExecutionListItem[] = [];
  for await (const page of paginateListExecutions({ client: sfn }, { stateMachineArn: resetMachineArn })) {
    const items = page.executions ?? [];
    out.push(...items.filter(e => !since || (e.startDate && e.startDate >= since)));
    // Newest first: once a page reaches before the fleet started, the rest is older.
    if (since && items.some(e => e.startDate && e.startDate < since)) break;
  }
  return out;
}

async function instanceOf(sfn: SFNClient, executionArn: string): Promise<string> {
  const child = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  return (parseJsonObject(child.input) as { instanceId?: string } | undefined)?.instanceId ?? '?';
}

async function currentStep(sfn: SFNClient, executionArn: string): Promise<string> {
  const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 10 }));
  return history.events?.find(e => e.stateEnteredEventDetails)?.stateEnteredEventDetails?.name ?? 'starting';
}

function report(env: CliEnvironment, options: FleetOptions, executionArn: string, fleet: DescribeExecutionCommandOutput): CommandResult {
  const summary = parseJsonObject(fleet.output) as FleetSummary | undefined;
  if (fleet.status !== 'SUCCEEDED' || !summary) {
    const error = fleet.error ?? fleet.status ?? 'Unknown';
    if (!options.json) env.stderr.write(`✖ The fleet reset ended ${fleet.status}: ${error}${fleet.cause ? `: ${fleet.cause}` : ''}\n`);
    return { exitCode: EXIT_CODES.resetFailed, document: { executionArn, status: fleet.status, error, cause: fleet.cause } };
  }
  const rows: FleetRow[] = summary.instances.map(i => ({
    instanceId: i.instanceId, availabilityZone: i.availabilityZone ?? '', step: '', outcome: i.outcome, error: i.error,
  }));
  if (!options.json) writeLines(env, fleetSummaryLines(rows, summary.counts, summary.dryRun));
  const bad = summary.counts.failed + summary.counts.refused + summary.counts['not-started'];
  return { exitCode: bad > 0 ? EXIT_CODES.resetFailed : EXIT_CODES.ok, document: { executionArn, status: fleet.status, ...summary } };
}
