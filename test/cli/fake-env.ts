import { EC2Client } from '@aws-sdk/client-ec2';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AwsStub } from 'aws-sdk-client-mock';
import type { AwsOptions, CliEnvironment, SpinnerLike } from '../../cli/environment';
import { runCli } from '../../cli/program';

/** A stream that keeps what is written. */
export class CapturedStream {
  public text = '';
  constructor(public readonly isTTY: boolean, public readonly columns = isTTY ? 120 : 0) {}
  public write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** Records what the CLI asks of its spinner, as a terminal would show it. */
export class FakeSpinner implements SpinnerLike {
  public readonly frames: string[] = [];
  private current = '';
  public get text(): string {
    return this.current;
  }
  public set text(value: string) {
    this.current = value;
    this.frames.push(`~ ${value}`);
  }
  public start(text?: string) {
    this.current = text ?? this.current;
    this.frames.push(`⠋ ${this.current}`);
  }
  public stop() {
    this.frames.push('(stop)');
  }
  public succeed(text?: string) {
    this.frames.push(`✔ ${text}`);
  }
  public fail(text?: string) {
    this.frames.push(`✖ ${text}`);
  }
  public warn(text?: string) {
    this.frames.push(`⚠ ${text}`);
  }
}

export interface FakeEnvironment extends CliEnvironment {
  readonly out: CapturedStream;
  readonly err: CapturedStream;
  readonly spinner: FakeSpinner;
  readonly clientOptions: AwsOptions[];
  /** Called on every sleep (after the clock moved). */
  onSleep?: () => void;
  /** Ctrl-C, as the CLI's SIGINT listener would receive it. */
  interrupt(): void;
  run(...argv: string[]): Promise<number>;
}

export function fakeEnvironment(options: {
  tty?: boolean;
  columns?: number;
  files?: Record<string, string>;
  start?: Date;
  /** The profiles of the shared config files; absent: the environment cannot list them. */
  profiles?: string[];
} = {}): FakeEnvironment {
  let clock = options.start ?? new Date('2026-05-01T03:15:00Z');
  let listener: (() => void) | undefined;
  const env: FakeEnvironment = {
    out: new CapturedStream(false),
    err: new CapturedStream(options.tty ?? false, options.columns),
    spinner: new FakeSpinner(),
    clientOptions: [],
    get stdout() {
      return env.out;
    },
    get stderr() {
      return env.err;
    },
    createClients: (aws: AwsOptions) => {
      env.clientOptions.push(aws);
      const config = { region: aws.region ?? 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } };
      return { sfn: new SFNClient(config), ssm: new SSMClient(config), ec2: new EC2Client(config) };
    },
    createSpinner: () => env.spinner,
    readFile: async path => {
      const content = options.files?.[path];
      if (content === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
      return content;
    },
    now: () => clock,
    sleep: async ms => {
      clock = new Date(clock.getTime() + ms);
      env.onSleep?.();
    },
    onInterrupt: l => {
      listener = l;
      return () => {
        listener = undefined;
      };
    },
    interrupt: () => listener?.(),
    randomSuffix: () => 'a1b2c3',
    ...(options.profiles ? { profileNames: async () => options.profiles! } : {}),
    run: (...argv: string[]) => runCli(argv, env, '1.2.3'),
  };
  return env;
}

export const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:111122223333:stateMachine:ResetStateMachine1234';
export const EXECUTION_ARN = 'arn:aws:states:eu-west-1:111122223333:execution:ResetStateMachine1234:i-0123456789abcdef0-20260501T031500Z-a1b2c3';

/**
 * Serves an execution's history the way Step Functions does while it runs: each history read
 * sees `batch` more events (newest first, in pages), and DescribeExecution says RUNNING until
 * the last event is visible.
 */
export function serveExecution(
  sfn: AwsStub<any, any, any>, events: HistoryEvent[],
  options: {
    batch?: number;
    pageSize?: number;
    input: Record<string, unknown>;
    status: string;
    output?: unknown;
    error?: string;
    cause?: string;
    /** Another execution than the reset (e.g. its restore): served only for this ARN. */
    executionArn?: string;
    stateMachineArn?: string;
  },
) {
  const executionArn = options.executionArn ?? EXECUTION_ARN;
  const only = options.executionArn ? { executionArn } : undefined;
  let visible = 0;
  const batch = options.batch ?? events.length;
  const pageSize = options.pageSize ?? 1000;
  sfn.on(GetExecutionHistoryCommand, only).callsFake(input => {
    if (!input.nextToken) visible = Math.min(events.length, visible + batch);
    const newestFirst = events.slice(0, visible).reverse();
    const offset = Number(input.nextToken ?? 0);
    const page = newestFirst.slice(offset, offset + pageSize);
    return { events: page, nextToken: offset + pageSize < newestFirst.length ? String(offset + pageSize) : undefined };
  });
  sfn.on(DescribeExecutionCommand, only).callsFake(() => {
    const done = visible >= events.length;
    return {
      executionArn,
      stateMachineArn: options.stateMachineArn ?? STATE_MACHINE_ARN,
      name: executionArn.split(':').pop(),
      status: done ? options.status : 'RUNNING',
      input: JSON.stringify(options.input),
      startDate: events[0]?.timestamp,
      ...(done ? { stopDate: events.at(-1)?.timestamp } : {}),
      ...(done && options.output ? { output: JSON.stringify(options.output) } : {}),
      ...(done && options.error ? { error: options.error, cause: options.cause } : {}),
    };
  });
  return {
    get visible() {
      return visible;
    },
  };
}
