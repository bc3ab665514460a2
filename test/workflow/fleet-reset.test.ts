import validator from 'asl-validator';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ENV, helperNetwork, workflowStack } from './workflow-fixture';
import { runComplianceChecks, unusedAcknowledgements } from '../../build-tools/compliance';
import { FleetReset, ResetWorkflow } from '../../src';
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
    expect(reset.Parameters).toEqual({ 'Input.$': '$', 'StateMachineArn': resetMachineRef });
  });

  test('a child that fails is caught as its instance\'s outcome, so one instance never stops the others', () => {
    expect(reset.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'ResetNotSucceeded' }]);
    expect(wave.ItemProcessor.States.ResetNotSucceeded).toMatchObject({ Type: 'Pass', End: true });
    // The child's own failure is not retried: a second reset is the operator's decision.
    expect(reset.Retry.flatMap((r: any) => r.ErrorEquals)).not.toContain('States.TaskFailed');
    expect(reset.Retry.flatMap((r: any) => r.ErrorEquals)).not.toContain('States.ALL');
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
});

describe('FleetReset compliance', () => {
  test('every finding of every suite on the fleet is fixed or acknowledged, and every acknowledgement it makes is used', () => {
    const result = runComplianceChecks(app => {
      const stack = new Stack(app, 'FleetStack', { env: ENV });
      const workflow = new ResetWorkflow(stack, 'Workflow', helperNetwork(stack));
      new FleetReset(stack, 'Fleet', { workflow });
    });
    expect(result.open.filter(f => f.includes('/Fleet/'))).toEqual([]);
    expect(unusedAcknowledgements(result).filter(a => a.includes('/Fleet'))).toEqual([]);
  }, 240_000);

  test('the construct synthesizes in an app of its own (no dependency on the sample)', () => {
    const app = new App();
    const stack = new Stack(app, 'S', { env: ENV });
    new FleetReset(stack, 'Fleet', { workflow: new ResetWorkflow(stack, 'Workflow', helperNetwork(stack)) });
    expect(() => app.synth()).not.toThrow();
  });
});
