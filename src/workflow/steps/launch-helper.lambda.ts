import { PlanEvent, HelperResult } from '../private/contracts';

// Skeleton: the contract is fixed, the implementation lands with the step handlers.
export async function handler(_event: PlanEvent): Promise<HelperResult> {
  throw new Error('launch-helper: not implemented yet');
}
