import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ENV, HELPER_SECURITY_GROUP_ID_PREFIX, helperNetwork, iamStatements, onDemandNetwork, PlainStatement, statementsOfFunctionRole, workflowStack } from './workflow-fixture';
import { RescueVpc, ResetWorkflow, ResetWorkflowProps } from '../../src';
import { ENDPOINT_JANITOR_CONFIG_ENV } from '../../src/workflow/endpoints/janitor-config';
import { TAGS, WORKFLOW_CONFIG_ENV, WorkflowConfig } from '../../src/workflow/private/contracts';
import { MUTATING_EC2_ACTIONS } from '../../src/workflow/private/policies';
import { resolveCfnValue, stateMachineDefinition } from '../helpers/asl';
import { awsSolutionsFindingsFor } from '../helpers/nag';
import { maskedTemplate } from '../helpers/snapshot';

const ARN = 'arn:aws:ec2:us-east-1:123456789012';
const INSTANCES = `${ARN}:instance/*`;
const VOLUMES = `${ARN}:volume/*`;
const DEFAULT_TAG_CONDITION = { StringEquals: { 'aws:ResourceTag/cdk-ec2-reset-access:allow-reset': ['true'] } };

function allows(statements: PlainStatement[], action: string): PlainStatement[] {
  return statements.filter(s => s.Effect === 'Allow' && s.Action.includes(action));
}

