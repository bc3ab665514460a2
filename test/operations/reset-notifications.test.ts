import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { RescueVpc, ResetNotifications, ResetWorkflow } from '../../src';
import { DENY_GRANTS_EXCEPT_FOR_AWS_RESOURCES } from '../helpers/key-policy';
import { awsSolutionsFindingsFor } from '../helpers/nag';
import { maskedTemplate } from '../helpers/snapshot';

const ENV = { account: '123456789012', region: 'us-east-1' };

function workflowIn(stack: Stack): ResetWorkflow {
  return new ResetWorkflow(stack, 'Workflow', { rescueVpc: new RescueVpc(stack, 'RescueVpc') });
}

describe('ResetNotifications', () => {
  let stack: Stack;
  let workflow: ResetWorkflow;
  const ref = (construct: { node: { defaultChild?: unknown } }) => ({ Ref: stack.getLogicalId(construct.node.defaultChild as any) });

  beforeEach(() => {
    stack = new Stack(new App(), 'TestStack', { env: ENV });
    workflow = workflowIn(stack);
  });

  test('encrypts the topic with a rotated customer managed key and refuses non-TLS publishing', () => {
    // WHEN
    const notifications = new ResetNotifications(stack, 'Notifications', { workflow });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [stack.getLogicalId(notifications.topicKey.node.defaultChild as kms.CfnKey), 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        })]),
      },
    });
  });

  test('lets CloudWatch alarms use the key, for this account\'s alarms only', () => {
    // WHEN
    new ResetNotifications(stack, 'Notifications', { workflow });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([{
          Sid: 'CloudWatchAlarmsPublish',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          Resource: '*',
          Condition: {
            StringEquals: { 'aws:SourceAccount': '123456789012' },
            ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:us-east-1:123456789012:alarm:*']] } },
          },
        }]),
      },
    });
  });

  test('routes both state machines\' status changes to the formatter, with a dead-letter queue', () => {
    // WHEN
    const notifications = new ResetNotifications(stack, 'Notifications', { workflow });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        'detail': {
          stateMachineArn: [ref(workflow.stateMachine), ref(workflow.restoreStateMachine)],
          status: ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'],
        },
      },
      Targets: [Match.objectLike({
        Arn: { 'Fn::GetAtt': [stack.getLogicalId(notifications.formatter.node.defaultChild as any), 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [stack.getLogicalId(notifications.deadLetterQueue.node.defaultChild as any), 'Arn'] } },
        RetryPolicy: { MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 8 },
      })],
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          NOTIFICATION_TOPIC_ARN: ref(notifications.topic),
          RESET_STATE_MACHINE_ARN: ref(workflow.stateMachine),
          RESTORE_STATE_MACHINE_ARN: ref(workflow.restoreStateMachine),
        }),
      },
    });
  });

  test('the formatter may publish to the topic (and use its key), and to its dead-letter queue, and nothing else', () => {
    // WHEN
    const notifications = new ResetNotifications(stack, 'Notifications', { workflow });

    // THEN
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: stack.getLogicalId(notifications.formatter.role!.node.defaultChild as any) }] },
    });
    const actions = Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat()));
    expect(actions.sort()).toEqual([
      'kms:Decrypt', 'kms:GenerateDataKey', 'logs:CreateLogStream', 'logs:PutLogEvents', 'sns:Publish', 'sqs:SendMessage',
      'xray:PutTelemetryRecords', 'xray:PutTraceSegments',
    ]);
  });

  test('a status change the formatter fails to publish lands in the alarmed dead-letter queue', () => {
    // WHEN
    const notifications = new ResetNotifications(stack, 'Notifications', { workflow });

    // THEN
    const template = Template.fromStack(stack);
    const queue = { 'Fn::GetAtt': [stack.getLogicalId(notifications.deadLetterQueue.node.defaultChild as any), 'Arn'] };
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: { 'Fn::GetAtt': [stack.getLogicalId(notifications.formatter.role!.node.defaultChild as any), 'Arn'] },
      DeadLetterConfig: { TargetArn: queue },
    });
    template.hasResourceProperties('AWS::Events::Rule', { Targets: [Match.objectLike({ DeadLetterConfig: { Arn: queue } })] });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [stack.getLogicalId(notifications.deadLetterQueue.node.defaultChild as any), 'QueueName'] } }],
    });
  });

  test('its topic key allows grants only to AWS services acting for a resource', () => {
    // WHEN
    new ResetNotifications(stack, 'Notifications', { workflow });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([DENY_GRANTS_EXCEPT_FOR_AWS_RESOURCES]),
      },
    });
  });

  test.each([
    ['resetFailedAlarm', 'ResetStateMachine', 'ExecutionsFailed'],
    ['resetTimedOutAlarm', 'ResetStateMachine', 'ExecutionsTimedOut'],
    ['resetAbortedAlarm', 'ResetStateMachine', 'ExecutionsAborted'],
    ['restoreStartedAlarm', 'RestoreStateMachine', 'ExecutionsStarted'],
  ] as const)('%s: AWS/States %s per state machine, any in 5 minutes, to the topic', (property, machine, metricName) => {
    // WHEN
    const notifications = new ResetNotifications(stack, 'Notifications', { workflow });

    // THEN
    const stateMachine = machine === 'ResetStateMachine' ? workflow.stateMachine : workflow.restoreStateMachine;
    const alarm = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(notifications[property].node.defaultChild as any)];
    expect(alarm.Properties).toMatchObject({
      Namespace: 'AWS/States',
      MetricName: metricName,
      Dimensions: [{ Name: 'StateMachineArn', Value: ref(stateMachine) }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [ref(notifications.topic)],
    });
  });

  test('alarms when a restore does not succeed and when a dead-letter queue holds a message', () => {
    // WHEN
    const notifications = new ResetNotifications(stack, 'Notifications', { workflow });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'failed + timedOut + aborted' })]),
      AlarmActions: [ref(notifications.topic)],
    });
    for (const queue of [workflow.restoreDeadLetterQueue, notifications.deadLetterQueue]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [stack.getLogicalId(queue.node.defaultChild as any), 'QueueName'] } }],
        Statistic: 'Maximum',
        Threshold: 1,
        AlarmActions: [ref(notifications.topic)],
      });
    }
    expect(notifications.alarms).toHaveLength(8);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 8);
  });

  test('alarms when the reconciler gives up on a restore: its RestoresAbandoned metric of this workflow, any in 5 minutes, missing data not breaching', () => {
    // WHEN
    const notifications = new ResetNotifications(stack, 'Notifications', { workflow });

    // THEN
    const alarm = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(notifications.restoreAbandonedAlarm.node.defaultChild as any)];
    expect(alarm.Properties).toMatchObject({
      Namespace: 'cdk-ec2-reset-access',
      MetricName: 'RestoresAbandoned',
      Dimensions: expect.arrayContaining([{ Name: 'WorkflowId', Value: workflow.workflowId }, { Name: 'service', Value: 'reset-reconciler' }]),
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [ref(notifications.topic)],
    });
    expect(alarm.Properties.AlarmDescription).toMatch(/^ACTION NEEDED: the reconciler gave up/);
  });

  test('subscribes the given email addresses, and refuses what is not one', () => {
    // WHEN
    new ResetNotifications(stack, 'Notifications', { workflow, emailAddresses: ['ops@example.com', 'sre@example.com'] });

    // THEN
    Template.fromStack(stack).resourceCountIs('AWS::SNS::Subscription', 2);
    Template.fromStack(stack).hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    expect(() => new ResetNotifications(stack, 'Other', { workflow, emailAddresses: ['ops at example'] }))
      .toThrow(/notifications.emailAddresses: "ops at example" is not an email address/);
  });

  test('uses a key it is given', () => {
    // GIVEN
    const key = new kms.Key(stack, 'OwnKey', { enableKeyRotation: true });

    // WHEN
    const notifications = new ResetNotifications(stack, 'Notifications', { workflow, topicKey: key });

    // THEN
    expect(notifications.topicKey).toBe(key);
    Template.fromStack(stack).resourceCountIs('AWS::KMS::Key', 1);
  });

  test('has no unacknowledged cdk-nag AwsSolutions finding', () => {
    const findings = awsSolutionsFindingsFor(s => {
      new ResetNotifications(s, 'Notifications', { workflow: workflowIn(s), emailAddresses: ['ops@example.com'] });
    }, { env: ENV });
    expect(findings).toEqual([]);
  });

  test('matches the snapshot', () => {
    const notificationsStack = new Stack(new App(), 'NotificationsStack', { env: ENV });
    new ResetNotifications(notificationsStack, 'Notifications', { workflow: workflowIn(notificationsStack), emailAddresses: ['ops@example.com'] });
    const template = maskedTemplate(notificationsStack) as { Resources: Record<string, { Type: string }> };
    // Only this construct's resources: the workflow has its own snapshot.
    const own = Object.fromEntries(Object.entries(template.Resources).filter(([id]) => id.startsWith('Notifications')));
    expect(own).toMatchSnapshot();
  });
});
