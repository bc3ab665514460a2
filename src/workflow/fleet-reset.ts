import { ArnFormat, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ResetWorkflow } from './reset-workflow';
import { publishStateMachineArn } from '../private/arn-parameter';
import { acknowledgeInlinePolicies, acknowledgeLambdaPlacement, acknowledgeNoLambdaDeadLetterQueue, acknowledgeUnscopableReads } from '../private/compliance';
import { newLogGroup } from '../private/log-group';
import { acknowledgeWildcards, acknowledgeWildcardsOnGrantee } from '../private/nag';
import { buildFleetDefinition } from './private/fleet-definition';
import { DEFAULT_FLEET_BOUNDS, MAX_FLEET_TARGETS, FleetBounds, MODELLED_RESET_MINUTES, STANDARD_ON_DEMAND_VCPU_QUOTA_CODE } from './private/fleet-plan';
import { FLEET_CONFIG_ENV, FleetConfig } from './private/fleet-request';
import { fleetPlanStatements, wildcardReason } from './private/policies';
import { FleetPlanFunction } from './steps/fleet-plan-function';
import { FleetSummaryFunction } from './steps/fleet-summary-function';

/**
 * Where `FleetReset` publishes its state machine's ARN unless told otherwise, so that tools (the
 * operator CLI's `fleet` command, the AWS CLI, scripts) find the fleet without knowing the stack.
 */
export const DEFAULT_FLEET_STATE_MACHINE_ARN_PARAMETER = '/cdk-ec2-reset-access/fleet-state-machine-arn';

/** Properties of `FleetReset`. */
export interface FleetResetProps {
  /** The workflow whose reset state machine runs once per instance of the fleet. */
  readonly workflow: ResetWorkflow;

  /**
   * At most this many instances down (under reset) at once, overall. Also the most helpers at once
   * when the vCPU quota has room for fewer.
   *
   * @default 50
   */
  readonly maxDown?: number;

  /**
   * At most this many instances down at once in one Availability Zone.
   *
   * @default 25
   */
  readonly maxDownPerAz?: number;

  /**
   * At most this many members of one Auto Scaling group down at once. The plan never takes more than
   * the group's desired capacity minus its MinSize, except one at a time for a group at its minimum
   * (whose reset then needs the `auto-scaling-min-size` acknowledgement).
   *
   * @default 1
   */
  readonly maxDownPerGroup?: number;

  /**
   * At most this many helper instances at once; lower when the account's Running On-Demand Standard
   * instances vCPU quota (Service Quotas L-1216C47A) has room for fewer helpers (each counted at the
   * largest default vCPUs among the workflow's `helperInstanceTypes`, read from EC2 when the fleet
   * plans).
   *
   * @default 50
   */
  readonly maxHelpers?: number;

  /**
   * At most this many instances in one fleet reset (more is refused with `FleetTooManyTargets`), and
   * at most 100: one fleet execution's data, every instance's outcome included, must stay within Step
   * Functions' 256 KiB per state. A dry run takes at most 50 (each instance's whole plan is in its output).
   *
   * @default 100
   */
  readonly maxTargets?: number;

  /**
   * vCPUs to count for one helper against the vCPU quota, in place of what EC2 reports.
   *
   * Without it the plan reads the default vCPUs of the workflow's `helperInstanceTypes` from EC2
   * (DescribeInstanceTypes) and counts the largest, so a fallback type launching fits the quota too;
   * the plan output records the value and its source (`helperVcpusSource`: `ec2` or `prop`). Set it
   * only to count helpers differently from their types' defaults.
   *
   * @default - the largest DefaultVCpus EC2 reports among the workflow's helper instance types
   */
  readonly helperVcpus?: number;

  /**
   * The fleet execution's timeout. It must outlast every wave: each takes up to the reset's own
   * execution timeout.
   *
   * @default Duration.hours(24)
   */
  readonly timeout?: Duration;

  /**
   * Retention of the fleet's log groups.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Customer managed key for the fleet's log groups.
   *
   * @default - CloudWatch Logs' own encryption
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Name of the SSM parameter the fleet state machine's ARN is written to. Tools find the fleet
   * through it: the operator CLI's `fleet` command (`--fleet-state-machine-parameter <name>` when it
   * is not the default), scripts.
   *
   * A parameter name exists once per account and Region, so a second `FleetReset` deployed to the
   * same account and Region needs a name of its own. Synthesis fails when two `FleetReset` (or a
   * `FleetReset` and a `ResetAccess`) of one app use the same name in one stack, or in stacks whose
   * account and Region are known and equal; it warns when either stack is environment-agnostic (the
   * account and Region are only known at deploy time).
   *
   * @default '/cdk-ec2-reset-access/fleet-state-machine-arn'
   */
  readonly stateMachineArnParameterName?: string;
}