describe('ResetWorkflow', () => {
  let stack: Stack;
  let workflow: ResetWorkflow;
  let template: Template;

  beforeEach(() => {
    ({ stack, workflow } = workflowStack());
    template = Template.fromStack(stack);
  });

  describe('least privilege', () => {
    test('no mutating EC2 action is allowed on "*", and on instances only under a tag condition', () => {
      // GIVEN
      const statements = iamStatements(stack);

      // THEN
      const mutating = statements.filter(s => s.Effect === 'Allow' && s.Action.some(a => (MUTATING_EC2_ACTIONS as readonly string[]).includes(a)));
      expect(mutating.length).toBeGreaterThan(10);
      for (const s of mutating) {
        const where = `${s.policy} ${s.Sid}`;
        expect({ where, star: s.Resource.includes('*') }).toEqual({ where, star: false });
        expect({ where, foreign: s.Resource.filter(r => !r.startsWith('arn:aws:ec2:us-east-1:')) }).toEqual({ where, foreign: [] });
        if (s.Resource.includes(INSTANCES) || s.Resource.includes(VOLUMES)) {
          expect({ where, scoped: s.Condition !== undefined }).toEqual({ where, scoped: true });
        }
      }
    });

    test('volumes: detach, attach and modify only volumes this workflow marked; the mark written and removed with its own keys only', () => {
      // GIVEN
      const marked = { StringEquals: { [`aws:ResourceTag/${TAGS.workflow}`]: workflow.workflowId } };
      const markKeys = { 'ForAllValues:StringEquals': { 'aws:TagKeys': [TAGS.workflow, TAGS.execution] } };
      const onVolumes = (statements: PlainStatement[], action: string) => allows(statements, action).filter(s => s.Resource.includes(VOLUMES));

      // THEN: every grant on existing volumes requires the mark
      for (const action of ['ec2:DetachVolume', 'ec2:AttachVolume', 'ec2:ModifyInstanceAttribute']) {
        const grants = onVolumes(iamStatements(stack), action);
        expect(grants.length).toBeGreaterThan(0);
        for (const s of grants) expect({ sid: s.Sid, condition: s.Condition }).toEqual({ sid: s.Sid, condition: marked });
      }
      // prepare-target marks (only with the workflow's id and the mark's keys), the restore unmarks
      expect(onVolumes(statementsOfFunctionRole(stack, 'WorkflowPrepareTarget'), 'ec2:CreateTags')).toEqual([expect.objectContaining({
        Sid: 'MarkRootVolume', Condition: { StringEquals: { [`aws:RequestTag/${TAGS.workflow}`]: workflow.workflowId }, ...markKeys },
      })]);
      expect(allows(iamStatements(stack), 'ec2:DeleteTags')).toEqual([expect.objectContaining({
        Sid: 'UnmarkRootVolume', Resource: [VOLUMES], Condition: { ...marked, ...markKeys },
      })]);
      expect(allows(iamStatements(stack), 'ec2:DeleteTags')[0].policy).toMatch(/^WorkflowRestoreRole/);
    });

    test('ModifyInstanceAttribute: only the root mapping, every other attribute denied explicitly', () => {
      for (const prefix of ['WorkflowPrepareTarget', 'WorkflowRestore']) {
        // GIVEN
        const statements = statementsOfFunctionRole(stack, prefix);

        // THEN: allowed on targets and marked volumes, denied when EC2 reports another attribute
        expect(allows(statements, 'ec2:ModifyInstanceAttribute').map(s => [s.Resource, s.Condition])).toEqual([
          [[INSTANCES], DEFAULT_TAG_CONDITION],
          [[VOLUMES], { StringEquals: { [`aws:ResourceTag/${TAGS.workflow}`]: workflow.workflowId } }],
        ]);
        expect(statements.filter(s => s.Effect === 'Deny')).toEqual([expect.objectContaining({
          Action: ['ec2:ModifyInstanceAttribute'],
          Resource: [INSTANCES],
          Condition: { Null: { 'ec2:Attribute': 'false' }, StringNotEqualsIgnoreCase: { 'ec2:Attribute': ['BlockDeviceMappings', 'blockDeviceMapping'] } },
        })]);
        // Nothing else may modify an instance.
        expect(allows(statements, 'ec2:ModifyInstanceAttribute').every(s => s.Action.length === 1)).toBe(true);
      }
    });

    test('"*" resources are granted only for reads and service-wide actions', () => {
      // GIVEN
      const allowedOnStar = [
        /^ec2:Describe/, /^autoscaling:Describe/, /^ssm:DescribeInstanceInformation$/, /^ssm:GetCommandInvocation$/, /^ssm:ListCommands$/,
        // No resource type in IAM (Service Authorization Reference): the restore cancels only commands it lists on its helper.
        /^ssm:CancelCommand$/,
        /^xray:/, /^logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups)$/,
      ];

      // THEN
      for (const s of iamStatements(stack).filter(st => st.Resource.includes('*'))) {
        for (const action of s.Action) {
          expect({ where: `${s.policy} ${s.Sid}`, action, ok: allowedOnStar.some(r => r.test(action)) })
            .toEqual({ where: `${s.policy} ${s.Sid}`, action, ok: true });
        }
      }
    });

    test('target actions are conditioned on the default target tag', () => {
      // GIVEN
      const prepare = statementsOfFunctionRole(stack, 'WorkflowPrepareTarget');
      const restore = statementsOfFunctionRole(stack, 'WorkflowRestore');

      // THEN
      expect(allows(prepare, 'ec2:StopInstances')).toEqual([expect.objectContaining({
        Action: ['ec2:StopInstances'], Resource: [INSTANCES], Condition: DEFAULT_TAG_CONDITION,
      })]);
      expect(allows(restore, 'ec2:StartInstances')).toEqual([expect.objectContaining({ Resource: [INSTANCES], Condition: DEFAULT_TAG_CONDITION })]);
      expect(allows(restore, 'autoscaling:ExitStandby')).toEqual([expect.objectContaining({ Condition: DEFAULT_TAG_CONDITION })]);
      expect(allows(restore, 'ec2:CreateImage').filter(s => s.Resource.includes(INSTANCES)))
        .toEqual([expect.objectContaining({ Condition: DEFAULT_TAG_CONDITION })]);
    });

    test('helper actions are conditioned on the workflow tag', () => {
      // GIVEN
      const helperCondition = { StringEquals: { [`aws:ResourceTag/${TAGS.workflow}`]: workflow.workflowId } };
      const restore = statementsOfFunctionRole(stack, 'WorkflowRestore');
      const attach = statementsOfFunctionRole(stack, 'WorkflowAttachToHelper');

      // THEN
      expect(allows(restore, 'ec2:TerminateInstances')).toEqual([expect.objectContaining({ Resource: [INSTANCES], Condition: helperCondition })]);
      // The volume moves target → helper in attach-to-helper, helper → target in the restore, and no other way.
      const onInstances = (statements: PlainStatement[], action: string) =>
        allows(statements, action).filter(s => s.Resource.includes(INSTANCES)).map(s => s.Condition);
      expect(onInstances(attach, 'ec2:DetachVolume')).toEqual([DEFAULT_TAG_CONDITION]);
      expect(onInstances(attach, 'ec2:AttachVolume')).toEqual([helperCondition]);
      expect(onInstances(restore, 'ec2:DetachVolume')).toEqual([helperCondition]);
      expect(onInstances(restore, 'ec2:AttachVolume')).toEqual([DEFAULT_TAG_CONDITION]);
    });

    test('UpdateAutoScalingGroup may change MinSize and nothing else, on groups carrying the target tag, in prepare-target and restore only', () => {
      for (const prefix of ['WorkflowPrepareTarget', 'WorkflowRestore']) {
        // GIVEN
        const [update, ...others] = allows(statementsOfFunctionRole(stack, prefix), 'autoscaling:UpdateAutoScalingGroup');

        // THEN
        expect(others).toEqual([]);
        expect(update.Resource).toEqual(['arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/*']);
        expect(update.Condition!.StringEquals).toEqual({ 'aws:ResourceTag/cdk-ec2-reset-access:allow-reset': ['true'] });
        expect(update.Condition!.Null).toMatchObject({
          'autoscaling:MinSize': 'false',
          'autoscaling:MaxSize': 'true',
          'autoscaling:LaunchConfigurationName': 'true',
          'autoscaling:LaunchTemplateVersionSpecified': 'true',
          'autoscaling:VPCZoneIdentifiers': 'true',
          'autoscaling:InstanceTypes': 'true',
        });
      }
      expect(allows(iamStatements(stack), 'autoscaling:UpdateAutoScalingGroup')).toHaveLength(2);
    });

    test('RunInstances is constrained to the helper subnets, security group, profile, type, IMDSv2, encrypted volumes, no public IP and Amazon images', () => {
      // GIVEN
      const launch = allows(statementsOfFunctionRole(stack, 'WorkflowLaunchHelper'), 'ec2:RunInstances');
      const bySid = Object.fromEntries(launch.map(s => [s.Sid, s]));

      // THEN
      expect(Object.keys(bySid).sort()).toEqual(['LaunchEncryptedVolumes', 'LaunchFromAmazonImages', 'LaunchHelperInstance',
        'LaunchInHelperSubnets', 'LaunchPrivateInterfaces', 'LaunchWithHelperSecurityGroup']);
      expect(bySid.LaunchHelperInstance.Resource).toEqual([INSTANCES]);
      expect(bySid.LaunchHelperInstance.Condition).toEqual({
        StringEquals: {
          [`aws:RequestTag/${TAGS.workflow}`]: workflow.workflowId,
          // The configured type and its documented fallbacks, exactly.
          'ec2:InstanceType': ['t3.medium', 't3a.medium', 'm5.large', 'm6i.large'],
          'ec2:InstanceProfile': expect.stringMatching(/^arn:aws:iam::123456789012:instance-profile\/WorkflowHelperInstanceProfile/),
          'ec2:MetadataHttpTokens': 'required',
        },
      });
      expect(bySid.LaunchFromAmazonImages).toMatchObject({
        Resource: ['arn:aws:ec2:us-east-1::image/*'], Condition: { StringEquals: { 'ec2:Owner': 'amazon' }, Bool: { 'ec2:Public': 'true' } },
      });
      expect(bySid.LaunchInHelperSubnets.Resource).toEqual([`${ARN}:subnet/subnet-aaaa`, `${ARN}:subnet/subnet-bbbb`]);
      expect(bySid.LaunchWithHelperSecurityGroup.Resource).toEqual([expect.stringMatching(new RegExp(`^${ARN}:security-group/${HELPER_SECURITY_GROUP_ID_PREFIX}[0-9A-F]{8}\\.GroupId$`))]);
      expect(bySid.LaunchEncryptedVolumes).toMatchObject({
        Resource: [VOLUMES], Condition: { Bool: { 'ec2:Encrypted': 'true' }, StringEquals: { [`aws:RequestTag/${TAGS.workflow}`]: workflow.workflowId } },
      });
      expect(bySid.LaunchPrivateInterfaces).toMatchObject({
        Resource: [`${ARN}:network-interface/*`], Condition: { Bool: { 'ec2:AssociatePublicIpAddress': 'false' } },
      });
    });

    test('CreateTags only at creation (RunInstances, CreateImage) with the workflow tag, or the root volume\'s mark', () => {
      const createTags = allows(iamStatements(stack), 'ec2:CreateTags');
      for (const s of createTags.filter(st => st.Sid !== 'MarkRootVolume')) {
        expect(s.Condition).toEqual({
          StringEquals: { 'ec2:CreateAction': expect.stringMatching(/^(RunInstances|CreateImage)$/), [`aws:RequestTag/${TAGS.workflow}`]: workflow.workflowId },
        });
        // Not on network interfaces (RunInstances tags the instance and its volumes only).
        expect(s.Resource.some(r => r.includes(':network-interface/'))).toBe(false);
      }
      expect(createTags.filter(st => st.Sid === 'MarkRootVolume').map(st => st.Resource)).toEqual([[VOLUMES]]);
    });

    test('iam:PassRole only for the helper role, only to EC2', () => {
      // GIVEN
      const passRole = allows(iamStatements(stack), 'iam:PassRole');

      // THEN
      expect(passRole).toEqual([expect.objectContaining({
        Resource: [expect.stringMatching(/^arn:aws:iam::123456789012:role\/WorkflowHelperRole/)],
        Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      })]);
      expect(passRole[0].policy).toMatch(/^WorkflowLaunchHelperRole/);
    });

    test('SendCommand: helper documents only on helpers, the online document only on targets, in two roles', () => {
      // GIVEN
      const helper = allows(statementsOfFunctionRole(stack, 'WorkflowSendHelperCommand'), 'ssm:SendCommand');
      const online = allows(statementsOfFunctionRole(stack, 'WorkflowSendOnlineReset'), 'ssm:SendCommand');
      const documents = (statements: PlainStatement[]) => statements.flatMap(s => s.Resource).filter(r => r.includes(':document/'));

      // THEN
      expect(documents(helper)).toEqual([
        'arn:aws:ssm:us-east-1::document/AWS-ConfigureAWSPackage', 'arn:aws:ssm:us-east-1::document/AWS-RunPowerShellScript',
      ]);
      expect(helper.find(s => s.Resource.includes(INSTANCES))!.Condition)
        .toEqual({ StringEquals: { [`ssm:resourceTag/${TAGS.workflow}`]: workflow.workflowId } });
      expect(documents(online)).toEqual(['arn:aws:ssm:us-east-1::document/AWSSupport-RunEC2RescueForWindowsTool']);
      expect(online.find(s => s.Resource.includes(INSTANCES))!.Condition)
        .toEqual({ StringEquals: { 'ssm:resourceTag/cdk-ec2-reset-access:allow-reset': ['true'] } });
      // No SendCommand anywhere else, on no other document.
      const all = allows(iamStatements(stack), 'ssm:SendCommand');
      expect(all.every(s => /^Workflow(SendHelperCommand|SendOnlineReset)Role/.test(s.policy))).toBe(true);
    });

    test('helper images: exactly the configured public parameters', () => {
      expect(allows(statementsOfFunctionRole(stack, 'WorkflowLaunchHelper'), 'ssm:GetParameter')[0].Resource).toEqual([
        'arn:aws:ssm:us-east-1::parameter/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base',
        'arn:aws:ssm:us-east-1::parameter/aws/service/ami-windows-latest/Windows_Server-2019-English-Full-Base',
        'arn:aws:ssm:us-east-1::parameter/aws/service/ami-windows-latest/Windows_Server-2025-English-Full-Base',
      ]);
    });

    test('each step function has a role of its own, with only its calls', () => {
      // GIVEN
      const functions = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { [WORKFLOW_CONFIG_ENV]: Match.anyValue() } } } });
      const roles = Object.values(functions).map((f: any) => f.Properties.Role['Fn::GetAtt'][0]);
      const actionsOf = (prefix: string) => [...new Set(statementsOfFunctionRole(stack, prefix)
        .flatMap(s => s.Action).filter(a => !a.startsWith('logs:') && !a.startsWith('xray:')))].sort();

      // THEN
      expect(roles).toHaveLength(13);
      expect(new Set(roles).size).toBe(13);
      expect(actionsOf('WorkflowAcquireLock')).toEqual(['dynamodb:PutItem']);
      expect(actionsOf('WorkflowLoadJournal')).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
      expect(actionsOf('WorkflowCheckPassword')).toEqual(['ec2:DescribeInstances', 'ec2:GetPasswordData']);
      expect(actionsOf('WorkflowCheckCommand')).toEqual(['ssm:GetCommandInvocation']);
      expect(actionsOf('WorkflowCheckHelperReady')).toEqual(['ec2:DescribeInstances', 'ssm:DescribeInstanceInformation']);
      expect(actionsOf('WorkflowPreflight')).toEqual(['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances',
        'dynamodb:GetItem', 'ec2:DescribeImages', 'ec2:DescribeInstanceAttribute', 'ec2:DescribeInstanceTypeOfferings', 'ec2:DescribeInstanceTypes',
        'ec2:DescribeInstances', 'ec2:DescribeVolumes', 'iam:GetInstanceProfile', 'iam:SimulatePrincipalPolicy', 'kms:DescribeKey',
        'ssm:DescribeInstanceInformation']);
      expect(actionsOf('WorkflowPrepareTarget')).toEqual(['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances',
        'autoscaling:EnterStandby', 'autoscaling:UpdateAutoScalingGroup', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'ec2:CreateTags', 'ec2:DescribeInstances',
        'ec2:DescribeVolumes', 'ec2:ModifyInstanceAttribute', 'ec2:StopInstances']);
      expect(actionsOf('WorkflowCreateBackupImage')).toEqual(['ec2:CreateImage', 'ec2:CreateTags', 'ec2:DescribeImages']);
      expect(actionsOf('WorkflowSendHelperCommand')).toEqual(['ssm:ListCommands', 'ssm:SendCommand']);
      expect(actionsOf('WorkflowLaunchHelper')).toEqual(['ec2:CreateTags', 'ec2:DescribeImages', 'ec2:DescribeInstances', 'ec2:RunInstances',
        'iam:PassRole', 'ssm:GetParameter']);
      expect(actionsOf('WorkflowAttachToHelper')).toEqual(['ec2:AttachVolume', 'ec2:DescribeImages', 'ec2:DescribeInstances', 'ec2:DescribeVolumes',
        'ec2:DetachVolume']);
      expect(actionsOf('WorkflowRestore')).toEqual(['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances',
        'autoscaling:ExitStandby', 'autoscaling:UpdateAutoScalingGroup', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem',
        'ec2:AttachVolume', 'ec2:CreateImage', 'ec2:CreateTags', 'ec2:DeleteTags', 'ec2:DescribeImages', 'ec2:DescribeInstances', 'ec2:DescribeVolumes',
        'ec2:DetachVolume', 'ec2:ModifyInstanceAttribute', 'ec2:StartInstances', 'ec2:StopInstances', 'ec2:TerminateInstances',
        'ssm:CancelCommand', 'ssm:ListCommands']);
      // The restore stops helpers only by the workflow tag, targets only by the target tag.
      const restore = statementsOfFunctionRole(stack, 'WorkflowRestore');
      expect(allows(restore, 'ec2:StopInstances').map(s => s.Condition)).toEqual([
        { StringEquals: { [`aws:ResourceTag/${TAGS.workflow}`]: workflow.workflowId } }, DEFAULT_TAG_CONDITION,
      ]);
      // Each writes its own log group, and no other.
      for (const [id, fn] of Object.entries(functions) as Array<[string, any]>) {
        const prefix = id.replace(/[0-9A-F]{8}$/, '');
        const logGroupId = fn.Properties.LoggingConfig.LogGroup.Ref as string;
        expect(allows(statementsOfFunctionRole(stack, prefix), 'logs:PutLogEvents'))
          .toEqual([expect.objectContaining({ Resource: [`arn:aws:cloudformation:us-east-1:123456789012:AWS::Logs::LogGroup/${logGroupId}`] })]);
      }
      // DynamoDB only on the lock table.
      for (const s of allows(iamStatements(stack), 'dynamodb:GetItem')) {
        expect(s.Resource).toEqual([expect.stringMatching(/^arn:aws:dynamodb:us-east-1:123456789012:table\/WorkflowLockTable/)]);
      }
    });

    test('with allowAnyInstance, target actions are not tag-conditioned but stay on instance ARNs', () => {
      // GIVEN
      const { stack: any } = workflowStack({ allowAnyInstance: true });

      // THEN
      const stop = allows(statementsOfFunctionRole(any, 'WorkflowPrepareTarget'), 'ec2:StopInstances');
      expect(stop).toEqual([expect.objectContaining({ Resource: [INSTANCES], Condition: undefined })]);
      const config = workflowConfig(any);
      expect(config.targetTag).toBeUndefined();
    });

    test('a custom target tag scopes IAM and is passed to the steps', () => {
      // GIVEN
      const { stack: custom } = workflowStack({ targetTag: { key: 'team', values: ['ops', 'sre'] } });

      // THEN
      expect(allows(statementsOfFunctionRole(custom, 'WorkflowCheckPassword'), 'ec2:GetPasswordData')[0].Condition)
        .toEqual({ StringEquals: { 'aws:ResourceTag/team': ['ops', 'sre'] } });
      expect(workflowConfig(custom).targetTag).toEqual({ key: 'team', values: ['ops', 'sre'] });
    });

    test('allowed volume keys: EC2 may use them on the workflow\'s behalf, and only through EC2', () => {
      // GIVEN
      const stackWithKey = new Stack(new App(), 'KeyStack', { env: ENV });
      const key = kms.Key.fromKeyArn(stackWithKey, 'Key', 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab');
      new ResetWorkflow(stackWithKey, 'Workflow', { ...helperNetwork(stackWithKey), allowedVolumeKeys: [key] });

      // THEN
      const statements = statementsOfFunctionRole(stackWithKey, 'WorkflowRestore');
      expect(allows(statements, 'kms:CreateGrant')).toEqual([expect.objectContaining({
        Resource: [key.keyArn],
        Condition: { StringEquals: { 'kms:ViaService': 'ec2.us-east-1.amazonaws.com' }, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      })]);
      expect(allows(statements, 'kms:Decrypt')).toEqual([expect.objectContaining({
        Resource: [key.keyArn], Condition: { StringEquals: { 'kms:ViaService': 'ec2.us-east-1.amazonaws.com' } },
      })]);
      expect(workflowConfig(stackWithKey).allowedVolumeKeyArns).toEqual([key.keyArn]);
      // Only the steps that attach or start get the key (EC2 uses it then), and only for a grant and Decrypt.
      const withKey = ['WorkflowPreflight', 'WorkflowAcquireLock', 'WorkflowPrepareTarget', 'WorkflowCreateBackupImage', 'WorkflowLaunchHelper',
        'WorkflowCheckHelperReady', 'WorkflowSendHelperCommand', 'WorkflowSendOnlineReset', 'WorkflowCheckCommand', 'WorkflowAttachToHelper',
        'WorkflowRestore', 'WorkflowCheckPassword', 'WorkflowLoadJournal']
        .filter(prefix => statementsOfFunctionRole(stackWithKey, prefix).some(s => s.Resource.includes(key.keyArn) && s.Action.some(a => a !== 'kms:DescribeKey')));
      expect(withKey).toEqual(['WorkflowAttachToHelper', 'WorkflowRestore']);
      expect([...new Set(statements.filter(s => s.Resource.includes(key.keyArn)).flatMap(s => s.Action))].sort()).toEqual(['kms:CreateGrant', 'kms:Decrypt']);
    });
  });

  describe('configuration of the steps', () => {
    test('every step function gets the same WorkflowConfig', () => {
      // GIVEN
      const config = workflowConfig(stack);

      // THEN
      expect(config).toEqual({
        workflowId: workflow.workflowId,
        lockTableName: expect.stringMatching(/^WorkflowLockTable/),
        subnetsByAz: { 'us-east-1a': 'subnet-aaaa', 'us-east-1b': 'subnet-bbbb' },
        helperSecurityGroupId: expect.stringMatching(new RegExp(`^${HELPER_SECURITY_GROUP_ID_PREFIX}[0-9A-F]{8}\\.GroupId$`)),
        helperInstanceProfileArn: expect.stringMatching(/^arn:aws:iam::123456789012:instance-profile\/WorkflowHelperInstanceProfile/),
        helperInstanceTypes: ['t3.medium', 't3a.medium', 'm5.large', 'm6i.large'],
        helperImageParameters: [
          '/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base',
          '/aws/service/ami-windows-latest/Windows_Server-2019-English-Full-Base',
          '/aws/service/ami-windows-latest/Windows_Server-2025-English-Full-Base',
        ],
        targetTag: { key: 'cdk-ec2-reset-access:allow-reset', values: ['true'] },
        allowedVolumeKeyArns: [],
        imageNamePrefix: 'ResetAccess',
        onlineKmsKey: 'alias/aws/ssm',
        lockTtlSeconds: 7200 + 3600,
        backupImageRetentionDays: 14,
      } satisfies WorkflowConfig);
      // Every step function; the backup image retention function and the reconciler have settings of their own.
      const environments = Object.values(template.findResources('AWS::Lambda::Function'))
        .map((f: any) => f.Properties.Environment?.Variables?.[WORKFLOW_CONFIG_ENV]).filter(e => e !== undefined);
      expect(environments).toHaveLength(13);
      expect(environments.every(e => JSON.stringify(e) === JSON.stringify(environments[0]))).toBe(true);
    });

    test('the workflow id is stable across synths and differs between two workflows', () => {
      // GIVEN
      const again = workflowStack().workflow;
      const other = new ResetWorkflow(stack, 'Other', helperNetwork(new Stack(new App(), 'Net', { env: ENV })));

      // THEN
      expect(again.workflowId).toBe(workflow.workflowId);
      expect(other.workflowId).not.toBe(workflow.workflowId);
    });

    test('subnets of an environment-agnostic VPC map their AZ tokens to subnet ids', () => {
      // GIVEN
      const agnostic = new Stack(new App(), 'Agnostic');

      // WHEN
      new ResetWorkflow(agnostic, 'Workflow', { rescueVpc: new RescueVpc(agnostic, 'Rescue') });

      // THEN
      const steps = Object.values(Template.fromStack(agnostic).findResources('AWS::Lambda::Function')) as any[];
      const fn = steps.find(f => f.Properties.Environment?.Variables?.[WORKFLOW_CONFIG_ENV]);
      const parts = fn.Properties.Environment.Variables[WORKFLOW_CONFIG_ENV]['Fn::Join'][1] as unknown[];
      expect(parts).toEqual(expect.arrayContaining([{ 'Fn::Select': [0, { 'Fn::GetAZs': '' }] }, { Ref: expect.stringMatching(/^RescueVpcRescueSubnet1Subnet/) }]));
    });

    test('a customer key for the online method is passed by key id', () => {
      // GIVEN
      const keyStack = new Stack(new App(), 'KeyStack', { env: ENV });
      const key = kms.Key.fromKeyArn(keyStack, 'Key', 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab');

      // WHEN
      new ResetWorkflow(keyStack, 'Workflow', { ...helperNetwork(keyStack), onlineKmsKey: key });

      // THEN
      expect(workflowConfig(keyStack).onlineKmsKey).toBe('1234abcd-12ab-34cd-56ef-1234567890ab');
    });
  });

  describe('the reconciler', () => {
    test('runs every five minutes, with its own role: scan and update the lock table, read both machines\' executions, list and start the restore machine', () => {
      // GIVEN
      const reconcilerId = stack.getLogicalId(workflow.reconciler.node.defaultChild as any);
      const statements = statementsOfFunctionRole(stack, 'WorkflowReconciler').filter(s => !s.Action.some(a => a.startsWith('logs:') || a.startsWith('xray:')));
      const bySid = Object.fromEntries(statements.map(s => [s.Sid, s]));
      const tableArn = expect.stringMatching(/^arn:aws:dynamodb:us-east-1:123456789012:table\/WorkflowLockTable/);

      // THEN
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(5 minutes)',
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [reconcilerId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 } })],
      });
      expect(Object.keys(bySid).sort()).toEqual(['FollowExecutions', 'HoldJournals', 'ReadJournals', 'StartRestores']);
      expect(bySid.ReadJournals).toMatchObject({ Action: ['dynamodb:Scan'], Resource: [tableArn] });
      expect(bySid.HoldJournals).toMatchObject({ Action: ['dynamodb:UpdateItem'], Resource: [tableArn] });
      // Never DeleteItem: only a restore releases a lock.
      expect(statements.flatMap(s => s.Action)).not.toContain('dynamodb:DeleteItem');
      expect(bySid.StartRestores).toMatchObject({
        Action: ['states:ListExecutions', 'states:StartExecution'], Resource: [expect.stringMatching(/^arn:aws:states:us-east-1:123456789012:stateMachine:WorkflowRestoreStateMachine[0-9A-F]{8}$/)],
      });
      expect(bySid.FollowExecutions.Resource).toEqual([
        expect.stringMatching(/^arn:aws:states:us-east-1:123456789012:execution:WorkflowResetStateMachine[^:]*:\*$/),
        expect.stringMatching(/^arn:aws:states:us-east-1:123456789012:execution:WorkflowRestoreStateMachine[^:]*:\*$/),
      ]);
      expect(bySid.FollowExecutions.Action).toEqual(['states:DescribeExecution']);
    });

    test('knows the lock table, the restore machine and how long to hold a journal', () => {
      const fn = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { RESET_RECONCILER_CONFIG: Match.anyValue() } } } });
      expect(Object.keys(fn)).toHaveLength(1);
      const raw = Object.values(fn)[0].Properties.Environment.Variables.RESET_RECONCILER_CONFIG;
      const config = JSON.parse(resolveCfnValue(raw, template.toJSON().Resources));
      expect(config).toEqual({
        lockTableName: expect.stringMatching(/WorkflowLockTable/),
        restoreStateMachineArn: expect.stringMatching(/WorkflowRestoreStateMachine/),
        holdSeconds: 7200 + 3600,
        workflowId: workflow.workflowId,
      });
    });

    test('its give-up metric is the RestoresAbandoned metric of this workflow', () => {
      const metric = workflow.metricRestoresAbandoned();
      expect(metric.namespace).toBe('cdk-ec2-reset-access');
      expect(metric.metricName).toBe('RestoresAbandoned');
      expect(metric.dimensions).toEqual({ service: 'reset-reconciler', WorkflowId: workflow.workflowId });
      expect(metric.period.toMinutes()).toBe(5);
    });
  });

  describe('resources', () => {
    test('the lock table: instanceId key, TTL, on demand, point-in-time recovery, deleted with the stack', () => {
      template.hasResource('AWS::DynamoDB::Table', {
        Properties: {
          KeySchema: [{ AttributeName: 'instanceId', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'instanceId', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          // The AWS managed key aws/dynamodb (AWS Control Tower CT.DYNAMODB.PR.2), unless encryptionKey is given.
          SSESpecification: { SSEEnabled: true },
        },
        DeletionPolicy: 'Delete',
      });
    });

    test('the step roles are on ROLE_PATH, which ResetTagGuard exempts for tag-on-create', () => {
      const roles = template.findResources('AWS::IAM::Role');
      const stepRoleIds = Object.values(workflow.functions).map((fn: lambda.IFunction) => stack.getLogicalId(fn.role!.node.defaultChild as any));
      expect(stepRoleIds).toHaveLength(13);
      for (const id of stepRoleIds) expect({ id, path: roles[id].Properties.Path }).toEqual({ id, path: '/cdk-ec2-reset-access/' });
    });

    describe('encryptionKey', () => {
      let keyed: Stack;
      let key: kms.Key;
      let keyedTemplate: Template;

      beforeEach(() => {
        keyed = new Stack(new App(), 'KeyStack', { env: ENV });
        key = new kms.Key(keyed, 'Key');
        new ResetWorkflow(keyed, 'Workflow', { ...helperNetwork(keyed), encryptionKey: key });
        keyedTemplate = Template.fromStack(keyed);
      });

      test('encrypts every log group and the lock table with the key, whose policy admits CloudWatch Logs', () => {
        // THEN
        const keyArn = keyed.resolve(key.keyArn);
        const logGroups = Object.entries(keyedTemplate.findResources('AWS::Logs::LogGroup')) as Array<[string, any]>;
        // 13 steps, 2 state machines, the backup image retention, the reconciler.
        expect(logGroups).toHaveLength(17);
        for (const [id, logGroup] of logGroups) expect({ id, key: logGroup.Properties.KmsKeyId }).toEqual({ id, key: keyArn });
        keyedTemplate.hasResourceProperties('AWS::DynamoDB::Table', {
          SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn },
        });
        keyedTemplate.hasResourceProperties('AWS::KMS::Key', {
          KeyPolicy: {
            Statement: Match.arrayWith([Match.objectLike({
              Sid: 'CloudWatchLogsEncryptLogGroups',
              Principal: { Service: 'logs.us-east-1.amazonaws.com' },
              Condition: {
                ArnLike: {
                  'kms:EncryptionContext:aws:logs:arn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:us-east-1:123456789012:log-group:*']] },
                },
              },
            })]),
          },
        });
      });

      test('the steps that use the lock table may only decrypt its key, through DynamoDB; the others not at all', () => {
        // WHEN
        const keyStatements = (prefix: string) => statementsOfFunctionRole(keyed, prefix).filter(st => st.Sid === 'DecryptLockTableKeyThroughDynamoDb');

        // THEN: what DynamoDB asks KMS for as the caller (the table key is generated by DynamoDB, the grants by CloudFormation)
        for (const step of ['WorkflowPreflight', 'WorkflowAcquireLock', 'WorkflowPrepareTarget', 'WorkflowRestore', 'WorkflowLoadJournal', 'WorkflowReconciler']) {
          expect({ step, statements: keyStatements(step).map(st => ({ Action: [st.Action].flat(), Condition: st.Condition })) }).toEqual({
            step,
            statements: [{
              Action: ['kms:Decrypt'],
              Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com' } },
            }],
          });
        }
        for (const step of ['WorkflowLaunchHelper', 'WorkflowCreateBackupImage', 'WorkflowCheckPassword']) {
          expect({ step, statements: keyStatements(step) }).toEqual({ step, statements: [] });
        }
      });
    });

    test('the helper role: SSM core, the Region\'s SSM buckets, and an instance profile', () => {
      // THEN
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] },
        ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonSSMManagedInstanceCore']] }],
      });
      const helperRoleId = stack.getLogicalId(workflow.helperRole.node.defaultChild as iam.CfnRole);
      // The role's inline policy and its DefaultPolicy both carry the role's path (logical id without the hash).
      const download = iamStatements(stack).find(s => s.policy.startsWith(helperRoleId.slice(0, -8)) && s.Action.includes('s3:GetObject'))!;
      expect(download.Action).toEqual(['s3:GetObject']);
      expect(download.Resource).toEqual(expect.arrayContaining(['arn:aws:s3:::amazon-ssm-packages-us-east-1/*', 'arn:aws:s3:::us-east-1-birdwatcher-prod/*']));
      template.hasResourceProperties('AWS::IAM::InstanceProfile', { Roles: [{ Ref: stack.getLogicalId(workflow.helperRole.node.defaultChild as iam.CfnRole) }] });
    });

    test('both state machines: STANDARD, traced, logging ALL events without execution data', () => {
      // THEN
      const machines = template.findResources('AWS::StepFunctions::StateMachine');
      expect(Object.keys(machines)).toHaveLength(2);
      for (const machine of Object.values(machines) as any[]) {
        expect(machine.Properties.StateMachineType).toBe('STANDARD');
        expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
        expect(machine.Properties.LoggingConfiguration).toEqual({
          Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } } }],
          IncludeExecutionData: false,
          Level: 'ALL',
        });
      }
      // 13 step functions, 2 state machines, the backup image retention function, the reconciler.
      template.resourceCountIs('AWS::Logs::LogGroup', 13 + 2 + 1 + 1);
      template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    });

    test('the execution timeout is configurable', () => {
      // GIVEN
      const { stack: custom } = workflowStack({ executionTimeout: Duration.minutes(90) });

      // THEN
      expect(stateMachineDefinition(custom, 'WorkflowResetStateMachine').TimeoutSeconds).toBe(5400);
      // The lock outlives the longer of the reset and the restore (2 h), plus an hour.
      expect(workflowConfig(custom).lockTtlSeconds).toBe(7200 + 3600);
      expect(workflowConfig(workflowStack({ executionTimeout: Duration.hours(5) }).stack).lockTtlSeconds).toBe(5 * 3600 + 3600);
    });

    test('the restore rule starts the restore machine for aborted, timed-out and failed executions of the reset machine', () => {
      // THEN
      const resetId = stack.getLogicalId(workflow.stateMachine.node.defaultChild as any);
      const restoreId = stack.getLogicalId(workflow.restoreStateMachine.node.defaultChild as any);
      const queueId = stack.getLogicalId(workflow.restoreDeadLetterQueue.node.defaultChild as any);
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          'source': ['aws.states'],
          'detail-type': ['Step Functions Execution Status Change'],
          'detail': { stateMachineArn: [{ Ref: resetId }], status: ['ABORTED', 'TIMED_OUT', 'FAILED'] },
        },
        Targets: [{
          Arn: { Ref: restoreId },
          Id: 'Target0',
          RoleArn: Match.anyValue(),
          InputTransformer: {
            InputPathsMap: { 'detail-executionArn': '$.detail.executionArn', 'detail-input': '$.detail.input' },
            InputTemplate: '{"executionArn":<detail-executionArn>,"input":<detail-input>}',
          },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 20, MaximumEventAgeInSeconds: 21600 },
        }],
      });
      template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    });

    test('the state machines may invoke exactly their own functions', () => {
      // GIVEN
      const invokes = allows(iamStatements(stack), 'lambda:InvokeFunction');
      const restoreMachineRole = invokes.filter(s => s.policy.startsWith('WorkflowRestoreStateMachineRole'));

      // THEN
      const functions = new Set(restoreMachineRole.flatMap(s => s.Resource).map(r => r.replace(/:\*$/, '').split(':function:')[1]));
      expect([...functions].map(f => f.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['WorkflowLoadJournal', 'WorkflowRestore']);
    });
  });

  describe('grants', () => {
    test('grantStartReset: start executions of the reset machine, watch and stop them, and follow the restore machine\'s', () => {
      // GIVEN
      ({ stack, workflow } = workflowStack());
      const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });

      // WHEN
      workflow.grantStartReset(operator);

      // THEN
      const resetId = stack.getLogicalId(workflow.stateMachine.node.defaultChild as any);
      const restoreId = stack.getLogicalId(workflow.restoreStateMachine.node.defaultChild as any);
      const executionsOf = (id: string) =>
        ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:us-east-1:123456789012:execution:', { 'Fn::GetAtt': [id, 'Name'] }, ':*']] });
      const policy = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
        .find((p: any) => p.Properties.Roles[0].Ref.startsWith('Operator')) as any;
      expect(policy.Properties.PolicyDocument.Statement).toEqual([
        { Effect: 'Allow', Action: ['states:StartExecution', 'states:ListExecutions', 'states:ListTagsForResource'], Resource: { Ref: resetId } },
        {
          Effect: 'Allow',
          Action: ['states:DescribeExecution', 'states:StopExecution', 'states:GetExecutionHistory'],
          Resource: executionsOf(resetId),
        },
        // The restore machine: list and read its executions, never start or stop them.
        { Effect: 'Allow', Action: 'states:ListExecutions', Resource: { Ref: restoreId } },
        { Effect: 'Allow', Action: ['states:DescribeExecution', 'states:GetExecutionHistory'], Resource: executionsOf(restoreId) },
      ]);
    });

    test('the reset machine carries the restore machine\'s ARN in a tag, without a dependency cycle', () => {
      // GIVEN
      ({ stack, workflow } = workflowStack());
      const resetId = stack.getLogicalId(workflow.stateMachine.node.defaultChild as any);
      const restoreId = stack.getLogicalId(workflow.restoreStateMachine.node.defaultChild as any);

      // THEN
      expect(ResetWorkflow.RESTORE_STATE_MACHINE_TAG_KEY).toBe('cdk-ec2-reset-access:restore-state-machine-arn');
      const resources = Template.fromStack(stack).toJSON().Resources;
      expect(resources[resetId].Properties.Tags).toEqual([{ Key: ResetWorkflow.RESTORE_STATE_MACHINE_TAG_KEY, Value: { Ref: restoreId } }]);
      // Only the reset machine: not the restore machine, not the roles.
      const tagged = Object.entries(resources).filter(([, r]: [string, any]) =>
        (r.Properties?.Tags ?? []).some((t: any) => t.Key === ResetWorkflow.RESTORE_STATE_MACHINE_TAG_KEY)).map(([id]) => id);
      expect(tagged).toEqual([resetId]);
      // Synthesizing at all proves there is no cycle; the restore machine does not depend on the reset machine.
      expect(JSON.stringify(resources[restoreId])).not.toContain(resetId);
    });

    test('grantReadPasswords: the password parameters and GetPasswordData of targets only', () => {
      // GIVEN
      ({ stack, workflow } = workflowStack());
      const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });

      // WHEN
      workflow.grantReadPasswords(operator);

      // THEN
      const statements = iamStatements(stack).filter(s => s.policy.startsWith('OperatorDefaultPolicy'));
      expect(statements).toEqual([
        expect.objectContaining({ Action: ['ssm:GetParameter'], Resource: ['arn:aws:ssm:us-east-1:123456789012:parameter/EC2Rescue/Passwords/i-*'] }),
        expect.objectContaining({ Action: ['ec2:GetPasswordData'], Resource: [INSTANCES], Condition: DEFAULT_TAG_CONDITION }),
      ]);
    });

    test('grantReadPasswords adds kms:Decrypt on the online customer key', () => {
      // GIVEN
      const keyStack = new Stack(new App(), 'KeyStack', { env: ENV });
      const key = new kms.Key(keyStack, 'Key', { enableKeyRotation: true });
      const keyed = new ResetWorkflow(keyStack, 'Workflow', { ...helperNetwork(keyStack), onlineKmsKey: key });
      const operator = new iam.Role(keyStack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });

      // WHEN
      keyed.grantReadPasswords(operator);

      // THEN
      const statements = iamStatements(keyStack).filter(s => s.policy.startsWith('OperatorDefaultPolicy'));
      expect(allows(statements, 'kms:Decrypt')).toHaveLength(1);
    });
    test('grantDeletePasswords: ssm:DeleteParameter on the password parameters of this account and Region, nothing else', () => {
      // GIVEN
      ({ stack, workflow } = workflowStack());
      const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });

      // WHEN
      workflow.grantDeletePasswords(operator);

      // THEN
      const statements = iamStatements(stack).filter(s => s.policy.startsWith('OperatorDefaultPolicy'));
      expect(statements).toEqual([
        expect.objectContaining({ Effect: 'Allow', Action: ['ssm:DeleteParameter'], Resource: ['arn:aws:ssm:us-east-1:123456789012:parameter/EC2Rescue/Passwords/i-*'] }),
      ]);
    });

    test('grantReadPasswords does not allow deleting', () => {
      // GIVEN
      ({ stack, workflow } = workflowStack());
      const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });

      // WHEN
      workflow.grantReadPasswords(operator);

      // THEN
      const statements = iamStatements(stack).filter(s => s.policy.startsWith('OperatorDefaultPolicy'));
      expect(allows(statements, 'ssm:DeleteParameter')).toEqual([]);
    });
  });

  describe('invalid props', () => {
    const cases: Array<[string, (stack: Stack) => Partial<ResetWorkflowProps>, RegExp]> = [
      ['targetTag and allowAnyInstance', () => ({ targetTag: { key: 'k', values: ['v'] }, allowAnyInstance: true }), /either targetTag .* or allowAnyInstance/],
      ['an empty tag value list', () => ({ targetTag: { key: 'k', values: [] } }), /targetTag.values is empty/],
      ['an aws: tag key', () => ({ targetTag: { key: 'aws:cloudformation:stack-name', values: ['x'] } }), /targetTag.key .* not starting with "aws:"/],
      ['an Arm helper', () => ({ helperInstanceType: new ec2.InstanceType('t4g.medium') }), /helperInstanceType t4g.medium is not x86_64/],
      ['a helper image outside the public Windows parameters', () => ({ helperImageParameters: ['/my/ami'] }), /helperImageParameters: "\/my\/ami"/],
      ['no helper image', () => ({ helperImageParameters: [] }), /helperImageParameters is empty/],
      ['an image prefix AMI names refuse', () => ({ imageNamePrefix: 'bad*prefix' }), /imageNamePrefix "bad\*prefix"/],
      ['a short execution timeout', () => ({ executionTimeout: Duration.minutes(10) }), /executionTimeout is 10 minutes.*at least 30 minutes/],
      ['both online key props', s => ({ onlineKmsKey: new kms.Key(s, 'K'), onlineKmsKeyAlias: 'alias/x' }), /either onlineKmsKey or onlineKmsKeyAlias/],
      ['a key ARN as alias', () => ({ onlineKmsKeyAlias: 'arn:aws:kms:us-east-1:123456789012:alias/x' }), /onlineKmsKeyAlias .* rejects key ARNs/],
      ['a subnet without its AZ', s => helperNetwork(s, [ec2.Subnet.fromSubnetId(s, 'NoAz', 'subnet-1')]), /Add the availabilityZone when importing using Subnet.fromSubnetAttributes/],
      ['two subnets in one AZ', s => helperNetwork(s,
        ['subnet-1', 'subnet-2'].map(id => ec2.Subnet.fromSubnetAttributes(s, id, { subnetId: id, availabilityZone: 'us-east-1a' }))), /two subnets in us-east-1a/],
    ];

    test.each(cases)('refuses %s', (_name, props, message) => {
      // GIVEN
      const fresh = new Stack(new App(), 'Fresh', { env: ENV });

      // THEN
      expect(() => {
        const given = props(fresh);
        new ResetWorkflow(fresh, 'Workflow', { ...(given.rescueVpc ? {} : helperNetwork(fresh)), ...given } as ResetWorkflowProps);
      }).toThrow(message);
    });
  });

  describe('props that cannot work get an error named for what is wrong', () => {
    const cases: Array<[string, Partial<ResetWorkflowProps>, string, RegExp]> = [
      ['an empty target tag value, which would match every instance carrying the key',
        { targetTag: { key: 'team', values: ['ops', ''] } }, 'TargetTagValueEmpty',
        /targetTag.values contains "": an empty value would allow resetting every instance tagged "team" with no value/],
      ['a target tag value longer than EC2 allows',
        { targetTag: { key: 'team', values: ['x'.repeat(257)] } }, 'TargetTagValueTooLong', /257 characters; EC2 tag values have at most 256/],
      ['an empty image name prefix', { imageNamePrefix: '' }, 'ImageNamePrefixEmpty', /imageNamePrefix is empty/],
      ['an image name prefix too long for an AMI name',
        { imageNamePrefix: 'P'.repeat(61) }, 'ImageNamePrefixTooLong', /imageNamePrefix is 61 characters long; it may have at most 60/],
      ['an image name prefix with characters AMI names refuse',
        { imageNamePrefix: 'ops#team*' }, 'ImageNamePrefixInvalidCharacters', /contains "#", "\*", which AMI names do not allow/],
    ];

    test.each(cases)('%s', (_name, props, name, message) => {
      // GIVEN
      const build = () => {
        const fresh = new Stack(new App(), 'Fresh', { env: ENV });
        return new ResetWorkflow(fresh, 'Workflow', { ...helperNetwork(fresh), ...props } as ResetWorkflowProps);
      };

      // THEN
      expect(build).toThrow(expect.objectContaining({ name }));
      expect(build).toThrow(message);
    });

    test('the limits themselves are accepted', () => {
      // GIVEN
      const fresh = new Stack(new App(), 'Fresh', { env: ENV });

      // WHEN
      const atLimits = new ResetWorkflow(fresh, 'Workflow', {
        ...helperNetwork(fresh), imageNamePrefix: 'P'.repeat(60), targetTag: { key: 'team', values: ['x'.repeat(256)] },
      } as ResetWorkflowProps);

      // THEN
      expect(atLimits.targetTag?.values).toEqual(['x'.repeat(256)]);
    });
  });

  test('passes cdk-nag AwsSolutions with every acknowledgement reasoned', () => {
    // GIVEN / WHEN
    const findings = awsSolutionsFindingsFor(s => {
      const key = new kms.Key(s, 'VolumeKey', { enableKeyRotation: true });
      const workflowUnderNag = new ResetWorkflow(s, 'Workflow', { ...helperNetwork(s), allowedVolumeKeys: [key] });
      const operator = new iam.Role(s, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
      workflowUnderNag.grantStartReset(operator);
      workflowUnderNag.grantReadPasswords(operator);
      workflowUnderNag.grantDeletePasswords(operator);
    }, { env: ENV });

    // THEN
    expect(findings).toEqual([]);
  });

  test('matches the snapshot', () => {
    expect(maskedTemplate(stack)).toMatchSnapshot();
  });
});

