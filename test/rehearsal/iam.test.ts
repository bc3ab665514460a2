import { CoverageRun, CUSTOMER_KEY_SAMPLE, IAM_SCENARIOS, iamReport, rehearseIamScenarios, SampleVariant, StatementUse, statementUses } from './iam/coverage';
import { SampleArtifacts, synthesizeSample } from './sample';

/**
 * IAM in the rehearsal (issue 12): every call of every scenario authorized as its function's role,
 * the requests a caller bypassing the preflight could make denied with AWS's error, and every
 * statement of every step role needed by some scenario (the removal check).
 */
describe('rehearsal: IAM', () => {
  let samples: Record<SampleVariant, SampleArtifacts>;
  let runs: CoverageRun[];
  let uses: StatementUse[];

  beforeAll(async () => {
    samples = { default: synthesizeSample(), customerKey: synthesizeSample(CUSTOMER_KEY_SAMPLE) };
    runs = await rehearseIamScenarios(samples);
    uses = await statementUses(runs, samples);
    process.stdout.write(`${iamReport(runs, uses).join('\n')}\n`);
  }, 600_000);

  test('every scenario: each call authorized as its function\'s role, none denied', () => {
    const authorized = runs.filter(r => !r.scenario.denialsExpected);
    expect(authorized.length).toBe(IAM_SCENARIOS.length - 1);
    expect(authorized.map(r => [r.scenario.name, r.violations])).toEqual(authorized.map(r => [r.scenario.name, []]));
    // Every function the state machines run made calls that were authorized.
    const functions = new Set(authorized.flatMap(r => r.records.map(c => c.function)));
    expect(functions.size).toBeGreaterThanOrEqual(13);
    // The fleet's plan step, and the fleet state machine's own role (each child's start, its end, the lock reads).
    const fleet = authorized.find(r => r.scenario.name.startsWith('fleet reset'))!;
    expect([...new Set(fleet.records.map(c => `${c.role.replace(/[0-9A-F]{8}$/, '')} ${c.call}`))].sort()).toEqual(expect.arrayContaining([
      'FleetResetPlanRole autoscaling:DescribeAutoScalingGroups', 'FleetResetPlanRole ec2:DescribeInstances',
      'FleetResetPlanRole servicequotas:GetServiceQuota', 'FleetResetStateMachineRole dynamodb:GetItem',
      'FleetResetStateMachineRole states:DescribeExecution', 'FleetResetStateMachineRole states:StartExecution',
    ]));
  });

  test('bypassing the preflight: each request off the workflow\'s terms is denied, with AWS\'s error', () => {
    // GIVEN the calls a caller who bypasses the preflight made (forged plans, the roles used directly)
    const bypass = runs.find(r => r.scenario.denialsExpected)!;
    expect(bypass.violations).toEqual([]);
    const outcomes = bypass.result as Record<string, string>;
    const ec2Denied = (action: string, resource: string) => new RegExp('^UnauthorizedOperation: You are not authorized to perform this operation\\. ' +
      `User: arn:aws:sts::123456789012:assumed-role/.+ is not authorized to perform: ${action} on resource: arn:aws:ec2:us-east-1:(123456789012)?:${resource}.*Encoded authorization failure message: `);

    // THEN
    expect(outcomes).toEqual({
      // An untagged instance: its DeleteOnTermination cannot be changed, no image taken, its volume not detached
      // (the forged prepare could mark the volume, so the instance side is what denies the detach).
      prepareUntagged: expect.stringMatching(ec2Denied('ec2:ModifyInstanceAttribute', 'instance/i-')),
      imageUntagged: expect.stringMatching(ec2Denied('ec2:CreateImage', 'instance/i-')),
      detachFromUntagged: expect.stringMatching(ec2Denied('ec2:DetachVolume', 'instance/i-')),
      // A detach that names no instance reaches only volumes the workflow marked.
      detachWithoutInstance: expect.stringMatching(ec2Denied('ec2:DetachVolume', 'volume/vol-')),
      // No attribute but the root mapping, even on a target.
      userDataOnTarget: expect.stringMatching(/^UnauthorizedOperation: .*ec2:ModifyInstanceAttribute on resource: .*instance\/i-.* with an explicit deny/),
      instanceTypeByRestore: expect.stringMatching(/^UnauthorizedOperation: .*ec2:ModifyInstanceAttribute on resource: .*instance\/i-.* with an explicit deny/),
      // The helper's commands run on helpers only.
      helperCommandOnTarget: expect.stringMatching(/^AccessDeniedException: User: .* is not authorized to perform: ssm:SendCommand on resource: arn:aws:ec2:us-east-1:123456789012:instance\/i-/),
      // Standby only in groups tagged for reset (the instance's tag is not enough).
      standbyInUntaggedGroup: expect.stringMatching(/^AccessDenied: User: .* is not authorized to perform: autoscaling:EnterStandby on resource: arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:.*autoScalingGroupName\/untagged/),
      // UpdateAutoScalingGroup: MinSize and nothing else, in groups tagged for reset only.
      maxSizeOfTaggedGroup: expect.stringMatching(/^AccessDenied: User: .* is not authorized to perform: autoscaling:UpdateAutoScalingGroup on resource: arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:.*autoScalingGroupName\/tagged/),
      minSizeOfUntaggedGroup: expect.stringMatching(/^AccessDenied: User: .* is not authorized to perform: autoscaling:UpdateAutoScalingGroup on resource: arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:.*autoScalingGroupName\/untagged/),
      // The helper launches only on its terms (the configured type and its fallbacks).
      publicIp: expect.stringMatching(ec2Denied('ec2:RunInstances', 'network-interface/')),
      otherInstanceType: expect.stringMatching(ec2Denied('ec2:RunInstances', 'instance/')),
      // Interface endpoints: in the rescue VPC only, for its three services only, always tagged; deleted only when tagged.
      endpointInOtherVpc: expect.stringMatching(ec2Denied('ec2:CreateVpcEndpoint', 'vpc/vpc-0workload')),
      endpointForOtherService: expect.stringMatching(ec2Denied('ec2:CreateVpcEndpoint', 'vpc-endpoint/')),
      untaggedEndpoint: expect.stringMatching(ec2Denied('ec2:CreateVpcEndpoint', 'vpc-endpoint/')),
      deleteGatewayEndpoint: expect.stringMatching(ec2Denied('ec2:DeleteVpcEndpoints', 'vpc-endpoint/vpce-')),
    });
  });

  test('removal check: every statement (and every action of it) of every step role is needed by a scenario', () => {
    // THEN nothing is granted that no scenario needs, and the check saw the roles it should
    expect(uses.length).toBeGreaterThan(40);
    expect(uses.some(u => u.effect === 'Deny')).toBe(true);
    expect(uses.some(u => u.role.startsWith('FleetResetPlanRole'))).toBe(true);
    expect(uses.filter(u => u.unusedActions.length > 0).map(u => `${u.role} ${u.sid}: ${u.unusedActions.join(', ')}`)).toEqual([]);
  });
});
