/**
 * EC2 instances: their lifecycle in modelled time (boot, stop, terminate), what Windows posts as
 * password data at a boot (EC2Launch), and the instance operations, RunInstances included.
 *
 * A state change here has effects other services own; each is a function of its owner's module,
 * called at the point of the change: the SSM Agent's registration and connection (ssm-commands.ts),
 * Auto Scaling's health check of a stopped member and its member records (auto-scaling.ts), the
 * volumes a termination deletes or releases (ec2-volumes.ts).
 *
 * Documents quoted (EC2 API Reference, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/; EC2 User Guide,
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/):
 * - [LIFE] User Guide, "Amazon EC2 instance state changes" (ec2-instance-lifecycle.html).
 * - [STOP] User Guide, "Methods for stopping an instance" (instance-stop-methods.html); API Reference,
 *   StopInstances (API_StopInstances.html).
 * - [IP] User Guide, "Amazon EC2 instance IP addressing", public IPv4 addresses (using-instance-addressing.html).
 * - [GPD] API Reference, GetPasswordData (API_GetPasswordData.html).
 * - [INST] API Reference, Instance (API_Instance.html) and InstanceState (API_InstanceState.html).
 * - [IDEM] EC2 Developer Guide, "Ensuring idempotency in Amazon EC2 API requests"
 *   (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html).
 * - [ERR] API Reference, "Error codes for the Amazon EC2 API" (errors-overview.html).
 */
import { constants, publicEncrypt, randomBytes } from 'node:crypto';
import type { Operations, SimulatedAccount } from './account';
import { memberTerminated, replaceWhenStoppedInService } from './auto-scaling';
import { ec2CanUseKey, LAUNCH_FAILURE_KMS, newVolumeEncryption } from './ebs-encryption';
import { matchesFilter } from './ec2-filters';
import { requestedTags, tagList } from './ec2-tags';
import { markUnflushedVolumes, releaseVolumesOfTerminated, sameDevice } from './ec2-volumes';
import { ec2Error } from './errors';
import { mayUseKey } from './kms';
import { agentLosesConnection, agentRegistersAfterBoot } from './ssm-commands';

export type InstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';

/** An instance type of the simulated Region, as DescribeInstanceTypes describes it. */
export interface SimInstanceType {
  /** InstanceStorageSupported: whether the type has instance store volumes. */
  readonly instanceStorageSupported: boolean;
  /** VCpuInfo.DefaultCores. */
  readonly defaultCores: number;
  /** VCpuInfo.DefaultThreadsPerCore; VCpuInfo.DefaultVCpus is cores times threads per core. */
  readonly defaultThreadsPerCore: number;
}

/**
 * The instance types of the simulated Region: the helper types the workflow may launch (t3.medium,
 * the configured default, and its fallbacks t3a.medium, m5.large, m6i.large: contracts.ts
 * HELPER_INSTANCE_TYPE_FALLBACKS), targets' types, and t3.xlarge for a larger helper. vCPUs from the
 * Amazon EC2 Instance Types guide, "Specifications for general purpose instances"
 * (https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html), default vCPUs, CPU cores and
 * threads per core: t3.medium, t3a.medium, m5.large, m5d.large, m6i.large and t3.large have 2 vCPUs
 * (1 core, 2 threads per core); t3.xlarge has 4 (2 cores, 2 threads per core). m5d.large is the one
 * with an instance store volume (1 x 75 GB NVMe SSD, the same page's instance store table).
 */
export const SIM_INSTANCE_TYPES: Readonly<Record<string, SimInstanceType>> = {
  't3.medium': { instanceStorageSupported: false, defaultCores: 1, defaultThreadsPerCore: 2 },
  't3a.medium': { instanceStorageSupported: false, defaultCores: 1, defaultThreadsPerCore: 2 },
  'm5.large': { instanceStorageSupported: false, defaultCores: 1, defaultThreadsPerCore: 2 },
  'm6i.large': { instanceStorageSupported: false, defaultCores: 1, defaultThreadsPerCore: 2 },
  'm5d.large': { instanceStorageSupported: true, defaultCores: 1, defaultThreadsPerCore: 2 },
  't3.large': { instanceStorageSupported: false, defaultCores: 1, defaultThreadsPerCore: 2 },
  't3.xlarge': { instanceStorageSupported: false, defaultCores: 2, defaultThreadsPerCore: 2 },
};

