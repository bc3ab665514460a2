import { ErrorName } from './contracts';

/**
 * An error the state machine can match by name: `name` is one of the contract's
 * {@link ERRORS}, so a `Retry` or `Catch` on that name sees it, and the execution
 * fails with it as its `error`. The message is one sentence that says what to do.
 */
export class WorkflowError extends Error {
  public readonly name: ErrorName;

  constructor(name: ErrorName, message: string) {
    super(message);
    this.name = name;
  }
}

/** A blocker found before anything was changed: the reset does not start. */
export class PreflightError extends WorkflowError {}

/** The AWS error code of an SDK exception (`name` in SDK v3), if any. */
export function awsErrorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object') {
    const e = err as { name?: unknown; Code?: unknown; code?: unknown };
    for (const candidate of [e.name, e.Code, e.code]) {
      if (typeof candidate === 'string' && candidate !== 'Error') return candidate;
    }
  }
  return undefined;
}

/** True when `err` is an AWS error with one of the given codes. */
export function isAwsError(err: unknown, ...codes: string[]): boolean {
  const code = awsErrorCode(err);
  return code !== undefined && codes.includes(code);
}
