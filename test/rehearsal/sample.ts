/**
 * The sample stack as the rehearsal sees it: synthesized once, its state machine definitions (reset,
 * restore, fleet; resolved as FakeResolver names the account's resources), the handler file and environment of every Lambda function a Task
 * invokes, the restore rule, and the resources a fake account must hold for the configuration
 * to make sense (subnets in their AZs, the helper security group and instance profile, the lock table).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SampleStack, SampleStackProps } from '../../sample/sample-stack';
import { REHEARSAL_ENV } from '../helpers/asl';
import { sampleApp } from '../helpers/sample-app';
import { sampleIam, SampleIam } from './iam/roles';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

export interface MachineArtifact {
  readonly logicalId: string;
  readonly arn: string;
  readonly definition: any;
}

export interface FunctionArtifact {
  readonly logicalId: string;
  /** Path of the handler module, relative to the repository root (`src/.../<name>.lambda.ts`). */
  readonly handlerFile: string;
  /** The function's environment, tokens resolved to the fake account's ids. */
  readonly environment: Record<string, string>;
}

/** A VPC endpoint of the template, its properties resolved as a deployed stack holds them. */
export interface SampleEndpoint {
  readonly logicalId: string;
  readonly vpcId: string;
  readonly serviceName: string;
  readonly type: 'Interface' | 'Gateway';
  readonly privateDnsEnabled: boolean;
  readonly subnetIds: string[];
  readonly routeTableIds: string[];
  readonly securityGroupIds: string[];
  readonly policy?: any;
}

export interface SampleArtifacts {
  readonly stackName: string;
  readonly synthMs: number;
  readonly reset: MachineArtifact;
  readonly restore: MachineArtifact;
  /** FleetReset's state machine (issue 14): waves of child executions of `reset`. */
  readonly fleet: MachineArtifact;
  /** Lambda functions with a handler in src/, by logical id. */
  readonly functions: ReadonlyMap<string, FunctionArtifact>;
  readonly restoreRule: {
    readonly eventPattern: any;
    readonly targetArn: string;
    readonly inputPathsMap: Record<string, string>;
    readonly inputTemplate: string;
  };
  /** Resources of the stack that the handlers' configuration refers to, with their fake ids. */
  readonly world: {
    /** Subnets with their VPC, and whether any route of theirs leads out of the VPC (the rescue VPC has none). */
    readonly subnets: { id: string; availabilityZone: string; vpcId?: string; routesOutOfVpc: boolean }[];
    readonly vpcs: string[];
    /** The VPC endpoints the template creates (the S3 gateway endpoint; interface endpoints when always on), resolved. */
    readonly endpoints: SampleEndpoint[];
    readonly securityGroups: string[];
    readonly instanceProfileArns: string[];
    readonly tables: string[];
    /** Customer managed key ARN of each table encrypted with one (SSESpecification.KMSMasterKeyId). */
    readonly tableKeys: Record<string, string>;
    /** The KMS keys the stack creates: id and key policy (resolved). */
    readonly keys: Array<{ keyId: string; policy: { Version: string; Statement: any[] } }>;
    /** The TTL attribute of each table that has TimeToLiveSpecification enabled, by table name. */
    readonly ttlAttributes: Record<string, string>;
  };
  readonly template: any;
  /** The stack's roles with their policies resolved, and which function and instance profile use which (iam/roles.ts). */
  readonly iam: SampleIam;
  /** Resolves the template's CloudFormation values to the fake account's ids. */
  readonly resolver: FakeResolver;
}

/**
 * Synthesizes the sample stack (environment-agnostic, as `cdk synth` does) and reads what the
 * rehearsal needs. `props` configure it as a deployment would (e.g. allowed volume keys).
 */
