import validator from 'asl-validator';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ENV, helperNetwork, workflowStack } from './workflow-fixture';
import { runComplianceChecks, unusedAcknowledgements } from '../../build-tools/compliance';
import { DEFAULT_STATE_MACHINE_ARN_PARAMETER, FleetReset, ResetAccess, ResetWorkflow } from '../../src';
import { acknowledgeInlinePolicies } from '../../src/private/compliance';
import { stateMachineDefinition } from '../helpers/asl';

function fleetStack(props: Partial<ConstructorParameters<typeof FleetReset>[2]> = {}, workflowProps: Parameters<typeof workflowStack>[0] = {}) {
  const { stack, workflow } = workflowStack(workflowProps);
  const fleet = new FleetReset(stack, 'Fleet', { workflow, ...props });
  return { stack, workflow, fleet, resources: Template.fromStack(stack).toJSON().Resources as Record<string, any> };
}

describe('FleetReset state machine', () => {
  const { stack, resources } = fleetStack({ maxDown: 30 });
  const definition = stateMachineDefinition(stack, 'FleetStateMachine');
  const waves = definition.States.Waves;
  const wave = waves.ItemProcessor.States.Wave;
  const reset = wave.ItemProcessor.States.ResetInstance;
  const resetMachineRef = Object.keys(resources).find(id => id.startsWith('WorkflowResetStateMachine') && resources[id].Type === 'AWS::StepFunctions::StateMachine')!;

  test('is valid Amazon States Language', () => {
    expect(validator(structuredClone(definition)).errors).toEqual([]);
  });

  test('plans, then runs the waves one at a time and the instances of a wave together, then summarizes', () => {
    expect(definition.StartAt).toBe('PlanFleet');
    expect(definition.States.PlanFleet.Next).toBe('Waves');
    expect(waves).toMatchObject({ ItemsPath: '$.fleet.waves', MaxConcurrency: 1, ResultPath: '$.waves', Next: 'Summarize' });
    // Distributed: an inline Map runs at most 40 iterations at once.
    expect(waves.ItemProcessor.ProcessorConfig.Mode).toBe('DISTRIBUTED');
    expect(wave).toMatchObject({ ItemsPath: '$.requests', MaxConcurrency: 30, ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } } });
  });

  test('each instance is a whole execution of the reset machine, with exactly the single reset\'s request as input', () => {
    expect(reset.Resource).toBe('arn:aws:states:::states:startExecution.sync:2');
    expect(reset.Parameters).toEqual({ 'Input.$': '$', 'StateMachineArn': `arn:aws:states:us-east-1:123456789012:stateMachine:${resetMachineRef}` });
  });

  test('a child that fails is caught as its instance\'s outcome, so one instance never stops the others', () => {
    expect(reset.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'ResetNotSucceeded' }]);
    expect(wave.ItemProcessor.States.ResetNotSucceeded).toMatchObject({ Type: 'Pass', Next: 'StartAwaitingRelease' });
    // The child's own failure is not retried: a second reset is the operator's decision.
    expect(reset.Retry.flatMap((r: any) => r.ErrorEquals)).not.toContain('States.TaskFailed');
    expect(reset.Retry.flatMap((r: any) => r.ErrorEquals)).not.toContain('States.ALL');
  });

  test('after a child that did not succeed, the iteration waits (bounded) until no reset holds the instance\'s lock', () => {
    const states = wave.ItemProcessor.States;
    const lockTableRef = Object.keys(resources).find(id => id.startsWith('WorkflowLockTable') && resources[id].Type === 'AWS::DynamoDB::Table')!;
    expect(states.ReadLock).toMatchObject({
      Resource: 'arn:aws:states:::dynamodb:getItem',
      Parameters: { TableName: lockTableRef, Key: { instanceId: { 'S.$': '$.instanceId' } }, ConsistentRead: true },
      ResultPath: '$.release.lock',
      Next: 'LockReleased?',
    });
    // A failed read ends the wait, never the fleet.
    expect(states.ReadLock.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.release.readError', Next: 'InstanceReleased' }]);
    const choices = states['LockReleased?'].Choices;
    expect(choices).toEqual([
      { Variable: '$.release.lock.Item.abandonedAt', IsPresent: true, Next: 'InstanceReleased' },
      { Variable: '$.release.polls', NumericGreaterThanEquals: 240, Next: 'InstanceReleased' },
      { Variable: '$.release.lock.Item.executionArn', IsPresent: true, Next: 'WaitForRelease' },
    ]);
    expect(states['LockReleased?'].Default).toBe('InstanceReleased');
    expect(states.WaitForRelease).toMatchObject({ Seconds: 30, Next: 'CountReleasePoll' });
    expect(states.InstanceReleased).toMatchObject({ Type: 'Pass', End: true });
  });

  test('the fleet machine may read the lock table (GetItem only), and a customer managed key only through DynamoDB', () => {
    const keyed = new Stack(new App(), 'Keyed', { env: ENV });
    const key = new kms.Key(keyed, 'Key');
    new FleetReset(keyed, 'Fleet', { workflow: new ResetWorkflow(keyed, 'Workflow', { ...helperNetwork(keyed), encryptionKey: key }) });
    const keyedResources = Template.fromStack(keyed).toJSON().Resources as Record<string, any>;
    const statements = Object.entries(keyedResources)
      .filter(([id, r]) => id.startsWith('FleetStateMachine') && r.Type === 'AWS::IAM::Policy')
      .flatMap(([, r]) => r.Properties.PolicyDocument.Statement as any[]);
    const actions = statements.flatMap(st => [st.Action].flat() as string[]);
    expect([...new Set(actions.filter(a => a.startsWith('dynamodb:')))]).toEqual(['dynamodb:GetItem']);
    const decrypt = statements.filter(st => [st.Action].flat().includes('kms:Decrypt'));
    expect(decrypt).toEqual([expect.objectContaining({
      Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com' } },
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] },
    })]);
  });

  test('the fleet machine may start executions of the reset machine only (and its own map runs)', () => {
    const starts = Object.entries(resources)
      .filter(([id, r]) => id.startsWith('FleetStateMachine') && r.Type === 'AWS::IAM::Policy')
      .flatMap(([, r]) => r.Properties.PolicyDocument.Statement as any[])
      .filter(s => [s.Action].flat().includes('states:StartExecution'));
    const fleetMachineRef = Object.keys(resources).find(id => id.startsWith('FleetStateMachine') && resources[id].Type === 'AWS::StepFunctions::StateMachine');
    expect(starts.map(s => s.Resource)).toEqual(expect.arrayContaining([{ Ref: resetMachineRef }, { Ref: fleetMachineRef }]));
    expect(starts).toHaveLength(2);
  });

  test('the plan step reads only: instances, groups, and the one vCPU quota by its ARN', () => {
    const role = Object.entries(resources).find(([id, r]) => id.startsWith('FleetPlanRole') && r.Type === 'AWS::IAM::Role')![1];
    const statements = role.Properties.Policies[0].PolicyDocument.Statement;
    expect(statements).toEqual([
      {
        Sid: 'ObserveFleet',
        Effect: 'Allow',
        Action: ['ec2:DescribeInstances', 'autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeInstanceTypes'],
        Resource: '*',
      },
      {
        Sid: 'ReadVcpuQuota',
        Effect: 'Allow',
        Action: 'servicequotas:GetServiceQuota',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':servicequotas:us-east-1:123456789012:ec2/L-1216C47A']] },
      },
    ]);
  });

  test('logs no execution data (I5)', () => {
    const machine = Object.entries(resources).find(([id, r]) => id.startsWith('FleetStateMachine') && r.Type === 'AWS::StepFunctions::StateMachine')![1];
    expect(machine.Properties.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
  });

  test('the plan step gets the bounds and the workflow\'s helper instance types, whose vCPUs it reads from EC2', () => {
    expect(planConfig(resources)).toEqual({
      bounds: { maxDown: 30, maxDownPerAz: 25, maxDownPerGroup: 1, maxHelpers: 50, maxTargets: 100 },
      helperInstanceTypes: ['t3.medium', 't3a.medium', 'm5.large', 'm6i.large'],
      minutesPerReset: 11,
    });
  });
});

