import {
  DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient, StartExecutionCommand, StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { EXECUTION_ARN, fakeEnvironment, serveExecution, STATE_MACHINE_ARN } from './fake-env';
import { HistoryBuilder, INSTANCE_ID, offlineSuccess, PLAN, SUCCESS_OUTPUT } from './history-fixture';

const sfn = mockClient(SFNClient);
const ssm = mockClient(SSMClient);
const awsError = (name: string, message: string) => Object.assign(new Error(message), { name, $metadata: {} });

beforeEach(() => {
  sfn.reset();
  ssm.reset();
  ssm.on(GetParameterCommand, { Name: '/cdk-ec2-reset-access/state-machine-arn' }).resolves({ Parameter: { Value: STATE_MACHINE_ARN } });
  sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN, startDate: new Date() });
});

describe('reset', () => {
  test('finds the state machine, starts the reset and prints one line per step when not on a terminal', async () => {
    // GIVEN
    const env = fakeEnvironment();
    serveExecution(sfn, offlineSuccess().events, { batch: 25, input: { instanceId: INSTANCE_ID, method: 'auto' }, status: 'SUCCEEDED', output: SUCCESS_OUTPUT });

    // WHEN
    const code = await env.run('reset', INSTANCE_ID);

    // THEN
    expect(code).toBe(0);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE_ARN,
      name: `${INSTANCE_ID}-20260501T031500Z-a1b2c3`,
      input: JSON.stringify({ instanceId: INSTANCE_ID, method: 'auto' }),
    });
    expect(env.err.text).toContain(`Reset of ${INSTANCE_ID} (method auto) started: ${EXECUTION_ARN}`);
    expect(env.err.text).toContain('Ctrl-C stops watching; the reset goes on.');
    expect(env.err.text).toMatch(/^\[00:00\] start  Preflight checks$/m);
    expect(env.err.text).toMatch(/^\[00:02\] done   Preflight checks \(2s\)$/m);
    expect(env.err.text).toMatch(/^ +Wait for the helper in Systems Manager: helper pending, SSM none\n +Wait for the helper in Systems Manager: helper Online/m);
    expect(env.err.text).toMatch(/^ +Stop the instance: stopping the target$/m);
    expect(env.err.text).toMatch(/^\[\d\d:\d\d\] done {3}Wait for Windows to generate the password \(\d+m \d\ds\)$/m);
    expect(env.out.text).toContain(`✔ Reset of ${INSTANCE_ID} succeeded in`);
    expect(env.out.text).toContain(`cdk-ec2-reset-access password ${INSTANCE_ID} --key-file <key pair .pem>`);
    expect(env.out.text).toContain('Backup image ami-0backup: deregister it');
    expect(sfn).toHaveReceivedCommandTimes(StopExecutionCommand, 0);
  });

  test('on a terminal, shows a spinner on the running steps and leaves a ✔ line per finished step', async () => {
    // GIVEN
    const env = fakeEnvironment({ tty: true });
    serveExecution(sfn, offlineSuccess().events, { batch: 40, input: { instanceId: INSTANCE_ID }, status: 'SUCCEEDED', output: SUCCESS_OUTPUT });

    // WHEN
    const code = await env.run('reset', INSTANCE_ID);

    // THEN
    expect(code).toBe(0);
    expect(env.err.text).not.toMatch(/start {2}Preflight/);
    const frames = env.spinner.frames;
    expect(frames).toContain('✔ Preflight checks (2s)');
    expect(frames.filter(f => f.startsWith('✔'))).toHaveLength(11);
    // Parallel steps share the spinner line, each with its detail and elapsed time.
    expect(frames.some(f => /^⠋ Stop the instance — [a-z ]+ \(\d+s\) {2}· {2}Launch the helper instance \(\d+s\)$/.test(f))).toBe(true);
    expect(frames.at(-1)).toMatch(/^✔ Wait for Windows to generate the password \(\d+m \d\ds\)$/);
  });

  test('a terminal of unknown width (an unsized pty) gets plain lines, not a spinner', async () => {
    // GIVEN
    const env = fakeEnvironment({ tty: true, columns: 0 });
    serveExecution(sfn, offlineSuccess().events, { input: { instanceId: INSTANCE_ID }, status: 'SUCCEEDED', output: SUCCESS_OUTPUT });

    // WHEN
    const code = await env.run('reset', INSTANCE_ID);

    // THEN
    expect(code).toBe(0);
    expect(env.spinner.frames).toEqual([]);
    expect(env.err.text).toMatch(/^\[00:00\] start  Preflight checks$/m);
  });

  test('--json prints one document on stdout and nothing on stderr', async () => {
    // GIVEN
    const env = fakeEnvironment({ tty: true });
    serveExecution(sfn, offlineSuccess().events, { input: { instanceId: INSTANCE_ID }, status: 'SUCCEEDED', output: SUCCESS_OUTPUT });

    // WHEN
    const code = await env.run('reset', INSTANCE_ID, '--json');

    // THEN
    expect(code).toBe(0);
    expect(env.err.text).toBe('');
    expect(env.spinner.frames).toEqual([]);
    const document = JSON.parse(env.out.text);
    expect(document).toEqual({
      executionArn: EXECUTION_ARN,
      executionName: `${INSTANCE_ID}-20260501T031500Z-a1b2c3`,
      instanceId: INSTANCE_ID,
      dryRun: false,
      status: 'SUCCEEDED',
      startedAt: '2026-05-01T03:15:00.000Z',
      stoppedAt: expect.any(String),
      steps: expect.arrayContaining([
        { id: 'preflight', label: 'Preflight checks', status: 'succeeded', startedAt: '2026-05-01T03:15:00.000Z', endedAt: '2026-05-01T03:15:02.000Z', seconds: 2 },
      ]),
      output: SUCCESS_OUTPUT,
      next: expect.arrayContaining([`Get the new password:  cdk-ec2-reset-access password ${INSTANCE_ID} --key-file <key pair .pem>`]),
    });
    expect(document.steps).toHaveLength(11);
    expect(JSON.stringify(document)).not.toMatch(/password"\s*:/i);
  });

  test('passes the method, the acknowledgements and the password-enabled AMI to the workflow', async () => {
    // GIVEN
    const env = fakeEnvironment();
    serveExecution(sfn, offlineSuccess().events, { input: { instanceId: INSTANCE_ID }, status: 'SUCCEEDED', output: SUCCESS_OUTPUT });

    // WHEN
    await env.run('reset', INSTANCE_ID, '--method', 'offline', '--password-enabled-ami', '--ack', 'public-ip-release', 'auto-scaling-standby',
      '--ack', 'public-ip-release', '--region', 'ap-southeast-2', '--profile', 'ops');

    // THEN
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      input: JSON.stringify({ instanceId: INSTANCE_ID, method: 'offline', passwordEnabledAmi: true, acknowledge: ['public-ip-release', 'auto-scaling-standby'] }),
    });
    expect(env.clientOptions[0]).toMatchObject({ region: 'ap-southeast-2', profile: 'ops' });
  });

  test('Ctrl-C while waiting detaches without stopping the reset and says how to resume', async () => {
    // GIVEN
    const env = fakeEnvironment();
    serveExecution(sfn, offlineSuccess().events, { batch: 20, input: { instanceId: INSTANCE_ID }, status: 'SUCCEEDED' });
    env.onSleep = () => env.interrupt();

    // WHEN
    const code = await env.run('reset', INSTANCE_ID);

    // THEN
    expect(code).toBe(130);
    expect(env.out.text).toContain('The reset goes on in AWS; nothing was stopped.');
    expect(env.out.text).toContain(`Resume watching: cdk-ec2-reset-access status ${EXECUTION_ARN}`);
    expect(sfn).toHaveReceivedCommandTimes(StopExecutionCommand, 0);
    expect(sfn).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 1);
  });

  test('Ctrl-C with --json still ends with one document that says how to resume', async () => {
    // GIVEN
    const env = fakeEnvironment();
    serveExecution(sfn, offlineSuccess().events, { batch: 20, input: { instanceId: INSTANCE_ID }, status: 'SUCCEEDED' });
    env.onSleep = () => env.interrupt();

    // WHEN
    const code = await env.run('reset', INSTANCE_ID, '--json');

    // THEN
    expect(code).toBe(130);
    expect(JSON.parse(env.out.text)).toMatchObject({ status: 'RUNNING', detached: true, resume: `cdk-ec2-reset-access status ${EXECUTION_ARN}` });
  });

  test('--no-wait starts the reset and returns its execution ARN', async () => {
    // GIVEN
    const env = fakeEnvironment();

    // WHEN
    const code = await env.run('reset', INSTANCE_ID, '--no-wait', '--json');

    // THEN
    expect(code).toBe(0);
    expect(JSON.parse(env.out.text)).toMatchObject({ executionArn: EXECUTION_ARN, status: 'RUNNING' });
    expect(sfn).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 0);
  });

  test('reads the history page by page, newest first, and only what it has not seen', async () => {
    // GIVEN
    const env = fakeEnvironment();
    const events = offlineSuccess().events;
    serveExecution(sfn, events, { batch: 30, pageSize: 7, input: { instanceId: INSTANCE_ID }, status: 'SUCCEEDED', output: SUCCESS_OUTPUT });

    // WHEN
    const code = await env.run('reset', INSTANCE_ID, '--json');

    // THEN
    expect(code).toBe(0);
    expect(JSON.parse(env.out.text).steps).toHaveLength(11);
    const reads = sfn.commandCalls(GetExecutionHistoryCommand).length;
    const rounds = Math.ceil(events.length / 30);
    // Each round reads its 30 new events in pages of 7, plus at most one page that reaches the seen ones.
    expect(reads).toBeLessThanOrEqual(rounds * (Math.ceil(30 / 7) + 1));
  });
});

