import { PlanEvent, LockResult } from '../private/contracts';

// Skeleton: the contract is fixed, the implementation lands with the step handlers.
export async function handler(_event: PlanEvent): Promise<LockResult> {
  throw new Error('acquire-lock: not implemented yet');
}
