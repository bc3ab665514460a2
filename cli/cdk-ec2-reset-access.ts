import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { loadSharedConfigFiles } from '@smithy/core/config';
import type { AwsClients, AwsOptions, CliEnvironment, SpinnerLike } from './environment';
import { runCli } from './program';

/**
 * The `cdk-ec2-reset-access` executable: wires the real world (SDK clients with the default
 * credential chain, the terminal, the clock, Ctrl-C) into {@link runCli}. esbuild bundles this
 * file and its libraries into one file of the npm package.
 */

/**
 * On Node.js 20 the SDK prints a 9-line warning that its future releases will need Node.js 22, once
 * per process, when the first client is built. It is about this tool's runtime, not the operator's
 * command, and it would sit in the middle of every run's output (and of `2>&1` logs). The SDK's own
 * switch turns it off, unless the operator set it. docs/compatibility.md says what Node 20 means.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<void> {
  // ora is ESM-only: a dynamic import, which esbuild inlines into the bundle.
  const { default: ora } = await import('ora');
  const env: CliEnvironment = {
    stdout: process.stdout,
    stderr: process.stderr,
    createClients: (options: AwsOptions): AwsClients => {
      const config = { ...(options.region ? { region: options.region } : {}), ...(options.profile ? { profile: options.profile } : {}) };
      return { sfn: new SFNClient(config), ssm: new SSMClient(config), ec2: new EC2Client(config) };
    },
    createSpinner: (stream): SpinnerLike => ora({ stream: stream as NodeJS.WritableStream, discardStdin: false }),
    readFile: path => readFile(path, 'utf8'),
    now: () => new Date(),
    sleep: (ms, signal) => new Promise<void>(resolve => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
    onInterrupt: listener => {
      process.on('SIGINT', listener);
      return () => process.off('SIGINT', listener);
    },
    randomSuffix: () => randomBytes(3).toString('hex'),
    profileNames: async () => {
      const { configFile, credentialsFile } = await loadSharedConfigFiles({ ignoreCache: true });
      return [...new Set([...Object.keys(configFile), ...Object.keys(credentialsFile)])];
    },
  };
  process.exitCode = await runCli(process.argv.slice(2), env, packageVersion());
}

function packageVersion(): string {
  try {
    // The bundle lives in <package>/assets/cli/cdk-ec2-reset-access/index.js.
    return JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')).version;
  } catch {
    return '0.0.0';
  }
}

main().catch(err => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 10;
});
