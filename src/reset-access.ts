import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { RescueVpc, RescueVpcProps } from './network';
import { ResetNotifications, ResetNotificationsOptions } from './operations';
import { SessionManagerEncryption, SessionManagerEncryptionProps } from './permissions';
import { publishStateMachineArn } from './private/arn-parameter';
import { PasswordRetention, PasswordRetentionProps, ResetWorkflow, ResetWorkflowOptions } from './workflow';

/**
 * Where `ResetAccess` publishes its state machine's ARN unless told otherwise, so that tools
 * (the AWS CLI, scripts, the operator CLI) find the workflow without knowing the stack.
 */
export const DEFAULT_STATE_MACHINE_ARN_PARAMETER = '/cdk-ec2-reset-access/state-machine-arn';

/**
 * Properties of [`ResetAccess`](#cdk-ec2-reset-access.ResetAccess): the reset workflow's options plus the parts it composes.
 */
export interface ResetAccessProps extends ResetWorkflowOptions {
  /**
   * An existing rescue network for the helper instances. Mutually exclusive with `rescueVpcProps`.
   *
   * @default - a new `RescueVpc` built from `rescueVpcProps`
   */
  readonly rescueVpc?: RescueVpc;

  /**
   * How to build the rescue network when `rescueVpc` is not given.
   *
   * @default - isolated subnets in every AZ of an environment-aware stack (two for an
   * environment-agnostic one), endpoints in one AZ
   */
  readonly rescueVpcProps?: RescueVpcProps;

  /**
   * How long the online method's password parameters (`/EC2Rescue/Passwords/<instance-id>`) are kept
   * before they are deleted.
   *
   * @default - 24 hours, checked every hour
   */
  readonly passwordRetention?: PasswordRetentionProps;

  /**
   * Also set up Fleet Manager's "Reset node user password": a KMS key and Session Manager
   * preferences that encrypt every session of the account and Region with it. Off by default
   * because the preferences are account-wide: every Session Manager user and managed node then
   * needs permission to use the key.
   *
   * @default false
   */
  readonly sessionManagerEncryption?: boolean;

  /**
   * Options of the Session Manager encryption, when `sessionManagerEncryption` is true.
   *
   * @default - a new key, other preferences left as they are
   */
  readonly sessionManagerEncryptionProps?: SessionManagerEncryptionProps;

  /**
   * Notifications and alarms: the encrypted topic, its email subscriptions, its key.
   *
   * @default - a new topic with its own key and no subscription; alarms on failed, timed-out and
   * aborted resets and on the restore path
   */
  readonly notifications?: ResetNotificationsOptions;

  /**
   * Name of the SSM parameter the state machine's ARN is written to. Tools find the workflow
   * through it: the operator CLI (`--state-machine-parameter <name>` when it is not the default),
   * scripts, and `grantStartReset`, which grants reading it.
   *
   * A parameter name exists once per account and Region, so a second `ResetAccess` deployed to the
   * same account and Region needs a name of its own. Synthesis fails when two `ResetAccess` (or a
   * `ResetAccess` and a `FleetReset`) of one app use the same name in one stack, or in stacks whose
   * account and Region are known and equal; it warns when either stack is environment-agnostic (the
   * account and Region are only known at deploy time).
   *
   * @default '/cdk-ec2-reset-access/state-machine-arn'
   */
  readonly stateMachineArnParameterName?: string;
}

/**
 * Everything needed to regain access to the EC2 Windows instances of one account and Region:
 * the rescue network, the reset workflow (online and offline methods, the password-enabled AMI
 * for lost key pairs), the deletion of expired password parameters and of successful resets' backup
 * images (`workflow.backupImageRetention`), notifications and alarms, and optionally the Session
 * Manager encryption that Fleet Manager's password reset requires.
 *
 * @example
 * import * as iam from 'aws-cdk-lib/aws-iam';
 * import { RescuePasswordPolicy, ResetAccess, SessionManagerEncryption } from 'cdk-ec2-reset-access';
 *
 * // The rescue VPC, the reset and restore state machines and the deletion of expired passwords.
 * const resetAccess = new ResetAccess(this, 'ResetAccess');
 *
 * // Operators may start resets (and follow or stop them) and read the new passwords.
 * const operators = new iam.Role(this, 'ResetOperators', {
 *   assumedBy: new iam.AccountRootPrincipal(),
 * });
 * resetAccess.grantStartReset(operators);
 * resetAccess.grantReadPasswords(operators);
 * // Optional: deleting the online method's password parameter once read (a grant of its own).
 * resetAccess.grantDeletePasswords(operators);
 *
 * // Windows instances that can be reset online: Systems Manager plus the EC2Rescue password write.
 * // Instances are reset only when tagged cdk-ec2-reset-access:allow-reset=true.
 * const instanceRole = new iam.Role(this, 'WindowsInstanceRole', {
 *   assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
 *   managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
 * });
 * new RescuePasswordPolicy(this, 'RescuePasswordPolicy', { roles: [instanceRole] });
 *
 * // Optional, account-wide: Session Manager encryption for Fleet Manager's "Reset node user password".
 * const sessionEncryption = new SessionManagerEncryption(this, 'SessionManagerEncryption');
 * sessionEncryption.grantInstanceDecrypt(instanceRole);
 * sessionEncryption.grantResetPassword(operators);
 */
