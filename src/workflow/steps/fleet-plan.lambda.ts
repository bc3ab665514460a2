import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, Instance, paginateDescribeInstances, paginateDescribeInstanceTypes } from '@aws-sdk/client-ec2';
import { GetServiceQuotaCommand } from '@aws-sdk/client-service-quotas';
import { autoScaling, ec2, serviceQuotas } from '../private/clients';
import { ERRORS } from '../private/contracts';
import { WorkflowError, isAwsError } from '../private/errors';
import {
  FleetGroupSize, FleetTarget, HelperVcpusSource, InstanceTypeVcpus, largestHelperType, planFleet, RunningInstance,
  STANDARD_ON_DEMAND_VCPU_QUOTA_CODE, standardOnDemandVcpus, validateFleetSize, VcpuQuota,
} from '../private/fleet-plan';
import {
  childRequest, FLEET_CONFIG_ENV, FleetConfig, FleetPlanResult, FleetTagSelector, parseFleetConfig, validateFleetRequest,
} from '../private/fleet-request';
import { stepLogger } from '../private/logger';

const logger = stepLogger('fleet-plan');

/** EC2 instance states a fleet selected by tag leaves out: they can never be reset. */
const GONE = ['shutting-down', 'terminated'];
/** DescribeInstances takes up to 1,000 ids; 200 keeps a response small. */
const IDS_PER_CALL = 200;
/** DescribeAutoScalingGroups takes up to 100 names (its MaxRecords is 100). */
const GROUPS_PER_CALL = 100;

/**
 * The fleet reset's first step (issue 14): checks the input, resolves the targets (ids, or a tag
 * selector resolved now and recorded in the output), reads the Auto Scaling groups' sizes and the
 * On-Demand vCPU quota, and returns the plan with each wave's child inputs. Read-only.
 */
export async function handler(event: { request: unknown }): Promise<FleetPlanResult> {
  const config = parseFleetConfig(process.env[FLEET_CONFIG_ENV]);
  const request = validateFleetRequest(event?.request);
  const instances = Array.isArray(request.targets) ? await byIds(request.targets) : await byTag(request.targets);
  const selection = Array.isArray(request.targets) ? 'ids' : `tag ${request.targets.tagKey}=${request.targets.tagValues.join(',')}`;
  validateFleetSize(instances.length, config.bounds, selection, request.dryRun);
  const targets: FleetTarget[] = instances.map(i => {
    const group = i.Tags?.find(t => t.Key === 'aws:autoscaling:groupName')?.Value;
    return { instanceId: i.InstanceId!, availabilityZone: i.Placement?.AvailabilityZone ?? '', ...(group ? { autoScalingGroupName: group } : {}) };
  });
  const helpers = request.method !== 'online';
  const plan = planFleet({
    targets,
    groups: await groupSizes([...new Set(targets.flatMap(t => t.autoScalingGroupName ?? []))]),
    bounds: config.bounds,
    helpers,
    ...(helpers ? await helperVcpus(config) : {}),
    quota: helpers ? await vcpuQuota() : undefined,
    minutesPerReset: config.minutesPerReset,
  });
  logger.info('Fleet planned', {
    targets: targets.length,
    waves: plan.waves.length,
    helperBound: plan.helperBound,
    helperVcpus: plan.helperVcpus,
    helperVcpusSource: plan.helperVcpusSource,
    dryRun: request.dryRun,
  });
  return {
    selection,
    targets,
    plan,
    waves: plan.waves.map(w => ({ requests: w.instanceIds.map(id => childRequest(id, request, request.dryRun)) })),
    dryRun: request.dryRun,
  };
}

async function byIds(ids: string[]): Promise<Instance[]> {
  const found: Instance[] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_CALL) {
    try {
      const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids.slice(i, i + IDS_PER_CALL) }));
      found.push(...(out.Reservations ?? []).flatMap(r => r.Instances ?? []));
    } catch (err) {
      if (!isAwsError(err, 'InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed')) throw err;
      throw new WorkflowError(ERRORS.instanceNotFound,
        `${(err as Error).message}: remove the instance ids this account and Region do not have from targets, then start the fleet reset again.`);
    }
  }
  return found;
}

