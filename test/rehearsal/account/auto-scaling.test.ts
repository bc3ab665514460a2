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
    test('a member carries the aws:autoscaling:groupName tag, as DescribeInstances shows it; an instance outside a group does not', () => {
      const member = account.addInstance({ autoScalingGroup: 'web', tags: { team: 'blue' } });
      const loner = account.addInstance({ tags: { team: 'blue' } });
      const tagsOf = (instanceId: string) => account.call('ec2', 'DescribeInstances', { InstanceIds: [instanceId] })
        .Reservations[0].Instances[0].Tags as Array<{ Key: string; Value: string }>;
      expect(tagsOf(member.instanceId)).toEqual(expect.arrayContaining([{ Key: 'aws:autoscaling:groupName', Value: 'web' }, { Key: 'team', Value: 'blue' }]));
      expect(tagsOf(loner.instanceId).map(t => t.Key)).toEqual(['team']);
    });

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

    test('EnterStandby with the capacity decremented is refused below MinSize (ValidationError); lowering MinSize lets it through', () => {
      // GIVEN a single-instance group
      account.addAutoScalingGroup({ name: 'web', minSize: 1, maxSize: 1 });
      const { instanceId } = account.addInstance({ autoScalingGroup: 'web' });
      const standby = () => asg('EnterStandby', { AutoScalingGroupName: 'web', InstanceIds: [instanceId], ShouldDecrementDesiredCapacity: true });

      // THEN
      expect(errorOf(standby)).toBe('ValidationError');
      expect(asg('DescribeAutoScalingInstances', { InstanceIds: [instanceId] }).AutoScalingInstances[0].LifecycleState).toBe('InService');
      asg('UpdateAutoScalingGroup', { AutoScalingGroupName: 'web', MinSize: 0 });
      standby();
      expect(asg('DescribeAutoScalingGroups', { AutoScalingGroupNames: ['web'] }).AutoScalingGroups[0]).toMatchObject({ MinSize: 0, MaxSize: 1, DesiredCapacity: 0 });
    });

    test('UpdateAutoScalingGroup: MinSize above the desired capacity raises the capacity (instances launch); MinSize above MaxSize is refused', () => {
      account.addAutoScalingGroup({ name: 'web', minSize: 0, maxSize: 2 });
      account.addInstance({ autoScalingGroup: 'web' });
      expect(errorOf(() => asg('UpdateAutoScalingGroup', { AutoScalingGroupName: 'web', MinSize: 3 }))).toBe('ValidationError');
      asg('UpdateAutoScalingGroup', { AutoScalingGroupName: 'web', MinSize: 2 });
      expect(account.autoScalingGroups.get('web')).toMatchObject({ minSize: 2, desiredCapacity: 2 });
      expect(account.moments.some(m => m.what === 'asg-capacity:web:2')).toBe(true);
      expect(errorOf(() => asg('UpdateAutoScalingGroup', { AutoScalingGroupName: 'nope', MinSize: 0 }))).toBe('ValidationError');
    });

    test('DescribeAutoScalingGroups returns sizes and tags; an unknown name is left out', () => {
      account.addAutoScalingGroup({ name: 'web', minSize: 1, maxSize: 3, tags: { team: 'blue' } });
      account.addInstance({ autoScalingGroup: 'web' });
      expect(asg('DescribeAutoScalingGroups', { AutoScalingGroupNames: ['web', 'nope'] }).AutoScalingGroups).toEqual([expect.objectContaining({
        AutoScalingGroupName: 'web', MinSize: 1, MaxSize: 3, DesiredCapacity: 1, Tags: [expect.objectContaining({ Key: 'team', Value: 'blue' })],
      })]);
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
