/**
 * What the simulated account's own tests share: a fresh account with a subnet, a security group
 * and an instance profile to launch into, and short ways to call it and read it.
 */
import { Service, SimulatedAccount } from './account';
import { VirtualClock } from '../clock';
import { LATENCY } from '../latencies';

/** A fresh account at the rehearsal's epoch, with `subnet-a` (us-east-1a), `sg-helper` and the `helper` instance profile. */
export function newSimulatedAccount(): SimulatedAccount {
  const account = new SimulatedAccount(new VirtualClock());
  account.subnets.set('subnet-a', { availabilityZone: 'us-east-1a' });
  account.securityGroups.add('sg-helper');
  account.instanceProfiles.add('arn:aws:iam::123456789012:instance-profile/helper');
  return account;
}

/** The name of the error `fn` throws, or 'no error'. */
export function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).name;
  }
  return 'no error';
}

/** Calls and reads on the account `current()` returns (a test's `beforeEach` replaces it). */
export function accountHelpers(current: () => SimulatedAccount) {
  const call = (service: Service, operation: string, input: any = {}) => current().call(service, operation, input);
  const ec2 = (operation: string, input: any = {}) => call('ec2', operation, input);
  return {
    call,
    ec2,
    ssm: (operation: string, input: any = {}) => call('ssm', operation, input),
    asg: (operation: string, input: any = {}) => call('autoscaling', operation, input),
    ddb: (operation: string, input: any = {}) => call('dynamodb', operation, input),
    stateOf: (id: string) => ec2('DescribeInstances', { InstanceIds: [id] }).Reservations[0].Instances[0].State.Name,
    rootOf: (id: string) => current().volumeAt(id, current().instances.get(id)!.rootDeviceName)!,
    stopFully: (id: string) => {
      ec2('StopInstances', { InstanceIds: [id] });
      current().advance(LATENCY.windowsStop.seconds);
    },
  };
}
