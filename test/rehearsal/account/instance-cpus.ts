/**
 * The default CPU options of the instance types the simulated account knows: what DescribeInstances
 * answers as an instance's `CpuOptions` (the fleet plan counts the vCPUs running from it) and what a
 * RunInstances counts against the On-Demand vCPU quota (ec2-limits.ts).
 *
 * EC2 User Guide, instance type specifications (general purpose): t3.medium, t3a.medium, t3.large,
 * m5.large, m5d.large and m6i.large have 2 vCPUs each, as 1 core with 2 threads; API Reference,
 * CpuOptions: "CoreCount — The number of CPU cores for the instance", "ThreadsPerCore — The number
 * of threads per CPU core". assumption: a type a scenario adds without an entry has 1 core of 2 threads.
 */
export interface CpuOptions {
  readonly coreCount: number;
  readonly threadsPerCore: number;
}

const DEFAULT_CPU_OPTIONS: Readonly<Record<string, CpuOptions>> = {
  't3.medium': { coreCount: 1, threadsPerCore: 2 },
  't3a.medium': { coreCount: 1, threadsPerCore: 2 },
  't3.large': { coreCount: 1, threadsPerCore: 2 },
  'm5.large': { coreCount: 1, threadsPerCore: 2 },
  'm5d.large': { coreCount: 1, threadsPerCore: 2 },
  'm6i.large': { coreCount: 1, threadsPerCore: 2 },
};

export function cpuOptionsOf(instanceType: string): CpuOptions {
  return DEFAULT_CPU_OPTIONS[instanceType] ?? { coreCount: 1, threadsPerCore: 2 };
}

export function vcpusOf(instanceType: string): number {
  const { coreCount, threadsPerCore } = cpuOptionsOf(instanceType);
  return coreCount * threadsPerCore;
}
