/**
 * EC2's account limits that a fleet reset runs into (issue 14), as a layer over the simulated
 * account's fault hook: request-rate token buckets, and the Running On-Demand Standard instances
 * vCPU quota at RunInstances. A call refused here is recorded like any failed call (its error
 * name), so the rehearsal counts the throttles the workflow absorbed.
 */
import type { ServiceCall, SimulatedAccount } from './account';
import { defaultVcpus } from './ec2-instances';
import { awsError } from './errors';
import { setServiceQuota } from './service-quotas';
import { STANDARD_ON_DEMAND_VCPU_QUOTA_CODE } from '../../../src/workflow/private/fleet-plan';

/**
 * EC2 API Reference, "Request throttling for the Amazon EC2 API": EC2 throttles per account and
 * Region with the token bucket algorithm, each API action with its own bucket ("each API is
 * evaluated individually"); a request takes one token; the bucket refills at a set rate per second
 * up to its capacity; a request finding it empty fails with `RequestLimitExceeded`. Its example:
 * a non-mutating action (DescribeHosts) has 100 tokens and refills 20 per second.
 */
export const NON_MUTATING_BUCKET = { capacity: 100, refillPerSecond: 20 } as const;
/**
 * assumption: the same page lists mutating actions with smaller buckets that refill more slowly
 * than Describe*; 50 tokens refilled 5 per second is taken as a conservative figure for every
 * mutating action the workflow calls (StopInstances, AttachVolume, RunInstances, CreateTags, ...).
 */
export const MUTATING_BUCKET = { capacity: 50, refillPerSecond: 5 } as const;

/** Service Quotas L-1216C47A, "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances": vCPUs. */
export const VCPU_LIMIT_EXCEEDED = 'VcpuLimitExceeded';

/**
 * vCPUs of an instance of `type`: its type's default vCPUs as the simulated Region describes them
 * (ec2-instances.ts SIM_INSTANCE_TYPES, sourced there). assumption: a type a scenario gives an
 * instance without adding it to the Region has 2, as every type of the rehearsal's targets does.
 */
function vcpusOf(account: SimulatedAccount, type: string | undefined): number {
  const known = type === undefined ? undefined : account.instanceTypes.get(type);
  return known ? defaultVcpus(known) : 2;
}

const isMutating = (operation: string) => !/^(Describe|Get|List)/.test(operation);

export interface Ec2LimitsOptions {
  /**
   * The account's Running On-Demand Standard instances quota, in vCPUs; set as the account's Service
   * Quotas value too (what the fleet-plan step reads). Absent: not enforced.
   */
  readonly vcpuQuota?: number;
  /** Smaller buckets, for a scenario that must see throttling at a small scale. */
  readonly buckets?: { readonly mutating: TokenBucket; readonly nonMutating: TokenBucket };
}

export interface TokenBucket {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

/** What the limits did: for the bench and the scenario's assertions. */
export interface Ec2LimitsRecord {
  /** Calls refused with RequestLimitExceeded. */
  throttled: number;
  /** RunInstances refused with VcpuLimitExceeded. */
  vcpuRefusals: number;
  /** The most running (or pending) standard On-Demand vCPUs seen at a RunInstances. */
  peakVcpus: number;
}

/**
 * Installs the limits on the account, before whatever fault hook it has (the runner's injected faults
 * keep working). Returns what they counted.
 */
export function enforceEc2Limits(account: SimulatedAccount, o: Ec2LimitsOptions = {}): Ec2LimitsRecord {
  const record: Ec2LimitsRecord = { throttled: 0, vcpuRefusals: 0, peakVcpus: 0 };
  if (o.vcpuQuota !== undefined) setServiceQuota(account, 'ec2', STANDARD_ON_DEMAND_VCPU_QUOTA_CODE, o.vcpuQuota);
  const buckets = new Map<string, { tokens: number; at: number }>();
  const next = account.fault;
  account.fault = (call: ServiceCall) => {
    if (call.service === 'ec2') {
      const spec = isMutating(call.operation) ? o.buckets?.mutating ?? MUTATING_BUCKET : o.buckets?.nonMutating ?? NON_MUTATING_BUCKET;
      const now = account.now();
      const bucket = buckets.get(call.operation) ?? { tokens: spec.capacity, at: now };
      bucket.tokens = Math.min(spec.capacity, bucket.tokens + ((now - bucket.at) / 1000) * spec.refillPerSecond);
      bucket.at = now;
      buckets.set(call.operation, bucket);
      if (bucket.tokens < 1) {
        record.throttled++;
        return awsError('ec2', 'RequestLimitExceeded', 'Request limit exceeded.');
      }
      bucket.tokens -= 1;
      if (call.operation === 'RunInstances' && o.vcpuQuota !== undefined) {
        const inUse = [...account.instances.values()]
          .filter(i => i.state === 'running' || i.state === 'pending')
          .reduce((sum, i) => sum + vcpusOf(account, i.instanceType), 0);
        const asked = vcpusOf(account, call.input?.InstanceType) * (call.input?.MinCount ?? 1);
        record.peakVcpus = Math.max(record.peakVcpus, inUse);
        if (inUse + asked > o.vcpuQuota) {
          record.vcpuRefusals++;
          // EC2 API error codes: VcpuLimitExceeded, "You have requested more vCPU capacity than your current vCPU limit allows".
          return awsError('ec2', VCPU_LIMIT_EXCEEDED, `You have requested more vCPU capacity than your current vCPU limit of ${o.vcpuQuota} allows.`);
        }
      }
    }
    return next?.(call);
  };
  return record;
}
