import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

  test('prints nothing on stderr that is not about the command: no SDK warning about the Node.js version', () => {
    // WHEN
    const result = run(['status', 'i-0123456789abcdef0', '--region', 'eu-west-1'], {
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'x',
      // A closed local port: the request fails at once, and nothing leaves this machine.
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    });

    // THEN
    expect(result.stderr).not.toMatch(/NodeVersionSupportWarning|Warning:/);
    expect(result.stderr).toMatch(/^✖ NetworkError: /);
  });

  test('AWS out of reach (the SDK\'s real error for a refused connection): exit 6', () => {
    // WHEN
    const result = run(['reset', 'i-0123456789abcdef0', '--region', 'eu-west-1', '--json'],
      { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'x', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' });

    // THEN
    expect(result.status).toBe(6);
    expect(JSON.parse(result.stdout).error).toMatchObject({ name: 'NetworkError', message: expect.stringContaining('ECONNREFUSED') });
  });

  test('a --profile that is not in the shared config files is named as missing: exit 3', () => {
    // GIVEN a config file with another profile
    const dir = mkdtempSync(join(tmpdir(), 'cli-profiles-'));
    writeFileSync(join(dir, 'config'), '[profile ops]\nregion = eu-west-1\n');

    // WHEN
    const result = run(['status', 'i-0123456789abcdef0', '--profile', 'opps', '--region', 'eu-west-1'], { AWS_CONFIG_FILE: join(dir, 'config') });

    // THEN
    expect(result.status).toBe(3);
    expect(result.stderr).toContain('✖ ProfileNotFound: There is no profile "opps" in the shared config or credentials file; the profiles there are ops.');
  });

  test('an invalid --region is an invalid command line: exit 2', () => {
    // WHEN
    const result = run(['reset', 'i-0123456789abcdef0', '--region', 'not a region']);

    // THEN
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('"not a region" is not an AWS Region name');
  });

  test('with no Region: exit 3', () => {
    // WHEN
    const result = run(['status', 'i-0123456789abcdef0'], { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'x' });

    // THEN
    expect(result.status).toBe(3);
    expect(result.stderr).toContain('NoRegion');
  });
});
