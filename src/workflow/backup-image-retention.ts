import { Arn, ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  acknowledgeInlinePolicies, acknowledgeLambdaPlacement, acknowledgeNoLambdaDeadLetterQueue, acknowledgeScheduleWithoutDeadLetterQueue,
  acknowledgeUnscopableReads,
} from '../private/compliance';
import { newLogGroup } from '../private/log-group';
import { acknowledgeWildcards } from '../private/nag';
import { TAGS } from './private/contracts';
import { DeleteExpiredBackupImagesFunction } from './retention/delete-expired-backup-images-function';
import { BACKUP_RETENTION_ENV, MAX_BACKUP_RETENTION_DAYS, MIN_BACKUP_RETENTION_DAYS } from './retention/expired-backup-images';

/**
 * Properties of a [`BackupImageRetention`](#cdk-ec2-reset-access.BackupImageRetention).
 */
export interface BackupImageRetentionProps {
  /**
   * The reset state machine whose executions made the images: an image goes only when the
   * execution named in its `cdk-ec2-reset-access:execution` tag SUCCEEDED.
   */
  readonly stateMachine: sfn.IStateMachine;

  /** The workflow's id, the value of the `cdk-ec2-reset-access:workflow` tag on its images ([`ResetWorkflow.workflowId`](#cdk-ec2-reset-access.ResetWorkflow.property.workflowId)). */
  readonly workflowId: string;

  /** The workflow's image name prefix: only `<prefix>-Pre-Script-Backup_*` images are deleted. */
  readonly imageNamePrefix: string;

  /**
   * How long a successful reset's backup image is kept after it was made. Whole days, from 1 to
   * 80 (Step Functions keeps an execution's outcome 90 days; see [`BackupImageRetention`](#cdk-ec2-reset-access.BackupImageRetention)).
   *
   * @default Duration.days(14)
   */
  readonly retention?: Duration;

  /**
   * How often expired images are looked for. An image lives at most `retention` plus this.
   *
   * @default events.Schedule.rate(Duration.days(1))
   */
  readonly schedule?: events.Schedule;

  /**
   * Retention of the function's log group.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Customer managed KMS key that encrypts the function's log group. Its key policy must admit
   * CloudWatch Logs (see `ResetWorkflowOptions.encryptionKey`).
   *
   * @default - encrypted by CloudWatch Logs with keys it manages
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * Deregisters the backup images (`<prefix>-Pre-Script-Backup_<instance>_<date>`) that a
 * [`ResetWorkflow`](#cdk-ec2-reset-access.ResetWorkflow) made before successful resets, and deletes their snapshots, once they
 * are older than a retention; on a schedule.
 *
 * A backup image of a 30 GiB root keeps up to 30 GB of EBS snapshots, about $1.50 a month in
 * us-east-1, for as long as it exists. It is the way back if a reset harmed the volume, and once
 * the instance has run well for a while, it is no longer needed. So only images of resets that
 * SUCCEEDED go: a failed, aborted or timed-out reset's backup stays until you delete it, and so do
 * password-enabled images (`-Post-Script-Backup_`) and anything without this workflow's tags.
 *
 * The outcome comes from Step Functions (`DescribeExecution`), which keeps a closed execution for
 * 90 days: hence the retention's upper bound of 80 days, and an image whose execution can no
 * longer be read is kept, never deleted. To keep one image longer, remove its
 * `cdk-ec2-reset-access:role` tag (or enable its deregistration protection): the function's role
 * may only deregister images, and delete snapshots, that carry this workflow's tag and
 * `cdk-ec2-reset-access:role=backup`.
 */
export class BackupImageRetention extends Construct {
  /** The default retention of a successful reset's backup image. */
  public static readonly DEFAULT_RETENTION = Duration.days(14);

  /**
   * Checks a retention: whole days, from 1 to 80. Throws an error that says what to change.
   * @internal
   */
  public static _validateRetention(retention: Duration, propName: string): void {
    if (retention.isUnresolved()) return;
    const seconds = retention.toSeconds();
    if (seconds % 86400 !== 0 || seconds < MIN_BACKUP_RETENTION_DAYS * 86400 || seconds > MAX_BACKUP_RETENTION_DAYS * 86400) {
      throw new Error(`${propName} is ${retention.toHumanString()}: give whole days from ${MIN_BACKUP_RETENTION_DAYS} to ` +
        `${MAX_BACKUP_RETENTION_DAYS} (Step Functions keeps a reset's outcome 90 days, and the function deletes nothing whose ` +
        'outcome it cannot read). To keep backup images longer, keep them all (keepBackupImages) and delete them yourself.');
    }
  }

