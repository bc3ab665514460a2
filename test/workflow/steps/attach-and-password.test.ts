import { AttachVolumeCommand, DescribeImagesCommand, DescribeInstancesCommand, DescribeVolumesCommand, DetachVolumeCommand, EC2Client, GetPasswordDataCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as attachToHelper } from '../../../src/workflow/steps/attach-to-helper.lambda';
import { handler as checkPassword } from '../../../src/workflow/steps/check-password.lambda';
import { HELPER, ROOT_VOLUME, TARGET, awsError, captureLogs, offlinePlan, useConfig } from '../fixtures';

const ec2 = mockClient(EC2Client);
const plan = offlinePlan();
const event = { plan, helper: { helperInstanceId: HELPER, helperImageId: 'ami-2019' } };

function given(volume: object, opts: { image?: boolean; targetState?: string } = {}) {
  ec2.on(DescribeImagesCommand).resolves({ Images: opts.image === false ? [] : [{ ImageId: 'ami-backup', Name: plan.backupImageName, State: 'pending' }] });
  ec2.on(DescribeVolumesCommand, { VolumeIds: [ROOT_VOLUME] }).resolves({ Volumes: [{ VolumeId: ROOT_VOLUME, ...volume }] });
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: TARGET, State: { Name: (opts.targetState ?? 'stopped') as never } }] }] });
}

describe('attach-to-helper handler', () => {
  beforeEach(() => {
    ec2.reset();
    useConfig();
    captureLogs();
  });
  afterEach(() => jest.restoreAllMocks());

  test('I3: nothing is detached until the backup image exists', async () => {
    given({ State: 'in-use', Attachments: [{ InstanceId: TARGET, Device: '/dev/sda1', State: 'attached' }] }, { image: false });
    await expect(attachToHelper(event)).resolves.toMatchObject({ done: false });
    expect(ec2).toHaveReceivedCommandTimes(DetachVolumeCommand, 0);
  });

  test('detaches the root from the stopped target', async () => {
    given({ State: 'in-use', Attachments: [{ InstanceId: TARGET, Device: '/dev/sda1', State: 'attached' }] });
    await expect(attachToHelper(event)).resolves.toMatchObject({ done: false });
    expect(ec2).toHaveReceivedCommandWith(DetachVolumeCommand, { VolumeId: ROOT_VOLUME, InstanceId: TARGET });
  });

  test('already detached: attaches it to the helper as xvdf', async () => {
    given({ State: 'available', Attachments: [] });
    await expect(attachToHelper(event)).resolves.toMatchObject({ done: false, status: 'attaching the root volume to the helper as xvdf' });
    expect(ec2).toHaveReceivedCommandWith(AttachVolumeCommand, { VolumeId: ROOT_VOLUME, InstanceId: HELPER, Device: 'xvdf' });
    expect(ec2).toHaveReceivedCommandTimes(DetachVolumeCommand, 0);
  });

  test('already attached to the helper at xvdf: done, nothing sent', async () => {
    given({ State: 'in-use', Attachments: [{ InstanceId: HELPER, Device: 'xvdf', State: 'attached' }] });
    await expect(attachToHelper(event)).resolves.toMatchObject({ done: true });
    expect(ec2).toHaveReceivedCommandTimes(AttachVolumeCommand, 0);
    expect(ec2).toHaveReceivedCommandTimes(DetachVolumeCommand, 0);
  });

  test('attached to the helper at another device: VolumeAttachedElsewhere', async () => {
    given({ State: 'in-use', Attachments: [{ InstanceId: HELPER, Device: 'xvdg', State: 'attached' }] });
    await expect(attachToHelper(event)).rejects.toMatchObject({ name: 'VolumeAttachedElsewhere' });
  });

  test('a racing retry (VolumeInUse) observes again instead of failing', async () => {
    given({ State: 'available', Attachments: [] });
    ec2.on(AttachVolumeCommand).rejects(awsError('VolumeInUse'));
    await expect(attachToHelper(event)).resolves.toMatchObject({ done: false, status: 'volume already changing' });
  });
});

describe('check-password handler', () => {
  let logs: () => string[];
  beforeEach(() => {
    ec2.reset();
    useConfig();
    logs = captureLogs();
  });
  afterEach(() => jest.restoreAllMocks());

  const STARTED = new Date('2026-11-28T10:00:00Z');
  const givenStartedAt = (launchTime: Date) =>
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: TARGET, State: { Name: 'running' }, LaunchTime: launchTime }] }] });

  test('empty password data: not done', async () => {
    givenStartedAt(STARTED);
    ec2.on(GetPasswordDataCommand, { InstanceId: TARGET }).resolves({ InstanceId: TARGET, PasswordData: '' });
    await expect(checkPassword({ plan })).resolves.toEqual({ done: false, waitSeconds: 30, status: 'waiting for Windows to generate the password' });
  });

  test('password data of an earlier boot does not count: not done until it is updated after the start', async () => {
    // GIVEN data last updated a day before the instance was started again
    givenStartedAt(STARTED);
    ec2.on(GetPasswordDataCommand).resolves({ InstanceId: TARGET, PasswordData: 'b2xkLWJsb2I=', Timestamp: new Date('2026-11-27T10:00:00Z') });

    // WHEN / THEN
    await expect(checkPassword({ plan })).resolves.toMatchObject({ done: false, status: 'waiting for Windows to replace the password of an earlier boot' });
    expect(ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, { InstanceIds: [TARGET] });
  });

  test('password data present: done, and the data is neither returned nor logged', async () => {
    // GIVEN
    const secret = 'Zm9vYmFyLWVuY3J5cHRlZC1wYXNzd29yZC1kYXRh\n';
    givenStartedAt(STARTED);
    ec2.on(GetPasswordDataCommand).resolves({ InstanceId: TARGET, PasswordData: secret, Timestamp: new Date(STARTED.getTime() + 4 * 60_000) });

    // WHEN
    const result = await checkPassword({ plan });

    // THEN
    expect(result).toEqual({ done: true, waitSeconds: 0, status: 'a new password was generated' });
    expect(JSON.stringify(result)).not.toContain(secret.trim());
    expect(logs().join('')).not.toContain(secret.trim());
    expect(logs().join('')).not.toMatch(/PasswordData/);
  });
});
