import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { RESCUE_PASSWORD_PARAMETER_PREFIX } from '../permissions/rescue-password-policy';
import {
  acknowledgeInlinePolicies, acknowledgeLambdaPlacement, acknowledgeNoLambdaDeadLetterQueue, acknowledgeScheduleWithoutDeadLetterQueue,
  acknowledgeUnscopableReads,
} from '../private/compliance';
import { newLogGroup } from '../private/log-group';
import { acknowledgeWildcards } from '../private/nag';
import { DeleteExpiredPasswordsFunction } from './retention/delete-expired-passwords-function';
import { RETENTION_SECONDS_ENV } from './retention/expired-passwords';

/**
 * Properties of a [`PasswordRetention`](#cdk-ec2-reset-access.PasswordRetention).
 */
export interface PasswordRetentionProps {
  /**
   * How long a password parameter is kept after it was last written. Long enough for the
   * operator to read the password and log in; AWS advises deleting it once used. At least 1 hour.
   *
   * @default Duration.hours(24)
   */
  readonly retention?: Duration;

  /**
   * How often expired parameters are looked for. A parameter lives at most `retention` plus this.
   *
   * @default events.Schedule.rate(Duration.hours(1))
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
 * Deletes the password parameters EC2Rescue's online reset writes (`/EC2Rescue/Passwords/<instance-id>`)
 * once they are older than a retention, on a schedule — AWS's advice after a reset is to use the
 * password, rotate it, and delete the parameter.
 *
 * Independent of [`ResetWorkflow`](#cdk-ec2-reset-access.ResetWorkflow): it also cleans up after resets run by hand with
 * `AWSSupport-RunEC2RescueForWindowsTool`. It deletes only parameters named `/EC2Rescue/Passwords/i-<hex>`
 * in this account and Region, and its role can delete nothing else.
 */
export class PasswordRetention extends Construct {
  /** The function that deletes expired parameters. */
  public readonly function: lambda.IFunction;
  /** The rule that runs it. */
  public readonly rule: events.Rule;
  /** The retention applied. */
  public readonly retention: Duration;

  constructor(scope: Construct, id: string, props: PasswordRetentionProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.retention = props.retention ?? Duration.hours(24);
    if (!this.retention.isUnresolved() && this.retention.toSeconds() < 3600) {
      throw new Error(`retention is ${this.retention.toHumanString()}: give at least 1 hour, so an operator can read the password before it is deleted.`);
    }

    const parameters = stack.formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: `${RESCUE_PASSWORD_PARAMETER_PREFIX.slice(1)}i-*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Deletes expired EC2Rescue password parameters',
      inlinePolicies: {
        Retention: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({ sid: 'ListParameters', actions: ['ssm:DescribeParameters'], resources: ['*'] }),
            new iam.PolicyStatement({
              sid: 'DeleteRescuePasswords',
              actions: ['ssm:DeleteParameters'],
              resources: [parameters],
            }),
          ],
        }),
      },
    });
    acknowledgeWildcards(role, { resources: ['*'] },
      'ssm:DescribeParameters has no resource type in IAM (it lists metadata, never values); X-Ray trace upload ' +
        '(xray:PutTraceSegments, xray:PutTelemetryRecords) has none either.');
    acknowledgeWildcards(role, { resources: [parameters] },
      'The wildcard is the instance id in /EC2Rescue/Passwords/i-*: the function deletes the expired password parameter of ' +
        'any instance, and only those, in this account and Region.');

    acknowledgeInlinePolicies(role);
    acknowledgeUnscopableReads(role);

    const logGroup = newLogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR, encryptionKey: props.encryptionKey });
    logGroup.grantWrite(role);
    this.function = new DeleteExpiredPasswordsFunction(this, 'Function', {
      description: 'Deletes /EC2Rescue/Passwords/i-* parameters older than the retention',
      role,
      logGroup,
      environment: {
        [RETENTION_SECONDS_ENV]: this.retention.toSeconds().toString(),
        POWERTOOLS_SERVICE_NAME: 'password-retention',
      },
      timeout: Duration.minutes(5),
      memorySize: 256,
      tracing: lambda.Tracing.ACTIVE,
    });

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Deletes expired EC2Rescue password parameters',
      schedule: props.schedule ?? events.Schedule.rate(Duration.hours(1)),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 2 })],
    });
    acknowledgeLambdaPlacement(this.function);
    acknowledgeNoLambdaDeadLetterQueue(this.function, 'run by a schedule whose event carries no data: a failed run leaves ' +
      'expired parameters for the next run, an hour later by default, to delete (deleting is idempotent)');
    acknowledgeScheduleWithoutDeadLetterQueue(this.rule);
  }
}
