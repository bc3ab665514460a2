import { Annotations, Arn, ArnFormat, Aws, CfnCondition, ContextProvider, Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cxschema from 'aws-cdk-lib/cloud-assembly-schema';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { EndpointPlacement, RescueEndpoints, RescueEndpointsMode } from './rescue-endpoints';
import { SSM_BUCKETS, ssmBucketNameIn } from './ssm-buckets';
import { acknowledgeDeployTimeHandler, acknowledgeInlinePolicies } from '../private/compliance';
import { InvalidPropsError } from '../private/invalid-props';
import { newLogGroup } from '../private/log-group';
import { acknowledgeWildcards } from '../private/nag';

/**
 * Properties of a [`RescueVpc`](#cdk-ec2-reset-access.RescueVpc).
 *
 * Either let the construct create its VPC (`availabilityZones`, `ipAddresses`,
 * `flowLogRetention`, `flowLogEncryptionKey`), or bring your own with `existingVpc` (and `vpcSubnets`).
 * Mixing the two is an error. `endpoints` chooses how the Systems Manager interface endpoints exist.
 */
export interface RescueVpcProps {
  /**
   * The Availability Zones to create a rescue subnet in. A helper instance must be in
   * the same zone as the instance it repairs, so list every zone your Windows
   * instances may run in. Only for a VPC the construct creates.
   *
   * In an environment-agnostic stack these zones are used as given, with no lookup. In an
   * environment-aware stack (`env: { account, region }`) CDK's `Vpc` still looks up the
   * Region's zones at synth time to check these against them: that needs credentials for the
   * account, or the lookup's answer in the app's context (`cdk.context.json` after one synth
   * with credentials, or the key `availability-zones:account=<account>:region=<region>` in
   * `cdk.json`); a stack class that overrides `availabilityZones` needs neither.
   *
   * @default - every Availability Zone of an environment-aware stack (as CDK knows them
   * from the `availability-zones` context lookup); the first two zones of the Region
   * (`Fn::GetAZs`) for an environment-agnostic stack, where CDK cannot know more. Give
   * the stack an `env`, or this prop, to cover more zones.
   */
  readonly availabilityZones?: string[];

  /**
   * The IPv4 address space of the VPC the construct creates, split evenly between the
   * rescue subnets. The VPC is never connected to another network, so overlapping with
   * your other VPCs is harmless.
   *
   * @default - `10.0.0.0/16` (the CDK default)
   */
  readonly ipAddresses?: ec2.IIpAddresses;

  /**
   * How long VPC flow log records are kept in CloudWatch Logs. Only for a VPC the
   * construct creates (a VPC of your own keeps its own flow logs). A year by default, like every
   * other log of this library (AWS Control Tower CT.CLOUDWATCH.PR.2): the VPC carries traffic only
   * during resets, so its flow log stays small.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly flowLogRetention?: logs.RetentionDays;

  /**
   * Customer managed KMS key that encrypts the flow log's log group. Its key policy must admit
   * CloudWatch Logs (see `ResetWorkflowOptions.encryptionKey`). Only for a VPC the construct creates.
   *
   * @default - encrypted by CloudWatch Logs with keys it manages
   */
  readonly flowLogEncryptionKey?: kms.IKey;

  /**
   * How the `ssm`, `ssmmessages` and `ec2messages` interface endpoints exist:
   * `RescueEndpoints.onDemand()` (created by the reset workflow while offline resets need them,
   * no idle cost), `RescueEndpoints.alwaysOn()` (created with the stack, billed every hour) or
   * `RescueEndpoints.none({ securityGroup })` (the `existingVpc` has them already). See
   * [`RescueEndpoints`](#cdk-ec2-reset-access.RescueEndpoints).
   *
   * @default RescueEndpoints.onDemand() - created when a reset needs them, deleted 15 minutes after the last one
   */
  readonly endpoints?: RescueEndpoints;

  /**
   * Where always-on interface endpoints' ENIs go.
   *
   * @deprecated use `endpoints: RescueEndpoints.alwaysOn({ placement })`. Still honoured: giving it
   * selects always-on endpoints, as before.
   * @default - see `endpoints`
   */
  readonly endpointPlacement?: EndpointPlacement;

  /**
   * An existing VPC to launch helper instances in, instead of creating one
   * (aws-solutions-constructs' `existingVpc` pattern). Choose its subnets with
   * `vpcSubnets`.
   *
   * RescueVpc cannot inspect the routes of a VPC it does not create: choose subnets with
   * no route to the internet or to your other networks, or the helper is less isolated
   * than this construct promises.
   *
   * @default - a new isolated VPC is created
   */
  readonly existingVpc?: ec2.IVpc;

  /**
   * The subnets of `existingVpc` for helper instances. One subnet per Availability Zone
   * is used (the first of each zone). Only with `existingVpc`.
   *
   * @default - the isolated subnets of `existingVpc`
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Whether to create the interface endpoints and the S3 gateway endpoint.
   *
   * @deprecated use `endpoints`: `RescueEndpoints.none({ securityGroup })` for `false` (with
   * `existingEndpointSecurityGroup` as its `securityGroup`), `RescueEndpoints.alwaysOn()` for
   * `true`. Still honoured with that meaning.
   * @default - see `endpoints`
   */
  readonly createEndpoints?: boolean;

  /**
   * The security group of the interface endpoints already in `existingVpc`.
   *
   * @deprecated use `endpoints: RescueEndpoints.none({ securityGroup })`. Still honoured together
   * with `createEndpoints: false`.
   * @default - none
   */
  readonly existingEndpointSecurityGroup?: ec2.ISecurityGroup;

  /**
   * The id of the AWS-managed prefix list of S3 in this Region (`com.amazonaws.<region>.s3`,
   * e.g. `pl-6da54004`), the destination of the helper's S3 egress rule.
   *
   * @default - looked up at deploy time with `ec2:DescribePrefixLists`, by a custom
   * resource, so that environment-agnostic stacks work too
   */
  readonly s3PrefixListId?: string;
}

/**
 * An isolated network for the helper instances of the offline reset.
 *
 * The helper gets a customer's root volume attached, so it must reach Systems Manager
 * and nothing else: `PRIVATE_ISOLATED` subnets in every Availability Zone a target may
 * live in, no internet gateway, no NAT gateway, no peering; VPC flow logs; interface
 * endpoints for `ssm`, `ssmmessages` and `ec2messages` (private DNS) behind a security
 * group that admits 443 from the rescue subnets only, by default created by the reset
 * workflow only while an offline reset needs them (`endpoints`); an S3 gateway endpoint
 * whose policy allows only `s3:GetObject` on the AWS-owned buckets SSM needs in this Region;
 * and a security group for the helper with no inbound rule and egress on 443 to the
 * endpoints and the S3 prefix list only.
 *
 * AWS's own runbook (`AWSSupport-StartEC2RescueWorkflow`) gives the helper a public
 * subnet and an internet gateway instead.
 */
export class RescueVpc extends Construct {
  /** The VPC helper instances are launched in (created, or `existingVpc`). */
  public readonly vpc: ec2.IVpc;

  /** The rescue subnets, one per Availability Zone. */
  public readonly subnets: ec2.ISubnet[];

  /** The Availability Zones of `subnets`, in the same order (tokens in an environment-agnostic stack). */
  public readonly availabilityZones: string[];

  /**
   * The subnet id of each Availability Zone as a JSON object string,
   * `{"<availability zone>": "<subnet id>", ...}`, resolved by CloudFormation at deploy
   * time: in an environment-agnostic stack the zone names are `Fn::GetAZs` tokens.
   * Pass it to the reset workflow (a Lambda environment variable or state machine input)
   * so that it can pick the helper's subnet, and refuse a target in a zone that is not
   * covered before it changes anything.
   */
  public readonly subnetIdsByAvailabilityZone: string;

  /** The helper instances' security group: no inbound rule, egress 443 to the endpoints and S3 only. */
  public readonly helperSecurityGroup: ec2.SecurityGroup;

  /** How the interface endpoints exist (`endpoints`, or what the deprecated props it replaces meant). */
  public readonly endpoints: RescueEndpoints;

  /**
   * The security group of the interface endpoints: created (and kept, it costs nothing) unless
   * the endpoints are `RescueEndpoints.none()`, whose security group it is then. On-demand
   * endpoints are created with it.
   */
  public readonly endpointSecurityGroup: ec2.ISecurityGroup;

  /** The `ssm` interface endpoint, with `RescueEndpoints.alwaysOn()` only. */
  public readonly ssmEndpoint?: ec2.InterfaceVpcEndpoint;

  /** The `ssmmessages` interface endpoint, with `RescueEndpoints.alwaysOn()` only. */
  public readonly ssmMessagesEndpoint?: ec2.InterfaceVpcEndpoint;

  /** The `ec2messages` interface endpoint, with `RescueEndpoints.alwaysOn()` only. */
  public readonly ec2MessagesEndpoint?: ec2.InterfaceVpcEndpoint;

  /** The S3 gateway endpoint (free, permanent), unless the endpoints are `RescueEndpoints.none()`. */
  public readonly s3Endpoint?: ec2.GatewayVpcEndpoint;

  /** The VPC flow log, for a VPC the construct creates. */
  public readonly flowLog?: ec2.FlowLog;

  /** The log group of the VPC flow log, for a VPC the construct creates. */
  public readonly flowLogGroup?: logs.LogGroup;

  /** The id of the S3 prefix list the helper may reach (a token when looked up at deploy time). */
  public readonly s3PrefixListId: string;

  private bucketArns?: string[];
  private onDemandUser?: Construct;

  constructor(scope: Construct, id: string, props: RescueVpcProps = {}) {
    super(scope, id);
    validateProps(props);
    this.endpoints = resolveEndpoints(this, props);

    if (props.existingVpc) {
      this.vpc = props.existingVpc;
      this.subnets = selectExistingSubnets(props.existingVpc, props.vpcSubnets);
    } else {
      const stack = Stack.of(this);
      explainZoneLookup(this);
      const vpc = new ec2.Vpc(this, 'Vpc', {
        ipAddresses: props.ipAddresses,
        ...(props.availabilityZones
          ? { availabilityZones: props.availabilityZones }
          : { maxAzs: stack.availabilityZones.length }),
        natGateways: 0,
        createInternetGateway: false,
        subnetConfiguration: [{ name: 'Rescue', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
        // The default security group allows all egress and traffic between its members;
        // nothing here uses it, and Security Hub (EC2.2) flags it unless it is emptied.
        restrictDefaultSecurityGroup: true,
      });
      this.vpc = vpc;
      this.subnets = vpc.isolatedSubnets;
      // restrictDefaultSecurityGroup runs on a custom-resource provider CDK keeps once per stack.
      const restrictDefaultSgProvider = Stack.of(this).node.tryFindChild(RESTRICT_DEFAULT_SG_PROVIDER_ID);
      if (restrictDefaultSgProvider) acknowledgeDeployTimeHandler(restrictDefaultSgProvider);
      this.flowLogGroup = newLogGroup(this, 'FlowLogGroup', {
        retention: props.flowLogRetention ?? logs.RetentionDays.ONE_YEAR,
        encryptionKey: props.flowLogEncryptionKey,
      });
      this.flowLog = new ec2.FlowLog(this, 'FlowLog', {
        resourceType: ec2.FlowLogResourceType.fromVpc(vpc),
        destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup, this.flowLogRole()),
        trafficType: ec2.FlowLogTrafficType.ALL,
      });
    }

    this.availabilityZones = this.subnets.map(subnet => subnet.availabilityZone);
    this.subnetIdsByAvailabilityZone = Stack.of(this).toJsonString(
      Object.fromEntries(this.subnets.map(subnet => [subnet.availabilityZone, subnet.subnetId])));

    if (this.endpoints.mode === RescueEndpointsMode.NONE) {
      this.endpointSecurityGroup = this.endpoints.existingSecurityGroup!;
    } else {
      const endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc: this.vpc,
        description: 'Systems Manager interface endpoints of the rescue VPC: 443 from the rescue subnets only',
        // Endpoints answer; they never open connections.
        allowAllOutbound: false,
      });
      for (const subnet of this.subnets) {
        endpointSecurityGroup.addIngressRule(ec2.Peer.ipv4(subnetCidr(subnet)), ec2.Port.tcp(443),
          `HTTPS from rescue subnet in ${Token.isUnresolved(subnet.availabilityZone) ? 'its zone' : subnet.availabilityZone}`);
      }
      this.endpointSecurityGroup = endpointSecurityGroup;

      if (this.endpoints.mode === RescueEndpointsMode.ALWAYS_ON) {
        const endpointSubnets = this.endpoints.placement === EndpointPlacement.EVERY_AZ ? this.subnets : this.subnets.slice(0, 1);
        const interfaceEndpoint = (endpointId: string, service: ec2.InterfaceVpcEndpointAwsService) =>
          new ec2.InterfaceVpcEndpoint(this, endpointId, {
            vpc: this.vpc,
            service,
            privateDnsEnabled: true,
            subnets: { subnets: endpointSubnets },
            securityGroups: [endpointSecurityGroup],
            // `open` would add ingress from the whole VPC CIDR; the rules above are narrower.
            open: false,
          });
        this.ssmEndpoint = interfaceEndpoint('SsmEndpoint', ec2.InterfaceVpcEndpointAwsService.SSM);
        this.ssmMessagesEndpoint = interfaceEndpoint('SsmMessagesEndpoint', ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES);
        this.ec2MessagesEndpoint = interfaceEndpoint('Ec2MessagesEndpoint', ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES);
      }

      // Gateway endpoints cost nothing: the S3 one stays, whatever the interface endpoints do.
      this.s3Endpoint = new ec2.GatewayVpcEndpoint(this, 'S3Endpoint', {
        vpc: this.vpc,
        service: ec2.GatewayVpcEndpointAwsService.S3,
        subnets: [{ subnets: this.subnets }],
      });
      this.s3Endpoint.addToPolicy(new iam.PolicyStatement({
        sid: 'SsmBucketsOfThisRegionOnly',
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject'],
        resources: this.ssmBucketObjectArns,
      }));
    }

    this.s3PrefixListId = props.s3PrefixListId ?? this.lookUpS3PrefixListId();

    this.helperSecurityGroup = new ec2.SecurityGroup(this, 'HelperSecurityGroup', {
      vpc: this.vpc,
      description: 'Rescue helper instances: no inbound; HTTPS to the Systems Manager endpoints and the S3 prefix list only',
      allowAllOutbound: false,
    });
    // Both rules become AWS::EC2::SecurityGroupEgress resources (a security group peer and a deploy-time prefix
    // list cannot be inlined), so CDK drops its inline "disallow all" placeholder; adding an egress rule
    // resource removes the allow-all rule EC2 gives a new group (aws-cdk #987/#998). Tests pin this shape.
    this.helperSecurityGroup.addEgressRule(this.endpointSecurityGroup, ec2.Port.tcp(443), 'HTTPS to the Systems Manager endpoints');
    this.helperSecurityGroup.addEgressRule(ec2.Peer.prefixList(this.s3PrefixListId), ec2.Port.tcp(443),
      'HTTPS to S3 through the gateway endpoint (AWS-owned SSM buckets)');
  }

  /**
   * Records the one reset workflow that creates this VPC's on-demand endpoints: with private
   * DNS a VPC holds one endpoint per service, and two workflows would each create (and delete)
   * their own.
   *
   * @internal
   */
  public _useOnDemandEndpoints(user: Construct): void {
    if (this.onDemandUser && this.onDemandUser !== user) {
      throw new InvalidPropsError('OnDemandEndpointsShared', `RescueVpc ${this.node.path}: ${this.onDemandUser.node.path} already creates its ` +
        `on-demand endpoints, and ${user.node.path} would create its own: a VPC holds one ssm, ssmmessages and ec2messages endpoint ` +
        'with private DNS each. Give each workflow a RescueVpc of its own, or use `endpoints: RescueEndpoints.alwaysOn()` to share one.');
    }
    this.onDemandUser = user;
  }

  /**
   * `arn:<partition>:s3:::<bucket>/*` for each AWS-owned bucket SSM needs in this
   * stack's Region. The S3 endpoint policy allows `s3:GetObject` on these and nothing
   * else; a helper instance role needs the same (see `grantSsmBucketRead`). In an
   * environment-agnostic stack the Distributor bucket, whose name differs in af-south-1
   * and eu-south-1, is chosen by a CloudFormation condition on `AWS::Region`.
   */
  public get ssmBucketObjectArns(): string[] {
    // Built on first use: an environment-agnostic stack gets its CloudFormation condition only
    // when something (the S3 endpoint, a grant) refers to it; an unused condition is a template warning.
    this.bucketArns ??= this.bucketObjectArns();
    return [...this.bucketArns];
  }

  /**
   * The rescue subnet in an Availability Zone, or `undefined` when the zone is not
   * covered (a helper cannot be launched there; the workflow's preflight reports it).
   * Zones are compared by name; in an environment-agnostic stack the names are tokens,
   * so use `subnetIdsByAvailabilityZone` at deploy time instead.
   */
  public subnetForAvailabilityZone(availabilityZone: string): ec2.ISubnet | undefined {
    return this.subnets.find(subnet => subnet.availabilityZone === availabilityZone);
  }

  /**
   * Grants `s3:GetObject` on the AWS-owned buckets SSM needs in this Region
   * (`ssmBucketObjectArns`), the same list the S3 endpoint allows: a helper instance role
   * needs it to install packages such as `AWSSupport-EC2Rescue`.
   */
  public grantSsmBucketRead(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject'],
      resourceArns: this.ssmBucketObjectArns,
    });
    const principal = grantee.grantPrincipal;
    if (principal instanceof Construct) {
      acknowledgeWildcards(principal, { resources: this.ssmBucketObjectArns },
        'The wildcard is the object key in AWS-owned buckets of this Region that SSM Agent and AWS-owned SSM documents ' +
          'download from (agent updates, Distributor packages such as AWSSupport-EC2Rescue, document attachments); ' +
          'AWS does not publish the keys, and the action is read-only s3:GetObject.');
    }
    return grant;
  }

  /** `arn:<partition>:s3:::<bucket>/*` per SSM bucket, exceptions resolved at synth or by a condition. */
  private bucketObjectArns(): string[] {
    const region = Stack.of(this).region;
    const objectsOf = (bucketName: string) => Arn.format({
      partition: Aws.PARTITION,
      service: 's3',
      region: '',
      account: '',
      resource: bucketName,
      resourceName: '*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    return SSM_BUCKETS.map((bucket, index) => {
      if (!Token.isUnresolved(region) || !bucket.exceptionRegions?.length || !bucket.exceptionNameIn) {
        return objectsOf(ssmBucketNameIn(bucket, region));
      }
      // The Region is known only at deploy time: let CloudFormation pick the name.
      const equals = bucket.exceptionRegions.map(r => Fn.conditionEquals(Aws.REGION, r));
      const condition = new CfnCondition(this, `BucketNameException${index}`, {
        expression: equals.length === 1 ? equals[0] : Fn.conditionOr(...equals),
      });
      return Fn.conditionIf(condition.logicalId,
        objectsOf(bucket.exceptionNameIn(Aws.REGION)),
        objectsOf(bucket.nameIn(Aws.REGION))).toString();
    });
  }

  /** A role only this account's flow logs may assume (confused-deputy conditions); CDK grants it writing to one log group. */
  private flowLogRole(): iam.Role {
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'FlowLogRole', {
      description: 'Lets VPC Flow Logs write the rescue VPC flow log to its log group',
      assumedBy: new iam.ServicePrincipal('vpc-flow-logs.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'ec2', resource: 'vpc-flow-log', resourceName: '*' }) },
      }),
    });
    // FlowLogDestination.toCloudWatchLogs grants logs:CreateLogStream, PutLogEvents and DescribeLogStreams
    // on this log group only (its Arn attribute ends in ":*", the streams, which cdk-nag's IAM5 does not
    // see through the reference: no acknowledgement is needed); the role needs nothing else.
    acknowledgeInlinePolicies(role);
    return role;
  }

  /**
   * The S3 prefix list id of this Region, looked up at deploy time: CloudFormation has no
   * attribute for it, and a synth-time lookup would need credentials and an env.
   */
  private lookUpS3PrefixListId(): string {
    const serviceName = ec2.GatewayVpcEndpointAwsService.S3.name;
    const lookup = new cr.AwsCustomResource(this, 'S3PrefixListLookup', {
      resourceType: 'Custom::S3PrefixListLookup',
      onUpdate: {
        service: 'EC2',
        action: 'describePrefixLists',
        parameters: { Filters: [{ Name: 'prefix-list-name', Values: [serviceName] }] },
        physicalResourceId: cr.PhysicalResourceId.of(serviceName),
        outputPaths: ['PrefixLists.0.PrefixListId'],
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({
        actions: ['ec2:DescribePrefixLists'],
        // Describe actions support no resource-level permissions.
        resources: ['*'],
      })]),
      // The Lambda runtime's SDK serves a call this old; installing the latest would need npm at deploy time.
      installLatestAwsSdk: false,
    });
    acknowledgeWildcards(lookup, { resources: ['*'] },
      'ec2:DescribePrefixLists supports no resource-level permissions (IAM requires "*"); it is read-only, and it is ' +
        'the only action of this custom resource\'s policy.');
    acknowledgeInlinePolicies(lookup);
    // AwsCustomResource runs on one Lambda function per stack, whose role CDK gives AWSLambdaBasicExecutionRole.
    const provider = Stack.of(this).node.tryFindChild(AWS_CUSTOM_RESOURCE_SINGLETON_ID);
    if (provider) {
      Validations.of(provider).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'The role of CDK\'s AwsCustomResource provider function: AWSLambdaBasicExecutionRole only lets the ' +
          'function create and write its own CloudWatch Logs log streams; its other permissions are inline and least-privilege.',
      });
      acknowledgeDeployTimeHandler(provider);
    }
    return lookup.getResponseField('PrefixLists.0.PrefixListId');
  }
}

