import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, DescribeInstanceTypesCommand, EC2Client, Instance } from '@aws-sdk/client-ec2';
import { GetServiceQuotaCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { mockClient } from 'aws-sdk-client-mock';
import { ERRORS, helperInstanceTypesFor } from '../../../src/workflow/private/contracts';
import { DEFAULT_FLEET_BOUNDS, standardOnDemandVcpus } from '../../../src/workflow/private/fleet-plan';
import { FLEET_CONFIG_ENV, FleetConfig, FleetPlanResult, validateFleetRequest } from '../../../src/workflow/private/fleet-request';
import { handler as plan } from '../../../src/workflow/steps/fleet-plan.lambda';
import { handler as summarize } from '../../../src/workflow/steps/fleet-summary.lambda';
import { awsError } from '../fixtures';

const ec2 = mockClient(EC2Client);
const asg = mockClient(AutoScalingClient);
const quotas = mockClient(ServiceQuotasClient);

/** As FleetReset writes it for the default workflow: t3.medium and its fallbacks, no helperVcpus override. */
const CONFIG: FleetConfig = { bounds: DEFAULT_FLEET_BOUNDS, helperInstanceTypes: helperInstanceTypesFor('t3.medium'), minutesPerReset: 11 };

/** DescribeInstanceTypes' answer for these types and vCPUs (only the types the Region has). */
function typesWithVcpus(vcpus: Record<string, number>) {
  return {
    InstanceTypes: Object.entries(vcpus).map(([InstanceType, DefaultVCpus]) => ({ InstanceType: InstanceType as never, VCpuInfo: { DefaultVCpus } })),
  };
}

function instance(n: number, az: string, extra: Partial<Instance> = {}): Instance {
  return { InstanceId: `i-${String(n).padStart(17, '0')}`, Placement: { AvailabilityZone: az }, State: { Name: 'running' }, ...extra };
}

beforeEach(() => {
  ec2.reset();
  asg.reset();
  quotas.reset();
  process.env[FLEET_CONFIG_ENV] = JSON.stringify(CONFIG);
  quotas.on(GetServiceQuotaCommand).resolves({ Quota: { Value: 64 } });
  asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
  ec2.on(DescribeInstanceTypesCommand).resolves(typesWithVcpus({ 't3.medium': 2, 't3a.medium': 2, 'm5.large': 2, 'm6i.large': 2 }));
});

describe('fleet-plan step', () => {
  test('a tag selector is resolved now, recorded, and leaves terminated instances out', async () => {
    // GIVEN three tagged instances, one terminated, and 8 vCPUs already running
    ec2.on(DescribeInstancesCommand, { Filters: [{ Name: 'tag:team', Values: ['web'] }] }).resolves({
      Reservations: [{ Instances: [instance(1, 'eu-west-1a'), instance(2, 'eu-west-1b'), instance(3, 'eu-west-1a', { State: { Name: 'terminated' } })] }],
    });
    ec2.on(DescribeInstancesCommand, { Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running'] }] }).resolves({
      Reservations: [{
        Instances: [
          { InstanceType: 'm5.xlarge', CpuOptions: { CoreCount: 2, ThreadsPerCore: 2 } },
          { InstanceType: 't3.large', CpuOptions: { CoreCount: 1, ThreadsPerCore: 2 } },
          { InstanceType: 'c5.large', InstanceLifecycle: 'spot', CpuOptions: { CoreCount: 1, ThreadsPerCore: 2 } },
        ],
      }],
    });

    // WHEN
    const result = await plan({ request: { targets: { tagKey: 'team', tagValues: ['web'] }, acknowledge: ['public-ip-release'] } });

    // THEN
    expect(result.selection).toBe('tag team=web');
    expect(result.targets.map(t => t.instanceId)).toEqual(['i-00000000000000001', 'i-00000000000000002']);
    // 64 - 6 vCPUs in use (the Spot instance does not count) = room for 29 helpers of 2 vCPUs, as EC2 reports the helper types
    expect(result.plan.helperBound).toBe(29);
    expect(result.plan).toMatchObject({ helperVcpus: 2, helperVcpusSource: 'ec2' });
    expect(ec2).toHaveReceivedCommandWith(DescribeInstanceTypesCommand, {
      Filters: [{ Name: 'instance-type', Values: ['t3.medium', 't3a.medium', 'm5.large', 'm6i.large'] }],
    });
    expect(result.waves).toEqual([{
      requests: ['i-00000000000000001', 'i-00000000000000002'].map(instanceId => ({
        instanceId, method: 'auto', passwordEnabledAmi: false, acknowledge: ['public-ip-release'], dryRun: false,
      })),
    }]);
  });

  test('Auto Scaling members are bounded by their group\'s size, read by name', async () => {
    // GIVEN two members of a group at desired 3, MinSize 2
    const tag = { Tags: [{ Key: 'aws:autoscaling:groupName', Value: 'web' }] };
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance(1, 'eu-west-1a', tag), instance(2, 'eu-west-1b', tag)] }] });
    asg.on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: ['web'] })
      .resolves({ AutoScalingGroups: [{ AutoScalingGroupName: 'web', MinSize: 2, DesiredCapacity: 3 } as never] });

    // WHEN
    const result = await plan({ request: { targets: ['i-00000000000000001', 'i-00000000000000002'], method: 'online' } });

    // THEN one per wave; the online method needs no helper, so the quota is not read
    expect(result.plan.waves.map(w => w.instanceIds)).toEqual([['i-00000000000000001'], ['i-00000000000000002']]);
    expect(result.plan.helperBound).toBe(0);
    expect(quotas.commandCalls(GetServiceQuotaCommand)).toHaveLength(0);
    expect(ec2.commandCalls(DescribeInstanceTypesCommand)).toHaveLength(0);
  });

  describe('the vCPUs of one helper', () => {
    /** 58 vCPUs of room: the 64 of the quota, 6 in use. */
    beforeEach(() => {
      ec2.on(DescribeInstancesCommand, { InstanceIds: ['i-00000000000000001'] }).resolves({ Reservations: [{ Instances: [instance(1, 'eu-west-1a')] }] });
      ec2.on(DescribeInstancesCommand, { Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running'] }] })
        .resolves({
          Reservations: [{
            Instances: [
              { InstanceType: 'c5.xlarge', CpuOptions: { CoreCount: 2, ThreadsPerCore: 2 } },
              { InstanceType: 't3.large', CpuOptions: { CoreCount: 1, ThreadsPerCore: 2 } },
            ],
          }],
        });
    });
    const planOne = () => plan({ request: { targets: ['i-00000000000000001'] } });

    test('a helperInstanceType of 4 vCPUs (t3.xlarge): the largest type counts, and the bound halves', async () => {
      // GIVEN a workflow whose helperInstanceType is t3.xlarge, falling back to the 2-vCPU types
      process.env[FLEET_CONFIG_ENV] = JSON.stringify({ ...CONFIG, helperInstanceTypes: helperInstanceTypesFor('t3.xlarge') });
      ec2.on(DescribeInstanceTypesCommand).resolves(typesWithVcpus({ 't3.xlarge': 4, 't3.medium': 2, 't3a.medium': 2, 'm5.large': 2, 'm6i.large': 2 }));

      // WHEN
      const result = await planOne();

      // THEN 58 / 4 = 14 helpers, not the 29 of 2-vCPU helpers
      expect(result.plan).toMatchObject({ helperBound: 14, helperVcpus: 4, helperVcpusSource: 'ec2' });
      expect(result.plan.helperBoundReason).toBe('On-Demand Standard vCPU quota 64, 6 in use: room for 14 helpers of 4 vCPUs');
    });

    test('a type the Region does not have is left out by the filter, not an error', async () => {
      // GIVEN EC2 has no m6i.large here: the filter matches the other types only
      ec2.on(DescribeInstanceTypesCommand).resolves(typesWithVcpus({ 't3.medium': 2, 't3a.medium': 2, 'm5.large': 2 }));

      const result = await planOne();

      expect(result.plan).toMatchObject({ helperBound: 29, helperVcpus: 2, helperVcpusSource: 'ec2' });
    });

    test('EC2 describes none of the types: maxHelpers alone bounds the helpers, as with an unreadable quota', async () => {
      ec2.on(DescribeInstanceTypesCommand).resolves({ InstanceTypes: [] });

      const result = await planOne();

      expect(result.plan.helperBound).toBe(50);
      expect(result.plan.helperBoundReason).toMatch(/EC2 describes none of the helper instance types/);
      expect(result.plan).not.toHaveProperty('helperVcpus');
    });

    test('FleetReset\'s helperVcpus overrides EC2: it is counted, recorded as the prop, and no instance type is read', async () => {
      process.env[FLEET_CONFIG_ENV] = JSON.stringify({ ...CONFIG, helperVcpus: 8 });

      const result = await planOne();

      expect(result.plan).toMatchObject({ helperBound: 7, helperVcpus: 8, helperVcpusSource: 'prop' });
      expect(ec2.commandCalls(DescribeInstanceTypesCommand)).toHaveLength(0);
    });

    test('DescribeInstanceTypes denied: the step fails with EC2\'s error, as a denied quota read does (nothing has started)', async () => {
      ec2.on(DescribeInstanceTypesCommand).rejects(awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.'));

      await expect(planOne()).rejects.toMatchObject({ name: 'UnauthorizedOperation' });
    });

    test('a configuration without the helper instance types is refused: redeploy', async () => {
      process.env[FLEET_CONFIG_ENV] = JSON.stringify({ bounds: DEFAULT_FLEET_BOUNDS, helperVcpus: 2, minutesPerReset: 11 });

      await expect(planOne()).rejects.toThrow(/lacks bounds, helperInstanceTypes or minutesPerReset: redeploy/);
    });
  });

  test('a quota Service Quotas does not have: maxHelpers alone bounds the helpers', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance(1, 'eu-west-1a')] }] });
    quotas.on(GetServiceQuotaCommand).rejects(awsError('NoSuchResourceException'));

    const result = await plan({ request: { targets: ['i-00000000000000001'], dryRun: true } });

    expect(result.plan.helperBoundReason).toBe('maxHelpers 50 (the vCPU quota could not be read)');
    expect(result.waves[0].requests[0].dryRun).toBe(true);
  });

  test('an id the account does not have: InstanceNotFound naming it, before anything starts', async () => {
    ec2.on(DescribeInstancesCommand).rejects(awsError('InvalidInstanceID.NotFound', "The instance ID 'i-00000000000000009' does not exist"));

    await expect(plan({ request: { targets: ['i-00000000000000009'] } })).rejects.toMatchObject({
      name: ERRORS.instanceNotFound, message: expect.stringContaining('i-00000000000000009'),
    });
  });

  test('a tag that matches nothing: FleetSelectionEmpty', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    await expect(plan({ request: { targets: { tagKey: 'team', tagValues: ['nobody'] } } })).rejects.toMatchObject({ name: ERRORS.fleetSelectionEmpty });
  });
});

