/**
 * The monthly cost of a RescueVpc while no reset runs, computed from the template it
 * synthesizes rather than from what we believe it creates.
 *
 *   npx ts-node --transpile-only build-tools/idle-cost.ts
 *
 * Prints one line per configuration. The price tables below are the only place prices
 * live (reset-cost.ts reads them too); update them (with their date and sources) when AWS
 * changes them.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { EndpointPlacement, PasswordRetention, RescueEndpoints, RescueVpc, RescueVpcProps, ResetWorkflow } from '../src';

/** Hours in the month AWS bills by (365 × 24 / 12). */
export const HOURS_PER_MONTH = 730;

/**
 * On-demand prices in us-east-1, USD, checked 2025 (other Regions differ, mostly higher).
 * Sources:
 * - https://aws.amazon.com/privatelink/pricing/ (interface endpoints: per endpoint per AZ-hour, plus per GB processed)
 * - https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html ("no additional charge" for gateway endpoints)
 * - https://aws.amazon.com/cloudwatch/pricing/ (vended logs such as VPC flow logs: ingestion per GB; storage per GB-month)
 * - https://aws.amazon.com/vpc/pricing/ (VPCs, subnets, route tables, security groups: no charge)
 */
export const PRICES_US_EAST_1 = {
  region: 'us-east-1',
  /** One interface endpoint ENI (one endpoint in one AZ), per hour. */
  interfaceEndpointEniHour: 0.01,
  /** Data processed by an interface endpoint, per GB (first PB). */
  interfaceEndpointDataGb: 0.01,
  /** S3 gateway endpoint, per hour and per GB. */
  gatewayEndpoint: 0,
  /** VPC flow log records delivered to CloudWatch Logs (vended logs, first 10 TB), per GB. */
  flowLogIngestionGb: 0.5,
  /** CloudWatch Logs storage, per GB-month. */
  logStorageGbMonth: 0.03,
} as const;

/** A resource that is billed while nothing runs. */
export interface IdleCharge {
  readonly resource: string;
  readonly quantity: number;
  readonly unit: string;
  readonly monthlyUsd: number;
}

/**
 * The charges a synthesized template incurs per month with no traffic: interface endpoint
 * ENI-hours (one ENI per endpoint per subnet). Gateway endpoints, the VPC itself, security
 * groups and the custom resources' Lambda functions cost nothing idle; flow logs and log
 * storage cost per GB, and an idle VPC writes next to none (listed with quantity 0 so the
 * assumption is visible).
 */
export function idleChargesOf(template: Template, prices = PRICES_US_EAST_1): IdleCharge[] {
  const endpoints = Object.values(template.findResources('AWS::EC2::VPCEndpoint')) as any[];
  const interfaceEnis = endpoints
    .filter(e => e.Properties.VpcEndpointType === 'Interface')
    .reduce((sum, e) => sum + (e.Properties.SubnetIds as unknown[]).length, 0);
  const gateways = endpoints.filter(e => e.Properties.VpcEndpointType === 'Gateway').length;
  const flowLogs = Object.keys(template.findResources('AWS::EC2::FlowLog')).length;
  const charges: IdleCharge[] = [
    {
      resource: 'interface endpoint ENIs',
      quantity: interfaceEnis * HOURS_PER_MONTH,
      unit: 'ENI-hours',
      monthlyUsd: interfaceEnis * HOURS_PER_MONTH * prices.interfaceEndpointEniHour,
    },
    { resource: 'gateway endpoints', quantity: gateways, unit: 'endpoints', monthlyUsd: gateways * prices.gatewayEndpoint },
  ];
  if (flowLogs > 0) {
    charges.push({ resource: 'flow log ingestion (idle)', quantity: 0, unit: 'GB', monthlyUsd: 0 });
  }
  return charges;
}

/**
 * Prices of the other resources a whole stack (ResetAccess, the sample stack) may bill for while
 * no reset runs, us-east-1, USD, checked 2025. Sources:
 * - https://aws.amazon.com/kms/pricing/ (each customer managed key: $1/month, rotation included for the first two rotations)
 * - https://aws.amazon.com/cloudwatch/pricing/ (standard-resolution metric alarm: $0.10/month)
 * - https://aws.amazon.com/lambda/pricing/ (x86: $0.20 per 1M requests, $0.0000166667 per GB-second)
 * - https://aws.amazon.com/dynamodb/pricing/on-demand/ (no charge without requests; storage and PITR per GB-month)
 * - https://aws.amazon.com/step-functions/pricing/, https://aws.amazon.com/sqs/pricing/,
 *   https://aws.amazon.com/eventbridge/pricing/ (per transition / request / custom event: nothing while idle;
 *   AWS service events such as Step Functions status changes are free)
 */