export function synthesizeSample(props: SampleStackProps = {}): SampleArtifacts {
  const started = Date.now();
  const app = sampleApp();
  const stack = new SampleStack(app, 'Ec2ResetAccessSample', props);
  const template = Template.fromStack(stack).toJSON();
  const synthMs = Date.now() - started;
  const resources = template.Resources as Record<string, any>;
  const resolver = new FakeResolver(stack.stackName, resources, template.Conditions ?? {});

  const machine = (prefix: string): MachineArtifact => {
    const ids = Object.keys(resources).filter(id => resources[id].Type === 'AWS::StepFunctions::StateMachine' && id.startsWith(prefix));
    if (ids.length !== 1) throw new Error(`Expected one state machine ${prefix}*, found ${ids.join(', ') || 'none'}`);
    // Plain ASL, resolved as the account's resources are named (Lambda ARNs end with the function's logical id).
    const definition = JSON.parse(resolver.resolve(resources[ids[0]].Properties.DefinitionString));
    return { logicalId: ids[0], arn: resolver.resolve({ Ref: ids[0] }), definition };
  };
  const reset = machine('ResetAccessWorkflowResetStateMachine');
  const restore = machine('ResetAccessWorkflowRestoreStateMachine');
  const fleet = machine('FleetResetStateMachine');

  const handlerFiles = lambdaHandlerFiles();
  const functions = new Map<string, FunctionArtifact>();
  for (const fn of stack.node.findAll().filter((c): c is lambda.Function => c instanceof lambda.Function)) {
    const kebab = fn.constructor.name.replace(/Function$/, '').replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
    const file = handlerFiles.get(kebab);
    if (!file) continue; // CDK's own custom-resource providers
    const logicalId = stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
    const variables = resources[logicalId].Properties.Environment?.Variables ?? {};
    functions.set(logicalId, {
      logicalId,
      handlerFile: file,
      environment: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, resolver.resolve(v)])),
    });
  }

  const ruleId = Object.keys(resources).find(id => resources[id].Type === 'AWS::Events::Rule'
    && (resources[id].Properties.Targets ?? []).some((t: any) => t.Arn?.Ref === restore.logicalId));
  if (!ruleId) throw new Error('No EventBridge rule targets the restore state machine.');
  const rule = resources[ruleId].Properties;
  const target = rule.Targets.find((t: any) => t.Arn?.Ref === restore.logicalId);

  return {
    stackName: stack.stackName,
    synthMs,
    reset,
    restore,
    fleet,
    functions,
    restoreRule: {
      eventPattern: resolver.resolveDeep(rule.EventPattern),
      targetArn: restore.arn,
      inputPathsMap: target.InputTransformer?.InputPathsMap ?? {},
      inputTemplate: target.InputTransformer?.InputTemplate ?? '<aws.events.event>',
    },
    world: {
      subnets: Object.keys(resources).filter(id => resources[id].Type === 'AWS::EC2::Subnet').map(id => ({
        id: resolver.resolve({ Ref: id }),
        availabilityZone: resolver.resolve(resources[id].Properties.AvailabilityZone),
        vpcId: resolver.resolve(resources[id].Properties.VpcId),
        routesOutOfVpc: routesOutOfVpc(resources, id),
      })),
      vpcs: Object.keys(resources).filter(id => resources[id].Type === 'AWS::EC2::VPC').map(id => resolver.resolve({ Ref: id })),
      endpoints: Object.keys(resources).filter(id => resources[id].Type === 'AWS::EC2::VPCEndpoint').map(id => {
        const p = resolver.resolveDeep(resources[id].Properties);
        return {
          logicalId: id,
          vpcId: p.VpcId,
          serviceName: p.ServiceName,
          type: p.VpcEndpointType ?? 'Gateway',
          privateDnsEnabled: p.PrivateDnsEnabled === true,
          subnetIds: p.SubnetIds ?? [],
          routeTableIds: p.RouteTableIds ?? [],
          securityGroupIds: p.SecurityGroupIds ?? [],
          ...(p.PolicyDocument ? { policy: p.PolicyDocument } : {}),
        };
      }),
      securityGroups: Object.keys(resources).filter(id => resources[id].Type === 'AWS::EC2::SecurityGroup')
        .map(id => resolver.resolve({ 'Fn::GetAtt': [id, 'GroupId'] })),
      instanceProfileArns: Object.keys(resources).filter(id => resources[id].Type === 'AWS::IAM::InstanceProfile')
        .map(id => resolver.resolve({ 'Fn::GetAtt': [id, 'Arn'] })),
      tables: Object.keys(resources).filter(id => resources[id].Type === 'AWS::DynamoDB::Table').map(id => resolver.resolve({ Ref: id })),
      tableKeys: Object.fromEntries(Object.keys(resources)
        .filter(id => resources[id].Type === 'AWS::DynamoDB::Table' && resources[id].Properties.SSESpecification?.KMSMasterKeyId)
        .map(id => [resolver.resolve({ Ref: id }), resolver.resolve(resources[id].Properties.SSESpecification.KMSMasterKeyId)])),
      keys: Object.keys(resources).filter(id => resources[id].Type === 'AWS::KMS::Key').map(id => ({
        keyId: resolver.resolve({ Ref: id }),
        policy: resolver.resolveDeep(resources[id].Properties.KeyPolicy),
      })),
      ttlAttributes: Object.fromEntries(Object.keys(resources)
        .filter(id => resources[id].Type === 'AWS::DynamoDB::Table' && resources[id].Properties.TimeToLiveSpecification?.Enabled)
        .map(id => [resolver.resolve({ Ref: id }), resources[id].Properties.TimeToLiveSpecification.AttributeName])),
    },
    template,
    iam: sampleIam(resources, resolver, [...functions.keys()]),
    resolver,
  };
}

