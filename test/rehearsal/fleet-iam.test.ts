import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { SimulatedAccount } from './account';
import { setServiceQuota } from './account/service-quotas';
import { VirtualClock } from './clock';
import { evaluate, NamedPolicy } from './iam/evaluate';
import { requestsFor } from './iam/requests';
import { routeSdkToAccount } from './sdk-routing';
import { FleetReset } from '../../src';
import { STANDARD_ON_DEMAND_VCPU_QUOTA_CODE } from '../../src/workflow/private/fleet-plan';
import { FLEET_CONFIG_ENV } from '../../src/workflow/private/fleet-request';
import { handler as plan } from '../../src/workflow/steps/fleet-plan.lambda';
import { REHEARSAL_ENV } from '../helpers/asl';
import { plainCfn, workflowStack } from '../workflow/workflow-fixture';

/*
 * The fleet-plan step's role, evaluated the way the rehearsal evaluates every step role: its real
 * handler runs against the simulated account, and each call it makes is authorized with
 * @cloud-copilot/iam-simulate against the role's synthesized policy (requests from
 * test/rehearsal/iam/requests.ts). The fleet is not part of the sample stack, so this is its own test;
 * the removal check is the same: without any one statement, some call is denied.
 */

function planRolePolicy(): { policy: NamedPolicy; config: string } {
  // A helper type of 4 vCPUs (t3.xlarge), falling back to the 2-vCPU types: the plan must count 4.
  const { stack, workflow } = workflowStack({ helperInstanceType: new ec2.InstanceType('t3.xlarge') });
  new FleetReset(stack, 'Fleet', { workflow });
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, any>;
  const role = Object.entries(resources).find(([id, r]) => id.startsWith('FleetPlanRole') && r.Type === 'AWS::IAM::Role')![1];
  const fn = Object.entries(resources).find(([id, r]) => id.startsWith('FleetPlan') && r.Type === 'AWS::Lambda::Function')![1];
  return {
    policy: { name: 'Step', document: plainCfn(role.Properties.Policies[0].PolicyDocument, resources) as NamedPolicy['document'] },
    config: fn.Properties.Environment.Variables[FLEET_CONFIG_ENV],
  };
}

describe('the fleet-plan step\'s role', () => {
  const { policy, config } = planRolePolicy();
  const principal = (document: NamedPolicy['document']) => ({
    arn: `arn:aws:sts::${REHEARSAL_ENV.account}:assumed-role/FleetPlanRole/fleet`,
    accountId: REHEARSAL_ENV.account,
    identityPolicies: [{ name: 'Step', document }],
  });
  let calls: Array<{ service: any; operation: string; input: any }>;

  beforeAll(async () => {
    const account = new SimulatedAccount(new VirtualClock());
    for (const az of ['us-east-1a', 'us-east-1b']) {
      account.addInstance({ availabilityZone: az, tags: { team: 'web' } });
    }
    // A member of the group 'web': the simulated account tags it aws:autoscaling:groupName, as EC2 Auto Scaling does.
    account.addInstance({ availabilityZone: 'us-east-1a', tags: { team: 'web' }, autoScalingGroup: 'web' });
    setServiceQuota(account, 'ec2', STANDARD_ON_DEMAND_VCPU_QUOTA_CODE, 64);
    const restore = routeSdkToAccount(account);
    process.env[FLEET_CONFIG_ENV] = config;
    try {
      const result = await plan({ request: { targets: { tagKey: 'team', tagValues: ['web'] } } });
      expect(result.targets).toHaveLength(3);
      // The three m5.large targets run 6 vCPUs (their CpuOptions); the helper types' largest, t3.xlarge, has 4: (64 - 6) / 4.
      expect(result.plan).toMatchObject({ helperVcpus: 4, helperVcpusSource: 'ec2', helperBound: 14 });
    } finally {
      restore();
    }
    calls = account.calls.map(c => ({ service: c.service, operation: c.operation, input: c.input }));
    (globalThis as any).fleetAccount = account;
  });

  async function denied(document: NamedPolicy['document']): Promise<string[]> {
    const account = (globalThis as any).fleetAccount as SimulatedAccount;
    const out: string[] = [];
    for (const call of calls) {
      for (const request of requestsFor(account, call.service, call.operation, call.input)) {
        if (await evaluate(principal(document), request) !== 'Allowed') out.push(`${request.action} on ${request.resource}`);
      }
    }
    return out;
  }

  test('the handler reads instances, groups, the helper instance types and the vCPU quota', () => {
    expect([...new Set(calls.map(c => `${c.service}:${c.operation}`))].sort())
      .toEqual(['autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeInstanceTypes', 'ec2:DescribeInstances', 'servicequotas:GetServiceQuota']);
  });

  test('every call it makes is allowed by its synthesized policy', async () => {
    expect(await denied(policy.document)).toEqual([]);
  });

  // Every action of every statement, as the rehearsal's removal check (iam.test.ts) does for the step roles.
  const ACTIONS = policy.document.Statement
    .flatMap((s: any, i: number) => [s.Action].flat().map((action: string) => [i, action] as [number, string]));

  test.each(ACTIONS)('without statement %i\'s %s, some call is denied (nothing granted is unused)', async (index, action) => {
    const statements = policy.document.Statement
      .map((s: any, i: number) => (i !== index ? s : { ...s, Action: [s.Action].flat().filter((a: string) => a !== action) }))
      .filter((s: any) => [s.Action].flat().length > 0);
    expect((await denied({ ...policy.document, Statement: statements })).length).toBeGreaterThan(0);
  });
});