export const STACK_PRICES_US_EAST_1 = {
  kmsKeyMonth: 1,
  alarmMonth: 0.1,
  lambdaRequest: 0.2 / 1_000_000,
  lambdaGbSecond: 0.0000166667,
  /** Assumption: a scheduled function's run (the password retention lists a few parameters) takes about a second. */
  scheduledRunSeconds: 1,
  /** CloudWatch Logs standard ingestion, per GB (https://aws.amazon.com/cloudwatch/pricing/, "Logs"). */
  logIngestionGb: 0.5,
  /** CloudWatch Logs storage ("archival"), per GB-month (same page). */
  logStorageGbMonth: 0.03,
  /**
   * Assumption: what one scheduled run writes to its log group: Lambda's START, END and REPORT
   * lines (about 350 bytes) and the function's one summary line (about 400 bytes).
   */
  scheduledRunLogBytes: 750,
  /**
   * DynamoDB on-demand storage, per GB-month, and continuous backups (point-in-time recovery), per
   * GB-month of table size (https://aws.amazon.com/dynamodb/pricing/on-demand/). The lock table holds
   * an item per reset in progress and is empty between resets.
   */
  dynamodbStorageGbMonth: 0.25,
  dynamodbPitrGbMonth: 0.2,
  /**
   * EventBridge: rules on the default bus that match AWS service events or run on a schedule are not
   * charged; custom and partner events are (https://aws.amazon.com/eventbridge/pricing/).
   */
  scheduledRuleInvocation: 0,
} as const;

/**
 * What one reset pays for beyond the idle stack, us-east-1 On-Demand, USD, checked 2025. Sources:
 * - https://aws.amazon.com/ec2/pricing/on-demand/ (Windows t3.medium per hour; Linux and Windows
 *   instances are billed per second with a one-minute minimum, while running)
 * - https://aws.amazon.com/ec2/instance-types/t3/ (T3 Unlimited, the default: CPU above the baseline
 *   is charged per vCPU-hour, Windows rate)
 * - https://aws.amazon.com/ebs/pricing/ (gp3 volume storage per GB-month, billed per second;
 *   snapshot storage, standard tier, per GB-month of data stored)
 * - https://aws.amazon.com/step-functions/pricing/ (Standard workflows: per state transition)
 * - https://aws.amazon.com/lambda/pricing/ (per request and per GB-second, x86), and
 *   https://aws.amazon.com/cloudwatch/pricing/ (log ingestion) via STACK_PRICES_US_EAST_1
 * - https://aws.amazon.com/dynamodb/pricing/on-demand/ (per write and read request unit)
 */
export const RESET_PRICES_US_EAST_1 = {
  helperInstanceType: 't3.medium',
  /** t3.medium, Windows, On-Demand, per hour. */
  helperHour: 0.06,
  /** Billed at least this long per start (per-second billing's minimum). */
  helperMinimumSeconds: 60,
  /** T3 Unlimited surplus CPU credits, Windows, per vCPU-hour; t3.medium has 2 vCPUs and a 20 % baseline each. */
  t3SurplusVcpuHour: 0.096,
  t3MediumVcpus: 2,
  t3MediumBaseline: 0.2,
  /** gp3 storage, per GB-month (the helper's root volume). */
  gp3GbMonth: 0.08,
  /** EBS snapshot storage, standard tier, per GB-month (the backup image's snapshots). */
  snapshotGbMonth: 0.05,
  /** Step Functions Standard, per state transition ($0.025 per 1,000). */
  stateTransition: 0.025 / 1000,
  /** DynamoDB on-demand, per write request unit and per read request unit. */
  dynamodbWrite: 0.625 / 1_000_000,
  dynamodbRead: 0.125 / 1_000_000,
  /** Interface endpoint, per ENI-hour (one endpoint in one AZ): what on-demand endpoints bill per reset. */
  interfaceEndpointEniHour: PRICES_US_EAST_1.interfaceEndpointEniHour,
} as const;

