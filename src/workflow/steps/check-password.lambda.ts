import { PlanEvent, PollResult } from '../private/contracts';

// Skeleton: the contract is fixed, the implementation lands with the step handlers.
export async function handler(_event: PlanEvent): Promise<PollResult> {
  throw new Error('check-password: not implemented yet');
}
