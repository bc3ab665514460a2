/**
 * A simulated AWS account (one Region) that answers the step handlers' SDK v3 calls the way the
 * services do: state that changes over modelled time, the rules the services enforce, and their
 * error codes. A test double kept honest: every rule has a test of its own, next to its module.
 *
 * This module is the account itself: its state (shared by the services, as resources are in
 * AWS), modelled time (timers that apply transitions when they are due), the call log, the hooks
 * that may fail or deny a call before it runs, and the helpers that build a world for a test.
 * The rules live in one module per service, each an operation table (`Operations`) registered in
 * OPERATIONS below:
 * - ec2-instances.ts: instance lifecycle (boot, stop, terminate), EC2Launch's password data, RunInstances;
 * - ec2-volumes.ts: attach, detach, describe volumes; ec2-images.ts: CreateImage, snapshots, DescribeImages;
 * - ec2-vpc-endpoints.ts: interface and gateway endpoints, and what a subnet reaches through them;
 * - ebs-encryption.ts: encryption by default, the default EBS key, which key a launched volume gets and whether EC2 may use it;
 * - ssm-commands.ts: the SSM Agent, Run Command and the documents the workflow sends; ssm-parameters.ts;
 * - auto-scaling.ts, dynamodb.ts (the lock table), kms.ts (keys and their key policies);
 * - iam.ts: who may make each call (every call a step function makes is authorized as its role with
 *   iam-simulate, test/rehearsal/iam/), and the IAM operations the preflight uses.
 * - step-functions.ts: DescribeExecution of the rehearsal's executions, for functions that read them.
 *
 * Nothing here is a real secret: password data is an opaque blob that says it is fake, and the
 * online method's parameter value likewise. Both are collected in `secrets`, so the rehearsal can
 * prove no step ever carries them. Only an instance launched with a key pair whose public key
 * was registered (`registerKeyPair`, used with throwaway keys to run the CLI's decryption) gets
 * password data Windows-style: a random password encrypted with that key.
 */
import { createHash } from 'node:crypto';
import { AUTO_SCALING_OPERATIONS, SimAsgGroup, SimAsgMember } from './auto-scaling';
import { DYNAMODB_OPERATIONS, expireItems } from './dynamodb';
import { AWS_MANAGED_EBS_KEY_ALIAS, EBS_ENCRYPTION_OPERATIONS, EbsEncryptionSettings } from './ebs-encryption';
import { EC2_IMAGE_OPERATIONS, SimImage, SimSnapshot } from './ec2-images';
import { EC2_INSTANCE_OPERATIONS, newPasswordBlob, SIM_INSTANCE_TYPES, SimInstance, SimInstanceType } from './ec2-instances';
import { EC2_TAG_OPERATIONS } from './ec2-tags';
import { EC2_VOLUME_OPERATIONS, sameDevice, SimVolume } from './ec2-volumes';
import { EC2_VPC_ENDPOINT_OPERATIONS, INTERFACE_ENDPOINTS_PER_VPC, SimSubnet, SimVpcEndpoint } from './ec2-vpc-endpoints';
import type { Ec2RescueBehaviour } from './ec2rescue';
import { ec2Error } from './errors';
import { IAM_OPERATIONS, IamState } from './iam';
import { randomHex } from './ids';
import { KMS_OPERATIONS, SimKey } from './kms';
import { SERVICE_QUOTAS_OPERATIONS } from './service-quotas';
import { SimCommand, SSM_COMMAND_OPERATIONS } from './ssm-commands';
import { SimParameter, SSM_PARAMETER_OPERATIONS } from './ssm-parameters';
import { SimExecution, StartExecutionRequest, STEP_FUNCTIONS_OPERATIONS } from './step-functions';
import { VirtualClock } from '../clock';
import { LatencyName, ms } from '../latencies';

export type Service = 'ec2' | 'ssm' | 'autoscaling' | 'dynamodb' | 'kms' | 'iam' | 'states' | 'servicequotas';

