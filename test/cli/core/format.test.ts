import { nextSteps } from '../../../cli/core/format';

describe('nextSteps after a successful reset', () => {
  const INSTANCE_ID = 'i-0123456789abcdef0';

  test('no key pair: says why the password cannot be read, and to launch the password-enabled image with a new key pair (once)', () => {
    // WHEN
    const lines = nextSteps({ instanceId: INSTANCE_ID, method: 'offline', passwordStatus: 'no-key-pair', passwordEnabledImageId: 'ami-0post', backupImageId: 'ami-0backup' });

    // THEN
    expect(lines[0]).toMatch(/has no key pair, so its password cannot be read with GetPasswordData/);
    expect(lines[1]).toMatch(/^Launch ami-0post with a new key pair/);
    expect(lines.filter(l => l.includes('ami-0post'))).toHaveLength(1);
    expect(lines.join('\n')).not.toMatch(new RegExp(`password ${INSTANCE_ID} --key-file`));
  });

  test('available: the password command with the key pair', () => {
    expect(nextSteps({ instanceId: INSTANCE_ID, method: 'offline', passwordStatus: 'available' })[0])
      .toBe(`Get the new password:  cdk-ec2-reset-access password ${INSTANCE_ID} --key-file <key pair .pem>`);
  });
});
