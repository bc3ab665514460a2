/**
 * The roles of the synthesized sample stack as IAM would hold them once deployed: each role's
 * inline policies, the `AWS::IAM::Policy` and `AWS::IAM::ManagedPolicy` resources attached to it,
 * and the AWS managed policies it names, with every CloudFormation value resolved to the fake
 * account's ids (the resolver test/rehearsal/sample.ts uses for the state machines). Not a second,
 * hand-written copy of the policies: what the template says is what the rehearsal evaluates.
 */
import type { NamedPolicy } from './evaluate';
import type { SimRole } from '../account/iam';
import type { FakeResolver } from '../sample';

/** Name of the inline policy ResetWorkflow gives each step role (src/workflow/reset-workflow.ts). */
export const STEP_POLICY_NAME = 'Step';

/**
 * AWS managed policies the sample's roles attach, as AWS publishes them (AWS Managed Policy
 * Reference Guide). Only what a simulation needs: an instance role's managed policies take part in
 * SimulatePrincipalPolicy. A role that attaches a policy not listed here fails loudly.
 */
export const AWS_MANAGED_POLICIES: Readonly<Record<string, NamedPolicy['document']>> = {
  // AWS Managed Policy Reference Guide, AmazonSSMManagedInstanceCore: the agent's calls to Systems
  // Manager, ssmmessages and ec2messages; no ssm:PutParameter, no KMS.
  AmazonSSMManagedInstanceCore: {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['ssm:DescribeAssociation', 'ssm:GetDeployablePatchSnapshotForInstance', 'ssm:GetDocument', 'ssm:DescribeDocument',
          'ssm:GetManifest', 'ssm:GetParameter', 'ssm:GetParameters', 'ssm:ListAssociations', 'ssm:ListInstanceAssociations',
          'ssm:PutInventory', 'ssm:PutComplianceItems', 'ssm:PutConfigurePackageResult', 'ssm:UpdateAssociationStatus',
          'ssm:UpdateInstanceAssociationStatus', 'ssm:UpdateInstanceInformation'],
        Resource: '*',
      },
      { Effect: 'Allow', Action: ['ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel', 'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel'], Resource: '*' },
      { Effect: 'Allow', Action: ['ec2messages:AcknowledgeMessage', 'ec2messages:DeleteMessage', 'ec2messages:FailMessage', 'ec2messages:GetEndpoint', 'ec2messages:GetMessages', 'ec2messages:SendReply'], Resource: '*' },
    ],
  },
  // AWS Managed Policy Reference Guide, AWSLambdaBasicExecutionRole: CloudWatch Logs only.
  AWSLambdaBasicExecutionRole: {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' }],
  },
};

export interface SampleIam {
  readonly roles: SimRole[];
  /** Instance profile ARN → role ARN. */
  readonly instanceProfileRoles: Map<string, string>;
  /** Lambda function logical id → role ARN. */
  readonly functionRoles: Map<string, string>;
  /**
   * State machine logical id → role ARN: the role Step Functions assumes for the machine's service
   * integrations (the fleet machine's `startExecution.sync:2` of each child reset).
   */
  readonly stateMachineRoles: Map<string, string>;
}

/**
 * The roles of the functions the rehearsal runs (`functionIds`) and of the instance profiles, with
 * their policies resolved, and who uses which role. (CDK's own custom-resource roles are left out.)
 */
export function sampleIam(resources: Record<string, any>, resolver: FakeResolver, functionIds: readonly string[]): SampleIam {
  const ids = (type: string) => Object.keys(resources).filter(id => resources[id].Type === type);
  const refsOf = (list: any[] | undefined) => (list ?? []).map(r => r?.Ref).filter((r: unknown): r is string => typeof r === 'string');
  const roleIdOfFunction = (id: string) => resources[id].Properties.Role['Fn::GetAtt'][0] as string;
  const roleIdOfStateMachine = (id: string) => resources[id].Properties.RoleArn['Fn::GetAtt'][0] as string;
  const stateMachineIds = ids('AWS::StepFunctions::StateMachine');
  const wanted = new Set([
    ...functionIds.map(roleIdOfFunction),
    ...stateMachineIds.map(roleIdOfStateMachine),
    ...ids('AWS::IAM::InstanceProfile').flatMap(id => refsOf(resources[id].Properties.Roles)),
  ]);
  const roles: SimRole[] = ids('AWS::IAM::Role').filter(id => wanted.has(id)).map(logicalId => {
    const props = resources[logicalId].Properties ?? {};
    const policies: NamedPolicy[] = (props.Policies ?? [])
      .map((p: any) => ({ name: p.PolicyName, document: resolver.resolveDeep(p.PolicyDocument) }));
    for (const policyId of [...ids('AWS::IAM::Policy'), ...ids('AWS::IAM::ManagedPolicy')]) {
      const policy = resources[policyId].Properties;
      if (refsOf(policy.Roles).includes(logicalId)) policies.push({ name: policyId, document: resolver.resolveDeep(policy.PolicyDocument) });
    }
    for (const arn of (props.ManagedPolicyArns ?? []).map((a: unknown) => resolver.resolveDeep(a)) as string[]) {
      const name = arn.split('/').pop()!;
      const document = AWS_MANAGED_POLICIES[name];
      if (!document) throw new Error(`IAM: the role ${logicalId} attaches ${arn}; add its document to AWS_MANAGED_POLICIES (test/rehearsal/iam/roles.ts).`);
      policies.push({ name: `aws-managed/${name}`, document });
    }
    const arn = resolver.resolve({ 'Fn::GetAtt': [logicalId, 'Arn'] });
    return { arn, name: arn.split('/').pop()!, logicalId, policies, inlinePolicyNames: (props.Policies ?? []).map((p: any) => p.PolicyName as string) };
  });
  const roleArn = (logicalId: string) => resolver.resolve({ 'Fn::GetAtt': [logicalId, 'Arn'] });
  const instanceProfileRoles = new Map(ids('AWS::IAM::InstanceProfile').map(id => [
    resolver.resolve({ 'Fn::GetAtt': [id, 'Arn'] }), roleArn(refsOf(resources[id].Properties.Roles)[0]),
  ]));
  const functionRoles = new Map(functionIds.map(id => [id, roleArn(roleIdOfFunction(id))]));
  const stateMachineRoles = new Map(stateMachineIds.map(id => [id, roleArn(roleIdOfStateMachine(id))]));
  return { roles, instanceProfileRoles, functionRoles, stateMachineRoles };
}
