/**
 * `npx projen rehearse`: one offline reset of a running Windows instance, run by the synthesized
 * sample stack's state machine against the simulated account (test/rehearsal/), printed as a
 * timeline in modelled time and drawn as docs/rehearsal-timeline.svg; then the IAM scenarios
 * (test/rehearsal/iam/coverage.ts), every call authorized as its function's role, summed up in one
 * line (`IAM: <calls> calls authorized, <denied> denied, <unused> unused statements`) with the
 * unused statements by role.
 */
import './load-text';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CUSTOMER_KEY_SAMPLE, iamReport, rehearseIamScenarios, statementUses } from '../test/rehearsal/iam/coverage';
import { ExecutionRecord, Rehearsal } from '../test/rehearsal/runner';
import { SampleArtifacts, synthesizeSample } from '../test/rehearsal/sample';
import { Marker, timelineRows, timelineSvg, timelineText } from '../test/rehearsal/timeline';
import { managedTarget, windowsTarget } from '../test/rehearsal/world';

export const SVG_PATH = path.join(__dirname, '..', 'docs', 'rehearsal-timeline.svg');

/** After a reset, long enough for the on-demand endpoints' grace period (15 min), the janitor's next run and the deletion. */
export const ENDPOINTS_SETTLED_SECONDS = 30 * 60;

export interface RehearsedReset {
  /** The rehearsal it ran in (disposed: its account and logs stay readable, for the bench's cost figures). */
  readonly rehearsal: Rehearsal;
  readonly record: ExecutionRecord;
  /** Seconds from the start until the account holds the new password (GetPasswordData non-empty, or the parameter written). */
  readonly passwordAvailable: number;
  readonly markers: Marker[];
}

/** Runs one reset in a fresh rehearsal and returns its record and when the new password existed. */
export async function rehearseReset(sample: SampleArtifacts, method: 'offline' | 'online'): Promise<RehearsedReset> {
  // (The sample's endpoints are on demand unless it was synthesized with RescueEndpoints.alwaysOn().)
  const r = new Rehearsal(sample);
  try {
    const target = method === 'offline' ? windowsTarget(r.account) : managedTarget(r.account);
    const record = await r.reset({ instanceId: target.instanceId, method });
    if (record.status !== 'SUCCEEDED') throw new Error(`The rehearsed ${method} reset ended ${record.status}: ${record.error} ${record.cause}`);
    // On-demand endpoints: let the grace period pass, so that the janitor deletes them (their hours are part of the reset's cost).
    if (r.hasJanitor) await r.idle(ENDPOINTS_SETTLED_SECONDS);
    const moment = (prefix: string) => r.account.moments.find(m => m.what === `${prefix}:${target.instanceId}`);
    const password = moment(method === 'offline' ? 'password-data' : 'password-parameter')!;
    const at = (ms: number) => (ms - record.start) / 1000;
    const markers: Marker[] = [{ label: 'new password exists', at: at(password.at) }];
    return { rehearsal: r, record, passwordAvailable: at(password.at), markers };
  } finally {
    r.dispose();
  }
}

async function main(): Promise<void> {
  const sample = synthesizeSample();
  const { record, markers, passwordAvailable } = await rehearseReset(sample, 'offline');
  const rows = timelineRows(record, sample.reset.definition);
  const total = ((record.end ?? record.start) - record.start) / 1000;
  console.log('Offline reset of a running Windows instance, rehearsed against the simulated account (modelled time):\n');
  console.log(timelineText(rows, markers));
  console.log(`\nExecution ${record.status} after ${(total / 60).toFixed(1)} min; the new password existed after ${(passwordAvailable / 60).toFixed(1)} min.`);
  const svg = timelineSvg(
    'Offline reset of a running Windows instance (rehearsal, modelled time)',
    rows, markers,
    `Sample stack state machine, real step handlers, simulated account; latencies: test/rehearsal/latencies.ts. Total ${(total / 60).toFixed(1)} min.`,
  );
  fs.writeFileSync(SVG_PATH, svg);
  console.log(`Wrote ${path.relative(process.cwd(), SVG_PATH)}`);

  const samples = { default: sample, customerKey: synthesizeSample(CUSTOMER_KEY_SAMPLE) };
  const runs = await rehearseIamScenarios(samples);
  console.log(`\n${iamReport(runs, await statementUses(runs, samples)).join('\n')}`);
}

if (require.main === module) {
  main().catch(err => {
    console.error(err);
    process.exit(1);
  });
}
