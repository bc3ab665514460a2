import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { runComplianceChecks, unusedAcknowledgements } from '../../build-tools/compliance';
import { ResetTagGuard, ResetTagGuardProps, ResetWorkflow } from '../../src';
import { TAGS } from '../../src/workflow/private/contracts';
import { ENV, PlainStatement, statementsOfFunctionRole, workflowStack } from '../workflow/workflow-fixture';

/*
 * The guard's policies are evaluated by @cloud-copilot/iam-simulate, which implements IAM's policy
 * evaluation logic (identity policies, SCPs, permissions boundaries, every condition operator) and
 * checks each request against AWS's Service Authorization Reference. AGPL-3.0: test-only.
 */

const ACCOUNT = ENV.account;
const REGION = ENV.region;
const INSTANCE = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0`;
const IMAGE = `arn:aws:ec2:${REGION}::image/ami-0123456789abcdef0`;
const GROUP = `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:11111111-2222-3333-4444-555555555555:autoScalingGroupName/web`;
const TARGET_KEY = ResetWorkflow.DEFAULT_TARGET_TAG_KEY;

const DEVELOPER = `arn:aws:iam::${ACCOUNT}:role/Developer`;
const BREAK_GLASS = `arn:aws:iam::${ACCOUNT}:role/BreakGlassAdmin`;
/** What a step role's ARN looks like: CloudFormation names it, the construct sets its path. */
const WORKFLOW_ROLE = `arn:aws:iam::${ACCOUNT}:role${ResetWorkflow.ROLE_PATH}TestStack-WorkflowLaunchHelperRole-ABCDEF123456`;

/** An ordinary principal: every EC2 and Auto Scaling action on everything. */
const EC2_ADMIN = policy([{ Effect: 'Allow', Action: ['ec2:*', 'autoscaling:*'], Resource: '*' }]);
/** AWS Organizations' default SCP, attached at every level unless replaced. */
const FULL_AWS_ACCESS = policy([{ Effect: 'Allow', Action: '*', Resource: '*' }]);

type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

interface Call {
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  /** Tags in the request: aws:TagKeys and aws:RequestTag/<key>. */
  readonly tags: Record<string, string>;
  /** ec2:CreateAction, when the tags come with a create call (tag-on-create). */
  readonly createAction?: string;
}

/** What IAM decides for `call` under `identity`, with the guard as SCP or as permissions boundary. */
async function decide(call: Call, identity: object, guard: { scp?: object; boundary?: object }): Promise<Decision> {
  const contextVariables: Record<string, string | string[]> = {
    'aws:PrincipalArn': call.principal,
    'aws:TagKeys': Object.keys(call.tags),
    ...Object.fromEntries(Object.entries(call.tags).map(([key, value]) => [`aws:RequestTag/${key}`, value])),
  };
  if (call.createAction) contextVariables['ec2:CreateAction'] = call.createAction;
  const result = await runSimulation({
    request: { principal: call.principal, action: call.action, resource: { resource: call.resource, accountId: ACCOUNT }, contextVariables },
    identityPolicies: [{ name: 'identity', policy: identity }],
    serviceControlPolicies: [{
      orgIdentifier: 'r-root',
      policies: [{ name: 'FullAWSAccess', policy: FULL_AWS_ACCESS }, ...(guard.scp ? [{ name: 'ResetTagGuard', policy: guard.scp }] : [])],
    }],
    resourceControlPolicies: [],
    permissionBoundaryPolicies: guard.boundary ? [{ name: 'ResetTagGuard', policy: guard.boundary }] : undefined,
  }, {});
  if (result.resultType === 'error') throw new Error(`Simulation rejected: ${JSON.stringify(result.errors)}`);
  return result.overallResult as Decision;
}

function policy(statements: object[]): object {
  return { Version: '2012-10-17', Statement: statements };
}

/** The guard's service control policy as synthesized (its Content), in a stack of the management account. */
function synthesizedScp(props: Partial<ResetTagGuardProps> = {}): { template: Template; content: object } {
  const stack = new Stack(new App(), 'Management', { env: { account: '999988887777', region: REGION } });
  new ResetTagGuard(stack, 'Guard', {
    taggingPrincipalArns: ['arn:aws:iam::*:role/BreakGlassAdmin'],
    serviceControlPolicy: { targetIds: ['ou-abcd-11112222'] },
    ...props,
  });
  const template = Template.fromStack(stack);
  const [scp] = Object.values(template.findResources('AWS::Organizations::Policy')) as any[];
  return { template, content: scp.Properties.Content };
}

/** A role's synthesized statements (resolved) as one policy document. */
function asPolicy(statements: PlainStatement[]): object {
  return policy(statements.map(s => ({
    Effect: s.Effect, Action: s.Action, Resource: s.Resource, ...(s.Condition ? { Condition: s.Condition } : {}),
  })));
}

describe('ResetTagGuard', () => {
  describe('as a service control policy', () => {
    const scp = synthesizedScp().content;
    const underScp = (call: Call, identity: object = EC2_ADMIN) => decide(call, identity, { scp });

    test('denies an ordinary principal with ec2:* tagging an instance with the target tag', async () => {
      // WHEN
      const decision = await underScp({ principal: DEVELOPER, action: 'ec2:CreateTags', resource: INSTANCE, tags: { [TARGET_KEY]: 'true' } });

      // THEN
      expect(decision).toBe('ExplicitlyDenied');
    });

    test('denies the target tag in any letter case, which the workflow\'s aws:ResourceTag conditions match as well', async () => {
      // WHEN
      const decision = await underScp({
        principal: DEVELOPER, action: 'ec2:CreateTags', resource: INSTANCE, tags: { 'CDK-EC2-Reset-Access:Allow-Reset': 'true' },
      });

      // THEN
      expect(decision).toBe('ExplicitlyDenied');
    });

    test.each([
      ['removing the target tag', { action: 'ec2:DeleteTags', resource: INSTANCE, tags: { [TARGET_KEY]: 'true' } }],
      ['launching an instance with the target tag', { action: 'ec2:CreateTags', resource: INSTANCE, tags: { [TARGET_KEY]: 'true' }, createAction: 'RunInstances' }],
      ['tagging an instance as a helper of a workflow', { action: 'ec2:CreateTags', resource: INSTANCE, tags: { [TAGS.workflow]: 'c8abcdef' } }],
      ['tagging an image as a workflow\'s backup', { action: 'ec2:CreateTags', resource: IMAGE, tags: { [TAGS.role]: 'backup' } }],
      ['a workflow tag key it does not know yet', { action: 'ec2:CreateTags', resource: INSTANCE, tags: { 'cdk-ec2-reset-access:future': 'x' } }],
      ['the target tag among unrelated ones', { action: 'ec2:CreateTags', resource: INSTANCE, tags: { Owner: 'me', [TARGET_KEY]: 'true' } }],
      ['tagging an Auto Scaling group with the target tag', { action: 'autoscaling:CreateOrUpdateTags', resource: GROUP, tags: { [TARGET_KEY]: 'true' } }],
      ['removing it from a group', { action: 'autoscaling:DeleteTags', resource: GROUP, tags: { [TARGET_KEY]: 'true' } }],
      ['creating a group whose instances get the target tag', { action: 'autoscaling:CreateAutoScalingGroup', resource: GROUP, tags: { [TARGET_KEY]: 'true' } }],
    ])('denies an ordinary principal %s', async (_what, call) => {
      expect(await underScp({ principal: DEVELOPER, ...call })).toBe('ExplicitlyDenied');
    });

    test('allows the named break-glass principal (matched by pattern, any account) to tag and untag', async () => {
      // WHEN
      const tag = await underScp({ principal: BREAK_GLASS, action: 'ec2:CreateTags', resource: INSTANCE, tags: { [TARGET_KEY]: 'true' } });
      const untag = await underScp({ principal: BREAK_GLASS, action: 'ec2:DeleteTags', resource: INSTANCE, tags: { [TARGET_KEY]: 'true' } });
      const group = await underScp({ principal: BREAK_GLASS, action: 'autoscaling:CreateOrUpdateTags', resource: GROUP, tags: { [TARGET_KEY]: 'true' } });

      // THEN
      expect([tag, untag, group]).toEqual(['Allowed', 'Allowed', 'Allowed']);
    });

    test('allows everyone to tag with unrelated keys', async () => {
      // WHEN
      const decisions = await Promise.all([
        underScp({ principal: DEVELOPER, action: 'ec2:CreateTags', resource: INSTANCE, tags: { Owner: 'me', CostCenter: '42' } }),
        underScp({ principal: DEVELOPER, action: 'ec2:CreateTags', resource: INSTANCE, tags: { Name: 'web' }, createAction: 'RunInstances' }),
        underScp({ principal: DEVELOPER, action: 'ec2:DeleteTags', resource: INSTANCE, tags: { Owner: 'me' } }),
        underScp({ principal: DEVELOPER, action: 'autoscaling:CreateOrUpdateTags', resource: GROUP, tags: { team: 'web' } }),
      ]);

      // THEN
      expect(decisions).toEqual(['Allowed', 'Allowed', 'Allowed', 'Allowed']);
    });

    describe('the workflow\'s own tagging, with the step roles\' synthesized policies', () => {
      const { stack, workflow } = workflowStack();
      const launchHelper = asPolicy(statementsOfFunctionRole(stack, 'WorkflowLaunchHelper'));
      const createBackupImage = asPolicy(statementsOfFunctionRole(stack, 'WorkflowCreateBackupImage'));
      const helperTags = { [TAGS.workflow]: workflow.workflowId, [TAGS.role]: 'helper', [TAGS.target]: 'i-0123456789abcdef0', [TAGS.execution]: 'reset-1' };

      test('the step roles are on the path the guard exempts', () => {
        const roles = Template.fromStack(stack).findResources('AWS::IAM::Role', { Properties: { Path: ResetWorkflow.ROLE_PATH } });
        expect(Object.keys(roles).length).toBeGreaterThanOrEqual(13);
      });

      test('allows the launch step to tag the helper it launches', async () => {
        // WHEN
        const decision = await underScp({
          principal: WORKFLOW_ROLE, action: 'ec2:CreateTags', resource: INSTANCE, tags: helperTags, createAction: 'RunInstances',
        }, launchHelper);

        // THEN
        expect(decision).toBe('Allowed');
      });

      test('allows the backup step to tag the image it creates', async () => {
        // WHEN
        const decision = await underScp({
          principal: WORKFLOW_ROLE,
          action: 'ec2:CreateTags',
          resource: IMAGE,
          tags: { [TAGS.workflow]: workflow.workflowId, [TAGS.role]: 'backup', [TAGS.target]: 'i-0123456789abcdef0' },
          createAction: 'CreateImage',
        }, createBackupImage);

        // THEN
        expect(decision).toBe('Allowed');
      });

      test('denies a workflow role tagging an existing instance, even if a policy of its own allowed it', async () => {
        // WHEN
        const decisions = await Promise.all([
          underScp({ principal: WORKFLOW_ROLE, action: 'ec2:CreateTags', resource: INSTANCE, tags: { [TARGET_KEY]: 'true' } }),
          underScp({ principal: WORKFLOW_ROLE, action: 'ec2:CreateTags', resource: INSTANCE, tags: helperTags }),
          underScp({ principal: WORKFLOW_ROLE, action: 'ec2:DeleteTags', resource: INSTANCE, tags: { [TAGS.workflow]: workflow.workflowId } }),
        ]);

        // THEN
        expect(decisions).toEqual(['ExplicitlyDenied', 'ExplicitlyDenied', 'ExplicitlyDenied']);
      });
    });

    test('guards the configured target tag keys', async () => {
      // GIVEN
      const custom = synthesizedScp({ targetTagKeys: ['team:reset-ok'] }).content;

      // WHEN
      const decision = await decide({ principal: DEVELOPER, action: 'ec2:CreateTags', resource: INSTANCE, tags: { 'team:reset-ok': 'yes' } },
        EC2_ADMIN, { scp: custom });

      // THEN
      expect(decision).toBe('ExplicitlyDenied');
    });

    test('is an organization policy of type SERVICE_CONTROL_POLICY attached to the given targets, within the size limit', () => {
      // WHEN
      const { template, content } = synthesizedScp();

      // THEN
      template.hasResourceProperties('AWS::Organizations::Policy', {
        Type: 'SERVICE_CONTROL_POLICY',
        Name: 'cdk-ec2-reset-access-tag-guard',
        TargetIds: ['ou-abcd-11112222'],
        Content: { Version: '2012-10-17', Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Resource: '*' })]) },
      });
      expect(JSON.stringify(content).length).toBeLessThanOrEqual(ResetTagGuard.SERVICE_CONTROL_POLICY_MAX_SIZE);
    });

    test('refuses to synthesize a service control policy AWS Organizations would reject for its size', () => {
      // GIVEN
      const app = new App();
      const stack = new Stack(app, 'Management');
      const taggingPrincipalArns = Array.from({ length: 120 }, (_, i) => `arn:aws:iam::${String(i).padStart(12, '0')}:role/BreakGlassAdmin`);
      new ResetTagGuard(stack, 'Guard', { taggingPrincipalArns, serviceControlPolicy: {} });

      // THEN
      expect(() => app.synth()).toThrow(/AWS Organizations accepts at most 5120\. Shorten taggingPrincipalArns/);
    });
  });

  describe('as a permissions boundary', () => {
    const stack = new Stack(new App(), 'Account', { env: ENV });
    const guard = new ResetTagGuard(stack, 'Guard', { taggingPrincipalArns: [BREAK_GLASS], permissionsBoundary: true });
    const developers = new iam.Role(stack, 'Developers', { assumedBy: new iam.AccountRootPrincipal() });
    iam.PermissionsBoundary.of(developers).apply(guard.permissionsBoundary!);
    const template = Template.fromStack(stack);
    const [boundary] = Object.values(template.findResources('AWS::IAM::ManagedPolicy')) as any[];
    const bounded = (call: Call) => decide(call, EC2_ADMIN, { boundary: boundary.Properties.PolicyDocument });

    test('is the permissions boundary of the roles it is applied to', () => {
      template.hasResourceProperties('AWS::IAM::Role', { PermissionsBoundary: { Ref: stack.getLogicalId(guard.permissionsBoundary!.node.defaultChild as any) } });
    });

    test('denies the bounded principal the guarded tags and leaves it everything else', async () => {
      // WHEN
      const decisions = await Promise.all([
        bounded({ principal: DEVELOPER, action: 'ec2:CreateTags', resource: INSTANCE, tags: { [TARGET_KEY]: 'true' } }),
        bounded({ principal: DEVELOPER, action: 'ec2:CreateTags', resource: INSTANCE, tags: { Owner: 'me' } }),
        bounded({ principal: DEVELOPER, action: 'ec2:StopInstances', resource: INSTANCE, tags: {} }),
      ]);

      // THEN
      expect(decisions).toEqual(['ExplicitlyDenied', 'Allowed', 'Allowed']);
    });
  });

  test.each([
    [{ taggingPrincipalArns: ['BreakGlassAdmin'] }, 'TaggingPrincipalArnInvalid', /taggingPrincipalArns "BreakGlassAdmin" is not an IAM principal ARN pattern/],
    [{ taggingPrincipalArns: [], targetTagKeys: [] }, 'TargetTagKeysEmpty', /targetTagKeys is empty/],
    [{ taggingPrincipalArns: [], targetTagKeys: ['aws:reset'] }, 'TargetTagKeyInvalid', /targetTagKeys "aws:reset" is not a usable tag key/],
  ])('refuses props that cannot guard anything: %j', (props, name, message) => {
    expect(() => new ResetTagGuard(new Stack(), 'Guard', props)).toThrow(expect.objectContaining({ name, message: expect.stringMatching(message) }));
  });

  test('passes cdk-nag and Control Tower\'s guard rules, each acknowledgement with a reason', () => {
    // WHEN
    const result = runComplianceChecks(app => {
      const stack = new Stack(app, 'Guard', { env: ENV });
      new ResetTagGuard(stack, 'Guard', {
        taggingPrincipalArns: [BREAK_GLASS], permissionsBoundary: true, serviceControlPolicy: { targetIds: ['ou-abcd-11112222'] },
      });
    });

    // THEN
    expect(result.open).toEqual([]);
    expect(unusedAcknowledgements(result)).toEqual([]);
  }, 120_000);
});
