import { RestoreEvent, RestoreResult } from '../private/contracts';

// Skeleton: the contract is fixed, the implementation lands with the step handlers.
export async function handler(_event: RestoreEvent): Promise<RestoreResult> {
  throw new Error('restore: not implemented yet');
}
