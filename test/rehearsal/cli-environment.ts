/**
 * The operator CLI (cli/program.ts) run against a rehearsal: its EC2 and SSM clients reach the
 * simulated account, its Step Functions client the rehearsed executions, and its clock is the
 * observer's time of RehearsedStepFunctions, moved forward by every wait of the CLI. What the
 * CLI prints is what an operator would have seen during that reset.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { Rehearsal } from './runner';
import { RehearsedStepFunctions } from './step-functions-api';
import type { CliEnvironment, OutputStream, SpinnerLike } from '../../cli/environment';
import { runCli } from '../../cli/program';
import { CapturedStream } from '../cli/fake-env';
import { REHEARSAL_ENV } from '../helpers/asl';

/**
 * A spinner that leaves on the stream what a terminal keeps once the spinner has moved on: the
 * ✔/✖/⚠ line of each finished step. Its animated text is overwritten on a terminal, so it is
 * not kept (the lines it showed are in `frames`).
 */
export class PersistingSpinner implements SpinnerLike {
  public readonly frames: string[] = [];
  private current = '';
  constructor(private readonly stream: OutputStream) {}
  public get text(): string {
    return this.current;
  }
  public set text(value: string) {
    this.current = value;
    this.frames.push(value);
  }
  public start(text?: string) {
    this.text = text ?? this.current;
  }
  public stop() {}
  public succeed(text?: string) {
    this.stream.write(`✔ ${text ?? this.current}\n`);
  }
  public fail(text?: string) {
    this.stream.write(`✖ ${text ?? this.current}\n`);
  }
  public warn(text?: string) {
    this.stream.write(`⚠ ${text ?? this.current}\n`);
  }
}

export interface CliRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Both streams as a terminal shows them, in the order written. */
  readonly screen: string;
  /** The spinner's texts while it ran (terminal runs only). */
  readonly spinnerFrames: readonly string[];
}

export interface CliRunOptions {
  /** stderr (progress) is a terminal. */
  readonly tty?: boolean;
  /** Ctrl-C once the CLI has waited this long. */
  readonly interruptAfterSeconds?: number;
}

/** Runs the CLI against a rehearsal; create one per rehearsal, `dispose()` when done. */
export class RehearsedCli {
  public readonly stepFunctions: RehearsedStepFunctions;
  /** Files the CLI may read (e.g. a throwaway key pair's private key), by path. */
  public readonly files = new Map<string, string>();

  constructor(public readonly rehearsal: Rehearsal) {
    this.stepFunctions = new RehearsedStepFunctions(rehearsal);
    this.stepFunctions.publishStackParameters();
  }

  /** Nothing to undo: the CLI's Step Functions clients are served one by one (see `run`). */
  public dispose(): void {}

  /** `cdk-ec2-reset-access <argv...>`, as typed at a terminal. */
  public async run(argv: readonly string[], options: CliRunOptions = {}): Promise<CliRun> {
    const screen = new CapturedStream(options.tty ?? false);
    const stdout = new CapturedStream(false);
    const stderr = new CapturedStream(options.tty ?? false);
    const tee = (own: CapturedStream): OutputStream => ({
      isTTY: own.isTTY,
      columns: own.columns,
      write: (chunk: string) => {
        own.write(chunk);
        return screen.write(chunk);
      },
    });
    const out = tee(stdout);
    const err = tee(stderr);
    const spinner = new PersistingSpinner(err);
    const sfn = this.stepFunctions;
    const startedAt = sfn.now;
    let interrupt: (() => void) | undefined;
    const env: CliEnvironment = {
      stdout: out,
      stderr: err,
      createClients: aws => {
        const config = { region: aws.region ?? REHEARSAL_ENV.region, credentials: { accessKeyId: 'AKIDREHEARSAL', secretAccessKey: 'not-a-secret' } };
        return { sfn: sfn.serve(new SFNClient(config)), ssm: new SSMClient(config), ec2: new EC2Client(config) };
      },
      createSpinner: () => spinner,
      readFile: async path => {
        const content = this.files.get(path);
        if (content === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
        return content;
      },
      now: () => new Date(sfn.now),
      sleep: async ms => {
        sfn.now += ms;
        if (options.interruptAfterSeconds !== undefined && sfn.now - startedAt >= options.interruptAfterSeconds * 1000) interrupt?.();
      },
      onInterrupt: listener => {
        interrupt = listener;
        return () => {
          interrupt = undefined;
        };
      },
      randomSuffix: () => 'a1b2c3',
    };
    const exitCode = await runCli(argv, env, '0.0.0');
    return { exitCode, stdout: stdout.text, stderr: stderr.text, screen: screen.text, spinnerFrames: spinner.frames };
  }
}