async function byTag(selector: FleetTagSelector): Promise<Instance[]> {
  const found: Instance[] = [];
  for await (const page of paginateDescribeInstances({ client: ec2, pageSize: 1000 }, {
    Filters: [{ Name: `tag:${selector.tagKey}`, Values: selector.tagValues }],
  })) {
    found.push(...(page.Reservations ?? []).flatMap(r => r.Instances ?? []).filter(i => !GONE.includes(i.State?.Name ?? '')));
  }
  return found;
}

async function groupSizes(names: string[]): Promise<Record<string, FleetGroupSize>> {
  const sizes: Record<string, FleetGroupSize> = {};
  for (let i = 0; i < names.length; i += GROUPS_PER_CALL) {
    const out = await autoScaling.send(new DescribeAutoScalingGroupsCommand({
      AutoScalingGroupNames: names.slice(i, i + GROUPS_PER_CALL), MaxRecords: GROUPS_PER_CALL,
    }));
    for (const g of out.AutoScalingGroups ?? []) {
      if (g.AutoScalingGroupName) sizes[g.AutoScalingGroupName] = { minSize: g.MinSize ?? 0, desiredCapacity: g.DesiredCapacity ?? 0 };
    }
  }
  return sizes;
}

/**
 * vCPUs of one helper and where they came from: FleetReset's `helperVcpus` when set, else the largest
 * VCpuInfo.DefaultVCpus EC2 reports among the helper instance types the workflow may launch. The
 * types go in the `instance-type` filter rather than InstanceTypes, which refuses the whole call with
 * InvalidInstanceType when one type does not exist in the Region: such a type is never offered, so
 * never launched, and leaving it out is right. When EC2 has none of them (then no helper can launch:
 * each child refuses with HelperInstanceTypeNotOffered), the vCPUs are unknown and, as for an
 * unreadable quota, only maxHelpers bounds the helpers. Any other error (a denial, throttling beyond
 * the SDK's retries) fails the step, as GetServiceQuota's do.
 */
async function helperVcpus(config: FleetConfig): Promise<{ helperVcpus?: number; helperVcpusSource?: HelperVcpusSource }> {
  if (config.helperVcpus !== undefined) return { helperVcpus: config.helperVcpus, helperVcpusSource: 'prop' };
  const types: InstanceTypeVcpus[] = [];
  for await (const page of paginateDescribeInstanceTypes({ client: ec2 }, {
    Filters: [{ Name: 'instance-type', Values: config.helperInstanceTypes }],
  })) {
    for (const t of page.InstanceTypes ?? []) {
      if (t.InstanceType && t.VCpuInfo?.DefaultVCpus) types.push({ instanceType: t.InstanceType, defaultVcpus: t.VCpuInfo.DefaultVCpus });
    }
  }
  const largest = largestHelperType(types);
  if (!largest) {
    logger.warn('EC2 describes none of the helper instance types in this Region; maxHelpers alone bounds the helpers',
      { helperInstanceTypes: config.helperInstanceTypes });
    return {};
  }
  return { helperVcpus: largest.defaultVcpus, helperVcpusSource: 'ec2' };
}

/**
 * The account's standard On-Demand vCPU quota and its use, or undefined when the quota cannot be
 * read (no Service Quotas value in this Region): then only maxHelpers bounds the helpers.
 */
async function vcpuQuota(): Promise<VcpuQuota | undefined> {
  let limit: number | undefined;
  try {
    const out = await serviceQuotas.send(new GetServiceQuotaCommand({ ServiceCode: 'ec2', QuotaCode: STANDARD_ON_DEMAND_VCPU_QUOTA_CODE }));
    limit = out.Quota?.Value;
  } catch (err) {
    if (!isAwsError(err, 'NoSuchResourceException')) throw err;
  }
  if (limit === undefined) {
    logger.warn('The On-Demand vCPU quota could not be read; maxHelpers alone bounds the helpers');
    return undefined;
  }
  const running: RunningInstance[] = [];
  for await (const page of paginateDescribeInstances({ client: ec2, pageSize: 1000 }, {
    Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running'] }],
  })) {
    for (const i of (page.Reservations ?? []).flatMap(r => r.Instances ?? [])) {
      running.push({
        instanceType: i.InstanceType ?? '',
        lifecycle: i.InstanceLifecycle,
        coreCount: i.CpuOptions?.CoreCount ?? 0,
        threadsPerCore: i.CpuOptions?.ThreadsPerCore ?? 1,
      });
    }
  }
  return { limit, inUse: standardOnDemandVcpus(running) };
}