/** The construct id of the stack-wide provider behind `ec2.Vpc`'s `restrictDefaultSecurityGroup`. */
const RESTRICT_DEFAULT_SG_PROVIDER_ID = 'Custom::VpcRestrictDefaultSGCustomResourceProvider';

/** The construct id of the singleton Lambda function behind every `AwsCustomResource` of a stack. */
const AWS_CUSTOM_RESOURCE_SINGLETON_ID = `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`;

/**
 * CDK's `Vpc` reads `Stack.availabilityZones` even when it is given `availabilityZones` (it checks
 * them against the Region's zones), and in an environment-aware stack that is a context lookup:
 * credentials for the account at synth time, or the answer already in the app's context
 * (`cdk.context.json`, `cdk.json`). While the answer is missing, CDK synthesizes with placeholder
 * zones and the CLI fails without credentials; this warning names the context key that ends the
 * lookup. Silent once the zones are known (from context, or a stack that overrides `availabilityZones`).
 */
function explainZoneLookup(scope: Construct): void {
  const stack = Stack.of(scope);
  if (Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region)) return;
  // CDK's placeholder answer while the lookup is pending (or failed): dummy1a, dummy1b, dummy1c.
  if (!stack.availabilityZones.every(zone => /^dummy1[a-z]$/.test(zone))) return;
  const { key } = ContextProvider.getKey(stack, { provider: cxschema.ContextProvider.AVAILABILITY_ZONE_PROVIDER });
  Annotations.of(scope).addWarningV2('cdk-ec2-reset-access:availabilityZoneLookup',
    `The Availability Zones of account ${stack.account} in ${stack.region} are looked up at synth time (CDK's Vpc checks ` +
    '`availabilityZones` against them even when it is given), which needs credentials for that account. To synthesize ' +
    `without them, put the zones in the app's context under "${key}" (cdk.json, or the cdk.context.json a synth with ` +
    'credentials writes: commit it), or make the stack environment-agnostic.');
}

