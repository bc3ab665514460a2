import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

/** Values the resolver substitutes for CloudFormation pseudo parameters. */
export const REHEARSAL_ENV = { account: '123456789012', region: 'us-east-1', partition: 'aws' } as const;

/**
 * Turns the `DefinitionString` of a synthesized `AWS::StepFunctions::StateMachine`
 * (an `Fn::Join` of literals, `Ref`s and `Fn::GetAtt`s) into plain Amazon States
 * Language, for asl-validator and aws-local-stepfunctions.
 *
 * References resolve to stable fake values: a Lambda function's ARN ends with its
 * logical id (`arn:aws:lambda:us-east-1:123456789012:function:<LogicalId>`), so a
 * Task can be routed back to the construct that defines its handler.
 */
export function stateMachineDefinition(stack: Stack, logicalIdPrefix?: string): Record<string, any> {
  const template = Template.fromStack(stack).toJSON();
  const resources = (template.Resources ?? {}) as Record<string, any>;
  const machines = Object.entries(resources).filter(([id, r]) =>
    r.Type === 'AWS::StepFunctions::StateMachine' && (!logicalIdPrefix || id.startsWith(logicalIdPrefix)));
  if (machines.length !== 1) {
    throw new Error(`Expected exactly one state machine${logicalIdPrefix ? ` with prefix ${logicalIdPrefix}` : ''}, found ${machines.length}`);
  }
  const [, machine] = machines[0];
  return JSON.parse(resolveCfnValue(machine.Properties.DefinitionString, resources));
}

/** Resolves a CloudFormation value to a string, given the template's resources. */
export function resolveCfnValue(value: unknown, resources: Record<string, any>): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const node = value as Record<string, any>;
  if (node['Fn::Join']) {
    const [delimiter, parts] = node['Fn::Join'];
    return (parts as unknown[]).map(part => resolveCfnValue(part, resources)).join(delimiter);
  }
  if (node.Ref !== undefined) return resolveRef(node.Ref, resources);
  if (node['Fn::GetAtt']) {
    const [logicalId, attribute] = node['Fn::GetAtt'] as [string, string];
    return resolveGetAtt(logicalId, attribute, resources);
  }
  throw new Error(`Cannot resolve CloudFormation value ${JSON.stringify(value)}`);
}

function resolveRef(name: string, resources: Record<string, any>): string {
  switch (name) {
    case 'AWS::AccountId': return REHEARSAL_ENV.account;
    case 'AWS::Region': return REHEARSAL_ENV.region;
    case 'AWS::Partition': return REHEARSAL_ENV.partition;
    case 'AWS::URLSuffix': return 'amazonaws.com';
  }
  const resource = resources[name];
  if (!resource) throw new Error(`Ref to unknown resource ${name}`);
  // Ref returns a state machine's ARN (the rehearsal names a state machine by its logical id, test/rehearsal/sample.ts).
  if (resource.Type === 'AWS::StepFunctions::StateMachine') {
    return `arn:${REHEARSAL_ENV.partition}:states:${REHEARSAL_ENV.region}:${REHEARSAL_ENV.account}:stateMachine:${name}`;
  }
  // Ref returns a name for these types; a stable fake derived from the logical id serves.
  return name;
}

function resolveGetAtt(logicalId: string, attribute: string, resources: Record<string, any>): string {
  const resource = resources[logicalId];
  if (!resource) throw new Error(`Fn::GetAtt on unknown resource ${logicalId}`);
  const { account, region, partition } = REHEARSAL_ENV;
  if (attribute === 'Arn') {
    switch (resource.Type) {
      case 'AWS::Lambda::Function': return `arn:${partition}:lambda:${region}:${account}:function:${logicalId}`;
      case 'AWS::DynamoDB::Table': return `arn:${partition}:dynamodb:${region}:${account}:table/${logicalId}`;
      case 'AWS::SNS::Topic': return `arn:${partition}:sns:${region}:${account}:${logicalId}`;
      case 'AWS::IAM::Role': return `arn:${partition}:iam::${account}:role/${logicalId}`;
      case 'AWS::IAM::InstanceProfile': return `arn:${partition}:iam::${account}:instance-profile/${logicalId}`;
      default: return `arn:${partition}:cloudformation:${region}:${account}:${resource.Type}/${logicalId}`;
    }
  }
  return `${logicalId}.${attribute}`;
}