/** What the runner tells the account about the caller (for faults, authorization and the call log). */
export interface CallContext {
  readonly execution?: string;
  readonly state?: string;
  /** Logical id of the Lambda function making the call (its role is the caller); absent for the test itself. */
  readonly function?: string;
}

/** One call as the account receives it, before it runs. */
export interface ServiceCall {
  readonly service: Service;
  readonly operation: string;
  readonly input: any;
  readonly context: CallContext;
}

/** Decides whether a call fails (fault injection). Returns the error to throw, or undefined. */
export type FaultHook = (call: ServiceCall) => Error | undefined;

/**
 * Decides whether the caller may make a call (IAM): runs after the fault hook, before the
 * service's operation. Returns the denial to throw (the service's own error shape), or undefined.
 * An evaluator that reads AWS's authorization reference answers asynchronously: such a hook is
 * served by {@link SimulatedAccount.callAsync} (what the SDK routing uses).
 */
export type AuthorizeHook = (call: ServiceCall) => Error | undefined | Promise<Error | undefined>;

export interface ApiCall {
  readonly at: number;
  readonly service: Service;
  readonly operation: string;
  readonly input: any;
  readonly context: CallContext;
  readonly error?: string;
}

/**
 * One operation of a service: reads and changes the account's state, returns the SDK's output
 * shape (or a promise of it, for operations that evaluate policies, e.g. iam:SimulatePrincipalPolicy).
 */
export type Operation = (account: SimulatedAccount, input: any) => any;

/** A service module's operations, by the name the SDK's command carries (`DescribeInstancesCommand` → `DescribeInstances`). */
export type Operations = Readonly<Record<string, Operation>>;

/** Every operation the account implements, by service. A new module registers its table here. */
const OPERATIONS: Record<Service, Operations> = {
  ec2: combine(EC2_INSTANCE_OPERATIONS, EC2_VOLUME_OPERATIONS, EC2_IMAGE_OPERATIONS, EC2_TAG_OPERATIONS, EBS_ENCRYPTION_OPERATIONS,
    EC2_VPC_ENDPOINT_OPERATIONS),
  ssm: combine(SSM_COMMAND_OPERATIONS, SSM_PARAMETER_OPERATIONS),
  autoscaling: AUTO_SCALING_OPERATIONS,
  dynamodb: DYNAMODB_OPERATIONS,
  kms: KMS_OPERATIONS,
  iam: IAM_OPERATIONS,
  states: STEP_FUNCTIONS_OPERATIONS,
  servicequotas: SERVICE_QUOTAS_OPERATIONS,
};

/** One service's operations from several modules; an operation implemented twice is a mistake. */
function combine(...tables: Operations[]): Operations {
  const all: Record<string, Operation> = {};
  for (const table of tables) {
    for (const [name, operation] of Object.entries(table)) {
      if (Object.hasOwn(all, name)) throw new Error(`Two modules of the simulated account implement ${name}.`);
      all[name] = operation;
    }
  }
  return all;
}

/** The operation, if the service's table has it (its own entry: `toString` is no operation). */
function operationOf(service: Service, operation: string): Operation | undefined {
  const table = OPERATIONS[service];
  return Object.hasOwn(table, operation) ? table[operation] : undefined;
}

/** Calls that change nothing (iam:SimulatePrincipalPolicy only evaluates policies). */
export const READ_ONLY = /^(Describe|Get|List|Scan|Simulate)/;

interface Timer { readonly at: number; readonly seq: number; readonly apply: () => void }