function validateProps(props: RescueVpcProps): void {
  if (props.existingVpc) {
    const creationProps = (['availabilityZones', 'ipAddresses', 'flowLogRetention', 'flowLogEncryptionKey'] as const)
      .filter(name => props[name] !== undefined);
    if (creationProps.length > 0) {
      throw new Error(`RescueVpc: \`existingVpc\` cannot be combined with ${creationProps.map(p => `\`${p}\``).join(', ')}: ` +
        'those props configure the VPC that RescueVpc creates. Remove them, or remove `existingVpc` to let RescueVpc create the VPC.');
    }
  } else {
    if (props.vpcSubnets) {
      throw new Error('RescueVpc: `vpcSubnets` selects subnets of `existingVpc`, which is not given. ' +
        'Give `existingVpc`, or remove `vpcSubnets` (RescueVpc creates one subnet per zone of `availabilityZones`).');
    }
    if (props.createEndpoints === false || props.endpoints?.mode === RescueEndpointsMode.NONE) {
      const prop = props.endpoints ? '`endpoints: RescueEndpoints.none()`' : '`createEndpoints: false`';
      throw new Error(`RescueVpc: ${prop} needs \`existingVpc\`: a VPC that RescueVpc creates has no other ` +
        `endpoints, and without them the helper cannot reach Systems Manager. Give \`existingVpc\`, or remove ${prop}.`);
    }
    if (props.availabilityZones && props.availabilityZones.length === 0) {
      throw new Error('RescueVpc: `availabilityZones` is empty. List the zones your Windows instances run in, or remove it for the default.');
    }
  }
}

