import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { Service, SimulatedAccount } from './account';

/** The SDK clients the handlers use (src/workflow/private/clients.ts and the retention handlers' own). */
const CLIENTS: ReadonlyArray<[Service, any]> = [
  ['ec2', EC2Client],
  ['ssm', SSMClient],
  ['autoscaling', AutoScalingClient],
  ['dynamodb', DynamoDBClient],
  ['kms', KMSClient],
  ['iam', IAMClient],
  // The backup image retention reads reset executions. (The operator CLI's SFN clients are served
  // by step-functions-api.ts instead, per client.)
  ['states', SFNClient],
  // The fleet reset's plan step reads the On-Demand vCPU quota.
  ['servicequotas', ServiceQuotasClient],
];

/**
 * Serves every command sent by any instance of these clients from the simulated account:
 * `FooCommand` becomes `account.callAsync(service, 'Foo', input)`. A command the account does not
 * implement fails loudly (nothing reaches AWS, nothing is silently answered). Returns the
 * function that removes the routing.
 */
export function routeSdkToAccount(account: SimulatedAccount): () => void {
  const mocks = CLIENTS.map(([service, client]) => {
    const mock = mockClient(client);
    mock.send.callsFake((command: { constructor: { name: string }; input: unknown }) => {
      const operation = command.constructor.name.replace(/Command$/, '');
      return account.callAsync(service, operation, command.input);
    });
    return mock;
  });
  return () => mocks.forEach(mock => mock.restore());
}
