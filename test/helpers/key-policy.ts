/**
 * The key policy statement of every KMS key this library creates (AWS Control Tower CT.KMS.PR.3):
 * nobody may create a grant on it, except an AWS service acting for a resource it encrypts.
 */
export const DENY_GRANTS_EXCEPT_FOR_AWS_RESOURCES = {
  Sid: 'DenyGrantsExceptForAwsResources',
  Action: 'kms:CreateGrant',
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Resource: '*',
  Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
};
