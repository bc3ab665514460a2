import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { EventBridgeEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../src/operations/format-notification.lambda';
import { ExecutionStatusChange } from '../../src/operations/notification-message';
import { captureLogs } from '../workflow/fixtures';

const sns = mockClient(SNSClient);
const RESET = 'arn:aws:states:eu-west-1:111122223333:stateMachine:Reset';
const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:Topic';

const event = (detail: Partial<ExecutionStatusChange>) => ({
  'detail-type': 'Step Functions Execution Status Change',
  'source': 'aws.states',
  'detail': {
    executionArn: `${RESET}:run-1`,
    stateMachineArn: RESET,
    name: 'run-1',
    status: 'FAILED',
    input: JSON.stringify({ instanceId: 'i-0123456789abcdef0' }),
    ...detail,
  },
}) as EventBridgeEvent<'Step Functions Execution Status Change', ExecutionStatusChange>;

describe('format-notification handler', () => {
  beforeEach(() => {
    sns.reset();
    process.env.NOTIFICATION_TOPIC_ARN = TOPIC;
    process.env.RESET_STATE_MACHINE_ARN = RESET;
    process.env.RESTORE_STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:111122223333:stateMachine:Restore';
    // The handler's JSON logs are expected; keep them out of the test output.
    captureLogs();
  });
  afterEach(() => jest.restoreAllMocks());

  test('publishes the message with filterable attributes', async () => {
    // GIVEN
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });

    // WHEN
    await handler(event({ error: 'HelperNotReady', cause: 'no SSM' }));

    // THEN
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: TOPIC,
      Subject: '[cdk-ec2-reset-access] Reset of i-0123456789abcdef0 FAILED',
      MessageAttributes: {
        status: { DataType: 'String', StringValue: 'FAILED' },
        kind: { DataType: 'String', StringValue: 'reset' },
        instanceId: { DataType: 'String', StringValue: 'i-0123456789abcdef0' },
      },
    });
    const message = JSON.parse(sns.commandCalls(PublishCommand)[0].args[0].input.Message!);
    expect(message).toMatchObject({ instanceId: 'i-0123456789abcdef0', status: 'FAILED', error: 'HelperNotReady', cause: 'no SSM' });
  });

  test('publishes nothing for a dry run', async () => {
    // WHEN
    await handler(event({ status: 'SUCCEEDED', input: JSON.stringify({ instanceId: 'i-0123456789abcdef0', dryRun: true }) }));

    // THEN
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
  });

  test('a publish failure fails the invocation, so EventBridge retries and then dead-letters it', async () => {
    // GIVEN
    sns.on(PublishCommand).rejects(Object.assign(new Error('KMS key disabled'), { name: 'KMSDisabledException' }));

    // WHEN / THEN
    await expect(handler(event({}))).rejects.toThrow('KMS key disabled');
  });
});
