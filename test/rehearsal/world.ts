/**
 * Targets for the scenarios: Windows instances as they are found in real accounts.
 */
import { SimInstance, SimulatedAccount, SimVolume } from './account';
import { AWS_MANAGED_POLICIES } from './iam/roles';

/** The tag the sample stack's workflow requires (ResetWorkflow.DEFAULT_TARGET_TAG_KEY = true). */
export const ALLOW_RESET = { 'cdk-ec2-reset-access:allow-reset': 'true' } as const;

export type TargetOptions = Parameters<SimulatedAccount['addInstance']>[0];

/**
 * The root device names Windows instances come with. Amazon EC2 User Guide, "Device names for volumes on
 * Amazon EC2 instances" (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/device_naming.html): the name
 * reserved for the root volume "Differs by AMI: /dev/sda1 or /dev/xvda"; its Windows table lists `/dev/sda1`
 * and `xvd*` names, written without `/dev/`. assumption: EC2 reports a device name the way it was given when
 * the AMI was registered (RegisterImage's RootDeviceName) or the volume attached, so an AMI registered with
 * `xvda` has instances whose RootDeviceName is `xvda`, and the workflow must reattach there, not at a name
 * it assumes. Every scenario that moves the root volume runs with each of them.
 */
export const WINDOWS_ROOT_DEVICE_NAMES = ['/dev/sda1', 'xvda', '/dev/xvda'] as const;

/** The key pair targets are launched with unless told otherwise (`keyName: undefined` for none). */
export const TARGET_KEY_PAIR = 'app-server-key';

/**
 * A Windows Server 2022 instance launched with a key pair, tagged for reset, in us-east-1a, not
 * SSM-managed, with its root at /dev/sda1, unless told otherwise. In an Auto Scaling group that does
 * not exist yet, the group is created tagged for reset too (as the README asks), with room below its
 * desired capacity (MinSize 0).
 */
export function windowsTarget(account: SimulatedAccount, o: TargetOptions = {}): SimInstance {
  return account.addInstance({
    keyName: TARGET_KEY_PAIR, autoScalingGroupTags: { ...ALLOW_RESET }, ...o, tags: { ...ALLOW_RESET, Name: 'app-server', ...(o.tags ?? {}) },
  });
}

/** Attaches a data volume (optionally encrypted with `kmsKeyId`) to the instance at `device`. */
export function attachDataVolume(account: SimulatedAccount, instance: SimInstance, o: { device: string; kmsKeyId?: string }): SimVolume {
  const volume = account.addVolume({ availabilityZone: instance.availabilityZone, kmsKeyId: o.kmsKeyId });
  volume.attachment = { instanceId: instance.instanceId, device: o.device, state: 'attached', deleteOnTermination: false, attachTime: instance.launchTime, transition: 0 };
  return volume;
}

/**
 * An SSM-managed, Online target (the online method can run), with the sample's instance profile
 * (AmazonSSMManagedInstanceCore and RescuePasswordPolicy: EC2Rescue may store the password).
 */
export function managedTarget(account: SimulatedAccount, o: TargetOptions = {}): SimInstance {
  return windowsTarget(account, { ssmAgent: true, instanceProfileArn: sampleInstanceProfile(account), ...o });
}

/** The sample stack's instance profile for Windows instances (WindowsInstanceProfile). */
export function sampleInstanceProfile(account: SimulatedAccount): string {
  const arn = [...account.iam.instanceProfileRoles.keys()].find(a => a.includes('WindowsInstanceProfile'));
  if (!arn) throw new Error('The sample stack has no WindowsInstanceProfile.');
  return arn;
}

/**
 * An instance profile whose role has only AmazonSSMManagedInstanceCore (what the Systems Manager
 * quick setup attaches): the instance is managed, but EC2Rescue may not store the password.
 */
export function ssmOnlyInstanceProfile(account: SimulatedAccount): string {
  const name = 'SsmOnlyInstanceRole';
  const roleArn = `arn:aws:iam::${account.accountId}:role/${name}`;
  const profileArn = `arn:aws:iam::${account.accountId}:instance-profile/SsmOnlyInstanceProfile`;
  if (!account.iam.roles.has(roleArn)) {
    account.iam.addRole({
      arn: roleArn,
      name,
      logicalId: name,
      policies: [{ name: 'aws-managed/AmazonSSMManagedInstanceCore', document: AWS_MANAGED_POLICIES.AmazonSSMManagedInstanceCore }],
    });
    account.iam.instanceProfileRoles.set(profileArn, roleArn);
  }
  return profileArn;
}
