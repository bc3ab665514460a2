import { DescribeExecutionCommand, GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { fakeEnvironment, STATE_MACHINE_ARN } from './fake-env';
import { tagSelector } from '../../cli/commands/fleet';
import { DEFAULT_FLEET_STATE_MACHINE_PARAMETER, DEFAULT_STATE_MACHINE_PARAMETER } from '../../cli/core/hints';
import { DEFAULT_STATE_MACHINE_ARN_PARAMETER } from '../../src/reset-access';
import { DEFAULT_FLEET_STATE_MACHINE_ARN_PARAMETER } from '../../src/workflow/fleet-reset';

const sfn = mockClient(SFNClient);
const ssm = mockClient(SSMClient);
const FLEET_MACHINE = 'arn:aws:states:eu-west-1:111122223333:stateMachine:FleetStateMachine';
const FLEET_ARN = 'arn:aws:states:eu-west-1:111122223333:execution:FleetStateMachine:fleet-20260501T031500Z-a1b2c3';
const CHILD = (n: number) => `arn:aws:states:eu-west-1:111122223333:execution:ResetStateMachine1234:child-${n}`;
const IDS = ['i-0123456789abcdef0', 'i-0123456789abcdef1'];
const START = new Date('2026-05-01T03:15:00Z');
const STRANGER = 'i-0fedcba9876543210';

/**
 * A fleet of two that runs for two polls: the first sees both children in a step, the second the end.
 * `stranger`: a reset of an instance outside the fleet, started meanwhile by someone else.
 */
function serveFleet(options: { stranger?: boolean } = {}) {
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
  const children = options.stranger ? [0, 1, 2] : [0, 1];
  sfn.on(ListExecutionsCommand, { stateMachineArn: STATE_MACHINE_ARN }).callsFake(() => ({
    executions: children.map(n => ({
      executionArn: CHILD(n),
      stateMachineArn: STATE_MACHINE_ARN,
      name: `child-${n}`,
      startDate: new Date(START.getTime() + 1000),
      status: polls >= 2 ? (n === 0 ? 'SUCCEEDED' : 'FAILED') : 'RUNNING',
    })),
  }));
  for (const n of children) {
    const instanceId = n < 2 ? IDS[n] : STRANGER;
    sfn.on(DescribeExecutionCommand, { executionArn: CHILD(n) }).resolves({ executionArn: CHILD(n), input: JSON.stringify({ instanceId }) });
    sfn.on(GetExecutionHistoryCommand, { executionArn: CHILD(n) }).resolves({
      events: [{ id: 9, type: 'TaskStateEntered', timestamp: START, stateEnteredEventDetails: { name: n === 0 ? 'CheckHelperReady' : 'PrepareTarget' } }],
    });
  }
}

beforeEach(() => {
  sfn.reset();
  ssm.reset();
});

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

  test('on a terminal, a table redrawn in place (instance, AZ, step, outcome), then the outcomes on stdout', async () => {
    // GIVEN
    serveFleet({ stranger: true });
    const env = fakeEnvironment({ tty: true });

    // WHEN
    const code = await env.run('fleet', ...IDS, ...args);

    // THEN
    expect(code).toBe(1);
    const frames = env.err.text.split('\u001b[');
    // Started line and first frame; then each later frame starts by going up over the previous one (4 lines) and erasing down.
    expect(frames[0]).toMatch(/^Fleet reset started: .*\ninstance\s+AZ\s+step\s+outcome\n/);
    expect(frames[0]).toMatch(/i-0123456789abcdef0\s+eu-west-1a\s+Wait for the helper in Systems Manager\s+running/);
    expect(frames[0]).toMatch(/i-0123456789abcdef1\s+eu-west-1b\s+Stop the instance\s+running/);
    expect(frames[0]).toContain('2 instances: 2 running · 0s');
    expect(frames[1]).toBe('4A');
    expect(frames[2]).toMatch(/^J/);
    expect(frames[2]).toMatch(/i-0123456789abcdef1\s+eu-west-1b\s+Stop the instance\s+failed/);
    expect(frames[2]).toContain('2 instances: 1 succeeded, 1 failed · 5s');
    // The reset of an instance outside the fleet is not in its table.
    expect(env.err.text).not.toContain(STRANGER);
    expect(env.out.text).toMatch(/i-0123456789abcdef1\s+eu-west-1b\s+failed \(CommandFailed\)/);
  });

  test('with stdout on the same terminal, the table is taken off the screen before the outcomes are printed', async () => {
    // GIVEN
    serveFleet();
    const env = fakeEnvironment({ tty: true });
    (env.out as { isTTY: boolean }).isTTY = true;

    // WHEN
    await env.run('fleet', ...IDS, ...args);

    // THEN
    expect(env.err.text.endsWith('\u001b[4A\u001b[J')).toBe(true);
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

  describe('finds the state machines through the SSM parameters FleetReset and ResetAccess write', () => {
    const region = ['--region', 'eu-west-1'];

    test('by default /cdk-ec2-reset-access/fleet-state-machine-arn and /cdk-ec2-reset-access/state-machine-arn', async () => {
      // GIVEN
      serveFleet();
      ssm.on(GetParameterCommand, { Name: '/cdk-ec2-reset-access/fleet-state-machine-arn' }).resolves({ Parameter: { Value: FLEET_MACHINE } });
      ssm.on(GetParameterCommand, { Name: '/cdk-ec2-reset-access/state-machine-arn' }).resolves({ Parameter: { Value: STATE_MACHINE_ARN } });
      const env = fakeEnvironment();

      // WHEN
      const code = await env.run('fleet', ...IDS, ...region);

      // THEN
      expect(code).toBe(1);
      expect(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.stateMachineArn).toBe(FLEET_MACHINE);
      expect(env.out.text).toContain('2 instances: 1 succeeded, 1 failed');
    });

    test('--fleet-state-machine-parameter names another parameter', async () => {
      // GIVEN
      serveFleet();
      ssm.on(GetParameterCommand, { Name: '/team-b/fleet-state-machine-arn' }).resolves({ Parameter: { Value: FLEET_MACHINE } });
      const env = fakeEnvironment();

      // WHEN
      await env.run('fleet', ...IDS, '--fleet-state-machine-parameter', '/team-b/fleet-state-machine-arn', '--state-machine-arn', STATE_MACHINE_ARN, ...region);

      // THEN
      expect(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.stateMachineArn).toBe(FLEET_MACHINE);
    });

    test('no such parameter: FleetStateMachineNotFound (exit 3) names it and --fleet-state-machine-arn; nothing is started', async () => {
      // GIVEN
      ssm.on(GetParameterCommand).rejects(Object.assign(new Error('ParameterNotFound'), { name: 'ParameterNotFound' }));
      const env = fakeEnvironment();

      // WHEN
      const code = await env.run('fleet', ...IDS, ...region);

      // THEN
      expect(code).toBe(3);
      expect(env.err.text).toContain('✖ FleetStateMachineNotFound: There is no parameter /cdk-ec2-reset-access/fleet-state-machine-arn in this account and Region.');
      expect(env.err.text).toContain('deploy FleetReset there, or pass --fleet-state-machine-arn');
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    });

    test('an empty parameter is FleetStateMachineNotFound too', async () => {
      ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '' } });
      const env = fakeEnvironment();
      expect(await env.run('fleet', ...IDS, '--json', ...region)).toBe(3);
      expect(JSON.parse(env.out.text).error).toMatchObject({ name: 'FleetStateMachineNotFound', message: 'The parameter /cdk-ec2-reset-access/fleet-state-machine-arn is empty.' });
    });

    test('the reset machine not found: StateMachineNotFound before the fleet starts, since its instances could not be followed', async () => {
      // GIVEN
      ssm.on(GetParameterCommand).rejects(Object.assign(new Error('ParameterNotFound'), { name: 'ParameterNotFound' }));
      const env = fakeEnvironment();

      // WHEN
      const code = await env.run('fleet', ...IDS, '--fleet-state-machine-arn', FLEET_MACHINE, ...region);

      // THEN
      expect(code).toBe(3);
      expect(env.err.text).toContain('✖ StateMachineNotFound: There is no parameter /cdk-ec2-reset-access/state-machine-arn');
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    });

    test('--no-wait needs only the fleet machine', async () => {
      sfn.on(StartExecutionCommand).resolves({ executionArn: FLEET_ARN });
      ssm.on(GetParameterCommand, { Name: '/cdk-ec2-reset-access/fleet-state-machine-arn' }).resolves({ Parameter: { Value: FLEET_MACHINE } });
      const env = fakeEnvironment();
      expect(await env.run('fleet', ...IDS, '--no-wait', ...region)).toBe(0);
      expect(env.out.text).toBe(`${FLEET_ARN}\n`);
      expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
    });

    test('a parameter naming a state machine that is gone: FleetStateMachineNotFound, with the ARN and where it came from', async () => {
      // GIVEN
      ssm.on(GetParameterCommand, { Name: '/cdk-ec2-reset-access/fleet-state-machine-arn' }).resolves({ Parameter: { Value: FLEET_MACHINE } });
      sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('State Machine Does Not Exist'), { name: 'StateMachineDoesNotExist' }));
      const env = fakeEnvironment();

      // WHEN
      const code = await env.run('fleet', ...IDS, '--state-machine-arn', STATE_MACHINE_ARN, ...region);

      // THEN
      expect(code).toBe(3);
      expect(env.err.text).toContain(`✖ FleetStateMachineNotFound: There is no state machine ${FLEET_MACHINE} (the value of /cdk-ec2-reset-access/fleet-state-machine-arn).`);
    });

    test('the CLI\'s default parameter names are the ones the constructs write', () => {
      expect(DEFAULT_FLEET_STATE_MACHINE_PARAMETER).toBe(DEFAULT_FLEET_STATE_MACHINE_ARN_PARAMETER);
      expect(DEFAULT_STATE_MACHINE_PARAMETER).toBe(DEFAULT_STATE_MACHINE_ARN_PARAMETER);
    });
  });

  test('a tag selector needs key=value', () => {
    expect(tagSelector('env=prod,staging')).toEqual({ tagKey: 'env', tagValues: ['prod', 'staging'] });
    expect(() => tagSelector('env')).toThrow(/not a tag selector/);
    expect(() => tagSelector('=prod')).toThrow(/not a tag selector/);
  });
});
