import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ERRORS, WorkflowCommand } from './contracts';
import { POLL_BOUNDS } from './timeouts';
import { RESCUE_PASSWORD_PARAMETER_PREFIX } from '../../permissions/rescue-password-policy';
import type { ResetWorkflowFunctions } from '../reset-workflow';

/**
 * Builds the two state machines of docs/workflow-design.md on JSONPath (no JSONata, no
 * `Assign`: the local rehearsal cannot run those).
 *
 * Everything is built back to front: a fragment is given the state to go to next, which keeps
 * the poll loops and the restore loop ordinary functions instead of open-ended chains.
 */

/**
 * Errors the state machine itself raises when a poll loop exceeds its bound, beside the steps'
 * own {@link ERRORS}. The execution fails with one of these as its `error`.
 */
export const WORKFLOW_ERRORS = {
  /** The target did not reach `stopped`. */
  targetNotStopped: 'TargetNotStopped',
  /** The root volume did not reach the helper. */
  volumeNotAttached: 'VolumeNotAttached',
  /** The restore did not converge within its bound: check the instance by hand (its journal item is kept). */
  restoreIncomplete: 'RestoreIncomplete',
} as const;

/** The poll loops' bounds live with the timeouts they are derived from. */
export { POLL_BOUNDS };

/** Where results live in the state (ResultPath only; a handler result never replaces `$`). */
export const STATE_PATHS = {
  request: '$.request',
  plan: '$.plan',
  lock: '$.lock',
  helper: '$.helper',
  backupImage: '$.backupImage',
  command: '$.command',
  poll: '$.poll',
  restore: '$.restore',
  failure: '$.failure',
  loop: '$.loop',
  passwordStatus: '$.passwordStatus',
  output: '$.output',
  journal: '$.journal',
} as const;

/** Lambda and SDK errors that are safe to retry on any step (every step is idempotent, I6). */
export const TRANSIENT_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Sandbox.Timedout',
  'ThrottlingException',
  // Query-protocol APIs (Auto Scaling) throttle with `Throttling: Rate exceeded`.
  'Throttling',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
];

/** Values of the success output's `passwordStatus`. */
export const PASSWORD_STATUS = {
  /** Offline, target was running: GetPasswordData returns the new password (decrypt it with the key pair). */
  available: 'available',
  /** Offline, target was stopped: the password is generated when the instance is next started. */
  atNextStart: 'generated-at-next-start',
  /** Online: the password is in the SecureString parameter `passwordParameterName`. */
  inParameter: 'stored-in-parameter',
  /**
   * Offline, the instance has no key pair (allowed only with `passwordEnabledAmi`): GetPasswordData never
   * returns its password, so the workflow did not wait for one; launch the password-enabled image with a new key pair.
   */
  noKeyPair: 'no-key-pair',
} as const;

const plan = () => sfn.JsonPath.objectAt(STATE_PATHS.plan);

/** A Lambda step: function ARN as the resource, explicit payload, result at `resultPath`, retried on transient errors. */
export function step(scope: Construct, id: string, fn: lambda.IFunction, payload: Record<string, unknown>, resultPath: string): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, id, {
    lambdaFunction: fn,
    payloadResponseOnly: true,
    payload: sfn.TaskInput.fromObject(payload),
    resultPath,
    retryOnServiceExceptions: false,
  });
  task.addRetry({
    errors: TRANSIENT_ERRORS,
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 6,
    jitterStrategy: sfn.JitterType.FULL,
  });
  task.addRetry({
    errors: [ERRORS.notYet],
    interval: Duration.seconds(5),
    backoffRate: 1.5,
    maxAttempts: 10,
    maxDelay: Duration.seconds(60),
    jitterStrategy: sfn.JitterType.FULL,
  });
  return task;
}

interface PollLoopOptions {
  /** Name of the polling task; the other states are named after it. */
  readonly name: string;
  readonly task: tasks.LambdaInvoke;
  /** Where the task puts its PollResult. */
  readonly resultPath: string;
  readonly maxPolls: number;
  /** Where to go once the result says `done`. */
  readonly next: sfn.IChainable;
  /** Where to go when the bound is exceeded. */
  readonly onTimeout: sfn.IChainable;
}

/**
 * `<Name>Start` (loop counter = 0) → task → `<Name>Done?` ─done─► next
 *                                               ├─ counter ≥ bound ─► onTimeout
 *                                               └─ `<Name>Wait` (SecondsPath) → `<Name>Count` (MathAdd) → task
 * Returns the first state.
 */
