/**
 * What AWS authorizes for each SDK call the step handlers make: the IAM action(s), including the
 * implied ones, every resource of every resource type the Service Authorization Reference (SAR,
 * https://docs.aws.amazon.com/service-authorization/latest/reference/) lists for the call, and the
 * context keys AWS fills from the resources as the simulated account holds them.
 *
 * One entry per operation. A call without an entry fails loudly (`requestsFor`): a new SDK call must
 * be mapped here before the rehearsal runs it. `reference.test.ts` checks every entry against the SAR
 * (iam-data): a required resource type that an entry omits fails that test.
 */
import { createHash } from 'node:crypto';
import type { Service, SimulatedAccount } from '../account';
import type { AuthorizationRequest, NamedPolicy } from './evaluate';
import { keyPolicyOf, findKeyOrUndefined } from '../account/kms';

/** A request with the resource policy that applies to it (KMS key policies). */
export interface Request extends AuthorizationRequest {
  readonly resourcePolicy?: NamedPolicy;
}

/** Builds the requests of one call from the account as it is before the call runs. */
export type RequestBuilder = (account: SimulatedAccount, input: any) => Request[];

/** Ids given to resources a call creates, in the ARNs of its requests (AWS authorizes them before it names them). */
export const NEW = {
  image: 'ami-00000000000000000',
  snapshot: 'snap-00000000000000000',
  volume: 'vol-00000000000000000',
  eni: 'eni-00000000000000000',
  instance: 'i-00000000000000000',
  vpcEndpoint: 'vpce-00000000000000000',
  serviceHostedZone: 'Z00000000000000000000',
} as const;

// ------------------------------------------------------------------ ARNs and context keys

export function ec2Arn(account: SimulatedAccount, resource: string): string {
  // SAR, Amazon EC2 resource types: images and snapshots are named without an account.
  const accountPart = /^(image|snapshot)\//.test(resource) ? '' : account.accountId;
  return `arn:aws:ec2:${account.region}:${accountPart}:${resource}`;
}

/** EC2's ARN for a resource id of any type the workflow touches (CreateTags, DeleteTags). */
function ec2ArnOfId(account: SimulatedAccount, id: string): string {
  const type = { i: 'instance', vol: 'volume', ami: 'image', snap: 'snapshot', eni: 'network-interface', vpce: 'vpc-endpoint' }[id.split('-')[0]];
  if (!type) throw new Error(`The request table does not know the EC2 resource type of ${id}.`);
  return ec2Arn(account, `${type}/${id}`);
}

/** Every EC2 request carries ec2:Region (SAR: the key of every EC2 action). */
function ec2Context(account: SimulatedAccount): Record<string, string> {
  return { 'ec2:Region': account.region };
}

/**
 * Tags as the context of a request on an existing resource: `aws:ResourceTag/<key>` and the
 * service's own form (`ec2:ResourceTag/<key>`, `ssm:resourceTag/<key>`, `autoscaling:ResourceTag/<key>`).
 */
function resourceTags(tags: Record<string, string>, servicePrefix?: string): Record<string, string> {
  const context: Record<string, string> = {};
  for (const [key, value] of Object.entries(tags)) {
    context[`aws:ResourceTag/${key}`] = value;
    if (servicePrefix) context[`${servicePrefix}/${key}`] = value;
  }
  return context;
}

/** The tags a create request asks for: `aws:RequestTag/<key>` and `aws:TagKeys`. */
function requestTags(tags: Record<string, string>): Record<string, string | string[]> {
  if (Object.keys(tags).length === 0) return {};
  return { ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])), 'aws:TagKeys': Object.keys(tags) };
}

function tagSpecifications(input: any, resourceType: string): Record<string, string> {
  return Object.fromEntries((input.TagSpecifications ?? []).filter((s: any) => s.ResourceType === resourceType)
    .flatMap((s: any) => s.Tags ?? []).map((t: any) => [t.Key, t.Value]));
}

function instanceRequest(account: SimulatedAccount, action: string, instanceId: string, extra: Record<string, string | string[]> = {}): Request {
  const instance = account.instances.get(instanceId);
  return {
    action,
    resource: ec2Arn(account, `instance/${instanceId}`),
    // An instance the account does not know is still authorized (AWS answers NotFound only to a caller it allows).
    context: {
      ...ec2Context(account),
      ...(instance ? {
        ...resourceTags(instance.tags, 'ec2:ResourceTag'),
        'ec2:InstanceID': instance.instanceId,
        'ec2:InstanceType': instance.instanceType,
        'ec2:AvailabilityZone': instance.availabilityZone,
        'ec2:RootDeviceType': instance.rootDeviceType,
      } : {}),
      ...extra,
    },
  };
}

