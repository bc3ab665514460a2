import { CheckCommandEvent, PollResult } from '../private/contracts';

// Skeleton: the contract is fixed, the implementation lands with the step handlers.
export async function handler(_event: CheckCommandEvent): Promise<PollResult> {
  throw new Error('check-command: not implemented yet');
}