function planConfig(resources: Record<string, any>): any {
  const fn = Object.entries(resources).find(([id, r]) => id.startsWith('FleetPlan') && r.Type === 'AWS::Lambda::Function')![1];
  return JSON.parse(fn.Properties.Environment.Variables.RESET_FLEET_CONFIG);
}

function planActions(resources: Record<string, any>): string[] {
  const role = Object.entries(resources).find(([id, r]) => id.startsWith('FleetPlanRole') && r.Type === 'AWS::IAM::Role')![1];
  return role.Properties.Policies[0].PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat());
}

describe('FleetReset helper vCPUs', () => {
  test('a workflow with a larger helperInstanceType: the plan gets it first, with the fallbacks it may launch instead', () => {
    const { resources } = fleetStack({}, { helperInstanceType: new ec2.InstanceType('t3.xlarge') });
    expect(planConfig(resources).helperInstanceTypes).toEqual(['t3.xlarge', 't3.medium', 't3a.medium', 'm5.large', 'm6i.large']);
    expect(planActions(resources)).toContain('ec2:DescribeInstanceTypes');
  });

  test('helperVcpus given: the plan counts it, and its role may not read instance types it has no use for', () => {
    const { resources } = fleetStack({ helperVcpus: 4 });
    expect(planConfig(resources)).toMatchObject({ helperVcpus: 4 });
    expect(planActions(resources)).not.toContain('ec2:DescribeInstanceTypes');
  });
});