function volumeRequest(account: SimulatedAccount, action: string, volumeId: string): Request {
  const volume = account.volumes.get(volumeId);
  return {
    action,
    resource: ec2Arn(account, `volume/${volumeId}`),
    context: {
      ...ec2Context(account),
      ...(volume ? {
        ...resourceTags(volume.tags, 'ec2:ResourceTag'),
        'ec2:VolumeID': volume.volumeId,
        'ec2:AvailabilityZone': volume.availabilityZone,
        'ec2:Encrypted': String(volume.encrypted),
        'ec2:VolumeSize': String(volume.sizeGiB),
      } : {}),
    },
  };
}

/** Reads: IAM does not scope them by resource (SAR: no resource type), so they are authorized on `*`. */
function unscoped(service: string, operation: string, context: (account: SimulatedAccount) => Record<string, string> = () => ({})): RequestBuilder {
  return account => [{ action: `${service}:${operation}`, resource: '*', context: context(account) }];
}

// ------------------------------------------------------------------ what EC2 does on the caller's behalf

/**
 * KMS actions EC2 performs as the caller for an encrypted volume. KMS Developer Guide, "How Amazon
 * EBS uses AWS KMS": creating an encrypted volume sends GenerateDataKeyWithoutPlaintext; attaching
 * one (also at every start, when EC2 attaches the instance's volumes) makes EC2 create a grant
 * (CreateGrant) and decrypt the volume's data key (Decrypt). The requests carry kms:ViaService
 * (the EC2 endpoint of the Region), kms:CallerAccount, and for the grant kms:GrantIsForAWSResource.
 * The key's policy applies as the resource policy (kms.ts).
 * assumption: the simulated account fails the call itself when a key is denied; AWS may instead
 * accept the call and fail the launch or start (Client.InternalError). Either way the reset cannot
 * go on, which is what the rehearsal must show.
 */
function kmsOnBehalf(account: SimulatedAccount, keyIdOrArn: string | undefined, purpose: 'create' | 'attach'): Request[] {
  if (!keyIdOrArn) return [];
  const key = findKeyOrUndefined(account, keyIdOrArn);
  if (!key) return [];
  const context = { 'kms:ViaService': `ec2.${account.region}.amazonaws.com`, 'kms:CallerAccount': account.accountId };
  const actions = purpose === 'create' ? ['kms:GenerateDataKeyWithoutPlaintext', 'kms:CreateGrant', 'kms:Decrypt'] : ['kms:CreateGrant', 'kms:Decrypt'];
  const resourcePolicy = keyPolicyOf(account, key);
  return actions.map(action => ({
    action,
    resource: key.arn,
    context: action === 'kms:CreateGrant' ? { ...context, 'kms:GrantIsForAWSResource': 'true' } : context,
    resourcePolicy,
  }));
}

/** The account's default EBS key: the AWS managed key aws/ebs (EC2 API Reference, ModifyEbsDefaultKmsKeyId: until it is changed). */
function defaultEbsKey(account: SimulatedAccount): string | undefined {
  return account.keys.find(k => k.aliases.includes('alias/aws/ebs'))?.arn;
}

/** The KMS requests of attaching every encrypted volume of an instance (a start attaches them all). */
function kmsForAttachedVolumes(account: SimulatedAccount, instanceId: string): Request[] {
  return [...account.volumes.values()]
    .filter(v => !v.deleted && v.attachment?.instanceId === instanceId && v.encrypted)
    .flatMap(v => kmsOnBehalf(account, v.kmsKeyId, 'attach'));
}

/**
 * Tag-on-create: EC2 User Guide, "Grant permission to tag Amazon EC2 resources during creation":
 * a create call with TagSpecifications also needs ec2:CreateTags on each resource it tags, with
 * ec2:CreateAction naming the create call ("the CreateTags action is only evaluated if tags are
 * specified" in the create request).
 */
function tagOnCreate(account: SimulatedAccount, createAction: string, arn: string, tags: Record<string, string>): Request[] {
  if (Object.keys(tags).length === 0) return [];
  return [{ action: 'ec2:CreateTags', resource: arn, context: { ...ec2Context(account), ...requestTags(tags), 'ec2:CreateAction': createAction } }];
}

// ------------------------------------------------------------------ the table

