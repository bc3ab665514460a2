/**
 * A simulated AWS account (one Region) that answers the step handlers' SDK v3 calls the way the
 * services do: state that changes over modelled time, the rules EC2 enforces, and EC2's error
 * codes. A test double kept honest: every rule below has a test of its own in
 * simulated-account.test.ts.
 *
 * Nothing here is a real secret: password data is an opaque blob that says it is fake, and the
 * online method's parameter value likewise. Both are collected in `secrets`, so the rehearsal can
 * prove no step ever carries them. Only an instance launched with a key pair whose public key
 * was registered (`registerKeyPair`, used with throwaway keys to run the CLI's decryption) gets
 * password data Windows-style: a random password encrypted with that key.
 */
import { constants, createHash, publicEncrypt, randomBytes } from 'node:crypto';
import { AutoScalingServiceException } from '@aws-sdk/client-auto-scaling';
import { ConditionalCheckFailedException, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { KMSServiceException } from '@aws-sdk/client-kms';
import { SSMServiceException } from '@aws-sdk/client-ssm';
import { VirtualClock } from './clock';
import { LATENCY, LatencyName, ms } from './latencies';

export type Service = 'ec2' | 'ssm' | 'autoscaling' | 'dynamodb' | 'kms';

/** What the runner tells the account about the caller (for faults and the call log). */
export interface CallContext {
  readonly execution?: string;
  readonly state?: string;
}

/** Decides whether a call fails (fault injection). Returns the error to throw, or undefined. */
export type FaultHook = (call: { service: Service; operation: string; input: any; context: CallContext }) => Error | undefined;

export interface ApiCall {
  readonly at: number;
  readonly service: Service;
  readonly operation: string;
  readonly input: any;
  readonly context: CallContext;
  readonly error?: string;
}

export type InstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';

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
  /** GetPasswordData's blob ('' until generated at a boot). */
  passwordData: string;
  passwordTimestamp?: number;
  ec2RescueInstalled: boolean;
  readonly clientToken?: string;
  readonly runInstancesFingerprint?: string;
  stateReason?: string;
  /** Bumped on every state change, so timers of an overtaken transition do nothing. */
  transition: number;
  readonly isHelper: boolean;
  /** Set when the target was rebooted by CreateImage with NoReboot=false. */
  rebootedByCreateImage?: boolean;
}

export interface SimAttachment {
  readonly instanceId: string;
  readonly device: string;
  state: 'attaching' | 'attached' | 'detaching';
  deleteOnTermination: boolean;
  readonly attachTime: number;
  transition: number;
}

export interface SimVolume {
  readonly volumeId: string;
  readonly availabilityZone: string;
  readonly sizeGiB: number;
  readonly encrypted: boolean;
  readonly kmsKeyId?: string;
  /** Marketplace product codes the volume carries. */
  readonly productCodes: string[];
  attachment?: SimAttachment;
  deleted: boolean;
  readonly tags: Record<string, string>;
  /** EC2Launch will set a new random password at the next boot (what the offline fix does). */
  passwordGenerationArmed: boolean;
  /** Bumped whenever the volume's content is changed (the offline fix): snapshots record it. */
  generation: number;
  /** Modelled times the volume left and came back to its original instance. */
  readonly history: { at: number; what: string }[];
}

export interface SimSnapshot {
  readonly snapshotId: string;
  readonly volumeId: string;
  readonly startTime: number;
  /** The volume's generation at the snapshot's start (point-in-time). */
  readonly generation: number;
  state: 'pending' | 'completed';
  readonly tags: Record<string, string>;
}

export interface SimImage {
  readonly imageId: string;
  readonly name: string;
  readonly description?: string;
  readonly ownerId: string;
  readonly isPublic: boolean;
  state: 'pending' | 'available' | 'failed';
  readonly rootDeviceName: string;
  readonly creationTime: number;
  readonly snapshotIds: string[];
  readonly sourceInstanceId?: string;
  readonly tags: Record<string, string>;
  readonly platformDetails: string;
}

export interface SimCommand {
  readonly commandId: string;
  readonly instanceId: string;
  readonly documentName: string;
  readonly parameters: Record<string, string[]>;
  readonly comment?: string;
  readonly requestedAt: number;
  status: 'Pending' | 'InProgress' | 'Success' | 'Failed' | 'TimedOut';
  stdout: string;
  stderr: string;
  responseCode: number;
}

export interface SimParameter {
  readonly name: string;
  value: string;
  readonly type: 'String' | 'SecureString';
  readonly keyId?: string;
  lastModified: number;
  version: number;
}

export interface SimAsgMember {
  readonly groupName: string;
  lifecycleState: 'InService' | 'EnteringStandby' | 'Standby' | 'Pending' | 'Terminating' | 'Terminated';
  healthStatus: 'HEALTHY' | 'UNHEALTHY';
}

export interface SimKey {
  readonly keyId: string;
  readonly arn: string;
  readonly manager: 'AWS' | 'CUSTOMER';
  readonly aliases: string[];
}

