import { Duration, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeDeadLetterQueueHasNoRedrive } from './compliance';

/**
 * The dead-letter queue of an EventBridge rule target: encrypted, TLS only, events kept for
 * the longest time SQS allows, so an operator alarmed by its depth can still see what was lost.
 * `deliveredTo` completes "the dead-letter queue of the EventBridge target that …" in the
 * compliance acknowledgements (a dead-letter queue needs none of its own). `ofFunctionToo`: the
 * queue is also a Lambda function's dead-letter queue, which cdk-nag's AwsSolutions-SQS3 recognizes
 * by itself (it does not see EventBridge targets), so that finding is not acknowledged.
 */
export function eventTargetDeadLetterQueue(scope: Construct, id: string, deliveredTo: string, ofFunctionToo = false): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  if (!ofFunctionToo) {
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: `This queue is itself the dead-letter queue of the EventBridge target that ${deliveredTo}.`,
    });
  }
  acknowledgeDeadLetterQueueHasNoRedrive(queue, `the EventBridge target that ${deliveredTo}`);
  return queue;
}
