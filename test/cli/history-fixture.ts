import type { HistoryEvent } from '@aws-sdk/client-sfn';

/**
 * Builds Step Functions execution histories the way the service writes them: ids in order,
 * `previousEventId` chained per branch, a clock that advances as the test says.
 */
export class HistoryBuilder {
  public readonly events: HistoryEvent[] = [];
  private clock: number;
  private readonly last = new Map<string, number>();

  constructor(start = new Date('2026-05-01T03:15:00Z')) {
    this.clock = start.getTime();
  }

  public get now(): Date {
    return new Date(this.clock);
  }

  public wait(seconds: number): this {
    this.clock += seconds * 1000;
    return this;
  }

  public started(input: Record<string, unknown>): this {
    this.push('main', { type: 'ExecutionStarted', executionStartedEventDetails: { input: JSON.stringify(input) } });
    return this;
  }

  /** A state that is not a task: `Pass`, `Choice`, `Wait`, `Parallel`, `Fail`, `Succeed`. */
  public state(kind: string, name: string, options: { branch?: string; input?: unknown; seconds?: number } = {}): this {
    const branch = options.branch ?? 'main';
    this.push(branch, { type: `${kind}StateEntered` as HistoryEvent['type'], stateEnteredEventDetails: { name, input: JSON.stringify(options.input ?? {}) } });
    this.wait(options.seconds ?? 0);
    if (kind !== 'Fail' && kind !== 'Succeed') this.push(branch, { type: `${kind}StateExited` as HistoryEvent['type'], stateExitedEventDetails: { name } });
    return this;
  }

  /** A Lambda task that returns `output`, or fails with `error` (and is not retried). */
  public task(name: string, options: { branch?: string; seconds?: number; output?: unknown; error?: string; cause?: string } = {}): this {
    const branch = options.branch ?? 'main';
    this.push(branch, { type: 'TaskStateEntered', stateEnteredEventDetails: { name, input: '{}' } });
    this.push(branch, { type: 'LambdaFunctionScheduled' });
    this.push(branch, { type: 'LambdaFunctionStarted' });
    this.wait(options.seconds ?? 1);
    if (options.error) {
      this.push(branch, { type: 'LambdaFunctionFailed', lambdaFunctionFailedEventDetails: { error: options.error, cause: options.cause } });
      return this;
    }
    this.push(branch, { type: 'LambdaFunctionSucceeded', lambdaFunctionSucceededEventDetails: { output: JSON.stringify(options.output ?? {}) } });
    this.push(branch, { type: 'TaskStateExited', stateExitedEventDetails: { name } });
    return this;
  }

  /** A poll loop: `<name>Start`, then the task once per status, waiting between polls; the last status is `done`. */
  public pollLoop(name: string, statuses: string[], options: { branch?: string; waitSeconds?: number } = {}): this {
    this.state('Pass', `${name}Start`, options);
    statuses.forEach((status, index) => {
      const done = index === statuses.length - 1;
      this.task(name, { ...options, output: { done, waitSeconds: 15, status } });
      this.state('Choice', `${name}Done?`, options);
      if (!done) {
        this.state('Wait', `${name}Wait`, { ...options, seconds: options.waitSeconds ?? 15 });
        this.state('Pass', `${name}Count`, options);
      }
    });
    return this;
  }

  public enterParallel(name: string): this {
    this.push('main', { type: 'ParallelStateEntered', stateEnteredEventDetails: { name, input: '{}' } });
    return this;
  }

  public exitParallel(name: string): this {
    this.push('main', { type: 'ParallelStateExited', stateExitedEventDetails: { name } });
    return this;
  }

  public succeeded(output: unknown): this {
    this.push('main', { type: 'ExecutionSucceeded', executionSucceededEventDetails: { output: JSON.stringify(output) } });
    return this;
  }

  public failed(error: string, cause: string): this {
    this.push('main', { type: 'ExecutionFailed', executionFailedEventDetails: { error, cause } });
    return this;
  }

  public aborted(): this {
    this.push('main', { type: 'ExecutionAborted', executionAbortedEventDetails: {} });
    return this;
  }