function pollLoop(scope: Construct, o: PollLoopOptions): sfn.State {
  const start = new sfn.Pass(scope, `${o.name}Start`, { result: sfn.Result.fromObject({ count: 0 }), resultPath: STATE_PATHS.loop });
  const wait = new sfn.Wait(scope, `${o.name}Wait`, { time: sfn.WaitTime.secondsPath(`${o.resultPath}.waitSeconds`) });
  const count = new sfn.Pass(scope, `${o.name}Count`, {
    parameters: { 'count.$': `States.MathAdd(${STATE_PATHS.loop}.count, 1)` },
    resultPath: STATE_PATHS.loop,
  });
  const done = new sfn.Choice(scope, `${o.name}Done?`)
    .when(sfn.Condition.booleanEquals(`${o.resultPath}.done`, true), o.next)
    .when(sfn.Condition.numberGreaterThanEquals(`${STATE_PATHS.loop}.count`, o.maxPolls), o.onTimeout)
    .otherwise(wait);
  wait.next(count).next(o.task);
  start.next(o.task).next(done);
  return start;
}

/** Adds a step's Catch (the reset's `onFailure`). */
type AddCatch = (task: tasks.LambdaInvoke) => tasks.LambdaInvoke;

interface PollingStepOptions extends Omit<PollLoopOptions, 'task' | 'resultPath' | 'onTimeout'> {
  readonly fn: lambda.IFunction;
  readonly payload: Record<string, unknown>;
  /**
   * Makes the state to go to when the bound is exceeded. Called after the step has its Catch:
   * the ASL lists the states that lead to a shared state (RecordFailure) in the order they were
   * linked to it, so making it earlier would reorder the template.
   */
  readonly onTimeout: () => sfn.IChainable;
  /** Adds the step's Catch; absent inside a Parallel branch, whose failures the Parallel's own Catch handles. */
  readonly onFailure?: AddCatch;
}

/**
 * A Lambda step `<name>` polled until its PollResult (at `$.poll`) says `done`: the {@link step}
 * inside a {@link pollLoop} of the same name. Returns the loop's first state.
 */
function pollingStep(scope: Construct, o: PollingStepOptions): sfn.State {
  const task = step(scope, o.name, o.fn, o.payload, STATE_PATHS.poll);
  o.onFailure?.(task);
  return pollLoop(scope, { ...o, task, resultPath: STATE_PATHS.poll, onTimeout: o.onTimeout() });
}

interface RunCommandOptions extends Pick<PollingStepOptions, 'next' | 'onTimeout' | 'onFailure'> {
  /** Name of the step that sends the command. */
  readonly sendName: string;
  /** The send-command function that runs it. */
  readonly send: lambda.IFunction;
  readonly command: WorkflowCommand;
  /** JSONPath to the id of the instance the command runs on. */
  readonly targetInstancePath: string;
  /** Name of the step that polls the command (and of its loop). */
  readonly checkName: string;
  /** The loop's bound: longer than the command's own timeouts (see timeouts.ts). */
  readonly maxPolls: number;
  readonly checkCommand: lambda.IFunction;
}

/**
 * Runs a Run Command and waits for it: `<sendName>` sends `command` to the instance (the
 * command's ids at `$.command`), then `<checkName>` polls it with check-command until it has
 * finished. Returns the send step.
 */
function runCommand(scope: Construct, o: RunCommandOptions): sfn.State {
  const send = step(scope, o.sendName, o.send, {
    plan: plan(),
    command: o.command,
    targetInstanceId: sfn.JsonPath.stringAt(o.targetInstancePath),
  }, STATE_PATHS.command);
  o.onFailure?.(send);
  send.next(pollingStep(scope, {
    name: o.checkName,
    fn: o.checkCommand,
    payload: { plan: plan(), command: sfn.JsonPath.objectAt(STATE_PATHS.command) },
    maxPolls: o.maxPolls,
    next: o.next,
    onTimeout: o.onTimeout,
    onFailure: o.onFailure,
  }));
  return send;
}

/** A Pass that records a failure the state machine decided itself, shaped like a Catch's `{Error, Cause}`. */
function recordTimeout(scope: Construct, id: string, error: string, cause: string, next: sfn.IChainable): sfn.State {
  const pass = new sfn.Pass(scope, id, {
    result: sfn.Result.fromObject({ Error: error, Cause: cause }),
    resultPath: STATE_PATHS.failure,
  });
  pass.next(next);
  return pass;
}