  /** The function that deregisters expired images and deletes their snapshots. */
  public readonly function: lambda.IFunction;
  /** The rule that runs it. */
  public readonly rule: events.Rule;
  /** The retention applied. */
  public readonly retention: Duration;

  constructor(scope: Construct, id: string, props: BackupImageRetentionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.retention = props.retention ?? BackupImageRetention.DEFAULT_RETENTION;
    BackupImageRetention._validateRetention(this.retention, 'retention');
    if (!Token.isUnresolved(props.imageNamePrefix) && props.imageNamePrefix.length === 0) {
      throw new Error('imageNamePrefix is empty: give the prefix the workflow names its images with (ResetWorkflow\'s imageNamePrefix).');
    }

    const ownBackups = {
      StringEquals: {
        [`aws:ResourceTag/${TAGS.workflow}`]: props.workflowId,
        [`aws:ResourceTag/${TAGS.role}`]: 'backup',
      },
    };
    // Images and snapshots have no account in their ARN.
    const ec2Arn = (resource: string) => `arn:${stack.partition}:ec2:${stack.region}::${resource}`;
    // A state machine of this app has a name attribute; an imported one's name is in its ARN.
    const machineName = props.stateMachine instanceof sfn.StateMachine
      ? props.stateMachine.stateMachineName
      : Arn.split(props.stateMachine.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName;
    const executions = stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${machineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Deregisters the reset workflow\'s backup images of successful resets after their retention',
      inlinePolicies: {
        Retention: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({ sid: 'ListImagesAndSnapshots', actions: ['ec2:DescribeImages', 'ec2:DescribeSnapshots'], resources: ['*'] }),
            new iam.PolicyStatement({ sid: 'ReadResetOutcome', actions: ['states:DescribeExecution'], resources: [executions] }),
            new iam.PolicyStatement({
              sid: 'DeregisterOwnBackupImages', actions: ['ec2:DeregisterImage'], resources: [ec2Arn('image/*')], conditions: ownBackups,
            }),
            new iam.PolicyStatement({
              sid: 'DeleteOwnBackupSnapshots', actions: ['ec2:DeleteSnapshot'], resources: [ec2Arn('snapshot/*')], conditions: ownBackups,
            }),
          ],
        }),
      },
    });
    acknowledgeWildcards(role, { resources: ['*'] },
      'ec2:DescribeImages and ec2:DescribeSnapshots have no resource type in IAM (they list metadata); X-Ray trace upload ' +
        '(xray:PutTraceSegments, xray:PutTelemetryRecords) has none either.');
    acknowledgeWildcards(role, { resources: [ec2Arn('image/*'), ec2Arn('snapshot/*')] },
      'Image and snapshot ids are not known in advance; both statements are conditioned on the resource carrying this workflow\'s tag ' +
        'and cdk-ec2-reset-access:role=backup, which only the workflow\'s backup images and their snapshots carry.');
    acknowledgeWildcards(role, { resources: [executions] },
      'The wildcard is the execution name: the function reads (never starts or stops) the executions of this workflow\'s reset state machine.');

    acknowledgeInlinePolicies(role);
    acknowledgeUnscopableReads(role);

    const logGroup = newLogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR, encryptionKey: props.encryptionKey });
    logGroup.grantWrite(role);
    this.function = new DeleteExpiredBackupImagesFunction(this, 'Function', {
      description: 'Deregisters the backup images of successful resets older than the retention, and deletes their snapshots',
      role,
      logGroup,
      environment: {
        [BACKUP_RETENTION_ENV.retentionSeconds]: this.retention.toSeconds().toString(),
        [BACKUP_RETENTION_ENV.stateMachineArn]: props.stateMachine.stateMachineArn,
        [BACKUP_RETENTION_ENV.workflowId]: props.workflowId,
        [BACKUP_RETENTION_ENV.imageNamePrefix]: props.imageNamePrefix,
        POWERTOOLS_SERVICE_NAME: 'backup-image-retention',
      },
      timeout: Duration.minutes(5),
      memorySize: 256,
      tracing: lambda.Tracing.ACTIVE,
    });

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Deregisters the reset workflow\'s expired backup images of successful resets',
      schedule: props.schedule ?? events.Schedule.rate(Duration.days(1)),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 2 })],
    });
    acknowledgeLambdaPlacement(this.function);
    acknowledgeNoLambdaDeadLetterQueue(this.function, 'run by a daily schedule whose event carries no data: a failed run leaves ' +
      'expired images for the next run to deregister (deregistering and deleting are idempotent)');
    acknowledgeScheduleWithoutDeadLetterQueue(this.rule);
  }
}