/**
 * Resets many instances in one operation (a compromised key pair is rarely one instance's problem):
 * a state machine that resolves the targets (instance ids, or a tag selector resolved at start),
 * plans waves that respect availability bounds (overall, per Availability Zone, per Auto Scaling
 * group) and the account's On-Demand vCPU quota, and runs one execution of the workflow's reset
 * state machine per instance, so each keeps every guarantee of a single reset.
 *
 * Input: `{ targets: ["i-…", …] | { tagKey, tagValues: […] }, method?, acknowledge?, passwordEnabledAmi?, dryRun? }`.
 * Output: the plan, each instance's outcome (succeeded, planned, refused with its named error,
 * failed and restored) and counts; never a password.
 */
export class FleetReset extends Construct {
  /** The fleet state machine. */
  public readonly stateMachine: sfn.StateMachine;
  /** The step that resolves the targets and plans the waves. */
  public readonly planFunction: lambda.IFunction;
  /** The step that turns the child executions' results into each instance's outcome. */
  public readonly summaryFunction: lambda.IFunction;
  /** The SSM parameter holding the fleet state machine's ARN. */
  public readonly stateMachineArnParameter: ssm.StringParameter;

  constructor(scope: Construct, id: string, props: FleetResetProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const bounds: FleetBounds = {
      maxDown: bound('maxDown', props.maxDown ?? DEFAULT_FLEET_BOUNDS.maxDown),
      maxDownPerAz: bound('maxDownPerAz', props.maxDownPerAz ?? DEFAULT_FLEET_BOUNDS.maxDownPerAz),
      maxDownPerGroup: bound('maxDownPerGroup', props.maxDownPerGroup ?? DEFAULT_FLEET_BOUNDS.maxDownPerGroup),
      maxHelpers: bound('maxHelpers', props.maxHelpers ?? DEFAULT_FLEET_BOUNDS.maxHelpers),
      maxTargets: atMost('maxTargets', bound('maxTargets', props.maxTargets ?? DEFAULT_FLEET_BOUNDS.maxTargets), MAX_FLEET_TARGETS,
        'one fleet execution\'s data, every outcome included, must stay within Step Functions\' 256 KiB per state; start several fleet resets instead'),
    };
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const config: FleetConfig = {
      bounds,
      helperInstanceTypes: props.workflow.helperInstanceTypes,
      ...(props.helperVcpus !== undefined ? { helperVcpus: bound('helperVcpus', props.helperVcpus) } : {}),
      minutesPerReset: MODELLED_RESET_MINUTES,
    };

    const planRole = this.role('PlanRole', 'Fleet reset: resolve the targets and plan the waves (read-only)',
      fleetPlanStatements({ partition: stack.partition, region: stack.region, account: stack.account }, STANDARD_ON_DEMAND_VCPU_QUOTA_CODE,
        config.helperVcpus === undefined));
    acknowledgeUnscopableReads(planRole);
    acknowledgeWildcards(planRole, { resources: ['*'] }, wildcardReason('*'));
    const summaryRole = this.role('SummaryRole', 'Fleet reset: each instance\'s outcome (no AWS call)', []);
    acknowledgeWildcards(summaryRole, { resources: ['*'] }, 'X-Ray trace upload (xray:PutTraceSegments, xray:PutTelemetryRecords) has no resource type in IAM.');

    const functionOptions = (role: iam.Role, name: string, description: string, environment: Record<string, string>): lambda.FunctionOptions => {
      const logGroup = newLogGroup(this, `${name}Logs`, { retention: logRetention, encryptionKey: props.encryptionKey });
      logGroup.grantWrite(role);
      return { role, logGroup, description, environment, timeout: Duration.minutes(1), memorySize: 256, tracing: lambda.Tracing.ACTIVE };
    };
    this.planFunction = new FleetPlanFunction(this, 'Plan', functionOptions(planRole, 'Plan', 'Fleet reset: resolve the targets and plan the waves', {
      [FLEET_CONFIG_ENV]: stack.toJsonString(config),
      POWERTOOLS_SERVICE_NAME: 'reset-fleet',
    }));
    this.summaryFunction = new FleetSummaryFunction(this, 'Summary', functionOptions(summaryRole, 'Summary', 'Fleet reset: summarize the outcomes', {
      POWERTOOLS_SERVICE_NAME: 'reset-fleet',
    }));
    for (const fn of [this.planFunction, this.summaryFunction]) {
      acknowledgeLambdaPlacement(fn);
      acknowledgeNoLambdaDeadLetterQueue(fn, 'invoked synchronously by the fleet state machine, whose Retry handles transient errors');
    }

    const logGroup = newLogGroup(this, 'StateMachineLogs', { retention: logRetention, encryptionKey: props.encryptionKey });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'Resets the Administrator password of many EC2 Windows instances: waves of reset executions within availability and quota bounds',
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(buildFleetDefinition(new Construct(this, 'States'), {
        plan: this.planFunction,
        summary: this.summaryFunction,
        resetStateMachine: props.workflow.stateMachine,
        lockTable: props.workflow.lockTable,
        maxDown: bounds.maxDown,
      })),
      timeout: props.timeout ?? Duration.hours(24),
      tracingEnabled: true,
      // As the reset machine: every event, never execution data (I5).
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    acknowledgeInlinePolicies(this.stateMachine);
    // Waiting for an aborted or timed-out instance's restore reads its lock (and the table's key, when it has one).
    props.workflow.grantReadLocks(this.stateMachine);
    // What CDK grants the machine for its tasks and Distributed Maps, each wildcard named exactly.
    const executions = (machine: sfn.IStateMachine, suffix: string) => stack.formatArn({
      service: 'states',
      resource: 'execution',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      resourceName: `${Fn.select(6, Fn.split(':', machine.stateMachineArn))}${suffix}`,
    });
    acknowledgeWildcards(this.stateMachine, { resources: [this.planFunction, this.summaryFunction].map(fn => `${fn.functionArn}:*`) },
      'Step Functions\' Lambda integration grants invoking the function and its versions and aliases (<function ARN>:*); ' +
        'each is a function of this fleet reset.');
    acknowledgeWildcards(this.stateMachine, { resources: ['*'] },
      'Log delivery (logs:CreateLogDelivery and related) and X-Ray trace upload (xray:PutTraceSegments, ' +
        'xray:PutTelemetryRecords, xray:GetSampling*) have no resource type in IAM.');
    acknowledgeWildcards(this.stateMachine, { resources: [executions(props.workflow.stateMachine, '*')] },
      'states:startExecution.sync:2 follows the reset execution it started (states:DescribeExecution) and stops it when the fleet ' +
        'execution is stopped (states:StopExecution): the wildcard is the execution name, of the workflow\'s reset state machine only; ' +
        'StartExecution itself is granted on that state machine alone.');
    acknowledgeWildcards(this.stateMachine, {
      resources: [executions(this.stateMachine, ':*'), executions(this.stateMachine, '/Waves:*'), executions(this.stateMachine, '/Wave:*')],
    }, 'A Distributed Map runs each iteration as a child execution of this same state machine: Step Functions starts, follows, stops ' +
      'and redrives them; the wildcard is the execution name, of this state machine\'s own executions and map runs only.');

    this.stateMachineArnParameter = publishStateMachineArn(this, 'StateMachineArn', {
      name: props.stateMachineArnParameterName ?? DEFAULT_FLEET_STATE_MACHINE_ARN_PARAMETER,
      value: this.stateMachine.stateMachineArn,
      description: 'ARN of the cdk-ec2-reset-access fleet state machine',
      nameProp: 'stateMachineArnParameterName',
      cliOption: '--fleet-state-machine-parameter',
    });
  }

