import { Acknowledgement, ERRORS, RequestedMethod, ResetRequest } from './contracts';
import { PreflightError } from './errors';

/** `i-` and 8 or 17 hex digits (the length range accepts both EC2 id formats). */
export const INSTANCE_ID_PATTERN = /^i-[0-9a-f]{8,17}$/;
export const METHODS: readonly RequestedMethod[] = ['auto', 'online', 'offline'];
export const ACKNOWLEDGEMENTS: readonly Acknowledgement[] = ['public-ip-release', 'instance-store-data-loss', 'auto-scaling-standby', 'auto-scaling-min-size'];
const FIELDS = ['instanceId', 'method', 'passwordEnabledAmi', 'acknowledge', 'dryRun'];

/** A request with every optional field filled with its default. */
export interface ValidRequest {
  readonly instanceId: string;
  readonly method: RequestedMethod;
  readonly passwordEnabledAmi: boolean;
  readonly acknowledge: readonly Acknowledgement[];
  readonly dryRun: boolean;
}

function invalid(message: string): PreflightError {
  return new PreflightError(ERRORS.invalidInput, message);
}

/**
 * Checks the execution input; a bad input fails with `InvalidInput` and a message that
 * says what to change, before anything is looked up or touched.
 */
export function validateRequest(input: unknown): ValidRequest {
  const r = inputObject(input, FIELDS, '{"instanceId": "i-0123456789abcdef0"}');
  if (typeof r.instanceId !== 'string' || !INSTANCE_ID_PATTERN.test(r.instanceId)) {
    throw invalid(`Set instanceId to an EC2 instance id such as i-0123456789abcdef0 (got ${describe(r.instanceId)}).`);
  }
  checkResetOptions(r);
  const request = r as unknown as ResetRequest;
  return {
    instanceId: request.instanceId,
    method: request.method ?? 'auto',
    passwordEnabledAmi: request.passwordEnabledAmi ?? false,
    acknowledge: [...new Set(request.acknowledge ?? [])],
    dryRun: request.dryRun ?? false,
  };
}

/** The input as an object with only `fields`, or `InvalidInput` that shows `example`. */
export function inputObject(input: unknown, fields: readonly string[], example: string): Record<string, unknown> {
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    throw invalid(`Start the execution with a JSON object such as ${example}.`);
  }
  const r = input as Record<string, unknown>;
  const unknownFields = Object.keys(r).filter(k => !fields.includes(k));
  if (unknownFields.length > 0) {
    throw invalid(`Remove the unknown field(s) ${unknownFields.join(', ')} from the input; allowed fields are ${fields.join(', ')}.`);
  }
  return r;
}

/**
 * The fields a single reset and a fleet reset share: `method`, `passwordEnabledAmi`, `dryRun`,
 * `acknowledge`. A bad one is `InvalidInput` with what to change.
 */
export function checkResetOptions(r: Record<string, unknown>): void {
  if (r.method !== undefined && !METHODS.includes(r.method as RequestedMethod)) {
    throw invalid(`Set method to one of ${METHODS.join(', ')}, or leave it out for auto (got ${describe(r.method)}).`);
  }
  for (const flag of ['passwordEnabledAmi', 'dryRun']) {
    if (r[flag] !== undefined && typeof r[flag] !== 'boolean') {
      throw invalid(`Set ${flag} to true or false, or leave it out (got ${describe(r[flag])}).`);
    }
  }
  if (r.acknowledge !== undefined) {
    if (!Array.isArray(r.acknowledge)) {
      throw invalid(`Set acknowledge to a list of strings drawn from ${ACKNOWLEDGEMENTS.join(', ')} (got ${describe(r.acknowledge)}).`);
    }
    const bad = r.acknowledge.filter(a => !ACKNOWLEDGEMENTS.includes(a as Acknowledgement));
    if (bad.length > 0) {
      throw invalid(`Remove ${bad.map(describe).join(', ')} from acknowledge; allowed values are ${ACKNOWLEDGEMENTS.join(', ')}.`);
    }
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
