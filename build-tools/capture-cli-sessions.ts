/**
 * Captures the terminal sessions of docs/operating.md and the README from the operator CLI run
 * against the rehearsal (test/rehearsal/cli-environment.ts): the sample stack's state machine runs
 * the real handlers against the simulated account, and the CLI watches it as an operator would.
 * Timings are modelled (test/rehearsal/latencies.ts), ids are the simulated account's.
 *
 *   ts-node --transpile-only build-tools/capture-cli-sessions.ts [--check]
 *
 * Each session replaces the fenced block after its marker `<!-- cli-session: <name> -->`.
 * `npx projen docs:cli-sessions` writes them; `--check` fails when a committed one is stale.
 * Passwords are masked after checking that the CLI printed the one the account generated.
 */
import './load-text';
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import { CliRun, CliRunOptions, RehearsedCli } from '../test/rehearsal/cli-environment';
import { Rehearsal } from '../test/rehearsal/runner';
import { SampleArtifacts, synthesizeSample } from '../test/rehearsal/sample';
import { managedTarget, windowsTarget } from '../test/rehearsal/world';

export const DOCUMENTS = ['docs/operating.md', 'README.md'];
const BIN = 'cdk-ec2-reset-access';
const KEY_FILE = '~/.ssh/ops-windows.pem';
const MASKED = '<the new password, printed in clear; masked in this document>';

/** One captured session: what was typed and what the terminal showed. */
interface Session {
  readonly name: string;
  readonly text: string;
}

class SessionRecorder {
  public readonly sessions: Session[] = [];
  private readonly rehearsal: Rehearsal;
  public readonly cli: RehearsedCli;

  constructor(sample: SampleArtifacts) {
    this.rehearsal = new Rehearsal(sample);
    this.cli = new RehearsedCli(this.rehearsal);
  }

  public get account() {
    return this.rehearsal.account;
  }

  /** Runs the CLI; `shown` is the command line as the reader sees it (e.g. with a pipe). */
  public async run(name: string, argv: string[], o: CliRunOptions & { shown?: string; expectExit: number; mask?: boolean }): Promise<CliRun> {
    const run = await this.cli.run(argv, o);
    if (run.exitCode !== o.expectExit) {
      throw new Error(`${BIN} ${argv.join(' ')} exited ${run.exitCode}, expected ${o.expectExit}:\n${run.screen}`);
    }
    let screen = run.screen;
    if (o.mask) {
      const printed = run.stdout.trim();
      // Only mask what is really the password the simulated account generated.
      if (!this.account.secrets.has(printed)) throw new Error(`${BIN} ${argv.join(' ')} printed "${printed}", not a password the account generated.`);
      screen = screen.replace(`${printed}\n`, `${MASKED}\n`);
    }
    this.sessions.push({ name, text: `$ ${o.shown ?? `${BIN} ${argv.join(' ')}`}\n${screen}` });
    return run;
  }

  public dispose(): void {
    this.cli.dispose();
    this.rehearsal.dispose();
  }
}

/** Every session the documents show, from fresh rehearsals (so ids and times do not depend on one another). */
export async function captureSessions(sample: SampleArtifacts): Promise<Map<string, string>> {
  const sessions: Session[] = [];
  const scenario = async (body: (s: SessionRecorder) => Promise<void>) => {
    const recorder = new SessionRecorder(sample);
    try {
      await body(recorder);
      sessions.push(...recorder.sessions);
    } finally {
      recorder.dispose();
    }
  };

  // A blocker found by the preflight, then the plan once it is acknowledged.
  await scenario(async s => {
    const target = windowsTarget(s.account, { autoAssignedPublicIp: true });
    await s.run('blocked', ['reset', target.instanceId], { expectExit: 1 });
    await s.run('preflight', ['preflight', target.instanceId, '--ack', 'public-ip-release'], { expectExit: 0 });
  });

  // An offline reset watched on a terminal, then the password decrypted with the key pair.
  await scenario(async s => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    s.account.registerKeyPair('ops-windows', publicKey.export({ type: 'spki', format: 'pem' }).toString());
    s.cli.files.set(KEY_FILE, privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
    const target = windowsTarget(s.account, { keyName: 'ops-windows' });
    await s.run('reset-terminal', ['reset', target.instanceId], { tty: true, expectExit: 0 });
    await s.run('password-key-file', ['password', target.instanceId, '--key-file', KEY_FILE], { expectExit: 0, mask: true });
  });

  // The same reset piped into a log; then Ctrl-C and resuming in another.
  await scenario(async s => {
    const target = windowsTarget(s.account);
    await s.run('reset-piped', ['reset', target.instanceId], { shown: `${BIN} reset ${target.instanceId} 2>&1 | tee reset.log`, expectExit: 0 });
  });
  await scenario(async s => {
    const target = windowsTarget(s.account);
    const detached = await s.run('detached', ['reset', target.instanceId], { tty: true, interruptAfterSeconds: 180, expectExit: 130 });
    const arn = /status (\S+)/.exec(detached.stdout)![1];
    await s.run('status-resumed', ['status', arn], { tty: true, expectExit: 0 });
  });

  // A reset stopped in the console while the root volume is on the helper: the CLI follows the restore.
  await scenario(async s => {
    const target = windowsTarget(s.account);
    s.cli.stepFunctions.faultsForNextStart = [{ machine: 'reset', state: 'CheckOfflineFix', kind: 'abort' }];
    await s.run('aborted', ['reset', target.instanceId], { tty: true, expectExit: 1 });
  });

  // An online reset, and the password from its parameter.
  await scenario(async s => {
    const target = managedTarget(s.account);
    await s.run('reset-online', ['reset', target.instanceId, '--method', 'online'], { tty: true, expectExit: 0 });
    await s.run('password-parameter', ['password', target.instanceId, '--from-parameter', '--delete'], { expectExit: 0, mask: true });
  });

  return new Map(sessions.map(s => [s.name, s.text]));
}

const MARKER = /(<!-- cli-session: ([\w-]+) -->\n```text\n)([\s\S]*?)(```)/g;

/** The document with each marked block replaced by its session; fails on a marker with no session. */
export function fillDocument(document: string, sessions: ReadonlyMap<string, string>, file: string): string {
  return document.replace(MARKER, (_, open: string, name: string, _old: string, close: string) => {
    const text = sessions.get(name);
    if (text === undefined) throw new Error(`${file}: no session named "${name}" (known: ${[...sessions.keys()].join(', ')})`);
    return `${open}${text}${close}`;
  });
}

async function main(argv: string[]): Promise<number> {
  const sessions = await captureSessions(synthesizeSample());
  const used = new Set<string>();
  let stale = 0;
  for (const file of DOCUMENTS) {
    const before = fs.readFileSync(file, 'utf8');
    for (const match of before.matchAll(MARKER)) used.add(match[2]);
    const after = fillDocument(before, sessions, file);
    if (after === before) continue;
    if (argv.includes('--check')) {
      console.error(`${file}: its CLI sessions are out of date with the rehearsal: run \`npx projen docs:cli-sessions\` and commit it.`);
      stale++;
    } else {
      fs.writeFileSync(file, after);
      console.log(`${file}: sessions written.`);
    }
  }
  const unused = [...sessions.keys()].filter(name => !used.has(name));
  if (unused.length > 0) console.error(`Captured but not shown anywhere: ${unused.join(', ')}`);
  if (stale === 0) console.log(`${sessions.size} CLI sessions captured from the rehearsal; the documents are up to date.`);
  return stale > 0 || unused.length > 0 ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(code => process.exit(code), (e) => { console.error(e); process.exit(1); });
}
