import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { step } from './state-machine-definition';

/** Where the fleet machine keeps its data (ResultPath only). */
export const FLEET_PATHS = {
  fleet: '$.fleet',
  waves: '$.waves',
  child: '$.child',
  failure: '$.failure',
  release: '$.release',
} as const;

/** How often an iteration reads the instance's lock while it waits for the instance to be put back. */
export const RELEASE_POLL_SECONDS = 30;
/**
 * The longest an iteration waits for the lock to go: the restore state machine's execution timeout
 * (2 hours); past it the reconciler has restarted or given up on the restore, and the fleet goes
 * on, saying that this instance was still locked.
 */
export const RELEASE_MAX_POLLS = (2 * 3600) / RELEASE_POLL_SECONDS;

export interface FleetDefinitionOptions {
  readonly plan: lambda.IFunction;
  readonly summary: lambda.IFunction;
  /** The reset state machine each instance runs in. */
  readonly resetStateMachine: sfn.IStateMachine;
  /** The reset workflow's lock table (one item per instance under reset or restore, keyed by `instanceId`). */
  readonly lockTable: dynamodb.ITable;
  /** The most children of one wave running at once (the plan never puts more into a wave). */
  readonly maxDown: number;
}

/**
 * The fleet state machine (issue 14):
 *
 * ```
 * PlanFleet (targets resolved, waves planned; named errors for bad input)
 * Waves (Distributed Map over the waves, one at a time)
 *   └─ Wave (Distributed Map over the wave's instances, all at once)
 *        └─ ResetInstance (states:startExecution.sync:2 of the reset machine) ─ Catch ALL ─► ResetNotSucceeded
 *             ─► ReadLock ◄─┐ (dynamodb:getItem of the instance's lock item)
 *                 ├─ no owner, given up, or waited long enough ─► end of the iteration
 *                 └─ still held ─► WaitForRelease (30 s) ─► CountReleasePoll ─┘
 * Summarize (each instance's outcome, counts)
 * ```
 *
 * Distributed, not inline, Maps: an inline Map runs at most 40 iterations at once (Step Functions
 * Developer Guide, "Using Map state in Inline mode"), fewer than the default bound on targets down.
 * Each instance's reset is a whole child execution, so it keeps its lock, journal, preflight,
 * restore, abort and timeout handling, and the reconciler's watch; the Catch turns a child's
 * failure into that instance's outcome, so one instance never stops the others.
 */
export function buildFleetDefinition(scope: Construct, o: FleetDefinitionOptions): sfn.IChainable {
  const plan = step(scope, 'PlanFleet', o.plan, { 'request.$': '$' }, FLEET_PATHS.fleet);

  const reset = new tasks.StepFunctionsStartExecution(scope, 'ResetInstance', {
    stateMachine: o.resetStateMachine,
    integrationPattern: sfn.IntegrationPattern.RUN_JOB,
    // The child's input is exactly the single reset's request (its preflight refuses unknown fields,
    // so no AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: the fleet's output names each child's ARN).
    input: sfn.TaskInput.fromJsonPathAt('$'),
    resultSelector: { 'executionArn.$': '$.ExecutionArn', 'status.$': '$.Status', 'output.$': '$.Output' },
    resultPath: FLEET_PATHS.child,
  });
  // StartExecution itself may be throttled; the child's own failures are not retried (a second reset is the operator's decision).
  reset.addRetry({
    errors: ['StepFunctions.SdkClientException', 'StepFunctions.ThrottlingException', 'StepFunctions.ExecutionLimitExceededException'],
    interval: Duration.seconds(2),
    maxAttempts: 6,
    backoffRate: 2,
    jitterStrategy: sfn.JitterType.FULL,
  });
  reset.addCatch(new sfn.Pass(scope, 'ResetNotSucceeded').next(awaitRelease(scope, o.lockTable)), {
    errors: [sfn.Errors.ALL], resultPath: FLEET_PATHS.failure,
  });

  const wave = new sfn.DistributedMap(scope, 'Wave', {
    itemsPath: '$.requests',
    maxConcurrency: o.maxDown,
    mapExecutionType: sfn.StateMachineType.STANDARD,
    label: 'Wave',
  });
  wave.itemProcessor(reset);

  const waves = new sfn.DistributedMap(scope, 'Waves', {
    itemsPath: '$.fleet.waves',
    maxConcurrency: 1,
    mapExecutionType: sfn.StateMachineType.STANDARD,
    resultPath: FLEET_PATHS.waves,
    label: 'Waves',
  });
  waves.itemProcessor(wave);

  const summarize = new tasks.LambdaInvoke(scope, 'Summarize', {
    lambdaFunction: o.summary,
    payloadResponseOnly: true,
    payload: sfn.TaskInput.fromObject({ 'fleet.$': FLEET_PATHS.fleet, 'waves.$': FLEET_PATHS.waves }),
    retryOnServiceExceptions: true,
  });
  return plan.next(waves).next(summarize);
}

