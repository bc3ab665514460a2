import { Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Whether two constructs deploy to the same account and Region, as far as synthesis can tell:
 * `same` in one stack, or in stacks whose account and Region are both known and equal;
 * `different` when a known account or Region differs; `unknown` otherwise (an
 * environment-agnostic stack gets its account and Region from the credentials at deploy time).
 */
export type SharedEnvironment = 'same' | 'different' | 'unknown';

export function sharedEnvironment(a: IConstruct, b: IConstruct): SharedEnvironment {
  const mine = Stack.of(a);
  const theirs = Stack.of(b);
  if (mine === theirs) return 'same';
  const known = (value: string) => !Token.isUnresolved(value);
  const differs = (x: string, y: string) => known(x) && known(y) && x !== y;
  if (differs(mine.account, theirs.account) || differs(mine.region, theirs.region)) return 'different';
  const allKnown = [mine.account, mine.region, theirs.account, theirs.region].every(known);
  return allKnown ? 'same' : 'unknown';
}

