import { ExecutionStatusChange, notificationFor } from '../../src/operations/notification-message';

const RESET = 'arn:aws:states:eu-west-1:111122223333:stateMachine:Reset';
const RESTORE = 'arn:aws:states:eu-west-1:111122223333:stateMachine:Restore';
const MACHINES = { reset: RESET, restore: RESTORE };
const INSTANCE_ID = 'i-0123456789abcdef0';
const resetArn = `${RESET.replace(':stateMachine:', ':execution:')}:run-1`;

const reset = (status: string, extra: Partial<ExecutionStatusChange> = {}): ExecutionStatusChange => ({
  executionArn: resetArn,
  stateMachineArn: RESET,
  name: 'run-1',
  status,
  input: JSON.stringify({ instanceId: INSTANCE_ID, method: 'auto' }),
  ...extra,
});

describe('notificationFor', () => {
  test('a reset starting: instance, requested method, how to follow it', () => {
    // WHEN
    const publication = notificationFor(reset('RUNNING'), MACHINES);

    // THEN
    expect(publication).toEqual({
      subject: `[cdk-ec2-reset-access] Reset of ${INSTANCE_ID} started (auto)`,
      message: {
        kind: 'reset',
        instanceId: INSTANCE_ID,
        method: 'auto',
        status: 'STARTED',
        executionArn: resetArn,
        executionName: 'run-1',
        next: `Follow it: cdk-ec2-reset-access status ${resetArn}`,
      },
    });
  });

  test('a reset succeeding: the method it used and where the password is, from an allow-list of output fields', () => {
    // GIVEN
    const output = {
      instanceId: INSTANCE_ID,
      method: 'online',
      passwordParameterName: `/EC2Rescue/Passwords/${INSTANCE_ID}`,
      passwordStatus: 'stored-in-parameter',
      unexpected: 'not copied',
    };

    // WHEN
    const publication = notificationFor(reset('SUCCEEDED', { output: JSON.stringify(output) }), MACHINES)!;

    // THEN
    expect(publication.subject).toBe(`[cdk-ec2-reset-access] Reset of ${INSTANCE_ID} succeeded (online)`);
    expect(publication.message).toMatchObject({ status: 'SUCCEEDED', method: 'online', passwordStatus: 'stored-in-parameter' });
    expect(publication.message.next).toContain('--from-parameter --delete');
    expect(JSON.stringify(publication)).not.toContain('not copied');
  });

  test.each([
    ['available', '--key-file <key pair .pem>'],
    ['no-key-pair', 'launch the password-enabled image with a new key pair'],
  ])('a successful offline reset (%s) says what to do next', (passwordStatus, next) => {
    // WHEN
    const output = { instanceId: INSTANCE_ID, method: 'offline', backupImageId: 'ami-0backup', passwordStatus };
    const publication = notificationFor(reset('SUCCEEDED', { output: JSON.stringify(output) }), MACHINES)!;

    // THEN
    expect(publication.message).toMatchObject({ passwordStatus });
    expect(publication.message.next).toContain(next);
  });

  test.each(['FAILED', 'TIMED_OUT', 'ABORTED'])('a reset ending %s: the error and its cause, shortened', status => {
    // WHEN
    const publication = notificationFor(reset(status, { error: 'CommandFailed', cause: 'x'.repeat(2000) }), MACHINES)!;

    // THEN
    expect(publication.subject).toBe(`[cdk-ec2-reset-access] Reset of ${INSTANCE_ID} ${status.replace('_', ' ')}`);
    expect(publication.message).toMatchObject({ status, error: 'CommandFailed' });
    expect(publication.message.cause!.length).toBe(600);
  });

  test('dry runs are not notified', () => {
    expect(notificationFor(reset('SUCCEEDED', { input: JSON.stringify({ instanceId: INSTANCE_ID, dryRun: true }) }), MACHINES)).toBeUndefined();
  });

  test('an unreadable input still gives a message', () => {
    expect(notificationFor(reset('FAILED', { input: 'not json' }), MACHINES)!.message.instanceId).toBe('unknown instance');
  });

  describe('restore executions', () => {
    const restore = (status: string, output?: unknown): ExecutionStatusChange => ({
      executionArn: `${RESTORE}:r-1`,
      stateMachineArn: RESTORE,
      name: 'r-1',
      status,
      input: JSON.stringify({ executionArn: resetArn, input: JSON.stringify({ instanceId: INSTANCE_ID, method: 'offline' }) }),
      output: output === undefined ? null : JSON.stringify(output),
      error: status === 'FAILED' ? 'RestoreIncomplete' : null,
    });

    test('a restore that put an instance back is notified with the reset it followed', () => {
      // WHEN
      const publication = notificationFor(restore('SUCCEEDED', { journal: { found: true } }), MACHINES)!;

      // THEN
      expect(publication.subject).toBe(`[cdk-ec2-reset-access] Instance ${INSTANCE_ID} put back after its reset ended`);
      expect(publication.message).toMatchObject({ kind: 'restore', instanceId: INSTANCE_ID, method: 'offline', resetExecutionArn: resetArn });
    });

    test('a restore that failed asks for action', () => {
      // WHEN
      const publication = notificationFor(restore('FAILED'), MACHINES)!;

      // THEN
      expect(publication.subject).toBe(`[cdk-ec2-reset-access] ACTION NEEDED: restore of ${INSTANCE_ID} FAILED`);
      expect(publication.message.next).toContain('Check the instance by hand');
    });

    test('a restore starting, or finding nothing to restore, is not notified', () => {
      expect(notificationFor(restore('RUNNING'), MACHINES)).toBeUndefined();
      expect(notificationFor(restore('SUCCEEDED', { journal: { found: false } }), MACHINES)).toBeUndefined();
    });
  });

  test('another state machine\'s events are ignored', () => {
    expect(notificationFor({ ...reset('FAILED'), stateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:Other' }, MACHINES)).toBeUndefined();
  });
});