/** A Fail inside a Parallel branch: the Parallel's Catch turns it into the restore. */
function branchFail(scope: Construct, id: string, error: string, cause: string): sfn.Fail {
  return new sfn.Fail(scope, id, { error, cause });
}

export interface RestoreLoopOptions {
  /** Prefix of the state names, unique within one state machine. */
  readonly prefix: string;
  readonly restore: lambda.IFunction;
  /** Whether the reset succeeded (the password-enabled image is only made then). */
  readonly succeeded: boolean;
  /** Where to go once the restore has converged. */
  readonly next: sfn.IChainable;
  /** Where to go when it does not converge within its bound. */
  readonly onIncomplete: sfn.IChainable;
  /** Where the restore task's own failure goes (after its retries); absent: the execution fails with it. */
  readonly onError?: sfn.IChainable;
}

/**
 * The restore loop, the same in both state machines (I1, I2): `<prefix>` calls the convergent
 * restore step with `{ plan, succeeded }` until it says `done`. Beyond the transient retries,
 * any restore error is retried a few times more, slowly: giving up on a restore leaves an
 * instance without its root volume, which is worse than waiting.
 */
export function restoreLoop(scope: Construct, o: RestoreLoopOptions): sfn.State {
  const task = step(scope, o.prefix, o.restore, { plan: plan(), succeeded: o.succeeded }, STATE_PATHS.restore);
  task.addRetry({
    errors: [sfn.Errors.ALL],
    interval: Duration.seconds(15),
    backoffRate: 2,
    maxAttempts: 4,
    jitterStrategy: sfn.JitterType.FULL,
  });
  if (o.onError) task.addCatch(o.onError, { errors: [sfn.Errors.ALL], resultPath: STATE_PATHS.failure });
  return pollLoop(scope, {
    name: o.prefix,
    task,
    resultPath: STATE_PATHS.restore,
    maxPolls: POLL_BOUNDS.restore,
    next: o.next,
    onTimeout: o.onIncomplete,
  });
}

const RESTORE_INCOMPLETE_CAUSE =
  'The restore did not converge within its bound. Its journal (the lock item) is kept, and the reconciler starts the restore ' +
  'again within minutes; if it gives up, the RestoresAbandoned alarm fires: check the instance (its root volume, DeleteOnTermination, ' +
  'state, Auto Scaling Standby and any helper instance tagged with this execution).';