/** VCpuInfo.DefaultVCpus of a type: its default cores times threads per core (API Reference, VCpuInfo). */
export function defaultVcpus(type: SimInstanceType): number {
  return type.defaultCores * type.defaultThreadsPerCore;
}

export interface SimInstance {
  readonly instanceId: string;
  readonly imageId: string;
  readonly instanceType: string;
  readonly availabilityZone: string;
  readonly subnetId: string;
  state: InstanceState;
  launchTime: number;
  readonly platform?: 'windows';
  readonly platformDetails: string;
  readonly rootDeviceName: string;
  readonly rootDeviceType: 'ebs' | 'instance-store';
  readonly instanceLifecycle?: 'spot';
  readonly productCodes: { id: string; type: string }[];
  shutdownBehavior: 'stop' | 'terminate';
  readonly tags: Record<string, string>;
  /** An auto-assigned (amazon-owned) or Elastic IP address. */
  publicIp?: { address: string; owner: 'amazon' | 'elastic' };
  /** Whether the SSM Agent runs with a usable role (it registers after boot). */
  readonly ssmAgent: boolean;
  /** Set once the agent has registered (Online at least once). */
  ssmRegistered: boolean;
  pingStatus?: 'Online' | 'ConnectionLost';
  /** The key pair it was launched with. */
  readonly keyName?: string;
  /** ARN of its instance profile (whose role its software, EC2Rescue included, acts as). */
  readonly instanceProfileArn?: string;
  /** GetPasswordData's blob ('' until generated at a boot). */
  passwordData: string;
  passwordTimestamp?: number;
  ec2RescueInstalled: boolean;
  readonly clientToken?: string;
  readonly runInstancesFingerprint?: string;
  stateReason?: { readonly code: string; readonly message: string };
  /** Why this instance cannot get past `pending` (set by RunInstances): it is terminated at launch. */
  launchFailure?: { readonly code: string; readonly message: string };
  /** Bumped on every state change, so timers of an overtaken transition do nothing. */
  transition: number;
  readonly isHelper: boolean;
  /** Set when the target was rebooted by CreateImage with NoReboot=false. */
  rebootedByCreateImage?: boolean;
  /**
   * A stop that hangs (for a test): the guest never finishes its shutdown, so a normal stop stays
   * `stopping`; only a forced stop, or one without the OS shutdown, completes.
   */
  stopHangs?: boolean;
}

/** [INST] InstanceState Code: 0 pending, 16 running, 32 shutting-down, 48 terminated, 64 stopping, 80 stopped. */
const STATE_CODES: Record<InstanceState, number> = { 'pending': 0, 'running': 16, 'shutting-down': 32, 'terminated': 48, 'stopping': 64, 'stopped': 80 };

// ------------------------------------------------------------------ lifecycle

function setState(account: SimulatedAccount, instance: SimInstance, state: InstanceState): number {
  instance.state = state;
  instance.transition++;
  account.moment(`${instance.instanceId}:${state}`);
  return instance.transition;
}

function boot(account: SimulatedAccount, instance: SimInstance): void {
  const t = setState(account, instance, 'pending');
  account.after('instancePendingToRunning', () => {
    if (instance.transition !== t) return;
    if (instance.launchFailure) {
      // EBS's rule (ebs-encryption.ts): a volume key EC2 cannot use ends the launch; the instance is terminated.
      instance.stateReason = instance.launchFailure;
      terminate(account, instance);
      return;
    }
    setState(account, instance, 'running');
    onRunning(account, instance);
  });
}

