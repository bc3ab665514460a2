import { DescribeExecutionCommand, GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { fakeEnvironment, STATE_MACHINE_ARN } from './fake-env';
import { tagSelector } from '../../cli/commands/fleet';

const sfn = mockClient(SFNClient);
const FLEET_MACHINE = 'arn:aws:states:eu-west-1:111122223333:stateMachine:FleetStateMachine';
const FLEET_ARN = 'arn:aws:states:eu-west-1:111122223333:execution:FleetStateMachine:fleet-20260501T031500Z-a1b2c3';
const CHILD = (n: number) => `arn:aws:states:eu-west-1:111122223333:execution:ResetStateMachine1234:child-${n}`;
const IDS = ['i-0123456789abcdef0', 'i-0123456789abcdef1'];
const START = new Date('2026-05-01T03:15:00Z');

/** A fleet of two that runs for two polls: the first sees both children in a step, the second the end. */
function serveFleet() {
  let polls = 0;
  sfn.on(StartExecutionCommand).resolves({ executionArn: FLEET_ARN, startDate: START });
  sfn.on(DescribeExecutionCommand, { executionArn: FLEET_ARN }).callsFake(() => {
    polls++;
    const done = polls >= 2;
    return {
      executionArn: FLEET_ARN,
      stateMachineArn: FLEET_MACHINE,
      status: done ? 'SUCCEEDED' : 'RUNNING',
      startDate: START,
      ...(done ? {
        output: JSON.stringify({
          selection: 'ids',
          dryRun: false,
          plan: { waves: [{ instanceIds: IDS }] },
          instances: [
            { instanceId: IDS[0], availabilityZone: 'eu-west-1a', outcome: 'succeeded', executionArn: CHILD(0), output: { passwordStatus: 'available' } },
            { instanceId: IDS[1], availabilityZone: 'eu-west-1b', outcome: 'failed', executionArn: CHILD(1), error: 'CommandFailed', cause: 'the fix failed' },
          ],
          counts: { 'succeeded': 1, 'planned': 0, 'refused': 0, 'failed': 1, 'not-started': 0 },
        }),
      } : {}),
    };
  });
  sfn.on(GetExecutionHistoryCommand, { executionArn: FLEET_ARN, maxResults: 20 }).resolves({
    events: [{
      id: 3,
      type: 'TaskSucceeded',
      timestamp: START,
      taskSucceededEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke',
        output: JSON.stringify({ targets: [{ instanceId: IDS[0], availabilityZone: 'eu-west-1a' }, { instanceId: IDS[1], availabilityZone: 'eu-west-1b' }] }),
      },
    }],
  });
  sfn.on(ListExecutionsCommand, { stateMachineArn: STATE_MACHINE_ARN }).callsFake(() => ({
    executions: [0, 1].map(n => ({
      executionArn: CHILD(n),
      stateMachineArn: STATE_MACHINE_ARN,
      name: `child-${n}`,
      startDate: new Date(START.getTime() + 1000),
      status: polls >= 2 ? (n === 0 ? 'SUCCEEDED' : 'FAILED') : 'RUNNING',
    })),
  }));
  for (const n of [0, 1]) {
    sfn.on(DescribeExecutionCommand, { executionArn: CHILD(n) }).resolves({ executionArn: CHILD(n), input: JSON.stringify({ instanceId: IDS[n] }) });
    sfn.on(GetExecutionHistoryCommand, { executionArn: CHILD(n) }).resolves({
      events: [{ id: 9, type: 'TaskStateEntered', timestamp: START, stateEnteredEventDetails: { name: n === 0 ? 'CheckHelperReady' : 'PrepareTarget' } }],
    });
  }
}

beforeEach(() => sfn.reset());

describe('fleet', () => {
  const args = ['--fleet-state-machine-arn', FLEET_MACHINE, '--state-machine-arn', STATE_MACHINE_ARN, '--region', 'eu-west-1'];

  test('starts the fleet with the ids, shows each instance\'s step as it moves, then every outcome; exit 1 when one failed', async () => {
    // GIVEN
    serveFleet();
    const env = fakeEnvironment();

    // WHEN
    const code = await env.run('fleet', ...IDS, '--ack', 'auto-scaling-standby', ...args);

    // THEN
    expect(code).toBe(1);
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input!)).toEqual({
      targets: IDS, method: 'auto', acknowledge: ['auto-scaling-standby'],
    });
    expect(env.err.text).toMatch(/i-0123456789abcdef0\s+eu-west-1a\s+CheckHelperReady/);
    expect(env.err.text).toMatch(/i-0123456789abcdef1\s+eu-west-1b\s+PrepareTarget/);
    expect(env.err.text).toMatch(/i-0123456789abcdef1\s+eu-west-1b\s+FAILED/);
    expect(env.out.text).toMatch(/i-0123456789abcdef0\s+eu-west-1a\s+succeeded/);
    expect(env.out.text).toMatch(/i-0123456789abcdef1\s+eu-west-1b\s+failed \(CommandFailed\)/);
    expect(env.out.text).toContain('2 instances: 1 succeeded, 1 failed, 0 refused, 0 not-started');
  });

  test('--json prints the per-instance results as one document', async () => {
    serveFleet();
    const env = fakeEnvironment();

    const code = await env.run('fleet', '--tag', 'team=web,api', '--json', ...args);

    expect(code).toBe(1);
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input!).targets).toEqual({ tagKey: 'team', tagValues: ['web', 'api'] });
    const document = JSON.parse(env.out.text);
    expect(document.instances.map((i: any) => [i.instanceId, i.outcome])).toEqual([[IDS[0], 'succeeded'], [IDS[1], 'failed']]);
    expect(document.counts.failed).toBe(1);
    expect(env.err.text).toBe('');
  });

  test.each([
    ['ids and --tag together', [IDS[0], '--tag', 'team=web']],
    ['neither ids nor --tag', []],
    ['a bad id', ['web-1']],
  ])('%s is an invalid command line (exit 2)', async (_, extra) => {
    const env = fakeEnvironment();
    expect(await env.run('fleet', ...extra, ...args)).toBe(2);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  test('a tag selector needs key=value', () => {
    expect(tagSelector('env=prod,staging')).toEqual({ tagKey: 'env', tagValues: ['prod', 'staging'] });
    expect(() => tagSelector('env')).toThrow(/not a tag selector/);
    expect(() => tagSelector('=prod')).toThrow(/not a tag selector/);
  });
});
