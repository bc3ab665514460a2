import { LoadJournalEvent, LoadJournalResult } from '../private/contracts';

// Skeleton: the contract is fixed, the implementation lands with the step handlers.
export async function handler(_event: LoadJournalEvent): Promise<LoadJournalResult> {
  throw new Error('load-journal: not implemented yet');
}
