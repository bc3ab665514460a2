/**
 * Which EC2Rescue password parameters have outlived their retention. Plain data in, plain
 * data out: the handler lists the parameters and deletes what this returns.
 */

/** Parameters EC2Rescue's `ResetAccess` writes: `/EC2Rescue/Passwords/<instance-id>`. */
export const PASSWORD_PARAMETER_PATTERN = /^\/EC2Rescue\/Passwords\/i-[0-9a-f]{8,17}$/;

/** The name prefix the handler lists with (a `BeginsWith` filter); the pattern above is checked again. */
export const PASSWORD_PARAMETER_NAME_PREFIX = '/EC2Rescue/Passwords/i-';

/** Environment variable carrying the retention in seconds. */
export const RETENTION_SECONDS_ENV = 'PASSWORD_RETENTION_SECONDS';

/** What the listing says about one parameter (a subset of `ParameterMetadata`). */
export interface ListedParameter {
  readonly name?: string;
  readonly lastModifiedDate?: Date;
}

/**
 * The names of the password parameters last modified more than `retentionSeconds` before `now`.
 * A parameter whose name is not an instance id under the password path, or whose age is
 * unknown, is kept: deleting is the one thing this function must never get wrong.
 */
export function expiredPasswordParameters(parameters: ListedParameter[], now: Date, retentionSeconds: number): string[] {
  const cutoff = now.getTime() - retentionSeconds * 1000;
  return parameters
    .filter(p => p.name !== undefined && PASSWORD_PARAMETER_PATTERN.test(p.name))
    .filter(p => p.lastModifiedDate !== undefined && p.lastModifiedDate.getTime() < cutoff)
    .map(p => p.name as string);
}

/** Parses the retention from the environment; a missing or invalid value is a deployment error. */
export function retentionSecondsFrom(value: string | undefined): number {
  const seconds = Number(value);
  if (!value || !Number.isInteger(seconds) || seconds <= 0) {
    throw new InvalidRetentionError(`${RETENTION_SECONDS_ENV} must be a positive whole number of seconds, got ${JSON.stringify(value)}`);
  }
  return seconds;
}

/** Splits a list into chunks of at most `size` (DeleteParameters takes up to 10 names). */
export function chunks<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

export class InvalidRetentionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRetention';
  }
}
