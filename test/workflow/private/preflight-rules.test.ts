import { ResetPlan, WorkflowConfig } from '../../../src/workflow/private/contracts';
import { PreflightError } from '../../../src/workflow/private/errors';
import { permissionFromSimulation } from '../../../src/workflow/private/online-permission';
import { AutoScalingGroupFacts, ExecutionFacts, TargetFacts, planReset } from '../../../src/workflow/private/preflight-rules';
import { validateRequest } from '../../../src/workflow/private/request';
import { CONFIG, CUSTOMER_KEY, EXECUTION_ARN, OTHER_EXECUTION_ARN, ROOT_VOLUME, TARGET } from '../fixtures';

const NOW = Date.parse('2026-11-28T09:00:00Z') / 1000;
const EXECUTION: ExecutionFacts = { executionArn: EXECUTION_ARN, executionName: 'run-1', startTime: '2026-11-28T09:00:00.123Z', nowEpochSeconds: NOW };

/** A Windows instance every rule accepts for the offline method. */
function facts(overrides: Partial<TargetFacts> = {}): TargetFacts {
  return {
    instanceId: TARGET,
    state: 'running',
    platform: 'windows',
    platformDetails: 'Windows',
    rootDeviceType: 'ebs',
    rootDeviceName: '/dev/sda1',
    productCodes: [],
    availabilityZone: 'eu-west-1a',
    tags: { Name: 'web' },
    shutdownBehavior: 'stop',
    rootVolume: { volumeId: ROOT_VOLUME, deleteOnTermination: true, encrypted: false },
    hasInstanceStore: false,
    autoAssignedPublicIps: [],
    keyName: 'ops-key',
    dataVolumes: [],
    helperInstanceTypesOffered: ['t3.medium', 't3a.medium', 'm5.large', 'm6i.large'],
    image: { name: 'Windows_Server-2022-English-Full-Base-2026.11.12', description: 'Microsoft Windows Server 2022 Full Locale English AMI' },
    ...overrides,
  };
}

function plan(input: Record<string, unknown>, target: TargetFacts = facts(), config: WorkflowConfig = CONFIG): ResetPlan {
  return planReset(validateRequest({ instanceId: TARGET, ...input }), target, EXECUTION, config);
}

function blockerOf(fn: () => unknown): PreflightError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PreflightError);
    return err as PreflightError;
  }
  throw new Error('expected a preflight blocker');
}

