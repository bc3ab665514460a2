import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { EXECUTION_ARN, fakeEnvironment, serveExecution, STATE_MACHINE_ARN } from './fake-env';
import { HistoryBuilder, INSTANCE_ID, offlineSuccess, PLAN, SUCCESS_OUTPUT } from './history-fixture';
import { EXIT_CODES } from '../../cli/core/exit-codes';

/**
 * What an operator meets first: a typo in the Region, no network, a profile that does not exist,
 * an ARN pasted wrong, a key in the wrong format, no command at all, and the hints the CLI prints,
 * which must work when pasted back.
 */
const sfn = mockClient(SFNClient);
const ssm = mockClient(SSMClient);

/** An error shaped as Node's sockets and DNS throw it (the SDK passes it on with `$metadata`). */
const socketError = (code: string, hostname = 'ssm.eu-west-1.amazonaws.com') =>
  Object.assign(new Error(`${code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'getaddrinfo' : 'connect'} ${code} ${hostname}`),
    { code, hostname, syscall: 'getaddrinfo', $metadata: {} });
/** An error the SDK names itself. */
const sdkError = (name: string, message: string) => Object.assign(new Error(message), { name, $metadata: {} });

beforeEach(() => {
  sfn.reset();
  ssm.reset();
  ssm.on(GetParameterCommand, { Name: '/cdk-ec2-reset-access/state-machine-arn' }).resolves({ Parameter: { Value: STATE_MACHINE_ARN } });
  sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN, startDate: new Date() });
});

describe('AWS out of reach', () => {
  test.each([
    ['an unknown host (a Region with no endpoint, or no DNS)', socketError('ENOTFOUND', 'ssm.eu-wset-1.amazonaws.com')],
    ['DNS not answering', socketError('EAI_AGAIN')],
    ['a connection refused (a proxy or firewall)', socketError('ECONNREFUSED')],
    ['a connection timing out', socketError('ETIMEDOUT')],
    ['the SDK\'s own timeout', sdkError('TimeoutError', 'Socket timed out without establishing a connection within 1000 ms')],
    ['the SDK\'s networking failure', sdkError('NetworkingError', 'socket hang up')],
  ])('%s is a network error with exit code 6, not an AWS answer', async (_what, error) => {
    // GIVEN
    const env = fakeEnvironment();
    ssm.reset();
    ssm.on(GetParameterCommand).rejects(error);

    // WHEN
    const code = await env.run('reset', INSTANCE_ID);

    // THEN
    expect(code).toBe(EXIT_CODES.network);
    expect(code).toBe(6);
    expect(env.err.text).toMatch(/^✖ NetworkError: /);
    expect(env.err.text).toContain('AWS could not be reached');
    expect(env.err.text).toContain('What to do: Check the Region name');
    expect(env.err.text).not.toContain('does not know');
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
  });

  test('an unknown host names the host, where a misspelt Region shows', async () => {
    // GIVEN
    const env = fakeEnvironment();
    ssm.reset();
    ssm.on(GetParameterCommand).rejects(socketError('ENOTFOUND', 'ssm.eu-wset-1.amazonaws.com'));

    // WHEN
    const code = await env.run('status', INSTANCE_ID, '--region', 'eu-wset-1', '--json');

    // THEN
    expect(code).toBe(6);
    expect(JSON.parse(env.out.text).error).toEqual({
      name: 'NetworkError',
      message: 'The name ssm.eu-wset-1.amazonaws.com does not resolve (ENOTFOUND): that Region has no such endpoint, or DNS is not reachable.',
      meaning: expect.stringContaining('AWS could not be reached'),
      action: expect.stringContaining('proxy or firewall'),
    });
  });
});

