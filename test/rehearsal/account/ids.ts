/**
 * Random parts of ids the account hands out where AWS's ids are random too (command ids,
 * activity ids, customer key ids). Resource ids that timelines show come from
 * `SimulatedAccount.newId`, which is reproducible.
 */
import { randomBytes } from 'node:crypto';

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}
