import { validateRequest } from '../../../src/workflow/private/request';
import { TARGET } from '../fixtures';

describe('validateRequest', () => {
  test('fills the defaults of a minimal request', () => {
    // WHEN
    const request = validateRequest({ instanceId: TARGET });

    // THEN
    expect(request).toEqual({ instanceId: TARGET, method: 'auto', passwordEnabledAmi: false, acknowledge: [], dryRun: false });
  });

  test('keeps every valid field, deduplicating acknowledgements', () => {
    // WHEN
    const request = validateRequest({
      instanceId: 'i-01234567',
      method: 'offline',
      passwordEnabledAmi: true,
      dryRun: true,
      acknowledge: ['public-ip-release', 'instance-store-data-loss', 'auto-scaling-standby', 'public-ip-release'],
    });

    // THEN
    expect(request).toEqual({
      instanceId: 'i-01234567',
      method: 'offline',
      passwordEnabledAmi: true,
      dryRun: true,
      acknowledge: ['public-ip-release', 'instance-store-data-loss', 'auto-scaling-standby'],
    });
  });

  test.each([
    ['not an object', 'i-0123', /JSON object/],
    ['an array', [TARGET], /JSON object/],
    ['no instance id', {}, /Set instanceId to an EC2 instance id .*got nothing/],
    ['an instance id with upper case', { instanceId: 'i-0123456789ABCDEF0' }, /Set instanceId/],
    ['an instance id too short', { instanceId: 'i-0123456' }, /Set instanceId/],
    ['an instance id too long', { instanceId: 'i-0123456789abcdef01' }, /Set instanceId/],
    ['a volume id', { instanceId: 'vol-0123456789abcdef0' }, /Set instanceId/],
    ['an unknown method', { instanceId: TARGET, method: 'reboot' }, /Set method to one of auto, online, offline.*"reboot"/],
    ['a string flag', { instanceId: TARGET, dryRun: 'yes' }, /Set dryRun to true or false/],
    ['a string passwordEnabledAmi', { instanceId: TARGET, passwordEnabledAmi: 1 }, /Set passwordEnabledAmi to true or false/],
    ['acknowledge not a list', { instanceId: TARGET, acknowledge: 'public-ip-release' }, /Set acknowledge to a list/],
    ['an unknown acknowledgement', { instanceId: TARGET, acknowledge: ['data-loss'] }, /Remove "data-loss" from acknowledge; allowed values are public-ip-release/],
    ['an unknown field', { instanceId: TARGET, force: true, region: 'x' }, /Remove the unknown field\(s\) force, region from the input/],
  ])('refuses %s with InvalidInput saying what to change', (_, input, message) => {
    // WHEN / THEN
    expect(() => validateRequest(input)).toThrow(message);
    expect(() => validateRequest(input)).toThrow(expect.objectContaining({ name: 'InvalidInput' }));
  });
});
