import { Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { RescueVpc, ResetWorkflow } from '../../src';

/** Properties of a {@link DemoWindowsInstance}. */
export interface DemoWindowsInstanceProps {
  /** The network to put the instance in: its first rescue subnet, whose SSM and S3 endpoints it uses. */
  readonly rescueVpc: RescueVpc;
  /** The instance profile: Systems Manager core permissions plus `RescuePasswordPolicy`. */
  readonly instanceProfile: iam.IInstanceProfile;
}

/**
 * A small Windows instance to reset in an integration test: Windows Server 2022 (latest AMI, read from
 * the SSM public parameter at deploy time), t3.medium, an encrypted root, IMDSv2, no public IP, a
 * throwaway RSA key pair that the test owns (its private key is the `/ec2/keypair/<id>` parameter,
 * deleted with the stack), tagged so the reset workflow accepts it.
 *
 * It lives in the rescue VPC: isolated subnets whose endpoints (ssm, ssmmessages, ec2messages, S3
 * for the EC2Rescue package) are all the online method needs, so the test adds no NAT gateway or
 * internet gateway.
 */
export class DemoWindowsInstance extends Construct {
  public readonly instance: ec2.Instance;
  public readonly keyPair: ec2.KeyPair;

  constructor(scope: Construct, id: string, props: DemoWindowsInstanceProps) {
    super(scope, id);
    const { rescueVpc } = props;

    // GetPasswordData needs an RSA key pair (EC2 does not encrypt Windows passwords for ED25519 keys).
    this.keyPair = new ec2.KeyPair(this, 'KeyPair', { type: ec2.KeyPairType.RSA });

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: rescueVpc.vpc,
      description: 'Demo Windows instance: HTTPS to the Systems Manager endpoints and S3 only',
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(rescueVpc.endpointSecurityGroup, ec2.Port.tcp(443), 'HTTPS to the Systems Manager endpoints');
    securityGroup.addEgressRule(ec2.Peer.prefixList(rescueVpc.s3PrefixListId), ec2.Port.tcp(443),
      'HTTPS to S3 (EC2Rescue package) through the gateway endpoint');

    this.instance = new ec2.Instance(this, 'Instance', {
      vpc: rescueVpc.vpc,
      vpcSubnets: { subnets: [rescueVpc.subnets[0]] },
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.T3, ec2.InstanceSize.MEDIUM),
      machineImage: ec2.MachineImage.latestWindows(ec2.WindowsVersion.WINDOWS_SERVER_2022_ENGLISH_FULL_BASE),
      keyPair: this.keyPair,
      instanceProfile: props.instanceProfile,
      securityGroup,
      requireImdsv2: true,
      blockDevices: [{ deviceName: '/dev/sda1', volume: ec2.BlockDeviceVolume.ebs(30, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }) }],
    });
    Tags.of(this.instance).add(ResetWorkflow.DEFAULT_TARGET_TAG_KEY, 'true');
  }
}