const EC2: Record<string, RequestBuilder> = {
  DescribeInstances: unscoped('ec2', 'DescribeInstances', ec2Context),
  DescribeVolumes: unscoped('ec2', 'DescribeVolumes', ec2Context),
  DescribeImages: unscoped('ec2', 'DescribeImages', ec2Context),
  /** SAR: instance (required), unlike the other Describe actions. */
  DescribeInstanceAttribute: (account, input) => [instanceRequest(account, 'ec2:DescribeInstanceAttribute', input.InstanceId)],
  DescribeInstanceTypes: unscoped('ec2', 'DescribeInstanceTypes', ec2Context),
  DescribeInstanceTypeOfferings: unscoped('ec2', 'DescribeInstanceTypeOfferings', ec2Context),
  GetEbsDefaultKmsKeyId: unscoped('ec2', 'GetEbsDefaultKmsKeyId', ec2Context),
  GetEbsEncryptionByDefault: unscoped('ec2', 'GetEbsEncryptionByDefault', ec2Context),
  DescribeSnapshots: unscoped('ec2', 'DescribeSnapshots', ec2Context),

  /** SAR: image (required), with its tags. */
  DeregisterImage: (account, input) => [{
    action: 'ec2:DeregisterImage',
    resource: ec2Arn(account, `image/${input.ImageId}`),
    context: { ...ec2Context(account), ...resourceTags(account.images.get(input.ImageId)?.tags ?? {}, 'ec2:ResourceTag') },
  }],
  /** SAR: snapshot (required), with its tags. */
  DeleteSnapshot: (account, input) => [{
    action: 'ec2:DeleteSnapshot',
    resource: ec2Arn(account, `snapshot/${input.SnapshotId}`),
    context: { ...ec2Context(account), ...resourceTags(account.snapshots.get(input.SnapshotId)?.tags ?? {}, 'ec2:ResourceTag') },
  }],

  /**
   * SAR: instance (required), security-group and volume (optional). EC2 User Guide, "ec2:Attribute
   * condition key": it filters by the attribute a request changes; it "supports only properties that
   * are of a primitive data type ... or complex AttributeValue objects that contain only a Value
   * property", and `ec2:Attribute/<name>` carries such a value.
   * assumption: ec2:Attribute holds the name of the request parameter that is set (`BlockDeviceMappings`,
   * `UserData`, ... or the value of `Attribute`), as AWS shows it in authorization messages; a block
   * device mapping (objects of several properties) gets no `ec2:Attribute/<name>` value.
   * assumption (pessimistic): a mapping that names an attached volume is authorized on that volume too.
   */
  ModifyInstanceAttribute(account, input) {
    const attributes = modifiedAttributes(input);
    const requests: Request[] = attributes.map(a => instanceRequest(account, 'ec2:ModifyInstanceAttribute', input.InstanceId, {
      'ec2:Attribute': a.name, ...(a.value !== undefined ? { [`ec2:Attribute/${a.name}`]: a.value } : {}),
    }));
    for (const mapping of input.BlockDeviceMappings ?? []) {
      const volume = account.volumeAt(input.InstanceId, mapping.DeviceName);
      if (volume) requests.push(volumeRequest(account, 'ec2:ModifyInstanceAttribute', volume.volumeId));
    }
    for (const group of input.Groups ?? []) {
      requests.push({ action: 'ec2:ModifyInstanceAttribute', resource: ec2Arn(account, `security-group/${group}`), context: { ...ec2Context(account), 'ec2:SecurityGroupID': group } });
    }
    return requests;
  },

  StopInstances: (account, input) => (input.InstanceIds as string[]).map(id => instanceRequest(account, 'ec2:StopInstances', id)),
  StartInstances: (account, input) => (input.InstanceIds as string[]).flatMap(id => [
    instanceRequest(account, 'ec2:StartInstances', id),
    ...kmsForAttachedVolumes(account, id),
  ]),
  TerminateInstances: (account, input) => (input.InstanceIds as string[]).map(id => instanceRequest(account, 'ec2:TerminateInstances', id)),
  GetPasswordData: (account, input) => [instanceRequest(account, 'ec2:GetPasswordData', input.InstanceId)],

  /** SAR: image, instance, snapshot (all required); the tags of the new image and snapshots (tag-on-create). */
  CreateImage(account, input) {
    const imageTags = tagSpecifications(input, 'image');
    const snapshotTags = tagSpecifications(input, 'snapshot');
    const image = ec2Arn(account, `image/${NEW.image}`);
    const snapshot = ec2Arn(account, `snapshot/${NEW.snapshot}`);
    return [
      instanceRequest(account, 'ec2:CreateImage', input.InstanceId),
      { action: 'ec2:CreateImage', resource: image, context: { ...ec2Context(account), ...requestTags(imageTags) } },
      { action: 'ec2:CreateImage', resource: snapshot, context: { ...ec2Context(account), ...requestTags(snapshotTags) } },
      ...tagOnCreate(account, 'CreateImage', image, imageTags),
      ...tagOnCreate(account, 'CreateImage', snapshot, snapshotTags),
    ];
  },

  /**
   * SAR: image, instance, network-interface, security-group, subnet (required); volume, key-pair
   * (optional: present here, the root volume always, a key pair when named). iam:PassRole for the
   * instance profile's role (EC2 User Guide, "IAM roles for Amazon EC2": launching with a role needs
   * iam:PassRole), tag-on-create, and the KMS requests of each encrypted new volume.
   */
  RunInstances(account, input) {
    const eni = input.NetworkInterfaces?.[0] ?? {};
    const subnetId = eni.SubnetId ?? input.SubnetId;
    const subnet = account.subnets.get(subnetId);
    const image = account.images.get(input.ImageId);
    const instanceTags = tagSpecifications(input, 'instance');
    const volumeTags = tagSpecifications(input, 'volume');
    const az = subnet?.availabilityZone;
    const profile = input.IamInstanceProfile?.Arn as string | undefined;
    const root = (input.BlockDeviceMappings ?? []).find((m: any) => m.Ebs) ?? { Ebs: {} };
    const encrypted = root.Ebs.Encrypted === true;
    const instanceArn = ec2Arn(account, `instance/${NEW.instance}`);
    const volumeArn = ec2Arn(account, `volume/${NEW.volume}`);
    const requests: Request[] = [
      {
        action: 'ec2:RunInstances',
        resource: instanceArn,
        context: {
          ...ec2Context(account),
          ...requestTags(instanceTags),
          'ec2:InstanceType': input.InstanceType,
          ...(profile ? { 'ec2:InstanceProfile': profile } : {}),
          'ec2:MetadataHttpTokens': input.MetadataOptions?.HttpTokens ?? 'optional',
          ...(az ? { 'ec2:AvailabilityZone': az } : {}),
          'ec2:RootDeviceType': 'ebs',
        },
      },
      {
        action: 'ec2:RunInstances',
        resource: ec2Arn(account, `image/${input.ImageId}`),
        context: {
          ...ec2Context(account),
          ...(image ? {
            ...resourceTags(image.tags, 'ec2:ResourceTag'),
            'ec2:ImageID': image.imageId,
            // SAR, ec2:Owner: "the owner of the resource (amazon, aws-marketplace, or an AWS account ID)".
            'ec2:Owner': image.ownerAlias ?? image.ownerId,
            'ec2:Public': String(image.isPublic),
            'ec2:ImageType': 'machine',
            'ec2:RootDeviceType': 'ebs',
          } : {}),
        },
      },
      {
        action: 'ec2:RunInstances',
        resource: ec2Arn(account, `network-interface/${NEW.eni}`),
        context: {
          ...ec2Context(account),
          // The launch's own interface: a public address only when asked for.
          'ec2:AssociatePublicIpAddress': String(eni.AssociatePublicIpAddress ?? input.AssociatePublicIpAddress ?? false),
          'ec2:Subnet': ec2Arn(account, `subnet/${subnetId}`),
          ...(az ? { 'ec2:AvailabilityZone': az } : {}),
        },
      },
      ...((eni.Groups ?? input.SecurityGroupIds ?? []) as string[]).map(group => ({
        action: 'ec2:RunInstances',
        resource: ec2Arn(account, `security-group/${group}`),
        context: { ...ec2Context(account), 'ec2:SecurityGroupID': group },
      })),
      {
        action: 'ec2:RunInstances',
        resource: ec2Arn(account, `subnet/${subnetId}`),
        context: { ...ec2Context(account), 'ec2:SubnetID': subnetId, ...(az ? { 'ec2:AvailabilityZone': az } : {}) },
      },
      {
        action: 'ec2:RunInstances',
        resource: volumeArn,
        context: { ...ec2Context(account), ...requestTags(volumeTags), 'ec2:Encrypted': String(encrypted), ...(az ? { 'ec2:AvailabilityZone': az } : {}) },
      },
      ...(input.KeyName ? [{ action: 'ec2:RunInstances', resource: ec2Arn(account, `key-pair/${input.KeyName}`), context: { ...ec2Context(account), 'ec2:KeyPairName': input.KeyName } }] : []),
      ...tagOnCreate(account, 'RunInstances', instanceArn, instanceTags),
      ...tagOnCreate(account, 'RunInstances', volumeArn, volumeTags),
    ];
    if (profile) {
      const role = account.iam.instanceProfileRoles.get(profile);
      if (role) requests.push({ action: 'iam:PassRole', resource: role, context: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
    }
    if (encrypted) requests.push(...kmsOnBehalf(account, root.Ebs.KmsKeyId ?? defaultEbsKey(account), 'create'));
    return requests;
  },

  /** SAR: instance and volume (both required); attaching an encrypted volume makes EC2 use its key. */
  AttachVolume: (account, input) => {
    const volume = account.volumes.get(input.VolumeId);
    return [
      instanceRequest(account, 'ec2:AttachVolume', input.InstanceId),
      volumeRequest(account, 'ec2:AttachVolume', input.VolumeId),
      ...(volume?.encrypted ? kmsOnBehalf(account, volume.kmsKeyId, 'attach') : []),
    ];
  },

  /** SAR: volume (required), instance (optional: only when the request names it). */
  DetachVolume: (account, input) => [
    volumeRequest(account, 'ec2:DetachVolume', input.VolumeId),
    ...(input.InstanceId ? [instanceRequest(account, 'ec2:DetachVolume', input.InstanceId)] : []),
  ],

  /** SAR: no resource type (wildcard only). */
  DescribeVpcEndpoints: unscoped('ec2', 'DescribeVpcEndpoints', ec2Context),

  /**
   * SAR: vpc-endpoint and vpc (required), subnet, security-group and route-table (optional: each one
   * the request names). The new endpoint carries the request's tags and the service it is for
   * (ec2:VpceServiceName; ec2:VpceServiceOwner `amazon` for an AWS service, as the PrivateLink
   * Guide's "Control VPC endpoints creation based on the service owner" example filters on).
   * Tag-on-create as for every EC2 create. Private DNS: the SAR lists route53:AssociateVPCWithHostedZone
   * as a dependent action of CreateVpcEndpoint (the private hosted zone of the service's default
   * DNS name is associated with the VPC; CreateVpcEndpoint, PrivateDnsEnabled), with route53:VPCs
   * `VPCId=<vpc>,VPCRegion=<region>` (Route 53 Developer Guide, "Using IAM policy conditions for
   * fine-grained access control"). assumption: EC2 asks for it on the caller's behalf whenever private
   * DNS is enabled (the default for an AWS service), on the AWS-owned zone, whose id the caller never
   * sees (a fixed id here). iam-data carries no dependent actions, so this one is mapped by hand.
   */
  CreateVpcEndpoint(account, input) {
    const tags = tagSpecifications(input, 'vpc-endpoint');
    const endpoint = ec2Arn(account, `vpc-endpoint/${NEW.vpcEndpoint}`);
    const privateDns = (input.VpcEndpointType ?? 'Gateway') === 'Interface' && input.PrivateDnsEnabled !== false;
    return [
      {
        action: 'ec2:CreateVpcEndpoint',
        resource: endpoint,
        context: {
          ...ec2Context(account),
          ...requestTags(tags),
          'ec2:VpceServiceName': input.ServiceName,
          ...(String(input.ServiceName).startsWith('com.amazonaws.') ? { 'ec2:VpceServiceOwner': 'amazon' } : {}),
        },
      },
      { action: 'ec2:CreateVpcEndpoint', resource: ec2Arn(account, `vpc/${input.VpcId}`), context: { ...ec2Context(account), 'ec2:VpcID': input.VpcId } },
      ...((input.SubnetIds ?? []) as string[]).map(id => ({
        action: 'ec2:CreateVpcEndpoint', resource: ec2Arn(account, `subnet/${id}`), context: { ...ec2Context(account), 'ec2:SubnetID': id },
      })),
      ...((input.SecurityGroupIds ?? []) as string[]).map(id => ({
        action: 'ec2:CreateVpcEndpoint', resource: ec2Arn(account, `security-group/${id}`), context: { ...ec2Context(account), 'ec2:SecurityGroupID': id },
      })),
      ...((input.RouteTableIds ?? []) as string[]).map(id => ({
        action: 'ec2:CreateVpcEndpoint', resource: ec2Arn(account, `route-table/${id}`), context: { ...ec2Context(account), 'ec2:RouteTableID': id },
      })),
      ...tagOnCreate(account, 'CreateVpcEndpoint', endpoint, tags),
      ...(privateDns ? [{
        action: 'route53:AssociateVPCWithHostedZone',
        resource: `arn:aws:route53:::hostedzone/${NEW.serviceHostedZone}`,
        context: { 'route53:VPCs': `VPCId=${input.VpcId},VPCRegion=${account.region}` },
      }] : []),
    ];
  },

  /** SAR: vpc-endpoint (required), each one named, with its tags and service. */
  DeleteVpcEndpoints: (account, input) => (input.VpcEndpointIds as string[]).map(id => {
    const endpoint = account.vpcEndpoints.get(id);
    return {
      action: 'ec2:DeleteVpcEndpoints',
      resource: ec2Arn(account, `vpc-endpoint/${id}`),
      context: {
        ...ec2Context(account),
        ...(endpoint ? { ...resourceTags(endpoint.tags, 'ec2:ResourceTag'), 'ec2:VpceServiceName': endpoint.serviceName } : {}),
      },
    };
  }),

  /** SAR: every taggable resource type (the ones named); aws:RequestTag, aws:TagKeys and the resource's own tags. */
  CreateTags: (account, input) => (input.Resources as string[]).map(id => ({
    action: 'ec2:CreateTags',
    resource: ec2ArnOfId(account, id),
    context: { ...ec2Context(account), ...resourceTags(tagsOf(account, id), 'ec2:ResourceTag'), ...requestTags(tagMap(input.Tags)) },
  })),
  DeleteTags: (account, input) => (input.Resources as string[]).map(id => ({
    action: 'ec2:DeleteTags',
    resource: ec2ArnOfId(account, id),
    context: {
      ...ec2Context(account),
      ...resourceTags(tagsOf(account, id), 'ec2:ResourceTag'),
      ...(input.Tags ? { 'aws:TagKeys': (input.Tags as any[]).map(t => t.Key) } : {}),
    },
  })),
};

/**
 * The attributes a ModifyInstanceAttribute request sets (its API reference: one attribute per call,
 * as `Attribute`+`Value` or as the attribute's own parameter).
 */
export function modifiedAttributes(input: any): Array<{ name: string; value?: string }> {
  if (input.Attribute) return [{ name: input.Attribute, ...(input.Value !== undefined ? { value: String(input.Value) } : {}) }];
  const ignored = new Set(['InstanceId', 'DryRun']);
  return Object.entries(input).filter(([k]) => !ignored.has(k)).map(([name, v]: [string, any]) => {
    const single = v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && 'Value' in v;
    return single ? { name, value: typeof v.Value === 'object' ? Buffer.from(v.Value).toString('base64') : String(v.Value) } : { name };
  });
}

function tagMap(tags: any[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).map(t => [t.Key, t.Value ?? '']));
}

function tagsOf(account: SimulatedAccount, id: string): Record<string, string> {
  return account.instances.get(id)?.tags ?? account.volumes.get(id)?.tags ?? account.images.get(id)?.tags ?? account.snapshots.get(id)?.tags ?? {};
}

function ssmInstanceArn(account: SimulatedAccount, id: string): string {
  return ec2Arn(account, `instance/${id}`);
}

/** SSM's ARN of a parameter: AWS's public parameters have no account. */
export function parameterArn(account: SimulatedAccount, name: string): string {
  return `arn:aws:ssm:${account.region}:${isPublicParameter(name) ? '' : account.accountId}:parameter/${name.replace(/^\//, '')}`;
}

function isPublicParameter(name: string): boolean {
  return name.startsWith('/aws/service/');
}

const SSM: Record<string, RequestBuilder> = {
  DescribeInstanceInformation: unscoped('ssm', 'DescribeInstanceInformation'),
  ListCommands: unscoped('ssm', 'ListCommands'),
  GetCommandInvocation: unscoped('ssm', 'GetCommandInvocation'),
  CancelCommand: unscoped('ssm', 'CancelCommand'),
  DescribeParameters: unscoped('ssm', 'DescribeParameters'),

  /**
   * SAR: document (required), instance (optional: each target instance). Systems Manager User Guide,
   * "Restricting Run Command access based on tags": instance tags are evaluated as ssm:resourceTag/<key>.
   * Documents AWS owns (`AWS-*`, `AWSSupport-*`) have ARNs without an account.
   */
  SendCommand: (account, input) => [
    {
      action: 'ssm:SendCommand',
      resource: `arn:aws:ssm:${account.region}::document/${input.DocumentName}`,
      context: {},
      outsideReferenceFormat: 'Systems Manager User Guide: documents AWS owns are named arn:aws:ssm:<region>::document/<name>, without an account',
    },
    ...((input.InstanceIds ?? []) as string[]).map(id => ({
      action: 'ssm:SendCommand',
      resource: ssmInstanceArn(account, id),
      context: resourceTags(account.instances.get(id)?.tags ?? {}, 'ssm:resourceTag'),
    })),
  ],
  GetParameter: (account, input) => [{
    action: 'ssm:GetParameter',
    resource: parameterArn(account, input.Name),
    context: {},
    ...(isPublicParameter(input.Name)
      ? { outsideReferenceFormat: 'Systems Manager User Guide, public parameters: arn:aws:ssm:<region>::parameter/aws/service/..., without an account' }
      : {}),
  }],
  DeleteParameter: (account, input) => [{ action: 'ssm:DeleteParameter', resource: parameterArn(account, input.Name), context: {} }],
  DeleteParameters: (account, input) => (input.Names as string[]).map(name => ({ action: 'ssm:DeleteParameters', resource: parameterArn(account, name), context: {} })),
};

/** The tags of an Auto Scaling group, as the simulated account holds them (none for a group it does not know). */
function groupTags(account: SimulatedAccount, name: string): Record<string, string> {
  return account.autoScalingGroups.get(name)?.tags ?? {};
}

/** SAR, Amazon EC2 Auto Scaling: autoScalingGroup, with its tags as aws:ResourceTag and autoscaling:ResourceTag. */
function autoScalingGroupRequest(account: SimulatedAccount, action: string, name: string): Request {
  const id = createHash('sha256').update(name).digest('hex');
  const uuid = `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`;
  return {
    action,
    resource: `arn:aws:autoscaling:${account.region}:${account.accountId}:autoScalingGroup:${uuid}:autoScalingGroupName/${name}`,
    context: resourceTags(groupTags(account, name), 'autoscaling:ResourceTag'),
  };
}

const AUTO_SCALING: Record<string, RequestBuilder> = {
  DescribeAutoScalingInstances: unscoped('autoscaling', 'DescribeAutoScalingInstances'),
  DescribeAutoScalingGroups: unscoped('autoscaling', 'DescribeAutoScalingGroups'),
  EnterStandby: (account, input) => [autoScalingGroupRequest(account, 'autoscaling:EnterStandby', input.AutoScalingGroupName)],
  ExitStandby: (account, input) => [autoScalingGroupRequest(account, 'autoscaling:ExitStandby', input.AutoScalingGroupName)],
  /**
   * SAR: autoScalingGroup (required), with the request keys of the settings the call changes
   * (autoscaling:MinSize, autoscaling:MaxSize, autoscaling:LaunchConfigurationName, ...), each present
   * only when the request sets it. The SAR has no key for DesiredCapacity.
   */
  UpdateAutoScalingGroup(account, input) {
    const request = autoScalingGroupRequest(account, 'autoscaling:UpdateAutoScalingGroup', input.AutoScalingGroupName);
    const launchTemplate = input.LaunchTemplate ?? input.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
    const overrides: Array<{ InstanceType?: string }> | undefined = input.MixedInstancesPolicy?.LaunchTemplate?.Overrides;
    const keys: Record<string, string | string[] | undefined> = {
      'autoscaling:MinSize': input.MinSize?.toString(),
      'autoscaling:MaxSize': input.MaxSize?.toString(),
      'autoscaling:LaunchConfigurationName': input.LaunchConfigurationName,
      'autoscaling:LaunchTemplateVersionSpecified': launchTemplate ? String(launchTemplate.Version !== undefined) : undefined,
      'autoscaling:VPCZoneIdentifiers': input.VPCZoneIdentifier?.split(','),
      'autoscaling:InstanceTypes': overrides?.map(o => o.InstanceType ?? ''),
    };
    const given = Object.fromEntries(Object.entries(keys).filter(([, value]) => value !== undefined)) as Record<string, string | string[]>;
    return [{ ...request, context: { ...request.context, ...given } }];
  },
};

function tableArn(account: SimulatedAccount, name: string): string {
  return `arn:aws:dynamodb:${account.region}:${account.accountId}:table/${name}`;
}

/**
 * The request DynamoDB makes to KMS as the caller for a table encrypted with a customer managed key.
 * DynamoDB Developer Guide, "DynamoDB encryption at rest usage notes": on access DynamoDB decrypts
 * the table key with a Decrypt request whose user is "the principal in your AWS account who is
 * accessing the table", with the encryption context aws:dynamodb:tableName and
 * aws:dynamodb:subscriberId; the table key is generated by the DynamoDB service account.
 * assumption: every call decrypts (DynamoDB caches the plaintext table key up to five minutes of
 * inactivity, which only makes real traffic a subset of these requests).
 */
function kmsForTable(account: SimulatedAccount, name: string): Request[] {
  const keyArn = account.tableKeys.get(name);
  const key = keyArn ? findKeyOrUndefined(account, keyArn) : undefined;
  if (!key) return [];
  return [{
    action: 'kms:Decrypt',
    resource: key.arn,
    context: {
      'kms:ViaService': `dynamodb.${account.region}.amazonaws.com`,
      'kms:CallerAccount': account.accountId,
      // The encryption context (aws:dynamodb:tableName, aws:dynamodb:subscriberId) is left out: the
      // evaluator cannot match kms:EncryptionContext:<key>, so no statement may rely on it.
    },
    resourcePolicy: keyPolicyOf(account, key),
  }];
}

/** SAR, Amazon DynamoDB: table (required); and KMS as the caller when the table has a customer managed key. */
const DYNAMODB: Record<string, RequestBuilder> = Object.fromEntries(['GetItem', 'PutItem', 'DeleteItem', 'UpdateItem', 'Scan'].map(op => [
  op, (account: SimulatedAccount, input: any) => [
    { action: `dynamodb:${op}`, resource: tableArn(account, input.TableName), context: {} },
    ...kmsForTable(account, input.TableName),
  ],
]));

const KMS: Record<string, RequestBuilder> = {
  /** SAR: key (required); the key policy applies (a key named by alias is authorized on the key it names). */
  DescribeKey(account, input) {
    const key = findKeyOrUndefined(account, input.KeyId);
    if (!key) return [];
    return [{ action: 'kms:DescribeKey', resource: key.arn, context: { 'kms:CallerAccount': account.accountId }, resourcePolicy: keyPolicyOf(account, key) }];
  },
};

const IAM: Record<string, RequestBuilder> = {
  /** SAR: instance-profile (required). */
  GetInstanceProfile: (account, input) => [{
    action: 'iam:GetInstanceProfile', resource: `arn:aws:iam::${account.accountId}:instance-profile/${input.InstanceProfileName}`, context: {},
  }],
  /** SAR: role, user or group (optional): the principal whose policies are simulated. */
  SimulatePrincipalPolicy: (_account, input) => [{ action: 'iam:SimulatePrincipalPolicy', resource: input.PolicySourceArn, context: {} }],
};

/** SAR, AWS Step Functions: execution (required) for DescribeExecution; statemachine for ListExecutions and StartExecution. */
const STATES: Record<string, RequestBuilder> = {
  DescribeExecution: (_account, input) => [{ action: 'states:DescribeExecution', resource: input.executionArn, context: {} }],
  ListExecutions: (_account, input) => [{ action: 'states:ListExecutions', resource: input.stateMachineArn, context: {} }],
  StartExecution: (_account, input) => [{ action: 'states:StartExecution', resource: input.stateMachineArn, context: {} }],
};

/**
 * SAR, Service Quotas: GetServiceQuota on the resource type `quota` (required),
 * `arn:${Partition}:servicequotas:${Region}:${Account}:${ServiceCode}/${QuotaCode}`; no condition keys.
 */
const SERVICE_QUOTAS: Record<string, RequestBuilder> = {
  GetServiceQuota: (account, input) => [{
    action: 'servicequotas:GetServiceQuota',
    resource: `arn:aws:servicequotas:${account.region}:${account.accountId}:${input.ServiceCode}/${input.QuotaCode}`,
    context: {},
  }],
};

export const REQUEST_TABLE: Readonly<Record<Service, Readonly<Record<string, RequestBuilder>>>> = {
  ec2: EC2, ssm: SSM, autoscaling: AUTO_SCALING, dynamodb: DYNAMODB, kms: KMS, iam: IAM, states: STATES, servicequotas: SERVICE_QUOTAS,
};

/** The requests AWS authorizes for one call; a call the table does not map fails loudly. */
export function requestsFor(account: SimulatedAccount, service: Service, operation: string, input: any): Request[] {
  const table = REQUEST_TABLE[service];
  const build = Object.hasOwn(table, operation) ? table[operation] : undefined;
  if (!build) {
    throw new Error(`IAM: no request table entry for ${service}:${operation}. Map it in test/rehearsal/iam/requests.ts ` +
      '(the action, every resource type the Service Authorization Reference lists, the context keys) before a step calls it.');
  }
  return build(account, input ?? {});
}
