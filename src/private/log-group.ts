import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeServiceManagedLogEncryption } from './compliance';

/**
 * A log group of this library: the given retention, and encrypted with `encryptionKey` when one is
 * given (otherwise with CloudWatch Logs' own keys, acknowledged for the compliance packs that ask
 * for a customer managed key).
 *
 * CloudWatch Logs uses the key itself, so the key policy must admit the service: for a key created
 * in the app (`kms.Key`) the statement AWS documents is added here; an imported key must already
 * have it (`addToResourcePolicy` cannot change it, and log group creation then fails).
 */
export function newLogGroup(
  scope: Construct, id: string, props: { readonly retention: logs.RetentionDays; readonly encryptionKey?: kms.IKey },
): logs.LogGroup {
  const logGroup = new logs.LogGroup(scope, id, { retention: props.retention, encryptionKey: props.encryptionKey });
  if (props.encryptionKey) {
    allowCloudWatchLogsToUse(props.encryptionKey, Stack.of(scope));
  } else {
    acknowledgeServiceManagedLogEncryption(logGroup);
  }
  return logGroup;
}

/**
 * The key policy statement of "Encrypt log data in CloudWatch Logs using AWS KMS" (CloudWatch Logs
 * User Guide): the regional CloudWatch Logs service may use the key for log groups of this account
 * and Region, as the encryption context `aws:logs:arn` proves. Identical statements from several
 * log groups collapse into one in the synthesized policy.
 */
function allowCloudWatchLogsToUse(key: kms.IKey, stack: Stack): void {
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'CloudWatchLogsEncryptLogGroups',
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnLike: {
        'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
          service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    },
  }), /* allowNoOp: an imported key's policy is the owner's to change */ true);
}
