import { ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FormatNotificationFunction } from './format-notification-function';
import { NOTIFICATION_ENV } from './notification-message';
import { acknowledgeInlinePolicies, acknowledgeLambdaPlacement } from '../private/compliance';
import { eventTargetDeadLetterQueue } from '../private/dead-letter-queue';
import { restrictGrantsToAwsServices } from '../private/key-policy';
import { newLogGroup } from '../private/log-group';
import { acknowledgeWildcards } from '../private/nag';
import { ResetWorkflow } from '../workflow/reset-workflow';

/**
 * Options of [`ResetNotifications`](#cdk-ec2-reset-access.ResetNotifications); [`ResetAccess`](#cdk-ec2-reset-access.ResetAccess) takes these as `notifications`.
 */
export interface ResetNotificationsOptions {
  /**
   * Email addresses subscribed to the topic. Each receives a confirmation email from SNS and gets
   * notifications only once it confirms.
   *
   * @default - no subscription: subscribe what you use (chat, paging) to `topic`
   */
  readonly emailAddresses?: string[];

  /**
   * The KMS key that encrypts the topic. Its key policy must let CloudWatch (`cloudwatch.amazonaws.com`)
   * use it (`kms:Decrypt`, `kms:GenerateDataKey*`), or alarm notifications are not delivered; a key
   * created here gets that statement.
   *
   * @default - a new customer managed key with rotation
   */
  readonly topicKey?: kms.IKey;

  /**
   * Retention of the formatter function's log group.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Customer managed KMS key that encrypts the formatter function's log group. Its key policy must
   * admit CloudWatch Logs (see `ResetWorkflowOptions.encryptionKey`).
   *
   * @default - encrypted by CloudWatch Logs with keys it manages
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * Properties of [`ResetNotifications`](#cdk-ec2-reset-access.ResetNotifications).
 */
export interface ResetNotificationsProps extends ResetNotificationsOptions {
  /** The workflow whose resets and restores are reported and alarmed on. */
  readonly workflow: ResetWorkflow;
}

/**
 * Tells people when resets start, succeed and fail, and alarms when something needs a look.
 *
 * - An encrypted SNS topic (customer managed KMS key, TLS only) with optional email subscriptions.
 * - An EventBridge rule on the status changes of the reset and restore state machines, whose
 *   target, a small function, publishes `{ kind, instanceId, method, status, executionArn, ... }`
 *   and a subject line (EventBridge alone cannot read the instance id: it is inside the
 *   execution's input, a JSON string). Dry runs and restores that had nothing to do are not
 *   published; no password is ever part of a message.
 * - CloudWatch alarms, whose actions notify the topic: reset executions failed, timed out or
 *   aborted; the restore path running (restore executions started), the restore failing, the
 *   reconciler giving up on a restore, and undelivered restore or notification events.
 */
export class ResetNotifications extends Construct {
  /** The topic notifications and alarms are published to. Subscribe to it. */
  public readonly topic: sns.Topic;
  /** The key that encrypts the topic. */
  public readonly topicKey: kms.IKey;
  /** The rule on the state machines' status changes. */
  public readonly rule: events.Rule;
  /** The function that turns a status change into a message. */
  public readonly formatter: lambda.Function;
  /**
   * Status changes the rule could not deliver to the formatter, and those the formatter failed to
   * publish after Lambda's retries of the asynchronous invocation.
   */
  public readonly deadLetterQueue: sqs.Queue;
  /** Reset executions that failed (any error, preflight blockers included). */
  public readonly resetFailedAlarm: cloudwatch.Alarm;
  /** Reset executions that exceeded the execution timeout. */
  public readonly resetTimedOutAlarm: cloudwatch.Alarm;
  /** Reset executions stopped by someone. */
  public readonly resetAbortedAlarm: cloudwatch.Alarm;
  /** The restore state machine started: a reset was stopped, timed out or failed. */
  public readonly restoreStartedAlarm: cloudwatch.Alarm;
  /** A restore execution failed, timed out or was stopped: an instance may be left without its root volume. */
  public readonly restoreFailedAlarm: cloudwatch.Alarm;
  /**
   * The reconciler gave up on an instance: three restores it started did not put it back. Stays in
   * ALARM while the journal item is in the lock table.
   */
  public readonly restoreAbandonedAlarm: cloudwatch.Alarm;
  /** Restore events EventBridge could not deliver (the workflow's `restoreDeadLetterQueue` is not empty). */
  public readonly restoreDeadLetterAlarm: cloudwatch.Alarm;
  /** Status changes the rule could not deliver to the formatter. */
  public readonly notificationDeadLetterAlarm: cloudwatch.Alarm;
  /** Every alarm above. */
  public readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ResetNotificationsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { workflow } = props;