/**
 * Whether a subnet of the template has a route out of its VPC: an AWS::EC2::Route (to an internet or
 * NAT gateway, a peering, a transit gateway...) in the route table associated with it. Gateway
 * endpoints add their routes without an AWS::EC2::Route (to the service's prefix list only).
 */
function routesOutOfVpc(resources: Record<string, any>, subnetId: string): boolean {
  const tables = Object.values(resources)
    .filter(r => r.Type === 'AWS::EC2::SubnetRouteTableAssociation' && r.Properties.SubnetId?.Ref === subnetId)
    .map(r => r.Properties.RouteTableId?.Ref);
  return Object.values(resources).some(r => r.Type === 'AWS::EC2::Route' && tables.includes(r.Properties.RouteTableId?.Ref));
}

/** `src/**\/<name>.lambda.ts`, by name. */
function lambdaHandlerFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true })) {
      const rel = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.lambda.ts')) files.set(entry.name.replace(/\.lambda\.ts$/, ''), rel);
    }
  };
  walk('src');
  return files;
}

/**
 * Resolves CloudFormation values to what a deployed stack would hold, with stable fake physical
 * ids. Lambda ARNs match test/helpers/asl.ts (`...:function:<LogicalId>`), so a Task's Resource
 * leads back to its function.
 */
export class FakeResolver {
  constructor(
    private readonly stackName: string,
    private readonly resources: Record<string, any>,
    private readonly conditions: Record<string, any> = {},
  ) {}

  public resolve(value: unknown): string {
    const resolved = this.resolveDeep(value);
    if (typeof resolved !== 'string') throw new Error(`Expected a string from ${JSON.stringify(value)}, got ${JSON.stringify(resolved)}`);
    return resolved;
  }

