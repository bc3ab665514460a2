import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ENV, helperNetwork, iamStatements, workflowStack } from './workflow-fixture';
import { BackupImageRetention, ResetWorkflow, ResetWorkflowProps } from '../../src';
import { TAGS, WORKFLOW_CONFIG_ENV } from '../../src/workflow/private/contracts';
import { BACKUP_RETENTION_ENV } from '../../src/workflow/retention/expired-backup-images';
import { resolveCfnValue } from '../helpers/asl';
import { awsSolutionsFindingsFor } from '../helpers/nag';
import { maskedTemplate } from '../helpers/snapshot';

const MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:ResetMachine';

describe('BackupImageRetention', () => {
  describe('in a ResetWorkflow', () => {
    test('is there by default: a daily rule runs a function that keeps successful resets\' backups 14 days', () => {
      // WHEN
      const { stack, workflow } = workflowStack();

      // THEN
      expect(workflow.backupImageRetention?.retention.toDays()).toBe(14);
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 day)',
        Targets: [Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkflowBackupImageRetentionFunction'), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 2 },
        })],
      });
      const resources = template.toJSON().Resources;
      const fn = Object.entries(resources).find(([id]) => id.startsWith('WorkflowBackupImageRetentionFunction')
        && (resources[id] as any).Type === 'AWS::Lambda::Function')![1] as any;
      const environment = Object.fromEntries(Object.entries(fn.Properties.Environment.Variables).map(([k, v]) => [k, resolveCfnValue(v, resources)]));
      expect(environment).toMatchObject({
        [BACKUP_RETENTION_ENV.retentionSeconds]: String(14 * 86400),
        [BACKUP_RETENTION_ENV.stateMachineArn]: expect.stringMatching(/^arn:aws:states:us-east-1:123456789012:stateMachine:WorkflowResetStateMachine[0-9A-F]{8}$/),
        [BACKUP_RETENTION_ENV.workflowId]: workflow.workflowId,
        [BACKUP_RETENTION_ENV.imageNamePrefix]: 'ResetAccess',
      });
      expect(workflowConfigOf(stack).backupImageRetentionDays).toBe(14);
    });

    test('takes a retention in days, which the plan\'s wording also gets', () => {
      // WHEN
      const { stack, workflow } = workflowStack({ backupImageRetention: Duration.days(30), imageNamePrefix: 'TeamReset' });

      // THEN
      expect(workflow.backupImageRetention?.retention.toDays()).toBe(30);
      Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ [BACKUP_RETENTION_ENV.retentionSeconds]: String(30 * 86400), [BACKUP_RETENTION_ENV.imageNamePrefix]: 'TeamReset' }) },
      });
      expect(workflowConfigOf(stack).backupImageRetentionDays).toBe(30);
    });

    test('keepBackupImages: no retention function, and the plan says the image is kept', () => {
      // WHEN
      const { stack, workflow } = workflowStack({ keepBackupImages: true });

      // THEN
      expect(workflow.backupImageRetention).toBeUndefined();
      expect(iamStatements(stack).flatMap(s => s.Action)).not.toContain('ec2:DeregisterImage');
      // The only schedule left is the reconciler's.
      const schedules = Template.fromStack(stack).findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: Match.anyValue() } });
      expect(Object.keys(schedules)).toEqual([expect.stringMatching(/^WorkflowReconcileSchedule/)]);
      expect(workflowConfigOf(stack)).not.toHaveProperty('backupImageRetentionDays');
    });

    test.each<[string, Partial<ResetWorkflowProps>, RegExp]>([
      ['both props', { keepBackupImages: true, backupImageRetention: Duration.days(7) }, /either backupImageRetention .* or keepBackupImages/],
      ['more than 80 days', { backupImageRetention: Duration.days(90) }, /backupImageRetention is 90 days: give whole days from 1 to 80 .*keepBackupImages/],
      ['less than a day', { backupImageRetention: Duration.hours(12) }, /backupImageRetention is 12 hours: give whole days from 1 to 80/],
      ['part of a day', { backupImageRetention: Duration.hours(36) }, /backupImageRetention is 1 day 12 hours: give whole days/],
    ])('refuses %s', (_name, props, message) => {
      const stack = new Stack(new App(), 'Fresh', { env: ENV });
      expect(() => new ResetWorkflow(stack, 'Workflow', { ...helperNetwork(stack), ...props })).toThrow(message);
    });
  });

  describe('on its own', () => {
    let stack: Stack;
    beforeEach(() => {
      stack = new Stack(new App(), 'TestStack', { env: ENV });
    });
    const retention = (s: Stack, props: Partial<ConstructorParameters<typeof BackupImageRetention>[2]> = {}) => new BackupImageRetention(s, 'Retention', {
      stateMachine: sfn.StateMachine.fromStateMachineArn(s, 'Machine', MACHINE_ARN),
      workflowId: 'c8workflow',
      imageNamePrefix: 'ResetAccess',
      ...props,
    });

    test('may list images and snapshots, read the reset machine\'s executions, and delete only this workflow\'s backup images and snapshots', () => {
      // WHEN
      retention(stack);

      // THEN
      const ownBackups = { StringEquals: { [`aws:ResourceTag/${TAGS.workflow}`]: 'c8workflow', [`aws:ResourceTag/${TAGS.role}`]: 'backup' } };
      const statements = iamStatements(stack).filter(s => s.policy.startsWith('RetentionRole'))
        .filter(s => !s.Action.every(a => a.startsWith('xray:') || a.startsWith('logs:')));
      expect(statements).toEqual([
        expect.objectContaining({ Sid: 'ListImagesAndSnapshots', Action: ['ec2:DescribeImages', 'ec2:DescribeSnapshots'], Resource: ['*'] }),
        expect.objectContaining({
          Sid: 'ReadResetOutcome', Action: ['states:DescribeExecution'], Resource: ['arn:aws:states:us-east-1:123456789012:execution:ResetMachine:*'],
        }),
        expect.objectContaining({ Sid: 'DeregisterOwnBackupImages', Action: ['ec2:DeregisterImage'], Resource: ['arn:aws:ec2:us-east-1::image/*'], Condition: ownBackups }),
        expect.objectContaining({ Sid: 'DeleteOwnBackupSnapshots', Action: ['ec2:DeleteSnapshot'], Resource: ['arn:aws:ec2:us-east-1::snapshot/*'], Condition: ownBackups }),
      ]);
      expect(iamStatements(stack).every(s => s.Effect === 'Allow')).toBe(true);
    });

    test('takes a schedule', () => {
      // WHEN
      retention(stack, { schedule: events.Schedule.cron({ minute: '0', hour: '3' }) });

      // THEN
      Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 3 * * ? *)' });
    });

    test('refuses an empty image name prefix', () => {
      expect(() => retention(stack, { imageNamePrefix: '' })).toThrow(/imageNamePrefix is empty/);
    });

    test('passes cdk-nag AwsSolutions', () => {
      expect(awsSolutionsFindingsFor(s => { retention(s); }, { env: ENV })).toEqual([]);
    });

    test('matches the snapshot', () => {
      retention(stack);
      expect(maskedTemplate(stack)).toMatchSnapshot();
    });
  });
});

function workflowConfigOf(stack: Stack): Record<string, unknown> {
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, any>;
  const fn = Object.values(resources).find(r => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.[WORKFLOW_CONFIG_ENV]);
  return JSON.parse(resolveCfnValue(fn.Properties.Environment.Variables[WORKFLOW_CONFIG_ENV], resources));
}