describe('fleet request', () => {
  test.each([
    ['no targets field', {}, /Set targets/],
    ['a bad id', { targets: ['i-1', 'web-1'] }, /not "i-1", "web-1"/],
    ['a selector with extra fields', { targets: { tagKey: 'a', tagValues: ['b'], id: 'i-0123456789abcdef0' } }, /tag selector/],
    ['an instanceId field', { instanceId: 'i-0123456789abcdef0', targets: ['i-0123456789abcdef0'] }, /Remove the unknown field\(s\) instanceId/],
    ['an unknown acknowledgement', { targets: ['i-0123456789abcdef0'], acknowledge: ['all'] }, /Remove "all" from acknowledge/],
  ])('%s: InvalidInput that says what to change', (_, input, message) => {
    expect(() => validateFleetRequest(input))
      .toThrow(expect.objectContaining({ name: ERRORS.invalidInput, message: expect.stringMatching(message) }));
  });

  test('an empty id list: FleetSelectionEmpty', () => {
    expect(() => validateFleetRequest({ targets: [] })).toThrow(expect.objectContaining({ name: ERRORS.fleetSelectionEmpty }));
  });
});

describe('standardOnDemandVcpus', () => {
  test('counts On-Demand instances of the standard families only', () => {
    expect(standardOnDemandVcpus([
      { instanceType: 'm5.large', coreCount: 1, threadsPerCore: 2 },
      { instanceType: 'p3.2xlarge', coreCount: 4, threadsPerCore: 2 },
      { instanceType: 'inf1.xlarge', coreCount: 2, threadsPerCore: 2 },
      { instanceType: 'trn1.2xlarge', coreCount: 4, threadsPerCore: 2 },
      { instanceType: 'r6i.large', coreCount: 1, threadsPerCore: 2, lifecycle: 'spot' },
      { instanceType: 'z1d.large', coreCount: 1, threadsPerCore: 2 },
    ])).toBe(4);
  });
});