describe('FleetReset props', () => {
  test.each(['maxDown', 'maxDownPerAz', 'maxDownPerGroup', 'maxHelpers', 'maxTargets', 'helperVcpus'])('%s of 0 is refused at synth time', name => {
    expect(() => fleetStack({ [name]: 0 })).toThrow(`${name} is 0: set it to a whole number of at least 1.`);
  });

  test('maxTargets above 100 is refused at synth time: one execution\'s data must fit in 256 KiB per state', () => {
    expect(() => fleetStack({ maxTargets: 101 })).toThrow(/maxTargets is 101: set it to at most 100 \(.*256 KiB.*start several fleet resets instead\)/);
    expect(() => fleetStack({ maxTargets: 100 })).not.toThrow();
  });
});

describe('FleetReset publishes its state machine\'s ARN for tools to find', () => {
  test('in the SSM parameter /cdk-ec2-reset-access/fleet-state-machine-arn by default', () => {
    // WHEN
    const { stack, fleet } = fleetStack();

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::SSM::Parameter', {
      Type: 'String',
      Name: '/cdk-ec2-reset-access/fleet-state-machine-arn',
      Value: { Ref: stack.getLogicalId(fleet.stateMachine.node.defaultChild as any) },
    });
    const parameter = fleet.stateMachineArnParameter;
    expect(stack.resolve(parameter.parameterName)).toEqual({ Ref: stack.getLogicalId(parameter.node.defaultChild as any) });
  });

  test('under the name stateMachineArnParameterName gives', () => {
    // WHEN
    const { stack } = fleetStack({ stateMachineArnParameterName: '/team-b/fleet-state-machine-arn' });

    // THEN
    const template = Template.fromStack(stack);
    template.resourcePropertiesCountIs('AWS::SSM::Parameter', { Name: '/team-b/fleet-state-machine-arn' }, 1);
    template.resourcePropertiesCountIs('AWS::SSM::Parameter', { Name: '/cdk-ec2-reset-access/fleet-state-machine-arn' }, 0);
  });

  test('a second FleetReset with the same name in the account and Region is refused at synth, naming the first, the prop and the CLI option', () => {
    // GIVEN
    const { stack, workflow } = fleetStack();

    // THEN
    expect(() => new FleetReset(stack, 'Second', { workflow })).toThrow(expect.objectContaining({ name: 'StateMachineArnParameterCollision' }));
    expect(() => new FleetReset(stack, 'Third', { workflow })).toThrow(/^FleetReset: TestStack\/Fleet already writes the SSM parameter \/cdk-ec2-reset-access\/fleet-state-machine-arn .*another `stateMachineArnParameterName` \(the CLI then takes --fleet-state-machine-parameter <name>\)/);
    // Another name is no collision.
    new FleetReset(stack, 'Fourth', { workflow, stateMachineArnParameterName: '/team-b/fleet-state-machine-arn' });
  });

  test('a FleetReset given the name a ResetAccess writes is refused too: the name, not the construct, is what must be unique', () => {
    // GIVEN
    const stack = new Stack(new App(), 'TestStack', { env: ENV });
    const access = new ResetAccess(stack, 'ResetAccess');

    // THEN
    expect(() => new FleetReset(stack, 'Rival', { workflow: access.workflow, stateMachineArnParameterName: DEFAULT_STATE_MACHINE_ARN_PARAMETER }))
      .toThrow(/^FleetReset: TestStack\/ResetAccess already writes the SSM parameter \/cdk-ec2-reset-access\/state-machine-arn/);
    // The defaults differ, so a ResetAccess and a FleetReset side by side need nothing.
    new FleetReset(stack, 'Fleet', { workflow: access.workflow });
    Template.fromStack(stack).resourcePropertiesCountIs('AWS::SSM::Parameter', { Name: '/cdk-ec2-reset-access/fleet-state-machine-arn' }, 1);
  });

  test('two in environment-agnostic stacks get a warning: their account and Region are only known at deploy time', () => {
    // GIVEN
    const app = new App();
    const first = new Stack(app, 'First');
    new FleetReset(first, 'Fleet', { workflow: new ResetWorkflow(first, 'Workflow', helperNetwork(first)) });
    const second = new Stack(app, 'Second');

    // WHEN
    new FleetReset(second, 'Fleet', { workflow: new ResetWorkflow(second, 'Workflow', helperNetwork(second)) });

    // THEN
    Annotations.fromStack(second).hasWarning('/Second/Fleet',
      Match.stringLikeRegexp('First/Fleet also writes the SSM parameter /cdk-ec2-reset-access/fleet-state-machine-arn'));
  });
});

