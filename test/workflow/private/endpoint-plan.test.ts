import { EndpointObservation, nextEndpointStep, planEndpointJanitor } from '../../../src/workflow/private/endpoint-plan';

const SSM = 'com.amazonaws.eu-west-1.ssm';
const MESSAGES = 'com.amazonaws.eu-west-1.ssmmessages';
const EC2_MESSAGES = 'com.amazonaws.eu-west-1.ec2messages';
const SERVICES = [SSM, MESSAGES, EC2_MESSAGES];
const RUN = 'arn:aws:states:eu-west-1:111122223333:execution:Reset:run-1';
const OTHER = 'arn:aws:states:eu-west-1:111122223333:execution:Reset:run-2';

let counter = 0;
function endpoint(serviceName: string, state: string, o: Partial<EndpointObservation> = {}): EndpointObservation {
  return { endpointId: `vpce-${++counter}`, serviceName, state, ours: true, privateDnsEnabled: true, createdAt: 1000, ...o };
}

describe('nextEndpointStep', () => {
  test('creates every service that has no endpoint, and waits for them', () => {
    expect(nextEndpointStep(SERVICES, [])).toEqual({
      create: SERVICES, delete: [], waitingFor: SERVICES.map(s => `${s} requested`), ready: false,
    });
  });

  test('is ready once each service has an available endpoint of ours', () => {
    expect(nextEndpointStep(SERVICES, SERVICES.map(s => endpoint(s, 'available')))).toEqual({ create: [], delete: [], waitingFor: [], ready: true });
  });

  test('waits for pending endpoints, and for deleting ones before creating anew (they hold the private DNS name)', () => {
    const step = nextEndpointStep(SERVICES, [endpoint(SSM, 'pending'), endpoint(MESSAGES, 'deleting'), endpoint(EC2_MESSAGES, 'available')]);
    expect(step).toEqual({ create: [], delete: [], waitingFor: [`${SSM} pending`, `${MESSAGES} deleting`], ready: false });
  });

  test('creates anew once a deleted endpoint is gone', () => {
    expect(nextEndpointStep([SSM], [endpoint(SSM, 'deleted')]).create).toEqual([SSM]);
  });

  test('deletes a failed endpoint of ours and creates its replacement only once it is gone', () => {
    const failed = endpoint(SSM, 'failed');
    expect(nextEndpointStep([SSM], [failed])).toEqual({ create: [], delete: [failed.endpointId], waitingFor: [`${SSM} failed`], ready: false });
  });

  test('refuses a VPC that has an endpoint with private DNS for the service that is not ours, naming it', () => {
    const foreign = endpoint(SSM, 'available', { ours: false, endpointId: 'vpce-theirs' });
    expect(() => nextEndpointStep([SSM], [foreign])).toThrow(expect.objectContaining({
      name: 'EndpointsUnavailable', message: expect.stringMatching(/vpce-theirs.*RescueEndpoints.none/),
    }));
    // One without private DNS does not conflict.
    expect(nextEndpointStep([SSM], [{ ...foreign, privateDnsEnabled: false }]).create).toEqual([SSM]);
  });
});

describe('planEndpointJanitor', () => {
  const base = { executionStatus: {}, nowEpochSeconds: 10_000, gracePeriodSeconds: 900 };
  const open = SERVICES.map(s => endpoint(s, 'available'));

  test('keeps the endpoints while a reset holding a lease runs', () => {
    const plan = planEndpointJanitor({ ...base, leases: { leases: [RUN], lastReleasedAt: 1 }, executionStatus: { [RUN]: 'RUNNING' }, endpoints: open });
    expect(plan).toMatchObject({ release: [], close: [] });
  });

  test('releases the leases of resets that ended or that Step Functions no longer knows, and starts the grace period', () => {
    const plan = planEndpointJanitor({
      ...base, leases: { leases: [OTHER, RUN] }, executionStatus: { [RUN]: 'FAILED' }, endpoints: open,
    });
    expect(plan).toEqual({ release: [OTHER, RUN], close: [], reason: 'leases released now: the grace period starts' });
  });

  test('keeps idle endpoints within the grace period after the last release', () => {
    const plan = planEndpointJanitor({ ...base, leases: { leases: [], lastReleasedAt: 10_000 - 899 }, endpoints: open });
    expect(plan.close).toEqual([]);
    expect(plan.reason).toBe('idle for 899 s of the 900 s grace period');
  });

  test('closes every billing endpoint of ours once the grace period has passed, broken ones included', () => {
    const broken = endpoint(SSM, 'failed');
    const gone = endpoint(MESSAGES, 'deleted');
    const plan = planEndpointJanitor({ ...base, leases: { leases: [], lastReleasedAt: 10_000 - 900 }, endpoints: [...open, broken, gone] });
    expect(plan.close).toEqual([...open.map(e => e.endpointId), broken.endpointId]);
  });

  test('without any release recorded, the grace period runs from the newest endpoint\'s creation', () => {
    const young = [endpoint(SSM, 'available', { createdAt: 9_500 })];
    expect(planEndpointJanitor({ ...base, leases: { leases: [] }, endpoints: young }).close).toEqual([]);
    expect(planEndpointJanitor({ ...base, nowEpochSeconds: 10_400, leases: { leases: [] }, endpoints: young }).close).toEqual([young[0].endpointId]);
  });

  test('has nothing to close when the endpoints are already deleting', () => {
    const plan = planEndpointJanitor({ ...base, leases: { leases: [], lastReleasedAt: 1 }, endpoints: [endpoint(SSM, 'deleting')] });
    expect(plan).toEqual({ release: [], close: [], reason: 'no endpoint to close' });
  });
});
