import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { stateMachineDefinition } from './asl';

describe('stateMachineDefinition', () => {
  test('resolves function ARNs and pseudo parameters into plain ASL', () => {
    // GIVEN
    const stack = new Stack(new App(), 'Stack');
    const fn = new lambda.Function(stack, 'Step', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    });
    const invoke = new tasks.LambdaInvoke(stack, 'Invoke', { lambdaFunction: fn, payloadResponseOnly: true });
    const pass = new sfn.Pass(stack, 'Where', { parameters: { 'region.$': '$$.Execution.Id' } });
    new sfn.StateMachine(stack, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(invoke.next(pass)) });

    // WHEN
    const definition = stateMachineDefinition(stack);

    // THEN
    const logicalId = stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
    expect(definition.StartAt).toBe('Invoke');
    expect(definition.States.Invoke.Resource).toBe(`arn:aws:lambda:us-east-1:123456789012:function:${logicalId}`);
    expect(definition.States.Where.Type).toBe('Pass');
  });

  test('refuses a stack with no state machine', () => {
    const stack = new Stack(new App(), 'NoMachine');
    new sns.Topic(stack, 'Topic');
    expect(() => stateMachineDefinition(stack)).toThrow(/Expected exactly one state machine/);
  });
});
