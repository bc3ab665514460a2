import {
  DeleteSnapshotCommand, DeregisterImageCommand, DescribeImagesCommand, DescribeSnapshotsCommand, EC2Client, EC2ServiceException, Image, Snapshot,
} from '@aws-sdk/client-ec2';
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient, SFNServiceException } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest'; // the matchers' types (jest's setupFilesAfterEnv registers them at run time)
import { TAGS } from '../../../src/workflow/private/contracts';
import { handler } from '../../../src/workflow/retention/delete-expired-backup-images.lambda';
import { BACKUP_RETENTION_ENV } from '../../../src/workflow/retention/expired-backup-images';

const ec2 = mockClient(EC2Client);
const sfn = mockClient(SFNClient);
const NOW = new Date('2026-05-01T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86400_000);
const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:ResetStateMachine';
const executionArn = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:ResetStateMachine:${name}`;

function tags(execution: string) {
  return [
    { Key: 'Name', Value: `ResetAccess-Pre-Script-Backup_i-0123456789abcdef0_${execution}` },
    { Key: TAGS.workflow, Value: 'c8workflow' },
    { Key: TAGS.role, Value: 'backup' },
    { Key: TAGS.execution, Value: execution },
  ];
}
function image(execution: string, age: number): Image {
  return {
    ImageId: `ami-${execution}`,
    Name: `ResetAccess-Pre-Script-Backup_i-0123456789abcdef0_${execution}`,
    State: 'available',
    CreationDate: daysAgo(age).toISOString(),
    Tags: tags(execution),
    BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { SnapshotId: `snap-${execution}` } }],
  };
}
function snapshot(execution: string, age: number): Snapshot {
  return { SnapshotId: `snap-${execution}`, StartTime: daysAgo(age), Tags: tags(execution) };
}
function sfnError(name: string): SFNServiceException {
  return new SFNServiceException({ name, $fault: 'client', $metadata: {}, message: name });
}
function ec2Error(name: string): EC2ServiceException {
  return new EC2ServiceException({ name, $fault: 'client', $metadata: {}, message: name });
}

describe('delete-expired-backup-images handler', () => {
  beforeEach(() => {
    ec2.reset();
    sfn.reset();
    Object.assign(process.env, {
      [BACKUP_RETENTION_ENV.retentionSeconds]: String(14 * 86400),
      [BACKUP_RETENTION_ENV.stateMachineArn]: MACHINE,
      [BACKUP_RETENTION_ENV.workflowId]: 'c8workflow',
      [BACKUP_RETENTION_ENV.imageNamePrefix]: 'ResetAccess',
    });
  });

  test('lists this workflow\'s backups, asks how each expired reset ended, deregisters the successful ones\' images, then deletes their snapshots', async () => {
    // GIVEN
    ec2.on(DescribeImagesCommand).resolves({ Images: [image('ok', 20), image('failed', 20), image('recent', 3)] });
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('ok', 20), snapshot('failed', 20), snapshot('recent', 3)] });
    sfn.on(DescribeExecutionCommand, { executionArn: executionArn('ok') }).resolves({ status: 'SUCCEEDED' });
    sfn.on(DescribeExecutionCommand, { executionArn: executionArn('failed') }).resolves({ status: 'FAILED' });

    // WHEN
    const result = await handler({}, NOW);

    // THEN
    const ownBackups = [{ Name: `tag:${TAGS.workflow}`, Values: ['c8workflow'] }, { Name: `tag:${TAGS.role}`, Values: ['backup'] }];
    expect(ec2).toHaveReceivedCommandWith(DescribeImagesCommand, { Owners: ['self'], Filters: ownBackups });
    expect(ec2).toHaveReceivedCommandWith(DescribeSnapshotsCommand, { OwnerIds: ['self'], Filters: ownBackups });
    expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 2);
    expect(result).toEqual({
      examinedImages: 3,
      examinedSnapshots: 3,
      deregisteredImages: ['ami-ok'],
      deletedSnapshots: ['snap-ok'],
      kept: [
        { id: 'ami-failed', reason: 'reset failed is FAILED, not SUCCEEDED' },
        { id: 'snap-failed', reason: 'reset failed is FAILED, not SUCCEEDED' },
      ],
      alreadyGone: [],
    });
    const order = [...ec2.calls()].map(call => (call.args[0] as any).constructor.name).filter(n => !n.startsWith('Describe'));
    expect(order).toEqual(['DeregisterImageCommand', 'DeleteSnapshotCommand']);
    expect(ec2).toHaveReceivedCommandWith(DeregisterImageCommand, { ImageId: 'ami-ok' });
    expect(ec2).not.toHaveReceivedCommandWith(DeregisterImageCommand, { DeleteAssociatedSnapshots: true });
  });

  test('follows every page of images and snapshots', async () => {
    // GIVEN
    ec2.on(DescribeImagesCommand)
      .resolvesOnce({ Images: [image('a', 20)], NextToken: 'images-2' })
      .resolvesOnce({ Images: [image('b', 20)] });
    ec2.on(DescribeSnapshotsCommand)
      .resolvesOnce({ Snapshots: [snapshot('a', 20)], NextToken: 'snapshots-2' })
      .resolvesOnce({ Snapshots: [snapshot('b', 20)] });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });

    // WHEN
    const result = await handler({}, NOW);

    // THEN
    expect(ec2).toHaveReceivedNthCommandWith(2, DescribeImagesCommand, { NextToken: 'images-2' });
    expect(result.deregisteredImages).toEqual(['ami-a', 'ami-b']);
    expect(result.deletedSnapshots).toEqual(['snap-a', 'snap-b']);
  });

  test('a reset Step Functions no longer knows keeps its backup', async () => {
    // GIVEN
    ec2.on(DescribeImagesCommand).resolves({ Images: [image('forgotten', 85)] });
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('forgotten', 85)] });
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ $metadata: {}, message: 'Execution Does Not Exist' }));

    // WHEN
    const result = await handler({}, NOW);

    // THEN
    expect(ec2).toHaveReceivedCommandTimes(DeregisterImageCommand, 0);
    expect(ec2).toHaveReceivedCommandTimes(DeleteSnapshotCommand, 0);
    expect(result.kept.map(k => k.id)).toEqual(['ami-forgotten', 'snap-forgotten']);
  });

  test('when the outcome cannot be asked (access denied), the run fails before it deletes anything', async () => {
    // GIVEN
    ec2.on(DescribeImagesCommand).resolves({ Images: [image('ok', 20), image('other', 20)] });
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    sfn.on(DescribeExecutionCommand, { executionArn: executionArn('ok') }).resolves({ status: 'SUCCEEDED' });
    sfn.on(DescribeExecutionCommand, { executionArn: executionArn('other') }).rejects(sfnError('AccessDeniedException'));

    // WHEN / THEN
    await expect(handler({}, NOW)).rejects.toThrow('AccessDeniedException');
    expect(ec2).toHaveReceivedCommandTimes(DeregisterImageCommand, 0);
  });

  test('a snapshot another image uses stays; one already gone is reported; neither is an error', async () => {
    // GIVEN
    ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('reused', 20), snapshot('gone', 20)] });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });
    ec2.on(DeleteSnapshotCommand, { SnapshotId: 'snap-reused' }).rejects(ec2Error('InvalidSnapshot.InUse'));
    ec2.on(DeleteSnapshotCommand, { SnapshotId: 'snap-gone' }).rejects(ec2Error('InvalidSnapshot.NotFound'));

    // WHEN
    const result = await handler({}, NOW);

    // THEN
    expect(result).toMatchObject({
      deletedSnapshots: [],
      kept: [{ id: 'snap-reused', reason: 'in use by another registered image' }],
      alreadyGone: ['snap-gone'],
    });
  });

  test('an image that fails to deregister keeps its snapshots; the others are done; the run then fails, naming it', async () => {
    // GIVEN
    ec2.on(DescribeImagesCommand).resolves({ Images: [image('denied', 20), image('ok', 20)] });
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('denied', 20), snapshot('ok', 20)] });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });
    ec2.on(DeregisterImageCommand, { ImageId: 'ami-denied' }).rejects(ec2Error('UnauthorizedOperation'));

    // WHEN / THEN
    await expect(handler({}, NOW)).rejects.toMatchObject({
      name: 'BackupRetentionIncomplete',
      message: expect.stringMatching(/Could not delete ami-denied \(UnauthorizedOperation\); the next run tries again/),
    });
    expect(ec2).toHaveReceivedCommandWith(DeregisterImageCommand, { ImageId: 'ami-ok' });
    expect(ec2).toHaveReceivedCommandWith(DeleteSnapshotCommand, { SnapshotId: 'snap-ok' });
    expect(ec2).not.toHaveReceivedCommandWith(DeleteSnapshotCommand, { SnapshotId: 'snap-denied' });
  });

  test('refuses to run without its settings, before any call', async () => {
    // GIVEN
    delete process.env[BACKUP_RETENTION_ENV.stateMachineArn];

    // WHEN / THEN
    await expect(handler({}, NOW)).rejects.toThrow(/RESET_STATE_MACHINE_ARN is missing/);
    expect(ec2.calls()).toHaveLength(0);
  });
});
