import { CfnOutput, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { FleetReset, RescueEndpoints, RescuePasswordPolicy, ResetAccess, ResetWorkflow } from '../src';
import { acknowledgeInlinePolicies } from '../src/private/compliance';
import { restrictGrantsToAwsServices } from '../src/private/key-policy';

/** Properties of the sample stack. */
export interface SampleStackProps extends StackProps {
  /**
   * Also encrypt Session Manager sessions with a KMS key, as Fleet Manager's "Reset node user
   * password" requires. Account-wide: `cdk deploy -c sessionManagerEncryption=true` opts in.
   */
  readonly sessionManagerEncryption?: boolean;

  /**
   * Encrypt the logs and the lock table with a customer managed KMS key of the stack (rotation on),
   * for compliance regimes that ask for one (about $1 a month). `cdk deploy -c customerManagedKey=true` opts in.
   */
  readonly customerManagedKey?: boolean;

  /**
   * ARNs of customer managed KMS keys whose encrypted root volumes the workflow may handle
   * (`allowedVolumeKeys`). `cdk deploy -c allowedVolumeKeyArns=arn:...,arn:...` sets them.
   */
  readonly allowedVolumeKeyArns?: string[];

  /**
   * How the rescue VPC gets its Systems Manager interface endpoints (the bench compares
   * `RescueEndpoints.alwaysOn()` with the default).
   *
   * @default RescueEndpoints.onDemand()
   */
  readonly rescueEndpoints?: RescueEndpoints;

  /**
   * The zones of the rescue VPC (the fleet rehearsal spreads its targets over three).
   *
   * @default - the first two zones of the Region (an environment-agnostic stack)
   */
  readonly rescueAvailabilityZones?: string[];
}

/**
 * The sample deployment: everything a platform team needs to regain access to the Windows
 * instances of one account and Region.
 */
export class SampleStack extends Stack {
  public readonly resetAccess: ResetAccess;
  /** Resets many instances in one operation, each through the reset workflow, within availability and quota bounds. */
  public readonly fleetReset: FleetReset;
  /** The key of `customerManagedKey`. */
  public readonly encryptionKey?: kms.Key;
  /** The role for Windows instances that should be resettable online. */
  public readonly instanceRole: iam.Role;
  /** The instance profile of `instanceRole`, to attach to those instances. */
  public readonly instanceProfile: iam.InstanceProfile;

  constructor(scope: Construct, id: string, props: SampleStackProps = {}) {
    super(scope, id, props);

    if (props.customerManagedKey) {
      this.encryptionKey = new kms.Key(this, 'EncryptionKey', {
        description: 'Encrypts the logs and the lock table of the EC2 reset workflow',
        enableKeyRotation: true,
      });
      restrictGrantsToAwsServices(this.encryptionKey);
    }
    this.resetAccess = new ResetAccess(this, 'ResetAccess', {
      sessionManagerEncryption: props.sessionManagerEncryption,
      encryptionKey: this.encryptionKey,
      allowedVolumeKeys: (props.allowedVolumeKeyArns ?? []).map((arn, i) => kms.Key.fromKeyArn(this, `AllowedVolumeKey${i}`, arn)),
      rescueVpcProps: {
        ...(props.rescueEndpoints ? { endpoints: props.rescueEndpoints } : {}),
        ...(props.rescueAvailabilityZones ? { availabilityZones: props.rescueAvailabilityZones } : {}),
      },
    });

    // Fleet resets (a lost key pair shared by many instances): no cost while idle, so the sample has them.
    this.fleetReset = new FleetReset(this, 'FleetReset', {
      workflow: this.resetAccess.workflow,
      encryptionKey: this.encryptionKey,
    });

    // An instance role for Windows instances that should be resettable online:
    // Systems Manager core permissions plus the EC2Rescue password write.
    const instanceRole = this.instanceRole = new iam.Role(this, 'WindowsInstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Role for Windows instances that can be reset online with EC2Rescue',
    });
    instanceRole.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore'));
    Validations.of(instanceRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      reason: 'AmazonSSMManagedInstanceCore is the policy AWS documents as the minimum for a Systems Manager managed node; ' +
        'AWS keeps it in step with the agent\'s channels (ssmmessages, ec2messages), which a copied inline policy would not follow.',
    });
    new RescuePasswordPolicy(this, 'RescuePasswordPolicy', { roles: [instanceRole] });
    this.resetAccess.sessionManagerEncryption?.grantInstanceDecrypt(instanceRole);
    acknowledgeInlinePolicies(instanceRole);
    const instanceProfile = this.instanceProfile = new iam.InstanceProfile(this, 'WindowsInstanceProfile', { role: instanceRole });

    new CfnOutput(this, 'StateMachineArn', {
      description: 'Start a reset: aws stepfunctions start-execution --state-machine-arn <this> --input \'{"instanceId":"i-..."}\'',
      value: this.resetAccess.workflow.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'FleetStateMachineArn', {
      description: 'Reset many instances: cdk-ec2-reset-access fleet (<instance-id>... | --tag key=value), which reads this ARN from ' +
        'the SSM parameter /cdk-ec2-reset-access/fleet-state-machine-arn',
      value: this.fleetReset.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'WindowsInstanceProfileName', {
      description: 'Attach this instance profile to Windows instances that should be resettable online',
      value: instanceProfile.instanceProfileName,
    });
    new CfnOutput(this, 'TargetTag', {
      description: 'Instances must carry this tag (value true) to be reset',
      value: ResetWorkflow.DEFAULT_TARGET_TAG_KEY,
    });
  }
}
