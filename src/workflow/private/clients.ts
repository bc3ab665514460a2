import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';

/**
 * Retries belong to the SDK (exponential backoff with jitter, and a client-side rate
 * limiter in `adaptive` mode that slows down when the service throttles), not to
 * hand-written loops. What escapes these attempts is retried by the state machine.
 */
export const CLIENT_CONFIG = {
  maxAttempts: 5,
  retryMode: 'adaptive',
} as const;

// Created once per container (module scope), reused by every invocation. Tests replace
// them with aws-sdk-client-mock: `mockClient(EC2Client)` stubs every instance.
// `@__PURE__` lets esbuild drop the clients (and their SDK packages) a step does not use.
export const ec2 = /* @__PURE__ */ new EC2Client(CLIENT_CONFIG);
export const ssm = /* @__PURE__ */ new SSMClient(CLIENT_CONFIG);
export const autoScaling = /* @__PURE__ */ new AutoScalingClient(CLIENT_CONFIG);
export const dynamodb = /* @__PURE__ */ new DynamoDBClient(CLIENT_CONFIG);
export const kms = /* @__PURE__ */ new KMSClient(CLIENT_CONFIG);
export const sfn = /* @__PURE__ */ new SFNClient(CLIENT_CONFIG);
export const iam = /* @__PURE__ */ new IAMClient(CLIENT_CONFIG);
export const serviceQuotas = /* @__PURE__ */ new ServiceQuotasClient(CLIENT_CONFIG);