/** The documents Run Command knows in this account, and what they need. */
const DOCUMENTS = ['AWS-ConfigureAWSPackage', 'AWS-RunPowerShellScript', 'AWSSupport-RunEC2RescueForWindowsTool'];
/** AWSSupport-RunEC2RescueForWindowsTool's `Parameters` for ResetAccess: a key id or an alias of up to 32 characters. */
const RESET_ACCESS_KMS_PATTERN = /^(alias\/[a-zA-Z0-9/_-]{1,26}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const AMI_NAME = /^[A-Za-z0-9()[\] ./\-'@_]{3,128}$/;
/** EC2's limit of pending snapshots per volume. */
export const MAX_PENDING_SNAPSHOTS_PER_VOLUME = 5;
/** How long after it is stopped an InService Auto Scaling member is found unhealthy and terminated (assumption). */
export const ASG_UNHEALTHY_REPLACEMENT_SECONDS = 30;
/** How long after SendCommand the invocation is visible to GetCommandInvocation (assumption). */
export const INVOCATION_VISIBLE_AFTER_SECONDS = 0.5;

interface Timer { readonly at: number; readonly seq: number; readonly apply: () => void }

export function awsError(service: Service, code: string, message: string, fault: 'client' | 'server' = 'client'): Error {
  const options = { name: code, $fault: fault, $metadata: { httpStatusCode: fault === 'client' ? 400 : 500 }, message };
  switch (service) {
    case 'ec2': return new EC2ServiceException(options);
    case 'ssm': return new SSMServiceException(options);
    case 'autoscaling': return new AutoScalingServiceException(options);
    case 'dynamodb': return new DynamoDBServiceException(options);
    case 'kms': return new KMSServiceException(options);
  }
}

/** The throttling error code each service returns (the Query APIs of Auto Scaling say `Throttling`). */
export const THROTTLING_CODES: Record<Service, string> = {
  ec2: 'RequestLimitExceeded',
  ssm: 'ThrottlingException',
  autoscaling: 'Throttling',
  dynamodb: 'ProvisionedThroughputExceededException',
  kms: 'ThrottlingException',
};

/** An access-denied error code per service (a hard failure nobody retries). */
export const ACCESS_DENIED_CODES: Record<Service, string> = {
  ec2: 'UnauthorizedOperation',
  ssm: 'AccessDeniedException',
  autoscaling: 'AccessDenied',
  dynamodb: 'AccessDeniedException',
  kms: 'AccessDeniedException',
};

const READ_ONLY = /^(Describe|Get|List)/;

export class SimulatedAccount {
  public readonly accountId = '123456789012';
  public readonly region = 'us-east-1';
  public readonly instances = new Map<string, SimInstance>();
  public readonly volumes = new Map<string, SimVolume>();
  public readonly snapshots = new Map<string, SimSnapshot>();
  public readonly images = new Map<string, SimImage>();
  public readonly subnets = new Map<string, { availabilityZone: string }>();
  public readonly securityGroups = new Set<string>();
  public readonly instanceProfiles = new Set<string>();
  public readonly instanceTypes = new Map<string, { instanceStorageSupported: boolean }>();
  public readonly publicParameters = new Map<string, string>();
  public readonly parameters = new Map<string, SimParameter>();
  public readonly commands: SimCommand[] = [];
  public readonly autoScaling = new Map<string, SimAsgMember>();
  public readonly desiredCapacity = new Map<string, number>();
  public readonly keys: SimKey[] = [];
  public readonly tables = new Map<string, Map<string, Record<string, any>>>();
  /** Every call, in order. */
  public readonly calls: ApiCall[] = [];
  /** Notable moments for timelines and the bench (e.g. `password-data:<instance>`). */
  public readonly moments: { at: number; what: string }[] = [];
  /** Every password blob and parameter value the account ever produced (and the passwords behind real ciphertexts). */
  public readonly secrets = new Set<string>();
  /** Public keys (PEM) of key pairs, by name: instances launched with one get real password ciphertexts. */
  public readonly keyPairs = new Map<string, string>();
  /** Who is calling (set by the runner around each task). */
  public context: CallContext = {};
  public fault?: FaultHook;
  /** Documents whose next runs fail on the instance (e.g. a helper image where EC2Rescue cannot bring the disk online). */
  public readonly failingDocuments = new Map<string, string>();

  private readonly timers: Timer[] = [];
  /** While a due transition is applied: its own time (what follows from it is timed from there). */
  private applyingAt?: number;
  private seq = 0;
  private idCounter = 0;

  constructor(public readonly clock: VirtualClock) {
    for (const [type, store] of [['t3.medium', false], ['m5.large', false], ['m5d.large', true], ['t3.large', false]] as const) {
      this.instanceTypes.set(type, { instanceStorageSupported: store });
    }
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

  // ------------------------------------------------------------------ plumbing

  /** The account's now: the clock, or the time of the transition being applied. */
  public now(): number {
    return this.applyingAt ?? this.clock.now();
  }

  /** The entry point of every routed SDK call. */
  public call(service: Service, operation: string, input: any): any {
    this.settle();
    const record = (error?: string) => this.calls.push({
      at: this.now(), service, operation, input, context: { ...this.context }, ...(error ? { error } : {}),
    });
    const injected = this.fault?.({ service, operation, input, context: this.context });
    if (injected) {
      record(injected.name);
      throw injected;
    }
    const method = (this as any)[`${service}_${operation}`] as ((input: any) => any) | undefined;
    if (!method) {
      record('Rehearsal.Unrouted');
      throw new Error(`The simulated account does not implement ${service}:${operation}; add it to simulated-account.ts.`);
    }
    try {
      const out = method.call(this, input ?? {});
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

  /** Applies every transition due by now, in time order. */
  public settle(): void {
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > this.clock.now()) return;
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

  private after(latency: LatencyName | number, apply: () => void, from = this.now()): void {
    const delay = typeof latency === 'number' ? latency * 1000 : ms(latency);
    this.timers.push({ at: from + delay, seq: this.seq++, apply });
  }

  private moment(what: string, at = this.now()): void {
    this.moments.push({ at, what });
  }

  public newId(prefix: string): string {
    this.idCounter++;
    return `${prefix}-${createHash('sha256').update(`${prefix}${this.idCounter}`).digest('hex').slice(0, 17)}`;
  }

  private ec2(code: string, message: string): Error {
    return awsError('ec2', code, message);
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
    isHelper?: boolean;
    clientToken?: string;
    runInstancesFingerprint?: string;
    keyName?: string;
  } = {}): SimInstance {
    const windows = (o.platform ?? 'windows') === 'windows';
    const az = o.availabilityZone ?? 'us-east-1a';
    const state = o.state ?? 'running';
    const imageId = o.imageId ?? 'ami-0a2022aaaaaaaaaaa';
    const instance: SimInstance = {
      instanceId: this.newId('i'),
      imageId,
      ...(o.keyName ? { keyName: o.keyName } : {}),
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
    if (windows && !instance.isHelper && state === 'running') {
      // The password data EC2Launch posted at this boot (stale: it predates any reset).
      instance.passwordData = this.newPasswordBlob(instance);
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
      this.autoScaling.set(instance.instanceId, { groupName: o.autoScalingGroup, lifecycleState: o.autoScalingLifecycle ?? 'InService', healthStatus: 'HEALTHY' });
      this.desiredCapacity.set(o.autoScalingGroup, (this.desiredCapacity.get(o.autoScalingGroup) ?? 0) + 1);
    }
    return instance;
  }

  /** Registers a key pair's public key (PEM): instances launched with `keyName` then get real password ciphertexts. */
  public registerKeyPair(name: string, publicKeyPem: string): void {
    this.keyPairs.set(name, publicKeyPem);
  }

  /**
   * EC2Launch sets a random password and posts it encrypted with the instance's key pair (RSA,
   * PKCS#1 v1.5, base64). Without a registered public key: an opaque fake that says so.
   */
  private newPasswordBlob(instance: SimInstance): string {
    const publicKey = instance.keyName ? this.keyPairs.get(instance.keyName) : undefined;
    if (!publicKey) {
      const blob = `REHEARSAL-OPAQUE-BLOB/${randomBytes(12).toString('base64')}`;
      this.secrets.add(blob);
      return blob;
    }
    const password = randomBytes(24).toString('base64url');
    const blob = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(password, 'utf8')).toString('base64');
    this.secrets.add(password);
    this.secrets.add(blob);
    return blob;
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

  public addCustomerKey(): SimKey {
    const keyId = `${randomHex(4)}-aaaa-bbbb-cccc-${randomHex(6)}`;
    const key: SimKey = { keyId, arn: `arn:aws:kms:${this.region}:${this.accountId}:key/${keyId}`, manager: 'CUSTOMER', aliases: [] };
    this.keys.push(key);
    return key;
  }

  public addTable(name: string): void {
    this.tables.set(name, new Map());
  }

  /** The volume attached to the instance at `device`, if any. */
  public volumeAt(instanceId: string, device: string): SimVolume | undefined {
    return [...this.volumes.values()].find(v => !v.deleted && v.attachment?.instanceId === instanceId && sameDevice(v.attachment.device, device));
  }

  public instance(instanceId: string): SimInstance {
    const instance = this.instances.get(instanceId);
    if (!instance) {
      throw this.ec2(instanceId.match(/^i-[0-9a-f]+$/) ? 'InvalidInstanceID.NotFound' : 'InvalidInstanceID.Malformed',
        `The instance ID '${instanceId}' does not exist`);
    }
    return instance;
  }

  private volume(volumeId: string): SimVolume {
    const volume = this.volumes.get(volumeId);
    if (!volume || volume.deleted) throw this.ec2('InvalidVolume.NotFound', `The volume '${volumeId}' does not exist.`);
    return volume;
  }

  // ------------------------------------------------------------------ instance lifecycle

  private setState(instance: SimInstance, state: InstanceState): number {
    instance.state = state;
    instance.transition++;
    this.moment(`${instance.instanceId}:${state}`);
    return instance.transition;
  }

  private boot(instance: SimInstance): void {
    const t = this.setState(instance, 'pending');
    this.after('instancePendingToRunning', () => {
      if (instance.transition !== t) return;
      this.setState(instance, 'running');
      this.onRunning(instance);
    });
  }

  private onRunning(instance: SimInstance): void {
    const t = instance.transition;
    const root = this.volumeAt(instance.instanceId, instance.rootDeviceName);
    if (instance.platform === 'windows' && root?.passwordGenerationArmed) {
      this.after('passwordAfterBoot', () => {
        if (instance.transition !== t) return;
        instance.passwordData = this.newPasswordBlob(instance);
        instance.passwordTimestamp = this.now();
        root.passwordGenerationArmed = false;
        this.moment(`password-data:${instance.instanceId}`);
      });
    }
    if (instance.ssmAgent) {
      this.after('windowsBootToSsmOnline', () => {
        if (instance.transition !== t) return;
        instance.ssmRegistered = true;
        instance.pingStatus = 'Online';
        this.moment(`ssm-online:${instance.instanceId}`);
      });
    }
  }

  private stop(instance: SimInstance): void {
    const t = this.setState(instance, 'stopping');
    if (instance.pingStatus) instance.pingStatus = 'ConnectionLost';
    this.after('windowsStop', () => {
      if (instance.transition !== t) return;
      this.setState(instance, 'stopped');
      // Pessimistic assumption: GetPasswordData keeps returning the data of an earlier boot
      // (with its old Timestamp) until EC2Launch posts new data, so a check must compare times.
      if (instance.publicIp?.owner === 'amazon') delete instance.publicIp;
      const member = this.autoScaling.get(instance.instanceId);
      if (member?.lifecycleState === 'InService') {
        // A stopped InService member fails its EC2 health check and is replaced.
        this.after(ASG_UNHEALTHY_REPLACEMENT_SECONDS, () => {
          if (instance.state !== 'stopped' || member.lifecycleState !== 'InService') return;
          member.healthStatus = 'UNHEALTHY';
          member.lifecycleState = 'Terminating';
          this.terminate(instance);
        });
      }
    });
  }

  private terminate(instance: SimInstance): void {
    const t = this.setState(instance, 'shutting-down');
    if (instance.pingStatus) instance.pingStatus = 'ConnectionLost';
    this.after('shuttingDownToTerminated', () => {
      if (instance.transition !== t) return;
      this.setState(instance, 'terminated');
      for (const volume of this.volumes.values()) {
        if (volume.attachment?.instanceId !== instance.instanceId) continue;
        const deleteIt = volume.attachment.deleteOnTermination;
        volume.attachment = undefined;
        if (deleteIt) {
          volume.deleted = true;
          this.moment(`volume-deleted:${volume.volumeId}`);
        }
      }
      const member = this.autoScaling.get(instance.instanceId);
      if (member) member.lifecycleState = 'Terminated';
    });
  }

  // ------------------------------------------------------------------ EC2

  private instanceJson(i: SimInstance): any {
    const mappings = [...this.volumes.values()]
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
    const association = i.publicIp ? { PublicIp: i.publicIp.address, IpOwnerId: i.publicIp.owner === 'amazon' ? 'amazon' : this.accountId } : undefined;
    return {
      InstanceId: i.instanceId,
      ImageId: i.imageId,
      InstanceType: i.instanceType,
      State: { Name: i.state, Code: STATE_CODES[i.state] },
      ...(i.stateReason ? { StateReason: { Message: i.stateReason } } : {}),
      LaunchTime: new Date(i.launchTime),
      Placement: { AvailabilityZone: i.availabilityZone },
      SubnetId: i.subnetId,
      ...(i.platform ? { Platform: i.platform } : {}),
      PlatformDetails: i.platformDetails,
      ...(i.keyName ? { KeyName: i.keyName } : {}),
      RootDeviceName: i.rootDeviceName,
      RootDeviceType: i.rootDeviceType,
      ...(i.instanceLifecycle ? { InstanceLifecycle: i.instanceLifecycle } : {}),
      ProductCodes: i.productCodes.map(p => ({ ProductCodeId: p.id, ProductCodeType: p.type })),
      BlockDeviceMappings: mappings,
      Tags: Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })),
      NetworkInterfaces: [{
        SubnetId: i.subnetId,
        ...(association ? { Association: association } : {}),
        PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: '10.0.0.10', ...(association ? { Association: association } : {}) }],
      }],
    };
  }

  ec2_DescribeInstances(input: any): any {
    let instances: SimInstance[];
    if (input.InstanceIds?.length) {
      instances = (input.InstanceIds as string[]).map(id => this.instance(id));
    } else {
      instances = [...this.instances.values()];
    }
    for (const filter of input.Filters ?? []) {
      instances = instances.filter(i => matchesFilter(filter, {
        'instance-id': [i.instanceId],
        'instance-state-name': [i.state],
        'availability-zone': [i.availabilityZone],
        'tag-key': Object.keys(i.tags),
      }, i.tags));
    }
    return { Reservations: instances.map(i => ({ ReservationId: `r-${i.instanceId.slice(2)}`, Instances: [this.instanceJson(i)] })) };
  }

  ec2_DescribeInstanceAttribute(input: any): any {
    const i = this.instance(input.InstanceId);
    if (input.Attribute !== 'instanceInitiatedShutdownBehavior') {
      throw this.ec2('InvalidParameterValue', `The simulated account only describes instanceInitiatedShutdownBehavior, not ${input.Attribute}.`);
    }
    return { InstanceId: i.instanceId, InstanceInitiatedShutdownBehavior: { Value: i.shutdownBehavior } };
  }

  ec2_DescribeInstanceTypes(input: any): any {
    return {
      InstanceTypes: (input.InstanceTypes ?? []).map((type: string) => {
        const known = this.instanceTypes.get(type);
        if (!known) throw this.ec2('InvalidInstanceType', `The following supplied instance types do not exist: [${type}]`);
        return { InstanceType: type, InstanceStorageSupported: known.instanceStorageSupported };
      }),
    };
  }

  private volumeJson(v: SimVolume): any {
    return {
      VolumeId: v.volumeId,
      AvailabilityZone: v.availabilityZone,
      Size: v.sizeGiB,
      State: v.attachment ? 'in-use' : 'available',
      Encrypted: v.encrypted,
      ...(v.kmsKeyId ? { KmsKeyId: v.kmsKeyId } : {}),
      Attachments: v.attachment ? [{
        VolumeId: v.volumeId,
        InstanceId: v.attachment.instanceId,
        Device: v.attachment.device,
        State: v.attachment.state,
        DeleteOnTermination: v.attachment.deleteOnTermination,
        AttachTime: new Date(v.attachment.attachTime),
      }] : [],
      Tags: Object.entries(v.tags).map(([Key, Value]) => ({ Key, Value })),
    };
  }

  ec2_DescribeVolumes(input: any): any {
    let volumes = input.VolumeIds?.length
      ? (input.VolumeIds as string[]).map(id => this.volume(id))
      : [...this.volumes.values()].filter(v => !v.deleted);
    for (const filter of input.Filters ?? []) {
      volumes = volumes.filter(v => matchesFilter(filter, {
        'attachment.instance-id': v.attachment ? [v.attachment.instanceId] : [],
        'attachment.device': v.attachment ? [v.attachment.device] : [],
        'volume-id': [v.volumeId],
      }, v.tags));
    }
    return { Volumes: volumes.map(v => this.volumeJson(v)) };
  }

  ec2_DescribeImages(input: any): any {
    let images: SimImage[];
    if (input.ImageIds?.length) {
      images = (input.ImageIds as string[]).map(id => {
        const image = this.images.get(id);
        if (!image) throw this.ec2('InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);
        return image;
      });
    } else {
      images = [...this.images.values()];
    }
    if (input.Owners?.length) {
      images = images.filter(i => (input.Owners as string[]).some(o => (o === 'self' ? i.ownerId === this.accountId : i.ownerId === o)));
    }
    for (const filter of input.Filters ?? []) {
      images = images.filter(i => matchesFilter(filter, { 'name': [i.name], 'state': [i.state], 'image-id': [i.imageId] }, i.tags));
    }
    return {
      Images: images.map(i => ({
        ImageId: i.imageId,
        Name: i.name,
        ...(i.description ? { Description: i.description } : {}),
        OwnerId: i.ownerId,
        Public: i.isPublic,
        State: i.state,
        RootDeviceName: i.rootDeviceName,
        RootDeviceType: 'ebs',
        CreationDate: new Date(i.creationTime).toISOString(),
        PlatformDetails: i.platformDetails,
        BlockDeviceMappings: i.snapshotIds.map(s => ({ DeviceName: i.rootDeviceName, Ebs: { SnapshotId: s } })),
        Tags: Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })),
      })),
    };
  }

  ec2_ModifyInstanceAttribute(input: any): any {
    const i = this.instance(input.InstanceId);
    if (i.state === 'terminated') throw this.ec2('IncorrectInstanceState', `The instance '${i.instanceId}' is not in a state from which it can be modified.`);
    for (const mapping of input.BlockDeviceMappings ?? []) {
      const volume = this.volumeAt(i.instanceId, mapping.DeviceName);
      if (!volume) {
        throw this.ec2('InvalidInstanceAttributeValue', `No device is currently mapped at ${mapping.DeviceName}`);
      }
      if (mapping.Ebs?.DeleteOnTermination !== undefined) volume.attachment!.deleteOnTermination = mapping.Ebs.DeleteOnTermination;
    }
    return {};
  }

  private stateChanges(ids: string[], change: (i: SimInstance) => void): any {
    const instances = ids.map(id => this.instance(id));
    const before = instances.map(i => i.state);
    instances.forEach(change);
    return instances.map((i, n) => ({
      InstanceId: i.instanceId,
      PreviousState: { Name: before[n], Code: STATE_CODES[before[n]] },
      CurrentState: { Name: i.state, Code: STATE_CODES[i.state] },
    }));
  }

  ec2_StopInstances(input: any): any {
    const instances = (input.InstanceIds as string[]).map(id => this.instance(id));
    for (const i of instances) {
      if (i.rootDeviceType !== 'ebs') {
        throw this.ec2('UnsupportedOperation', `The instance '${i.instanceId}' does not have an 'ebs' root device type and cannot be stopped.`);
      }
      if (['pending', 'shutting-down', 'terminated'].includes(i.state)) {
        throw this.ec2('IncorrectInstanceState', `The instance '${i.instanceId}' is not in a state from which it can be stopped.`);
      }
    }
    return { StoppingInstances: this.stateChanges(input.InstanceIds, i => { if (i.state === 'running') this.stop(i); }) };
  }

  ec2_StartInstances(input: any): any {
    const instances = (input.InstanceIds as string[]).map(id => this.instance(id));
    for (const i of instances) {
      if (['stopping', 'shutting-down', 'terminated'].includes(i.state)) {
        throw this.ec2('IncorrectInstanceState', `The instance '${i.instanceId}' is not in a state from which it can be started.`);
      }
      if (i.state === 'stopped') {
        const root = this.volumeAt(i.instanceId, i.rootDeviceName);
        if (!root || root.attachment!.state !== 'attached') {
          throw this.ec2('InvalidInstanceID', `Invalid value '${i.instanceId}' for instanceId. Instance does not have a volume attached at root (${i.rootDeviceName})`);
        }
        const stray = [...this.volumes.values()].find(v => !v.deleted && v.attachment?.instanceId === i.instanceId && v.attachment.state !== 'attached');
        if (stray) throw this.ec2('IncorrectState', `Volume '${stray.volumeId}' is ${stray.attachment!.state}.`);
      }
    }
    return {
      StartingInstances: this.stateChanges(input.InstanceIds, i => {
        if (i.state !== 'stopped') return;
        // EC2 sets LaunchTime anew at every start, not only at RunInstances.
        i.launchTime = this.now();
        this.boot(i);
      }),
    };
  }

  ec2_TerminateInstances(input: any): any {
    return {
      TerminatingInstances: this.stateChanges(input.InstanceIds, i => {
        if (!['shutting-down', 'terminated'].includes(i.state)) this.terminate(i);
      }),
    };
  }

  ec2_DetachVolume(input: any): any {
    const volume = this.volume(input.VolumeId);
    const attachment = volume.attachment;
    if (!attachment) throw this.ec2('IncorrectState', `Volume '${volume.volumeId}' is in the 'available' state.`);
    if (input.InstanceId && input.InstanceId !== attachment.instanceId) {
      throw this.ec2('InvalidAttachment.NotFound', `The volume '${volume.volumeId}' is not attached to instance '${input.InstanceId}'`);
    }
    if (attachment.state !== 'attached') throw this.ec2('IncorrectState', `Volume '${volume.volumeId}' is in the '${attachment.state}' state.`);
    const instance = this.instance(attachment.instanceId);
    if (sameDevice(attachment.device, instance.rootDeviceName) && instance.state !== 'stopped' && !input.Force) {
      throw this.ec2('IncorrectState', `Unable to detach root volume '${volume.volumeId}' from instance '${instance.instanceId}'`);
    }
    attachment.state = 'detaching';
    const t = ++attachment.transition;
    volume.history.push({ at: this.now(), what: `detach:${attachment.instanceId}` });
    this.after('volumeDetach', () => {
      if (volume.attachment !== attachment || attachment.transition !== t) return;
      volume.attachment = undefined;
    });
    return { VolumeId: volume.volumeId, InstanceId: attachment.instanceId, Device: attachment.device, State: 'detaching' };
  }

  ec2_AttachVolume(input: any): any {
    const volume = this.volume(input.VolumeId);
    const instance = this.instance(input.InstanceId);
    if (volume.attachment) {
      throw this.ec2('VolumeInUse', `${volume.volumeId} is already attached to an instance`);
    }
    if (instance.availabilityZone !== volume.availabilityZone) {
      throw this.ec2('InvalidVolume.ZoneMismatch', `The volume '${volume.volumeId}' is not in the same availability zone as instance '${instance.instanceId}'`);
    }
    if (!['running', 'stopped'].includes(instance.state)) {
      throw this.ec2('IncorrectState', `Instance '${instance.instanceId}' is not 'running' or 'stopped'.`);
    }
    if (this.volumeAt(instance.instanceId, input.Device)) {
      throw this.ec2('InvalidParameterValue', `Invalid value '${input.Device}' for unixDevice. Attachment point ${input.Device} is already in use`);
    }
    if (volume.productCodes.length > 0 && instance.state !== 'stopped') {
      throw this.ec2('IncorrectState', `Volume '${volume.volumeId}' has a Marketplace product code and can only be attached to a stopped instance.`);
    }
    const attachment: SimAttachment = {
      instanceId: instance.instanceId, device: input.Device, state: 'attaching', deleteOnTermination: false, attachTime: this.now(), transition: 0,
    };
    volume.attachment = attachment;
    volume.history.push({ at: this.now(), what: `attach:${instance.instanceId}:${input.Device}` });
    this.after('volumeAttach', () => {
      if (volume.attachment === attachment && attachment.state === 'attaching') attachment.state = 'attached';
    });
    return { VolumeId: volume.volumeId, InstanceId: instance.instanceId, Device: input.Device, State: 'attaching' };
  }

  ec2_CreateImage(input: any): any {
    const instance = this.instance(input.InstanceId);
    if (!['running', 'stopped'].includes(instance.state)) {
      throw this.ec2('IncorrectInstanceState', `The instance '${instance.instanceId}' is not in a state from which it can be imaged.`);
    }
    if (typeof input.Name !== 'string' || !AMI_NAME.test(input.Name)) {
      throw this.ec2('InvalidAMIName.Malformed', 'AMI names must be between 3 and 128 characters long, and may contain letters, numbers, \'(\', \')\', \'.\', \'-\', \'/\' and \'_\'');
    }
    if ([...this.images.values()].some(i => i.ownerId === this.accountId && i.name === input.Name)) {
      throw this.ec2('InvalidAMIName.Duplicate', `AMI name ${input.Name} is already in use by AMI ${[...this.images.values()].find(i => i.name === input.Name)!.imageId}`);
    }
    const volumes = [...this.volumes.values()].filter(v => !v.deleted && v.attachment?.instanceId === instance.instanceId);
    for (const volume of volumes) {
      const pending = [...this.snapshots.values()].filter(s => s.volumeId === volume.volumeId && s.state === 'pending').length;
      if (pending >= MAX_PENDING_SNAPSHOTS_PER_VOLUME) {
        throw this.ec2('ConcurrentSnapshotLimitExceeded', `Maximum number of pending snapshots (${MAX_PENDING_SNAPSHOTS_PER_VOLUME}) reached for volume ${volume.volumeId}`);
      }
    }
    const tagsFor = (type: string) => Object.fromEntries(((input.TagSpecifications ?? []) as any[])
      .filter(s => s.ResourceType === type).flatMap(s => s.Tags ?? []).map((t: any) => [t.Key, t.Value]));
    const snapshotIds = volumes.map(v => this.startSnapshot(v, tagsFor('snapshot')));
    const image: SimImage = {
      imageId: this.newId('ami'),
      name: input.Name,
      description: input.Description,
      ownerId: this.accountId,
      isPublic: false,
      state: 'pending',
      rootDeviceName: instance.rootDeviceName,
      creationTime: this.now(),
      snapshotIds,
      sourceInstanceId: instance.instanceId,
      tags: tagsFor('image'),
      platformDetails: instance.platformDetails,
    };
    this.images.set(image.imageId, image);
    this.moment(`image-requested:${image.name}`);
    this.after('snapshotCompletion', () => {
      if (image.state === 'pending') image.state = 'available';
    });
    if (instance.state === 'running' && !input.NoReboot) {
      instance.rebootedByCreateImage = true;
    }
    return { ImageId: image.imageId };
  }

  private startSnapshot(volume: SimVolume, tags: Record<string, string>): string {
    const snapshot: SimSnapshot = {
      snapshotId: this.newId('snap'), volumeId: volume.volumeId, startTime: this.now(), generation: volume.generation, state: 'pending', tags,
    };
    this.snapshots.set(snapshot.snapshotId, snapshot);
    this.after('snapshotCompletion', () => { snapshot.state = 'completed'; });
    return snapshot.snapshotId;
  }

  /** CreateSnapshot, to exercise the pending-snapshot limit directly. */
  ec2_CreateSnapshot(input: any): any {
    const volume = this.volume(input.VolumeId);
    const pending = [...this.snapshots.values()].filter(s => s.volumeId === volume.volumeId && s.state === 'pending').length;
    if (pending >= MAX_PENDING_SNAPSHOTS_PER_VOLUME) {
      throw this.ec2('ConcurrentSnapshotLimitExceeded', `Maximum number of pending snapshots (${MAX_PENDING_SNAPSHOTS_PER_VOLUME}) reached for volume ${volume.volumeId}`);
    }
    return { SnapshotId: this.startSnapshot(volume, {}), State: 'pending' };
  }

  ec2_RunInstances(input: any): any {
    const fingerprint = JSON.stringify({ ...input, ClientToken: undefined });
    if (input.ClientToken) {
      const earlier = [...this.instances.values()].find(i => i.clientToken === input.ClientToken);
      if (earlier) {
        if (earlier.runInstancesFingerprint !== fingerprint) {
          throw this.ec2('IdempotentParameterMismatch', `The client token ${input.ClientToken} was used with different parameters.`);
        }
        return { Instances: [this.instanceJson(earlier)] };
      }
    }
    const image = this.images.get(input.ImageId);
    if (!image) throw this.ec2('InvalidAMIID.NotFound', `The image id '[${input.ImageId}]' does not exist`);
    if (!this.instanceTypes.has(input.InstanceType)) throw this.ec2('InvalidParameterValue', `Invalid value '${input.InstanceType}' for InstanceType.`);
    const eni = input.NetworkInterfaces?.[0];
    const subnetId = eni?.SubnetId ?? input.SubnetId;
    const subnet = this.subnets.get(subnetId);
    if (!subnet) throw this.ec2('InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);
    for (const group of eni?.Groups ?? input.SecurityGroupIds ?? []) {
      if (!this.securityGroups.has(group)) throw this.ec2('InvalidGroup.NotFound', `The security group '${group}' does not exist`);
    }
    const profile = input.IamInstanceProfile?.Arn;
    if (profile && !this.instanceProfiles.has(profile)) {
      throw this.ec2('InvalidParameterValue', `Value (${profile}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN`);
    }
    const tags = Object.fromEntries(((input.TagSpecifications ?? []) as any[])
      .filter(s => s.ResourceType === 'instance').flatMap(s => s.Tags ?? []).map((t: any) => [t.Key, t.Value]));
    const volumeTags = Object.fromEntries(((input.TagSpecifications ?? []) as any[])
      .filter(s => s.ResourceType === 'volume').flatMap(s => s.Tags ?? []).map((t: any) => [t.Key, t.Value]));
    const rootMapping = (input.BlockDeviceMappings ?? []).find((m: any) => sameDevice(m.DeviceName, image.rootDeviceName));
    const instance = this.addInstance({
      state: 'stopped',
      availabilityZone: subnet.availabilityZone,
      subnetId,
      imageId: image.imageId,
      instanceType: input.InstanceType,
      rootDeviceName: image.rootDeviceName,
      shutdownBehavior: input.InstanceInitiatedShutdownBehavior ?? 'stop',
      tags,
      autoAssignedPublicIp: eni?.AssociatePublicIpAddress === true,
      ssmAgent: Boolean(profile) && image.platformDetails === 'Windows',
      encrypted: rootMapping?.Ebs?.Encrypted ?? false,
      deleteOnTermination: rootMapping?.Ebs?.DeleteOnTermination ?? true,
      isHelper: true,
      clientToken: input.ClientToken,
      runInstancesFingerprint: fingerprint,
    });
    const root = this.volumeAt(instance.instanceId, instance.rootDeviceName)!;
    Object.assign(root.tags, volumeTags);
    instance.launchTime = this.now();
    this.boot(instance);
    return { Instances: [this.instanceJson(instance)] };
  }

  ec2_GetPasswordData(input: any): any {
    const i = this.instance(input.InstanceId);
    return { InstanceId: i.instanceId, PasswordData: i.passwordData, Timestamp: new Date(i.passwordTimestamp ?? this.now()) };
  }

  // ------------------------------------------------------------------ SSM

  private ssm(code: string, message: string): Error {
    return awsError('ssm', code, message);
  }

  ssm_GetParameter(input: any): any {
    const publicValue = this.publicParameters.get(input.Name);
    if (publicValue) return { Parameter: { Name: input.Name, Type: 'String', Value: publicValue, Version: 1 } };
    const p = this.parameters.get(input.Name);
    if (!p) throw this.ssm('ParameterNotFound', `Parameter ${input.Name} not found.`);
    return { Parameter: { Name: p.name, Type: p.type, Value: p.value, Version: p.version, LastModifiedDate: new Date(p.lastModified) } };
  }

  ssm_DescribeParameters(input: any): any {
    let list = [...this.parameters.values()].sort((a, b) => a.name.localeCompare(b.name));
    for (const filter of input.ParameterFilters ?? []) {
      if (filter.Key === 'Name' && filter.Option === 'BeginsWith') list = list.filter(p => (filter.Values as string[]).some(v => p.name.startsWith(v)));
      else throw this.ssm('InvalidFilterOption', `The simulated account supports Name BeginsWith only, not ${filter.Key} ${filter.Option}.`);
    }
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const size = Math.min(input.MaxResults ?? 50, 50);
    const page = list.slice(start, start + size);
    return {
      Parameters: page.map(p => ({ Name: p.name, Type: p.type, KeyId: p.keyId, LastModifiedDate: new Date(p.lastModified), Version: p.version })),
      ...(start + size < list.length ? { NextToken: String(start + size) } : {}),
    };
  }

  ssm_DeleteParameter(input: any): any {
    if (!this.parameters.delete(input.Name)) throw this.ssm('ParameterNotFound', `Parameter ${input.Name} not found.`);
    return {};
  }

  ssm_DeleteParameters(input: any): any {
    const deleted: string[] = [];
    const invalid: string[] = [];
    for (const name of input.Names as string[]) {
      if (this.parameters.delete(name)) deleted.push(name); else invalid.push(name);
    }
    return { DeletedParameters: deleted, InvalidParameters: invalid };
  }

  ssm_DescribeInstanceInformation(input: any): any {
    const ids = ((input.Filters ?? []) as any[]).find(f => f.Key === 'InstanceIds')?.Values as string[] | undefined;
    const registered = [...this.instances.values()].filter(i => i.ssmRegistered && i.state !== 'terminated' && (!ids || ids.includes(i.instanceId)));
    return {
      InstanceInformationList: registered.map(i => ({
        InstanceId: i.instanceId,
        PingStatus: i.pingStatus ?? 'ConnectionLost',
        PlatformType: i.platform === 'windows' ? 'Windows' : 'Linux',
      })),
    };
  }

  ssm_SendCommand(input: any): any {
    if (!DOCUMENTS.includes(input.DocumentName)) throw this.ssm('InvalidDocument', `Document ${input.DocumentName} does not exist in the simulated account.`);
    const ids = input.InstanceIds as string[];
    if (ids?.length !== 1) throw this.ssm('InvalidInstanceId', 'The simulated account runs commands on exactly one instance.');
    const instance = this.instances.get(ids[0]);
    if (!instance || !instance.ssmRegistered || instance.state === 'terminated') {
      throw this.ssm('InvalidInstanceId', 'Instances [[' + ids[0] + ']] not in a valid state for account ' + this.accountId);
    }
    const parameters = (input.Parameters ?? {}) as Record<string, string[]>;
    this.validateCommandParameters(input.DocumentName, parameters);
    const command: SimCommand = {
      commandId: `${randomHex(4)}-${randomHex(2)}-${randomHex(2)}-${randomHex(2)}-${randomHex(6)}`,
      instanceId: instance.instanceId,
      documentName: input.DocumentName,
      parameters,
      comment: input.Comment,
      requestedAt: this.now(),
      status: 'Pending',
      stdout: '',
      stderr: '',
      responseCode: -1,
    };
    this.commands.push(command);
    this.runCommand(command, instance, input.TimeoutSeconds ?? 3600);
    return { Command: { CommandId: command.commandId, DocumentName: command.documentName, Comment: command.comment, Status: 'Pending' } };
  }

  private validateCommandParameters(document: string, p: Record<string, string[]>): void {
    const bad = (why: string) => this.ssm('InvalidParameters', `${document}: ${why}`);
    switch (document) {
      case 'AWS-ConfigureAWSPackage':
        if (!['Install', 'Uninstall'].includes(p.action?.[0])) throw bad('action must be Install or Uninstall');
        if (!p.name?.[0]) throw bad('name is required');
        break;
      case 'AWS-RunPowerShellScript':
        if (!p.commands?.length) throw bad('commands is required');
        break;
      case 'AWSSupport-RunEC2RescueForWindowsTool':
        if (!['ResetAccess', 'CollectLogs', 'FixAll'].includes(p.Command?.[0])) throw bad('Command must be ResetAccess, CollectLogs or FixAll');
        if (p.Command[0] === 'ResetAccess' && p.Parameters?.[0] !== undefined && !RESET_ACCESS_KMS_PATTERN.test(p.Parameters[0])) {
          throw bad(`Parameters "${p.Parameters[0]}" fails the pattern (a key id or an alias of up to 32 characters)`);
        }
        break;
    }
  }

  private runCommand(command: SimCommand, instance: SimInstance, deliveryTimeoutSeconds: number): void {
    const fail = (stderr: string) => {
      command.status = 'Failed';
      command.stderr = stderr;
      command.responseCode = 1;
    };
    const deliver = () => {
      if (command.status !== 'Pending') return;
      if (instance.state !== 'running' || instance.pingStatus !== 'Online') {
        if (this.now() - command.requestedAt >= deliveryTimeoutSeconds * 1000) {
          command.status = 'TimedOut';
          return;
        }
        this.after(5, deliver);
        return;
      }
      command.status = 'InProgress';
      const duration: LatencyName = command.documentName === 'AWS-ConfigureAWSPackage'
        ? 'installEc2Rescue'
        : command.documentName === 'AWS-RunPowerShellScript' ? 'offlinePasswordFix' : 'onlineResetAccess';
      const transition = instance.transition;
      this.after(duration, () => {
        if (instance.transition !== transition) return fail('The instance stopped while the command ran.');
        this.completeCommand(command, instance, fail);
      });
    };
    this.after('commandDelivery', deliver);
  }

  private completeCommand(command: SimCommand, instance: SimInstance, fail: (stderr: string) => void): void {
    const p = command.parameters;
    const failure = this.failingDocuments.get(command.documentName);
    if (failure) return fail(failure);
    switch (command.documentName) {
      case 'AWS-ConfigureAWSPackage':
        if (p.name[0] !== 'AWSSupport-EC2Rescue') return fail(`Package ${p.name[0]} is not available in the simulated Region.`);
        instance.ec2RescueInstalled = p.action[0] === 'Install';
        break;
      case 'AWS-RunPowerShellScript': {
        const script = p.commands.join('\n');
        const device = offlineFixDevice(script);
        if (!device) return fail('The simulated helper only runs the offline password fix (Invoke-EC2RescueEnablePasswordGeneration -BlockDeviceName <device>).');
        if (!instance.ec2RescueInstalled) return fail('EC2Rescue is not installed: the EC2Rescue module and EC2RescueCmd.exe were not found.');
        const volume = this.volumeAt(instance.instanceId, device);
        if (!volume || volume.attachment!.state !== 'attached') return fail(`EC2RescueCmd.exe: no offline disk at ${device}.`);
        volume.passwordGenerationArmed = true;
        volume.generation++;
        this.moment(`offline-fix:${volume.volumeId}`);
        break;
      }
      case 'AWSSupport-RunEC2RescueForWindowsTool': {
        if (p.Command[0] !== 'ResetAccess') break;
        const name = `/EC2Rescue/Passwords/${instance.instanceId}`;
        const value = `REHEARSAL-OPAQUE-PARAMETER-VALUE/${randomBytes(12).toString('base64')}`;
        this.secrets.add(value);
        const previous = this.parameters.get(name);
        this.parameters.set(name, {
          name, value, type: 'SecureString', keyId: p.Parameters?.[0] ?? 'alias/aws/ssm', lastModified: this.now(), version: (previous?.version ?? 0) + 1,
        });
        command.stdout = `The new password was saved to ${name}.`;
        this.moment(`password-parameter:${instance.instanceId}`);
        break;
      }
    }
    command.status = 'Success';
    command.responseCode = 0;
  }

  ssm_ListCommands(input: any): any {
    let list = this.commands.filter(c => !input.InstanceId || c.instanceId === input.InstanceId);
    if (input.CommandId) list = list.filter(c => c.commandId === input.CommandId);
    for (const filter of input.Filters ?? []) {
      if (filter.key === 'DocumentName') list = list.filter(c => c.documentName === filter.value);
      else throw this.ssm('InvalidFilterKey', `The simulated account filters commands by DocumentName only, not ${filter.key}.`);
    }
    return {
      Commands: list.map(c => ({
        CommandId: c.commandId,
        DocumentName: c.documentName,
        Comment: c.comment,
        Status: c.status,
        InstanceIds: [c.instanceId],
        RequestedDateTime: new Date(c.requestedAt),
      })),
    };
  }

  ssm_GetCommandInvocation(input: any): any {
    const command = this.commands.find(c => c.commandId === input.CommandId && c.instanceId === input.InstanceId);
    if (!command || this.now() - command.requestedAt < INVOCATION_VISIBLE_AFTER_SECONDS * 1000) {
      throw this.ssm('InvocationDoesNotExist', 'An error occurred (InvocationDoesNotExist)');
    }
    return {
      CommandId: command.commandId,
      InstanceId: command.instanceId,
      DocumentName: command.documentName,
      Status: command.status,
      StatusDetails: command.status === 'TimedOut' ? 'DeliveryTimedOut' : command.status,
      ResponseCode: command.responseCode,
      StandardOutputContent: command.stdout,
      StandardErrorContent: command.stderr,
    };
  }

  // ------------------------------------------------------------------ Auto Scaling

  private asg(code: string, message: string): Error {
    return awsError('autoscaling', code, message);
  }

  autoscaling_DescribeAutoScalingInstances(input: any): any {
    const ids = (input.InstanceIds ?? [...this.autoScaling.keys()]) as string[];
    return {
      AutoScalingInstances: ids.flatMap(id => {
        const member = this.autoScaling.get(id);
        return member && member.lifecycleState !== 'Terminated'
          ? [{ InstanceId: id, AutoScalingGroupName: member.groupName, LifecycleState: member.lifecycleState, HealthStatus: member.healthStatus }]
          : [];
      }),
    };
  }

  autoscaling_EnterStandby(input: any): any {
    if (input.ShouldDecrementDesiredCapacity === undefined) throw this.asg('ValidationError', 'ShouldDecrementDesiredCapacity is required.');
    const activities = (input.InstanceIds as string[]).map(id => {
      const member = this.autoScaling.get(id);
      if (!member || member.groupName !== input.AutoScalingGroupName) {
        throw this.asg('ValidationError', `The instance ${id} is not part of Auto Scaling group ${input.AutoScalingGroupName}.`);
      }
      if (member.lifecycleState !== 'InService') throw this.asg('ValidationError', `The instance ${id} is not in InService.`);
      member.lifecycleState = 'EnteringStandby';
      if (input.ShouldDecrementDesiredCapacity) this.desiredCapacity.set(member.groupName, (this.desiredCapacity.get(member.groupName) ?? 1) - 1);
      this.after('enterStandby', () => { if (member.lifecycleState === 'EnteringStandby') member.lifecycleState = 'Standby'; });
      return { ActivityId: randomHex(8), AutoScalingGroupName: member.groupName, StatusCode: 'InProgress' };
    });
    return { Activities: activities };
  }

  autoscaling_ExitStandby(input: any): any {
    const activities = (input.InstanceIds as string[]).map(id => {
      const member = this.autoScaling.get(id);
      if (!member || member.groupName !== input.AutoScalingGroupName) {
        throw this.asg('ValidationError', `The instance ${id} is not part of Auto Scaling group ${input.AutoScalingGroupName}.`);
      }
      if (member.lifecycleState !== 'Standby') throw this.asg('ValidationError', `The instance ${id} is not in Standby.`);
      member.lifecycleState = 'Pending';
      this.desiredCapacity.set(member.groupName, (this.desiredCapacity.get(member.groupName) ?? 0) + 1);
      this.after('exitStandby', () => { if (member.lifecycleState === 'Pending') member.lifecycleState = 'InService'; });
      return { ActivityId: randomHex(8), AutoScalingGroupName: member.groupName, StatusCode: 'InProgress' };
    });
    return { Activities: activities };
  }

  // ------------------------------------------------------------------ DynamoDB

  private table(name: string): Map<string, Record<string, any>> {
    const table = this.tables.get(name);
    if (!table) throw awsError('dynamodb', 'ResourceNotFoundException', `Requested resource not found: Table: ${name} not found`);
    return table;
  }

  dynamodb_GetItem(input: any): any {
    const item = this.table(input.TableName).get(keyOf(input.Key));
    return item ? { Item: structuredClone(item) } : {};
  }

  dynamodb_PutItem(input: any): any {
    const table = this.table(input.TableName);
    const key = keyOf({ instanceId: input.Item.instanceId });
    const existing = table.get(key);
    if (input.ConditionExpression && !evaluateCondition(input.ConditionExpression, existing, input.ExpressionAttributeValues ?? {})) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: { httpStatusCode: 400 },
        ...(input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && existing ? { Item: structuredClone(existing) } : {}),
      });
    }
    table.set(key, structuredClone(input.Item));
    return {};
  }

  dynamodb_DeleteItem(input: any): any {
    const table = this.table(input.TableName);
    const key = keyOf(input.Key);
    const existing = table.get(key);
    if (input.ConditionExpression && !evaluateCondition(input.ConditionExpression, existing, input.ExpressionAttributeValues ?? {})) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });
    }
    table.delete(key);
    return {};
  }

  // ------------------------------------------------------------------ KMS

  kms_DescribeKey(input: any): any {
    const id = input.KeyId as string;
    const key = this.keys.find(k => k.keyId === id || k.arn === id || k.aliases.includes(id));
    if (!key) throw awsError('kms', 'NotFoundException', `Key '${id}' does not exist`);
    return { KeyMetadata: { KeyId: key.keyId, Arn: key.arn, KeyManager: key.manager, KeyState: 'Enabled', Enabled: true } };
  }
}