describe('fleet-summary step', () => {
  const FLEET: FleetPlanResult = {
    selection: 'ids',
    targets: [],
    plan: { waves: [], maxDownAtOnce: 50, helperBound: 50, helperBoundReason: '', perGroupBound: {}, expectedMinutes: 11 },
    waves: [],
    dryRun: false,
  };
  const request = (instanceId: string) => ({ instanceId, method: 'auto' as const, passwordEnabledAmi: false, acknowledge: [], dryRun: false });
  const childFailure = (status: string, error?: string, cause?: string) => ({
    Error: 'States.TaskFailed',
    Cause: JSON.stringify({ ExecutionArn: `arn:aws:states:us-east-1:123456789012:execution:Reset:${status}`, Status: status, Error: error, Cause: cause }),
  });

  test('each instance\'s outcome: succeeded, refused with its named error, failed and restored, stopped from outside, not started', async () => {
    // WHEN
    const summary = await summarize({
      fleet: FLEET,
      waves: [
        [
          { ...request('i-1'), child: { executionArn: 'arn:1', status: 'SUCCEEDED', output: { passwordStatus: 'available' } } },
          { ...request('i-2'), failure: childFailure('FAILED', 'AutoScalingGroupAtMinimum', 'The group is at its minimum size: add auto-scaling-min-size.') },
        ],
        [
          { ...request('i-3'), failure: childFailure('FAILED', 'CommandFailed', 'The offline fix failed; the instance was put back.') },
          { ...request('i-4'), failure: childFailure('ABORTED') },
          { ...request('i-5'), failure: { Error: 'States.Permissions', Cause: 'not authorized to perform states:StartExecution' } },
        ],
      ],
    });

    // THEN
    expect(summary.instances).toEqual([
      { instanceId: 'i-1', outcome: 'succeeded', executionArn: 'arn:1', output: { passwordStatus: 'available' } },
      expect.objectContaining({ instanceId: 'i-2', outcome: 'refused', error: 'AutoScalingGroupAtMinimum', cause: expect.stringContaining('auto-scaling-min-size') }),
      expect.objectContaining({ instanceId: 'i-3', outcome: 'failed', error: 'CommandFailed' }),
      expect.objectContaining({ instanceId: 'i-4', outcome: 'failed', error: 'ABORTED', cause: expect.stringContaining('restore state machine') }),
      { instanceId: 'i-5', outcome: 'not-started', error: 'States.Permissions', cause: 'not authorized to perform states:StartExecution' },
    ]);
    expect(summary.counts).toEqual({ 'succeeded': 1, 'planned': 0, 'refused': 1, 'failed': 2, 'not-started': 1 });
  });

  test('a dry run\'s children are planned, with their plans', async () => {
    const summary = await summarize({
      fleet: { ...FLEET, dryRun: true },
      waves: [[{ ...request('i-1'), dryRun: true, child: { executionArn: 'arn:1', status: 'SUCCEEDED', output: { method: 'offline' } } }]],
    });
    expect(summary.instances[0]).toMatchObject({ outcome: 'planned', output: { method: 'offline' } });
    expect(summary.dryRun).toBe(true);
  });
});
