import { SimulatedAccount } from './account';
import { accountHelpers, errorOf, newSimulatedAccount } from './fixture';
import { LATENCY } from '../latencies';

/**
 * Auto Scaling: Standby and the desired capacity, the health check that replaces a stopped member.
 */
describe('simulated account: Auto Scaling', () => {
  let account: SimulatedAccount;
  beforeEach(() => {
    account = newSimulatedAccount();
  });
  const { asg, stateOf, stopFully } = accountHelpers(() => account);

  describe('Auto Scaling', () => {
    test('EnterStandby only from InService, decrementing the desired capacity; ExitStandby only from Standby, incrementing it', () => {
      const { instanceId } = account.addInstance({ autoScalingGroup: 'web' });
      expect(errorOf(() => asg('ExitStandby', { AutoScalingGroupName: 'web', InstanceIds: [instanceId] }))).toBe('ValidationError');
      asg('EnterStandby', { AutoScalingGroupName: 'web', InstanceIds: [instanceId], ShouldDecrementDesiredCapacity: true });
      expect(account.autoScalingGroups.get('web')!.desiredCapacity).toBe(0);
      expect(errorOf(() => asg('EnterStandby', { AutoScalingGroupName: 'web', InstanceIds: [instanceId], ShouldDecrementDesiredCapacity: true }))).toBe('ValidationError');
      account.advance(LATENCY.enterStandby.seconds);
      const lifecycle = () => asg('DescribeAutoScalingInstances', { InstanceIds: [instanceId] }).AutoScalingInstances[0].LifecycleState;
      expect(lifecycle()).toBe('Standby');
      asg('ExitStandby', { AutoScalingGroupName: 'web', InstanceIds: [instanceId] });
      expect(lifecycle()).toBe('Pending');
      account.advance(LATENCY.exitStandby.seconds);
      expect(lifecycle()).toBe('InService');
      expect(account.autoScalingGroups.get('web')!.desiredCapacity).toBe(1);
    });

    test('a stopped InService member fails its health check and is replaced (terminated); in Standby it is kept', () => {
      const inService = account.addInstance({ autoScalingGroup: 'web' });
      const standby = account.addInstance({ autoScalingGroup: 'web', autoScalingLifecycle: 'Standby' });
      stopFully(inService.instanceId);
      stopFully(standby.instanceId);
      account.advance(120);
      expect(stateOf(inService.instanceId)).toBe('terminated');
      expect(stateOf(standby.instanceId)).toBe('stopped');
    });
  });
});
