import { PreflightEvent, ResetPlan } from '../private/contracts';

// Skeleton: the contract is fixed, the implementation lands with the step handlers.
export async function handler(_event: PreflightEvent): Promise<ResetPlan> {
  throw new Error('preflight: not implemented yet');
}
