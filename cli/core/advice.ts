import { EXIT_CODES, ExitCode } from './exit-codes';

/**
 * Error name → what it means and what to do: the one table behind every error the CLI shows,
 * whether the workflow failed with it or the CLI met it. The names of the workflow's errors are
 * those of `src/workflow/private/contracts.ts` (`ERRORS`) and the state machine's own
 * (`WORKFLOW_ERRORS`); a test checks that every one of them is here.
 */
export interface Advice {
  /** One sentence: what went wrong. */
  readonly meaning: string;
  /** One or two sentences: what the operator does now. */
  readonly action: string;
  /**
   * What the failure left behind: `nothing` (a preflight blocker, the instance was not touched),
   * `restored` (the workflow put the instance back before failing), `check` (look at the instance
   * by hand), or `none` for errors of the CLI itself.
   */
  readonly instance: 'nothing' | 'restored' | 'check' | 'none';
  readonly exitCode: ExitCode;
}

const preflight = (meaning: string, action: string): Advice => ({ meaning, action, instance: 'nothing', exitCode: EXIT_CODES.resetFailed });
const during = (meaning: string, action: string): Advice => ({ meaning, action, instance: 'restored', exitCode: EXIT_CODES.resetFailed });
const cli = (exitCode: ExitCode, meaning: string, action: string): Advice => ({ meaning, action, instance: 'none', exitCode });