export class SimulatedAccount {
  public readonly accountId = '123456789012';
  public readonly region = 'us-east-1';
  public readonly instances = new Map<string, SimInstance>();
  public readonly volumes = new Map<string, SimVolume>();
  public readonly snapshots = new Map<string, SimSnapshot>();
  public readonly images = new Map<string, SimImage>();
  public readonly subnets = new Map<string, SimSubnet>();
  /** VPCs by id (the rescue VPC of the sample stack). */
  public readonly vpcs = new Set<string>();
  /** VPC endpoints by id (ec2-vpc-endpoints.ts). */
  public readonly vpcEndpoints = new Map<string, SimVpcEndpoint>();
  /** Interface endpoints a VPC may hold (PrivateLink quotas: 50 by default); a test lowers it to hit the quota. */
  public interfaceEndpointQuota = INTERFACE_ENDPOINTS_PER_VPC;
  /** How many of the next endpoint deletions fail (a fault; ec2-vpc-endpoints.ts). */
  public vpcEndpointDeletionFailures = 0;
  public readonly securityGroups = new Set<string>();
  public readonly instanceProfiles = new Set<string>();
  public readonly instanceTypes = new Map<string, SimInstanceType>(Object.entries(SIM_INSTANCE_TYPES));
  /** Instance types offered per Availability Zone; an AZ not listed offers every type of `instanceTypes`. */
  public readonly instanceTypeOfferings = new Map<string, Set<string>>();
  public readonly publicParameters = new Map<string, string>();
  public readonly parameters = new Map<string, SimParameter>();
  public readonly commands: SimCommand[] = [];
  public readonly autoScaling = new Map<string, SimAsgMember>();
  public readonly autoScalingGroups = new Map<string, SimAsgGroup>();
  public readonly keys: SimKey[] = [];
  /** EBS encryption by default and the default key (ebs-encryption.ts); AWS's defaults: off, the AWS managed key. */
  public readonly ebsEncryption: EbsEncryptionSettings = { encryptByDefault: false, defaultKmsKeyId: AWS_MANAGED_EBS_KEY_ALIAS };
  public readonly tables = new Map<string, Map<string, Record<string, any>>>();
  /** Table name → ARN of the customer managed key it is encrypted with. */
  public readonly tableKeys = new Map<string, string>();
  /** The TTL attribute of each table that has one (dynamodb.ts deletes expired items). */
  public readonly tableTtl = new Map<string, string>();
  /** Step Functions executions by ARN (the rehearsal runner registers each one it starts). */
  public readonly executions = new Map<string, SimExecution>();
  /** Starts an execution of a state machine the rehearsal runs (the runner installs it; StartExecution calls it). */
  public startExecution?: (request: StartExecutionRequest) => SimExecution | undefined;
  /** Every call, in order. */
  public readonly calls: ApiCall[] = [];
  /** Notable moments for timelines and the bench (e.g. `password-data:<instance>`). */
  public readonly moments: { at: number; what: string }[] = [];
  /** Every password blob and parameter value the account ever produced (and the passwords behind real ciphertexts). */
  public readonly secrets = new Set<string>();
  /** Public keys (PEM) of key pairs, by name: instances launched with one get real password ciphertexts. */
  public readonly keyPairs = new Map<string, string>();
  /** IAM: roles, instance profiles and which function runs as which role (iam.ts; the rehearsal fills it from the sample). */
  public readonly iam: IamState = new IamState();
  /** Who is calling (set by the runner around each task). */
  public context: CallContext = {};
  public fault?: FaultHook;
  public authorize?: AuthorizeHook;
  /** Whether an execution's caller may use a customer managed KMS key (see kms.ts `mayUseKey`); unset: yes. */
  public customerKeyAllowed?: (keyArn: string) => boolean;
  /** Documents whose next runs fail on the instance (e.g. a helper image where EC2Rescue cannot bring the disk online). */
  public readonly failingDocuments = new Map<string, string>();
  /** Documents whose runs never finish on their own (e.g. EC2Rescue hanging on a damaged disk): Run Command times them out. */
  public readonly hangingDocuments = new Set<string>();
  /** Helpers launched from now on have a stop that hangs (see SimInstance.stopHangs). */
  public helperStopsHang = false;
  /** How EC2Rescue behaves on the helpers (stderr warnings, failures mid-way: ec2rescue.ts). */
  public ec2Rescue: Ec2RescueBehaviour = {};
  /** Volumes EC2Rescue has brought online in a helper's Windows (ec2rescue.ts). */
  public readonly onlineDisks = new Set<string>();

