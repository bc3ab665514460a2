import { adviceFor } from './advice';
import { EXIT_CODES, ExitCode } from './exit-codes';

/**
 * An error the CLI reports and exits with. `name` is a key of the advice table, so the
 * operator sees what it means and what to do; `message` is the specific sentence.
 */
export class CliError extends Error {
  /** @param exitCode when it differs from the advice table's (the same name can be a workflow failure or a CLI lookup) */
  constructor(public readonly name: string, message: string, private readonly exitCodeOverride?: ExitCode) {
    super(message);
  }

  public get exitCode(): ExitCode {
    return this.exitCodeOverride ?? adviceFor(this.name).exitCode;
  }
}

/** AWS error codes that mean the caller lacks permission, whatever the service. */
const ACCESS_DENIED = new Set([
  'AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'UnauthorizedAccess', 'AuthFailure',
  'UnrecognizedClientException', 'InvalidClientTokenId', 'SignatureDoesNotMatch', 'InvalidSignatureException',
]);
const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'TokenRefreshRequired']);

/**
 * What reaching AWS over the network fails with, before AWS answers anything: Node's socket and
 * DNS error codes (`err.code`), and the SDK's own names for a connection or request that timed
 * out (`TimeoutError` from its HTTP handler) or a networking failure (`NetworkingError`).
 */
const NETWORK_CODES = new Set([
  'ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED',
]);
const NETWORK_NAMES = new Set(['TimeoutError', 'NetworkingError', 'RequestTimeout', 'RequestTimeoutException']);

/**
 * Turns whatever an AWS call threw into a {@link CliError}: the credential chain's and the
 * Region's failures, permission errors, and the "does not exist" answers the CLI knows.
 * Anything else becomes `Unexpected` with AWS's own message.
 */
export function toCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  const name = errorName(err);
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'CredentialsProviderError' || /Could not load credentials|credential.*(not|could).*(found|load)/i.test(message)) {
    return new CliError('NoCredentials', message);
  }
  if (EXPIRED.has(name)) return new CliError('NoCredentials', `The credentials have expired: ${message}`);
  if (/Region is missing|region.*not.*(set|configured)/i.test(message)) return new CliError('NoRegion', message);
  // The SDK's check of the Region it was given (AWS_REGION or the profile's; --region is checked by the CLI).
  if (/Region not accepted|not a valid hostname component/i.test(message)) return new CliError('InvalidRegion', message);
  const network = networkFailure(err, name);
  if (network) return new CliError('NetworkError', network);
  if (ACCESS_DENIED.has(name)) return new CliError('AccessDenied', message);
  switch (name) {
    case 'StateMachineDoesNotExist':
      return new CliError('StateMachineNotFound', message);
    case 'ExecutionDoesNotExist':
      return new CliError('ExecutionNotFound', message);
    case 'InvalidArn':
      return new CliError('InvalidArguments', message);
    case 'InvalidInstanceID.NotFound':
    case 'InvalidInstanceID.Malformed':
      // Asked by the CLI itself (GetPasswordData): a lookup that found nothing, not a failed reset.
      return new CliError('InstanceNotFound', message, EXIT_CODES.notFound);
    default:
      return new CliError('Unexpected', name ? `${name}: ${message}` : message);
  }
}

/** The sentence for a failure to reach AWS, or undefined when AWS did answer. */
function networkFailure(err: unknown, name: string): string | undefined {
  const fields = (err && typeof err === 'object' ? err : {}) as { code?: unknown; hostname?: unknown; message?: unknown };
  const code = typeof fields.code === 'string' ? fields.code : name;
  if (!NETWORK_CODES.has(code) && !NETWORK_NAMES.has(name)) return undefined;
  const host = typeof fields.hostname === 'string' ? fields.hostname : undefined;
  const message = typeof fields.message === 'string' ? fields.message : String(err);
  if (code === 'ENOTFOUND' && host) {
    return `The name ${host} does not resolve (${code}): that Region has no such endpoint, or DNS is not reachable.`;
  }
  return `AWS could not be reached${host ? ` at ${host}` : ''}: ${message}${message.includes(code) ? '' : ` (${code})`}.`;
}

function errorName(err: unknown): string {
  if (err && typeof err === 'object') {
    for (const key of ['name', 'Code', 'code']) {
      const value = (err as Record<string, unknown>)[key];
      if (typeof value === 'string' && value !== 'Error') return value;
    }
  }
  return '';
}
