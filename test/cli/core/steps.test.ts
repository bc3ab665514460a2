import { App, Stack } from 'aws-cdk-lib';
import { RESTORE_STEP_DEFINITIONS, RESTORE_STEPS, stepOfState, STEP_DEFINITIONS } from '../../../cli/core/steps';
import { ResetAccess } from '../../../src';
import { stateMachineDefinition } from '../../helpers/asl';

/** Every state of a definition, Parallel branches included. */
function allStates(definition: Record<string, any>): [string, Record<string, any>][] {
  return Object.entries(definition.States as Record<string, any>).flatMap(([name, state]) => [
    [name, state] as [string, Record<string, any>],
    ...((state.Branches ?? []) as Record<string, any>[]).flatMap(allStates),
  ]);
}

describe('the CLI\'s step catalog', () => {
  const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
  new ResetAccess(stack, 'ResetAccess');
  const states = allStates(stateMachineDefinition(stack, 'ResetAccessWorkflowResetStateMachine'));

  test('shows every Task of the synthesized reset state machine as a step', () => {
    // WHEN
    const unshown = states.filter(([name, state]) => state.Type === 'Task' && !stepOfState(name)).map(([name]) => name);

    // THEN
    expect(unshown).toEqual([]);
  });

  test('names only states that exist (a renamed state fails here)', () => {
    // GIVEN
    const names = new Set(states.map(([name]) => name));

    // WHEN
    const missing = STEP_DEFINITIONS.flatMap(step => [...(step.states ?? []), ...(step.pollLoops ?? []).flatMap(t => [t, `${t}Start`, `${t}Done?`])])
      .filter(name => !names.has(name));

    // THEN
    expect(missing).toEqual([]);
  });

  describe('of the restore state machine', () => {
    const restoreStates = allStates(stateMachineDefinition(stack, 'ResetAccessWorkflowRestoreStateMachine'));

    test('shows every Task as a step, with an operator label that says it is the restore state machine', () => {
      // WHEN
      const unshown = restoreStates.filter(([name, state]) => state.Type === 'Task' && !RESTORE_STEPS.stepOf(name)).map(([name]) => name);

      // THEN
      expect(unshown).toEqual([]);
      expect(RESTORE_STEP_DEFINITIONS.map(step => step.label)).toEqual([
        'Read what the reset changed (restore state machine)',
        'Put the instance back (restore state machine)',
      ]);
    });

    test('names only states that exist', () => {
      // GIVEN
      const names = new Set(restoreStates.map(([name]) => name));

      // WHEN
      const missing = RESTORE_STEP_DEFINITIONS.flatMap(step => [...(step.states ?? []), ...(step.pollLoops ?? []).flatMap(t => [t, `${t}Start`, `${t}Done?`])])
        .filter(name => !names.has(name));

      // THEN
      expect(missing).toEqual([]);
    });
  });
});
