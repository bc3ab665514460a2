import './load-text';
import { Rehearsal } from '../test/rehearsal/runner';
import { synthesizeSample } from '../test/rehearsal/sample';
import { windowsTarget } from '../test/rehearsal/world';

async function main() {
  const sample = synthesizeSample();
  const n = Number(process.argv[2] ?? 10);
  const r = new Rehearsal(sample);
  const t0 = Date.now();
  const azs = ['us-east-1a', 'us-east-1b'];
  const targets = Array.from({ length: n }, (_, i) => windowsTarget(r.account, { availabilityZone: azs[i % 2] } as any));
  const records = targets.map(t => r.start('reset', { instanceId: t.instanceId, method: 'offline' }));
  await r.finished();
  console.log(records.map(x => x.status).join(','), 'wall', Date.now() - t0, 'ms', 'modelled', Math.max(...records.map(x => (x.end! - x.start))) / 60000, 'min');
  console.log(r.iam.summary ? JSON.stringify((r.iam as any).summary()) : '');
  r.dispose();
}
main().catch(e => { console.error(e); process.exit(1); });