/** The WorkflowConfig of the stack's first step function, resolved and parsed. */
function workflowConfig(stack: Stack): WorkflowConfig {
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, any>;
  const fn = Object.values(resources).find(r => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.[WORKFLOW_CONFIG_ENV]);
  return JSON.parse(resolveCfnValue(fn.Properties.Environment.Variables[WORKFLOW_CONFIG_ENV], resources));
}

describe('ResetWorkflow with on-demand endpoints (RescueEndpoints.onDemand(), the default)', () => {
  let stack: Stack;
  let workflow: ResetWorkflow;

  beforeEach(() => {
    stack = new Stack(new App(), 'TestStack', { env: ENV });
    workflow = new ResetWorkflow(stack, 'Workflow', onDemandNetwork(stack));
  });

  const SERVICES = ['com.amazonaws.us-east-1.ssm', 'com.amazonaws.us-east-1.ssmmessages', 'com.amazonaws.us-east-1.ec2messages'];

  test('the helper branch requests the endpoints, launches the helper, then waits for them before the helper\'s readiness', () => {
    // GIVEN
    const definition = stateMachineDefinition(stack, 'WorkflowResetStateMachine');
    const helperBranch = definition.States.Prepare.Branches[1];

    // THEN
    expect(helperBranch.StartAt).toBe('OpenEndpoints');
    expect(helperBranch.States.OpenEndpoints.Next).toBe('LaunchHelper');
    expect(helperBranch.States.LaunchHelper.Next).toBe('CheckEndpointsStart');
    expect(helperBranch.States['CheckEndpointsDone?'].Choices[0].Next).toBe('CheckHelperReadyStart');
    // The poll calls the same function as the request.
    expect(helperBranch.States.CheckEndpoints.Resource).toEqual(helperBranch.States.OpenEndpoints.Resource);
  });

  test('the configuration names the VPC, the endpoints\' security group, the services and the grace period', () => {
    const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))
      .find((f: any) => f.Properties.Environment?.Variables?.[WORKFLOW_CONFIG_ENV]) as any;
    const resources = Template.fromStack(stack).toJSON().Resources;
    const config = JSON.parse(resolveCfnValue(fn.Properties.Environment.Variables[WORKFLOW_CONFIG_ENV], resources));
    expect(config.onDemandEndpoints).toEqual({
      vpcId: 'vpc-0123456789abcdef0', securityGroupId: expect.any(String), serviceNames: SERVICES, gracePeriodSeconds: 900,
    });
  });

  test('creating endpoints is tag-scoped, limited to the three services, and to the rescue VPC, its subnets and security group', () => {
    // GIVEN
    const statements = statementsOfFunctionRole(stack, 'WorkflowOpenEndpoints');
    const creates = allows(statements, 'ec2:CreateVpcEndpoint');

    // THEN
    expect(creates.find(s => s.Resource.includes('arn:aws:ec2:us-east-1:123456789012:vpc-endpoint/*'))!.Condition).toEqual({
      StringEquals: { 'aws:RequestTag/cdk-ec2-reset-access:workflow': workflow.workflowId, 'ec2:VpceServiceName': SERVICES },
    });
    const others = creates.filter(s => !s.Resource.some(r => r.endsWith(':vpc-endpoint/*'))).flatMap(s => s.Resource);
    expect(others).toEqual([
      'arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0123456789abcdef0',
      'arn:aws:ec2:us-east-1:123456789012:subnet/subnet-aaaa',
      'arn:aws:ec2:us-east-1:123456789012:subnet/subnet-bbbb',
      expect.stringMatching(/^arn:aws:ec2:us-east-1:123456789012:security-group\//),
    ]);
    expect(allows(statements, 'ec2:CreateTags')[0].Condition).toEqual({
      StringEquals: { 'ec2:CreateAction': 'CreateVpcEndpoint', 'aws:RequestTag/cdk-ec2-reset-access:workflow': workflow.workflowId },
    });
    // The dependent action of private DNS, for the rescue VPC only.
    expect(allows(statements, 'route53:AssociateVPCWithHostedZone')).toEqual([expect.objectContaining({
      Resource: ['arn:aws:route53:::hostedzone/*'],
      Condition: { StringEquals: { 'route53:VPCs': 'VPCId=vpc-0123456789abcdef0,VPCRegion=us-east-1' } },
    })]);
  });

  test('only endpoints carrying the workflow tag can be deleted, by the step and by the janitor', () => {
    for (const prefix of ['WorkflowOpenEndpoints', 'WorkflowEndpointJanitor']) {
      const deletes = allows(statementsOfFunctionRole(stack, prefix), 'ec2:DeleteVpcEndpoints');
      expect(deletes).toEqual([expect.objectContaining({
        Resource: ['arn:aws:ec2:us-east-1:123456789012:vpc-endpoint/*'],
        Condition: { StringEquals: { 'aws:ResourceTag/cdk-ec2-reset-access:workflow': workflow.workflowId, 'ec2:VpceServiceName': SERVICES } },
      })]);
    }
  });

  test('the janitor runs every five minutes with the smallest memory, reads the reset\'s executions, releases leases', () => {
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkflowEndpointJanitor'), 'Arn'] } })],
    });
    expect(workflow.endpointJanitor).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 128,
      Environment: { Variables: { [ENDPOINT_JANITOR_CONFIG_ENV]: Match.anyValue() } },
    });
    const statements = statementsOfFunctionRole(stack, 'WorkflowEndpointJanitor');
    expect(allows(statements, 'states:DescribeExecution')[0].Resource).toEqual([expect.stringMatching(/:execution:WorkflowResetStateMachine[0-9A-F]+(\.Name)?:\*$/)]);
    expect(allows(statements, 'dynamodb:UpdateItem')).toHaveLength(1);
  });

  test('the restore may read and release the lease (its journal statement on the lock table covers the lease item)', () => {
    const statements = statementsOfFunctionRole(stack, 'WorkflowRestore');
    expect(allows(statements, 'dynamodb:UpdateItem')).toEqual([expect.objectContaining({ Sid: 'JournalAndLock' })]);
    expect(allows(statements, 'dynamodb:GetItem')).toEqual([expect.objectContaining({ Sid: 'JournalAndLock' })]);
  });

  test('without on-demand endpoints there is no open step, no janitor and no right on endpoints', () => {
    const { stack: plain, workflow: byo } = workflowStack();
    expect(byo.functions.openEndpoints).toBeUndefined();
    expect(byo.endpointJanitor).toBeUndefined();
    expect(JSON.stringify(stateMachineDefinition(plain, 'WorkflowResetStateMachine'))).not.toContain('OpenEndpoints');
    const template = JSON.stringify(Template.fromStack(plain).toJSON());
    expect(template).not.toContain('ec2:CreateVpcEndpoint');
    expect(template).not.toContain('ec2:DeleteVpcEndpoints');
  });

  test('two workflows cannot share a RescueVpc with on-demand endpoints', () => {
    expect(() => new ResetWorkflow(stack, 'Second', { rescueVpc: workflow.node.scope!.node.findChild('Rescue') as RescueVpc }))
      .toThrow(expect.objectContaining({ name: 'OnDemandEndpointsShared', message: expect.stringMatching(/TestStack\/Workflow already creates/) }));
  });

  test('is clean under cdk-nag AwsSolutions', () => {
    const findings = awsSolutionsFindingsFor(s => {
      new ResetWorkflow(s, 'Workflow', onDemandNetwork(s));
    }, { env: ENV });
    expect(findings).toEqual([]);
  });
});