  public resolveDeep(value: unknown): any {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map(v => this.resolveDeep(v));
    const node = value as Record<string, any>;
    if (node['Fn::Join']) {
      const [delimiter, parts] = node['Fn::Join'];
      return (parts as unknown[]).map(part => this.resolve(part)).join(delimiter);
    }
    if (node['Fn::Split']) {
      const [delimiter, source] = node['Fn::Split'];
      return this.resolve(source).split(delimiter);
    }
    if (node['Fn::Select']) {
      const [index, list] = node['Fn::Select'];
      return (this.resolveDeep(list) as unknown[])[Number(index)];
    }
    if (node['Fn::GetAZs'] !== undefined) return AZS;
    if (node['Fn::If']) {
      const [condition, whenTrue, whenFalse] = node['Fn::If'];
      return this.resolveDeep(this.condition(condition) ? whenTrue : whenFalse);
    }
    if (typeof node['Fn::Sub'] === 'string') {
      return (node['Fn::Sub'] as string).replace(/\$\{([\w:.]+)\}/g, (_, name: string) => name.includes('.')
        ? this.getAtt(name.split('.')[0], name.split('.')[1]) : this.ref(name));
    }
    if (node.Ref !== undefined) return this.ref(node.Ref);
    if (node['Fn::GetAtt']) return this.getAtt(node['Fn::GetAtt'][0], node['Fn::GetAtt'][1]);
    if (Object.keys(node).some(k => k.startsWith('Fn::'))) throw new Error(`Cannot resolve ${JSON.stringify(value)}`);
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, this.resolveDeep(v)]));
  }

  /** A template condition (Fn::Equals, Fn::Or, Fn::And, Fn::Not over resolvable values), by name. */
  private condition(name: string): boolean {
    const evaluate = (expression: any): boolean => {
      if (expression.Condition) return this.condition(expression.Condition);
      if (expression['Fn::Equals']) {
        const [a, b] = expression['Fn::Equals'];
        return JSON.stringify(this.resolveDeep(a)) === JSON.stringify(this.resolveDeep(b));
      }
      if (expression['Fn::Or']) return (expression['Fn::Or'] as any[]).some(evaluate);
      if (expression['Fn::And']) return (expression['Fn::And'] as any[]).every(evaluate);
      if (expression['Fn::Not']) return !evaluate(expression['Fn::Not'][0]);
      throw new Error(`Cannot evaluate the condition ${JSON.stringify(expression)}`);
    };
    const expression = this.conditions[name];
    if (!expression) throw new Error(`Unknown condition ${name}`);
    return evaluate(expression);
  }

  private hash(logicalId: string, length: number): string {
    return createHash('sha256').update(`${this.stackName}/${logicalId}`).digest('hex').slice(0, length);
  }

  private ref(name: string): string {
    const { account, region, partition } = REHEARSAL_ENV;
    switch (name) {
      case 'AWS::AccountId': return account;
      case 'AWS::Region': return region;
      case 'AWS::Partition': return partition;
      case 'AWS::URLSuffix': return 'amazonaws.com';
      case 'AWS::StackName': return this.stackName;
    }
    const resource = this.resources[name];
    if (!resource) throw new Error(`Ref to unknown resource ${name}`);
    switch (resource.Type) {
      case 'AWS::EC2::Subnet': return `subnet-${this.hash(name, 17)}`;
      case 'AWS::EC2::SecurityGroup': return `sg-${this.hash(name, 17)}`;
      case 'AWS::EC2::VPC': return `vpc-${this.hash(name, 17)}`;
      case 'AWS::DynamoDB::Table': return `${this.stackName}-${name}-${this.hash(name, 12).toUpperCase()}`;
      // CloudFormation, AWS::KMS::Key: Ref returns the key id.
      case 'AWS::KMS::Key': return `${this.hash(name, 8)}-${this.hash(`${name}/1`, 4)}-${this.hash(`${name}/2`, 4)}-${this.hash(`${name}/3`, 4)}-${this.hash(`${name}/4`, 12)}`;
      case 'AWS::IAM::InstanceProfile':
      case 'AWS::IAM::Role': return `${this.stackName}-${name}-${this.hash(name, 12).toUpperCase()}`.slice(0, 64);
      case 'AWS::StepFunctions::StateMachine': return `arn:${partition}:states:${region}:${account}:stateMachine:${name}`;
      default: return name;
    }
  }

  private getAtt(logicalId: string, attribute: string): string {
    const resource = this.resources[logicalId];
    if (!resource) throw new Error(`Fn::GetAtt on unknown resource ${logicalId}`);
    const { account, region, partition } = REHEARSAL_ENV;
    if (attribute === 'GroupId' && resource.Type === 'AWS::EC2::SecurityGroup') return this.ref(logicalId);
    // A state machine is named by its logical id here (its Ref, the ARN, ends with it).
    if (attribute === 'Name' && resource.Type === 'AWS::StepFunctions::StateMachine') return this.ref(logicalId).split(':').pop()!;
    if (attribute === 'Arn') {
      switch (resource.Type) {
        case 'AWS::Lambda::Function': return `arn:${partition}:lambda:${region}:${account}:function:${logicalId}`;
        case 'AWS::DynamoDB::Table': return `arn:${partition}:dynamodb:${region}:${account}:table/${this.ref(logicalId)}`;
        case 'AWS::IAM::InstanceProfile': return `arn:${partition}:iam::${account}:instance-profile/${this.ref(logicalId)}`;
        case 'AWS::IAM::Role': return `arn:${partition}:iam::${account}:role/${this.ref(logicalId)}`;
        case 'AWS::KMS::Key': return `arn:${partition}:kms:${region}:${account}:key/${this.ref(logicalId)}`;
        default: return `arn:${partition}:cloudformation:${region}:${account}:${resource.Type}/${logicalId}`;
      }
    }
    return `${logicalId}.${attribute}`;
  }
}

/**
 * Every state of a definition, including those inside Parallel branches and Map item processors,
 * with the branch path it runs in (a Map's iterations: `<map>[]`, each iteration a thread of its own).
 */
export function statesOf(definition: any, branch = 'main'): Array<{ name: string; state: any; branch: string }> {
  return Object.entries(definition.States as Record<string, any>).flatMap(([name, state]) => [
    { name, state, branch },
    ...((state.Branches ?? []) as any[]).flatMap((b, i) => statesOf(b, `${name}.${i}`)),
    ...(state.ItemProcessor ?? state.Iterator ? statesOf(state.ItemProcessor ?? state.Iterator, `${name}[]`) : []),
  ]);
}

/** The Task states of a definition. */
export function taskStatesOf(definition: any): string[] {
  return statesOf(definition).filter(s => s.state.Type === 'Task').map(s => s.name);
}