function onRunning(account: SimulatedAccount, instance: SimInstance): void {
  const t = instance.transition;
  const root = account.volumeAt(instance.instanceId, instance.rootDeviceName);
  // [GPD]: the Windows password "is generated at boot by the EC2Config service or EC2Launch scripts" and "is
  // encrypted using the key pair that you specified when you launched the instance": an instance launched
  // without a key pair never has password data to retrieve (EC2 Windows guide, "Cannot retrieve Windows
  // password"). Until it is posted GetPasswordData returns "an empty string" ('' here); the post comes
  // `passwordAfterBoot` after the boot ([GPD] "may take a few minutes").
  if (instance.platform === 'windows' && root?.passwordGenerationArmed && instance.keyName) {
    account.after('passwordAfterBoot', () => {
      if (instance.transition !== t) return;
      instance.passwordData = newPasswordBlob(account, instance);
      instance.passwordTimestamp = account.now();
      root.passwordGenerationArmed = false;
      account.moment(`password-data:${instance.instanceId}`);
    });
  }
  // Systems Manager's rule: the agent registers some time after the boot.
  agentRegistersAfterBoot(account, instance);
}

/**
 * AWS Knowledge Center, "When I start my instance with encrypted volumes attached, the instance immediately
 * stops with the error 'client error on launch'"
 * (https://aws.amazon.com/premiumsupport/knowledge-center/encrypted-volumes-stops-immediately/): a start whose volume key (root or any attached volume)
 * the caller may not use is accepted, then the instance goes back to stopped with the state reason
 * `Client.InternalError: Client error on launch` (LAUNCH_FAILURE_KMS, ebs-encryption.ts).
 */
function bootFailsOnKey(account: SimulatedAccount, instance: SimInstance, keyId: string): void {
  const t = setState(account, instance, 'pending');
  account.after('instancePendingToRunning', () => {
    if (instance.transition !== t) return;
    instance.stateReason = { code: LAUNCH_FAILURE_KMS.code, message: `${LAUNCH_FAILURE_KMS.message} (the caller may not use the KMS key ${keyId})` };
    setState(account, instance, 'stopped');
  });
}

/**
 * StopInstances, in its three modes ([STOP]):
 * - normal: "Normal instance shutdown with attempted graceful OS shutdown"; the guest flushes its
 *   file systems (windowsStop). An instance whose shutdown hangs (`stopHangs`) stays stopping.
 * - Force: "Attempts a default stop first; if instance fails to stop, then forcibly stops the
 *   instance", for an instance "stuck in stopping state"; forcibly means "without flushing the file
 *   system caches and metadata". Assumption: the forced end comes `forcedStop` after the Force (on a
 *   running instance, after the normal stop it starts), unless the normal stop ends first.
 * - SkipOsShutdown: "Bypasses the graceful OS shutdown"; "might result in data loss or corruption
 *   (for example, memory contents not flushed to disk or loss of in-flight IOs)".
 * A stop that does not flush, while a command may be writing on the instance, leaves the volumes
 * it writes to possibly corrupted (ec2-volumes.ts).
 */
function stop(account: SimulatedAccount, instance: SimInstance, mode: 'normal' | 'force' | 'skip-os-shutdown'): void {
  if (instance.state === 'running') {
    setState(account, instance, 'stopping');
    agentLosesConnection(instance);
    if (mode !== 'skip-os-shutdown' && !instance.stopHangs) {
      const t = instance.transition;
      account.after('windowsStop', () => { if (instance.transition === t) stopped(account, instance); });
    }
  }
  if (instance.state !== 'stopping' || mode === 'normal') return;
  const t = instance.transition;
  const unflushed = mode === 'force' ? 'a forced stop (StopInstances Force)' : 'a stop without the OS shutdown (StopInstances SkipOsShutdown)';
  account.after(mode === 'force' ? 'forcedStop' : 'stopWithoutOsShutdown', () => {
    if (instance.transition !== t) return;
    markUnflushedVolumes(account, instance, unflushed);
    stopped(account, instance);
  });
}

function stopped(account: SimulatedAccount, instance: SimInstance): void {
  setState(account, instance, 'stopped');
  // Pessimistic assumption: GetPasswordData keeps returning the data of an earlier boot
  // (with its old Timestamp) until EC2Launch posts new data, so a check must compare times.
  // [IP] "We release your instance's public IP address when it is stopped, hibernated, or terminated"; a
  // stopped instance gets a new one at its start. An Elastic IP address stays associated.
  if (instance.publicIp?.owner === 'amazon') delete instance.publicIp;
  // Auto Scaling's rule (auto-scaling.ts): a stopped InService member fails its health check and is replaced.
  replaceWhenStoppedInService(account, instance, () => terminate(account, instance));
}

