import { ERRORS } from '../../src/workflow/private/contracts';
import { FleetIteration, outcomeOf, summarizeFleet } from '../../src/workflow/private/fleet-outcome';
import { FleetPlanResult } from '../../src/workflow/private/fleet-request';

/*
 * Each instance's outcome from what its iteration of the fleet machine holds: the child's result
 * (startExecution.sync:2), or the Catch's failure, whose cause is the child's DescribeExecution as
 * JSON, and the wait for the instance's lock.
 */

const ID = 'i-0123456789abcdef0';
const ARN = 'arn:aws:states:us-east-1:123456789012:execution:Reset:3bebd578-0bfa-4fe3-a27f-1b1bc44fd656';
const request = { instanceId: ID, method: 'offline' as const, acknowledge: [], passwordEnabledAmi: false, dryRun: false };
const ended = (child: Record<string, unknown>): FleetIteration['failure'] =>
  ({ Error: 'States.TaskFailed', Cause: JSON.stringify({ ExecutionArn: ARN, ...child }) });

describe('outcomeOf', () => {
  test('a child that succeeded: succeeded, with its output; a dry run\'s: planned', () => {
    const child = { executionArn: ARN, status: 'SUCCEEDED', output: { passwordStatus: 'available' } };
    expect(outcomeOf({ ...request, child })).toEqual({ instanceId: ID, outcome: 'succeeded', executionArn: ARN, output: child.output });
    expect(outcomeOf({ ...request, dryRun: true, child }).outcome).toBe('planned');
  });

  test('a preflight\'s named error is a refusal; an error after changes began is a failure', () => {
    const refused = outcomeOf({ ...request, failure: ended({ Status: 'FAILED', Error: ERRORS.autoScalingMember, Cause: 'add auto-scaling-standby' }) });
    expect(refused).toMatchObject({ outcome: 'refused', error: ERRORS.autoScalingMember, cause: 'add auto-scaling-standby', executionArn: ARN });
    const failed = outcomeOf({ ...request, failure: ended({ Status: 'FAILED', Error: 'UnauthorizedOperation', Cause: 'denied' }) });
    expect(failed).toMatchObject({ outcome: 'failed', error: 'UnauthorizedOperation' });
  });

  test('an aborted child whose lock was released (the item stays, without an owner) before the fleet moved on: failed, put back', () => {
    const outcome = outcomeOf({ ...request, failure: ended({ Status: 'ABORTED' }), release: { polls: 7, lock: { Item: {} } } });
    expect(outcome).toMatchObject({ outcome: 'failed', error: 'ABORTED', cause: expect.stringMatching(/put the instance back before the fleet went on/) });
    expect(outcome).not.toHaveProperty('restorePending');
  });

  test('a lock still held when the wait ended, or a lock that could not be read: restore pending', () => {
    const held = outcomeOf({ ...request, failure: ended({ Status: 'TIMED_OUT' }), release: { polls: 240, lock: { Item: { executionArn: { S: ARN } } } } });
    expect(held).toMatchObject({ outcome: 'failed', error: 'TIMED_OUT', restorePending: true, cause: expect.stringMatching(/had not put the instance back/) });
    const unread = outcomeOf({ ...request, failure: ended({ Status: 'ABORTED' }), release: { polls: 0, readError: { Error: 'DynamoDB.AccessDeniedException' } } });
    expect(unread.restorePending).toBe(true);
  });

  test('a child that never started: not-started, with the start\'s error', () => {
    const outcome = outcomeOf({ ...request, failure: { Error: 'StepFunctions.ExecutionLimitExceededException', Cause: 'too many executions' }, release: { polls: 0, lock: {} } });
    expect(outcome).toEqual({ instanceId: ID, outcome: 'not-started', error: 'StepFunctions.ExecutionLimitExceededException', cause: 'too many executions' });
  });
});

test('summarizeFleet counts the outcomes and names each instance\'s zone', () => {
  const plan = {
    selection: 'ids',
    dryRun: false,
    targets: [{ instanceId: ID, availabilityZone: 'us-east-1a' }, { instanceId: 'i-1', availabilityZone: 'us-east-1b' }],
    plan: { waves: [] },
    waves: [],
  } as unknown as FleetPlanResult;
  const summary = summarizeFleet(plan, [
    { ...request, child: { executionArn: ARN, status: 'SUCCEEDED' } },
    { ...request, instanceId: 'i-1', failure: ended({ Status: 'ABORTED' }), release: { polls: 1, lock: {} } },
  ]);
  expect(summary.counts).toEqual({ 'succeeded': 1, 'planned': 0, 'refused': 0, 'failed': 1, 'not-started': 0 });
  expect(summary.instances.map(i => [i.instanceId, i.availabilityZone, i.outcome])).toEqual([[ID, 'us-east-1a', 'succeeded'], ['i-1', 'us-east-1b', 'failed']]);
});
