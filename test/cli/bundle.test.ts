import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The executable as npm installs it: the esbuild bundle `npx projen bundle` writes (the test
 * task builds it first). Run as a child process, with the real SDK credential chain.
 */
const ROOT = join(__dirname, '..', '..');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const BIN = join(ROOT, PACKAGE.bin['cdk-ec2-reset-access']);

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: '/nonexistent',
      // No credentials anywhere, and never the instance metadata service: nothing may leave this machine.
      AWS_CONFIG_FILE: '/nonexistent/config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...env,
    },
  });
}

describe('the packaged executable', () => {
  test('is built, executable and starts with a node shebang', () => {
    expect(existsSync(BIN)).toBe(true);
    expect(accessSync(BIN, constants.X_OK)).toBeUndefined();
    expect(readFileSync(BIN, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  test('--help lists the commands and the exit codes', () => {
    // WHEN
    const result = run(['--help']);

    // THEN
    expect(result.status).toBe(0);
    for (const command of ['reset', 'preflight', 'status', 'password']) expect(result.stdout).toContain(`${command} [options]`);
    expect(result.stdout).toContain('Exit codes:');
  });

  test('--version is the package\'s', () => {
    expect(run(['--version']).stdout.trim()).toBe(PACKAGE.version);
  });

  test('with no credentials anywhere, the SDK credential chain fails and the CLI says how to log in: exit 3', () => {
    // WHEN
    const result = run(['reset', 'i-0123456789abcdef0', '--region', 'eu-west-1', '--json']);

    // THEN
    expect(result.status).toBe(3);
    expect(JSON.parse(result.stdout).error).toMatchObject({ name: 'NoCredentials' });
  });

  test('with no Region: exit 3', () => {
    // WHEN
    const result = run(['status', 'i-0123456789abcdef0'], { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'x' });

    // THEN
    expect(result.status).toBe(3);
    expect(result.stderr).toContain('NoRegion');
  });
});
