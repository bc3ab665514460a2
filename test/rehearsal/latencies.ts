/**
 * How long things take in the simulated account: the ONE table the rehearsal, `projen rehearse`
 * and `projen bench` read. Every value says where it comes from: an AWS document (quoted in
 * `source`) or `assumption` with the reasoning. Change a value here and every timeline, every
 * bench figure and the AWS-runbook comparison change with it.
 *
 * Documents quoted:
 * - [GPD] EC2 API Reference, GetPasswordData: "password generation and encryption may take a few
 *   minutes ... We recommend that you wait up to 15 minutes after launching an instance".
 * - [REF] ../shared/reference/aws-reset-access-flow.md (AWSSupport-StartEC2RescueWorkflow as
 *   published): waits of 600 s for Online, a 30 s sleep after the attach, a 30-minute stack timeout.
 * - [CLI] `aws ec2 wait password-data-available` polls every 15 s (AWS CLI reference); the EC2
 *   console says "wait at least 4 minutes after launching an instance" before retrieving a password.
 */

/** One modelled duration, in seconds. */
export interface Latency {
  readonly seconds: number;
  /** A quoted AWS document, or `assumption: <why this value>`. */
  readonly source: string;
}

function assumption(seconds: number, why: string): Latency {
  return { seconds, source: `assumption: ${why}` };
}

export const LATENCY = {
  // ---- Control plane
  apiCall: assumption(0.1, 'a typical EC2/SSM/DynamoDB control-plane round trip from Lambda in the same Region'),
  lambdaInvoke: assumption(0.25, 'Step Functions state transition plus a warm Lambda invoke (cold starts ignored)'),
  eventBridgeDelivery: assumption(1, 'Step Functions status-change event to the restore rule\'s target'),

  // ---- Instance lifecycle
  instancePendingToRunning: assumption(30, 'EC2 reports running once the hypervisor has started the instance, before the OS boots'),
  windowsStop: assumption(75, 'a Windows Server guest shutdown (services, updates not pending) until EC2 reports stopped'),
  stopWithoutOsShutdown: assumption(10,
    'StopInstances SkipOsShutdown: no guest shutdown, only the hypervisor powering the instance off and EC2 releasing its host'),
  forcedStop: assumption(60,
    'StopInstances Force on an instance stuck in stopping, until stopped; AWS asks for help "if, after 10 minutes, the instance has not stopped" (EC2 User Guide, Troubleshoot stopping your instance)'),
  shuttingDownToTerminated: assumption(60, 'termination of an EBS-backed instance'),
  windowsBootToSsmOnline: assumption(180,
    'Windows Server boot plus SSM Agent registration through interface endpoints; AWS\'s runbook allows 600 s [REF]'),
  passwordAfterBoot: {
    seconds: 240,
    source: 'EC2 console "wait at least 4 minutes after launching an instance" [CLI]; [GPD] allows up to 15 minutes',
  },

  // ---- VPC endpoints (on-demand interface endpoints)
  vpcEndpointPendingToAvailable: assumption(120,
    'an AWS-service interface endpoint with private DNS going from pending to available; AWS publishes no figure, ' +
      'one to two minutes is what creating one in the console or with CloudFormation shows'),
  vpcEndpointDeletion: assumption(60, 'deleting → deleted for an interface endpoint (its ENIs released, the private hosted zone dissociated)'),
  ssmAgentRetry: assumption(30,
    'SSM Agent that cannot reach the ssm endpoint at start-up tries again; the modelled interval between its attempts'),

  // ---- EBS
  volumeAttach: assumption(5, 'attaching → attached for an existing EBS volume'),
  volumeDetach: assumption(5, 'detaching → available'),
  snapshotCompletion: assumption(900,
    'a 30 GiB Windows root snapshot; AWS: "AMI availability can take minutes to hours" [REF]; the workflow does not wait for it'),

  // ---- Auto Scaling
  enterStandby: assumption(5, 'EnteringStandby → Standby (no lifecycle hooks)'),
  exitStandby: assumption(10, 'Pending → InService (no lifecycle hooks, no load balancer warm-up)'),

  // ---- Run Command
  commandDelivery: assumption(2, 'Run Command reaching an Online agent (Pending → InProgress)'),
  commandCancel: assumption(2, 'CancelCommand reaching the agent, which ends the command\'s process (Cancelling → Cancelled)'),
  installEc2Rescue: assumption(45, 'AWS-ConfigureAWSPackage downloading and installing AWSSupport-EC2Rescue from the Region\'s S3 bucket'),
  offlinePasswordFix: assumption(60, 'bring the disk online, run Invoke-EC2RescueEnablePasswordGeneration, set it offline again'),
  onlineResetAccess: assumption(120,
    'AWSSupport-RunEC2RescueForWindowsTool: install EC2Rescue, reset the password, PutParameter of the SecureString'),

  // ---- AWS's runbook only (AWSSupport-ResetAccess → StartEC2RescueWorkflow)
  runbookStepOverhead: assumption(2, 'one Systems Manager Automation step starting and reporting'),
  runbookHelperStack: assumption(150,
    'CloudFormation stack with VPC, subnet, internet gateway, role, instance profile and launch template, until the helper\'s RunInstances'),
  runbookStackDelete: assumption(120, 'deleting the helper stack (after the target is started; off the critical path)'),
  runbookSleepAfterAttach: { seconds: 30, source: 'the runbook sleeps 30 s after attaching the volume to the helper [REF]' },
  runbookPoll: assumption(15, 'Automation waitForAWSResourceProperty polling interval: half of it is lost on average'),
} as const satisfies Record<string, Latency>;

export type LatencyName = keyof typeof LATENCY;

/** The value of a latency, in milliseconds. */
export function ms(name: LatencyName): number {
  return LATENCY[name].seconds * 1000;
}

/**
 * Runs `fn` with some latencies replaced, then puts the table back: a what-if of the bench (e.g. a
 * prepared helper image, on which EC2Rescue is already installed). Not for tests: every rehearsal
 * reads the table as it stands.
 */
export async function withLatencies<T>(overrides: Partial<Record<LatencyName, number>>, why: string, fn: () => Promise<T>): Promise<T> {
  const table = LATENCY as Record<LatencyName, Latency>;
  const saved = new Map(Object.keys(overrides).map(name => [name as LatencyName, table[name as LatencyName]]));
  for (const [name, seconds] of Object.entries(overrides)) table[name as LatencyName] = { seconds: seconds!, source: `what-if: ${why}` };
  try {
    return await fn();
  } finally {
    for (const [name, latency] of saved) table[name] = latency;
  }
}