export const ADVICE: Readonly<Record<string, Advice>> = {
  // ---- Preflight: the execution failed in its first state; nothing was changed.
  'InvalidInput': preflight('The reset request is not valid.',
    'Fix the field the cause names: instanceId, method (auto|online|offline), acknowledge values.'),
  'InstanceNotFound': preflight('No such instance in this account and Region.',
    'Check the instance id and the Region (--region, or the profile\'s Region).'),
  'InstanceStateUnsupported': preflight('The instance is neither running nor stopped (pending, stopping or terminated).',
    'Wait until it is running or stopped, then run the reset again.'),
  'NotWindows': preflight('The instance is not a Windows instance.', 'This tool resets Windows Administrator passwords only.'),
  'TargetNotAllowed': preflight('The instance lacks the tag the workflow requires (by default cdk-ec2-reset-access:allow-reset=true).',
    'Tag the instance (aws ec2 create-tags --resources <id> --tags Key=cdk-ec2-reset-access:allow-reset,Value=true) and run again.'),
  'ResetInProgress': preflight('Another reset of this instance is running (it holds the instance\'s lock).',
    'Watch it with `status <instance-id>`, or stop it in the Step Functions console (its restore still runs). A lock whose restore did not finish stays while the reconciler restarts the restore; if the cause says it gave up, put the instance back by hand (docs/operating.md) and delete the lock item.'),
  'NotManagedOnline': preflight('The online method was asked for, but the instance is not Online in Systems Manager.',
    'Use --method offline (or auto), or fix the SSM agent, the instance role and its network path to Systems Manager.'),
  'InstanceRoleCannotStorePassword': preflight('The online method was asked for, but the instance\'s role may not store the password EC2Rescue sets (ssm:PutParameter on /EC2Rescue/Passwords/<id>, kms:Encrypt on a customer key).',
    'Attach the RescuePasswordPolicy managed policy to the instance role, or use --method offline (auto falls back to offline by itself).'),
  'RootNotEbs': preflight('The root device is an instance-store volume: the offline method cannot detach it.',
    'Use --method online (the instance must be Online in Systems Manager).'),
  'SpotInstance': preflight('Spot Instances are not stopped by this workflow.', 'Use --method online (the instance must be Online in Systems Manager).'),
  'MarketplaceProductCode': preflight('The root volume carries an AWS Marketplace product code and cannot be attached to a helper.',
    'Use --method online (the instance must be Online in Systems Manager).'),
  'ShutdownBehaviorTerminate': preflight('Shutting the instance down from Windows would terminate it.',
    'aws ec2 modify-instance-attribute --instance-id <id> --instance-initiated-shutdown-behavior stop, then run again.'),
  'AutoScalingMember': preflight('The instance is in an Auto Scaling group.',
    'Add --ack auto-scaling-standby (it is put into Standby and back), or put it in Standby yourself first.'),
  'AcknowledgementRequired': preflight('Stopping the instance would lose something: its auto-assigned public IPv4 address or its instance-store data.',
    'If that is acceptable, add the value the cause names: --ack public-ip-release and/or --ack instance-store-data-loss.'),
  'EncryptedRootKeyNotAllowed': preflight('The root volume is encrypted with a customer managed KMS key the workflow may not use.',
    'Add the key to the construct\'s allowedVolumeKeys and deploy, then run again.'),
  'EncryptedVolumeKeyNotAllowed': preflight('Another volume of the instance is encrypted with a customer managed KMS key the workflow may not use, so the instance could not be started again.',
    'Add the key(s) the cause names to the construct\'s allowedVolumeKeys and deploy, or detach those volumes first, then run again.'),
  'AutoScalingGroupNotAllowed': preflight('The instance\'s Auto Scaling group lacks the target tag, so the workflow may not put the instance into Standby and back.',
    'Tag the group with the target tag (the cause gives the aws autoscaling create-or-update-tags command), or put the instance into Standby yourself, then run again.'),
  'AutoScalingGroupAtMinimum': preflight('The instance\'s Auto Scaling group is at its minimum size: Standby with the capacity decremented is refused.',
    'Add --ack auto-scaling-min-size (MinSize is lowered by one for the reset and raised back after), or lower MinSize yourself, or put the instance into Standby yourself, then run again.'),
  'NoKeyPair': preflight('The instance was launched without a key pair, so an offline reset\'s new password could never be read (GetPasswordData stays empty).',
    'Add --password-enabled-ami and launch that image with a new key pair, or use --method online (the instance must be Online in Systems Manager).'),
  'HelperInstanceTypeNotOffered': preflight('None of the helper\'s instance types (the configured one and its fallbacks) is offered in the instance\'s Availability Zone.',
    'Set the construct\'s helperInstanceType to a type offered there (aws ec2 describe-instance-type-offerings --location-type availability-zone) and deploy, then run again.'),
  'AzNotCovered': preflight('The rescue VPC has no subnet in the instance\'s Availability Zone.',
    'Add that Availability Zone to the rescue VPC and deploy, then run again.'),

  // ---- Fleet input (FleetReset): the fleet execution failed before it started any reset.
  'FleetSelectionEmpty': preflight('The fleet reset\'s ids or tag selector matched no instance that is not terminated.',
    'Check the ids, the tag key and values, and the Region, then run again.'),
  'FleetTooManyTargets': preflight('The fleet reset selected more instances than one fleet execution may reset (FleetReset maxTargets).',
    'Split the selection over several fleet resets (fewer ids or tag values), or raise maxTargets and deploy.'),
  'FleetHelperQuotaExhausted': preflight('The account\'s Running On-Demand Standard instances vCPU quota has no room for a single helper.',
    'Ask for a higher quota in Service Quotas (L-1216C47A), stop instances you do not need, or use --method online.'),

  // ---- During the reset: the restore put the instance back before the execution failed.
  'HelperNotReady': during('The helper instance never came Online in Systems Manager.',
    'Check the rescue VPC\'s endpoints (ssm, ssmmessages, ec2messages, S3) and the helper security group, then run again.'),
  'EndpointsUnavailable': during('The rescue VPC\'s interface endpoints (ssm, ssmmessages, ec2messages) could not be opened: the VPC\'s endpoint quota, an endpoint of its own for one of those services, or an endpoint that failed.',
    'Read the cause; free or raise the "Interface and Gateway Load Balancer endpoints per VPC" quota, or give the RescueVpc `RescueEndpoints.none()` if the VPC has its own endpoints, then run again.'),
  'CommandFailed': during('EC2Rescue\'s install, the offline password fix or the online reset failed or did not finish.',
    'Read the command\'s output in Systems Manager → Run Command → Command history (the cause has an excerpt), then run again.'),
  'BackupImageFailed': during('The backup image could not be created, so the root volume was not touched.',
    'Check the instance\'s volumes and the account\'s snapshot limits, then run again.'),
  'VolumeAttachedElsewhere': {
    ...during('The root volume is attached somewhere the workflow did not put it.',
      'Look at the volume and the instance in the EC2 console before anything else: an operator or another tool is moving it.'),
    instance: 'check',
  },
  'VolumeNotFound': {
    ...during('The root volume no longer exists.',
      'Restore the instance from the backup image (tagged cdk-ec2-reset-access:target=<instance-id>).'),
    instance: 'check',
  },
  'PasswordNotGenerated': during('Windows did not generate a new password in time after the restart (GetPasswordData stayed empty).',
    'Check the instance\'s system log (EC2Launch). Try `password <instance-id> --key-file <pem> --wait` later, reset again, or launch the password-enabled image.'),
  'TargetNotStopped': during('The instance did not stop in time.', 'Look at the instance\'s state and status checks, then run again.'),
  'VolumeNotAttached': during('The root volume did not reach the helper in time.', 'Look at the volume\'s state in the EC2 console, then run again.'),
  'RestoreIncomplete': {
    ...during('The restore did not converge: the instance may not be as it was.',
      'Check the instance by hand: root volume attached at its original device, DeleteOnTermination, state, Auto Scaling Standby; terminate any instance tagged cdk-ec2-reset-access:execution=<execution name>. The restore state machine, then the reconciler, keep trying meanwhile.'),
    instance: 'check',
  },
  'NotYet': during('A step kept finding AWS not ready.', 'Run the reset again; if it recurs, look at the step in the Step Functions console.'),

  // ---- Execution statuses without an error name of the workflow's own.
  'TIMED_OUT': during('The reset exceeded the execution timeout.',
    'Let the restore finish (followed below when the CLI can, else in the Step Functions console), then run again; if resets keep ' +
      'timing out, raise the workflow\'s executionTimeout.'),
  'ABORTED': during('The reset execution was stopped.',
    'Let the restore finish (followed below when the CLI can, else in the Step Functions console); reset again if you still need to.'),
  'States.Timeout': during('A step of the reset timed out.', 'Run again; if it recurs, look at the step in the Step Functions console.'),
  'States.TaskFailed': during('A step of the reset failed unexpectedly.', 'Look at the failed step in the Step Functions console, then run again.'),
  'States.Runtime': during('The state machine met a runtime error.', 'Look at the execution in the Step Functions console and report it.'),

  // ---- The CLI's own errors.
  'InvalidArguments': cli(EXIT_CODES.usage, 'The command line is not valid.', 'See --help.'),
  'NoCredentials': cli(EXIT_CODES.setup, 'No AWS credentials were found (or they have expired).',
    'Log in (aws sso login --profile <p>) or configure keys (aws configure --profile <p>). The CLI uses --profile, else AWS_PROFILE, ' +
      'else the environment\'s credentials and the default profile.'),
  'ProfileNotFound': cli(EXIT_CODES.setup, 'That AWS profile is in neither the shared config file nor the credentials file.',
    'List the profiles with `aws configure list-profiles` and pass one with --profile, or create it (aws configure sso --profile <p>, ' +
      'or aws configure --profile <p>). AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE move those files.'),
  'NoRegion': cli(EXIT_CODES.setup, 'No AWS Region is set.', 'Pass --region <region>, set AWS_REGION, or give the profile a region.'),
  'InvalidRegion': cli(EXIT_CODES.setup, 'The AWS Region set in the environment or the profile is not a Region name.',
    'Fix AWS_REGION or the profile\'s region (e.g. eu-west-1), or pass --region <region>.'),
  'NetworkError': cli(EXIT_CODES.network, 'AWS could not be reached: no answer came back, so nothing was asked of AWS or changed by this request.',
    'Check the Region name (a name that does not exist has no endpoint), the network connection and DNS, and any proxy or firewall ' +
      'between you and *.amazonaws.com on port 443. Then run the same command again.'),
  'AccessDenied': cli(EXIT_CODES.setup, 'AWS denied the request.',
    'Use a role the stack granted: ResetAccess.grantStartReset (start and watch resets), grantReadPasswords (passwords), grantDeletePasswords ' +
      '(password --delete), and FleetReset.grantStartFleet with grantStartReset (fleet).'),
  'StateMachineNotFound': cli(EXIT_CODES.setup, 'No reset state machine was found in this account and Region.',
    'Check --region and --profile; deploy ResetAccess there, or pass --state-machine-arn (or --state-machine-parameter if the stack uses another parameter name).'),
  'FleetStateMachineNotFound': cli(EXIT_CODES.setup, 'No fleet state machine was found in this account and Region.',
    'Check --region and --profile; deploy FleetReset there, or pass --fleet-state-machine-arn (or --fleet-state-machine-parameter if the stack set ' +
      'another stateMachineArnParameterName on its FleetReset).'),
  'ExecutionNotFound': cli(EXIT_CODES.notFound, 'No such reset execution.',
    'Check the execution ARN (or instance id) and the Region; `status <instance-id>` finds the latest reset of an instance.'),
  'PasswordNotAvailable': cli(EXIT_CODES.notFound, 'The instance has no password data yet (GetPasswordData is empty).',
    'Windows generates it at boot: wait a few minutes after the instance starts (up to 15), or add --wait.'),
  'PasswordParameterNotFound': cli(EXIT_CODES.notFound, 'There is no password parameter for this instance.',
    'Only the online method writes one, and it is deleted after its retention (24 hours by default) or by --delete. For an offline reset use --key-file.'),
  'KeyFileUnreadable': cli(EXIT_CODES.key, 'The key file cannot be read as an RSA private key.',
    'Give the key pair\'s private key as PEM (PKCS#1 "BEGIN RSA PRIVATE KEY" or PKCS#8 "BEGIN PRIVATE KEY"). An OpenSSH key ' +
      '("BEGIN OPENSSH PRIVATE KEY"): convert a copy with ssh-keygen -p -m PEM -f <copy>; a PuTTY .ppk: puttygen key.ppk -O private-openssh -o key.pem.'),
  'KeyMismatch': cli(EXIT_CODES.key, 'The key does not decrypt this instance\'s password data.',
    'Use the private key of the key pair the instance was launched with (its KeyName). Lost it? Reset with --password-enabled-ami and launch that image with a new key pair.'),
  'Unexpected': cli(EXIT_CODES.unexpected, 'AWS answered with an error this tool does not know.', 'Read the message; run again with the same options.'),
};

/** The advice for an error name; a name not in the table gets generic advice (never throws). */
export function adviceFor(name: string): Advice {
  if (Object.prototype.hasOwnProperty.call(ADVICE, name)) return ADVICE[name];
  if (name.startsWith('Lambda.') || name.startsWith('States.')) return ADVICE['States.TaskFailed'];
  return ADVICE.Unexpected;
}