describe('planReset: the plan', () => {
  test('an eligible running instance gets an offline plan with everything later steps need', () => {
    // WHEN
    const result = plan({ method: 'offline', passwordEnabledAmi: true });

    // THEN
    expect(result).toEqual({
      instanceId: TARGET,
      method: 'offline',
      dryRun: false,
      executionArn: EXECUTION_ARN,
      executionName: 'run-1',
      availabilityZone: 'eu-west-1a',
      helperSubnetId: 'subnet-aaaa',
      originalState: 'running',
      rootDeviceName: '/dev/sda1',
      rootVolumeId: ROOT_VOLUME,
      rootDeleteOnTermination: true,
      manageStandby: false,
      keyName: 'ops-key',
      helperInstanceType: 't3.medium',
      passwordEnabledAmi: true,
      backupImageName: `ResetAccess-Pre-Script-Backup_${TARGET}_2026-11-28-09-00-00`,
      passwordEnabledImageName: `ResetAccess-Post-Script-Backup_${TARGET}_2026-11-28-09-00-00`,
      targetWindowsVersion: '2022',
      consequences: [
        expect.stringMatching(/is stopped, its root volume vol-0123456789abcdef0 is attached to a helper instance .* started again/),
        expect.stringMatching(/backup image ResetAccess-Pre-Script-Backup_.* is created before the volume is touched; it is kept/),
        // AWS's EC2Launch v2 guide: deleting .run-once runs every task with frequency once again.
        expect.stringMatching(/EC2Launch v2, its next boot runs every task set to run once again/),
        expect.stringMatching(/has not stopped 15 minutes after the stop request, it is force-stopped \(StopInstances Force\)/),
        expect.stringMatching(/commands are cancelled and the helper is stopped \(force-stopped after 5 minutes if its stop hangs\).* without its OS shutdown/),
        expect.stringMatching(/password-enabled image ResetAccess-Post-Script-Backup_.* launch it with a new key pair/),
      ],
    });
  });

  test('with a backup image retention, the plan says the backup goes that many days after a success and stays after a failure', () => {
    // WHEN
    const result = plan({ method: 'offline' }, facts(), { ...CONFIG, backupImageRetentionDays: 14 });

    // THEN
    expect(result.consequences[1]).toMatch(
      /backup image ResetAccess-Pre-Script-Backup_\S+ is created before the volume is touched; if the reset succeeds it is deregistered \(and its snapshots deleted\) 14 days later, otherwise it is kept until you delete it\./);
  });

  test('a stopped instance stays stopped (and is not force-stopped)', () => {
    // WHEN
    const result = plan({}, facts({ state: 'stopped' }));

    // THEN
    expect(result.originalState).toBe('stopped');
    expect(result.method).toBe('offline');
    expect(result.consequences[0]).toMatch(/stays stopped/);
    expect(result.consequences.join(' ')).not.toMatch(/force-stopped \(StopInstances Force\)/);
  });

  test('a lock the reconciler gave up on (no TTL) refuses a new reset with what to do', () => {
    const err = blockerOf(() => plan({}, facts({ lock: { executionArn: OTHER_EXECUTION_ARN, expiresAtEpochSeconds: Number.POSITIVE_INFINITY } })));
    expect(err).toMatchObject({ name: 'ResetInProgress', message: expect.stringMatching(/reconciler gave up: put the instance back by hand .* then delete its item from the lock table/) });
  });

  test('dryRun is carried in the plan', () => {
    expect(plan({ dryRun: true }).dryRun).toBe(true);
  });

  test('the Windows version comes from the description when the name does not say', () => {
    // WHEN
    const result = plan({}, facts({ image: { name: 'golden-image-42', description: 'Built from Microsoft Windows Server 2019 Base' } }));

    // THEN
    expect(result.targetWindowsVersion).toBe('2019');
  });

  test('an unknown image leaves the Windows version out', () => {
    expect(plan({}, facts({ image: undefined }))).not.toHaveProperty('targetWindowsVersion');
  });
});

