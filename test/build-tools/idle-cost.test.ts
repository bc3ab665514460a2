import { Template } from 'aws-cdk-lib/assertions';
import { HOURS_PER_MONTH, PRICES_US_EAST_1, SCENARIOS, STACK_PRICES_US_EAST_1, idleChargesOf, idleMonthlyUsd, runsPerMonth, stackIdleChargesOf, synthesizeScenario } from '../../build-tools/idle-cost';

describe('idle-cost', () => {
  test('the default RescueVpc (on-demand endpoints) bills no interface endpoint while idle', () => {
    expect(idleChargesOf(synthesizeScenario(SCENARIOS[0]))[0]).toMatchObject({ resource: 'interface endpoint ENIs', quantity: 0, monthlyUsd: 0 });
    expect(idleMonthlyUsd(synthesizeScenario(SCENARIOS[0]))).toBe(0);
  });

  test('prices always-on endpoints at 3 interface endpoints × 1 ENI × 730 h', () => {
    // GIVEN
    const template = synthesizeScenario(SCENARIOS.find(s => s.name.startsWith('always-on endpoints, environment-agnostic'))!);

    // WHEN
    const charges = idleChargesOf(template);

    // THEN
    expect(charges[0]).toEqual({
      resource: 'interface endpoint ENIs',
      quantity: 3 * HOURS_PER_MONTH,
      unit: 'ENI-hours',
      monthlyUsd: 3 * HOURS_PER_MONTH * PRICES_US_EAST_1.interfaceEndpointEniHour,
    });
    expect(idleMonthlyUsd(template)).toBeCloseTo(21.9, 2);
  });

  test('EVERY_AZ in a six-zone Region costs six times as much', () => {
    const everyAz = SCENARIOS.find(s => s.name.includes('6-AZ Region, EVERY_AZ'))!;
    expect(idleMonthlyUsd(synthesizeScenario(everyAz))).toBeCloseTo(6 * 21.9, 2);
  });

  test('an existing VPC with its own endpoints adds nothing billed while idle', () => {
    const byo = SCENARIOS.find(s => s.name.includes('RescueEndpoints.none()'))!;
    expect(idleMonthlyUsd(synthesizeScenario(byo))).toBe(0);
  });

  test('a whole stack also pays for its customer managed KMS keys, alarms and scheduled functions', () => {
    // GIVEN a template with one interface endpoint in two subnets, a key, an alarm and an hourly function
    const template = Template.fromJSON({
      Resources: {
        Endpoint: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Interface', SubnetIds: ['a', 'b'] } },
        Key: { Type: 'AWS::KMS::Key', Properties: {} },
        Alarm: { Type: 'AWS::CloudWatch::Alarm', Properties: {} },
        Fn: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 256 } },
        Hourly: { Type: 'AWS::Events::Rule', Properties: { ScheduleExpression: 'rate(1 hour)', Targets: [{ Arn: { 'Fn::GetAtt': ['Fn', 'Arn'] } }] } },
        Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
      },
    });

    // WHEN
    const charges = stackIdleChargesOf(template);
    const usd = (resource: string) => charges.find(c => c.resource.startsWith(resource))!.monthlyUsd;

    // THEN
    expect(usd('interface endpoint ENIs')).toBeCloseTo(2 * HOURS_PER_MONTH * PRICES_US_EAST_1.interfaceEndpointEniHour, 6);
    expect(usd('customer managed KMS keys')).toBe(STACK_PRICES_US_EAST_1.kmsKeyMonth);
    expect(usd('CloudWatch alarms')).toBe(STACK_PRICES_US_EAST_1.alarmMonth);
    expect(usd('scheduled Lambda runs')).toBeCloseTo(HOURS_PER_MONTH * (STACK_PRICES_US_EAST_1.lambdaRequest + 0.25 * STACK_PRICES_US_EAST_1.lambdaGbSecond), 6);
    expect(usd('DynamoDB lock table')).toBe(0);
    expect(runsPerMonth('rate(5 minutes)')).toBe(HOURS_PER_MONTH * 12);
    expect(runsPerMonth('cron(0 * * * ? *)')).toBe(0);
  });
});

describe('idle-cost: the lines of a whole stack', () => {
  test('schedules are not charged; the scheduled runs\' logs are, ingested and stored for the log groups\' retention', () => {
    // GIVEN an hourly and a daily schedule, and log groups kept a year
    const template = Template.fromJSON({
      Resources: {
        Fn: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 256 } },
        Hourly: { Type: 'AWS::Events::Rule', Properties: { ScheduleExpression: 'rate(1 hour)', Targets: [{ Arn: { 'Fn::GetAtt': ['Fn', 'Arn'] } }] } },
        Daily: { Type: 'AWS::Events::Rule', Properties: { ScheduleExpression: 'rate(1 day)', Targets: [{ Arn: { 'Fn::GetAtt': ['Fn', 'Arn'] } }] } },
        Logs: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 365 } },
        Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
      },
    });

    // WHEN
    const charges = stackIdleChargesOf(template);
    const line = (resource: string) => charges.find(c => c.resource.startsWith(resource))!;

    // THEN
    const runs = HOURS_PER_MONTH + HOURS_PER_MONTH / 24;
    expect(line('scheduled Lambda runs').quantity).toBeCloseTo(runs, 6);
    expect(line('EventBridge schedules')).toMatchObject({ quantity: 2, monthlyUsd: 0 });
    const gb = runs * STACK_PRICES_US_EAST_1.scheduledRunLogBytes / 1e9;
    const months = 365 / (HOURS_PER_MONTH / 24);
    expect(line('CloudWatch Logs of the scheduled runs').monthlyUsd)
      .toBeCloseTo(gb * STACK_PRICES_US_EAST_1.logIngestionGb + gb * months * STACK_PRICES_US_EAST_1.logStorageGbMonth, 9);
    expect(line('DynamoDB lock table')).toMatchObject({ quantity: 1, monthlyUsd: 0 });
    expect(runsPerMonth('rate(1 day)')).toBeCloseTo(HOURS_PER_MONTH / 24, 6);
  });
});
