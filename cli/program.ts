import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { fleetCommand, FleetOptions } from './commands/fleet';
import { PasswordOptions, passwordCommand } from './commands/password';
import { resetCommand, ResetOptions } from './commands/reset';
import { CommandResult, GlobalOptions } from './commands/shared';
import { statusCommand, StatusOptions } from './commands/status';
import { adviceFor } from './core/advice';
import { CliError, toCliError } from './core/errors';
import { EXIT_CODES } from './core/exit-codes';
import { BIN, DEFAULT_FLEET_STATE_MACHINE_PARAMETER, DEFAULT_STATE_MACHINE_PARAMETER } from './core/hints';
import type { CliEnvironment } from './environment';
// The workflow's own list, so a new acknowledgement reaches --ack without a second edit.
import { ACKNOWLEDGEMENTS } from '../src/workflow/private/request';

const EXIT_CODE_HELP = `
Exit codes:
  0    done (reset succeeded, plan made, password printed)
  1    the reset failed, timed out or was stopped, or the preflight found a blocker
  2    invalid command line
  3    AWS access: no credentials, no Region, access denied, no reset (or fleet) state machine
  4    not found or not yet there: instance, execution, password data, password parameter
  5    the key file cannot be read or does not decrypt the password
  6    AWS could not be reached: network, Region name, proxy or firewall
  10   another AWS error
  130  Ctrl-C while watching: detached, the reset goes on (resume with: ${BIN} status <execution-arn>)`;

/** Adds the options every command takes. */
function withCommonOptions(command: Command): Command {
  return command
    .addOption(new Option('--region <region>', 'AWS Region (default: AWS_REGION, or the profile\'s)').argParser(regionName))
    .option('--profile <profile>', 'AWS profile from the shared config (default: the SDK\'s credential chain)')
    .option('--state-machine-arn <arn>', 'the reset state machine (default: read from the SSM parameter below)')
    .option('--state-machine-parameter <name>', 'SSM parameter holding the state machine ARN', DEFAULT_STATE_MACHINE_PARAMETER)
    .option('--json', 'print one JSON document on stdout and nothing else', false);
}

/** What a reset asks for, and how the CLI follows it: `reset` and `fleet` take the same. */
function withResetOptions(command: Command): Command {
  return command
    .addOption(new Option('--method <method>', 'online (SSM Run Command), offline (helper instance), or auto').choices(['auto', 'online', 'offline']).default('auto'))
    .option('--password-enabled-ami', 'offline: also create an image that generates a new password at launch (for a lost key pair)', false)
    .addOption(new Option('--ack <what...>', 'accept what stopping the instance loses or changes (repeatable)').choices([...ACKNOWLEDGEMENTS]))
    .option('--dry-run', 'check and print the plan; change nothing', false)
    .option('--no-wait', 'start the reset, print its execution ARN and return')
    .addOption(pollOption());
}

const pollOption = () => new Option('--poll-seconds <seconds>', 'seconds between two reads of the execution history')
  .default(5).argParser(positiveNumber).hideHelp();

/**
 * A Region name's shape, as every partition writes them (`eu-west-1`, `us-gov-west-1`,
 * `cn-north-1`, `eusc-de-east-1`): letters and dashes, then a number. Checked here so that a typo
 * is an invalid command line, not an AWS error; whether the Region exists, its endpoint tells.
 */
const REGION_NAME = /^[a-z]{2,4}(-[a-z]+){1,2}-\d{1,2}$/;