/** The reset state machine (docs/workflow-design.md, "Reset, state by state"). */
export function buildResetDefinition(scope: Construct, fns: ResetWorkflowFunctions): sfn.IChainable {
  // ---- Failure path: RecordFailure → restore (succeeded=false) → ResetFailed.
  const resetFailed = new sfn.Fail(scope, 'ResetFailed', {
    errorPath: `${STATE_PATHS.failure}.Error`,
    causePath: `${STATE_PATHS.failure}.Cause`,
  });
  const restoreIncompleteAfterFailure = new sfn.Fail(scope, 'RestoreIncompleteAfterFailure', {
    error: WORKFLOW_ERRORS.restoreIncomplete,
    cause: RESTORE_INCOMPLETE_CAUSE,
  });
  const recordFailure = new sfn.Pass(scope, 'RecordFailure', {
    comment: 'The failure is in $.failure ({Error, Cause}); restore the instance, then fail with it.',
  });
  recordFailure.next(restoreLoop(scope, {
    prefix: 'RestoreAfterFailure',
    restore: fns.restore,
    succeeded: false,
    next: resetFailed,
    onIncomplete: restoreIncompleteAfterFailure,
  }));
  const onFailure = <T extends sfn.TaskStateBase | sfn.Parallel>(state: T): T => {
    state.addCatch(recordFailure, { errors: [sfn.Errors.ALL], resultPath: STATE_PATHS.failure });
    return state;
  };
  const timeout = (id: string, error: string, cause: string) => recordTimeout(scope, id, error, cause, recordFailure);

  // ---- Success outputs.
  const succeeded = new sfn.Succeed(scope, 'ResetSucceeded', { outputPath: STATE_PATHS.output });

  const addPasswordEnabledImage = new sfn.Pass(scope, 'AddPasswordEnabledImage', {
    inputPath: `${STATE_PATHS.restore}.passwordEnabledImageId`,
    resultPath: `${STATE_PATHS.output}.passwordEnabledImageId`,
  }).next(succeeded);
  const offlineOutput = new sfn.Pass(scope, 'OfflineOutput', {
    parameters: {
      'instanceId.$': `${STATE_PATHS.plan}.instanceId`,
      'method.$': `${STATE_PATHS.plan}.method`,
      'backupImageId.$': `${STATE_PATHS.backupImage}.imageId`,
      'passwordStatus.$': STATE_PATHS.passwordStatus,
    },
    resultPath: STATE_PATHS.output,
  }).next(new sfn.Choice(scope, 'HasPasswordEnabledImage?')
    .when(sfn.Condition.isPresent(`${STATE_PATHS.restore}.passwordEnabledImageId`), addPasswordEnabledImage)
    .otherwise(succeeded));
  const onlineOutput = new sfn.Pass(scope, 'OnlineOutput', {
    parameters: {
      'instanceId.$': `${STATE_PATHS.plan}.instanceId`,
      'method.$': `${STATE_PATHS.plan}.method`,
      'passwordParameterName.$': `States.Format('${RESCUE_PASSWORD_PARAMETER_PREFIX}{}', ${STATE_PATHS.plan}.instanceId)`,
      'passwordStatus': PASSWORD_STATUS.inParameter,
    },
    resultPath: STATE_PATHS.output,
  }).next(succeeded);
  const passwordStatus = (id: string, status: string) =>
    new sfn.Pass(scope, id, { result: sfn.Result.fromString(status), resultPath: STATE_PATHS.passwordStatus }).next(offlineOutput);

  // ---- Verify: GetPasswordData non-empty (only when the target was running).
  const verify = pollingStep(scope, {
    name: 'CheckPassword',
    fn: fns.checkPassword,
    payload: { plan: plan() },
    maxPolls: POLL_BOUNDS.password,
    next: passwordStatus('PasswordAvailable', PASSWORD_STATUS.available),
    onTimeout: () => timeout('PasswordNotGeneratedInTime', ERRORS.passwordNotGenerated,
      'GetPasswordData stayed empty: the password was not generated at boot. The instance is restored; check EC2Launch/EC2Config ' +
      'settings and its system log, or reset again.'),
    onFailure,
  });
  const afterRestore = new sfn.Choice(scope, 'PasswordCheckNeeded?')
    .when(sfn.Condition.stringEquals(`${STATE_PATHS.plan}.method`, 'online'), onlineOutput)
    // (issue 11, item 4) No key pair: GetPasswordData would stay empty, so there is nothing to wait for.
    // Not(IsPresent) rather than IsPresent=false: the same in ASL, and aws-local-stepfunctions 3 (the
    // rehearsal) evaluates `IsPresent: false` as never true.
    .when(sfn.Condition.not(sfn.Condition.isPresent(`${STATE_PATHS.plan}.keyName`)), passwordStatus('PasswordWithoutKeyPair', PASSWORD_STATUS.noKeyPair))
    .when(sfn.Condition.stringEquals(`${STATE_PATHS.plan}.originalState`, 'running'), verify)
    .otherwise(passwordStatus('PasswordAtNextStart', PASSWORD_STATUS.atNextStart));

  // ---- Restore after success (also the online method's end: it releases the lock).
  const restoreAfterSuccess = restoreLoop(scope, {
    prefix: 'RestoreAfterSuccess',
    restore: fns.restore,
    succeeded: true,
    next: afterRestore,
    onIncomplete: timeout('RestoreAfterSuccessIncomplete', WORKFLOW_ERRORS.restoreIncomplete, RESTORE_INCOMPLETE_CAUSE),
    onError: recordFailure,
  });

  // ---- Offline: the fix on the helper, after the volume is attached.
  const sendOfflineFix = runCommand(scope, {
    sendName: 'SendOfflineFix',
    send: fns.sendHelperCommand,
    command: 'offline-password-fix',
    targetInstancePath: `${STATE_PATHS.helper}.helperInstanceId`,
    checkName: 'CheckOfflineFix',
    checkCommand: fns.checkCommand,
    maxPolls: POLL_BOUNDS.offlineFix,
    next: restoreAfterSuccess,
    onTimeout: () => timeout('OfflineFixNotFinished', ERRORS.commandFailed, 'The offline password fix did not finish in time on the helper.'),
    onFailure,
  });

  const attach = pollingStep(scope, {
    name: 'AttachToHelper',
    fn: fns.attachToHelper,
    payload: { plan: plan(), helper: sfn.JsonPath.objectAt(STATE_PATHS.helper) },
    maxPolls: POLL_BOUNDS.attach,
    next: sendOfflineFix,
    onTimeout: () => timeout('VolumeNotAttachedInTime', WORKFLOW_ERRORS.volumeNotAttached, 'The root volume did not reach the helper in time.'),
    onFailure,
  });

  // ---- Offline: prepare the target and the helper in parallel.
  const prepare = onFailure(new sfn.Parallel(scope, 'Prepare', {
    comment: 'Stop the target and take its backup image while the helper launches and gets EC2Rescue.',
    resultSelector: {
      'request.$': '$[0].request',
      'plan.$': '$[0].plan',
      'lock.$': '$[0].lock',
      'backupImage.$': '$[0].backupImage',
      'helper.$': '$[1].helper',
    },
    resultPath: '$',
  }));
  prepare.branch(targetBranch(scope, fns), helperBranch(scope, fns));
  prepare.next(attach);

  // ---- Online.
  const sendOnlineReset = runCommand(scope, {
    sendName: 'SendOnlineReset',
    send: fns.sendOnlineReset,
    command: 'online-reset',
    targetInstancePath: `${STATE_PATHS.plan}.instanceId`,
    checkName: 'CheckOnlineReset',
    checkCommand: fns.checkCommand,
    maxPolls: POLL_BOUNDS.onlineReset,
    next: restoreAfterSuccess,
    onTimeout: () => timeout('OnlineResetNotFinished', ERRORS.commandFailed, 'AWSSupport-RunEC2RescueForWindowsTool did not finish in time.'),
    onFailure,
  });

  // ---- Start: request → preflight → (dry run | lock → method).
  const methodChoice = new sfn.Choice(scope, 'MethodChoice')
    .when(sfn.Condition.stringEquals(`${STATE_PATHS.plan}.method`, 'online'), sendOnlineReset)
    .otherwise(prepare);

  const lockHeld = new sfn.Fail(scope, 'LockHeld', {
    errorPath: `${STATE_PATHS.failure}.Error`,
    causePath: `${STATE_PATHS.failure}.Cause`,
  });
  const acquireLock = step(scope, 'AcquireLock', fns.acquireLock, { plan: plan() }, STATE_PATHS.lock);
  // Another execution holds the lock: touch nothing. Any other failure: the lock may be ours, so restore (which releases it).
  acquireLock.addCatch(lockHeld, { errors: [ERRORS.resetInProgress], resultPath: STATE_PATHS.failure });
  onFailure(acquireLock);
  acquireLock.next(methodChoice);

  const dryRunPlan = new sfn.Succeed(scope, 'DryRunPlan', { outputPath: STATE_PATHS.plan });
  const dryRun = new sfn.Choice(scope, 'DryRun?')
    .when(sfn.Condition.booleanEquals(`${STATE_PATHS.plan}.dryRun`, true), dryRunPlan)
    .otherwise(acquireLock);

  // Preflight changes nothing: its named errors fail the execution as they are.
  const preflight = step(scope, 'Preflight', fns.preflight, {
    request: sfn.JsonPath.objectAt(STATE_PATHS.request),
    executionArn: sfn.JsonPath.executionId,
    executionName: sfn.JsonPath.executionName,
    startTime: sfn.JsonPath.executionStartTime,
  }, STATE_PATHS.plan);

  const readRequest = new sfn.Pass(scope, 'ReadRequest', {
    comment: 'Keep the caller\'s input at $.request; the preflight validates it.',
    parameters: { 'request.$': '$' },
  });
  return readRequest.next(preflight).next(dryRun);
}

