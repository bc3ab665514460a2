import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';

/**
 * Denies creating grants on a key this library creates, except for AWS services acting for a
 * resource (AWS Control Tower's proactive control CT.KMS.PR.3). A grant hands the key's use to a
 * principal outside the key policy and IAM, which a reviewer cannot see in either; nothing here
 * needs one (SNS, CloudWatch alarms and Session Manager use the key directly), so only a service
 * such as EBS, which creates grants for the resource it encrypts, keeps the ability.
 */
export function restrictGrantsToAwsServices(key: kms.Key): void {
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'DenyGrantsExceptForAwsResources',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:CreateGrant'],
    resources: ['*'],
    conditions: {
      BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' },
    },
  }));
}
