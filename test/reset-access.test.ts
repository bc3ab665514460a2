import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { RescueVpc, ResetAccess } from '../src';
import { awsSolutionsFindingsFor } from './helpers/nag';
import { maskedTemplate } from './helpers/snapshot';

const ENV = { account: '123456789012', region: 'us-east-1' };

describe('ResetAccess', () => {
  let stack: Stack;

  beforeEach(() => {
    stack = new Stack(new App(), 'TestStack', { env: ENV });
  });

  test('composes an isolated rescue VPC, the reset workflow and the password retention', () => {
    // WHEN
    const access = new ResetAccess(stack, 'ResetAccess');

    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
    expect(access.sessionManagerEncryption).toBeUndefined();
    // The only key is the notification topic's: no Session Manager key unless asked for.
    template.resourceCountIs('AWS::KMS::Key', 1);
    expect(access.notifications.topicKey).toBeDefined();
  });

  test('notifies about resets and alarms through its notification topic', () => {
    // WHEN
    const access = new ResetAccess(stack, 'ResetAccess', { notifications: { emailAddresses: ['oncall@example.com'] } });

    // THEN
    const template = Template.fromStack(stack);
    const topic = { Ref: stack.getLogicalId(access.notifications.topic.node.defaultChild as any) };
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: topic });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: Match.objectLike({
          stateMachineArn: Match.arrayWith([{ Ref: stack.getLogicalId(access.workflow.stateMachine.node.defaultChild as any) }]),
        }),
      }),
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [stack.getLogicalId(access.notifications.formatter.node.defaultChild as any), 'Arn'] } })],
    });
    expect(access.notifications.alarms).toHaveLength(8);
    for (const alarm of access.notifications.alarms) {
      expect(stack.resolve((alarm.node.defaultChild as any).alarmActions)).toEqual([topic]);
    }
  });

  test('launches helpers in the rescue VPC: its subnets, its security group, its bucket access', () => {
    // WHEN
    const access = new ResetAccess(stack, 'ResetAccess');

    // THEN
    const configOf = (fn: any) => JSON.stringify(stack.resolve(fn.Properties.Environment.Variables.RESET_WORKFLOW_CONFIG));
    const steps = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))
      .filter((fn: any) => fn.Properties.Environment?.Variables?.RESET_WORKFLOW_CONFIG);
    // The 13 steps and, for on-demand endpoints, the step that opens them.
    expect(steps).toHaveLength(14);
    const securityGroupId = stack.getLogicalId(access.rescueVpc.helperSecurityGroup.node.defaultChild as any);
    for (const step of steps) expect(configOf(step)).toContain(securityGroupId);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(access.workflow.helperRole.node.defaultChild as iam.CfnRole) }],
      PolicyDocument: { Statement: [Match.objectLike({ Action: 's3:GetObject', Resource: access.rescueVpc.ssmBucketObjectArns.map(arn => stack.resolve(arn)) })] },
    });
  });

  test('publishes the state machine ARN in an SSM parameter for tools to find', () => {
    // WHEN
    const access = new ResetAccess(stack, 'ResetAccess');

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/cdk-ec2-reset-access/state-machine-arn',
      Value: { Ref: stack.getLogicalId(access.workflow.stateMachine.node.defaultChild as any) },
    });
  });

  describe('the state machine ARN parameter exists once per account and Region', () => {
    const collision = expect.objectContaining({ name: 'StateMachineArnParameterCollision' });

    test('two in one stack are refused at synth, naming the first and the prop that separates them', () => {
      // GIVEN
      new ResetAccess(stack, 'First');

      // THEN
      expect(() => new ResetAccess(stack, 'Second')).toThrow(collision);
      expect(() => new ResetAccess(stack, 'Third')).toThrow(
        /TestStack\/First already writes the SSM parameter \/cdk-ec2-reset-access\/state-machine-arn .*another `stateMachineArnParameterName`/);
    });

    test('two in stacks of one app deployed to the same account and Region are refused too', () => {
      // GIVEN
      const app = stack.node.root as App;
      new ResetAccess(stack, 'ResetAccess');
      const other = new Stack(app, 'OtherStack', { env: ENV });

      // THEN
      expect(() => new ResetAccess(other, 'ResetAccess')).toThrow(collision);
    });

    test('another parameter name, another Region or another account is no collision', () => {
      // GIVEN
      const app = stack.node.root as App;
      new ResetAccess(stack, 'ResetAccess');

      // WHEN
      new ResetAccess(stack, 'Second', { stateMachineArnParameterName: '/team-b/state-machine-arn' });
      new ResetAccess(new Stack(app, 'OtherRegion', { env: { ...ENV, region: 'eu-west-1' } }), 'ResetAccess');
      new ResetAccess(new Stack(app, 'OtherAccount', { env: { ...ENV, account: '210987654321' } }), 'ResetAccess');

      // THEN
      Template.fromStack(stack).resourcePropertiesCountIs('AWS::SSM::Parameter', { Name: '/team-b/state-machine-arn' }, 1);
    });

    test('an environment-agnostic stack gets a warning: its account and Region are only known at deploy time', () => {
      // GIVEN
      const app = new App();
      new ResetAccess(new Stack(app, 'First'), 'ResetAccess');
      const second = new Stack(app, 'Second');

      // WHEN
      new ResetAccess(second, 'ResetAccess');

      // THEN
      Annotations.fromStack(second).hasWarning('/Second/ResetAccess',
        Match.stringLikeRegexp('First/ResetAccess also writes the SSM parameter /cdk-ec2-reset-access/state-machine-arn'));
    });
  });

  test('sets up the Session Manager encryption only when asked', () => {
    // WHEN
    const access = new ResetAccess(stack, 'ResetAccess', { sessionManagerEncryption: true });

    // THEN
    expect(access.sessionManagerEncryption).toBeDefined();
    Template.fromStack(stack).hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('uses a rescue VPC it is given instead of building one', () => {
    // GIVEN
    const rescueVpc = new RescueVpc(stack, 'SharedRescueVpc');

    // WHEN
    const access = new ResetAccess(stack, 'ResetAccess', { rescueVpc });

    // THEN
    expect(access.rescueVpc).toBe(rescueVpc);
    Template.fromStack(stack).resourceCountIs('AWS::EC2::VPC', 1);
  });

  test('grantStartReset lets an operator start resets and find the state machine', () => {
    // GIVEN
    const access = new ResetAccess(stack, 'ResetAccess');
    const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });

    // WHEN
    access.grantStartReset(operator);

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(operator.node.defaultChild as iam.CfnRole) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['states:StartExecution']), Resource: { Ref: stack.getLogicalId(access.workflow.stateMachine.node.defaultChild as any) } }),
          Match.objectLike({ Action: Match.arrayWith(['ssm:GetParameter']) }),
        ]),
      },
    });
  });

  test('grantDeletePasswords lets an operator delete the password parameters, and only that', () => {
    // GIVEN
    const access = new ResetAccess(stack, 'ResetAccess');
    const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });

    // WHEN
    access.grantDeletePasswords(operator);

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(operator.node.defaultChild as iam.CfnRole) }],
      PolicyDocument: {
        Statement: [{
          Effect: 'Allow',
          Action: 'ssm:DeleteParameter',
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:us-east-1:123456789012:parameter/EC2Rescue/Passwords/i-*']] },
        }],
      },
    });
  });

  test('encryptionKey encrypts every log group it creates (workflow, flow log, retention, notifications) and the lock table', () => {
    // GIVEN
    const key = new kms.Key(stack, 'Key');

    // WHEN
    new ResetAccess(stack, 'ResetAccess', { encryptionKey: key });

    // THEN
    const template = Template.fromStack(stack);
    const logGroups = Object.entries(template.findResources('AWS::Logs::LogGroup')) as Array<[string, any]>;
    expect(logGroups.length).toBeGreaterThanOrEqual(18);
    for (const [id, logGroup] of logGroups) expect({ id, key: logGroup.Properties.KmsKeyId }).toEqual({ id, key: stack.resolve(key.keyArn) });
    template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEType: 'KMS', KMSMasterKeyId: stack.resolve(key.keyArn) } });
  });

  test('refuses contradictory props with a message naming them', () => {
    expect(() => new ResetAccess(stack, 'Both', { rescueVpc: new RescueVpc(stack, 'Vpc'), rescueVpcProps: {} }))
      .toThrow(/either `rescueVpc` .* or `rescueVpcProps`/);
    expect(() => new ResetAccess(stack, 'PropsOnly', { sessionManagerEncryptionProps: {} }))
      .toThrow(/`sessionManagerEncryption` is not true/);
  });

  test('passes cdk-nag AwsSolutions, environment-aware and environment-agnostic', () => {
    expect(awsSolutionsFindingsFor(s => { new ResetAccess(s, 'ResetAccess', { sessionManagerEncryption: true }); }, { env: ENV })).toEqual([]);
    expect(awsSolutionsFindingsFor(s => { new ResetAccess(s, 'ResetAccess'); })).toEqual([]);
  });

  test('matches the snapshot', () => {
    new ResetAccess(stack, 'ResetAccess');
    expect(maskedTemplate(stack)).toMatchSnapshot();
  });
});