  private readonly timers: Timer[] = [];
  /** While a due transition is applied: its own time (what follows from it is timed from there). */
  private applyingAt?: number;
  private seq = 0;
  private idCounter = 0;

  constructor(public readonly clock: VirtualClock) {
    this.keys.push({
      keyId: '0a0a0a0a-1111-2222-3333-444444444444',
      arn: `arn:aws:kms:${this.region}:${this.accountId}:key/0a0a0a0a-1111-2222-3333-444444444444`,
      manager: 'AWS',
      aliases: ['alias/aws/ebs'],
    });
    this.keys.push({
      keyId: '0b0b0b0b-1111-2222-3333-444444444444',
      arn: `arn:aws:kms:${this.region}:${this.accountId}:key/0b0b0b0b-1111-2222-3333-444444444444`,
      manager: 'AWS',
      aliases: ['alias/aws/ssm'],
    });
    for (const [version, id] of [['2022', 'ami-0a2022aaaaaaaaaaa'], ['2019', 'ami-0a2019aaaaaaaaaaa'], ['2025', 'ami-0a2025aaaaaaaaaaa']]) {
      this.publicParameters.set(`/aws/service/ami-windows-latest/Windows_Server-${version}-English-Full-Base`, id);
      this.images.set(id, {
        imageId: id,
        name: `Windows_Server-${version}-English-Full-Base-2025.05.14`,
        description: `Microsoft Windows Server ${version} Full Locale English AMI provided by Amazon`,
        ownerId: '801119661308',
        ownerAlias: 'amazon',
        isPublic: true,
        state: 'available',
        rootDeviceName: '/dev/sda1',
        creationTime: this.now() - 20 * 86400_000,
        snapshotIds: [],
        tags: {},
        platformDetails: 'Windows',
      });
    }
  }

  // ------------------------------------------------------------------ calls

  /**
   * A call made by the test itself (setting up a world, reading it): the fault hook, the operation
   * lookup, the authorize hook (which must answer at once), the operation.
   */
  public call(service: Service, operation: string, input: any): any {
    const { request, run, record } = this.begin(service, operation, input);
    const denied = this.authorize?.(request);
    if (denied instanceof Promise) {
      throw new Error(`The authorize hook answers asynchronously: call ${service}:${operation} through callAsync (the SDK routing does).`);
    }
    return this.finish(run, input, record, denied);
  }

  /**
   * The entry point of every routed SDK call: as {@link call}, with an authorize hook that may
   * answer asynchronously and operations that may. Only the calling task runs meanwhile (the
   * scheduler grants no other turn), so the account does not change between the two.
   */
  public async callAsync(service: Service, operation: string, input: any): Promise<any> {
    const { request, run, record } = this.begin(service, operation, input);
    const denied = await this.authorize?.(request);
    const out = this.finish(run, input, record, denied);
    if (!(out instanceof Promise)) return out;
    try {
      return await out;
    } catch (err) {
      // Recorded as a success by finish(): correct the record.
      const last = this.calls.pop()!;
      this.calls.push({ ...last, error: (err as Error).name });
      throw err;
    }
  }

  private begin(service: Service, operation: string, input: any): { request: ServiceCall; run: Operation; record: (error?: string) => void } {
    this.settle();
    const request: ServiceCall = { service, operation, input, context: this.context };
    const context = { ...this.context };
    const record = (error?: string) => this.calls.push({
      at: this.now(), service, operation, input, context, ...(error ? { error } : {}),
    });
    const injected = this.fault?.(request);
    if (injected) {
      record(injected.name);
      throw injected;
    }
    const run = operationOf(service, operation);
    if (!run) {
      record('Rehearsal.Unrouted');
      throw new Error(`The simulated account does not implement ${service}:${operation}; add it to the ${service} module's operations in test/rehearsal/account/.`);
    }
    return { request, run, record };
  }

