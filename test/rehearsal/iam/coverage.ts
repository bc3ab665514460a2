/**
 * The rehearsal's IAM evidence: a set of scenarios that together exercise every path of the
 * workflow (offline and online resets, Standby, images, customer managed keys, the restore machine,
 * the retention function) and the requests that must be denied (a caller bypassing the preflight),
 * each run once with every call authorized by the evaluator; then, from the recorded requests,
 * which statements of the step roles each outcome depends on (the removal check): re-evaluating
 * the recorded requests against each role with one statement (or one action of it) removed, instead
 * of rehearsing again per removal.
 */
import { evaluate, NamedPolicy } from './evaluate';
import type { Request } from './requests';
import { STEP_POLICY_NAME } from './roles';
import type { SampleStackProps } from '../../../sample/sample-stack';
import { ENDPOINT_JANITOR_INTERVAL_MINUTES } from '../../../src/workflow/endpoints/janitor-config';
import { TAGS, type ResetPlan } from '../../../src/workflow/private/contracts';
import { takeLease } from '../../../src/workflow/private/endpoint-leases';
import { helperRunInstancesInput } from '../../../src/workflow/private/helper-launch';
import { enforceEc2Limits } from '../account/ec2-limits';
import type { AuthorizationRecord } from '../account/iam';
import { LATENCY } from '../latencies';
import { Rehearsal, RehearsalOptions } from '../runner';
import type { SampleArtifacts } from '../sample';
import { ALLOW_RESET, managedTarget, ssmOnlyInstanceProfile, windowsTarget } from '../world';

/**
 * A customer managed key the `customerKey` sample allows for root volumes (allowedVolumeKeyArns). That sample is
 * also deployed with `customerManagedKey` (its logs and lock table on a key of the stack), so the steps' use of
 * the lock table's key is authorized and removal-checked too.
 */
export const CUSTOMER_KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
export const CUSTOMER_KEY_ARN = `arn:aws:kms:us-east-1:123456789012:key/${CUSTOMER_KEY_ID}`;

/** How the `customerKey` sample is deployed. */
export const CUSTOMER_KEY_SAMPLE: SampleStackProps = { allowedVolumeKeyArns: [CUSTOMER_KEY_ARN], customerManagedKey: true };

export type SampleVariant = 'default' | 'customerKey';

export interface IamScenario {
  readonly name: string;
  readonly sample: SampleVariant;
  /** Requests IAM must deny (bypassing the preflight); anything else denied is a failure. */
  readonly denialsExpected?: boolean;
  /** How the rehearsal is set up (e.g. a restore rule that never fires). */
  readonly options?: RehearsalOptions;
  /** Runs the scenario; returns what the scenario's own test asserts on (errors of denied calls). */
  readonly run: (r: Rehearsal) => Promise<unknown>;
}

/** The error a call or handler threw, as `name: message`, or 'no error'. */
async function outcome(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return 'no error';
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
}

/** A plan the preflight made for a tagged twin, pointed at `instanceId` (what a caller bypassing the preflight would send). */
async function forgedPlan(r: Rehearsal, instanceId: string): Promise<ResetPlan> {
  const twin = windowsTarget(r.account);
  const dry = await r.reset({ instanceId: twin.instanceId, method: 'offline', dryRun: true });
  const instance = r.account.instances.get(instanceId)!;
  const root = r.account.volumeAt(instanceId, instance.rootDeviceName)!;
  return { ...dry.output.plan ?? dry.output, instanceId, rootVolumeId: root.volumeId, rootDeviceName: instance.rootDeviceName, dryRun: false };
}

/** The sample's grace period (15 minutes), the janitor's next tick, and the deletion. */
const PAST_ENDPOINT_GRACE_SECONDS = 15 * 60 + ENDPOINT_JANITOR_INTERVAL_MINUTES * 60 + LATENCY.vpcEndpointDeletion.seconds;

/** The interface endpoints the workflow created (tagged with its role tag). */
function workflowEndpoints(r: Rehearsal) {
  return [...r.account.vpcEndpoints.values()].filter(e => e.tags[TAGS.role] === 'endpoint');
}

