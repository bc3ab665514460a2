import { constants, generateKeyPairSync, publicEncrypt } from 'node:crypto';
import { EC2Client, GetPasswordDataCommand } from '@aws-sdk/client-ec2';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DeleteParameterCommand, GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { EXECUTION_ARN, fakeEnvironment, serveExecution, STATE_MACHINE_ARN } from './fake-env';
import { HistoryBuilder, INSTANCE_ID, offlineSuccess, PLAN, SUCCESS_OUTPUT } from './history-fixture';
import { ADVICE } from '../../cli/core/advice';
import { ERRORS } from '../../src/workflow/private/contracts';
import { WORKFLOW_ERRORS } from '../../src/workflow/private/state-machine-definition';

const sfn = mockClient(SFNClient);
const ssm = mockClient(SSMClient);
const ec2 = mockClient(EC2Client);
const awsError = (name: string, message: string) => Object.assign(new Error(message), { name, $metadata: {} });

beforeEach(() => {
  sfn.reset();
  ssm.reset();
  ec2.reset();
  ssm.on(GetParameterCommand, { Name: '/cdk-ec2-reset-access/state-machine-arn' }).resolves({ Parameter: { Value: STATE_MACHINE_ARN } });
});

describe('status', () => {
  test('follows a running execution given by ARN to its end, replaying the steps so far', async () => {
    // GIVEN
    const env = fakeEnvironment();
    serveExecution(sfn, offlineSuccess().events, { batch: 60, input: { instanceId: INSTANCE_ID }, status: 'SUCCEEDED', output: SUCCESS_OUTPUT });

    // WHEN
    const code = await env.run('status', EXECUTION_ARN);

    // THEN
    expect(code).toBe(0);
    expect(env.err.text).toContain(`Reset of ${INSTANCE_ID}: ${EXECUTION_ARN}`);
    expect(env.err.text).toMatch(/^\[00:00\] start  Preflight checks$/m);
    expect(env.out.text).toContain(`✔ Reset of ${INSTANCE_ID} succeeded`);
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 0);
  });

  test('--no-wait reports a running execution as it is now', async () => {
    // GIVEN
    const env = fakeEnvironment();
    serveExecution(sfn, offlineSuccess().events, { batch: 30, input: { instanceId: INSTANCE_ID }, status: 'SUCCEEDED' });

    // WHEN
    const code = await env.run('status', EXECUTION_ARN, '--no-wait', '--json');

    // THEN
    expect(code).toBe(0);
    const document = JSON.parse(env.out.text);
    expect(document).toMatchObject({ status: 'RUNNING', detached: false, resume: `cdk-ec2-reset-access status ${EXECUTION_ARN}` });
    expect(document.steps.map((s: { id: string }) => s.id)).toEqual(['preflight', 'lock', 'stop']);
  });

  test('finds an instance\'s latest reset by the name the CLI gives it, skipping dry runs', async () => {
    // GIVEN
    const env = fakeEnvironment();
    sfn.on(ListExecutionsCommand).resolves({
      executions: [
        { executionArn: `${EXECUTION_ARN}-dry`, name: `${INSTANCE_ID}-preflight-20260501T031400Z-ffffff`, stateMachineArn: STATE_MACHINE_ARN, status: 'SUCCEEDED', startDate: new Date() },
        { executionArn: EXECUTION_ARN, name: `${INSTANCE_ID}-20260501T031500Z-a1b2c3`, stateMachineArn: STATE_MACHINE_ARN, status: 'SUCCEEDED', startDate: new Date() },
      ],
    });
    serveExecution(sfn, offlineSuccess().events, { input: { instanceId: INSTANCE_ID }, status: 'SUCCEEDED', output: SUCCESS_OUTPUT });

    // WHEN
    const code = await env.run('status', INSTANCE_ID, '--json');

    // THEN
    expect(code).toBe(0);
    expect(sfn).toHaveReceivedCommandWith(ListExecutionsCommand, { stateMachineArn: STATE_MACHINE_ARN });
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: EXECUTION_ARN });
    expect(JSON.parse(env.out.text)).toMatchObject({ executionArn: EXECUTION_ARN, status: 'SUCCEEDED' });
  });

  test('finds a reset started elsewhere (console, AWS CLI) by its input', async () => {
    // GIVEN
    const env = fakeEnvironment();
    const other = `${EXECUTION_ARN.split(':').slice(0, -1).join(':')}:console-run`;
    sfn.on(ListExecutionsCommand).resolves({
      executions: [
        { executionArn: `${other}-2`, name: 'console-run-2', stateMachineArn: STATE_MACHINE_ARN, status: 'SUCCEEDED', startDate: new Date() },
        { executionArn: other, name: 'console-run', stateMachineArn: STATE_MACHINE_ARN, status: 'SUCCEEDED', startDate: new Date() },
      ],
    });
    serveExecution(sfn, offlineSuccess().events, { input: { instanceId: INSTANCE_ID }, status: 'SUCCEEDED', output: SUCCESS_OUTPUT });
    sfn.on(DescribeExecutionCommand, { executionArn: `${other}-2` }).resolves({ input: JSON.stringify({ instanceId: 'i-0fffffffffffffff0' }) });
    sfn.on(DescribeExecutionCommand, { executionArn: other }).resolves({
      executionArn: other, status: 'SUCCEEDED', input: JSON.stringify({ instanceId: INSTANCE_ID }), output: JSON.stringify(SUCCESS_OUTPUT),
    });

    // WHEN
    const code = await env.run('status', INSTANCE_ID, '--json');

    // THEN
    expect(code).toBe(0);
    expect(JSON.parse(env.out.text)).toMatchObject({ executionArn: other });
  });

  test('no reset of the instance: ExecutionNotFound, exit 4', async () => {
    // GIVEN
    const env = fakeEnvironment();
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });

    // WHEN / THEN
    expect(await env.run('status', INSTANCE_ID)).toBe(4);
    expect(env.err.text).toContain(`✖ ExecutionNotFound: No reset of ${INSTANCE_ID} among the latest 100 executions`);
  });

  test('a wrong execution ARN: ExecutionNotFound, exit 4', async () => {
    // GIVEN
    const env = fakeEnvironment();
    sfn.on(DescribeExecutionCommand).rejects(awsError('ExecutionDoesNotExist', 'Execution Does Not Exist'));

    // WHEN / THEN
    expect(await env.run('status', EXECUTION_ARN)).toBe(4);
    expect(env.err.text).toContain('✖ ExecutionNotFound');
  });

  const workflowErrors = [...Object.values(ERRORS), ...Object.values(WORKFLOW_ERRORS)];
  test.each(workflowErrors)('an execution that failed with %s shows its cause, what it means and what to do; exit 1', async error => {
    // GIVEN
    const env = fakeEnvironment();
    const cause = `the cause of ${error}`;
    const h = new HistoryBuilder().started({ instanceId: INSTANCE_ID }).task('Preflight', { output: PLAN }).failed(error, cause);
    serveExecution(sfn, h.events, { input: { instanceId: INSTANCE_ID }, status: 'FAILED', error, cause });

    // WHEN
    const human = await env.run('status', EXECUTION_ARN);
    const humanText = env.out.text;
    env.out.text = '';
    const json = await env.run('status', EXECUTION_ARN, '--json');

    // THEN
    expect(human).toBe(1);
    expect(json).toBe(1);
    expect(humanText).toContain(`${error}: ${ADVICE[error].meaning}`);
    expect(humanText).toContain(`Cause: ${cause}`);
    expect(humanText).toContain(`What to do: ${ADVICE[error].action}`);
    expect(JSON.parse(env.out.text).error).toEqual({
      name: error, cause, meaning: ADVICE[error].meaning, action: ADVICE[error].action, instance: ADVICE[error].instance,
    });
  });
});

