import {
  DescribeExecutionCommand, DescribeExecutionCommandOutput, ExecutionListItem, GetExecutionHistoryCommand, paginateListExecutions, SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { FleetSummary } from '../../src/workflow/private/fleet-outcome';
import type { FleetRequest } from '../../src/workflow/private/fleet-request';
import { CliError, toCliError } from '../core/errors';
import { EXIT_CODES } from '../core/exit-codes';
import { fleetSummaryLines, FleetRow, LiveFleetRow, stepLabel } from '../core/fleet-table';
import { parseJsonObject } from '../core/json';
import type { CliEnvironment } from '../environment';
import { FleetProgressView, LiveFleetView, PlainFleetView, SilentFleetView } from '../fleet-progress';
import { requestedOptions, ResetOptions } from './reset';
import {
  canRedraw, checkInstanceId, CommandResult, resetStateMachine, resolveStateMachineArn, StateMachineLookup, writeLines,
} from './shared';

/** A single reset's options, with the fleet machine and the tag selector. */
export interface FleetOptions extends ResetOptions {
  /** The fleet state machine; absent: read from `fleetStateMachineParameter`. */
  readonly fleetStateMachineArn?: string;
  readonly fleetStateMachineParameter: string;
  readonly tag?: string;
}

/** The fleet state machine: `--fleet-state-machine-arn`, else `--fleet-state-machine-parameter`. */
function fleetStateMachine(options: FleetOptions): StateMachineLookup {
  return { arn: options.fleetStateMachineArn, parameter: options.fleetStateMachineParameter, notFound: 'FleetStateMachineNotFound' };
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

/** A live table on a terminal, plain lines elsewhere, nothing with `--json`. */
function createFleetView(env: CliEnvironment, json: boolean): FleetProgressView {
  if (json) return new SilentFleetView();
  return canRedraw(env.stderr) ? new LiveFleetView(env.stderr) : new PlainFleetView(env.stderr);
}

/**
 * `fleet <instance-id...> | --tag key=value`: starts a FleetReset execution and follows it: each
 * instance's step and outcome as its reset moves on (a table redrawn in place on a terminal, a
 * line per change elsewhere), then the outcome of every instance and the counts.
 */
export async function fleetCommand(env: CliEnvironment, ids: string[], options: FleetOptions): Promise<CommandResult> {
  if ((ids.length > 0) === (options.tag !== undefined)) {
    throw new CliError('InvalidArguments', 'Give instance ids or --tag key=value, one of the two.');
  }
  const targets = options.tag !== undefined ? tagSelector(options.tag) : [...new Set(ids.map(checkInstanceId))];
  const request: FleetRequest = { targets, ...requestedOptions(options) };
  const clients = env.createClients(options);
  const fleetMachineArn = await resolveStateMachineArn(clients, fleetStateMachine(options));
  // Found before the fleet starts, so a CLI that could not follow the instances starts nothing.
  const resetMachineArn = options.wait ? await resolveStateMachineArn(clients, resetStateMachine(options)) : undefined;
  const stamp = env.now().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  let executionArn: string;
  try {
    const started = await clients.sfn.send(new StartExecutionCommand({
      stateMachineArn: fleetMachineArn, name: `fleet-${options.dryRun ? 'plan-' : ''}${stamp}-${env.randomSuffix()}`, input: JSON.stringify(request),
    }));
    executionArn = started.executionArn ?? '';
  } catch (err) {
    if ((err as { name?: string }).name === 'StateMachineDoesNotExist') {
      const from = options.fleetStateMachineArn ? '' : ` (the value of ${options.fleetStateMachineParameter})`;
      throw new CliError('FleetStateMachineNotFound', `There is no state machine ${fleetMachineArn}${from}.`);
    }
    throw toCliError(err);
  }
  if (!executionArn) throw new CliError('Unexpected', 'StartExecution returned no execution ARN.');
  if (!options.json) env.stderr.write(`Fleet reset started: ${executionArn}\n`);
  if (!resetMachineArn) {
    if (!options.json) writeLines(env, [executionArn]);
    return { exitCode: EXIT_CODES.ok, document: { executionArn, status: 'RUNNING', request } };
  }

  const view = createFleetView(env, options.json);
  let execution: DescribeExecutionCommandOutput;
  try {
    execution = await followFleet(env, clients.sfn, executionArn, resetMachineArn, options, view);
  } catch (err) {
    view.close();
    throw toCliError(err);
  }
  // The outcomes follow on stdout: on the same terminal they replace the table.
  view.close({ clear: env.stdout.isTTY === true });
  return report(env, options, executionArn, execution);
}

/**
 * Polls the fleet until it ends and shows each instance after every poll: its children are the
 * executions of the reset machine started since the fleet started, for the instances it planned.
 */
async function followFleet(
  env: CliEnvironment, sfn: SFNClient, executionArn: string, resetMachineArn: string, options: FleetOptions, view: FleetProgressView,
): Promise<DescribeExecutionCommandOutput> {
  const instanceOfChild = new Map<string, string>();
  const rows = new Map<string, LiveFleetRow>();
  for (;;) {
    const fleet = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (rows.size === 0) {
      for (const [instanceId, availabilityZone] of Object.entries(await plannedZones(sfn, executionArn))) {
        rows.set(instanceId, { instanceId, availabilityZone, state: '', step: '' });
      }
    }
    // Oldest first, so that of two executions for one instance the newer one is shown.
    for (const child of (await childrenOf(sfn, resetMachineArn, fleet.startDate)).reverse()) {
      const childArn = child.executionArn!;
      const instanceId = instanceOfChild.get(childArn) ?? await instanceOf(sfn, childArn);
      instanceOfChild.set(childArn, instanceId);
      const row = rows.get(instanceId);
      // A reset of an instance outside the plan (started by someone else meanwhile) is not the fleet's.
      if (!row && rows.size > 0) continue;
      const before = row ?? { instanceId, availabilityZone: '', state: '', step: '' };
      const state = child.status === 'RUNNING' ? await currentStep(sfn, childArn) : before.state;
      rows.set(instanceId, { ...before, state, step: stepLabel(state, before.step), status: child.status });
    }
    view.show([...rows.values()], env.now().getTime() - (fleet.startDate ?? env.now()).getTime());
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