function keyOf(key: Record<string, any>): string {
  return JSON.stringify(key);
}

const STATE_CODES: Record<InstanceState, number> = { 'pending': 0, 'running': 16, 'shutting-down': 32, 'terminated': 48, 'stopping': 64, 'stopped': 80 };

function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/**
 * The device the offline password fix runs EC2Rescue on: the `-BlockDeviceName` argument of
 * `Invoke-EC2RescueEnablePasswordGeneration`, a literal or a `$Variable = '<value>'` of the script.
 */
export function offlineFixDevice(script: string): string | undefined {
  const call = script.match(/Invoke-EC2RescueEnablePasswordGeneration\s+-BlockDeviceName\s+(\$\w+|['"]?[\w/]+['"]?)/);
  if (!call) return undefined;
  const argument = call[1];
  if (!argument.startsWith('$')) return argument.replace(/['"]/g, '');
  const assignment = script.match(new RegExp(`\\${argument}\\s*=\\s*['"]([\\w/]+)['"]`));
  return assignment?.[1];
}

export function sameDevice(a: string, b: string): boolean {
  return a.replace(/^\/dev\//, '') === b.replace(/^\/dev\//, '');
}

/** EC2's Describe* filter semantics: any of the values; `tag:<key>` filters on tags; unknown names are an error. */
function matchesFilter(filter: { Name: string; Values: string[] }, fields: Record<string, string[]>, tags: Record<string, string>): boolean {
  if (filter.Name.startsWith('tag:')) {
    const value = tags[filter.Name.slice(4)];
    return value !== undefined && filter.Values.some(v => wildcard(v, value));
  }
  const values = fields[filter.Name];
  if (!values) throw awsError('ec2', 'InvalidParameterValue', `The filter '${filter.Name}' is invalid`);
  return values.some(value => filter.Values.some(v => wildcard(v, value)));
}

function wildcard(pattern: string, value: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === value;
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return regex.test(value);
}

/**
 * The subset of DynamoDB condition expressions the lock uses: `attribute_not_exists(a)`,
 * `attribute_exists(a)`, `a = :v`, `a <> :v`, `a < :v`, `a > :v`, joined by OR / AND (AND binds tighter).
 */
export function evaluateCondition(expression: string, item: Record<string, any> | undefined, values: Record<string, any>): boolean {
  const scalar = (v: any): string | number | undefined => {
    if (v === undefined) return undefined;
    if (v.S !== undefined) return v.S;
    return v.N !== undefined ? Number(v.N) : JSON.stringify(v);
  };
  const term = (text: string): boolean => {
    const t = text.trim();
    let m = t.match(/^attribute_not_exists\((\w+)\)$/);
    if (m) return item?.[m[1]] === undefined;
    m = t.match(/^attribute_exists\((\w+)\)$/);
    if (m) return item?.[m[1]] !== undefined;
    m = t.match(/^(\w+)\s*(=|<>|<|>)\s*(:\w+)$/);
    if (!m) throw new Error(`The simulated DynamoDB cannot evaluate "${t}"`);
    if (!(m[3] in values)) throw awsError('dynamodb', 'ValidationException', `An expression attribute value used in expression is not defined: ${m[3]}`);
    const left = scalar(item?.[m[1]]);
    const right = scalar(values[m[3]]);
    if (left === undefined) return false;
    switch (m[2]) {
      case '=': return left === right;
      case '<>': return left !== right;
      case '<': return left < right!;
      default: return left > right!;
    }
  };
  return expression.split(/\s+OR\s+/).some(alternative => alternative.split(/\s+AND\s+/).every(term));
}

/** For the report: the latency table's names the account uses. */
export const ACCOUNT_LATENCIES: LatencyName[] = Object.keys(LATENCY) as LatencyName[];