describe('planReset: method choice', () => {
  const online = { ssm: { pingStatus: 'Online', platformType: 'Windows' } };

  test('auto uses online when the instance is SSM-managed, Online and Windows', () => {
    // WHEN
    const result = plan({ method: 'auto', passwordEnabledAmi: true }, facts(online));

    // THEN
    expect(result).toMatchObject({ method: 'online', helperSubnetId: '', manageStandby: false, passwordEnabledAmi: false });
    expect(result.consequences.join(' ')).toMatch(/not stopped.*\/EC2Rescue\/Passwords\/i-0123456789abcdef0/);
  });

  test.each([
    ['not registered', {}],
    ['ConnectionLost', { ssm: { pingStatus: 'ConnectionLost', platformType: 'Windows' } }],
    ['Online but reporting Linux', { ssm: { pingStatus: 'Online', platformType: 'Linux' } }],
  ])('auto uses offline when the instance is %s', (_, ssm) => {
    expect(plan({ method: 'auto' }, facts(ssm)).method).toBe('offline');
  });

  test('online requested on an instance that is not Online fails with NotManagedOnline', () => {
    // WHEN
    const err = blockerOf(() => plan({ method: 'online' }, facts({ ssm: { pingStatus: 'ConnectionLost', platformType: 'Windows' } })));

    // THEN
    expect(err.name).toBe('NotManagedOnline');
    expect(err.message).toMatch(/is ConnectionLost in Systems Manager.*use method offline/);
  });

  test('online requested on a stopped instance fails with NotManagedOnline', () => {
    expect(blockerOf(() => plan({ method: 'online' }, facts({ state: 'stopped', ...online }))).message).toMatch(/is stopped/);
  });

  describe('when the instance\'s role may not store the password (IAM\'s policy simulator said so)', () => {
    const denied = {
      ...online,
      onlinePasswordStore: permissionFromSimulation('arn:aws:iam::123456789012:role/App', [
        { EvalActionName: 'ssm:PutParameter', EvalResourceName: 'arn:aws:ssm:us-east-1:123456789012:parameter/EC2Rescue/Passwords/i-0123456789abcdef0', EvalDecision: 'implicitDeny' },
      ]),
    };

    test('auto falls back to offline, and the plan says why and what to attach', () => {
      // WHEN
      const result = plan({ method: 'auto' }, facts(denied));

      // THEN
      expect(result.method).toBe('offline');
      expect(result.consequences.find(c => c.startsWith('Method auto'))).toMatch(/^Method auto chose offline .*role\/App may not store .*ssm:PutParameter .*implicitDeny.*attach the RescuePasswordPolicy managed policy/);
    });

    test('online is refused with InstanceRoleCannotStorePassword, naming RescuePasswordPolicy', () => {
      // WHEN
      const err = blockerOf(() => plan({ method: 'online' }, facts(denied)));

      // THEN
      expect(err.name).toBe('InstanceRoleCannotStorePassword');
      expect(err.message).toMatch(/cannot be reset online: its role .* attach the RescuePasswordPolicy managed policy to the role, or use method offline\.$/);
    });

    test('allowed: auto stays online', () => {
      expect(plan({ method: 'auto' }, facts({ ...online, onlinePasswordStore: { allowed: true } })).method).toBe('online');
    });
  });

  test('offline requested on an Online instance is honoured', () => {
    expect(plan({ method: 'offline' }, facts(online)).method).toBe('offline');
  });

  test('the online method needs none of the offline-only checks', () => {
    // GIVEN: everything that blocks the offline method
    const risky = facts({
      ...online,
      instanceLifecycle: 'spot',
      productCodes: [{ id: 'abc123', type: 'marketplace' }],
      shutdownBehavior: 'terminate',
      availabilityZone: 'eu-west-1c',
      autoAssignedPublicIps: ['203.0.113.10'],
      hasInstanceStore: true,
      autoScaling: { groupName: 'web-asg', lifecycleState: 'InService' },
      rootVolume: { volumeId: ROOT_VOLUME, deleteOnTermination: true, encrypted: true, kmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/other' },
    });

    // WHEN
    const result = plan({ method: 'online' }, risky);

    // THEN
    expect(result.method).toBe('online');
    expect(result.autoScalingGroupName).toBe('web-asg');
  });
});

describe('planReset: blockers for every method', () => {
  test.each(['terminated', 'shutting-down'])('a %s instance fails with InstanceStateUnsupported', state => {
    const err = blockerOf(() => plan({}, facts({ state })));
    expect(err.name).toBe('InstanceStateUnsupported');
    expect(err.message).toMatch(new RegExp(`is ${state} and cannot be reset`));
  });

  test.each(['pending', 'stopping'])('a %s instance fails with InstanceStateUnsupported: retry in a minute', state => {
    const err = blockerOf(() => plan({}, facts({ state })));
    expect(err.name).toBe('InstanceStateUnsupported');
    expect(err.message).toMatch(/retry in a minute/);
  });

  test('a Linux instance fails with NotWindows', () => {
    const err = blockerOf(() => plan({}, facts({ platform: undefined, platformDetails: 'Linux/UNIX' })));
    expect(err.name).toBe('NotWindows');
    expect(err.message).toMatch(/not a Windows instance \(platform Linux\/UNIX\)/);
  });

  test('Windows with SQL Server is Windows', () => {
    expect(plan({}, facts({ platform: undefined, platformDetails: 'Windows with SQL Server Standard' })).method).toBe('offline');
  });

  describe('target selector', () => {
    const selective = { ...CONFIG, targetTag: { key: 'reset-access', values: ['allowed', 'yes'] } };

    test('an instance without the tag fails with TargetNotAllowed naming the tag', () => {
      const err = blockerOf(() => plan({}, facts(), selective));
      expect(err.name).toBe('TargetNotAllowed');
      expect(err.message).toMatch(/tag it reset-access=one of allowed, yes/);
    });

    test('an instance with another value fails with TargetNotAllowed', () => {
      expect(blockerOf(() => plan({}, facts({ tags: { 'reset-access': 'no' } }), selective)).name).toBe('TargetNotAllowed');
    });

    test('an instance with an allowed value passes', () => {
      expect(plan({}, facts({ tags: { 'reset-access': 'yes' } }), selective).method).toBe('offline');
    });

    test('without a selector every instance passes', () => {
      expect(plan({}, facts({ tags: {} })).method).toBe('offline');
    });
  });

  describe('lock', () => {
    test('a live lock of another execution fails with ResetInProgress naming it', () => {
      const err = blockerOf(() => plan({}, facts({ lock: { executionArn: OTHER_EXECUTION_ARN, expiresAtEpochSeconds: NOW + 60 } })));
      expect(err.name).toBe('ResetInProgress');
      expect(err.message).toContain(OTHER_EXECUTION_ARN);
    });

    test('an expired lock of another execution does not block', () => {
      expect(plan({}, facts({ lock: { executionArn: OTHER_EXECUTION_ARN, expiresAtEpochSeconds: NOW - 1 } })).method).toBe('offline');
    });

    test('this execution\'s own lock (a retried preflight) does not block', () => {
      expect(plan({}, facts({ lock: { executionArn: EXECUTION_ARN, expiresAtEpochSeconds: NOW + 60 } })).method).toBe('offline');
    });
  });
});

describe('planReset: offline-only blockers', () => {
  test('an instance-store root fails with RootNotEbs', () => {
    const err = blockerOf(() => plan({}, facts({ rootDeviceType: 'instance-store', rootVolume: undefined })));
    expect(err.name).toBe('RootNotEbs');
    expect(err.message).toMatch(/only the online method/);
  });

  test('a Spot Instance fails with SpotInstance', () => {
    expect(blockerOf(() => plan({}, facts({ instanceLifecycle: 'spot' }))).name).toBe('SpotInstance');
  });

  test('a Capacity Block instance is not Spot', () => {
    expect(plan({}, facts({ instanceLifecycle: 'capacity-block' })).method).toBe('offline');
  });

  test('a Marketplace product code fails with MarketplaceProductCode naming it', () => {
    const err = blockerOf(() => plan({}, facts({ productCodes: [{ id: 'abc123', type: 'marketplace' }] })));
    expect(err.name).toBe('MarketplaceProductCode');
    expect(err.message).toContain('abc123');
  });

  test('a devpay product code is not Marketplace', () => {
    expect(plan({}, facts({ productCodes: [{ id: 'dev1', type: 'devpay' }] })).method).toBe('offline');
  });

  test('shutdown behaviour terminate fails with ShutdownBehaviorTerminate and the command that fixes it', () => {
    const err = blockerOf(() => plan({}, facts({ shutdownBehavior: 'terminate' })));
    expect(err.name).toBe('ShutdownBehaviorTerminate');
    expect(err.message).toContain(`aws ec2 modify-instance-attribute --instance-id ${TARGET} --instance-initiated-shutdown-behavior stop`);
  });

  describe('root encryption', () => {
    const encrypted = (kmsKeyId: string, kmsKeyManager?: string) =>
      facts({
        rootVolume: { volumeId: ROOT_VOLUME, deleteOnTermination: true, encrypted: true, kmsKeyId, ...(kmsKeyManager ? { kmsKeyManager } : {}) },
      });

    test('a customer key not allowed fails with EncryptedRootKeyNotAllowed naming the key', () => {
      const other = 'arn:aws:kms:eu-west-1:111122223333:key/99999999-0000-0000-0000-000000000000';
      const err = blockerOf(() => plan({}, encrypted(other, 'CUSTOMER')));
      expect(err.name).toBe('EncryptedRootKeyNotAllowed');
      expect(err.message).toContain(other);
      expect(err.message).toMatch(/add that key ARN to the ResetWorkflow's allowed volume keys/);
    });

    test('an allowed customer key passes', () => {
      expect(plan({}, encrypted(CUSTOMER_KEY, 'CUSTOMER')).method).toBe('offline');
    });

    test('an allowed key passes even when its manager is unknown', () => {
      expect(plan({}, encrypted(CUSTOMER_KEY)).method).toBe('offline');
    });

    test('an AWS managed key passes', () => {
      expect(plan({}, encrypted('arn:aws:kms:eu-west-1:111122223333:key/aws-ebs', 'AWS')).method).toBe('offline');
    });

    test('a key whose manager is unknown and that is not allowed is refused', () => {
      expect(blockerOf(() => plan({}, encrypted('arn:aws:kms:eu-west-1:111122223333:key/unknown'))).name).toBe('EncryptedRootKeyNotAllowed');
    });
  });

  test('an AZ without a helper subnet fails with AzNotCovered naming the AZ and how to add it', () => {
    const err = blockerOf(() => plan({}, facts({ availabilityZone: 'eu-west-1c' })));
    expect(err.name).toBe('AzNotCovered');
    expect(err.message).toMatch(/is in eu-west-1c, .* add a subnet in eu-west-1c to the rescue VPC/);
  });

  test('the helper subnet is the one of the target\'s AZ', () => {
    expect(plan({}, facts({ availabilityZone: 'eu-west-1b' })).helperSubnetId).toBe('subnet-bbbb');
  });

  describe('key pair (GetPasswordData needs one)', () => {
    test('no key pair: offline fails with NoKeyPair, saying what to do', () => {
      const err = blockerOf(() => plan({ method: 'offline' }, facts({ keyName: undefined })));
      expect(err.name).toBe('NoKeyPair');
      expect(err.message).toMatch(/without a key pair.*set passwordEnabledAmi.*online method/);
    });

    test('no key pair with passwordEnabledAmi: planned without a key name, saying the password is not waited for', () => {
      const result = plan({ method: 'offline', passwordEnabledAmi: true }, facts({ keyName: undefined }));
      expect(result).not.toHaveProperty('keyName');
      expect(result.consequences.join(' ')).toMatch(/has no key pair, so GetPasswordData will not return its new password and the workflow does not wait for it/);
    });

    test('no key pair online: the online method does not need one', () => {
      expect(plan({ method: 'auto' }, facts({ keyName: undefined, ssm: { pingStatus: 'Online', platformType: 'Windows' } })).method).toBe('online');
    });
  });

  describe('other attached volumes\' keys', () => {
    const data = (kmsKeyId: string, kmsKeyManager?: string) => facts({
      dataVolumes: [{ volumeId: 'vol-0data', deviceName: 'xvdb', encrypted: true, kmsKeyId, ...(kmsKeyManager ? { kmsKeyManager } : {}) }],
    });

    test('a data volume with a customer key not allowed fails with EncryptedVolumeKeyNotAllowed naming volume, device and key', () => {
      const err = blockerOf(() => plan({}, data('arn:aws:kms:eu-west-1:111122223333:key/other', 'CUSTOMER')));
      expect(err.name).toBe('EncryptedVolumeKeyNotAllowed');
      expect(err.message).toMatch(/vol-0data \(xvdb, key arn:aws:kms:eu-west-1:111122223333:key\/other\).*allowed volume keys/);
    });

    test.each([
      ['an allowed customer key', CUSTOMER_KEY, 'CUSTOMER'],
      ['an AWS managed key', 'arn:aws:kms:eu-west-1:111122223333:key/aws-ebs', 'AWS'],
    ])('a data volume with %s is fine', (_, key, manager) => {
      expect(plan({}, data(key, manager)).method).toBe('offline');
    });

    test('the root keeps its own error name (EncryptedRootKeyNotAllowed) when both are not allowed', () => {
      const target = { ...data('arn:aws:kms:eu-west-1:111122223333:key/other'), rootVolume: { ...facts().rootVolume!, encrypted: true, kmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/root' } };
      expect(blockerOf(() => plan({}, target)).name).toBe('EncryptedRootKeyNotAllowed');
    });
  });

  describe('helper instance type offered in the AZ', () => {
    test('the configured type when it is offered', () => {
      expect(plan({}).helperInstanceType).toBe('t3.medium');
    });

    test('the first fallback offered, in the configured order, said in the consequences', () => {
      const result = plan({}, facts({ helperInstanceTypesOffered: ['m6i.large', 'm5.large'] }));
      expect(result.helperInstanceType).toBe('m5.large');
      expect(result.consequences.join(' ')).toMatch(/helper is a m5.large: t3.medium is not offered in eu-west-1a/);
    });

    test('none offered fails with HelperInstanceTypeNotOffered naming the types and the AZ', () => {
      const err = blockerOf(() => plan({}, facts({ helperInstanceTypesOffered: ['c5.large'] })));
      expect(err.name).toBe('HelperInstanceTypeNotOffered');
      expect(err.message).toMatch(/t3.medium, t3a.medium, m5.large, m6i.large is offered in eu-west-1a/);
    });

    test('the online method needs no helper type', () => {
      const result = plan({}, facts({ helperInstanceTypesOffered: [], ssm: { pingStatus: 'Online', platformType: 'Windows' } }));
      expect(result).toMatchObject({ method: 'online', helperInstanceType: '' });
    });
  });

  describe('Auto Scaling', () => {
    const TAG = { 'cdk-ec2-reset-access:allow-reset': 'true' };
    const member = (lifecycleState: string, group: AutoScalingGroupFacts = { minSize: 0, maxSize: 4, desiredCapacity: 2, tags: TAG }) =>
      facts({ tags: { Name: 'web', ...TAG }, autoScaling: { groupName: 'web-asg', lifecycleState, group } });
    const tagged = { ...CONFIG, targetTag: { key: 'cdk-ec2-reset-access:allow-reset', values: ['true'] } };
    const atMinimum: AutoScalingGroupFacts = { minSize: 1, maxSize: 1, desiredCapacity: 1, tags: TAG };

    test('a group without the target tag fails with AutoScalingGroupNotAllowed before anything else about the group', () => {
      const err = blockerOf(() => plan({}, member('InService', { ...atMinimum, tags: {} }), tagged));
      expect(err.name).toBe('AutoScalingGroupNotAllowed');
      expect(err.message).toMatch(/lacks the tag cdk-ec2-reset-access:allow-reset=true.*create-or-update-tags.*or put the instance into Standby yourself/);
    });

    test('a tagged group passes the tag check; without a target tag (allowAnyInstance) nothing is checked', () => {
      expect(plan({ acknowledge: ['auto-scaling-standby'] }, member('InService'), tagged).manageStandby).toBe(true);
      expect(plan({ acknowledge: ['auto-scaling-standby'] }, member('InService', { ...atMinimum, minSize: 0, tags: {} })).manageStandby).toBe(true);
    });

    test('a member in Standby needs nothing of its group, tag included', () => {
      expect(plan({}, member('Standby', { ...atMinimum, tags: {} }), tagged).manageStandby).toBe(false);
    });

    test('a group at its minimum fails with AutoScalingGroupAtMinimum, naming the three ways out', () => {
      const err = blockerOf(() => plan({ acknowledge: ['auto-scaling-standby'] }, member('InService', atMinimum)));
      expect(err.name).toBe('AutoScalingGroupAtMinimum');
      expect(err.message).toMatch(/MinSize 1, desired capacity 1.*add "auto-scaling-min-size" to acknowledge.*lower MinSize yourself.*Standby yourself/);
    });

    test('a group at its minimum, acknowledged: MinSize lowered by one for the reset and raised back, in the plan and its consequences', () => {
      const result = plan({ acknowledge: ['auto-scaling-standby', 'auto-scaling-min-size'] }, member('InService', { ...atMinimum, minSize: 2, maxSize: 3, desiredCapacity: 2 }));
      expect(result).toMatchObject({ manageStandby: true, minSizeLowering: { from: 2, to: 1 } });
      expect(result.consequences.join(' ')).toMatch(/MinSize of web-asg is lowered from 2 to 1 for the reset \(journaled\) and raised back to 2/);
    });

    test('a group with room below its desired capacity needs no MinSize change', () => {
      const result = plan({ acknowledge: ['auto-scaling-standby', 'auto-scaling-min-size'] }, member('InService'));
      expect(result).not.toHaveProperty('minSizeLowering');
    });

    test('an InService member without the acknowledgement fails with AutoScalingMember', () => {
      const err = blockerOf(() => plan({}, member('InService')));
      expect(err.name).toBe('AutoScalingMember');
      expect(err.message).toMatch(/add "auto-scaling-standby" to acknowledge/);
    });

    test('an InService member with the acknowledgement is put into Standby by the workflow', () => {
      // WHEN
      const result = plan({ acknowledge: ['auto-scaling-standby'] }, member('InService'));

      // THEN
      expect(result).toMatchObject({ manageStandby: true, autoScalingGroupName: 'web-asg' });
      expect(result.consequences.join(' ')).toMatch(/put into Standby in the Auto Scaling group web-asg/);
    });

    test('a member already in Standby needs no acknowledgement and is left in Standby', () => {
      expect(plan({}, member('Standby'))).toMatchObject({ manageStandby: false, autoScalingGroupName: 'web-asg' });
    });

    test.each(['Pending', 'Terminating', 'EnteringStandby'])('a member that is %s fails with AutoScalingMember', state => {
      const err = blockerOf(() => plan({ acknowledge: ['auto-scaling-standby'] }, member(state)));
      expect(err.message).toMatch(new RegExp(`is ${state} .*retry once it is InService`));
    });

    test('a non-member has no group in its plan', () => {
      expect(plan({})).not.toHaveProperty('autoScalingGroupName');
    });
  });

  describe('acknowledgements', () => {
    test('an auto-assigned public IPv4 needs public-ip-release', () => {
      const err = blockerOf(() => plan({}, facts({ autoAssignedPublicIps: ['203.0.113.10'] })));
      expect(err.name).toBe('AcknowledgementRequired');
      expect(err.message).toMatch(/add "public-ip-release" \(its public IPv4 address 203.0.113.10 changes\) to acknowledge/);
    });

    test('with public-ip-release the plan says the address changes', () => {
      const result = plan({ acknowledge: ['public-ip-release'] }, facts({ autoAssignedPublicIps: ['203.0.113.10'] }));
      expect(result.consequences.join(' ')).toMatch(/203.0.113.10 is released/);
    });

    test('instance-store volumes need instance-store-data-loss', () => {
      const err = blockerOf(() => plan({}, facts({ hasInstanceStore: true })));
      expect(err.name).toBe('AcknowledgementRequired');
      expect(err.message).toMatch(/instance-store-data-loss/);
    });

    test('both missing are named in one message', () => {
      const err = blockerOf(() => plan({ acknowledge: [] }, facts({ hasInstanceStore: true, autoAssignedPublicIps: ['203.0.113.10'] })));
      expect(err.message).toMatch(/"public-ip-release" .* and "instance-store-data-loss"/);
    });

    test('with instance-store-data-loss the plan says the data is erased', () => {
      const result = plan({ acknowledge: ['instance-store-data-loss'] }, facts({ hasInstanceStore: true }));
      expect(result.consequences.join(' ')).toMatch(/instance-store volumes is erased/);
    });

    test('a stopped instance (no public IP any more) needs no acknowledgement', () => {
      expect(plan({}, facts({ state: 'stopped', autoAssignedPublicIps: [] })).method).toBe('offline');
    });
  });
});

describe('every blocker message is one sentence that says what to do', () => {
  test.each<[string, Partial<TargetFacts>, Record<string, unknown>]>([
    ['NotWindows', { platform: undefined, platformDetails: 'Linux/UNIX' }, {}],
    ['RootNotEbs', { rootDeviceType: 'instance-store', rootVolume: undefined }, {}],
    ['SpotInstance', { instanceLifecycle: 'spot' }, {}],
    ['AzNotCovered', { availabilityZone: 'eu-west-1c' }, {}],
    ['AcknowledgementRequired', { hasInstanceStore: true }, {}],
    ['NoKeyPair', { keyName: undefined }, {}],
    ['HelperInstanceTypeNotOffered', { helperInstanceTypesOffered: [] }, {}],
    ['EncryptedVolumeKeyNotAllowed', { dataVolumes: [{ volumeId: 'vol-0data', deviceName: 'xvdb', encrypted: true, kmsKeyId: 'arn:aws:kms:eu-west-1:1:key/x' }] }, {}],
    ['AutoScalingGroupAtMinimum', { autoScaling: { groupName: 'web', lifecycleState: 'InService', group: { minSize: 1, maxSize: 1, desiredCapacity: 1, tags: {} } } },
      { acknowledge: ['auto-scaling-standby'] }],
  ])('%s', (name, target, input) => {
    const err = blockerOf(() => plan(input, facts(target)));
    expect(err.name).toBe(name);
    expect(err.message).toMatch(/^[A-Z].*\.$/);
    expect(err.message.split(/\.\s+[A-Z]/)).toHaveLength(1);
  });
});
