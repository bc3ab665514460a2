import { Rehearsal } from './runner';
import { synthesizeSample } from './sample';
import { windowsTarget, managedTarget } from './world';
test('dbg', async () => {
  const sample = synthesizeSample();
  for (const build of [(r: Rehearsal) => windowsTarget(r.account, { platform: 'linux' }), (r: Rehearsal) => windowsTarget(r.account), (r: Rehearsal) => managedTarget(r.account)]) {
    const r = new Rehearsal(sample);
    const t = build(r);
    const run = await r.reset({ instanceId: t.instanceId, method: 'auto' });
    console.log(run.status, run.error, run.cause?.slice(0, 600));
    console.log(r.iam.denials().map(d => `${d.role} ${d.call} ${d.requests.filter(q => q.decision !== 'Allowed').map(q => q.request.action + ' ' + q.request.resource).join(',')}`).join('\n'));
    r.dispose();
  }
});