function terminate(account: SimulatedAccount, instance: SimInstance): void {
  // [LIFE]: a terminated instance goes through shutting-down to terminated.
  const t = setState(account, instance, 'shutting-down');
  agentLosesConnection(instance);
  account.after('shuttingDownToTerminated', () => {
    if (instance.transition !== t) return;
    setState(account, instance, 'terminated');
    // EBS's rule: DeleteOnTermination decides which volumes go with the instance.
    releaseVolumesOfTerminated(account, instance);
    memberTerminated(account, instance);
  });
}

/**
 * EC2Launch sets a random password and posts it encrypted with the instance's key pair (RSA,
 * PKCS#1 v1.5, base64). GetPasswordData (EC2 API Reference): the password data is encrypted with the
 * key pair the instance was launched with and returned base64-encoded; the PKCS#1 v1.5
 * padding is what the EC2 console and `aws ec2 get-password-data --priv-launch-key` decrypt
 * (assumption, from those clients: AWS's API reference does not name the padding).
 * Without a registered public key: an opaque fake that says so.
 */
export function newPasswordBlob(account: SimulatedAccount, instance: SimInstance): string {
  const publicKey = instance.keyName ? account.keyPairs.get(instance.keyName) : undefined;
  if (!publicKey) {
    const blob = `REHEARSAL-OPAQUE-BLOB/${randomBytes(12).toString('base64')}`;
    account.secrets.add(blob);
    return blob;
  }
  const password = randomBytes(24).toString('base64url');
  const blob = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(password, 'utf8')).toString('base64');
  account.secrets.add(password);
  account.secrets.add(blob);
  return blob;
}

// ------------------------------------------------------------------ operations

function instanceJson(account: SimulatedAccount, i: SimInstance): any {
  const mappings = [...account.volumes.values()]
    .filter(v => !v.deleted && v.attachment?.instanceId === i.instanceId)
    .map(v => ({
      DeviceName: v.attachment!.device,
      Ebs: {
        VolumeId: v.volumeId,
        Status: v.attachment!.state,
        DeleteOnTermination: v.attachment!.deleteOnTermination,
        AttachTime: new Date(v.attachment!.attachTime),
      },
    }));
  const association = i.publicIp ? { PublicIp: i.publicIp.address, IpOwnerId: i.publicIp.owner === 'amazon' ? 'amazon' : account.accountId } : undefined;
  return {
    InstanceId: i.instanceId,
    ImageId: i.imageId,
    InstanceType: i.instanceType,
    State: { Name: i.state, Code: STATE_CODES[i.state] },
    ...(i.stateReason ? { StateReason: { Code: i.stateReason.code, Message: i.stateReason.message } } : {}),
    LaunchTime: new Date(i.launchTime),
    Placement: { AvailabilityZone: i.availabilityZone },
    SubnetId: i.subnetId,
    ...(i.platform ? { Platform: i.platform } : {}),
    PlatformDetails: i.platformDetails,
    ...(i.keyName ? { KeyName: i.keyName } : {}),
    ...(i.instanceProfileArn ? { IamInstanceProfile: { Arn: i.instanceProfileArn, Id: `AIPA${i.instanceId.slice(2, 19).toUpperCase()}` } } : {}),
    // [INST] CpuOptions (API_CpuOptions.html): CoreCount and ThreadsPerCore; launched without CPU options,
    // the type's defaults. assumption: a type a scenario did not add to the Region has 1 core, 2 threads.
    CpuOptions: {
      CoreCount: account.instanceTypes.get(i.instanceType)?.defaultCores ?? 1,
      ThreadsPerCore: account.instanceTypes.get(i.instanceType)?.defaultThreadsPerCore ?? 2,
    },
    RootDeviceName: i.rootDeviceName,
    RootDeviceType: i.rootDeviceType,
    ...(i.instanceLifecycle ? { InstanceLifecycle: i.instanceLifecycle } : {}),
    ProductCodes: i.productCodes.map(p => ({ ProductCodeId: p.id, ProductCodeType: p.type })),
    BlockDeviceMappings: mappings,
    Tags: tagList(i.tags),
    NetworkInterfaces: [{
      SubnetId: i.subnetId,
      ...(association ? { Association: association } : {}),
      PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: '10.0.0.10', ...(association ? { Association: association } : {}) }],
    }],
  };
}