describe('--region', () => {
  test.each(['eu west 1', 'EU-WEST-1', 'eu-west', 'https://ssm.eu-west-1.amazonaws.com', 'eu_west_1'])(
    '"%s" is an invalid command line (exit 2), and nothing is asked of AWS', async region => {
      // GIVEN
      const env = fakeEnvironment();

      // WHEN
      const code = await env.run('reset', INSTANCE_ID, '--region', region);

      // THEN
      expect(code).toBe(2);
      expect(env.err.text).toContain(`"${region}" is not an AWS Region name (e.g. eu-west-1, us-east-1).`);
      expect(env.clientOptions).toEqual([]);
    });

  test.each(['eu-west-1', 'us-gov-west-1', 'cn-north-1', 'ap-southeast-2', 'eusc-de-east-1', 'il-central-1'])(
    '"%s" is a Region name', async region => {
      // GIVEN
      const env = fakeEnvironment();

      // WHEN
      await env.run('reset', INSTANCE_ID, '--region', region, '--no-wait');

      // THEN
      expect(env.clientOptions).toEqual([expect.objectContaining({ region })]);
    });

  test('a Region the SDK refuses from the environment or the profile is InvalidRegion, exit 3', async () => {
    // GIVEN
    const env = fakeEnvironment();
    ssm.reset();
    ssm.on(GetParameterCommand).rejects(new Error('Region not accepted: region="eu west" is not a valid hostname component.'));

    // WHEN
    const code = await env.run('reset', INSTANCE_ID);

    // THEN
    expect(code).toBe(3);
    expect(env.err.text).toContain('✖ InvalidRegion: Region not accepted');
    expect(env.err.text).toContain('Fix AWS_REGION or the profile\'s region');
  });
});

