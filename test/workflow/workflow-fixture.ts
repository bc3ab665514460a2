import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { RescueEndpoints, RescueVpc, ResetWorkflow, ResetWorkflowProps } from '../../src';
import { resolveCfnValue } from '../helpers/asl';

/** The environment every workflow test synthesizes in (matches the rehearsal's fake account). */
export const ENV = { account: '123456789012', region: 'us-east-1' } as const;

/** Logical id prefix of the helper security group the fixture's RescueVpc creates. */
export const HELPER_SECURITY_GROUP_ID_PREFIX = 'RescueHelperSecurityGroup';

/**
 * A rescue network on an imported VPC with literal subnet ids and existing endpoints, so
 * templates read plainly: only the helper security group is created.
 */
export function helperNetwork(stack: Stack, subnets?: ec2.ISubnet[]): Pick<ResetWorkflowProps, 'rescueVpc'> {
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a', 'us-east-1b'] });
  return {
    rescueVpc: new RescueVpc(stack, 'Rescue', {
      existingVpc: vpc,
      vpcSubnets: {
        subnets: subnets ?? [
          ec2.Subnet.fromSubnetAttributes(stack, 'SubnetA', { subnetId: 'subnet-aaaa', availabilityZone: 'us-east-1a' }),
          ec2.Subnet.fromSubnetAttributes(stack, 'SubnetB', { subnetId: 'subnet-bbbb', availabilityZone: 'us-east-1b' }),
        ],
      },
      endpoints: RescueEndpoints.none({ securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'EndpointSg', 'sg-0abcdef0123456789') }),
      s3PrefixListId: 'pl-63a5400a',
    }),
  };
}

/**
 * The same network with on-demand interface endpoints (the default of RescueVpc): the workflow
 * creates them, so the subnets carry their CIDR (the endpoints' security group admits them).
 */
export function onDemandNetwork(stack: Stack): Pick<ResetWorkflowProps, 'rescueVpc'> {
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a', 'us-east-1b'] });
  return {
    rescueVpc: new RescueVpc(stack, 'Rescue', {
      existingVpc: vpc,
      vpcSubnets: {
        subnets: [
          ec2.Subnet.fromSubnetAttributes(stack, 'SubnetA', { subnetId: 'subnet-aaaa', availabilityZone: 'us-east-1a', ipv4CidrBlock: '10.0.0.0/24', routeTableId: 'rtb-aaaa' }),
          ec2.Subnet.fromSubnetAttributes(stack, 'SubnetB', { subnetId: 'subnet-bbbb', availabilityZone: 'us-east-1b', ipv4CidrBlock: '10.0.1.0/24', routeTableId: 'rtb-bbbb' }),
        ],
      },
      s3PrefixListId: 'pl-63a5400a',
    }),
  };
}

/** A stack with one ResetWorkflow `Workflow` built from `props` (merged over the helper network). */
export function workflowStack(props: Partial<ResetWorkflowProps> = {}): { stack: Stack; workflow: ResetWorkflow } {
  const stack = new Stack(new App(), 'TestStack', { env: ENV });
  const workflow = new ResetWorkflow(stack, 'Workflow', { ...helperNetwork(stack), ...props });
  return { stack, workflow };
}

/** A plain IAM statement: resources and conditions resolved to strings. */
export interface PlainStatement {
  readonly policy: string;
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string[];
  readonly Resource: string[];
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** A template value with every Ref, Fn::Join and Fn::GetAtt in it resolved to a string (deeply). */
export function plainCfn(value: unknown, resources: Record<string, any>): unknown {
  if (Array.isArray(value)) return value.map(v => plainCfn(v, resources));
  if (value && typeof value === 'object') {
    const node = value as Record<string, unknown>;
    if (node['Fn::Join'] || node.Ref !== undefined || node['Fn::GetAtt']) return resolveCfnValue(node, resources);
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, plainCfn(v, resources)]));
  }
  return value;
}

/** Every Allow/Deny statement of every role inline policy and AWS::IAM::Policy in the template, resolved. */
export function iamStatements(stack: Stack): PlainStatement[] {
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, any>;
  const documents: Array<[string, any]> = [];
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type === 'AWS::IAM::Role') {
      for (const policy of resource.Properties.Policies ?? []) documents.push([`${id}/${policy.PolicyName}`, policy.PolicyDocument]);
    }
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      documents.push([id, resource.Properties.PolicyDocument]);
    }
  }
  const plain = (value: unknown) => plainCfn(value, resources);
  const list = (value: unknown): string[] => (Array.isArray(value) ? value : [value]).map(v => plain(v) as string);
  return documents.flatMap(([policy, document]) => (document.Statement as any[]).map(s => ({
    policy,
    Sid: s.Sid,
    Effect: s.Effect,
    Action: list(s.Action),
    Resource: list(s.Resource),
    Condition: s.Condition ? plain(s.Condition) as Record<string, Record<string, unknown>> : undefined,
  })));
}

/** The statements of the role a function (logical id = prefix + hash) uses (its inline policies and attached AWS::IAM::Policy). */
export function statementsOfFunctionRole(stack: Stack, functionLogicalIdPrefix: string): PlainStatement[] {
  const template = Template.fromStack(stack);
  const functions = template.findResources('AWS::Lambda::Function');
  const matches = Object.entries(functions).filter(([id]) => new RegExp(`^${functionLogicalIdPrefix}[0-9A-F]{8}$`).test(id));
  if (matches.length !== 1) throw new Error(`Expected one function ${functionLogicalIdPrefix}*, found ${matches.map(([id]) => id)}`);
  const roleId = (matches[0][1] as any).Properties.Role['Fn::GetAtt'][0] as string;
  const policies = template.findResources('AWS::IAM::Policy');
  const attached = Object.entries(policies)
    .filter(([, p]) => ((p as any).Properties.Roles as any[]).some(r => r.Ref === roleId))
    .map(([id]) => id);
  return iamStatements(stack).filter(s => s.policy.startsWith(`${roleId}/`) || attached.includes(s.policy));
}