/** Invocations per month of an EventBridge `rate(n unit)` schedule. */
export function runsPerMonth(scheduleExpression: string): number {
  const match = scheduleExpression.match(/^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/);
  if (!match) return 0;
  const minutes = Number(match[1]) * (match[2].startsWith('minute') ? 1 : match[2].startsWith('hour') ? 60 : 1440);
  return (HOURS_PER_MONTH * 60) / minutes;
}

/**
 * Everything a synthesized stack bills while no reset runs: the network charges of
 * `idleChargesOf`, customer managed KMS keys, CloudWatch alarms, and scheduled Lambda functions
 * (requests and GB-seconds at the assumed run time) and their logs. The rest is listed at $0 with
 * the reason: EventBridge schedules, the DynamoDB lock table (empty between resets), log groups (no
 * other ingestion while idle), state machines, queues; rules on AWS service events and unscheduled
 * functions are not listed.
 */
export function stackIdleChargesOf(template: Template, prices = PRICES_US_EAST_1, stackPrices = STACK_PRICES_US_EAST_1): IdleCharge[] {
  const count = (type: string) => Object.keys(template.findResources(type)).length;
  const charges = idleChargesOf(template, prices).filter(c => c.quantity > 0 || c.resource === 'interface endpoint ENIs');
  const keys = Object.values(template.findResources('AWS::KMS::Key')).length;
  charges.push({ resource: 'customer managed KMS keys', quantity: keys, unit: 'keys', monthlyUsd: keys * stackPrices.kmsKeyMonth });
  const alarms = count('AWS::CloudWatch::Alarm');
  charges.push({ resource: 'CloudWatch alarms', quantity: alarms, unit: 'alarms', monthlyUsd: alarms * stackPrices.alarmMonth });
  const functions = template.findResources('AWS::Lambda::Function');
  let runs = 0;
  let gbSeconds = 0;
  for (const rule of Object.values(template.findResources('AWS::Events::Rule')) as any[]) {
    const perMonth = rule.Properties.ScheduleExpression ? runsPerMonth(rule.Properties.ScheduleExpression) : 0;
    for (const target of rule.Properties.Targets ?? []) {
      const fn = functions[target.Arn?.['Fn::GetAtt']?.[0]] as any;
      if (!fn || perMonth === 0) continue;
      runs += perMonth;
      gbSeconds += perMonth * stackPrices.scheduledRunSeconds * ((fn.Properties.MemorySize ?? 128) / 1024);
    }
  }
  charges.push({
    resource: 'scheduled Lambda runs',
    quantity: runs,
    unit: 'invocations',
    monthlyUsd: runs * stackPrices.lambdaRequest + gbSeconds * stackPrices.lambdaGbSecond,
  });
  const scheduledRules = Object.values(template.findResources('AWS::Events::Rule')).filter((r: any) => r.Properties.ScheduleExpression).length;
  charges.push({ resource: 'EventBridge schedules (not charged)', quantity: scheduledRules, unit: 'rules', monthlyUsd: scheduledRules * stackPrices.scheduledRuleInvocation });
  // The only logs written while idle are the scheduled functions' own; they are stored for the log
  // groups' retention, so at steady state a month's ingestion is stored `retention months` times over.
  const logGb = (runs * stackPrices.scheduledRunLogBytes) / 1e9;
  const retentionMonths = Math.max(1, ...Object.values(template.findResources('AWS::Logs::LogGroup'))
    .map((g: any) => (g.Properties.RetentionInDays ?? 3653) / (HOURS_PER_MONTH / 24)));
  charges.push({
    resource: 'CloudWatch Logs of the scheduled runs (ingestion, and storage at steady state)',
    quantity: Math.round(logGb * 1e6) / 1e3,
    unit: 'MB a month',
    monthlyUsd: logGb * stackPrices.logIngestionGb + logGb * retentionMonths * stackPrices.logStorageGbMonth,
  });
  const tables = count('AWS::DynamoDB::Table');
  if (tables > 0) {
    charges.push({
      resource: 'DynamoDB lock table (empty between resets; storage and point-in-time recovery are billed per GB)',
      quantity: tables,
      unit: 'tables',
      monthlyUsd: 0,
    });
  }
  for (const [type, why] of [
    ['AWS::Logs::LogGroup', 'no other ingestion while idle'],
    ['AWS::StepFunctions::StateMachine', 'billed per state transition'],
    ['AWS::SQS::Queue', 'billed per request'],
  ] as const) {
    const n = count(type);
    if (n > 0) charges.push({ resource: `${type} (${why})`, quantity: n, unit: 'resources', monthlyUsd: 0 });
  }
  return charges;
}

