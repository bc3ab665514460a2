import { Match, Template } from 'aws-cdk-lib/assertions';
import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';
import { SampleStack } from '../../sample/sample-stack';
import { awsSolutionsFindings } from '../helpers/nag';
import { sampleApp } from '../helpers/sample-app';

describe('SampleStack', () => {
  test('synthesizes under every feature flag a new `cdk init` app of this aws-cdk-lib gets', () => {
    // cdk.json is generated from aws-cdk-lib's recommended flags (.projenrc.ts); a hand edit or a
    // regeneration that dropped them would leave `cdk synth` warning that flags are unset.
    const context = sampleApp().node.getAllContext();
    expect(context).toMatchObject(CURRENTLY_RECOMMENDED_FLAGS);
  });

  test('deploys the reset workflow and tells where to start it', () => {
    // WHEN
    const stack = new SampleStack(sampleApp(), 'Sample');

    // THEN
    const template = Template.fromStack(stack);
    template.hasOutput('StateMachineArn', { Value: { Ref: stack.getLogicalId(stack.resetAccess.workflow.stateMachine.node.defaultChild as any) } });
    template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/cdk-ec2-reset-access/state-machine-arn' });
  });

  test('publishes the fleet state machine\'s ARN where the CLI\'s fleet command looks for it', () => {
    // WHEN
    const stack = new SampleStack(sampleApp(), 'Sample');

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/cdk-ec2-reset-access/fleet-state-machine-arn',
      Value: { Ref: stack.getLogicalId(stack.fleetReset.stateMachine.node.defaultChild as any) },
    });
  });

  test('gives Windows instances a role that can store the EC2Rescue password', () => {
    // WHEN
    const stack = new SampleStack(sampleApp(), 'Sample');

    // THEN
    const template = Template.fromStack(stack);
    const [roleId] = Object.keys(template.findResources('AWS::IAM::Role', {
      Properties: { Description: 'Role for Windows instances that can be reset online with EC2Rescue' },
    }));
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Action: 'ssm:PutParameter' })] },
      Roles: [{ Ref: roleId }],
    });
    template.hasResourceProperties('AWS::IAM::InstanceProfile', { Roles: [{ Ref: roleId }] });
  });

  test('leaves Session Manager preferences alone unless asked', () => {
    expect(new SampleStack(sampleApp(), 'Plain').resetAccess.sessionManagerEncryption).toBeUndefined();
    expect(new SampleStack(sampleApp(), 'Encrypted', { sessionManagerEncryption: true }).resetAccess.sessionManagerEncryption).toBeDefined();
  });

  test.each([false, true])('passes cdk-nag AwsSolutions with every acknowledgement reasoned (sessionManagerEncryption: %s)', (sessionManagerEncryption) => {
    // GIVEN
    const app = sampleApp();
    new SampleStack(app, 'Sample', { sessionManagerEncryption });

    // WHEN
    const findings = awsSolutionsFindings(app);

    // THEN
    expect(findings).toEqual([]);
  });
});