describe('FleetReset.grantStartFleet', () => {
  test('lets an operator start, follow and stop fleet executions and read the fleet\'s parameter, and nothing of the reset machine', () => {
    // GIVEN
    const { stack, workflow } = workflowStack();
    const fleet = new FleetReset(stack, 'Fleet', { workflow });
    const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });

    // WHEN
    fleet.grantStartFleet(operator);

    // THEN
    const machine = stack.getLogicalId(fleet.stateMachine.node.defaultChild as any);
    const parameter = stack.getLogicalId(fleet.stateMachineArnParameter.node.defaultChild as any);
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: stack.getLogicalId(operator.node.defaultChild as iam.CfnRole) }] } });
    const statements = Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['states:StartExecution', 'states:ListExecutions'], Resource: { Ref: machine } },
      {
        Effect: 'Allow',
        Action: ['states:DescribeExecution', 'states:StopExecution', 'states:GetExecutionHistory'],
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:us-east-1:123456789012:execution:', { 'Fn::GetAtt': [machine, 'Name'] }, ':*']] },
      },
      {
        Effect: 'Allow',
        Action: ['ssm:DescribeParameters', 'ssm:GetParameters', 'ssm:GetParameter', 'ssm:GetParameterHistory'],
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:us-east-1:123456789012:parameter', { Ref: parameter }]] },
      },
    ]);
  });
});

describe('FleetReset compliance', () => {
  test('every finding of every suite on the fleet is fixed or acknowledged, and every acknowledgement it makes is used', () => {
    const result = runComplianceChecks(app => {
      const stack = new Stack(app, 'FleetStack', { env: ENV });
      const workflow = new ResetWorkflow(stack, 'Workflow', helperNetwork(stack));
      const fleet = new FleetReset(stack, 'Fleet', { workflow });
      const operator = new iam.Role(stack, 'FleetOperator', { assumedBy: new iam.AccountRootPrincipal() });
      // The operator's role is the user's: whether it may carry an inline policy is their call, as in the sample stack.
      acknowledgeInlinePolicies(operator);
      fleet.grantStartFleet(operator);
    });
    expect(result.open.filter(f => f.includes('/Fleet/') || f.includes('/FleetOperator/'))).toEqual([]);
    expect(unusedAcknowledgements(result).filter(a => a.includes('/Fleet'))).toEqual([]);
  }, 240_000);

  test('the construct synthesizes in an app of its own (no dependency on the sample)', () => {
    const app = new App();
    const stack = new Stack(app, 'S', { env: ENV });
    new FleetReset(stack, 'Fleet', { workflow: new ResetWorkflow(stack, 'Workflow', helperNetwork(stack)) });
    expect(() => app.synth()).not.toThrow();
  });
});