/** The sum of `idleChargesOf`, in USD per month. */
export function idleMonthlyUsd(template: Template, prices = PRICES_US_EAST_1): number {
  return idleChargesOf(template, prices).reduce((sum, charge) => sum + charge.monthlyUsd, 0);
}

/** A configuration to price. */
export interface Scenario {
  readonly name: string;
  /** Number of Availability Zones the stack's Region has (context for environment-aware stacks). */
  readonly regionAzs?: number;
  readonly props?: (stack: Stack) => RescueVpcProps;
}

/** Synthesizes a stack with one RescueVpc for a scenario and returns its template. */
export function synthesizeScenario(scenario: Scenario): Template {
  const region = PRICES_US_EAST_1.region;
  const account = '123456789012';
  const zones = scenario.regionAzs ? Array.from({ length: scenario.regionAzs }, (_, i) => `${region}${'abcdef'[i]}`) : undefined;
  const app = new App(zones ? { context: { [`availability-zones:account=${account}:region=${region}`]: zones } } : {});
  const stack = new Stack(app, 'IdleCost', zones ? { env: { account, region } } : {});
  new RescueVpc(stack, 'RescueVpc', scenario.props?.(stack));
  return Template.fromStack(stack);
}

export const SCENARIOS: Scenario[] = [
  { name: 'default: on-demand endpoints, environment-agnostic stack (2 AZs)' },
  { name: 'always-on endpoints, environment-agnostic stack (2 AZs, ONE_AZ)', props: () => ({ endpoints: RescueEndpoints.alwaysOn() }) },
  { name: 'always-on, env-aware stack in a 6-AZ Region (ONE_AZ)', regionAzs: 6, props: () => ({ endpoints: RescueEndpoints.alwaysOn() }) },
  {
    name: 'always-on, env-agnostic stack, EVERY_AZ (2 AZs)',
    props: () => ({ endpoints: RescueEndpoints.alwaysOn({ placement: EndpointPlacement.EVERY_AZ }) }),
  },
  {
    name: 'always-on, env-aware 6-AZ Region, EVERY_AZ',
    regionAzs: 6,
    props: () => ({ endpoints: RescueEndpoints.alwaysOn({ placement: EndpointPlacement.EVERY_AZ }) }),
  },
  {
    name: 'existing VPC with existing endpoints (RescueEndpoints.none())',
    props: stack => ({
      existingVpc: new ec2.Vpc(stack, 'Existing', {
        maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
      }),
      endpoints: RescueEndpoints.none({ securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'Endpoints', 'sg-0123456789abcdef0') }),
      s3PrefixListId: 'pl-63a5400a',
    }),
  },
];

/**
 * The sample stack without its notifications (ResetAccess's topic, its KMS key, the alarms):
 * the rescue VPC, the reset workflow and the password retention, as a team that watches the
 * state machine some other way would compose them. What "without notifications" costs idle.
 */
export function synthesizeWithoutNotifications(): Template {
  const stack = new Stack(new App(), 'WithoutNotifications');
  const rescueVpc = new RescueVpc(stack, 'RescueVpc');
  new ResetWorkflow(stack, 'Workflow', { rescueVpc });
  new PasswordRetention(stack, 'PasswordRetention');
  return Template.fromStack(stack);
}

function main(): void {
  const usd = (n: number) => `$${n.toFixed(2)}`;
  console.log(`Idle monthly cost of RescueVpc (${PRICES_US_EAST_1.region} prices, ${HOURS_PER_MONTH} h/month):`);
  for (const scenario of SCENARIOS) {
    const template = synthesizeScenario(scenario);
    const charges = idleChargesOf(template);
    const detail = charges.filter(c => c.quantity > 0 && c.monthlyUsd > 0).map(c => `${c.quantity} ${c.unit}`).join(', ');
    console.log(`  ${usd(idleMonthlyUsd(template)).padStart(8)}  ${scenario.name}${detail ? ` [${detail}]` : ''}`);
  }
  console.log(`Traffic adds $${PRICES_US_EAST_1.interfaceEndpointDataGb}/GB through interface endpoints and ` +
    `$${PRICES_US_EAST_1.flowLogIngestionGb}/GB of flow log records; a reset moves a few MB.`);
}

if (require.main === module) {
  main();
}