/** Branch (a): DeleteOnTermination=false, Standby, stop; then the backup image (not waited for). */
function targetBranch(scope: Construct, fns: ResetWorkflowFunctions): sfn.IChainable {
  const createBackupImage = step(scope, 'CreateBackupImage', fns.createBackupImage, { plan: plan() }, STATE_PATHS.backupImage);
  return pollingStep(scope, {
    name: 'PrepareTarget',
    fn: fns.prepareTarget,
    payload: { plan: plan() },
    maxPolls: POLL_BOUNDS.targetStopped,
    next: createBackupImage,
    onTimeout: () => branchFail(scope, 'TargetNotStoppedInTime', WORKFLOW_ERRORS.targetNotStopped, 'The target did not stop in time.'),
  });
}

/**
 * Polls of the on-demand interface endpoints (10 s apart: ten minutes) before the
 * reset gives up on them.
 */
export const ENDPOINT_POLLS = 60;

/**
 * Branch (b): launch the helper, wait until it is Online in SSM, install EC2Rescue. With
 * on-demand endpoints, they are requested first (OpenEndpoints, not waited for), the helper is
 * launched while they are created, and CheckEndpoints waits for them before CheckHelperReady:
 * the helper's agent can only come Online through them.
 */
function helperBranch(scope: Construct, fns: ResetWorkflowFunctions): sfn.IChainable {
  const launch = step(scope, 'LaunchHelper', fns.launchHelper, { plan: plan() }, STATE_PATHS.helper);
  const installEc2Rescue = runCommand(scope, {
    sendName: 'SendInstallEc2Rescue',
    send: fns.sendHelperCommand,
    command: 'install-ec2rescue',
    targetInstancePath: `${STATE_PATHS.helper}.helperInstanceId`,
    checkName: 'CheckInstall',
    checkCommand: fns.checkCommand,
    maxPolls: POLL_BOUNDS.install,
    next: new sfn.Pass(scope, 'HelperPrepared'),
    onTimeout: () => branchFail(scope, 'InstallNotFinished', ERRORS.commandFailed, 'Installing EC2Rescue on the helper did not finish in time.'),
  });
  const helperReady = pollingStep(scope, {
    name: 'CheckHelperReady',
    fn: fns.checkHelperReady,
    payload: { plan: plan(), helper: sfn.JsonPath.objectAt(STATE_PATHS.helper) },
    maxPolls: POLL_BOUNDS.helperReady,
    next: installEc2Rescue,
    onTimeout: () => branchFail(scope, 'HelperNotReadyInTime', ERRORS.helperNotReady,
      'The helper did not come Online in Systems Manager: check the rescue VPC endpoints and the helper security group.'),
  });
  if (!fns.openEndpoints) return launch.next(helperReady);

  const openEndpoints = step(scope, 'OpenEndpoints', fns.openEndpoints, { plan: plan() }, STATE_PATHS.poll);
  const endpointsAvailable = pollingStep(scope, {
    name: 'CheckEndpoints',
    fn: fns.openEndpoints,
    payload: { plan: plan() },
    maxPolls: ENDPOINT_POLLS,
    next: helperReady,
    onTimeout: () => branchFail(scope, 'EndpointsNotAvailableInTime', ERRORS.endpointsUnavailable,
      'The rescue VPC\'s interface endpoints did not become available within ten minutes; check them in the VPC console ' +
      '(tagged cdk-ec2-reset-access:role=endpoint) and the "Interface and Gateway Load Balancer endpoints per VPC" quota.'),
  });
  return openEndpoints.next(launch).next(endpointsAvailable);
}