/**
 * After a child that did not succeed, the iteration ends only once no reset holds the instance's
 * lock. A child that failed released it in its own restore, and one that was refused never took it,
 * so the first read ends the wait; a child that was aborted or timed out is put back by the restore
 * state machine (EventBridge starts it after the child ended), which releases the lock when the
 * instance is back. Without this, the next wave could start while that instance is still down, and
 * the fleet would have more instances down than its bounds allow. The wait ends too when the
 * reconciler gave up on the restore (`abandonedAt`: an operator must act) or after RELEASE_MAX_POLLS;
 * a read that fails ends it rather than the fleet (the outcome then says the lock was not read).
 */
function awaitRelease(scope: Construct, lockTable: dynamodb.ITable): sfn.IChainable {
  const start = new sfn.Pass(scope, 'StartAwaitingRelease', { result: sfn.Result.fromObject({ polls: 0 }), resultPath: FLEET_PATHS.release });
  const readLock = new tasks.DynamoGetItem(scope, 'ReadLock', {
    table: lockTable,
    key: { instanceId: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.instanceId')) },
    consistentRead: true,
    projectionExpression: [
      new tasks.DynamoProjectionExpression().withAttribute('executionArn'),
      new tasks.DynamoProjectionExpression().withAttribute('abandonedAt'),
    ],
    resultPath: `${FLEET_PATHS.release}.lock`,
  });
  readLock.addRetry({ errors: [sfn.Errors.ALL], interval: Duration.seconds(2), maxAttempts: 3, backoffRate: 2, jitterStrategy: sfn.JitterType.FULL });
  const released = new sfn.Pass(scope, 'InstanceReleased');
  readLock.addCatch(released, { errors: [sfn.Errors.ALL], resultPath: `${FLEET_PATHS.release}.readError` });
  const count = new sfn.Pass(scope, 'CountReleasePoll', {
    parameters: { 'polls.$': `States.MathAdd(${FLEET_PATHS.release}.polls, 1)` },
    resultPath: FLEET_PATHS.release,
  });
  const wait = new sfn.Wait(scope, 'WaitForRelease', { time: sfn.WaitTime.duration(Duration.seconds(RELEASE_POLL_SECONDS)) });
  const decide = new sfn.Choice(scope, 'LockReleased?')
    .when(sfn.Condition.isPresent(`${FLEET_PATHS.release}.lock.Item.abandonedAt`), released)
    .when(sfn.Condition.numberGreaterThanEquals(`${FLEET_PATHS.release}.polls`, RELEASE_MAX_POLLS), released)
    // The item stays after a release (lastReleasedAt), without an owner: held means it names an execution.
    .when(sfn.Condition.isPresent(`${FLEET_PATHS.release}.lock.Item.executionArn`), wait.next(count).next(readLock))
    .otherwise(released);
  return start.next(readLock).next(decide);
}
