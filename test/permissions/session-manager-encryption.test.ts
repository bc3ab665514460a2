import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SessionManagerEncryption } from '../../src';
import { DENY_GRANTS_EXCEPT_FOR_AWS_RESOURCES } from '../helpers/key-policy';
import { awsSolutionsFindingsFor } from '../helpers/nag';
import { maskedTemplate } from '../helpers/snapshot';

const ENV = { account: '111122223333', region: 'eu-west-1' };
const arn = (suffix: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, suffix]] });

describe('SessionManagerEncryption', () => {
  let stack: Stack;

  beforeEach(() => {
    stack = new Stack(new App(), 'TestStack', { env: ENV });
  });

  test('creates a KMS key with rotation on, the default (IAM-delegating) key policy, and grants only for AWS services', () => {
    // WHEN
    new SessionManagerEncryption(stack, 'Sessions');

    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: [{
          Action: 'kms:*',
          Effect: 'Allow',
          Principal: { AWS: arn(':iam::111122223333:root') },
          Resource: '*',
        }, DENY_GRANTS_EXCEPT_FOR_AWS_RESOURCES],
      },
    });
  });

  test('manages SSM-SessionManagerRunShell through a custom resource with the key ARN and no other input by default', () => {
    // WHEN
    new SessionManagerEncryption(stack, 'Sessions');

    // THEN
    Template.fromStack(stack).hasResourceProperties('Custom::SessionManagerPreferences', {
      ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SessionsPreferencesFunction'), 'Arn'] },
      ServiceTimeout: '300',
      DocumentName: 'SSM-SessionManagerRunShell',
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SessionsKey'), 'Arn'] },
      Inputs: '{}',
    });
  });

  test('passes the preferences set in props as typed JSON inputs', () => {
    // WHEN
    new SessionManagerEncryption(stack, 'Sessions', {
      idleSessionTimeout: Duration.minutes(15),
      maxSessionDuration: Duration.hours(2),
      runAsEnabled: false,
      runAsDefaultUser: 'ssm-user',
    });

    // THEN
    const [resource] = Object.values(Template.fromStack(stack).findResources('Custom::SessionManagerPreferences')) as any[];
    expect(JSON.parse(resource.Properties.Inputs)).toEqual({
      idleSessionTimeout: '15',
      maxSessionDuration: '120',
      runAsEnabled: false,
      runAsDefaultUser: 'ssm-user',
    });
  });

  test('uses an existing key instead of creating one', () => {
    // GIVEN
    const key = kms.Key.fromKeyArn(stack, 'Existing', 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab');

    // WHEN
    const encryption = new SessionManagerEncryption(stack, 'Sessions', { encryptionKey: key });

    // THEN
    expect(encryption.key).toBe(key);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.hasResourceProperties('Custom::SessionManagerPreferences', {
      KmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    });
  });

  test('the handler may manage the preferences document only, and write its own logs', () => {
    // WHEN
    new SessionManagerEncryption(stack, 'Sessions');

    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::IAM::Policy', 1);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^SessionsPreferencesFunctionRole') }],
      PolicyDocument: {
        Statement: [
          {
            Sid: 'ManageSessionManagerPreferences',
            Effect: 'Allow',
            Action: [
              'ssm:DescribeDocument',
              'ssm:GetDocument',
              'ssm:CreateDocument',
              'ssm:UpdateDocument',
              'ssm:UpdateDocumentDefaultVersion',
              'ssm:DeleteDocument',
              'ssm:AddTagsToResource',
              'ssm:RemoveTagsFromResource',
            ],
            Resource: arn(':ssm:eu-west-1:111122223333:document/SSM-SessionManagerRunShell'),
          },
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SessionsPreferencesFunctionLogs'), 'Arn'] },
          },
        ],
      },
    });
    // No managed policies (AWSLambdaBasicExecutionRole would allow writing to any log group).
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] }),
      ManagedPolicyArns: Match.absent(),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Timeout: 120,
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^SessionsPreferencesFunctionLogs') } },
    });
  });

  test('the custom resource is created only after the handler can write its logs', () => {
    // WHEN
    new SessionManagerEncryption(stack, 'Sessions');

    // THEN
    const template = Template.fromStack(stack);
    const [policyId] = Object.keys(template.findResources('AWS::IAM::Policy'));
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function')) as any[];
    expect(fn.DependsOn).toEqual(expect.arrayContaining([policyId]));
  });

  test('grantInstanceDecrypt allows kms:Decrypt on the key, nothing more', () => {
    // GIVEN
    const encryption = new SessionManagerEncryption(stack, 'Sessions');
    const instanceRole = new iam.Role(stack, 'InstanceRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });

    // WHEN
    encryption.grantInstanceDecrypt(instanceRole);

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^InstanceRole') }],
      PolicyDocument: {
        Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SessionsKey'), 'Arn'] } }],
      },
    });
  });

  test('grantResetPassword allows AWS-PasswordReset sessions on instances, own-session control and kms:GenerateDataKey', () => {
    // GIVEN
    const encryption = new SessionManagerEncryption(stack, 'Sessions');
    const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });

    // WHEN
    encryption.grantResetPassword(operator);

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Operator') }],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'ssm:StartSession',
            Resource: arn(':ec2:eu-west-1:111122223333:instance/*'),
            Condition: { BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' } },
          },
          {
            Effect: 'Allow',
            Action: 'ssm:StartSession',
            // AWS-owned document: no account in its ARN.
            Resource: arn(':ssm:eu-west-1::document/AWS-PasswordReset'),
          },
          {
            Effect: 'Allow',
            Action: ['ssm:TerminateSession', 'ssm:ResumeSession'],
            Resource: arn(':ssm:eu-west-1:111122223333:session/${aws:userid}-*'),
          },
          {
            Effect: 'Allow',
            Action: 'kms:GenerateDataKey',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SessionsKey'), 'Arn'] },
          },
        ],
      },
    });
  });

  test('grantResetPassword can be limited to instances with given tags', () => {
    // GIVEN
    const encryption = new SessionManagerEncryption(stack, 'Sessions');
    const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });

    // WHEN
    encryption.grantResetPassword(operator, { instanceTags: { 'break-glass': 'allowed', 'env': 'prod' } });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Effect: 'Allow',
          Action: 'ssm:StartSession',
          Resource: arn(':ec2:eu-west-1:111122223333:instance/*'),
          Condition: {
            BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' },
            StringEquals: { 'ssm:resourceTag/break-glass': 'allowed', 'ssm:resourceTag/env': 'prod' },
          },
        }]),
      },
    });
  });

  test('grants on an existing key go to the principal\'s IAM policy', () => {
    // GIVEN
    const key = kms.Key.fromKeyArn(stack, 'Existing', 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    const encryption = new SessionManagerEncryption(stack, 'Sessions', { encryptionKey: key });
    const instanceRole = new iam.Role(stack, 'InstanceRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });

    // WHEN
    const grant = encryption.grantInstanceDecrypt(instanceRole);

    // THEN
    expect(grant.success).toBe(true);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^InstanceRole') }],
      PolicyDocument: { Statement: [Match.objectLike({ Action: 'kms:Decrypt', Resource: key.keyArn })] },
    });
  });

  test.each([
    ['idle timeout over an hour', { idleSessionTimeout: Duration.minutes(61) }, /idleSessionTimeout must be a whole number of minutes from 1 to 60, got 1 hour 1 minute; change idleSessionTimeout/],
    ['idle timeout in part minutes', { idleSessionTimeout: Duration.seconds(90) }, /idleSessionTimeout must be a whole number of minutes/],
    ['session duration over a day', { maxSessionDuration: Duration.days(2) }, /maxSessionDuration must be a whole number of minutes from 1 to 1440/],
    ['Run As without a default user', { runAsEnabled: true }, /runAsEnabled is true but runAsDefaultUser is not set/],
  ])('rejects invalid preferences at synth: %s', (_what, props, message) => {
    expect(() => new SessionManagerEncryption(stack, 'Sessions', props)).toThrow(message);
  });

  test('rejects a second instance for the same account and Region, in the same stack or another', () => {
    // GIVEN
    new SessionManagerEncryption(stack, 'Sessions');
    const sameEnv = new Stack(stack.node.root as App, 'Other', { env: ENV });

    // WHEN / THEN
    expect(() => new SessionManagerEncryption(stack, 'Again')).toThrow(/TestStack\/Sessions already manages the Session Manager preferences/);
    expect(() => new SessionManagerEncryption(sameEnv, 'Again')).toThrow(/keep one SessionManagerEncryption and share it/);
  });

  test('allows one per Region, and environment-agnostic stacks elsewhere in the app', () => {
    // GIVEN
    const app = stack.node.root as App;
    new SessionManagerEncryption(stack, 'Sessions');

    // WHEN / THEN
    expect(() => new SessionManagerEncryption(new Stack(app, 'Virginia', { env: { ...ENV, region: 'us-east-1' } }), 'Sessions')).not.toThrow();
    expect(() => new SessionManagerEncryption(new Stack(app, 'Agnostic'), 'Sessions')).not.toThrow();
  });

  test('rejects an empty instance tag key', () => {
    // GIVEN
    const encryption = new SessionManagerEncryption(stack, 'Sessions');
    const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });

    // WHEN / THEN
    expect(() => encryption.grantResetPassword(operator, { instanceTags: { '': 'x' } })).toThrow(/instanceTags has an empty tag key/);
  });

  test('passes cdk-nag AwsSolutions, grants included', () => {
    const findings = awsSolutionsFindingsFor(s => {
      const encryption = new SessionManagerEncryption(s, 'Sessions', { idleSessionTimeout: Duration.minutes(15) });
      const instanceRole = new iam.Role(s, 'InstanceRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
      const operator = new iam.Role(s, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
      encryption.grantInstanceDecrypt(instanceRole);
      encryption.grantResetPassword(operator, { instanceTags: { 'break-glass': 'allowed' } });
    }, { env: ENV });
    expect(findings).toEqual([]);
  });

  test('passes cdk-nag AwsSolutions in an environment-agnostic stack', () => {
    const findings = awsSolutionsFindingsFor(s => {
      const encryption = new SessionManagerEncryption(s, 'Sessions');
      encryption.grantResetPassword(new iam.Role(s, 'Operator', { assumedBy: new iam.AccountRootPrincipal() }));
    });
    expect(findings).toEqual([]);
  });

  test('matches the snapshot', () => {
    const encryption = new SessionManagerEncryption(stack, 'Sessions', { idleSessionTimeout: Duration.minutes(15) });
    encryption.grantInstanceDecrypt(new iam.Role(stack, 'InstanceRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') }));
    encryption.grantResetPassword(new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() }));
    expect(maskedTemplate(stack)).toMatchSnapshot();
  });
});
