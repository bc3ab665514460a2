import { Logger } from '@aws-lambda-powertools/logger';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { EventBridgeEvent } from 'aws-lambda';
import { ExecutionStatusChange, NOTIFICATION_ENV, notificationFor } from './notification-message';

const logger = new Logger({ serviceName: 'reset-notifications' });
// Created once per container; `mockClient(SNSClient)` stubs it in tests.
const sns = new SNSClient({ maxAttempts: 5 });

/**
 * Publishes a reset's (or a restore's) status change to the notification topic: subject and
 * JSON message from {@link notificationFor}, with `status`, `kind` and `instanceId` as message
 * attributes so subscriptions can filter. Dry runs and restores with nothing to do are skipped.
 */
export async function handler(event: EventBridgeEvent<'Step Functions Execution Status Change', ExecutionStatusChange>): Promise<void> {
  const env = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  const publication = notificationFor(event.detail, {
    reset: env(NOTIFICATION_ENV.resetStateMachineArn),
    restore: env(NOTIFICATION_ENV.restoreStateMachineArn),
  });
  if (!publication) {
    logger.info('Nothing to notify', { executionArn: event.detail.executionArn, status: event.detail.status });
    return;
  }
  const { message } = publication;
  await sns.send(new PublishCommand({
    TopicArn: env(NOTIFICATION_ENV.topicArn),
    Subject: publication.subject,
    Message: JSON.stringify(message, null, 2),
    MessageAttributes: {
      status: { DataType: 'String', StringValue: message.status },
      kind: { DataType: 'String', StringValue: message.kind },
      instanceId: { DataType: 'String', StringValue: message.instanceId },
    },
  }));
  logger.info('Notified', { executionArn: message.executionArn, kind: message.kind, status: message.status, instanceId: message.instanceId });
}
