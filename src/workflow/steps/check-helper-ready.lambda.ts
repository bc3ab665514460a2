import { HelperEvent, PollResult } from '../private/contracts';

// Skeleton: the contract is fixed, the implementation lands with the step handlers.
export async function handler(_event: HelperEvent): Promise<PollResult> {
  throw new Error('check-helper-ready: not implemented yet');
}
