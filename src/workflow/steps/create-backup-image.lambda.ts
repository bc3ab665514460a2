import { PlanEvent, ImageResult } from '../private/contracts';

// Skeleton: the contract is fixed, the implementation lands with the step handlers.
export async function handler(_event: PlanEvent): Promise<ImageResult> {
  throw new Error('create-backup-image: not implemented yet');
}
