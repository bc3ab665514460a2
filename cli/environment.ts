import type { EC2Client } from '@aws-sdk/client-ec2';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SSMClient } from '@aws-sdk/client-ssm';

/** Where the CLI writes: `process.stdout`/`stderr`, or a buffer in tests. */
export interface OutputStream {
  readonly isTTY?: boolean;
  /** Width of the terminal; 0 or absent on a terminal of unknown size (a pty nobody sized). */
  readonly columns?: number;
  /** Height of the terminal, when known: a table redrawn in place must fit in it. */
  readonly rows?: number;
  write(chunk: string): unknown;
}

/** What the CLI needs of a spinner; ora's `Ora` has this shape. */
export interface SpinnerLike {
  text: string;
  start(text?: string): unknown;
  stop(): unknown;
  succeed(text?: string): unknown;
  fail(text?: string): unknown;
  warn(text?: string): unknown;
}

/** The AWS clients of one command, all for the same Region and credentials. */
export interface AwsClients {
  readonly sfn: SFNClient;
  readonly ssm: SSMClient;
  readonly ec2: EC2Client;
}

export interface AwsOptions {
  readonly region?: string;
  readonly profile?: string;
}

/**
 * Everything the CLI touches outside its own code, injected so that the commands run in tests
 * against mocked clients, buffers and a fake clock, and in production against the real ones.
 */
export interface CliEnvironment {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** The AWS SDK clients (default credential chain, `profile` and `region` when given). */
  createClients(options: AwsOptions): AwsClients;
  /** A spinner writing to `stream`, used when `stream` is a terminal. */
  createSpinner(stream: OutputStream): SpinnerLike;
  readFile(path: string): Promise<string>;
  now(): Date;
  /** Waits `ms`, or less when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `listener` on Ctrl-C (SIGINT) instead of exiting; returns the function that removes it. */
  onInterrupt(listener: () => void): () => void;
  /** A few random characters that keep execution names unique. */
  randomSuffix(): string;
  /**
   * The profiles of the shared config and credentials files, to tell a `--profile` that does not
   * exist from one that gave no credentials. Absent: the CLI does not tell them apart.
   */
  profileNames?(): Promise<string[]>;
}