  /**
   * Lets `grantee` start fleet resets, follow and stop them, and find the fleet state machine
   * through its SSM parameter: what the CLI's `fleet` command needs of the fleet. Following each
   * instance's own reset also needs `ResetAccess.grantStartReset` (or `ResetWorkflow.grantStartReset`
   * and read access to the reset state machine's parameter).
   */
  public grantStartFleet(grantee: iam.IGrantable): iam.Grant {
    const executions = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${this.stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['states:StartExecution', 'states:ListExecutions'],
      resourceArns: [this.stateMachine.stateMachineArn],
    }).combine(iam.Grant.addToPrincipal({
      grantee,
      actions: ['states:DescribeExecution', 'states:StopExecution', 'states:GetExecutionHistory'],
      resourceArns: [executions],
    })).combine(this.stateMachineArnParameter.grantRead(grantee));
    acknowledgeWildcardsOnGrantee(grantee, [executions],
      'The wildcard is the execution name: the operator may watch and stop any execution of the fleet state machine, and no other.');
    return grant;
  }

  private role(id: string, description: string, statements: iam.PolicyStatement[]): iam.Role {
    const role = new iam.Role(this, id, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description,
      path: ResetWorkflow.ROLE_PATH,
      inlinePolicies: statements.length > 0 ? { Step: new iam.PolicyDocument({ statements }) } : undefined,
    });
    acknowledgeInlinePolicies(role);
    return role;
  }
}

function atMost(name: string, value: number, max: number, why: string): number {
  if (!Token.isUnresolved(value) && value > max) throw new Error(`${name} is ${value}: set it to at most ${max} (${why}).`);
  return value;
}

function bound(name: string, value: number): number {
  if (!Token.isUnresolved(value) && (!Number.isInteger(value) || value < 1)) {
    throw new Error(`${name} is ${value}: set it to a whole number of at least 1.`);
  }
  return value;
}
