/**
 * The fleet figures of `npx projen bench` (issue 14): 100 instances over three AZs and four Auto
 * Scaling groups, reset with FleetReset's default bounds in the rehearsal (test/rehearsal/fleet.ts),
 * against EC2's request-rate buckets and an On-Demand vCPU quota, with faults in three instances.
 * Printed next to AWS's runbook driven five at a time (one VPC per execution, five VPCs per Region
 * by default) on the same latency table.
 */
import { runbookSeconds } from './bench';
import { rehearseReset } from './rehearse';
import { DEFAULT_FLEET_BOUNDS } from '../src/workflow/private/fleet-plan';
import { EC2_RATE_LIMITS, FLEET_SAMPLE, FleetGroup, fleetTargets, rehearseFleet } from '../test/rehearsal/fleet';
import { baselineOf, invariantViolations } from '../test/rehearsal/invariants';
import { withLatencies } from '../test/rehearsal/latencies';
import { Fault, Rehearsal } from '../test/rehearsal/runner';
import { synthesizeSample } from '../test/rehearsal/sample';

export const FLEET_SIZE = 100;
/** Four groups of two: two at their minimum (their resets lower MinSize by one, acknowledged). */
export const FLEET_GROUPS: FleetGroup[] = [
  { name: 'web', members: 2, minSize: 0 },
  { name: 'api', members: 2, minSize: 2 },
  { name: 'jobs', members: 2, minSize: 1 },
  { name: 'edge', members: 2, minSize: 2 },
];
/**
 * assumption: an account with 512 vCPUs of Running On-Demand Standard instances (the quota AWS grants
 * on request varies by account; the 100 targets themselves run 200).
 */
export const FLEET_VCPU_QUOTA = 512;
/** The VPC quota per Region (Amazon VPC User Guide, "Amazon VPC quotas": VPCs per Region, default 5); the runbook creates one per execution. */
export const RUNBOOK_CONCURRENCY = 5;

const min = (s: number) => `${(s / 60).toFixed(1)} min`;

/** Runs FleetReset's state machine over the fleet in the rehearsal (the sample with a three-zone rescue VPC) and prints the figures. */
export async function printFleet(): Promise<void> {
  const sample = synthesizeSample(FLEET_SAMPLE);
  const r = new Rehearsal(sample);
  let waves = 0;
  try {
    const ids = fleetTargets(r, FLEET_SIZE, FLEET_GROUPS);
    const faults = new Map<string, Fault[]>([
      [ids[20], [{ machine: 'reset', state: 'CheckHelperReady', kind: 'hard' }]],
      [ids[40], [{ machine: 'reset', state: 'CheckOfflineFix', kind: 'hard' }]],
      [ids[60], [{ machine: 'reset', state: 'SendOfflineFix', kind: 'abort' }]],
    ]);
    // Taken before the run: what each instance must be again afterwards (invariants.ts).
    const baselines = ids.map(id => baselineOf(r.account, id));
    const run = await rehearseFleet(r, {
      instanceIds: ids,
      request: { method: 'offline', acknowledge: ['auto-scaling-standby', 'auto-scaling-min-size'] },
      vcpuQuota: FLEET_VCPU_QUOTA,
      faults,
    });
    waves = run.plan.waves.length;
    const runbookOne = runbookSeconds().reduce((sum, s) => sum + s.seconds, 0);
    const runbookFleet = Math.ceil(FLEET_SIZE / RUNBOOK_CONCURRENCY) * runbookOne;
    const counts: Record<string, number> = {};
    for (const o of run.outcomes) counts[o.outcome] = (counts[o.outcome] ?? 0) + 1;

    const b = DEFAULT_FLEET_BOUNDS;
    console.log(`\nFleet reset: ${FLEET_SIZE} instances over 3 AZs, 4 Auto Scaling groups of 2 (2 at their minimum), offline, default bounds ` +
      `(maxDown ${b.maxDown}, ${b.maxDownPerAz} per AZ, ${b.maxDownPerGroup} per group, maxHelpers ${b.maxHelpers}); faults in 3 instances`);
    console.log(`  waves ${run.plan.waves.map((w, i) => `${w.instanceIds.length} (${min(run.waveSeconds[i])})`).join(' + ')}; helper bound ${run.plan.helperBound} (${run.plan.helperBoundReason})`);
    console.log(`  last new password        ${min(run.lastPasswordSeconds).padStart(9)}   (goal ≤ 25 min; every execution and restore ended at ${min(run.endSeconds)})`);
    console.log(`  AWS runbook, ${RUNBOOK_CONCURRENCY} at a time  ${min(runbookFleet).padStart(9)}   (${Math.ceil(FLEET_SIZE / RUNBOOK_CONCURRENCY)} rounds of ${min(runbookOne)}: one VPC per execution, ${RUNBOOK_CONCURRENCY} VPCs per Region)`);
    console.log(`  ratio fleet/runbook      ${(run.lastPasswordSeconds / runbookFleet).toFixed(2).padStart(9)}`);
    console.log(`  peak helpers             ${String(run.peakHelpers).padStart(9)}   (bound ${run.plan.helperBound}; vCPU quota ${FLEET_VCPU_QUOTA}, launches refused by it: ${run.limits.vcpuRefusals})`);
    console.log(`  peak EC2 calls/s, one mutating action     ${String(run.peakEc2PerSecond.mutating).padStart(4)}   (bucket ${EC2_RATE_LIMITS.mutating.capacity}, refill ${EC2_RATE_LIMITS.mutating.refillPerSecond}/s)`);
    console.log(`  peak EC2 calls/s, one non-mutating action ${String(run.peakEc2PerSecond.nonMutating).padStart(4)}   (bucket ${EC2_RATE_LIMITS.nonMutating.capacity}, refill ${EC2_RATE_LIMITS.nonMutating.refillPerSecond}/s)`);
    const t = run.throttles;
    console.log(`  throttled EC2 calls ${t.throttledCalls}: ${t.handledInHandler} handled by the handler that made them, ${t.invocationsFailed} failed ` +
      `their task, of which ${t.retriedByStateMachine} retried by the state's Retry and ${t.notRetried} not (retries spent); ` +
      `state machine retries in all ${run.retries} (SDK retries not modelled)`);
    console.log(`  outcomes: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}`);
    const violations = baselines.flatMap(base => invariantViolations(r, base).map(v => `${base.instanceId}: ${v}`));
    console.log(`  invariants of a single reset, checked for each of the ${baselines.length} instances: ${violations.length} violations`);
    for (const v of violations) console.log(`    ${v}`);
  } finally {
    r.dispose();
  }
  // The helper choice (issue 14): what a prepared helper image, with EC2Rescue already installed, would save.
  const asToday = await rehearseReset(sample, 'offline');
  const prepared = await withLatencies({ installEc2Rescue: 0 }, 'a prepared helper image has EC2Rescue installed',
    () => rehearseReset(sample, 'offline'));
  const saved = asToday.passwordAvailable - prepared.passwordAvailable;
  console.log('  helpers: one per instance. A prepared helper image (EC2Rescue preinstalled, what-if) would bring one offline reset\'s new password ' +
    `from ${min(asToday.passwordAvailable)} to ${min(prepared.passwordAvailable)}: ${(saved / 60).toFixed(2)} min per wave, ` +
    `${((saved * waves) / 60).toFixed(1)} min for this fleet (not built: the goal is met without it)`);
}