    // ---- Topic.
    if (props.topicKey) {
      this.topicKey = props.topicKey;
    } else {
      const key = new kms.Key(this, 'TopicKey', {
        description: 'Encrypts the cdk-ec2-reset-access notification topic',
        enableKeyRotation: true,
      });
      // CloudWatch publishes alarm notifications itself: without this, alarms on an encrypted topic are never delivered.
      key.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
        },
      }));
      restrictGrantsToAwsServices(key);
      this.topicKey = key;
    }
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'EC2 reset access',
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    for (const address of props.emailAddresses ?? []) {
      if (!Token.isUnresolved(address) && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) {
        throw new Error(`notifications.emailAddresses: "${address}" is not an email address.`);
      }
      this.topic.addSubscription(new subscriptions.EmailSubscription(address));
    }

    // ---- Status changes → formatter → topic.
    const role = new iam.Role(this, 'FormatterRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Publishes reset status changes to the notification topic',
    });
    const logGroup = newLogGroup(this, 'FormatterLogs', { retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR, encryptionKey: props.encryptionKey });
    logGroup.grantWrite(role);
    // Publishing to an encrypted topic: sns:Publish, and the key's data key (exactly, not `GenerateDataKey*`).
    iam.Grant.addToPrincipal({ grantee: role, actions: ['sns:Publish'], resourceArns: [this.topic.topicArn] });
    this.topicKey.grant(role, 'kms:Decrypt', 'kms:GenerateDataKey');
    this.deadLetterQueue = eventTargetDeadLetterQueue(this, 'DeadLetterQueue', 'publishes notifications (and of the formatter function itself)', true);
    this.formatter = new FormatNotificationFunction(this, 'Formatter', {
      description: 'Publishes reset and restore status changes (never a password) to the notification topic',
      role,
      logGroup,
      environment: {
        [NOTIFICATION_ENV.topicArn]: this.topic.topicArn,
        [NOTIFICATION_ENV.resetStateMachineArn]: workflow.stateMachine.stateMachineArn,
        [NOTIFICATION_ENV.restoreStateMachineArn]: workflow.restoreStateMachine.stateMachineArn,
        POWERTOOLS_SERVICE_NAME: 'reset-notifications',
      },
      timeout: Duration.seconds(30),
      memorySize: 256,
      tracing: lambda.Tracing.ACTIVE,
      // EventBridge invokes it asynchronously: an event it fails to publish after Lambda's retries lands
      // beside those EventBridge could not deliver, where notificationDeadLetterAlarm sees it.
      deadLetterQueue: this.deadLetterQueue,
    });
    acknowledgeWildcards(role, { resources: ['*'] },
      'X-Ray trace upload (xray:PutTraceSegments, xray:PutTelemetryRecords) has no resource type in IAM.');
    acknowledgeInlinePolicies(role);
    acknowledgeLambdaPlacement(this.formatter);
    this.rule = new events.Rule(this, 'StatusChangeRule', {
      description: 'Reset and restore executions started, succeeded, failed, timed out or aborted',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [workflow.stateMachine.stateMachineArn, workflow.restoreStateMachine.stateMachineArn],
          status: ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'],
        },
      },
      targets: [new targets.LambdaFunction(this.formatter, {
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 8,
        maxEventAge: Duration.hours(2),
      })],
    });

    // ---- Alarms → topic.
    const period = Duration.minutes(5);
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(new cwActions.SnsAction(this.topic));
      return created;
    };
    const sum = { period, statistic: cloudwatch.Stats.SUM };
    this.resetFailedAlarm = alarm('ResetFailedAlarm', workflow.stateMachine.metricFailed(sum),
      'A password reset failed (cdk-ec2-reset-access). Run `cdk-ec2-reset-access status <instance-id>` for the error and what to do.');
    this.resetTimedOutAlarm = alarm('ResetTimedOutAlarm', workflow.stateMachine.metricTimedOut(sum),
      'A password reset exceeded its execution timeout; the restore state machine puts the instance back.');
    this.resetAbortedAlarm = alarm('ResetAbortedAlarm', workflow.stateMachine.metricAborted(sum),
      'A password reset was stopped; the restore state machine puts the instance back.');
    this.restoreStartedAlarm = alarm('RestoreStartedAlarm', workflow.restoreStateMachine.metricStarted(sum),
      'The restore path is running: a reset was stopped, timed out or failed. Watch the restore state machine until it succeeds.');
    this.restoreFailedAlarm = alarm('RestoreFailedAlarm', new cloudwatch.MathExpression({
      expression: 'failed + timedOut + aborted',
      usingMetrics: {
        failed: workflow.restoreStateMachine.metricFailed(sum),
        timedOut: workflow.restoreStateMachine.metricTimedOut(sum),
        aborted: workflow.restoreStateMachine.metricAborted(sum),
      },
      period,
      label: 'Restore executions not succeeded',
    }), 'A restore did not finish; the reconciler starts it again within minutes (up to three times). Watch the restore state machine ' +
      'until an execution for the instance succeeds; the RestoreAbandoned alarm fires if the reconciler gives up.');
    this.restoreAbandonedAlarm = alarm('RestoreAbandonedAlarm', workflow.metricRestoresAbandoned(),
      'ACTION NEEDED: the reconciler gave up putting an instance back after three restore attempts. Its journal item stays in the lock ' +
      'table (and blocks new resets of it): put the instance back by hand as docs/operating.md says, then delete the item.');
    this.restoreDeadLetterAlarm = alarm('RestoreDeadLetterAlarm',
      workflow.restoreDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM }),
      'A restore event could not be delivered (it is in the restore dead-letter queue); the reconciler starts the restore within ' +
        'minutes. Check that it did, then purge the message.');
    this.notificationDeadLetterAlarm = alarm('NotificationDeadLetterAlarm',
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM }),
      'Reset notifications could not be delivered or published (their events are in the notification dead-letter queue).');
    this.alarms = [
      this.resetFailedAlarm, this.resetTimedOutAlarm, this.resetAbortedAlarm, this.restoreStartedAlarm, this.restoreFailedAlarm,
      this.restoreAbandonedAlarm, this.restoreDeadLetterAlarm, this.notificationDeadLetterAlarm,
    ];
  }
}
