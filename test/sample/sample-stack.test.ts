import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { SampleStack } from '../../sample/sample-stack';
import { awsSolutionsFindings } from '../helpers/nag';

describe('SampleStack', () => {
  test('gives Windows instances a role that can store the EC2Rescue password', () => {
    // WHEN
    const stack = new SampleStack(new App(), 'Sample');

    // THEN
    const template = Template.fromStack(stack);
    const [roleId] = Object.keys(template.findResources('AWS::IAM::Role', {
      Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] } },
    }));
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Action: 'ssm:PutParameter' })] },
      Roles: [{ Ref: roleId }],
    });
    template.hasResourceProperties('AWS::IAM::InstanceProfile', { Roles: [{ Ref: roleId }] });
  });

  test('passes cdk-nag AwsSolutions with every acknowledgement reasoned', () => {
    // GIVEN
    const app = new App();
    new SampleStack(app, 'Sample');

    // WHEN
    const findings = awsSolutionsFindings(app);

    // THEN
    expect(findings).toEqual([]);
  });
});
