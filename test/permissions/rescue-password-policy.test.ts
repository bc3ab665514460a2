import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { RescuePasswordPolicy } from '../../src';
import { awsSolutionsFindingsFor } from '../helpers/nag';
import { maskedTemplate } from '../helpers/snapshot';

describe('RescuePasswordPolicy', () => {
  let stack: Stack;

  beforeEach(() => {
    stack = new Stack(new App(), 'TestStack', { env: { account: '111122223333', region: 'eu-west-1' } });
  });

  test('allows ssm:PutParameter only on the password parameters of this account and Region', () => {
    // WHEN
    new RescuePasswordPolicy(stack, 'Policy');

    // THEN
    const policies = Template.fromStack(stack).findResources('AWS::IAM::ManagedPolicy');
    const [policy] = Object.values(policies) as any[];
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'StoreRescuePassword',
        Effect: 'Allow',
        Action: 'ssm:PutParameter',
        Resource: {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:eu-west-1:111122223333:parameter/EC2Rescue/Passwords/i-*']],
        },
      },
    ]);
  });

  test('an environment-agnostic stack scopes the ARN to the deploying account and Region, never a wildcard', () => {
    // GIVEN
    const agnostic = new Stack(new App(), 'Agnostic');

    // WHEN
    new RescuePasswordPolicy(agnostic, 'Policy');

    // THEN
    Template.fromStack(agnostic).hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: [Match.objectLike({
          Resource: {
            'Fn::Join': ['', [
              'arn:', { Ref: 'AWS::Partition' }, ':ssm:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' },
              ':parameter/EC2Rescue/Passwords/i-*',
            ]],
          },
        })],
      },
    });
  });

  test('adds kms:Encrypt on the customer key, and only on it, when one is given', () => {
    // GIVEN
    const key = new kms.Key(stack, 'Key');

    // WHEN
    new RescuePasswordPolicy(stack, 'Policy', { encryptionKey: key });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Sid: 'StoreRescuePassword' }),
          { Sid: 'EncryptRescuePassword', Effect: 'Allow', Action: 'kms:Encrypt', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } },
        ],
      },
    });
  });

  test('has no KMS statement without a customer key', () => {
    // WHEN
    new RescuePasswordPolicy(stack, 'Policy');

    // THEN
    const json = JSON.stringify(Template.fromStack(stack).toJSON());
    expect(json).not.toContain('kms:');
  });

  test('attaches to the roles given and to roles added later', () => {
    // GIVEN
    const first = new iam.Role(stack, 'First', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    const second = new iam.Role(stack, 'Second', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });

    // WHEN
    const policy = new RescuePasswordPolicy(stack, 'Policy', { roles: [first] });
    policy.attachToRole(second);

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^First') }, { Ref: Match.stringLikeRegexp('^Second') }],
    });
  });

  test('passes cdk-nag AwsSolutions', () => {
    const findings = awsSolutionsFindingsFor(s => {
      const role = new iam.Role(s, 'Role', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
      new RescuePasswordPolicy(s, 'Policy', { roles: [role], encryptionKey: new kms.Key(s, 'Key', { enableKeyRotation: true }) });
    }, { env: { account: '111122223333', region: 'eu-west-1' } });
    expect(findings).toEqual([]);
  });

  test('matches the snapshot', () => {
    new RescuePasswordPolicy(stack, 'Policy', { encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }) });
    expect(maskedTemplate(stack)).toMatchSnapshot();
  });
});
