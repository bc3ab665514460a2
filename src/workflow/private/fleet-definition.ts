import { Duration } from 'aws-cdk-lib';
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
} as const;

export interface FleetDefinitionOptions {
  readonly plan: lambda.IFunction;
  readonly summary: lambda.IFunction;
  /** The reset state machine each instance runs in. */
  readonly resetStateMachine: sfn.IStateMachine;
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
 *        └─ ResetInstance (states:startExecution.sync:2 of the reset machine) ─ Catch ALL ─► ResetNotSucceeded (Pass)
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
  reset.addCatch(new sfn.Pass(scope, 'ResetNotSucceeded'), { errors: [sfn.Errors.ALL], resultPath: FLEET_PATHS.failure });

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
