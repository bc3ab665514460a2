import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { ENV, iamStatements } from './workflow-fixture';
import { PasswordRetention } from '../../src';
import { RETENTION_SECONDS_ENV } from '../../src/workflow/retention/expired-passwords';
import { awsSolutionsFindingsFor } from '../helpers/nag';
import { maskedTemplate } from '../helpers/snapshot';

describe('PasswordRetention', () => {
  let stack: Stack;

  beforeEach(() => {
    stack = new Stack(new App(), 'TestStack', { env: ENV });
  });

  test('runs every hour and keeps parameters 24 hours by default', () => {
    // WHEN
    new PasswordRetention(stack, 'Retention');

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RetentionFunction'), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2 } })],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { [RETENTION_SECONDS_ENV]: '86400' } },
    });
  });

  test('takes a retention and a schedule', () => {
    // WHEN
    new PasswordRetention(stack, 'Retention', { retention: Duration.hours(4), schedule: events.Schedule.rate(Duration.minutes(15)) });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { [RETENTION_SECONDS_ENV]: '14400' } } });
  });

  test('may list parameter metadata and delete only EC2Rescue password parameters of this account and Region', () => {
    // WHEN
    new PasswordRetention(stack, 'Retention');

    // THEN
    const statements = iamStatements(stack).filter(s => s.policy.startsWith('RetentionRole'));
    expect(statements.filter(s => !s.Action.every(a => a.startsWith('xray:')))).toEqual([
      expect.objectContaining({ Action: ['ssm:DescribeParameters'], Resource: ['*'] }),
      expect.objectContaining({
        Action: ['ssm:DeleteParameters'],
        Resource: ['arn:aws:ssm:us-east-1:123456789012:parameter/EC2Rescue/Passwords/i-*'],
      }),
    ].concat([expect.objectContaining({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'] })]));
    expect(statements.flatMap(s => s.Action)).not.toContain('ssm:GetParameter');
  });

  test('refuses a retention under an hour', () => {
    expect(() => new PasswordRetention(stack, 'Retention', { retention: Duration.minutes(30) })).toThrow(/retention is 30 minutes: give at least 1 hour/);
  });

  test('passes cdk-nag AwsSolutions', () => {
    const findings = awsSolutionsFindingsFor(s => { new PasswordRetention(s, 'Retention'); }, { env: ENV });
    expect(findings).toEqual([]);
  });

  test('matches the snapshot', () => {
    new PasswordRetention(stack, 'Retention');
    expect(maskedTemplate(stack)).toMatchSnapshot();
  });
});
