import { GetPasswordDataCommand } from '@aws-sdk/client-ec2';
import { DeleteParameterCommand, GetParameterCommand } from '@aws-sdk/client-ssm';
import { CliError, toCliError } from '../core/errors';
import { EXIT_CODES } from '../core/exit-codes';
import { formatDuration } from '../core/format';
import { decryptPasswordData, readRsaPrivateKey } from '../core/pkcs1';
import type { CliEnvironment } from '../environment';
import { checkInstanceId, CommandResult, GlobalOptions } from './shared';

export interface PasswordOptions extends GlobalOptions {
  readonly keyFile?: string;
  readonly fromParameter?: boolean;
  readonly delete?: boolean;
  /** Poll GetPasswordData until Windows has generated the password (up to `waitMinutes`). */
  readonly wait?: boolean;
  readonly waitMinutes: number;
}

/** The online method's parameter (`RESCUE_PASSWORD_PARAMETER_PREFIX`). */
export const PASSWORD_PARAMETER_PREFIX = '/EC2Rescue/Passwords/';
const PASSWORD_DATA_POLL_MS = 15_000;

/**
 * `password <instance-id>`: with `--key-file`, GetPasswordData decrypted here with the key pair
 * (the key never leaves this process); with `--from-parameter`, the online method's SecureString
 * (and `--delete` removes it once read). The password goes to stdout only.
 */
export async function passwordCommand(env: CliEnvironment, instanceIdArg: string, options: PasswordOptions): Promise<CommandResult> {
  const instanceId = checkInstanceId(instanceIdArg);
  if (Boolean(options.keyFile) === Boolean(options.fromParameter)) {
    throw new CliError('InvalidArguments', 'Give either --key-file <pem> (offline reset: GetPasswordData) or --from-parameter (online reset).');
  }
  if (options.delete && !options.fromParameter) throw new CliError('InvalidArguments', '--delete goes with --from-parameter.');
  if (options.wait && !options.keyFile) throw new CliError('InvalidArguments', '--wait goes with --key-file.');
  const clients = env.createClients(options);

  if (options.fromParameter) {
    const name = `${PASSWORD_PARAMETER_PREFIX}${instanceId}`;
    let password: string;
    try {
      const result = await clients.ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
      password = result.Parameter?.Value ?? '';
    } catch (err) {
      if ((err as { name?: string }).name === 'ParameterNotFound') throw new CliError('PasswordParameterNotFound', `There is no parameter ${name}.`);
      throw toCliError(err);
    }
    let deleted = false;
    if (options.delete) {
      try {
        await clients.ssm.send(new DeleteParameterCommand({ Name: name }));
        deleted = true;
      } catch (err) {
        // The password was read: show it, and say the parameter is still there.
        const error = toCliError(err);
        env.stderr.write(`Could not delete ${name}: ${error.message}\n`);
        if (error.name === 'AccessDenied') {
          env.stderr.write('Deleting needs its own grant (reading does not imply it): ResetAccess.grantDeletePasswords(role) gives ssm:DeleteParameter on /EC2Rescue/Passwords/i-*.\n');
        }
      }
    }
    printPassword(env, options, instanceId, password, [
      deleted ? `Deleted ${name}.` : `It stays in ${name} until the retention deletes it (or: --delete).`,
    ]);
    return { exitCode: EXIT_CODES.ok, document: { instanceId, source: 'parameter', parameterName: name, password, deleted } };
  }

  // Read and check the key before asking AWS anything: a wrong file fails fast.
  let pem: string;
  try {
    pem = await env.readFile(options.keyFile!);
  } catch (err) {
    throw new CliError('KeyFileUnreadable', `Cannot read ${options.keyFile}: ${(err as Error).message}`);
  }
  const key = readRsaPrivateKey(pem);
  const started = env.now();
  let passwordData = '';
  for (;;) {
    try {
      const result = await clients.ec2.send(new GetPasswordDataCommand({ InstanceId: instanceId }));
      passwordData = (result.PasswordData ?? '').trim();
    } catch (err) {
      throw toCliError(err);
    }
    const waited = env.now().getTime() - started.getTime();
    if (passwordData || !options.wait || waited >= options.waitMinutes * 60_000) break;
    if (!options.json) env.stderr.write(`No password data yet (${formatDuration(waited)}); asking again in ${PASSWORD_DATA_POLL_MS / 1000}s…\n`);
    await env.sleep(PASSWORD_DATA_POLL_MS);
  }
  if (!passwordData) {
    throw new CliError('PasswordNotAvailable', `GetPasswordData for ${instanceId} is empty${options.wait ? ` after ${options.waitMinutes} minutes` : ''}.`);
  }
  const password = decryptPasswordData(passwordData, key);
  printPassword(env, options, instanceId, password, ['Decrypted here with your key; the key was not sent anywhere.']);
  return { exitCode: EXIT_CODES.ok, document: { instanceId, source: 'password-data', password } };
}

function printPassword(env: CliEnvironment, options: PasswordOptions, instanceId: string, password: string, notes: string[]): void {
  if (options.json) return;
  env.stderr.write(`Administrator password of ${instanceId}:\n`);
  env.stdout.write(`${password}\n`);
  for (const note of [...notes, 'Log in (RDP) and set a password of your own.']) env.stderr.write(`${note}\n`);
}