describe('password', () => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = pair.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const passwordData = (password: string) =>
    publicEncrypt({ key: pair.publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(password)).toString('base64');

  test('--key-file decrypts GetPasswordData locally and prints only the password on stdout', async () => {
    // GIVEN
    const env = fakeEnvironment({ files: { 'key.pem': pem } });
    ec2.on(GetPasswordDataCommand, { InstanceId: INSTANCE_ID }).resolves({ InstanceId: INSTANCE_ID, PasswordData: `\r\n${passwordData('N3w-P@ss;word')}\r\n` });

    // WHEN
    const code = await env.run('password', INSTANCE_ID, '--key-file', 'key.pem');

    // THEN
    expect(code).toBe(0);
    expect(env.out.text).toBe('N3w-P@ss;word\n');
    expect(env.err.text).toContain(`Administrator password of ${INSTANCE_ID}:`);
    expect(env.err.text).toContain('the key was not sent anywhere');
    // Nothing but the instance id went to AWS.
    expect(ec2.commandCalls(GetPasswordDataCommand)[0].args[0].input).toEqual({ InstanceId: INSTANCE_ID });
  });

  test('--key-file --json', async () => {
    // GIVEN
    const env = fakeEnvironment({ files: { 'key.pem': pem } });
    ec2.on(GetPasswordDataCommand).resolves({ PasswordData: passwordData('pw') });

    // WHEN
    const code = await env.run('password', INSTANCE_ID, '--key-file', 'key.pem', '--json');

    // THEN
    expect(code).toBe(0);
    expect(JSON.parse(env.out.text)).toEqual({ instanceId: INSTANCE_ID, source: 'password-data', password: 'pw' });
    expect(env.err.text).toBe('');
  });

  test('--wait asks again until Windows has generated the password', async () => {
    // GIVEN
    const env = fakeEnvironment({ files: { 'key.pem': pem } });
    ec2.on(GetPasswordDataCommand).resolvesOnce({ PasswordData: '' }).resolvesOnce({ PasswordData: '' }).resolves({ PasswordData: passwordData('late') });

    // WHEN
    const code = await env.run('password', INSTANCE_ID, '--key-file', 'key.pem', '--wait');

    // THEN
    expect(code).toBe(0);
    expect(env.out.text).toBe('late\n');
    expect(ec2).toHaveReceivedCommandTimes(GetPasswordDataCommand, 3);
    expect(env.err.text).toContain('No password data yet (15s); asking again in 15s');
  });

  test('no password data yet: PasswordNotAvailable, exit 4 (also after --wait gives up)', async () => {
    // GIVEN
    const env = fakeEnvironment({ files: { 'key.pem': pem } });
    ec2.on(GetPasswordDataCommand).resolves({ PasswordData: '' });

    // WHEN / THEN
    expect(await env.run('password', INSTANCE_ID, '--key-file', 'key.pem')).toBe(4);
    expect(env.err.text).toContain('✖ PasswordNotAvailable');
    expect(await env.run('password', INSTANCE_ID, '--key-file', 'key.pem', '--wait', '--wait-minutes', '1')).toBe(4);
    expect(env.err.text).toContain('is empty after 1 minutes');
    expect(ec2).toHaveReceivedCommandTimes(GetPasswordDataCommand, 1 + 5);
  });

  test('instance not found: exit 4', async () => {
    // GIVEN
    const env = fakeEnvironment({ files: { 'key.pem': pem } });
    ec2.on(GetPasswordDataCommand).rejects(awsError('InvalidInstanceID.NotFound', `The instance ID '${INSTANCE_ID}' does not exist`));

    // WHEN / THEN
    expect(await env.run('password', INSTANCE_ID, '--key-file', 'key.pem')).toBe(4);
    expect(env.err.text).toContain('✖ InstanceNotFound');
  });

  test('the wrong key: KeyMismatch, exit 5, says which key to use', async () => {
    // GIVEN
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const env = fakeEnvironment({ files: { 'other.pem': other } });
    ec2.on(GetPasswordDataCommand).resolves({ PasswordData: passwordData('pw') });

    // WHEN / THEN
    expect(await env.run('password', INSTANCE_ID, '--key-file', 'other.pem')).toBe(5);
    expect(env.err.text).toContain('✖ KeyMismatch');
    expect(env.err.text).toContain('the key pair the instance was launched with');
    expect(env.out.text).toBe('');
  });

  test('a missing or unusable key file fails before asking AWS: exit 5', async () => {
    // GIVEN
    const env = fakeEnvironment({ files: { 'notakey.pem': 'hello' } });

    // WHEN / THEN
    expect(await env.run('password', INSTANCE_ID, '--key-file', 'missing.pem')).toBe(5);
    expect(env.err.text).toContain('✖ KeyFileUnreadable: Cannot read missing.pem: ENOENT');
    expect(await env.run('password', INSTANCE_ID, '--key-file', 'notakey.pem')).toBe(5);
    expect(ec2).toHaveReceivedCommandTimes(GetPasswordDataCommand, 0);
  });

  test('--from-parameter --delete reads the online method\'s SecureString, then deletes it', async () => {
    // GIVEN
    const env = fakeEnvironment();
    const name = `/EC2Rescue/Passwords/${INSTANCE_ID}`;
    ssm.on(GetParameterCommand, { Name: name, WithDecryption: true }).resolves({ Parameter: { Name: name, Value: 'From-Param-1', Type: 'SecureString' } });
    ssm.on(DeleteParameterCommand).resolves({});

    // WHEN
    const code = await env.run('password', INSTANCE_ID, '--from-parameter', '--delete', '--json');

    // THEN
    expect(code).toBe(0);
    expect(JSON.parse(env.out.text)).toEqual({ instanceId: INSTANCE_ID, source: 'parameter', parameterName: name, password: 'From-Param-1', deleted: true });
    expect(ssm).toHaveReceivedCommandWith(DeleteParameterCommand, { Name: name });
  });

  test('--delete that is denied still prints the password, and says the parameter is still there', async () => {
    // GIVEN
    const env = fakeEnvironment();
    ssm.on(GetParameterCommand, { Name: `/EC2Rescue/Passwords/${INSTANCE_ID}` }).resolves({ Parameter: { Value: 'pw' } });
    ssm.on(DeleteParameterCommand).rejects(awsError('AccessDeniedException', 'not authorized to perform: ssm:DeleteParameter'));

    // WHEN
    const code = await env.run('password', INSTANCE_ID, '--from-parameter', '--delete');

    // THEN
    expect(code).toBe(0);
    expect(env.out.text).toBe('pw\n');
    expect(env.err.text).toContain(`Could not delete /EC2Rescue/Passwords/${INSTANCE_ID}: not authorized`);
    expect(env.err.text).toContain('ResetAccess.grantDeletePasswords(role)');
    expect(env.err.text).toContain('It stays in');
  });

  test('--from-parameter without --delete leaves it and says so', async () => {
    // GIVEN
    const env = fakeEnvironment();
    ssm.on(GetParameterCommand, { Name: `/EC2Rescue/Passwords/${INSTANCE_ID}` }).resolves({ Parameter: { Value: 'pw' } });

    // WHEN
    const code = await env.run('password', INSTANCE_ID, '--from-parameter');

    // THEN
    expect(code).toBe(0);
    expect(env.out.text).toBe('pw\n');
    expect(env.err.text).toContain('until the retention deletes it (or: --delete)');
    expect(ssm).toHaveReceivedCommandTimes(DeleteParameterCommand, 0);
  });

  test('no parameter: PasswordParameterNotFound, exit 4', async () => {
    // GIVEN
    const env = fakeEnvironment();
    ssm.on(GetParameterCommand, { Name: `/EC2Rescue/Passwords/${INSTANCE_ID}` }).rejects(awsError('ParameterNotFound', ''));

    // WHEN / THEN
    expect(await env.run('password', INSTANCE_ID, '--from-parameter')).toBe(4);
    expect(env.err.text).toContain('For an offline reset use --key-file');
  });

  test.each([
    [[]],
    [['--key-file', 'k.pem', '--from-parameter']],
    [['--key-file', 'k.pem', '--delete']],
    [['--from-parameter', '--wait']],
  ])('a wrong combination of options %p is exit 2', async extra => {
    // GIVEN
    const env = fakeEnvironment();

    // WHEN / THEN
    expect(await env.run('password', INSTANCE_ID, ...extra)).toBe(2);
    expect(env.err.text).toContain('InvalidArguments');
  });
});