  private finish(run: Operation, input: any, record: (error?: string) => void, denied: Error | undefined): any {
    if (denied) {
      record(denied.name);
      throw denied;
    }
    try {
      const out = run(this, input ?? {});
      record();
      return out;
    } catch (err) {
      record((err as Error).name);
      throw err;
    }
  }

  /** Successful calls that change something. */
  public mutations(): ApiCall[] {
    return this.calls.filter(c => !c.error && !READ_ONLY.test(c.operation));
  }

  // ------------------------------------------------------------------ modelled time

  /** The account's now: the clock, or the time of the transition being applied. */
  public now(): number {
    return this.applyingAt ?? this.clock.now();
  }

  /** Applies every transition due by now, in time order. */
  public settle(): void {
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > this.clock.now()) {
        expireItems(this);
        return;
      }
      this.timers.shift();
      this.applyingAt = next.at;
      try {
        next.apply();
      } finally {
        this.applyingAt = undefined;
      }
    }
  }

  /** Moves the clock forward by `seconds` and applies what became due (for tests and the end of runs). */
  public advance(seconds: number): void {
    this.clock.advance(seconds);
    this.settle();
  }

  /**
   * Schedules a transition `latency` (a modelled latency, or seconds) after `from`. Transitions due
   * at the same time apply in the order they were scheduled.
   */
  public after(latency: LatencyName | number, apply: () => void, from = this.now()): void {
    const delay = typeof latency === 'number' ? latency * 1000 : ms(latency);
    this.timers.push({ at: from + delay, seq: this.seq++, apply });
  }

  /** Records a notable moment (timelines and the bench read them). */
  public moment(what: string, at = this.now()): void {
    this.moments.push({ at, what });
  }

  public newId(prefix: string): string {
    this.idCounter++;
    return `${prefix}-${createHash('sha256').update(`${prefix}${this.idCounter}`).digest('hex').slice(0, 17)}`;
  }

  // ------------------------------------------------------------------ building the world

  /** Adds an instance with its root volume (and nothing else); returns it. */
  public addInstance(o: {
    state?: 'running' | 'stopped';
    availabilityZone?: string;
    subnetId?: string;
    platform?: 'windows' | 'linux';
    platformDetails?: string;
    imageId?: string;
    instanceType?: string;
    rootDeviceName?: string;
    rootDeviceType?: 'ebs' | 'instance-store';
    spot?: boolean;
    marketplaceProductCode?: string;
    shutdownBehavior?: 'stop' | 'terminate';
    tags?: Record<string, string>;
    autoAssignedPublicIp?: boolean;
    elasticIp?: boolean;
    ssmAgent?: boolean;
    encrypted?: boolean;
    kmsKeyId?: string;
    deleteOnTermination?: boolean;
    autoScalingGroup?: string;
    autoScalingLifecycle?: SimAsgMember['lifecycleState'];
    /** Tags of its Auto Scaling group (set when the group is first named). */
    autoScalingGroupTags?: Record<string, string>;
    isHelper?: boolean;
    clientToken?: string;
    runInstancesFingerprint?: string;
    keyName?: string;
    instanceProfileArn?: string;
  } = {}): SimInstance {
    const windows = (o.platform ?? 'windows') === 'windows';
    const az = o.availabilityZone ?? 'us-east-1a';
    const state = o.state ?? 'running';
    const imageId = o.imageId ?? 'ami-0a2022aaaaaaaaaaa';
    const instance: SimInstance = {
      instanceId: this.newId('i'),
      imageId,
      ...(o.keyName ? { keyName: o.keyName } : {}),
      ...(o.instanceProfileArn ? { instanceProfileArn: o.instanceProfileArn } : {}),
      instanceType: o.instanceType ?? 'm5.large',
      availabilityZone: az,
      subnetId: o.subnetId ?? `subnet-workload-${az}`,
      state,
      launchTime: this.now() - (o.isHelper ? 0 : 30 * 86400_000),
      ...(windows ? { platform: 'windows' as const } : {}),
      platformDetails: o.platformDetails ?? (windows ? 'Windows' : 'Linux/UNIX'),
      rootDeviceName: o.rootDeviceName ?? '/dev/sda1',
      rootDeviceType: o.rootDeviceType ?? 'ebs',
      ...(o.spot ? { instanceLifecycle: 'spot' as const } : {}),
      productCodes: o.marketplaceProductCode ? [{ id: o.marketplaceProductCode, type: 'marketplace' }] : [],
      shutdownBehavior: o.shutdownBehavior ?? 'stop',
      tags: { ...(o.tags ?? {}) },
      ...(o.autoAssignedPublicIp ? { publicIp: { address: '203.0.113.10', owner: 'amazon' as const } } : {}),
      ...(o.elasticIp ? { publicIp: { address: '198.51.100.7', owner: 'elastic' as const } } : {}),
      ssmAgent: o.ssmAgent ?? false,
      ssmRegistered: (o.ssmAgent ?? false) && !o.isHelper,
      ...((o.ssmAgent ?? false) && !o.isHelper ? { pingStatus: state === 'running' ? 'Online' as const : 'ConnectionLost' as const } : {}),
      // A long-running instance's launch-time password data is no longer current (see passwordData).
      passwordData: '',
      ec2RescueInstalled: false,
      ...(o.clientToken ? { clientToken: o.clientToken } : {}),
      ...(o.runInstancesFingerprint ? { runInstancesFingerprint: o.runInstancesFingerprint } : {}),
      transition: 0,
      isHelper: o.isHelper ?? false,
    };
    this.instances.set(instance.instanceId, instance);
    if (windows && !instance.isHelper && state === 'running' && instance.keyName) {
      // The password data EC2Launch posted at this boot (stale: it predates any reset).
      instance.passwordData = newPasswordBlob(this, instance);
      instance.passwordTimestamp = instance.launchTime + 4 * 60_000;
    }
    if (instance.rootDeviceType === 'ebs') {
      const volume = this.addVolume({
        availabilityZone: az,
        encrypted: o.encrypted,
        kmsKeyId: o.kmsKeyId,
        productCodes: o.marketplaceProductCode ? [o.marketplaceProductCode] : [],
      });
      volume.attachment = {
        instanceId: instance.instanceId,
        device: instance.rootDeviceName,
        state: 'attached',
        deleteOnTermination: o.deleteOnTermination ?? true,
        attachTime: instance.launchTime,
        transition: 0,
      };
    }
    if (o.autoScalingGroup) {
      // Amazon EC2 Auto Scaling User Guide, "Tag Auto Scaling groups and instances"
      // (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-tagging.html): Auto Scaling
      // tags every instance it launches with aws:autoscaling:groupName, the group's name (a tag nobody can
      // change or remove). The fleet plan reads a target's group from it.
      instance.tags['aws:autoscaling:groupName'] = o.autoScalingGroup;
      const lifecycleState = o.autoScalingLifecycle ?? 'InService';
      this.autoScaling.set(instance.instanceId, { groupName: o.autoScalingGroup, lifecycleState, healthStatus: 'HEALTHY' });
      const group = this.autoScalingGroups.get(o.autoScalingGroup)
        ?? this.addAutoScalingGroup({ name: o.autoScalingGroup, tags: o.autoScalingGroupTags });
      // Instances in Standby do not count towards the desired capacity (they left it when they entered Standby).
      if (lifecycleState !== 'Standby') group.desiredCapacity += 1;
      group.maxSize = Math.max(group.maxSize, group.desiredCapacity);
    }
    return instance;
  }

  /**
   * Adds an Auto Scaling group without instances (addInstance with `autoScalingGroup` joins it, or
   * creates one with these defaults: MinSize 0, MaxSize 10, no tags).
   */
  public addAutoScalingGroup(o: { name: string; minSize?: number; maxSize?: number; tags?: Record<string, string> }): SimAsgGroup {
    const group: SimAsgGroup = { name: o.name, minSize: o.minSize ?? 0, maxSize: o.maxSize ?? 10, desiredCapacity: 0, tags: { ...(o.tags ?? {}) } };
    this.autoScalingGroups.set(o.name, group);
    return group;
  }

  /** Registers a key pair's public key (PEM): instances launched with `keyName` then get real password ciphertexts. */
  public registerKeyPair(name: string, publicKeyPem: string): void {
    this.keyPairs.set(name, publicKeyPem);
  }

  public addVolume(o: {
    availabilityZone?: string; encrypted?: boolean; kmsKeyId?: string; productCodes?: string[]; tags?: Record<string, string>;
  } = {}): SimVolume {
    const encrypted = o.encrypted ?? Boolean(o.kmsKeyId);
    const volume: SimVolume = {
      volumeId: this.newId('vol'),
      availabilityZone: o.availabilityZone ?? 'us-east-1a',
      sizeGiB: 30,
      encrypted,
      ...(encrypted ? { kmsKeyId: o.kmsKeyId ?? this.keys[0].arn } : {}),
      productCodes: o.productCodes ?? [],
      deleted: false,
      tags: { ...(o.tags ?? {}) },
      passwordGenerationArmed: false,
      generation: 1,
      history: [],
    };
    this.volumes.set(volume.volumeId, volume);
    return volume;
  }

  /** A customer managed key (with the default key policy unless `policy` is given). */
  public addCustomerKey(o: { keyId?: string; policy?: SimKey['policy']; aliases?: string[]; usableThroughEc2?: boolean } = {}): SimKey {
    const keyId = o.keyId ?? `${randomHex(4)}-aaaa-bbbb-cccc-${randomHex(6)}`;
    const key: SimKey = {
      keyId,
      arn: `arn:aws:kms:${this.region}:${this.accountId}:key/${keyId}`,
      manager: 'CUSTOMER',
      aliases: o.aliases ?? [],
      ...(o.usableThroughEc2 ? { usableThroughEc2: true } : {}),
      ...(o.policy ? { policy: o.policy } : {}),
    };
    this.keys.push(key);
    return key;
  }

  /** Adds an empty DynamoDB table, with DynamoDB's TTL on `ttlAttribute` and encrypted with the customer managed key `kmsKeyArn` when given. */
  public addTable(name: string, options: { readonly ttlAttribute?: string; readonly kmsKeyArn?: string } = {}): void {
    this.tables.set(name, new Map());
    if (options.ttlAttribute) this.tableTtl.set(name, options.ttlAttribute);
    if (options.kmsKeyArn) this.tableKeys.set(name, options.kmsKeyArn);
  }

  // ------------------------------------------------------------------ lookups the services share

  /** The volume attached to the instance at `device`, if any. */
  public volumeAt(instanceId: string, device: string): SimVolume | undefined {
    return [...this.volumes.values()].find(v => !v.deleted && v.attachment?.instanceId === instanceId && sameDevice(v.attachment.device, device));
  }

  public instance(instanceId: string): SimInstance {
    const instance = this.instances.get(instanceId);
    if (!instance) {
      throw ec2Error(instanceId.match(/^i-[0-9a-f]+$/) ? 'InvalidInstanceID.NotFound' : 'InvalidInstanceID.Malformed',
        `The instance ID '${instanceId}' does not exist`);
    }
    return instance;
  }

  public volume(volumeId: string): SimVolume {
    const volume = this.volumes.get(volumeId);
    if (!volume || volume.deleted) throw ec2Error('InvalidVolume.NotFound', `The volume '${volumeId}' does not exist.`);
    return volume;
  }
}
