import { nextSteps, planLines } from '../../../cli/core/format';

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

describe('planLines', () => {
  test('an offline plan shows the key pair, the helper type and a MinSize lowering', () => {
    // GIVEN
    const plan = {
      instanceId: 'i-0123456789abcdef0',
      method: 'offline' as const,
      dryRun: true,
      executionArn: 'arn',
      executionName: 'run',
      availabilityZone: 'us-east-1a',
      helperSubnetId: 'subnet-1',
      helperInstanceType: 't3a.medium',
      originalState: 'running' as const,
      rootDeviceName: '/dev/sda1',
      rootVolumeId: 'vol-1',
      rootDeleteOnTermination: true,
      autoScalingGroupName: 'web',
      manageStandby: true,
      minSizeLowering: { from: 1, to: 0 },
      passwordEnabledAmi: true,
      backupImageName: 'b',
      passwordEnabledImageName: 'p',
      consequences: [],
    };

    // WHEN
    const text = planLines(plan).join('\n');

    // THEN
    expect(text).toMatch(/Auto Scaling\s+web: put into Standby and back; MinSize 1 lowered to 0 and raised back/);
    expect(text).toMatch(/Key pair\s+none: GetPasswordData cannot return the password/);
    expect(text).toMatch(/Helper\s+t3a.medium in us-east-1a/);
    expect(planLines({ ...plan, keyName: 'ops-key' }).join('\n')).toMatch(/Key pair\s+ops-key/);
  });
});
