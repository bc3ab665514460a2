/**
 * `npx projen bench`: the figures of the rehearsal, from one run of each.
 * - modelled time until the new password exists, offline and online (test/rehearsal/latencies.ts);
 * - the same latency table applied to AWS's runbook order (AWSSupport-ResetAccess →
 *   StartEC2RescueWorkflow, ../shared/reference/aws-reset-access-flow.md), and the ratio;
 * - the size of each Lambda bundle in assets/;
 * - the idle monthly cost of the sample stack, from its synthesized template, line by line;
 * - the cost of one offline reset, from the rehearsed reset (build-tools/reset-cost.ts);
 * - how long the sample stack takes to synthesize;
 * - the offline time with on-demand interface endpoints (the default) next to always-on ones, and
 *   the idle cost without notifications;
 * - a fleet reset of 100 instances, rehearsed (build-tools/fleet-bench.ts).
 * Each section is a function of the figures it prints, so a new line goes into its section.
 */
import './load-text';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { printFleet } from './fleet-bench';
import { HOURS_PER_MONTH, PRICES_US_EAST_1, stackIdleChargesOf, synthesizeWithoutNotifications } from './idle-cost';
import { RehearsedReset, rehearseReset } from './rehearse';
import { resetChargesOf, resetUsageOf } from './reset-cost';
import { RescueEndpoints } from '../src';
import { LATENCY, LatencyName } from '../test/rehearsal/latencies';
import { SampleArtifacts, synthesizeSample } from '../test/rehearsal/sample';
import { clock } from '../test/rehearsal/timeline';

/** One step of AWS's runbook, timed with the rehearsal's latency table. */
export interface RunbookStep {
  readonly step: string;
  readonly latencies: LatencyName[];
  /** Waits that poll (waitForAWSResourceProperty): half a polling interval is lost on average. */
  readonly polled?: boolean;
}

/**
 * AWSSupport-ResetAccess for Windows, in its order (the reference's steps 1–21), everything in
 * sequence: the helper stack first, the target stopped only once the helper is Online.
 */
export const AWS_RUNBOOK: RunbookStep[] = [
  { step: '1-10 pre-checks (describe, encryption, shutdown behaviour, product codes, Spot, ASG, subnet, concurrency)', latencies: Array(10).fill('runbookStepOverhead') },
  { step: '11 helper CloudFormation stack (VPC, IGW, role, profile, launch template, instance)', latencies: ['runbookHelperStack', 'instancePendingToRunning'], polled: true },
  { step: '12 wait for the helper to be Online in SSM', latencies: ['windowsBootToSsmOnline'], polled: true },
  { step: '13 DeleteOnTermination=false', latencies: ['runbookStepOverhead'] },
  { step: '14 stop the target', latencies: ['runbookStepOverhead', 'windowsStop'], polled: true },
  { step: '15 CreateImage (pre-script backup, not waited for)', latencies: ['runbookStepOverhead'] },
  { step: '16 install EC2Rescue (AWS-ConfigureAWSPackage)', latencies: ['runbookStepOverhead', 'commandDelivery', 'installEc2Rescue'] },
  { step: '17 detach the root volume, attach it to the helper, sleep 30 s', latencies: ['runbookStepOverhead', 'volumeDetach', 'runbookStepOverhead', 'volumeAttach', 'runbookSleepAfterAttach'], polled: true },
  { step: '18 offline script (Invoke-EC2RescueEnablePasswordGeneration)', latencies: ['runbookStepOverhead', 'commandDelivery', 'offlinePasswordFix'] },
  { step: '19 stop the helper, detach, attach to the target', latencies: ['runbookStepOverhead', 'windowsStop', 'volumeDetach', 'runbookStepOverhead', 'volumeAttach'], polled: true },
  { step: '21 restore DeleteOnTermination, start the target', latencies: ['runbookStepOverhead', 'runbookStepOverhead', 'instancePendingToRunning'], polled: true },
  { step: 'the new password is generated at boot', latencies: ['passwordAfterBoot'] },
];

export function runbookSeconds(steps = AWS_RUNBOOK): { step: string; seconds: number }[] {
  return steps.map(s => ({
    step: s.step,
    seconds: s.latencies.reduce((sum, name) => sum + LATENCY[name].seconds, 0) + (s.polled ? LATENCY.runbookPoll.seconds / 2 : 0),
  }));
}

/** Size of each bundle under assets/ (`<dir>/index.js`), in bytes. */
export function bundleSizes(root = path.join(__dirname, '..', 'assets')): { bundle: string; bytes: number }[] {
  if (!fs.existsSync(root)) return [];
  const out: { bundle: string; bytes: number }[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name === 'index.js') out.push({ bundle: path.relative(root, dir), bytes: fs.statSync(full).size });
    }
  };
  walk(root);
  return out.sort((a, b) => a.bundle.localeCompare(b.bundle));
}

const minutes = (seconds: number) => `${(seconds / 60).toFixed(1)} min`;
const usd = (n: number, digits = 2) => `$${n.toFixed(digits)}`;