describe('status <execution-arn>', () => {
  test('takes the Region from the ARN, where the execution is', async () => {
    // GIVEN
    const env = fakeEnvironment();
    serveExecution(sfn, offlineSuccess().events, { input: { instanceId: INSTANCE_ID }, status: 'SUCCEEDED', output: SUCCESS_OUTPUT });

    // WHEN
    const code = await env.run('status', EXECUTION_ARN, '--region', 'us-east-1', '--profile', 'ops');

    // THEN the ARN says eu-west-1
    expect(code).toBe(0);
    expect(env.clientOptions).toEqual([{ region: 'eu-west-1', profile: 'ops', stateMachineParameter: expect.any(String), json: false, wait: true, pollSeconds: 5 }]);
    expect(env.err.text).toContain('The execution is in eu-west-1 (its ARN says so); --region us-east-1 is not used.');
    expect(env.out.text).toContain('Get the new password:  cdk-ec2-reset-access password i-0123456789abcdef0 --key-file <key pair .pem> --region eu-west-1 --profile ops');
  });

  test('without --region too', async () => {
    // GIVEN
    const env = fakeEnvironment();
    serveExecution(sfn, offlineSuccess().events, { input: { instanceId: INSTANCE_ID }, status: 'SUCCEEDED', output: SUCCESS_OUTPUT });

    // WHEN
    await env.run('status', EXECUTION_ARN, '--json');

    // THEN
    expect(env.clientOptions[0]).toMatchObject({ region: 'eu-west-1' });
    expect(env.err.text).toBe('');
  });

  test.each([
    ['a malformed ARN', 'arn:aws:states:eu-west-1:111122223333:execution', /"arn:aws:states:eu-west-1:111122223333:execution" is not an execution ARN: give arn:aws:states:<region>/],
    ['a state machine ARN', STATE_MACHINE_ARN, /is not an execution ARN \(that is a state machine's ARN\)/],
  ])('%s is an invalid argument that says what an execution ARN looks like, not "not an instance id"', async (_what, arn, message) => {
    // GIVEN
    const env = fakeEnvironment();

    // WHEN
    const code = await env.run('status', arn);

    // THEN
    expect(code).toBe(2);
    expect(env.err.text).toMatch(message);
    expect(env.err.text).not.toContain('instance id (i-');
    expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 0);
  });
});

describe('the commands the CLI suggests carry the operator\'s --region and --profile', () => {
  const connection = ['--region', 'ap-southeast-2', '--profile', 'ops'];

  test('after a reset: the password command', async () => {
    // GIVEN
    const env = fakeEnvironment();
    serveExecution(sfn, offlineSuccess().events, { input: { instanceId: INSTANCE_ID }, status: 'SUCCEEDED', output: SUCCESS_OUTPUT });

    // WHEN
    await env.run('reset', INSTANCE_ID, ...connection);

    // THEN
    expect(env.out.text).toContain(`Get the new password:  cdk-ec2-reset-access password ${INSTANCE_ID} --key-file <key pair .pem> --region ap-southeast-2 --profile ops`);
  });

  test('a stopped instance: the AWS CLI start command and the password command', async () => {
    // GIVEN
    const env = fakeEnvironment();
    const output = { ...SUCCESS_OUTPUT, passwordStatus: 'generated-at-next-start' };
    serveExecution(sfn, offlineSuccess().events, { input: { instanceId: INSTANCE_ID }, status: 'SUCCEEDED', output });

    // WHEN
    await env.run('reset', INSTANCE_ID, ...connection);

    // THEN
    expect(env.out.text).toContain(`aws ec2 start-instances --instance-ids ${INSTANCE_ID} --region ap-southeast-2 --profile ops`);
    expect(env.out.text).toContain(`password ${INSTANCE_ID} --key-file <key pair .pem> --wait --region ap-southeast-2 --profile ops`);
  });

  test('Ctrl-C: the resume command', async () => {
    // GIVEN
    const env = fakeEnvironment();
    serveExecution(sfn, offlineSuccess().events, { batch: 20, input: { instanceId: INSTANCE_ID }, status: 'SUCCEEDED' });
    env.onSleep = () => env.interrupt();

    // WHEN
    const code = await env.run('reset', INSTANCE_ID, ...connection, '--json');

    // THEN
    expect(code).toBe(130);
    expect(JSON.parse(env.out.text).resume).toBe(`cdk-ec2-reset-access status ${EXECUTION_ARN} --region ap-southeast-2 --profile ops`);
  });

  test('--no-wait: the watch command', async () => {
    // GIVEN
    const env = fakeEnvironment();

    // WHEN
    await env.run('reset', INSTANCE_ID, ...connection, '--no-wait');

    // THEN
    expect(env.out.text).toContain(`Watch it:  cdk-ec2-reset-access status ${EXECUTION_ARN} --region ap-southeast-2 --profile ops`);
  });

  test('a preflight: the reset command, with the state machine parameter the operator named', async () => {
    // GIVEN
    const env = fakeEnvironment();
    ssm.on(GetParameterCommand, { Name: '/team-b/arn' }).resolves({ Parameter: { Value: STATE_MACHINE_ARN } });
    const h = new HistoryBuilder().started({ instanceId: INSTANCE_ID, dryRun: true }).task('Preflight', { output: PLAN }).succeeded(PLAN);
    serveExecution(sfn, h.events, { input: { instanceId: INSTANCE_ID, dryRun: true }, status: 'SUCCEEDED', output: PLAN });

    // WHEN
    await env.run('preflight', INSTANCE_ID, ...connection, '--state-machine-parameter', '/team-b/arn');

    // THEN
    expect(env.out.text).toContain(
      `Run it:  cdk-ec2-reset-access reset ${INSTANCE_ID} --method offline --region ap-southeast-2 --profile ops --state-machine-parameter /team-b/arn`);
  });

  test('nothing is added when the operator gave nothing', async () => {
    // GIVEN
    const env = fakeEnvironment();

    // WHEN
    await env.run('reset', INSTANCE_ID, '--no-wait');

    // THEN
    expect(env.out.text).toContain(`Watch it:  cdk-ec2-reset-access status ${EXECUTION_ARN}\n`);
  });
});

describe('--profile', () => {
  const noCredentials = () => sdkError('CredentialsProviderError', 'Could not load credentials from any providers');

  test('a profile that does not exist is named as such, with the profiles that do: exit 3', async () => {
    // GIVEN
    const env = fakeEnvironment({ profiles: ['default', 'prod-admin'] });
    ssm.reset();
    ssm.on(GetParameterCommand).rejects(noCredentials());

    // WHEN
    const code = await env.run('reset', INSTANCE_ID, '--profile', 'prod');

    // THEN
    expect(code).toBe(3);
    expect(env.err.text).toContain('✖ ProfileNotFound: There is no profile "prod" in the shared config or credentials file; the profiles there are default, prod-admin.');
    expect(env.err.text).toContain('aws configure list-profiles');
    expect(env.err.text).not.toContain('pass --profile <p> or set AWS_PROFILE');
  });

  test('a profile that exists but gives no credentials says to log in with it', async () => {
    // GIVEN
    const env = fakeEnvironment({ profiles: ['prod'] });
    ssm.reset();
    ssm.on(GetParameterCommand).rejects(noCredentials());

    // WHEN
    const code = await env.run('reset', INSTANCE_ID, '--profile', 'prod', '--json');

    // THEN
    expect(code).toBe(3);
    expect(JSON.parse(env.out.text).error).toMatchObject({
      name: 'NoCredentials',
      message: 'The profile "prod" gave no credentials: Could not load credentials from any providers',
      action: expect.stringContaining('aws sso login --profile <p>'),
    });
  });
});

describe('the command line itself', () => {
  test('no command prints the help on stderr and exits 2', async () => {
    // GIVEN
    const env = fakeEnvironment();

    // WHEN
    const code = await env.run();

    // THEN
    expect(code).toBe(2);
    expect(env.err.text).toContain('Usage: cdk-ec2-reset-access');
    expect(env.out.text).toBe('');
  });

  test('`help` and --help exit 0', async () => {
    expect(await fakeEnvironment().run('help')).toBe(0);
    expect(await fakeEnvironment().run('reset', '--help')).toBe(0);
  });

  test.each([
    ['a missing argument', ['reset', '--json'], /missing required argument 'instance-id'/],
    ['an unknown option', ['status', INSTANCE_ID, '--json', '--bogus'], /unknown option '--bogus'/],
    ['a value out of its choices', ['reset', INSTANCE_ID, '--json', '--method', 'fast'], /argument 'fast' is invalid/],
    ['an invalid --region', ['reset', INSTANCE_ID, '--json', '--region', 'nowhere'], /"nowhere" is not an AWS Region name/],
  ])('%s with --json: the document has the meaning and the action docs/operating.md promises', async (_what, argv, message) => {
    // GIVEN
    const env = fakeEnvironment();

    // WHEN
    const code = await env.run(...argv);

    // THEN
    expect(code).toBe(2);
    expect(JSON.parse(env.out.text)).toEqual({
      error: { name: 'InvalidArguments', message: expect.stringMatching(message), meaning: 'The command line is not valid.', action: 'See --help.' },
    });
  });
});

describe('the key file', () => {
  const OPENSSH = ['-----BEGIN OPENSSH PRIVATE KEY-----', 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABFwAAAAdzc2gtcn',
    '-----END OPENSSH PRIVATE KEY-----', ''].join('\n');

  test('an OpenSSH-format key is refused with the ssh-keygen command that converts it, exit 5', async () => {
    // GIVEN
    const env = fakeEnvironment({ files: { 'ops.key': OPENSSH } });

    // WHEN
    const code = await env.run('password', INSTANCE_ID, '--key-file', 'ops.key');

    // THEN
    expect(code).toBe(5);
    expect(env.err.text).toContain('✖ KeyFileUnreadable: The key file cannot be used: it is in OpenSSH format ("BEGIN OPENSSH PRIVATE KEY"), ' +
      'which is not PEM; convert a copy to PEM with ssh-keygen -p -m PEM -f <copy of the key>');
  });
});