/** The restore state machine: load the aborted execution's journal, then the same restore loop. */
export function buildRestoreDefinition(scope: Construct, fns: Pick<ResetWorkflowFunctions, 'loadJournal' | 'restore'>): sfn.IChainable {
  const loadJournal = step(scope, 'LoadJournal', fns.loadJournal, {
    executionArn: sfn.JsonPath.stringAt('$.executionArn'),
    input: sfn.JsonPath.stringAt('$.input'),
    restoreExecutionArn: sfn.JsonPath.executionId,
  }, STATE_PATHS.journal);
  const restored = new sfn.Succeed(scope, 'Restored');
  const nothingToRestore = new sfn.Succeed(scope, 'NothingToRestore', {
    comment: 'The execution never took the lock, or its restore had already finished.',
  });
  const usePlan = new sfn.Pass(scope, 'UseJournalPlan', {
    inputPath: `${STATE_PATHS.journal}.plan`,
    resultPath: STATE_PATHS.plan,
  }).next(restoreLoop(scope, {
    prefix: 'Restore',
    restore: fns.restore,
    succeeded: false,
    next: restored,
    onIncomplete: new sfn.Fail(scope, 'RestoreIncomplete', { error: WORKFLOW_ERRORS.restoreIncomplete, cause: RESTORE_INCOMPLETE_CAUSE }),
  }));
  return loadJournal.next(new sfn.Choice(scope, 'JournalFound?')
    .when(sfn.Condition.booleanEquals(`${STATE_PATHS.journal}.found`, true), usePlan)
    .otherwise(nothingToRestore));
}
