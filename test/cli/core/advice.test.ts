import { ADVICE, adviceFor } from '../../../cli/core/advice';
import { CliError, toCliError } from '../../../cli/core/errors';
import { EXIT_CODES } from '../../../cli/core/exit-codes';
import { ERRORS } from '../../../src/workflow/private/contracts';
import { WORKFLOW_ERRORS } from '../../../src/workflow/private/state-machine-definition';

describe('the error advice table', () => {
  test.each([...Object.values(ERRORS), ...Object.values(WORKFLOW_ERRORS)])('has advice for the workflow error %s', name => {
    // WHEN
    const advice = ADVICE[name];

    // THEN
    expect(advice).toBeDefined();
    expect(advice.meaning).toMatch(/\.$/);
    expect(advice.action.length).toBeGreaterThan(10);
    expect(advice.exitCode).toBe(EXIT_CODES.resetFailed);
  });

  test('every preflight error says nothing was changed; errors during the reset say the instance was restored or must be checked', () => {
    for (const name of ['InvalidInput', 'InstanceNotFound', 'TargetNotAllowed', 'ResetInProgress', 'AcknowledgementRequired']) {
      expect(ADVICE[name].instance).toBe('nothing');
    }
    for (const name of ['HelperNotReady', 'CommandFailed', 'PasswordNotGenerated']) expect(ADVICE[name].instance).toBe('restored');
    for (const name of ['RestoreIncomplete', 'VolumeAttachedElsewhere', 'VolumeNotFound']) expect(ADVICE[name].instance).toBe('check');
  });

  test('unknown names get generic advice instead of failing', () => {
    expect(adviceFor('Lambda.Unknown')).toBe(ADVICE['States.TaskFailed']);
    expect(adviceFor('SomethingNew')).toBe(ADVICE.Unexpected);
    expect(adviceFor('toString')).toBe(ADVICE.Unexpected);
  });
});

describe('toCliError', () => {
  const awsError = (name: string, message = 'm') => Object.assign(new Error(message), { name });

  test.each([
    [awsError('CredentialsProviderError', 'Could not load credentials from any providers'), 'NoCredentials', EXIT_CODES.setup],
    [awsError('ExpiredTokenException'), 'NoCredentials', EXIT_CODES.setup],
    [new Error('Region is missing'), 'NoRegion', EXIT_CODES.setup],
    [awsError('AccessDeniedException'), 'AccessDenied', EXIT_CODES.setup],
    [awsError('UnauthorizedOperation'), 'AccessDenied', EXIT_CODES.setup],
    [awsError('StateMachineDoesNotExist'), 'StateMachineNotFound', EXIT_CODES.setup],
    [awsError('ExecutionDoesNotExist'), 'ExecutionNotFound', EXIT_CODES.notFound],
    [awsError('InvalidInstanceID.NotFound'), 'InstanceNotFound', EXIT_CODES.notFound],
    [awsError('InternalServerError'), 'Unexpected', EXIT_CODES.unexpected],
    [Object.assign(new Error('getaddrinfo ENOTFOUND ssm.xx-1.amazonaws.com'), { code: 'ENOTFOUND', hostname: 'ssm.xx-1.amazonaws.com' }), 'NetworkError', EXIT_CODES.network],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' }), 'NetworkError', EXIT_CODES.network],
    [awsError('TimeoutError', 'Socket timed out'), 'NetworkError', EXIT_CODES.network],
    [new Error('Region not accepted: region="x y" is not a valid hostname component.'), 'InvalidRegion', EXIT_CODES.setup],
  ])('maps %p to %s', (err, name, exitCode) => {
    // WHEN
    const mapped = toCliError(err);

    // THEN
    expect(mapped).toBeInstanceOf(CliError);
    expect(mapped.name).toBe(name);
    expect(mapped.exitCode).toBe(exitCode);
  });
});