/**
 * The endpoints choice, from `endpoints` or from the deprecated props it replaces (which keep
 * their old meaning, with a warning): `createEndpoints: false` was bring-your-own,
 * `endpointPlacement` or `createEndpoints: true` always-on endpoints.
 */
function resolveEndpoints(scope: Construct, props: RescueVpcProps): RescueEndpoints {
  const deprecated = (['createEndpoints', 'endpointPlacement', 'existingEndpointSecurityGroup'] as const).filter(name => props[name] !== undefined);
  if (props.endpoints) {
    if (deprecated.length > 0) {
      throw new InvalidPropsError('EndpointPropsConflict', `RescueVpc: \`endpoints\` replaces ${deprecated.map(p => `\`${p}\``).join(', ')}; ` +
        'give only `endpoints` (RescueEndpoints.onDemand(), .alwaysOn({ placement }) or .none({ securityGroup })).');
    }
    return props.endpoints;
  }
  if (deprecated.length === 0) return RescueEndpoints.onDemand();
  let choice: RescueEndpoints;
  let replacement: string;
  if (props.createEndpoints === false) {
    if (!props.existingEndpointSecurityGroup) {
      throw new Error('RescueVpc: `createEndpoints: false` needs `existingEndpointSecurityGroup`, the security group of the ' +
        'existing ssm, ssmmessages and ec2messages endpoints, so that the helper may reach them on port 443.');
    }
    if (props.endpointPlacement !== undefined) {
      throw new Error('RescueVpc: `endpointPlacement` has no effect with `createEndpoints: false`. Remove one of them.');
    }
    choice = RescueEndpoints.none({ securityGroup: props.existingEndpointSecurityGroup });
    replacement = '`endpoints: RescueEndpoints.none({ securityGroup })`';
  } else {
    if (props.existingEndpointSecurityGroup) {
      throw new Error('RescueVpc: `existingEndpointSecurityGroup` is only used with `createEndpoints: false` ' +
        '(RescueVpc otherwise creates the endpoints and their security group). Set `createEndpoints: false`, or remove it.');
    }
    choice = RescueEndpoints.alwaysOn({ placement: props.endpointPlacement });
    replacement = '`endpoints: RescueEndpoints.alwaysOn({ placement })`';
  }
  Annotations.of(scope).addWarningV2('cdk-ec2-reset-access:deprecatedEndpointProps',
    `RescueVpc: ${deprecated.map(p => `\`${p}\``).join(', ')} ${deprecated.length === 1 ? 'is' : 'are'} deprecated; they still select ` +
    `what they did (${choice.mode === RescueEndpointsMode.NONE ? 'the VPC\'s own endpoints' : 'always-on endpoints'}). Use ${replacement} ` +
    'instead, or remove them for the new default, on-demand endpoints (no idle cost).');
  return choice;
}

function selectExistingSubnets(vpc: ec2.IVpc, selection: ec2.SubnetSelection | undefined): ec2.ISubnet[] {
  const wanted = selection ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  let subnets: ec2.ISubnet[];
  try {
    subnets = vpc.selectSubnets({ ...wanted, onePerAz: true }).subnets;
  } catch (error) {
    throw new Error(`RescueVpc: \`vpcSubnets\` selects no subnet of \`existingVpc\`${selection ? '' : ' (default: its isolated subnets)'}: ` +
      `${error instanceof Error ? error.message : String(error)}. Choose subnets with \`vpcSubnets\`.`);
  }
  if (subnets.length === 0) {
    throw new Error(`RescueVpc: \`vpcSubnets\` selects no subnet of \`existingVpc\`${selection ? '' : ' (default: its isolated subnets)'}. ` +
      'Choose subnets with `vpcSubnets`, e.g. `{ subnetGroupName: ... }` or `{ subnets: [...] }`.');
  }
  // A public subnet routes to an internet gateway: the helper, which holds a customer's root volume,
  // would have a path to the internet. CDK knows a subnet is public when the VPC says so (its own
  // Vpc, or `publicSubnetIds` of an imported one).
  const publicOnes = subnets.filter(subnet => vpc.publicSubnets.includes(subnet));
  if (publicOnes.length > 0) {
    throw new InvalidPropsError('HelperSubnetPublic', 'RescueVpc: `vpcSubnets` selects public subnets of `existingVpc` ' +
      `(${publicOnes.map(s => s.node.path).join(', ')}): they route to an internet gateway, and the helper instance holds the ` +
      'root volume of the instance being reset. Choose isolated subnets (no route to the internet), or remove `existingVpc` ' +
      'to let RescueVpc create an isolated VPC.');
  }
  return subnets;
}

function subnetCidr(subnet: ec2.ISubnet): string {
  try {
    return subnet.ipv4CidrBlock;
  } catch {
    throw new Error(`RescueVpc: the CIDR block of subnet ${subnet.node.path} is unknown, and the endpoint security group ` +
      'admits the rescue subnets by CIDR. Import the subnet with `ipv4CidrBlock` (ec2.Subnet.fromSubnetAttributes), ' +
      'or use `endpoints: RescueEndpoints.none({ securityGroup })` with endpoints of your own.');
  }
}