/** CreateVpcEndpoint as the open-endpoints step sends it, changed by `change`. */
function endpointRequest(r: Rehearsal, change: Record<string, unknown>): Record<string, unknown> {
  const endpoints = r.config().onDemandEndpoints;
  return {
    VpcEndpointType: 'Interface',
    VpcId: endpoints.vpcId,
    ServiceName: endpoints.serviceNames[0],
    SubnetIds: [r.config().subnetsByAz['us-east-1a']],
    SecurityGroupIds: [endpoints.securityGroupId],
    PrivateDnsEnabled: true,
    TagSpecifications: [{ ResourceType: 'vpc-endpoint', Tags: [{ Key: TAGS.workflow, Value: r.config().workflowId }, { Key: TAGS.role, Value: 'endpoint' }] }],
    ...change,
  };
}

export const IAM_SCENARIOS: IamScenario[] = [
  {
    name: 'offline reset of a running target',
    sample: 'default',
    run: r => r.reset({ instanceId: windowsTarget(r.account).instanceId, method: 'offline' }),
  },
  {
    name: 'offline reset of a stopped target',
    sample: 'default',
    run: r => r.reset({ instanceId: windowsTarget(r.account, { state: 'stopped' }).instanceId }),
  },
  {
    name: 'online reset',
    sample: 'default',
    run: r => r.reset({ instanceId: managedTarget(r.account).instanceId, method: 'online' }),
  },
  {
    name: 'auto falls back to offline (the role may not store the password)',
    sample: 'default',
    run: r => r.reset({ instanceId: managedTarget(r.account, { instanceProfileArn: ssmOnlyInstanceProfile(r.account) }).instanceId, method: 'auto' }),
  },
  {
    name: 'Auto Scaling member (Standby and back)',
    sample: 'default',
    run: r => r.reset({ instanceId: windowsTarget(r.account, { autoScalingGroup: 'web' }).instanceId, acknowledge: ['auto-scaling-standby'] }),
  },
  {
    name: 'Auto Scaling group at its minimum (MinSize lowered, journaled, raised back)',
    sample: 'default',
    run: r => {
      r.account.addAutoScalingGroup({ name: 'single', minSize: 1, maxSize: 1, tags: { ...ALLOW_RESET } });
      return r.reset({
        instanceId: windowsTarget(r.account, { autoScalingGroup: 'single' }).instanceId,
        acknowledge: ['auto-scaling-standby', 'auto-scaling-min-size'],
      });
    },
  },
  {
    name: 'password-enabled image',
    sample: 'default',
    run: r => r.reset({ instanceId: windowsTarget(r.account).instanceId, passwordEnabledAmi: true }),
  },
  {
    name: 'root encrypted with an allowed customer managed key',
    sample: 'customerKey',
    run: r => {
      const key = r.account.addCustomerKey({ keyId: CUSTOMER_KEY_ID });
      return r.reset({ instanceId: windowsTarget(r.account, { kmsKeyId: key.arn }).instanceId, method: 'offline' });
    },
  },
  {
    name: 'reset stopped while the volume is on the helper (the restore machine puts it back)',
    sample: 'default',
    run: r => r.reset({ instanceId: windowsTarget(r.account).instanceId }, { faults: [{ machine: 'reset', state: 'SendOfflineFix', kind: 'abort' }] }),
  },
  {
    name: 'the target\'s stop hangs and the reset is stopped meanwhile (the restore forces the stop after its bound)',
    sample: 'default',
    run: r => {
      const target = windowsTarget(r.account);
      target.stopHangs = true;
      return r.reset({ instanceId: target.instanceId }, { faults: [{ machine: 'reset', state: 'PrepareTarget', kind: 'abort' }] });
    },
  },
  {
    name: 'the restore\'s event is lost (the reconciler starts the restore and counts the attempt)',
    sample: 'default',
    options: { restoreRulePattern: { source: ['rehearsal.never'] } },
    run: r => r.reset({ instanceId: windowsTarget(r.account).instanceId }, { faults: [{ machine: 'reset', state: 'SendOfflineFix', kind: 'abort' }] }),
  },
  {
    name: 'the offline fix fails (the reset\'s own restore)',
    sample: 'default',
    run: r => {
      r.account.failingDocuments.set('AWS-RunPowerShellScript', 'Offline password fix failed: the disk xvdf could not be brought online.');
      return r.reset({ instanceId: windowsTarget(r.account).instanceId });
    },
  },
  {
    name: 'fleet reset by tag: an Auto Scaling member and an instance whose reset is stopped (the fleet waits for its restore)',
    sample: 'default',
    run: r => {
      // The Running On-Demand Standard vCPU quota the plan step reads, and EC2's request-rate buckets.
      enforceEc2Limits(r.account, { vcpuQuota: 64 });
      windowsTarget(r.account, { tags: { keyPair: 'leaked' }, autoScalingGroup: 'web' });
      const stopped = windowsTarget(r.account, { availabilityZone: 'us-east-1b', tags: { keyPair: 'leaked' } });
      r.instanceFaults.set(stopped.instanceId, [{ machine: 'reset', state: 'SendOfflineFix', kind: 'abort' }]);
      return r.fleet({ targets: { tagKey: 'keyPair', tagValues: ['leaked'] }, method: 'offline', acknowledge: ['auto-scaling-standby'] });
    },
  },
  {
    name: 'the retention function deletes an expired password parameter',
    sample: 'default',
    run: async r => {
      await r.reset({ instanceId: managedTarget(r.account).instanceId, method: 'online' });
      r.account.advance(30 * 86400);
      return r.invoke('PasswordRetention', {});
    },
  },
  {
    name: 'the backup image retention deregisters a successful reset\'s backup image',
    sample: 'default',
    run: async r => {
      await r.reset({ instanceId: windowsTarget(r.account).instanceId, method: 'offline' });
      r.settle();
      r.account.advance(15 * 86400);
      return r.invoke('BackupImageRetention', {});
    },
  },
  {
    name: 'the endpoint janitor releases the lease of a reset that has ended, then deletes the idle endpoints after the grace period',
    sample: 'default',
    run: async r => {
      const run = await r.reset({ instanceId: windowsTarget(r.account).instanceId });
      // The lease a restore stopped before its release leaves behind (written by the test, as no role).
      r.account.call('dynamodb', 'UpdateItem', takeLease(r.sample.world.tables[0], r.config().onDemandEndpoints.vpcId, run.arn, r.clock.now() / 1000));
      await r.idle(PAST_ENDPOINT_GRACE_SECONDS);
      return r.janitorRuns;
    },
  },
  {
    name: 'a failed endpoint of the workflow: the next reset deletes it and creates another',
    sample: 'default',
    run: async r => {
      await r.reset({ instanceId: windowsTarget(r.account).instanceId });
      // Within the grace period its ssm endpoint fails (set by the test: EC2 reports `failed` for an endpoint it could not set up).
      workflowEndpoints(r).find(e => e.serviceName.endsWith('.ssm'))!.state = 'failed';
      return r.reset({ instanceId: windowsTarget(r.account).instanceId });
    },
  },
  {
    name: 'bypassing the preflight: an untagged instance, a helper command on a target, a launch off the helper\'s terms',
    sample: 'default',
    denialsExpected: true,
    run: async r => {
      const untagged = r.account.addInstance({ state: 'stopped', tags: { Name: 'not-for-reset' } });
      const plan = await forgedPlan(r, untagged.instanceId);
      const target = managedTarget(r.account);
      // An image of the name the forged plan gives, so the attach step goes on to the detach.
      r.account.call('ec2', 'CreateImage', { InstanceId: target.instanceId, Name: plan.backupImageName, NoReboot: true });
      r.account.advance(3600);
      // The helper's RunInstances as the launch step builds it, then changed off its terms.
      const launch = (change: Record<string, unknown>) => ({ ...helperRunInstancesInput(plan, r.config(), 'ami-0a2019aaaaaaaaaaa', '/dev/sda1'), ...change });
      return {
        prepareUntagged: await outcome(() => r.invoke('PrepareTarget', { plan })),
        imageUntagged: await outcome(() => r.invoke('CreateBackupImage', { plan: { ...plan, backupImageName: `${plan.backupImageName}-2` } })),
        detachFromUntagged: await outcome(() => r.invoke('AttachToHelper', { plan, helper: { helperInstanceId: target.instanceId, helperImageId: 'ami-0a2019aaaaaaaaaaa' } })),
        detachWithoutInstance: await outcome(() => r.callAs('AttachToHelper', 'ec2', 'DetachVolume', { VolumeId: r.account.volumeAt(target.instanceId, target.rootDeviceName)!.volumeId })),
        userDataOnTarget: await outcome(() => r.callAs('PrepareTarget', 'ec2', 'ModifyInstanceAttribute', { InstanceId: target.instanceId, UserData: { Value: Buffer.from('net user Administrator x') } })),
        instanceTypeByRestore: await outcome(() => r.callAs('Restore', 'ec2', 'ModifyInstanceAttribute', { InstanceId: target.instanceId, InstanceType: { Value: 'm5.24xlarge' } })),
        helperCommandOnTarget: await outcome(() => r.invoke('SendHelperCommand', {
          plan: { ...plan, instanceId: untagged.instanceId }, command: 'offline-password-fix', targetInstanceId: target.instanceId,
        })),
        standbyInUntaggedGroup: await outcome(() => r.callAs('PrepareTarget', 'autoscaling', 'EnterStandby', {
          AutoScalingGroupName: 'untagged',
          ShouldDecrementDesiredCapacity: true,
          InstanceIds: [windowsTarget(r.account, { autoScalingGroup: 'untagged', autoScalingGroupTags: {} }).instanceId],
        })),
        // UpdateAutoScalingGroup changes MinSize only, and only in groups tagged for reset.
        maxSizeOfTaggedGroup: await outcome(() => {
          windowsTarget(r.account, { autoScalingGroup: 'tagged' });
          return r.callAs('PrepareTarget', 'autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: 'tagged', MinSize: 0, MaxSize: 20 });
        }),
        minSizeOfUntaggedGroup: await outcome(() => r.callAs('Restore', 'autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: 'untagged', MinSize: 0 })),
        publicIp: await outcome(() => r.callAs('LaunchHelper', 'ec2', 'RunInstances', launch({ NetworkInterfaces: [{ ...helperRunInstancesInput(plan, r.config(), 'ami-0a2019aaaaaaaaaaa', '/dev/sda1').NetworkInterfaces![0], AssociatePublicIpAddress: true }] }))),
        // The configured type and its fallbacks only (HELPER_INSTANCE_TYPE_FALLBACKS).
        otherInstanceType: await outcome(() => r.callAs('LaunchHelper', 'ec2', 'RunInstances', launch({ InstanceType: 'm5.24xlarge' }))),
        // Interface endpoints only for the three services, in the rescue VPC, tagged as the workflow's.
        endpointInOtherVpc: await outcome(() => r.callAs('OpenEndpoints', 'ec2', 'CreateVpcEndpoint', endpointRequest(r, { VpcId: 'vpc-0workload00000000', SubnetIds: [], SecurityGroupIds: [] }))),
        endpointForOtherService: await outcome(() => r.callAs('OpenEndpoints', 'ec2', 'CreateVpcEndpoint', endpointRequest(r, { ServiceName: 'com.amazonaws.us-east-1.ec2' }))),
        untaggedEndpoint: await outcome(() => r.callAs('OpenEndpoints', 'ec2', 'CreateVpcEndpoint', endpointRequest(r, { TagSpecifications: [] }))),
        // Only endpoints the workflow tagged are deleted: not the stack's S3 gateway endpoint.
        deleteGatewayEndpoint: await outcome(() => r.callAs('EndpointJanitor', 'ec2', 'DeleteVpcEndpoints', {
          VpcEndpointIds: [...r.account.vpcEndpoints.values()].filter(e => e.type === 'Gateway').map(e => e.vpcEndpointId),
        })),
      };
    },
  },
];

/** One scenario's run: what IAM decided for each call, and the roles as its sample synthesized them. */
export interface CoverageRun {
  readonly scenario: IamScenario;
  readonly records: AuthorizationRecord[];
  readonly result: unknown;
  readonly violations: string[];
}

/** Runs every scenario in a fresh rehearsal of its sample. */
export async function rehearseIamScenarios(samples: Record<SampleVariant, SampleArtifacts>, scenarios = IAM_SCENARIOS): Promise<CoverageRun[]> {
  const runs: CoverageRun[] = [];
  for (const scenario of scenarios) {
    const r = new Rehearsal(samples[scenario.sample], scenario.options);
    try {
      const result = await scenario.run(r);
      await r.finished();
      const unexpected = [...r.iam.mistakes, ...(scenario.denialsExpected ? [] : r.iam.denials().map(d => `${d.role} denied ${d.call}`))];
      runs.push({ scenario, records: [...r.iam.records], result, violations: unexpected });
    } finally {
      r.dispose();
    }
  }
  return runs;
}

/** A statement of a step role, and what removing it (or one of its actions) would break. */
export interface StatementUse {
  readonly role: string;
  readonly sid: string;
  readonly effect: 'Allow' | 'Deny';
  /** Actions of the statement no recorded request depends on (all of them: the statement is unused). */
  readonly unusedActions: string[];
  readonly actions: string[];
}

interface RoleRequests {
  readonly roleArn: string;
  readonly sessionArn: string;
  readonly policies: NamedPolicy[];
  readonly inline: readonly string[];
  readonly allowed: Map<string, Request>;
  readonly denied: Map<string, Request>;
}

/**
 * The removal check: for each statement of each role's inline policies (the step roles' `Step`, the
 * retention functions' `Retention`: what this library writes; CDK's log and trace grants are not), and each action of it,
 * whether some recorded request depends on it. An Allow is needed when a request it allows would
 * be denied without it; a Deny when a request it denies would be allowed without it.
 */
export async function statementUses(runs: CoverageRun[], samples: Record<SampleVariant, SampleArtifacts>): Promise<StatementUse[]> {
  // Requests by (sample, role), deduplicated.
  const byRole = new Map<string, RoleRequests & { variant: SampleVariant; logicalId: string }>();
  for (const run of runs) {
    const sample = samples[run.scenario.sample];
    for (const record of run.records) {
      const role = sample.iam.roles.find(x => x.logicalId === record.role);
      if (!role) continue; // a role added by the scenario (not the sample's)
      const key = `${run.scenario.sample}/${record.role}`;
      let entry = byRole.get(key);
      if (!entry) {
        entry = {
          variant: run.scenario.sample,
          logicalId: record.role,
          roleArn: role.arn,
          policies: role.policies,
          inline: role.inlinePolicyNames ?? [],
          sessionArn: `arn:aws:sts::123456789012:assumed-role/${role.name}/${record.function}`,
          allowed: new Map(),
          denied: new Map(),
        };
        byRole.set(key, entry);
      }
      for (const { request, decision } of record.requests) {
        (decision === 'Allowed' ? entry.allowed : entry.denied).set(JSON.stringify(request), request);
      }
    }
  }

  const uses = new Map<string, StatementUse & { used: Set<string> }>();
  for (const entry of byRole.values()) {
    for (const step of entry.policies.filter(p => entry.inline.includes(p.name))) {
      for (const [index, statement] of step.document.Statement.entries()) {
        const sid = `${step.name === STEP_POLICY_NAME ? '' : `${step.name}/`}${statement.Sid ?? `#${index}`}`;
        const actions: string[] = [statement.Action].flat();
        const key = `${entry.logicalId}/${sid}`;
        const use = uses.get(key) ?? { role: entry.logicalId, sid, effect: statement.Effect, actions, unusedActions: [], used: new Set<string>() };
        uses.set(key, use);
        const without = entry.policies.map(p => (p === step
          ? { ...p, document: { ...p.document, Statement: p.document.Statement.filter((_, i) => i !== index) } }
          : p));
        const principal = { arn: entry.sessionArn, accountId: '123456789012', identityPolicies: without };
        const candidates = statement.Effect === 'Deny' ? entry.denied : entry.allowed;
        for (const request of candidates.values()) {
          if (!actions.includes(request.action) || use.used.has(request.action)) continue;
          const decision = await evaluate(principal, request, request.resourcePolicy);
          const depends = statement.Effect === 'Deny' ? decision === 'Allowed' : decision !== 'Allowed';
          if (depends) use.used.add(request.action);
        }
      }
    }
  }
  return [...uses.values()].map(({ used, ...use }) => ({ ...use, unusedActions: use.actions.filter(a => !used.has(a)) }));
}

/** `IAM: <calls> calls authorized, <denied> denied, <unused> unused statements`, and the unused ones by role. */
export function iamReport(runs: CoverageRun[], uses: StatementUse[]): string[] {
  const records = runs.filter(r => !r.scenario.denialsExpected).flatMap(r => r.records);
  const unused = uses.filter(u => u.unusedActions.length > 0);
  const lines = [`IAM: ${records.length} calls authorized, ${records.filter(r => r.denied).length} denied, ${unused.length} unused statements`];
  const byRole = new Map<string, string[]>();
  for (const u of unused) {
    byRole.set(u.role, [...(byRole.get(u.role) ?? []), u.unusedActions.length === u.actions.length ? u.sid : `${u.sid} (${u.unusedActions.join(', ')})`]);
  }
  for (const [role, sids] of byRole) lines.push(`  ${role}: ${sids.join(', ')}`);
  return lines;
}