  private push(branch: string, event: Omit<HistoryEvent, 'id' | 'timestamp' | 'previousEventId'>): void {
    const id = this.events.length + 1;
    const previous = this.last.get(branch) ?? this.last.get('main') ?? 0;
    this.events.push({ ...event, id, previousEventId: previous, timestamp: new Date(this.clock) } as HistoryEvent);
    this.last.set(branch, id);
    if (branch === 'main') for (const key of this.last.keys()) if (key !== 'main') this.last.delete(key);
  }
}

export const INSTANCE_ID = 'i-0123456789abcdef0';

export const PLAN = {
  instanceId: INSTANCE_ID,
  method: 'offline',
  dryRun: true,
  executionArn: 'arn:aws:states:eu-west-1:111122223333:execution:ResetStateMachine:x',
  executionName: 'x',
  availabilityZone: 'eu-west-1a',
  helperSubnetId: 'subnet-0aaa',
  originalState: 'running',
  rootDeviceName: '/dev/sda1',
  rootVolumeId: 'vol-0123456789abcdef0',
  rootDeleteOnTermination: true,
  manageStandby: false,
  keyName: 'ops-key',
  helperInstanceType: 't3.medium',
  passwordEnabledAmi: false,
  backupImageName: 'ResetAccess-Pre-Script-Backup_i-0123456789abcdef0_2026-05-01',
  passwordEnabledImageName: 'ResetAccess-Post-Script-Backup_i-0123456789abcdef0_2026-05-01',
  consequences: ['The instance is stopped and started again.', 'Its auto-assigned public IPv4 address is released.'],
};

/** A whole offline reset that succeeds, as the reset state machine records it. */
export function offlineSuccess(): HistoryBuilder {
  const h = new HistoryBuilder();
  h.started({ instanceId: INSTANCE_ID, method: 'auto' })
    .state('Pass', 'ReadRequest')
    .task('Preflight', { seconds: 2, output: { ...PLAN, dryRun: false } })
    .state('Choice', 'DryRun?')
    .task('AcquireLock', { output: { expiresAt: '2026-05-01T06:15:00Z' } })
    .state('Choice', 'MethodChoice');
  h.enterParallel('Prepare');
  // The two branches, interleaved as the service writes them.
  h.pollLoop('PrepareTarget', ['stopping the target', 'target stopped'], { branch: 'target', waitSeconds: 60 });
  h.task('LaunchHelper', { branch: 'helper', output: { helperInstanceId: 'i-0helper000000000', helperImageId: 'ami-0helper' } });
  h.task('CreateBackupImage', { branch: 'target', output: { imageId: 'ami-0backup', imageName: PLAN.backupImageName } });
  h.pollLoop('CheckHelperReady', ['helper pending, SSM none', 'helper Online in Systems Manager'], { branch: 'helper', waitSeconds: 120 });
  h.task('SendInstallEc2Rescue', { branch: 'helper', output: { commandId: 'c1', instanceId: 'i-0helper000000000' } });
  h.pollLoop('CheckInstall', ['command InProgress', 'command succeeded'], { branch: 'helper', waitSeconds: 30 });
  h.state('Pass', 'HelperPrepared', { branch: 'helper' });
  h.exitParallel('Prepare');
  h.pollLoop('AttachToHelper', ['detaching the root volume from the target', 'root volume attached to the helper'])
    .task('SendOfflineFix', { output: { commandId: 'c2', instanceId: 'i-0helper000000000' } })
    .pollLoop('CheckOfflineFix', ['command InProgress', 'command succeeded'], { waitSeconds: 45 })
    .pollLoop('RestoreAfterSuccess', ['waiting: volume detaching', 'restored'], { waitSeconds: 60 })
    .state('Choice', 'PasswordCheckNeeded?')
    .pollLoop('CheckPassword', ['waiting for Windows to generate the password', 'a new password was generated'], { waitSeconds: 120 })
    .state('Pass', 'PasswordAvailable')
    .state('Pass', 'OfflineOutput')
    .state('Succeed', 'ResetSucceeded')
    .succeeded(SUCCESS_OUTPUT);
  return h;
}

export const SUCCESS_OUTPUT = {
  instanceId: INSTANCE_ID,
  method: 'offline',
  backupImageId: 'ami-0backup',
  passwordStatus: 'available',
};