describe('reset: errors', () => {
  test('no credentials: says how to log in, exit 3', async () => {
    // GIVEN
    const env = fakeEnvironment();
    ssm.on(GetParameterCommand).rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));

    // WHEN
    const code = await env.run('reset', INSTANCE_ID);

    // THEN
    expect(code).toBe(3);
    expect(env.err.text).toContain('✖ NoCredentials: Could not load credentials from any providers');
    expect(env.err.text).toContain('What to do: Log in (aws sso login --profile <p>) or configure keys (aws configure --profile <p>).');
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
  });

  test('no credentials with --json: the error as the document', async () => {
    // GIVEN
    const env = fakeEnvironment();
    ssm.on(GetParameterCommand).rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));

    // WHEN
    const code = await env.run('reset', INSTANCE_ID, '--json');

    // THEN
    expect(code).toBe(3);
    expect(JSON.parse(env.out.text)).toEqual({
      error: {
        name: 'NoCredentials', message: 'Could not load credentials from any providers', meaning: expect.any(String), action: expect.stringMatching(/--profile/),
      },
    });
    expect(env.err.text).toBe('');
  });

  test('no Region: says how to give one, exit 3', async () => {
    // GIVEN
    const env = fakeEnvironment();
    ssm.on(GetParameterCommand).rejects(new Error('Region is missing'));

    // WHEN / THEN
    expect(await env.run('reset', INSTANCE_ID)).toBe(3);
    expect(env.err.text).toContain('✖ NoRegion');
    expect(env.err.text).toContain('--region');
  });

  test('access denied: names the grants that allow it, exit 3', async () => {
    // GIVEN
    const env = fakeEnvironment();
    sfn.on(StartExecutionCommand).rejects(awsError('AccessDeniedException', 'User is not authorized to perform: states:StartExecution'));

    // WHEN / THEN
    expect(await env.run('reset', INSTANCE_ID)).toBe(3);
    expect(env.err.text).toContain('grantStartReset');
  });

  test('state machine not found (no parameter in this Region): exit 3', async () => {
    // GIVEN
    const env = fakeEnvironment();
    ssm.on(GetParameterCommand).rejects(awsError('ParameterNotFound', ''));

    // WHEN
    const code = await env.run('reset', INSTANCE_ID, '--region', 'us-west-2');

    // THEN
    expect(code).toBe(3);
    expect(env.err.text).toContain('✖ StateMachineNotFound: There is no parameter /cdk-ec2-reset-access/state-machine-arn in this account and Region.');
    expect(env.err.text).toContain('--state-machine-arn');
  });

  test('state machine not found (a wrong --state-machine-arn): exit 3, no parameter read', async () => {
    // GIVEN
    const env = fakeEnvironment();
    sfn.on(StartExecutionCommand).rejects(awsError('StateMachineDoesNotExist', 'State Machine Does Not Exist'));

    // WHEN
    const code = await env.run('reset', INSTANCE_ID, '--state-machine-arn', STATE_MACHINE_ARN);

    // THEN
    expect(code).toBe(3);
    expect(env.err.text).toContain('✖ StateMachineNotFound');
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 0);
  });

  test('another parameter name is read with --state-machine-parameter', async () => {
    // GIVEN
    const env = fakeEnvironment();
    ssm.on(GetParameterCommand, { Name: '/team/reset-arn' }).resolves({ Parameter: { Value: STATE_MACHINE_ARN } });

    // WHEN
    await env.run('reset', INSTANCE_ID, '--state-machine-parameter', '/team/reset-arn', '--no-wait');

    // THEN
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn: STATE_MACHINE_ARN });
  });

  test('instance not found: the workflow\'s preflight error, with what to do and that nothing changed, exit 1', async () => {
    // GIVEN
    const env = fakeEnvironment();
    const h = new HistoryBuilder().started({ instanceId: INSTANCE_ID }).state('Pass', 'ReadRequest')
      .task('Preflight', { seconds: 2, error: 'InstanceNotFound', cause: `Instance ${INSTANCE_ID} does not exist in this account and Region.` })
      .failed('InstanceNotFound', `Instance ${INSTANCE_ID} does not exist in this account and Region.`);
    serveExecution(sfn, h.events, {
      input: { instanceId: INSTANCE_ID },
      status: 'FAILED',
      error: 'InstanceNotFound',
      cause: `Instance ${INSTANCE_ID} does not exist in this account and Region.`,
    });

    // WHEN
    const code = await env.run('reset', INSTANCE_ID);

    // THEN
    expect(code).toBe(1);
    expect(env.err.text).toMatch(/FAILED Preflight checks \(2s\): InstanceNotFound/);
    expect(env.out.text).toBe([
      `✖ Reset of ${INSTANCE_ID} failed after 2s.`,
      '  InstanceNotFound: No such instance in this account and Region.',
      `  Cause: Instance ${INSTANCE_ID} does not exist in this account and Region.`,
      '  Nothing was changed.',
      '  What to do: Check the instance id and the Region (--region, or the profile\'s Region).',
      '',
    ].join('\n'));
  });

  test('a failure during the reset says the instance was put back', async () => {
    // GIVEN
    const env = fakeEnvironment({ tty: true });
    const h = new HistoryBuilder().started({ instanceId: INSTANCE_ID }).task('Preflight', { output: PLAN }).task('AcquireLock')
      .task('SendOfflineFix', { error: 'CommandFailed', cause: 'EC2Rescue exited 1: disk not found' })
      .state('Pass', 'RecordFailure', { input: { failure: { Error: 'CommandFailed', Cause: 'EC2Rescue exited 1: disk not found' } } })
      .pollLoop('RestoreAfterFailure', ['restored'])
      .failed('CommandFailed', 'EC2Rescue exited 1: disk not found');
    serveExecution(sfn, h.events, { input: { instanceId: INSTANCE_ID }, status: 'FAILED', error: 'CommandFailed', cause: 'EC2Rescue exited 1: disk not found' });

    // WHEN
    const code = await env.run('reset', INSTANCE_ID);

    // THEN
    expect(code).toBe(1);
    expect(env.spinner.frames).toContain('✖ Enable password generation (EC2Rescue, offline) (1s): CommandFailed');
    expect(env.spinner.frames).toContain('✔ Put the instance back after the failure (1s)');
    expect(env.out.text).toContain('The instance was put back as it was');
    expect(env.out.text).toContain('Run Command');
  });

  test('an aborted reset says the restore state machine puts the instance back', async () => {
    // GIVEN
    const env = fakeEnvironment();
    const h = new HistoryBuilder().started({ instanceId: INSTANCE_ID }).task('Preflight', { output: PLAN }).task('AcquireLock').aborted();
    serveExecution(sfn, h.events, { input: { instanceId: INSTANCE_ID }, status: 'ABORTED' });

    // WHEN
    const code = await env.run('reset', INSTANCE_ID);

    // THEN
    expect(code).toBe(1);
    expect(env.out.text).toContain(`✖ Reset of ${INSTANCE_ID} was stopped after`);
    expect(env.out.text).toContain('The restore state machine puts the instance back');
  });

  test.each([
    [['reset', 'i-123'], /not an instance id/],
    [['reset'], /missing required argument 'instance-id'/],
    [['reset', INSTANCE_ID, '--method', 'fast'], /Allowed choices are auto, online, offline/],
    [['reset', INSTANCE_ID, '--ack', 'everything'], /Allowed choices are public-ip-release/],
    [['reset', INSTANCE_ID, '--bogus'], /unknown option '--bogus'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('a wrong command line %p is exit 2 with the reason', async (argv, message) => {
    // GIVEN
    const env = fakeEnvironment();

    // WHEN
    const code = await env.run(...argv);

    // THEN
    expect(code).toBe(2);
    expect(env.err.text).toMatch(message);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
  });

  test('--help and --version exit 0 and list the exit codes', async () => {
    // GIVEN
    const env = fakeEnvironment();

    // WHEN / THEN
    expect(await env.run('--help')).toBe(0);
    expect(env.out.text).toContain('130  Ctrl-C while watching');
    expect(await env.run('--version')).toBe(0);
    expect(env.out.text).toContain('1.2.3');
  });
});

describe('preflight', () => {
  test('prints the dry run\'s plan as a readable table and how to run it', async () => {
    // GIVEN
    const env = fakeEnvironment();
    const h = new HistoryBuilder().started({ instanceId: INSTANCE_ID, dryRun: true }).state('Pass', 'ReadRequest')
      .task('Preflight', { seconds: 2, output: PLAN }).state('Choice', 'DryRun?').state('Succeed', 'DryRunPlan').succeeded(PLAN);
    serveExecution(sfn, h.events, { input: { instanceId: INSTANCE_ID, method: 'auto', dryRun: true }, status: 'SUCCEEDED', output: PLAN });

    // WHEN
    const code = await env.run('preflight', INSTANCE_ID);

    // THEN
    expect(code).toBe(0);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      name: `${INSTANCE_ID}-preflight-20260501T031500Z-a1b2c3`,
      input: JSON.stringify({ instanceId: INSTANCE_ID, method: 'auto', dryRun: true }),
    });
    expect(env.out.text).toBe([
      `Plan for ${INSTANCE_ID} (dry run: nothing was changed):`,
      '  Method                  offline',
      '  Instance                running: stopped for the reset, started again afterwards',
      '  Availability Zone       eu-west-1a (helper subnet subnet-0aaa)',
      '  Root volume             vol-0123456789abcdef0 at /dev/sda1 (DeleteOnTermination true, set to false during the reset and restored)',
      '  Auto Scaling            not a member',
      '  Key pair                ops-key',
      '  Helper                  t3.medium in eu-west-1a',
      '  Backup image            ResetAccess-Pre-Script-Backup_i-0123456789abcdef0_2026-05-01',
      '  Password-enabled image  not requested (--password-enabled-ami)',
      '  Consequences:',
      '    - The instance is stopped and started again.',
      '    - Its auto-assigned public IPv4 address is released.',
      '',
      `Run it:  cdk-ec2-reset-access reset ${INSTANCE_ID} --method offline`,
      '',
    ].join('\n'));
  });

  test('--json carries the plan', async () => {
    // GIVEN
    const env = fakeEnvironment();
    const h = new HistoryBuilder().started({ instanceId: INSTANCE_ID, dryRun: true }).task('Preflight', { output: PLAN }).succeeded(PLAN);
    serveExecution(sfn, h.events, { input: { instanceId: INSTANCE_ID, dryRun: true }, status: 'SUCCEEDED', output: PLAN });

    // WHEN
    const code = await env.run('reset', INSTANCE_ID, '--dry-run', '--json');

    // THEN
    expect(code).toBe(0);
    expect(JSON.parse(env.out.text)).toMatchObject({ dryRun: true, status: 'SUCCEEDED', plan: PLAN });
  });

  test('a blocker is exit 1 with what to do', async () => {
    // GIVEN
    const env = fakeEnvironment();
    const cause = 'Stopping releases the auto-assigned public IPv4 address 203.0.113.10: acknowledge "public-ip-release".';
    const h = new HistoryBuilder().started({ instanceId: INSTANCE_ID, dryRun: true })
      .task('Preflight', { error: 'AcknowledgementRequired', cause }).failed('AcknowledgementRequired', cause);
    serveExecution(sfn, h.events, { input: { instanceId: INSTANCE_ID, dryRun: true }, status: 'FAILED', error: 'AcknowledgementRequired', cause });

    // WHEN
    const code = await env.run('preflight', INSTANCE_ID);

    // THEN
    expect(code).toBe(1);
    expect(env.out.text).toContain(`✖ Preflight of ${INSTANCE_ID} failed`);
    expect(env.out.text).toContain('--ack public-ip-release');
  });
});

describe('the watch loop', () => {
  test('asks DescribeExecution once the history shows the end', async () => {
    // GIVEN
    const env = fakeEnvironment();
    serveExecution(sfn, offlineSuccess().events, { batch: 50, input: { instanceId: INSTANCE_ID }, status: 'SUCCEEDED', output: SUCCESS_OUTPUT });

    // WHEN
    await env.run('reset', INSTANCE_ID);

    // THEN
    expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 1);
  });
});
