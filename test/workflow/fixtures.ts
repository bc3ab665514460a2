// Types of the aws-sdk-client-mock matchers (registered at run time by the jest setup).
import 'aws-sdk-client-mock-jest';
import { ResetPlan, WORKFLOW_CONFIG_ENV, WorkflowConfig } from '../../src/workflow/private/contracts';

export const TARGET = 'i-0123456789abcdef0';
export const HELPER = 'i-0fedcba9876543210';
export const ROOT_VOLUME = 'vol-0123456789abcdef0';
export const EXECUTION_ARN = 'arn:aws:states:eu-west-1:111122223333:execution:Reset:run-1';
export const OTHER_EXECUTION_ARN = 'arn:aws:states:eu-west-1:111122223333:execution:Reset:run-0';
export const CUSTOMER_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555';

export const CONFIG: WorkflowConfig = {
  workflowId: 'wf-test',
  lockTableName: 'ResetLocks',
  subnetsByAz: { 'eu-west-1a': 'subnet-aaaa', 'eu-west-1b': 'subnet-bbbb' },
  helperSecurityGroupId: 'sg-helper',
  helperInstanceProfileArn: 'arn:aws:iam::111122223333:instance-profile/Helper',
  helperInstanceTypes: ['t3.medium', 't3a.medium', 'm5.large', 'm6i.large'],
  helperImageParameters: [
    '/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base',
    '/aws/service/ami-windows-latest/Windows_Server-2019-English-Full-Base',
  ],
  allowedVolumeKeyArns: [CUSTOMER_KEY],
  imageNamePrefix: 'ResetAccess',
  onlineKmsKey: 'alias/aws/ssm',
  lockTtlSeconds: 3 * 3600,
};

/** Sets RESET_WORKFLOW_CONFIG for the handlers. */
export function useConfig(config: WorkflowConfig = CONFIG): void {
  process.env[WORKFLOW_CONFIG_ENV] = JSON.stringify(config);
}

export function offlinePlan(overrides: Partial<ResetPlan> = {}): ResetPlan {
  return {
    instanceId: TARGET,
    method: 'offline',
    dryRun: false,
    executionArn: EXECUTION_ARN,
    executionName: 'run-1',
    availabilityZone: 'eu-west-1a',
    helperSubnetId: 'subnet-aaaa',
    originalState: 'running',
    rootDeviceName: '/dev/sda1',
    rootVolumeId: ROOT_VOLUME,
    rootDeleteOnTermination: true,
    manageStandby: false,
    keyName: 'ops-key',
    helperInstanceType: 't3.medium',
    passwordEnabledAmi: false,
    backupImageName: `ResetAccess-Pre-Script-Backup_${TARGET}_2026-11-28-09-00-00`,
    passwordEnabledImageName: `ResetAccess-Post-Script-Backup_${TARGET}_2026-11-28-09-00-00`,
    targetWindowsVersion: '2022',
    consequences: [],
    ...overrides,
  };
}

/**
 * Captures what the Powertools loggers write (they write to process.stdout) and keeps
 * the test output quiet. Call in beforeEach; returns the lines written so far.
 */
export function captureLogs(): () => string[] {
  const lines: string[] = [];
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  });
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  });
  return () => lines;
}

/** An AWS error as the SDK throws it (name = error code). */
export function awsError(name: string, message = name): Error {
  const err = new Error(message);
  err.name = name;
  return Object.assign(err, { $metadata: {}, $fault: 'client' });
}
