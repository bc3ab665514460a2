import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { EndpointPlacement, RescueEndpoints, RescueEndpointsMode, RescueVpc } from '../../src';
import { ssmBucketNames } from '../../src/network/ssm-buckets';
import { evaluateCfn } from '../helpers/cfn';
import { awsSolutionsFindingsFor } from '../helpers/nag';
import { maskedTemplate } from '../helpers/snapshot';

const ACCOUNT = '111122223333';
const ENV = { account: ACCOUNT, region: 'eu-west-1' };

/** The resources of a type, as `[logicalId, properties]` pairs. */
function resourcesOf(template: Template, type: string): Array<[string, any]> {
  return Object.entries(template.findResources(type)).map(([id, r]) => [id, (r as any).Properties ?? {}]);
}

function logicalIdOf(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as any);
}

/** `arn:aws:s3:::<bucket>/*` for each bucket SSM needs in a Region. */
function expectedObjectArns(region: string): string[] {
  return ssmBucketNames(region).map(name => `arn:aws:s3:::${name}/*`);
}

describe('RescueVpc', () => {
  let stack: Stack;

  beforeEach(() => {
    stack = new Stack(new App(), 'TestStack', { env: ENV });
  });

  describe('isolation', () => {
    test('has no internet gateway, NAT, peering, transit or VPN attachment, and no route at all', () => {
      // WHEN
      new RescueVpc(stack, 'Rescue');

      // THEN
      const template = Template.fromStack(stack);
      for (const type of [
        'AWS::EC2::InternetGateway', 'AWS::EC2::EgressOnlyInternetGateway', 'AWS::EC2::VPCGatewayAttachment',
        'AWS::EC2::NatGateway', 'AWS::EC2::EIP', 'AWS::EC2::VPCPeeringConnection', 'AWS::EC2::TransitGatewayAttachment',
        'AWS::EC2::VPNGateway', 'AWS::EC2::Route',
      ]) {
        template.resourceCountIs(type, 0);
      }
      // The only way out of a subnet is the S3 gateway endpoint's managed route.
      expect(JSON.stringify(template.toJSON())).not.toContain('0.0.0.0/0');
    });

    test('creates only isolated subnets, which never assign public IPs', () => {
      // WHEN
      const rescue = new RescueVpc(stack, 'Rescue');

      // THEN
      const subnets = resourcesOf(Template.fromStack(stack), 'AWS::EC2::Subnet');
      expect(subnets.length).toBe(rescue.subnets.length);
      for (const [, subnet] of subnets) {
        expect(subnet.MapPublicIpOnLaunch).toBe(false);
        expect(subnet.Tags).toEqual(expect.arrayContaining([{ Key: 'aws-cdk:subnet-type', Value: 'Isolated' }]));
      }
    });

    test('empties the VPC default security group', () => {
      new RescueVpc(stack, 'Rescue');
      Template.fromStack(stack).resourceCountIs('Custom::VpcRestrictDefaultSG', 1);
    });
  });

  describe('Availability Zones', () => {
    test('creates one subnet in each chosen zone', () => {
      // WHEN
      const rescue = new RescueVpc(stack, 'Rescue', { availabilityZones: ['eu-west-1a', 'eu-west-1c'] });

      // THEN
      const zones = resourcesOf(Template.fromStack(stack), 'AWS::EC2::Subnet').map(([, s]) => s.AvailabilityZone);
      expect(zones).toEqual(['eu-west-1a', 'eu-west-1c']);
      expect(rescue.availabilityZones).toEqual(['eu-west-1a', 'eu-west-1c']);
    });

    test('covers every zone of the Region by default in an environment-aware stack', () => {
      // GIVEN a Region with six zones (what the availability-zones context lookup returns for us-east-1)
      const zones = ['us-east-1a', 'us-east-1b', 'us-east-1c', 'us-east-1d', 'us-east-1e', 'us-east-1f'];
      const app = new App({ context: { [`availability-zones:account=${ACCOUNT}:region=us-east-1`]: zones } });
      const useast = new Stack(app, 'UsEast1', { env: { account: ACCOUNT, region: 'us-east-1' } });

      // WHEN
      new RescueVpc(useast, 'Rescue');

      // THEN
      const subnetZones = resourcesOf(Template.fromStack(useast), 'AWS::EC2::Subnet').map(([, s]) => s.AvailabilityZone);
      expect(subnetZones).toEqual(zones);
    });

    test('covers the first two zones of the deploying Region in an environment-agnostic stack', () => {
      // GIVEN
      const agnostic = new Stack(new App(), 'Agnostic');

      // WHEN
      new RescueVpc(agnostic, 'Rescue');

      // THEN
      const subnetZones = resourcesOf(Template.fromStack(agnostic), 'AWS::EC2::Subnet').map(([, s]) => s.AvailabilityZone);
      expect(subnetZones).toEqual([
        { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] },
        { 'Fn::Select': [1, { 'Fn::GetAZs': '' }] },
      ]);
    });

    test('answers which subnet serves a zone, and undefined for a zone it does not cover', () => {
      // WHEN
      const rescue = new RescueVpc(stack, 'Rescue', { availabilityZones: ['eu-west-1a', 'eu-west-1b'] });

      // THEN
      expect(rescue.subnetForAvailabilityZone('eu-west-1b')).toBe(rescue.subnets[1]);
      expect(rescue.subnetForAvailabilityZone('eu-west-1c')).toBeUndefined();
    });

    test('maps each zone to its subnet id in a JSON string CloudFormation resolves at deploy time', () => {
      // GIVEN an environment-agnostic stack, where zone names are tokens
      const agnostic = new Stack(new App(), 'Agnostic');
      const rescue = new RescueVpc(agnostic, 'Rescue');

      // WHEN
      const json = evaluateCfn(agnostic.resolve(rescue.subnetIdsByAvailabilityZone), {
        region: 'us-east-1', availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
      });

      // THEN
      const [first, second] = rescue.subnets.map(subnet => agnostic.resolve(subnet.subnetId).Ref);
      expect(JSON.parse(json)).toEqual({ 'us-east-1a': first, 'us-east-1b': second });
    });

    describe('without a lookup', () => {
      const zonesKey = (region: string) => `availability-zones:account=${ACCOUNT}:region=${region}`;
      const lookups = (app: App) => (app.synth().manifest.missing ?? []).map(m => m.key);

      test('an environment-agnostic stack uses the given zones as they are', () => {
        // GIVEN
        const app = new App();
        const agnostic = new Stack(app, 'Agnostic');

        // WHEN
        new RescueVpc(agnostic, 'Rescue', { availabilityZones: ['eu-west-1a', 'eu-west-1b'] });

        // THEN
        const subnetZones = resourcesOf(Template.fromStack(agnostic), 'AWS::EC2::Subnet').map(([, s]) => s.AvailabilityZone);
        expect(subnetZones).toEqual(['eu-west-1a', 'eu-west-1b']);
        expect(lookups(app)).toEqual([]);
      });

      test('an environment-aware stack needs the Region\'s zones in context, even with availabilityZones (CDK\'s Vpc checks them)', () => {
        // GIVEN the answer of the lookup in the app's context, as cdk.context.json or cdk.json give it
        const app = new App({ context: { [zonesKey('eu-west-1')]: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'] } });
        const aware = new Stack(app, 'Aware', { env: ENV });

        // WHEN
        const rescue = new RescueVpc(aware, 'Rescue', { availabilityZones: ['eu-west-1a', 'eu-west-1c'] });

        // THEN the given zones, no lookup, no warning
        expect(rescue.availabilityZones).toEqual(['eu-west-1a', 'eu-west-1c']);
        expect(lookups(app)).toEqual([]);
        Annotations.fromStack(aware).hasNoWarning('*', Match.anyValue());
      });

      test('a stack class that overrides availabilityZones needs no lookup', () => {
        // GIVEN CDK's documented way for a stack to name its zones itself
        class ZonesKnown extends Stack {
          public get availabilityZones(): string[] {
            return ['eu-west-1a', 'eu-west-1b'];
          }
        }
        const app = new App();
        const aware = new ZonesKnown(app, 'Aware', { env: ENV });
        // CDK's template validation flags literal zones unless they came from its own lookup.
        Validations.of(aware).acknowledge({ id: 'CloudFormation-Validate::W3010', reason: 'The stack names its zones on purpose.' });

        // WHEN
        new RescueVpc(aware, 'Rescue', { availabilityZones: ['eu-west-1b'] });

        // THEN
        expect(lookups(app)).toEqual([]);
        Annotations.fromStack(aware).hasNoWarning('*', Match.anyValue());
      });

      test('otherwise the lookup is pending, and a warning names the context key that ends it', () => {
        // GIVEN no context: what `cdk synth` without credentials meets
        const app = new App();
        const aware = new Stack(app, 'Aware', { env: ENV });

        // WHEN
        new RescueVpc(aware, 'Rescue', { availabilityZones: ['eu-west-1a'] });

        // THEN
        expect(lookups(app)).toEqual([zonesKey('eu-west-1')]);
        Annotations.fromStack(aware).hasWarning('/Aware/Rescue',
          Match.stringLikeRegexp(`under "${zonesKey('eu-west-1')}" \\(cdk.json, or the cdk.context.json`));
      });
    });

    test('maps concrete zones to subnet ids in an environment-aware stack', () => {
      // WHEN
      const rescue = new RescueVpc(stack, 'Rescue', { availabilityZones: ['eu-west-1a', 'eu-west-1b'] });

      // THEN
      const [first, second] = rescue.subnets.map(subnet => stack.resolve(subnet.subnetId).Ref);
      expect(JSON.parse(evaluateCfn(stack.resolve(rescue.subnetIdsByAvailabilityZone), { region: 'eu-west-1' })))
        .toEqual({ 'eu-west-1a': first, 'eu-west-1b': second });
    });
  });

  describe('S3 gateway endpoint', () => {
    function endpointPolicy(s: Stack): any {
      const [[, endpoint]] = resourcesOf(Template.fromStack(s), 'AWS::EC2::VPCEndpoint')
        .filter(([, e]) => e.VpcEndpointType === 'Gateway');
      return endpoint.PolicyDocument;
    }

    test('allows only s3:GetObject on the SSM buckets of a standard Region', () => {
      // WHEN
      new RescueVpc(stack, 'Rescue');

      // THEN
      const policy = evaluateCfn(endpointPolicy(stack), { region: 'eu-west-1' });
      expect(policy.Statement).toEqual([{
        Sid: 'SsmBucketsOfThisRegionOnly',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: 's3:GetObject',
        Resource: expectedObjectArns('eu-west-1'),
      }]);
      expect(policy.Statement[0].Resource).toContain('arn:aws:s3:::eu-west-1-birdwatcher-prod/*');
    });

    test('uses the Region\'s other bucket names in af-south-1', () => {
      // GIVEN
      const capeTown = new Stack(new App(), 'CapeTown', { env: { account: ACCOUNT, region: 'af-south-1' } });

      // WHEN
      new RescueVpc(capeTown, 'Rescue');

      // THEN
      const resources = evaluateCfn(endpointPolicy(capeTown), { region: 'af-south-1' }).Statement[0].Resource;
      expect(resources).toEqual(expectedObjectArns('af-south-1'));
      expect(resources).toContain('arn:aws:s3:::aws-ssm-distributor-file-af-south-1/*');
      expect(resources).not.toContain('arn:aws:s3:::af-south-1-birdwatcher-prod/*');
    });

    test.each(['us-east-1', 'eu-west-1', 'af-south-1', 'eu-south-1'])(
      'in an environment-agnostic stack, the deployed policy is right in %s', region => {
        // GIVEN
        const agnostic = new Stack(new App(), 'Agnostic');

        // WHEN
        new RescueVpc(agnostic, 'Rescue');

        // THEN
        const template = Template.fromStack(agnostic).toJSON();
        const policy = evaluateCfn(endpointPolicy(agnostic), { region, conditions: template.Conditions });
        expect(policy.Statement[0].Action).toBe('s3:GetObject');
        expect(policy.Statement[0].Resource).toEqual(expectedObjectArns(region));
      });

    test('the environment-agnostic choice is one condition on AWS::Region', () => {
      // GIVEN
      const agnostic = new Stack(new App(), 'Agnostic');

      // WHEN
      new RescueVpc(agnostic, 'Rescue');

      // THEN
      expect(Object.values(Template.fromStack(agnostic).toJSON().Conditions)).toEqual([{
        'Fn::Or': [
          { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'af-south-1'] },
          { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-south-1'] },
        ],
      }]);
    });

    test('is on the route table of every rescue subnet', () => {
      // WHEN
      const rescue = new RescueVpc(stack, 'Rescue');

      // THEN
      const routeTables = rescue.subnets.map(subnet => stack.resolve(subnet.routeTable.routeTableId));
      Template.fromStack(stack).hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Gateway',
        RouteTableIds: routeTables,
      });
    });

    test('grants a helper role s3:GetObject on the same buckets, and nothing else', () => {
      // GIVEN
      const rescue = new RescueVpc(stack, 'Rescue');
      const role = new iam.Role(stack, 'HelperRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });

      // WHEN
      rescue.grantSsmBucketRead(role);

      // THEN
      const [[, policy]] = resourcesOf(Template.fromStack(stack), 'AWS::IAM::Policy')
        .filter(([, p]) => JSON.stringify(p.Roles).includes('HelperRole'));
      expect(evaluateCfn(policy.PolicyDocument, { region: 'eu-west-1' }).Statement).toEqual([{
        Effect: 'Allow', Action: 's3:GetObject', Resource: expectedObjectArns('eu-west-1'),
      }]);
    });
  });

  describe('interface endpoints', () => {
    function interfaceEndpoints(s: Stack): Array<[string, any]> {
      return resourcesOf(Template.fromStack(s), 'AWS::EC2::VPCEndpoint').filter(([, e]) => e.VpcEndpointType === 'Interface');
    }

    test('by default (on demand) creates none, but keeps their security group and the S3 gateway endpoint', () => {
      // WHEN
      const rescue = new RescueVpc(stack, 'Rescue');

      // THEN the workflow creates them while a reset needs them; what is free stays
      expect(rescue.endpoints.mode).toBe(RescueEndpointsMode.ON_DEMAND);
      expect(rescue.endpoints.gracePeriod?.toMinutes()).toBe(15);
      expect(interfaceEndpoints(stack)).toEqual([]);
      expect(rescue.ssmEndpoint).toBeUndefined();
      expect(rescue.endpointSecurityGroup).toBeInstanceOf(ec2.SecurityGroup);
      Template.fromStack(stack).hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
    });

    test('alwaysOn() creates ssm, ssmmessages and ec2messages with private DNS, in one subnet', () => {
      // WHEN
      const rescue = new RescueVpc(stack, 'Rescue', { endpoints: RescueEndpoints.alwaysOn() });

      // THEN
      const endpoints = interfaceEndpoints(stack);
      expect(endpoints.map(([, e]) => e.ServiceName).sort()).toEqual([
        'com.amazonaws.eu-west-1.ec2messages', 'com.amazonaws.eu-west-1.ssm', 'com.amazonaws.eu-west-1.ssmmessages',
      ]);
      const firstSubnet = stack.resolve(rescue.subnets[0].subnetId);
      for (const [, endpoint] of endpoints) {
        expect(endpoint.PrivateDnsEnabled).toBe(true);
        expect(endpoint.SubnetIds).toEqual([firstSubnet]);
        expect(endpoint.SecurityGroupIds).toEqual([stack.resolve(rescue.endpointSecurityGroup.securityGroupId)]);
      }
    });

    test('EVERY_AZ puts an ENI of each endpoint in every rescue subnet', () => {
      // WHEN
      const rescue = new RescueVpc(stack, 'Rescue', { endpoints: RescueEndpoints.alwaysOn({ placement: EndpointPlacement.EVERY_AZ }) });

      // THEN
      const subnets = rescue.subnets.map(subnet => stack.resolve(subnet.subnetId));
      expect(subnets.length).toBe(3);
      for (const [, endpoint] of interfaceEndpoints(stack)) {
        expect(endpoint.SubnetIds).toEqual(subnets);
      }
    });

    test('their security group admits 443 from the rescue subnets\' CIDRs and nothing else', () => {
      // WHEN
      const rescue = new RescueVpc(stack, 'Rescue');

      // THEN
      const template = Template.fromStack(stack);
      const [, group] = resourcesOf(template, 'AWS::EC2::SecurityGroup')
        .find(([id]) => id === logicalIdOf(stack, rescue.endpointSecurityGroup as ec2.SecurityGroup))!;
      expect(group.SecurityGroupIngress.map(({ Description, ...rule }: any) => rule)).toEqual(
        rescue.subnets.map(subnet => ({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: subnet.ipv4CidrBlock })));
      template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
      // allowAllOutbound: false leaves only CDK's rule that matches no traffic.
      expect(group.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic' })]);
    });
  });

  describe('helper security group', () => {
    test('has no inbound rule and exactly two egress rules: 443 to the endpoints and 443 to the S3 prefix list', () => {
      // WHEN
      const rescue = new RescueVpc(stack, 'Rescue');

      // THEN
      const template = Template.fromStack(stack);
      const helperId = logicalIdOf(stack, rescue.helperSecurityGroup);
      const [, helper] = resourcesOf(template, 'AWS::EC2::SecurityGroup').find(([id]) => id === helperId)!;
      expect(helper.SecurityGroupIngress).toBeUndefined();
      expect(JSON.stringify(resourcesOf(template, 'AWS::EC2::SecurityGroupIngress'))).not.toContain(helperId);
      // No inline egress at all: CDK dropped its "disallow all" placeholder once real rules existed. The real
      // rules are AWS::EC2::SecurityGroupEgress resources, whose creation removes EC2's default allow-all rule.
      expect(helper.SecurityGroupEgress).toBeUndefined();
      const egress = resourcesOf(template, 'AWS::EC2::SecurityGroupEgress')
        .filter(([, rule]) => rule.GroupId['Fn::GetAtt'][0] === helperId)
        .map(([, rule]) => ({ ...rule, Description: undefined, GroupId: undefined }));
      expect(egress).toEqual(expect.arrayContaining([
        expect.objectContaining({
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          DestinationSecurityGroupId: stack.resolve(rescue.endpointSecurityGroup.securityGroupId),
        }),
        expect.objectContaining({
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          DestinationPrefixListId: stack.resolve(rescue.s3PrefixListId),
        }),
      ]));
      expect(egress).toHaveLength(2);
    });

    test('looks up the S3 prefix list of the deploying Region at deploy time', () => {
      // WHEN
      const rescue = new RescueVpc(stack, 'Rescue');

      // THEN
      expect(stack.resolve(rescue.s3PrefixListId)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^RescueS3PrefixListLookup/), 'PrefixLists.0.PrefixListId'] });
      const [[, lookup]] = resourcesOf(Template.fromStack(stack), 'Custom::S3PrefixListLookup');
      const call = JSON.parse(evaluateCfn(lookup.Create, { region: 'eu-west-1' }));
      expect(call).toMatchObject({
        service: 'EC2',
        action: 'describePrefixLists',
        parameters: { Filters: [{ Name: 'prefix-list-name', Values: ['com.amazonaws.eu-west-1.s3'] }] },
      });
    });

    test('uses a given S3 prefix list id without a lookup', () => {
      // WHEN
      new RescueVpc(stack, 'Rescue', { s3PrefixListId: 'pl-6da54004' });

      // THEN
      const template = Template.fromStack(stack);
      template.resourceCountIs('Custom::S3PrefixListLookup', 0);
      template.resourceCountIs('AWS::Lambda::Function', 1); // only the default-security-group cleaner
      template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', { DestinationPrefixListId: 'pl-6da54004', FromPort: 443, ToPort: 443 });
    });
  });

  describe('flow logs', () => {
    test('logs all traffic of the VPC to a log group kept one month by default', () => {
      // WHEN
      const rescue = new RescueVpc(stack, 'Rescue');

      // THEN
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::EC2::FlowLog', {
        ResourceType: 'VPC',
        ResourceId: stack.resolve(rescue.vpc.vpcId),
        TrafficType: 'ALL',
        LogDestinationType: 'cloud-watch-logs',
        LogGroupName: stack.resolve(rescue.flowLogGroup!.logGroupName),
      });
      // A year, as AWS Control Tower's CT.CLOUDWATCH.PR.2 asks of every log group.
      template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    });

    test('keeps records as long as flowLogRetention says', () => {
      new RescueVpc(stack, 'Rescue', { flowLogRetention: logs.RetentionDays.ONE_MONTH });
      Template.fromStack(stack).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    });

    test('encrypts the flow log with flowLogEncryptionKey, whose policy then admits CloudWatch Logs', () => {
      // GIVEN
      const key = new kms.Key(stack, 'Key');

      // WHEN
      new RescueVpc(stack, 'Rescue', { flowLogEncryptionKey: key });

      // THEN
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: stack.resolve(key.keyArn) });
      template.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: {
          Statement: Match.arrayWith([Match.objectLike({
            Sid: 'CloudWatchLogsEncryptLogGroups',
            Principal: { Service: Match.anyValue() },
            Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': Match.anyValue() } },
          })]),
        },
      });
    });

    test('its role can be assumed only for this account\'s flow logs and writes only to its log group', () => {
      // WHEN
      const rescue = new RescueVpc(stack, 'Rescue');

      // THEN
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          Statement: [{
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: { Service: 'vpc-flow-logs.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': ACCOUNT },
              ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ec2:eu-west-1:${ACCOUNT}:vpc-flow-log/*`]] } },
            },
          }],
        },
      });
      const logGroupArn = stack.resolve(rescue.flowLogGroup!.logGroupArn);
      const [[, policy]] = resourcesOf(template, 'AWS::IAM::Policy').filter(([id]) => id.startsWith('RescueFlowLogRole'));
      expect(policy.PolicyDocument.Statement).toEqual([{
        Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'], Resource: logGroupArn,
      }]);
    });
  });

  describe('bring your own VPC', () => {
    let existing: ec2.Vpc;

    beforeEach(() => {
      existing = new ec2.Vpc(stack, 'Existing', {
        availabilityZones: ['eu-west-1a', 'eu-west-1b'],
        natGateways: 0,
        subnetConfiguration: [
          { name: 'Public', subnetType: ec2.SubnetType.PUBLIC },
          { name: 'Rescue', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
          { name: 'Other', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        ],
      });
    });

    test('uses the chosen subnets of an existing VPC and creates endpoints there, but no VPC or flow log', () => {
      // WHEN
      const rescue = new RescueVpc(stack, 'Rescue', { existingVpc: existing, vpcSubnets: { subnetGroupName: 'Rescue' } });

      // THEN
      expect(rescue.vpc).toBe(existing);
      expect(rescue.subnets).toEqual(existing.selectSubnets({ subnetGroupName: 'Rescue' }).subnets);
      expect(rescue.flowLog).toBeUndefined();
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::EC2::VPC', 1);
      template.resourceCountIs('AWS::EC2::FlowLog', 0);
      // On demand: only the (free) S3 gateway endpoint exists between resets.
      template.resourceCountIs('AWS::EC2::VPCEndpoint', 1);
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway', VpcId: stack.resolve(existing.vpcId) });
    });

    test('defaults to the isolated subnets of the existing VPC, one per zone', () => {
      const rescue = new RescueVpc(stack, 'Rescue', { existingVpc: existing });
      expect(rescue.subnets).toHaveLength(2);
      expect(rescue.availabilityZones).toEqual(['eu-west-1a', 'eu-west-1b']);
    });

    test.each([
      ['endpoints: RescueEndpoints.none()', (group: ec2.ISecurityGroup) => ({ endpoints: RescueEndpoints.none({ securityGroup: group }) })],
      ['the deprecated createEndpoints: false', (group: ec2.ISecurityGroup) => ({ createEndpoints: false, existingEndpointSecurityGroup: group })],
    ])('with %s, creates no endpoint and lets the helper reach the existing endpoints\' group', (_, choice) => {
      // GIVEN
      const existingEndpoints = ec2.SecurityGroup.fromSecurityGroupId(stack, 'ExistingEndpoints', 'sg-0123456789abcdef0');

      // WHEN
      const rescue = new RescueVpc(stack, 'Rescue', {
        existingVpc: existing,
        vpcSubnets: { subnetGroupName: 'Rescue' },
        ...choice(existingEndpoints),
      });

      // THEN
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
      expect(rescue.ssmEndpoint).toBeUndefined();
      expect(rescue.s3Endpoint).toBeUndefined();
      template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
        GroupId: stack.resolve(rescue.helperSecurityGroup.securityGroupId),
        DestinationSecurityGroupId: 'sg-0123456789abcdef0',
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
      });
      // The existing group is not changed.
      template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
      expect(rescue.endpoints.mode).toBe(RescueEndpointsMode.NONE);
    });

    test('the deprecated props keep their meaning, with a warning that names the replacement', () => {
      // WHEN
      const placed = new RescueVpc(stack, 'Placed', { endpointPlacement: EndpointPlacement.EVERY_AZ });
      const created = new RescueVpc(stack, 'Created', { createEndpoints: true });

      // THEN both are always-on, as before
      expect(placed.endpoints.mode).toBe(RescueEndpointsMode.ALWAYS_ON);
      expect(placed.endpoints.placement).toBe(EndpointPlacement.EVERY_AZ);
      expect(created.endpoints.mode).toBe(RescueEndpointsMode.ALWAYS_ON);
      expect(placed.ssmEndpoint).toBeDefined();
      const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('deprecated'));
      expect(warnings.map(w => w.id).sort()).toEqual(['/TestStack/Created', '/TestStack/Placed']);
      expect(JSON.stringify(warnings)).toContain('endpoints: RescueEndpoints.alwaysOn({ placement })');
    });

    test('refuses endpoints together with a deprecated prop, naming both', () => {
      expect(() => new RescueVpc(stack, 'Rescue', { endpoints: RescueEndpoints.onDemand(), endpointPlacement: EndpointPlacement.ONE_AZ }))
        .toThrow(expect.objectContaining({ name: 'EndpointPropsConflict', message: expect.stringMatching(/`endpoints` replaces `endpointPlacement`/) }));
    });

    test('refuses none() without existingVpc, and none() without a security group', () => {
      const group = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Group', 'sg-0123456789abcdef0');
      expect(() => new RescueVpc(stack, 'Rescue', { endpoints: RescueEndpoints.none({ securityGroup: group }) }))
        .toThrow(/`endpoints: RescueEndpoints.none\(\)` needs `existingVpc`/);
      expect(() => RescueEndpoints.none({} as any)).toThrow(expect.objectContaining({ name: 'ExistingEndpointSecurityGroupMissing' }));
    });

    test('onDemand() takes a grace period in whole minutes, from 1 minute to 24 hours', () => {
      expect(RescueEndpoints.onDemand({ gracePeriod: Duration.minutes(40) }).gracePeriod?.toMinutes()).toBe(40);
      for (const bad of [Duration.seconds(30), Duration.seconds(90), Duration.hours(25)]) {
        expect(() => RescueEndpoints.onDemand({ gracePeriod: bad })).toThrow(expect.objectContaining({ name: 'EndpointGracePeriodInvalid' }));
      }
    });

    test('an environment-agnostic stack without endpoints or grants gets no unused bucket-name condition', () => {
      // GIVEN
      const agnostic = new Stack(new App(), 'Agnostic');
      const vpc = new ec2.Vpc(agnostic, 'Vpc', {
        natGateways: 0, subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
      });

      // WHEN
      new RescueVpc(agnostic, 'Rescue', {
        existingVpc: vpc,
        createEndpoints: false,
        existingEndpointSecurityGroup: ec2.SecurityGroup.fromSecurityGroupId(agnostic, 'Endpoints', 'sg-0123456789abcdef0'),
      });

      // THEN
      expect(Template.fromStack(agnostic).toJSON().Conditions).toBeUndefined();
    });

    test('refuses creation props together with existingVpc, naming them', () => {
      expect(() => new RescueVpc(stack, 'Rescue', {
        existingVpc: existing, availabilityZones: ['eu-west-1a'], flowLogRetention: logs.RetentionDays.ONE_DAY,
      })).toThrow(/`existingVpc` cannot be combined with `availabilityZones`, `flowLogRetention`/);
    });

    test('refuses a selection that yields no subnet', () => {
      expect(() => new RescueVpc(stack, 'Rescue', { existingVpc: existing, vpcSubnets: { subnetGroupName: 'Nope' } }))
        .toThrow(/`vpcSubnets` selects no subnet of `existingVpc`/);
      expect(() => new RescueVpc(stack, 'Rescue2', {
        existingVpc: existing, vpcSubnets: { subnetGroupName: 'Rescue', availabilityZones: ['eu-west-1c'] },
      })).toThrow(/`vpcSubnets` selects no subnet of `existingVpc`/);
    });

    test('refuses a VPC without isolated subnets when no selection is given', () => {
      // GIVEN
      const publicOnly = new ec2.Vpc(stack, 'PublicOnly', {
        maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC }],
      });

      // THEN
      expect(() => new RescueVpc(stack, 'Rescue', { existingVpc: publicOnly }))
        .toThrow(/selects no subnet of `existingVpc` \(default: its isolated subnets\)/);
    });

    test('refuses public subnets for the helper, naming them', () => {
      // GIVEN a VPC whose only subnets are public, chosen explicitly
      const publicOnly = new ec2.Vpc(stack, 'PublicOnly', {
        maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC }],
      });
      const imported = ec2.Vpc.fromVpcAttributes(stack, 'ImportedPublic', {
        vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-west-1a'], publicSubnetIds: ['subnet-0123456789abcdef0'],
      });

      // THEN
      const helperSubnetPublic = expect.objectContaining({ name: 'HelperSubnetPublic' });
      expect(() => new RescueVpc(stack, 'Rescue', { existingVpc: publicOnly, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } }))
        .toThrow(helperSubnetPublic);
      expect(() => new RescueVpc(stack, 'Rescue2', { existingVpc: publicOnly, vpcSubnets: { subnetGroupName: 'Public' } }))
        .toThrow(/selects public subnets of `existingVpc` \(TestStack\/PublicOnly\/PublicSubnet1, TestStack\/PublicOnly\/PublicSubnet2\): they route to an internet gateway/);
      expect(() => new RescueVpc(stack, 'Rescue3', { existingVpc: imported, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } }))
        .toThrow(helperSubnetPublic);
    });

    test('refuses createEndpoints: false without the existing endpoints\' security group', () => {
      expect(() => new RescueVpc(stack, 'Rescue', { existingVpc: existing, createEndpoints: false }))
        .toThrow(/`createEndpoints: false` needs `existingEndpointSecurityGroup`/);
    });

    test('refuses props that only apply to the other mode', () => {
      const group = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Group', 'sg-0123456789abcdef0');
      expect(() => new RescueVpc(stack, 'A', { existingVpc: existing, existingEndpointSecurityGroup: group }))
        .toThrow(/`existingEndpointSecurityGroup` is only used with `createEndpoints: false`/);
      expect(() => new RescueVpc(stack, 'B', {
        existingVpc: existing, createEndpoints: false, existingEndpointSecurityGroup: group, endpointPlacement: EndpointPlacement.EVERY_AZ,
      })).toThrow(/`endpointPlacement` has no effect with `createEndpoints: false`/);
      expect(() => new RescueVpc(stack, 'C', { vpcSubnets: { subnetGroupName: 'Rescue' } }))
        .toThrow(/`vpcSubnets` selects subnets of `existingVpc`, which is not given/);
      expect(() => new RescueVpc(stack, 'D', { createEndpoints: false }))
        .toThrow(/`createEndpoints: false` needs `existingVpc`/);
      expect(() => new RescueVpc(stack, 'E', { availabilityZones: [] }))
        .toThrow(/`availabilityZones` is empty/);
    });

    test('refuses imported subnets without a CIDR when it must create the endpoint security group', () => {
      // GIVEN
      const imported = ec2.Vpc.fromVpcAttributes(stack, 'Imported', {
        vpcId: 'vpc-0123456789abcdef0',
        availabilityZones: ['eu-west-1a'],
        isolatedSubnetIds: ['subnet-0123456789abcdef0'],
        isolatedSubnetRouteTableIds: ['rtb-0123456789abcdef0'],
      });

      // THEN
      expect(() => new RescueVpc(stack, 'Rescue', { existingVpc: imported }))
        .toThrow(/Import the subnet with `ipv4CidrBlock`/);
    });
  });

  describe('cdk-nag AwsSolutions', () => {
    test.each([
      ['environment-aware', { env: ENV }],
      ['environment-agnostic', undefined],
    ])('is clean in an %s stack, with a helper role granted the SSM buckets', (_, stackProps) => {
      const findings = awsSolutionsFindingsFor(s => {
        const rescue = new RescueVpc(s, 'Rescue', { endpoints: RescueEndpoints.alwaysOn({ placement: EndpointPlacement.EVERY_AZ }) });
        new RescueVpc(s, 'OnDemand');
        rescue.grantSsmBucketRead(new iam.Role(s, 'HelperRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') }));
      }, stackProps);
      expect(findings).toEqual([]);
    });

    test('is clean with an existing VPC and existing endpoints', () => {
      const findings = awsSolutionsFindingsFor(s => {
        const vpc = new ec2.Vpc(s, 'Existing', {
          maxAzs: 2,
          natGateways: 0,
          subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
          flowLogs: { all: {} },
        });
        new RescueVpc(s, 'Rescue', {
          existingVpc: vpc,
          endpoints: RescueEndpoints.none({ securityGroup: ec2.SecurityGroup.fromSecurityGroupId(s, 'Endpoints', 'sg-0123456789abcdef0') }),
          s3PrefixListId: 'pl-6da54004',
        });
      }, { env: ENV });
      expect(findings).toEqual([]);
    });
  });

  test('matches the snapshot', () => {
    new RescueVpc(stack, 'Rescue');
    expect(maskedTemplate(stack)).toMatchSnapshot();
  });
});