export class ResetAccess extends Construct {
  /** The network helper instances run in. */
  public readonly rescueVpc: RescueVpc;
  /** The reset workflow (its state machines, functions, lock table and helper role). */
  public readonly workflow: ResetWorkflow;
  /** The scheduled deletion of expired password parameters. */
  public readonly passwordRetention: PasswordRetention;
  /** The Session Manager encryption, when enabled. */
  public readonly sessionManagerEncryption?: SessionManagerEncryption;
  /** The SSM parameter holding the reset state machine's ARN. */
  public readonly stateMachineArnParameter: ssm.StringParameter;
  /** The notification topic, the status-change rule and the alarms. */
  public readonly notifications: ResetNotifications;

  constructor(scope: Construct, id: string, props: ResetAccessProps = {}) {
    super(scope, id);
    if (props.rescueVpc && props.rescueVpcProps) {
      throw new Error('ResetAccess: give either `rescueVpc` (an existing RescueVpc) or `rescueVpcProps` (to build one), not both.');
    }
    if (props.sessionManagerEncryptionProps && !props.sessionManagerEncryption) {
      throw new Error('ResetAccess: `sessionManagerEncryptionProps` is set but `sessionManagerEncryption` is not true; set it to true to create the Session Manager encryption.');
    }

    // `encryptionKey` encrypts every log group ResetAccess creates, unless a part's own props say otherwise.
    this.rescueVpc = props.rescueVpc ?? new RescueVpc(this, 'RescueVpc', {
      flowLogEncryptionKey: props.rescueVpcProps?.existingVpc ? undefined : props.encryptionKey,
      ...props.rescueVpcProps,
    });
    this.workflow = new ResetWorkflow(this, 'Workflow', { ...props, rescueVpc: this.rescueVpc });
    this.passwordRetention = new PasswordRetention(this, 'PasswordRetention', {
      logRetention: props.logRetention,
      encryptionKey: props.encryptionKey,
      ...props.passwordRetention,
    });
    if (props.sessionManagerEncryption) {
      this.sessionManagerEncryption = new SessionManagerEncryption(this, 'SessionManagerEncryption', props.sessionManagerEncryptionProps);
    }

    this.notifications = new ResetNotifications(this, 'Notifications', {
      logRetention: props.logRetention,
      encryptionKey: props.encryptionKey,
      ...props.notifications,
      workflow: this.workflow,
    });

    this.stateMachineArnParameter = publishStateMachineArn(this, 'StateMachineArn', {
      name: props.stateMachineArnParameterName ?? DEFAULT_STATE_MACHINE_ARN_PARAMETER,
      value: this.workflow.stateMachine.stateMachineArn,
      description: 'ARN of the cdk-ec2-reset-access reset state machine',
      nameProp: 'stateMachineArnParameterName',
      cliOption: '--state-machine-parameter',
    });
  }

  /**
   * Lets `grantee` start resets, follow and stop them, find the state machine through its
   * SSM parameter, and follow the restore that runs after a reset is stopped, times out or fails.
   */
  public grantStartReset(grantee: iam.IGrantable): iam.Grant {
    return this.workflow.grantStartReset(grantee).combine(this.stateMachineArnParameter.grantRead(grantee));
  }

  /**
   * Lets `grantee` read the new passwords: the online method's parameters and the offline
   * method's encrypted password data (which only the instance's key pair decrypts).
   */
  public grantReadPasswords(grantee: iam.IGrantable): iam.Grant {
    return this.workflow.grantReadPasswords(grantee);
  }

  /**
   * Lets `grantee` delete the online method's password parameters (`/EC2Rescue/Passwords/i-*`),
   * e.g. with the CLI's `password <instance-id> --from-parameter --delete`. A grant of its own:
   * reading a password does not imply deleting it.
   */
  public grantDeletePasswords(grantee: iam.IGrantable): iam.Grant {
    return this.workflow.grantDeletePasswords(grantee);
  }
}
