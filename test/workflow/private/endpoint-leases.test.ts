import { claimClosing, CLOSING_CLAIM_SECONDS, endClosing, leasesKey, releaseLease, takeLease, unmarshalLeases } from '../../../src/workflow/private/endpoint-leases';
import { evaluateCondition } from '../../rehearsal/account/dynamodb';

const RUN = 'arn:aws:states:eu-west-1:111122223333:execution:Reset:run-1';
const NOW = 1_000_000;

/** Whether a request's condition holds for an item, as DynamoDB evaluates it (the simulated account's evaluator). */
function holds(request: { ConditionExpression?: string; ExpressionAttributeValues?: any }, item: Record<string, any> | undefined): boolean {
  return evaluateCondition(request.ConditionExpression!, item, request.ExpressionAttributeValues ?? {});
}

describe('endpoint leases (one item per VPC beside the locks)', () => {
  const key = leasesKey('vpc-1');

  test('the item\'s key cannot be an instance id', () => {
    expect(key).toEqual({ instanceId: { S: 'endpoints:vpc-1' } });
  });

  test('a lease is taken unless the janitor holds a fresh claim', () => {
    const take = takeLease('T', 'vpc-1', RUN, NOW);
    expect(take).toMatchObject({ TableName: 'T', Key: key, UpdateExpression: 'ADD leases :me', ExpressionAttributeValues: { ':me': { SS: [RUN] } } });
    expect(holds(take, undefined)).toBe(true);
    expect(holds(take, { ...key, closingSince: { N: String(NOW - 10) } })).toBe(false);
    expect(holds(take, { ...key, closingSince: { N: String(NOW - CLOSING_CLAIM_SECONDS - 1) } })).toBe(true);
  });

  test('the janitor claims only an item without leases and without a fresh claim', () => {
    const claim = claimClosing('T', 'vpc-1', NOW);
    expect(holds(claim, undefined)).toBe(true);
    expect(holds(claim, { ...key, lastReleasedAt: { N: '5' } })).toBe(true);
    expect(holds(claim, { ...key, leases: { SS: [RUN] } })).toBe(false);
    expect(holds(claim, { ...key, closingSince: { N: String(NOW - 5) } })).toBe(false);
    expect(holds(claim, { ...key, closingSince: { N: String(NOW - CLOSING_CLAIM_SECONDS - 1) } })).toBe(true);
    expect(holds(claim, { ...key, leases: { SS: [RUN] }, closingSince: { N: '1' } })).toBe(false);
  });

  test('a claim is ended only by the run that made it', () => {
    const end = endClosing('T', 'vpc-1', NOW);
    expect(holds(end, { ...key, closingSince: { N: String(NOW) } })).toBe(true);
    expect(holds(end, { ...key, closingSince: { N: String(NOW + 60) } })).toBe(false);
  });

  test('a release removes the lease and restarts the grace period', () => {
    expect(releaseLease('T', 'vpc-1', RUN, NOW)).toEqual({
      TableName: 'T',
      Key: key,
      UpdateExpression: 'DELETE leases :me SET lastReleasedAt = :now',
      ExpressionAttributeValues: { ':me': { SS: [RUN] }, ':now': { N: String(NOW) } },
    });
  });

  test('reads leases, the last release and a claim; an absent item has no lease', () => {
    expect(unmarshalLeases(undefined)).toEqual({ leases: [] });
    expect(unmarshalLeases({ ...key, leases: { SS: ['b', 'a'] }, lastReleasedAt: { N: '7' }, closingSince: { N: '9' } }))
      .toEqual({ leases: ['a', 'b'], lastReleasedAt: 7, closingSince: 9 });
  });
});