/** Whether the instance type is offered in the AZ (see DescribeInstanceTypeOfferings). */
function offeredIn(account: SimulatedAccount, type: string, availabilityZone: string): boolean {
  const offered = account.instanceTypeOfferings.get(availabilityZone);
  return account.instanceTypes.has(type) && (!offered || offered.has(type));
}

function stateChanges(account: SimulatedAccount, ids: string[], change: (i: SimInstance) => void): any {
  const instances = ids.map(id => account.instance(id));
  const before = instances.map(i => i.state);
  instances.forEach(change);
  return instances.map((i, n) => ({
    InstanceId: i.instanceId,
    PreviousState: { Name: before[n], Code: STATE_CODES[before[n]] },
    CurrentState: { Name: i.state, Code: STATE_CODES[i.state] },
  }));
}

export const EC2_INSTANCE_OPERATIONS: Operations = {
  /**
   * API Reference, DescribeInstances (API_DescribeInstances.html): the instances named, or all; the filters
   * the workflow uses (`instance-id`, `instance-state-name`, `availability-zone`, `tag-key`, `tag:<key>`), as
   * ec2-filters.ts applies them. assumption: other filter names of the reference are refused there, not modelled.
   */
  DescribeInstances(account, input) {
    let instances: SimInstance[];
    if (input.InstanceIds?.length) {
      instances = (input.InstanceIds as string[]).map(id => account.instance(id));
    } else {
      instances = [...account.instances.values()];
    }
    for (const filter of input.Filters ?? []) {
      instances = instances.filter(i => matchesFilter(filter, {
        'instance-id': [i.instanceId],
        'instance-state-name': [i.state],
        'availability-zone': [i.availabilityZone],
        'tag-key': Object.keys(i.tags),
      }, i.tags));
    }
    return { Reservations: instances.map(i => ({ ReservationId: `r-${i.instanceId.slice(2)}`, Instances: [instanceJson(account, i)] })) };
  },

  /**
   * API Reference, DescribeInstanceAttribute (API_DescribeInstanceAttribute.html): one attribute a call. The sim
   * models instanceInitiatedShutdownBehavior only (what the preflight reads; "stop" unless the launch said
   * "terminate", RunInstances InstanceInitiatedShutdownBehavior) and refuses the others rather than invent them.
   */
  DescribeInstanceAttribute(account, input) {
    const i = account.instance(input.InstanceId);
    if (input.Attribute !== 'instanceInitiatedShutdownBehavior') {
      throw ec2Error('InvalidParameterValue', `The simulated account only describes instanceInitiatedShutdownBehavior, not ${input.Attribute}.`);
    }
    return { InstanceId: i.instanceId, InstanceInitiatedShutdownBehavior: { Value: i.shutdownBehavior } };
  },

  /**
   * API Reference, DescribeInstanceTypes (API_DescribeInstanceTypes.html): InstanceStorageSupported says
   * whether the type has instance store volumes; VCpuInfo (API_VCpuInfo.html) gives the default vCPUs,
   * cores and threads per core. A type named in InstanceTypes that the Region does not have is
   * InvalidInstanceType ([ERR]: "The specified instance type is not valid"; the message as the CLI
   * reports it). The `instance-type` filter ("The instance type (for example c5.2xlarge or c5*)") only
   * selects among the Region's types, so a value no type has matches nothing and is no error.
   * Without InstanceTypes or a filter: every type of the Region.
   */
  DescribeInstanceTypes(account, input) {
    const asked: string[] = input.InstanceTypes ?? [...account.instanceTypes.keys()];
    for (const type of asked) {
      if (!account.instanceTypes.has(type)) throw ec2Error('InvalidInstanceType', `The following supplied instance types do not exist: [${type}]`);
    }
    return {
      InstanceTypes: asked
        .filter(type => (input.Filters ?? []).every((f: any) => matchesFilter(f, { 'instance-type': [type] }, {})))
        .map(type => {
          const known = account.instanceTypes.get(type)!;
          return {
            InstanceType: type,
            InstanceStorageSupported: known.instanceStorageSupported,
            VCpuInfo: { DefaultVCpus: defaultVcpus(known), DefaultCores: known.defaultCores, DefaultThreadsPerCore: known.defaultThreadsPerCore },
          };
        }),
    };
  },

  /**
   * API reference, DescribeInstanceTypeOfferings (API_DescribeInstanceTypeOfferings.html): the instance types offered in a location; with
   * LocationType `availability-zone` the `location` filter names an Availability Zone of the Region.
   * The simulated Region offers every type it knows in every AZ unless `instanceTypeOfferings` says
   * otherwise for that AZ (assumption: AWS lists offerings per AZ; most types are in most AZs).
   */
  DescribeInstanceTypeOfferings(account, input) {
    const locationType = input.LocationType ?? 'region';
    if (!['region', 'availability-zone'].includes(locationType)) {
      throw ec2Error('InvalidParameterValue', `The simulated account describes offerings by region or availability-zone, not ${locationType}.`);
    }
    const zones = locationType === 'region' ? [account.region] : [...new Set([...account.subnets.values()].map(s => s.availabilityZone))];
    const offerings = zones.flatMap(zone => [...account.instanceTypes.keys()]
      .filter(type => locationType === 'region' || offeredIn(account, type, zone))
      .map(type => ({ InstanceType: type, LocationType: locationType, Location: zone })))
      .filter(o => (input.Filters ?? []).every((f: any) => matchesFilter(f, { 'instance-type': [o.InstanceType], 'location': [o.Location] }, {})));
    return { InstanceTypeOfferings: offerings };
  },

  ModifyInstanceAttribute(account, input) {
    const i = account.instance(input.InstanceId);
    // Assumption: a terminated instance cannot be modified ([LIFE]: a terminated instance cannot be used
    // again); [ERR] gives IncorrectInstanceState for an instance in the wrong state for the action asked.
    if (i.state === 'terminated') throw ec2Error('IncorrectInstanceState', `The instance '${i.instanceId}' is not in a state from which it can be modified.`);
    for (const mapping of input.BlockDeviceMappings ?? []) {
      const volume = account.volumeAt(i.instanceId, mapping.DeviceName);
      // API Reference, ModifyInstanceAttribute (API_ModifyInstanceAttribute.html), BlockDeviceMappings: "Modifies
      // the DeleteOnTermination attribute for volumes that are currently attached"; only existing mappings change.
      // Assumption: a mapping for a device the instance does not have is refused with InvalidInstanceAttributeValue
      // ([ERR]: the instance attribute value given is not valid).
      if (!volume) {
        throw ec2Error('InvalidInstanceAttributeValue', `No device is currently mapped at ${mapping.DeviceName}`);
      }
      if (mapping.Ebs?.DeleteOnTermination !== undefined) volume.attachment!.deleteOnTermination = mapping.Ebs.DeleteOnTermination;
    }
    return {};
  },

  StopInstances(account, input) {
    const instances = (input.InstanceIds as string[]).map(id => account.instance(id));
    for (const i of instances) {
      // [STOP] StopInstances: "You can't stop or hibernate instance store-backed instances." UnsupportedOperation
      // ([ERR]: "The specified request includes an unsupported operation"); the message as EC2 words it.
      if (i.rootDeviceType !== 'ebs') {
        throw ec2Error('UnsupportedOperation', `The instance '${i.instanceId}' does not have an 'ebs' root device type and cannot be stopped.`);
      }
      // Assumption: the lifecycle ([LIFE]) has no stop from pending, shutting-down or terminated; EC2 answers
      // IncorrectInstanceState ([ERR]: the instance is in an incorrect state for the requested action).
      if (['pending', 'shutting-down', 'terminated'].includes(i.state)) {
        throw ec2Error('IncorrectInstanceState', `The instance '${i.instanceId}' is not in a state from which it can be stopped.`);
      }
    }
    const mode = input.SkipOsShutdown ? 'skip-os-shutdown' : input.Force ? 'force' : 'normal';
    // Assumption: stopping a stopped instance changes nothing and is not an error (its
    // StoppingInstances entry reports stopped → stopped), like TerminateInstances of a terminated one
    // ([IDEM] lists TerminateInstances among the actions "idempotent by default"). A stopping instance may be
    // stopped again: that is how Force reaches one stuck in stopping ([STOP]).
    return { StoppingInstances: stateChanges(account, input.InstanceIds, i => { if (['running', 'stopping'].includes(i.state)) stop(account, i, mode); }) };
  },

  StartInstances(account, input) {
    const instances = (input.InstanceIds as string[]).map(id => account.instance(id));
    for (const i of instances) {
      // Assumption: as for the stop, the lifecycle has no start from stopping, shutting-down or
      // terminated; a start of a running or pending instance changes nothing (reported as it is).
      if (['stopping', 'shutting-down', 'terminated'].includes(i.state)) {
        throw ec2Error('IncorrectInstanceState', `The instance '${i.instanceId}' is not in a state from which it can be started.`);
      }
      if (i.state === 'stopped') {
        // Assumption: an instance whose root volume was detached (allowed while it is stopped, EC2 User
        // Guide, "Detach an Amazon EBS volume") has nothing to boot from, so its start is refused
        // until a volume is attached at the root device; the error's wording is ours.
        const root = account.volumeAt(i.instanceId, i.rootDeviceName);
        if (!root || root.attachment!.state !== 'attached') {
          throw ec2Error('InvalidInstanceID', `Invalid value '${i.instanceId}' for instanceId. Instance does not have a volume attached at root (${i.rootDeviceName})`);
        }
        // Assumption: an instance does not start while one of its volumes is still attaching or detaching
        // (IncorrectState, [ERR]: the resource is in an incorrect state for the request); the guides are silent.
        const stray = [...account.volumes.values()].find(v => !v.deleted && v.attachment?.instanceId === i.instanceId && v.attachment.state !== 'attached');
        if (stray) throw ec2Error('IncorrectState', `Volume '${stray.volumeId}' is ${stray.attachment!.state}.`);
      }
    }
    return {
      StartingInstances: stateChanges(account, input.InstanceIds, i => {
        if (i.state !== 'stopped') return;
        // [INST] Instance.LaunchTime: "The time that the instance was last launched. To determine the time that
        // instance was first launched, see the attachment time for the primary network interface": a start sets it.
        i.launchTime = account.now();
        const locked = [...account.volumes.values()].find(v => !v.deleted && v.attachment?.instanceId === i.instanceId && v.encrypted
          && v.kmsKeyId && !mayUseKey(account, v.kmsKeyId));
        if (locked) bootFailsOnKey(account, i, locked.kmsKeyId!);
        else boot(account, i);
      }),
    };
  },

  /** [IDEM] TerminateInstances is idempotent by default: terminating a shutting-down or terminated instance changes nothing. */
  TerminateInstances(account, input) {
    return {
      TerminatingInstances: stateChanges(account, input.InstanceIds, i => {
        if (!['shutting-down', 'terminated'].includes(i.state)) terminate(account, i);
      }),
    };
  },

  RunInstances(account, input) {
    // [IDEM]: a request retried with the same client token and the same parameters "succeeds without
    // performing any further actions" (RunInstances returns the instances of the first request, their state
    // as it is now); with the same token and other parameters it fails with IdempotentParameterMismatch.
    const fingerprint = JSON.stringify({ ...input, ClientToken: undefined });
    if (input.ClientToken) {
      const earlier = [...account.instances.values()].find(i => i.clientToken === input.ClientToken);
      if (earlier) {
        if (earlier.runInstancesFingerprint !== fingerprint) {
          throw ec2Error('IdempotentParameterMismatch', `The client token ${input.ClientToken} was used with different parameters.`);
        }
        return { Instances: [instanceJson(account, earlier)] };
      }
    }
    const image = account.images.get(input.ImageId);
    // [ERR] InvalidAMIID.NotFound, InvalidParameterValue (an instance type or instance profile ARN that is not
    // valid), InvalidSubnetID.NotFound, InvalidGroup.NotFound: the messages as EC2 words them.
    if (!image) throw ec2Error('InvalidAMIID.NotFound', `The image id '[${input.ImageId}]' does not exist`);
    if (!account.instanceTypes.has(input.InstanceType)) throw ec2Error('InvalidParameterValue', `Invalid value '${input.InstanceType}' for InstanceType.`);
    const eni = input.NetworkInterfaces?.[0];
    const subnetId = eni?.SubnetId ?? input.SubnetId;
    const subnet = account.subnets.get(subnetId);
    if (!subnet) throw ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);
    // [ERR] `Unsupported`: e.g. launching in an Availability Zone that has constraints on that instance type;
    // EC2 names the type and the AZ and suggests others.
    if (!offeredIn(account, input.InstanceType, subnet.availabilityZone)) {
      throw ec2Error('Unsupported', `Your requested instance type (${input.InstanceType}) is not supported in your requested Availability Zone (${subnet.availabilityZone}).`);
    }
    for (const group of eni?.Groups ?? input.SecurityGroupIds ?? []) {
      if (!account.securityGroups.has(group)) throw ec2Error('InvalidGroup.NotFound', `The security group '${group}' does not exist`);
    }
    const profile = input.IamInstanceProfile?.Arn;
    if (profile && !account.instanceProfiles.has(profile)) {
      throw ec2Error('InvalidParameterValue', `Value (${profile}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN`);
    }
    const rootMapping = (input.BlockDeviceMappings ?? []).find((m: any) => sameDevice(m.DeviceName, image.rootDeviceName));
    const encryption = newVolumeEncryption(account, rootMapping?.Ebs);
    const instance = account.addInstance({
      state: 'stopped',
      availabilityZone: subnet.availabilityZone,
      subnetId,
      imageId: image.imageId,
      instanceType: input.InstanceType,
      rootDeviceName: image.rootDeviceName,
      shutdownBehavior: input.InstanceInitiatedShutdownBehavior ?? 'stop',
      tags: requestedTags(input, 'instance'),
      autoAssignedPublicIp: eni?.AssociatePublicIpAddress === true,
      // AWS's Windows AMIs come with the SSM Agent installed (Systems Manager User Guide, "Find AMIs with
      // the SSM Agent preinstalled", https://docs.aws.amazon.com/systems-manager/latest/userguide/ami-preinstalled-agent.html);
      // it reaches Systems Manager only with an instance profile that allows it (Systems Manager User Guide,
      // "Configure instance permissions required for Systems Manager",
      // https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-instance-permissions.html).
      ssmAgent: Boolean(profile) && image.platformDetails === 'Windows',
      encrypted: encryption.encrypted,
      ...(encryption.key ? { kmsKeyId: encryption.key.arn } : {}),
      deleteOnTermination: rootMapping?.Ebs?.DeleteOnTermination ?? true,
      isHelper: true,
      clientToken: input.ClientToken,
      runInstancesFingerprint: fingerprint,
      ...(profile ? { instanceProfileArn: profile } : {}),
    });
    const root = account.volumeAt(instance.instanceId, instance.rootDeviceName)!;
    Object.assign(root.tags, requestedTags(input, 'volume'));
    if (account.helperStopsHang) instance.stopHangs = true;
    instance.launchTime = account.now();
    if (encryption.encrypted && !ec2CanUseKey(encryption.key)) instance.launchFailure = LAUNCH_FAILURE_KMS;
    boot(account, instance);
    return { Instances: [instanceJson(account, instance)] };
  },

  /**
   * [GPD] The encrypted password data, '' until it is available, with its Timestamp. assumption: before any
   * password the Timestamp is the time of the call (AWS's reference does not say what it is then).
   */
  GetPasswordData(account, input) {
    const i = account.instance(input.InstanceId);
    return { InstanceId: i.instanceId, PasswordData: i.passwordData, Timestamp: new Date(i.passwordTimestamp ?? account.now()) };
  },
};