function regionName(value: string): string {
  if (!REGION_NAME.test(value)) throw new InvalidArgumentError(`"${value}" is not an AWS Region name (e.g. eu-west-1, us-east-1).`);
  return value;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a positive number.`);
  return n;
}

/**
 * Runs the CLI with `argv` (without `node` and the script) and returns its exit code. Output goes
 * to `env.stdout` (results: text, or one JSON document with `--json`) and `env.stderr` (progress,
 * notes and errors).
 */
export async function runCli(argv: readonly string[], env: CliEnvironment, version = '0.0.0'): Promise<number> {
  let result: CommandResult | undefined;
  let json = argv.includes('--json');
  const run = <O extends GlobalOptions>(action: (arg: string, options: O) => Promise<CommandResult>) => async (arg: string, options: O) => {
    json = options.json === true;
    try {
      result = await action(arg, options);
    } catch (err) {
      throw await withProfileNamed(env, options, toCliError(err));
    }
  };

  const program = new Command()
    .name(BIN)
    .description('Reset the Administrator password of an EC2 Windows instance with the cdk-ec2-reset-access workflow, and get the new password.')
    .version(version)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: text => env.stdout.write(text),
      writeErr: text => env.stderr.write(text),
    })
    .addHelpText('after', EXIT_CODE_HELP);

  withCommonOptions(withResetOptions(program.command('reset')
    .description('Reset the password: start the workflow, follow it step by step, print what to do next.')
    .argument('<instance-id>', 'the instance, e.g. i-0123456789abcdef0')))
    .action(run<ResetOptions>((instanceId, options) => resetCommand(env, instanceId, options)));

  withCommonOptions(program.command('preflight')
    .description('Dry run: check the instance and print the plan (method, what is stopped and lost, image names). Changes nothing.')
    .argument('<instance-id>', 'the instance')
    .addOption(new Option('--method <method>', 'online, offline, or auto').choices(['auto', 'online', 'offline']).default('auto'))
    .option('--password-enabled-ami', 'plan the password-enabled image too', false)
    .addOption(new Option('--ack <what...>', 'acknowledgements to check with').choices([...ACKNOWLEDGEMENTS]))
    .addOption(pollOption()))
    .action(run<ResetOptions>((instanceId, options) => resetCommand(env, instanceId, { ...options, dryRun: true, wait: true })));

  withCommonOptions(program.command('status')
    .description('Show a reset\'s steps and outcome; follow it while it runs (Ctrl-C detaches).')
    .argument('<execution-arn-or-instance-id>', 'an execution ARN, or an instance id for its latest reset')
    .option('--no-wait', 'report the execution as it is now, without following it')
    .addOption(pollOption()))
    .action(run<StatusOptions>((target, options) => statusCommand(env, target, options)));

  withCommonOptions(program.command('password')
    .description('Print the new password: decrypt GetPasswordData with the key pair (offline reset), or read the online reset\'s parameter.')
    .argument('<instance-id>', 'the instance')
    .option('--key-file <pem>', 'the key pair\'s private key (.pem); used here, never sent')
    .option('--wait', 'with --key-file: ask again every 15 seconds until Windows has generated the password', false)
    .addOption(new Option('--wait-minutes <minutes>', 'how long --wait waits').default(15).argParser(positiveNumber))
    .option('--from-parameter', 'read /EC2Rescue/Passwords/<instance-id> (online reset)', false)
    .option('--delete', 'with --from-parameter: delete the parameter once read', false))
    .action(run<PasswordOptions>((instanceId, options) => passwordCommand(env, instanceId, options)));

  withCommonOptions(withResetOptions(program.command('fleet')
    .description('Reset many instances with a FleetReset: its waves, each instance\'s step as its reset moves on (a live table on a terminal), then every outcome.')
    .argument('[instance-ids...]', 'the instances (or --tag)')
    .option('--fleet-state-machine-arn <arn>', 'the FleetReset state machine (default: read from the SSM parameter below)')
    .option('--fleet-state-machine-parameter <name>', 'SSM parameter holding the fleet state machine ARN', DEFAULT_FLEET_STATE_MACHINE_PARAMETER)
    .option('--tag <key=value>', 'every instance (not terminated) with this tag; several values: key=a,b')))
    .action(async (ids: string[], options: FleetOptions) => {
      json = options.json === true;
      try {
        result = await fleetCommand(env, ids, options);
      } catch (err) {
        throw await withProfileNamed(env, options, toCliError(err));
      }
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help, --version and `help`: exit code 0. No command at all: help on stderr, exit code 1 from commander.
      if (err.exitCode === 0) return EXIT_CODES.ok;
      // Commander has already printed the message and the usage on stderr.
      const error = new CliError('InvalidArguments', err.code === 'commander.help' ? 'No command given.' : err.message.replace(/^error: /, ''));
      if (json) writeJsonError(env, error);
      return error.exitCode;
    }
    return reportError(env, json, toCliError(err));
  }
  if (!result) return EXIT_CODES.ok;
  if (json) env.stdout.write(`${JSON.stringify(result.document, null, 2)}\n`);
  return result.exitCode;
}

/**
 * The SDK says only "Could not load credentials from any providers", whether `--profile` names a
 * profile that does not exist or one whose login expired: the shared config files tell which.
 */
async function withProfileNamed(env: CliEnvironment, options: GlobalOptions, error: CliError): Promise<CliError> {
  const profile = options.profile;
  if (error.name !== 'NoCredentials' || !profile || !env.profileNames) return error;
  let names: string[];
  try {
    names = await env.profileNames();
  } catch {
    return error;
  }
  if (names.includes(profile)) return new CliError('NoCredentials', `The profile "${profile}" gave no credentials: ${error.message}`);
  const known = names.length > 0 ? `; the profiles there are ${names.join(', ')}` : '; there is no profile at all';
  return new CliError('ProfileNotFound', `There is no profile "${profile}" in the shared config or credentials file${known}.`);
}

/** `{ error: { name, message, meaning, action } }`, the document of every error that is not a workflow's. */
function writeJsonError(env: CliEnvironment, error: CliError): void {
  const advice = adviceFor(error.name);
  env.stdout.write(`${JSON.stringify({ error: { name: error.name, message: error.message, meaning: advice.meaning, action: advice.action } }, null, 2)}\n`);
}

function reportError(env: CliEnvironment, json: boolean, error: CliError): number {
  const advice = adviceFor(error.name);
  if (json) {
    writeJsonError(env, error);
  } else {
    env.stderr.write(`✖ ${error.name}: ${error.message}\n`);
    if (advice.meaning !== error.message) env.stderr.write(`  ${advice.meaning}\n`);
    env.stderr.write(`  What to do: ${advice.action}\n`);
  }
  return error.exitCode;
}

export type { GlobalOptions };
