/**
 * The errors the simulated account throws: the SDK's own exception classes, so the handlers'
 * error handling sees what a real AWS answer would give it (name, $fault, HTTP status).
 */
import { AutoScalingServiceException } from '@aws-sdk/client-auto-scaling';
import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { IAMServiceException } from '@aws-sdk/client-iam';
import { KMSServiceException } from '@aws-sdk/client-kms';
import { ServiceQuotasServiceException } from '@aws-sdk/client-service-quotas';
import { SFNServiceException } from '@aws-sdk/client-sfn';
import { SSMServiceException } from '@aws-sdk/client-ssm';
import type { Service } from './account';

export function awsError(service: Service, code: string, message: string, fault: 'client' | 'server' = 'client'): Error {
  const options = { name: code, $fault: fault, $metadata: { httpStatusCode: fault === 'client' ? 400 : 500 }, message };
  switch (service) {
    case 'ec2': return new EC2ServiceException(options);
    case 'ssm': return new SSMServiceException(options);
    case 'autoscaling': return new AutoScalingServiceException(options);
    case 'dynamodb': return new DynamoDBServiceException(options);
    case 'kms': return new KMSServiceException(options);
    case 'iam': return new IAMServiceException(options);
    case 'states': return new SFNServiceException(options);
    case 'servicequotas': return new ServiceQuotasServiceException(options);
  }
}

/** An EC2 client error (the three EC2 modules and the account's own lookups throw these). */
export function ec2Error(code: string, message: string): Error {
  return awsError('ec2', code, message);
}

/** A Systems Manager client error (Run Command and Parameter Store). */
export function ssmError(code: string, message: string): Error {
  return awsError('ssm', code, message);
}

/** The throttling error code each service returns (the Query APIs of Auto Scaling say `Throttling`). */
export const THROTTLING_CODES: Record<Service, string> = {
  ec2: 'RequestLimitExceeded',
  ssm: 'ThrottlingException',
  autoscaling: 'Throttling',
  dynamodb: 'ProvisionedThroughputExceededException',
  kms: 'ThrottlingException',
  iam: 'Throttling',
  states: 'ThrottlingException',
  servicequotas: 'TooManyRequestsException',
};

/** An access-denied error code per service (a hard failure nobody retries). */
export const ACCESS_DENIED_CODES: Record<Service, string> = {
  ec2: 'UnauthorizedOperation',
  ssm: 'AccessDeniedException',
  autoscaling: 'AccessDenied',
  dynamodb: 'AccessDeniedException',
  kms: 'AccessDeniedException',
  iam: 'AccessDenied',
  states: 'AccessDeniedException',
  servicequotas: 'AccessDeniedException',
};