/** Modelled time until the new password exists, ours and AWS's runbook order. */
function printTimes(offline: RehearsedReset, online: RehearsedReset, alwaysOn: RehearsedReset): void {
  const runbook = runbookSeconds();
  const awsTotal = runbook.reduce((sum, s) => sum + s.seconds, 0);
  const span = (r: RehearsedReset) => ((r.record.end ?? r.record.start) - r.record.start) / 1000;
  console.log('Modelled time until the new password exists (latencies: test/rehearsal/latencies.ts)');
  console.log(`  offline, running target   ${minutes(offline.passwordAvailable).padStart(9)}   (execution ends at ${minutes(span(offline))}, once GetPasswordData is seen; on-demand endpoints, the default)`);
  console.log(`  offline, always-on endpoints ${minutes(alwaysOn.passwordAvailable).padStart(6)}   (on demand: +${((offline.passwordAvailable - alwaysOn.passwordAvailable) / 60).toFixed(2)} min; goal ≤ 0.2 min)`);
  console.log(`  online                    ${minutes(online.passwordAvailable).padStart(9)}   (execution ends at ${minutes(span(online))})`);
  console.log(`  offline, AWS runbook order ${minutes(awsTotal).padStart(8)}   (AWSSupport-ResetAccess steps in sequence, same table)`);
  console.log(`  ratio ours/AWS (offline)  ${(offline.passwordAvailable / awsTotal).toFixed(2).padStart(9)}`);
  console.log('  AWS runbook order, step by step:');
  let t = 0;
  for (const s of runbook) {
    console.log(`    ${clock(t).padStart(6)}  +${clock(s.seconds).padStart(5)}  ${s.step}`);
    t += s.seconds;
  }
}

function printBundles(): void {
  console.log('\nLambda bundles (assets/, minified, SDK clients bundled):');
  const bundles = bundleSizes();
  if (bundles.length === 0) console.log('  (none: run `npx projen bundle` first)');
  for (const b of bundles) console.log(`  ${(b.bytes / 1024).toFixed(0).padStart(6)} KiB  ${b.bundle}`);
}

/** What the sample stack bills while no reset runs, line by line (prices and sources: idle-cost.ts). */
function printIdleCost(sample: SampleArtifacts, alwaysOn: SampleArtifacts): void {
  const print = (title: string, template: Template, goal: string) => {
    const charges = stackIdleChargesOf(template);
    const total = charges.reduce((sum, c) => sum + c.monthlyUsd, 0);
    console.log(`\n${title} (${PRICES_US_EAST_1.region} prices, ${HOURS_PER_MONTH} h/month): ${usd(total)}${goal}`);
    for (const c of charges) console.log(`  ${usd(c.monthlyUsd, 3).padStart(8)}  ${c.resource}: ${Math.round(c.quantity * 100) / 100} ${c.unit}`);
    return total;
  };
  print('Idle monthly cost of the sample stack (on-demand endpoints, notifications on)', Template.fromJSON(sample.template), ' (goal ≤ $2.00)');
  print('Idle monthly cost without notifications (RescueVpc, ResetWorkflow, PasswordRetention)', synthesizeWithoutNotifications(), ' (goal ≤ $0.10)');
  const always = stackIdleChargesOf(Template.fromJSON(alwaysOn.template)).reduce((sum, c) => sum + c.monthlyUsd, 0);
  console.log(`\n  For comparison, the sample stack with RescueEndpoints.alwaysOn(): ${usd(always)} a month.`);
}

/** What one offline reset adds (usage from the rehearsed reset, prices: idle-cost.ts RESET_PRICES_US_EAST_1). */
function printResetCost(sample: SampleArtifacts, offline: RehearsedReset): void {
  const charges = resetChargesOf(resetUsageOf(offline.rehearsal, offline.record, sample));
  const total = charges.reduce((sum, c) => sum + c.usd, 0);
  console.log(`\nCost of one offline reset of a 30 GiB root (${PRICES_US_EAST_1.region} On-Demand prices, usage from the rehearsal): ${usd(total)}`);
  for (const c of charges) console.log(`  ${usd(c.usd, 4).padStart(8)}  ${c.resource}: ${c.detail}`);
  console.log('  Not in it: a password-enabled image, when asked for, keeps its snapshots until you delete it (at most $1.50 a month ' +
    'for 30 GiB); a failed reset\'s backup image likewise; X-Ray traces and KMS requests (fractions of a cent).');
}

async function main(): Promise<void> {
  const sample = synthesizeSample();
  const alwaysOnSample = synthesizeSample({ rescueEndpoints: RescueEndpoints.alwaysOn() });
  const offline = await rehearseReset(sample, 'offline');
  const online = await rehearseReset(sample, 'online');
  const alwaysOn = await rehearseReset(alwaysOnSample, 'offline');

  printTimes(offline, online, alwaysOn);
  printBundles();
  printIdleCost(sample, alwaysOnSample);
  printResetCost(sample, offline);
  await printFleet();
  console.log(`\nSample stack synthesis: ${(sample.synthMs / 1000).toFixed(1)} s (in-process App.synth of SampleStack, cdk-nag not attached)`);
}

if (require.main === module) {
  main().catch(err => {
    console.error(err);
    process.exit(1);
  });
}
