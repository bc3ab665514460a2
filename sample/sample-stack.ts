import { CfnOutput, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { RescuePasswordPolicy } from '../src';

/**
 * The sample deployment: everything a platform team needs to regain access to the
 * Windows instances of one account and Region.
 */
export class SampleStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    // An instance role for Windows instances that should be resettable online:
    // Systems Manager core permissions plus the EC2Rescue password write.
    const instanceRole = new iam.Role(this, 'WindowsInstanceRole', {
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
    const instanceProfile = new iam.InstanceProfile(this, 'WindowsInstanceProfile', { role: instanceRole });

    new CfnOutput(this, 'WindowsInstanceProfileName', {
      description: 'Attach this instance profile to Windows instances that should be resettable online',
      value: instanceProfile.instanceProfileName,
    });
  }
}
