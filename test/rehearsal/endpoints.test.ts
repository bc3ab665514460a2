import { baselineOf, describeExecutions, invariantViolations, leftBehindViolations } from './invariants';
import { LATENCY } from './latencies';
import { Rehearsal } from './runner';
import { SampleArtifacts, synthesizeSample } from './sample';
import { windowsTarget } from './world';
import { RescueEndpoints } from '../../src';
import { ENDPOINT_JANITOR_INTERVAL_MINUTES } from '../../src/workflow/endpoints/janitor-config';

/**
 * On-demand interface endpoints (issue 13), rehearsed with the sample stack's default
 * (`RescueEndpoints.onDemand()`, 15 minutes of grace): created when an offline reset starts,
 * shared, released by the restore, deleted by the janitor once idle; never left behind.
 */
describe('rehearsal: on-demand interface endpoints', () => {
  let sample: SampleArtifacts;
  let r: Rehearsal;
  beforeAll(() => {
    sample = synthesizeSample();
  });
  afterEach(() => r?.dispose());

  const GRACE_SECONDS = 15 * 60;
  /** Enough for the grace period, the janitor's next tick and the deletion. */
  const PAST_GRACE_SECONDS = GRACE_SECONDS + ENDPOINT_JANITOR_INTERVAL_MINUTES * 60 + LATENCY.vpcEndpointDeletion.seconds;
  const creates = () => r.account.calls.filter(c => c.operation === 'CreateVpcEndpoint' && !c.error);
  const workflowEndpoints = () => [...r.account.vpcEndpoints.values()].filter(e => e.tags['cdk-ec2-reset-access:role'] === 'endpoint');
  /** When the restores released their leases (before the password check): the grace period runs from there. */
  const releases = () => r.account.calls.filter(c => c.input?.UpdateExpression?.startsWith('DELETE leases') && !c.error).map(c => c.at);
  /**
   * Lets modelled time pass until `at`, the janitor on its schedule. The reconciler's schedule runs
   * until its first tick after the last execution, so the clock may already be past the reset's end.
   */
  const idleUntil = async (at: number) => {
    await r.finished();
    const from = Math.max(r.clock.now(), ...r.executions.map(e => e.end ?? 0));
    await r.idle((at - from) / 1000);
  };

  test('between resets no interface endpoint exists: created for the reset in its zone\'s subnet, deleted after the grace period', async () => {
    // GIVEN no interface endpoint in the rescue VPC, only the S3 gateway endpoint of the stack
    r = new Rehearsal(sample);
    expect([...r.account.vpcEndpoints.values()].map(e => e.type)).toEqual(['Gateway']);
    const target = windowsTarget(r.account);
    const base = baselineOf(r.account, target.instanceId);

    // WHEN one offline reset runs, then time passes
    const run = await r.reset({ instanceId: target.instanceId, method: 'offline' });

    // THEN the reset opened the three endpoints with private DNS in the subnet of its zone only, and released its lease
    expect(run.status).toBe('SUCCEEDED');
    expect(workflowEndpoints().map(e => e.serviceName.split('.').pop()).sort()).toEqual(['ec2messages', 'ssm', 'ssmmessages']);
    const subnet = r.config().subnetsByAz['us-east-1a'];
    for (const e of workflowEndpoints()) expect({ dns: e.privateDnsEnabled, subnets: e.subnetIds }).toEqual({ dns: true, subnets: [subnet] });
    expect(invariantViolations(r, base, { expectFixed: true })).toEqual([]);

    // ...they stay for the grace period after the restore released the lease...
    expect(releases()).toHaveLength(1);
    await idleUntil(releases()[0] + (GRACE_SECONDS - 60) * 1000);
    expect(workflowEndpoints().map(e => e.state)).toEqual(['available', 'available', 'available']);

    // ...and are gone once it has passed
    await r.idle(PAST_GRACE_SECONDS);
    expect(leftBehindViolations(r)).toEqual([]);
    expect(workflowEndpoints().map(e => e.state)).toEqual(['deleted', 'deleted', 'deleted']);
    expect(r.janitorRuns.filter(j => j.error)).toEqual([]);
  });

  test('a second reset within the grace period reuses them; the grace period runs again from its release', async () => {
    // GIVEN a first reset, and ten minutes after its release a second one of another instance, in the other zone
    r = new Rehearsal(sample);
    const first = windowsTarget(r.account);
    const second = windowsTarget(r.account, { availabilityZone: 'us-east-1b' });
    await r.reset({ instanceId: first.instanceId });
    await idleUntil(releases()[0] + 10 * 60 * 1000);

    // WHEN
    const run = await r.reset({ instanceId: second.instanceId });

    // THEN nothing was created for it, and it waited for no endpoint (one poll found them available)
    expect(run.status).toBe('SUCCEEDED');
    expect(creates()).toHaveLength(3);
    expect(run.visited.filter(s => s === 'CheckEndpoints')).toHaveLength(1);
    // The second reset's restore released its lease (before the password check): the grace period runs from there.
    const released = releases();
    expect(released).toHaveLength(2);
    await idleUntil(released[1] + (GRACE_SECONDS - 60) * 1000);
    expect(workflowEndpoints().map(e => e.state)).toEqual(['available', 'available', 'available']);
    await r.idle(PAST_GRACE_SECONDS);
    expect(leftBehindViolations(r)).toEqual([]);
  });

  test('a restore whose event is lost: the restore the reconciler starts releases the lease, and the endpoints close after the grace period', async () => {
    // GIVEN a restore rule that never fires (only the scheduled reconciler starts a restore)
    r = new Rehearsal(sample, { restoreRulePattern: { source: ['rehearsal.never'] } });
    const target = windowsTarget(r.account);

    // WHEN the reset is stopped while the volume is on the helper
    const run = await r.reset({ instanceId: target.instanceId }, { faults: [{ machine: 'reset', state: 'SendOfflineFix', kind: 'abort' }] });

    // THEN the reconciler's restore (not the janitor, which has not run) released the reset's lease...
    expect(run.status).toBe('ABORTED');
    expect(r.janitorRuns).toEqual([]);
    const restores = r.executions.filter(e => e.machine === 'restore');
    expect(restores.map(e => [e.name.startsWith(`reconcile-${target.instanceId}-`), e.status])).toEqual([[true, 'SUCCEEDED']]);
    const releasedBy = r.account.calls.filter(c => c.input?.UpdateExpression?.startsWith('DELETE leases') && !c.error).map(c => c.context?.execution);
    expect(releasedBy).toEqual([restores[0].name]);
    // ...and the endpoints stay for the grace period from that release, then are gone with nothing left behind.
    await idleUntil(releases()[0] + (GRACE_SECONDS - 60) * 1000);
    expect(workflowEndpoints().map(e => e.state)).toEqual(['available', 'available', 'available']);
    await r.idle(PAST_GRACE_SECONDS);
    expect(workflowEndpoints().map(e => e.state)).toEqual(['deleted', 'deleted', 'deleted']);
    expect(leftBehindViolations(r)).toEqual([]);
  });

  test('concurrent resets in two zones share one endpoint per service', async () => {
    // GIVEN
    r = new Rehearsal(sample);
    const a = windowsTarget(r.account);
    const b = windowsTarget(r.account, { availabilityZone: 'us-east-1b' });

    // WHEN both start together
    const runs = [r.start('reset', { instanceId: a.instanceId }), r.start('reset', { instanceId: b.instanceId })];
    await r.finished();

    // THEN both succeed with three endpoints, and the last one to finish started the grace period
    expect(describeExecutions(r)).toMatch(/reset-001 SUCCEEDED; reset-002 SUCCEEDED/);
    expect(runs.map(run => run.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(workflowEndpoints()).toHaveLength(3);
    await r.idle(PAST_GRACE_SECONDS);
    expect(leftBehindViolations(r)).toEqual([]);
  });

  test('a reset that starts while the janitor deletes them waits until they are gone, then creates new ones', async () => {
    // GIVEN a reset, then just enough time for the janitor to have asked for their deletion
    r = new Rehearsal(sample);
    const first = windowsTarget(r.account);
    const second = windowsTarget(r.account);
    await r.reset({ instanceId: first.instanceId });
    const deletedAt = () => r.janitorRuns.find(j => j.result?.deleted?.length)?.at;
    while (deletedAt() === undefined) await r.idle(ENDPOINT_JANITOR_INTERVAL_MINUTES * 60);
    expect(workflowEndpoints().map(e => e.state)).toEqual(['deleting', 'deleting', 'deleting']);

    // WHEN the second reset starts at once
    const run = await r.reset({ instanceId: second.instanceId }, { at: deletedAt()! });

    // THEN it succeeded with three new endpoints, created only once the old ones were deleted
    expect(run.status).toBe('SUCCEEDED');
    expect(creates()).toHaveLength(6);
    const deleted = Math.max(...r.account.moments.filter(m => m.what.startsWith('vpc-endpoint-deleted:')).map(m => m.at));
    expect(creates().slice(3).every(c => c.at >= deleted)).toBe(true);
    await r.idle(PAST_GRACE_SECONDS);
    expect(leftBehindViolations(r)).toEqual([]);
  });

  test('no reset loses its endpoints mid-flight: the janitor, running on its schedule during a reset, keeps the endpoints it leases past the grace period', async () => {
    // GIVEN a first reset, and a second one starting two minutes before the grace period of the first one's release ends
    r = new Rehearsal(sample);
    const first = windowsTarget(r.account);
    const second = windowsTarget(r.account);
    await r.reset({ instanceId: first.instanceId });
    const releasedAt = r.account.calls.find(c => c.input?.UpdateExpression?.startsWith('DELETE leases') && !c.error)!.at;
    const startAt = releasedAt + (GRACE_SECONDS - 120) * 1000;

    // WHEN it runs with the janitor ticking every five minutes alongside it
    const run = r.start('reset', { instanceId: second.instanceId }, { at: startAt });
    r.janitorAlongside(startAt + 20 * 60_000);
    await r.finished();

    // THEN the janitor ran while the reset held its lease (until its restore released it, once the helper was gone),
    // after the first release's grace period had passed, and deleted nothing
    expect(run.status).toBe('SUCCEEDED');
    const secondReleaseAt = r.account.calls.filter(c => c.input?.UpdateExpression?.startsWith('DELETE leases') && !c.error)[1].at;
    const during = r.janitorRuns.filter(j => j.at > releasedAt + GRACE_SECONDS * 1000 && j.at < secondReleaseAt);
    expect(during.length).toBeGreaterThanOrEqual(1);
    expect(during.map(j => j.result)).toEqual(during.map(() => ({ released: [], deleted: [], reason: '1 reset(s) use the endpoints' })));
    expect(r.account.calls.filter(c => c.operation === 'DeleteVpcEndpoints' && c.at < run.end!)).toEqual([]);
    expect(creates()).toHaveLength(3);
    // ...and closed them once the reset had released its lease and the grace period had passed
    await r.idle(PAST_GRACE_SECONDS);
    expect(leftBehindViolations(r)).toEqual([]);
  });

  test('the endpoints are not on the critical path: the offline reset takes at most 0.2 min longer than with always-on endpoints', async () => {
    // GIVEN the same reset with always-on endpoints (created with the stack)
    const alwaysOn = synthesizeSample({ rescueEndpoints: RescueEndpoints.alwaysOn() });
    const passwordAfter = async (s: SampleArtifacts) => {
      r?.dispose();
      r = new Rehearsal(s);
      const target = windowsTarget(r.account);
      const run = await r.reset({ instanceId: target.instanceId });
      expect(run.status).toBe('SUCCEEDED');
      return r.account.moments.find(m => m.what === `password-data:${target.instanceId}`)!.at - run.start;
    };

    // WHEN
    const onDemandMs = await passwordAfter(sample);
    const alwaysOnMs = await passwordAfter(alwaysOn);

    // THEN (the helper boots longer than the endpoints take to become available)
    expect(LATENCY.vpcEndpointPendingToAvailable.seconds)
      .toBeLessThan(LATENCY.instancePendingToRunning.seconds + LATENCY.windowsBootToSsmOnline.seconds);
    expect((onDemandMs - alwaysOnMs) / 60_000).toBeLessThanOrEqual(0.2);
    expect(alwaysOn.world.endpoints.filter(e => e.type === 'Interface')).toHaveLength(3);
  });
});
