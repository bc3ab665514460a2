import { SendCommandEvent, CommandResult } from '../private/contracts';

// Skeleton: the contract is fixed, the implementation lands with the step handlers.
export async function handler(_event: SendCommandEvent): Promise<CommandResult> {
  throw new Error('send-command: not implemented yet');
}
